/**
 * Multiplexed unary calls, the server side: many calls of one service as messages of a
 * long-lived Exchange stream (see CallRequest in proto/apiserver/v1/meta.proto). GrpcServer
 * (lib/grpc/serve.ts) serves any service's Exchange method with that service's unary
 * handlers through serveExchange; MultiplexedClient (lib/grpc/exchange-client.ts) is the
 * client.
 */
import type * as grpc from '@grpc/grpc-js';
import { badRequest, StatusError } from '../errors.ts';
import { encodeStatusDetails, toGrpcStatus } from '../grpc-status.ts';
import type { CallRequest__Output } from '../gen/apiserver/v1/CallRequest.ts';
import type { CallResponse } from '../gen/apiserver/v1/CallResponse.ts';
import { peerCertificateOf } from './credentials.ts';
import type { CallContext, UnaryHandler } from './serve.ts';
import type { TraceCarrier } from './trace-context.ts';

export const EXCHANGE_METHOD = 'Exchange';

/** Calls in flight on one Exchange stream before the server stops reading it until some finish. */
export const MAX_EXCHANGE_CALLS_IN_FLIGHT = 1024;

/** One unary method as the Exchange serves it. */
export interface ExchangeMethod {
  rpcName: string;
  handler: UnaryHandler<unknown, unknown>;
  /** Decodes a request; throws the StatusError to answer (BadRequest) when it does not decode. */
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
export function serveExchange(
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
        reply({ id, error: encodeStatusDetails(StatusError.from(err)) });
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
          return run(method, request, carrier, { metadata: call.metadata, signal: controller.signal, peerCertificate: peerCertificateOf(call) });
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
