/**
 * End to end with `@kubernetes/client-node` 2.0.1 against the whole control plane: PATCH as a
 * program sends it. The generated APIs (`patchNamespaced*`) send JSON patch
 * (`application/json-patch+json`, the first media type they list) unless a middleware sets
 * another Content-Type: `setHeaderOptions('Content-Type', PatchStrategy.MergePatch)` (or
 * StrategicMergePatch) as the call's options, as the client's own docs show.
 * `KubernetesObjectApi.patch` takes the patch type as an argument. Each patch is checked on
 * the object read back.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';

const NS = 'default';

describe('@kubernetes/client-node patches', () => {
  let dir: string;
  let plane: ControlPlane;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let objects: KubernetesObjectApi;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'e2e-client-node-patch-'));
    plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    objects = KubernetesObjectApi.makeApiClient(kc);
  });
  after(async () => {
    await plane?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('merge patch and JSON patch of a ConfigMap (merge: null deletes; JSON patch: the default type)', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'merged' }, data: { a: '1', b: '2' } } });
    const merged = await core.patchNamespacedConfigMap(
      { name: 'merged', namespace: NS, body: { data: { a: null, c: '3' }, metadata: { labels: { via: 'merge' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.data, { b: '2', c: '3' });
    const json = await core.patchNamespacedConfigMap({ name: 'merged', namespace: NS, body: [{ op: 'replace', path: '/data/b', value: 'two' }] });
    assert.deepEqual(json.data, { b: 'two', c: '3' });
    const read = await core.readNamespacedConfigMap({ name: 'merged', namespace: NS });
    assert.deepEqual(read.data, { b: 'two', c: '3' });
    assert.deepEqual(read.metadata?.labels, { via: 'merge' });
    assert.equal(read.metadata?.resourceVersion, json.metadata?.resourceVersion);
  });

  test('strategic merge patch of a Deployment: containers merge by name; a merge patch replaces the list', async () => {
    const deployment: V1Deployment = {
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }, { name: 'sidecar', image: 'busybox:1.36' }] },
        },
      },
    };
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment });
    const strategic = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.37' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(strategic.spec?.template.spec?.containers.map((c) => [c.name, c.image]), [['app', 'nginx:1.25'], ['sidecar', 'busybox:1.37']]);
    assert.equal(strategic.metadata?.generation, 2);

    // dryRun=All: answered patched, nothing stored.
    const dry = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: NS, dryRun: 'All', body: { spec: { replicas: 4 } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(dry.spec?.replicas, 4);
    assert.equal(dry.metadata?.generation, 3);
    assert.equal((await apps.readNamespacedDeployment({ name: 'web', namespace: NS })).spec?.replicas, 1);

    const replaced = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'only', image: 'nginx:1.26' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(replaced.spec?.template.spec?.containers.map((c) => c.name), ['only']);
    // Defaults are filled in the list the merge patch put there.
    assert.equal(replaced.spec?.template.spec?.containers[0]?.terminationMessagePath, '/dev/termination-log');
  });

  test('KubernetesObjectApi.patch with the patch type as an argument', async () => {
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'svc' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } } });
    const patched = await objects.patch(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: NS }, spec: { ports: [{ name: 'https', port: 443 }] } },
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.StrategicMergePatch,
    );
    // Ports merge by port: the new one joins the old, first, as kube orders a patch's items
    // that the live list does not have (no $setElementOrder given).
    assert.deepEqual((patched as { spec: { ports: { port: number }[] } }).spec.ports.map((p) => p.port), [443, 80]);
    const merged = await objects.patch({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: NS, labels: { a: 'b' } } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    assert.deepEqual(merged.metadata?.labels, { a: 'b' });
    const read = await core.readNamespacedService({ name: 'svc', namespace: NS });
    assert.deepEqual(read.spec?.ports?.map((p) => [p.port, p.protocol, p.targetPort]), [[443, 'TCP', 443], [80, 'TCP', 80]]);
    assert.deepEqual(read.metadata?.labels, { a: 'b' });
  });
});
