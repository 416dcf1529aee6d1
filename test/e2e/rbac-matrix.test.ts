/**
 * Who may do what, end to end, against the control plane's real processes: one table of
 * requests (users of a token file written here, their groups, a service account with a token
 * from `kubectl create token`, impersonation with --as / --as-group; verbs, resources,
 * subresources, namespaces, resourceNames, non-resource URLs; escalation attempts), each made
 * for real through kubectl 1.27 and 1.33 and through the gRPC API, and asked of
 * `kubectl auth can-i`, with kube-apiserver's answers word for word. Then `auth whoami`,
 * `auth can-i --list`, and an aggregated ClusterRole widening `edit` while the cluster runs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { createKubectl, type Kubectl, type KubectlResult } from '../support/kubectl.ts';
import { typedGrpc, type TypedGrpc } from '../support/typed-grpc.ts';

const VERSIONS = ['1.27', '1.33'] as const;
type Version = (typeof VERSIONS)[number];
/** Where a request of a row is made: a kubectl version, or the gRPC API. */
type Channel = Version | 'grpc';

const RBAC = 'rbac.authorization.k8s.io';
const CORE = 'apiserver.kinds.core.v1';
const RBAC_V1 = 'apiserver.kinds.rbac.v1';
const RESOURCES = 'apiserver.v1.Resources';

/** Users of the token file (kube's CSV: token,user,uid,"groups"). */
const USERS: Record<string, { uid: string; groups: string[] }> = {
  alice: { uid: 'uid-alice', groups: ['dev'] },
  bob: { uid: 'uid-bob', groups: [] },
  carol: { uid: 'uid-carol', groups: ['qa'] },
  dave: { uid: 'uid-dave', groups: [] },
  eve: { uid: 'uid-eve', groups: [] },
  frank: { uid: 'uid-frank', groups: [] },
  gina: { uid: 'uid-gina', groups: [] },
};

/** Who makes a request: a user of the token file or the service account team-a/robot, possibly impersonating. */
interface Who {
  user: keyof typeof USERS | 'robot';
  as?: string;
  asGroups?: string[];
}

/** What a request must get: done, kube's Forbidden message, or (allowed, nothing there) NotFound. */
type Expect = { allowed: true; stdout?: string } | { forbidden: string } | { notFound: true };

interface Row {
  title: string;
  who: Who;
  /** The real request through kubectl (identity flags are added), given the channel for names of objects it creates. */
  kubectl?: (channel: Channel) => { args: string[]; input?: object };
  /** The same request through the gRPC API: service, method and request. */
  grpc?: (channel: Channel) => [service: string, method: string, request: object];
  expect: Expect;
  /** `kubectl auth can-i` for the same row and what it prints (yes, no, no - reason), or its Forbidden for refused impersonation. */
  canI?: { args: string[]; answer: string | { forbidden: string } };
}

const role = (name: string, rules: object[]) => ({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name }, rules });
const clusterRole = (name: string, rules: object[], labels?: Record<string, string>) => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name, labels }, rules });
const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]) => ({ verbs, apiGroups, resources, resourceNames });
const subject = (kind: 'User' | 'Group' | 'ServiceAccount', name: string, namespace?: string) =>
  kind === 'ServiceAccount' ? { kind, name, namespace } : { kind, apiGroup: RBAC, name };
const roleBinding = (namespace: string, name: string, ref: { kind: 'Role' | 'ClusterRole'; name: string }, subjects: object[]) => ({
  apiVersion: `${RBAC}/v1`,
  kind: 'RoleBinding',
  metadata: { name, namespace },
  roleRef: { apiGroup: RBAC, ...ref },
  subjects,
});
const clusterRoleBinding = (name: string, roleName: string, subjects: object[]) => ({
  apiVersion: `${RBAC}/v1`,
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
  subjects,
});
const configMap = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { a: 'b' } });
const limitRange = (namespace: string, name: string) => ({
  apiVersion: 'v1',
  kind: 'LimitRange',
  metadata: { name, namespace },
  spec: { limits: [{ type: 'Container', max: { cpu: '1' } }] },
});

/** The cluster's policy for the table, created by the admin in one go. */
const FIXTURES = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'team-a' }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } },
  configMap('team-b', 'allowed'),
  configMap('team-b', 'other'),
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'team-a' } },
  // alice: pods (and their status) in team-a; by her group dev, one ConfigMap by name in team-b
  { ...role('pod-reader', [rule(['get', 'list', 'watch'], [''], ['pods']), rule(['get'], [''], ['pods/status'])]), metadata: { name: 'pod-reader', namespace: 'team-a' } },
  roleBinding('team-a', 'alice-pods', { kind: 'Role', name: 'pod-reader' }, [subject('User', 'alice')]),
  clusterRole('one-configmap', [rule(['get'], [''], ['configmaps'], ['allowed'])]),
  roleBinding('team-b', 'dev-one-configmap', { kind: 'ClusterRole', name: 'one-configmap' }, [subject('Group', 'dev')]),
  // carol: view everywhere by her group qa; a non-resource URL prefix
  clusterRoleBinding('qa-view', 'view', [subject('Group', 'qa')]),
  { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'log-reader' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/logs/*'] }] },
  clusterRoleBinding('carol-logs', 'log-reader', [subject('User', 'carol')]),
  // bob: writes roles, bindings and ConfigMaps in team-a, holds nothing else; dave also may bind cluster-admin there
  { ...role('role-maker', [rule(['create', 'get', 'list', 'patch'], [RBAC], ['roles', 'rolebindings']), rule(['create', 'get', 'list'], [''], ['configmaps'])]), metadata: { name: 'role-maker', namespace: 'team-a' } },
  { ...role('bob-editable', [rule(['get'], [''], ['configmaps'])]), metadata: { name: 'bob-editable', namespace: 'team-a' } },
  roleBinding('team-a', 'bob-role-maker', { kind: 'Role', name: 'role-maker' }, [subject('User', 'bob'), subject('User', 'dave')]),
  clusterRole('bind-cluster-admin', [rule(['bind'], [RBAC], ['clusterroles'], ['cluster-admin'])]),
  roleBinding('team-a', 'dave-bind', { kind: 'ClusterRole', name: 'bind-cluster-admin' }, [subject('User', 'dave')]),
  // frank: creates ClusterRoles, without escalate
  clusterRole('clusterrole-maker', [rule(['create'], [RBAC], ['clusterroles'])]),
  clusterRoleBinding('frank-clusterrole-maker', 'clusterrole-maker', [subject('User', 'frank')]),
  // gina: bound to a Role that does not exist (RBAC's reasons name it)
  roleBinding('team-b', 'gina-missing', { kind: 'Role', name: 'missing' }, [subject('User', 'gina')]),
  // robot: edit in team-a
  roleBinding('team-a', 'robot-edit', { kind: 'ClusterRole', name: 'edit' }, [subject('ServiceAccount', 'robot', 'team-a')]),
  // eve: may impersonate alice, the group dev, and the service account team-a/robot
  clusterRole('impersonator', [rule(['impersonate'], [''], ['users'], ['alice']), rule(['impersonate'], [''], ['groups'], ['dev'])]),
  clusterRoleBinding('eve-impersonator', 'impersonator', [subject('User', 'eve')]),
  { ...role('impersonate-robot', [rule(['impersonate'], [''], ['serviceaccounts'], ['robot'])]), metadata: { name: 'impersonate-robot', namespace: 'team-a' } },
  roleBinding('team-a', 'eve-impersonate-robot', { kind: 'Role', name: 'impersonate-robot' }, [subject('User', 'eve')]),
];

const tagged = (channel: Channel) => channel.replace('.', '-');
const noGroups = (user: string) => `user "${user}" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n`;

const ROWS: Row[] = [
  {
    title: 'alice lists pods in team-a (Role)',
    who: { user: 'alice' },
    kubectl: () => ({ args: ['get', 'pods', '-n', 'team-a', '-o', 'name'] }),
    grpc: () => [`${CORE}.Pods`, 'List', { namespace: 'team-a' }],
    expect: { allowed: true, stdout: 'pod/web' },
    canI: { args: ['list', 'pods', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'alice lists pods in team-b (another namespace)',
    who: { user: 'alice' },
    kubectl: () => ({ args: ['get', 'pods', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.Pods`, 'List', { namespace: 'team-b' }],
    expect: { forbidden: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team-b"' },
    canI: { args: ['list', 'pods', '-n', 'team-b'], answer: 'no' },
  },
  {
    title: 'alice reads a pod\'s status (subresource rule)',
    who: { user: 'alice' },
    kubectl: () => ({ args: ['get', 'pod', 'web', '-n', 'team-a', '--subresource=status', '-o', 'name'] }),
    grpc: () => [RESOURCES, 'Get', { ref: { group: '', version: 'v1', resource: 'pods', namespace: 'team-a', name: 'web', subresource: 'status' } }],
    expect: { allowed: true, stdout: 'pod/web' },
    canI: { args: ['get', 'pods', '--subresource=status', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'alice patches a pod\'s status (get on pods/status only)',
    who: { user: 'alice' },
    kubectl: () => ({ args: ['patch', 'pod', 'web', '-n', 'team-a', '--subresource=status', '--type=merge', '-p', '{"status":{}}'] }),
    grpc: () => [RESOURCES, 'Patch', { ref: { group: '', version: 'v1', resource: 'pods', namespace: 'team-a', name: 'web', subresource: 'status' }, type: 'PATCH_TYPE_MERGE', patch: Buffer.from('{"status":{}}') }],
    expect: { forbidden: 'pods "web" is forbidden: User "alice" cannot patch resource "pods/status" in API group "" in the namespace "team-a"' },
    canI: { args: ['patch', 'pods', '--subresource=status', '-n', 'team-a'], answer: 'no' },
  },
  {
    title: 'alice gets the ConfigMap her group may read by name',
    who: { user: 'alice' },
    kubectl: () => ({ args: ['get', 'configmap', 'allowed', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.ConfigMaps`, 'Get', { namespace: 'team-b', name: 'allowed' }],
    expect: { allowed: true, stdout: 'configmap/allowed' },
    canI: { args: ['get', 'configmaps/allowed', '-n', 'team-b'], answer: 'yes' },
  },
  {
    title: 'alice gets another ConfigMap (resourceNames)',
    who: { user: 'alice' },
    kubectl: () => ({ args: ['get', 'configmap', 'other', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.ConfigMaps`, 'Get', { namespace: 'team-b', name: 'other' }],
    expect: { forbidden: 'configmaps "other" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "team-b"' },
    canI: { args: ['get', 'configmaps/other', '-n', 'team-b'], answer: 'no' },
  },
  {
    title: 'alice lists the ConfigMaps of team-b (a name rule allows no list)',
    who: { user: 'alice' },
    kubectl: () => ({ args: ['get', 'configmaps', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.ConfigMaps`, 'List', { namespace: 'team-b' }],
    expect: { forbidden: 'configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "team-b"' },
    canI: { args: ['list', 'configmaps', '-n', 'team-b'], answer: 'no' },
  },
  {
    title: 'gina lists pods where her binding names a missing Role (the reason is RBAC\'s)',
    who: { user: 'gina' },
    kubectl: () => ({ args: ['get', 'pods', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.Pods`, 'List', { namespace: 'team-b' }],
    expect: { forbidden: `pods is forbidden: User "gina" cannot list resource "pods" in API group "" in the namespace "team-b": RBAC: role.${RBAC} "missing" not found` },
    canI: { args: ['list', 'pods', '-n', 'team-b'], answer: `no - RBAC: role.${RBAC} "missing" not found` },
  },
  {
    title: 'carol lists ConfigMaps in every namespace (view by her group)',
    who: { user: 'carol' },
    kubectl: () => ({ args: ['get', 'configmaps', '-A', '-o', 'name', '--field-selector', 'metadata.name=other'] }),
    grpc: () => [`${CORE}.ConfigMaps`, 'List', { namespace: '', options: { fieldSelector: 'metadata.name=other' } }],
    expect: { allowed: true, stdout: 'configmap/other' },
    canI: { args: ['list', 'configmaps', '-A'], answer: 'yes' },
  },
  {
    title: 'carol lists secrets (not in view)',
    who: { user: 'carol' },
    kubectl: () => ({ args: ['get', 'secrets', '-n', 'team-a', '-o', 'name'] }),
    grpc: () => [`${CORE}.Secrets`, 'List', { namespace: 'team-a' }],
    expect: { forbidden: 'secrets is forbidden: User "carol" cannot list resource "secrets" in API group "" in the namespace "team-a"' },
    canI: { args: ['list', 'secrets', '-n', 'team-a'], answer: 'no' },
  },
  {
    title: 'carol lists nodes (cluster-scoped, not in view)',
    who: { user: 'carol' },
    kubectl: () => ({ args: ['get', 'nodes', '-o', 'name'] }),
    grpc: () => [`${CORE}.Nodes`, 'List', {}],
    expect: { forbidden: 'nodes is forbidden: User "carol" cannot list resource "nodes" in API group "" at the cluster scope' },
    canI: { args: ['list', 'nodes'], answer: 'no' },
  },
  {
    title: 'bob gets /healthz (system:public-info-viewer)',
    who: { user: 'bob' },
    kubectl: () => ({ args: ['get', '--raw', '/healthz'] }),
    expect: { allowed: true, stdout: 'ok' },
    canI: { args: ['get', '/healthz'], answer: 'yes' },
  },
  {
    title: 'bob gets /metrics (a non-resource URL nobody granted)',
    who: { user: 'bob' },
    kubectl: () => ({ args: ['get', '--raw', '/metrics'] }),
    expect: { forbidden: 'forbidden: User "bob" cannot get path "/metrics"' },
    canI: { args: ['get', '/metrics'], answer: 'no' },
  },
  {
    title: 'carol gets a path under /logs/* (a non-resource prefix rule; nothing is served there)',
    who: { user: 'carol' },
    kubectl: () => ({ args: ['get', '--raw', '/logs/kube-apiserver.log'] }),
    expect: { notFound: true },
    canI: { args: ['get', '/logs/kube-apiserver.log'], answer: 'yes' },
  },
  {
    title: 'bob gets a path under /logs/*',
    who: { user: 'bob' },
    kubectl: () => ({ args: ['get', '--raw', '/logs/kube-apiserver.log'] }),
    expect: { forbidden: 'forbidden: User "bob" cannot get path "/logs/kube-apiserver.log"' },
    canI: { args: ['get', '/logs/kube-apiserver.log'], answer: 'no' },
  },
  {
    title: 'the service account creates a ConfigMap in its namespace (edit)',
    who: { user: 'robot' },
    kubectl: (c) => ({ args: ['create', '-f', '-', '-o', 'name'], input: configMap('team-a', `robot-${tagged(c)}`) }),
    grpc: (c) => [`${CORE}.ConfigMaps`, 'Create', { namespace: 'team-a', object: { metadata: { name: `robot-${tagged(c)}` } } }],
    expect: { allowed: true },
    canI: { args: ['create', 'configmaps', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'the service account lists secrets in another namespace',
    who: { user: 'robot' },
    kubectl: () => ({ args: ['get', 'secrets', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.Secrets`, 'List', { namespace: 'team-b' }],
    expect: { forbidden: 'secrets is forbidden: User "system:serviceaccount:team-a:robot" cannot list resource "secrets" in API group "" in the namespace "team-b"' },
    canI: { args: ['list', 'secrets', '-n', 'team-b'], answer: 'no' },
  },
  {
    title: 'the service account creates a LimitRange (not in edit, until a role aggregates it)',
    who: { user: 'robot' },
    kubectl: (c) => ({ args: ['create', '-f', '-', '-o', 'name'], input: limitRange('team-a', `limits-${tagged(c)}`) }),
    grpc: (c) => [`${CORE}.LimitRanges`, 'Create', { namespace: 'team-a', object: { metadata: { name: `limits-${tagged(c)}` } } }],
    expect: { forbidden: 'limitranges is forbidden: User "system:serviceaccount:team-a:robot" cannot create resource "limitranges" in API group "" in the namespace "team-a"' },
    canI: { args: ['create', 'limitranges', '-n', 'team-a'], answer: 'no' },
  },
  {
    title: 'eve as alice lists pods in team-a',
    who: { user: 'eve', as: 'alice' },
    kubectl: () => ({ args: ['get', 'pods', '-n', 'team-a', '-o', 'name'] }),
    grpc: () => [`${CORE}.Pods`, 'List', { namespace: 'team-a' }],
    expect: { allowed: true, stdout: 'pod/web' },
    canI: { args: ['list', 'pods', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'eve as bob (a user she may not impersonate)',
    who: { user: 'eve', as: 'bob' },
    kubectl: () => ({ args: ['get', 'pods', '-n', 'team-a', '-o', 'name'] }),
    grpc: () => [`${CORE}.Pods`, 'List', { namespace: 'team-a' }],
    expect: { forbidden: 'users "bob" is forbidden: User "eve" cannot impersonate resource "users" in API group "" at the cluster scope' },
    canI: { args: ['list', 'pods', '-n', 'team-a'], answer: { forbidden: 'users "bob" is forbidden: User "eve" cannot impersonate resource "users" in API group "" at the cluster scope' } },
  },
  {
    title: 'eve as alice in the group dev gets the ConfigMap dev may read',
    who: { user: 'eve', as: 'alice', asGroups: ['dev'] },
    kubectl: () => ({ args: ['get', 'configmap', 'allowed', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.ConfigMaps`, 'Get', { namespace: 'team-b', name: 'allowed' }],
    expect: { allowed: true, stdout: 'configmap/allowed' },
    canI: { args: ['get', 'configmaps/allowed', '-n', 'team-b'], answer: 'yes' },
  },
  {
    title: 'eve as alice without a group: the group came from --as-group alone',
    who: { user: 'eve', as: 'alice' },
    kubectl: () => ({ args: ['get', 'configmap', 'allowed', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.ConfigMaps`, 'Get', { namespace: 'team-b', name: 'allowed' }],
    expect: { forbidden: 'configmaps "allowed" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "team-b"' },
    canI: { args: ['get', 'configmaps/allowed', '-n', 'team-b'], answer: 'no' },
  },
  {
    title: 'eve as alice in the group qa (a group she may not impersonate)',
    who: { user: 'eve', as: 'alice', asGroups: ['qa'] },
    kubectl: () => ({ args: ['get', 'configmaps', '-A', '-o', 'name'] }),
    grpc: () => [`${CORE}.ConfigMaps`, 'List', { namespace: '' }],
    expect: { forbidden: 'groups "qa" is forbidden: User "eve" cannot impersonate resource "groups" in API group "" at the cluster scope' },
    canI: { args: ['list', 'configmaps', '-A'], answer: { forbidden: 'groups "qa" is forbidden: User "eve" cannot impersonate resource "groups" in API group "" at the cluster scope' } },
  },
  {
    title: 'eve as the service account team-a/robot creates a ConfigMap',
    who: { user: 'eve', as: 'system:serviceaccount:team-a:robot' },
    kubectl: (c) => ({ args: ['create', '-f', '-', '-o', 'name'], input: configMap('team-a', `as-robot-${tagged(c)}`) }),
    grpc: (c) => [`${CORE}.ConfigMaps`, 'Create', { namespace: 'team-a', object: { metadata: { name: `as-robot-${tagged(c)}` } } }],
    expect: { allowed: true },
    canI: { args: ['create', 'configmaps', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'eve as a service account of team-b',
    who: { user: 'eve', as: 'system:serviceaccount:team-b:default' },
    kubectl: () => ({ args: ['get', 'pods', '-n', 'team-b', '-o', 'name'] }),
    grpc: () => [`${CORE}.Pods`, 'List', { namespace: 'team-b' }],
    expect: { forbidden: 'serviceaccounts "default" is forbidden: User "eve" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-b"' },
    canI: {
      args: ['list', 'pods', '-n', 'team-b'],
      answer: { forbidden: 'serviceaccounts "default" is forbidden: User "eve" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-b"' },
    },
  },
  {
    title: 'bob creates a Role with rules he holds',
    who: { user: 'bob' },
    kubectl: (c) => ({ args: ['create', '-n', 'team-a', '-f', '-', '-o', 'name'], input: role(`held-${tagged(c)}`, [rule(['get'], [''], ['configmaps'])]) }),
    grpc: (c) => [`${RBAC_V1}.Roles`, 'Create', { namespace: 'team-a', object: { metadata: { name: `held-${tagged(c)}` }, rules: [rule(['get'], [''], ['configmaps'])] } }],
    expect: { allowed: true },
    canI: { args: ['create', 'roles', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'bob creates a Role with more than he holds (escalation; can-i still says yes to create)',
    who: { user: 'bob' },
    kubectl: () => ({ args: ['create', '-n', 'team-a', '-f', '-', '-o', 'name'], input: role('too-much', [rule(['get'], [''], ['secrets'])]) }),
    grpc: () => [`${RBAC_V1}.Roles`, 'Create', { namespace: 'team-a', object: { metadata: { name: 'too-much' }, rules: [rule(['get'], [''], ['secrets'])] } }],
    expect: { forbidden: `roles.${RBAC} "too-much" is forbidden: ${noGroups('bob')}{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}` },
    canI: { args: ['create', 'roles', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'bob widens a Role by patch beyond what he holds (escalation on update)',
    who: { user: 'bob' },
    kubectl: () => ({ args: ['patch', 'role', 'bob-editable', '-n', 'team-a', '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/rules/-', value: rule(['get'], [''], ['secrets']) }])] }),
    grpc: () => [
      `${RBAC_V1}.Roles`,
      'Patch',
      { namespace: 'team-a', name: 'bob-editable', type: 'PATCH_TYPE_JSON', patch: Buffer.from(JSON.stringify([{ op: 'add', path: '/rules/-', value: rule(['get'], [''], ['secrets']) }])) },
    ],
    expect: { forbidden: `roles.${RBAC} "bob-editable" is forbidden: ${noGroups('bob')}{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}` },
    canI: { args: ['patch', 'roles/bob-editable', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'bob binds cluster-admin without bind',
    who: { user: 'bob' },
    kubectl: () => ({ args: ['create', '-f', '-', '-o', 'name'], input: roleBinding('team-a', 'to-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [subject('User', 'bob')]) }),
    grpc: () => [
      `${RBAC_V1}.RoleBindings`,
      'Create',
      { namespace: 'team-a', object: { metadata: { name: 'to-admin' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [subject('User', 'bob')] } },
    ],
    expect: { forbidden: `rolebindings.${RBAC} "to-admin" is forbidden: ${noGroups('bob')}{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}` },
    canI: { args: ['bind', 'clusterroles/cluster-admin', '-n', 'team-a'], answer: 'no' },
  },
  {
    title: 'dave binds cluster-admin with bind on it',
    who: { user: 'dave' },
    kubectl: (c) => ({ args: ['create', '-f', '-', '-o', 'name'], input: roleBinding('team-a', `by-dave-${tagged(c)}`, { kind: 'ClusterRole', name: 'cluster-admin' }, [subject('User', 'nobody')]) }),
    grpc: (c) => [
      `${RBAC_V1}.RoleBindings`,
      'Create',
      { namespace: 'team-a', object: { metadata: { name: `by-dave-${tagged(c)}` }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [subject('User', 'nobody')] } },
    ],
    expect: { allowed: true },
    canI: { args: ['bind', 'clusterroles/cluster-admin', '-n', 'team-a'], answer: 'yes' },
  },
  {
    title: 'frank creates an aggregated ClusterRole without escalate',
    who: { user: 'frank' },
    kubectl: () => ({
      args: ['create', '-f', '-', '-o', 'name'],
      input: { ...clusterRole('aggregated', []), aggregationRule: { clusterRoleSelectors: [{ matchLabels: { team: 'a' } }] } },
    }),
    grpc: () => [`${RBAC_V1}.ClusterRoles`, 'Create', { object: { metadata: { name: 'aggregated' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { team: 'a' } }] } } }],
    expect: { forbidden: `clusterroles.${RBAC} "aggregated" is forbidden: must have cluster-admin privileges to use the aggregationRule` },
    canI: { args: ['escalate', 'clusterroles'], answer: 'no' },
  },
];

let dir: string;
let plane: ControlPlane;
let admin: Kubectl;
const kubectl = {} as Record<Version, Kubectl>;
let api: TypedGrpc;
/** Bearer tokens by user; robot's from `kubectl create token` of each kubectl version. */
const tokens: Record<string, string> = {};
const robotTokens = {} as Record<Channel, string>;

function tokenOf(who: Who, channel: Channel): string {
  return who.user === 'robot' ? robotTokens[channel] : (tokens[who.user] as string);
}

function identityFlags(who: Who, channel: Channel): string[] {
  return ['--token', tokenOf(who, channel), ...(who.as === undefined ? [] : ['--as', who.as]), ...(who.asGroups ?? []).flatMap((g) => ['--as-group', g])];
}

function metadataOf(who: Who, channel: Channel): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${tokenOf(who, channel)}`);
  if (who.as !== undefined) m.set('impersonate-user', who.as);
  for (const g of who.asGroups ?? []) m.add('impersonate-group', g);
  return m;
}

async function run(version: Version, args: string[], input?: object): Promise<KubectlResult> {
  return kubectl[version](args, input === undefined ? {} : { input: JSON.stringify(input) });
}

/** Runs `tasks` at most `limit` at a time (kubectl processes on a small machine). */
async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Polls `check` until it holds, at most `timeoutMs`; the last failure is the error. */
async function eventually(what: string, timeoutMs: number, check: () => Promise<void>): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - started;
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What kubectl printed for a refusal: its own prefix, then the server's message. */
function kubectlForbidden(r: KubectlResult, message: string, creating: boolean): void {
  assert.notEqual(r.code, 0, r.stdout);
  assert.equal(r.stderr.trim(), `Error from server (Forbidden): ${creating ? 'error when creating "STDIN": ' : ''}${message}`);
}

const kubectlPath = (version: Version): string => `/usr/lib/google-cloud-sdk/bin/kubectl.${version}`;
const missing = VERSIONS.filter((v) => !existsSync(kubectlPath(v)));
const skip = missing.length > 0 ? `no kubectl ${missing.join(', ')}` : false;

before(async () => {
  if (skip !== false) return;
  dir = await mkdtemp(join(tmpdir(), 'e2e-rbac-matrix-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
  admin = createKubectl(plane.kubeconfig, kubectlPath('1.33'));
  for (const v of VERSIONS) kubectl[v] = createKubectl(plane.kubeconfig, kubectlPath(v));
  api = typedGrpc(plane.addresses.gateway, ['apiserver/kinds/core_v1.proto', 'apiserver/kinds/rbac_v1.proto', 'apiserver/v1/resources.proto']);

  // The users, appended to the token file the auth service reloads when it changes.
  const lines = Object.entries(USERS).map(([name, u]) => {
    tokens[name] = randomBytes(24).toString('base64url');
    return `${tokens[name]},${name},${u.uid}${u.groups.length > 0 ? `,"${u.groups.join(',')}"` : ''}\n`;
  });
  await appendFile(join(dir, 'tokens.csv'), lines.join(''));

  const created = await admin(['create', '-f', '-', '-o', 'name'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: FIXTURES }) });
  assert.equal(created.code, 0, created.stderr);
  for (const v of VERSIONS) {
    const t = await kubectl[v](['create', 'token', 'robot', '-n', 'team-a']);
    assert.equal(t.code, 0, t.stderr);
    robotTokens[v] = t.stdout.trim();
  }
  robotTokens.grpc = robotTokens['1.33'];
  // The token file's users are known once the file is read again.
  await eventually('the users of the new token file', 10_000, async () => {
    const r = await admin(['auth', 'whoami', '-o', 'json', '--token', tokens.frank as string]);
    assert.equal(r.code, 0, r.stderr);
  });
});

after(async () => {
  api?.close();
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the authorization matrix', { skip }, () => {
  test('every row: the real request through kubectl 1.27 and 1.33 and the gRPC API, and auth can-i, as kube-apiserver answers', async () => {
    const failures: string[] = [];
    const check = async (label: string, body: () => Promise<void>): Promise<void> => {
      try {
        await body();
      } catch (err) {
        failures.push(`${label}: ${(err as Error).message}`);
      }
    };
    const tasks: (() => Promise<void>)[] = [];
    for (const row of ROWS) {
      for (const v of VERSIONS) {
        if (row.kubectl !== undefined) {
          const request = row.kubectl(v);
          tasks.push(() =>
            check(`${row.title} [kubectl ${v}]`, async () => {
              const r = await run(v, [...request.args, ...identityFlags(row.who, v)], request.input);
              if ('forbidden' in row.expect) kubectlForbidden(r, row.expect.forbidden, request.input !== undefined);
              else if ('notFound' in row.expect) {
                assert.notEqual(r.code, 0);
                assert.equal(r.stderr.trim(), 'Error from server (NotFound): the server could not find the requested resource');
              } else {
                assert.equal(r.code, 0, r.stderr);
                if (row.expect.stdout !== undefined) assert.equal(r.stdout.trim(), row.expect.stdout);
              }
            }),
          );
        }
        if (row.canI !== undefined) {
          const { args, answer } = row.canI;
          tasks.push(() =>
            check(`${row.title} [kubectl ${v} auth can-i ${args.join(' ')}]`, async () => {
              const r = await run(v, ['auth', 'can-i', ...args, ...identityFlags(row.who, v)]);
              if (typeof answer === 'object') {
                assert.equal(r.code, 1);
                assert.equal(r.stderr.trim(), `Error from server (Forbidden): ${answer.forbidden}`);
              } else {
                assert.equal(r.stdout, `${answer}\n`, r.stderr);
                assert.equal(r.code, answer === 'yes' ? 0 : 1);
              }
            }),
          );
        }
      }
      if (row.grpc !== undefined) {
        const [service, method, request] = row.grpc('grpc');
        tasks.push(() =>
          check(`${row.title} [gRPC ${service.split('.').pop()}/${method}]`, async () => {
            const { error } = await api.call(service, method, request, metadataOf(row.who, 'grpc'));
            if ('forbidden' in row.expect) {
              assert.equal(error?.code, grpc.status.PERMISSION_DENIED, error?.details ?? 'allowed');
              assert.equal(error.details, row.expect.forbidden);
            } else if ('notFound' in row.expect) assert.equal(error?.code, grpc.status.NOT_FOUND, error?.details);
            else assert.equal(error, undefined, error?.details);
          }),
        );
      }
    }
    await pool(4, tasks);
    assert.deepEqual(failures, []);
  });

  test('auth whoami: kubectl 1.33 reads SelfSubjectReview; kubectl 1.27 finds no v1beta1/v1alpha1, as with kube-apiserver 1.33', async () => {
    const whoami = async (who: Who): Promise<unknown> => {
      const r = await run('1.33', ['auth', 'whoami', '-o', 'json', ...identityFlags(who, '1.33')]);
      assert.equal(r.code, 0, r.stderr);
      const review = JSON.parse(r.stdout) as { apiVersion: string; kind: string; status: { userInfo: unknown } };
      assert.equal(`${review.apiVersion} ${review.kind}`, 'authentication.k8s.io/v1 SelfSubjectReview');
      return review.status.userInfo;
    };
    assert.deepEqual(await whoami({ user: 'alice' }), { username: 'alice', uid: 'uid-alice', groups: ['dev', 'system:authenticated'] });
    assert.deepEqual(await whoami({ user: 'bob' }), { username: 'bob', uid: 'uid-bob', groups: ['system:authenticated'] });
    assert.deepEqual(await whoami({ user: 'eve', as: 'alice', asGroups: ['dev'] }), { username: 'alice', groups: ['dev', 'system:authenticated'] });

    const uid = await admin(['get', 'serviceaccount', 'robot', '-n', 'team-a', '-o', 'jsonpath={.metadata.uid}']);
    const claims = JSON.parse(Buffer.from(robotTokens['1.33'].split('.')[1] as string, 'base64url').toString()) as { jti: string };
    assert.deepEqual(await whoami({ user: 'robot' }), {
      username: 'system:serviceaccount:team-a:robot',
      uid: uid.stdout,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] },
    });

    // kubectl 1.27 asks authentication.k8s.io/v1beta1, then v1alpha1: kube 1.33 serves neither
    // by default, and a user allowed to create selfsubjectreviews gets 404 for both.
    for (const who of [{ user: 'alice' }, { user: 'robot' }] as Who[]) {
      const r = await run('1.27', ['auth', 'whoami', ...identityFlags(who, '1.27')]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.trim(),
        'error: the selfsubjectreviews API is not enabled in the cluster\nenable APISelfSubjectReview feature gate and authentication.k8s.io/v1alpha1 or authentication.k8s.io/v1beta1 API',
      );
    }
  });

  test('auth can-i --list: the rules of the user in the namespace, directly and through --as', async () => {
    // Rows as kubectl prints them, runs of spaces collapsed; compared as sets of lines.
    const rows = (stdout: string) => stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).sort();
    const nonResource = (url: string) => `[${url}] [] [get]`;
    const expected = [
      'Resources Non-Resource URLs Resource Names Verbs',
      'selfsubjectreviews.authentication.k8s.io [] [] [create]',
      'selfsubjectaccessreviews.authorization.k8s.io [] [] [create]',
      'selfsubjectrulesreviews.authorization.k8s.io [] [] [create]',
      'pods [] [] [get list watch]',
      'pods/status [] [] [get]',
      // system:discovery, and system:public-info-viewer, both bound to system:authenticated
      ...['/api/*', '/api', '/apis/*', '/apis', '/healthz', '/livez', '/openapi/*', '/openapi', '/readyz', '/version/', '/version'].map(nonResource),
      ...['/healthz', '/livez', '/readyz', '/version/', '/version'].map(nonResource),
    ].sort();
    for (const v of VERSIONS) {
      for (const who of [{ user: 'alice' }, { user: 'eve', as: 'alice' }] as Who[]) {
        const r = await run(v, ['auth', 'can-i', '--list', '-n', 'team-a', ...identityFlags(who, v)]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(rows(r.stdout), expected, `kubectl ${v} as ${who.as ?? who.user}`);
      }
    }
    // A name rule shows its names; the namespace decides which bindings count.
    const inB = await run('1.33', ['auth', 'can-i', '--list', '-n', 'team-b', ...identityFlags({ user: 'alice' }, '1.33')]);
    assert.ok(rows(inB.stdout).includes('configmaps [] [allowed] [get]'), inB.stdout);
    assert.ok(!rows(inB.stdout).some((l) => l.startsWith('pods ')), inB.stdout);
  });

  test('a ClusterRole labelled aggregate-to-edit widens edit within bounded time, and narrows it again when deleted', async () => {
    const robot: Who = { user: 'robot' };
    const canCreate = async (): Promise<string> => (await run('1.33', ['auth', 'can-i', 'create', 'limitranges', '-n', 'team-a', ...identityFlags(robot, '1.33')])).stdout.trim();
    assert.equal(await canCreate(), 'no');
    const widening = clusterRole('limitrange-writer', [rule(['create', 'delete', 'get', 'list'], [''], ['limitranges'])], { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' });
    const made = await admin(['create', '-f', '-'], { input: JSON.stringify(widening) });
    assert.equal(made.code, 0, made.stderr);
    await eventually('edit aggregating limitrange-writer', 10_000, async () => assert.equal(await canCreate(), 'yes'));

    // The real requests now pass, through every channel.
    for (const v of VERSIONS) {
      const r = await run(v, ['create', '-f', '-', '-o', 'name', ...identityFlags(robot, v)], limitRange('team-a', `aggregated-${tagged(v)}`));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `limitrange/aggregated-${tagged(v)}`);
    }
    const { error } = await api.call(`${CORE}.LimitRanges`, 'Create', { namespace: 'team-a', object: { metadata: { name: 'aggregated-grpc' } } }, metadataOf(robot, 'grpc'));
    assert.equal(error, undefined, error?.details);
    const edit = JSON.parse((await admin(['get', 'clusterrole', 'edit', '-o', 'json'])).stdout) as { rules: { resources?: string[]; verbs: string[] }[] };
    assert.ok(edit.rules.some((r) => r.resources?.includes('limitranges') === true && r.verbs.includes('create')));

    const removed = await admin(['delete', 'clusterrole', 'limitrange-writer']);
    assert.equal(removed.code, 0, removed.stderr);
    await eventually('edit without limitrange-writer', 10_000, async () => assert.equal(await canCreate(), 'no'));
  });
});
