/**
 * Cluster IPs and node ports stay unique across gateway processes: two gateway replicas of one
 * control plane (one storage service, one etcd), given a /28 and 20 node ports by their flags,
 * take 2 x 20 Service creates over REST at once. Every answer is a Service or kube's "range is
 * full", no value is handed out twice, and both gateways see the same Services.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

let dir: string;
let plane: ControlPlane;
let clients: RestClient[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-service-replicas-'));
  plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    gatewayReplicas: 2,
    flags: { gateway: ['--service-cluster-ip-range=10.100.0.0/28', '--service-node-port-range=30000-30019'] },
  });
  const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  clients = plane.gatewayReplicas.map((g) => createRestClient(`https://${g.https}`, ca, token));
});

after(async () => {
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const FULL = ['Internal error occurred: failed to allocate a serviceIP: range is full', 'Internal error occurred: failed to allocate a nodePort: range is full'];

test('two gateway processes: 2 x 20 concurrent creates on a /28 get unique cluster IPs and node ports', async () => {
  const creates = [];
  for (let i = 0; i < 20; i++) {
    for (const [g, client] of clients.entries()) {
      const body = { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${g}-${i}` }, spec: { type: 'NodePort', ports: [{ port: 80 }] } };
      creates.push(client.request('POST', '/api/v1/namespaces/default/services', { body }));
    }
  }
  const answers = await Promise.all(creates);
  for (const answer of answers) {
    if (answer.status === 201) continue;
    assert.equal(answer.status, 500, answer.body.toString());
    assert.ok(FULL.includes(String(answer.json().message)), answer.body.toString());
  }
  const created = answers.filter((a) => a.status === 201).length;
  // 14 usable addresses, one of them the kubernetes Service's.
  assert.ok(created >= 1 && created <= 13, `${created} created`);

  const lists = await Promise.all(clients.map((c) => c.request('GET', '/api/v1/services')));
  const [first, second] = lists.map((l) => (l.json().items as { metadata: { name: string }; spec: { clusterIP: string; ports: { nodePort?: number }[] } }[]));
  assert.ok(first !== undefined && second !== undefined);
  assert.deepEqual(first.map((s) => s.metadata.name), second.map((s) => s.metadata.name));
  assert.equal(first.length, created + 1);
  const ips = first.map((s) => s.spec.clusterIP);
  const ports = first.flatMap((s) => s.spec.ports.map((p) => p.nodePort)).filter((p) => p !== undefined);
  assert.equal(new Set(ips).size, ips.length, `duplicate cluster IPs: ${ips.join(' ')}`);
  assert.equal(new Set(ports).size, ports.length, `duplicate node ports: ${ports.join(' ')}`);
  for (const ip of ips) assert.match(ip, /^10\.100\.0\.([1-9]|1[0-4])$/);
  assert.ok(ips.includes('10.100.0.1'));
});
