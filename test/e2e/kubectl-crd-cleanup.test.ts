/**
 * End to end with real kubectl 1.27 and 1.33: deleting a CustomResourceDefinition takes its
 * custom resources with it, as a cluster does. `kubectl delete crd` of a definition with objects
 * in two namespaces returns once the definition is gone, and the definition created again has
 * none of them; a definition held by an object with a finalizer shows the Terminating
 * condition, refuses creates of its objects in kube's words while still serving reads and
 * updates, and goes once the finalizer is removed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('crd-cleanup', VERSIONS);

async function ok(kubectl: Kubectl, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(args, options);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function definition(plural: string, kind: string): string {
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.e2e.example.com` },
    spec: {
      group: 'e2e.example.com',
      scope: 'Namespaced',
      names: { plural, singular: plural.slice(0, -1), kind, listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }],
    },
  });
}

function objects(kind: string, items: { name: string; namespace: string; finalizers?: string[] }[]): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: items.map(({ name, namespace, finalizers }) => ({ apiVersion: 'e2e.example.com/v1', kind, metadata: { name, namespace, ...(finalizers ? { finalizers } : {}) }, spec: { size: 1 } })),
  });
}

/** Applies the definition and waits until its kind is served. */
async function define(kubectl: Kubectl, plural: string, kind: string): Promise<void> {
  await ok(kubectl, ['apply', '-f', '-'], { input: definition(plural, kind) });
  await ok(kubectl, ['wait', '--for=condition=established', `crd/${plural}.e2e.example.com`, '--timeout=30s'], { timeoutMs: 40_000 });
}

type Condition = { type: string; status: string; reason: string; message: string };

describe('kubectl: CustomResourceDefinition cleanup', { skip: suite.skip }, () => {
  for (const version of VERSIONS) {
    const tag = version.replace('.', '');

    test(`kubectl ${version}: delete crd returns once its objects and itself are gone; defined again, it has no objects`, async () => {
      const kubectl = suite.kubectl(version);
      const plural = `gizmos${tag}`;
      const kind = `Gizmo${tag}`;
      const crd = `${plural}.e2e.example.com`;
      for (const ns of [`ga-${tag}`, `gb-${tag}`]) await ok(kubectl, ['create', 'namespace', ns]);
      await define(kubectl, plural, kind);
      await ok(kubectl, ['create', '-f', '-'], {
        input: objects(kind, [
          { name: 'one', namespace: `ga-${tag}` },
          { name: 'two', namespace: `ga-${tag}` },
          { name: 'three', namespace: `gb-${tag}` },
        ]),
      });
      assert.equal((await ok(kubectl, ['get', plural, '-A', '-o', 'name'])).trim().split('\n').length, 3);
      const deleted = await ok(kubectl, ['delete', 'crd', crd], { timeoutMs: 60_000 });
      assert.equal(deleted.trim(), `customresourcedefinition.apiextensions.k8s.io "${crd}" deleted`);
      const gone = await kubectl(['get', 'crd', crd]);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, new RegExp(`customresourcedefinitions.apiextensions.k8s.io "${crd}" not found`));
      await define(kubectl, plural, kind);
      const again = await ok(kubectl, ['get', plural, '-A', '-o', 'name']);
      assert.equal(again.trim(), '', 'the definition created again has none of the old objects');
      await ok(kubectl, ['delete', 'crd', crd], { timeoutMs: 60_000 });
    });
  }

  test('kubectl 1.33: a definition held by an object with a finalizer is Terminating, refuses creates, serves updates, and goes once the finalizer is removed', async () => {
    const kubectl = suite.kubectl('1.33');
    const plural = 'heldgizmos';
    const kind = 'HeldGizmo';
    const crd = `${plural}.e2e.example.com`;
    const ns = 'held-gizmos';
    await ok(kubectl, ['create', 'namespace', ns]);
    await define(kubectl, plural, kind);
    await ok(kubectl, ['create', '-f', '-'], { input: objects(kind, [{ name: 'held', namespace: ns, finalizers: ['e2e.example.com/hold'] }, { name: 'free', namespace: ns }]) });
    const marked = await ok(kubectl, ['delete', 'crd', crd, '--wait=false']);
    assert.equal(marked.trim(), `customresourcedefinition.apiextensions.k8s.io "${crd}" deleted`);
    const refused = await kubectl(['create', '-f', '-'], { input: objects(kind, [{ name: 'late', namespace: ns }]) });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, new RegExp(`${crd} "late" is forbidden: create not allowed while custom resource definition is terminating`));
    // The free object goes; the held one stays, marked, while the definition waits for it.
    await ok(kubectl, ['wait', '--for=delete', `${plural}/free`, '-n', ns, '--timeout=30s'], { timeoutMs: 40_000 });
    const held = JSON.parse(await ok(kubectl, ['get', plural, 'held', '-n', ns, '-o', 'json'])) as { metadata: { deletionTimestamp?: string } };
    assert.equal(typeof held.metadata.deletionTimestamp, 'string');
    await ok(kubectl, ['label', plural, 'held', '-n', ns, 'touched=yes']);
    const definitionNow = JSON.parse(await ok(kubectl, ['get', 'crd', crd, '-o', 'json'])) as { metadata: { finalizers?: string[] }; status: { conditions: Condition[] } };
    assert.deepEqual(definitionNow.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
    const terminating = definitionNow.status.conditions.find((c) => c.type === 'Terminating');
    assert.equal(terminating?.status, 'True');
    assert.equal(terminating?.reason, 'InstanceDeletionInProgress');
    assert.equal(terminating?.message, 'CustomResource deletion is in progress');
    await ok(kubectl, ['patch', plural, 'held', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await ok(kubectl, ['wait', '--for=delete', `crd/${crd}`, '--timeout=60s'], { timeoutMs: 70_000 });
    const gone = await kubectl(['get', 'crd', crd]);
    assert.match(gone.stderr, /not found/);
  });
});
