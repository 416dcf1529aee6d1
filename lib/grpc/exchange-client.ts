/**
 * Multiplexed unary calls, the client side: many calls of one service sent as messages of a
 * long-lived Exchange stream (see CallRequest in proto/apiserver/v1/meta.proto) instead of
 * one HTTP/2 stream each. The server side is GrpcServer (lib/grpc/serve.ts), which serves any
 * service's Exchange method with that service's unary handlers (lib/grpc/exchange.ts).
 *
 * Each call behaves as the unary call it replaces: its own CLIENT span (same name, trace
 * context sent along), its deadline, cancellation by the caller's signal, and failures as
 * StatusError. When the stream breaks, the calls in flight on it fail with
 * ServiceUnavailable, as unary calls on a broken connection do (whether they ran is unknown);
 * when the server ends it cleanly (it is shutting down), it has answered every call it
 * received, so the calls still waiting never ran and are sent again on a new stream.
 *
 * Over replicas (lib/grpc/replicas.ts) there is one stream per replica, and each call goes to
 * the next ready replica; a call refused as not executed, left waiting on a stream its server
 * ended cleanly, or written to a stream that never reached a connection, is sent to another
 * replica, and the refusing one is left out of picks while it drains. A replica may hold the
 * clients of several services, which share its connection (`clientOf` picks this service's).
 */
import * as grpc from '@grpc/grpc-js';
import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { StatusError } from '../errors.ts';
import { decodeStatusDetails, fromGrpcError } from '../grpc-status.ts';
import { nextFreeId } from '../stream-ids.ts';
import type { CallRequest } from '../gen/apiserver/v1/CallRequest.ts';
import type { CallResponse__Output } from '../gen/apiserver/v1/CallResponse.ts';
import type { Telemetry } from '../tracing.ts';
import { abortedError, DEFAULT_UNARY_TIMEOUT_MS, neverSent, type CallOptions, type UnaryRequest, type UnaryResponse } from './client.ts';
import { EXCHANGE_METHOD } from './exchange.ts';
import { ReplicaSet, type Replica } from './replicas.ts';
import { endRpcSpan, setClientPeer, startRpcSpan, traceCarrier, type TraceCarrier } from './trace-context.ts';

/**
 * How often a call refused as not executed (its server was shutting down) is sent again, at
 * least: over more replicas than that, once per replica.
 */
const MAX_RESENDS = 3;

interface MethodInfo {
  /** The PascalCase name the server knows, e.g. "Create". */
  name: string;
  rpcName: string;
  serialize: (request: unknown) => Buffer;
  deserialize: (bytes: Buffer) => unknown;
}

interface PendingCall {
  /** Where the call waits for its answer now (a resent call moves); undefined before it is sent. */
  session: Session<unknown> | undefined;
  /** The caller gave up while the call waited for a replica to send it to. */
  abandoned: boolean;
  id: number;
  /** Date.now() by which the caller gives up. */
  deadline: number;
  method: MethodInfo;
  request: Buffer;
  carrier: Required<TraceCarrier>;
  resends: number;
  resolve: (response: unknown) => void;
  reject: (err: StatusError) => void;
}

type Exchange = grpc.ClientDuplexStream<CallRequest, CallResponse__Output>;

/** One Exchange stream and the calls waiting for an answer on it. */
interface Session<R> {
  replica: Replica<R>;
  stream: Exchange;
  pending: Map<number, PendingCall>;
  /** The stream has ended: nothing more can be written to it. */
  ended: boolean;
}

export interface MultiplexedClientOptions {
  /**
   * The largest encoded request of one call; a larger call is refused here with 413, before
   * it is sent, because a message over the server's limit would end the whole stream and every
   * call in flight on it. The server's limit must leave room for the envelope (CallRequest).
   */
  maxRequestBytes?: number | undefined;
  /** The service's definition; needed over replicas (a single client carries its own). */
  service?: grpc.ServiceDefinition | undefined;
}

/**
 * `C`: the generated client of the service, whose unary methods calls name; `R`: what a replica
 * of the ReplicaSet holds (C itself, unless a replica holds the clients of several services).
 */
export class MultiplexedClient<C extends grpc.Client, R = C> {
  private readonly replicas: ReplicaSet<R>;
  /** The client of a replica that its streams are opened with. */
  private readonly clientOf: (replica: R) => grpc.Client;
  private readonly telemetry: Telemetry;
  private readonly maxRequestBytes: number;
  private readonly methods = new Map<string, MethodInfo>();
  private readonly exchange: grpc.MethodDefinition<CallRequest, CallResponse__Output>;
  /** The stream new calls to a replica go on. */
  private readonly sessions = new Map<Replica<R>, Session<R>>();
  /** Every stream not yet ended, the current ones and those retired while they drain. */
  private readonly open = new Set<Session<R>>();
  /** The id of the call sent last (ids go in turn, see nextFreeId). */
  private lastId = 0;
  private closed = false;

  /**
   * `clients`: a generated client whose service declares the Exchange method, or replicas of
   * such clients (with `options.service`), or replicas holding such a client each, which
   * `options.clientOf` gives. The replicas' owner closes them.
   */
  constructor(clients: C | ReplicaSet<C>, serviceName: string, telemetry: Telemetry, options?: MultiplexedClientOptions);
  constructor(
    clients: ReplicaSet<R>,
    serviceName: string,
    telemetry: Telemetry,
    options: MultiplexedClientOptions & { service: grpc.ServiceDefinition; clientOf: (replica: R) => C },
  );
  constructor(
    clients: C | ReplicaSet<C> | ReplicaSet<R>,
    serviceName: string,
    telemetry: Telemetry,
    options: MultiplexedClientOptions & { clientOf?: (replica: R) => C } = {},
  ) {
    // Without clientOf, R is C (the first signature).
    this.replicas = (clients instanceof ReplicaSet ? clients : ReplicaSet.single(clients, (c) => c.getChannel(), serviceName)) as ReplicaSet<R>;
    this.clientOf = options.clientOf ?? ((replica) => replica as grpc.Client);
    this.telemetry = telemetry;
    this.maxRequestBytes = options.maxRequestBytes ?? Infinity;
    const service = options.service ?? (clients instanceof ReplicaSet ? undefined : (clients.constructor as unknown as { service: grpc.ServiceDefinition }).service);
    if (service === undefined) throw new Error(`${serviceName}: the service definition is needed over replicas`);
    const exchange = service[EXCHANGE_METHOD];
    if (exchange === undefined) throw new Error(`${serviceName} has no ${EXCHANGE_METHOD} method`);
    this.exchange = exchange as grpc.MethodDefinition<CallRequest, CallResponse__Output>;
    for (const [name, def] of Object.entries(service)) {
      if (def.requestStream || def.responseStream) continue;
      const info: MethodInfo = {
        name,
        rpcName: `${serviceName}/${name}`,
        serialize: def.requestSerialize as (request: unknown) => Buffer,
        deserialize: def.responseDeserialize as (bytes: Buffer) => unknown,
      };
      this.methods.set(name, info);
      const original = (def as { originalName?: string }).originalName;
      if (original !== undefined) this.methods.set(original, info);
    }
  }

  /**
   * Calls the unary method `method` over the shared stream; as unary() in lib/grpc.ts, except
   * that only the trace context travels with a call, not opts.metadata (the stream's metadata
   * is what the server's handlers see).
   */
  call<K extends keyof C & string>(method: K, request: UnaryRequest<C[K]>, opts?: CallOptions): Promise<UnaryResponse<C[K]>> {
    const info = this.methods.get(method);
    if (info === undefined) return Promise.reject(new StatusError('MethodNotAllowed', `unknown method "${method}"`));
    if (opts?.signal?.aborted) return Promise.reject(abortedError());
    if (this.closed) return Promise.reject(new StatusError('ServiceUnavailable', 'service unavailable: the client is closed'));
    const span = startRpcSpan(this.telemetry, info.rpcName, SpanKind.CLIENT);
    const carrier = traceCarrier(this.telemetry, trace.setSpan(context.active(), span));
    let bytes: Buffer;
    try {
      bytes = info.serialize(request);
    } catch {
      endRpcSpan(span, SpanKind.CLIENT, grpc.status.INVALID_ARGUMENT);
      return Promise.reject(new StatusError('BadRequest', `malformed ${info.name} request`));
    }
    if (bytes.length > this.maxRequestBytes) {
      endRpcSpan(span, SpanKind.CLIENT, grpc.status.RESOURCE_EXHAUSTED);
      return Promise.reject(new StatusError('RequestEntityTooLarge', `Request entity too large: limit is ${this.maxRequestBytes}`));
    }
    return new Promise<UnaryResponse<C[K]>>((resolve, reject) => {
      const timeoutMs = opts?.timeoutMs ?? DEFAULT_UNARY_TIMEOUT_MS;
      const giveUp = (err: StatusError) => {
        const { session, id } = pending;
        if (session === undefined && !pending.abandoned) {
          pending.abandoned = true;
          pending.reject(err);
          return;
        }
        if (session?.pending.get(id) !== pending) return;
        session.pending.delete(id);
        this.send(session, { id, cancel: true });
        pending.reject(err);
      };
      const timer = setTimeout(() => giveUp(new StatusError('Timeout', 'request did not complete within requested timeout')), timeoutMs);
      timer.unref();
      const onAbort = () => giveUp(abortedError());
      opts?.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        opts?.signal?.removeEventListener('abort', onAbort);
      };
      const pending: PendingCall = {
        session: undefined,
        abandoned: false,
        id: 0,
        deadline: Date.now() + timeoutMs,
        method: info,
        request: bytes,
        carrier,
        resends: 0,
        resolve: (response) => {
          cleanup();
          this.endSpan(span, pending, grpc.status.OK);
          resolve(response as UnaryResponse<C[K]>);
        },
        reject: (err) => {
          cleanup();
          this.endSpan(span, pending, err.grpcCode);
          reject(err);
        },
      };
      this.dispatch(pending);
    });
  }

  /** Ends a call's span with the peer of the stream it went on and its status code. */
  private endSpan(span: Span, pending: PendingCall, code: grpc.status): void {
    if (span.isRecording()) setClientPeer(span, pending.session?.stream.getPeer());
    endRpcSpan(span, SpanKind.CLIENT, code);
  }

  /** Ends the stream; calls still waiting fail with ServiceUnavailable. */
  close(): void {
    this.closed = true;
    for (const session of this.open) session.stream.cancel();
  }

  /** Sends a call on the current stream of the next replica (opening one when there is none). */
  private dispatch(pending: PendingCall): void {
    const replica = this.replicas.pick();
    if (replica === undefined) {
      // No replica known yet (its name is being looked up): the call waits for one.
      pending.session = undefined;
      this.replicas.pickAsync().then(
        () => {
          if (!pending.abandoned) this.dispatch(pending);
        },
        (err: unknown) => {
          if (pending.abandoned) return;
          pending.abandoned = true;
          pending.reject(StatusError.from(err));
        },
      );
      return;
    }
    const session = this.sessions.get(replica) ?? this.openSession(replica);
    const id = nextFreeId(this.lastId, session.pending);
    this.lastId = id;
    pending.session = session as Session<unknown>;
    pending.id = id;
    session.pending.set(id, pending);
    this.send(session, {
      id,
      method: pending.method.name,
      request: pending.request,
      traceparent: pending.carrier.traceparent,
      tracestate: pending.carrier.tracestate,
      timeoutMs: Math.max(1, Math.ceil(pending.deadline - Date.now())),
    });
  }

  /** How often a call may be sent again. */
  private get maxResends(): number {
    return Math.max(MAX_RESENDS, this.replicas.size);
  }

  private send(session: Session<unknown>, message: CallRequest): void {
    // grpc-js queues what the transport cannot take yet; the callers in flight bound it.
    if (!session.ended) session.stream.write(message);
  }

  private openSession(replica: Replica<R>): Session<R> {
    const stream = this.clientOf(replica.client).makeBidiStreamRequest(
      this.exchange.path,
      this.exchange.requestSerialize,
      this.exchange.responseDeserialize,
      new grpc.Metadata(),
      {},
    );
    const session: Session<R> = { replica, stream, pending: new Map(), ended: false };
    this.sessions.set(replica, session);
    this.open.add(session);
    stream.on('data', (response: CallResponse__Output) => this.answer(session, response));
    // 'status' comes once, after the last message: OK when the server ended the stream.
    stream.on('status', (status: grpc.StatusObject) => this.ended(session, status));
    // Failures are reported through 'status' as well; without a listener 'error' would throw.
    stream.on('error', () => {});
    return session;
  }

  private answer(session: Session<R>, response: CallResponse__Output): void {
    const pending = session.pending.get(response.id);
    if (pending === undefined) return; // timed out or cancelled meanwhile
    session.pending.delete(response.id);
    if (response.error.length === 0) {
      let decoded: unknown;
      try {
        decoded = pending.method.deserialize(response.response);
      } catch {
        pending.reject(new StatusError('InternalError', 'malformed response'));
        return;
      }
      pending.resolve(decoded);
      return;
    }
    if (response.notExecuted) {
      // Its server is shutting down: later calls go to another replica (or a new stream), and so does this one.
      this.retire(session);
      this.replicas.hold(session.replica);
      if (pending.resends++ < this.maxResends && !this.closed) {
        this.dispatch(pending);
        return;
      }
    }
    pending.reject(decodeStatusDetails(response.error) ?? new StatusError('InternalError', 'an internal error occurred'));
  }

  private ended(session: Session<R>, status: grpc.StatusObject): void {
    session.ended = true;
    this.open.delete(session);
    this.retire(session);
    const waiting = [...session.pending.values()];
    session.pending.clear();
    // Ended cleanly, the server answered every call it ran; a stream that never reached a
    // connection carried none to a server.
    const cleanEnd = status.code === grpc.status.OK;
    if (cleanEnd) this.replicas.hold(session.replica);
    const clean = (cleanEnd || neverSent(status)) && !this.closed;
    const failure = this.closed
      ? new StatusError('ServiceUnavailable', 'service unavailable: the client is closed')
      : fromGrpcError({ code: status.code === grpc.status.OK ? grpc.status.UNAVAILABLE : status.code, details: status.details, metadata: status.metadata });
    for (const pending of waiting) {
      if (clean && pending.resends++ < this.maxResends) this.dispatch(pending);
      else pending.reject(failure);
    }
  }

  /** New calls stop going to `session`; it stays open until its calls are answered. */
  private retire(session: Session<R>): void {
    if (this.sessions.get(session.replica) === session) this.sessions.delete(session.replica);
  }
}
