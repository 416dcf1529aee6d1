/**
 * The gateway's delivery spans of a watch: whatever relays it (REST, the typed gRPC API, the
 * Resources API), each watch stream gets WatchDeliverySpans' bounded few, children of the
 * watch request's span and linked to the write each stands for. A span lasts from the event's
 * arrival from the watch service to its hand-over to the client's transport (the relay's next
 * read), so it shows how long the gateway held it.
 */
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Telemetry } from '../../../lib/tracing.ts';
import { WatchDeliverySpans } from '../../../lib/watch-delivery-trace.ts';
import type { WatchEvent, WatchTarget } from '../../watch/api.ts';

/**
 * `events` with delivery spans when tracing is enabled; `events` itself otherwise, so a
 * gateway without tracing, or a watch outside a recorded request, adds nothing per event. Call
 * it in the watch request's context.
 */
export function withDeliverySpans(events: AsyncIterable<WatchEvent>, telemetry: Telemetry | undefined, target: WatchTarget): AsyncIterable<WatchEvent> {
  // Only a watch that is part of a recorded request: not the gateway's own controllers' (they
  // watch every resource, outside any request), nor a request its sampler left out.
  if (telemetry?.enabled !== true || trace.getActiveSpan()?.isRecording() !== true) return events;
  const spans = new WatchDeliverySpans(telemetry, 'watch deliver', {
    'k8s.group': target.group,
    'k8s.resource': target.resource,
    'k8s.namespace.name': target.namespace,
  });
  return delivered(events, spans);
}

async function* delivered(events: AsyncIterable<WatchEvent>, spans: WatchDeliverySpans): AsyncGenerator<WatchEvent> {
  for await (const event of events) {
    // Bookmarks and errors are the stream's own, not changes.
    if (event.type === 'BOOKMARK' || event.type === 'ERROR') {
      yield event;
      continue;
    }
    const span = spans.event(event.traceparent);
    if (span === undefined) {
      yield event;
      continue;
    }
    span.setAttribute('k8s.watch.event_type', event.type);
    span.setAttribute('k8s.resource_version', event.resourceVersion);
    let handedOn = false;
    try {
      yield event;
      handedOn = true;
    } finally {
      // The relay stopped reading (its client left, an error): the event was not delivered.
      if (!handedOn) span.setStatus({ code: SpanStatusCode.ERROR, message: 'not delivered' });
      span.end();
    }
  }
}
