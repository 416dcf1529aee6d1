/**
 * Continue tokens in the format of k8s.io/apiserver/pkg/storage (EncodeContinue /
 * DecodeContinue), with its error words behind "invalid continue token: ".
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../lib/errors.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';

function badRequest(raw: string): string {
  try {
    decodeContinue(raw);
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail(`expected a BadRequest for ${raw}`);
}

/** A token with arbitrary JSON inside. */
function token(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

const INVALID_RV = 'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)';

describe('encodeContinue', () => {
  test('unpadded base64url of {"v":"meta.k8s.io/v1","rv":N,"start":KEY}, as kube writes it', () => {
    const raw = encodeContinue({ revision: 42, start: 'cm-2\u0000' });
    assert.match(raw, /^[A-Za-z0-9_-]+$/, 'safe in a URL without escaping');
    assert.deepEqual(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')), { v: 'meta.k8s.io/v1', rv: 42, start: 'cm-2\u0000' });
    // The exact bytes kube-apiserver produces for the same token.
    assert.equal(encodeContinue({ revision: 5, start: 'b' }), 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiJiIn0');
  });

  test('round trip', () => {
    for (const t of [
      { revision: 1, start: 'a' },
      { revision: 9007199254740991, start: 'ns/name\u0000' },
      { revision: 77, start: 'ünïcödé/näme' },
    ]) {
      assert.deepEqual(decodeContinue(encodeContinue(t)), t);
    }
  });
});

describe('decodeContinue refuses garbage with 400 BadRequest', () => {
  test('not base64url at all, or not JSON inside', () => {
    for (const raw of ['not a token!', 'a+b/c=', '%%%', 'A']) assert.ok(badRequest(raw).startsWith(`${INVALID_RV}: `), raw);
    assert.ok(badRequest(Buffer.from('{"v":').toString('base64url')).startsWith(`${INVALID_RV}: `));
    assert.ok(badRequest('').startsWith(`${INVALID_RV}: `));
  });

  test('JSON that is no object', () => {
    for (const json of [null, 42, 'str', [1, 2]]) assert.ok(badRequest(token(json)).startsWith(INVALID_RV), JSON.stringify(json));
  });

  test('another version', () => {
    assert.equal(
      badRequest(token({ v: 'meta.k8s.io/v2', rv: 1, start: 'a' })),
      'invalid continue token: continue key is not valid: server does not recognize this encoded version meta.k8s.io/v2',
    );
    assert.match(badRequest(token({ rv: 1, start: 'a' })), /server does not recognize this encoded version/);
  });

  test('a revision that is 0 or not an integer', () => {
    for (const rv of [0, 1.5, '5', null, 2 ** 60]) assert.equal(badRequest(token({ v: 'meta.k8s.io/v1', rv, start: 'a' })), INVALID_RV, String(rv));
  });

  test('a negative revision is kept: kube reads such a token at the newest revision', () => {
    assert.deepEqual(decodeContinue(token({ v: 'meta.k8s.io/v1', rv: -1, start: 'a' })), { revision: -1, start: 'a' });
  });

  test('an empty or missing start key', () => {
    assert.equal(
      badRequest(token({ v: 'meta.k8s.io/v1', rv: 3, start: '' })),
      'invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)',
    );
    assert.equal(badRequest(token({ v: 'meta.k8s.io/v1', rv: 3 })), INVALID_RV);
    assert.equal(badRequest(token({ v: 'meta.k8s.io/v1', rv: 3, start: 7 })), INVALID_RV);
  });

  test('a start key that path cleaning would change cannot climb out of the collection', () => {
    for (const start of ['../secrets/x', '../../x', 'a/../../b', 'a/./b', 'a//b', 'a/', '..', '.', '/..']) {
      assert.equal(badRequest(token({ v: 'meta.k8s.io/v1', rv: 3, start })), `invalid continue token: continue key is not valid: ${start}`, start);
    }
  });

  test('clean start keys are kept; a leading "/" is dropped as kube does', () => {
    assert.deepEqual(decodeContinue(token({ v: 'meta.k8s.io/v1', rv: 3, start: '/cm' })), { revision: 3, start: 'cm' });
    assert.deepEqual(decodeContinue(token({ v: 'meta.k8s.io/v1', rv: 3, start: 'ns/..cm' })), { revision: 3, start: 'ns/..cm' });
    // Unknown fields are ignored, as Go's json.Unmarshal does.
    assert.deepEqual(decodeContinue(token({ v: 'meta.k8s.io/v1', rv: 3, start: 'x', extra: true })), { revision: 3, start: 'x' });
  });
});
