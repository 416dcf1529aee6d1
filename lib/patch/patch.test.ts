import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../errors.ts';
import type { KubeObject } from '../kube.ts';
import { SchemaSet } from '../kinds/schemas.ts';
import { goFloat, goFormat } from './go-format.ts';
import { applyJsonPatch, JsonPatchError, MAX_JSON_PATCH_COPY_BYTES, operationsOf } from './json-patch.ts';
import { applyMergePatch } from './merge-patch.ts';
import { applyPatch, decodePatch, mergeFactsOf, NO_MERGE_FACTS, patchTypeOf, type PatchType } from './index.ts';
import { applyStrategicMergePatch, StrategicMergeError } from './strategic.ts';
import { statusOf } from '../../test/support/status.ts';

const definitions = new SchemaSet();
const POD = mergeFactsOf((name) => definitions.get(name), 'io.k8s.api.core.v1.Pod');
const NODE = mergeFactsOf((name) => definitions.get(name), 'io.k8s.api.core.v1.Node');

function jsonPatch(doc: unknown, ops: unknown[]): unknown {
  return applyJsonPatch(structuredClone(doc) as Record<string, unknown>, operationsOf(ops));
}

function jsonPatchError(doc: unknown, ops: unknown[]): string {
  try {
    jsonPatch(doc, ops);
  } catch (err) {
    assert.ok(err instanceof JsonPatchError);
    return err.message;
  }
  assert.fail('the patch applied');
}

function smp(original: unknown, patch: unknown): unknown {
  return applyStrategicMergePatch(structuredClone(original) as Record<string, unknown>, structuredClone(patch) as Record<string, unknown>, POD);
}

function smpError(original: unknown, patch: unknown): StrategicMergeError {
  try {
    smp(original, patch);
  } catch (err) {
    assert.ok(err instanceof StrategicMergeError);
    return err;
  }
  assert.fail('the patch applied');
}

describe('JSON patch (RFC 6902, as kube applies it)', () => {
  const doc = { data: { a: '1', b: '2' }, list: ['x', 'y', 'z'] };

  test('add, remove, replace, move, copy and test', () => {
    assert.deepEqual(
      jsonPatch(doc, [
        { op: 'test', path: '/data/a', value: '1' },
        { op: 'add', path: '/data/c', value: '3' },
        { op: 'remove', path: '/data/b' },
        { op: 'replace', path: '/data/a', value: 'one' },
        { op: 'move', from: '/data/c', path: '/data/d' },
        { op: 'copy', from: '/list/0', path: '/list/-' },
        { op: 'add', path: '/list/1', value: 'w' },
      ]),
      { data: { a: 'one', d: '3' }, list: ['x', 'w', 'y', 'z', 'x'] },
    );
  });

  test('RFC 6901 escapes and negative indices (as the library takes them)', () => {
    assert.deepEqual(jsonPatch({ 'a/b': { 'c~d': 1 } }, [{ op: 'replace', path: '/a~1b/c~0d', value: 2 }]), { 'a/b': { 'c~d': 2 } });
    assert.deepEqual(jsonPatch({ l: [1, 2, 3] }, [{ op: 'remove', path: '/l/-1' }]), { l: [1, 2] });
  });

  test('replace of the root, test of the root', () => {
    assert.deepEqual(jsonPatch(doc, [{ op: 'replace', path: '', value: { x: 1 } }]), { x: 1 });
    assert.deepEqual(jsonPatch({ x: 1 }, [{ op: 'test', path: '', value: { x: 1 } }]), { x: 1 });
  });

  test("the library's words for what does not apply", () => {
    assert.equal(jsonPatchError(doc, [{ op: 'test', path: '/data/a', value: '2' }]), 'testing value /data/a failed: test failed');
    assert.equal(jsonPatchError(doc, [{ op: 'remove', path: '/data/x' }]), "error in remove for path: '/data/x': Unable to remove nonexistent key: x: missing value");
    assert.equal(jsonPatchError(doc, [{ op: 'add', path: '/nope/x', value: 1 }]), 'add operation does not apply: doc is missing path: "/nope/x": missing value');
    assert.equal(jsonPatchError(doc, [{ op: 'replace', path: '/list/7', value: 1 }]), 'replace operation does not apply: doc is missing key: /list/7: missing value');
    assert.equal(jsonPatchError(doc, [{ op: 'add', path: '/list/9', value: 1 }]), "error in add for path: '/list/9': Unable to access invalid index: 9: invalid index referenced");
    assert.equal(jsonPatchError(doc, [{ op: 'add', path: '/list/x', value: 1 }]), `error in add for path: '/list/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax`);
    assert.equal(jsonPatchError(doc, [{ op: 'frobnicate', path: '/a' }]), 'Unexpected kind: frobnicate');
    assert.equal(jsonPatchError(doc, [{ path: '/a' }]), 'Unexpected kind: unknown');
    assert.equal(jsonPatchError(doc, [{ op: 'add', value: 1 }]), 'add operation failed to decode path: missing value');
    assert.equal(jsonPatchError(doc, [{ op: 'move', path: '/a' }]), 'move operation failed to decode from: operation, missing from field: missing value');
  });

  test("the library's quirks: replace of a missing key adds it, test of a missing key against null passes", () => {
    assert.deepEqual(jsonPatch({}, [{ op: 'replace', path: '/a', value: 1 }]), { a: 1 });
    assert.deepEqual(jsonPatch({}, [{ op: 'test', path: '/a', value: null }]), {});
  });

  test('copies add at most the copy limit, all copies together', () => {
    const big = 'x'.repeat(1024 * 1024);
    const ops = [0, 1, 2, 3].map((i) => ({ op: 'copy', from: '/big', path: `/c${i}` }));
    const message = jsonPatchError({ big }, ops);
    assert.match(message, new RegExp(`^Unable to complete the copy, the accumulated size increase of copy is \\d+, exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}$`));
    assert.equal(Object.keys(jsonPatch({ big }, ops.slice(0, 2)) as object).length, 3);
  });

  test('a copy is a copy: changing it leaves its source alone', () => {
    assert.deepEqual(jsonPatch({ a: { x: 1 } }, [{ op: 'copy', from: '/a', path: '/b' }, { op: 'replace', path: '/b/x', value: 2 }]), { a: { x: 1 }, b: { x: 2 } });
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  test("the RFC's examples", () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [doc, patch, want] of cases) {
      assert.deepEqual(applyMergePatch(structuredClone(doc) as Record<string, unknown>, structuredClone(patch) as Record<string, unknown>), want, JSON.stringify([doc, patch]));
    }
  });
});

describe('strategic merge patch', () => {
  const pod = {
    metadata: { name: 'p', finalizers: ['a', 'b'], labels: { x: '1' } },
    spec: {
      containers: [
        { name: 'c1', image: 'i1', ports: [{ containerPort: 80 }] },
        { name: 'c2', image: 'i2' },
      ],
      tolerations: [{ key: 'k1' }],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
  };

  test('lists with strategy merge merge by their merge key; others are replaced', () => {
    const out = smp(pod, { spec: { containers: [{ name: 'c2', image: 'new' }, { name: 'c3', image: 'i3' }], tolerations: [{ key: 'k2' }] } }) as typeof pod;
    assert.deepEqual(out.spec.containers, [
      { name: 'c1', image: 'i1', ports: [{ containerPort: 80 }] },
      { name: 'c2', image: 'new' },
      { name: 'c3', image: 'i3' },
    ]);
    assert.deepEqual(out.spec.tolerations, [{ key: 'k2' }]);
  });

  test('maps merge, null deletes', () => {
    const out = smp(pod, { metadata: { labels: { x: null, y: '2' } } }) as typeof pod;
    assert.deepEqual(out.metadata.labels, { y: '2' });
  });

  test('$patch: delete and replace in list items; $patch: replace in an object; $patch: merge is refused', () => {
    assert.deepEqual((smp(pod, { spec: { containers: [{ name: 'c1', $patch: 'delete' }] } }) as typeof pod).spec.containers, [{ name: 'c2', image: 'i2' }]);
    assert.deepEqual((smp(pod, { spec: { containers: [{ name: 'c9', image: 'x' }, { $patch: 'replace' }] } }) as typeof pod).spec.containers, [{ name: 'c9', image: 'x' }]);
    assert.deepEqual((smp(pod, { metadata: { labels: { $patch: 'replace', z: '3' } } }) as typeof pod).metadata.labels, { z: '3' });
    assert.equal(smpError(pod, { spec: { containers: [{ name: 'c1', $patch: 'merge' }] } }).message, 'merging lists cannot yet be specified in the patch');
    assert.equal(smpError(pod, { metadata: { labels: { $patch: 'merge' } } }).message, 'unknown patch type: merge in map: map[$patch:merge]');
  });

  test('primitive lists with strategy merge are sets; $deleteFromPrimitiveList removes', () => {
    // The patch's items in its order; the server's own interleaved by the server's order.
    assert.deepEqual((smp(pod, { metadata: { finalizers: ['c', 'a'] } }) as typeof pod).metadata.finalizers, ['c', 'a', 'b']);
    assert.deepEqual((smp(pod, { metadata: { finalizers: ['b', 'b'] } }) as typeof pod).metadata.finalizers, ['a', 'b']);
    assert.deepEqual((smp(pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as typeof pod).metadata.finalizers, ['b']);
    assert.equal(smpError(pod, { metadata: { $deleteFromPrimitiveListfinalizers: ['a'] } }).message, 'invalid patch format of primitive list');
  });

  test('$setElementOrder orders a merged list', () => {
    const out = smp(pod, { spec: { '$setElementOrder/containers': [{ name: 'c2' }, { name: 'c1' }], containers: [{ name: 'c1', image: 'n1' }] } }) as typeof pod;
    assert.deepEqual(out.spec.containers.map((c) => [c.name, c.image]), [['c2', 'i2'], ['c1', 'n1']]);
  });

  test('$retainKeys keeps only the keys listed', () => {
    const out = smp(pod, { spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] } }) as typeof pod;
    assert.deepEqual(out.spec.volumes, [{ name: 'v', hostPath: { path: '/x' } }]);
    assert.equal(smpError(pod, { spec: { volumes: [{ name: 'v', $retainKeys: ['name'], hostPath: { path: '/x' } }] } }).message, 'invalid patch format of retainKeys');
  });

  test("kube's errors: items without the merge key, lists of lists (422)", () => {
    assert.equal(smpError(pod, { spec: { containers: [{ image: 'x' }] } }).message, 'map: map[image:x] does not contain declared merge key: name');
    const lists = smpError({ metadata: { finalizers: [['a']] } }, { metadata: { finalizers: [['b']] } });
    assert.equal(lists.message, 'lists of lists are not supported');
    assert.equal(lists.status, 422);
  });

  test('without merge facts every list is replaced', () => {
    const out = applyStrategicMergePatch(structuredClone(pod), { spec: { containers: [{ name: 'c3' }] } }, NO_MERGE_FACTS) as typeof pod;
    assert.deepEqual(out.spec.containers, [{ name: 'c3' }]);
  });

  test('a long merged list costs linear work, not quadratic', () => {
    const n = 50_000;
    const original = { spec: { containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'a' })) } };
    const patch = { spec: { containers: Array.from({ length: n }, (_, i) => ({ name: `c${n - i - 1}`, image: 'b' })) } };
    const started = performance.now();
    const out = smp(original, patch) as typeof pod;
    assert.equal(out.spec.containers.length, n);
    assert.ok(performance.now() - started < 5_000);
  });
});

describe('the patch types of the PATCH verb', () => {
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', resourceVersion: '5' }, data: { a: '1' } };
  const apply = (type: PatchType, body: string, validation: 'Strict' | 'Warn' | 'Ignore' = 'Strict') => applyPatch(decodePatch(type, Buffer.from(body), validation), cm);

  test('Content-Type: the three types; 415 in kube words for others (listing apply, served by the gateway), and for strategic on custom kinds', () => {
    assert.equal(patchTypeOf('application/json-patch+json', { source: 'builtin' }), 'json');
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8', { source: 'builtin' }), 'merge');
    assert.equal(patchTypeOf('application/strategic-merge-patch+json', { source: 'builtin' }), 'strategic');
    const other415 = statusOf(() => patchTypeOf('text/plain', { source: 'builtin' }));
    assert.equal(other415.code, 415);
    assert.equal(
      other415.message,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
    );
    assert.equal(
      statusOf(() => patchTypeOf('application/strategic-merge-patch+json', { source: 'custom' })).message,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });

  test('each type applies to a copy of the current object', () => {
    assert.deepEqual((apply('json', '[{"op":"add","path":"/data/b","value":"2"}]') as KubeObject).data, { a: '1', b: '2' });
    assert.deepEqual((apply('merge', '{"data":{"a":null,"c":"3"}}') as KubeObject).data, { c: '3' });
    assert.deepEqual((apply('strategic', '{"data":{"d":"4"}}') as KubeObject).data, { a: '1', d: '4' });
    assert.deepEqual(cm.data, { a: '1' });
  });

  test("kube's answers for bodies of the wrong shape", () => {
    assert.equal(statusOf(() => apply('json', '{}')).message, 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');
    assert.equal(statusOf(() => apply('json', '{}', 'Ignore')).message, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    assert.equal(statusOf(() => apply('json', '[{"op":"add","path":5}]')).message, 'error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string');
    assert.equal(statusOf(() => apply('merge', '[]')).message, 'error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}');
    assert.equal(statusOf(() => apply('merge', 'null')).message, 'Invalid JSON Patch');
    assert.equal(statusOf(() => apply('strategic', '"x"')).message, 'json: cannot unmarshal string into Go value of type map[string]interface {}');
    const invalidJson = statusOf(() => apply('merge', '{"a":'));
    assert.equal(invalidJson.code, 400);
    assert.doesNotMatch(invalidJson.message, /"a"/);
  });

  test('a JSON patch operation that does not apply is 422 with kube’s generic words', () => {
    const err = statusOf(() => apply('json', '[{"op":"test","path":"/data/a","value":"2"}]'));
    assert.equal(err.code, 422);
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.message, 'the server rejected our request due to an error in our request');
  });

  test('more than 10,000 JSON patch operations: 413', () => {
    const ops = JSON.stringify(Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/data/a', value: '1' })));
    const err = statusOf(() => apply('json', ops));
    assert.equal(err.code, 413);
    assert.equal(err.message, 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
    assert.doesNotThrow(() => apply('json', JSON.stringify(Array.from({ length: 10_000 }, () => ({ op: 'test', path: '/data/a', value: '1' })))));
  });

  test('strict errors of the patch itself: duplicate fields, unknown fields of operations', () => {
    assert.deepEqual(decodePatch('merge', Buffer.from('{"data":{"a":"1","a":"2"}}'), 'Strict').strictErrors, ['duplicate field "data.a"']);
    assert.deepEqual(decodePatch('merge', Buffer.from('{"data":{"a":"1","a":"2"}}'), 'Ignore').strictErrors, []);
    assert.deepEqual(decodePatch('json', Buffer.from('[{"op":"add","path":"/a","value":1,"extra":2}]'), 'Warn').strictErrors, ['json patch unknown field "[0].extra"']);
  });

  test('Go formatting of values in messages', () => {
    assert.equal(goFormat({ b: [1, 'x', null], a: { c: true } }), 'map[a:map[c:true] b:[1 x <nil>]]');
    assert.equal(goFloat(1.5), '1.5');
    assert.equal(goFloat(1.5e-7), '1.5e-07');
  });
});

describe('hostile patches', () => {
  test('any JSON patch body of any type ends in the patched value or a StatusError, never another error', async () => {
    const fc = (await import('fast-check')).default;
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', finalizers: ['a'], labels: { x: '1' } }, spec: { podCIDRs: ['1'], taints: [{ key: 'k' }] } };
    const key = fc.constantFrom('metadata', 'spec', 'podCIDRs', 'taints', 'finalizers', 'labels', 'key', 'name', '$patch', '$retainKeys', '$setElementOrder/podCIDRs', '$setElementOrder/taints', '$deleteFromPrimitiveList/podCIDRs', '$deleteFromPrimitiveList/x', 'x');
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.constantFrom(null, true, 1, 1.5, 'a', 'delete', 'replace', 'merge', 'k'), fc.array(tie('any'), { maxLength: 3 }), fc.dictionary(key, tie('any'), { maxKeys: 4 })),
    })).any;
    const op = fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'x'), path: fc.constantFrom('', '/', '/spec', '/spec/podCIDRs/0', '/spec/podCIDRs/-', '/spec/taints/9', '/metadata/labels/x', '/a/b'), from: fc.constantFrom('/spec', '/metadata/labels', '/spec/podCIDRs/0'), value });
    const types: PatchType[] = ['json', 'merge', 'strategic'];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.oneof(value, fc.array(op, { maxLength: 5 })), fc.constantFrom<'Strict' | 'Ignore'>('Strict', 'Ignore'), (type, body, validation) => {
        try {
          applyPatch(decodePatch(type, Buffer.from(JSON.stringify(body)), validation), node as KubeObject, NODE);
        } catch (err) {
          assert.ok(err instanceof StatusError, `${type} ${JSON.stringify(body)}: ${String(err)}`);
        }
      }),
      { numRuns: 3000, seed: 6902 },
    );
  });
});
