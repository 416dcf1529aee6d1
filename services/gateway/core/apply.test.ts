/**
 * Apply bodies decoded under the limits of a YAML body, and their strict errors per
 * fieldValidation, in kube's words.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_YAML_NODES } from '../rest/media/yaml.ts';
import { checkApplyStrictErrors, decodeApplyBody, isApplyPatch } from './apply.ts';
import { statusOf } from '../../../test/support/status.ts';

describe('decodeApplyBody', () => {
  test('YAML and JSON read alike; the cost is reserved before the object is built', () => {
    const reserved: number[] = [];
    const yaml = decodeApplyBody(Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: "1"\n'), (n) => reserved.push(n));
    const json = decodeApplyBody(Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"1"}}'), (n) => reserved.push(n));
    assert.deepEqual(yaml.object, json.object);
    assert.ok(reserved.length >= 2 && reserved.every((n) => n > 0));
  });

  test('hostile bodies: an alias bomb, too many nodes, too deep, not an object', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const aliased = statusOf(() => decodeApplyBody(Buffer.from(bomb.join('\n')), () => {}));
    assert.equal(aliased.reason, 'BadRequest');
    assert.equal(aliased.message, 'error decoding YAML: error converting YAML to JSON: yaml: document contains excessive aliasing');
    const many = statusOf(() => decodeApplyBody(Buffer.from(`data:\n${'  k: v\n'.repeat(MAX_YAML_NODES)}`), () => {}));
    assert.equal(many.reason, 'RequestEntityTooLarge');
    const deep = statusOf(() => decodeApplyBody(Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`), () => {}));
    assert.equal(deep.reason, 'BadRequest');
    assert.match(deep.message, /nested too deeply/);
    assert.equal(statusOf(() => decodeApplyBody(Buffer.from('- a\n- b\n'), () => {})).reason, 'BadRequest');
    assert.match(statusOf(() => decodeApplyBody(Buffer.from('a: [\n'), () => {})).message, /^error decoding YAML: error converting YAML to JSON: yaml: line \d+: /);
  });
});

describe('checkApplyStrictErrors', () => {
  const errors = ['yaml: unmarshal errors:\n  line 3: key "a" already set in map\n  line 5: key "b" already set in map'];
  test('Strict refuses, Warn warns a finding a line, Ignore drops them', () => {
    const strict = statusOf(() => checkApplyStrictErrors(errors, 'Strict'));
    assert.equal(strict.message, `error strict decoding YAML: error converting YAML to JSON: ${errors[0]}`);
    assert.deepEqual(checkApplyStrictErrors(errors, 'Warn'), ['line 3: key "a" already set in map', 'line 5: key "b" already set in map']);
    assert.deepEqual(checkApplyStrictErrors(errors, 'Ignore'), []);
    assert.deepEqual(checkApplyStrictErrors([], 'Strict'), []);
  });
});

test('isApplyPatch: the apply media type, parameters ignored', () => {
  assert.equal(isApplyPatch('application/apply-patch+yaml'), true);
  assert.equal(isApplyPatch('application/apply-patch+yaml; charset=utf-8'), true);
  assert.equal(isApplyPatch('application/merge-patch+json'), false);
  assert.equal(isApplyPatch(undefined), false);
});
