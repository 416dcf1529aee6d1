/**
 * What Go's encoding/json writes for a kube struct, from the generated facts (go.json: per JSON
 * field its Go type, `omitempty`, pointer, inline; the schemas: what each field holds). Two
 * users: the protobuf body decoder (services/gateway/rest/protobuf.ts) takes each field's rule
 * from {@link goJsonRule}; {@link GoShapes} gives an object of a built-in kind the shape
 * kube-apiserver's round trip through the kind's typed struct gives it (decode, then encode):
 *
 * - A field without `omitempty` is always written: "" / 0 / false when absent or null; `null` for
 *   a nil slice, map or pointer.
 * - A struct value field is always written, `omitempty` or not (encoding/json never omits a
 *   struct), shaped in turn: `{}` at least, with its own always-written fields.
 * - A field with `omitempty` holding its zero value is dropped (false, 0, "", an empty or null
 *   slice or map); a pointer field is dropped when nil (null or absent) and kept otherwise,
 *   zero or not. A field with `omitzero` is dropped when it is its type's zero value (since
 *   Kubernetes 1.35 ObjectMeta.creationTimestamp: a zero time is left out, not null).
 * - The types with their own JSON: metav1.Time (RFC 3339 in UTC, whole seconds; the zero time,
 *   or none, is `null`), metav1.MicroTime (the same with microseconds), resource.Quantity (its
 *   canonical text, lib/kinds/quantity.ts; none is "0"), intstr.IntOrString (its number or its
 *   string as sent; none is 0), metav1.Duration (as sent; none is "0s"), []byte (standard
 *   base64, as Go writes it back), and what Go keeps as raw JSON (RawExtension, apiextensions'
 *   JSON and its schema-or-X types: as sent; none is `null`).
 * - Fields the struct does not have are dropped (decoding already dropped them from bodies).
 * - Inline (embedded) structs' fields are the parent's.
 *
 * A value of the wrong JSON type is left as it is (decoding refused it in a body; validation
 * words it). Map keys keep their order (encoding/json sorts them: JSON readers do not care);
 * a struct that changes is written in Go's field order, one that does not is returned as it is
 * (the same object: shaping an object already in shape allocates nothing).
 */
import { formatRFC3339, formatRFC3339Micro, parseRFC3339 } from '../go-time.ts';
import { isPlainObject, MAX_JSON_DEPTH, type KubeObject } from '../kube.ts';
import { canonicalQuantity } from './quantity.ts';
import { base64Error } from './validate.ts';
import { readGoFacts, SchemaSet, type GoDefinitionFacts, type GoFieldFacts, type Schema } from './schemas.ts';

/**
 * How encoding/json writes a struct field: 'omitempty' (left out when zero), 'always' (a value
 * without omitempty, or any struct value: written even when zero), 'pointer' (left out, or null
 * without omitempty, when nil; written otherwise, zero or not), 'inline' (an embedded struct:
 * its fields are written into the parent's object).
 */
export type GoJsonRule = 'omitempty' | 'always' | 'pointer' | 'inline';

/**
 * The rule of a field with these facts; `struct` says whether its Go type is a struct (including
 * the types with their own JSON, Time or Quantity: encoding/json's omitempty never omits one).
 */
export function goJsonRule(facts: Pick<GoFieldFacts, 'omitempty' | 'pointer' | 'inline'>, struct: boolean): GoJsonRule {
  if (facts.inline) return facts.pointer ? 'pointer' : 'inline';
  if (facts.pointer) return 'pointer';
  if (struct) return 'always';
  return facts.omitempty ? 'omitempty' : 'always';
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const APIEXTENSIONS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';

/** The definitions with a JSON of their own, by name. */
const SPECIAL: ReadonlyMap<string, Shape> = new Map<string, Shape>([
  [`${META}.Time`, { kind: 'time', micro: false }],
  [`${META}.MicroTime`, { kind: 'time', micro: true }],
  [`${META}.Duration`, { kind: 'duration' }],
  ['io.k8s.apimachinery.pkg.api.resource.Quantity', { kind: 'quantity' }],
  ['io.k8s.apimachinery.pkg.util.intstr.IntOrString', { kind: 'intOrString' }],
  // Go structs whose JSON is raw JSON, kept as sent (null when none).
  ['io.k8s.apimachinery.pkg.runtime.RawExtension', { kind: 'raw', struct: true }],
  [`${META}.FieldsV1`, { kind: 'raw', struct: true }],
  [`${META}.Patch`, { kind: 'raw', struct: true }],
  [`${APIEXTENSIONS}.JSON`, { kind: 'raw', struct: true }],
  [`${APIEXTENSIONS}.JSONSchemaPropsOrArray`, { kind: 'raw', struct: true }],
  [`${APIEXTENSIONS}.JSONSchemaPropsOrBool`, { kind: 'raw', struct: true }],
  [`${APIEXTENSIONS}.JSONSchemaPropsOrStringArray`, { kind: 'raw', struct: true }],
]);

/** What a JSON value is decoded into. */
type Shape =
  | { readonly kind: 'string' | 'number' | 'bool' | 'bytes' | 'quantity' | 'intOrString' | 'duration' }
  | { readonly kind: 'time'; readonly micro: boolean }
  /** Any JSON kept as it is; `struct` for the Go structs with a raw JSON of their own (never omitted). */
  | { readonly kind: 'raw'; readonly struct: boolean }
  | { readonly kind: 'slice'; readonly element: Shape }
  | { readonly kind: 'map'; readonly value: Shape }
  | StructShape;

interface StructShape {
  readonly kind: 'struct';
  /** In Go's order (inline structs' fields in their place). */
  readonly fields: GoField[];
}

interface GoField {
  readonly name: string;
  readonly shape: Shape;
  readonly rule: Exclude<GoJsonRule, 'inline'>;
  /** For a pointer: null is written when nil (no omitempty) rather than nothing. */
  readonly omitEmpty: boolean;
  /** `omitzero`: left out when it is its type's zero value (ObjectMeta.creationTimestamp's zero time). */
  readonly omitZero: boolean;
}

const RAW: Shape = { kind: 'raw', struct: false };

/** Whether a present, non-null value of this shape is always written as it is (no walk needed). */
function keepsValues(shape: Shape): boolean {
  switch (shape.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'intOrString':
    case 'duration':
    case 'raw':
      return true;
    default:
      return false;
  }
}

/** metav1.Time and MicroTime as Go writes them; the zero time (written as null) begins with GO_ZERO_TIME_DATE. */
const WRITTEN_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const WRITTEN_MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const GO_ZERO_TIME_DATE = '0001-01-01T00:00:00';

/** Whether encoding/json's omitempty could leave a value of this shape out (it never leaves a struct out). */
function isStructLike(shape: Shape): boolean {
  switch (shape.kind) {
    case 'struct':
    case 'time':
    case 'quantity':
    case 'intOrString':
    case 'duration':
      return true;
    case 'raw':
      return shape.struct;
    default:
      return false;
  }
}

/** A value left out of the written object: nil, or an omitempty field's zero value. */
const OMIT = Symbol('omit');

/** What Go writes for the zero value of `shape` (null for nil; a new object for a struct). */
function zero(shape: Shape): unknown {
  switch (shape.kind) {
    case 'string':
      return '';
    case 'number':
      return 0;
    case 'bool':
      return false;
    case 'quantity':
      return '0';
    case 'intOrString':
      return 0;
    case 'duration':
      return '0s';
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const field of shape.fields) {
        // a zero value is what omitzero leaves out
        if (field.omitZero) continue;
        if (field.rule === 'pointer') {
          if (!field.omitEmpty) out[field.name] = null;
        } else if (field.rule === 'always') out[field.name] = zero(field.shape);
      }
      return out;
    }
    default:
      return null;
  }
}

/** encoding/json's isEmptyValue for what omitempty may leave out (scalars, slices, maps). */
function isEmpty(value: unknown): boolean {
  if (value === null || value === '' || value === 0 || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) {
    for (const key in value) if (Object.hasOwn(value, key)) return false;
    return true;
  }
  return false;
}

/** Whether `written` (a written value of `shape`) is its type's zero value, as omitzero sees it. */
function isZero(written: unknown, shape: Shape): boolean {
  if (written === null) return true;
  switch (shape.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'intOrString':
      return written === '' || written === 0 || written === false;
    case 'quantity':
      return written === '0';
    case 'duration':
      return written === '0s';
    case 'struct':
      return isPlainObject(written) && shape.fields.every((f) => written[f.name] === undefined || isZero(written[f.name], f.shape));
    default:
      // a slice or map is zero when nil only (null, above); raw JSON and times when null
      return false;
  }
}

/** Go's base64.StdEncoding of the bytes a valid base64 text (newlines and all) decodes to. */
function canonicalBase64(text: string): string {
  if (base64Error(text) !== undefined) return text;
  const written = Buffer.from(text, 'base64').toString('base64');
  return written === text ? text : written;
}

/** The shape of what a schema (a field's, an item's, a map value's) describes. */
type ShapeOf = (schema: Schema) => Shape;

/**
 * The shapes of the generated definitions, compiled on first use and kept (one instance per
 * process, owned by whoever shapes: the admission chain, the gateway's read path).
 */
export class GoShapes {
  readonly #schemas: SchemaSet;
  readonly #facts: () => ReadonlyMap<string, GoDefinitionFacts>;
  #loadedFacts: ReadonlyMap<string, GoDefinitionFacts> | undefined;
  readonly #shapes = new Map<string, Shape>();

  /**
   * @param schemas the generated definitions (default: the committed ones)
   * @param facts the Go facts by definition (default: the committed go.json, read on first use)
   */
  constructor(schemas: SchemaSet = new SchemaSet(), facts?: ReadonlyMap<string, GoDefinitionFacts>) {
    this.#schemas = schemas;
    this.#loadedFacts = facts;
    this.#facts = () => (this.#loadedFacts ??= readGoFacts());
  }

  /**
   * `object` as kube writes it after decoding it into the Go struct of definition `definition`
   * (see the top of this file): the same object when it is in shape already, else a new one
   * (the argument is never changed). An object without a known definition is returned as it is.
   */
  shape(object: KubeObject, definition: string): KubeObject {
    const shape = this.#definition(definition);
    if (shape.kind !== 'struct') return object;
    try {
      return this.#value(object, shape, 1) as KubeObject;
    } catch (err) {
      // A stack that ran out on a deep object (a caller deep already): the object as it is.
      if (err instanceof RangeError) return object;
      throw err;
    }
  }

  #definition(name: string): Shape {
    const known = this.#shapes.get(name);
    if (known !== undefined) return known;
    const special = SPECIAL.get(name);
    if (special !== undefined) return special;
    const schema = this.#schemas.get(name);
    const facts = this.#facts().get(name);
    if (schema === undefined || (schema.properties === undefined && facts?.fields === undefined)) return RAW;
    const struct: StructShape = { kind: 'struct', fields: [] };
    // Remembered before its fields: a definition may hold itself (JSONSchemaProps).
    this.#shapes.set(name, struct);
    const shapeOf: ShapeOf = (s) => this.#shapeOf(s);
    const covered = new Set<string>();
    this.#addFields(struct.fields, covered, name, facts, schema, shapeOf);
    // What the schema has and the facts do not (an embedded struct they could not name): as
    // TypeMeta's fields are, omitempty values.
    for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
      if (covered.has(field)) continue;
      const shape = shapeOf(fieldSchema);
      // Without facts a struct is taken for a pointer: written as sent, never made up.
      const rule = goJsonRule({ omitempty: true, pointer: isStructLike(shape), inline: false }, isStructLike(shape));
      struct.fields.push({ name: field, shape, rule: rule === 'inline' ? 'omitempty' : rule, omitEmpty: true, omitZero: false });
    }
    return struct;
  }

  /** The fields of definition `name` (and of the structs it embeds) in Go's order; their types from `schema`, the outermost struct's. */
  #addFields(
    fields: GoField[],
    covered: Set<string>,
    name: string,
    facts: GoDefinitionFacts | undefined,
    schema: Schema,
    shapeOf: ShapeOf,
    depth = 0,
  ): void {
    for (const [field, go] of Object.entries(facts?.fields ?? {})) {
      if (go.inline) {
        // An embedded struct: its fields in its place. One without facts (or embedded by
        // pointer, which no kind has) leaves its fields to the schema, added by the caller.
        const embedded = go.pointer ? undefined : this.#embedded(name, go.go);
        if (embedded !== undefined && depth < 8) this.#addFields(fields, covered, embedded, this.#facts().get(embedded), schema, shapeOf, depth + 1);
        continue;
      }
      const fieldSchema = schema.properties?.[field] ?? this.#schemas.get(name)?.properties?.[field];
      const shape = fieldSchema === undefined ? RAW : shapeOf(fieldSchema);
      const rule = goJsonRule(go, isStructLike(shape));
      fields.push({ name: field, shape, rule: rule === 'inline' ? 'omitempty' : rule, omitEmpty: go.omitempty, omitZero: go.omitzero === true });
      covered.add(field);
    }
  }

  /**
   * The definition of an embedded struct's Go type as the facts of `parent` write it: a type of
   * the parent's package (`ProbeHandler`), else metav1's (`metav1.TypeMeta`, `v1.TypeMeta`, and
   * the `TypeMeta` of core/v1's List).
   */
  #embedded(parent: string, go: string): string | undefined {
    const dot = go.indexOf('.');
    const type = go.slice(dot + 1);
    const candidates = dot < 0 ? [`${parent.slice(0, parent.lastIndexOf('.'))}.${type}`, `${META}.${type}`] : [`${META}.${type}`];
    return candidates.find((c) => this.#facts().has(c));
  }

  #shapeOf(schema: Schema): Shape {
    const ref = SchemaSet.refName(schema);
    if (ref !== undefined) return this.#definition(ref);
    switch (schema.type) {
      case 'string':
        return schema.format === 'byte' ? { kind: 'bytes' } : schema.format === 'int-or-string' ? { kind: 'intOrString' } : { kind: 'string' };
      case 'integer':
      case 'number':
        return { kind: 'number' };
      case 'boolean':
        return { kind: 'bool' };
      case 'array':
        return { kind: 'slice', element: schema.items === undefined ? RAW : this.#shapeOf(schema.items) };
      case 'object':
        return schema.additionalProperties === undefined ? RAW : { kind: 'map', value: this.#shapeOf(schema.additionalProperties) };
      default:
        return RAW;
    }
  }

  /**
   * `value` (present, not null) decoded into `shape` and written again: the same value when
   * nothing changes. `depth` is the JSON nesting of `value`; past MAX_JSON_DEPTH it is left
   * as it is (a stored object nested that deep is no body's).
   */
  #value(value: unknown, shape: Shape, depth: number): unknown {
    switch (shape.kind) {
      case 'time': {
        if (typeof value !== 'string') return value;
        // Written by Go already (the usual case, read after read): as it is.
        if ((shape.micro ? WRITTEN_MICRO_TIME : WRITTEN_TIME).test(value) && !value.startsWith(GO_ZERO_TIME_DATE)) return value;
        const parsed = parseRFC3339(value);
        if ('error' in parsed) return value;
        if (parsed.zero) return null;
        return shape.micro ? formatRFC3339Micro(parsed.ms, parsed.fraction) : formatRFC3339(parsed.ms);
      }
      case 'quantity':
        return canonicalQuantity(value) ?? value;
      case 'bytes':
        if (typeof value === 'string') return canonicalBase64(value);
        // encoding/json also decodes a list of numbers into a []byte
        if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Buffer.from(value as number[]).toString('base64');
        return value;
      case 'slice': {
        if (!Array.isArray(value) || depth >= MAX_JSON_DEPTH) return value;
        const element = shape.element;
        const same = keepsValues(element);
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const given: unknown = value[i];
          if (same && given !== null) continue;
          const written = given === null || given === undefined ? zero(element) : this.#value(given, element, depth + 1);
          if (written !== given) (out ??= value.slice())[i] = written;
        }
        return out ?? value;
      }
      case 'map': {
        if (!isPlainObject(value) || depth >= MAX_JSON_DEPTH) return value;
        const values = shape.value;
        const same = keepsValues(values);
        let changed: Map<string, unknown> | undefined;
        for (const key in value) {
          const given = value[key];
          if (same && given !== null) continue;
          const written = given === null || given === undefined ? zero(values) : this.#value(given, values, depth + 1);
          if (written !== given) (changed ??= new Map()).set(key, written);
        }
        if (changed === undefined) return value;
        const written = changed;
        // fromEntries defines each key as an own property, "__proto__" included.
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, written.has(k) ? written.get(k) : v]));
      }
      case 'struct':
        return isPlainObject(value) && depth < MAX_JSON_DEPTH ? this.#struct(value, shape, depth) : value;
      default:
        return value;
    }
  }

  #struct(value: Record<string, unknown>, shape: StructShape, depth: number): Record<string, unknown> {
    const fields = shape.fields;
    // Built on the first change only: an object in shape is walked, never copied.
    let out: Record<string, unknown> | undefined;
    let kept = 0;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      // (No kube field is named as a property of Object.prototype: a missing field reads undefined.)
      const given = value[field.name];
      const written = this.#field(given, field, depth);
      if (out === undefined) {
        if (written === OMIT ? given === undefined : written === given) {
          if (given !== undefined) kept++;
          continue;
        }
        out = {};
        for (let j = 0; j < i; j++) {
          const name = fields[j]!.name;
          if (value[name] !== undefined) out[name] = value[name];
        }
      }
      if (written !== OMIT) out[field.name] = written;
    }
    if (out !== undefined) return out;
    let own = 0;
    for (const _ in value) own++;
    if (own === kept) return value;
    // Fields the struct does not have: dropped.
    out = {};
    for (const { name } of fields) if (value[name] !== undefined) out[name] = value[name];
    return out;
  }

  /** What a field holding `given` (undefined when absent) is written as, or OMIT. */
  #field(given: unknown, field: GoField, depth: number): unknown {
    const written = this.#written(given, field, depth);
    return field.omitZero && written !== OMIT && isZero(written, field.shape) ? OMIT : written;
  }

  #written(given: unknown, field: GoField, depth: number): unknown {
    const nil = given === null || given === undefined;
    switch (field.rule) {
      case 'pointer':
        if (nil) return field.omitEmpty ? OMIT : null;
        return this.#value(given, field.shape, depth + 1);
      case 'always':
        return nil ? zero(field.shape) : this.#value(given, field.shape, depth + 1);
      case 'omitempty': {
        if (nil) return OMIT;
        const written = this.#value(given, field.shape, depth + 1);
        return isEmpty(written) ? OMIT : written;
      }
    }
  }
}
