/**
 * The Kubernetes object shapes the control plane reads. Objects are open JSON: only the
 * fields the control plane itself touches are typed; everything else round-trips untouched.
 */
import { isUtf8 } from 'node:buffer';
import { badRequest } from './errors.ts';

/** metav1.ObjectMeta, the fields the control plane reads or sets. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [field: string]: unknown;
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `object` as read at `revision`: a copy whose metadata.resourceVersion is that revision (a
 * stored object's resourceVersion is the revision it was written at). Nested values are shared.
 */
export function withResourceVersion(object: Record<string, unknown>, revision: number | string): KubeObject {
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  return { ...object, metadata: { ...metadata, resourceVersion: String(revision) } } as KubeObject;
}

/** Parses a JSON object from the wire; BadRequest when it is not a JSON object. */
export function parseObjectBytes(bytes: Uint8Array): KubeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    // V8's parse message quotes part of the body: never echo a body back.
    throw badRequest('the body of the request was in an unknown format: it is not valid JSON');
  }
  if (!isPlainObject(parsed)) throw badRequest('the body of the request must be a JSON object');
  return parsed as KubeObject;
}

/** The hidden property under which parseEncodedObject keeps the bytes an object came from. */
const ENCODED_JSON = Symbol('encodedJson');

/**
 * parseObjectBytes for bytes that are JSON.stringify's output (objectBytes: an answer of the
 * storage service), which keeps the bytes with the object (a hidden, non-enumerable property:
 * no copy, comparison or serialization sees it). For such bytes
 * `JSON.stringify(parsed) === bytes` holds (stringify is a function of the value, and parsing
 * its output gives back an equal value with its keys in the same order), so a caller that
 * would send the unchanged object as JSON can send encodedJsonOf(object) instead of encoding
 * it again. The object must be treated as immutable (every step of the control plane copies
 * what it changes); a copy carries no bytes.
 */
export function parseEncodedObject(bytes: Uint8Array): KubeObject {
  const object = parseObjectBytes(bytes);
  Object.defineProperty(object, ENCODED_JSON, { value: bytes, enumerable: false });
  return object;
}

/** The bytes `object` was parsed from by parseEncodedObject (the very object, not a copy), or undefined. */
export function encodedJsonOf(object: unknown): Uint8Array | undefined {
  if (typeof object !== 'object' || object === null || !Object.hasOwn(object, ENCODED_JSON)) return undefined;
  return (object as { [ENCODED_JSON]: Uint8Array })[ENCODED_JSON];
}

/**
 * `copy` when it differs from `original` in what JSON.stringify writes, else `original`: the
 * same own keys in the same order, each with the very same value (a shallow copy such as
 * `{ ...o, kind: o.kind }` that changed nothing). So an unchanged copy of an object read with
 * parseEncodedObject gives back the object, and with it its bytes.
 */
export function unchangedOr<T extends object>(copy: T, original: object): T {
  if (copy === original) return copy;
  const a = Object.keys(copy);
  const b = Object.keys(original);
  if (a.length !== b.length) return copy;
  for (let i = 0; i < a.length; i++) {
    const key = a[i] as string;
    if (key !== b[i] || (copy as Record<string, unknown>)[key] !== (original as Record<string, unknown>)[key]) return copy;
  }
  return original as T;
}

/**
 * The deepest nesting of objects and arrays a body may have. kube's JSON decoder stops at
 * 10,000 levels; no real object comes near 100, and every recursive step the control plane
 * takes over an object (comparison, serialization, printing, selectors) stays far inside
 * the stack at this bound.
 */
export const MAX_JSON_DEPTH = 1_000;

/** What a scan of JSON bytes found, before parsing them. */
export interface JsonShape {
  /** The deepest nesting of objects and arrays (stops counting a little past the limit asked for). */
  depth: number;
  /** Objects, arrays and the values in them, roughly: each costs far more in memory once parsed than its bytes. */
  values: number;
  /**
   * The keys of all objects (a key repeated in one object counts each time, where JSON.parse
   * keeps one): more than the parsed object has means duplicate keys (lib/kinds/validate.ts).
   */
  keys: number;
}

/**
 * Scans `bytes` as JSON without parsing them: how deeply objects and arrays nest (stopping
 * once past `depthLimit`) and about how many values they hold. Strings (with their escapes)
 * are skipped, so brackets and commas inside them do not count.
 */
export function scanJson(bytes: Uint8Array, depthLimit = Infinity): JsonShape {
  let depth = 0;
  let max = 0;
  let values = 1;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x2c) values++;
    else if (c === 0x3a) keys++;
    else if (c === 0x7b || c === 0x5b) {
      values++;
      if (++depth > max && (max = depth) > depthLimit) break;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { depth: max, values, keys };
}

/** The deepest nesting of `bytes` read as JSON (see scanJson). */
export function jsonNestingDepth(bytes: Uint8Array, limit = Infinity): number {
  return scanJson(bytes, limit).depth;
}

/**
 * About how many bytes of memory a request with a body of this shape takes while it is served:
 * a few copies of its text (the bytes received, the parsed strings, the encodings sent on to
 * admission and storage), plus a small object's worth per value (V8 spends some 50-100 bytes
 * on each). Used to bound the memory requests in flight may take, not to account for it exactly.
 */
export function parsedSizeEstimate(byteLength: number, shape: Pick<JsonShape, 'values'> & Partial<JsonShape>): number {
  return byteLength * 4 + shape.values * 64;
}

/**
 * Checks an object a client sent (a REST body, or the object of a gRPC request) before it is
 * parsed, for what would harm the process or the objects of others: it must be valid UTF-8
 * and nested at most MAX_JSON_DEPTH levels. BadRequest otherwise, with a message that names
 * the problem and never quotes the body. Returns the shape found.
 */
export function checkUntrustedJson(bytes: Uint8Array): JsonShape {
  if (!isUtf8(bytes)) throw badRequest('the body of the request is not valid UTF-8');
  const shape = scanJson(bytes, MAX_JSON_DEPTH);
  if (shape.depth > MAX_JSON_DEPTH) {
    throw badRequest(`the body of the request is nested too deeply: at most ${MAX_JSON_DEPTH} levels of objects and arrays are allowed`);
  }
  return shape;
}

/** checkUntrustedJson, then parseObjectBytes. */
export function parseUntrustedObject(bytes: Uint8Array): KubeObject {
  checkUntrustedJson(bytes);
  return parseObjectBytes(bytes);
}

/** The JSON bytes of an object, for the wire. */
export function objectBytes(object: unknown): Buffer {
  return Buffer.from(JSON.stringify(object));
}

/** RFC 3339 at second precision, as metav1.Time marshals. */
export function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
