/**
 * The embedded backend: Storage and ChangeSource in one process, with etcd's behaviour (one
 * global revision starting at 1 and rising by one per write, keys in byte order, reads at past
 * revisions until compacted, history with previous values) and kube's semantics from the same
 * core as the etcd backend. For fast tests and a single-process mode; nothing survives the
 * process.
 */
import type { StatusError } from '../../../lib/errors.ts';
import type {
  ChangeSource,
  ChangeSubscription,
  CommittedChange,
  Storage,
} from '../api.ts';
import { deletedKeyValue, storedChange } from '../core/history.ts';
import { compareKeys } from '../core/keys.ts';
import {
  RevisionCompactedError,
  RevisionInFutureError,
  type KeyValue,
  type KeyValueEngine,
  type RangeRequest,
  type RangeResponse,
  type RawChange,
  type RawHistory,
  type TxnResult,
} from '../core/kv.ts';
import { historyExpired } from '../core/storage-errors.ts';
import { KvStorage, revisionArgument, type KvStorageOptions } from '../core/store.ts';

/** A committed change in the log; kv.modRevision is its revision. */
type LogEntry = RawChange;

interface Subscriber {
  /** The last revision handed to onChanges. */
  delivered: number;
  onChanges(changes: CommittedChange[]): void;
}

/** The first index of `entries` whose revision is greater than `revision` (entries ascend). */
function firstAfter(entries: readonly LogEntry[], revision: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] as LogEntry).kv.modRevision <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function keyInRange(key: string, request: Pick<RangeRequest, 'start' | 'end'>): boolean {
  return compareKeys(key, request.start) >= 0 && Buffer.compare(Buffer.from(key), request.end) < 0;
}

/**
 * etcd's data model in memory. Every method runs to completion without awaiting, so each
 * write is atomic and the event loop guards all fields below.
 */
export class MemoryEngine implements KeyValueEngine {
  /** The newest revision; a fresh etcd is at 1. */
  private revision = 1;
  /** The last compaction revision: reads at older revisions fail (0: never compacted). */
  private compacted = 0;
  /** key -> newest state. */
  private readonly state = new Map<string, KeyValue>();
  /** The keys of `state` in byte order. */
  private readonly keys: string[] = [];
  /** Every change after `compacted`, in revision order: enough to read any revision since. */
  private readonly log: LogEntry[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private flushScheduled = false;

  async get(key: string): Promise<{ kv: KeyValue | undefined; revision: number }> {
    return { kv: this.state.get(key), revision: this.revision };
  }

  async range(request: RangeRequest): Promise<RangeResponse> {
    const at = request.revision === 0 ? this.revision : request.revision;
    if (at < this.compacted) throw new RevisionCompactedError();
    if (at > this.revision) throw new RevisionInFutureError(this.revision);
    const all = at === this.revision ? this.currentRange(request) : this.pastRange(request, at);
    const kvs = request.limit > 0 ? all.slice(0, request.limit) : all;
    return { kvs, more: kvs.length < all.length, count: all.length, revision: this.revision };
  }

  /** The keys in range now, from the sorted key list. */
  private currentRange(request: RangeRequest): KeyValue[] {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.keys[mid] as string, request.start) < 0) lo = mid + 1;
      else hi = mid;
    }
    const out: KeyValue[] = [];
    for (let i = lo; i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (Buffer.compare(Buffer.from(key), request.end) >= 0) break;
      out.push(this.state.get(key) as KeyValue);
    }
    return out;
  }

  /** The keys in range at a past revision: today's state with every later change undone. */
  private pastRange(request: RangeRequest, at: number): KeyValue[] {
    const snapshot = new Map<string, KeyValue>();
    for (const kv of this.currentRange(request)) snapshot.set(kv.key, kv);
    for (let i = this.log.length - 1; i >= 0; i--) {
      const entry = this.log[i] as LogEntry;
      if (entry.kv.modRevision <= at) break;
      if (!keyInRange(entry.kv.key, request)) continue;
      if (entry.prevKv === undefined) snapshot.delete(entry.kv.key);
      else snapshot.set(entry.kv.key, entry.prevKv);
    }
    return [...snapshot.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  async create(key: string, value: string): Promise<TxnResult> {
    const existing = this.state.get(key);
    if (existing !== undefined) return { succeeded: false, revision: this.revision, current: existing };
    this.commit({ type: 'Put', kv: { key, value, modRevision: this.revision + 1, version: 1 } });
    return { succeeded: true, revision: this.revision };
  }

  async replace(key: string, value: string, modRevision: number): Promise<TxnResult> {
    const existing = this.state.get(key);
    if (existing === undefined || existing.modRevision !== modRevision) return { succeeded: false, revision: this.revision, current: existing };
    this.commit({ type: 'Put', kv: { key, value, modRevision: this.revision + 1, version: existing.version + 1 }, prevKv: existing });
    return { succeeded: true, revision: this.revision };
  }

  async remove(key: string, modRevision: number): Promise<TxnResult> {
    const existing = this.state.get(key);
    if (existing === undefined || existing.modRevision !== modRevision) return { succeeded: false, revision: this.revision, current: existing };
    this.commit({ type: 'Delete', kv: deletedKeyValue(key, this.revision + 1), prevKv: existing });
    return { succeeded: true, revision: this.revision };
  }

  /** Applies one change at the next revision and tells subscribers (after this tick). */
  private commit(change: LogEntry): void {
    this.revision = change.kv.modRevision;
    const key = change.kv.key;
    const index = this.keyIndex(key);
    if (change.type === 'Put') {
      if (!this.state.has(key)) this.keys.splice(index, 0, key);
      this.state.set(key, change.kv);
    } else {
      this.state.delete(key);
      this.keys.splice(index, 1);
    }
    this.log.push(change);
    this.scheduleFlush();
  }

  /** Where `key` is, or would be inserted, in the sorted key list. */
  private keyIndex(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.keys[mid] as string, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async currentRevision(): Promise<number> {
    return this.revision;
  }

  async history(prefix: string, from: number, to: number, limit: number): Promise<RawHistory> {
    this.checkReadable(from);
    const changes: RawChange[] = [];
    if (to <= from) return { changes, resourceVersion: to, more: false };
    for (let i = firstAfter(this.log, from); i < this.log.length; i++) {
      const entry = this.log[i] as LogEntry;
      const revision = entry.kv.modRevision;
      if (revision > to) break;
      // The same cut as the etcd backend's replay: at the limit, but only between revisions.
      const last = changes[changes.length - 1]?.kv.modRevision;
      if (changes.length >= limit && last !== undefined && revision > last) return { changes, resourceVersion: last, more: true };
      if (entry.kv.key.startsWith(prefix)) changes.push(entry);
    }
    return { changes, resourceVersion: to, more: false };
  }

  /** History after `from` needs the store as it was at `from` (revision 0 reads as 1). */
  private checkReadable(from: number): void {
    if (Math.max(from, 1) < this.compacted) throw new RevisionCompactedError();
  }

  async compactedRevision(): Promise<number> {
    return Math.max(this.compacted, 1);
  }

  async compact(revision: number): Promise<void> {
    if (revision <= this.compacted) return;
    if (revision > this.revision) throw new RevisionInFutureError(this.revision);
    // Subscribers get everything committed so far first: a caught-up watcher is never cut
    // off by compaction, as etcd's synced watchers are not.
    this.flush();
    this.compacted = revision;
    this.log.splice(0, firstAfter(this.log, revision));
  }

  /** Starts delivering changes after `from` to `onChanges`; see ChangeSource.watchChanges. */
  subscribe(from: number, onChanges: (changes: CommittedChange[]) => void, onError: (err: StatusError) => void): ChangeSubscription {
    if (Math.max(from, 1) < this.compacted) {
      const compacted = this.compacted;
      setImmediate(() => onError(historyExpired(from, compacted)));
      return { close: async () => {} };
    }
    const subscriber: Subscriber = { delivered: from, onChanges };
    this.subscribers.add(subscriber);
    this.scheduleFlush();
    return {
      close: async () => {
        this.subscribers.delete(subscriber);
      },
    };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.subscribers.size === 0) return;
    this.flushScheduled = true;
    // Delivery is asynchronous, as from etcd's watch: a writer's call returns before its event.
    setImmediate(() => this.flush());
  }

  /** Hands every subscriber the changes after the last revision it got, as one batch. */
  private flush(): void {
    this.flushScheduled = false;
    for (const subscriber of [...this.subscribers]) {
      const start = firstAfter(this.log, subscriber.delivered);
      if (start >= this.log.length) continue;
      const batch: CommittedChange[] = [];
      for (let i = start; i < this.log.length; i++) {
        const entry = this.log[i] as LogEntry;
        const change = storedChange(entry);
        if (change !== undefined) batch.push(change);
      }
      subscriber.delivered = (this.log[this.log.length - 1] as LogEntry).kv.modRevision;
      if (batch.length === 0) continue;
      try {
        subscriber.onChanges(batch);
      } catch (err) {
        // A throwing handler is a bug of its own; it must not stop delivery to the others.
        setImmediate(() => {
          throw err;
        });
      }
    }
  }
}

/** Options of the memory backend; see KvStorageOptions. */
export type MemoryStorageOptions = KvStorageOptions;

/**
 * Storage and ChangeSource in memory. Every method rejects with StatusError only, with the
 * same Statuses as the etcd backend.
 */
export class MemoryStorage extends KvStorage implements Storage, ChangeSource {
  /** The same engine KvStorage writes through; its log feeds watchChanges. */
  private readonly memory: MemoryEngine;

  /**
   * `engine`: the store to serve, when the caller keeps a hand on it (tests write values
   * through it past every rule of this class, as another writer of etcd could).
   */
  constructor(options: MemoryStorageOptions = {}, engine = new MemoryEngine()) {
    super(engine, options);
    this.memory = engine;
  }

  /**
   * Every committed change after `fromRevision`, in revision order, batched per tick, until
   * closed. Expired (through onError) when that revision has been compacted. The memory
   * store is never unreachable, so ServiceUnavailable never comes.
   */
  async watchChanges(
    fromRevision: string,
    onChanges: (changes: CommittedChange[]) => void,
    onError: (err: StatusError) => void,
  ): Promise<ChangeSubscription> {
    return this.memory.subscribe(revisionArgument('fromRevision', fromRevision), onChanges, onError);
  }

}

