/**
 * The gateway's delivery spans: only for a watch of a recorded request, bounded per stream, and
 * ended once the relay has handed the event on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createTelemetry } from '../../../lib/tracing.ts';
import type { WatchEvent } from '../../watch/api.ts';
import { withDeliverySpans } from './watch-delivery.ts';

const WRITE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const target = { group: '', version: 'v1', resource: 'configmaps', namespace: 'ns' };

async function* source(events: WatchEvent[]): AsyncGenerator<WatchEvent> {
  yield* events;
}

const added = (rv: number, traceparent?: string): WatchEvent => ({ type: 'ADDED', object: Buffer.from('{}'), resourceVersion: String(rv), ...(traceparent === undefined ? {} : { traceparent }) });

test('a watch of a recorded request: the first traced event is a span, linked to its write, ended after the relay took it', async () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry({ serviceName: 'gateway', env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const request = telemetry.tracer.startSpan('GET /api/v1/namespaces/{namespace}/configmaps');
  const events = context.with(trace.setSpan(context.active(), request), () =>
    withDeliverySpans(source([added(1), { type: 'BOOKMARK', object: Buffer.from('{}'), resourceVersion: '1' }, added(2, WRITE), added(3, WRITE)]), telemetry, target),
  );
  const ended: number[] = [];
  for await (const e of events) {
    // While the relay holds the event, its span is still open.
    ended.push(exporter.getFinishedSpans().length);
    void e;
  }
  request.end();
  const deliveries = exporter.getFinishedSpans().filter((s) => s.name === 'watch deliver');
  assert.deepEqual(ended, [0, 0, 0, 1], 'the span of rv 2 ends once the relay asks for the next event');
  assert.equal(deliveries.length, 1, 'rv 3 falls within the interval');
  const [d] = deliveries;
  assert.equal(d?.parentSpanContext?.spanId, request.spanContext().spanId);
  assert.equal(d?.links[0]?.context.spanId, '00f067aa0ba902b7');
  assert.equal(d?.attributes['k8s.resource'], 'configmaps');
  assert.equal(d?.attributes['k8s.namespace.name'], 'ns');
  assert.equal(d?.attributes['k8s.resource_version'], '2');
  assert.equal(d?.attributes['k8s.watch.events'], 2, 'rv 1 and rv 2; the bookmark is the stream\'s own');
});

test('no request span (a controller\'s watch) or no tracing: the events as they are, nothing added per event', () => {
  const recording = createTelemetry({ serviceName: 'gateway', env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })] });
  const events = source([added(1, WRITE)]);
  assert.equal(withDeliverySpans(events, recording, target), events);
  const off = createTelemetry({ serviceName: 'gateway', env: {} });
  const request = recording.tracer.startSpan('request');
  context.with(trace.setSpan(context.active(), request), () => assert.equal(withDeliverySpans(events, off, target), events));
  request.end();
});
