/**
 * The watch service's metrics: gaps by outcome as the caches report them, and the caches'
 * capacity, size and revision read when scraped.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent } from '../../lib/change-event.ts';
import { StatusError } from '../../lib/errors.ts';
import { Metrics } from '../../lib/metrics.ts';
import { WatchCache } from './core/watch-cache.ts';
import { WatchMetrics } from './metrics.ts';

function change(revision: number, prev: number): ChangeEvent {
  const name = `cm-${revision}`;
  return {
    type: 'ADDED',
    revision,
    prevRevision: prev,
    group: '',
    resource: 'configmaps',
    namespace: 'ns',
    name,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: String(revision) } },
  };
}

function value(body: string, line: RegExp): number | undefined {
  const m = line.exec(body);
  return m === null ? undefined : Number(m[1]);
}

describe('WatchMetrics', () => {
  test('gaps are counted as refilled or expired; cache gauges follow the caches', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const watch = new WatchMetrics(metrics);
    const refilled = new WatchCache(10, {
      capacity: 100,
      refill: (from, to) => Promise.resolve(Array.from({ length: to - from }, (_, i) => change(from + i + 1, from + i))),
      onGap: watch.gapsFor('/configmaps'),
    });
    const expired = new WatchCache(10, {
      capacity: 50,
      refill: () => Promise.reject(new StatusError('Expired', 'compacted')),
      onGap: watch.gapsFor('apps/deployments'),
    });
    watch.observeCaches(metrics, new Map([['/configmaps', refilled], ['apps/deployments', expired]]));

    refilled.receive(change(11, 10));
    refilled.receive(change(14, 13)); // 12 and 13 lost on the bus: refilled from history
    expired.receive(change(20, 15)); // history compacted: 410 for every watcher
    await new Promise((resolve) => setImmediate(resolve));
    // A catch-up after the bus reconnects is not a gap.
    refilled.catchUp(16);
    await new Promise((resolve) => setImmediate(resolve));

    const { body } = await metrics.render(undefined);
    assert.equal(value(body, /^apiserver_watch_cache_gaps_total\{group="",resource="configmaps",outcome="refilled"\} (\d+)$/m), 1);
    assert.equal(value(body, /^apiserver_watch_cache_gaps_total\{group="",resource="configmaps",outcome="expired"\} (\d+)$/m), 0);
    assert.equal(value(body, /^apiserver_watch_cache_gaps_total\{group="apps",resource="deployments",outcome="expired"\} (\d+)$/m), 1);
    assert.equal(value(body, /^watch_cache_capacity\{group="apps",resource="deployments"\} (\d+)$/m), 50);
    assert.equal(value(body, /^apiserver_watch_cache_events_held\{group="",resource="configmaps"\} (\d+)$/m), 6);
    assert.equal(value(body, /^apiserver_watch_cache_resource_version\{group="",resource="configmaps"\} (\d+)$/m), 16);
  });
});
