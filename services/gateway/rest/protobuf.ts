/**
 * Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`).
 *
 * kubectl 1.32 and later send typed objects this way (e.g. `kubectl create namespace|configmap|
 * secret`). We store JSON, so a body is turned into the JSON object kube-apiserver would see: the
 * one Go's encoding/json writes for the struct the body decodes into.
 *
 * A body is the magic `k8s\x00` followed by a runtime.Unknown: the TypeMeta (apiVersion, kind)
 * and, in `raw`, the object encoded by go-to-protobuf. The schema is the generated messages of
 * proto/k8s/generated/ (one file per upstream package, written by `make gen-kinds` from the Go
 * types), read with protobufjs; every kind of the generated data (a definition with
 * x-kubernetes-group-version-kind and a protobuf message) can be decoded: which kinds are served
 * is the registry's business. Nothing is read at module load: the first body of a kind loads the
 * .proto files its message needs (with their imports) and compiles the plans of the messages it
 * reaches, kept for the life of the process (see {@link KubeProtobufDecoder}). The wire format is read here rather than by protobufjs' generated
 * decoder, to be as strict as Go's generated unmarshallers (wire types are checked, lengths are
 * never truncated or wrapped) and to keep what JSON needs and the decoder hides: whether a
 * field was on the wire at all, and how long a Time's body was.
 *
 * From the decoded object to JSON, what encoding/json does with the Go struct, whose facts
 * (omitempty, pointer, inline) come from lib/kinds/generated/go.json, by the rules of
 * lib/kinds/go-json.ts (goJsonRule), which the JSON path's shaping of objects follows too:
 * - go-to-protobuf writes every non-pointer field, zero or not, so presence on the wire says
 *   nothing about a Go value field: a string/number/bool value field with `omitempty` is omitted
 *   when zero, one without `omitempty` is always written (zero when absent); a pointer field
 *   (`*bool`, `*int64`, `*T`) is written exactly when it was present; a struct value field is
 *   always written (`{}` at least, since omitempty never omits a struct).
 * - An inline embedded struct (`json:",inline"`, a message of its own on the wire): its fields
 *   are written into the parent's object.
 * - JSON names are the Go struct's json tags, which may differ from the protobuf names
 *   (JSONSchemaProps' `$ref`, `x-kubernetes-preserve-unknown-fields`; admissionregistration's
 *   `webhooks`, carried as `Webhooks`).
 * - Time: RFC 3339 in UTC, whole seconds (Go's protobuf unmarshalling drops the nanos).
 *   MicroTime: RFC 3339 in UTC with microseconds. Duration: Go's time.Duration String form.
 *   IntOrString: its number or its string. RawExtension: its raw bytes, which must be JSON.
 *   A named list carried as a message (metav1.Verbs): its `items`. apiextensions' JSON: its raw
 *   bytes, which must be JSON (none: null); JSONSchemaPropsOrArray: its list when not empty, else
 *   its schema; JSONSchemaPropsOrBool: its schema when present, else its boolean;
 *   JSONSchemaPropsOrStringArray: its list when not empty, else its schema, else null.
 * - double: a JSON number (NaN and infinities, which encoding/json refuses, are errors).
 * - bytes: standard base64. int64: a JSON number. Quantity: its canonical text, as Go writes it
 *   back (`1000m` -> `1`; lib/kinds/quantity.ts).
 * - maps and lists: omitted when empty; maps with sorted keys. Repeated numbers are read packed
 *   or not, as Go's unmarshallers do.
 * - Where encoding/json would write `null` (a zero Time, a nil list or map without omitempty)
 *   the field is omitted instead: null and absent decode the same.
 */
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as protobufjs from 'protobufjs';
import { badRequest, StatusError } from '../../../lib/errors.ts';
import { goJsonRule, type GoJsonRule } from '../../../lib/kinds/go-json.ts';
import { formatQuantity, parseQuantity } from '../../../lib/kinds/quantity.ts';
import { readGoFacts, schemaFileOf, SchemaSet, type GoDefinitionFacts, type GoFieldFacts } from '../../../lib/kinds/schemas.ts';
import { checkUntrustedJson, MAX_JSON_DEPTH, parsedSizeEstimate, rfc3339, scanJson } from '../../../lib/kube.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** `k8s\x00` */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));
const SCHEMA_DIR = 'k8s/generated';

const UNSUPPORTED_MESSAGE =
  'the body of the request was in an unknown format - accepted media types include: application/json, application/vnd.kubernetes.protobuf';

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const APIEXT = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1';
const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';

/** Messages whose JSON is not an object (custom Go marshallers): see messageJson. */
const SPECIAL_MESSAGES: ReadonlyMap<string, Special> = new Map<string, Special>([
  [`${META}.Time`, 'Time'],
  [`${META}.MicroTime`, 'MicroTime'],
  [`${META}.Duration`, 'Duration'],
  [`${META}.FieldsV1`, 'FieldsV1'],
  ['k8s.io.apimachinery.pkg.api.resource.Quantity', 'Quantity'],
  ['k8s.io.apimachinery.pkg.util.intstr.IntOrString', 'IntOrString'],
  ['k8s.io.apimachinery.pkg.runtime.RawExtension', 'RawExtension'],
  [`${APIEXT}.JSON`, 'JSON'],
  [`${APIEXT}.JSONSchemaPropsOrArray`, 'JSONSchemaPropsOrArray'],
  [`${APIEXT}.JSONSchemaPropsOrBool`, 'JSONSchemaPropsOrBool'],
  [`${APIEXT}.JSONSchemaPropsOrStringArray`, 'JSONSchemaPropsOrStringArray'],
]);

export type Special =
  | 'Time'
  | 'MicroTime'
  | 'Duration'
  | 'FieldsV1'
  | 'Quantity'
  | 'IntOrString'
  | 'RawExtension'
  | 'JSON'
  | 'JSONSchemaPropsOrArray'
  | 'JSONSchemaPropsOrBool'
  | 'JSONSchemaPropsOrStringArray';

// ---- the schema, compiled to decoding plans ----

export type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'int64' | 'double';
const SCALAR_TYPES: ReadonlySet<string> = new Set<ScalarType>(['string', 'bytes', 'bool', 'int32', 'int64', 'double']);

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

/** A field's element type: a scalar, or a message. */
export type ElementType = { scalar: ScalarType; message?: undefined } | { scalar?: undefined; message: MessagePlan };

export interface FieldPlan {
  /** The proto name: the key of the decoded values. */
  readonly name: string;
  /** The JSON name (the Go field's json tag; the proto name where there are no Go facts). */
  readonly jsonName: string;
  /** `Message.field`, for error messages. */
  readonly path: string;
  readonly shape: 'single' | 'repeated' | 'map';
  /** The element type; of the value for a map (whose keys are strings). */
  readonly type: ElementType;
  /** The wire type of one element (a map entry: bytes). */
  readonly wire: number;
  /**
   * Go's JSON rule for a single field: 'always' (a value without omitempty, or a struct value),
   * 'pointer' (written exactly when present), 'omitempty' (omitted when zero), 'inline'.
   */
  readonly json: GoJsonRule;
  /**
   * A Go field that is no pointer (from the Go facts): go-to-protobuf writes it whatever its
   * value, zero included (a []byte: whenever it is not nil). False where there are no facts.
   */
  readonly goValue: boolean;
}

export interface MessagePlan {
  /** The fully qualified message name. */
  readonly name: string;
  readonly special?: Special;
  /** A named Go list carried as a message with `items` (metav1.Verbs): its JSON is the list. */
  readonly list: boolean;
  readonly byNumber: Map<number, FieldPlan>;
  /** Declaration order: Go struct order, the order of the JSON. */
  readonly fields: FieldPlan[];
  /** How many JSON values the object of an empty message of this type has (see zeroValues). */
  zeroValues?: number;
}

// ---- the wire format ----

/** A malformed body: becomes a BadRequest. */
class WireError extends Error {}

/** A decoded message: the fields present on the wire, by name, and the length of its body. */
interface Decoded {
  readonly plan: MessagePlan;
  readonly values: Map<string, Value>;
  size: number;
  /**
   * The JSON nesting level its value takes in the decoded object (the object itself is at 1);
   * what embedded JSON (RawExtension, apiextensions JSON) may add to it is bounded by it.
   */
  at?: number;
}

/** The JSON path's answer (lib/kube.ts checkUntrustedJson) to a body nested too deeply. */
function nestedTooDeeply(): StatusError {
  return badRequest(`the body of the request is nested too deeply: at most ${MAX_JSON_DEPTH} levels of objects and arrays are allowed`);
}

/**
 * Messages nested deeper than this on the wire are refused whatever their JSON: a bound on the
 * recursion of decoding (measured: a body this deep decodes within 600 KB of V8's 984 KB
 * stack; twice as deep overflows it). A JSON level is one message, or two for a JSON-or-schema
 * type and its schema, so a chain of `items` or `additionalProperties` schemas deeper than
 * about MAX_JSON_DEPTH / 2 is refused here although its JSON would pass: no real object comes
 * near either.
 */
const MAX_WIRE_DEPTH = MAX_JSON_DEPTH;

/**
 * What a decoded message holds while the body is decoded (its Decoded and that one's Map), in
 * JSON values of parsedSizeEstimate's 64 bytes. Measured: 1.5 million empty messages in a
 * 3 MB body (containers of a Pod, versions of a CRD) took 315-390 bytes each at the peak.
 */
const MESSAGE_VALUES = 4;

/** JSON values counted between two reservations from the budget. */
const RESERVE_STEP = 4096;

/**
 * The most JSON values one protobuf body may decode into. Decoding costs a few microseconds per
 * value, all of it synchronous: without a bound, a 3 MiB body of empty messages (1.5 million of
 * them) holds the gateway for seconds, whatever the budget says. No real object comes near it
 * (a ConfigMap of 50,000 keys is about 100,000 values); the JSON path's cost is bounded by the
 * parser's speed instead.
 */
export const MAX_PROTOBUF_VALUES = 250_000;

/**
 * What the decoding of one body has taken so far: how deeply its messages nest on the wire
 * (refused past MAX_WIRE_DEPTH), and about how many JSON values the object will have (each
 * field on the wire, and the values Go writes for an empty message: a two-byte empty message
 * can stand for an object of many zero fields), reserved from the budget as they grow.
 */
class DecodeCost {
  readonly #bodyLength: number;
  readonly #reserve: (bytes: number) => void;
  #values = 0;
  #reservedFor = 0;
  wireDepth = 0;

  constructor(bodyLength: number, reserve: (bytes: number) => void) {
    this.#bodyLength = bodyLength;
    this.#reserve = reserve;
    this.#reserve(parsedSizeEstimate(bodyLength, { values: 1 }));
  }

  /** Counts `n` more values; reserves ahead once past what was reserved for (throws 429 when the budget is full). */
  count(n: number): void {
    this.#values += n;
    if (this.#values > MAX_PROTOBUF_VALUES) {
      throw new StatusError('RequestEntityTooLarge', `Request entity too large: limit is ${MAX_PROTOBUF_VALUES} values in a protobuf body`);
    }
    if (this.#values <= this.#reservedFor) return;
    this.#reservedFor = this.#values + RESERVE_STEP;
    this.#reserve(parsedSizeEstimate(this.#bodyLength, { values: this.#reservedFor }));
  }
}

/**
 * How many JSON values the object of an empty message has: the fields Go always writes (struct
 * values and scalars without omitempty), with theirs. Kept on the plan once counted.
 */
function zeroValues(p: MessagePlan): number {
  if (p.zeroValues !== undefined) return p.zeroValues;
  p.zeroValues = 1; // a Go struct cannot hold itself by value; this only guards a broken plan
  let n = 1;
  if (p.special === undefined && !p.list) {
    for (const field of p.fields) {
      if (field.json === 'inline') n += zeroValues(field.type.message!);
      else if (field.json === 'always' && field.shape === 'single') n += field.type.message === undefined ? 1 : zeroValues(field.type.message);
    }
  }
  p.zeroValues = n;
  return n;
}

type ScalarValue = string | Buffer | boolean | number | bigint;
type ElementValue = ScalarValue | Decoded;
type Value = ElementValue | ElementValue[] | Map<string, ElementValue>;

class Reader {
  readonly buf: Buffer;
  pos: number;

  constructor(buf: Buffer) {
    this.buf = buf;
    this.pos = 0;
  }

  /** A varint as an unsigned 64-bit value, as Go reads it (at most 10 bytes). */
  varint(end: number): bigint {
    if (this.pos < end && this.buf[this.pos]! < 0x80) return BigInt(this.buf[this.pos++]!);
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new WireError('unexpected EOF');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new WireError('integer overflow');
  }

  /** The end of a length-delimited value starting here. */
  delimited(end: number): number {
    const length = this.varint(end);
    if (length > BigInt(end - this.pos)) throw new WireError('unexpected EOF');
    return this.pos + Number(length);
  }

  advance(n: number, end: number): void {
    if (n > end - this.pos) throw new WireError('unexpected EOF');
    this.pos += n;
  }

  /** Skips an unknown field whose tag was just read (groups included, as Go's skipGenerated does). */
  skip(wire: number, end: number): void {
    let depth = 0;
    for (;;) {
      switch (wire) {
        case WIRE_VARINT:
          this.varint(end);
          break;
        case WIRE_FIXED64:
          this.advance(8, end);
          break;
        case WIRE_BYTES:
          this.pos = this.delimited(end);
          break;
        case WIRE_START_GROUP:
          depth++;
          break;
        case WIRE_END_GROUP:
          if (depth === 0) throw new WireError('unexpected end of group');
          depth--;
          break;
        case WIRE_FIXED32:
          this.advance(4, end);
          break;
        default:
          throw new WireError(`illegal wire type ${wire}`);
      }
      if (depth === 0) return;
      wire = this.tag(end).wire;
    }
  }

  tag(end: number): { field: number; wire: number } {
    const tag = this.varint(end);
    return { field: Number(BigInt.asIntN(32, tag >> 3n)), wire: Number(tag & 7n) };
  }
}

/**
 * Decodes a message whose value takes JSON level `at` (see Decoded.at), refusing what would nest
 * past MAX_JSON_DEPTH there, as the JSON path refuses such a body.
 */
function decodeMessage(p: MessagePlan, r: Reader, end: number, at: number, cost: DecodeCost, into?: Decoded): Decoded {
  // An object, or a list (Verbs), of its own at `at`. The special messages make none: their JSON
  // is a value (Time, Quantity), embedded JSON (checked where it is read) or one of their fields
  // (the JSON-or-schema types), at their own level.
  if (p.special === undefined && at > MAX_JSON_DEPTH) throw nestedTooDeeply();
  if (++cost.wireDepth > MAX_WIRE_DEPTH) throw nestedTooDeeply();
  cost.count(into === undefined ? MESSAGE_VALUES + zeroValues(p) : 0);
  const decoded = into ?? { plan: p, values: new Map(), size: 0, at };
  // the level of its fields' values: inside its object, or where it is for what passes through
  const inside = p.special === undefined && !p.list ? at + 1 : at;
  decoded.size += end - r.pos;
  while (r.pos < end) {
    const { field: number, wire } = r.tag(end);
    if (number <= 0) throw new WireError(`${p.name}: illegal tag ${number} (wire type ${wire})`);
    if (wire === WIRE_END_GROUP) throw new WireError(`${p.name}: wire type end group for non-group`);
    const field = p.byNumber.get(number);
    if (field === undefined) {
      r.skip(wire, end);
      continue;
    }
    const { values } = decoded;
    cost.count(1);
    // a list or a map is a level of its own, its elements one further
    if (field.shape !== 'single' && inside > MAX_JSON_DEPTH) throw nestedTooDeeply();
    if (wire === WIRE_BYTES && field.wire !== WIRE_BYTES && field.shape === 'repeated') {
      // packed numbers, which Go's unmarshallers take for any repeated number
      let list = values.get(field.name) as ElementValue[] | undefined;
      if (list === undefined) values.set(field.name, (list = []));
      const packedEnd = r.delimited(end);
      while (r.pos < packedEnd) {
        list.push(decodeElement(field.type, r, packedEnd, inside + 1, cost));
        cost.count(1);
      }
      continue;
    }
    if (wire !== field.wire) throw new WireError(`wrong wire type ${wire} for field ${field.path}`);
    switch (field.shape) {
      case 'single': {
        const message = field.type.message;
        // A message seen twice is merged into, as Go's Unmarshal does; a Time or MicroTime is replaced.
        const previous = values.get(field.name);
        const replaced = message?.special === 'Time' || message?.special === 'MicroTime';
        const merge = message !== undefined && !replaced ? (previous as Decoded | undefined) : undefined;
        // an inline struct's fields are its parent's: it sits where its parent does
        values.set(field.name, decodeElement(field.type, r, end, field.json === 'inline' ? at : inside, cost, merge));
        break;
      }
      case 'repeated': {
        let list = values.get(field.name) as ElementValue[] | undefined;
        if (list === undefined) values.set(field.name, (list = []));
        list.push(decodeElement(field.type, r, end, inside + 1, cost));
        break;
      }
      case 'map': {
        let map = values.get(field.name) as Map<string, ElementValue> | undefined;
        if (map === undefined) values.set(field.name, (map = new Map()));
        const [key, value] = decodeMapEntry(field, r, r.delimited(end), inside + 1, cost);
        map.set(key, value);
        break;
      }
    }
  }
  cost.wireDepth--;
  return decoded;
}

/** An element whose value takes JSON level `at`. */
function decodeElement(type: ElementType, r: Reader, end: number, at: number, cost: DecodeCost, into?: Decoded): ElementValue {
  if (type.message !== undefined) {
    const sub = r.delimited(end);
    const decoded = decodeMessage(type.message, r, sub, at, cost, into);
    r.pos = sub;
    return decoded;
  }
  switch (type.scalar) {
    case 'string':
    case 'bytes': {
      const sub = r.delimited(end);
      const start = r.pos;
      r.pos = sub;
      // Invalid UTF-8 becomes U+FFFD, as encoding/json writes it.
      return type.scalar === 'string' ? r.buf.toString('utf8', start, sub) : r.buf.subarray(start, sub);
    }
    case 'bool':
      return BigInt.asUintN(64, r.varint(end)) !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint(end)));
    case 'int64':
      return BigInt.asIntN(64, r.varint(end));
    case 'double': {
      const at = r.pos;
      r.advance(8, end);
      return r.buf.readDoubleLE(at);
    }
  }
}

/** A map entry: key = 1, value = 2, each defaulting to its zero value; the value at JSON level `at`. */
function decodeMapEntry(field: FieldPlan, r: Reader, end: number, at: number, cost: DecodeCost): [string, ElementValue] {
  let key = '';
  let value: ElementValue | undefined;
  while (r.pos < end) {
    const { field: number, wire } = r.tag(end);
    if (number <= 0) throw new WireError(`${field.path}: illegal tag ${number} (wire type ${wire})`);
    if (number === 1) {
      if (wire !== WIRE_BYTES) throw new WireError(`wrong wire type ${wire} for the key of ${field.path}`);
      key = decodeElement({ scalar: 'string' }, r, end, at, cost) as string;
    } else if (number === 2) {
      if (wire !== field.wire) throw new WireError(`wrong wire type ${wire} for a value of ${field.path}`);
      value = decodeElement(field.type, r, end, at, cost);
    } else {
      r.skip(wire, end);
    }
  }
  if (value === undefined) {
    const { message, scalar } = field.type;
    if (message !== undefined && message.special === undefined && at > MAX_JSON_DEPTH) throw nestedTooDeeply();
    if (message !== undefined) cost.count(MESSAGE_VALUES + zeroValues(message));
    value = message !== undefined ? { plan: message, values: new Map(), size: 0, at } : scalar === 'bytes' ? Buffer.alloc(0) : '';
  }
  return [key, value];
}

// ---- to JSON ----

/** Go's zero time, 0001-01-01T00:00:00Z: encoding/json writes it as null. */
const GO_ZERO_TIME_SECONDS = -62135596800n;
/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years RFC 3339 can write. */
const MIN_TIME_SECONDS = -62167219200n;
const MAX_TIME_SECONDS = 253402300799n;

function messageToObject(d: Decoded): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of d.plan.fields) {
    if (field.json === 'inline') {
      // an embedded struct value: its fields, zero or not, as the parent's
      const { message } = field.type;
      const inner = (d.values.get(field.name) as Decoded | undefined) ?? { plan: message!, values: new Map(), size: 0 };
      Object.assign(out, messageToObject(inner));
      continue;
    }
    const json = fieldJson(field, d.values.get(field.name));
    if (json !== undefined) out[field.jsonName] = json;
  }
  return out;
}

function fieldJson(field: FieldPlan, value: Value | undefined): unknown {
  switch (field.shape) {
    case 'map': {
      const map = value as Map<string, ElementValue> | undefined;
      if (map === undefined || map.size === 0) return undefined;
      const keys = [...map.keys()].sort(compareUtf8);
      return Object.fromEntries(keys.map((k) => [k, elementJson(map.get(k)!) ?? null]));
    }
    case 'repeated': {
      const list = value as ElementValue[] | undefined;
      if (list === undefined || list.length === 0) return undefined;
      return list.map((v) => elementJson(v) ?? null);
    }
    case 'single': {
      const { message, scalar } = field.type;
      if (message !== undefined) {
        if (value !== undefined) {
          const json = elementJson(value as Decoded);
          return message.list && (json as unknown[]).length === 0 ? undefined : json;
        }
        return field.json === 'always' ? elementJson({ plan: message, values: new Map(), size: 0 }) : undefined;
      }
      if (value === undefined) return field.json === 'always' ? elementJson(zeroScalar(scalar)) : undefined;
      if (field.json === 'omitempty' && isZero(value as ScalarValue)) return undefined;
      return elementJson(value as ScalarValue);
    }
  }
}

/**
 * Orders strings by their UTF-8 bytes, as encoding/json sorts map keys. That is code point order,
 * which differs from UTF-16 code unit order only between a surrogate and U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) return surrogatesLast(x) - surrogatesLast(y);
    return x - y;
  }
  return a.length - b.length;
}

function surrogatesLast(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

function zeroScalar(type: ScalarType): ScalarValue {
  switch (type) {
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'bool':
      return false;
    case 'int32':
      return 0;
    case 'int64':
      return 0n;
    case 'double':
      return 0;
  }
}

function isZero(value: ScalarValue): boolean {
  return Buffer.isBuffer(value) ? value.length === 0 : value === '' || value === false || value === 0 || value === 0n;
}

function elementJson(value: ElementValue): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new WireError(`integer ${value} is out of the range JSON numbers hold exactly`);
    }
    return Number(value);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new WireError(`json: unsupported value: ${value}`);
  if (typeof value !== 'object') return value;
  return messageJson(value);
}

function messageJson(d: Decoded): unknown {
  if (d.plan.list) {
    const items = d.values.get('items') as ElementValue[] | undefined;
    return (items ?? []).map((v) => elementJson(v) ?? null);
  }
  switch (d.plan.special) {
    case 'Time':
      return timeJson(d);
    case 'MicroTime':
      return microTimeJson(d);
    case 'Duration':
      return goDuration((d.values.get('duration') as bigint | undefined) ?? 0n);
    case 'Quantity':
      return quantityJson(d);
    case 'FieldsV1':
      return embeddedJson(d, d.values.get('Raw') as Buffer | undefined, 'managedFields: fieldsV1 is not JSON');
    case 'RawExtension':
      return embeddedJson(d, d.values.get('raw') as Buffer | undefined, 'an embedded object (runtime.RawExtension) is not JSON');
    case 'IntOrString':
      return intOrStringJson(d);
    case 'JSON': {
      // apiextensions JSON.MarshalJSON: the raw bytes, or null when there are none
      const raw = d.values.get('raw') as Buffer | undefined;
      return raw === undefined || raw.length === 0 ? undefined : embeddedJson(d, raw, 'a JSON value (apiextensions JSON) is not JSON');
    }
    case 'JSONSchemaPropsOrArray': {
      const schemas = d.values.get('jSONSchemas') as ElementValue[] | undefined;
      if (schemas !== undefined && schemas.length > 0) return schemas.map((v) => elementJson(v) ?? null);
      const schema = d.values.get('schema') as Decoded | undefined;
      return schema === undefined ? undefined : messageJson(schema);
    }
    case 'JSONSchemaPropsOrBool': {
      const schema = d.values.get('schema') as Decoded | undefined;
      if (schema !== undefined) return messageJson(schema);
      return (d.values.get('allows') as boolean | undefined) ?? false;
    }
    case 'JSONSchemaPropsOrStringArray': {
      const property = d.values.get('property') as string[] | undefined;
      if (property !== undefined && property.length > 0) return property;
      const schema = d.values.get('schema') as Decoded | undefined;
      return schema === undefined ? undefined : messageJson(schema);
    }
    case undefined:
      return messageToObject(d);
  }
}

/** undefined for the zero time (an empty body, as metav1.Time.Unmarshal reads it, or Go's zero). */
function timeJson(d: Decoded): string | undefined {
  if (d.size === 0) return undefined;
  const seconds = (d.values.get('seconds') as bigint | undefined) ?? 0n;
  if (seconds === GO_ZERO_TIME_SECONDS) return undefined;
  if (seconds < MIN_TIME_SECONDS || seconds > MAX_TIME_SECONDS) throw new WireError(`time ${seconds}s is out of range`);
  return rfc3339(new Date(Number(seconds) * 1000));
}

/** MicroTime: microseconds kept (metav1.MicroTime.Unmarshal truncates the nanos to them). */
function microTimeJson(d: Decoded): string | undefined {
  if (d.size === 0) return undefined;
  const seconds = (d.values.get('seconds') as bigint | undefined) ?? 0n;
  const nanos = BigInt((d.values.get('nanos') as number | undefined) ?? 0);
  // time.Duration(nanos).Truncate(time.Microsecond) rounds towards zero, then time.Unix normalises
  const total = seconds * 1_000_000_000n + (nanos / 1000n) * 1000n;
  if (total === GO_ZERO_TIME_SECONDS * 1_000_000_000n) return undefined;
  const whole = total >= 0n ? total / 1_000_000_000n : -((-total + 999_999_999n) / 1_000_000_000n);
  if (whole < MIN_TIME_SECONDS || whole > MAX_TIME_SECONDS) throw new WireError(`time ${seconds}s is out of range`);
  const micros = (total - whole * 1_000_000_000n) / 1000n;
  return rfc3339(new Date(Number(whole) * 1000)).replace(/Z$/, `.${micros.toString().padStart(6, '0')}Z`);
}

/** Go's time.Duration.String. */
export function goDuration(d: bigint): string {
  if (d === 0n) return '0s';
  const neg = d < 0n;
  let u = neg ? -d : d;
  let out: string;
  const frac = (v: bigint, prec: number): [string, bigint] => {
    const scale = 10n ** BigInt(prec);
    const digits = (v % scale).toString().padStart(prec, '0').replace(/0+$/, '');
    return [digits === '' ? '' : `.${digits}`, v / scale];
  };
  if (u < 1_000_000_000n) {
    if (u < 1000n) out = `${u}ns`;
    else if (u < 1_000_000n) {
      const [f, w] = frac(u, 3);
      out = `${w}${f}\u00b5s`;
    } else {
      const [f, w] = frac(u, 6);
      out = `${w}${f}ms`;
    }
  } else {
    const [f, secs] = frac(u, 9);
    u = secs;
    out = `${u % 60n}${f}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** intstr.IntOrString.MarshalJSON: type 0 is the number, 1 the string. */
function intOrStringJson(d: Decoded): number | string {
  const type = (d.values.get('type') as bigint | undefined) ?? 0n;
  if (type === 0n) return (d.values.get('intVal') as number | undefined) ?? 0;
  if (type === 1n) return (d.values.get('strVal') as string | undefined) ?? '';
  throw new WireError('impossible IntOrString.Type');
}

/** Its text as Go writes it back: canonical (lib/kinds/quantity.ts). */
function quantityJson(d: Decoded): string {
  const s = d.values.get('string') as string | undefined;
  if (s === undefined) return '0';
  const parsed = parseQuantity(s);
  if ('error' in parsed) throw new WireError(`quantity ${JSON.stringify(s)}: ${parsed.error}`);
  return formatQuantity(parsed);
}

/**
 * FieldsV1 and RawExtension are JSON already; undefined when absent (Go writes null). The only
 * JSON a protobuf body carries: checked as a JSON body is (UTF-8, nesting) first, its nesting
 * counted from the level the message `d` holding it takes in the object.
 */
function embeddedJson(d: Decoded, raw: Buffer | undefined, notJson: string): unknown {
  if (raw === undefined) return undefined;
  checkUntrustedJson(raw);
  const room = MAX_JSON_DEPTH - ((d.at ?? 1) - 1);
  if (scanJson(raw, room).depth > room) throw nestedTooDeeply();
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new WireError(notJson);
  }
}

// ---- the decoder ----

/** The facts of a proto field: the Go field carrying its protobuf number, with its JSON name. */
function fieldFacts(facts: GoDefinitionFacts | undefined, number: number): { jsonName: string; go: GoFieldFacts } | undefined {
  for (const [jsonName, go] of Object.entries(facts?.fields ?? {})) if (go.protobuf === number) return { jsonName, go };
  return undefined;
}

/** protobufjs, required on first need: loading it is a cost every importer would pay otherwise. */
function loadProtobufjs(): typeof protobufjs {
  return createRequire(import.meta.url)('protobufjs') as typeof protobufjs;
}

/**
 * The decoding plans of the generated messages and the kinds they decode, built lazily: nothing
 * is read when constructed; a kind's lookup reads go.json and that kind's schema file; a
 * message's plan loads the .proto file defining it (and its imports) and compiles the plans of
 * every message it reaches. What is built is kept: an instance lives as long as its owner.
 */
export class KubeProtobufDecoder {
  readonly #protoDir: string;
  readonly #generatedDir: string | undefined;
  #root: protobufjs.Root | undefined;
  #lib: typeof protobufjs | undefined;
  #goFacts: ReadonlyMap<string, GoDefinitionFacts> | undefined;
  /** message -> definition name */
  #definitionOf: Map<string, string> | undefined;
  /** kind -> the definitions of that name carrying a protobuf message */
  #byKind: Map<string, string[]> | undefined;
  #schemas: SchemaSet | undefined;
  readonly #plans = new Map<string, MessagePlan>();
  /** `apiVersion/kind` -> message, for the kinds seen */
  readonly #kinds = new Map<string, string>();

  /**
   * @param protoDir the proto directory holding `k8s/generated/` (default: the committed one)
   * @param generatedDir the generated kind data, go.json and schemas/ (default: the committed one)
   */
  constructor(protoDir = PROTO_DIR, generatedDir?: string) {
    this.#protoDir = protoDir;
    this.#generatedDir = generatedDir;
  }

  /**
   * Decodes a kube protobuf request body into the JSON object kube-apiserver would see (apiVersion
   * and kind from the envelope's TypeMeta). Throws StatusError: UnsupportedMediaType
   * `the body of the request was in an unknown format - accepted media types include:
   * application/json, application/vnd.kubernetes.protobuf` for a kind it cannot decode; BadRequest
   * for a malformed body (bad magic, truncated, undecodable) or one whose object would nest
   * deeper than MAX_JSON_DEPTH (the JSON path's message). `reserve(bytes)` claims what the
   * decoded object will take from the gateway's budget, as it grows (it throws 429 when the
   * budget cannot take it).
   */
  decode(body: Uint8Array, reserve: (bytes: number) => void = () => {}): Record<string, unknown> {
    try {
      return this.#decode(Buffer.from(body.buffer, body.byteOffset, body.byteLength), reserve);
    } catch (err) {
      if (err instanceof StatusError) throw err;
      if (err instanceof WireError) throw badRequest(`unable to decode the protobuf body: ${err.message}`);
      throw StatusError.from(err);
    }
  }

  /**
   * Decodes one generated message (`message`, e.g. `k8s.io.api.apps.v1.Deployment`), without the
   * envelope, into its JSON object as decode() does the envelope's object (the typed gRPC API
   * carries objects so); the object has no apiVersion and kind, which are the caller's to add.
   * Throws as decode() does; InternalError for a message the generated data does not have.
   */
  decodeObject(message: string, bytes: Uint8Array, reserve: (bytes: number) => void = () => {}): Record<string, unknown> {
    try {
      const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const cost = new DecodeCost(body.length, reserve);
      return messageToObject(decodeMessage(this.plan(message), new Reader(body), body.length, 1, cost));
    } catch (err) {
      if (err instanceof StatusError) throw err;
      if (err instanceof WireError) throw badRequest(`unable to decode the protobuf message ${message}: ${err.message}`);
      throw StatusError.from(err);
    }
  }

  #decode(body: Buffer, reserve: (bytes: number) => void): Record<string, unknown> {
    // kube-apiserver's messages (k8s.io/apimachinery/pkg/runtime/serializer/protobuf).
    if (body.length === 0) throw badRequest('empty data');
    if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw badRequest(`provided data does not appear to be a protobuf message, expected prefix [${[...MAGIC].join(' ')}]`);
    }
    if (body.length === MAGIC.length) throw badRequest('empty body');

    const cost = new DecodeCost(body.length, reserve);
    const r = new Reader(body);
    r.pos = MAGIC.length;
    const unknown = decodeMessage(this.plan(UNKNOWN), r, body.length, 1, cost);
    const typeMeta = unknown.values.get('typeMeta') as Decoded | undefined;
    const apiVersion = (typeMeta?.values.get('apiVersion') as string | undefined) ?? '';
    const kind = (typeMeta?.values.get('kind') as string | undefined) ?? '';
    if (kind === '') throw badRequest("Object 'Kind' is missing in the protobuf envelope");
    if (apiVersion === '') throw badRequest("Object 'apiVersion' is missing in the protobuf envelope");
    const message = this.messageOf(apiVersion, kind);
    if (message === undefined) throw new StatusError('UnsupportedMediaType', UNSUPPORTED_MESSAGE);

    const raw = (unknown.values.get('raw') as Buffer | undefined) ?? Buffer.alloc(0);
    const object = decodeMessage(this.plan(message), new Reader(raw), raw.length, 1, cost);
    return { kind, apiVersion, ...messageToObject(object) };
  }

  #facts(): ReadonlyMap<string, GoDefinitionFacts> {
    if (this.#goFacts === undefined) {
      const facts = this.#generatedDir === undefined ? readGoFacts() : readGoFacts(this.#generatedDir);
      const definitionOf = new Map<string, string>();
      const byKind = new Map<string, string[]>();
      for (const [name, f] of facts) {
        if (f.protobufMessage === undefined) continue;
        definitionOf.set(f.protobufMessage, name);
        const kind = name.slice(name.lastIndexOf('.') + 1);
        byKind.set(kind, [...(byKind.get(kind) ?? []), name]);
      }
      this.#definitionOf = definitionOf;
      this.#byKind = byKind;
      this.#goFacts = facts;
    }
    return this.#goFacts;
  }

  /**
   * The message of a kind of the generated data (a definition whose x-kubernetes-group-version-kind
   * names it and that has a protobuf message), or undefined.
   */
  messageOf(apiVersion: string, kind: string): string | undefined {
    const key = `${apiVersion}/${kind}`;
    const known = this.#kinds.get(key);
    if (known !== undefined) return known;
    const parts = apiVersion.split('/');
    if (parts.length > 2) return undefined;
    const [group, version] = parts.length === 1 ? ['', parts[0]!] : [parts[0]!, parts[1]!];
    const facts = this.#facts();
    this.#schemas ??= this.#generatedDir === undefined ? new SchemaSet() : new SchemaSet(path.join(this.#generatedDir, 'schemas'));
    for (const name of this.#byKind!.get(kind) ?? []) {
      const gvks = this.#schemas.get(name)?.['x-kubernetes-group-version-kind'] ?? [];
      if (!gvks.some((g) => g.group === group && g.version === version && g.kind === kind)) continue;
      const message = facts.get(name)!.protobufMessage!;
      this.#kinds.set(key, message);
      return message;
    }
    return undefined;
  }

  /** The plan of a message (its .proto file loaded and the plans it reaches compiled on first use). */
  plan(name: string): MessagePlan {
    const known = this.#plans.get(name);
    if (known !== undefined) return known;
    // compiled into a map of their own and kept only when all compiled (plans refer to each other)
    const pending = new Map<string, MessagePlan>();
    const plan = this.#compile(name, pending);
    for (const [n, p] of pending) this.#plans.set(n, p);
    return plan;
  }

  #type(name: string): protobufjs.Type {
    this.#facts();
    const definition = this.#definitionOf!.get(name);
    const file = definition === undefined ? undefined : schemaFileOf(definition);
    if (file === undefined) throw new StatusError('InternalError', `no generated message ${name}`);
    this.#lib ??= loadProtobufjs();
    if (this.#root === undefined) {
      const root = new this.#lib.Root();
      root.resolvePath = (_origin, target) => path.join(this.#protoDir, target);
      this.#root = root;
    }
    // a file already loaded (itself or as an import) is not read again
    this.#root.loadSync(`${SCHEMA_DIR}/${file}.proto`, { keepCase: true });
    return this.#root.lookupType(name);
  }

  #compile(name: string, pending: Map<string, MessagePlan>): MessagePlan {
    const existing = this.#plans.get(name) ?? pending.get(name);
    if (existing !== undefined) return existing;
    const type = this.#type(name);
    const lib = this.#lib!;
    const facts = this.#facts().get(this.#definitionOf!.get(name)!);
    const special = SPECIAL_MESSAGES.get(name);
    const list = facts?.go?.startsWith('[]') === true;
    const plan: MessagePlan = { name, ...(special && { special }), list, byNumber: new Map(), fields: [] };
    pending.set(name, plan);
    for (const field of type.fieldsArray) {
      field.resolve();
      const key = `${type.name}.${field.name}`;
      const shape = field.map ? 'map' : field.repeated ? 'repeated' : 'single';
      if (field.map && (field as unknown as protobufjs.MapField).keyType !== 'string') throw new Error(`${key}: only string map keys are supported`);
      let elementType: ElementType;
      if (SCALAR_TYPES.has(field.type)) {
        elementType = { scalar: field.type as ScalarType };
      } else if (field.resolvedType instanceof lib.Type) {
        elementType = { message: this.#compile(field.resolvedType.fullName.slice(1), pending) };
      } else {
        throw new Error(`${key}: unsupported type ${field.type}`);
      }
      const wire =
        shape === 'map' || elementType.message !== undefined || elementType.scalar === 'string' || elementType.scalar === 'bytes'
          ? WIRE_BYTES
          : elementType.scalar === 'double'
            ? WIRE_FIXED64
            : WIRE_VARINT;
      // the special messages' JSON is their own (messageJson), not their fields'
      const found = plan.special === undefined ? fieldFacts(facts, field.id) : undefined;
      const go = found?.go;
      // Go's rule for the field (lib/kinds/go-json.ts); a message without facts is taken for a
      // pointer, and a nil list carried as a message (Go writes null) is left out, as every null.
      const struct = elementType.message !== undefined;
      let json: FieldPlan['json'];
      if (go === undefined) json = struct ? 'pointer' : 'omitempty';
      else json = elementType.message?.list === true && !go.inline && !go.pointer ? 'omitempty' : goJsonRule(go, struct);
      if (go?.inline === true && elementType.message === undefined) throw new Error(`${key}: an inline field that is not a message`);
      const jsonName = found === undefined || go!.inline ? field.name : found.jsonName;
      const fieldPlan: FieldPlan = { name: field.name, jsonName, path: key, shape, type: elementType, wire, json, goValue: go !== undefined && !go.pointer };
      plan.byNumber.set(field.id, fieldPlan);
      plan.fields.push(fieldPlan);
    }
    return plan;
  }
}
