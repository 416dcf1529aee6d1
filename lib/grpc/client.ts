/**
 * Clients of internal gRPC: their calls carry the trace context, have a deadline, and fail
 * with StatusError.
 */
import * as grpc from '@grpc/grpc-js';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { StatusError } from '../errors.ts';
import { fromGrpcError } from '../grpc-status.ts';
import type { Telemetry } from '../tracing.ts';
import { channelCredentials, type TlsFiles } from './credentials.ts';
import { EXCHANGE_METHOD } from './exchange.ts';
import { CHANNEL_OPTIONS } from './limits.ts';
import { endRpcSpan, metadataSetter, setClientPeer, startRpcSpan } from './trace-context.ts';

export interface ClientOptions {
  telemetry: Telemetry;
  tls?: TlsFiles | undefined;
  /** How often the DNS names of service addresses are looked up again (lib/grpc/replicas.ts; default 10 s). */
  refreshMs?: number | undefined;
  /** Looks up a DNS name of a service address (default: the system resolver). */
  resolve?: ((host: string) => Promise<string[]>) | undefined;
}

/** Options of one call. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Deadline in milliseconds from now. */
  timeoutMs?: number | undefined;
  /** Extra metadata, e.g. the caller's credentials. */
  metadata?: grpc.Metadata | undefined;
}

/**
 * A client interceptor that starts a CLIENT span per call (rpc.*, the server's address, the
 * status code; ERROR for any code but OK, as the gRPC semantic conventions say) and injects
 * its context.
 */
function tracingInterceptor(telemetry: Telemetry): grpc.Interceptor {
  return (options, nextCall) => {
    const path = options.method_definition.path.replace(/^\//, '');
    const method = path.split('/')[1] ?? '';
    // A multiplexed stream lives as long as the client: each call on it has its own span.
    if (method === EXCHANGE_METHOD) return new grpc.InterceptingCall(nextCall(options));
    const span = startRpcSpan(telemetry, path, SpanKind.CLIENT);
    const spanContext = trace.setSpan(context.active(), span);
    const call = nextCall(options);
    return new grpc.InterceptingCall(call, {
      start(metadata, listener, next) {
        telemetry.propagator.inject(spanContext, metadata, metadataSetter);
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            if (span.isRecording()) setClientPeer(span, call.getPeer());
            endRpcSpan(span, SpanKind.CLIENT, status.code);
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
 * Whether a failed call never left this client: grpc-js found no connection to send it on
 * (the server is down or not yet up) and failed it with UNAVAILABLE before sending anything.
 * Those are grpc-js's words for it (its version is pinned); a call that reached a connection
 * and broke with it fails otherwise, and may have run.
 */
export function neverSent(err: { code?: number | undefined; details?: string | undefined }): boolean {
  return err.code === grpc.status.UNAVAILABLE && (err.details ?? '').startsWith('No connection established');
}

/**
 * Calls the unary method `method` of a generated client and resolves with its response;
 * rejects with StatusError (decoded from the status details, or derived from the gRPC code on
 * a transport failure). `onNeverSent` hears of a failure of a call that never left (see
 * neverSent) before the promise rejects with it, so the caller may send it elsewhere.
 */
export function unary<C extends grpc.Client, K extends keyof C & string>(
  client: C,
  method: K,
  request: UnaryRequest<C[K]>,
  opts?: CallOptions,
  onNeverSent?: (err: StatusError) => void,
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
        if (err !== null) {
          const failure = opts?.signal?.aborted === true ? abortedError() : fromGrpcError(err);
          if (onNeverSent !== undefined && !opts?.signal?.aborted && neverSent(err)) onNeverSent(failure);
          reject(failure);
        }
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
