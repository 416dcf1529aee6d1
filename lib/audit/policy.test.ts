/**
 * Policy evaluation and validation. The evaluation cases are kube's own, taken as facts from
 * kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/audit/policy/checker_test.go
 * (TestChecker, TestCheckerPolicyOmitStages, TestOmitManagedFields: the same requests, rules,
 * expected levels and omitted stages); the validation cases follow
 * staging/src/k8s.io/apiserver/pkg/apis/audit/validation/validation.go and
 * staging/src/k8s.io/apiserver/pkg/audit/policy/reader.go.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../config.ts';
import { evaluatePolicy, levelLess, parsePolicy, type Level, type Policy, type PolicyAttributes, type PolicyRule, type Stage } from './policy.ts';

const tim = { username: 'tim@k8s.io', groups: ['humans', 'developers'] };

const base: PolicyAttributes = { user: tim, verb: 'get', resourceRequest: true, group: '', resource: '', subresource: '', namespace: '', name: '', path: '' };

/** checker_test.go's `attrs`. */
const attrs: Record<string, PolicyAttributes> = {
  namespaced: { ...base, namespace: 'default', resource: 'pods', name: 'busybox', path: '/api/v1/namespaces/default/pods/busybox' },
  cluster: { ...base, group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'edit', path: '/apis/rbac.authorization.k8s.io/v1beta1/clusterroles/edit' },
  nonResource: { ...base, resourceRequest: false, path: '/logs/kubelet.log' },
  subresource: { ...base, namespace: 'default', resource: 'pods', subresource: 'log', name: 'busybox', path: '/api/v1/namespaces/default/pods/busybox' },
  Unauthorized: { ...base, user: undefined, namespace: 'default', resource: 'pods', name: 'busybox', path: '/api/v1/namespaces/default/pods/busybox' },
};

function rule(r: Partial<PolicyRule> & { level: Level }): PolicyRule {
  return { users: [], userGroups: [], verbs: [], resources: [], namespaces: [], nonResourceURLs: [], omitStages: [], omitManagedFields: undefined, ...r };
}

const gr = (resources: string[], group = '', resourceNames: string[] = []) => ({ group, resources, resourceNames });

/** checker_test.go's `rules`. */
const rules: Record<string, PolicyRule> = {
  default: rule({ level: 'Metadata' }),
  create: rule({ level: 'Request', verbs: ['create'] }),
  tims: rule({ level: 'Metadata', users: ['tim@k8s.io'] }),
  humans: rule({ level: 'Metadata', userGroups: ['humans'] }),
  serviceAccounts: rule({ level: 'Request', userGroups: ['system:serviceaccounts'] }),
  getPods: rule({ level: 'RequestResponse', verbs: ['get'], resources: [gr(['pods'])] }),
  getPodLogs: rule({ level: 'Request', verbs: ['get'], resources: [gr(['pods/log'])] }),
  getPodWildcardMatching: rule({ level: 'Request', verbs: ['get'], resources: [gr(['*'])] }),
  getPodResourceWildcardMatching: rule({ level: 'Request', verbs: ['get'], resources: [gr(['*/log'])] }),
  getPodSubResourceWildcardMatching: rule({ level: 'Request', verbs: ['get'], resources: [gr(['pods/*'])] }),
  getClusterRoles: rule({ level: 'RequestResponse', verbs: ['get'], resources: [gr(['clusterroles'], 'rbac.authorization.k8s.io')], namespaces: [''] }),
  getLogs: rule({ level: 'RequestResponse', verbs: ['get'], nonResourceURLs: ['/logs*'] }),
  getMetrics: rule({ level: 'Request', verbs: ['get'], nonResourceURLs: ['/metrics'] }),
  clusterRoleEdit: rule({ level: 'Request', resources: [gr(['clusterroles'], 'rbac.authorization.k8s.io', ['edit'])] }),
  'omit RequestReceived': rule({ level: 'Request', omitStages: ['RequestReceived'] }),
  'only audit panic': rule({ level: 'Request', omitStages: ['RequestReceived', 'ResponseStarted', 'ResponseComplete'] }),
};

function check(req: string, level: Level, policyStages: Stage[], omitStages: Stage[], ...ruleNames: string[]): void {
  const policy: Policy = { rules: ruleNames.map((n) => rules[n]!), omitStages: policyStages, omitManagedFields: false };
  const got = evaluatePolicy(policy, attrs[req]!);
  const what = `request ${req}, rules ${ruleNames.join(',')}`;
  assert.equal(got.level, level, what);
  assert.deepEqual([...got.omitStages].sort(), [...new Set(omitStages)].sort(), what);
}

/** checker_test.go's testAuditLevel. */
function checkLevels(stages: Stage[]): void {
  check('namespaced', 'Metadata', stages, stages, 'default');
  check('namespaced', 'None', stages, stages, 'create');
  check('namespaced', 'Metadata', stages, stages, 'tims');
  check('namespaced', 'Metadata', stages, stages, 'humans');
  check('namespaced', 'None', stages, stages, 'serviceAccounts');
  check('namespaced', 'RequestResponse', stages, stages, 'getPods');
  check('namespaced', 'None', stages, stages, 'getClusterRoles');
  check('namespaced', 'None', stages, stages, 'getLogs');
  check('namespaced', 'None', stages, stages, 'getMetrics');
  check('namespaced', 'Metadata', stages, stages, 'getMetrics', 'serviceAccounts', 'default');
  check('namespaced', 'RequestResponse', stages, stages, 'getMetrics', 'getPods', 'default');
  check('namespaced', 'RequestResponse', stages, stages, 'getPodLogs', 'getPods');

  check('cluster', 'Metadata', stages, stages, 'default');
  check('cluster', 'None', stages, stages, 'create');
  check('cluster', 'Metadata', stages, stages, 'tims');
  check('cluster', 'Metadata', stages, stages, 'humans');
  check('cluster', 'None', stages, stages, 'serviceAccounts');
  check('cluster', 'None', stages, stages, 'getPods');
  check('cluster', 'RequestResponse', stages, stages, 'getClusterRoles');
  check('cluster', 'Request', stages, stages, 'clusterRoleEdit', 'getClusterRoles');
  check('cluster', 'None', stages, stages, 'getLogs');
  check('cluster', 'None', stages, stages, 'getMetrics');
  check('cluster', 'Metadata', stages, stages, 'getMetrics', 'serviceAccounts', 'default');
  check('cluster', 'RequestResponse', stages, stages, 'getMetrics', 'getClusterRoles', 'default');
  check('cluster', 'None', stages, stages, 'getPodLogs', 'getPods');

  check('nonResource', 'Metadata', stages, stages, 'default');
  check('nonResource', 'None', stages, stages, 'create');
  check('nonResource', 'Metadata', stages, stages, 'tims');
  check('nonResource', 'Metadata', stages, stages, 'humans');
  check('nonResource', 'None', stages, stages, 'serviceAccounts');
  check('nonResource', 'None', stages, stages, 'getPods');
  check('nonResource', 'None', stages, stages, 'getClusterRoles');
  check('nonResource', 'RequestResponse', stages, stages, 'getLogs');
  check('nonResource', 'None', stages, stages, 'getMetrics');
  check('nonResource', 'Metadata', stages, stages, 'getMetrics', 'serviceAccounts', 'default');
  check('nonResource', 'RequestResponse', stages, stages, 'getLogs', 'getClusterRoles', 'default');
  check('nonResource', 'None', stages, stages, 'getPodLogs', 'getPods');

  check('subresource', 'Request', stages, stages, 'getPodLogs', 'getPods');
  check('subresource', 'Request', stages, stages, 'getPodWildcardMatching');
  check('subresource', 'Request', stages, stages, 'getPodResourceWildcardMatching');
  check('subresource', 'Request', stages, stages, 'getPodSubResourceWildcardMatching');

  check('Unauthorized', 'None', stages, stages, 'tims');
  check('Unauthorized', 'Metadata', stages, stages, 'tims', 'default');
  check('Unauthorized', 'None', stages, stages, 'humans');
  check('Unauthorized', 'Metadata', stages, stages, 'humans', 'default');
}

describe('evaluatePolicy (kube checker_test.go)', () => {
  test('TestChecker: levels, and rule omitStages', () => {
    checkLevels([]);
    for (const req of ['namespaced', 'cluster', 'nonResource']) {
      check(req, 'Request', [], ['RequestReceived'], 'omit RequestReceived', 'getPods', 'default');
      check(req, 'Request', [], ['RequestReceived', 'ResponseStarted', 'ResponseComplete'], 'only audit panic', 'getPods', 'default');
    }
  });

  test('TestCheckerPolicyOmitStages: policy-wide omitStages are added to every rule', () => {
    const policyStages: Stage[] = ['RequestReceived', 'ResponseStarted'];
    checkLevels(policyStages);
    check('namespaced', 'Request', policyStages, ['RequestReceived', 'ResponseStarted'], 'omit RequestReceived', 'getPods', 'default');
    check('namespaced', 'Request', policyStages, ['RequestReceived', 'ResponseStarted', 'ResponseComplete'], 'only audit panic', 'getPods', 'default');
    check('cluster', 'Request', policyStages, ['RequestReceived', 'ResponseStarted'], 'omit RequestReceived', 'getPods', 'default');
    check('cluster', 'Request', policyStages, ['RequestReceived', 'ResponseStarted', 'ResponseComplete'], 'only audit panic', 'getPods', 'default');
    check('nonResource', 'Metadata', policyStages, ['RequestReceived', 'ResponseStarted'], 'default', 'omit RequestReceived', 'getPods');
    check('nonResource', 'Request', policyStages, ['RequestReceived', 'ResponseStarted', 'ResponseComplete'], 'only audit panic', 'getPods', 'default');
  });

  test('TestOmitManagedFields: a rule overrides the policy default', () => {
    const attributes: PolicyAttributes = { ...base, user: undefined, resourceRequest: false };
    const matching = rule({ level: 'RequestResponse', verbs: ['get'] });
    const cases: [boolean, boolean | undefined, boolean][] = [
      [false, undefined, false],
      [true, undefined, true],
      [true, false, false],
      [false, true, true],
    ];
    for (const [global, ruleValue, want] of cases) {
      const policy: Policy = { rules: [{ ...matching, omitManagedFields: ruleValue }], omitStages: [], omitManagedFields: global };
      assert.equal(evaluatePolicy(policy, attributes).omitManagedFields, want, `global ${global}, rule ${String(ruleValue)}`);
    }
  });

  test('levels are ordered None < Metadata < Request < RequestResponse', () => {
    assert.ok(levelLess('None', 'Metadata'));
    assert.ok(levelLess('Metadata', 'Request'));
    assert.ok(levelLess('Request', 'RequestResponse'));
    assert.ok(!levelLess('Metadata', 'Metadata'));
    assert.ok(!levelLess('RequestResponse', 'None'));
  });
});

describe('parsePolicy', () => {
  test('reads a YAML policy with every field', () => {
    const policy = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
omitManagedFields: true
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
      - group: ""
        resources: ["endpoints", "services"]
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: Request
    userGroups: ["system:serviceaccounts"]
    namespaces: ["kube-system"]
    omitManagedFields: false
    resources:
      - group: "apps"
        resources: ["deployments/scale"]
        resourceNames: ["web"]
    omitStages: ["ResponseStarted"]
  - level: Metadata
`);
    assert.equal(policy.rules.length, 4);
    assert.deepEqual(policy.omitStages, ['RequestReceived']);
    assert.equal(policy.omitManagedFields, true);
    assert.deepEqual(policy.rules[2], {
      level: 'Request',
      users: [],
      userGroups: ['system:serviceaccounts'],
      verbs: [],
      resources: [{ group: 'apps', resources: ['deployments/scale'], resourceNames: ['web'] }],
      namespaces: ['kube-system'],
      nonResourceURLs: [],
      omitStages: ['ResponseStarted'],
      omitManagedFields: false,
    });
    const d = evaluatePolicy(policy, { ...base, resourceRequest: false, path: '/healthz/ready' });
    assert.equal(d.level, 'None');
    const m = evaluatePolicy(policy, { ...base, verb: 'create', namespace: 'default', resource: 'configmaps', path: '/api/v1/namespaces/default/configmaps' });
    assert.equal(m.level, 'Metadata');
    assert.deepEqual([...m.omitStages], ['RequestReceived']);
    assert.equal(m.omitManagedFields, true);
  });

  test('refuses what kube refuses, naming each problem', () => {
    const refused = (text: string, message: RegExp) =>
      assert.throws(
        () => parsePolicy(text, 'policy.yaml'),
        (err: unknown) => err instanceof ConfigError && message.test(err.message) && err.message.endsWith('from file policy.yaml'),
        message.source,
      );
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\n', /^loaded illegal policy with 0 rules/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n', /^loaded illegal policy with 0 rules/);
    refused('apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: Metadata}]\n', /unknown group version/);
    refused('apiVersion: v1\nkind: ConfigMap\n', /unknown group version/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{verbs: [get]}]\n', /rules\[0\]\.level: Required value/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]\n', /rules\[0\]\.level: Unsupported value: "Everything"/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: ["healthz"]}]\n', /non-resource URL rules must begin with a '\/' character/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: ["/a*/b"]}]\n', /wildcards '\*' must be the final character/);
    refused(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: ["/a"], namespaces: [default]}]\n',
      /rules cannot apply to both regular resources and non-resource URLs/,
    );
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{group: "rbac.authorization.k8s.io/v1"}]}]\n', /rules\[0\]\.resources\.group: Invalid value/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{resourceNames: [a]}]}]\n', /using resourceNames requires at least one resource/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, omitStages: [Sometimes]}]\n', /rules\[0\]\.omitStages\[0\]: Invalid value: "Sometimes": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Never]\nrules: [{level: None}]\n', /omitStages\[0\]: Invalid value: "Never"/);
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, verbs: get}]\n', /rules\[0\]\.verbs: must be a list of strings/);
    refused('{ not yaml: [', /^failed decoding/);
    // Every problem is named, not only the first.
    refused('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Bad}, {}]\n', /rules\[0\]\.level: Unsupported.*rules\[1\]\.level: Required value/);
  });
});
