/**
 * The schema facts server-side apply works with, read from a kind's OpenAPI schema as
 * kube-openapi's schemaconv reads it into structured-merge-diff types:
 *
 * - `type: object` is a map: `properties` its fields, `additionalProperties` (a schema, or
 *   `true`) its element type; with neither, or under `x-kubernetes-preserve-unknown-fields`,
 *   elements are *deduced*; `x-kubernetes-map-type` atomic|granular (also on a `$ref`
 *   property, overriding the referred type's);
 * - `type: array` is a list: `x-kubernetes-list-type` atomic | set | map (keys from
 *   `x-kubernetes-list-map-keys`); without one, `x-kubernetes-patch-strategy` merge makes it
 *   associative (keyed on `x-kubernetes-patch-merge-key` when given, else a set), retainKeys or
 *   nothing makes it atomic;
 * - integer/number/boolean/string are scalars (int-or-string, date-time, quantities too);
 * - no `type` accepts anything: a scalar, an atomic list and a map of deduced elements.
 *
 * Deduced values take the shape of the value: maps are granular with deduced elements,
 * lists atomic. Types resolve lazily (recursive schemas are fine) and are cached per
 * definition, so one {@link ApplyTypes} per kind serves every request.
 *
 * Go facts (optional, for built-in kinds): kube compares typed objects, in which fields without
 * `omitempty` and non-pointer structs are always present (as null or an empty object). Those
 * fields are given as {@link MapAtom.zeroFields} so that comparisons see them as kube does.
 */
import { isPlainObject } from '../kube.ts';
import type { GoDefinitionFacts } from '../kinds/schemas.ts';

/** A type: what a value of each shape means there (SMD's Atom). */
export interface Atom {
  readonly scalar: boolean;
  readonly list: ListAtom | undefined;
  readonly map: MapAtom | undefined;
}

export interface ListAtom {
  readonly atomic: boolean;
  /** Associative lists: the key fields (empty for a set). */
  readonly keys: readonly string[];
  /** Defaults of key fields the schema gives (`default` of the key's property). */
  readonly keyDefaults: ReadonlyMap<string, unknown>;
  elem(): Atom;
}

export interface MapAtom {
  readonly atomic: boolean;
  /** The type of field `name` declared in `properties`, or undefined. */
  field(name: string): Atom | undefined;
  /** The element type of other keys (undefined: none declared; such keys are deduced). */
  elem(): Atom | undefined;
  /** Fields a typed object always has, with their zero value (built-in kinds only). */
  readonly zeroFields: ReadonlyMap<string, unknown>;
}

/** The apply facts of one kind, built once and shared. */
export class ApplyTypes {
  readonly root: Atom;
  constructor(root: Atom) {
    this.root = root;
  }
}

/** Go facts of a definition by name (lib/kinds/schemas.ts readGoFacts). */
export type GoFactsOf = (name: string) => GoDefinitionFacts | undefined;

interface OpenApiSchema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly format?: string;
  readonly properties?: Readonly<Record<string, OpenApiSchema>>;
  readonly additionalProperties?: OpenApiSchema | boolean;
  readonly items?: OpenApiSchema | readonly OpenApiSchema[];
  readonly allOf?: readonly OpenApiSchema[];
  readonly default?: unknown;
  readonly 'x-kubernetes-list-type'?: string;
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-map-type'?: string;
  readonly 'x-kubernetes-patch-strategy'?: string;
  readonly 'x-kubernetes-patch-merge-key'?: string;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

const NO_ZERO: ReadonlyMap<string, unknown> = new Map();

/** SMD's `__untyped_atomic_`: anything, as one value. */
export const UNTYPED: Atom = (() => {
  const atom: { scalar: boolean; list: ListAtom | undefined; map: MapAtom | undefined } = { scalar: true, list: undefined, map: undefined };
  atom.list = { atomic: true, keys: [], keyDefaults: new Map(), elem: () => atom };
  atom.map = { atomic: true, field: () => undefined, elem: () => atom, zeroFields: NO_ZERO };
  return atom;
})();

/** SMD's `__untyped_deduced_`: maps granular (of deduced values), lists atomic. */
export const DEDUCED: Atom = (() => {
  const atom: { scalar: boolean; list: ListAtom | undefined; map: MapAtom | undefined } = { scalar: true, list: undefined, map: undefined };
  atom.list = { atomic: true, keys: [], keyDefaults: new Map(), elem: () => UNTYPED };
  atom.map = { atomic: false, field: () => undefined, elem: () => atom, zeroFields: NO_ZERO };
  return atom;
})();

const SCALAR: Atom = { scalar: true, list: undefined, map: undefined };

/**
 * Defaults of list-key fields that kube's OpenAPI v3 schema carries (the `+default` markers of
 * k8s.io/api core/v1 types.go: ContainerPort.protocol, ServicePort.protocol) and the v2
 * schemas of lib/kinds/generated do not: structured-merge-diff keys an item that leaves such a
 * field out by its default, so `ports: [{containerPort: 80}]` in an apply configuration is the
 * live item `{containerPort: 80, protocol: TCP}`. Used when a schema gives no `default`.
 */
export const KEY_FIELD_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

/** Go types encoded as JSON strings or numbers whose zero value is still written (structs). */
const STRUCT_SCALARS = /\.(Time|MicroTime|IntOrString|Quantity)$/;

/**
 * The apply facts of the kind whose schema is `root` (a definition name resolved by
 * `definitionsOf`, or the schema itself), as kube's type converter builds them.
 */
export function applyTypesOf(definitionsOf: (name: string) => unknown, root: string | object, goFactsOf?: GoFactsOf): ApplyTypes {
  const named = new Map<string, Atom>();
  const lookup = (name: string): OpenApiSchema | undefined => {
    const s = definitionsOf(name);
    return isPlainObject(s) ? (s as OpenApiSchema) : undefined;
  };
  const refName = (s: OpenApiSchema): string | undefined => {
    const ref = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0]?.$ref : undefined);
    if (typeof ref !== 'string' || ref === '') return undefined;
    return ref.replace(/^#\/definitions\//, '');
  };

  const ofNamed = (name: string): Atom => {
    let atom = named.get(name);
    if (atom === undefined) {
      const s = lookup(name);
      // a definition that cannot be found is taken as untyped deduced (kube would refuse the schema)
      atom = s === undefined ? DEDUCED : parse(s, false, goFactsOf?.(name));
      named.set(name, atom);
    }
    return atom;
  };

  /** The type a property (or items / additionalProperties) schema refers to. */
  const ofRef = (s: OpenApiSchema, preserve: boolean): Atom => {
    const name = refName(s);
    if (name === undefined) return parse(s, preserve, undefined);
    const atom = ofNamed(name);
    const override = mapRelationship(s);
    if (override === undefined) return atom;
    // field-level x-kubernetes-map-type overrides the referred type's (SMD Resolve)
    if (atom.map !== undefined) return { ...atom, map: { ...atom.map, atomic: override === 'atomic', field: atom.map.field, elem: atom.map.elem } };
    if (atom.list !== undefined) return { ...atom, list: { ...atom.list, atomic: override === 'atomic', elem: atom.list.elem } };
    return atom;
  };

  const parse = (s: OpenApiSchema, inheritedPreserve: boolean, go: GoDefinitionFacts | undefined): Atom => {
    const preserve = inheritedPreserve || s['x-kubernetes-preserve-unknown-fields'] === true;
    const type = Array.isArray(s.type) ? (s.type[0] ?? '') : ((s.type as string | undefined) ?? '');
    switch (type) {
      case '':
        return { scalar: true, list: parseList(s, preserve), map: parseObject(s, preserve, go) };
      case 'object':
        return { scalar: false, list: undefined, map: parseObject(s, preserve, go) };
      case 'array':
        return { scalar: false, list: parseList(s, preserve), map: undefined };
      default:
        return SCALAR;
    }
  };

  const parseObject = (s: OpenApiSchema, preserve: boolean, go: GoDefinitionFacts | undefined): MapAtom => {
    const props = isPlainObject(s.properties) ? s.properties : {};
    const names = Object.keys(props);
    const fieldCache = new Map<string, Atom>();
    let elemDone = false;
    let elem: Atom | undefined;
    const additional = s.additionalProperties;
    return {
      atomic: mapRelationship(s) === 'atomic',
      field(name) {
        if (!Object.hasOwn(props, name)) return undefined;
        let a = fieldCache.get(name);
        if (a === undefined) {
          a = ofRef(props[name]!, preserve);
          fieldCache.set(name, a);
        }
        return a;
      },
      elem() {
        if (!elemDone) {
          elemDone = true;
          if (additional === undefined) elem = preserve || names.length === 0 ? DEDUCED : undefined;
          else if (isPlainObject(additional)) elem = ofRef(additional, preserve);
          else elem = additional === true ? DEDUCED : undefined;
        }
        return elem;
      },
      zeroFields: zeroFieldsOf(props, go),
    };
  };

  const parseList = (s: OpenApiSchema, preserve: boolean): ListAtom => {
    const { atomic, keys } = listRelationship(s);
    const items = Array.isArray(s.items) ? (s.items.length === 1 ? s.items[0] : undefined) : s.items;
    let elem: Atom | undefined;
    const element = (): Atom => (elem ??= items === undefined ? (Array.isArray(s.items) ? DEDUCED : UNTYPED) : ofRef(items as OpenApiSchema, preserve));
    const keyDefaults = new Map<string, unknown>();
    if (keys.length > 0 && items !== undefined) {
      const itemName = refName(items as OpenApiSchema);
      const itemSchema = itemName !== undefined ? lookup(itemName) : (items as OpenApiSchema);
      const known = itemName !== undefined && Object.hasOwn(KEY_FIELD_DEFAULTS, itemName) ? KEY_FIELD_DEFAULTS[itemName] : undefined;
      for (const k of keys) {
        const d = itemSchema?.properties?.[k]?.default ?? (known !== undefined && Object.hasOwn(known, k) ? known[k] : undefined);
        if (d !== undefined) keyDefaults.set(k, d);
      }
    }
    return { atomic, keys, keyDefaults, elem: element };
  };

  const zeroFieldsOf = (props: Readonly<Record<string, OpenApiSchema>>, go: GoDefinitionFacts | undefined): ReadonlyMap<string, unknown> => {
    if (go?.fields === undefined) return NO_ZERO;
    const out = new Map<string, unknown>();
    for (const [name, f] of Object.entries(go.fields)) {
      if (f.inline || f.pointer || f.omitzero === true || !Object.hasOwn(props, name)) continue;
      const ref = refName(props[name]!);
      const isStruct = ref !== undefined && !f.go.startsWith('[]') && !f.go.startsWith('map[') && (isPlainObject(lookup(ref)?.properties) || STRUCT_SCALARS.test(ref));
      if (isStruct) out.set(name, isPlainObject(lookup(ref)?.properties) ? {} : null);
      else if (!f.omitempty) out.set(name, null);
    }
    return out.size === 0 ? NO_ZERO : out;
  };

  if (typeof root === 'string') return new ApplyTypes(ofNamed(root));
  return new ApplyTypes(parse(root as OpenApiSchema, false, undefined));
}

function mapRelationship(s: OpenApiSchema): 'atomic' | 'granular' | undefined {
  const t = s['x-kubernetes-map-type'];
  return t === 'atomic' || t === 'granular' ? t : undefined;
}

function listRelationship(s: OpenApiSchema): { atomic: boolean; keys: readonly string[] } {
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (listType === 'set') return { atomic: false, keys: [] };
    if (listType === 'map') {
      const keys = s['x-kubernetes-list-map-keys'];
      return { atomic: false, keys: Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [] };
    }
    return { atomic: true, keys: [] };
  }
  const strategy = s['x-kubernetes-patch-strategy'];
  if (strategy === 'merge' || strategy === 'merge,retainKeys') {
    const key = s['x-kubernetes-patch-merge-key'];
    return { atomic: false, keys: typeof key === 'string' && key !== '' ? [key] : [] };
  }
  return { atomic: true, keys: [] };
}
