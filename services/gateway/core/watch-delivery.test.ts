/**
 * The gateway's delivery spans: only for a watch of a recorded request, bounded per stream,
 * ended once the relay has handed the event on (marked undelivered when it stopped holding
 * one), and reported by the relay itself: its events are the watch's own iterator, with no
 * wrapper adding a promise per event.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createTelemetry } from '../../../lib/tracing.ts';
import type { WatchEvent } from '../../watch/api.ts';
import { relayedEvents, watchDelivery } from './watch-delivery.ts';

const WRITE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const target = { group: '', version: 'v1', resource: 'configmaps', namespace: 'ns' };

async function* source(events: WatchEvent[]): AsyncGenerator<WatchEvent> {
  yield* events;
}

const added = (rv: number, traceparent?: string): WatchEvent => ({ type: 'ADDED', object: Buffer.from('{}'), resourceVersion: String(rv), ...(traceparent === undefined ? {} : { traceparent }) });

function recording() {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry({ serviceName: 'gateway', env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return { exporter, telemetry };
}

test('a watch of a recorded request: the first traced event is a span, linked to its write, ended once the relay handed it on', async () => {
  const { exporter, telemetry } = recording();
  const request = telemetry.tracer.startSpan('GET /api/v1/namespaces/{namespace}/configmaps');
  const delivery = context.with(trace.setSpan(context.active(), request), () => watchDelivery(telemetry, target));
  assert.ok(delivery !== undefined);
  const generator = source([added(1), { type: 'BOOKMARK', object: Buffer.from('{}'), resourceVersion: '1' }, added(2, WRITE), added(3, WRITE)]);
  const events = relayedEvents(generator, delivery);
  assert.equal(events.delivery, delivery);
  assert.equal(events[Symbol.asyncIterator](), generator, 'the relay iterates the watch itself: nothing added per event');
  // A relay's loop.
  const held: number[] = [];
  const handed: number[] = [];
  for await (const e of events) {
    events.delivery?.arrived(e);
    held.push(exporter.getFinishedSpans().length);
    events.delivery?.handedOn();
    handed.push(exporter.getFinishedSpans().length);
  }
  events.delivery?.stopped();
  request.end();
  const deliveries = exporter.getFinishedSpans().filter((s) => s.name === 'watch deliver');
  assert.deepEqual(held, [0, 0, 0, 1], 'the span of rv 2 is open while the relay holds it');
  assert.deepEqual(handed, [0, 0, 1, 1], 'and ends once the relay handed it on');
  assert.equal(deliveries.length, 1, 'rv 3 falls within the interval');
  const [d] = deliveries;
  assert.equal(d?.parentSpanContext?.spanId, request.spanContext().spanId);
  assert.equal(d?.links[0]?.context.spanId, '00f067aa0ba902b7');
  assert.equal(d?.attributes['k8s.resource'], 'configmaps');
  assert.equal(d?.attributes['k8s.namespace.name'], 'ns');
  assert.equal(d?.attributes['k8s.watch.event_type'], 'ADDED');
  assert.equal(d?.attributes['k8s.resource_version'], '2');
  assert.equal(d?.attributes['k8s.watch.events'], 2, "rv 1 and rv 2; the bookmark is the stream's own");
  assert.notEqual(d?.status.code, SpanStatusCode.ERROR);
});

test('a relay that stops while it holds an event: its span ends as not delivered', () => {
  const { exporter, telemetry } = recording();
  const request = telemetry.tracer.startSpan('watch');
  const delivery = context.with(trace.setSpan(context.active(), request), () => watchDelivery(telemetry, target));
  delivery?.arrived(added(1, WRITE));
  assert.equal(exporter.getFinishedSpans().length, 0);
  delivery?.stopped();
  delivery?.stopped();
  request.end();
  const deliveries = exporter.getFinishedSpans().filter((s) => s.name === 'watch deliver');
  assert.equal(deliveries.length, 1);
  assert.deepEqual(deliveries[0]?.status, { code: SpanStatusCode.ERROR, message: 'not delivered' });
});

test("no request span (a controller's watch) or no tracing: no delivery, the events as they are", () => {
  const { telemetry } = recording();
  const events = source([added(1, WRITE)]);
  assert.equal(watchDelivery(telemetry, target), undefined);
  assert.equal(relayedEvents(events, undefined), events);
  const off = createTelemetry({ serviceName: 'gateway', env: {} });
  const request = telemetry.tracer.startSpan('request');
  context.with(trace.setSpan(context.active(), request), () => assert.equal(watchDelivery(off, target), undefined));
  request.end();
});
