/**
 * Writes checked against their kind's schema (the OpenAPI v2 definitions of lib/kinds/generated,
 * or the `definitions` a custom kind brings), in two steps, as kube-apiserver has them:
 *
 * - {@link SchemaValidator.decode}: what kube's JSON decoding into the typed Go object refuses,
 *   400 BadRequest in its words (`ConfigMap in version "v1" cannot be handled as a ConfigMap:
 *   json: cannot unmarshal number into Go struct field ConfigMap.data of type map[string]string`):
 *   a value of the wrong JSON type; an integer with a fraction or out of its int32/int64 range;
 *   `format: byte` that is not base64 (`illegal base64 data at input byte 4`). Go's decoder skips
 *   such a value and reports the first one, in document order. The types with their own decoding
 *   stop it at their first error, which then wins: metav1.Time (RFC 3339), resource.Quantity
 *   (its syntax), intstr.IntOrString (a string or an int32).
 *   Then strict decoding, per `fieldValidation`: unknown fields (`unknown field "spec.foo"`) and
 *   duplicate fields (`duplicate field "data"`), in document order as sigs.k8s.io/json finds
 *   them (paths with `[i]` for list items and `.key` for map keys; at most 100, each once):
 *   Strict refuses them (400, `... cannot be handled as a ConfigMap: strict decoding error:
 *   unknown field "spec.foo", duplicate field "data"`), Warn returns each as a warning, Ignore
 *   says nothing. Unknown fields are dropped in every mode, as decoding into a Go struct drops
 *   them; schemas with x-kubernetes-preserve-unknown-fields, and RawExtension, keep anything.
 * - {@link SchemaValidator.validate}: validation proper from the schema, 422 Invalid with a
 *   cause per field (`spec.size: Required value`, `spec.colour: Unsupported value: "x":
 *   supported values: "a", "b"`): required fields and enums, as kube validates custom resources
 *   against their CustomResourceDefinition's schema. Built-in kinds are validated by hand in
 *   kube, per kind (their strategy's Validate), not from the schema: their generated `required`
 *   lists every Go field without omitempty (a Node's status.nodeInfo.machineID, which kube
 *   takes empty), and their enums include status fields kube never checks. So for built-in
 *   kinds this step finds nothing; their own rules belong to their definitions.
 *
 * Duplicate fields exist only in the bytes (JSON.parse keeps the last): the body's scan counts
 * the keys it saw (lib/kube.ts scanJson), the decoding counts the keys of the parsed object, and
 * only when they differ are the bytes parsed again, keeping every key, to name the duplicates.
 */
import { badRequest, type FieldError } from '../errors.ts';
import { goQuote } from '../go-strconv.ts';
import { parseRFC3339 } from '../go-time.ts';
import { isPlainObject, MAX_JSON_DEPTH, type KubeObject } from '../kube.ts';
import { jsonKind, unmarshalTypeError } from '../object-meta.ts';
import { quantityError } from './quantity.ts';
import { readGoFacts, SchemaSet } from './schemas.ts';
import type { KindDefinition } from './types.ts';

/** resource.ParseQuantity's error for a Quantity's text (trimmed first, as its JSON decoding does), or undefined when it parses. */
export { quantityError };

/** An OpenAPI v2 schema as the generated definitions (and custom kinds) write them. */
export interface OpenApiSchema {
  readonly type?: string;
  readonly format?: string;
  readonly $ref?: string;
  readonly properties?: Readonly<Record<string, OpenApiSchema>>;
  readonly required?: readonly string[];
  readonly items?: OpenApiSchema;
  readonly additionalProperties?: OpenApiSchema | boolean;
  readonly enum?: readonly unknown[];
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
}

/** Where definitions are found by name (the generated SchemaSet). */
export interface SchemaLookup {
  get(name: string): unknown;
}

/**
 * The Go type of a definition's json field as its source writes it (`*int64`, `[]Taint`,
 * `metav1.ObjectMeta`, `map[string][]byte`): the generated go.json facts. Without them the Go
 * names in messages are worked out from the schema (exact except for named types such as
 * `v1.NamespacePhase`, which read `string`).
 */
export type GoFieldType = (definition: string, field: string) => string | undefined;

/** `fieldValidation` of a create, update or patch ("" is Warn, kube's default). */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** The JSON text a body was parsed from, and the object keys its scan counted (scanJson's `keys`). */
export interface JsonSource {
  readonly bytes: Uint8Array;
  readonly keys: number;
}

export interface DecodeOptions {
  fieldValidation: FieldValidation;
  /** The bytes the object was parsed from; without them duplicate fields go unseen (a protobuf body has none). */
  source?: JsonSource;
}

export interface DecodeResult {
  /** The object with unknown fields dropped (the object given when it had none). */
  object: KubeObject;
  /** Under Warn, each unknown or duplicate field, in kube's words. */
  warnings: string[];
}

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
/** sigs.k8s.io/json keeps at most this many strict errors. */
const MAX_STRICT_ERRORS = 100;
const GO_BUILTIN_TYPES = new Set(['string', 'bool', 'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'byte', 'rune', 'interface{}', 'any']);

/** A schema compiled for decoding and validation: references resolved, Go names worked out. */
type Node =
  | { readonly kind: 'string'; readonly enum: readonly string[] | undefined }
  | { readonly kind: 'integer'; readonly bits: 32 | 64 }
  | { readonly kind: 'number' }
  | { readonly kind: 'boolean' }
  /** format: byte, a []byte in Go: base64 in JSON. */
  | { readonly kind: 'bytes' }
  | { readonly kind: 'time' }
  | { readonly kind: 'quantity' }
  | { readonly kind: 'intOrString' }
  /** Any JSON; `opaque` when Go keeps its bytes (RawExtension, FieldsV1), so duplicates inside are not looked for. */
  | { readonly kind: 'raw'; readonly opaque: boolean }
  | { readonly kind: 'array'; readonly items: Edge }
  | { readonly kind: 'map'; readonly values: Edge }
  | StructNode;

interface StructNode {
  readonly kind: 'struct';
  /** The Go struct's name, as decoding errors name it (`ConfigMap`, `ObjectMeta`). */
  readonly name: string;
  readonly fields: Map<string, Edge>;
  readonly required: readonly string[];
  readonly preserveUnknown: boolean;
  /** Whether validation can find anything below it (worked out once; see mayFail). */
  mayFail?: boolean;
}

/** A node as a field (or list item, or map value) holds it, with the field's Go type as messages print it. */
interface Edge {
  node: Node;
  readonly go: string;
}

/** Thrown by a type whose own decoding stops the whole decoding (Time, Quantity, IntOrString). */
class FatalDecodeError extends Error {}

/**
 * An object nested past MAX_JSON_DEPTH (a body cannot be; a patched object or a stored one
 * might): decoding stops with this, and validation names the first field past it, rather than
 * recurse until the stack runs out. The walks take two frames a level: a 1,000-level object
 * needs some 700-980 KB of V8's 984 KB stack (measured), so a stack that runs out all the
 * same (a deep caller) is answered with this too, never with a 500.
 */
const NESTED_TOO_DEEPLY = `the object is nested too deeply: at most ${MAX_JSON_DEPTH} levels of objects and arrays are allowed`;

/** An object of the body parsed again with every key kept, in order (duplicates included). */
export class JsonEntries {
  readonly entries: [string, unknown][] = [];
}

/**
 * reflect.Type.String() of a Go type written in source form in the package of `pkg`: pointers
 * are decoded through, import aliases become package names (`metav1` -> `v1`), `byte` is `uint8`.
 */
function reflectName(t: string, pkg: string): string {
  if (t.startsWith('*')) return reflectName(t.slice(1), pkg);
  if (t.startsWith('[]')) return `[]${reflectName(t.slice(2), pkg)}`;
  if (t.startsWith('map[')) {
    let depth = 0;
    for (let i = 3; i < t.length; i++) {
      if (t[i] === '[') depth++;
      else if (t[i] === ']' && --depth === 0) return `map[${reflectName(t.slice(4, i), pkg)}]${reflectName(t.slice(i + 1), pkg)}`;
    }
    return t;
  }
  if (t === 'byte') return 'uint8';
  if (t === 'any' || t === 'interface{}') return 'interface {}';
  const dot = t.indexOf('.');
  if (dot >= 0) {
    const alias = t.slice(0, dot);
    const version = /(v\d+(?:(?:alpha|beta)\d+)?)$/.exec(alias);
    return `${version?.[1] ?? alias}${t.slice(dot)}`;
  }
  return GO_BUILTIN_TYPES.has(t) ? t : `${pkg}.${t}`;
}

/** The Go package name of a definition (`io.k8s.api.core.v1.ConfigMap` -> `v1`) and its type name. */
function splitDefinition(name: string): { pkg: string; type: string } {
  const parts = name.split('.');
  return { type: parts[parts.length - 1] ?? name, pkg: parts[parts.length - 2] ?? '' };
}

/** Compiles the schemas of one kind: each definition once (recursive definitions end in the cache). */
class Compiler {
  private readonly structs = new Map<string, Node>();
  private readonly lookup: (name: string) => OpenApiSchema | undefined;
  private readonly goType: GoFieldType | undefined;
  private readonly custom: boolean;

  constructor(lookup: (name: string) => OpenApiSchema | undefined, goType: GoFieldType | undefined, custom: boolean) {
    this.lookup = lookup;
    this.goType = goType;
    this.custom = custom;
  }

  /** The node of definition `name`; undefined when it is not known. */
  definition(name: string): Node | undefined {
    const cached = this.structs.get(name);
    if (cached !== undefined) return cached;
    const schema = this.lookup(name);
    if (schema === undefined) return undefined;
    if (name === QUANTITY) return this.remember(name, { kind: 'quantity' });
    if (schema.properties !== undefined) {
      const node: StructNode = {
        kind: 'struct',
        name: splitDefinition(name).type,
        fields: new Map(),
        required: schema.required ?? [],
        preserveUnknown: schema['x-kubernetes-preserve-unknown-fields'] === true,
      };
      // Remembered before its fields: a definition may refer to itself.
      this.structs.set(name, node);
      const { pkg } = splitDefinition(name);
      for (const [field, fieldSchema] of Object.entries(schema.properties)) {
        const source = this.goType?.(name, field);
        node.fields.set(field, this.edge(fieldSchema, pkg, source === undefined ? undefined : reflectName(source, pkg), `${node.name}.${field}`));
      }
      return node;
    }
    return this.remember(name, this.node(schema, splitDefinition(name).pkg, undefined, name, 0).node);
  }

  private remember(name: string, node: Node): Node {
    this.structs.set(name, node);
    return node;
  }

  /** The edge of `schema` in package `pkg`; `go` is the field's Go type when the facts know it. */
  edge(schema: OpenApiSchema, pkg: string, go: string | undefined, where: string): Edge {
    return this.node(schema, pkg, go, where, 0);
  }

  /**
   * `depth`: the schemas above this one in its definition. Past MAX_JSON_DEPTH, no object a
   * walk may take reaches it: compiled as any JSON, so that a schema however deep (a custom
   * kind's, as stored) compiles without running out of stack.
   */
  private node(schema: OpenApiSchema, pkg: string, go: string | undefined, where: string, depth: number): Edge {
    if (depth > MAX_JSON_DEPTH) return { node: { kind: 'raw', opaque: false }, go: go ?? 'interface {}' };
    if (schema.$ref !== undefined) {
      const name = schema.$ref.replace(/^#\/definitions\//, '');
      const { pkg: refPkg, type } = splitDefinition(name);
      const node = this.definition(name) ?? { kind: 'raw', opaque: false };
      return { node, go: go ?? `${refPkg}.${type}` };
    }
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    if (schema['x-kubernetes-int-or-string'] === true || schema.format === 'int-or-string') return { node: { kind: 'intOrString' }, go: go ?? 'intstr.IntOrString' };
    switch (schema.type) {
      case 'string':
        if (schema.format === 'byte') return { node: { kind: 'bytes' }, go: go ?? '[]uint8' };
        if (schema.format === 'date-time') return { node: { kind: 'time' }, go: go ?? 'v1.Time' };
        return {
          node: { kind: 'string', enum: schema.enum?.every((v) => typeof v === 'string') === true ? (schema.enum as string[]) : undefined },
          go: go ?? 'string',
        };
      case 'integer':
        return { node: { kind: 'integer', bits: schema.format === 'int32' ? 32 : 64 }, go: go ?? (schema.format === 'int32' ? 'int32' : 'int64') };
      case 'number':
        return { node: { kind: 'number' }, go: go ?? 'float64' };
      case 'boolean':
        return { node: { kind: 'boolean' }, go: go ?? 'bool' };
      case 'array': {
        const elementGo = go?.startsWith('[]') === true ? go.slice(2) : undefined;
        const items = schema.items === undefined ? { node: { kind: 'raw', opaque: false } as Node, go: 'interface {}' } : this.node(schema.items, pkg, elementGo, where, depth + 1);
        return { node: { kind: 'array', items }, go: go ?? `[]${items.go}` };
      }
      default:
        break;
    }
    if (schema.properties !== undefined) {
      // An inline object (custom kinds): a struct of its own.
      const node: StructNode = { kind: 'struct', name: where.split('.')[0] ?? where, fields: new Map(), required: schema.required ?? [], preserveUnknown: preserve };
      for (const [field, fieldSchema] of Object.entries(schema.properties)) node.fields.set(field, this.node(fieldSchema, pkg, undefined, where, depth + 1));
      return { node, go: go ?? 'map[string]interface {}' };
    }
    if (typeof schema.additionalProperties === 'object') {
      const valueGo = go !== undefined && go.startsWith('map[') ? go.slice(go.indexOf(']') + 1) : undefined;
      const values = this.node(schema.additionalProperties, pkg, valueGo, where, depth + 1);
      return { node: { kind: 'map', values }, go: go ?? `map[string]${values.go}` };
    }
    // An object without properties: RawExtension and FieldsV1 keep their bytes as sent.
    return { node: { kind: 'raw', opaque: !this.custom && !preserve }, go: go ?? 'map[string]interface {}' };
  }
}

/** Where a value sits: the Go struct holding its field and the field's path (for type errors); its full path (for strict errors). */
interface At {
  struct: string;
  goPath: string;
  path: string;
}

function child(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** The Go field path of field `key` at `at` ("" for a list item or map value: its list's or map's). */
function goField(at: At, key: string): string {
  if (key === '') return at.goPath;
  return at.goPath === '' ? key : `${at.goPath}.${key}`;
}

/**
 * Go's base64.StdEncoding.DecodeString: undefined when `text` decodes, else its error (the
 * offset of the first byte that cannot be). Newlines are skipped; padding is required.
 */
export function base64Error(text: string): string | undefined {
  const src = Buffer.from(text, 'utf8');
  const isAlphabet = (c: number): boolean =>
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
  const isNewline = (c: number): boolean => c === 0x0a || c === 0x0d;
  const corrupt = (at: number): string => `illegal base64 data at input byte ${at}`;
  let si = 0;
  while (si < src.length) {
    // One quantum of four characters.
    let j = 0;
    while (j < 4) {
      if (si === src.length) {
        if (j === 0) return undefined;
        return corrupt(si - j);
      }
      const c = src[si] as number;
      si++;
      if (isAlphabet(c)) {
        j++;
        continue;
      }
      if (isNewline(c)) continue;
      if (c !== 0x3d) return corrupt(si - 1);
      // Padding: only in the third or fourth place, and then the end.
      if (j < 2) return corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(src[si] as number)) si++;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== 0x3d) return corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si] as number)) si++;
      return si < src.length ? corrupt(si) : undefined;
    }
  }
  return undefined;
}

function isInteger(value: number, bits: 32 | 64): boolean {
  return Number.isInteger(value) && value >= -(2 ** (bits - 1)) && value < 2 ** (bits - 1);
}

/** Keys of every object in `value` (the decoding's side of the duplicate check), counted without recursion. */
function countKeys(value: unknown): number {
  let n = 0;
  const pending: unknown[] = [value];
  for (let v = pending.pop(); pending.length > 0 || v !== undefined; v = pending.pop()) {
    if (Array.isArray(v)) {
      for (const element of v) pending.push(element);
    } else if (isPlainObject(v)) {
      for (const key in v) {
        n++;
        pending.push(v[key]);
      }
    }
  }
  return n;
}

/**
 * One decoding of a body against its kind's schema. The walk returns each value as decoding
 * keeps it: the same value when nothing was dropped (no copy for the usual body), else a copy
 * without the unknown fields.
 */
class Decoding {
  /** The first type error, in document order. */
  typeError: string | undefined;
  readonly strict: string[] = [];
  private readonly seen = new Set<string>();
  /** Object keys walked, for the duplicate check. */
  keys = 0;
  /** Whether to collect strict errors (not under Ignore). */
  private readonly collect: boolean;
  /** The nesting of the object or array being walked (the root object is 1; 0 outside it). */
  private depth = 0;

  constructor(collect: boolean) {
    this.collect = collect;
  }

  private saveType(error: string): void {
    this.typeError ??= error;
  }

  private saveStrict(what: 'unknown field' | 'duplicate field', path: string): void {
    if (!this.collect || this.strict.length >= MAX_STRICT_ERRORS) return;
    const error = `${what} ${goQuote(path)}`;
    if (this.seen.has(error)) return;
    this.seen.add(error);
    this.strict.push(error);
  }

  private mismatch(value: unknown, edge: Edge, at: At, key: string): undefined {
    this.saveType(unmarshalTypeError(jsonKind(value), edge.go, { struct: at.struct, path: goField(at, key) }));
    return undefined;
  }

  /**
   * `value` decoded as `edge`, the field `key` of the place `at` (for list items and map values,
   * `key` is "" and `at` is the place of their list or map field). `path` is its strict path.
   */
  value(value: unknown, edge: Edge, at: At, key: string, path: string): unknown {
    if (value === null || value === undefined) return value;
    const node = edge.node;
    switch (node.kind) {
      case 'string':
        if (typeof value !== 'string') this.mismatch(value, edge, at, key);
        return value;
      case 'boolean':
        if (typeof value !== 'boolean') this.mismatch(value, edge, at, key);
        return value;
      case 'number':
        if (typeof value !== 'number') this.mismatch(value, edge, at, key);
        return value;
      case 'integer':
        if (typeof value !== 'number') this.mismatch(value, edge, at, key);
        else if (!isInteger(value, node.bits)) {
          this.saveType(unmarshalTypeError(`number ${String(value)}`, edge.go, { struct: at.struct, path: goField(at, key) }));
        }
        return value;
      case 'bytes':
        if (typeof value === 'string') {
          const error = base64Error(value);
          if (error !== undefined) this.saveType(error);
        } else if (!Array.isArray(value)) this.mismatch(value, edge, at, key);
        return value;
      case 'time': {
        if (typeof value !== 'string') throw new FatalDecodeError(unmarshalTypeError(jsonKind(value), 'string', { struct: at.struct, path: goField(at, key) }));
        const parsed = parseRFC3339(value);
        if ('error' in parsed) throw new FatalDecodeError(parsed.error);
        return value;
      }
      case 'quantity': {
        // Quantity's UnmarshalJSON parses the JSON text, unquoted: a number is taken, anything else fails.
        const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '{';
        const error = quantityError(text);
        if (error !== undefined) throw new FatalDecodeError(error);
        return value;
      }
      case 'intOrString':
        if (typeof value === 'string') return value;
        if (typeof value === 'number' && isInteger(value, 32)) return value;
        throw new FatalDecodeError(
          unmarshalTypeError(typeof value === 'number' ? `number ${String(value)}` : jsonKind(value), 'int32', { struct: at.struct, path: goField(at, key) }),
        );
      case 'raw':
        if (value instanceof JsonEntries || Array.isArray(value)) {
          if (!node.opaque) this.anyValue(value, path, this.depth + 1);
        } else this.keys += countKeys(value);
        return value;
      case 'array': {
        if (!Array.isArray(value)) return this.mismatch(value, edge, at, key);
        this.enter();
        const place = { struct: at.struct, goPath: goField(at, key), path };
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const element: unknown = value[i];
          const decoded = this.value(element, node.items, place, '', `${path}[${i}]`);
          if (decoded !== element) (out ??= value.slice())[i] = decoded;
        }
        this.depth--;
        return out ?? value;
      }
      case 'map': {
        const place = { struct: at.struct, goPath: goField(at, key), path };
        if (value instanceof JsonEntries) {
          this.enter();
          const keys = new Set<string>();
          for (const [k, v] of value.entries) {
            if (keys.has(k)) this.saveStrict('duplicate field', child(path, k));
            keys.add(k);
            this.value(v, node.values, place, '', child(path, k));
          }
          this.depth--;
          return value;
        }
        if (!isPlainObject(value)) return this.mismatch(value, edge, at, key);
        this.enter();
        let changed: Map<string, unknown> | undefined;
        let n = 0;
        for (const k in value) {
          n++;
          const v = value[k];
          const decoded = this.value(v, node.values, place, '', child(path, k));
          if (decoded !== v) (changed ??= new Map()).set(k, decoded);
        }
        this.keys += n;
        this.depth--;
        if (changed === undefined) return value;
        const decodedValues = changed;
        // fromEntries defines each key as an own property, "__proto__" included.
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodedValues.has(k) ? decodedValues.get(k) : v]));
      }
      case 'struct':
        return this.struct(value, edge, node, at, key, path);
    }
  }

  /** One level deeper into the object walked; FatalDecodeError past MAX_JSON_DEPTH. Left by `this.depth--`. */
  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) throw new FatalDecodeError(NESTED_TOO_DEEPLY);
  }

  struct(value: unknown, edge: Edge, node: StructNode, at: At, key: string, path: string): unknown {
    const goPath = goField(at, key);
    if (value instanceof JsonEntries) {
      this.enter();
      const fields = new Set<string>();
      for (const [k, v] of value.entries) {
        const field = node.fields.get(k);
        if (field === undefined) {
          if (!node.preserveUnknown) this.saveStrict('unknown field', child(path, k));
          else this.anyValue(v, child(path, k), this.depth + 1);
          continue;
        }
        if (fields.has(k)) this.saveStrict('duplicate field', child(path, k));
        fields.add(k);
        this.value(v, field, { struct: node.name, goPath, path }, k, child(path, k));
      }
      this.depth--;
      return value;
    }
    if (!isPlainObject(value)) return this.mismatch(value, edge, at, key);
    this.enter();
    const place = { struct: node.name, goPath, path };
    let changed = false;
    // The values decoding changed, by key: the copy takes them as they are, never walking again
    // (a walk per level would make a value deep down cost twice per level above it).
    let decodedValues: Map<string, unknown> | undefined;
    let n = 0;
    for (const k in value) {
      n++;
      const field = node.fields.get(k);
      const v = value[k];
      if (field === undefined) {
        this.keys += countKeys(v);
        if (node.preserveUnknown) continue;
        this.saveStrict('unknown field', child(path, k));
        changed = true;
        continue;
      }
      const decoded = this.value(v, field, place, k, child(path, k));
      if (decoded !== v) {
        changed = true;
        (decodedValues ??= new Map()).set(k, decoded);
      }
    }
    this.keys += n;
    this.depth--;
    if (!changed) return value;
    // A copy with the known fields, each as decoded.
    const out: [string, unknown][] = [];
    for (const k of Object.keys(value)) {
      const field = node.fields.get(k);
      if (field === undefined && !node.preserveUnknown) continue;
      out.push([k, decodedValues?.has(k) === true ? decodedValues.get(k) : value[k]]);
    }
    return Object.fromEntries(out);
  }

  /** A value decoded into interface{} (x-kubernetes-preserve-unknown-fields): only duplicate keys are errors. */
  private anyValue(value: unknown, path: string, depth: number): void {
    if (depth > MAX_JSON_DEPTH) throw new FatalDecodeError(NESTED_TOO_DEEPLY);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) this.anyValue(value[i], `${path}[${i}]`, depth + 1);
      return;
    }
    if (!(value instanceof JsonEntries)) {
      this.keys += countKeys(value);
      return;
    }
    const keys = new Set<string>();
    for (const [k, v] of value.entries) {
      if (keys.has(k)) this.saveStrict('duplicate field', child(path, k));
      keys.add(k);
      this.anyValue(v, child(path, k), depth + 1);
    }
  }
}

/**
 * The JSON text parsed with every object key kept, duplicates included, as {@link JsonEntries}
 * (the text is known to be valid JSON: JSON.parse read it first).
 */
export function parseKeepingDuplicates(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let i = 0;
  const space = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const stringEnd = (start: number): number => {
    let j = start + 1;
    while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  const value = (): unknown => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const object = new JsonEntries();
      space();
      if (text[i] === '}') {
        i++;
        return object;
      }
      for (;;) {
        space();
        const end = stringEnd(i);
        const key = JSON.parse(text.slice(i, end)) as string;
        i = end;
        space();
        i++; // ':'
        object.entries.push([key, value()]);
        space();
        if (text[i++] === '}') return object;
      }
    }
    if (c === '[') {
      i++;
      const array: unknown[] = [];
      space();
      if (text[i] === ']') {
        i++;
        return array;
      }
      for (;;) {
        array.push(value());
        space();
        if (text[i++] === ']') return array;
      }
    }
    const start = i;
    if (c === '"') i = stringEnd(i);
    else while (i < text.length && !',}] \n\r\t'.includes(text[i] as string)) i++;
    return JSON.parse(text.slice(start, i)) as unknown;
  };
  return value();
}

/** The error kube's decoding answers for a body of `kind` (what the body says it is, for the words). */
function cannotBeHandled(body: KubeObject, kind: KindDefinition, error: string): Error {
  const k = typeof body.kind === 'string' && body.kind !== '' ? body.kind : kind.kind;
  const apiVersion = typeof body.apiVersion === 'string' ? body.apiVersion : '';
  const version = apiVersion === '' ? kind.version : apiVersion.slice(apiVersion.lastIndexOf('/') + 1);
  return badRequest(`${k} in version ${JSON.stringify(version)} cannot be handled as a ${kind.kind}: ${error}`);
}

/** kube's field path of a map key: `data[key]`. */
function keyPath(parent: string, key: string): string {
  return `${parent}[${key}]`;
}

/**
 * Decoding and validation against the schemas of kinds. One per process (it caches each kind's
 * compiled schema, keyed by the kind's definition: a kind changed in the live registry is a new
 * definition, compiled anew).
 */
export class SchemaValidator {
  private readonly schemas: SchemaLookup;
  private readonly goType: GoFieldType | undefined;
  private readonly compiled = new WeakMap<KindDefinition, Edge | null>();

  constructor(schemas: SchemaLookup, goType?: GoFieldType) {
    this.schemas = schemas;
    this.goType = goType;
  }

  /** The kind's compiled schema; undefined when it has none known (nothing is then checked). */
  private root(kind: KindDefinition): Edge | undefined {
    let edge = this.compiled.get(kind);
    if (edge === undefined) {
      const own = kind.definitions;
      const lookup = (name: string): OpenApiSchema | undefined => {
        if (own !== undefined && Object.hasOwn(own, name)) return own[name] as OpenApiSchema;
        const found = this.schemas.get(name);
        return found === undefined || found === null ? undefined : (found as OpenApiSchema);
      };
      const compiler = new Compiler(lookup, kind.source === 'builtin' ? this.goType : undefined, kind.source !== 'builtin');
      const node = compiler.definition(kind.schema);
      edge = node === undefined ? null : { node, go: `${splitDefinition(kind.schema).pkg}.${kind.kind}` };
      this.compiled.set(kind, edge);
    }
    return edge ?? undefined;
  }

  /**
   * `object` (a create or update body of `kind`) as kube's decoding takes it: BadRequest for a
   * type error or, under Strict, for unknown or duplicate fields; the object without its
   * unknown fields, and under Warn the warnings (see the top of this file).
   */
  decode(object: KubeObject, kind: KindDefinition, options: DecodeOptions): DecodeResult {
    const root = this.root(kind);
    if (root === undefined) return { object, warnings: [] };
    const collect = options.fieldValidation !== 'Ignore';
    const decoding = new Decoding(collect);
    const at: At = { struct: root.node.kind === 'struct' ? root.node.name : kind.kind, goPath: '', path: '' };
    let decoded: unknown;
    try {
      decoded = root.node.kind === 'struct' ? decoding.struct(object, root, root.node, at, '', '') : object;
    } catch (err) {
      if (err instanceof FatalDecodeError) throw cannotBeHandled(object, kind, err.message);
      if (err instanceof RangeError) throw cannotBeHandled(object, kind, NESTED_TOO_DEEPLY);
      throw err;
    }
    if (decoding.typeError !== undefined) throw cannotBeHandled(object, kind, decoding.typeError);
    let strict = decoding.strict;
    const source = options.source;
    if (collect && source !== undefined && source.keys > decoding.keys && root.node.kind === 'struct') {
      // The bytes hold more keys than the parsed object: some repeat. Walk them again, keeping every key.
      const again = new Decoding(true);
      again.struct(parseKeepingDuplicates(source.bytes), root, root.node, at, '', '');
      strict = again.strict;
    }
    if (strict.length > 0 && options.fieldValidation === 'Strict') {
      throw cannotBeHandled(object, kind, `strict decoding error: ${strict.join(', ')}`);
    }
    return { object: decoded as KubeObject, warnings: options.fieldValidation === 'Warn' ? strict : [] };
  }

  /**
   * `value` (a patched object: any JSON) decoded as `kind` without refusing anything: the
   * first type error in Go's words (`json: cannot unmarshal ...`), the strict errors (unknown
   * fields; none under Ignore), and the object without its unknown fields. kube's patch
   * handler words these itself (422 on the field `patch`).
   */
  decodePatched(value: unknown, kind: KindDefinition, fieldValidation: FieldValidation): { object: KubeObject; typeError?: string; strict: string[] } {
    const root = this.root(kind);
    if (!isPlainObject(value)) {
      const go = root === undefined ? `v1.${kind.kind}` : root.go;
      return { object: {}, typeError: `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${go}`, strict: [] };
    }
    if (root === undefined || root.node.kind !== 'struct') return { object: value as KubeObject, strict: [] };
    const decoding = new Decoding(fieldValidation !== 'Ignore');
    let decoded: unknown;
    try {
      decoded = decoding.struct(value, root, root.node, { struct: root.node.name, goPath: '', path: '' }, '', '');
    } catch (err) {
      if (err instanceof FatalDecodeError) return { object: value as KubeObject, typeError: err.message, strict: [] };
      if (err instanceof RangeError) return { object: value as KubeObject, typeError: NESTED_TOO_DEEPLY, strict: [] };
      throw err;
    }
    if (decoding.typeError !== undefined) return { object: value as KubeObject, typeError: decoding.typeError, strict: [] };
    return { object: decoded as KubeObject, strict: decoding.strict };
  }

  /** The definitions of `kind` by name: the kind's own first, then the generated ones. */
  definitionsOf(kind: KindDefinition): (name: string) => unknown {
    const own = kind.definitions;
    return (name) => (own !== undefined && Object.hasOwn(own, name) ? own[name] : this.schemas.get(name));
  }

  /**
   * Validation proper of `object` against a custom kind's schema: a field error for each
   * required field missing and each value not in its enum (422 Invalid when any; see
   * lib/errors.ts invalid). Values of the wrong type are left to decoding; built-in kinds are
   * validated by their own rules (see the top of this file).
   */
  validate(object: KubeObject, kind: KindDefinition): FieldError[] {
    if (kind.source === 'builtin') return [];
    const root = this.root(kind);
    const errors: FieldError[] = [];
    try {
      if (root !== undefined) validateValue(object, root.node, '', errors);
    } catch (err) {
      // the stack ran out within the bound (a deep call stack above): refused all the same
      if (!(err instanceof RangeError)) throw err;
      errors.push({ type: 'FieldValueInvalid', field: '', value: '', detail: NESTED_TOO_DEEPLY });
    }
    return errors;
  }
}

/** `depth`: the nesting of `value` (the root object is 1); past MAX_JSON_DEPTH, an error rather than a walk on. */
function validateValue(value: unknown, node: Node, path: string, errors: FieldError[], depth = 1): void {
  if (depth > MAX_JSON_DEPTH && value !== null && typeof value === 'object') {
    errors.push({ type: 'FieldValueInvalid', field: path, value: '', detail: NESTED_TOO_DEEPLY });
    return;
  }
  switch (node.kind) {
    case 'string':
      if (node.enum !== undefined && typeof value === 'string' && value !== '' && !node.enum.includes(value)) {
        errors.push({ type: 'FieldValueNotSupported', field: path, value, detail: `supported values: ${node.enum.map((v) => goQuote(v)).join(', ')}` });
      }
      return;
    case 'array':
      if (Array.isArray(value)) for (let i = 0; i < value.length; i++) validateValue(value[i], node.items.node, `${path}[${i}]`, errors, depth + 1);
      return;
    case 'map':
      if (isPlainObject(value) && mayFail(node.values.node)) for (const k of Object.keys(value)) validateValue(value[k], node.values.node, keyPath(path, k), errors, depth + 1);
      return;
    case 'struct':
      if (!isPlainObject(value)) return;
      for (const name of node.required) {
        if (value[name] === undefined || value[name] === null) errors.push({ type: 'FieldValueRequired', field: child(path, name), detail: '' });
      }
      for (const [name, field] of node.fields) {
        const v = value[name];
        if (v !== undefined && v !== null && mayFail(field.node)) validateValue(v, field.node, child(path, name), errors, depth + 1);
      }
      return;
    default:
      return;
  }
}

/** Whether validation can find anything below `node` (remembered per struct: most subtrees have no required field or enum). */
function mayFail(node: Node): boolean {
  switch (node.kind) {
    case 'string':
      return node.enum !== undefined;
    case 'array':
      return mayFail(node.items.node);
    case 'map':
      return mayFail(node.values.node);
    case 'struct': {
      if (node.mayFail !== undefined) return node.mayFail;
      node.mayFail = false; // a recursive definition: false while its fields are looked at
      let result = node.required.length > 0;
      for (const field of node.fields.values()) if (result || (result = mayFail(field.node))) break;
      node.mayFail = result;
      return result;
    }
    default:
      return false;
  }
}

/** A validator over the generated definitions and Go facts of lib/kinds/generated (each process makes its own). */
export function generatedSchemaValidator(): SchemaValidator {
  const facts = readGoFacts();
  return new SchemaValidator(new SchemaSet(), (definition, field) => facts.get(definition)?.fields?.[field]?.go);
}

/** `fieldValidation` as given (checked already by the query's parser); "" and anything else is Warn, kube's default. */
export function fieldValidationOf(value: string | undefined): FieldValidation {
  return value === 'Strict' || value === 'Ignore' ? value : 'Warn';
}
