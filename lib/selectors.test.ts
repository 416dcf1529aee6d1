/**
 * Label and field selectors against the grammar and semantics of k8s.io/apimachinery's
 * labels.Parse and fields.ParseSelector (expected messages are kube's own words).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.ts';
import type { KubeObject } from './kube.ts';
import { checkFieldsSupported, createObjectFilter, objectFields, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { builtinRegistry } from './kinds/index.ts';

const selectableFields = (group: string, resource: string) => builtinRegistry().selectableFields(group, resource);

/** Asserts that `fn` throws a 400 BadRequest and returns its message. */
function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail('expected a BadRequest');
}

function matches(selector: string, labels: Record<string, string> | undefined): boolean {
  return parseLabelSelector(selector).matches(labels);
}

const KEY_REGEX_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('label selectors: operators', () => {
  test('the empty selector (or only whitespace) selects everything', () => {
    for (const s of ['', '   ', '\t\n']) {
      const sel = parseLabelSelector(s);
      assert.equal(sel.empty, true, JSON.stringify(s));
      assert.equal(sel.matches(undefined), true);
      assert.equal(sel.matches({ a: 'b' }), true);
    }
    assert.equal(parseLabelSelector('a').empty, false);
  });

  test('= and == need the label with that value', () => {
    for (const s of ['app=web', 'app==web']) {
      assert.equal(matches(s, { app: 'web' }), true, s);
      assert.equal(matches(s, { app: 'db' }), false, s);
      assert.equal(matches(s, {}), false, s);
      assert.equal(matches(s, undefined), false, s);
    }
  });

  test('!= also matches objects without the label', () => {
    assert.equal(matches('app!=web', { app: 'db' }), true);
    assert.equal(matches('app!=web', {}), true);
    assert.equal(matches('app!=web', undefined), true);
    assert.equal(matches('app!=web', { app: 'web' }), false);
  });

  test('in needs one of the values; notin excludes them and matches a missing label', () => {
    assert.equal(matches('env in (prod,staging)', { env: 'staging' }), true);
    assert.equal(matches('env in (prod,staging)', { env: 'dev' }), false);
    assert.equal(matches('env in (prod,staging)', {}), false);
    assert.equal(matches('env notin (prod,staging)', { env: 'dev' }), true);
    assert.equal(matches('env notin (prod,staging)', {}), true);
    assert.equal(matches('env notin (prod,staging)', { env: 'prod' }), false);
  });

  test('a bare key needs the label (any value, even empty); !key needs it absent', () => {
    assert.equal(matches('tier', { tier: '' }), true);
    assert.equal(matches('tier', { other: 'x' }), false);
    assert.equal(matches('!tier', { other: 'x' }), true);
    assert.equal(matches('!tier', undefined), true);
    assert.equal(matches('!tier', { tier: 'x' }), false);
  });

  test('the empty value: "a=", "a in ()", and empty members of a set', () => {
    assert.equal(matches('a=', { a: '' }), true);
    assert.equal(matches('a=', { a: 'x' }), false);
    assert.equal(matches('a=', {}), false);
    assert.equal(matches('a in ()', { a: '' }), true);
    assert.equal(matches('a in ()', { a: 'x' }), false);
    assert.equal(matches('a in (x,)', { a: '' }), true);
    assert.equal(matches('a in (,x)', { a: '' }), true);
    assert.equal(matches('a in (x,,y)', { a: '' }), true);
    assert.equal(matches('a in (x,y)', { a: '' }), false);
    assert.equal(matches('a=,b', { a: '', b: '1' }), true);
  });

  test('> and < compare integers and need the label', () => {
    assert.equal(matches('replicas>2', { replicas: '3' }), true);
    assert.equal(matches('replicas>2', { replicas: '2' }), false);
    assert.equal(matches('replicas>2', {}), false);
    assert.equal(matches('replicas>2', { replicas: 'many' }), false);
    assert.equal(matches('replicas<10', { replicas: '9' }), true);
    assert.equal(matches('replicas<10', { replicas: '-4' }), true);
    assert.equal(matches('replicas<10', { replicas: '10' }), false);
    // Compared as numbers, not strings, over the whole int64 range.
    assert.equal(matches('n>9', { n: '10' }), true);
    assert.equal(matches('n>9223372036854775806', { n: '9223372036854775807' }), true);
    assert.equal(matches('n<1', { n: '9223372036854775808' }), false);
  });

  test('comma-separated requirements must all hold', () => {
    const s = 'app=web,env in (prod),!legacy,tier';
    assert.equal(matches(s, { app: 'web', env: 'prod', tier: 'fe' }), true);
    assert.equal(matches(s, { app: 'web', env: 'prod' }), false);
    assert.equal(matches(s, { app: 'web', env: 'prod', tier: 'fe', legacy: 'y' }), false);
    assert.equal(matches(s, { app: 'db', env: 'prod', tier: 'fe' }), false);
  });

  test('whitespace between tokens is allowed anywhere', () => {
    const s = ' app = web ,\tenv  notin  ( a , b ) , ! legacy , x!=y,n > 1 ';
    assert.equal(matches(s, { app: 'web', env: 'c', n: '2' }), true);
    assert.equal(matches(s, { app: 'web', env: 'a', n: '2' }), false);
    assert.equal(matches('env in(a)', { env: 'a' }), true);
  });

  test('"in" and "notin" are ordinary words as keys and values', () => {
    assert.equal(matches('in in (notin)', { in: 'notin' }), true);
    assert.equal(matches('notin=in', { notin: 'in' }), true);
    assert.equal(matches('in', { in: 'x' }), true);
  });

  test('keys: DNS subdomain prefix, case-sensitive names', () => {
    assert.equal(matches('example.com/App=x', { 'example.com/App': 'x' }), true);
    assert.equal(matches('example.com/App=x', { 'example.com/app': 'x' }), false);
    assert.equal(matches('app.kubernetes.io/name', { 'app.kubernetes.io/name': 'y' }), true);
  });

  test('labels inherited from Object.prototype do not count', () => {
    assert.equal(matches('constructor', {}), false);
    assert.equal(matches('toString!=x', {}), true);
  });
});

describe('label selectors: errors (labels.Parse words, as 400 BadRequest)', () => {
  test('an invalid key', () => {
    assert.equal(badRequest(() => parseLabelSelector('-app=x')), `unable to parse requirement: <nil>: Invalid value: "-app": ${KEY_REGEX_MSG}`);
    assert.equal(
      badRequest(() => parseLabelSelector('Example.com/a')),
      `unable to parse requirement: <nil>: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    );
    assert.equal(badRequest(() => parseLabelSelector('/a')), 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty');
    assert.equal(
      badRequest(() => parseLabelSelector('a/')),
      `unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; ${KEY_REGEX_MSG}`,
    );
    assert.match(badRequest(() => parseLabelSelector('a/b/c')), /^unable to parse requirement: <nil>: Invalid value: "a\/b\/c": a qualified name must consist of/);
  });

  test('key length limits: 63 for the name part, 253 for the prefix', () => {
    const name63 = 'a'.repeat(63);
    assert.equal(matches(name63, { [name63]: '' }), true);
    assert.equal(
      badRequest(() => parseLabelSelector('a'.repeat(64))),
      `unable to parse requirement: <nil>: Invalid value: "${'a'.repeat(64)}": name part must be no more than 63 characters`,
    );
    const prefix253 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(prefix253.length, 253);
    assert.equal(parseLabelSelector(`${prefix253}/x`).empty, false);
    assert.match(badRequest(() => parseLabelSelector(`${prefix253}e/x`)), /prefix part must be no more than 253 characters/);
  });

  test('an invalid value names the value and its key', () => {
    assert.equal(badRequest(() => parseLabelSelector('app=-web')), `unable to parse requirement: values[0][app]: Invalid value: "-web": ${VALUE_REGEX_MSG}`);
    assert.equal(
      badRequest(() => parseLabelSelector('app in (ok,b@d)')),
      `unable to parse requirement: values[0][app]: Invalid value: "b@d": ${VALUE_REGEX_MSG}`,
    );
    assert.equal(
      badRequest(() => parseLabelSelector(`app=${'v'.repeat(64)}`)),
      `unable to parse requirement: values[0][app]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
    );
    assert.equal(parseLabelSelector(`app=${'v'.repeat(63)}`).empty, false);
  });

  test('> and < need an integer', () => {
    assert.equal(
      badRequest(() => parseLabelSelector('n>x')),
      `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`,
    );
    assert.equal(
      badRequest(() => parseLabelSelector('n<x_')),
      `unable to parse requirement: [values[0]: Invalid value: "x_": for 'Gt', 'Lt' operators, the value must be an integer, values[0][n]: Invalid value: "x_": ${VALUE_REGEX_MSG}]`,
    );
  });

  test('grammar errors', () => {
    const cases: [string, string][] = [
      ['a in (', "unable to parse requirement: found '', expected: ',', ')' or identifier"],
      ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
      ['a in (b c)', "unable to parse requirement: found 'c', expected: ',' or ')'"],
      ['a in b', "unable to parse requirement: found 'b' expected: '('"],
      ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
      ['a=b c', "found 'c', expected: ',' or 'end of string'"],
      ['a=(', "unable to parse requirement: found '(', expected: identifier"],
      ['!', "unable to parse requirement: found '', expected: identifier"],
      ['!a=b', "found '=', expected: ',' or 'end of string'"],
      ['a,', "found '', expected: identifier after ','"],
      ['a,,b', "found ',', expected: identifier after ','"],
      [',a', "found ',', expected: !, identifier, or 'end of string'"],
      ['=a', "found '=', expected: !, identifier, or 'end of string'"],
      ['a===b', "unable to parse requirement: found '=', expected: identifier"],
      ['a in (b,,)', "unable to parse requirement: found ')', expected: ',', or identifier"],
    ];
    for (const [selector, message] of cases) assert.equal(badRequest(() => parseLabelSelector(selector)), message, selector);
  });
});

describe('field selectors', () => {
  test('=, == and != over metadata.name and metadata.namespace', () => {
    const fields = { 'metadata.name': 'web', 'metadata.namespace': 'prod' };
    assert.equal(parseFieldSelector('metadata.name=web').matches(fields), true);
    assert.equal(parseFieldSelector('metadata.name==web').matches(fields), true);
    assert.equal(parseFieldSelector('metadata.name=db').matches(fields), false);
    assert.equal(parseFieldSelector('metadata.name!=db').matches(fields), true);
    assert.equal(parseFieldSelector('metadata.name!=web').matches(fields), false);
    assert.equal(parseFieldSelector('metadata.name=web,metadata.namespace=prod').matches(fields), true);
    assert.equal(parseFieldSelector('metadata.name=web,metadata.namespace=dev').matches(fields), false);
    assert.equal(parseFieldSelector('metadata.namespace=').matches({ 'metadata.name': 'n' }), true);
  });

  test('empty selectors and empty terms select everything', () => {
    for (const s of ['', ',', ',,']) assert.equal(parseFieldSelector(s).empty, true, s);
    const sel = parseFieldSelector(',metadata.name=a,');
    assert.equal(sel.empty, false);
    assert.equal(sel.matches({ 'metadata.name': 'a' }), true);
  });

  test('requiredValue is the value of an = term, never of !=', () => {
    const sel = parseFieldSelector('metadata.namespace!=x,metadata.name==web');
    assert.equal(sel.requiredValue('metadata.name'), 'web');
    assert.equal(sel.requiredValue('metadata.namespace'), undefined);
    assert.equal(parseFieldSelector('').requiredValue('metadata.name'), undefined);
  });

  test('values are not trimmed, and a spaced field name is another field', () => {
    assert.equal(parseFieldSelector('metadata.name=web ').matches({ 'metadata.name': 'web' }), false);
    assert.equal(badRequest(() => parseFieldSelector('metadata.name =web')), 'field label not supported: metadata.name ');
  });

  test('escapes: \\, \\= and \\\\ in values', () => {
    const sel = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d,metadata.namespace=x');
    assert.equal(sel.requiredValue('metadata.name'), 'a,b=c\\d');
    assert.equal(sel.matches({ 'metadata.name': 'a,b=c\\d', 'metadata.namespace': 'x' }), true);
  });

  test('bad escapes and unescaped = are refused with kube\'s words', () => {
    assert.equal(badRequest(() => parseFieldSelector('metadata.name=a\\b')), 'invalid field selector: invalid escape sequence: \\b');
    assert.equal(badRequest(() => parseFieldSelector('metadata.name=a\\')), 'invalid field selector: invalid escape sequence: \\');
    assert.equal(badRequest(() => parseFieldSelector('metadata.name=a=b')), 'invalid field selector: unescaped character in value: 61');
  });

  test('a term without an operator, and an unsupported field', () => {
    assert.equal(badRequest(() => parseFieldSelector('metadata.name')), "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    assert.equal(badRequest(() => parseFieldSelector('spec.nodeName=a')), 'field label not supported: spec.nodeName');
    assert.equal(parseFieldSelector('status.phase=Active', ['metadata.name', 'status.phase']).empty, false);
    assert.equal(badRequest(() => parseFieldSelector('metadata.namespace=a', ['metadata.name'])), 'field label not supported: metadata.namespace');
  });
});

describe('objectFields and createObjectFilter', () => {
  const cm = (name: string, namespace: string, labels?: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: labels === undefined ? { name, namespace } : { name, namespace, labels },
  });

  test('objectFields reads name and namespace ("" when absent)', () => {
    assert.deepEqual(objectFields(cm('a', 'ns')), { 'metadata.name': 'a', 'metadata.namespace': 'ns' });
    assert.deepEqual(objectFields({ kind: 'Node', metadata: { name: 'n' } }), { 'metadata.name': 'n', 'metadata.namespace': '' });
    assert.deepEqual(objectFields({}), { 'metadata.name': '', 'metadata.namespace': '' });
  });

  test('no namespace and no selectors: everything', () => {
    const f = createObjectFilter({});
    assert.equal(f.everything, true);
    assert.equal(f.matches(cm('a', 'x')), true);
    assert.equal(createObjectFilter({ namespace: '', labelSelector: '', fieldSelector: '' }).everything, true);
  });

  test('namespace, labels and fields must all hold', () => {
    const f = createObjectFilter({ namespace: 'prod', labelSelector: 'app=web', fieldSelector: 'metadata.name!=skip' });
    assert.equal(f.everything, false);
    assert.equal(f.matches(cm('a', 'prod', { app: 'web' })), true);
    assert.equal(f.matches(cm('a', 'dev', { app: 'web' })), false);
    assert.equal(f.matches(cm('a', 'prod', { app: 'db' })), false);
    assert.equal(f.matches(cm('a', 'prod')), false);
    assert.equal(f.matches(cm('skip', 'prod', { app: 'web' })), false);
    assert.equal(createObjectFilter({ namespace: 'prod' }).everything, false);
    assert.equal(createObjectFilter({ labelSelector: 'a' }).everything, false);
    assert.equal(createObjectFilter({ fieldSelector: 'metadata.name=a' }).everything, false);
  });

  test('a bad selector fails when the filter is made', () => {
    badRequest(() => createObjectFilter({ labelSelector: 'a in (' }));
    badRequest(() => createObjectFilter({ fieldSelector: 'nope' }));
  });
});

describe('selectable fields per kind (kube\'s core/v1 field label conversions)', () => {
  test('Namespace: metadata.name and status.phase, not metadata.namespace', () => {
    const fields = selectableFields('', 'namespaces');
    assert.deepEqual(fields.supported, ['metadata.name', 'status.phase']);
    assert.deepEqual(fields.values({ metadata: { name: 'a' }, status: { phase: 'Active' } }), { 'metadata.name': 'a', 'status.phase': 'Active' });
    assert.deepEqual(fields.values({ metadata: { name: 'a' } }), { 'metadata.name': 'a', 'status.phase': '' });
  });

  test('Node: metadata.name and spec.unschedulable as "true" or "false"', () => {
    const fields = selectableFields('', 'nodes');
    assert.deepEqual(fields.supported, ['metadata.name', 'spec.unschedulable']);
    assert.equal(fields.values({ metadata: { name: 'n' }, spec: { unschedulable: true } })['spec.unschedulable'], 'true');
    assert.equal(fields.values({ metadata: { name: 'n' } })['spec.unschedulable'], 'false');
    assert.equal(fields.values({ metadata: { name: 'n' }, spec: { unschedulable: 'yes' } })['spec.unschedulable'], 'false');
  });

  test('every other kind: metadata.name and metadata.namespace', () => {
    assert.deepEqual(selectableFields('', 'configmaps').supported, ['metadata.name', 'metadata.namespace']);
    assert.deepEqual(selectableFields('example.com', 'namespaces').supported, ['metadata.name', 'metadata.namespace'], 'the group counts');
  });

  test('a syntax-only parse, checked against a kind later', () => {
    const sel = parseFieldSelector('status.phase=Active,metadata.namespace=x', null);
    assert.deepEqual(sel.fields, ['metadata.namespace', 'status.phase'], 'in kube\'s (sorted) order');
    assert.equal(badRequest(() => checkFieldsSupported(sel, selectableFields('', 'namespaces').supported)), 'field label not supported: metadata.namespace');
    checkFieldsSupported(parseFieldSelector('status.phase=Active', null), selectableFields('', 'namespaces').supported);
  });

  test('createObjectFilter with a resource uses that kind\'s fields', () => {
    const active = createObjectFilter({ fieldSelector: 'status.phase=Active', selectable: selectableFields('', 'namespaces') });
    assert.equal(active.matches({ metadata: { name: 'a' }, status: { phase: 'Active' } }), true);
    assert.equal(active.matches({ metadata: { name: 'b' }, status: { phase: 'Terminating' } }), false);
    assert.equal(badRequest(() => createObjectFilter({ fieldSelector: 'status.phase=Active' })), 'field label not supported: status.phase');
    const cordoned = createObjectFilter({ fieldSelector: 'spec.unschedulable=true', selectable: selectableFields('', 'nodes') });
    assert.equal(cordoned.matches({ metadata: { name: 'n' }, spec: { unschedulable: true } }), true);
    assert.equal(cordoned.matches({ metadata: { name: 'n' } }), false);
  });
});

describe('malformed objects (stored before the write checks, or by another writer)', () => {
  const poisoned: [string, unknown][] = [
    ['labels a string', { metadata: { name: 'p', namespace: 'ns', labels: 'app=web' } }],
    ['a label value a number', { metadata: { name: 'p', namespace: 'ns', labels: { app: 1 } } }],
    ['annotations with a number', { metadata: { name: 'p', namespace: 'ns', labels: { app: 'web' }, annotations: { n: 1 } } }],
    ['metadata an array', { metadata: ['p'] }],
    ['metadata a string', { metadata: 'p' }],
    ['a name that is an object', { metadata: { name: { p: 1 }, namespace: 'ns', labels: { app: 'web' } } }],
    ['a creationTimestamp that is no time', { metadata: { name: 'p', namespace: 'ns', labels: { app: 'web' }, creationTimestamp: 'now' } }],
  ];

  test('match no label or field selector, and never throw', () => {
    const filters = [
      createObjectFilter({ labelSelector: 'app=web' }),
      createObjectFilter({ labelSelector: '!app' }),
      createObjectFilter({ labelSelector: 'app notin (db)' }),
      createObjectFilter({ fieldSelector: 'metadata.name=p' }),
      createObjectFilter({ fieldSelector: 'metadata.name!=q' }),
      createObjectFilter({ namespace: 'ns', labelSelector: 'app' }),
    ];
    for (const [what, object] of poisoned) {
      for (const filter of filters) {
        assert.equal(filter.matches(object as KubeObject), false, what);
        const verdict = filter.verdict(object as KubeObject, 'ns');
        assert.equal(typeof verdict, 'object', what);
        assert.match((verdict as { malformed: string }).malformed, /^json: cannot unmarshal |is not an RFC 3339 time$/, what);
      }
    }
  });

  test('without selectors their shape does not matter: the namespace of the key decides', () => {
    const inNs = createObjectFilter({ namespace: 'ns' });
    for (const [what, object] of poisoned) {
      assert.equal(createObjectFilter({}).matches(object as KubeObject), true, what);
      assert.equal(inNs.verdict(object as KubeObject, 'ns'), true, what);
      assert.equal(inNs.verdict(object as KubeObject, 'other'), false, what);
    }
  });

  test('null maps and lists are absent, as Go decodes them: well-formed', () => {
    const object = { metadata: { name: 'p', namespace: 'ns', labels: null, annotations: null, finalizers: null } } as unknown as KubeObject;
    assert.equal(createObjectFilter({ labelSelector: 'app=web' }).matches(object), false);
    assert.equal(createObjectFilter({ labelSelector: '!app' }).matches(object), true);
    assert.equal(createObjectFilter({ fieldSelector: 'metadata.name=p' }).matches(object), true);
    assert.equal(createObjectFilter({ labelSelector: 'a' }).verdict({}), false, 'no metadata at all is an empty ObjectMeta');
    assert.equal(createObjectFilter({ labelSelector: '!a' }).verdict({}), true);
  });

  test('a field a kind selects by, of the wrong type, makes the object malformed for its selectors', () => {
    const phase = createObjectFilter({ fieldSelector: 'status.phase=Active', selectable: selectableFields('', 'namespaces') });
    assert.deepEqual(phase.verdict({ metadata: { name: 'a' }, status: { phase: 5 } }), {
      malformed: 'json: cannot unmarshal number into Go struct field NamespaceStatus.status.phase of type v1.NamespacePhase',
    });
    assert.deepEqual(createObjectFilter({ labelSelector: 'a', selectable: selectableFields('', 'nodes') }).verdict({ metadata: { name: 'n' }, spec: { unschedulable: 'yes' } }), {
      malformed: 'json: cannot unmarshal string into Go struct field NodeSpec.spec.unschedulable of type bool',
    });
    assert.equal(createObjectFilter({ fieldSelector: 'metadata.name=n', selectable: selectableFields('', 'nodes') }).verdict({ metadata: { name: 'n' }, spec: null }), true);
  });

  test('a shape problem the caller found already is not looked for again', () => {
    const filter = createObjectFilter({ labelSelector: 'app=web' });
    const object: KubeObject = { metadata: { labels: { app: 'web' } } };
    assert.equal(filter.verdict(object, undefined, null), true);
    assert.deepEqual(filter.verdict(object, undefined, 'known'), { malformed: 'known' });
    assert.equal(filter.selective, true);
    assert.equal(createObjectFilter({ namespace: 'ns' }).selective, false);
  });

  test('the parts never throw on their own either', () => {
    const selector = parseLabelSelector('app=web,tier');
    for (const labels of [null, 'app=web', ['app'], 5, { app: 1, tier: 'x' }, { app: null }]) assert.equal(selector.matches(labels), false, JSON.stringify(labels));
    assert.equal(parseLabelSelector('!app').matches({ app: 5 }), true, 'a value that is not a string is no label');
    assert.deepEqual(objectFields({ metadata: ['x'] } as unknown as KubeObject), { 'metadata.name': '', 'metadata.namespace': '' });
    assert.deepEqual(objectFields({ metadata: { name: 5, namespace: {} } } as unknown as KubeObject), { 'metadata.name': '', 'metadata.namespace': '' });
    assert.deepEqual(selectableFields('', 'namespaces').values({ metadata: 'x', status: 'Active' } as unknown as KubeObject), { 'metadata.name': '', 'status.phase': '' });
  });
});
