/**
 * The sampler follows OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the specification names
 * them, parent-based by default, so a request is traced in every service or in none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createTelemetry } from './tracing.ts';

function telemetryWith(env: NodeJS.ProcessEnv) {
  return createTelemetry({ serviceName: 'test', env, spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })] });
}

const parent = (sampled: boolean) =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });

function sampledRootsOf(env: NodeJS.ProcessEnv, n: number): number {
  const { tracer } = telemetryWith(env);
  let sampled = 0;
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('root', {}, ROOT_CONTEXT);
    if (span.isRecording()) sampled++;
    span.end();
  }
  return sampled;
}

test('default: parentbased_always_on follows the caller, samples every root', () => {
  const { tracer } = telemetryWith({});
  assert.equal(tracer.startSpan('child', {}, parent(true)).isRecording(), true);
  assert.equal(tracer.startSpan('child', {}, parent(false)).isRecording(), false);
  assert.equal(sampledRootsOf({}, 50), 50);
});

test('parentbased_traceidratio: roots by the ratio, children by their parent', () => {
  const env = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' };
  const sampled = sampledRootsOf(env, 4000);
  assert.ok(sampled > 800 && sampled < 1200, `${sampled} of 4000 roots sampled at 0.25`);
  const { tracer } = telemetryWith(env);
  for (let i = 0; i < 20; i++) assert.equal(tracer.startSpan('child', {}, parent(true)).isRecording(), true);
  assert.equal(sampledRootsOf({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, 100), 0);
});

test('always_off and always_on ignore the caller; an unknown sampler or ratio falls back to the defaults', () => {
  assert.equal(telemetryWith({ OTEL_TRACES_SAMPLER: 'always_off' }).tracer.startSpan('x', {}, parent(true)).isRecording(), false);
  assert.equal(telemetryWith({ OTEL_TRACES_SAMPLER: 'always_on' }).tracer.startSpan('x', {}, parent(false)).isRecording(), true);
  assert.equal(sampledRootsOf({ OTEL_TRACES_SAMPLER: 'bogus' }, 20), 20);
  assert.equal(sampledRootsOf({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' }, 20), 20);
});

test('without any exporter or processor the tracer is the no-op one and says so', () => {
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });
  assert.equal(telemetry.enabled, false);
  const span = telemetry.tracer.startSpan('x', {}, parent(true));
  assert.equal(span.isRecording(), false);
  // It still carries the caller's trace through.
  assert.equal(span.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(telemetryWith({}).enabled, true);
});
