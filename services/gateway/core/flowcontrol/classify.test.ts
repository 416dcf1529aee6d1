/**
 * Classification against kube's bootstrap FlowSchemas and rules (rule.go): subjects (users,
 * groups, service accounts, wildcards), resource rules (verbs, groups, resources with
 * subresources, namespaces, cluster scope), non-resource rules (exact paths and prefixes), the
 * matching order, the distinguishers, and kube's flow hash and shuffle-sharding deal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapConfiguration } from './bootstrap.ts';
import { flowDistinguisher, flowSchemaRules, hashFlowId, matchesFlowSchema, matchingOrder, type RequestDigest } from './classify.ts';
import { FlowControl } from './controller.ts';
import { dealHand } from './queueset.ts';
import { createLogger } from '../../../../lib/log.ts';

const logger = createLogger({ service: 'test', level: 'error' });

function resource(user: string, groups: readonly string[], verb: string, resourceName: string, namespace = '', apiGroup = '', subresource = ''): RequestDigest {
  return { user: { username: user, groups }, resourceRequest: true, verb, apiGroup, resource: resourceName, subresource, namespace, path: '' };
}

function path(user: string, groups: string[], verb: string, p: string): RequestDigest {
  return { user: { username: user, groups }, resourceRequest: false, verb, apiGroup: '', resource: '', subresource: '', namespace: '', path: p };
}

const AUTHENTICATED = ['system:authenticated'];

test('the bootstrap schemas classify as kube\'s do', () => {
  const fc = new FlowControl({ serverConcurrencyLimit: 600, logger });
  const schemaOf = (d: RequestDigest) => fc.classify(d).rules.name;
  assert.equal(schemaOf(resource('admin', ['system:masters', ...AUTHENTICATED], 'create', 'configmaps', 'default')), 'exempt');
  assert.equal(schemaOf(resource('alice', AUTHENTICATED, 'list', 'configmaps', 'default')), 'global-default');
  assert.equal(schemaOf(path('system:anonymous', ['system:unauthenticated'], 'get', '/healthz')), 'probes');
  assert.equal(schemaOf(path('alice', AUTHENTICATED, 'post', '/healthz')), 'global-default', 'probes match get only');
  assert.equal(schemaOf(resource('system:node:n1', ['system:nodes', ...AUTHENTICATED], 'update', 'nodes', '', '', 'status')), 'system-node-high');
  assert.equal(schemaOf(resource('system:node:n1', ['system:nodes', ...AUTHENTICATED], 'update', 'leases', 'kube-node-lease', 'coordination.k8s.io')), 'system-node-high');
  assert.equal(schemaOf(resource('system:node:n1', ['system:nodes', ...AUTHENTICATED], 'get', 'pods', 'default')), 'system-nodes');
  assert.equal(schemaOf(resource('system:kube-controller-manager', AUTHENTICATED, 'update', 'leases', 'kube-system', 'coordination.k8s.io')), 'system-leader-election');
  assert.equal(schemaOf(resource('system:kube-controller-manager', AUTHENTICATED, 'list', 'pods')), 'kube-controller-manager');
  const sa = (ns: string, name: string) => [`system:serviceaccount:${ns}:${name}`, ['system:serviceaccounts', `system:serviceaccounts:${ns}`, ...AUTHENTICATED]] as const;
  assert.equal(schemaOf(resource(...sa('kube-system', 'x'), 'get', 'leases', 'kube-system', 'coordination.k8s.io')), 'system-leader-election');
  assert.equal(schemaOf(resource(...sa('kube-system', 'x'), 'list', 'pods')), 'kube-system-service-accounts');
  assert.equal(schemaOf(resource(...sa('kube-systemx', 'x'), 'list', 'pods')), 'service-accounts', 'a namespace that only starts like kube-system is not it');
  assert.equal(schemaOf(resource(...sa('team', 'dev'), 'list', 'pods', 'team')), 'service-accounts');
  // A user in no group the schemas name falls to catch-all.
  assert.equal(schemaOf(resource('odd', [], 'get', 'pods', 'default')), 'catch-all');
});

test('rules: wildcards, subresources, namespaces and cluster scope, path prefixes', () => {
  const schema = flowSchemaRules({
    metadata: { name: 's', uid: 'u' },
    spec: {
      matchingPrecedence: 10,
      priorityLevelConfiguration: { name: 'l' },
      rules: [
        {
          subjects: [{ kind: 'User', user: { name: 'bob' } }, { kind: 'ServiceAccount', serviceAccount: { namespace: 'ns', name: 'robot' } }],
          resourceRules: [{ verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], namespaces: ['a', 'b'] }],
          nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/debug/*', '/logs'] }],
        },
      ],
    },
  });
  const bob = (verb: string, res: string, ns: string, sub = '', group = 'apps') => matchesFlowSchema(resource('bob', [], verb, res, ns, group, sub), schema);
  assert.equal(bob('get', 'deployments', 'a'), true);
  assert.equal(bob('get', 'deployments', 'a', 'scale'), true);
  assert.equal(bob('get', 'deployments', 'a', 'status'), false);
  assert.equal(bob('get', 'deployments', 'c'), false);
  assert.equal(bob('get', 'deployments', ''), false, 'not cluster scoped');
  assert.equal(bob('create', 'deployments', 'a'), false);
  assert.equal(bob('get', 'deployments', 'a', '', ''), false);
  assert.equal(matchesFlowSchema(resource('system:serviceaccount:ns:robot', [], 'get', 'deployments', 'b', 'apps'), schema), true);
  assert.equal(matchesFlowSchema(resource('system:serviceaccount:ns:other', [], 'get', 'deployments', 'b', 'apps'), schema), false);
  assert.equal(matchesFlowSchema(resource('carol', [], 'get', 'deployments', 'a', 'apps'), schema), false);
  const bobPath = (p: string, verb = 'get') => matchesFlowSchema(path('bob', [], verb, p), schema);
  assert.equal(bobPath('/metrics'), true);
  assert.equal(bobPath('/debug/pprof'), true);
  assert.equal(bobPath('/logs/x'), true, 'a listed path covers what is under it');
  assert.equal(bobPath('/metricsx'), false);
  assert.equal(bobPath('/metrics', 'post'), false);
});

test('matching order: precedence, then name; distinguishers', () => {
  const mk = (name: string, matchingPrecedence: number) => flowSchemaRules({ metadata: { name }, spec: { matchingPrecedence, priorityLevelConfiguration: { name: 'x' } } });
  const sorted = [mk('b', 5), mk('a', 5), mk('c', 1)].sort(matchingOrder).map((s) => s.name);
  assert.deepEqual(sorted, ['c', 'a', 'b']);
  const byUser = flowSchemaRules(bootstrapConfiguration().mandatoryFlowSchemas[1]!);
  const byNamespace = flowSchemaRules(bootstrapConfiguration().suggestedFlowSchemas.find((s) => s.metadata?.name === 'kube-scheduler')!);
  const exempt = flowSchemaRules(bootstrapConfiguration().mandatoryFlowSchemas[0]!);
  const d = resource('alice', AUTHENTICATED, 'get', 'pods', 'team');
  assert.equal(flowDistinguisher(d, byUser), 'alice');
  assert.equal(flowDistinguisher(d, byNamespace), 'team');
  assert.equal(flowDistinguisher(d, exempt), '');
});

test('the flow hash and the deal of a hand are kube\'s', () => {
  // SHA-256 of "global-default\0alice", its first 8 bytes read little-endian (computed apart).
  assert.equal(hashFlowId('global-default', 'alice'), 0xf4de3bd42ccdf6b7n);
  assert.notEqual(hashFlowId('global-default', 'alice'), hashFlowId('global-default', 'bob'));
  assert.notEqual(hashFlowId('global-default', 'alice'), hashFlowId('catch-all', 'alice'));
  // Dealer.Deal, worked by hand: deck 8, hand 3, hash 100: remainders 100%8=4, 12%7=5, 1%6=1
  // -> cards 4, 5 (>=4: 6), 1 -> [4, 6, 1].
  assert.deepEqual(dealHand(100n, 8, 3), [4, 6, 1]);
  for (const hash of [0n, 1n, 2n ** 64n - 1n, 123456789123456789n]) {
    const hand = dealHand(hash, 128, 6);
    assert.equal(new Set(hand).size, 6, 'distinct queues');
    for (const q of hand) assert.ok(q >= 0 && q < 128);
  }
});
