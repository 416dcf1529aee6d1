/**
 * The server side of Watch/WatchStream: many watches multiplexed over one bidi stream.
 *
 * The client opens watches by ids it chooses and cancels them; each watch is a
 * WatchService watch whose listener queues its events on the stream. A committed change that
 * reaches many watches of the stream as the same event (same type, same object bytes, same
 * revision: the common case, e.g. every watcher of a resource) becomes ONE message carrying
 * the list of ids, so it is serialized and written once per stream instead of once per
 * watcher. Per-watcher differences (a selector turning MODIFIED into ADDED or DELETED, the
 * initial list, bookmarks at another revision) simply make other messages.
 *
 * Flow control: messages are queued here and handed to the transport after the current
 * synchronous fan-out (a microtask), which is what lets one change's deliveries merge. While
 * the transport's write() returns false, nothing more is handed to it until 'drain' (grpc-js
 * buffers 16 messages before it says so; HTTP/2 flow control stops it beyond that). Meanwhile
 * each watch may have at most `maxQueuedEvents` live events waiting here; a watch that would
 * exceed it is dropped as too slow (WatchClosed with 429), and only that watch: memory stays
 * bounded by watches x bound, the messages themselves share the cache's bytes. The initial
 * state of a watch (its list or history) is queued whole, as the list is in memory anyway.
 *
 * Everything runs on the event loop; `watches` and the queue change only in synchronous
 * sections.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { contextFromCarrier, startRpcSpan } from '../../../lib/grpc/trace-context.ts';
import { WatchDeliverySpans } from '../../../lib/watch-delivery-trace.ts';
import { badRequest, StatusError } from '../../../lib/errors.ts';
import { toRpcStatus, type RpcStatusMessage } from '../../../lib/grpc-status.ts';
import type { Logger } from '../../../lib/log.ts';
import type { Telemetry } from '../../../lib/tracing.ts';
import type { WatchStreamRequest__Output } from '../../../lib/gen/apiserver/v1/WatchStreamRequest.ts';
import type { WatchStreamResponse } from '../../../lib/gen/apiserver/v1/WatchStreamResponse.ts';
import type { WatchOpen__Output } from '../../../lib/gen/apiserver/v1/WatchOpen.ts';
import type { WatchEvent, WatchOptions, WatchTarget } from '../api.ts';
import type { WatchHandle, WatchListener } from '../core/watch-service.ts';
import { watchOptionsFromProto, watchTargetFromProto } from './codec.ts';

/** What the stream needs of the watch service. */
export interface WatchStarter {
  start(target: WatchTarget, options: WatchOptions, listener: WatchListener): WatchHandle;
}

/** What the stream needs of its transport (a grpc-js ServerDuplexStream is one). */
export interface ResponseWriter {
  /** Takes one message; false when it wants no more until 'drain'. */
  write(message: WatchStreamResponse): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface WatchStreamOptions {
  watcher: WatchStarter;
  /** Watches one stream may have open at once; more are refused with 429. */
  maxWatches: number;
  /** Live events a watch may have waiting on the stream before it is dropped as too slow. */
  maxQueuedEvents: number;
  telemetry?: Telemetry | undefined;
  logger?: Logger | undefined;
}

/** Ids are uint32 on the wire; 0 is not a watch. */
const MAX_ID = 0xffff_ffff;
const RPC_NAME = 'apiserver.v1.Watch/WatchStream';

/** One watch of the stream: the service's listener, and where it stands in the queue. */
class StreamWatch implements WatchListener {
  readonly id: number;
  private readonly stream: WatchStreamSession;
  handle: WatchHandle | undefined;
  /** Live events queued on the stream, not yet handed to the transport. */
  queued = 0;
  /** Sequence number of the last message this watch was put in. */
  lastSeq = 0;
  /** Cancelled by the client or the stream is gone: nothing more is sent for it. */
  cancelled = false;
  span: Span | undefined;

  constructor(stream: WatchStreamSession, id: number) {
    this.stream = stream;
    this.id = id;
  }

  event(event: WatchEvent, initial: boolean): boolean {
    return this.stream.enqueueEvent(this, event, initial);
  }

  end(error?: StatusError): void {
    this.stream.ended(this, error);
  }
}

/** A message waiting to be written, with the watches it is for. */
class Outgoing {
  readonly seq: number;
  readonly watches: StreamWatch[];
  readonly event: WatchEvent | undefined;
  readonly closed: RpcStatusMessage | undefined;
  readonly initial: boolean;
  /** The groups key it is filed under while more watches may join it. */
  readonly key: object | undefined;
  /** Its delivery span, when it is one of the stream's bounded few (WatchDeliverySpans). */
  span: Span | undefined;

  constructor(seq: number, watch: StreamWatch, event: WatchEvent | undefined, closed: RpcStatusMessage | undefined, initial: boolean, key: object | undefined) {
    this.seq = seq;
    this.watches = [watch];
    this.event = event;
    this.closed = closed;
    this.initial = initial;
    this.key = key;
  }
}

const OK_STATUS: RpcStatusMessage = { code: 0, message: '', details: [] };
/** The groups key of a clean end. */
const OK_KEY = {};

export class WatchStreamSession {
  private readonly o: WatchStreamOptions;
  private readonly out: ResponseWriter;
  private readonly watches = new Map<number, StreamWatch>();
  /** Messages not yet handed to the transport, from `head` on. */
  private queue: (Outgoing | undefined)[] = [];
  private head = 0;
  /**
   * Queued messages more watches may still join: by the event's object bytes (shared by every
   * watcher of a change; one change may make a few messages of different types with the same
   * bytes), or by the error of a close (the cache ends its watchers with one).
   */
  private readonly groups = new Map<object, Outgoing[]>();
  private seq = 0;
  private writable = true;
  private flushScheduled = false;
  private closed = false;
  /** The stream's bounded delivery spans; none when tracing is off. */
  private readonly delivery: WatchDeliverySpans | undefined;

  constructor(out: ResponseWriter, options: WatchStreamOptions) {
    this.out = out;
    this.o = options;
    if (options.telemetry?.enabled === true) this.delivery = new WatchDeliverySpans(options.telemetry, 'WatchStream deliver', {}, ROOT_CONTEXT);
  }

  /** Watches open on the stream. */
  get size(): number {
    return this.watches.size;
  }

  /** Messages waiting to be handed to the transport. */
  get backlog(): number {
    return this.queue.length - this.head;
  }

  /** One request from the client. Bad input ends the watch it names with a status; nothing throws. */
  receive(request: WatchStreamRequest__Output): void {
    if (this.closed) return;
    if (request.kind === 'open' && request.open !== null && request.open !== undefined) this.open(request.open);
    else if (request.kind === 'cancel' && request.cancel !== null && request.cancel !== undefined) this.cancel(request.cancel.id);
    else this.refuse(0, badRequest('a WatchStreamRequest carries open or cancel'));
  }

  private open(open: WatchOpen__Output): void {
    const id = open.id;
    if (!Number.isInteger(id) || id <= 0 || id > MAX_ID) {
      this.refuse(0, badRequest(`watch id must be a positive 32-bit integer, got ${String(id)}`));
      return;
    }
    const existing = this.watches.get(id);
    if (existing !== undefined) {
      // Every later message for the id would be ambiguous: both watches end.
      const err = badRequest(`watch id ${id} is already open on this stream; both watches are closed`);
      this.drop(existing);
      this.enqueueClose(existing, err);
      return;
    }
    if (this.watches.size >= this.o.maxWatches) {
      this.refuse(id, new StatusError('TooManyRequests', `too many watches on this stream (limit ${this.o.maxWatches}); open another stream`));
      return;
    }
    const w = new StreamWatch(this, id);
    this.watches.set(id, w);
    let parent = ROOT_CONTEXT;
    const telemetry = this.o.telemetry;
    if (telemetry !== undefined) {
      parent = contextFromCarrier(telemetry, { traceparent: open.traceparent, tracestate: open.tracestate });
      const span = startRpcSpan(telemetry, RPC_NAME, SpanKind.SERVER, parent);
      parent = trace.setSpan(parent, span);
      // Only a recording span is kept (it is ended with the watch); a watcher stays small.
      if (span.isRecording()) w.span = span;
    }
    const spanContext = parent;
    try {
      // The watch's own work (its initial list from storage) is part of its request's trace.
      const handle = context.with(spanContext, () => this.o.watcher.start(watchTargetFromProto(open.ref), watchOptionsFromProto(open.options), w));
      if (w.cancelled) handle.cancel();
      else w.handle = handle;
    } catch (err) {
      if (!(err instanceof StatusError)) this.o.logger?.error('watch failed to start', { error: err });
      this.ended(w, StatusError.from(err));
    }
  }

  private cancel(id: number): void {
    const w = this.watches.get(id);
    if (w === undefined) {
      // Also what a cancel crossing the watch's own end gets; the client ignores it.
      this.refuse(id, new StatusError('NotFound', `watch id ${id} is not open on this stream`));
      return;
    }
    this.drop(w);
  }

  /** Forgets a watch the client no longer wants (or the stream is gone): no message for it. */
  private drop(w: StreamWatch): void {
    w.cancelled = true;
    this.watches.delete(w.id);
    w.handle?.cancel();
    w.handle = undefined;
    w.span?.end();
    w.span = undefined;
  }

  /** A closed message for an id that has no watch (bad input). */
  private refuse(id: number, err: StatusError): void {
    this.enqueueClose(new StreamWatch(this, id), err);
  }

  /** The service ended a watch: its queued events go first, then its WatchClosed. */
  ended(w: StreamWatch, error?: StatusError): void {
    if (this.watches.get(w.id) !== w) return;
    this.watches.delete(w.id);
    w.handle = undefined;
    if (w.span !== undefined) {
      if (error !== undefined) {
        w.span.setAttribute('k8s.status.reason', error.reason);
        if (error.code >= 500) w.span.setStatus({ code: SpanStatusCode.ERROR, message: error.reason });
      }
      w.span.end();
      w.span = undefined;
    }
    this.enqueueClose(w, error);
  }

  private enqueueClose(w: StreamWatch, error: StatusError | undefined): void {
    if (this.closed) return;
    const key = error ?? OK_KEY;
    // Behind everything already queued for this watch, as an event joining a message.
    const group = this.groups.get(key)?.find((g) => g.closed !== undefined && g.seq > w.lastSeq);
    if (group !== undefined) {
      group.watches.push(w);
      w.lastSeq = group.seq;
      return;
    }
    const m = new Outgoing(++this.seq, w, undefined, error === undefined ? OK_STATUS : toRpcStatus(error), false, key);
    this.file(m);
    w.lastSeq = m.seq;
    this.push(m);
  }

  /** Queues one event of `w`; false when `w` already has its fill of live events waiting. */
  enqueueEvent(w: StreamWatch, event: WatchEvent, initial: boolean): boolean {
    if (this.closed || w.cancelled) return false;
    if (!initial && w.queued >= this.o.maxQueuedEvents) return false;
    if (!initial) {
      // Joining is safe only behind everything already queued for this watch.
      const group = this.groups
        .get(event.object)
        ?.find((g) => g.seq > w.lastSeq && g.event?.type === event.type && g.event.resourceVersion === event.resourceVersion);
      if (group !== undefined) {
        group.watches.push(w);
        w.lastSeq = group.seq;
        w.queued++;
        this.delivery?.count();
        return true;
      }
    }
    const m = new Outgoing(++this.seq, w, event, undefined, initial, initial ? undefined : event.object);
    if (!initial) {
      this.file(m);
      w.queued++;
      // A child of the first watch's span (the request that opened it), linked to the write.
      if (this.delivery !== undefined) m.span = this.delivery.event(event.traceparent, 1, () => (w.span === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, w.span)));
    }
    w.lastSeq = m.seq;
    this.push(m);
    return true;
  }

  private file(m: Outgoing): void {
    const key = m.key as object;
    const list = this.groups.get(key);
    if (list === undefined) this.groups.set(key, [m]);
    else list.push(m);
  }

  private unfile(m: Outgoing): void {
    if (m.key === undefined) return;
    const list = this.groups.get(m.key);
    if (list === undefined) return;
    const at = list.indexOf(m);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.groups.delete(m.key);
  }

  private push(m: Outgoing): void {
    this.queue.push(m);
    if (!this.flushScheduled && this.writable) {
      this.flushScheduled = true;
      // After the current fan-out, so every watch of this stream that gets the change joins.
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush(false);
      });
    }
  }

  /** Hands queued messages to the transport while it takes them (all of them when `force`). */
  private flush(force: boolean): void {
    while (this.head < this.queue.length && (this.writable || force)) {
      const m = this.queue[this.head] as Outgoing;
      this.queue[this.head++] = undefined;
      this.unfile(m);
      const ids: number[] = [];
      for (const w of m.watches) {
        if (m.event !== undefined && !m.initial) w.queued--;
        if (m.event !== undefined && w.cancelled) continue;
        ids.push(w.id);
      }
      if (ids.length === 0) {
        m.span?.end();
        continue;
      }
      const message: WatchStreamResponse =
        m.event !== undefined ? { ids, event: m.event, initial: m.initial } : { ids, closed: { status: m.closed ?? OK_STATUS } };
      const written = this.out.write(message);
      if (m.span !== undefined) {
        // From the change's fan-out to its hand-over to the transport, for this many watches.
        m.span.setAttribute('k8s.watch.watchers', ids.length);
        m.span.setAttribute('k8s.resource_version', m.event?.resourceVersion ?? '');
        m.span.end();
      }
      if (!written && this.writable) {
        this.writable = false;
        this.out.once('drain', () => {
          this.writable = true;
          this.flush(false);
        });
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Server shutdown: what is queued is handed to the transport at once, ahead of the stream's
   * end, then every watch ends as ServiceUnavailable: not over for its client, which resumes
   * it on another replica from its last resourceVersion (a clean end would tell the client
   * the watch is done, as timeoutSeconds does).
   */
  shutdown(): void {
    if (this.closed) return;
    const unavailable = new StatusError('ServiceUnavailable', 'service unavailable: the watch replica is shutting down');
    for (const w of [...this.watches.values()]) {
      w.handle?.cancel();
      w.handle = undefined;
      this.ended(w, unavailable);
    }
    this.flush(true);
    this.closed = true;
  }

  /** The stream is gone (the client left or cancelled it): every watch on it is freed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches.values()]) this.drop(w);
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]?.span?.end();
    this.queue = [];
    this.head = 0;
    this.groups.clear();
  }
}
