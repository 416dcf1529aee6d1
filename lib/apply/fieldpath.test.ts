import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalElement, decodeFieldsV1, FieldSet, FieldsV1Error, pathString } from './fieldpath.ts';

/** FieldsV1 as kube writes it: the golden strings decode and encode back byte for byte. */
describe('FieldsV1 round trip (structured-merge-diff fieldpath/serialize_test.go TestSerializeV1GoldenData)', () => {
  const examples = [
    `{"f:aaa":{},"f:aab":{},"f:aac":{},"f:aad":{},"f:aae":{},"f:aaf":{},"k:{\\"name\\":\\"first\\"}":{},"k:{\\"name\\":\\"second\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{},"v:1":{},"v:2":{},"v:3":{},"v:\\"aa\\"":{},"v:\\"ab\\"":{},"v:true":{},"i:1":{},"i:2":{},"i:3":{},"i:4":{}}`,
    `{"f:aaa":{"k:{\\"name\\":\\"second\\"}":{"v:3":{"f:aab":{}}},"v:3":{},"v:true":{}},"f:aab":{"f:aaa":{},"f:aaf":{"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{}}},"k:{\\"name\\":\\"first\\"}":{}},"f:aac":{"f:aaa":{"v:1":{}},"f:aac":{},"v:3":{"k:{\\"name\\":\\"second\\"}":{}}},"f:aad":{"f:aac":{"v:1":{}},"f:aaf":{"k:{\\"name\\":\\"first\\"}":{"k:{\\"name\\":\\"first\\"}":{}}},"i:1":{"i:1":{},"i:3":{"v:true":{}}}},"f:aae":{"f:aae":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{}},"i:4":{"f:aaf":{}}},"f:aaf":{"i:1":{"f:aac":{}},"i:2":{},"i:3":{}},"k:{\\"name\\":\\"first\\"}":{"f:aad":{"f:aaf":{}}},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{"f:aaa":{"f:aad":{}}},"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{"f:aac":{},"k:{\\"name\\":\\"first\\"}":{"i:3":{}},"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{"i:4":{}}},"v:1":{"f:aac":{"i:4":{}},"f:aaf":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{}},"v:2":{"f:aad":{"f:aaf":{}},"i:1":{}},"v:3":{"f:aaa":{},"k:{\\"name\\":\\"first\\"}":{},"i:2":{}},"v:\\"aa\\"":{"f:aab":{"f:aaf":{}},"f:aae":{},"k:{\\"name\\":\\"first\\"}":{"f:aad":{}},"i:2":{}},"v:\\"ab\\"":{"f:aaf":{"i:4":{}},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{},"v:1":{"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{}},"i:1":{"f:aae":{"i:4":{}}}},"v:true":{"k:{\\"name\\":\\"second\\"}":{"f:aaa":{}},"i:2":{"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{}}},"i:1":{"i:3":{"f:aaf":{}}},"i:2":{"f:aae":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{"v:1":{}}},"i:3":{"f:aab":{"v:true":{"v:\\"aa\\"":{}}},"f:aaf":{},"i:1":{}},"i:4":{"v:\\"aa\\"":{"f:aab":{"k:{\\"name\\":\\"second\\"}":{}}}}}`,
    `{"f:spec":{".":{},"f:apps":{".":{},"k:{\\"name\\":\\" app-💻\\"}":{".":{},"f:container":{".":{},"f:image":{},"f:name":{},"f:ports":{".":{},"k:{\\"name\\":\\"port 🔑\\"}":{".":{},"f:containerPort":{},"f:name":{}}}},"f:name":{}},"k:{\\"name\\":\\" app-🚀\\"}":{".":{},"f:container":{".":{},"f:image":{},"f:name":{},"f:ports":{".":{},"k:{\\"name\\":\\"port-✅ \\"}":{".":{},"f:containerPort":{},"f:name":{}}}},"f:name":{}}}}}`,
  ];
  examples.forEach((golden, i) => {
    test(`golden ${i}`, () => {
      const set = decodeFieldsV1(JSON.parse(golden));
      assert.equal(JSON.stringify(set.toFieldsV1()), golden);
    });
  });

  test('non-normalized input is written normalized (serialize_test.go TestDeserializeForValidNonNormalized)', () => {
    const input = `{"f:aad":{},"f:aaa":{},"f:aab":{},"f:aac":{},"f:aae":{},"f:aaf":{},"k:{\\"name\\":\\"first\\"}":{},"k:{\\"name\\":\\"second\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{},"k:{ \\"protocol\\":\\"udp\\",\\"port\\":443}":{},"v:1":{},"v:2":{},"v: 3":{},"v:\\"aa\\"":{},"v:\\"ab\\"":{},"v:true":{},"i:1":{},"i:2":{},"i:3":{},"i:4":{}}`;
    const normalized = `{"f:aaa":{},"f:aab":{},"f:aac":{},"f:aad":{},"f:aae":{},"f:aaf":{},"k:{\\"name\\":\\"first\\"}":{},"k:{\\"name\\":\\"second\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{},"v:1":{},"v:2":{},"v:3":{},"v:\\"aa\\"":{},"v:\\"ab\\"":{},"v:true":{},"i:1":{},"i:2":{},"i:3":{},"i:4":{}}`;
    assert.equal(JSON.stringify(decodeFieldsV1(JSON.parse(input)).toFieldsV1()), normalized);
  });
});

describe('path elements (structured-merge-diff fieldpath/serialize-pe_test.go)', () => {
  test('valid elements are kept in their canonical form', () => {
    for (const s of ['i:0', 'i:1234', 'f:', 'f:spec', 'f: string-with-spaces   ', 'k:{"name":"my-container"}', 'k:{"port":"8080","protocol":"TCP"}', 'k:{"optionalField":null}', 'k:{"listField":["1","2","3"]}', 'v:null', 'v:"some-string"', 'v:1234', 'v:{"some":"json"}', 'k:{"name":"app-🚀"}', 'f:spec-🚀']) {
      assert.equal(canonicalElement(s), s, s);
    }
    assert.equal(canonicalElement('k:{"jsonField":{"E":{"F":"G"},"A":1,"B":null,"C":"D"}}'), 'k:{"jsonField":{"A":1,"B":null,"C":"D","E":{"F":"G"}}}');
  });
  test('unknown element types are dropped, as SMD drops them', () => {
    assert.equal(canonicalElement('r:Hello'), undefined);
    assert.deepEqual(decodeFieldsV1({ 'r:Hello': {}, 'f:a': {} }).paths(), ['.a']);
  });
  test('malformed elements are refused (TestDeserializePathElementError)', () => {
    for (const s of ['', 'no-colon', 'i:index is not a number', 'i:1.23', 'i:', 'v:invalid json', 'v:', 'k:invalid json', 'k:{"name":invalid}', 'v:{"some":" \\x41"}', 'v', 'k', 'f', 'i', 'v:{"a":"b"', 'k:{"a":"b"', 'i: 0', 'i:0 ', 'v:{"some":"json"} {"other":"json"}', 'k:{"name":"my-container"} {"other":"my-container"}', 'k:[1]']) {
      assert.throws(() => canonicalElement(s), FieldsV1Error, s);
      assert.throws(() => decodeFieldsV1({ [s]: {} }), FieldsV1Error, s);
    }
  });
});

describe('decoding FieldsV1 from clients', () => {
  test('"." marks an element that is also a member; {} and null are members', () => {
    const set = decodeFieldsV1({ 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:x': null });
    assert.deepEqual(set.paths(), ['.x', '.metadata.labels', '.metadata.labels.app']);
    assert.ok(set.has(['f:metadata', 'f:labels']));
    assert.ok(!set.has(['f:metadata']));
  });
  test('values that are not objects are refused', () => {
    for (const bad of [{ 'f:a': 1 }, { 'f:a': 'x' }, { 'f:a': [] }, { 'f:a': { 'f:b': true } }]) {
      assert.throws(() => decodeFieldsV1(bad), FieldsV1Error);
    }
    assert.throws(() => decodeFieldsV1([]), FieldsV1Error);
    assert.throws(() => decodeFieldsV1('{}'), FieldsV1Error);
  });
  test('deep input is refused at the depth bound, without exhausting the stack', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 5000; i++) deep = { 'f:a': deep };
    assert.throws(() => decodeFieldsV1(deep), /nested more than 1000 levels deep/);
    assert.throws(() => decodeFieldsV1({ 'f:a': { 'f:b': {} } }, { maxDepth: 1, maxElements: 10 }), /nested more than 1 levels deep/);
  });
  test('deep JSON inside a key is refused at the depth bound, without exhausting the stack', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const key of [`v:${deep}`, `k:{"a":${deep}}`]) {
      assert.throws(() => decodeFieldsV1({ [key]: {} }), (err: unknown) => err instanceof FieldsV1Error && /nested more than 1000 levels deep/.test(err.message));
    }
    const fine = '['.repeat(50) + ']'.repeat(50);
    assert.deepEqual(decodeFieldsV1({ [`v:${fine}`]: {} }).members.size, 1);
  });
  test('huge input is refused at the element bound, in bounded time', () => {
    const wide: Record<string, unknown> = {};
    for (let i = 0; i < 50_000; i++) wide[`f:field${i}`] = {};
    const started = performance.now();
    assert.throws(() => decodeFieldsV1(wide, { maxDepth: 10, maxElements: 20_000 }), /too many path elements/);
    assert.equal(decodeFieldsV1(wide).members.size, 50_000);
    assert.ok(performance.now() - started < 10_000);
  });
});

describe('field sets (structured-merge-diff fieldpath/set_test.go)', () => {
  const a = FieldSet.of(['f:a', 'f:b'], ['f:a', 'f:c'], ['f:d']);
  const b = FieldSet.of(['f:a', 'f:c'], ['f:e']);
  test('union, difference and intersection', () => {
    assert.deepEqual(a.union(b).paths(), ['.d', '.e', '.a.b', '.a.c']);
    assert.deepEqual(a.difference(b).paths(), ['.d', '.a.b']);
    assert.deepEqual(a.intersection(b).paths(), ['.a.c']);
  });
  test('recursive difference removes whole subtrees', () => {
    assert.deepEqual(FieldSet.of(['f:status', 'f:x'], ['f:status'], ['f:spec']).recursiveDifference(FieldSet.of(['f:status'])).paths(), ['.spec']);
  });
  test('path strings as SMD prints them', () => {
    assert.equal(pathString(['f:spec', 'f:containers', 'k:{"name":"x"}', 'f:image']), '.spec.containers[name="x"].image');
    assert.equal(pathString(['f:list', 'v:"a"']), '.list[="a"]');
    assert.equal(pathString(['f:ports', 'k:{"containerPort":80,"protocol":"TCP"}']), '.ports[containerPort=80,protocol="TCP"]');
    assert.equal(pathString(['f:l', 'i:3']), '.l[3]');
  });
  test('Go JSON of keys: HTML characters escaped, fields sorted', () => {
    const set = FieldSet.of(['f:m', 'k:{"b":"<&>","a":1}']);
    assert.equal(canonicalElement('k:{"b":"<&>","a":1}'), 'k:{"a":1,"b":"\\u003c\\u0026\\u003e"}');
    assert.ok(decodeFieldsV1(set.toFieldsV1()).equals(decodeFieldsV1({ 'f:m': { 'k:{"a":1,"b":"\\u003c\\u0026\\u003e"}': {} } })));
  });
});
