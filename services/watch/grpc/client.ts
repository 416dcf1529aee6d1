/**
 * The watch service over gRPC, as a Watcher for the gateway, spread over any number of watch
 * replicas: a comma list of addresses, where a DNS name stands for every address it resolves
 * to and is looked up again every few seconds (lib/grpc/replicas.ts), so watches follow
 * replicas as they come and go.
 *
 * Watches travel multiplexed: one long-lived WatchStream per replica (opened on first use,
 * another one when a stream holds `maxWatchesPerStream`, a new one after a failure) carries
 * every watch sent to that replica, so a watcher costs the replica a few hundred bytes
 * instead of a gRPC stream each. Each watch goes to the next ready replica in turn; when its
 * replica's stream fails or the replica ends it (it died, or is shutting down: UNAVAILABLE
 * either way, see watch-stream.ts), the watch continues on another one
 * from the last resourceVersion it delivered, so the watcher sees neither a gap nor a
 * duplicate, and no 410 while storage's history reaches back that far.
 *
 * The shared stream is never paused for one watcher: its messages are dispatched at once to
 * per-watch queues, each bounded (`maxQueuedEvents` live events); a watch whose consumer
 * (an HTTP client) falls that far behind is dropped: cancelled on the server, its events end
 * with a SlowWatcherError (429 TooManyRequests, which the typed gRPC API passes on; the REST
 * API just ends the stream, as kube-apiserver does), and the others carry on. Every watch of
 * one grouped message gets the same WatchEvent object, so a consumer can encode it once for
 * all of them.
 */
import * as grpc from '@grpc/grpc-js';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { StatusError } from '../../../lib/errors.ts';
import { clientSettings, type ClientOptions } from '../../../lib/grpc/client.ts';
import { ReplicaSet, type Connectivity } from '../../../lib/grpc/replicas.ts';
import { startRpcSpan, traceCarrier } from '../../../lib/grpc/trace-context.ts';
import { fromGrpcError, fromRpcStatus } from '../../../lib/grpc-status.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import { nextFreeId } from '../../../lib/stream-ids.ts';
import type { Telemetry } from '../../../lib/tracing.ts';
import type { WatchClient as GeneratedWatchClient } from '../../../lib/gen/apiserver/v1/Watch.ts';
import type { WatchOpen } from '../../../lib/gen/apiserver/v1/WatchOpen.ts';
import type { WatchStreamRequest } from '../../../lib/gen/apiserver/v1/WatchStreamRequest.ts';
import type { WatchStreamResponse__Output } from '../../../lib/gen/apiserver/v1/WatchStreamResponse.ts';
import {
  INITIAL_EVENTS_END_ANNOTATION,
  slowWatcherError,
  SlowWatcherError,
  statusEvent,
  type WatchEvent,
  type Watcher,
  type WatchOptions,
  type WatchTarget,
} from '../api.ts';
import { EventQueue, type WatchHandle, type WatchListener } from '../core/watch-service.ts';
import { WATCH_MAX_REQUEST_BYTES, watchEventFromProto, watchOptionsToProto, watchTargetToProto } from './codec.ts';

// The wire conversions other services need: the gateway's Resources API carries the watch
// service's messages (see the rule in eslint.config.js: a service reaches another only
// through its api.ts and grpc/client.ts).
export { watchEventToProto, watchOptionsFromProto } from './codec.ts';

/** Pause before trying the next replica, per failure so far (a restarting fleet is not hammered). */
const RETRY_PAUSE_MS = 100;

/** A watch to open: WatchOpen without its id (the stream picks one). */
export type WatchOpenRequest = Omit<WatchOpen, 'id'>;

/**
 * One WatchStream to one replica and the watches it carries. Fails as a whole: when the
 * stream breaks or ends, every watch still on it ends with ServiceUnavailable.
 */
export class WatchStreamConnection {
  private readonly call: grpc.ClientDuplexStream<WatchStreamRequest, WatchStreamResponse__Output>;
  private readonly watches = new Map<number, WatchListener>();
  private readonly maxQueuedEvents: number;
  /** The id of the watch opened last (ids go in turn, see nextFreeId). */
  private lastId = 0;
  private readonly onGone: (connection: WatchStreamConnection) => void;
  private readonly serialize: (request: WatchStreamRequest) => Buffer;
  broken = false;

  constructor(client: GeneratedWatchClient, maxQueuedEvents: number, onGone: (connection: WatchStreamConnection) => void) {
    this.maxQueuedEvents = maxQueuedEvents;
    this.onGone = onGone;
    const service = (client.constructor as unknown as { service: grpc.ServiceDefinition }).service;
    this.serialize = (service.WatchStream as grpc.MethodDefinition<WatchStreamRequest, unknown>).requestSerialize;
    // Outside any request's context: the stream outlives the request that happened to open it.
    this.call = context.with(ROOT_CONTEXT, () => client.watchStream(new grpc.Metadata()));
    this.call.on('data', (m: WatchStreamResponse__Output) => this.dispatch(m));
    this.call.on('error', (err: grpc.ServiceError) => this.fail(fromGrpcError(err)));
    this.call.on('end', () => this.fail(new StatusError('ServiceUnavailable', 'service unavailable: the watch stream ended')));
  }

  /** Watches open on this stream. */
  get size(): number {
    return this.watches.size;
  }

  /** Opens a watch; its events and its end go to `listener`. Returns its id. */
  open(request: WatchOpenRequest, listener: WatchListener): number {
    if (this.broken) {
      listener.end(new StatusError('ServiceUnavailable', 'service unavailable: the watch stream ended'));
      return 0;
    }
    const id = nextFreeId(this.lastId, this.watches);
    const message: WatchStreamRequest = { open: { ...request, id } };
    // A message over the server's limit would end the stream and every watch on it.
    const size = this.serialize(message).length;
    if (size > WATCH_MAX_REQUEST_BYTES) {
      listener.end(new StatusError('RequestEntityTooLarge', `Request entity too large: limit is ${WATCH_MAX_REQUEST_BYTES}`));
      return 0;
    }
    this.lastId = id;
    this.watches.set(id, listener);
    // Requests are small and the server reads them as they come: write() is not waited on.
    this.call.write(message);
    return id;
  }

  /** Stops a watch: the listener hears nothing more, the server frees it. */
  cancel(id: number): void {
    if (!this.watches.delete(id) || this.broken) return;
    this.call.write({ cancel: { id } });
  }

  private dispatch(m: WatchStreamResponse__Output): void {
    if (m.kind === 'event' && m.event !== null && m.event !== undefined) {
      // One object for every watch of the message: consumers may encode it once for all.
      const event = watchEventFromProto(m.event);
      if (event === undefined) return;
      for (const id of m.ids) {
        const listener = this.watches.get(id);
        if (listener === undefined || listener.event(event, m.initial)) continue;
        // Its consumer fell behind: only this watch ends; the stream is never held up.
        this.cancel(id);
        listener.end(slowWatcherError(this.maxQueuedEvents));
      }
    } else if (m.kind === 'closed') {
      // A watch the watch service dropped as too slow stays a SlowWatcherError (see there).
      const error = SlowWatcherError.recognize(fromRpcStatus(m.closed?.status));
      for (const id of m.ids) {
        const listener = this.watches.get(id);
        // Unknown: a close crossing our cancel (or an answer to it).
        if (listener === undefined) continue;
        this.watches.delete(id);
        listener.end(error);
      }
    }
  }

  private fail(error: StatusError): void {
    if (this.broken) return;
    this.broken = true;
    this.onGone(this);
    const listeners = [...this.watches.values()];
    this.watches.clear();
    // However the stream ended (even cleanly), the watches still on it did not: for them the
    // replica is unavailable, and they resume elsewhere.
    const err = error.reason === 'ServiceUnavailable' ? error : new StatusError('ServiceUnavailable', 'service unavailable: the watch stream failed');
    for (const listener of listeners) listener.end(err);
    this.call.cancel();
  }

  close(): void {
    this.fail(new StatusError('ServiceUnavailable', 'service unavailable: the watch client is closed'));
  }
}

/** The WatchStreams to one replica: as many as its watches need. */
export class ReplicaStreams {
  private readonly client: GeneratedWatchClient;
  private readonly maxWatchesPerStream: number;
  private readonly maxQueuedEvents: number;
  private streams: WatchStreamConnection[] = [];

  constructor(client: GeneratedWatchClient, options: { maxWatchesPerStream: number; maxQueuedEvents: number }) {
    this.client = client;
    this.maxWatchesPerStream = options.maxWatchesPerStream;
    this.maxQueuedEvents = options.maxQueuedEvents;
  }

  /** Opens a watch on a stream with room (a new one if none has). */
  open(request: WatchOpenRequest, listener: WatchListener): WatchHandle {
    let stream = this.streams.find((s) => !s.broken && s.size < this.maxWatchesPerStream);
    if (stream === undefined) {
      stream = new WatchStreamConnection(this.client, this.maxQueuedEvents, (gone) => {
        this.streams = this.streams.filter((s) => s !== gone);
      });
      this.streams.push(stream);
    }
    const opened = stream;
    const id = opened.open(request, listener);
    return { cancel: () => opened.cancel(id) };
  }

  /** The channel of the replica's client: its connectivity tells whether the replica is ready. */
  get channel(): Connectivity {
    return this.client.getChannel();
  }

  /** Open streams (for tests and diagnostics). */
  get streamCount(): number {
    return this.streams.length;
  }

  close(): void {
    for (const s of [...this.streams]) s.close();
    this.client.close();
  }
}

export interface WatchClientOptions extends ClientOptions {
  /** Watches one WatchStream carries before another is opened to the same replica (default 10,000, the server's default limit). */
  maxWatchesPerStream?: number | undefined;
  /** Live events a watch may have queued, unread by its consumer, before it is dropped with a SlowWatcherError (default 10,000). */
  maxQueuedEvents?: number | undefined;
}

/** A client of apiserver.v1.Watch without the per-call tracing interceptor (each watch is traced itself). */
export function generatedWatchClient(address: string, options: ClientOptions, channelOverrides: grpc.ClientOptions = {}): GeneratedWatchClient {
  const { credentials, channelOptions } = clientSettings(options);
  const Watch = loadApiProto().apiserver.v1.Watch;
  return new Watch(address, credentials, { ...channelOptions, interceptors: [], ...channelOverrides });
}

export class WatchClient implements Watcher {
  /** The watch replicas, their streams each. */
  readonly replicas: ReplicaSet<ReplicaStreams>;
  private readonly telemetry: Telemetry;
  private readonly maxQueuedEvents: number;

  /** `addresses`: one or more watch replicas, comma-separated `host:port` (a DNS name stands for every address it resolves to). */
  constructor(addresses: string, options: WatchClientOptions) {
    const limits = { maxWatchesPerStream: options.maxWatchesPerStream ?? 10_000, maxQueuedEvents: options.maxQueuedEvents ?? 10_000 };
    this.replicas = new ReplicaSet<ReplicaStreams>({
      addresses,
      create: (target) => new ReplicaStreams(generatedWatchClient(target.address, options, target.channelOptions), limits),
      channelOf: (streams) => streams.channel,
      close: (streams) => streams.close(),
      refreshMs: options.refreshMs,
      resolve: options.resolve,
    });
    this.telemetry = options.telemetry;
    this.maxQueuedEvents = limits.maxQueuedEvents;
  }

  async *watch(target: WatchTarget, options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    if (signal.aborted) return;
    const ref = watchTargetToProto(target);
    const rv = options.resourceVersion ?? '';
    // From an explicit revision every event is a change, so the watch can resume anywhere. A
    // watch that starts with the current state can resume only once that state is delivered:
    // after the initial-events-end bookmark (watch-list); a plain rv "" watch has no marker.
    let resumable = rv !== '' && rv !== '0' && options.sendInitialEvents !== true;
    let lastRevision = rv;
    let delivered = false;
    let failures = 0;
    for (;;) {
      const replica = this.replicas.pick() ?? (await this.replicas.pickAsync());
      const resumed = delivered && resumable;
      // One CLIENT span per watch on a stream, in the trace of the request it serves; the
      // server continues it from the trace context in the open message.
      const span = startRpcSpan(this.telemetry, 'apiserver.v1.Watch/WatchStream', SpanKind.CLIENT);
      const carrier = traceCarrier(this.telemetry, trace.setSpan(context.active(), span));
      const queue = new EventQueue(this.maxQueuedEvents);
      const handle = replica.client.open(
        {
          ref,
          // A resumed watch continues from the last revision delivered, without initial events.
          options: watchOptionsToProto(resumed ? { ...options, resourceVersion: lastRevision, sendInitialEvents: undefined } : options),
          ...carrier,
        },
        queue,
      );
      const onAbort = () => {
        handle.cancel();
        queue.end();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const event of queue.drain()) {
          if (event.type === 'BOOKMARK' && !resumable && event.object.includes(INITIAL_EVENTS_END_ANNOTATION)) resumable = true;
          if (event.resourceVersion !== '') lastRevision = event.resourceVersion;
          delivered = true;
          failures = 0;
          yield event;
        }
        const error = queue.error;
        if (error === undefined || signal.aborted) return;
        span.setAttribute('k8s.status.reason', error.reason);
        // A revision too old: kube answers with a 200 stream holding one ERROR event, so clients relist.
        if (error.reason === 'Expired') {
          yield statusEvent(error);
          return;
        }
        const unavailable = error.reason === 'ServiceUnavailable';
        if (unavailable) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.reason });
          // Its stream ended or broke: the next watches go elsewhere while it drains or returns.
          this.replicas.hold(replica);
        }
        if (!unavailable || (delivered && !resumable) || ++failures > this.replicas.size * 3) throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
        handle.cancel();
        span.end();
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * failures));
      if (signal.aborted) return;
    }
  }

  close(): void {
    this.replicas.close();
  }
}
