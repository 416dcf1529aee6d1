/** RBAC rule evaluation, Covers and the escalation message, as kube's tables have them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactRules, compactString, covers, ESCALATION_CHECK_LIMITS, escalationMessage, policyRuleFrom, ruleAllows, TOO_LARGE_NOTE, type PolicyRule, type RequestAttributes } from './rules.ts';

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

/**
 * kube's Covers taken literally, as the reference: every servant rule broken down into one rule
 * per group × resource × verb (× name) and per URL × verb, each checked against every owner
 * rule with ruleCovers over whole lists.
 */
function literalCovers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  const piece = (p: Partial<PolicyRule>): PolicyRule => rule(p);
  const pieces = servant.flatMap((r) => [
    ...r.apiGroups.flatMap((g) =>
      r.resources.flatMap((res) => r.verbs.flatMap((v) => (r.resourceNames.length > 0 ? r.resourceNames.map((n) => piece({ apiGroups: [g], resources: [res], verbs: [v], resourceNames: [n] })) : [piece({ apiGroups: [g], resources: [res], verbs: [v] })]))),
    ),
    ...r.nonResourceURLs.flatMap((u) => r.verbs.map((v) => piece({ nonResourceURLs: [u], verbs: [v] }))),
  ]);
  const hasAll = (set: readonly string[], want: readonly string[]): boolean => want.every((w) => set.includes(w));
  const resourcesCovered = (set: readonly string[], want: readonly string[]): boolean =>
    set.includes('*') || want.every((p) => set.includes(p) || (p.includes('/') && set.includes(`*/${p.slice(p.indexOf('/') + 1)}`)));
  const urlCovered = (o: string, p: string): boolean => o === p || (o.endsWith('*') && p.startsWith(o.replace(/\*+$/, '')));
  const ruleCovers = (o: PolicyRule, sub: PolicyRule): boolean =>
    (o.verbs.includes('*') || hasAll(o.verbs, sub.verbs)) &&
    (o.apiGroups.includes('*') || hasAll(o.apiGroups, sub.apiGroups)) &&
    resourcesCovered(o.resources, sub.resources) &&
    sub.nonResourceURLs.every((p) => o.nonResourceURLs.some((u) => urlCovered(u, p))) &&
    (sub.resourceNames.length === 0 ? o.resourceNames.length === 0 : o.resourceNames.length === 0 || hasAll(o.resourceNames, sub.resourceNames));
  return pieces.filter((p) => !owner.some((o) => ruleCovers(o, p)));
}

test('covers answers as kube\'s literal breakdown on random rules, whole-rule shortcut and narrowing included', () => {
  // A small deterministic generator (mulberry32): the same rules on every run.
  let seed = 13;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const some = (from: readonly string[], max: number): string[] => Array.from({ length: Math.floor(random() * (max + 1)) }, () => from[Math.floor(random() * from.length)]!);
  const randomRule = (): PolicyRule =>
    rule({
      verbs: some(['get', 'list', 'delete', '*'], 3),
      apiGroups: some(['', 'apps', '*'], 2),
      resources: some(['pods', 'pods/status', 'pods/log', 'deployments', '*/status', '*'], 3),
      resourceNames: random() < 0.5 ? [] : some(['a', 'b', 'c'], 2),
      nonResourceURLs: random() < 0.6 ? [] : some(['/healthz', '/healthz/etcd', '/healthz/*', '/api*', '*'], 2),
    });
  let notCovered = 0;
  for (let i = 0; i < 3000; i++) {
    const owner = Array.from({ length: Math.floor(random() * 4) }, randomRule);
    const servant = Array.from({ length: 1 + Math.floor(random() * 2) }, randomRule);
    const want = literalCovers(owner, servant);
    const got = covers(owner, servant, ESCALATION_CHECK_LIMITS);
    const context = JSON.stringify({ owner, servant });
    assert.deepEqual(got.missing, want, context);
    assert.equal(got.covered, want.length === 0, context);
    assert.equal(got.limitReached, false, context);
    if (!got.covered) notCovered++;
  }
  // Both answers were well represented.
  assert.ok(notCovered > 500 && notCovered < 2500, String(notCovered));
});

const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** 150 groups × 150 resources × 150 verbs × 150 names: 506 million pieces from a body of a few kilobytes. */
const hostile = rule({ verbs: names('verb', 150), apiGroups: names('group', 150), resources: names('resource', 150), resourceNames: names('name', 150) });

/** CPU milliseconds `fn` takes (all threads of the process: compiler and collector included). */
function cpuMillis<T>(fn: () => T): { value: T; ms: number } {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

test('a hostile rule is refused within bounded CPU and a short message, whatever the owner rules', () => {
  const user = { username: 'eve', groups: ['system:authenticated'] };
  const prefix = 'user "eve" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n';
  const owners: [string, PolicyRule[]][] = [
    ['no rules held', []],
    ['a namespace admin\'s kind of rules', [rule({ verbs: ['get', 'list', 'watch'], apiGroups: ['', 'apps'], resources: ['pods', 'deployments'] }), rule({ verbs: ['*'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'] })]],
    // Every piece is held, by one rule per verb: only the breakdown could tell, and it is too long.
    ['held piece by piece', names('verb', 150).map((v) => rule({ verbs: [v], apiGroups: ['*'], resources: ['*'] }))],
    // Thousands of long rules each missing one resource: the whole-rule shortcut compares them all.
    ['many near misses', Array.from({ length: 2000 }, (_, i) => rule({ verbs: names('verb', 150), apiGroups: names('group', 150), resources: [...names('resource', 149), `other${i}`], resourceNames: names('name', 150) }))],
  ];
  for (const [name, owner] of owners) {
    const { value: message, ms } = cpuMillis(() => escalationMessage(user, owner, [], [hostile]));
    // Broken down in full this took tens of seconds and more than a gigabyte.
    assert.ok(ms < 2000, `${name}: ${ms} ms of CPU`);
    assert.ok(message !== undefined && message.startsWith(prefix), name);
    assert.ok(message.length < 16 * 1024, `${name}: ${message.length} characters`);
    assert.ok(message.endsWith(`\n${TOO_LARGE_NOTE}`), name);
  }
});

test('a large rule one owner rule covers whole is allowed without breaking it down', () => {
  const user = { username: 'eve', groups: [] };
  const owners = [[rule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] })], [rule({ verbs: names('verb', 150), apiGroups: ['*'], resources: names('resource', 150) })]];
  for (const owner of owners) {
    const { value, ms } = cpuMillis(() => escalationMessage(user, owner, [], [hostile]));
    assert.equal(value, undefined);
    assert.ok(ms < 500, `${ms} ms of CPU`);
  }
  // The shortcut follows breakdown's semantics: the pieces of a URL part have no name, so an owner with names does not cover them.
  assert.equal(covers([rule({ verbs: ['get'], nonResourceURLs: ['*'], resourceNames: ['a'] })], [rule({ verbs: ['get'], nonResourceURLs: ['/x'] })]).covered, false);
});

test('escalationMessage lists the first missing rules in order, then how many more; a check cut short says so', () => {
  const user = { username: 'bob', groups: [] };
  const prefix = 'user "bob" (groups=[]) is attempting to grant RBAC permissions not currently held:\n';
  const requested = [rule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets', 'pods', 'configmaps'] })];
  assert.equal(
    escalationMessage(user, [], [], requested, ESCALATION_CHECK_LIMITS, { lines: 2, chars: 8192 }),
    `${prefix}{APIGroups:[""], Resources:["configmaps"], Verbs:["get" "list"]}\n{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}\nand 1 more`,
  );
  // A line past the length limit ends the list; the count takes the rest.
  assert.equal(escalationMessage(user, [], [], requested, ESCALATION_CHECK_LIMITS, { lines: 50, chars: 70 }), `${prefix}{APIGroups:[""], Resources:["configmaps"], Verbs:["get" "list"]}\nand 2 more`);
  // Four pieces allowed: configmaps is reached with one of its verbs only.
  assert.equal(
    escalationMessage(user, [], ['role "gone" not found'], requested, { rules: 4, comparisons: 1000, missingChars: 1000 }),
    `${prefix}{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}\n${TOO_LARGE_NOTE}; resolution errors: [role "gone" not found]`,
  );
  const cut = covers([], requested, { rules: 1000, comparisons: 1000, missingChars: 21 });
  assert.deepEqual(cut, { covered: false, limitReached: true, missing: [rule({ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }), rule({ verbs: ['list'], apiGroups: [''], resources: ['secrets'] })] });
});
