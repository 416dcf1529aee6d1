/**
 * etcd_request_duration_seconds and its counters, by kube's operation and type labels, over
 * the memory engine (the same KeyValueEngine calls the etcd backend makes).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../../lib/metrics.ts';
import { MemoryEngine } from './memory.ts';
import { ETCD_REQUEST_BUCKETS, meteredEngine } from './metered-engine.ts';

describe('meteredEngine', () => {
  test('counts and times each call by operation and group resource, errors apart', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const engine = meteredEngine(new MemoryEngine(), metrics);
    await engine.create('/registry/configmaps/default/a', '{}');
    await engine.create('/registry/apps/deployments/default/d', '{}');
    const { kv } = await engine.get('/registry/configmaps/default/a', false);
    await engine.replace('/registry/configmaps/default/a', '{"a":1}', kv?.modRevision ?? 0);
    await engine.range({ start: '/registry/configmaps/', end: Buffer.from('/registry/configmaps0'), limit: 0, revision: 0, serializable: false } as Parameters<typeof engine.range>[0]);
    await assert.rejects(engine.range({ start: '/registry/configmaps/', end: Buffer.from('/registry/configmaps0'), limit: 0, revision: 10_000, serializable: false } as Parameters<typeof engine.range>[0]));

    const { body } = await metrics.render(undefined);
    const line = (name: string, labels: string) => new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(body)?.[1];
    assert.equal(line('etcd_requests_total', 'operation="create",type="configmaps"'), '1');
    assert.equal(line('etcd_requests_total', 'operation="create",type="deployments.apps"'), '1');
    assert.equal(line('etcd_requests_total', 'operation="get",type="configmaps"'), '1');
    assert.equal(line('etcd_requests_total', 'operation="update",type="configmaps"'), '1');
    assert.equal(line('etcd_requests_total', 'operation="list",type="configmaps"'), '2');
    assert.equal(line('etcd_request_errors_total', 'operation="list",type="configmaps"'), '1');
    assert.equal(line('etcd_request_duration_seconds_count', 'operation="get",type="configmaps"'), '1');
    const les = [...body.matchAll(/^etcd_request_duration_seconds_bucket\{le="([^"]+)",operation="get",type="configmaps"\}/gm)].map((m) => m[1]);
    assert.deepEqual(les, [...ETCD_REQUEST_BUCKETS.map(String), '+Inf']);
  });
});
