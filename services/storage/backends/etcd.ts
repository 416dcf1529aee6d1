/**
 * The etcd backend of Storage: the only module of the project that reads or writes etcd keys
 * of objects. It provides the key-value engine (reads, ranges at a revision, compare-and-swap
 * transactions, history replay, compaction); the Storage semantics on top are core/store.ts,
 * shared with the memory backend. resourceVersion is the etcd mod revision; objects are stored
 * as JSON without their resourceVersion (it is the key's revision, filled in on every read).
 */
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  ClientClosedError,
  Etcd3,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  type IEvent,
  type IOptions,
  type IKeyValue,
} from 'etcd3';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ExponentialBackoff, noop, type IBackoff } from 'cockatiel';
import { badRequest, StatusError } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { MAX_MESSAGE_BYTES } from '../../../lib/grpc/limits.ts';
import { setClientPeer } from '../../../lib/grpc/trace-context.ts';
import { ATTR_DB_OPERATION_NAME, ATTR_DB_SYSTEM, ATTR_DB_SYSTEM_NAME } from '../../../lib/semconv.ts';
import type {
  ChangeSource,
  ChangeSubscription,
  CommittedChange,
  Storage,
} from '../api.ts';
import { deletedKeyValue } from '../core/history.ts';
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
import { decodeStored, MAX_OBJECT_BYTES as CORE_MAX_OBJECT_BYTES } from '../core/object-rules.ts';
import { entityTooLarge } from '../core/storage-errors.ts';
import { KvStorage, type KvStorageOptions } from '../core/store.ts';
import type { WriteTraceIndex } from '../core/write-trace-index.ts';
import { createResumingWatch, watchEtcdChanges } from './etcd-changes.ts';
import { EtcdKv, type EtcdKeyValue, type EtcdTxnResponse } from './etcd-kv.ts';
import type { Metrics } from '../../../lib/metrics.ts';
import { meteredEngine } from './metered-engine.ts';

/** etcd's default --max-request-bytes; a larger object would fail with an etcd error text. */
export const MAX_OBJECT_BYTES = CORE_MAX_OBJECT_BYTES;

export interface EtcdBackendOptions extends KvStorageOptions {
  /** Comma-separated endpoints, e.g. "http://127.0.0.1:2379". */
  endpoints: string;
  tracer: Tracer;
  /** Deadline of each etcd call (default 5 s): an unreachable etcd fails fast, not after minutes. */
  requestTimeoutMs?: number;
  /** Records which trace wrote which revision, for the changefeed. */
  writeTraces?: WriteTraceIndex;
}

/**
 * The etcd client of storage: etcd3 (watches, leases, the election, and tests' direct access)
 * plus `kvCalls`, the short path for the KV calls of every request (see etcd-kv.ts). close()
 * closes both.
 */
export class EtcdClient extends Etcd3 {
  readonly kvCalls: EtcdKv;

  constructor(options: IOptions, kvCalls: EtcdKv) {
    super(options);
    this.kvCalls = kvCalls;
  }

  override close(): void {
    this.kvCalls.close();
    super.close();
  }
}

/**
 * Creates the etcd client. Retries are disabled (no global retry, no circuit breaker): a
 * create transaction retried after a lost reply would report AlreadyExists for a write that
 * went through, and a breaker would keep failing after etcd is back. Watches reconnect with a
 * short backoff.
 */
export function createEtcdClient(endpoints: string, requestTimeoutMs = 5_000): EtcdClient {
  const hosts = endpoints.split(',').map((h) => h.trim()).filter((h) => h !== '');
  return new EtcdClient({
    hosts,
    dialTimeout: requestTimeoutMs,
    // Watch streams reconnect quickly (at most 2 s apart) once etcd is back.
    faultHandling: {
      host: () => noop,
      global: noop,
      // etcd3 builds its own default the same way; its typings name the older IBackoff type.
      watchBackoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 2_000 }) as unknown as IBackoff<unknown>,
    },
    grpcOptions: {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
  }, new EtcdKv(hosts, requestTimeoutMs));
}

/** etcd's "could not answer": unreachable, too slow, or the call was cut by close(). */
const UNAVAILABLE_CODES = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]);

function isGrpcError(err: unknown): err is Error & { code: number } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number';
}

/** Turns an etcd client failure into the Status callers see; never echoes etcd internals. */
export function translateEtcdError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    err instanceof ClientClosedError ||
    (isGrpcError(err) && UNAVAILABLE_CODES.has(err.code))
  ) {
    return new StatusError('ServiceUnavailable', 'storage is unavailable: etcd did not answer in time');
  }
  if (err instanceof Error && err.message.includes('request is too large')) return entityTooLarge();
  return new StatusError('InternalError', 'storage error: unexpected answer from etcd');
}

/** Parses a stored value and stamps its resourceVersion. */
export function decode(value: Buffer, revision: string): KubeObject {
  return decodeStored(value.toString('utf8'), revision);
}

/** etcd3's key-value record as the core's. */
function keyValue(kv: IKeyValue | EtcdKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value === undefined ? '' : kv.value.toString('utf8'),
    modRevision: Number(kv.mod_revision ?? 0),
    version: Number(kv.version ?? 0),
  };
}

/** One etcd watch event as the core's change record (etcd3 reports a missing previous value as null). */
export function rawChange(event: IEvent): RawChange {
  const prevKv = event.prev_kv === null || event.prev_kv === undefined ? undefined : keyValue(event.prev_kv);
  if (event.type === 'Delete') return { type: 'Delete', kv: deletedKeyValue(event.kv.key.toString('utf8'), Number(event.kv.mod_revision)), prevKv };
  return { type: 'Put', kv: keyValue(event.kv), prevKv };
}

/** The key kube-apiserver's compactor keeps the last compacted revision in. */
export const COMPACT_REVISION_KEY = 'compact_rev_key';

/** How long a history replay may take. */
const HISTORY_TIMEOUT_MS = 10_000;

function isCompacted(err: unknown): boolean {
  return err instanceof Error && err.message.includes('required revision has been compacted');
}

function isFutureRevision(err: unknown): boolean {
  return err instanceof Error && err.message.includes('required revision is a future revision');
}

/** The engine over etcd: one etcd call per method, each in a CLIENT span. */
class EtcdEngine implements KeyValueEngine {
  private readonly client: EtcdClient;
  private readonly kv: EtcdKv;
  private readonly tracer: Tracer;
  private readonly writeTraces: WriteTraceIndex | undefined;

  constructor(client: EtcdClient, tracer: Tracer, writeTraces: WriteTraceIndex | undefined) {
    this.client = client;
    this.kv = client.kvCalls;
    this.tracer = tracer;
    this.writeTraces = writeTraces;
  }

  /**
   * Runs one etcd call inside a CLIENT span named after the etcd operation. Failures become
   * StatusErrors, except the revision markers the core turns into the right Status itself.
   */
  private async etcd<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(
      `etcd ${operation}`,
      {
        kind: SpanKind.CLIENT,
        // db.system is the older name of db.system.name, still what many back ends filter on.
        attributes: { [ATTR_DB_SYSTEM_NAME]: 'etcd', [ATTR_DB_SYSTEM]: 'etcd', [ATTR_DB_OPERATION_NAME]: operation, 'db.etcd.key': key },
      },
      async (span) => {
        try {
          const result = fn();
          // The endpoint is chosen synchronously when the call starts.
          if (span.isRecording()) setClientPeer(span, this.kv.lastEndpoint);
          return await result;
        } catch (err) {
          if (err instanceof RevisionCompactedError || err instanceof RevisionInFutureError) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: 'Expired' });
            throw err;
          }
          const status = translateEtcdError(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: status.reason });
          throw status;
        } finally {
          span.end();
        }
      },
    );
  }

  async get(key: string, serializable: boolean): Promise<{ kv: KeyValue | undefined; revision: number }> {
    const response = await this.etcd('Range', key, () => this.kv.range({ key: Buffer.from(key), serializable }));
    const kv = response.kvs?.[0];
    return { kv: kv === undefined ? undefined : keyValue(kv), revision: response.header?.revision ?? 0 };
  }

  async range(request: RangeRequest): Promise<RangeResponse> {
    const response = await this.etcd('Range', request.start, async () => {
      try {
        return await this.kv.range({
          key: Buffer.from(request.start),
          range_end: request.end,
          limit: request.limit,
          revision: request.revision,
          serializable: request.serializable,
        });
      } catch (err) {
        if (isCompacted(err)) throw new RevisionCompactedError();
        if (isFutureRevision(err)) throw new RevisionInFutureError();
        throw err;
      }
    });
    return { kvs: (response.kvs ?? []).map(keyValue), more: response.more === true, count: response.count ?? 0, revision: response.header?.revision ?? 0 };
  }

  /** A write transaction, announced to the write-trace index first (its watch event may beat the reply). */
  private async write(key: string, modRevision: number, value: string | undefined): Promise<TxnResult> {
    const forget = this.writeTraces?.begin(key);
    const response: EtcdTxnResponse = await this.etcd('Txn', key, () => this.kv.swap(key, modRevision, value));
    const revision = response.header?.revision ?? 0;
    if (response.succeeded === true) return { succeeded: true, revision };
    forget?.();
    const kv = response.responses?.[0]?.response_range?.kvs?.[0];
    return { succeeded: false, revision, current: kv === undefined ? undefined : keyValue(kv) };
  }

  create(key: string, value: string): Promise<TxnResult> {
    return this.write(key, 0, value);
  }

  replace(key: string, value: string, modRevision: number): Promise<TxnResult> {
    return this.write(key, modRevision, value);
  }

  remove(key: string, modRevision: number): Promise<TxnResult> {
    return this.write(key, modRevision, undefined);
  }

  async currentRevision(): Promise<number> {
    const response = await this.etcd('Range', '/', () => this.kv.range({ key: Buffer.from('\x00'), limit: 1, keys_only: true, count_only: true }));
    return response.header?.revision ?? 0;
  }

  /** Whether etcd can still be read at `revision`. */
  private async readable(revision: number): Promise<boolean> {
    try {
      await this.kv.range({ key: Buffer.from('\x00'), limit: 1, keys_only: true, revision });
      return true;
    } catch (err) {
      if (isCompacted(err)) return false;
      throw err;
    }
  }

  /**
   * etcd does not tell its compaction revision (a compacted read or a cancelled watch says
   * only that it was compacted), so it is found by bisection on reads at past revisions. Only
   * used to word an Expired answer.
   */
  async compactedRevision(): Promise<number> {
    return this.etcd('Range', '/', async () => {
      let lo = 1;
      let hi = await this.currentRevision();
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (await this.readable(mid)) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    });
  }

  async compact(revision: number): Promise<void> {
    await this.etcd('Compact', '/', async () => {
      try {
        await this.kv.compact(revision);
      } catch (err) {
        // Another replica (or an earlier call) compacted past it already: nothing left to do.
        if (isCompacted(err)) return;
        if (isFutureRevision(err)) throw badRequest(`cannot compact at revision ${revision}: it is newer than the store`);
        throw err;
      }
    });
  }

  async history(prefix: string, from: number, to: number, limit: number): Promise<RawHistory> {
    // The store must be readable at `from` (a fresh store's first revision is 1).
    const start = Math.max(from, 1);
    await this.etcd('Range', prefix, async () => {
      if (!(await this.readable(start))) throw new RevisionCompactedError();
    });
    if (to <= from) return { changes: [], resourceVersion: to, more: false };
    return this.etcd('Watch', prefix, () => replayHistory(this.client, prefix, from, to, limit));
  }
}

/**
 * The changes under `prefix` with revisions in (from, to], read by replaying etcd's history: a
 * watch over the whole key space from from + 1, because every revision up to `to` is one write
 * to some key, so the replay is known complete when it reaches `to` (a watch on `prefix` alone
 * would wait forever when the prefix had no change up to `to`).
 */
async function replayHistory(client: Etcd3, prefix: string, from: number, to: number, limit: number): Promise<RawHistory> {
  // Resuming after the last event delivered, so that a member stopping mid-way skips nothing.
  const watcher = await createResumingWatch(client.watch().inRange({ start: Buffer.from([0]), end: Buffer.from([0]) }).withPreviousKV().startRevision(String(from + 1)));
  try {
    return await new Promise<RawHistory>((resolve, reject) => {
      const changes: RawChange[] = [];
      // A replay that does not reach `to` in time (etcd unreachable mid-way) fails, never hangs.
      const timer = setTimeout(
        () => reject(new StatusError('ServiceUnavailable', 'storage is unavailable: etcd history did not arrive in time')),
        HISTORY_TIMEOUT_MS,
      );
      const done = (result: RawHistory) => {
        clearTimeout(timer);
        resolve(result);
      };
      watcher.on('error', (err) => {
        clearTimeout(timer);
        reject(isCompacted(err) || /compact|cancel/i.test(err.message) ? new RevisionCompactedError() : err);
      });
      let finished = false;
      watcher.on('data', (response) => {
        if (finished) return;
        // One revision may hold several keys (a multi-key transaction), delivered together
        // in one watch response: a page ends only between revisions, never inside one.
        const onEvents = (batch: IEvent[]): RawHistory | undefined => {
          for (const event of batch) {
            const revision = Number(event.kv.mod_revision);
            if (revision > to) return { changes, resourceVersion: to, more: false };
            const last = changes[changes.length - 1]?.kv.modRevision;
            if (changes.length >= limit && last !== undefined && revision > last) return { changes, resourceVersion: last, more: true };
            if (event.kv.key.toString('utf8').startsWith(prefix)) changes.push(rawChange(event));
          }
          // etcd sends a revision's events in one response, so a batch ending at `to` is complete.
          const end = Number(batch[batch.length - 1]?.kv.mod_revision ?? 0);
          return end >= to ? { changes, resourceVersion: to, more: false } : undefined;
        };
        const result = onEvents(response.events);
        if (result !== undefined) {
          finished = true;
          done(result);
        }
      });
    });
  } finally {
    await watcher.cancel();
  }
}

/** Options of the etcd backend's Storage over an existing client. */
export type EtcdStorageOptions = Pick<EtcdBackendOptions, 'tracer' | 'writeTraces' | 'tooLargeResourceVersionWaitMs' | 'now' | 'logger' | 'kinds'> & {
  /** Where etcd_request_duration_seconds and its counters go (backends/metered-engine.ts). */
  metrics?: Metrics | undefined;
};

/**
 * Storage and ChangeSource over etcd. Every method rejects with StatusError only; while etcd
 * is unreachable, with ServiceUnavailable within the client's deadline.
 */
export class EtcdStorage extends KvStorage implements Storage, ChangeSource {
  readonly client: EtcdClient;

  constructor(client: EtcdClient, options: EtcdStorageOptions) {
    super(meteredEngine(new EtcdEngine(client, options.tracer, options.writeTraces), options.metrics), options);
    this.client = client;
  }

  /** etcd's watch over every object key; see backends/etcd-changes.ts. */
  watchChanges(
    fromRevision: string,
    onChanges: (changes: CommittedChange[]) => void,
    onError: (err: StatusError) => void,
  ): Promise<ChangeSubscription> {
    return watchEtcdChanges(this.client, fromRevision, onChanges, onError);
  }
}
