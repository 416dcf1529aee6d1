/**
 * End to end with real kubectl 1.27 and 1.33: namespace deletion as a cluster does it. `kubectl
 * delete ns` of a populated namespace (several kinds) returns once the namespace is gone, its
 * objects are gone, and the namespace created again is empty; a namespace held Terminating by
 * an object with a finalizer shows Terminating and kube's conditions, refuses creates in kube's
 * words, and goes when the finalizer is removed; and a namespace of 1,000 ConfigMaps goes within
 * seconds (the figure is printed).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
// One admission replica, whose namespace cache is the only one: the namespace controller need
// not wait kube's 5 s before it empties a namespace.
const suite = kubectlVersionsPlane('namespaces', VERSIONS, { flags: { gateway: ['--namespace-deletion-grace-period=100ms'] } });

function populated(ns: string): string {
  const items = [
    ...Array.from({ length: 5 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns }, data: { i: String(i) } })),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: ns }, stringData: { a: 'b' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: ns } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
    },
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: ns }, spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } },
  ];
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

async function ok(kubectl: Kubectl, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(args, options);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

type Condition = { type: string; status: string; reason: string; message: string };
const conditionsOf = (ns: Record<string, unknown>): Condition[] => ((ns.status as { conditions?: Condition[] }).conditions ?? []);

describe('kubectl: namespace deletion', { skip: suite.skip }, () => {
  for (const version of VERSIONS) {
    const tag = version.replace('.', '');

    test(`kubectl ${version}: delete ns of a populated namespace returns when it is gone; recreated, it is empty`, async () => {
      const kubectl = suite.kubectl(version);
      const ns = `populated-${tag}`;
      await ok(kubectl, ['create', 'namespace', ns]);
      await ok(kubectl, ['create', '-f', '-'], { input: populated(ns) });
      const before = await ok(kubectl, ['get', 'configmaps,secrets,serviceaccounts,services,deployments,cronjobs', '-n', ns, '-o', 'name']);
      assert.equal(before.trim().split('\n').length, 10, before);
      const started = Date.now();
      const deleted = await ok(kubectl, ['delete', 'namespace', ns], { timeoutMs: 60_000 });
      assert.equal(deleted.trim(), `namespace "${ns}" deleted`);
      const gone = await kubectl(['get', 'namespace', ns]);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, new RegExp(`namespaces "${ns}" not found`));
      assert.ok(Date.now() - started < 30_000);
      await ok(kubectl, ['create', 'namespace', ns]);
      const after = await kubectl(['get', 'configmaps,secrets,serviceaccounts,services,deployments,cronjobs', '-n', ns, '-o', 'name']);
      assert.equal(after.code, 0, after.stderr);
      assert.equal(after.stdout.trim(), '', 'the namespace created again is empty');
      await ok(kubectl, ['delete', 'namespace', ns, '--wait=false']);
    });

    test(`kubectl ${version}: a namespace held by a finalizer is Terminating, refuses creates, and goes once the finalizer is removed`, async () => {
      const kubectl = suite.kubectl(version);
      const ns = `held-${tag}`;
      await ok(kubectl, ['create', 'namespace', ns]);
      await ok(kubectl, ['create', '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: ns, finalizers: ['example.com/hold'] } }),
      });
      await ok(kubectl, ['create', 'configmap', 'free', '-n', ns]);
      const marked = await ok(kubectl, ['delete', 'namespace', ns, '--wait=false']);
      assert.equal(marked.trim(), `namespace "${ns}" deleted`);
      const table = await ok(kubectl, ['get', 'namespace', ns]);
      assert.match(table, new RegExp(`^${ns}\\s+Terminating\\s+`, 'm'));
      const refused = await kubectl(['create', 'configmap', 'late', '-n', ns]);
      assert.notEqual(refused.code, 0);
      assert.equal(refused.stderr.trim(), `error: failed to create configmap: configmaps "late" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`);
      await ok(kubectl, ['wait', '--for=condition=NamespaceFinalizersRemaining', `namespace/${ns}`, '--timeout=30s'], { timeoutMs: 40_000 });
      const waiting = JSON.parse(await ok(kubectl, ['get', 'namespace', ns, '-o', 'json'])) as Record<string, unknown>;
      const byType = Object.fromEntries(conditionsOf(waiting).map((c) => [c.type, c]));
      assert.equal(byType.NamespaceFinalizersRemaining?.message, 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
      assert.equal(byType.NamespaceContentRemaining?.message, 'Some resources are remaining: configmaps. has 1 resource instances');
      assert.equal(byType.NamespaceDeletionDiscoveryFailure?.reason, 'ResourcesDiscovered');
      assert.equal(byType.NamespaceDeletionContentFailure?.status, 'False');
      assert.deepEqual(JSON.parse(await ok(kubectl, ['get', 'namespace', ns, '-o', 'jsonpath={.spec.finalizers}'])), ['kubernetes']);
      assert.equal((await ok(kubectl, ['get', 'configmaps', '-n', ns, '-o', 'name'])).trim(), 'configmap/held');
      if (version === '1.33') {
        const described = await ok(kubectl, ['describe', 'namespace', ns]);
        assert.match(described, /Status:\s+Terminating/);
        assert.match(described, /NamespaceFinalizersRemaining\s+True\s+.*SomeFinalizersRemain\s+Some content in the namespace has finalizers remaining: example.com\/hold in 1 resource instances/);
      }
      await ok(kubectl, ['patch', 'configmap', 'held', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      await ok(kubectl, ['wait', '--for=delete', `namespace/${ns}`, '--timeout=30s'], { timeoutMs: 40_000 });
      const gone = await kubectl(['get', 'namespace', ns]);
      assert.match(gone.stderr, /not found/);
    });
  }

  test('kubectl 1.33: discovery lists namespaces/finalize (update) and namespaces/status; `replace --raw .../finalize` finalizes', async () => {
    const kubectl = suite.kubectl('1.33');
    const list = JSON.parse(await ok(kubectl, ['get', '--raw', '/api/v1'])) as { resources: { name: string; kind: string; verbs: string[] }[] };
    const byName = Object.fromEntries(list.resources.map((r) => [r.name, r]));
    assert.deepEqual(byName['namespaces/finalize']?.verbs, ['update']);
    assert.equal(byName['namespaces/finalize']?.kind, 'Namespace');
    assert.deepEqual(byName['namespaces/status']?.verbs, ['get', 'patch', 'update']);
    assert.ok(!(byName.namespaces?.verbs ?? []).includes('deletecollection'));
    // A namespace finalized by hand through /finalize while Active: the first delete marks it
    // Terminating all the same (kube's namespace storage), the next one removes it.
    await ok(kubectl, ['create', 'namespace', 'by-hand']);
    const ns = JSON.parse(await ok(kubectl, ['get', 'namespace', 'by-hand', '-o', 'json'])) as Record<string, unknown>;
    const finalized = JSON.parse(await ok(kubectl, ['replace', '--raw', '/api/v1/namespaces/by-hand/finalize', '-f', '-'], { input: JSON.stringify({ ...ns, spec: { finalizers: [] } }) })) as Record<string, unknown>;
    assert.deepEqual(finalized.spec, {});
    assert.equal((finalized.status as Record<string, unknown>).phase, 'Active');
    await ok(kubectl, ['delete', 'namespace', 'by-hand', '--wait=false']);
    assert.match(await ok(kubectl, ['get', 'namespace', 'by-hand']), /^by-hand\s+Terminating\s+/m);
    await ok(kubectl, ['delete', 'namespace', 'by-hand', '--wait=false']);
    const gone = await kubectl(['get', 'namespace', 'by-hand']);
    assert.match(gone.stderr, /namespaces "by-hand" not found/);
  });

  test('kubectl 1.33: delete ns of a namespace with 1,000 ConfigMaps completes within seconds', async () => {
    const kubectl = suite.kubectl('1.33');
    const ns = 'thousand';
    await ok(kubectl, ['create', 'namespace', ns]);
    const items = Array.from({ length: 1000 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns }, data: { i: String(i) } }));
    await ok(kubectl, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), timeoutMs: 240_000 });
    assert.equal((await ok(kubectl, ['get', 'configmaps', '-n', ns, '-o', 'name'])).trim().split('\n').length, 1000);
    const started = Date.now();
    await ok(kubectl, ['delete', 'namespace', ns], { timeoutMs: 120_000 });
    const seconds = (Date.now() - started) / 1000;
    console.log(`kubectl delete namespace of 1,000 ConfigMaps: ${seconds.toFixed(1)} s`);
    assert.ok(seconds < 30, `took ${seconds} s`);
    assert.equal((await ok(kubectl, ['get', 'configmaps', '-n', ns, '-o', 'name'])).trim(), '');
  });
});
