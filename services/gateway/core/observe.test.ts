/**
 * The request record's trace fields: the ids of any valid span context (for correlation), and
 * whether its trace is sampled (only then is there a stored trace to find).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trace, TraceFlags } from '@opentelemetry/api';
import { newApiRequest, noteSpan } from './observe.ts';

const fresh = () => newApiRequest({ protocol: 'rest', method: 'GET', requestUri: '/', sourceIps: [], userAgent: '' });

test('noteSpan keeps the ids of a sampled and of an unsampled span, and says which it is', () => {
  const ids = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
  const sampled = fresh();
  noteSpan(sampled, trace.wrapSpanContext({ ...ids, traceFlags: TraceFlags.SAMPLED }));
  assert.deepEqual([sampled.traceId, sampled.spanId, sampled.traceSampled], [ids.traceId, ids.spanId, true]);
  const unsampled = fresh();
  noteSpan(unsampled, trace.wrapSpanContext({ ...ids, traceFlags: TraceFlags.NONE }));
  assert.deepEqual([unsampled.traceId, unsampled.spanId, unsampled.traceSampled], [ids.traceId, ids.spanId, false]);
  const none = fresh();
  noteSpan(none, undefined);
  noteSpan(none, trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TraceFlags.SAMPLED }));
  assert.deepEqual([none.traceId, none.traceSampled], ['', false]);
});
