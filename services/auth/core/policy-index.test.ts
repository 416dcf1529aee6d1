/**
 * The policy index against a control plane in one process (the pipeline, its storage and the
 * watch service): what is written through the pipeline reaches the index's decisions and its
 * ServiceAccount lookup through the watch, in bounded time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { watchedPipeline, type WatchedPipeline } from '../../../test/support/watched-pipeline.ts';
import type { Attributes, UserInfo } from '../api.ts';
import { startPolicyIndex, type PolicyIndex } from './policy-index.ts';

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
