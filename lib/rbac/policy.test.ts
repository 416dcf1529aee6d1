/** Aggregation, reconciliation and the bootstrap policy. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../kube.ts';
import { aggregatedRules, sameRules } from './aggregation.ts';
import { RbacAuthorizer } from './authorizer.ts';
import { bootstrapPolicy, PROJECT_BINDING_NAMES } from './bootstrap-policy.ts';
import { RbacIndex } from './rbac-index.ts';
import { AUTO_UPDATE_ANNOTATION, reconcileBinding, reconcileRole } from './reconcile.ts';
import { policyRuleFrom, type RequestAttributes } from './rules.ts';

function cr(name: string, labels: Record<string, string>, rules: unknown[], aggregationRule?: unknown): KubeObject {
  return { kind: 'ClusterRole', metadata: { name, labels }, rules, ...(aggregationRule === undefined ? {} : { aggregationRule }) };
}

test('aggregatedRules: selectors in order, roles by name, each rule once, itself skipped', () => {
  const a = { apiGroups: [''], resources: ['pods'], verbs: ['get'] };
  const b = { apiGroups: [''], resources: ['secrets'], verbs: ['get'] };
  const c = { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] };
  const agg = cr('agg', { x: 'true' }, [{ apiGroups: ['stale'], resources: ['x'], verbs: ['get'] }], {
    clusterRoleSelectors: [{ matchLabels: { second: 'true' } }, { matchLabels: { x: 'true' } }],
  });
  const roles = [agg, cr('zeta', { x: 'true' }, [c, a]), cr('alpha', { x: 'true' }, [a, b]), cr('beta', { second: 'true' }, [c]), cr('other', {}, [b])];
  assert.deepEqual(aggregatedRules(agg, roles), [c, a, b].map(policyRuleFrom));
  assert.equal(aggregatedRules(cr('plain', {}, []), roles), undefined);
  assert.deepEqual(aggregatedRules(cr('none', {}, [], { clusterRoleSelectors: [{ matchLabels: { nobody: 'true' } }] }), roles), []);
  assert.equal(sameRules(cr('r', {}, [c, a, b]), [c, a, b].map(policyRuleFrom)), true);
  assert.equal(sameRules(cr('r', {}, [a, c, b]), [c, a, b].map(policyRuleFrom)), false);
});

test('reconcileRole: union of rules, selectors, labels and annotations; protected and unchanged left alone', () => {
  const expected = cr('r', { boot: 'yes' }, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
  (expected.metadata as Record<string, unknown>).annotations = { [AUTO_UPDATE_ANNOTATION]: 'true' };
  assert.deepEqual(reconcileRole(undefined, expected), expected);

  const existing: KubeObject = {
    kind: 'ClusterRole',
    metadata: { name: 'r', resourceVersion: '7', labels: { boot: 'mine', extra: '1' }, annotations: { [AUTO_UPDATE_ANNOTATION]: 'true' } },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { apiGroups: ['x'], resources: ['y'], verbs: ['*'] }],
  };
  const out = reconcileRole(existing, expected);
  assert.ok(out !== undefined);
  assert.equal((out.metadata as Record<string, unknown>).resourceVersion, '7');
  assert.deepEqual((out.metadata as Record<string, unknown>).labels, { boot: 'mine', extra: '1' });
  assert.deepEqual(out.rules, [...(existing.rules as unknown[]), { apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);

  assert.equal(reconcileRole(out, expected), undefined, 'nothing more to do');
  const protectedRole = structuredClone(existing);
  (protectedRole.metadata as Record<string, unknown>).annotations = { [AUTO_UPDATE_ANNOTATION]: 'false' };
  assert.equal(reconcileRole(protectedRole, expected), undefined, 'autoupdate false');

  const aggExpected = cr('admin', {}, [], { clusterRoleSelectors: [{ matchLabels: { a: 'true' } }] });
  const aggExisting = cr('admin', {}, [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }], { clusterRoleSelectors: [{ matchLabels: { mine: 'true' } }] });
  const aggOut = reconcileRole(aggExisting, aggExpected);
  assert.deepEqual(aggOut?.aggregationRule, { clusterRoleSelectors: [{ matchLabels: { mine: 'true' } }, { matchLabels: { a: 'true' } }] });
  assert.deepEqual(aggOut?.rules, aggExisting.rules, 'aggregated rules are kept');
  assert.equal(reconcileRole(cr('p', {}, [], { clusterRoleSelectors: [] }), cr('p', {}, []))?.aggregationRule, undefined, 'an unexpected aggregation is removed');
});

test('reconcileBinding: missing subjects added; a changed roleRef is recreated', () => {
  const ref = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' };
  const expected: KubeObject = { kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef: ref, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'g' }] };
  const existing: KubeObject = { kind: 'ClusterRoleBinding', metadata: { name: 'b', resourceVersion: '3' }, roleRef: ref, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'u' }] };
  const out = reconcileBinding(existing, expected);
  assert.deepEqual(out?.subjects, [...(existing.subjects as unknown[]), ...(expected.subjects as unknown[])]);
  assert.equal((out?.metadata as Record<string, unknown>).resourceVersion, '3');
  assert.equal(reconcileBinding(out, expected), undefined);
  const moved = reconcileBinding({ ...existing, roleRef: { ...ref, name: 'edit' } }, expected);
  assert.deepEqual(moved, expected);
  assert.equal((moved?.metadata as Record<string, unknown>).resourceVersion, undefined, 'recreate: no resourceVersion');
});

test('bootstrap policy: kube\'s objects, consistent, and what they allow', () => {
  const policy = bootstrapPolicy();
  const names = (list: KubeObject[]) => list.map((o) => `${String((o.metadata as Record<string, unknown>).namespace ?? '')}/${String((o.metadata as Record<string, unknown>).name)}`);
  for (const want of ['admin', 'cluster-admin', 'edit', 'view', 'system:aggregate-to-admin', 'system:aggregate-to-edit', 'system:aggregate-to-view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer', 'system:service-account-issuer-discovery', 'system:controller:namespace-controller', 'system:controller:generic-garbage-collector', 'system:controller:clusterrole-aggregation-controller']) {
    assert.ok(names(policy.clusterRoles).includes(`/${want}`), want);
  }
  for (const list of Object.values(policy)) assert.equal(new Set(names(list)).size, list.length, 'no duplicates');
  // kube 1.33: 31 cluster roles and 38 controller roles, a binding for each controller role.
  assert.equal(policy.clusterRoles.length, 31 + 38);
  assert.equal(policy.clusterRoleBindings.length, 12 + 38 + PROJECT_BINDING_NAMES.length);
  assert.deepEqual(names(policy.roles).sort(), ['kube-public/system:controller:bootstrap-signer', 'kube-system/extension-apiserver-authentication-reader', 'kube-system/system::leader-locking-kube-controller-manager', 'kube-system/system::leader-locking-kube-scheduler', 'kube-system/system:controller:bootstrap-signer', 'kube-system/system:controller:cloud-provider', 'kube-system/system:controller:token-cleaner']);
  assert.equal(policy.roleBindings.length, 7);
  // Every binding names a role that exists.
  const roleNames = new Set(names(policy.clusterRoles));
  for (const b of policy.clusterRoleBindings) assert.ok(roleNames.has(`/${String((b.roleRef as Record<string, unknown>).name)}`));
  const nsRoles = new Set(names(policy.roles));
  for (const b of policy.roleBindings) assert.ok(nsRoles.has(`${String((b.metadata as Record<string, unknown>).namespace)}/${String((b.roleRef as Record<string, unknown>).name)}`));
  // Every object is labelled and annotated as kube's are.
  for (const o of Object.values(policy).flat()) {
    const meta = o.metadata as Record<string, Record<string, string>>;
    assert.equal(meta.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults');
    assert.equal(meta.annotations?.[AUTO_UPDATE_ANNOTATION], 'true');
  }

  // Aggregate the roles as the controller would until nothing changes (admin takes edit's, edit view's), then decide.
  for (let changed = true; changed; ) {
    changed = false;
    for (const role of policy.clusterRoles) {
      const rules = aggregatedRules(role, policy.clusterRoles);
      if (rules === undefined || sameRules(role, rules)) continue;
      role.rules = rules;
      changed = true;
    }
  }
  const index = new RbacIndex();
  index.replace('clusterroles', policy.clusterRoles);
  index.replace('clusterrolebindings', policy.clusterRoleBindings);
  index.replace('roles', policy.roles);
  index.replace('rolebindings', policy.roleBindings);
  index.apply('rolebindings', 'ADDED', { metadata: { name: 'devs', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: 'devs' }] });
  index.apply('rolebindings', 'ADDED', { metadata: { name: 'leads', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', name: 'lead' }] });
  const authz = new RbacAuthorizer(index);
  const anon = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
  const dev = { username: 'd', groups: ['devs', 'system:authenticated'] };
  const lead = { username: 'lead', groups: ['system:authenticated'] };
  const ns = { username: 'system:serviceaccount:kube-system:namespace-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] };
  const path = (user: typeof anon, p: string): RequestAttributes => ({ user, verb: 'get', resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path: p });
  const r = (user: typeof anon, verb: string, apiGroup: string, resource: string, namespace: string, subresource = ''): RequestAttributes => ({ user, verb, resourceRequest: true, apiGroup, resource, subresource, namespace, name: '', path: '' });
  const cases: [string, RequestAttributes, 'Allow' | 'NoOpinion'][] = [
    ['anonymous /livez', path(anon, '/livez'), 'Allow'],
    ['anonymous /version', path(anon, '/version'), 'Allow'],
    ['anonymous OIDC discovery (the project\'s binding)', path(anon, '/.well-known/openid-configuration'), 'Allow'],
    ['anonymous jwks', path(anon, '/openid/v1/jwks'), 'Allow'],
    ['anonymous /api', path(anon, '/api'), 'NoOpinion'],
    ['authenticated /apis/apps', path(dev, '/apis/apps'), 'Allow'],
    ['authenticated SSAR', r(dev, 'create', 'authorization.k8s.io', 'selfsubjectaccessreviews', ''), 'Allow'],
    ['anonymous SSAR', r(anon, 'create', 'authorization.k8s.io', 'selfsubjectaccessreviews', ''), 'NoOpinion'],
    ['edit: deployments', r(dev, 'create', 'apps', 'deployments', 'team'), 'Allow'],
    ['edit: deployments/scale', r(dev, 'update', 'apps', 'deployments', 'team', 'scale'), 'Allow'],
    ['edit: pods/log via view', r(dev, 'get', '', 'pods', 'team', 'log'), 'Allow'],
    ['edit: not roles', r(dev, 'create', 'rbac.authorization.k8s.io', 'roles', 'team'), 'NoOpinion'],
    ['edit: not elsewhere', r(dev, 'create', 'apps', 'deployments', 'other'), 'NoOpinion'],
    ['admin: roles', r(lead, 'create', 'rbac.authorization.k8s.io', 'rolebindings', 'team'), 'Allow'],
    ['admin: secrets', r(lead, 'delete', '', 'secrets', 'team'), 'Allow'],
    ['admin: not nodes', r(lead, 'get', '', 'nodes', ''), 'NoOpinion'],
    ['namespace controller: deletecollection anywhere', r(ns, 'deletecollection', 'apps', 'deployments', 'team'), 'Allow'],
    ['namespace controller: namespaces/finalize', r(ns, 'update', '', 'namespaces', '', 'finalize'), 'Allow'],
    ['namespace controller: not create', r(ns, 'create', '', 'pods', 'team'), 'NoOpinion'],
  ];
  for (const [name, attributes, decision] of cases) assert.equal(authz.decide(attributes).decision, decision, name);
});
