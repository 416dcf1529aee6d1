/**
 * What storage itself does to an object on create, update and delete, the same for every
 * backend: how it is stored, generation, finalizers and deletion, preconditions, as
 * kube-apiserver's etcd3 store and generic registry do.
 */
import { isDeepStrictEqual } from 'node:util';
import { conflict, StatusError, type Qualified } from '../../../lib/errors.ts';
import { isPlainObject, rfc3339, withResourceVersion, type KubeObject } from '../../../lib/kube.ts';
import type { GenerationRule, KindDeletion } from '../../../lib/kinds/index.ts';
import { generationOf, sameDesiredState as unchangedDesiredState } from '../../../lib/kinds/generation.ts';
import type { Preconditions } from '../api.ts';
import { parseUint64 } from '../../../lib/go-strconv.ts';
import {
  deletePreconditionFailed,
  entityTooLarge,
  RESOURCE_VERSION_ON_CREATE_MESSAGE,
  resourceVersionPreconditionWords,
  storagePreconditionFailed,
  uidPreconditionWords,
} from './storage-errors.ts';

/** etcd's default --max-request-bytes; a larger object would fail with an etcd error text. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

/** The message of a stale update, word for word as kube-apiserver says it. */
export const MODIFIED_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** Conflict for an update whose resourceVersion is no longer the stored one. */
export function modifiedConflict(q: Qualified, name: string): StatusError {
  return conflict(q, name, MODIFIED_MESSAGE);
}

/** An object as stored (without resourceVersion and selfLink) and the JSON written for it. */
export interface Encoded {
  object: KubeObject;
  data: string;
}

/**
 * Metadata as stored: without resourceVersion and selfLink. (A copy without them, rather than
 * `delete` on a copy, which would leave V8 a slower dictionary-mode object to encode and compare.)
 */
function storedMetadata(metadata: KubeObject['metadata']): NonNullable<KubeObject['metadata']> {
  const { resourceVersion: _rv, selfLink: _selfLink, ...rest } = metadata ?? {};
  return rest;
}

/**
 * The JSON stored for an object: without resourceVersion (it is the key's mod revision) and
 * selfLink, as kube's PrepareObjectForStorage. 413 when etcd would refuse it.
 */
export function encodeForStorage(object: KubeObject): Encoded {
  const stored = { ...object, metadata: storedMetadata(object.metadata) };
  const data = JSON.stringify(stored);
  if (Buffer.byteLength(data) > MAX_OBJECT_BYTES) throw entityTooLarge();
  return { object: stored, data };
}

/**
 * What reading `encoded` back at `revision` gives (decodeStored of its data), without parsing
 * the JSON just written: a write answers with it. It shares nested values with
 * encoded.object, which the write no longer uses.
 */
export function storedAt(encoded: Encoded, revision: number): KubeObject {
  return withResourceVersion(encoded.object, revision);
}

/** Parses a stored value and stamps its resourceVersion (the revision it was read at). */
export function decodeStored(value: string, revision: number | string): KubeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new StatusError('InternalError', 'storage error: stored value is not JSON');
  }
  if (!isPlainObject(parsed)) throw new StatusError('InternalError', 'storage error: stored value is not an object');
  const object = parsed as KubeObject;
  // withResourceVersion's rule, applied in place: the freshly parsed object is ours alone.
  object.metadata = { ...(isPlainObject(object.metadata) ? object.metadata : {}), resourceVersion: String(revision) };
  return object;
}

/**
 * The JSON to store for a new object. Like kube's store.Create, an object whose
 * resourceVersion parses as a non-zero number is refused (kube answers 500 with these words);
 * "0" or an unparsable value is ignored and dropped.
 */
export function prepareCreate(object: KubeObject): Encoded {
  const rv = object.metadata?.resourceVersion;
  if (typeof rv === 'string' && rv !== '') {
    const parsed = parseUint64(rv);
    if ('value' in parsed && parsed.value !== 0n) throw new StatusError('InternalError', RESOURCE_VERSION_ON_CREATE_MESSAGE);
  }
  return encodeForStorage(object);
}

/**
 * Whether a stored object is being deleted. JSON null is Go's nil *Time: an object stored with
 * `deletionTimestamp: null` (by another writer) is not being deleted.
 */
function beingDeleted(metadata: NonNullable<KubeObject['metadata']>): boolean {
  return metadata.deletionTimestamp !== undefined && metadata.deletionTimestamp !== null;
}

function finalizersOf(object: KubeObject): unknown[] {
  const finalizers = object.metadata?.finalizers;
  return Array.isArray(finalizers) ? finalizers : [];
}

/** Whether anything holds an object being deleted: its finalizers, or its kind's own hold (a Namespace's spec.finalizers). */
function heldOnDeletion(object: KubeObject, kind: KindDeletion | undefined): boolean {
  return finalizersOf(object).length > 0 || kind?.held?.(object) === true;
}


export interface PreparedUpdate {
  /** The object to store. */
  object: KubeObject;
  /**
   * True when the update leaves an object being deleted (its grace period over) with nothing
   * holding it, its last finalizer taken away or none left: the state it replaces is deleted
   * instead, nothing stored (kube's ShouldDeleteDuringUpdate and deleteWithoutFinalizers).
   */
  remove: boolean;
  /**
   * True when storing `object` would write what is already stored (resourceVersion aside):
   * kube's GuaranteedUpdate then writes nothing and answers with the stored object (same
   * resourceVersion, no event). Compared as values, as kube compares its canonical encodings.
   */
  unchanged: boolean;
}

/**
 * The object to store when `next` replaces `current` (kube's BeforeUpdate plus the custom
 * resource strategy's generation rule): generation rises only when the desired state changed
 * and is otherwise kept (0 is not written); uid and creationTimestamp keep their stored values
 * (a uid in `next` is a precondition, checked before); deletionTimestamp and
 * deletionGracePeriodSeconds cannot be set or cleared by an update, but the update of a delete
 * (`deletion`: kube's graceful deletion and deletion finalizers) may set them, and its
 * generation is the one it carries (kube's BeforeDelete and markAsDeleting raise it); an update
 * of a delete that marks an object of a kind with its own mark (`kind.markForDeletion`: a
 * Namespace turns Terminating) stores that. An update that leaves an object being deleted
 * without a hold (its finalizers, or its kind's `held`) removes it.
 */
export function prepareUpdate(current: KubeObject, next: KubeObject, rule: GenerationRule = 'allButMetadataAndStatus', deletion = false, kind?: KindDeletion): PreparedUpdate {
  const stored = current.metadata ?? {};
  const metadata: Record<string, unknown> = storedMetadata(next.metadata);
  const generation = generationOf(current);
  const sameDesiredState = unchangedDesiredState(current, next, rule);
  const nextGeneration = sameDesiredState ? generation : generation + 1;
  if (deletion) {
    const carried = generationOf(next);
    if (carried > 0) metadata.generation = carried;
    else delete metadata.generation;
  } else if (nextGeneration > 0) metadata.generation = nextGeneration;
  else delete metadata.generation;
  if (stored.uid !== undefined) metadata.uid = stored.uid;
  if (stored.creationTimestamp !== undefined) metadata.creationTimestamp = stored.creationTimestamp;
  if (deletion && beingDeleted(metadata)) {
    // The delete computed both from the state it read (and is written only on that state).
    metadata.deletionGracePeriodSeconds = metadata.deletionGracePeriodSeconds ?? 0;
  } else if (beingDeleted(stored)) {
    metadata.deletionTimestamp = stored.deletionTimestamp;
    // kept as stored, as kube's BeforeUpdate (a namespace is marked without one)
    if (stored.deletionGracePeriodSeconds !== undefined) metadata.deletionGracePeriodSeconds = stored.deletionGracePeriodSeconds;
    else delete metadata.deletionGracePeriodSeconds;
  } else {
    delete metadata.deletionTimestamp;
    delete metadata.deletionGracePeriodSeconds;
  }
  let object = { ...next, metadata } as KubeObject;
  if (deletion && beingDeleted(metadata) && !beingDeleted(stored)) {
    const own = kind?.markForDeletion?.(object);
    // Of the mark's metadata only finalizers are taken (a CustomResourceDefinition's cleanup finalizer).
    if (own !== undefined) object = { ...own, metadata: own.metadata?.finalizers === undefined ? metadata : { ...metadata, finalizers: own.metadata.finalizers } };
  }
  // kube's ShouldDeleteDuringUpdate: whatever held it before (an object marked and left behind
  // by a gateway that stopped between marking and removing was held by nothing).
  const remove = beingDeleted(stored) && (stored.deletionGracePeriodSeconds ?? 0) === 0 && !heldOnDeletion(object, kind);
  // Everything but metadata is compared whatever the generation rule (a rule may look at the
  // spec only, or at nothing); metadata as it would be stored. The stored resourceVersion is
  // the key's revision, not content.
  const { resourceVersion: _rv, ...storedWithoutVersion } = stored;
  const { metadata: _currentMetadata, ...currentContent } = current;
  const { metadata: _nextMetadata, ...nextContent } = next;
  const unchanged = sameDesiredState && isDeepStrictEqual(storedWithoutVersion, metadata) && isDeepStrictEqual(currentContent, nextContent);
  return { object, remove, unchanged };
}

export type PreparedDelete =
  /** No finalizers: remove the key. */
  | { action: 'remove' }
  /** Finalizers, first delete: store this object (deletionTimestamp set). */
  | { action: 'mark'; object: KubeObject }
  /** Finalizers, already being deleted: nothing to write. */
  | { action: 'none' };

/**
 * What a delete does to `current` (kube's markAsDeleting): an object with finalizers is
 * marked (deletionTimestamp, deletionGracePeriodSeconds 0, generation + 1 when it has one) and
 * stays until an update removes its last finalizer; a second delete writes nothing. A kind
 * with its own mark (`kind.markForDeletion`: Namespace) is marked on the first delete as it says
 * (deletionTimestamp only, as kube's namespace Delete), and stays while the strategy holds it.
 */
export function prepareDelete(current: KubeObject, now: Date, kind?: KindDeletion): PreparedDelete {
  const metadata = current.metadata ?? {};
  if (beingDeleted(metadata)) return heldOnDeletion(current, kind) ? { action: 'none' } : { action: 'remove' };
  const own = kind?.markForDeletion?.(current);
  if (own !== undefined) {
    const ownMetadata: Record<string, unknown> = { ...(own.metadata ?? {}), deletionTimestamp: rfc3339(now) };
    delete ownMetadata.resourceVersion;
    return { action: 'mark', object: { ...own, metadata: ownMetadata } };
  }
  if (finalizersOf(current).length === 0) return { action: 'remove' };
  const marked: Record<string, unknown> = { ...metadata, deletionTimestamp: rfc3339(now), deletionGracePeriodSeconds: 0 };
  const generation = generationOf(current);
  if (generation > 0) marked.generation = generation + 1;
  delete marked.resourceVersion;
  return { action: 'mark', object: { ...current, metadata: marked } };
}

/** Whether an update carrying `uid` fails its uid precondition against `stored`. */
export function uidMismatch(stored: KubeObject, uid: string): boolean {
  return uid !== '' && uid !== (stored.metadata?.uid ?? '');
}

/** The UID precondition of an update: the uid the new object carries, if any. */
export function checkUpdateUid(q: Qualified, name: string, key: string, stored: KubeObject, uid: string): void {
  if (uidMismatch(stored, uid)) throw storagePreconditionFailed(q, name, key, uidPreconditionWords(uid, stored.metadata?.uid ?? ''));
}

/** Whether a delete's preconditions fail against `stored` (checkDeletePreconditions would throw). */
export function deletePreconditionsFail(stored: KubeObject, p: Preconditions): boolean {
  const uid = stored.metadata?.uid ?? '';
  const rv = stored.metadata?.resourceVersion ?? '';
  return (p.uid !== undefined && p.uid !== '' && p.uid !== uid) || (p.resourceVersion !== undefined && p.resourceVersion !== '' && p.resourceVersion !== rv);
}

/**
 * The preconditions of a delete. The first check, against the object as first read, has the
 * words of kube's rest.BeforeDelete and names the object by its kind; a check after a lost
 * race (the object changed before the write) has the storage layer's words.
 */
export function checkDeletePreconditions(
  q: Qualified,
  name: string,
  key: string,
  stored: KubeObject,
  p: Preconditions,
  firstCheck: boolean,
): void {
  const uid = stored.metadata?.uid ?? '';
  const rv = stored.metadata?.resourceVersion ?? '';
  const kind: Qualified = { group: q.group, resource: typeof stored.kind === 'string' && stored.kind !== '' ? stored.kind : q.resource };
  if (p.uid !== undefined && p.uid !== '' && p.uid !== uid) {
    throw firstCheck ? deletePreconditionFailed(kind, name, 'uid', p.uid, uid) : storagePreconditionFailed(q, name, key, uidPreconditionWords(p.uid, uid));
  }
  if (p.resourceVersion !== undefined && p.resourceVersion !== '' && p.resourceVersion !== rv) {
    throw firstCheck
      ? deletePreconditionFailed(kind, name, 'resourceVersion', p.resourceVersion, rv)
      : storagePreconditionFailed(q, name, key, resourceVersionPreconditionWords(p.resourceVersion, rv));
  }
}
