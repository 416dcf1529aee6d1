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

/**
 * The deepest nesting of objects and arrays a body may have. kube's JSON decoder stops at
 * 10,000 levels; no real object comes near 100, and every recursive step the control plane
 * takes over an object (comparison, serialization, printing, selectors) stays far inside
 * the stack at this bound.
 */
export const MAX_JSON_DEPTH = 1_000;

/**
 * The deepest nesting of `bytes` read as JSON, stopping early once past `limit`: strings
 * (with their escapes) are skipped, so brackets inside them do not count.
 */
export function jsonNestingDepth(bytes: Uint8Array, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Parses an object a client sent (a REST body, or the object of a gRPC request), checking
 * first what would harm the process or the objects of others: it must be valid UTF-8 and
 * nested at most MAX_JSON_DEPTH levels. BadRequest otherwise, with a message that names the
 * problem and never quotes the body.
 */
export function parseUntrustedObject(bytes: Uint8Array): KubeObject {
  if (!isUtf8(bytes)) throw badRequest('the body of the request is not valid UTF-8');
  if (jsonNestingDepth(bytes, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw badRequest(`the body of the request is nested too deeply: at most ${MAX_JSON_DEPTH} levels of objects and arrays are allowed`);
  }
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
