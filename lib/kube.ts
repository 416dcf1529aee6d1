/**
 * The Kubernetes object shapes the control plane reads. Objects are open JSON: only the
 * fields the control plane itself touches are typed; everything else round-trips untouched.
 */
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

/** The JSON bytes of an object, for the wire. */
export function objectBytes(object: unknown): Buffer {
  return Buffer.from(JSON.stringify(object));
}

/** RFC 3339 at second precision, as metav1.Time marshals. */
export function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
