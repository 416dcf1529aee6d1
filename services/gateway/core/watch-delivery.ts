/**
 * The gateway's delivery spans of a watch: whatever relays it (REST, the typed gRPC API, the
 * Resources API), each watch stream gets WatchDeliverySpans' bounded few, children of the
 * watch request's span and linked to the write each stands for. A span lasts from the event's
 * arrival from the watch service to its hand-over to the client's transport, so it shows how
 * long the gateway held it.
 *
 * The relay reports both moments itself (WatchDelivery.arrived, handedOn) in its own loop:
 * wrapping the events in another async iterator would cost a promise and a turn of the event
 * loop per event per watcher, although at most one event per interval gets a span.
 */
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Telemetry } from '../../../lib/tracing.ts';
import { WatchDeliverySpans } from '../../../lib/watch-delivery-trace.ts';
import type { WatchEvent, WatchTarget } from '../../watch/api.ts';

/** A watch's events as the pipeline hands them to a relay. */
export interface RelayedEvents extends AsyncIterable<WatchEvent> {
  /**
   * Present when tracing is on and the watch is part of a recorded request: the relay calls
   * arrived() as it takes each event, handedOn() once it has handed it to the client's
   * transport, and stopped() when it stops relaying (in a finally).
   */
  readonly delivery?: WatchDelivery;
}

/** The delivery spans of one relayed watch stream (see the module comment). */
export class WatchDelivery {
  readonly #spans: WatchDeliverySpans;
  /** The span of the event the relay holds, if it got one. */
  #open: Span | undefined;

  constructor(spans: WatchDeliverySpans) {
    this.#spans = spans;
  }

  /** The relay took `event` from the watch service. */
  arrived(event: WatchEvent): void {
    // Bookmarks and errors are the stream's own, not changes.
    if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
    const span = this.#spans.event(event.traceparent);
    if (span === undefined) return;
    span.setAttribute('k8s.watch.event_type', event.type);
    span.setAttribute('k8s.resource_version', event.resourceVersion);
    this.#open = span;
  }

  /** The event last arrived is handed to the client's transport. */
  handedOn(): void {
    if (this.#open === undefined) return;
    this.#open.end();
    this.#open = undefined;
  }

  /** The relay stopped (its client left, an error): an event it still held was not delivered. */
  stopped(): void {
    if (this.#open === undefined) return;
    this.#open.setStatus({ code: SpanStatusCode.ERROR, message: 'not delivered' });
    this.#open.end();
    this.#open = undefined;
  }
}

/**
 * The delivery spans of a watch of `target` when tracing is enabled and the watch is part of a
 * recorded request; undefined otherwise, so a gateway without tracing, or a watch outside a
 * recorded request, does nothing per event. Call it in the watch request's context.
 */
export function watchDelivery(telemetry: Telemetry | undefined, target: WatchTarget): WatchDelivery | undefined {
  // Only a watch that is part of a recorded request: not the gateway's own controllers' (they
  // watch every resource, outside any request), nor a request its sampler left out.
  if (telemetry?.enabled !== true || trace.getActiveSpan()?.isRecording() !== true) return undefined;
  return new WatchDelivery(
    new WatchDeliverySpans(telemetry, 'watch deliver', {
      'k8s.group': target.group,
      'k8s.resource': target.resource,
      'k8s.namespace.name': target.namespace,
    }),
  );
}

/** `events` with `delivery` for its relay: the same iterator, nothing added per event. */
export function relayedEvents(events: AsyncIterable<WatchEvent>, delivery: WatchDelivery | undefined): RelayedEvents {
  if (delivery === undefined) return events;
  return { [Symbol.asyncIterator]: () => events[Symbol.asyncIterator](), delivery };
}
