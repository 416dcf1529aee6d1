/**
 * The status rules of kinds with a `status` subresource, as kube's strategies apply them to
 * every such kind before the kind's own hooks: a create cannot set status, a write to the
 * object keeps the stored status, and a write to /status keeps everything but status (of
 * metadata, what ResetObjectMetaForStatus keeps). Built-in kinds hold a status struct, so
 * theirs is reset to `{}`; custom resources have it removed, as apiextensions does.
 */
import { isPlainObject, type KubeObject } from '../kube.ts';
import type { KindDefinition } from './types.ts';

/**
 * The metadata a write to /status cannot change (metav1.ResetObjectMetaForStatus): these come
 * from the stored object. uid, creationTimestamp and the deletion grace period are kept by
 * storage for every write.
 */
export const STATUS_WRITE_KEPT_METADATA: readonly string[] = Object.freeze([
  'deletionTimestamp',
  'generation',
  'selfLink',
  'labels',
  'annotations',
  'finalizers',
  'ownerReferences',
]);

/** `object` with `status` set to `value`, or without status when `value` is undefined. */
function withStatus(object: KubeObject, value: unknown): KubeObject {
  const { status: _status, ...rest } = object;
  return value === undefined ? rest : { ...rest, status: value };
}

/** A new object's status, before the kind's PrepareForCreate: `{}` for built-in kinds, none for custom resources. */
export function resetStatusForCreate(kind: KindDefinition, object: KubeObject): KubeObject {
  return withStatus(object, kind.source === 'custom' ? undefined : {});
}

/** A write to the object itself: the stored status stays, whatever the body says. */
export function keepStoredStatus(object: KubeObject, old: KubeObject): KubeObject {
  return withStatus(object, old.status);
}

/**
 * A write to /status: the stored object with the body's status (a body without one clears it:
 * `{}` for built-in kinds, none for custom resources), and the body's metadata but for
 * {@link STATUS_WRITE_KEPT_METADATA}, which come from the stored object. The body's
 * resourceVersion stays: it is the write's precondition.
 */
export function prepareStatusWrite(kind: KindDefinition, object: KubeObject, old: KubeObject): KubeObject {
  const metadata: Record<string, unknown> = { ...(isPlainObject(object.metadata) ? object.metadata : {}) };
  const stored: Record<string, unknown> = isPlainObject(old.metadata) ? old.metadata : {};
  for (const key of STATUS_WRITE_KEPT_METADATA) {
    if (Object.hasOwn(stored, key)) metadata[key] = stored[key];
    else delete metadata[key];
  }
  const status = object.status !== undefined ? object.status : kind.source === 'custom' ? undefined : {};
  const typeMeta = { ...(object.kind !== undefined ? { kind: object.kind } : {}), ...(object.apiVersion !== undefined ? { apiVersion: object.apiVersion } : {}) };
  return { ...withStatus(old, status), ...typeMeta, metadata };
}
