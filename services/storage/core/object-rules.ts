/**
 * What storage itself does to an object on update and delete, the same for every backend:
 * generation, finalizers and graceful deletion, as kube-apiserver's generic registry does.
 */
import { isDeepStrictEqual } from 'node:util';
import { conflict, type Qualified } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';

/** The message of a stale update, word for word as kube-apiserver says it. */
export const MODIFIED_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** Conflict for an update whose resourceVersion is no longer the stored one. */
export function modifiedConflict(q: Qualified, name: string) {
  return conflict(q, name, MODIFIED_MESSAGE);
}

/** Everything but metadata and status: a change here is a change of the desired state. */
function desiredState(object: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, kind: _k, apiVersion: _a, ...rest } = object;
  return rest;
}

export interface PreparedUpdate {
  /** The object to store. */
  object: KubeObject;
  /** True when the update removed the last finalizer of an object being deleted: remove it. */
  remove: boolean;
}

/**
 * The object to store when `next` replaces `current`: generation rises only when the desired
 * state changed; deletionTimestamp and deletionGracePeriodSeconds cannot be set or cleared by
 * an update (only delete sets them); uid and creationTimestamp keep their stored values.
 */
export function prepareUpdate(current: KubeObject, next: KubeObject): PreparedUpdate {
  const stored = current.metadata ?? {};
  const metadata = { ...(next.metadata ?? {}) };
  delete metadata.resourceVersion;
  const generation = typeof stored.generation === 'number' ? stored.generation : 0;
  metadata.generation = isDeepStrictEqual(desiredState(current), desiredState(next)) ? generation : generation + 1;
  if (stored.uid !== undefined) metadata.uid = stored.uid;
  if (stored.creationTimestamp !== undefined) metadata.creationTimestamp = stored.creationTimestamp;
  if (stored.deletionTimestamp !== undefined) {
    metadata.deletionTimestamp = stored.deletionTimestamp;
    metadata.deletionGracePeriodSeconds = stored.deletionGracePeriodSeconds ?? 0;
  } else {
    delete metadata.deletionTimestamp;
    delete metadata.deletionGracePeriodSeconds;
  }
  const finalizers = Array.isArray(metadata.finalizers) ? metadata.finalizers : [];
  return {
    object: { ...next, metadata },
    remove: stored.deletionTimestamp !== undefined && finalizers.length === 0,
  };
}

export type PreparedDelete =
  /** No finalizers: remove the key. */
  | { action: 'remove' }
  /** Finalizers, first delete: store this object (deletionTimestamp set). */
  | { action: 'mark'; object: KubeObject }
  /** Finalizers, already being deleted: nothing to write. */
  | { action: 'none' };

/** RFC 3339 at second precision, as metav1.Time marshals. */
export function rfc3339(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * What a delete does to `current`: an object with finalizers is marked (deletionTimestamp,
 * deletionGracePeriodSeconds 0, generation + 1, as kube's BeforeDelete) and stays until an
 * update removes its last finalizer.
 */
export function prepareDelete(current: KubeObject, now: Date): PreparedDelete {
  const metadata = current.metadata ?? {};
  const finalizers = Array.isArray(metadata.finalizers) ? metadata.finalizers : [];
  if (finalizers.length === 0) return { action: 'remove' };
  if (metadata.deletionTimestamp !== undefined) return { action: 'none' };
  const generation = typeof metadata.generation === 'number' ? metadata.generation : 0;
  const marked = { ...metadata, deletionTimestamp: rfc3339(now), deletionGracePeriodSeconds: 0, generation: generation + 1 };
  delete marked.resourceVersion;
  return { action: 'mark', object: { ...current, metadata: marked } };
}
