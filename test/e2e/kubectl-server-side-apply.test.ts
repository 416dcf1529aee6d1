/**
 * End to end with real kubectl 1.27 and 1.33: server-side apply and managed fields.
 * `apply --server-side` by two managers (`--field-manager`), the second conflicting on a field
 * the first owns (kubectl's exit code and message), `--force-conflicts` taking it, a field
 * removed when its last applier drops it, `get --show-managed-fields` showing both managers,
 * `--dry-run=server` storing nothing; the managers kubectl's other writes record
 * (`kubectl-client-side-apply`, `kubectl-edit`); the move from client-side to server-side apply
 * and back (kubectl's last-applied annotation: no conflict for what it last applied, kept up to
 * date by the server); and `@kubernetes/client-node`'s server-side apply. Each step checks the
 * object the server then holds.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('server-side-apply', VERSIONS);

interface Entry {
  manager: string;
  operation: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}
interface Object {
  metadata: { name: string; managedFields?: Entry[]; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

function configMap(name: string, data: Record<string, string>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
}

for (const version of VERSIONS) {
  describe(`kubectl ${version} server-side apply`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    let editorDir: string;
    const suffix = version.replace('.', '-');
    const get = async (name: string, showManaged = true): Promise<Object> => {
      const r = await kubectl(['get', 'configmap', name, '-o', 'json', ...(showManaged ? ['--show-managed-fields'] : [])]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Object;
    };
    const managers = (o: Object): string[] => (o.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}`).sort();
    const fieldsOf = (o: Object, manager: string): Record<string, unknown> | undefined => o.metadata.managedFields?.find((e) => e.manager === manager)?.fieldsV1;

    before(async () => {
      // kubectl edit runs $KUBE_EDITOR on the file (through a shell when it has spaces).
      editorDir = await mkdtemp(join(tmpdir(), 'ssa-editor-'));
      const editor = join(editorDir, 'edit.sh');
      await writeFile(editor, '#!/bin/sh\nsed -i \'s/edit-me/edited/\' "$1"\n');
      await chmod(editor, 0o755);
      process.env.KUBE_EDITOR = editor;
      kubectl = suite.kubectl(version);
    });
    after(async () => {
      if (editorDir !== undefined) await rm(editorDir, { recursive: true, force: true });
    });

    test('two managers, a conflict, --force-conflicts, a field dropped by its last applier, --show-managed-fields', async () => {
      const name = `ssa-${suffix}`;
      const first = await kubectl(['apply', '--server-side', '--field-manager=one', '-f', '-'], { input: configMap(name, { a: '1', b: '2', c: '3' }) });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), `configmap/${name} serverside-applied`);
      let object = await get(name);
      assert.deepEqual(object.data, { a: '1', b: '2', c: '3' });
      assert.deepEqual(managers(object), ['one/Apply']);
      assert.deepEqual(fieldsOf(object, 'one'), { 'f:data': { 'f:a': {}, 'f:b': {}, 'f:c': {} } });
      // Without --show-managed-fields kubectl leaves them out.
      assert.equal((await get(name, false)).metadata.managedFields, undefined);

      // A second manager setting a field the first owns to another value: kubectl fails with the server's conflict.
      const conflict = await kubectl(['apply', '--server-side', '--field-manager=two', '-f', '-'], { input: configMap(name, { b: 'two', d: '4' }) });
      assert.equal(conflict.code, 1, conflict.stdout);
      assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "one": \.data\.b/);
      assert.match(conflict.stderr, /--force-conflicts/);
      object = await get(name);
      assert.deepEqual(object.data, { a: '1', b: '2', c: '3' }, 'the conflict changed nothing');
      assert.deepEqual(managers(object), ['one/Apply']);

      const forced = await kubectl(['apply', '--server-side', '--field-manager=two', '--force-conflicts', '-f', '-'], { input: configMap(name, { b: 'two', d: '4' }) });
      assert.equal(forced.code, 0, forced.stderr);
      object = await get(name);
      assert.deepEqual(object.data, { a: '1', b: 'two', c: '3', d: '4' });
      assert.deepEqual(managers(object), ['one/Apply', 'two/Apply']);
      assert.deepEqual(fieldsOf(object, 'one'), { 'f:data': { 'f:a': {}, 'f:c': {} } }, 'one lost b');
      assert.deepEqual(fieldsOf(object, 'two'), { 'f:data': { 'f:b': {}, 'f:d': {} } });

      // one drops c (nobody else owns it: removed) and b (now two's: it stays).
      const dropped = await kubectl(['apply', '--server-side', '--field-manager=one', '-f', '-'], { input: configMap(name, { a: '1' }) });
      assert.equal(dropped.code, 0, dropped.stderr);
      object = await get(name);
      assert.deepEqual(object.data, { a: '1', b: 'two', d: '4' });
      assert.deepEqual(fieldsOf(object, 'one'), { 'f:data': { 'f:a': {} } });
    });

    test('--dry-run=server applies nothing: neither a create nor a change', async () => {
      const name = `ssa-dry-${suffix}`;
      const dryCreate = await kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: configMap(name, { a: '1' }) });
      assert.equal(dryCreate.code, 0, dryCreate.stderr);
      assert.equal(dryCreate.stdout.trim(), `configmap/${name} serverside-applied (server dry run)`);
      const missing = await kubectl(['get', 'configmap', name]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /NotFound|not found/);

      assert.equal((await kubectl(['apply', '--server-side', '-f', '-'], { input: configMap(name, { a: '1' }) })).code, 0);
      const before = await get(name);
      const dryChange = await kubectl(['apply', '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'], { input: configMap(name, { a: '2' }) });
      assert.equal(dryChange.code, 0, dryChange.stderr);
      assert.deepEqual((JSON.parse(dryChange.stdout) as Object).data, { a: '2' }, 'the dry run answers the applied object');
      const after = await get(name);
      assert.deepEqual(after.data, { a: '1' });
      assert.deepEqual(after.metadata, before.metadata);
      // kubectl's own default manager for --server-side.
      assert.deepEqual(managers(after), ['kubectl/Apply']);
    });

    test('client-side apply records kubectl-client-side-apply and edit records kubectl-edit (operation Update)', async () => {
      const name = `csa-${suffix}`;
      const created = await kubectl(['apply', '-f', '-'], { input: configMap(name, { a: 'edit-me' }) });
      assert.equal(created.code, 0, created.stderr);
      let object = await get(name);
      assert.deepEqual(managers(object), ['kubectl-client-side-apply/Update']);
      const applied = fieldsOf(object, 'kubectl-client-side-apply') as Record<string, Record<string, unknown>>;
      assert.ok('f:a' in (applied['f:data'] ?? {}));
      assert.ok('f:annotations' in (applied['f:metadata'] ?? {}), 'the last-applied annotation is the applier\'s too');

      const edited = await kubectl(['edit', 'configmap', name]);
      assert.equal(edited.code, 0, edited.stderr);
      assert.equal(edited.stdout.trim(), `configmap/${name} edited`);
      object = await get(name);
      assert.deepEqual(object.data, { a: 'edited' });
      assert.deepEqual(managers(object), ['kubectl-client-side-apply/Update', 'kubectl-edit/Update']);
      const byEdit = fieldsOf(object, 'kubectl-edit') as Record<string, Record<string, unknown>>;
      assert.deepEqual(byEdit['f:data'], { 'f:a': {} }, 'edit changed data.a (and the last-applied annotation kubectl keeps up to date)');
    });

    test('client-side apply, then --server-side (no conflict, the annotation follows), then client-side again, then another manager', async () => {
      const name = `la-${suffix}`;
      const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
      const created = await kubectl(['apply', '-f', '-'], { input: configMap(name, { a: '1', b: '2', c: '3' }) });
      assert.equal(created.code, 0, created.stderr);
      let object = await get(name);
      assert.deepEqual(managers(object), ['kubectl-client-side-apply/Update']);
      // kubectl's own encoding of its annotation (Go's json.Encoder: sorted keys, a newline at the end)
      const clientSide = (data: string): string => `{"apiVersion":"v1","data":${data},"kind":"ConfigMap","metadata":{"annotations":{},"name":"${name}","namespace":"default"}}\n`;
      assert.equal(object.metadata.annotations?.[LAST_APPLIED], clientSide('{"a":"1","b":"2","c":"3"}'));

      // kubectl's own manager takes over what it applied client-side: no conflict on a, which the
      // client-side applier owns and the last-applied configuration still holds.
      const ssa = await kubectl(['apply', '--server-side', '-f', '-'], { input: configMap(name, { a: '10', b: '2', c: '3', d: '4' }) });
      assert.equal(ssa.code, 0, ssa.stderr);
      assert.equal(ssa.stdout.trim(), `configmap/${name} serverside-applied`);
      object = await get(name);
      assert.deepEqual(object.data, { a: '10', b: '2', c: '3', d: '4' });
      // the configuration as sent (kubectl adds the namespace), as kube encodes it
      const expected = `{"apiVersion":"v1","data":{"a":"10","b":"2","c":"3","d":"4"},"kind":"ConfigMap","metadata":{"name":"${name}","namespace":"default"}}\n`;
      assert.equal(object.metadata.annotations?.[LAST_APPLIED], expected);
      // kubectl then moved the client-side applier's fields to its own manager and kept the annotation under kubectl-last-applied
      assert.deepEqual(managers(object), ['kubectl-last-applied/Apply', 'kubectl/Apply']);
      assert.deepEqual(fieldsOf(object, 'kubectl'), { 'f:data': { 'f:a': {}, 'f:b': {}, 'f:c': {}, 'f:d': {} } });
      const view = await kubectl(['apply', 'view-last-applied', `configmap/${name}`, '-o', 'json']);
      assert.equal(view.code, 0, view.stderr);
      assert.deepEqual(JSON.parse(view.stdout), JSON.parse(expected));

      // Client-side again without d: its three-way patch reads d from the annotation, so d goes.
      const csa = await kubectl(['apply', '-f', '-'], { input: configMap(name, { a: '10', b: '2', c: '3' }) });
      assert.equal(csa.code, 0, csa.stderr);
      assert.equal(csa.stdout.trim(), `configmap/${name} configured`);
      object = await get(name);
      assert.deepEqual(object.data, { a: '10', b: '2', c: '3' });
      assert.equal(object.metadata.annotations?.[LAST_APPLIED], clientSide('{"a":"10","b":"2","c":"3"}'));
      assert.deepEqual(managers(object), ['kubectl-client-side-apply/Update', 'kubectl/Apply']);

      // Any other manager still conflicts on what kubectl applied.
      const other = await kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: configMap(name, { b: 'other' }) });
      assert.equal(other.code, 1, other.stdout);
      assert.match(other.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.b/);
      object = await get(name);
      assert.deepEqual(object.data, { a: '10', b: '2', c: '3' }, 'the conflict changed nothing');
    });

    test('a Deployment applied client-side, then --server-side with a new image and replicas: no conflict', async () => {
      const name = `la-deploy-${suffix}`;
      const deployment = (image: string, replicas: number): string =>
        JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, labels: { app: name } },
          spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } } },
        });
      const created = await kubectl(['apply', '-f', '-'], { input: deployment('nginx:1.25', 1) });
      assert.equal(created.code, 0, created.stderr);
      const ssa = await kubectl(['apply', '--server-side', '-f', '-'], { input: deployment('nginx:1.27', 2) });
      assert.equal(ssa.code, 0, ssa.stderr);
      const r = await kubectl(['get', 'deployment', name, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const object = JSON.parse(r.stdout) as { metadata: { annotations?: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
      assert.equal(object.spec.replicas, 2);
      assert.equal(object.spec.template.spec.containers[0]?.image, 'nginx:1.27');
      assert.deepEqual(JSON.parse(object.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? '{}'), {
        ...(JSON.parse(deployment('nginx:1.27', 2)) as object),
        metadata: { name, namespace: 'default', labels: { app: name } },
      });
    });
  });
}

describe('@kubernetes/client-node server-side apply', { skip: suite.skip }, () => {
  test('applies with a field manager, conflicts with another, forces, and reads both managers back', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(suite.kubeconfig());
    const client = KubernetesObjectApi.makeApiClient(kc);
    const spec = (data: Record<string, string>): KubernetesObject & { data: Record<string, string> } => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'client-node-ssa', namespace: 'default' },
      data,
    });
    const created = (await client.patch(spec({ a: '1', b: '1' }), undefined, undefined, 'node-one', undefined, PatchStrategy.ServerSideApply)) as KubernetesObject & { data?: Record<string, string> };
    assert.deepEqual(created.data, { a: '1', b: '1' });
    assert.deepEqual(created.metadata?.managedFields?.map((e) => [e.manager, e.operation]), [['node-one', 'Apply']]);

    await assert.rejects(client.patch(spec({ a: '2' }), undefined, undefined, 'node-two', undefined, PatchStrategy.ServerSideApply), (err: unknown) => {
      const e = err as { code?: number; body?: string };
      assert.equal(e.code, 409);
      assert.match(String(e.body), /Apply failed with 1 conflict: conflict with \\"node-one\\": \.data\.a/);
      return true;
    });
    const forced = (await client.patch(spec({ a: '2' }), undefined, undefined, 'node-two', true, PatchStrategy.ServerSideApply)) as KubernetesObject & { data?: Record<string, string> };
    assert.deepEqual(forced.data, { a: '2', b: '1' });
    const read = (await client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'client-node-ssa', namespace: 'default' } })) as KubernetesObject & { data?: Record<string, string> };
    assert.deepEqual(read.data, { a: '2', b: '1' });
    assert.deepEqual(read.metadata?.managedFields?.map((e) => e.manager).sort(), ['node-one', 'node-two']);
  });
});
