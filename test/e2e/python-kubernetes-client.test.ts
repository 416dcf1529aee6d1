/**
 * End to end with the official Kubernetes Python client (Debian's python3-kubernetes): its typed
 * models refuse an object that lacks a field kube always writes (`Invalid value for
 * `architecture`, must not be `None``), so reading what this server answers through them checks
 * that built-in objects come back in kube's shape. The control plane runs as separate processes
 * on real etcd and Redis; the client reads the admin kubeconfig as a user's script would. The
 * script is test/python/kube_shapes.py.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';

const SCRIPT = fileURLToPath(new URL('../python/kube_shapes.py', import.meta.url));

/**
 * The Python that has the client: Debian's (python3-kubernetes installs for /usr/bin/python3,
 * which another python3 first on PATH may not see), else whichever python3 is on PATH.
 */
function pythonWithClient(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(python, ['-c', 'import kubernetes'], { stdio: 'ignore', timeout: 30_000 });
    if (probe.status === 0) return python;
  }
  return undefined;
}

/** Runs the script; resolves with its output, or rejects with its stderr when it fails. */
function run(python: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`the Python client failed (${signal ?? `exit ${code}`}):\n${stderr}`));
    });
  });
}

const python = pythonWithClient();

describe('the official Python client reads built-in objects', { skip: python === undefined && 'no python3 with the kubernetes package (Debian: apt-get install python3-kubernetes)' }, () => {
  let dir: string;
  let plane: ControlPlane;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'e2e-python-'));
    plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
  });

  after(async () => {
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('Nodes created without nodeInfo and without its architecture, a Namespace and a ConfigMap: list_node, read_namespace and list_namespaced_config_map succeed and show kube’s shapes', async () => {
    const output = await run(python!, [plane.kubeconfig, 'py-shapes'], 120_000);
    const { node, partialNode, namespace, configMaps } = JSON.parse(output) as Record<string, Record<string, Record<string, unknown>>>;
    // What kube writes for a Node whose status says nothing (NodeSystemInfo's fields have no
    // omitempty; daemonEndpoints is a struct value whose Port has none either).
    const nodeInfo = {
      architecture: '',
      bootID: '',
      containerRuntimeVersion: '',
      kernelVersion: '',
      kubeProxyVersion: '',
      kubeletVersion: '',
      machineID: '',
      operatingSystem: '',
      osImage: '',
      systemUUID: '',
    };
    assert.deepEqual(node!.status, { daemonEndpoints: { kubeletEndpoint: { Port: 0 } }, nodeInfo });
    // and for one whose nodeInfo lacks architecture (which the client refuses as None)
    assert.deepEqual(partialNode!.status, { daemonEndpoints: { kubeletEndpoint: { Port: 0 } }, nodeInfo: { ...nodeInfo, kubeletVersion: 'v1.32.0', operatingSystem: 'linux' } });
    assert.deepEqual(node!.spec, {});
    assert.equal(node!.metadata!.name, 'py-shapes');
    assert.deepEqual(namespace!.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(namespace!.status, { phase: 'Active' });
    assert.deepEqual(namespace!.metadata!.labels, { 'kubernetes.io/metadata.name': 'py-shapes' });
    const items = configMaps as unknown as Record<string, Record<string, unknown>>[];
    assert.equal(items.length, 1);
    assert.deepEqual(items[0]!.data, { mode: 'fast' });
    assert.equal(items[0]!.metadata!.namespace, 'py-shapes');
  });
});
