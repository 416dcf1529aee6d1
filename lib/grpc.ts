/**
 * gRPC plumbing every service shares: a server that wraps handlers into the four steps
 * (extract trace context, call the core, translate the error, respond), serves grpc.health.v1
 * and drains on shutdown; clients whose calls carry the trace context and fail with
 * StatusError; mutual TLS when certificates are configured.
 */
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
  type Span,
} from '@opentelemetry/api';
import { HealthImplementation } from 'grpc-health-check';
import { badRequest, StatusError } from './errors.ts';
import { encodeStatusDetails, fromGrpcError, toGrpcStatus } from './grpc-status.ts';
import type { CallRequest__Output } from './gen/apiserver/v1/CallRequest.ts';
import type { CallResponse } from './gen/apiserver/v1/CallResponse.ts';
import type { Logger } from './log.ts';
import type { Telemetry } from './tracing.ts';

/**
 * The largest message a client takes, and a server sends: answers such as list pages and
 * history hold many objects of up to 1.5 MiB, far above grpc's default 4 MiB. What a server
 * takes is its own, much smaller limit (GrpcServerOptions.maxReceiveMessageBytes).
 */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** Room in a request for what surrounds its objects: references, options, trace context. */
export const MESSAGE_FRAMING_BYTES = 64 * 1024;

/**
 * The largest object an internal request carries, as JSON: kube-apiserver's request body
 * limit (3 MiB), which the front door enforces. Storage refuses an object above its own,
 * smaller limit with kube's 413 before this one matters.
 */
export const MAX_OBJECT_BYTES_IN_REQUEST = 3 * 1024 * 1024;

/**
 * The largest request without an object (a token, authorization attributes, a watch's names
 * and selectors): generous, as kube-apiserver bounds such values only by its 1 MiB of URL
 * and headers.
 */
export const MAX_SMALL_REQUEST_BYTES = 1024 * 1024;

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  // A peer that restarts (make up's supervisor, a pod) is used again at most this long after it
  // is back: grpc-js backs off reconnecting by 1.6x per failure up to 120 s by default, so a
  // 30 s outage could leave a client waiting another 40 s.
  'grpc.max_reconnect_backoff_ms': 5_000,
  // One connection carries many watch streams: with HTTP/2's 64 KiB default window a burst of
  // events to all of them stalls on window updates (bench: p99 159 ms -> 19 ms with 16 MiB).
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
};

// ---------------------------------------------------------------------------------------------
// Transport security

/** Files of a mutual-TLS identity; all three set turns mutual TLS on. */
export interface TlsFiles {
  /** CA that signs every service's certificate (PEM). */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** The flags every service has for its internal gRPC identity. */
export const TLS_FLAGS = [
  {
    flag: 'grpc-tls-ca',
    env: 'GRPC_TLS_CA_FILE',
    default: '',
    description: 'CA certificate (PEM) of internal gRPC; with cert and key, turns on mutual TLS',
  },
  {
    flag: 'grpc-tls-cert',
    env: 'GRPC_TLS_CERT_FILE',
    default: '',
    description: 'this service\'s certificate (PEM) for internal gRPC, as server and as client',
  },
  {
    flag: 'grpc-tls-key',
    env: 'GRPC_TLS_KEY_FILE',
    default: '',
    description: 'private key (PEM) of --grpc-tls-cert',
  },
] as const;

/** Mutual TLS files from the TLS flags, or undefined (plaintext) when none is set. */
export function tlsFilesFrom(config: {
  'grpc-tls-ca': string;
  'grpc-tls-cert': string;
  'grpc-tls-key': string;
}): TlsFiles | undefined {
  const files = { caFile: config['grpc-tls-ca'], certFile: config['grpc-tls-cert'], keyFile: config['grpc-tls-key'] };
  const set = Object.values(files).filter((v) => v !== '').length;
  if (set === 0) return undefined;
  if (set !== 3) throw new Error('mutual TLS needs --grpc-tls-ca, --grpc-tls-cert and --grpc-tls-key together');
  return files;
}

export function serverCredentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    readFileSync(tls.caFile),
    [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
    true,
  );
}

export function channelCredentials(tls: TlsFiles | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile));
}

// ---------------------------------------------------------------------------------------------
// Trace context over metadata

const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key);
    if (values.length === 0) return undefined;
    return values.map(String);
  },
};

const metadataSetter: TextMapSetter<grpc.Metadata> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** W3C trace context carried in a message: a call or a watch multiplexed on a shared stream. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const carrierGetter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => (['traceparent', 'tracestate'] as const).filter((k) => (carrier[k] ?? '') !== ''),
  get: (carrier, key) => {
    const value = carrier[key as keyof TraceCarrier];
    return value === '' ? undefined : value;
  },
};

const carrierSetter: TextMapSetter<TraceCarrier> = {
  set: (carrier, key, value) => {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

/** The trace context of `ctx` as message fields ('' when there is none). */
export function traceCarrier(telemetry: Telemetry, ctx: Context): Required<TraceCarrier> {
  const carrier: TraceCarrier = {};
  telemetry.propagator.inject(ctx, carrier, carrierSetter);
  return { traceparent: carrier.traceparent ?? '', tracestate: carrier.tracestate ?? '' };
}

/** The context a message's trace context names: its span's parent on the receiving side. */
export function contextFromCarrier(telemetry: Telemetry, carrier: TraceCarrier): Context {
  return telemetry.propagator.extract(ROOT_CONTEXT, carrier, carrierGetter);
}

/**
 * The span of one RPC, named "<service>/<method>" with the rpc.* attributes: CLIENT on the
 * caller's side (child of the active context), SERVER on the callee's (child of `parent`).
 */
export function startRpcSpan(telemetry: Telemetry, rpcName: string, kind: SpanKind, parent: Context = context.active()): Span {
  const [service = '', method = ''] = rpcName.split('/');
  return telemetry.tracer.startSpan(rpcName, { kind, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } }, parent);
}

// ---------------------------------------------------------------------------------------------
// Server

/** What a handler knows about its call besides the request. */
export interface CallContext {
  readonly metadata: grpc.Metadata;
  /** Aborted when the client cancels or the server shuts down. */
  readonly signal: AbortSignal;
}

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

/**
 * A server-streaming handler: writes messages with `send` (which resolves when the transport
 * can take more, so a slow client pushes back) and resolves when the stream is complete.
 */
export type ServerStreamHandler<Req, Res> = (
  request: Req,
  ctx: CallContext,
  send: (message: Res) => Promise<void>,
) => Promise<void>;

/**
 * A bidirectional-streaming handler: reads `call` and writes to it itself (so it owns the flow
 * control of its writes: write() returning false means wait for 'drain'), and resolves when
 * it is done; the call then ends with OK. ctx.signal aborts on shutdown and when the client
 * cancels (`call.cancelled` tells which). No span is made for the call: a long-lived stream
 * carries many operations of many traces, and the handler traces each of them.
 */
export type BidiStreamHandler<Req, Res> = (call: grpc.ServerDuplexStream<Req, Res>, ctx: CallContext) => Promise<void>;

type AnyHandler = UnaryHandler<never, unknown> | ServerStreamHandler<never, unknown> | BidiStreamHandler<never, unknown>;

/** Handlers keyed by the original (PascalCase) method names of a service definition. */
export type HandlerMap = Record<string, AnyHandler>;

export interface GrpcServerOptions {
  /** The service's name, for logs. */
  name: string;
  telemetry: Telemetry;
  logger: Logger;
  tls?: TlsFiles | undefined;
  /**
   * The largest request message the server takes, framing included: what its services
   * legitimately receive. grpc-js refuses a larger one from its length prefix, before reading
   * it and before any handler (so before authentication), with RESOURCE_EXHAUSTED; a
   * multiplexed Exchange stream, whose messages each carry one call, is refused as a whole.
   * Answers are not limited by it (MAX_MESSAGE_BYTES).
   */
  maxReceiveMessageBytes: number;
}

/**
 * A request that did not decode as its message. The deserializers GrpcServer installs return
 * one instead of throwing (grpc-js would answer INTERNAL); guardCalls answers it with
 * INVALID_ARGUMENT, so no handler ever sees one.
 */
class MalformedRequest {
  readonly error: StatusError;

  constructor(error: StatusError) {
    this.error = error;
  }
}

/** BadRequest for a request of `rpcName` that does not decode as its message, saying why. */
export function malformedRequest(rpcName: string, err: unknown): StatusError {
  // The decoder's words name a wire type or an offset, never the request's contents.
  const why = err instanceof Error && err.message !== '' ? `: ${err.message}` : '';
  return badRequest(`malformed ${rpcName} request${why}`);
}

/** `deserialize`, returning a MalformedRequest where it would throw. */
function tolerantDeserializer(rpcName: string, deserialize: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return deserialize(bytes);
    } catch (err) {
      return new MalformedRequest(malformedRequest(rpcName, err));
    }
  };
}

/** The HTTP/2 stream of a call, as grpc-js's base call holds it. */
interface BaseCallWithStream {
  stream?: Pick<http2.ServerHttp2Stream, 'close' | 'once' | 'readableEnded' | 'destroyed' | 'sentHeaders'>;
}

/**
 * Ends the upload of a request that was answered before it was read to its end. grpc-js
 * refuses a message over the limit from its length prefix, but goes on reading (and dropping)
 * the rest of it, so the client would upload all of it before it sees the answer. When the
 * answer is complete and was a single HEADERS frame carrying the status (grpc's trailers-only
 * response: nothing more can follow it), the stream is reset with NO_ERROR, as HTTP/2 allows
 * for a response that precedes the end of its request (RFC 9113, 8.1); the client has the
 * status already. The HTTP/2 stream is an internal of grpc-js's base call (the version is
 * pinned); without one, this does nothing.
 */
function stopUploadWhenAnswered(call: grpc.ServerInterceptingCallInterface): void {
  const stream = (call as unknown as BaseCallWithStream).stream;
  if (stream === undefined || typeof stream.close !== 'function' || typeof stream.once !== 'function') return;
  stream.once('finish', () => {
    if (stream.readableEnded || stream.destroyed || stream.sentHeaders['grpc-status'] === undefined) return;
    stream.close(http2.constants.NGHTTP2_NO_ERROR);
  });
}

/**
 * Every call of a GrpcServer passes here first: a request that did not decode ends the call
 * with INVALID_ARGUMENT and its Status (whatever the kind of call: unary, a stream's message),
 * and a request answered before its end stops uploading.
 */
const guardCalls: grpc.ServerInterceptor = (_method, call) => {
  stopUploadWhenAnswered(call);
  const guarded: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message: unknown, nextMessage: (message: unknown) => void) => {
          if (message instanceof MalformedRequest) guarded.sendStatus({ ...toGrpcStatus(message.error), details: message.error.message });
          else nextMessage(message);
        },
      }),
  });
  return guarded;
};

/**
 * A gRPC server with health checking and graceful shutdown.
 *
 * `streams` holds an AbortController per server stream in flight; it is touched only on the
 * event loop (no locking needed) and aborted as a whole when shutdown begins.
 */
export class GrpcServer {
  private readonly server: grpc.Server;
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING' });
  /** One AbortController per server stream in flight (watches): ended first on shutdown. */
  private readonly streams = new Set<AbortController>();
  private readonly serviceNames: string[] = [];
  private readonly options: GrpcServerOptions;
  private stopping = false;

  constructor(options: GrpcServerOptions) {
    if (!Number.isSafeInteger(options.maxReceiveMessageBytes) || options.maxReceiveMessageBytes <= 0) {
      throw new Error(`${options.name}: maxReceiveMessageBytes must be a positive integer`);
    }
    this.options = options;
    this.server = new grpc.Server({
      ...CHANNEL_OPTIONS,
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
      interceptors: [guardCalls],
    });
    this.health.addToServer(this.server);
  }

  /**
   * Adds a service. Every method of the definition must have a handler, or this throws: a
   * silently unimplemented method would answer UNIMPLEMENTED at run time. A request that does
   * not decode as its message is answered with INVALID_ARGUMENT (a BadRequest Status saying
   * why) before any handler runs.
   */
  addService(serviceName: string, definition: grpc.ServiceDefinition, handlers: HandlerMap): void {
    const wrapped: grpc.UntypedServiceImplementation = {};
    const served: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const unaryMethods = new Map<string, ExchangeMethod>();
    let exchange: string | undefined;
    for (const [method, def] of Object.entries(definition)) {
      served[method] = { ...def, requestDeserialize: tolerantDeserializer(`${serviceName}/${method}`, def.requestDeserialize) };
      if (method === EXCHANGE_METHOD && def.requestStream && def.responseStream) {
        // Served by the server itself: the service's unary handlers, multiplexed.
        exchange = method;
        continue;
      }
      const original = (def as { originalName?: string }).originalName ?? method;
      const handler = handlers[method] ?? handlers[original];
      if (handler === undefined) throw new Error(`${serviceName}: no handler for ${method}`);
      const rpcName = `${serviceName}/${method}`;
      if (def.requestStream) {
        if (!def.responseStream) throw new Error(`${serviceName}/${method}: client streaming is not used`);
        wrapped[method] = this.wrapBidiStream(rpcName, handler as BidiStreamHandler<unknown, unknown>);
        continue;
      }
      if (def.responseStream) {
        wrapped[method] = this.wrapServerStream(rpcName, handler as ServerStreamHandler<unknown, unknown>);
      } else {
        const unaryHandler = handler as UnaryHandler<unknown, unknown>;
        wrapped[method] = this.wrapUnary(rpcName, unaryHandler);
        unaryMethods.set(method, {
          rpcName,
          handler: unaryHandler,
          deserialize: def.requestDeserialize as (b: Buffer) => unknown,
          serialize: def.responseSerialize as (v: unknown) => Buffer,
        });
      }
    }
    if (exchange !== undefined) wrapped[exchange] = this.wrapExchange(unaryMethods);
    this.server.addService(served as grpc.ServiceDefinition, wrapped);
    this.serviceNames.push(serviceName);
  }

  /** Binds and starts serving; resolves with the bound port (useful with port 0). */
  async listen(address: string): Promise<number> {
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(address, serverCredentials(this.options.tls), (err, p) =>
        err === null ? resolve(p) : reject(err),
      );
    });
    this.health.setStatus('', 'SERVING');
    for (const name of this.serviceNames) this.health.setStatus(name, 'SERVING');
    return port;
  }

  /**
   * Graceful stop: report NOT_SERVING, end open streams (their handlers see the abort and
   * finish), let unary calls in flight complete for up to `graceMs`, then close.
   */
  async shutdown(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.health.setStatus('', 'NOT_SERVING');
    for (const name of this.serviceNames) this.health.setStatus(name, 'NOT_SERVING');
    // Streams never finish by themselves; unary calls do, so they are left to drain.
    for (const controller of this.streams) controller.abort(new StatusError('ServiceUnavailable', 'server is shutting down'));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** A SERVER span for one call, a child of the trace context the client sent. */
  private startSpan(rpcName: string, parent: Context): Context {
    return trace.setSpan(parent, startRpcSpan(this.options.telemetry, rpcName, SpanKind.SERVER, parent));
  }

  private begin(
    rpcName: string,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
    stream: boolean,
    traced = true,
  ): { ctx: CallContext; otelContext: Context; done: () => void } {
    const parent = traced ? this.options.telemetry.propagator.extract(ROOT_CONTEXT, call.metadata, metadataGetter) : ROOT_CONTEXT;
    const otelContext = traced ? this.startSpan(rpcName, parent) : parent;
    const controller = new AbortController();
    if (stream) this.streams.add(controller);
    let finished = false;
    // grpc-js also reports 'cancelled' after a call completed; only a live call is aborted.
    (call as grpc.ServerWritableStream<unknown, unknown>).on('cancelled', () => {
      if (!finished) controller.abort(new StatusError('Timeout', 'the client cancelled the call'));
    });
    return {
      ctx: { metadata: call.metadata, signal: controller.signal },
      otelContext,
      done: () => {
        finished = true;
        this.streams.delete(controller);
        trace.getSpan(otelContext)?.end();
      },
    };
  }

  private fail(rpcName: string, err: unknown, otelContext: Context): StatusError {
    const status = StatusError.from(err);
    const span = trace.getSpan(otelContext);
    if (!(err instanceof StatusError)) {
      this.options.logger.error('unexpected error in handler', { rpc: rpcName, error: err });
    }
    span?.setAttribute('k8s.status.reason', status.reason);
    if (status.code >= 500) span?.setStatus({ code: SpanStatusCode.ERROR, message: status.reason });
    return status;
  }

  private wrapUnary(rpcName: string, handler: UnaryHandler<unknown, unknown>): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      const { ctx, otelContext, done } = this.begin(rpcName, call, false);
      context
        .with(otelContext, () => handler(call.request, ctx))
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(toGrpcStatus(this.fail(rpcName, err, otelContext))),
        )
        .finally(done);
    };
  }

  private wrapServerStream(
    rpcName: string,
    handler: ServerStreamHandler<unknown, unknown>,
  ): grpc.handleServerStreamingCall<unknown, unknown> {
    return (call) => {
      const { ctx, otelContext, done } = this.begin(rpcName, call, true);
      const send = (message: unknown): Promise<void> => {
        if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
        if (call.write(message)) return Promise.resolve();
        return new Promise((resolve, reject) => {
          const onDrain = () => {
            ctx.signal.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            call.off('drain', onDrain);
            reject(ctx.signal.reason);
          };
          call.once('drain', onDrain);
          ctx.signal.addEventListener('abort', onAbort, { once: true });
        });
      };
      context
        .with(otelContext, () => handler(call.request, ctx, send))
        .then(
          () => call.end(),
          (err: unknown) => {
            if (call.cancelled) return;
            call.emit('error', toGrpcStatus(this.fail(rpcName, err, otelContext)));
          },
        )
        .finally(done);
    };
  }
  /**
   * The Exchange method: every unary method of the service, many calls multiplexed over one
   * stream. Each call gets the span, context and error translation of a unary call. Shutdown
   * drains it like unary calls: calls in flight finish, calls that arrive meanwhile are
   * refused as not executed (the client sends them again elsewhere), then the stream ends.
   */
  private wrapExchange(methods: ReadonlyMap<string, ExchangeMethod>): grpc.handleBidiStreamingCall<CallRequest__Output, CallResponse> {
    return (call) => {
      const draining = new AbortController();
      this.streams.add(draining);
      serveExchange(call, draining.signal, methods, (method, request, carrier, ctx) => {
        const otelContext = this.startSpan(method.rpcName, contextFromCarrier(this.options.telemetry, carrier));
        // A handler that throws instead of rejecting still answers (and frees its slot).
        return Promise.resolve()
          .then(() => context.with(otelContext, () => method.handler(request, ctx)))
          .then(method.serialize, (err: unknown) => {
            throw this.fail(method.rpcName, err, otelContext);
          })
          .finally(() => trace.getSpan(otelContext)?.end());
      }).finally(() => this.streams.delete(draining));
    };
  }

  private wrapBidiStream(rpcName: string, handler: BidiStreamHandler<unknown, unknown>): grpc.handleBidiStreamingCall<unknown, unknown> {
    return (call) => {
      const { ctx, otelContext, done } = this.begin(rpcName, call, true, false);
      context
        .with(otelContext, () => handler(call, ctx))
        .then(
          () => {
            if (!call.cancelled) call.end();
          },
          (err: unknown) => {
            if (call.cancelled) return;
            call.emit('error', toGrpcStatus(this.fail(rpcName, err, otelContext)));
          },
        )
        .finally(done);
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Multiplexed calls: the server side (lib/grpc-mux.ts is the client)

/** The bidi method a service declares to have its unary methods multiplexed (see CallRequest). */
export const EXCHANGE_METHOD = 'Exchange';

/** Calls in flight on one Exchange stream before the server stops reading it until some finish. */
export const MAX_EXCHANGE_CALLS_IN_FLIGHT = 1024;

/** One unary method as the Exchange serves it. */
interface ExchangeMethod {
  rpcName: string;
  handler: UnaryHandler<unknown, unknown>;
  deserialize: (bytes: Buffer) => unknown;
  serialize: (response: unknown) => Buffer;
}

type RunExchangeCall = (method: ExchangeMethod, request: unknown, carrier: TraceCarrier, ctx: CallContext) => Promise<Buffer>;

/**
 * Serves one Exchange stream until the client ends it (after its calls finish), the client
 * goes away (calls in flight are aborted) or `draining` fires and the calls in flight finish.
 *
 * Memory is bounded: at MAX_EXCHANGE_CALLS_IN_FLIGHT calls, or while the transport does not
 * take more answers, the stream is not read; the client's writes then wait in HTTP/2 flow
 * control, not here. Everything runs on the event loop, so the maps need no locking.
 */
function serveExchange(
  call: grpc.ServerDuplexStream<CallRequest__Output, CallResponse>,
  draining: AbortSignal,
  methods: ReadonlyMap<string, ExchangeMethod>,
  run: RunExchangeCall,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const calls = new Map<number, AbortController>();
    let clientDone = false;
    let finished = false;
    let writeBlocked = false;
    let readPaused = false;

    const finish = (err?: StatusError) => {
      if (finished) return;
      finished = true;
      if (err === undefined) call.end();
      else call.emit('error', toGrpcStatus(err));
      resolve();
    };
    const finishIfIdle = () => {
      if ((clientDone || draining.aborted) && calls.size === 0) finish();
    };
    const updateReading = () => {
      const shouldPause = writeBlocked || calls.size >= MAX_EXCHANGE_CALLS_IN_FLIGHT;
      if (shouldPause && !readPaused) call.pause();
      if (!shouldPause && readPaused) call.resume();
      readPaused = shouldPause;
    };
    const reply = (response: CallResponse) => {
      if (finished || call.cancelled) return;
      if (!call.write(response) && !writeBlocked) {
        writeBlocked = true;
        updateReading();
        call.once('drain', () => {
          writeBlocked = false;
          updateReading();
        });
      }
    };
    const gone = () => {
      for (const controller of calls.values()) controller.abort(new StatusError('Timeout', 'the client cancelled the call'));
      calls.clear();
      finished = true;
      resolve();
    };

    call.on('cancelled', gone);
    call.on('error', gone);
    call.on('end', () => {
      clientDone = true;
      finishIfIdle();
    });
    draining.addEventListener('abort', finishIfIdle, { once: true });
    call.on('data', (message: CallRequest__Output) => {
      if (finished) return;
      const { id } = message;
      if (message.cancel) {
        calls.get(id)?.abort(new StatusError('Timeout', 'the client cancelled the call'));
        return;
      }
      if (calls.has(id)) {
        // Two calls with one id cannot be told apart: the client is broken, not the call.
        finish(badRequest(`call id ${id} is already in flight on this stream`));
        gone();
        return;
      }
      if (draining.aborted) {
        reply({ id, error: encodeStatusDetails(new StatusError('ServiceUnavailable', 'server is shutting down')), notExecuted: true });
        return;
      }
      const method = methods.get(message.method);
      if (method === undefined) {
        reply({ id, error: encodeStatusDetails(new StatusError('MethodNotAllowed', `unknown method "${message.method}"`)) });
        return;
      }
      let request: unknown;
      try {
        request = method.deserialize(message.request);
      } catch (err) {
        reply({ id, error: encodeStatusDetails(malformedRequest(method.rpcName, err)) });
        return;
      }
      const controller = new AbortController();
      calls.set(id, controller);
      updateReading();
      const timer =
        message.timeoutMs > 0
          ? setTimeout(() => controller.abort(new StatusError('Timeout', 'request did not complete within requested timeout')), message.timeoutMs)
          : undefined;
      const carrier = { traceparent: message.traceparent, tracestate: message.tracestate };
      // Started after the messages read with it, so that a cancel or a deadline that came
      // first (a backlog read after a pause) stops the call before it runs, not during.
      new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => {
          if (controller.signal.aborted) throw controller.signal.reason;
          return run(method, request, carrier, { metadata: call.metadata, signal: controller.signal });
        })
        .then(
          (response) => reply({ id, response }),
          (err: unknown) => reply({ id, error: encodeStatusDetails(StatusError.from(err)) }),
        )
        .finally(() => {
          clearTimeout(timer);
          if (calls.get(id) !== controller) return;
          calls.delete(id);
          updateReading();
          finishIfIdle();
        });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Client

export interface ClientOptions {
  telemetry: Telemetry;
  tls?: TlsFiles | undefined;
}

/** Options of one call. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Deadline in milliseconds from now. */
  timeoutMs?: number | undefined;
  /** Extra metadata, e.g. the caller's credentials. */
  metadata?: grpc.Metadata | undefined;
}

/** A client interceptor that starts a CLIENT span per call and injects its context. */
function tracingInterceptor(telemetry: Telemetry): grpc.Interceptor {
  return (options, nextCall) => {
    const path = options.method_definition.path.replace(/^\//, '');
    const method = path.split('/')[1] ?? '';
    // A multiplexed stream lives as long as the client: each call on it has its own span.
    if (method === EXCHANGE_METHOD) return new grpc.InterceptingCall(nextCall(options));
    const span = startRpcSpan(telemetry, path, SpanKind.CLIENT);
    const spanContext = trace.setSpan(context.active(), span);
    return new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        telemetry.propagator.inject(spanContext, metadata, metadataSetter);
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            if (status.code !== grpc.status.OK) {
              span.setAttribute('rpc.grpc.status_code', status.code);
              if (status.code !== grpc.status.NOT_FOUND && status.code !== grpc.status.ALREADY_EXISTS) {
                span.setStatus({ code: SpanStatusCode.ERROR });
              }
            }
            span.end();
            nextStatus(status);
          },
        });
      },
    });
  };
}

/** The options to construct a generated client with: credentials, limits, tracing. */
export function clientSettings(options: ClientOptions): {
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ClientOptions;
} {
  return {
    credentials: channelCredentials(options.tls),
    channelOptions: { ...CHANNEL_OPTIONS, interceptors: [tracingInterceptor(options.telemetry)] },
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- conditional types over generated overloads */
/** The request type of a generated unary method (read from its last overload). */
export type UnaryRequest<F> = F extends (argument: infer Req, callback: grpc.requestCallback<any>) => grpc.ClientUnaryCall ? Req : never;
/** The response type of a generated unary method. */
export type UnaryResponse<F> = F extends (argument: any, callback: grpc.requestCallback<infer Res>) => grpc.ClientUnaryCall ? Res : never;
/** The request type of a generated server-streaming method. */
export type StreamRequest<F> = F extends (argument: infer Req, options?: grpc.CallOptions) => grpc.ClientReadableStream<any> ? Req : never;
/** The message type of a generated server-streaming method. */
export type StreamMessage<F> = F extends (argument: any, options?: grpc.CallOptions) => grpc.ClientReadableStream<infer Res> ? Res : never;
type AnyFunction = (...args: any[]) => any;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The deadline of an internal unary call when the caller gives none: nothing hangs forever. */
export const DEFAULT_UNARY_TIMEOUT_MS = 60_000;

function callOptions(opts: CallOptions | undefined, fallbackTimeoutMs?: number): grpc.CallOptions {
  const o: grpc.CallOptions = {};
  const timeout = opts?.timeoutMs ?? fallbackTimeoutMs;
  if (timeout !== undefined) o.deadline = Date.now() + timeout;
  return o;
}

/** The error of a call its caller's signal ended (a request timeout or a client that left). */
export function abortedError(): StatusError {
  return new StatusError('Timeout', 'request did not complete within requested timeout');
}

/**
 * Calls the unary method `method` of a generated client and resolves with its response;
 * rejects with StatusError (decoded from the status details, or derived from the gRPC code on
 * a transport failure).
 */
export function unary<C extends grpc.Client, K extends keyof C & string>(
  client: C,
  method: K,
  request: UnaryRequest<C[K]>,
  opts?: CallOptions,
): Promise<UnaryResponse<C[K]>> {
  return new Promise((resolve, reject) => {
    if (opts?.signal?.aborted) {
      reject(abortedError());
      return;
    }
    const fn = client[method] as AnyFunction;
    const call = fn.call(
      client,
      request,
      opts?.metadata ?? new grpc.Metadata(),
      callOptions(opts, DEFAULT_UNARY_TIMEOUT_MS),
      (err: grpc.ServiceError | null, response: UnaryResponse<C[K]> | undefined) => {
        opts?.signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(opts?.signal?.aborted === true ? abortedError() : fromGrpcError(err));
        else if (response === undefined) reject(new StatusError('InternalError', 'empty response'));
        else resolve(response);
      },
    ) as grpc.ClientUnaryCall;
    const onAbort = () => call.cancel();
    opts?.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls a server-streaming method and yields its messages; the iteration ends when the server
 * ends the stream and throws StatusError when it fails. Breaking out of the loop, or aborting
 * `opts.signal`, cancels the call.
 */
export async function* serverStream<C extends grpc.Client, K extends keyof C & string>(
  client: C,
  method: K,
  request: StreamRequest<C[K]>,
  opts?: CallOptions,
): AsyncGenerator<StreamMessage<C[K]>, void, undefined> {
  const fn = client[method] as AnyFunction;
  const call = fn.call(client, request, opts?.metadata ?? new grpc.Metadata(), callOptions(opts)) as grpc.ClientReadableStream<
    StreamMessage<C[K]>
  >;
  const onAbort = () => call.cancel();
  opts?.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const message of call as AsyncIterable<StreamMessage<C[K]>>) yield message;
  } catch (err) {
    if (opts?.signal?.aborted) return;
    throw fromGrpcError(err as grpc.ServiceError);
  } finally {
    opts?.signal?.removeEventListener('abort', onAbort);
    call.cancel();
  }
}

