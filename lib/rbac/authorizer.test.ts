/** The RBAC authorizer and rule resolver over an index: subjects, bindings, reasons and errors as kube words them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RbacAuthorizer, subjectMatches } from './authorizer.ts';
import { RbacIndex } from './rbac-index.ts';
import type { RequestAttributes } from './rules.ts';

const G = 'rbac.authorization.k8s.io';

function role(kind: 'Role' | 'ClusterRole', name: string, namespace: string | undefined, rules: unknown[]): Record<string, unknown> {
  return { apiVersion: `${G}/v1`, kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, rules };
}

function binding(name: string, namespace: string | undefined, roleKind: string, roleName: string, subjects: unknown[]): Record<string, unknown> {
  return { metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, roleRef: { apiGroup: G, kind: roleKind, name: roleName }, subjects };
}

const user = (username: string, ...groups: string[]) => ({ username, groups });

function req(u: { username: string; groups: string[] }, verb: string, resource: string, namespace: string, extra: Partial<RequestAttributes> = {}): RequestAttributes {
  return { user: u, verb, resourceRequest: true, apiGroup: '', resource, subresource: '', namespace, name: '', path: '', ...extra };
}

function fixture(): { index: RbacIndex; authz: RbacAuthorizer } {
  const index = new RbacIndex();
  index.replace('clusterroles', [
    role('ClusterRole', 'view', undefined, [{ apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list', 'watch'] }]),
    role('ClusterRole', 'health', undefined, [{ nonResourceURLs: ['/healthz', '/healthz/*'], verbs: ['get'] }]),
  ]);
  index.replace('roles', [role('Role', 'edit-cm', 'team', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'update'] }])]);
  index.replace('clusterrolebindings', [
    binding('viewers', undefined, 'ClusterRole', 'view', [{ kind: 'Group', apiGroup: G, name: 'viewers' }]),
    binding('health', undefined, 'ClusterRole', 'health', [{ kind: 'Group', apiGroup: G, name: 'system:authenticated' }]),
    binding('dangling', undefined, 'ClusterRole', 'gone', [{ kind: 'User', apiGroup: G, name: 'carol' }]),
    binding('robot', undefined, 'ClusterRole', 'view', [{ kind: 'ServiceAccount', name: 'bot', namespace: 'ci' }]),
  ]);
  index.replace('rolebindings', [
    binding('editors', 'team', 'Role', 'edit-cm', [{ kind: 'User', apiGroup: G, name: 'alice' }, { kind: 'ServiceAccount', name: 'builder' }]),
    binding('viewers-here', 'team', 'ClusterRole', 'view', [{ kind: 'User', apiGroup: G, name: 'dave' }]),
    binding('missing-role', 'team', 'Role', 'nope', [{ kind: 'User', apiGroup: G, name: 'carol' }]),
    binding('odd-kind', 'team', 'Thing', 'x', [{ kind: 'User', apiGroup: G, name: 'carol' }]),
  ]);
  return { index, authz: new RbacAuthorizer(index) };
}

test('subjectMatches: users, groups, service accounts (namespace defaulting to the binding\'s)', () => {
  const sa = user('system:serviceaccount:team:builder', 'system:serviceaccounts');
  const cases: [string, { username: string; groups: string[] }, { kind: string; name: string; namespace?: string }, string, boolean][] = [
    ['user by name', user('alice'), { kind: 'User', name: 'alice' }, '', true],
    ['user other', user('alice'), { kind: 'User', name: 'bob' }, '', false],
    ['group member', user('x', 'dev'), { kind: 'Group', name: 'dev' }, '', true],
    ['group non-member', user('dev'), { kind: 'Group', name: 'dev' }, '', false],
    ['SA with namespace', sa, { kind: 'ServiceAccount', name: 'builder', namespace: 'team' }, '', true],
    ['SA namespace from binding', sa, { kind: 'ServiceAccount', name: 'builder' }, 'team', true],
    ['SA other namespace', sa, { kind: 'ServiceAccount', name: 'builder', namespace: 'other' }, 'team', false],
    ['SA without any namespace', sa, { kind: 'ServiceAccount', name: 'builder' }, '', false],
    ['unknown kind', user('alice'), { kind: 'Robot', name: 'alice' }, '', false],
  ];
  for (const [name, u, s, ns, want] of cases) assert.equal(subjectMatches(u, { apiGroup: '', namespace: '', ...s }, ns), want, name);
});

test('authorize: decisions and kube\'s reasons', () => {
  const { authz } = fixture();
  const sa = user('system:serviceaccount:team:builder', 'system:serviceaccounts', 'system:authenticated');
  const cases: [string, RequestAttributes, 'Allow' | 'NoOpinion', string][] = [
    ['group via cluster binding', req(user('bob', 'viewers'), 'list', 'pods', 'any'), 'Allow', 'RBAC: allowed by ClusterRoleBinding "viewers" of ClusterRole "view" to Group "viewers"'],
    ['cluster-wide request', req(user('bob', 'viewers'), 'list', 'pods', ''), 'Allow', 'RBAC: allowed by ClusterRoleBinding "viewers" of ClusterRole "view" to Group "viewers"'],
    ['verb not granted', req(user('bob', 'viewers'), 'delete', 'pods', 'any'), 'NoOpinion', ''],
    ['role binding', req(user('alice'), 'create', 'configmaps', 'team'), 'Allow', 'RBAC: allowed by RoleBinding "editors/team" of Role "edit-cm" to User "alice"'],
    ['role binding in another namespace', req(user('alice'), 'create', 'configmaps', 'other'), 'NoOpinion', ''],
    ['role binding and a cluster-wide request', req(user('alice'), 'create', 'configmaps', ''), 'NoOpinion', ''],
    ['SA defaulted to the binding namespace', req(sa, 'update', 'configmaps', 'team'), 'Allow', 'RBAC: allowed by RoleBinding "editors/team" of Role "edit-cm" to ServiceAccount "builder/team"'],
    [
      'SA in a cluster binding',
      req(user('system:serviceaccount:ci:bot'), 'get', 'pods', 'x'),
      'Allow',
      'RBAC: allowed by ClusterRoleBinding "robot" of ClusterRole "view" to ServiceAccount "bot/ci"',
    ],
    ['role binding of a ClusterRole', req(user('dave'), 'get', 'configmaps', 'team'), 'Allow', 'RBAC: allowed by RoleBinding "viewers-here/team" of ClusterRole "view" to User "dave"'],
    ['URL', { ...req(user('eve', 'system:authenticated'), 'get', '', ''), resourceRequest: false, path: '/healthz/etcd' }, 'Allow', 'RBAC: allowed by ClusterRoleBinding "health" of ClusterRole "health" to Group "system:authenticated"'],
    ['missing cluster role reported', req(user('carol'), 'get', 'pods', ''), 'NoOpinion', 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found'],
    [
      'missing roles reported, aggregated',
      req(user('carol'), 'get', 'pods', 'team'),
      'NoOpinion',
      'RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "nope" not found, unsupported role reference kind: "Thing"]',
    ],
    ['nobody', req(user('zed'), 'get', 'pods', 'team'), 'NoOpinion', ''],
  ];
  for (const [name, attributes, decision, reason] of cases) assert.deepEqual(authz.decide(attributes), { decision, reason }, name);
});

test('rulesFor: cluster bindings then namespace bindings, with errors', async () => {
  const { authz } = fixture();
  const got = await authz.rulesFor(user('carol', 'viewers'), 'team');
  assert.deepEqual(got.rules, [{ apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list', 'watch'], resourceNames: [], nonResourceURLs: [] }]);
  assert.deepEqual(got.errors, ['clusterrole.rbac.authorization.k8s.io "gone" not found', 'role.rbac.authorization.k8s.io "nope" not found', 'unsupported role reference kind: "Thing"']);
  const alice = await authz.rulesFor(user('alice', 'viewers', 'system:authenticated'), 'team');
  // Cluster bindings by name (health, viewers), then the namespace's.
  assert.deepEqual(
    alice.rules.map((r) => r.verbs.join(',')),
    ['get', 'get,list,watch', 'create,update'],
  );
  assert.deepEqual((await authz.rulesFor(user('alice'), '')).rules, []);
});

test('the index follows events: a new binding allows, a deleted one stops, replace drops what is gone', () => {
  const { index, authz } = fixture();
  const frank = user('frank');
  assert.equal(authz.decide(req(frank, 'get', 'pods', 'a')).decision, 'NoOpinion');
  const b = binding('frank', undefined, 'ClusterRole', 'view', [{ kind: 'User', apiGroup: G, name: 'frank' }]);
  index.apply('clusterrolebindings', 'ADDED', b);
  assert.equal(authz.decide(req(frank, 'get', 'pods', 'a')).decision, 'Allow');
  index.apply('clusterroles', 'MODIFIED', role('ClusterRole', 'view', undefined, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]));
  assert.equal(authz.decide(req(frank, 'get', 'pods', 'a')).decision, 'NoOpinion');
  assert.equal(authz.decide(req(frank, 'get', 'secrets', 'a')).decision, 'Allow');
  index.apply('clusterrolebindings', 'DELETED', b);
  assert.equal(authz.decide(req(frank, 'get', 'secrets', 'a')).decision, 'NoOpinion');
  index.replace('rolebindings', []);
  assert.equal(authz.decide(req(user('alice'), 'create', 'configmaps', 'team')).decision, 'NoOpinion');
  assert.deepEqual(index.counts(), { roles: 1, clusterroles: 2, rolebindings: 0, clusterrolebindings: 4 });
});
