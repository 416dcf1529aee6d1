/**
 * The checks an untrusted object passes before it is parsed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from './errors.ts';
import { jsonNestingDepth, MAX_JSON_DEPTH, parseUntrustedObject } from './kube.ts';

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
