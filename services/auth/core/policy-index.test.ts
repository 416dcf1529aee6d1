/**
 * The policy index against a control plane in one process (the pipeline, its storage and the
 * watch service): what is written through the pipeline reaches the index's decisions and its
 * lookups of ServiceAccounts, Pods, Secrets and Nodes through the watch, in bounded time.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, test } from 'node:test';
import { watchedPipeline, type WatchedPipeline } from '../../../test/support/watched-pipeline.ts';
import type { Attributes, UserInfo } from '../api.ts';
import { LiveObjectTable, startPolicyIndex, type PolicyIndex } from './policy-index.ts';

const admin: UserInfo = { username: 'admin', uid: '', groups: ['system:masters', 'system:authenticated'] };
const alice: UserInfo = { username: 'alice', uid: '', groups: ['system:authenticated'] };
const RBAC = 'rbac.authorization.k8s.io';

function attrs(user: UserInfo, verb: string, resource: string, namespace: string, name = ''): Attributes {
  return { user, verb, resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace, name, path: '' };
}

/** Resolves once `condition()` holds; rejects after `ms`. */
async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - start;
}

let plane: WatchedPipeline;
let index: PolicyIndex;
let existingUid: string;

before(async () => {
  plane = await watchedPipeline();
  // One ServiceAccount before the index starts: it comes with the initial list.
  const sa = await plane.pipeline.create(admin, plane.target('', 'v1', 'serviceaccounts', 'default'), { metadata: { name: 'early' } });
  existingUid = String((sa.metadata as Record<string, unknown>).uid);
  index = startPolicyIndex({ watcher: plane.watcher, logger: plane.logger });
  assert.equal(await index.readyWithin(20_000), true);
});

after(async () => {
  await index.stop();
  await plane.close();
});

test('synced with the initial list: ServiceAccounts already there are known', () => {
  assert.equal(index.synced(), true);
  assert.equal(index.serviceAccounts.uidOf('default', 'early'), existingUid);
  assert.equal(index.serviceAccounts.uidOf('default', 'nobody'), undefined);
});

test('system:masters is allowed; others have no opinion without bindings', async () => {
  assert.deepEqual(await index.authorizer.authorize(attrs(admin, 'delete', 'secrets', 'default')), { decision: 'Allow', reason: '' });
  assert.deepEqual(await index.authorizer.authorize(attrs(alice, 'get', 'configmaps', 'default')), { decision: 'NoOpinion', reason: '' });
});

test('a Role and RoleBinding created through the pipeline allow within a second; deleting the binding stops it', async () => {
  const ns = 'default';
  await plane.pipeline.create(admin, plane.target(RBAC, 'v1', 'roles', ns), {
    apiVersion: `${RBAC}/v1`,
    kind: 'Role',
    metadata: { name: 'cm-reader' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
  });
  await plane.pipeline.create(admin, plane.target(RBAC, 'v1', 'rolebindings', ns), {
    apiVersion: `${RBAC}/v1`,
    kind: 'RoleBinding',
    metadata: { name: 'alice-reads' },
    roleRef: { apiGroup: RBAC, kind: 'Role', name: 'cm-reader' },
    subjects: [{ apiGroup: RBAC, kind: 'User', name: 'alice' }],
  });
  const took = await until(async () => (await index.authorizer.authorize(attrs(alice, 'get', 'configmaps', ns))).decision === 'Allow', 1_000, 'the binding allows');
  assert.ok(took < 1_000);
  assert.deepEqual(await index.authorizer.authorize(attrs(alice, 'list', 'configmaps', ns)), {
    decision: 'Allow',
    reason: 'RBAC: allowed by RoleBinding "alice-reads/default" of Role "cm-reader" to User "alice"',
  });
  assert.equal((await index.authorizer.authorize(attrs(alice, 'delete', 'configmaps', ns))).decision, 'NoOpinion');
  const rules = await index.authorizer.rulesFor(alice, ns);
  assert.deepEqual(rules, { rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'], resourceNames: [], nonResourceURLs: [] }], errors: [] });

  await plane.pipeline.delete(admin, plane.target(RBAC, 'v1', 'roles', ns, 'cm-reader'));
  await until(async () => (await index.authorizer.authorize(attrs(alice, 'get', 'configmaps', ns))).decision === 'NoOpinion', 1_000, 'the role is gone');
  assert.deepEqual(await index.authorizer.authorize(attrs(alice, 'get', 'configmaps', ns)), { decision: 'NoOpinion', reason: 'RBAC: role.rbac.authorization.k8s.io "cm-reader" not found' });
  await plane.pipeline.delete(admin, plane.target(RBAC, 'v1', 'rolebindings', ns, 'alice-reads'));
  await until(async () => (await index.authorizer.authorize(attrs(alice, 'get', 'configmaps', ns))).reason === '', 1_000, 'the binding is gone');
});

test('ServiceAccounts come and go with their uids', async () => {
  const sa = await plane.pipeline.create(admin, plane.target('', 'v1', 'serviceaccounts', 'default'), { metadata: { name: 'builder' } });
  const uid = String((sa.metadata as Record<string, unknown>).uid);
  await until(() => index.serviceAccounts.uidOf('default', 'builder') === uid, 1_000, 'the account is known');
  await plane.pipeline.delete(admin, plane.target('', 'v1', 'serviceaccounts', 'default', 'builder'));
  await until(() => index.serviceAccounts.uidOf('default', 'builder') === undefined, 1_000, 'the account is gone');
});

test('Pods, Secrets and Nodes are known by uid and deletion time, and forgotten when deleted', async () => {
  const uidOf = (o: Record<string, unknown>) => String((o.metadata as Record<string, unknown>).uid);
  const pods = (name = '') => plane.target('', 'v1', 'pods', 'default', name);
  const pod = await plane.pipeline.create(admin, pods(), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runner' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx' }] } });
  const secret = await plane.pipeline.create(admin, plane.target('', 'v1', 'secrets', 'default'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bound' } });
  const node = await plane.pipeline.create(admin, plane.target('', 'v1', 'nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
  await until(() => index.objects.bound('Pod', 'default', 'runner')?.uid === uidOf(pod), 1_000, 'the pod is known');
  await until(() => index.objects.bound('Secret', 'default', 'bound')?.uid === uidOf(secret), 1_000, 'the secret is known');
  // Nodes are cluster-scoped: whatever namespace a token names, the node is found by name.
  await until(() => index.objects.bound('Node', 'default', 'node-1')?.uid === uidOf(node), 1_000, 'the node is known');
  assert.deepEqual(index.objects.bound('Pod', 'default', 'runner'), { uid: uidOf(pod) });
  assert.equal(index.objects.bound('Pod', 'other', 'runner'), undefined);
  assert.equal(index.objects.bound('Secret', 'default', 'runner'), undefined);

  // A scheduled pod's graceful delete marks it: its deletion time is known.
  const before = Date.now();
  await plane.pipeline.delete(admin, pods('runner'), { gracePeriodSeconds: 30 });
  await until(() => index.objects.bound('Pod', 'default', 'runner')?.deletionTimestamp !== undefined, 1_000, 'the deletion time is known');
  const marked = index.objects.bound('Pod', 'default', 'runner')?.deletionTimestamp ?? 0;
  assert.ok(marked >= Math.floor(before / 1000) * 1000 + 30_000 && marked <= Date.now() + 31_000, `deletionTimestamp ${marked}`);
  await plane.pipeline.delete(admin, pods('runner'), { gracePeriodSeconds: 0 });
  await plane.pipeline.delete(admin, plane.target('', 'v1', 'secrets', 'default', 'bound'));
  await plane.pipeline.delete(admin, plane.target('', 'v1', 'nodes', '', 'node-1'));
  await until(() => index.objects.bound('Pod', 'default', 'runner') === undefined, 1_000, 'the pod is gone');
  await until(() => index.objects.bound('Secret', 'default', 'bound') === undefined, 1_000, 'the secret is gone');
  await until(() => index.objects.bound('Node', '', 'node-1') === undefined, 1_000, 'the node is gone');
});

test('memory: a pod costs its uid and name in the table, however big its object', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const table = new LiveObjectTable();
  const pods = 50_000;
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < pods; i++) {
    // As a watch delivers it: a whole object parsed from JSON, of which only uid and name stay.
    const object = JSON.parse(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `web-7d9f8c6b5-${i.toString(36).padStart(5, '0')}`,
          namespace: `team-${i % 50}`,
          uid: `6d1b2f1c-${String(i % 10_000).padStart(4, '0')}-4000-8000-${String(i).padStart(12, '0')}`,
          resourceVersion: String(1000 + i),
          labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5' },
        },
        spec: { nodeName: 'node-1', serviceAccountName: 'default', containers: [{ name: 'c', image: 'nginx', args: ['x'.repeat(2_000)] }] },
      }),
    ) as Record<string, unknown>;
    table.apply('ADDED', object);
  }
  gc();
  const perPod = (process.memoryUsage().heapUsed - before) / table.size;
  assert.equal(table.size, pods);
  // Measured about 130 bytes per pod (Node 24, x64); the objects themselves were over 2 KB each.
  assert.ok(perPod < 300, `${Math.round(perPod)} bytes per pod`);
  process.stdout.write(`# token object table: ${Math.round(perPod)} bytes per pod (${table.size} pods)\n`);
});
