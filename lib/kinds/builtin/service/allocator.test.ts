/**
 * Cluster IP and node port allocation through the pipeline, over the memory backend: claims as
 * records in the store, kube's refusals for values taken or out of range, a full range, releases
 * on delete, on a failed write and on updates that give values up, dry runs, and the repair of
 * records a crash left behind.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rfc3339, type KubeObject } from '../../../kube.ts';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from '../../allocation.ts';
import { builtinRegistry } from '../../index.ts';
import { MemoryStorage } from '../../../../services/storage/backends/memory.ts';
import type { Target } from '../../../../services/gateway/core/pipeline.ts';
import { inProcessPipeline, refusal } from '../../../../test/support/pipeline.ts';
import { IP_ADDRESSES, NODE_PORTS, serviceNetwork } from './allocator.ts';
import { parsePortRange, parseServiceIPRange } from './ip.ts';

const admin = { username: 'admin', uid: '1', groups: ['system:masters'] };

async function setup(cluster: Partial<ClusterConfig> = {}) {
  const registry = builtinRegistry();
  const storage = new MemoryStorage();
  const config = { ...DEFAULT_CLUSTER_CONFIG, ...cluster };
  const { pipeline } = await inProcessPipeline(storage, registry, { cluster: config });
  const info = registry.get('', 'v1', 'services');
  assert.ok(info !== undefined);
  const services: Target = { info, namespace: 'default', name: '' };
  const at = (name: string): Target => ({ ...services, name });
  const create = (name: string, spec: Record<string, unknown>, options: { dryRun?: boolean } = {}) =>
    pipeline.create(admin, services, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec } as KubeObject, options);
  /** The claims in the store: record name -> the Service it names. */
  const claims = async (collection: { group: string; resource: string }) => {
    const { items } = await storage.list({ ...collection, namespace: '', name: '' });
    return Object.fromEntries(items.map((r) => [String(r.metadata?.name), `${String((r.spec as { parentRef: { namespace: string } }).parentRef.namespace)}/${String((r.spec as { parentRef: { name: string } }).parentRef.name)}`]));
  };
  return { storage, pipeline, registry, services, at, create, claims, config };
}

const specOf = (object: KubeObject) => object.spec as { clusterIP: string; clusterIPs: string[]; ports: { nodePort?: number }[]; healthCheckNodePort?: number };

describe('Service allocation', () => {
  test('each cluster IP and node port is a record naming its Service', async () => {
    const { create, claims } = await setup();
    const svc = specOf(await create('web', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30081 }] }));
    assert.deepEqual(await claims(IP_ADDRESSES), { [svc.clusterIP]: 'default/web' });
    const ports = svc.ports.map((p) => p.nodePort);
    assert.equal(ports[1], 30081);
    assert.deepEqual(await claims(NODE_PORTS), Object.fromEntries(ports.map((p) => [String(p), 'default/web'])));
  });

  test('the IPAddress record is what kube 1.33+ writes', async () => {
    const { create, storage } = await setup();
    await create('web', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] });
    const record = await storage.get({ ...IP_ADDRESSES, namespace: '', name: '10.96.0.10' });
    assert.equal(record.apiVersion, 'networking.k8s.io/v1');
    assert.equal(record.kind, 'IPAddress');
    assert.deepEqual(record.metadata?.labels, { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' });
    assert.deepEqual(record.spec, { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'web' } });
  });

  test('a requested cluster IP or node port that is taken: 422, and nothing of the refused Service stays claimed', async () => {
    const { create, claims } = await setup();
    await create('first', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] });
    let err = await refusal(create('second', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] }), 'Invalid');
    assert.equal(err.message, 'Service "second" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated');
    err = await refusal(create('second', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), 'Invalid');
    assert.equal(err.message, 'Service "second" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    assert.deepEqual(await claims(IP_ADDRESSES), { '10.96.0.10': 'default/first' });
    assert.deepEqual(await claims(NODE_PORTS), { '30080': 'default/first' });
  });

  test('a full range: 500 in kube\'s words, for cluster IPs and for node ports (the cluster IP claimed first is released)', async () => {
    const { create, claims } = await setup({ serviceClusterIPRange: '10.0.0.0/29', serviceNodePortRange: '30000-30001' });
    // A /29 has six usable addresses: .1 to .6.
    const ips = [];
    for (let i = 0; i < 6; i++) ips.push(specOf(await create(`s${i}`, { ports: [{ port: 80 }] })).clusterIP);
    assert.deepEqual(ips.sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    const err = await refusal(create('s6', { ports: [{ port: 80 }] }), 'InternalError');
    assert.equal(err.code, 500);
    assert.equal(err.message, 'Internal error occurred: failed to allocate a serviceIP: range is full');

    const ports = await setup({ serviceNodePortRange: '30000-30001' });
    await ports.create('np', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] });
    const full = await refusal(ports.create('np2', { type: 'NodePort', ports: [{ port: 80 }] }), 'InternalError');
    assert.equal(full.message, 'Internal error occurred: failed to allocate a nodePort: range is full');
    assert.deepEqual(Object.values(await ports.claims(IP_ADDRESSES)), ['default/np']);
    assert.equal(Object.keys(await claims(IP_ADDRESSES)).length, 6);
  });

  test('ports of one number share a node port (TCP and UDP of 53)', async () => {
    const { create } = await setup();
    const svc = specOf(await create('dns', { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }));
    assert.equal(svc.ports[0]?.nodePort, svc.ports[1]?.nodePort);
  });

  test('delete releases the cluster IP and node ports: they can be asked for again', async () => {
    const { pipeline, at, create, claims } = await setup();
    await create('web', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] });
    const hc = specOf(await pipeline.get(admin, at('web'))).healthCheckNodePort;
    assert.ok(hc !== undefined);
    assert.deepEqual(Object.keys(await claims(NODE_PORTS)).sort(), [String(hc), '30080'].sort());
    await pipeline.delete(admin, at('web'));
    assert.deepEqual(await claims(IP_ADDRESSES), {});
    assert.deepEqual(await claims(NODE_PORTS), {});
    await create('again', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] });
  });

  test('a Service with finalizers releases when the last finalizer goes', async () => {
    const { pipeline, at, create, claims } = await setup();
    const created = await create('web', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] });
    await pipeline.update(admin, at('web'), { ...created, metadata: { ...created.metadata, finalizers: ['example.com/hold'] } });
    const deleting = await pipeline.delete(admin, at('web'));
    assert.equal(deleting.pending, true);
    assert.deepEqual(await claims(IP_ADDRESSES), { '10.96.0.10': 'default/web' });
    const current = await pipeline.get(admin, at('web'));
    await pipeline.update(admin, at('web'), { ...current, metadata: { ...current.metadata, finalizers: [] } });
    assert.deepEqual(await claims(IP_ADDRESSES), {});
  });

  test('a create whose write fails releases what it claimed', async () => {
    const { create, claims } = await setup();
    const first = specOf(await create('web', { ports: [{ port: 80 }] }));
    // Admitted and allocated, then refused by storage: the name is taken.
    await refusal(create('web', { clusterIP: '10.96.0.99', ports: [{ port: 80 }] }), 'AlreadyExists');
    assert.deepEqual(await claims(IP_ADDRESSES), { [first.clusterIP]: 'default/web' });
  });

  test('NodePort -> ClusterIP releases the node ports; the cluster IP stays', async () => {
    const { pipeline, at, create, claims } = await setup();
    const created = await create('web', { type: 'NodePort', ports: [{ port: 80 }] });
    const ip = specOf(created).clusterIP;
    // The object as read back, type changed: its node ports are dropped and released.
    const updated = await pipeline.update(admin, at('web'), { ...created, spec: { ...(created.spec as object), type: 'ClusterIP' } });
    assert.equal(specOf(updated).ports[0]?.nodePort, undefined);
    assert.equal(specOf(updated).clusterIP, ip);
    assert.deepEqual(await claims(NODE_PORTS), {});
    assert.deepEqual(await claims(IP_ADDRESSES), { [ip]: 'default/web' });
  });

  test('ClusterIP -> NodePort claims node ports; a port dropped by an update is released', async () => {
    const { pipeline, at, create, claims } = await setup();
    await create('web', { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] });
    let current = await pipeline.get(admin, at('web'));
    const np = await pipeline.update(admin, at('web'), { ...current, spec: { ...(current.spec as object), type: 'NodePort' } });
    const [a, b] = specOf(np).ports.map((p) => p.nodePort);
    assert.deepEqual(Object.keys(await claims(NODE_PORTS)).sort(), [String(a), String(b)].sort());
    current = await pipeline.get(admin, at('web'));
    const spec = current.spec as { ports: unknown[] };
    await pipeline.update(admin, at('web'), { ...current, spec: { ...spec, ports: spec.ports.slice(0, 1) } });
    assert.deepEqual(Object.keys(await claims(NODE_PORTS)), [String(a)]);
  });

  test('ClusterIP -> ExternalName releases the cluster IP, and back claims a new one', async () => {
    const { pipeline, at, create, claims } = await setup();
    const created = await create('web', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] });
    const ext = await pipeline.update(admin, at('web'), { ...created, spec: { ...(created.spec as object), type: 'ExternalName', externalName: 'db.example.com' } });
    assert.equal((ext.spec as Record<string, unknown>).clusterIP, undefined);
    assert.equal((ext.spec as Record<string, unknown>).ipFamilies, undefined);
    assert.equal((ext.spec as Record<string, unknown>).ipFamilyPolicy, undefined);
    // Not shown for an ExternalName, as kube's reads drop it.
    assert.equal((ext.spec as Record<string, unknown>).internalTrafficPolicy, undefined);
    assert.deepEqual(await claims(IP_ADDRESSES), {});
    const back = await pipeline.update(admin, at('web'), { ...ext, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
    assert.deepEqual(await claims(IP_ADDRESSES), { [specOf(back).clusterIP]: 'default/web' });
  });

  test('externalTrafficPolicy Local claims a health check node port, Cluster releases it', async () => {
    const { pipeline, at, create, claims } = await setup();
    const created = await create('lb', { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] });
    const local = await pipeline.update(admin, at('lb'), { ...created, spec: { ...(created.spec as object), externalTrafficPolicy: 'Local' } });
    const hc = specOf(local).healthCheckNodePort;
    assert.ok(hc !== undefined && hc >= 30000 && hc <= 32767);
    assert.deepEqual(Object.keys(await claims(NODE_PORTS)).sort(), ['30080', String(hc)].sort());
    // Back to Cluster with the health check node port left in the body: dropped and released.
    const cluster = await pipeline.update(admin, at('lb'), { ...local, spec: { ...(local.spec as object), externalTrafficPolicy: 'Cluster' } });
    assert.equal(specOf(cluster).healthCheckNodePort, undefined);
    assert.deepEqual(Object.keys(await claims(NODE_PORTS)), ['30080']);
  });

  test('a LoadBalancer without node ports still gets the ones asked for', async () => {
    const { create, claims } = await setup();
    const svc = specOf(await create('lb', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81 }] }));
    assert.deepEqual(svc.ports.map((p) => p.nodePort), [30080, undefined]);
    assert.deepEqual(await claims(NODE_PORTS), { '30080': 'default/lb' });
  });

  test('an update that fails keeps the old values and releases the new ones', async () => {
    const { pipeline, at, create, claims } = await setup();
    const created = await create('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    // A stale resourceVersion: admitted and allocated (a second port), then Conflict.
    const stale = { ...created, metadata: { ...created.metadata, resourceVersion: '1' }, spec: { ...(created.spec as { ports: object[] }), ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30081 }] } };
    await refusal(pipeline.update(admin, at('web'), stale), 'Conflict');
    assert.deepEqual(await claims(NODE_PORTS), { '30080': 'default/web' });
  });

  test('a dry run claims nothing, and shows kube\'s stand-in values', async () => {
    const { create, claims } = await setup();
    const svc = specOf(await create('web', { type: 'NodePort', ports: [{ port: 80 }] }, { dryRun: true }));
    assert.equal(svc.clusterIP, '10.96.0.0');
    assert.equal(svc.ports[0]?.nodePort, 32769);
    assert.deepEqual(await claims(IP_ADDRESSES), {});
    assert.deepEqual(await claims(NODE_PORTS), {});
    // A requested value out of range is still refused.
    await refusal(create('web', { clusterIP: '10.200.0.1', ports: [{ port: 80 }] }, { dryRun: true }), 'Invalid');
  });

  test('the kubernetes Service: the first address, port 443 to the API server\'s port; made once', async () => {
    const { pipeline, registry, at, claims } = await setup({ apiServerPort: 16443 });
    await Promise.all([pipeline.ensureBootstrapObjects(registry), pipeline.ensureBootstrapObjects(registry)]);
    const svc = await pipeline.get(admin, at('kubernetes'));
    assert.deepEqual(svc.metadata?.labels, { component: 'apiserver', provider: 'kubernetes' });
    assert.deepEqual(svc.spec, {
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1'],
      sessionAffinity: 'None',
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 16443 }],
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    assert.deepEqual(await claims(IP_ADDRESSES), { '10.96.0.1': 'default/kubernetes' });
    // Deleted, it comes back at the next pass.
    await pipeline.delete(admin, at('kubernetes'));
    await pipeline.ensureBootstrapObjects(registry);
    assert.equal(specOf(await pipeline.get(admin, at('kubernetes'))).clusterIP, '10.96.0.1');
  });
});

const tenMinutesAgo = rfc3339(new Date(Date.now() - 10 * 60_000));

/** A claim record as the allocator writes it, for the repair to judge. */
const leak = (collection: { group: string; resource: string }, name: string, parent: string, created = tenMinutesAgo): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Record',
  metadata: { name, uid: `uid-${name}`, creationTimestamp: created, labels: { 'ipaddress.kubernetes.io/managed-by': collection === IP_ADDRESSES ? 'ipallocator.k8s.io' : 'nodeportallocator.k8s.io' } },
  spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: parent } },
});

describe('Allocation repair', () => {

  test('records no Service holds are released once past the grace period; young ones stay', async () => {
    const { pipeline, registry, storage, create, claims } = await setup();
    const web = specOf(await create('web', { type: 'NodePort', ports: [{ port: 80 }] }));
    // Left by a gateway that died between claim and write, and by a write still under way.
    await storage.create({ ...IP_ADDRESSES, namespace: '', name: '10.96.0.77' }, leak(IP_ADDRESSES, '10.96.0.77', 'gone'));
    await storage.create({ ...NODE_PORTS, namespace: '', name: '31999' }, leak(NODE_PORTS, '31999', 'gone'));
    await storage.create({ ...IP_ADDRESSES, namespace: '', name: '10.96.0.78' }, leak(IP_ADDRESSES, '10.96.0.78', 'coming', rfc3339(new Date())));
    // A record naming a Service that does not hold the value.
    await storage.create({ ...IP_ADDRESSES, namespace: '', name: '10.96.0.79' }, leak(IP_ADDRESSES, '10.96.0.79', 'web'));
    const [report] = await pipeline.repairAllocations(registry.all, 60_000);
    assert.deepEqual(report, { resource: 'services', report: { restored: 0, released: 3, conflicts: [] } });
    assert.deepEqual(await claims(IP_ADDRESSES), { [web.clusterIP]: 'default/web', '10.96.0.78': 'default/coming' });
    assert.deepEqual(await claims(NODE_PORTS), { [String(web.ports[0]?.nodePort)]: 'default/web' });
  });

  test('values a stored Service holds without a record are claimed again', async () => {
    const { pipeline, registry, storage, create, claims } = await setup();
    const web = specOf(await create('web', { type: 'NodePort', ports: [{ port: 80 }] }));
    await storage.delete({ ...IP_ADDRESSES, namespace: '', name: web.clusterIP });
    await storage.delete({ ...NODE_PORTS, namespace: '', name: String(web.ports[0]?.nodePort) });
    const [report] = await pipeline.repairAllocations(registry.all, 60_000);
    assert.deepEqual(report?.report, { restored: 2, released: 0, conflicts: [] });
    assert.deepEqual(await claims(IP_ADDRESSES), { [web.clusterIP]: 'default/web' });
    assert.deepEqual(await claims(NODE_PORTS), { [String(web.ports[0]?.nodePort)]: 'default/web' });
  });
});

describe('Allocation repair: what it leaves alone', () => {
  test('values outside today\'s ranges keep their records; a value two Services hold is reported', async () => {
    const { pipeline, registry, storage, create, claims } = await setup();
    const web = specOf(await create('web', { ports: [{ port: 80 }] }));
    // Written by another writer (or before the flags changed): no allocation went with them.
    const stored = (name: string, clusterIP: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ port: 80, protocol: 'TCP' }] },
    });
    await storage.create({ group: '', resource: 'services', namespace: 'default', name: 'moved' }, stored('moved', '192.168.5.5'));
    await storage.create({ ...IP_ADDRESSES, namespace: '', name: '192.168.5.5' }, leak(IP_ADDRESSES, '192.168.5.5', 'moved'));
    await storage.create({ group: '', resource: 'services', namespace: 'default', name: 'twin' }, stored('twin', web.clusterIP));
    const [report] = await pipeline.repairAllocations(registry.all, 60_000);
    assert.deepEqual(report?.report, { restored: 0, released: 0, conflicts: [`ipaddresses/${web.clusterIP}: default/twin, default/web`] });
    assert.deepEqual(await claims(IP_ADDRESSES), { [web.clusterIP]: 'default/web', '192.168.5.5': 'default/moved' });
  });
});

describe('Ranges', () => {
  test('the service range: usable addresses, the static band, kube\'s limits', () => {
    const r = parseServiceIPRange('10.96.0.0/12');
    assert.equal(r.cidr, '10.96.0.0/12');
    assert.equal(r.last - r.first + 1n, (1n << 20n) - 2n);
    assert.equal(r.staticBand, 256n);
    assert.equal(parseServiceIPRange('10.0.0.0/27').staticBand, 16n);
    assert.equal(parseServiceIPRange('10.0.0.0/28').staticBand, 0n);
    assert.equal(parseServiceIPRange('10.0.0.5/24').cidr, '10.0.0.0/24');
    assert.equal(parseServiceIPRange('fd00:10:96::/112').cidr, 'fd00:10:96::/112');
    assert.throws(() => parseServiceIPRange('10.0.0.0/8'), /too large; for 32-bit addresses, the mask must be >= 12/);
    assert.throws(() => parseServiceIPRange('10.0.0.0/31'), /no usable address/);
    assert.throws(() => parseServiceIPRange('10.0.0.0/24,fd00::/112'), /dual-stack/);
    assert.throws(() => serviceNetwork({ ...DEFAULT_CLUSTER_CONFIG, serviceNodePortRange: '30000-20000' }), /--service-node-port-range/);
  });

  test('node port ranges as net.ParsePortRange reads them', () => {
    assert.deepEqual(parsePortRange('30000-32767'), { base: 30000, size: 2768, text: '30000-32767', staticBand: 86 });
    assert.deepEqual(parsePortRange('30000+10'), { base: 30000, size: 11, text: '30000-30010', staticBand: 0 });
    assert.deepEqual(parsePortRange('30000'), { base: 30000, size: 1, text: '30000-30000', staticBand: 0 });
    assert.throws(() => parsePortRange('0-10'));
    assert.throws(() => parsePortRange('a-b'));
  });
});
