import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POD } from '../../../lib/kinds/builtin/workloads/pod.ts';
import { beforeDelete } from './deletion.ts';

const now = new Date('2026-01-02T03:04:05Z');
const boundPod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: '5' }, spec: { nodeName: 'n', containers: [] } };

test('a graceful delete ends its deletionTimestamp now + the grace period', () => {
  const out = beforeDelete(POD, boundPod, { gracePeriodSeconds: 30 }, now);
  assert.equal(out.object.metadata?.deletionTimestamp, '2026-01-02T03:04:35Z');
  assert.equal(out.object.metadata?.deletionGracePeriodSeconds, 30);
});

test('a grace period past what a four-digit year can say ends at 9999-12-31T23:59:59Z, never an error', () => {
  for (const grace of [9e15, Number.MAX_SAFE_INTEGER, 300_000_000_000]) {
    const out = beforeDelete(POD, boundPod, { gracePeriodSeconds: grace }, now);
    assert.equal(out.object.metadata?.deletionTimestamp, '9999-12-31T23:59:59Z');
    assert.equal(out.object.metadata?.deletionGracePeriodSeconds, grace);
  }
});

test('shortening a running grace period past the year 9999 is bounded the same way', () => {
  const running = { ...boundPod, metadata: { ...boundPod.metadata, deletionTimestamp: '9999-12-31T23:59:59Z', deletionGracePeriodSeconds: Number.MAX_SAFE_INTEGER } };
  const out = beforeDelete(POD, running, { gracePeriodSeconds: 9e15 }, now);
  assert.equal(out.graceful, true);
  assert.match(String(out.object.metadata?.deletionTimestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
});
