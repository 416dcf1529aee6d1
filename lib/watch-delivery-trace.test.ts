/**
 * Delivery spans stay bounded: the first live event of a stream from a sampled write makes
 * one, then at most one per interval, each counting the events it stands for and linked to its
 * write.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createTelemetry } from './tracing.ts';
import { WatchDeliverySpans } from './watch-delivery-trace.ts';

const WRITE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const UNSAMPLED = '00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-00';

function setUp(interval: string) {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry({
    serviceName: 'test',
    env: { OTEL_TRACES_WATCH_DELIVERY_INTERVAL: interval },
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { exporter, spans: new WatchDeliverySpans(telemetry, 'watch deliver', { 'k8s.resource': 'configmaps' }) };
}

test('the first event from a sampled write makes a span, then at most one per interval, counting the events between', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { exporter, spans } = setUp('10');
  // Events without a write's trace (listed objects, other replicas' writes) or of an unsampled write only count.
  assert.equal(spans.event(undefined), undefined);
  assert.equal(spans.event(UNSAMPLED), undefined);
  const first = spans.event(WRITE);
  assert.ok(first !== undefined);
  first.end();
  for (let i = 0; i < 1000; i++) assert.equal(spans.event(WRITE), undefined, 'within the interval: no span');
  spans.count(5);
  t.mock.timers.tick(10_000);
  const second = spans.event(WRITE, 3);
  assert.ok(second !== undefined);
  second.end();
  const finished = exporter.getFinishedSpans();
  assert.equal(finished.length, 2);
  assert.deepEqual(finished.map((s) => s.attributes['k8s.watch.events']), [3, 1000 + 5 + 3]);
  for (const s of finished) {
    assert.equal(s.name, 'watch deliver');
    assert.equal(s.attributes['k8s.resource'], 'configmaps');
    assert.deepEqual(s.links.map((l) => `${l.context.traceId}-${l.context.spanId}`), ['0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331']);
    assert.notEqual(s.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c', 'a span of its own trace, linked to the write');
  }
});

test('an interval of 0 makes a span for every event from a sampled write', () => {
  const { exporter, spans } = setUp('0');
  for (let i = 0; i < 3; i++) spans.event(WRITE)?.end();
  assert.equal(exporter.getFinishedSpans().length, 3);
});
