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

/** Parses a JSON object from the wire; BadRequest when it is not a JSON object. */
export function parseObjectBytes(bytes: Uint8Array): KubeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw badRequest(`the body of the request was in an unknown format: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw badRequest('the body of the request must be a JSON object');
  return parsed as KubeObject;
}

/** The JSON bytes of an object, for the wire. */
export function objectBytes(object: unknown): Buffer {
  return Buffer.from(JSON.stringify(object));
}
