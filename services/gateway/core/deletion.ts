/**
 * Deletes as kube-apiserver's generic registry does them (registry/rest/delete.go BeforeDelete,
 * registry/generic/registry/store.go Delete, DeleteCollection and the deletion finalizers):
 * preconditions, graceful deletion (a kind's grace period, KindDeletion.gracePeriodSeconds),
 * the garbage collector's `orphan` and `foregroundDeletion` finalizers from the propagation
 * policy, objects with finalizers marked rather than removed, and dry runs.
 *
 * A delete that has to change the object first (deletionTimestamp and grace period, finalizers)
 * writes that change as a storage update conditional on the state it was computed from, then
 * removes the object if nothing holds it; a lost race reads again and starts over, as kube's
 * GuaranteedUpdate does. So the result is right whichever gateway replica serves which request.
 * The Pipeline provides the steps (storage, admission); this module decides.
 */
import { conflict, StatusError, type Qualified } from '../../../lib/errors.ts';
import { rfc3339, type KubeObject } from '../../../lib/kube.ts';
import type { GarbageCollectionPolicy, KindDefinition } from '../../../lib/kinds/index.ts';
import type { DeleteResult, ListResult, Preconditions } from '../../storage/api.ts';

/** metav1.FinalizerOrphanDependents */
export const ORPHAN_FINALIZER = 'orphan';
/** metav1.FinalizerDeleteDependents */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/** metav1.DeleteOptions, as the pipeline takes them (already checked by ValidateDeleteOptions). */
export interface DeletionOptions {
  preconditions?: Preconditions;
  dryRun?: boolean;
  /** undefined: the kind's default (for pods, spec.terminationGracePeriodSeconds). */
  gracePeriodSeconds?: number;
  /** Orphan, Background or Foreground; undefined: the kind's default. */
  propagationPolicy?: string;
  /** The deprecated form of propagationPolicy (true: Orphan); never set with it. */
  orphanDependents?: boolean;
}

/**
 * The options as kube's meta.k8s.io/v1 DeleteOptions object (the request object kube's audit log
 * records for a delete), its fields in kube's order; unset fields left out.
 */
export function deleteOptionsObject(options: DeletionOptions): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' };
  if (options.gracePeriodSeconds !== undefined) out.gracePeriodSeconds = options.gracePeriodSeconds;
  const p = options.preconditions ?? {};
  const preconditions: Record<string, string> = {};
  if ((p.uid ?? '') !== '') preconditions.uid = p.uid as string;
  if ((p.resourceVersion ?? '') !== '') preconditions.resourceVersion = p.resourceVersion as string;
  if (Object.keys(preconditions).length > 0) out.preconditions = preconditions;
  if (options.orphanDependents !== undefined) out.orphanDependents = options.orphanDependents;
  if (options.propagationPolicy !== undefined) out.propagationPolicy = options.propagationPolicy;
  if (options.dryRun === true) out.dryRun = ['All'];
  return out;
}

/** How many items of a deletecollection are deleted at once (kube's --delete-collection-workers). */
export const DEFAULT_DELETE_COLLECTION_WORKERS = 4;

/** The page size of a deletecollection's list when the request sets no limit (kube's deleteCollectionPageSize). */
export const DELETE_COLLECTION_PAGE_SIZE = 10_000;

function finalizersOf(object: KubeObject): string[] {
  const finalizers: unknown = object.metadata?.finalizers;
  return Array.isArray(finalizers) ? finalizers.filter((f): f is string => typeof f === 'string') : [];
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function integerOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/**
 * 409 of rest.BeforeDelete for a precondition that does not hold, in its words; kube names the
 * object by its kind there (`Operation cannot be fulfilled on ConfigMap "x": ...`).
 */
function preconditionFailed(kind: Qualified, name: string, which: 'uid' | 'resourceVersion', wanted: string, actual: string): StatusError {
  const why =
    which === 'uid'
      ? `the UID in the precondition (${wanted}) does not match the UID in record (${actual}). The object might have been deleted and then recreated`
      : `the ResourceVersion in the precondition (${wanted}) does not match the ResourceVersion in record (${actual}). The object might have been modified`;
  return conflict(kind, name, why);
}

/** What rest.BeforeDelete decides about a delete of one object. */
export interface BeforeDelete {
  /** The object is to be deleted gracefully: `object` carries its new deletionTimestamp and grace period. */
  graceful: boolean;
  /** The object is being deleted gracefully already, and the delete changes nothing. */
  pendingGraceful: boolean;
  /** The object, with what a graceful delete sets (deletionTimestamp, deletionGracePeriodSeconds, generation). */
  object: KubeObject;
  /** The grace period the delete ends up with (kube writes it back into the options). */
  gracePeriodSeconds: number | undefined;
}

/** The last instant an RFC 3339 time with a four-digit year can say. */
const LAST_RFC3339_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * A deletionTimestamp `ms` after the epoch, as RFC 3339. A grace period so long that its end
 * passes what a four-digit year can say (any int64 of seconds is a valid grace period) ends at
 * the last such second instead: the object stays Terminating as long as the client asked, and no
 * time is written that a client could not read back. A shortened one whose arithmetic falls
 * before the epoch (a running period that large) is the epoch: already due.
 */
function deletionTimeOf(ms: number): string {
  return rfc3339(new Date(Math.max(0, Math.min(ms, LAST_RFC3339_MS))));
}

/**
 * rest.BeforeDelete: the preconditions (409 in kube's words, naming the object by its kind),
 * then the graceful deletion of kinds that have it: an object already being deleted may only
 * have its grace period shortened; otherwise the kind's grace period sets deletionTimestamp
 * (now + grace) and deletionGracePeriodSeconds, and raises a set generation. A negative grace
 * period counts as 1 s.
 */
export function beforeDelete(kind: KindDefinition, current: KubeObject, options: DeletionOptions, now: Date): BeforeDelete {
  const metadata = current.metadata ?? {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  const qualified = { group: kind.group, resource: kind.kind };
  const p = options.preconditions ?? {};
  const uid = typeof metadata.uid === 'string' ? metadata.uid : '';
  const resourceVersion = typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : '';
  // An empty precondition is a precondition too in kube (a pointer to ""); the wire forms here
  // cannot tell it from none, so only non-empty ones are checked.
  if ((p.uid ?? '') !== '' && p.uid !== uid) throw preconditionFailed(qualified, name, 'uid', p.uid ?? '', uid);
  if ((p.resourceVersion ?? '') !== '' && p.resourceVersion !== resourceVersion) {
    throw preconditionFailed(qualified, name, 'resourceVersion', p.resourceVersion ?? '', resourceVersion);
  }
  let requested = options.gracePeriodSeconds;
  if (requested !== undefined && requested < 0) requested = 1;
  let storedGrace = integerOrUndefined(metadata.deletionGracePeriodSeconds);
  if (storedGrace !== undefined && storedGrace < 0) storedGrace = 1;
  const graceOf = kind.deletion?.gracePeriodSeconds;
  const unchanged: BeforeDelete = { graceful: false, pendingGraceful: false, object: current, gracePeriodSeconds: requested };
  if (graceOf === undefined) return unchanged;
  if (isSet(metadata.deletionTimestamp)) {
    // Being deleted already: a grace period of 0 (or none) is deleted at once, and only a
    // shorter grace period than the one running may be asked for.
    if (storedGrace === undefined || storedGrace === 0) return unchanged;
    if (requested === undefined) return { ...unchanged, pendingGraceful: true, gracePeriodSeconds: storedGrace };
    if (requested >= storedGrace) return { ...unchanged, pendingGraceful: true };
    const started = Date.parse(String(metadata.deletionTimestamp));
    const deletionTimestamp = Number.isNaN(started) ? now.getTime() : started - storedGrace * 1000 + requested * 1000;
    const object = { ...current, metadata: { ...metadata, deletionTimestamp: deletionTimeOf(deletionTimestamp), deletionGracePeriodSeconds: requested } };
    return { graceful: true, pendingGraceful: false, object, gracePeriodSeconds: requested };
  }
  const grace = graceOf(current, requested);
  if (grace === undefined) return unchanged;
  const period = grace < 0 ? 1 : grace;
  const marked: Record<string, unknown> = { ...metadata, deletionTimestamp: deletionTimeOf(now.getTime() + period * 1000), deletionGracePeriodSeconds: period };
  const generation = integerOrUndefined(metadata.generation) ?? 0;
  if (generation > 0) marked.generation = generation + 1;
  return { graceful: true, pendingGraceful: false, object: { ...current, metadata: marked }, gracePeriodSeconds: period };
}

/** shouldOrphanDependents of kube's store. */
function shouldOrphan(policy: GarbageCollectionPolicy | undefined, finalizers: readonly string[], o: DeletionOptions): boolean {
  if (policy === 'Unsupported') return false;
  if (o.orphanDependents !== undefined) return o.orphanDependents;
  if (o.propagationPolicy === 'Orphan') return true;
  if (o.propagationPolicy === 'Background' || o.propagationPolicy === 'Foreground') return false;
  for (const f of finalizers) {
    if (f === ORPHAN_FINALIZER) return true;
    if (f === FOREGROUND_FINALIZER) return false;
  }
  return policy === 'OrphanDependents';
}

/** shouldDeleteDependents of kube's store. */
function shouldDeleteDependents(policy: GarbageCollectionPolicy | undefined, finalizers: readonly string[], o: DeletionOptions): boolean {
  if (policy === 'Unsupported') return false;
  if (o.orphanDependents !== undefined) return false;
  if (o.propagationPolicy === 'Foreground') return true;
  if (o.propagationPolicy === 'Background' || o.propagationPolicy === 'Orphan') return false;
  for (const f of finalizers) {
    if (f === FOREGROUND_FINALIZER) return true;
    if (f === ORPHAN_FINALIZER) return false;
  }
  return false;
}

/**
 * deletionFinalizersForGarbageCollection: the finalizers `object` should have for the
 * garbage collector given the delete's options (explicit options first, then the finalizers it
 * has, then the kind's default policy): `orphan` and `foregroundDeletion` are taken out and
 * put back at the end as needed. `changed` is false when the set stays the same (the
 * finalizers are then the object's own).
 */
export function deletionFinalizers(kind: KindDefinition, object: KubeObject, options: DeletionOptions): { changed: boolean; finalizers: string[] } {
  const existing = finalizersOf(object);
  const policy = kind.deletion?.garbageCollectionPolicy;
  const next = existing.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
  if (shouldOrphan(policy, existing, options)) next.push(ORPHAN_FINALIZER);
  if (shouldDeleteDependents(policy, existing, options)) next.push(FOREGROUND_FINALIZER);
  const before = new Set(existing);
  const after = new Set(next);
  const same = before.size === after.size && [...before].every((f) => after.has(f));
  return same ? { changed: false, finalizers: existing } : { changed: true, finalizers: next };
}

/**
 * markAsDeleting: an object with finalizers and no grace period is marked deleted now (an
 * earlier deletionTimestamp is kept), with a grace period of 0; a set generation rises the first time.
 */
export function markAsDeleting(object: KubeObject, now: Date): KubeObject {
  const metadata: Record<string, unknown> = { ...object.metadata };
  const generation = integerOrUndefined(metadata.generation) ?? 0;
  if (!isSet(metadata.deletionTimestamp) && generation > 0) metadata.generation = generation + 1;
  const existing = isSet(metadata.deletionTimestamp) ? Date.parse(String(metadata.deletionTimestamp)) : Number.NaN;
  if (Number.isNaN(existing) || existing > now.getTime()) metadata.deletionTimestamp = rfc3339(now);
  metadata.deletionGracePeriodSeconds = 0;
  return { ...object, metadata };
}

/** What a delete of one object needs done, provided by the pipeline for that object. */
export interface DeletionSteps {
  /** The stored object, read now (NotFound when absent). */
  read(): Promise<KubeObject>;
  /** Admission of the delete of `current` (kube's deleteValidation); throws to refuse. */
  admit(current: KubeObject): Promise<void>;
  /**
   * Stores `object` (the delete's change of the state read, carrying its resourceVersion):
   * Conflict when that state is no longer the stored one.
   */
  mark(object: KubeObject): Promise<KubeObject>;
  /**
   * Removes the object if the preconditions hold (one with finalizers stays, marked), or,
   * with `finalizersRemoved`, the state the resourceVersion precondition names though it has
   * finalizers (the delete takes them away; storage's DeleteOptions).
   */
  remove(preconditions: Preconditions, finalizersRemoved: boolean): Promise<DeleteResult>;
  now(): Date;
}

/** How many times a delete reads again after losing a race before it answers the Conflict. */
const MAX_ATTEMPTS = 5;

function isConflict(err: unknown): boolean {
  return err instanceof StatusError && err.reason === 'Conflict';
}

function isNotFound(err: unknown): boolean {
  return err instanceof StatusError && err.reason === 'NotFound';
}

/**
 * Deletes one object as kube's Store.Delete does. Answers the object and whether it stays
 * (`pending`: being deleted gracefully, or held by finalizers): a removed object's last state,
 * a pending object's new state. A dry run computes the same and writes nothing.
 */
export async function deleteObject(kind: KindDefinition, steps: DeletionSteps, options: DeletionOptions): Promise<DeleteResult> {
  let current = await steps.read();
  for (let attempt = 1; ; attempt++) {
    await steps.admit(current);
    const now = steps.now();
    const before = beforeDelete(kind, current, options, now);
    // Finalizers cannot be changed by a delete while a graceful deletion is pending.
    if (before.pendingGraceful) return { object: current, pending: true };
    const gc = deletionFinalizers(kind, current, options);
    let out: KubeObject | undefined;
    let ignoreNotFound = false;
    // The delete takes away the last finalizers of an object nothing else holds: it is removed
    // as it is stored, with no state without them written first (kube's errDeleteNow), so
    // watchers see one DELETED. Only that state is removed (a change meanwhile starts over).
    let finalizersRemoved = false;
    if (before.graceful || finalizersOf(current).length > 0 || gc.changed) {
      // kube's updateForGracefulDeletionAndFinalizers.
      let next = before.object;
      if (gc.changed) next = { ...next, metadata: { ...next.metadata, finalizers: gc.finalizers } };
      // What holds it after this delete: its finalizers, or its kind's own hold (a Namespace's
      // spec.finalizers), which storage honours too (object-rules.ts heldOnDeletion).
      const held = finalizersOf(next).length > 0 || kind.deletion?.held?.(next) === true;
      let write = true;
      if (!before.graceful) {
        // Marked when finalizers hold it (a kind with its own mark, a Namespace, also when the
        // delete takes its last ones away: storage's update marks it as it says); otherwise
        // nothing holds it: removed below, as it is.
        const ownMark = kind.deletion?.markForDeletion !== undefined && finalizersOf(current).length > 0;
        if (held || ownMark) next = markAsDeleting(next, now);
        else {
          write = false;
          finalizersRemoved = finalizersOf(current).length > 0;
        }
      }
      if (write) {
        if (options.dryRun === true) {
          out = next;
          // What storage's update of a delete stores for a kind with its own mark (object-rules.ts prepareUpdate).
          const own = isSet(current.metadata?.deletionTimestamp) ? undefined : kind.deletion?.markForDeletion?.(next);
          if (own !== undefined) out = { ...own, metadata: { ...next.metadata, ...(own.metadata?.finalizers === undefined ? {} : { finalizers: own.metadata.finalizers }) } };
        } else {
          try {
            out = await steps.mark(next);
          } catch (err) {
            if (isConflict(err) && attempt < MAX_ATTEMPTS) {
              current = await steps.read();
              continue;
            }
            throw err;
          }
        }
        if (held) return { object: out, pending: true };
        if (before.graceful && (before.gracePeriodSeconds ?? 0) > 0) return { object: out, pending: true };
        // A graceless delete of a kind that deletes gracefully: someone else may remove it first.
        ignoreNotFound = true;
      }
    }
    if (options.dryRun === true) {
      // What storage's delete would answer for a kind with its own mark (a Namespace turns
      // Terminating) or hold (object-rules.ts prepareDelete), as kube's dry-run storage answers.
      if (out === undefined && !isSet(current.metadata?.deletionTimestamp)) {
        const own = kind.deletion?.markForDeletion?.(current);
        if (own !== undefined) return { object: { ...own, metadata: { ...own.metadata, deletionTimestamp: rfc3339(now) } }, pending: true };
      }
      if (out === undefined && kind.deletion?.held?.(current) === true) return { object: current, pending: true };
      return { object: out ?? current, pending: false };
    }
    const preconditions: Preconditions = { ...(options.preconditions ?? {}) };
    // Delete what admission saw: a concurrent replacement (new uid) must not be deleted unseen.
    const uid: unknown = current.metadata?.uid;
    if ((preconditions.uid ?? '') === '' && typeof uid === 'string') preconditions.uid = uid;
    if ((preconditions.resourceVersion ?? '') !== '' && out !== undefined) preconditions.resourceVersion = out.metadata?.resourceVersion ?? '';
    if (finalizersRemoved) preconditions.resourceVersion = current.metadata?.resourceVersion ?? '';
    try {
      return await steps.remove(preconditions, finalizersRemoved);
    } catch (err) {
      if (isNotFound(err) && ignoreNotFound && out !== undefined) return { object: out, pending: false };
      // The state the finalizers were computed from changed: read again and start over (a
      // precondition of the client's then fails in BeforeDelete's words).
      if (finalizersRemoved && isConflict(err) && attempt < MAX_ATTEMPTS) {
        current = await steps.read();
        continue;
      }
      throw err;
    }
  }
}

/** A page of a deletecollection's list, and the deletes of its items. */
export interface CollectionSteps {
  /** One page of the collection (the request's list options, with `continue` and `limit` as given). */
  list(page: { limit: number; continue: string; resourceVersion?: string; resourceVersionMatch?: string }): Promise<ListResult>;
  /** Deletes one listed item (NotFound is ignored by the caller). */
  delete(item: KubeObject): Promise<void>;
}

/**
 * kube's Store.DeleteCollection: lists the collection page by page (the request's limit, else
 * pages of DELETE_COLLECTION_PAGE_SIZE; with a limit only the first page) and deletes every
 * listed item through the one-object delete, `workers` at a time; an item already gone is
 * skipped, any other failure stops the work and is answered. Answers the list of the items
 * listed (their state before the delete): the first page's metadata, or with a limit the page's.
 */
export async function deleteCollection(steps: CollectionSteps, request: { limit: number; continue: string; resourceVersion?: string; resourceVersionMatch?: string }, workers: number, signal?: AbortSignal): Promise<ListResult> {
  const hasLimit = request.limit > 0;
  const pageSize = hasLimit ? request.limit : DELETE_COLLECTION_PAGE_SIZE;
  const items: KubeObject[] = [];
  let first: ListResult | undefined;
  let page: ListResult;
  let options = { ...request, limit: pageSize };
  for (;;) {
    if (signal?.aborted === true) throw signal.reason instanceof StatusError ? signal.reason : new StatusError('Timeout', 'the request was cancelled');
    page = await steps.list(options);
    first ??= page;
    items.push(...page.items);
    await runAll(page.items, Math.max(1, workers), async (item) => {
      try {
        await steps.delete(item);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
    if (hasLimit || page.continue === '') break;
    options = { limit: pageSize, continue: page.continue };
  }
  if (hasLimit) return page;
  return { ...first, items };
}

/** Runs `work` on every item, at most `workers` at once; the first failure stops new work and is thrown once all running work ended. */
async function runAll<T>(items: readonly T[], workers: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, items.length) }, worker));
  if (failure !== undefined) throw failure.err;
}
