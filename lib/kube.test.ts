/**
 * The checks an untrusted object passes before it is parsed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from './errors.ts';
import { encodedJsonOf, jsonNestingDepth, MAX_JSON_DEPTH, objectBytes, parseEncodedObject, parseObjectBytes, parseUntrustedObject, unchangedOr } from './kube.ts';

const bytes = (s: string) => Buffer.from(s);

describe('jsonNestingDepth', () => {
  test('counts objects and arrays, not brackets inside strings or after escapes', () => {
    assert.equal(jsonNestingDepth(bytes('{}')), 1);
    assert.equal(jsonNestingDepth(bytes('{"a":[{"b":[]}]}')), 4);
    assert.equal(jsonNestingDepth(bytes('{"a":"[[[[{{{{"}')), 1);
    assert.equal(jsonNestingDepth(bytes('{"a":"\\"[[[["}')), 1);
    assert.equal(jsonNestingDepth(bytes('"x"')), 0);
  });

  test('stops early past the limit', () => {
    assert.equal(jsonNestingDepth(bytes('['.repeat(100)), 10), 11);
  });
});

describe('parseUntrustedObject', () => {
  const refuses = (input: Buffer, message: RegExp) =>
    assert.throws(() => parseUntrustedObject(input), (err: unknown) => err instanceof StatusError && err.reason === 'BadRequest' && message.test(err.message));

  test('takes an object nested up to the bound', () => {
    const atBound = `{"a":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    assert.ok(parseUntrustedObject(bytes(atBound)));
  });

  test('refuses deeper nesting, invalid UTF-8 and non-objects, never quoting the body', () => {
    refuses(bytes(`{"a":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`), /nested too deeply/);
    refuses(Buffer.concat([bytes('{"a":"'), Buffer.from([0xc3, 0x28]), bytes('"}')]), /not valid UTF-8/);
    refuses(bytes('[1,2]'), /must be a JSON object/);
    refuses(bytes('{"secret":"hunter2"'), /^(?!.*hunter2).*not valid JSON/);
  });
});

test('an object parsed with parseEncodedObject keeps its bytes, which are what encoding it gives', () => {
  const values: unknown[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { '2': 'x', b: 'y', '1': 'z' } }, data: { k: 'v\u2028\u0000"\\' } },
    { '10': 1, a: [1.5, -0, 1e21, 2 ** 53 + 2, null, true], __proto__x: {}, ['__proto__']: { p: 1 }, s: '\ud800 lone' },
    {},
  ];
  for (const value of values) {
    const bytes = objectBytes(value);
    const parsed = parseEncodedObject(bytes);
    assert.equal(encodedJsonOf(parsed), bytes);
    assert.equal(JSON.stringify(parsed), bytes.toString('utf8'));
    // Hidden from every other reader: keys, copies, comparison, serialization.
    assert.deepEqual(Object.keys(parsed), Object.keys(JSON.parse(bytes.toString('utf8')) as object));
    assert.deepEqual(parsed, JSON.parse(bytes.toString('utf8')));
    assert.equal(encodedJsonOf({ ...parsed }), undefined);
    assert.equal(encodedJsonOf(structuredClone(parsed)), undefined);
  }
  assert.equal(encodedJsonOf(parseObjectBytes(objectBytes({ a: 1 }))), undefined);
  assert.equal(encodedJsonOf(undefined), undefined);
});

test('unchangedOr gives back the original for a copy that changed nothing JSON shows, the copy otherwise', () => {
  const nested = { x: 1 };
  const original = { apiVersion: 'v1', kind: 'ConfigMap', nested };
  assert.equal(unchangedOr({ ...original, kind: 'ConfigMap' }, original), original);
  assert.equal(unchangedOr(original, original), original);
  const changed = [
    { ...original, kind: 'Secret' },
    { ...original, nested: { x: 1 } },
    { kind: 'ConfigMap', apiVersion: 'v1', nested },
    { ...original, extra: undefined },
    { apiVersion: 'v1', kind: 'ConfigMap' },
  ];
  for (const copy of changed) assert.equal(unchangedOr(copy, original), copy);
});
