/** RBAC rule evaluation, Covers and the escalation message, as kube's tables have them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactRules, compactString, covers, escalationMessage, policyRuleFrom, ruleAllows, type PolicyRule, type RequestAttributes } from './rules.ts';

function rule(r: Partial<PolicyRule>): PolicyRule {
  return policyRuleFrom(r);
}

type Req = Omit<RequestAttributes, 'user'>;

function res(verb: string, apiGroup: string, resource: string, subresource = '', name = ''): Req {
  return { verb, resourceRequest: true, apiGroup, resource, subresource, namespace: 'ns', name, path: '' };
}

function url(verb: string, path: string): Req {
  return { verb, resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path };
}

test('ruleAllows: verbs, groups, resources, subresources, names and non-resource URLs', () => {
  const cases: [string, Partial<PolicyRule>, Req, boolean][] = [
    ['exact match', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', '', 'pods'), true],
    ['other verb', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('list', '', 'pods'), false],
    ['verb *', { verbs: ['*'], apiGroups: [''], resources: ['pods'] }, res('delete', '', 'pods'), true],
    ['other group', { verbs: ['get'], apiGroups: [''], resources: ['deployments'] }, res('get', 'apps', 'deployments'), false],
    ['group *', { verbs: ['get'], apiGroups: ['*'], resources: ['deployments'] }, res('get', 'apps', 'deployments'), true],
    ['resource *', { verbs: ['get'], apiGroups: [''], resources: ['*'] }, res('get', '', 'secrets'), true],
    ['resource * covers subresources', { verbs: ['get'], apiGroups: [''], resources: ['*'] }, res('get', '', 'pods', 'log'), true],
    ['resource does not cover its subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', '', 'pods', 'log'), false],
    ['resource/subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res('get', '', 'pods', 'log'), true],
    ['subresource does not cover its resource', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res('get', '', 'pods'), false],
    ['*/subresource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, res('get', 'apps', 'deployments', 'scale'), true],
    ['*/subresource, other subresource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, res('get', 'apps', 'deployments', 'status'), false],
    ['*/subresource without a subresource', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, res('get', 'apps', 'deployments'), false],
    ['*/subresource is a suffix test of the same length only', { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }, res('get', 'apps', 'deployments', 'xscale'), false],
    ['resourceNames match', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a', 'b'] }, res('get', '', 'configmaps', '', 'b'), true],
    ['resourceNames other', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('get', '', 'configmaps', '', 'c'), false],
    ['resourceNames and no name (list)', { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('list', '', 'configmaps'), false],
    ['URL exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('get', '/healthz'), true],
    ['URL other', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('get', '/healthz/etcd'), false],
    ['URL trailing *', { verbs: ['get'], nonResourceURLs: ['/healthz/*'] }, url('get', '/healthz/etcd'), true],
    ['URL trailing * needs its prefix', { verbs: ['get'], nonResourceURLs: ['/healthz/*'] }, url('get', '/healthz'), false],
    ['URL trailing stars trimmed', { verbs: ['get'], nonResourceURLs: ['/api**'] }, url('get', '/apis/apps'), true],
    ['URL *', { verbs: ['get'], nonResourceURLs: ['*'] }, url('get', '/anything'), true],
    ['URL rule for a resource request', { verbs: ['get'], nonResourceURLs: ['*'] }, res('get', '', 'pods'), false],
    ['resource rule for a URL', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, url('get', '/api'), false],
    ['URL verb', { verbs: ['post'], nonResourceURLs: ['/api'] }, url('get', '/api'), false],
  ];
  for (const [name, r, request, want] of cases) assert.equal(ruleAllows(request, rule(r)), want, name);
});

test('covers: kube policy comparator cases', () => {
  const cases: [string, Partial<PolicyRule>[], Partial<PolicyRule>[], boolean, Partial<PolicyRule>[]][] = [
    ['single verb, single resource', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], true, []],
    [
      'partial verbs: the uncovered pieces',
      [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
      [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'services'] }],
      false,
      [
        { verbs: ['list'], apiGroups: [''], resources: ['pods'] },
        { verbs: ['get'], apiGroups: [''], resources: ['services'] },
        { verbs: ['list'], apiGroups: [''], resources: ['services'] },
      ],
    ],
    ['star everything', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['delete'], apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: ['x'] }], true, []],
    ['*/sub covers any resource with that subresource', [{ verbs: ['get'], apiGroups: [''], resources: ['*/status'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods/status', 'nodes/status'] }], true, []],
    ['*/sub does not cover the resource', [{ verbs: ['get'], apiGroups: [''], resources: ['*/status'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], false, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]],
    ['owner without names covers named', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }], true, []],
    [
      'owner with names does not cover unnamed',
      [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }],
      [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
      false,
      [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
    ],
    [
      'owner names cover the same names only',
      [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }],
      [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a', 'b'] }],
      false,
      [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['b'] }],
    ],
    ['URL prefix covers', [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis/apps', '/apis/*'] }], true, []],
    ['URL * covers all', [{ verbs: ['*'], nonResourceURLs: ['*'] }], [{ verbs: ['get', 'post'], nonResourceURLs: ['/x'] }], true, []],
    ['URL not covered', [{ verbs: ['get'], nonResourceURLs: ['/api'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis'] }], false, [{ verbs: ['get'], nonResourceURLs: ['/apis'] }]],
    ['resource rules do not cover URLs', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['get'], nonResourceURLs: ['/api'] }], false, [{ verbs: ['get'], nonResourceURLs: ['/api'] }]],
    ['two owner rules together', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { verbs: ['list'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }], true, []],
    ['nothing requested', [], [], true, []],
  ];
  for (const [name, owner, servant, want, missing] of cases) {
    const got = covers(owner.map(rule), servant.map(rule));
    assert.equal(got.covered, want, name);
    assert.deepEqual(got.missing, missing.map(rule), name);
  }
});

test('compactString and compactRules as kube prints them', () => {
  assert.equal(compactString(rule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] })), '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}');
  assert.equal(compactString(rule({ verbs: ['get'], nonResourceURLs: ['/healthz'] })), '{NonResourceURLs:["/healthz"], Verbs:["get"]}');
  assert.equal(compactString(rule({ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['a"b'] })), '{APIGroups:["apps"], Resources:["deployments"], ResourceNames:["a\\"b"], Verbs:["get"]}');
  const compacted = compactRules([
    rule({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }),
    rule({ verbs: ['get'], nonResourceURLs: ['/x'] }),
    rule({ verbs: ['list'], apiGroups: [''], resources: ['pods'] }),
    rule({ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }),
    rule({ verbs: ['watch'], apiGroups: [''], resources: ['pods'] }),
  ]);
  assert.deepEqual(compacted.map(compactString), [
    '{NonResourceURLs:["/x"], Verbs:["get"]}',
    '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list" "watch"]}',
    '{APIGroups:[""], Resources:["pods"], ResourceNames:["a"], Verbs:["get"]}',
  ]);
});

test('escalationMessage: kube\'s ConfirmNoEscalation text, sorted descriptions, resolution errors', () => {
  const user = { username: 'bob', groups: ['dev', 'system:authenticated'] };
  const owner = [rule({ verbs: ['get'], apiGroups: [''], resources: ['pods'] })];
  assert.equal(escalationMessage(user, owner, [], [rule({ verbs: ['get'], apiGroups: [''], resources: ['pods'] })]), undefined);
  assert.equal(
    escalationMessage(user, owner, [], [rule({ verbs: ['get', 'list', 'watch'], apiGroups: ['', 'apps'], resources: ['pods'] }), rule({ verbs: ['get'], nonResourceURLs: ['/metrics'] })]),
    'user "bob" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
      '{APIGroups:[""], Resources:["pods"], Verbs:["list" "watch"]}\n' +
      '{APIGroups:["apps"], Resources:["pods"], Verbs:["get" "list" "watch"]}\n' +
      '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
  );
  assert.equal(
    escalationMessage(user, [], ['clusterrole.rbac.authorization.k8s.io "gone" not found'], [rule({ verbs: ['get'], apiGroups: [''], resources: ['pods'] })]),
    'user "bob" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
      '{APIGroups:[""], Resources:["pods"], Verbs:["get"]}; resolution errors: [clusterrole.rbac.authorization.k8s.io "gone" not found]',
  );
});
