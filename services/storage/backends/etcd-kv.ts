/**
 * etcd's KV service (Range, Txn, Compaction) called with grpc-js directly, from the rpc.proto
 * the etcd3 package ships. Every create, read, update and delete of an object is one of these
 * calls, so they take the shortest path: etcd3 wraps each call in a retry policy, a circuit
 * breaker, a host shuffle and an auth-metadata step, decodes every message with all its defaults
 * and 64-bit numbers as strings; this client does none of that, which saves about a tenth of
 * the CPU of a call (measured: bench/storage.ts, docs/decisions.md). Watches, leases and the
 * election stay with etcd3, which handles their streams and reconnects.
 *
 * Failures are grpc-js ServiceErrors; translateEtcdError (etcd.ts) turns them into Statuses.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { MAX_MESSAGE_BYTES } from '../../../lib/grpc/limits.ts';

const RPC_PROTO = join(dirname(createRequire(import.meta.url).resolve('etcd3/package.json')), 'proto', 'rpc.proto');

/** A key as etcd's KV service returns it; absent fields are zero (proto3 defaults). */
export interface EtcdKeyValue {
  key: Buffer;
  value?: Buffer;
  mod_revision?: number;
  version?: number;
}

interface ResponseHeader {
  revision?: number;
}

export interface EtcdRangeRequest {
  key: Buffer;
  range_end?: Buffer;
  limit?: number;
  revision?: number;
  serializable?: boolean;
  keys_only?: boolean;
  count_only?: boolean;
}

export interface EtcdRangeResponse {
  header?: ResponseHeader;
  kvs?: EtcdKeyValue[];
  more?: boolean;
  count?: number;
}

/** The compare-and-swap transactions storage runs: one key, its mod revision, then a put or a delete, else a read. */
interface EtcdTxnRequest {
  compare: Array<{ key: Buffer; target: 'Mod'; result: 'Equal'; mod_revision: number }>;
  success: Array<{ request_put: { key: Buffer; value: Buffer } } | { request_delete_range: { key: Buffer } }>;
  failure: Array<{ request_range: { key: Buffer } }>;
}

export interface EtcdTxnResponse {
  header?: ResponseHeader;
  succeeded?: boolean;
  responses?: Array<{ response_range?: EtcdRangeResponse }>;
}

type Unary<Req, Res> = (request: Req, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: Res) => void) => grpc.ClientUnaryCall;

interface KvStub extends grpc.Client {
  Range: Unary<EtcdRangeRequest, EtcdRangeResponse>;
  Txn: Unary<EtcdTxnRequest, EtcdTxnResponse>;
  Compact: Unary<{ revision: number }, object>;
}

type KvConstructor = new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => KvStub;

let kvConstructor: KvConstructor | undefined;

function kvService(): KvConstructor {
  if (kvConstructor === undefined) {
    // 64-bit revisions as numbers (they stay far below 2^53), fields left out when zero.
    const definition = loadSync(RPC_PROTO, { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: false });
    kvConstructor = (grpc.loadPackageDefinition(definition) as unknown as { etcdserverpb: { KV: KvConstructor } }).etcdserverpb.KV;
  }
  return kvConstructor;
}

/**
 * Channel settings: messages as large as the project's, and reconnects at most a second apart,
 * so calls succeed again soon after etcd is back (grpc-js would otherwise wait up to 2 minutes
 * between attempts). Calls made while etcd is unreachable fail at once with UNAVAILABLE. There
 * is no retry policy; grpc-js's transparent retry of a call that never reached etcd (a stream
 * refused during a reconnect) stays on, which is safe for every call, transactions included.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

/** The error of a call made after close(): UNAVAILABLE, as for a call cut by close(). */
function closedError(): Error & { code: grpc.status } {
  return Object.assign(new Error('etcd client closed'), { code: grpc.status.UNAVAILABLE });
}

/**
 * One channel per endpoint; calls take the endpoints in turn, passing over an endpoint whose
 * channel is failing to connect while another one is not. No call is retried: the caller
 * decides.
 */
export class EtcdKv {
  private readonly stubs: KvStub[];
  /** host:port of each stub's endpoint, in the same order. */
  private readonly addresses: string[];
  private readonly timeoutMs: number;
  private next = 0;
  private closed = false;
  /**
   * The endpoint (host:port) the last call went to, read by the caller right after starting a
   * call (the choice is made synchronously) for its span's server.address.
   */
  lastEndpoint = '';

  /** `endpoints`: etcd client URLs (http:// or https://). */
  constructor(endpoints: string[], requestTimeoutMs: number) {
    if (endpoints.length === 0) throw new Error('at least one etcd endpoint is required');
    const KV = kvService();
    this.addresses = endpoints.map((url) => url.replace(/^https?:\/\//, ''));
    this.stubs = endpoints.map((url) => {
      const secure = url.startsWith('https://');
      const address = url.replace(/^https?:\/\//, '');
      return new KV(address, secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    });
    this.timeoutMs = requestTimeoutMs;
  }

  range(request: EtcdRangeRequest): Promise<EtcdRangeResponse> {
    return this.call((stub, options, done) => stub.Range(request, options, done));
  }

  /** If `key`'s mod revision is `modRevision` (0: the key is absent), put `value` (or delete the key when undefined); else read the key. */
  swap(key: string, modRevision: number, value: string | undefined): Promise<EtcdTxnResponse> {
    const k = Buffer.from(key);
    const request: EtcdTxnRequest = {
      compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: modRevision }],
      success: [value === undefined ? { request_delete_range: { key: k } } : { request_put: { key: k, value: Buffer.from(value) } }],
      failure: [{ request_range: { key: k } }],
    };
    return this.call((stub, options, done) => stub.Txn(request, options, done));
  }

  async compact(revision: number): Promise<void> {
    await this.call((stub, options, done) => stub.Compact({ revision }, options, done));
  }

  close(): void {
    this.closed = true;
    for (const stub of this.stubs) stub.close();
  }

  /**
   * The next endpoint in turn that is not failing to connect (the next in turn if all are). A
   * member that just went down shows as failing once a call has found it unreachable, so that
   * call fails (503) and the ones after it go elsewhere until the member answers again.
   */
  private pick(): KvStub {
    const count = this.stubs.length;
    for (let i = 0; i < count; i++) {
      const stub = this.stubs[(this.next + i) % count] as KvStub;
      if (count === 1 || stub.getChannel().getConnectivityState(false) !== grpc.connectivityState.TRANSIENT_FAILURE) {
        this.lastEndpoint = this.addresses[(this.next + i) % count] as string;
        this.next = (this.next + i + 1) % count;
        return stub;
      }
    }
    const stub = this.stubs[this.next] as KvStub;
    this.lastEndpoint = this.addresses[this.next] as string;
    this.next = (this.next + 1) % count;
    return stub;
  }

  private call<T>(start: (stub: KvStub, options: grpc.CallOptions, done: (err: grpc.ServiceError | null, response?: T) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    const stub = this.pick();
    return new Promise<T>((resolve, reject) => {
      // grpc-js records the caller's stack on every call (new Error()), only to append it to a
      // failed call's error. Failures here become Statuses without stacks, so the capture,
      // about a tenth of a call's CPU, is switched off while the call starts.
      const stackTraceLimit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        start(stub, { deadline: Date.now() + this.timeoutMs }, (err, response) => {
          if (err !== null) reject(err);
          else resolve(response as T);
        });
      } finally {
        Error.stackTraceLimit = stackTraceLimit;
      }
    });
  }
}
