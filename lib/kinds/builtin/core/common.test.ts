/**
 * The helpers of the core kinds: quantities of resource lists, config keys, IP addresses as
 * kube parses them, and Go's JSON errors for a docker config.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultResourceList, fieldDiff, isConfigMapKey, sameValue } from './common.ts';
import { unmarshalObjectError } from './go-json.ts';
import { isIP } from './ip.ts';

describe('quantities of resource lists', () => {
  test('SetDefaults_ResourceList: rounded up to milli, written in kube\'s canonical form; other values left alone', () => {
    const list: Record<string, unknown> = { cpu: '0.0001', memory: '1.5Gi', pods: 1000, storage: '2048Mi', bogus: 'x', flag: true };
    defaultResourceList(list);
    assert.deepEqual(list, { cpu: '1m', memory: '1536Mi', pods: '1k', storage: '2Gi', bogus: 'x', flag: true });
  });
});

describe('config keys (validation.IsConfigMapKey)', () => {
  test('valid keys', () => {
    for (const k of ['a', 'A-b_c.d', '.dockerconfigjson', 'tls.crt', '.a']) assert.deepEqual(isConfigMapKey(k), [], k);
  });
  test('invalid keys, with kube\'s messages', () => {
    assert.deepEqual(isConfigMapKey('.'), ["must not be '.'"]);
    assert.deepEqual(isConfigMapKey('..'), ["must not be '..'"]);
    assert.deepEqual(isConfigMapKey('..a'), ["must not start with '..'"]);
    assert.equal(isConfigMapKey('a/b').length, 1);
    assert.deepEqual(isConfigMapKey('x'.repeat(254)), ['must be no more than 253 characters']);
  });
});

describe('IP addresses (ParseIPSloppy, net.IP predicates)', () => {
  test('IPv4, with leading zeros taken', () => {
    assert.deepEqual(isIP('10.0.0.1'), { v4: true, unspecified: false, loopback: false, linkLocalUnicast: false, linkLocalMulticast: false });
    assert.equal(isIP('010.000.000.001')?.v4, true);
    assert.equal(isIP('127.1.2.3')?.loopback, true);
    assert.equal(isIP('0.0.0.0')?.unspecified, true);
    assert.equal(isIP('169.254.10.1')?.linkLocalUnicast, true);
    assert.equal(isIP('224.0.0.251')?.linkLocalMulticast, true);
    assert.equal(isIP('224.0.1.1')?.linkLocalMulticast, false);
  });
  test('IPv6, compressed, with an IPv4 tail; IPv4-mapped counts as IPv4', () => {
    assert.equal(isIP('2001:db8::1')?.v4, false);
    assert.equal(isIP('::1')?.loopback, true);
    assert.equal(isIP('::')?.unspecified, true);
    assert.equal(isIP('fe80::1')?.linkLocalUnicast, true);
    assert.equal(isIP('ff02::1')?.linkLocalMulticast, true);
    assert.equal(isIP('1:2:3:4:5:6:7:8')?.v4, false);
    assert.equal(isIP('64:ff9b::1.2.3.4')?.v4, false);
    assert.equal(isIP('::1.2.3.4')?.v4, false);
    assert.deepEqual(isIP('::ffff:127.0.0.1'), { v4: true, unspecified: false, loopback: true, linkLocalUnicast: false, linkLocalMulticast: false });
  });
  test('what is no address', () => {
    for (const bad of ['', 'a', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1::', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8::', '::1.2.3']) {
      assert.equal(isIP(bad), undefined, bad);
    }
  });
});

describe('Go\'s json.Unmarshal into a map, for docker configs', () => {
  const err = (text: string) => unmarshalObjectError(Buffer.from(text));
  test('objects (and null) decode', () => {
    assert.equal(err('{"auths":{"r":{"auth":"eA=="}}}'), undefined);
    assert.equal(err(' { } '), undefined);
    assert.equal(err('null'), undefined);
    assert.equal(err('{"a":[1,-2.5e3,true,false,null,"\\u00e9\\n"]}'), undefined);
  });
  test('other JSON values: a type error', () => {
    assert.equal(err('[]'), 'json: cannot unmarshal array into Go value of type map[string]interface {}');
    assert.equal(err('"s"'), 'json: cannot unmarshal string into Go value of type map[string]interface {}');
    assert.equal(err('12'), 'json: cannot unmarshal number into Go value of type map[string]interface {}');
    assert.equal(err('true'), 'json: cannot unmarshal bool into Go value of type map[string]interface {}');
  });
  test('syntax errors in the scanner\'s words', () => {
    assert.equal(err(''), 'unexpected end of JSON input');
    assert.equal(err('{"a":'), 'unexpected end of JSON input');
    assert.equal(err('x'), "invalid character 'x' looking for beginning of value");
    assert.equal(err('{x'), "invalid character 'x' looking for beginning of object key string");
    assert.equal(err('{"a" 1}'), "invalid character '1' after object key");
    assert.equal(err('{"a":1 "b"}'), "invalid character '\"' after object key:value pair");
    assert.equal(err('[1 2]'), "invalid character '2' after array element");
    assert.equal(err('{} {}'), "invalid character '{' after top-level value");
    assert.equal(err('{"a":tru}'), "invalid character '}' in literal true (expecting 'e')");
    assert.equal(err('{"a":-}'), "invalid character '}' in numeric literal");
    assert.equal(err('{"a":1.}'), "invalid character '}' after decimal point in numeric literal");
    assert.equal(err('{"a":1e}'), "invalid character '}' in exponent of numeric literal");
    assert.equal(err('{"a":"\\x"}'), "invalid character 'x' in string escape code");
    assert.equal(err('{"a":"\\u12g4"}'), "invalid character 'g' in \\u hexadecimal character escape");
    assert.equal(err('{"a":"\t"}'), "invalid character '\\t' in string literal");
    assert.equal(err("{'a':1}"), "invalid character '\\'' looking for beginning of object key string");
    assert.equal(err('[01]'), "invalid character '1' after array element");
  });
  test('nesting deeper than the stack is refused, not a crash', () => {
    assert.equal(err('['.repeat(200_000)), 'exceeded max depth');
  });
});

describe('comparison and diffs', () => {
  test('absent and null are the same; {} and absent are not', () => {
    assert.equal(sameValue(undefined, null), true);
    assert.equal(sameValue({ a: 1, b: null }, { a: 1 }), true);
    assert.equal(sameValue({}, undefined), false);
    assert.equal(sameValue([1, { a: 2 }], [1, { a: 2 }]), true);
    assert.equal(sameValue([1], [1, 2]), false);
  });
  test('fieldDiff names each changed field with its old and new values', () => {
    assert.equal(fieldDiff({ a: 1, b: { c: 2 }, d: 3 }, { a: 1, b: { c: 4 }, e: 5 }), '- b: {"c":2}\n+ b: {"c":4}\n- d: 3\n+ e: 5');
  });
});
