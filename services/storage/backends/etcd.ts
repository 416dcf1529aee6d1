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
  type IKeyValue,
  type IRangeResponse,
} from 'etcd3';
import { noop } from 'cockatiel';
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
  GetOptions,
  ListOptions,
  ListResult,
  Preconditions,
  Storage,
  StorageRef,
} from '../api.ts';
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
 * went through, and a breaker would keep failing after etcd is back.
 */
export function createEtcdClient(endpoints: string, requestTimeoutMs = 5_000): Etcd3 {
  return new Etcd3({
    hosts: endpoints.split(',').map((h) => h.trim()).filter((h) => h !== ''),
    dialTimeout: requestTimeoutMs,
    faultHandling: { host: () => noop, global: noop },
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
function decode(value: Buffer, revision: string): KubeObject {
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

  async delete(ref: StorageRef, preconditions: Preconditions = {}): Promise<KubeObject> {
    const key = objectKey(ref);
    // Read, check preconditions, delete only if unchanged since the read; retry on a race.
    for (;;) {
      const current = await this.etcd('Range', key, () => this.client.get(key).exec());
      const kv = current.kvs[0];
      if (kv === undefined) throw notFound(qualified(ref), ref.name);
      const object = decode(kv.value, kv.mod_revision);
      checkPreconditions(ref, object, preconditions);
      const forget = this.writeTraces?.begin(key);
      const response = await this.etcd('Txn', key, () =>
        this.client.if(key, 'Mod', '==', kv.mod_revision).then(this.client.delete().key(key)).commit(),
      );
      if (response.succeeded) return object;
      forget?.();
    }
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
