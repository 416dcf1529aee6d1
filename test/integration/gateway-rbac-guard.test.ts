/**
 * Escalation prevention through the pipeline, with RBAC (lib/rbac) deciding over what is
 * stored: roles with rules the writer lacks, aggregated ClusterRoles, bindings of roles the
 * writer neither holds nor may bind, on create, update, patch and apply, with kube's messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinRegistry, type KindDefinition } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { createLogger } from '../../lib/log.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { RbacAuthorizer } from '../../lib/rbac/authorizer.ts';
import { RbacIndex, RBAC_RESOURCES } from '../../lib/rbac/rbac-index.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { SYSTEM_MASTERS, type Attributes, type AuthorizationResult, type UserInfo } from '../../services/auth/api.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';
import { refusal } from '../support/pipeline.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';

const GROUP = 'rbac.authorization.k8s.io';
const API_VERSION = `${GROUP}/v1`;
const admin: UserInfo = { username: 'admin', uid: '', groups: [SYSTEM_MASTERS] };
const dev: UserInfo = { username: 'dev', uid: '', groups: ['devs', 'system:authenticated'] };

async function setup() {
  const registry = builtinRegistry();
  const logger = createLogger({ service: 'test', level: 'error' });
  const storage = new MemoryStorage({ logger, kinds: registry });
  const schemas = generatedSchemaValidator();
  const index = new RbacIndex();
  const rbac = new RbacAuthorizer(index);
  // The index follows what is stored: read again before every request of the test.
  const sync = async (): Promise<void> => {
    for (const resource of RBAC_RESOURCES) index.replace(resource, (await storage.list({ group: GROUP, resource, namespace: '', name: '' }, {})).items);
  };
  const authorizer = {
    async authorize(a: Attributes): Promise<AuthorizationResult> {
      if (a.user.groups.includes(SYSTEM_MASTERS)) return { decision: 'Allow', reason: '' };
      await sync();
      return rbac.authorize(a);
    },
  };
  const ruleResolver = {
    async rulesFor(user: UserInfo, namespace: string) {
      await sync();
      return rbac.rulesFor(user, namespace);
    },
  };
  const watcher = new WatchService({ caches: new Map(), storage, registry, logger });
  const pipeline = new Pipeline({ authenticator: new TokenFileAuthenticator([]), authorizer, ruleResolver, admission: buildAdmissionChain({ registry, storage, schemas }), storage, watcher, kinds: registry, schemas, authCacheTtlMs: 0 });
  const namespaces = registry.get('', 'v1', 'namespaces')!;
  await pipeline.ensureSystemNamespaces(namespaces);
  await pipeline.create(admin, { info: namespaces, namespace: '', name: '' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  const kind = (resource: string): KindDefinition => registry.get(GROUP, 'v1', resource)!;
  const target = (resource: string, namespace = '', name = '') => ({ info: kind(resource), namespace: kind(resource).namespaced ? namespace : '', name });
  return { pipeline, target };
}

const role = (name: string, rules: unknown[], kind = 'Role'): KubeObject => ({ apiVersion: API_VERSION, kind, metadata: { name }, rules });
const binding = (name: string, roleKind: string, roleName: string, subject: string, kind = 'RoleBinding'): KubeObject => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name },
  roleRef: { apiGroup: GROUP, kind: roleKind, name: roleName },
  subjects: [{ kind: 'User', apiGroup: GROUP, name: subject }],
});

describe('escalation prevention', () => {
  it('a role may grant only what its writer holds, unless the writer may escalate', async () => {
    const { pipeline, target } = await setup();
    // dev may manage roles in "team" and read pods there.
    await pipeline.create(admin, target('roles', 'team'), role('role-admin', [{ apiGroups: [GROUP], resources: ['roles'], verbs: ['create', 'update', 'patch', 'get'] }, { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]));
    await pipeline.create(admin, target('rolebindings', 'team'), binding('dev-role-admin', 'Role', 'role-admin', 'dev'));

    const reader = await pipeline.create(dev, target('roles', 'team'), role('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]));
    assert.equal(reader.metadata?.name, 'pod-reader');

    const err = await refusal(pipeline.create(dev, target('roles', 'team'), role('pod-deleter', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'] }, { apiGroups: [''], resources: ['secrets'], verbs: ['list'] }])), 'Forbidden');
    assert.equal(
      err.message,
      'roles.rbac.authorization.k8s.io "pod-deleter" is forbidden: user "dev" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["list"]}',
    );
    assert.deepEqual(err.details, { name: 'pod-deleter', group: GROUP, kind: 'roles' });

    // Update and patch are checked too.
    await refusal(pipeline.update(dev, target('roles', 'team', 'pod-reader'), role('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }])), 'Forbidden');
    await refusal(pipeline.patch(dev, target('roles', 'team', 'pod-reader'), { contentType: 'application/merge-patch+json', body: Buffer.from(JSON.stringify({ rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] })) }), 'Forbidden');
    const applied = { apiVersion: API_VERSION, kind: 'Role', metadata: { name: 'pod-reader', namespace: 'team' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] };
    await refusal(pipeline.patch(dev, target('roles', 'team', 'pod-reader'), { contentType: 'application/apply-patch+yaml', body: Buffer.from(JSON.stringify(applied)), force: true }, { fieldManager: 'dev' }), 'Forbidden');
    await refusal(pipeline.patch(dev, target('roles', 'team', 'other'), { contentType: 'application/apply-patch+yaml', body: Buffer.from(JSON.stringify({ ...applied, metadata: { name: 'other' } })) }, { fieldManager: 'dev' }), 'Forbidden');
    // Within what dev holds, an update passes.
    await pipeline.update(dev, target('roles', 'team', 'pod-reader'), role('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]));

    // With escalate, anything goes.
    await pipeline.create(admin, target('roles', 'team'), role('escalator', [{ apiGroups: [GROUP], resources: ['roles'], verbs: ['escalate'] }]));
    await pipeline.create(admin, target('rolebindings', 'team'), binding('dev-escalator', 'Role', 'escalator', 'dev'));
    await pipeline.create(dev, target('roles', 'team'), role('pod-deleter', [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }]));
  });

  it('an aggregated ClusterRole needs escalate', async () => {
    const { pipeline, target } = await setup();
    await pipeline.create(admin, target('clusterroles'), role('cr-admin', [{ apiGroups: [GROUP], resources: ['clusterroles'], verbs: ['create'] }], 'ClusterRole'));
    await pipeline.create(admin, target('clusterrolebindings'), binding('dev-cr-admin', 'ClusterRole', 'cr-admin', 'dev', 'ClusterRoleBinding'));
    const aggregated = { apiVersion: API_VERSION, kind: 'ClusterRole', metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] } };
    const err = await refusal(pipeline.create(dev, target('clusterroles'), aggregated), 'Forbidden');
    assert.equal(err.message, 'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule');
  });

  it('a binding needs bind on its role, or every rule of it', async () => {
    const { pipeline, target } = await setup();
    await pipeline.create(admin, target('clusterroles'), role('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], 'ClusterRole'));
    await pipeline.create(admin, target('roles', 'team'), role('binder', [{ apiGroups: [GROUP], resources: ['rolebindings'], verbs: ['create'] }]));
    await pipeline.create(admin, target('rolebindings', 'team'), binding('dev-binder', 'Role', 'binder', 'dev'));

    const err = await refusal(pipeline.create(dev, target('rolebindings', 'team'), binding('b', 'ClusterRole', 'secret-reader', 'eve')), 'Forbidden');
    assert.equal(
      err.message,
      'rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "dev" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    );
    const missing = await refusal(pipeline.create(dev, target('rolebindings', 'team'), binding('c', 'Role', 'nothing', 'eve')), 'Forbidden');
    assert.equal(missing.message, 'rolebindings.rbac.authorization.k8s.io "c" is forbidden: roles.rbac.authorization.k8s.io "nothing" not found');

    // Binding its own role is fine: dev holds all of "binder".
    await pipeline.create(dev, target('rolebindings', 'team'), binding('d', 'Role', 'binder', 'eve'));
    // With bind on that one ClusterRole, it may be bound.
    await pipeline.create(admin, target('roles', 'team'), role('may-bind', [{ apiGroups: [GROUP], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['secret-reader'] }]));
    await pipeline.create(admin, target('rolebindings', 'team'), binding('dev-may-bind', 'Role', 'may-bind', 'dev'));
    await pipeline.create(dev, target('rolebindings', 'team'), binding('b', 'ClusterRole', 'secret-reader', 'eve'));
  });

  it('a role too large to check rule by rule is refused quickly, with a short message', async () => {
    const { pipeline, target } = await setup();
    // A namespace admin's kind of rights (kube's admin: no escalate, no bind): roles and bindings in "team", and some reading.
    await pipeline.create(admin, target('roles', 'team'), role('team-admin', [{ apiGroups: [GROUP], resources: ['roles', 'rolebindings'], verbs: ['create', 'update', 'patch', 'delete', 'get', 'list'] }, { apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['get', 'list', 'watch'] }]));
    await pipeline.create(admin, target('rolebindings', 'team'), binding('dev-team-admin', 'Role', 'team-admin', 'dev'));
    const names = (prefix: string): string[] => Array.from({ length: 150 }, (_, i) => `${prefix}${i}`);
    // 150 of each: 506 million pieces to check one by one, from a body of a few kilobytes.
    const hostile = role('hostile', [{ apiGroups: names('g'), resources: names('r'), verbs: names('v'), resourceNames: names('n') }]);

    const start = process.cpuUsage();
    const err = await refusal(pipeline.create(dev, target('roles', 'team'), hostile), 'Forbidden');
    const used = process.cpuUsage(start);
    assert.ok(used.user + used.system < 3_000_000, `${(used.user + used.system) / 1000} ms of CPU`);
    assert.ok(err.message.startsWith('roles.rbac.authorization.k8s.io "hostile" is forbidden: user "dev" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["g0"], Resources:["r0"], ResourceNames:["n0"], Verbs:["v0" "v1" '), err.message);
    assert.match(err.message, /\nand \d+ more\n\(not all checked: the requested rules are too large to check rule by rule\)$/);
    assert.ok(err.message.length < 16 * 1024, String(err.message.length));

    // A binding of such a role (written by a user who may) is bounded the same way.
    await pipeline.create(admin, target('roles', 'team'), hostile);
    const bound = await refusal(pipeline.create(dev, target('rolebindings', 'team'), binding('b', 'Role', 'hostile', 'eve')), 'Forbidden');
    assert.ok(bound.message.startsWith('rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "dev"'), bound.message);
    assert.ok(bound.message.length < 16 * 1024, String(bound.message.length));
  });
});
