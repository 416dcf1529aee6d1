/**
 * The key-value engine every backend provides: the few etcd operations kube-apiserver's etcd3
 * store is built from (a read, a range at a revision, and three compare-and-swap transactions),
 * plus history and compaction. The Storage semantics on top (core/store.ts) are written once
 * against this interface, so the etcd and memory backends behave the same by construction.
 *
 * Engines report two conditions with the marker errors below instead of StatusErrors, because
 * the right Status depends on the caller (a compacted list with a continue token gets a
 * different message than one with resourceVersionMatch=Exact); core/store.ts turns them into
 * StatusErrors and never lets them escape. Everything else an engine throws is a StatusError.
 */

/** One key as etcd reports it. */
export interface KeyValue {
  key: string;
  /** The stored JSON text. */
  value: string;
  /** Revision of the last write of this key. */
  modRevision: number;
  /** Writes since the key was (re)created: 1 for a new key, as etcd counts. */
  version: number;
}

/** A range read over [start, end), etcd's Range. */
export interface RangeRequest {
  start: string;
  /** Exclusive end as bytes (etcd compares keys bytewise); see keys.ts prefixEnd. */
  end: Buffer;
  /** At most this many keys; 0 for all. */
  limit: number;
  /** Read the store as it was at this revision; 0 for the newest. */
  revision: number;
  /** Any member's state instead of a quorum read (only meaningful with revision 0). */
  serializable: boolean;
}

export interface RangeResponse {
  /** Keys in byte order. */
  kvs: KeyValue[];
  /** True when `limit` left keys out. */
  more: boolean;
  /** Keys in the whole range at that revision, whatever the limit. */
  count: number;
  /** The store's revision the read saw (the header revision; not the requested one). */
  revision: number;
}

/** The outcome of a compare-and-swap transaction. */
export interface TxnResult {
  succeeded: boolean;
  /** The store's revision after the transaction. */
  revision: number;
  /** When it failed: the key's current state (absent when the key is gone). */
  current?: KeyValue | undefined;
}

/** One committed change of a key, as etcd's watch reports it. */
export interface RawChange {
  type: 'Put' | 'Delete';
  /** For Put the new state; for Delete the key with modRevision = the deletion's revision. */
  kv: KeyValue;
  /** The state before the change, when there was one. */
  prevKv?: KeyValue | undefined;
}

export interface RawHistory {
  changes: RawChange[];
  /** The revision the answer is complete up to. */
  resourceVersion: number;
  more: boolean;
}

export interface KeyValueEngine {
  /** The newest state of one key (quorum read unless `serializable`), and the store's revision. */
  get(key: string, serializable: boolean): Promise<{ kv: KeyValue | undefined; revision: number }>;
  /** A range read; throws RevisionCompactedError / RevisionInFutureError for such revisions. */
  range(request: RangeRequest): Promise<RangeResponse>;
  /** Puts `value` only if `key` does not exist. */
  create(key: string, value: string): Promise<TxnResult>;
  /** Puts `value` only if `key` still has `modRevision`. */
  replace(key: string, value: string, modRevision: number): Promise<TxnResult>;
  /** Deletes `key` only if it still has `modRevision`. */
  remove(key: string, modRevision: number): Promise<TxnResult>;
  /** The newest revision of the store. */
  currentRevision(): Promise<number>;
  /**
   * The changes of keys under `prefix` with revisions in (from, to], in revision order, at
   * most `limit` of them (`more` when cut short; resourceVersion is then the last one's
   * revision). Throws RevisionCompactedError when the store cannot be read at `from`.
   */
  history(prefix: string, from: number, to: number, limit: number): Promise<RawHistory>;
  /** The oldest revision the store can still be read at (etcd's compaction revision, or 1). */
  compactedRevision(): Promise<number>;
  /**
   * Discards history before `revision` (etcd's compaction: reads at older revisions fail,
   * `revision` itself stays readable). A revision at or below the last compaction is a no-op.
   */
  compact(revision: number): Promise<void>;
}

/** A read at a revision older than the last compaction. */
export class RevisionCompactedError extends Error {
  constructor() {
    super('required revision has been compacted');
    this.name = 'RevisionCompactedError';
  }
}

/** A read at a revision the store has not reached. */
export class RevisionInFutureError extends Error {
  /** The store's newest revision, when the engine knows it. */
  readonly current: number | undefined;

  constructor(current?: number) {
    super('required revision is a future revision');
    this.name = 'RevisionInFutureError';
    this.current = current;
  }
}
