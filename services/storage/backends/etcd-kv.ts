/**
 * etcd's KV service (Range, Txn, Compaction) as gRPC unary calls made over node:http2
 * directly. Every create, read, update and delete of an object is one of these calls, so they
 * take the shortest path: etcd3 wraps each call in a retry policy, a circuit breaker, a host
 * shuffle and an auth-metadata step, and grpc-js passes each through a stack of call layers
 * (resolving, retrying, load balancing, filters, channelz, credentials metadata), each with its
 * objects, listeners and promises, which cost about as much CPU as the HTTP/2 stream itself. A
 * unary call is one HTTP/2 stream: a request message, the answer, a status in the trailers;
 * this client makes that and nothing more, with the Range and Txn messages encoded and decoded
 * by hand (etcd-proto.ts; measured: bench/storage.ts, docs/decisions.md). Watches, leases and
 * the election stay with etcd3, which handles their streams and reconnects.
 *
 * Failures are errors with a gRPC status `code` and etcd's `details`, as grpc-js reports them;
 * translateEtcdError (etcd.ts) turns them into Statuses.
 */
import * as http2 from 'node:http2';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { MAX_MESSAGE_BYTES } from '../../../lib/grpc/limits.ts';
import { decodeRangeResponse, decodeTxnResponse, encodeRangeRequest, encodeSwapTxn, FRAME_PREFIX_BYTES } from './etcd-proto.ts';

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

export interface EtcdTxnResponse {
  header?: ResponseHeader;
  succeeded?: boolean;
  responses?: Array<{ response_range?: EtcdRangeResponse }>;
}

/** A failed call: the gRPC status code and etcd's words, as grpc-js's ServiceError carries them. */
export type EtcdCallError = Error & { code: GrpcStatus; details: string };

function callError(code: GrpcStatus, details: string): EtcdCallError {
  // grpc-js's wording ("14 UNAVAILABLE: ..."), without the stack: failures become Statuses.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${details}`), { code, details });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** One KV method: its path, its request in a gRPC frame, its answer from the message's bytes. */
interface Codec<Req, Res> {
  path: string;
  frame: (request: Req) => Buffer;
  decode: (bytes: Buffer) => Res;
}

/** The swap's arguments, encoded by hand as one TxnRequest (etcd-proto.ts). */
interface SwapRequest {
  key: Buffer;
  modRevision: number;
  value: Buffer | undefined;
}

interface KvCodecs {
  Range: Codec<EtcdRangeRequest, EtcdRangeResponse>;
  Txn: Codec<SwapRequest, EtcdTxnResponse>;
  Compact: Codec<{ revision: number }, object>;
}

let kvCodecs: KvCodecs | undefined;

/** A message protobufjs encoded, behind the gRPC frame prefix. */
function framed(body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, FRAME_PREFIX_BYTES);
  return frame;
}

function codecs(): KvCodecs {
  if (kvCodecs === undefined) {
    // Compaction is rare: its messages go through protobufjs, from etcd's own rpc.proto.
    const definition = loadSync(RPC_PROTO, { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: false });
    const compact = (definition['etcdserverpb.KV'] as unknown as Record<string, MethodDefinition<{ revision: number }, object>>).Compact as MethodDefinition<{ revision: number }, object>;
    kvCodecs = {
      Range: { path: '/etcdserverpb.KV/Range', frame: encodeRangeRequest, decode: decodeRangeResponse },
      Txn: { path: '/etcdserverpb.KV/Txn', frame: (r) => encodeSwapTxn(r.key, r.modRevision, r.value), decode: decodeTxnResponse },
      Compact: { path: compact.path, frame: (r) => framed(compact.requestSerialize(r)), decode: compact.responseDeserialize },
    };
  }
  return kvCodecs;
}

/**
 * HTTP/2 settings: answers such as list pages of hundreds of objects must not stall on window
 * updates (HTTP/2's default window is 64 KiB); Node's per-session memory check is off, as
 * grpc-js turns it off (Node degrades badly when it is reached).
 */
const FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;
const SESSION_OPTIONS: http2.ClientSessionOptions = {
  settings: { initialWindowSize: FLOW_CONTROL_WINDOW, enablePush: false },
  maxSessionMemory: Number.MAX_SAFE_INTEGER,
};

/** Reconnects after a failed connection start at this delay and grow 1.6x up to the max: etcd back is etcd used within a second. */
const INITIAL_RECONNECT_BACKOFF_MS = 100;
const MAX_RECONNECT_BACKOFF_MS = 1_000;

/** grpc's mapping of an HTTP status without a grpc-status (a proxy's answer, say) to a code. */
function codeOfHttpStatus(status: number): GrpcStatus {
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** grpc-message is percent-encoded; a malformed one is kept as it came. */
function decodeGrpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** How an endpoint watches over its session (see Endpoint). */
export interface HealthOptions {
  /** A connected session is pinged this often even when idle (default 10 s; etcd's keep-alive minimum is 5 s). */
  keepaliveMs?: number;
  /** Calls in flight with none finishing for this long make the endpoint ping at once (default 1 s). */
  stallMs?: number;
  /** A ping not answered within this fails the session (default: half the call deadline). */
  pingTimeoutMs?: number;
}

/**
 * One etcd endpoint: an HTTP/2 session, made when a call needs one. From a failed attempt to
 * connect until one succeeds, the endpoint is `failing`: the client sends calls to another
 * endpoint if it has one, and attempts to connect again in the background, backing off. A
 * call that goes to a failing endpoint anyway fails at once with UNAVAILABLE between
 * attempts (as grpc-js in TRANSIENT_FAILURE), or waits for the attempt under way. A session
 * that ends (etcd stopped, GOAWAY) is replaced by the next call.
 *
 * A member can also stop answering on a connection that stays open (the process stopped, a
 * network partition): nothing fails then but the calls' deadlines. So a connected session is
 * pinged (HTTP/2 PING) every `keepaliveMs`, and at once when its calls have made no progress
 * for `stallMs`; a ping not answered within `pingTimeoutMs` destroys the session (its calls fail
 * UNAVAILABLE: etcd may have applied them) and marks the endpoint failing, as a failed
 * connection attempt does.
 */
class Endpoint {
  /** host:port, for spans. */
  readonly address: string;
  private readonly url: string;
  private session: http2.ClientHttp2Session | undefined;
  private connected = false;
  /** Calls in flight on each session (an old one may still finish its calls after GOAWAY). */
  private readonly streams = new Map<http2.ClientHttp2Session, number>();
  /** Sessions whose connection was made: a call on one that never was cannot have reached etcd. */
  private readonly reached = new WeakSet<http2.ClientHttp2Session>();
  private backoffMs = INITIAL_RECONNECT_BACKOFF_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  /** When a call on the current session last started on an idle session or finished. */
  private lastProgress = 0;
  private lastPing = 0;
  private pinging = false;
  private closed = false;
  private readonly connectTimeoutMs: number;
  private readonly keepaliveMs: number;
  private readonly stallMs: number;
  private readonly pingTimeoutMs: number;
  failing = false;

  /**
   * `url`: an etcd client URL (http:// or https://; TLS with the system's roots, as grpc-js's
   * default credentials). A connection not made within `connectTimeoutMs` counts as failed.
   */
  constructor(url: string, connectTimeoutMs: number, health: HealthOptions = {}) {
    this.url = url.includes('://') ? url : `http://${url}`;
    this.address = url.replace(/^https?:\/\//, '');
    this.connectTimeoutMs = connectTimeoutMs;
    this.keepaliveMs = health.keepaliveMs ?? 10_000;
    this.stallMs = health.stallMs ?? 1_000;
    this.pingTimeoutMs = health.pingTimeoutMs ?? Math.max(1, Math.round(connectTimeoutMs / 2));
  }

  /** Whether calls sent now go out at once: a session is connected and answering. */
  get ready(): boolean {
    return this.connected && this.session !== undefined && !this.failing;
  }

  /** The session calls go on now (connecting or connected); undefined while failing between attempts. */
  current(): http2.ClientHttp2Session | undefined {
    if (this.session !== undefined || this.failing || this.closed) return this.session;
    return this.connect();
  }

  /** Whether `session`'s connection was ever made (else nothing sent on it reached etcd). */
  reachedOn(session: http2.ClientHttp2Session): boolean {
    return this.reached.has(session);
  }

  /**
   * Forgets `session` (it received GOAWAY, ended, or refused a call before it went out) and
   * closes it gracefully: its calls in flight finish, and the next call opens a new one.
   */
  drop(session: http2.ClientHttp2Session): void {
    if (this.session === session) {
      this.session = undefined;
      this.connected = false;
    }
    if (!session.closed && !session.destroyed) session.close();
  }

  /** Keeps the process alive only while calls are in flight on a session (as grpc-js does). */
  streamStarted(session: http2.ClientHttp2Session): void {
    const count = this.streams.get(session) ?? 0;
    this.streams.set(session, count + 1);
    if (count === 0) {
      this.lastProgress = Date.now();
      if (!session.destroyed) session.ref();
    }
  }

  streamEnded(session: http2.ClientHttp2Session): void {
    this.lastProgress = Date.now();
    const count = (this.streams.get(session) ?? 1) - 1;
    if (count > 0) {
      this.streams.set(session, count);
      return;
    }
    this.streams.delete(session);
    if (!session.destroyed) session.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.healthTimer);
    this.session?.close();
    this.session = undefined;
  }

  private connect(): http2.ClientHttp2Session {
    const session = http2.connect(this.url, SESSION_OPTIONS);
    this.session = session;
    this.connected = false;
    session.unref();
    // An address that swallows the connection attempt (a host gone from the network) fails
    // it after a while rather than holding every call until its deadline for ever.
    const connectTimer = setTimeout(() => session.destroy(), this.connectTimeoutMs);
    connectTimer.unref();
    // 'connect': the socket (and TLS) is up; before it, no byte of any call has left.
    session.once('connect', () => this.reached.add(session));
    session.once('remoteSettings', () => {
      clearTimeout(connectTimer);
      if (this.session !== session) return;
      this.connected = true;
      this.failing = false;
      this.backoffMs = INITIAL_RECONNECT_BACKOFF_MS;
      this.lastPing = Date.now();
      this.watchHealth();
      if (!session.destroyed) session.setLocalWindowSize(FLOW_CONTROL_WINDOW);
    });
    session.on('goaway', () => this.drop(session));
    // The streams report the failure to their calls; the session only decides what comes next.
    session.on('error', () => {});
    session.once('close', () => {
      clearTimeout(connectTimer);
      const neverConnected = this.session === session && !this.connected;
      this.drop(session);
      if (neverConnected && !this.closed) this.failed();
    });
    return session;
  }

  /** One timer per endpoint, from its first connection until close(): pings when due. */
  private watchHealth(): void {
    if (this.healthTimer !== undefined) return;
    this.healthTimer = setInterval(() => {
      const session = this.session;
      if (session === undefined || !this.connected || this.pinging) return;
      const now = Date.now();
      const stalled = this.streams.has(session) && now - this.lastProgress >= this.stallMs;
      if (stalled || now - this.lastPing >= this.keepaliveMs) this.ping(session);
    }, Math.min(this.stallMs, this.keepaliveMs));
    this.healthTimer.unref();
  }

  private ping(session: http2.ClientHttp2Session): void {
    this.pinging = true;
    this.lastPing = Date.now();
    let acked = false;
    const timer = setTimeout(() => {
      // Once more round the event loop first: a loop that was busy runs timers before it reads
      // the socket, where the answer may already be waiting.
      setImmediate(() => {
        if (acked) return;
        this.pinging = false;
        if (this.session === session && !this.closed) this.unresponsive(session);
      });
    }, this.pingTimeoutMs);
    timer.unref();
    const answered = () => {
      acked = true;
      clearTimeout(timer);
      this.pinging = false;
    };
    try {
      // An error (the session ended meanwhile) is the session's own 'close' to handle.
      if (!session.ping(answered)) answered();
    } catch {
      answered();
    }
  }

  /** The member stopped answering on an open connection: give it up and fail over until it connects again. */
  private unresponsive(session: http2.ClientHttp2Session): void {
    this.session = undefined;
    this.connected = false;
    session.destroy();
    this.failed();
  }

  /** A connection attempt failed: fail fast until the next attempt, made after a backoff. */
  private failed(): void {
    this.failing = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      // Still failing until this attempt connects: calls keep going to other endpoints.
      if (!this.closed && this.session === undefined) this.connect();
    }, this.backoffMs);
    this.reconnectTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 1.6, MAX_RECONNECT_BACKOFF_MS);
  }
}

/** One call across its attempts. */
interface Call<Res> {
  codec: Codec<unknown, Res>;
  frame: Buffer;
  deadline: number;
  /** Endpoints already tried: a call goes to each at most once for a connection never made. */
  tried: Endpoint[];
  /** Whether it was sent again after a refusal (once at most). */
  resent: boolean;
  resolve: (response: Res) => void;
  reject: (err: EtcdCallError) => void;
}

/**
 * Calls to etcd's KV service, over one HTTP/2 session per endpoint; calls take the endpoints
 * in turn, preferring one whose session is connected and answering, passing over one that is
 * failing (to connect, or to answer pings) while another is not. No call is retried by the
 * caller's decision; a call that cannot have reached etcd is sent again within its deadline,
 * to another endpoint when there is one: a call refused without being processed (a stream
 * refused, or a session that received GOAWAY before the call went out) once, and a call whose
 * connection was never made once per endpoint. That is safe for every call, transactions
 * included (grpc-js's transparent retry). Each call has a deadline: past it, the stream is
 * cancelled and the call fails with DEADLINE_EXCEEDED; a connection lost mid-call fails it with
 * UNAVAILABLE (etcd may have applied a write).
 */
export class EtcdKv {
  private readonly endpoints: Endpoint[];
  private readonly timeoutMs: number;
  private readonly codecs: KvCodecs;
  private next = 0;
  private closed = false;
  /**
   * The endpoint (host:port) the last call went to, read by the caller right after starting a
   * call (the choice is made synchronously) for its span's server.address.
   */
  lastEndpoint = '';

  /** `endpoints`: etcd client URLs (http:// or https://); `health`: how sessions are checked (defaults suit production). */
  constructor(endpoints: string[], requestTimeoutMs: number, health: HealthOptions = {}) {
    if (endpoints.length === 0) throw new Error('at least one etcd endpoint is required');
    this.codecs = codecs();
    this.endpoints = endpoints.map((url) => new Endpoint(url, requestTimeoutMs, health));
    this.timeoutMs = requestTimeoutMs;
  }

  range(request: EtcdRangeRequest): Promise<EtcdRangeResponse> {
    return this.call(this.codecs.Range, request);
  }

  /** If `key`'s mod revision is `modRevision` (0: the key is absent), put `value` (or delete the key when undefined); else read the key. */
  swap(key: string, modRevision: number, value: string | undefined): Promise<EtcdTxnResponse> {
    return this.call(this.codecs.Txn, { key: Buffer.from(key), modRevision, value: value === undefined ? undefined : Buffer.from(value) });
  }

  async compact(revision: number): Promise<void> {
    await this.call(this.codecs.Compact, { revision });
  }

  close(): void {
    this.closed = true;
    for (const endpoint of this.endpoints) endpoint.close();
  }

  /**
   * The next endpoint in turn (not in `exclude`) whose session is connected; else the next
   * that is not failing; else the next in turn; undefined when all are excluded. Endpoints
   * passed over for having no session yet start connecting, so that the calls spread over
   * them once they are up; one that is still connecting gets no call while another answers.
   */
  private pick(exclude?: readonly Endpoint[]): Endpoint | undefined {
    const count = this.endpoints.length;
    let notFailing = -1;
    let any = -1;
    let chosen = -1;
    for (let i = 0; i < count; i++) {
      const index = (this.next + i) % count;
      const endpoint = this.endpoints[index] as Endpoint;
      if (exclude?.includes(endpoint) === true) continue;
      if (endpoint.ready) {
        chosen = index;
        break;
      }
      if (any < 0) any = index;
      if (!endpoint.failing) {
        if (notFailing < 0) notFailing = index;
        endpoint.current();
      }
    }
    if (chosen < 0) chosen = notFailing >= 0 ? notFailing : any;
    if (chosen < 0) return undefined;
    const endpoint = this.endpoints[chosen] as Endpoint;
    this.next = (chosen + 1) % count;
    this.lastEndpoint = endpoint.address;
    return endpoint;
  }

  private call<Req, Res>(codec: Codec<Req, Res>, request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(callError(GrpcStatus.UNAVAILABLE, 'etcd client closed'));
    const endpoint = this.pick() as Endpoint;
    let frame: Buffer;
    try {
      frame = codec.frame(request);
    } catch (err) {
      return Promise.reject(callError(GrpcStatus.INTERNAL, `request serialization failure: ${err instanceof Error ? err.message : String(err)}`));
    }
    return new Promise<Res>((resolve, reject) => {
      const call: Call<Res> = { codec: codec as Codec<unknown, Res>, frame, deadline: Date.now() + this.timeoutMs, tried: [], resent: false, resolve, reject };
      this.attempt(endpoint, call);
    });
  }

  /**
   * Sends `call` again after a failure that proves it never reached etcd at `endpoint`: to
   * another endpoint not yet tried if there is one, else (`refused`: once) to the same one;
   * else fails it with `failure`.
   */
  private resend<Res>(call: Call<Res>, endpoint: Endpoint, refused: boolean, failure: EtcdCallError): void {
    if (refused) {
      if (call.resent) return call.reject(failure);
      call.resent = true;
    }
    if (!call.tried.includes(endpoint)) call.tried.push(endpoint);
    const other = this.pick(call.tried);
    if (other !== undefined) return this.attempt(other, call);
    if (refused) return this.attempt(endpoint, call);
    call.reject(failure);
  }

  /** One HTTP/2 stream of a call. */
  private attempt<Res>(endpoint: Endpoint, call: Call<Res>): void {
    if (this.closed) return call.reject(callError(GrpcStatus.UNAVAILABLE, 'etcd client closed'));
    const remaining = call.deadline - Date.now();
    if (remaining <= 0) return call.reject(callError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'));
    const session = endpoint.current();
    if (session === undefined) {
      // Failing between connection attempts: nothing was sent.
      return this.resend(call, endpoint, false, callError(GrpcStatus.UNAVAILABLE, `etcd at ${endpoint.address} is unreachable`));
    }
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(
        { [http2.constants.HTTP2_HEADER_METHOD]: 'POST', [http2.constants.HTTP2_HEADER_PATH]: call.codec.path, 'content-type': 'application/grpc', te: 'trailers' },
        { endStream: false },
      );
    } catch (err) {
      // The session ended or received GOAWAY before the call went out: nothing reached etcd.
      endpoint.drop(session);
      return this.resend(call, endpoint, true, callError(GrpcStatus.UNAVAILABLE, `etcd at ${endpoint.address}: ${err instanceof Error ? err.message : String(err)}`));
    }
    endpoint.streamStarted(session);
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: string | string[] | undefined;
    let received: Buffer[] = [];
    let receivedBytes = 0;
    let failure: EtcdCallError | undefined;
    let streamError: Error | undefined;
    const timer = setTimeout(() => {
      failure ??= callError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded');
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, remaining);
    const statusFrom = (headers: http2.IncomingHttpHeaders) => {
      const s = headers['grpc-status'];
      if (s !== undefined) {
        grpcStatus = Array.isArray(s) ? s[0] : s;
        grpcMessage = headers['grpc-message'];
      }
    };
    stream.on('response', (headers) => {
      httpStatus = Number(headers[http2.constants.HTTP2_HEADER_STATUS]);
      statusFrom(headers);
    });
    stream.on('trailers', statusFrom);
    stream.on('data', (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > MAX_MESSAGE_BYTES + FRAME_PREFIX_BYTES) {
        failure ??= callError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${receivedBytes} vs ${MAX_MESSAGE_BYTES})`);
        received = [];
        stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
      received.push(chunk);
    });
    stream.on('error', (err) => {
      streamError = err;
    });
    stream.on('close', () => {
      clearTimeout(timer);
      endpoint.streamEnded(session);
      if (failure !== undefined) return call.reject(failure);
      if (grpcStatus === undefined) {
        const dropped = callError(GrpcStatus.UNAVAILABLE, `etcd at ${endpoint.address}: ${streamError?.message ?? 'connection dropped'}`);
        // The connection was never made: nothing reached etcd.
        if (httpStatus === 0 && !endpoint.reachedOn(session)) return this.resend(call, endpoint, false, dropped);
        // Refused before etcd processed it (REFUSED_STREAM, or cut by a GOAWAY that did not
        // cover it): safe to send again. The session stays: one refused stream does not end it
        // (a member going away says so with GOAWAY, which drops it).
        const goaway = (streamError as { code?: string } | undefined)?.code === 'ERR_HTTP2_GOAWAY_SESSION';
        if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM || goaway) return this.resend(call, endpoint, true, dropped);
        if (httpStatus !== 0 && httpStatus !== 200) return call.reject(callError(codeOfHttpStatus(httpStatus), `Received HTTP status code ${httpStatus}`));
        return call.reject(dropped);
      }
      const code = Number(grpcStatus);
      if (code !== GrpcStatus.OK) return call.reject(callError(Number.isInteger(code) && code in GrpcStatus ? code : GrpcStatus.UNKNOWN, decodeGrpcMessage(grpcMessage)));
      const bytes = received.length === 1 ? (received[0] as Buffer) : Buffer.concat(received);
      if (bytes.length < FRAME_PREFIX_BYTES || bytes[0] !== 0 || bytes.readUInt32BE(1) !== bytes.length - FRAME_PREFIX_BYTES) {
        // One uncompressed message is all a unary answer can be (no compression is offered).
        return call.reject(callError(GrpcStatus.INTERNAL, 'etcd answered with a malformed message'));
      }
      let response: Res;
      try {
        response = call.codec.decode(bytes.subarray(FRAME_PREFIX_BYTES));
      } catch (err) {
        return call.reject(callError(GrpcStatus.INTERNAL, `response deserialization failure: ${err instanceof Error ? err.message : String(err)}`));
      }
      call.resolve(response);
    });
    stream.end(call.frame);
  }
}
