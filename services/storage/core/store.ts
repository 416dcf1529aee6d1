/**
 * The Storage semantics of kube-apiserver's etcd3 store and generic registry, written once
 * over a KeyValueEngine: the etcd backend and the memory backend are this class over their
 * engine, so they answer every request the same way (and the contract suite checks it).
 */
import { alreadyExists, badRequest, notFound, type Qualified } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import type { Logger } from '../../../lib/log.ts';
import { MalformedObjectLog } from '../../../lib/object-meta.ts';
import type { DeleteOptions, DeleteResult, EventsOptions, EventsResult, GetOptions, HistoryEvent, ListOptions, ListResult, Preconditions, Storage, StorageRef, UpdateOptions } from '../api.ts';
import { historyEvent } from './history.ts';
import { collectionPrefix, objectKey } from './keys.ts';
import { RevisionCompactedError, type KeyValue, type KeyValueEngine, type TxnResult } from './kv.ts';
import { RecentStates } from './recent-states.ts';
import { planList, readList } from './list.ts';
import {
  checkDeletePreconditions,
  checkUpdateUid,
  deletePreconditionsFail,
  uidMismatch,
  decodeStored,
  encodeForStorage,
  modifiedConflict,
  prepareCreate,
  prepareDelete,
  type PreparedDelete,
  prepareUpdate,
  storedAt,
} from './object-rules.ts';
import { parseUint64 } from '../../../lib/go-strconv.ts';
import { builtinRegistry, type KindRegistry } from '../../../lib/kinds/index.ts';
import { parseResourceVersion } from '../../../lib/list-options.ts';
import { DEFAULT_TOO_LARGE_RESOURCE_VERSION_WAIT_MS, objectResourceVersion, waitForRevision } from './resource-version.ts';
import { historyExpired } from './storage-errors.ts';

/** History answers are capped at this many events when the caller gives no limit. */
const DEFAULT_EVENTS_LIMIT = 10_000;

export interface KvStorageOptions {
  /**
   * How long a read with a resourceVersion newer than the store waits for it before answering
   * 504 "Too large resource version" (default 3 s, as kube's watch cache).
   */
  tooLargeResourceVersionWaitMs?: number;
  /** The clock deletionTimestamp is read from (tests pin it). */
  now?: () => Date;
  /**
   * Keys whose last seen state is remembered, so an update or delete can skip its read
   * (default 10,000; 0 turns it off). See recent-states.ts.
   */
  recentStates?: number;
  /**
   * The kinds served (their selectable fields and generation rules), followed as they change;
   * the built-in kinds when not given.
   */
  kinds?: KindRegistry;
  /** Where malformed stored objects that lists skip are reported (each once); not reported without. */
  logger?: Logger;
}

function qualified(ref: Pick<StorageRef, 'group' | 'resource'>): Qualified {
  return { group: ref.group, resource: ref.resource };
}

/** Storage over a key-value engine. Every method rejects with StatusError only. */
/**
 * Compare-and-swap attempts of one unconditional update or delete before it gives up with
 * Conflict: a key rewritten faster than we can follow must not keep a request (and etcd)
 * spinning for ever; the client retries, as on any Conflict.
 */
export const MAX_CAS_ATTEMPTS = 32;

export class KvStorage implements Storage {
  private readonly engine: KeyValueEngine;
  private readonly waitMs: number;
  private readonly now: () => Date;
  private readonly recent: RecentStates;
  private readonly malformed: MalformedObjectLog | undefined;
  private readonly kinds: KindRegistry;

  constructor(engine: KeyValueEngine, options: KvStorageOptions = {}) {
    this.engine = engine;
    this.malformed = options.logger === undefined ? undefined : new MalformedObjectLog(options.logger);
    this.recent = new RecentStates(options.recentStates ?? 10_000);
    this.waitMs = options.tooLargeResourceVersionWaitMs ?? DEFAULT_TOO_LARGE_RESOURCE_VERSION_WAIT_MS;
    this.now = options.now ?? (() => new Date());
    this.kinds = options.kinds ?? builtinRegistry();
  }

  async create(ref: StorageRef, object: KubeObject): Promise<KubeObject> {
    const key = objectKey(ref);
    const encoded = prepareCreate(object);
    const result = await this.write(key, () => this.engine.create(key, encoded.data));
    if (!result.succeeded) throw alreadyExists(qualified(ref), ref.name);
    this.recent.remember({ key, value: encoded.data, modRevision: result.revision, version: 1 });
    return storedAt(encoded, result.revision);
  }

  /**
   * The newest state (quorum read); resourceVersion "0" accepts any member's state; N waits
   * until the store has reached N (504 when it does not in time).
   */
  async get(ref: StorageRef, options: GetOptions = {}, signal?: AbortSignal): Promise<KubeObject> {
    const key = objectKey(ref);
    const minimum = parseResourceVersion(options.resourceVersion);
    let { kv, revision } = await this.engine.get(key, options.resourceVersion === '0');
    // As kube's store, the read comes first and its revision is checked against the minimum
    // (before NotFound); only a store that is behind costs the wait and a second read.
    if (BigInt(revision) < minimum) {
      await waitForRevision(minimum, () => this.engine.currentRevision(), this.waitMs, signal);
      ({ kv, revision } = await this.engine.get(key, false));
    }
    if (kv === undefined) throw notFound(qualified(ref), ref.name);
    this.recent.remember(kv);
    return decodeStored(kv.value, kv.modRevision);
  }

  async list(ref: StorageRef, options: ListOptions = {}, signal?: AbortSignal): Promise<ListResult> {
    const plan = planList(ref, options, this.kinds.selectableFields(ref.group, ref.resource));
    if (plan.minimum > 0n) await waitForRevision(plan.minimum, () => this.engine.currentRevision(), this.waitMs, signal);
    return readList(this.engine, plan, this.malformed);
  }

  /**
   * kube's GuaranteedUpdate with the registry's update function: NotFound, then the uid
   * precondition, then compare-and-swap on the resourceVersion the caller read (none or "0":
   * unconditional, retried on races). An update that changes nothing writes nothing. One that
   * removes the last finalizer of an object being deleted is not stored: the state it was
   * computed on is deleted (one change), and the answer is the update's object at the
   * deletion's revision. The update of a delete
   * (`options.deletion`) may set deletionTimestamp and deletionGracePeriodSeconds.
   */
  async update(ref: StorageRef, object: KubeObject, _signal?: AbortSignal, options: UpdateOptions = {}): Promise<KubeObject> {
    const key = objectKey(ref);
    const q = qualified(ref);
    const wanted = objectResourceVersion(object.metadata?.resourceVersion);
    // A delete's change is computed from one state: written on that state only.
    if (options.deletion === true && wanted === 0n) throw badRequest('the update of a delete must carry the resourceVersion it was computed from');
    const uid = object.metadata?.uid ?? '';
    // Start from the state last seen when there is one (see RecentStates): only a state read
    // from the store decides NotFound, Conflict or a failed precondition.
    let current = this.recent.get(key);
    let guessed = current !== undefined;
    if (current === undefined) current = await this.read(key);
    for (let attempt = 0; ; attempt++) {
      if (current === undefined) throw notFound(q, ref.name);
      if (attempt >= MAX_CAS_ATTEMPTS) throw modifiedConflict(q, ref.name);
      const stored = decodeStored(current.value, current.modRevision);
      const prepared = prepareUpdate(stored, object, this.kinds.generationRule(ref.group, ref.resource), options.deletion === true, this.kinds.deletionStrategy(ref.group, ref.resource));
      const unchanged = !prepared.remove && prepared.unchanged;
      const refused = uidMismatch(stored, uid) || (wanted !== 0n && wanted !== BigInt(current.modRevision)) || unchanged;
      if (refused && guessed) {
        guessed = false;
        current = await this.read(key);
        attempt--;
        continue;
      }
      checkUpdateUid(q, ref.name, key, stored, uid);
      if (wanted !== 0n && wanted !== BigInt(current.modRevision)) throw modifiedConflict(q, ref.name);
      if (unchanged) return stored;
      const encoded = encodeForStorage(prepared.object);
      const modRevision = current.modRevision;
      if (prepared.remove) {
        // kube's Store.Update (errEmptiedFinalizers, deleteWithoutFinalizers): the update is not
        // stored; the state it was computed on is deleted, so watchers see one DELETED.
        const removed = await this.write(key, () => this.engine.remove(key, modRevision));
        if (removed.succeeded) {
          this.recent.forget(key, removed.revision);
          return storedAt(encoded, removed.revision);
        }
        // Someone else deleted what was read: the object is gone all the same (kube ignores
        // that NotFound). A state only remembered is read again instead.
        if (removed.current === undefined && !guessed) return storedAt(encoded, removed.revision);
        current = removed.current ?? (await this.read(key));
        guessed = false;
        continue;
      }
      const put = await this.write(key, () => this.engine.replace(key, encoded.data, modRevision));
      if (!put.succeeded) {
        // Changed since it was read: try again on the state the transaction saw.
        current = put.current;
        guessed = false;
        continue;
      }
      this.recent.remember({ key, value: encoded.data, modRevision: put.revision, version: current.version + 1 });
      return storedAt(encoded, put.revision);
    }
  }

  /** The key's state from the store (a quorum read), remembered. */
  private async read(key: string): Promise<KeyValue | undefined> {
    const { kv } = await this.engine.get(key, false);
    if (kv !== undefined) this.recent.remember(kv);
    return kv;
  }

  /**
   * A compare-and-swap transaction; what it learns of the key is remembered. A failure of the
   * transaction itself (etcd unreachable) forgets the key: whether it was written is unknown.
   */
  private async write(key: string, txn: () => Promise<TxnResult>): Promise<TxnResult> {
    let result: TxnResult;
    try {
      result = await txn();
    } catch (err) {
      this.recent.forget(key, Number.MAX_SAFE_INTEGER);
      throw err;
    }
    if (!result.succeeded) {
      if (result.current !== undefined) this.recent.remember(result.current);
      else this.recent.forget(key, result.revision);
    }
    return result;
  }

  /**
   * Deletes if the preconditions hold. An object without finalizers is removed and returned
   * at the deletion's revision; one with finalizers is marked for deletion (pending) and
   * stays until an update removes them, unless the delete takes them away
   * (`options.finalizersRemoved`, only on the state its resourceVersion precondition names).
   */
  async delete(ref: StorageRef, preconditions: Preconditions = {}, _signal?: AbortSignal, options: DeleteOptions = {}): Promise<DeleteResult> {
    const key = objectKey(ref);
    const q = qualified(ref);
    const finalizersRemoved = options.finalizersRemoved === true;
    // Which finalizers a delete takes away is computed from one state: removed on that state only.
    if (finalizersRemoved && (preconditions.resourceVersion ?? '') === '') throw badRequest('a delete that removes the finalizers must carry the resourceVersion it was computed from');
    // As update: a remembered state is tried first, and never decides an error on its own.
    let current: KeyValue | undefined = this.recent.get(key);
    let guessed = current !== undefined;
    if (current === undefined) current = await this.read(key);
    // The first check against a state read from the store has kube's BeforeDelete words.
    let first = true;
    for (let attempt = 0; ; attempt++) {
      if (current === undefined) throw notFound(q, ref.name);
      if (attempt >= MAX_CAS_ATTEMPTS) throw modifiedConflict(q, ref.name);
      const stored = decodeStored(current.value, current.modRevision);
      const prepared: PreparedDelete = finalizersRemoved ? { action: 'remove' } : prepareDelete(stored, this.now(), this.kinds.deletionStrategy(ref.group, ref.resource));
      if (guessed && (deletePreconditionsFail(stored, preconditions) || prepared.action === 'none')) {
        guessed = false;
        current = await this.read(key);
        attempt--;
        continue;
      }
      checkDeletePreconditions(q, ref.name, key, stored, preconditions, first);
      if (!guessed) first = false;
      if (prepared.action === 'none') return { object: stored, pending: true };
      const modRevision = current.modRevision;
      if (prepared.action === 'mark') {
        const encoded = encodeForStorage(prepared.object);
        const put = await this.write(key, () => this.engine.replace(key, encoded.data, modRevision));
        if (put.succeeded) {
          this.recent.remember({ key, value: encoded.data, modRevision: put.revision, version: current.version + 1 });
          return { object: storedAt(encoded, put.revision), pending: true };
        }
        current = put.current;
      } else {
        const removed = await this.write(key, () => this.engine.remove(key, modRevision));
        if (removed.succeeded) {
          this.recent.forget(key, removed.revision);
          return { object: decodeStored(current.value, removed.revision), pending: false };
        }
        current = removed.current;
      }
      guessed = false;
    }
  }

  /**
   * The committed changes of one resource with revisions in (fromRevision, toRevision]. Expired
   * ("too old resource version: <from> (<compacted>)") when the store cannot be read at
   * fromRevision any more; 504 when toRevision is newer than the store.
   */
  async events(ref: Pick<StorageRef, 'group' | 'resource'>, options: EventsOptions, signal?: AbortSignal): Promise<EventsResult> {
    const prefix = collectionPrefix({ ...ref, namespace: '', name: '' });
    const from = revisionArgument('fromRevision', options.fromRevision);
    let to: number;
    if (options.toRevision === undefined || options.toRevision === '') {
      to = await this.engine.currentRevision();
    } else {
      to = revisionArgument('toRevision', options.toRevision);
      if (to < from) throw badRequest(`invalid toRevision: ${options.toRevision} is older than fromRevision ${options.fromRevision}`);
      await waitForRevision(BigInt(to), () => this.engine.currentRevision(), this.waitMs, signal);
    }
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : DEFAULT_EVENTS_LIMIT;
    let raw;
    try {
      raw = await this.engine.history(prefix, from, Math.max(to, from), limit);
    } catch (err) {
      if (err instanceof RevisionCompactedError) throw historyExpired(from, await this.engine.compactedRevision());
      throw err;
    }
    const events: HistoryEvent[] = [];
    for (const change of raw.changes) {
      const event = historyEvent(change);
      if (event !== undefined) events.push(event);
    }
    return { events, resourceVersion: String(raw.resourceVersion), more: raw.more };
  }

  async currentRevision(): Promise<string> {
    return String(await this.engine.currentRevision());
  }

  /**
   * Discards history before `revision` (etcd's compaction): reads, lists and history at older
   * revisions get 410 afterwards. A revision already compacted is a no-op; one newer than
   * the store is BadRequest.
   */
  async compact(revision: string): Promise<void> {
    const r = revisionArgument('revision', revision);
    const current = await this.engine.currentRevision();
    if (r > current) throw badRequest(`cannot compact at revision ${r}: the store is at revision ${current}`);
    await this.engine.compact(r);
  }
}

/** A revision given as an argument: a non-negative integer, BadRequest otherwise. */
export function revisionArgument(what: string, raw: string): number {
  const parsed = parseUint64(raw);
  if ('error' in parsed || parsed.value > BigInt(Number.MAX_SAFE_INTEGER)) throw badRequest(`invalid ${what}: ${JSON.stringify(raw)}`);
  return Number(parsed.value);
}

