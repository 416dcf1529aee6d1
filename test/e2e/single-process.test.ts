/**
 * The single-process mode (in-memory storage, no etcd or Redis) serves kubectl like the
 * distributed control plane: the same cores, wired in one process.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { checkHealth } from '../../lib/local/control-plane.ts';
import { freePort } from '../../lib/local/ports.ts';
import { spawnProcess, waitUntil, type ManagedProcess } from '../../lib/local/process.ts';
import { createKubectl, type Kubectl } from '../support/kubectl.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/single-process.ts', import.meta.url));
let dir: string;
let proc: ManagedProcess;
let kubectl: Kubectl;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-single-'));
  const grpc = `127.0.0.1:${await freePort()}`;
  const https = `127.0.0.1:${await freePort()}`;
  proc = spawnProcess({ name: 'single', command: process.execPath, args: [SCRIPT, `--listen=${grpc}`, `--https-listen=${https}`, `--data-dir=${dir}`] });
  await waitUntil('single-process mode healthy', () => checkHealth(grpc), { timeoutMs: 30_000, process: proc });
  kubectl = createKubectl(join(dir, 'admin.kubeconfig'));
});

after(async () => {
  await proc?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('kubectl works against one process with in-memory storage', async () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' } } };
  assert.equal((await kubectl(['create', '-f', '-', '--validate=false'], { input: JSON.stringify(node) })).code, 0);
  const nodes = await kubectl(['get', 'nodes', '--no-headers']);
  assert.match(nodes.stdout, /^n1\s+Ready\s+<none>\s+\d+s\s+v1\.32\.0\s*$/);

  const watch = kubectl.spawn(['get', 'cm', '-w', '--no-headers']);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await kubectl(['create', 'configmap', 'one', '--from-literal=a=b'])).code, 0);
    await watch.waitFor((lines) => lines.some((l) => /^one\s+1\s+/.test(l)), 5_000);
  } finally {
    watch.stop();
  }
  const deleted = await kubectl(['delete', 'cm', 'one']);
  assert.equal(deleted.stdout.trim(), 'configmap "one" deleted');
  const wrong = await kubectl(['get', 'cm', '--token=nope']);
  assert.equal(wrong.stderr.trim(), 'error: You must be logged in to the server (Unauthorized)');
});

test("token file tokens are meant for the API server's audiences only, as in the auth service", async () => {
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0]!;
  const review = async (audiences?: string[]) => {
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences === undefined ? {} : { audiences }) } };
    const created = await kubectl(['create', '-f', '-', '-o', 'json'], { input: JSON.stringify(body) });
    assert.equal(created.code, 0, created.stderr);
    return (JSON.parse(created.stdout) as { status: { authenticated?: boolean; user?: { username?: string; groups?: string[] }; audiences?: string[] } }).status;
  };
  const own = await review();
  assert.equal(own.authenticated, true);
  assert.equal(own.user?.username, 'admin');
  assert.deepEqual(own.user?.groups, ['system:masters', 'system:authenticated']);
  assert.deepEqual(own.audiences, ['https://kubernetes.default.svc.cluster.local']);
  assert.notEqual((await review(['https://elsewhere.example'])).authenticated, true);
});

test("a custom kind's entry of its other served version survives a write through the first (managedFields convert between a CRD's versions)", async () => {
  const version = (name: string, storage: boolean) => ({ name, served: true, storage, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' }, color: { type: 'string' } } } } } } });
  const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'pools.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'pools', kind: 'Pool' }, versions: [version('v1', true), version('v2', false)] } };
  assert.equal((await kubectl(['create', '-f', '-'], { input: JSON.stringify(crd) })).code, 0);
  const established = await kubectl(['wait', '--for=condition=Established', '--timeout=20s', 'crd/pools.example.com']);
  assert.equal(established.code, 0, established.stderr);
  const pool = { apiVersion: 'example.com/v2', kind: 'Pool', metadata: { name: 'p', namespace: 'default' }, spec: { size: 1 } };
  let applied = await kubectl(['apply', '--server-side', '--field-manager=v2-applier', '-f', '-'], { input: JSON.stringify(pool) });
  for (let i = 0; i < 50 && applied.code !== 0 && /the server could not find the requested resource|no matches for kind/.test(applied.stderr); i++) {
    // discovery may lag the Established condition by a moment
    await new Promise((r) => setTimeout(r, 200));
    applied = await kubectl(['apply', '--server-side', '--field-manager=v2-applier', '-f', '-'], { input: JSON.stringify(pool) });
  }
  assert.equal(applied.code, 0, applied.stderr);
  const patched = await kubectl(['patch', 'pools.v1.example.com', 'p', '--type=merge', '-p', '{"spec":{"color":"red"}}', '--field-manager=v1-patcher', '-o', 'json', '--show-managed-fields']);
  assert.equal(patched.code, 0, patched.stderr);
  const managed = (JSON.parse(patched.stdout) as { metadata: { managedFields: { manager: string; apiVersion: string; fieldsV1: unknown }[] } }).metadata.managedFields;
  assert.deepEqual(
    managed.map((e) => [e.manager, e.apiVersion, e.fieldsV1]),
    [
      ['v2-applier', 'example.com/v2', { 'f:spec': { 'f:size': {} } }],
      ['v1-patcher', 'example.com/v1', { 'f:spec': { 'f:color': {} } }],
    ],
  );
});
