/**
 * Service allocation across gateway replicas: two pipelines, each with its own storage replica,
 * on one real etcd, creating Services at once on a tiny service range (a /27) and node port
 * range. Every cluster IP and node port handed out is unique, the refusals are kube's "range is
 * full", and afterwards the claims in etcd are exactly what the stored Services hold (nothing
 * leaked by the creates that lost): the free values left can all be had, and no more.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { startEtcd, type EtcdServer } from '../../lib/local/etcd.ts';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from '../../lib/kinds/allocation.ts';
import { IP_ADDRESSES, NODE_PORTS } from '../../lib/kinds/builtin/service/allocator.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { Pipeline, Target } from '../../services/gateway/core/pipeline.ts';
import { createEtcdClient, EtcdStorage } from '../../services/storage/backends/etcd.ts';
import { inProcessPipeline } from '../support/pipeline.ts';

const admin = { username: 'admin', uid: '1', groups: ['system:masters'] };
const telemetry = createTelemetry({ serviceName: 'test', env: {} });

// 30 usable addresses (.1 to .30), the first for the kubernetes Service; 50 node ports, two per Service.
const CLUSTER: ClusterConfig = { ...DEFAULT_CLUSTER_CONFIG, serviceClusterIPRange: '10.0.0.0/27', serviceNodePortRange: '30000-30049' };
const IP_CAPACITY = 29;
const PORT_CAPACITY = 25;
const FULL = new Set(['Internal error occurred: failed to allocate a serviceIP: range is full', 'Internal error occurred: failed to allocate a nodePort: range is full']);

let etcd: EtcdServer;
const storages: EtcdStorage[] = [];
const gateways: { pipeline: Pipeline; services: Target }[] = [];

before(async () => {
  etcd = await startEtcd();
  for (let i = 0; i < 2; i++) {
    const storage = new EtcdStorage(createEtcdClient(etcd.endpoint), { tracer: telemetry.tracer });
    storages.push(storage);
    const registry = builtinRegistry();
    const { pipeline } = await inProcessPipeline(storage, registry, { cluster: CLUSTER });
    const info = registry.get('', 'v1', 'services');
    assert.ok(info !== undefined);
    gateways.push({ pipeline, services: { info, namespace: 'default', name: '' } });
    // Each replica makes the bootstrap objects at start.
    await pipeline.ensureBootstrapObjects(registry);
  }
});

after(async () => {
  for (const storage of storages) storage.client.close();
  await etcd?.stop();
});

function nodePortService(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] } };
}

/** Every stored Service's cluster IP and node ports, and every claim record, read from etcd. */
async function state() {
  const storage = storages[0] as EtcdStorage;
  const all = { namespace: '', name: '' };
  const services = (await storage.list({ group: '', resource: 'services', ...all })).items;
  const held = { ips: [] as string[], ports: [] as number[] };
  for (const svc of services) {
    const spec = svc.spec as { clusterIP: string; ports: { nodePort?: number }[] };
    held.ips.push(spec.clusterIP);
    for (const p of spec.ports) if (p.nodePort !== undefined) held.ports.push(p.nodePort);
  }
  const ipRecords = (await storage.list({ ...IP_ADDRESSES, ...all })).items.map((r) => String(r.metadata?.name));
  const portRecords = (await storage.list({ ...NODE_PORTS, ...all })).items.map((r) => Number(r.metadata?.name));
  return { services, held, ipRecords, portRecords };
}

describe('two gateways allocating at once', () => {
  test('2 x 50 creates on a /27: unique IPs and node ports, kube\'s "range is full", no claim leaked', async () => {
    const [a, b] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
    const creates = [];
    for (let i = 0; i < 50; i++) {
      creates.push(a.pipeline.create(admin, a.services, nodePortService(`a-${i}`)));
      creates.push(b.pipeline.create(admin, b.services, nodePortService(`b-${i}`)));
    }
    const results = await Promise.allSettled(creates);
    const created = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    for (const r of results) {
      if (r.status === 'fulfilled') continue;
      assert.ok(r.reason instanceof StatusError, String(r.reason));
      assert.equal(r.reason.code, 500);
      assert.ok(FULL.has(r.reason.message), r.reason.message);
    }
    // Losers hold values for a moment, so fewer than the capacity may win; never more.
    assert.ok(created.length >= 1 && created.length <= PORT_CAPACITY, `${created.length} created`);

    const { services, held, ipRecords, portRecords } = await state();
    assert.equal(services.length, created.length + 1);
    assert.equal(new Set(held.ips).size, held.ips.length, `duplicate cluster IPs: ${held.ips.join(' ')}`);
    assert.equal(new Set(held.ports).size, held.ports.length, `duplicate node ports: ${held.ports.join(' ')}`);
    assert.ok(held.ips.includes('10.0.0.1'));
    for (const ip of held.ips) assert.match(ip, /^10\.0\.0\.([1-9]|[12][0-9]|30)$/);
    for (const port of held.ports) assert.ok(port >= 30000 && port <= 30049, String(port));
    // The claims are exactly what the stored Services hold.
    assert.deepEqual([...ipRecords].sort(), [...held.ips].sort());
    assert.deepEqual([...portRecords].sort(), [...held.ports].sort());

    // What is free can all be had, from either gateway, and then the range is full.
    const room = Math.min(IP_CAPACITY - created.length, PORT_CAPACITY - created.length);
    for (let i = 0; i < room; i++) {
      const g = gateways[i % 2] as (typeof gateways)[0];
      await g.pipeline.create(admin, g.services, nodePortService(`more-${i}`));
    }
    const g = gateways[0] as (typeof gateways)[0];
    const err = await g.pipeline.create(admin, g.services, nodePortService('one-too-many')).then(
      () => assert.fail('expected the range to be full'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StatusError && FULL.has(err.message), String(err));
    const final = await state();
    assert.equal(final.held.ports.length, PORT_CAPACITY * 2);
    assert.equal(new Set(final.held.ips).size, final.held.ips.length);
    assert.equal(new Set(final.held.ports).size, final.held.ports.length);
  });
});
