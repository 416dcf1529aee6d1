/**
 * JSON objects to Kubernetes' protobuf messages: the inverse of protobuf.ts's decoding, over the
 * same plans (the generated messages of proto/k8s/generated/ with the Go facts of go.json).
 *
 * What kube-apiserver writes for an object is what Go's encoding/json makes of the JSON (the
 * typed struct) marshalled by go-to-protobuf; so is what this writes:
 * - fields in field-number order; map entries by key in byte order, key and value always;
 *   repeated numbers unpacked (the messages are proto2, none asks for packing).
 * - A Go value field (no pointer) is written whatever its value, its zero when the JSON leaves it
 *   out: a scalar's zero, a struct's message of its own zeros (go-to-protobuf writes every such
 *   field); a []byte when present. A pointer field (or one without Go facts) is written when the
 *   JSON has it (null is absent, as for encoding/json).
 * - An inline struct (`json:",inline"`) is its own message on the wire, filled from the parent's
 *   JSON fields.
 * - The messages with custom JSON: Time and MicroTime from RFC 3339 (seconds and nanos, both
 *   written; Go's zero time and an absent time are an empty message), Duration from Go's
 *   duration text (to the nanosecond a double of milliseconds holds), Quantity as its canonical
 *   text (Quantity.String(), lib/kinds/quantity.ts, as the decoder writes it; absent: "0"),
 *   IntOrString from a number or a string,
 *   FieldsV1, RawExtension and apiextensions JSON as the JSON text of their value, the
 *   JSON-or-schema types from whichever form the JSON has, named lists (metav1.Verbs) from an array.
 * - Fields the message does not have (apiVersion, kind, unknown fields) are left out, as Go's
 *   typed decoding drops them.
 * A value its field cannot hold (a string where a number belongs) is an InternalError naming
 * the field: objects are checked against their schema before they are stored, so it means the
 * stored object and the generated messages disagree.
 */
import { Buffer } from 'node:buffer';
import { StatusError } from '../../../lib/errors.ts';
import { parseRFC3339 } from '../../../lib/go-time.ts';
import { isPlainObject } from '../../../lib/kube.ts';
import { canonicalQuantity } from '../../../lib/kinds/quantity.ts';
import { compareUtf8, type FieldPlan, type KubeProtobufDecoder, type MessagePlan, type ScalarType } from './protobuf.ts';
import { parseGoDuration } from './query.ts';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;

/** A value that cannot be encoded: becomes an InternalError naming the message. */
class EncodeError extends Error {}

/** The bytes of one message as a list of chunks, concatenated once at the end. */
class Chunks {
  readonly parts: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }

  append(other: Chunks): void {
    for (const b of other.parts) this.parts.push(b);
    this.length += other.length;
  }
}

function varint(value: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  if (v < 0x80n) return Buffer.from([Number(v)]);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function tag(number: number, wire: number): Buffer {
  return varint((number << 3) | wire);
}

/** Writes a length-delimited field. */
function delimited(out: Chunks, number: number, body: Chunks | Buffer): void {
  out.push(tag(number, WIRE_BYTES));
  out.push(varint(body.length));
  if (body instanceof Chunks) out.append(body);
  else out.push(body);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new EncodeError(`${path}: ${describe(value)} (${String(value)}) where an integer belongs`);
  }
  return value;
}

/** A scalar's bytes on the wire (its tag not included). */
function scalarBytes(type: ScalarType, value: unknown, path: string): Buffer {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw new EncodeError(`${path}: ${describe(value)} where a string belongs`);
      return Buffer.concat([varint(Buffer.byteLength(value)), Buffer.from(value, 'utf8')]);
    case 'bytes': {
      if (typeof value !== 'string') throw new EncodeError(`${path}: ${describe(value)} where base64 bytes belong`);
      const bytes = Buffer.from(value, 'base64');
      return Buffer.concat([varint(bytes.length), bytes]);
    }
    case 'bool':
      if (typeof value !== 'boolean') throw new EncodeError(`${path}: ${describe(value)} where a boolean belongs`);
      return varint(value ? 1 : 0);
    case 'int32':
      return varint(integer(value, path, -(2 ** 31), 2 ** 31 - 1));
    case 'int64':
      // Every whole double within int64 is written exactly (a stored 2^60 is a double above the
      // safe integers, and is the int64 Go holds); 2^63 itself is not an int64.
      if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) return varint(BigInt(value));
      return varint(integer(value, path, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    case 'double': {
      if (typeof value !== 'number') throw new EncodeError(`${path}: ${describe(value)} where a number belongs`);
      const b = Buffer.alloc(8);
      b.writeDoubleLE(value);
      return b;
    }
  }
}

function scalarZero(type: ScalarType): unknown {
  switch (type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

function wireOf(field: FieldPlan): number {
  if (field.type.message !== undefined) return WIRE_BYTES;
  const { scalar } = field.type;
  return scalar === 'string' || scalar === 'bytes' ? WIRE_BYTES : scalar === 'double' ? WIRE_FIXED64 : WIRE_VARINT;
}

/** One element of a field (a single value, a list item, a map value) with its tag. */
function writeElement(out: Chunks, number: number, field: FieldPlan, value: unknown, path: string): void {
  const { message, scalar } = field.type;
  if (message !== undefined) {
    delimited(out, number, messageChunks(message, value, path));
    return;
  }
  out.push(tag(number, wireOf(field)));
  out.push(scalarBytes(scalar, value ?? scalarZero(scalar), path));
}

/** The fields of a plan in field-number order, with their numbers (kept on the plan's map). */
const ordered = new WeakMap<MessagePlan, [number, FieldPlan][]>();
function fieldsInOrder(plan: MessagePlan): [number, FieldPlan][] {
  let fields = ordered.get(plan);
  if (fields === undefined) {
    fields = [...plan.byNumber.entries()].sort((a, b) => a[0] - b[0]);
    ordered.set(plan, fields);
  }
  return fields;
}

/** A message's body from its JSON value (undefined: absent, encoded as Go's zero value). */
function messageChunks(plan: MessagePlan, value: unknown, path: string): Chunks {
  if (value === null) value = undefined;
  if (plan.list) return namedList(plan, value, path);
  if (plan.special !== undefined) return special(plan, value, path);
  if (value !== undefined && !isPlainObject(value)) throw new EncodeError(`${path}: ${describe(value)} where an object belongs`);
  const object = (value ?? {}) as Record<string, unknown>;
  const out = new Chunks();
  for (const [number, field] of fieldsInOrder(plan)) {
    if (field.json === 'inline') {
      delimited(out, number, messageChunks(field.type.message!, object, path));
      continue;
    }
    const fieldPath = path === '' ? field.jsonName : `${path}.${field.jsonName}`;
    const v = object[field.jsonName];
    writeField(out, number, field, v === null ? undefined : v, fieldPath);
  }
  return out;
}

function writeField(out: Chunks, number: number, field: FieldPlan, value: unknown, path: string): void {
  switch (field.shape) {
    case 'single':
      if (value !== undefined) writeElement(out, number, field, value, path);
      // go-to-protobuf writes a value field's zero, but a nil []byte not at all
      else if (field.goValue && field.type.scalar !== 'bytes') writeElement(out, number, field, undefined, path);
      return;
    case 'repeated': {
      if (value === undefined) return;
      if (!Array.isArray(value)) throw new EncodeError(`${path}: ${describe(value)} where an array belongs`);
      value.forEach((v, i) => writeElement(out, number, field, v ?? undefined, `${path}[${i}]`));
      return;
    }
    case 'map': {
      if (value === undefined) return;
      if (!isPlainObject(value)) throw new EncodeError(`${path}: ${describe(value)} where an object belongs`);
      for (const key of Object.keys(value).sort(compareUtf8)) {
        const entry = new Chunks();
        entry.push(tag(1, WIRE_BYTES));
        entry.push(scalarBytes('string', key, path));
        writeElement(entry, 2, field, value[key] ?? undefined, `${path}[${JSON.stringify(key)}]`);
        delimited(out, number, entry);
      }
      return;
    }
  }
}

/** A named Go list carried as a message with `items` (metav1.Verbs): its JSON is the list. */
function namedList(plan: MessagePlan, value: unknown, path: string): Chunks {
  const out = new Chunks();
  const items = plan.fields.find((f) => f.name === 'items');
  if (value === undefined || items === undefined) return out;
  if (!Array.isArray(value)) throw new EncodeError(`${path}: ${describe(value)} where an array belongs`);
  const [number] = [...plan.byNumber.entries()].find(([, f]) => f === items)!;
  writeField(out, number, items, value, path);
  return out;
}

/** The field of a special message called `name`, with its number. */
function fieldNamed(plan: MessagePlan, name: string): [number, FieldPlan] {
  const found = [...plan.byNumber.entries()].find(([, f]) => f.name === name);
  if (found === undefined) throw new Error(`${plan.name} has no field ${name}`);
  return found;
}

function put(out: Chunks, plan: MessagePlan, name: string, value: unknown, path: string): void {
  const [number, field] = fieldNamed(plan, name);
  writeField(out, number, field, value, path);
}

/** JSON text carried as bytes (RawExtension, FieldsV1, apiextensions JSON): as base64 for the bytes field. */
function jsonText(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

function timestamp(out: Chunks, plan: MessagePlan, value: unknown, path: string, micro: boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'string') throw new EncodeError(`${path}: ${describe(value)} where a time belongs`);
  const parsed = parseRFC3339(value);
  if ('error' in parsed) throw new EncodeError(`${path}: ${parsed.error}`);
  if (parsed.zero) return;
  const seconds = Math.floor(parsed.ms / 1000);
  let nanos = (parsed.ms - seconds * 1000) * 1_000_000 + Math.round(parsed.fraction * 1_000_000);
  if (micro) nanos = Math.trunc(nanos / 1000) * 1000;
  put(out, plan, 'seconds', seconds, path);
  put(out, plan, 'nanos', nanos, path);
}

function special(plan: MessagePlan, value: unknown, path: string): Chunks {
  const out = new Chunks();
  switch (plan.special!) {
    case 'Time':
      timestamp(out, plan, value, path, false);
      break;
    case 'MicroTime':
      timestamp(out, plan, value, path, true);
      break;
    case 'Duration': {
      let ns = 0;
      if (value !== undefined) {
        if (typeof value !== 'string') throw new EncodeError(`${path}: ${describe(value)} where a duration belongs`);
        const parsed = parseGoDuration(value);
        if ('error' in parsed) throw new EncodeError(`${path}: ${parsed.error}`);
        ns = Math.round(parsed.ms * 1_000_000);
      }
      put(out, plan, 'duration', ns, path);
      break;
    }
    case 'Quantity': {
      if (value !== undefined && typeof value !== 'string' && typeof value !== 'number') {
        throw new EncodeError(`${path}: ${describe(value)} where a quantity belongs`);
      }
      put(out, plan, 'string', value === undefined ? '0' : (canonicalQuantity(value) ?? String(value)), path);
      break;
    }
    case 'IntOrString': {
      if (value !== undefined && typeof value !== 'string' && typeof value !== 'number') {
        throw new EncodeError(`${path}: ${describe(value)} where an integer or a string belongs`);
      }
      const isString = typeof value === 'string';
      put(out, plan, 'type', isString ? 1 : 0, path);
      put(out, plan, 'intVal', isString || value === undefined ? 0 : value, path);
      put(out, plan, 'strVal', isString ? value : '', path);
      break;
    }
    case 'FieldsV1':
      if (value !== undefined) put(out, plan, 'Raw', jsonText(value), path);
      break;
    case 'RawExtension':
    case 'JSON':
      if (value !== undefined) put(out, plan, 'raw', jsonText(value), path);
      break;
    case 'JSONSchemaPropsOrArray':
      if (Array.isArray(value)) put(out, plan, 'jSONSchemas', value, path);
      else if (value !== undefined) put(out, plan, 'schema', value, path);
      break;
    case 'JSONSchemaPropsOrBool':
      if (typeof value === 'boolean' || value === undefined) put(out, plan, 'allows', value ?? false, path);
      else {
        put(out, plan, 'allows', true, path);
        put(out, plan, 'schema', value, path);
      }
      break;
    case 'JSONSchemaPropsOrStringArray':
      if (Array.isArray(value)) put(out, plan, 'property', value, path);
      else if (value !== undefined) put(out, plan, 'schema', value, path);
      break;
  }
  return out;
}

/**
 * One length-delimited field (`number`, its length, `body`): appended to an encoded message, it
 * sets that field (a message field: merges into it), as protobuf's concatenation rule says.
 */
export function lengthDelimitedField(number: number, body: Buffer): Buffer {
  return Buffer.concat([tag(number, WIRE_BYTES), varint(body.length), body]);
}

/**
 * Encodes JSON objects as generated messages, with the plans of a KubeProtobufDecoder (built on
 * first use of a message and kept as long as the decoder).
 */
export class KubeProtobufEncoder {
  readonly #decoder: KubeProtobufDecoder;

  constructor(decoder: KubeProtobufDecoder) {
    this.#decoder = decoder;
  }

  /**
   * `object` as the message `message` (e.g. `k8s.io.api.apps.v1.Deployment`), without an
   * envelope: what kube-apiserver's protobuf serializer writes as the envelope's raw object.
   * Throws InternalError when a value cannot be held by its field (see the module's doc).
   */
  encode(message: string, object: unknown): Buffer {
    const plan = this.#decoder.plan(message);
    try {
      const chunks = messageChunks(plan, object, '');
      return Buffer.concat(chunks.parts, chunks.length);
    } catch (err) {
      if (err instanceof EncodeError) throw new StatusError('InternalError', `the object cannot be encoded as ${message}: ${err.message}`);
      throw err;
    }
  }
}
