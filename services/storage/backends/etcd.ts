/**
 * The etcd backend of Storage: the only module of the project that reads or writes etcd keys
 * of objects. resourceVersion is the etcd mod revision; objects are stored as JSON without
 * their resourceVersion (it is the key's revision, filled in on every read).
 */
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  ClientClosedError,
  Etcd3,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  type IEvent,
  type IKeyValue,
  type IRangeResponse,
} from 'etcd3';
import { ExponentialBackoff, noop, type IBackoff } from 'cockatiel';
import {
  alreadyExists,
  badRequest,
  conflict,
  notFound,
  StatusError,
  type Qualified,
} from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { isPlainObject } from '../../../lib/kube.ts';
import { MAX_MESSAGE_BYTES } from '../../../lib/grpc.ts';
import type {
  DeleteResult,
  EventsOptions,
  EventsResult,
  GetOptions,
  HistoryEvent,
  ListOptions,
  ListResult,
  Preconditions,
  Storage,
  StorageRef,
} from '../api.ts';
import { modifiedConflict, prepareDelete, prepareUpdate } from '../core/object-rules.ts';
import { decodeContinue, encodeContinue } from '../core/continue-token.ts';
import { collectionPrefix, objectKey, prefixEnd } from '../core/keys.ts';
import type { WriteTraceIndex } from '../core/write-trace-index.ts';

/** etcd's default --max-request-bytes; a larger object would fail with an etcd error text. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

export interface EtcdBackendOptions {
  /** Comma-separated endpoints, e.g. "http://127.0.0.1:2379". */
  endpoints: string;
  tracer: Tracer;
  /** Deadline of each etcd call (default 5 s): an unreachable etcd fails fast, not after minutes. */
  requestTimeoutMs?: number;
  /** Records which trace wrote which revision, for the changefeed. */
  writeTraces?: WriteTraceIndex;
}

/**
 * Creates the etcd3 client. Retries are disabled (no global retry, no circuit breaker): a
 * create transaction retried after a lost reply would report AlreadyExists for a write that
 * went through, and a breaker would keep failing after etcd is back. Watches reconnect with a
 * short backoff.
 */
export function createEtcdClient(endpoints: string, requestTimeoutMs = 5_000): Etcd3 {
  return new Etcd3({
    hosts: endpoints.split(',').map((h) => h.trim()).filter((h) => h !== ''),
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
  });
}

/** Turns an etcd client failure into the Status callers see; never echoes etcd internals. */
export function translateEtcdError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    err instanceof ClientClosedError
  ) {
    return new StatusError('ServiceUnavailable', 'storage is unavailable: etcd did not answer in time');
  }
  if (err instanceof Error && err.message.includes('request is too large')) {
    return new StatusError('RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
  }
  return new StatusError('InternalError', 'storage error: unexpected answer from etcd');
}

function qualified(ref: StorageRef): Qualified {
  return { group: ref.group, resource: ref.resource };
}

/** Parses a stored value and stamps its resourceVersion. */
export function decode(value: Buffer, revision: string): KubeObject {
  const parsed: unknown = JSON.parse(value.toString('utf8'));
  if (!isPlainObject(parsed)) throw new StatusError('InternalError', 'storage error: stored value is not an object');
  const object = parsed as KubeObject;
  object.metadata = { ...(object.metadata ?? {}), resourceVersion: revision };
  return object;
}

/** The JSON stored for an object: without resourceVersion, which is the key's revision. */
function encodeForStorage(object: KubeObject): string {
  const metadata = { ...(object.metadata ?? {}) };
  delete metadata.resourceVersion;
  const data = JSON.stringify({ ...object, metadata });
  if (Buffer.byteLength(data) > MAX_OBJECT_BYTES) {
    throw new StatusError('RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
  }
  return data;
}

export class EtcdStorage implements Storage {
  readonly client: Etcd3;
  private readonly tracer: Tracer;
  private readonly writeTraces: WriteTraceIndex | undefined;

  constructor(client: Etcd3, options: Pick<EtcdBackendOptions, 'tracer' | 'writeTraces'>) {
    this.client = client;
    this.tracer = options.tracer;
    this.writeTraces = options.writeTraces;
  }

  /** Runs one etcd call inside a CLIENT span named after the etcd operation. */
  private async etcd<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(
      `etcd ${operation}`,
      { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'etcd', 'db.operation.name': operation, 'db.etcd.key': key } },
      async (span) => {
        try {
          return await fn();
        } catch (err) {
          const status = translateEtcdError(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: status.reason });
          throw status;
        } finally {
          span.end();
        }
      },
    );
  }

  async create(ref: StorageRef, object: KubeObject): Promise<KubeObject> {
    const key = objectKey(ref);
    if ((object.metadata?.resourceVersion ?? '') !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    const data = encodeForStorage(object);
    const forget = this.writeTraces?.begin(key);
    const response = await this.etcd('Txn', key, () =>
      this.client.if(key, 'Mod', '==', 0).then(this.client.put(key).value(data)).commit(),
    );
    if (!response.succeeded) {
      forget?.();
      throw alreadyExists(qualified(ref), ref.name);
    }
    return decode(Buffer.from(data), response.header.revision);
  }

  async get(ref: StorageRef, options: GetOptions = {}): Promise<KubeObject> {
    const key = objectKey(ref);
    const range = this.client.get(key);
    if (options.resourceVersion === '0') range.serializable(true);
    const response = await this.etcd('Range', key, () => range.exec());
    const kv = response.kvs[0];
    if (kv === undefined) throw notFound(qualified(ref), ref.name);
    return decode(kv.value, kv.mod_revision);
  }

  async list(ref: StorageRef, options: ListOptions = {}): Promise<ListResult> {
    const prefix = collectionPrefix(ref);
    const limit = options.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0) throw badRequest('limit must be a non-negative integer');
    let start = prefix;
    let revision: number | undefined;
    let serializable = false;
    if (options.continue !== undefined && options.continue !== '') {
      if ((options.resourceVersion ?? '') !== '') {
        throw badRequest('specifying resource version is not allowed when using continue');
      }
      const token = decodeContinue(options.continue);
      start = prefix + token.start;
      revision = token.revision;
    } else if (options.resourceVersion === '0') {
      serializable = true;
    } else if ((options.resourceVersion ?? '') !== '') {
      const rv = Number(options.resourceVersion);
      if (!Number.isSafeInteger(rv) || rv < 0) {
        throw badRequest(`invalid resource version: ${options.resourceVersion}`);
      }
      if (options.resourceVersionMatch === 'Exact') revision = rv;
    }
    const request = {
      key: Buffer.from(start),
      range_end: prefixEnd(prefix),
      limit: String(limit),
      revision: revision === undefined ? '0' : String(revision),
      serializable,
    };
    const response: IRangeResponse = await this.etcd('Range', prefix, async () => {
      try {
        return await this.client.kv.range(request);
      } catch (err) {
        if (err instanceof Error && err.message.includes('required revision has been compacted')) {
          throw new StatusError(
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          );
        }
        throw err;
      }
    });
    const listRevision = revision ?? Number(response.header.revision);
    const items = response.kvs.map((kv: IKeyValue) => decode(kv.value, kv.mod_revision));
    const result: ListResult = { items, resourceVersion: String(listRevision), continue: '' };
    if (response.more && items.length > 0) {
      const lastKey = (response.kvs[response.kvs.length - 1] as IKeyValue).key.toString('utf8');
      result.continue = encodeContinue({ revision: listRevision, start: lastKey.slice(prefix.length) + '\x00' });
      result.remainingItemCount = Number(response.count) - items.length;
    }
    return result;
  }

  async update(ref: StorageRef, object: KubeObject): Promise<KubeObject> {
    const key = objectKey(ref);
    const wanted = object.metadata?.resourceVersion ?? '';
    const uid = object.metadata?.uid ?? '';
    for (;;) {
      const current = await this.etcd('Range', key, () => this.client.get(key).exec());
      const kv = current.kvs[0];
      if (kv === undefined) throw notFound(qualified(ref), ref.name);
      if (wanted !== '' && wanted !== kv.mod_revision) throw modifiedConflict(qualified(ref), ref.name);
      const stored = decode(kv.value, kv.mod_revision);
      const storedUid = stored.metadata?.uid ?? '';
      if (uid !== '' && uid !== storedUid) {
        throw conflict(qualified(ref), ref.name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${storedUid}`);
      }
      const prepared = prepareUpdate(stored, object);
      const forget = this.writeTraces?.begin(key);
      if (prepared.remove) {
        const response = await this.etcd('Txn', key, () =>
          this.client.if(key, 'Mod', '==', kv.mod_revision).then(this.client.delete().key(key)).commit(),
        );
        if (response.succeeded) return decode(Buffer.from(encodeForStorage(prepared.object)), response.header.revision);
      } else {
        const data = encodeForStorage(prepared.object);
        const response = await this.etcd('Txn', key, () =>
          this.client.if(key, 'Mod', '==', kv.mod_revision).then(this.client.put(key).value(data)).commit(),
        );
        if (response.succeeded) return decode(Buffer.from(data), response.header.revision);
      }
      forget?.();
      // Changed since we read it: a conditional update has lost; an unconditional one retries.
      if (wanted !== '') throw modifiedConflict(qualified(ref), ref.name);
    }
  }

  async delete(ref: StorageRef, preconditions: Preconditions = {}): Promise<DeleteResult> {
    const key = objectKey(ref);
    // Read, check preconditions, write only if unchanged since the read; retry on a race.
    for (;;) {
      const current = await this.etcd('Range', key, () => this.client.get(key).exec());
      const kv = current.kvs[0];
      if (kv === undefined) throw notFound(qualified(ref), ref.name);
      const object = decode(kv.value, kv.mod_revision);
      checkPreconditions(ref, object, preconditions);
      const prepared = prepareDelete(object, new Date());
      if (prepared.action === 'none') return { object, pending: true };
      const forget = this.writeTraces?.begin(key);
      if (prepared.action === 'mark') {
        const data = encodeForStorage(prepared.object);
        const response = await this.etcd('Txn', key, () =>
          this.client.if(key, 'Mod', '==', kv.mod_revision).then(this.client.put(key).value(data)).commit(),
        );
        if (response.succeeded) return { object: decode(Buffer.from(data), response.header.revision), pending: true };
      } else {
        const response = await this.etcd('Txn', key, () =>
          this.client.if(key, 'Mod', '==', kv.mod_revision).then(this.client.delete().key(key)).commit(),
        );
        if (response.succeeded) return { object, pending: false };
      }
      forget?.();
    }
  }

  async events(ref: Pick<StorageRef, 'group' | 'resource'>, options: EventsOptions): Promise<EventsResult> {
    const prefix = collectionPrefix({ ...ref, namespace: '', name: '' });
    const from = Number(options.fromRevision);
    if (!Number.isSafeInteger(from) || from < 0) throw badRequest(`invalid fromRevision: ${options.fromRevision}`);
    const newest = Number(await this.currentRevision());
    const to = options.toRevision === undefined || options.toRevision === '' ? newest : Number(options.toRevision);
    if (!Number.isSafeInteger(to) || to < from) throw badRequest(`invalid toRevision: ${options.toRevision ?? ''}`);
    if (to > newest) throw new StatusError('Timeout', `Too large resource version: ${to}, current: ${newest}`);
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : 10_000;
    if (to === from) return { events: [], resourceVersion: String(to), more: false };
    return this.etcd('Watch', prefix, () => readHistory(this.client, prefix, from, to, limit));
  }

  async currentRevision(): Promise<string> {
    const response = await this.etcd('Range', '/', () =>
      this.client.kv.range({ key: Buffer.from('\x00'), limit: '1', keys_only: true, count_only: true }),
    );
    return response.header.revision;
  }
}

/** Conflict with kube's words when a delete precondition does not hold. */
function checkPreconditions(ref: StorageRef, object: KubeObject, p: Preconditions): void {
  const uid = object.metadata?.uid ?? '';
  const rv = object.metadata?.resourceVersion ?? '';
  if (p.uid !== undefined && p.uid !== '' && p.uid !== uid) {
    throw conflict(qualified(ref), ref.name, `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${uid}`);
  }
  if (p.resourceVersion !== undefined && p.resourceVersion !== '' && p.resourceVersion !== rv) {
    throw conflict(
      qualified(ref),
      ref.name,
      `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${rv}`,
    );
  }
}

/** How long a history replay may take. */
const HISTORY_TIMEOUT_MS = 10_000;

/** The key kube-apiserver's compactor keeps the last compacted revision in. */
export const COMPACT_REVISION_KEY = 'compact_rev_key';

/**
 * The changes under `prefix` with revisions in (from, to], read by replaying etcd's history: a
 * watch over the whole key space from from + 1, because every revision up to `to` is one write
 * to some key, so the replay is known complete when it reaches `to` (a watch on `prefix` alone
 * would wait forever when the prefix had no change up to `to`).
 */
async function readHistory(client: Etcd3, prefix: string, from: number, to: number, limit: number): Promise<EventsResult> {
  // A compacted start revision is refused at once by a range read at it.
  try {
    await client.kv.range({ key: Buffer.from(prefix), limit: '1', revision: String(from + 1), keys_only: true });
  } catch (err) {
    if (err instanceof Error && err.message.includes('compacted')) {
      const compacted = await client.get(COMPACT_REVISION_KEY).string().catch(() => null);
      throw new StatusError('Expired', `too old resource version: ${from} (${compacted ?? 'compacted'})`);
    }
    throw err;
  }
  const watcher = await client.watch().inRange({ start: Buffer.from([0]), end: Buffer.from([0]) }).withPreviousKV().startRevision(String(from + 1)).create();
  try {
    return await new Promise<EventsResult>((resolve, reject) => {
      const events: HistoryEvent[] = [];
      // A replay that does not reach `to` in time (etcd unreachable mid-way) fails, never hangs.
      const timer = setTimeout(() => reject(new StatusError('ServiceUnavailable', 'storage is unavailable: etcd history did not arrive in time')), HISTORY_TIMEOUT_MS);
      const done = (result: EventsResult) => {
        clearTimeout(timer);
        resolve(result);
      };
      watcher.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      watcher.on('data', (response) => {
        try {
          onEvents(response.events);
        } catch (err) {
          clearTimeout(timer);
          reject(err);
        }
      });
      const onEvents = (batch: IEvent[]): void => {
        for (const event of batch) {
          const revision = Number(event.kv.mod_revision);
          if (revision > to) return done({ events, resourceVersion: String(to), more: false });
          const key = event.kv.key.toString('utf8');
          if (key.startsWith(prefix)) {
            const history = historyEvent(event.type, event.kv, event.prev_kv, revision);
            if (history !== undefined) events.push(history);
            if (events.length >= limit && revision < to) return done({ events, resourceVersion: String(revision), more: true });
          }
          if (revision === to) return done({ events, resourceVersion: String(to), more: false });
        }
      };
    });
  } finally {
    await watcher.cancel();
  }
}

export function historyEvent(type: 'Put' | 'Delete', kv: IKeyValue, prev: IKeyValue | null | undefined, revision: number): HistoryEvent | undefined {
  // etcd3 reports a missing previous value as null.
  const prevObject = prev === null || prev === undefined || prev.value.length === 0 ? undefined : decode(prev.value, prev.mod_revision);
  if (type === 'Delete') {
    if (prevObject === undefined) return undefined;
    const object = { ...prevObject, metadata: { ...prevObject.metadata, resourceVersion: String(revision) } };
    return { type: 'DELETED', revision, namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '', object, prevObject };
  }
  const object = decode(kv.value, kv.mod_revision);
  return {
    type: kv.version === '1' ? 'ADDED' : 'MODIFIED',
    revision,
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    object,
    prevObject: kv.version === '1' ? undefined : prevObject,
  };
}
