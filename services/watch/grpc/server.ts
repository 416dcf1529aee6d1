/**
 * The Watch service over gRPC: Watch (one stream per watch, each event one WatchEvent) and
 * WatchStream (many watches over one stream; see watch-stream.ts).
 */
import type * as grpc from '@grpc/grpc-js';
import type { CallContext, ServiceHandlers } from '../../../lib/grpc/serve.ts';
import type { WatchHandlers } from '../../../lib/gen/apiserver/v1/Watch.ts';
import type { Logger } from '../../../lib/log.ts';
import type { Telemetry } from '../../../lib/tracing.ts';
import type { WatchRequest__Output } from '../../../lib/gen/apiserver/v1/WatchRequest.ts';
import type { WatchEvent as ProtoWatchEvent } from '../../../lib/gen/apiserver/v1/WatchEvent.ts';
import type { WatchStreamRequest__Output } from '../../../lib/gen/apiserver/v1/WatchStreamRequest.ts';
import type { WatchStreamResponse } from '../../../lib/gen/apiserver/v1/WatchStreamResponse.ts';
import type { Watcher } from '../api.ts';
import { watchEventToProto, watchOptionsFromProto, watchTargetFromProto } from './codec.ts';
import { WatchStreamSession, type WatchStarter } from './watch-stream.ts';

/** Watches one WatchStream may carry unless configured otherwise. */
export const DEFAULT_MAX_WATCHES_PER_STREAM = 10_000;

export interface WatchHandlerOptions {
  /** Watches one WatchStream may have open at once (default 10,000). */
  maxWatchesPerStream?: number | undefined;
  /** Live events a watch may have waiting on its WatchStream before it is dropped (default 10,000). */
  maxQueuedEvents?: number | undefined;
  telemetry?: Telemetry | undefined;
  logger?: Logger | undefined;
}

export function watchHandlers(watcher: Watcher & WatchStarter, options: WatchHandlerOptions = {}): ServiceHandlers<WatchHandlers> {
  return {
    Watch: async (req: WatchRequest__Output, ctx: CallContext, send: (m: ProtoWatchEvent) => Promise<void>): Promise<void> => {
      const events = watcher.watch(watchTargetFromProto(req.ref), watchOptionsFromProto(req.options), ctx.signal);
      for await (const event of events) await send(watchEventToProto(event, true));
      // Ended by shutdown (or the client, which hears nothing more): not a clean end, which
      // would tell the client the watch is over; it resumes elsewhere instead.
      if (ctx.signal.aborted) throw ctx.signal.reason;
    },
    WatchStream: (call: grpc.ServerDuplexStream<WatchStreamRequest__Output, WatchStreamResponse>, ctx: CallContext): Promise<void> =>
      new Promise<void>((resolve) => {
        const session = new WatchStreamSession(call, {
          watcher,
          maxWatches: options.maxWatchesPerStream ?? DEFAULT_MAX_WATCHES_PER_STREAM,
          maxQueuedEvents: options.maxQueuedEvents ?? 10_000,
          telemetry: options.telemetry,
          logger: options.logger,
        });
        let done = false;
        const finish = (how: 'shutdown' | 'close'): void => {
          if (done) return;
          done = true;
          ctx.signal.removeEventListener('abort', onAbort);
          if (how === 'shutdown') session.shutdown();
          else session.close();
          resolve();
        };
        // Cancelled by the client (or its connection broke): free everything. Server shutdown:
        // every watch ends as unavailable (its client resumes it elsewhere), then the stream.
        const onAbort = (): void => finish(call.cancelled ? 'close' : 'shutdown');
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        call.on('data', (request: WatchStreamRequest__Output) => session.receive(request));
        // The client half-closed: it opens nothing more, and the stream ends after its watches.
        call.on('end', () => finish('shutdown'));
        if (ctx.signal.aborted) onAbort();
      }),
  };
}
