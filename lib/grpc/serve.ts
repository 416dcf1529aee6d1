/**
 * The gRPC server every service runs: it wraps handlers into the four steps (extract trace
 * context, call the core, translate the error, respond), serves grpc.health.v1, answers a
 * request that does not decode before any handler runs, serves a service's Exchange method
 * (lib/grpc/exchange.ts) with its unary handlers, and drains on shutdown.
 */
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { context, ROOT_CONTEXT, SpanKind, trace, type Context } from '@opentelemetry/api';
import { HealthImplementation } from 'grpc-health-check';
import { badRequest, StatusError } from '../errors.ts';
import { toGrpcStatus } from '../grpc-status.ts';
import type { CallRequest__Output } from '../gen/apiserver/v1/CallRequest.ts';
import type { CallResponse } from '../gen/apiserver/v1/CallResponse.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Telemetry } from '../tracing.ts';
import { peerCertificateOf, serverCredentials, type TlsFiles } from './credentials.ts';
import { EXCHANGE_METHOD, serveExchange, type ExchangeMethod } from './exchange.ts';
import { CHANNEL_OPTIONS } from './limits.ts';
import { RpcMetrics, type MethodMetrics } from './server-metrics.ts';
import { contextFromCarrier, endRpcSpan, metadataGetter, setServerPeer, startRpcSpan } from './trace-context.ts';

/** What a handler knows about its call besides the request. */
export interface CallContext {
  readonly metadata: grpc.Metadata;
  /** Aborted when the client cancels or the server shuts down. */
  readonly signal: AbortSignal;
  /**
   * Trailing metadata sent with the answer of a unary call (e.g. the warnings of a write);
   * absent where there is none to send (streams, calls multiplexed over Exchange).
   */
  readonly trailers?: grpc.Metadata;
  /**
   * The client's TLS certificate, DER, when the call came over TLS with one (grpc-js exposes
   * the leaf only, not the chain the client sent).
   */
  readonly peerCertificate?: Buffer;
  /** The client's address as grpc-js reports it ("host:port", IPv6 hosts in brackets), when known. */
  readonly peer?: string;
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

/** The names a type declares, without its index signature (generated types extend one). */
type DeclaredKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: unknown };

/** The methods of a service that have handlers: all but Exchange, which GrpcServer serves. */
type HandledMethods<T> = Exclude<DeclaredKeys<T>, typeof EXCHANGE_METHOD> & string;

/** Our handler for a method that grpc-js's generated handler type `F` describes. */
type HandlerOf<F> =
  F extends grpc.handleBidiStreamingCall<infer Req, infer Res>
    ? BidiStreamHandler<Req, Res>
    : F extends grpc.handleServerStreamingCall<infer Req, infer Res>
      ? ServerStreamHandler<Req, Res>
      : F extends grpc.handleUnaryCall<infer Req, infer Res>
        ? UnaryHandler<Req, Res>
        : never;

/**
 * The handlers of one service, from the `XxxHandlers` interface proto-loader-gen-types writes
 * for it (lib/gen/apiserver/v1/Xxx.ts): one per method under its proto (PascalCase) name, of
 * the method's kind (unary, server-streaming, bidi) and with its request and response
 * messages, so that a missing, misspelt or mistyped handler does not compile. Exchange has
 * none: GrpcServer serves it with the service's unary handlers.
 */
export type ServiceHandlers<H> = { [K in HandledMethods<H>]: HandlerOf<H[K]> };

/** What addService takes for a definition: a handler for each of its methods but Exchange. */
export type HandlersFor<D extends grpc.ServiceDefinition> = { readonly [K in HandledMethods<D>]: AnyHandler };

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
  /** Where grpc_server_handled_total and grpc_server_handling_seconds are counted (lib/grpc/server-metrics.ts); none when absent. */
  metrics?: Metrics | undefined;
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

/** `deserialize`, throwing malformedRequest's BadRequest where it would throw. */
function strictDeserializer(rpcName: string, deserialize: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return deserialize(bytes);
    } catch (err) {
      throw malformedRequest(rpcName, err);
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
  private readonly rpcMetrics: RpcMetrics | undefined;
  /** The port bound by listen(), for the server.port of its spans. */
  private port: number | undefined;
  private stopping = false;
  private listening = false;

  constructor(options: GrpcServerOptions) {
    if (!Number.isSafeInteger(options.maxReceiveMessageBytes) || options.maxReceiveMessageBytes <= 0) {
      throw new Error(`${options.name}: maxReceiveMessageBytes must be a positive integer`);
    }
    this.options = options;
    this.rpcMetrics = options.metrics === undefined ? undefined : new RpcMetrics(options.metrics);
    this.server = new grpc.Server({
      ...CHANNEL_OPTIONS,
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
      interceptors: [guardCalls],
    });
    this.health.addToServer(this.server);
  }

  /**
   * Adds a service. Every method of the definition must have a handler: the compiler checks
   * their names against the definition's (and each service types its handlers with
   * ServiceHandlers), and this throws for one missing still, as a silently unimplemented
   * method would answer UNIMPLEMENTED at run time. A request that does
   * not decode as its message is answered with INVALID_ARGUMENT (a BadRequest Status saying
   * why) before any handler runs.
   */
  addService<D extends grpc.ServiceDefinition>(serviceName: string, definition: D, handlers: HandlersFor<D>): void {
    const byName: Readonly<Record<string, AnyHandler | undefined>> = handlers;
    const wrapped: grpc.UntypedServiceImplementation = {};
    const served: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const unaryMethods = new Map<string, ExchangeMethod>();
    const exchangeMetrics = new Map<string, MethodMetrics>();
    let exchange: string | undefined;
    for (const [method, def] of Object.entries(definition)) {
      served[method] = { ...def, requestDeserialize: tolerantDeserializer(`${serviceName}/${method}`, def.requestDeserialize) };
      if (method === EXCHANGE_METHOD && def.requestStream && def.responseStream) {
        // Served by the server itself: the service's unary handlers, multiplexed.
        exchange = method;
        continue;
      }
      const original = (def as { originalName?: string }).originalName ?? method;
      const handler = byName[method] ?? byName[original];
      if (handler === undefined) throw new Error(`${serviceName}: no handler for ${method}`);
      const rpcName = `${serviceName}/${method}`;
      if (def.requestStream) {
        if (!def.responseStream) throw new Error(`${serviceName}/${method}: client streaming is not used`);
        wrapped[method] = this.wrapBidiStream(rpcName, handler as BidiStreamHandler<unknown, unknown>, this.rpcMetrics?.method(rpcName, 'bidi_stream'));
        continue;
      }
      if (def.responseStream) {
        wrapped[method] = this.wrapServerStream(rpcName, handler as ServerStreamHandler<unknown, unknown>, this.rpcMetrics?.method(rpcName, 'server_stream'));
      } else {
        const unaryHandler = handler as UnaryHandler<unknown, unknown>;
        const methodMetrics = this.rpcMetrics?.method(rpcName, 'unary');
        wrapped[method] = this.wrapUnary(rpcName, unaryHandler, methodMetrics);
        if (methodMetrics !== undefined) exchangeMetrics.set(rpcName, methodMetrics);
        unaryMethods.set(method, {
          rpcName,
          handler: unaryHandler,
          deserialize: strictDeserializer(rpcName, def.requestDeserialize as (b: Buffer) => unknown),
          serialize: def.responseSerialize as (v: unknown) => Buffer,
        });
      }
    }
    if (exchange !== undefined) wrapped[exchange] = this.wrapExchange(unaryMethods, exchangeMetrics);
    this.server.addService(served as grpc.ServiceDefinition, wrapped);
    this.serviceNames.push(serviceName);
  }

  /**
   * Adds services that come with their own grpc-js implementation and add themselves to a
   * server (as @grpc/reflection's ReflectionService does): their calls pass the request guard
   * but get no span, no Status translation and no health status of their own.
   */
  addSelfServedServices(register: (server: Pick<grpc.Server, 'addService'>) => void): void {
    register({ addService: (definition, implementation) => this.server.addService(definition, implementation) });
  }

  /**
   * Serves this server's grpc.health.v1 answers (the same statuses, SERVING once listening and
   * NOT_SERVING from shutdown on) on another grpc-js server too: the monitoring port's.
   */
  addHealthTo(server: grpc.Server): void {
    this.health.addToServer(server);
  }

  /** Whether the server is listening and not shutting down: what readiness reports. */
  get serving(): boolean {
    return this.listening && !this.stopping;
  }

  /** Binds and starts serving; resolves with the bound port (useful with port 0). */
  async listen(address: string): Promise<number> {
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(address, serverCredentials(this.options.tls), (err, p) =>
        err === null ? resolve(p) : reject(err),
      );
    });
    this.port = port;
    this.health.setStatus('', 'SERVING');
    for (const name of this.serviceNames) this.health.setStatus(name, 'SERVING');
    this.listening = true;
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

  /** A SERVER span for one call, a child of the trace context the client sent; `peer`: the client's address. */
  private startSpan(rpcName: string, parent: Context, peer: string | undefined): Context {
    const span = startRpcSpan(this.options.telemetry, rpcName, SpanKind.SERVER, parent);
    setServerPeer(span, peer, this.port);
    return trace.setSpan(parent, span);
  }

  /** Ends the SERVER span of `otelContext` (if it has one) with how its call ended. */
  private endSpan(otelContext: Context, code: grpc.status): void {
    const span = trace.getSpan(otelContext);
    if (span !== undefined) endRpcSpan(span, SpanKind.SERVER, code);
  }

  private begin(
    rpcName: string,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
    stream: boolean,
    traced = true,
  ): { ctx: CallContext; otelContext: Context; done: (code: grpc.status) => void } {
    const peer = call.getPeer();
    const parent = traced ? this.options.telemetry.propagator.extract(ROOT_CONTEXT, call.metadata, metadataGetter) : ROOT_CONTEXT;
    const otelContext = traced ? this.startSpan(rpcName, parent, peer) : parent;
    const controller = new AbortController();
    if (stream) this.streams.add(controller);
    let finished = false;
    // grpc-js also reports 'cancelled' after a call completed; only a live call is aborted.
    (call as grpc.ServerWritableStream<unknown, unknown>).on('cancelled', () => {
      if (!finished) controller.abort(new StatusError('Timeout', 'the client cancelled the call'));
    });
    return {
      ctx: { metadata: call.metadata, signal: controller.signal, peerCertificate: peerCertificateOf(call), peer },
      otelContext,
      done: (code) => {
        finished = true;
        this.streams.delete(controller);
        if (traced) this.endSpan(otelContext, code);
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
    return status;
  }

  private wrapUnary(rpcName: string, handler: UnaryHandler<unknown, unknown>, metrics: MethodMetrics | undefined): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      const startNs = metrics?.start() ?? 0n;
      const { ctx, otelContext, done } = this.begin(rpcName, call, false);
      const trailers = new grpc.Metadata();
      let code: grpc.status = grpc.status.UNKNOWN;
      context
        .with(otelContext, () => handler(call.request, { ...ctx, trailers }))
        .then(
          (response) => {
            code = grpc.status.OK;
            metrics?.done(startNs, code);
            callback(null, response, trailers);
          },
          (err: unknown) => {
            const status = this.fail(rpcName, err, otelContext);
            code = status.grpcCode;
            metrics?.done(startNs, code);
            callback(toGrpcStatus(status));
          },
        )
        .finally(() => done(code));
    };
  }

  private wrapServerStream(
    rpcName: string,
    handler: ServerStreamHandler<unknown, unknown>,
    metrics: MethodMetrics | undefined,
  ): grpc.handleServerStreamingCall<unknown, unknown> {
    return (call) => {
      const startNs = metrics?.start() ?? 0n;
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
      this.settleStream(rpcName, call, context.with(otelContext, () => handler(call.request, ctx, send)), otelContext, metrics, startNs, done);
    };
  }

  /**
   * Ends a stream once its handler has: OK (unless the client cancelled it meanwhile), or the
   * handler's error as its status; counts it and ends its span with the code it ended with.
   */
  private settleStream(
    rpcName: string,
    call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
    handled: Promise<void>,
    otelContext: Context,
    metrics: MethodMetrics | undefined,
    startNs: bigint,
    done: (code: grpc.status) => void,
  ): void {
    let code: grpc.status = grpc.status.UNKNOWN;
    handled
      .then(
        () => {
          code = call.cancelled ? grpc.status.CANCELLED : grpc.status.OK;
          metrics?.done(startNs, code);
          if (!call.cancelled) call.end();
        },
        (err: unknown) => {
          if (call.cancelled) {
            code = grpc.status.CANCELLED;
            metrics?.done(startNs, code);
            return;
          }
          const status = this.fail(rpcName, err, otelContext);
          code = status.grpcCode;
          metrics?.done(startNs, code);
          call.emit('error', toGrpcStatus(status));
        },
      )
      .finally(() => done(code));
  }
  /**
   * The Exchange method: every unary method of the service, many calls multiplexed over one
   * stream. Each call gets the span, context and error translation of a unary call. Shutdown
   * drains it like unary calls: calls in flight finish, calls that arrive meanwhile are
   * refused as not executed (the client sends them again elsewhere), then the stream ends.
   */
  private wrapExchange(
    methods: ReadonlyMap<string, ExchangeMethod>,
    metricsByRpc: ReadonlyMap<string, MethodMetrics>,
  ): grpc.handleBidiStreamingCall<CallRequest__Output, CallResponse> {
    return (call) => {
      const draining = new AbortController();
      this.streams.add(draining);
      // A stream that arrives while the server stops drains at once: it refuses its calls as
      // not executed, so the client sends them to another replica.
      if (this.stopping) draining.abort();
      const peer = this.options.telemetry.enabled ? call.getPeer() : undefined;
      serveExchange(call, draining.signal, methods, (method, request, carrier, ctx) => {
        const metrics = metricsByRpc.get(method.rpcName);
        const startNs = metrics?.start() ?? 0n;
        const otelContext = this.startSpan(method.rpcName, contextFromCarrier(this.options.telemetry, carrier), peer);
        // An answer that fails to encode ends its span as INTERNAL.
        let code: grpc.status = grpc.status.INTERNAL;
        // A handler that throws instead of rejecting still answers (and frees its slot).
        return Promise.resolve()
          .then(() => context.with(otelContext, () => method.handler(request, ctx)))
          .then(
            (response) => {
              metrics?.done(startNs, grpc.status.OK);
              const bytes = method.serialize(response);
              code = grpc.status.OK;
              return bytes;
            },
            (err: unknown) => {
              const status = this.fail(method.rpcName, err, otelContext);
              code = status.grpcCode;
              metrics?.done(startNs, code);
              throw status;
            },
          )
          .finally(() => this.endSpan(otelContext, code));
      }).finally(() => this.streams.delete(draining));
    };
  }

  private wrapBidiStream(
    rpcName: string,
    handler: BidiStreamHandler<unknown, unknown>,
    metrics: MethodMetrics | undefined,
  ): grpc.handleBidiStreamingCall<unknown, unknown> {
    return (call) => {
      const startNs = metrics?.start() ?? 0n;
      const { ctx, otelContext, done } = this.begin(rpcName, call, true, false);
      this.settleStream(rpcName, call, context.with(otelContext, () => handler(call, ctx)), otelContext, metrics, startNs, done);
    };
  }
}
