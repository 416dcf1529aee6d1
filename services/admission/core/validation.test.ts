/**
 * Name validation with the exact words of k8s.io/apimachinery/pkg/util/validation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DNS1123_LABEL_MAX, DNS1123_SUBDOMAIN_MAX, isDNS1123Label, isDNS1123Subdomain } from './validation.ts';

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('isDNS1123Label', () => {
  test('valid labels', () => {
    for (const v of ['a', '0', 'my-name', '123-abc', 'a--b', 'x'.repeat(63)]) assert.deepEqual(isDNS1123Label(v), [], v);
  });

  test('invalid characters, ends and the empty string', () => {
    for (const v of ['', 'A', 'my_name', '-a', 'a-', 'ä', 'a b', '-']) assert.deepEqual(isDNS1123Label(v), [LABEL_MSG], JSON.stringify(v));
  });

  test('a valid subdomain that is no label: "must not contain dots"', () => {
    assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
    assert.deepEqual(isDNS1123Label('team.a.example'), ['must not contain dots']);
    assert.deepEqual(isDNS1123Label('a..b'), [LABEL_MSG]);
  });

  test('63 characters at most; the length and the pattern are separate problems', () => {
    assert.equal(DNS1123_LABEL_MAX, 63);
    assert.deepEqual(isDNS1123Label('x'.repeat(64)), ['must be no more than 63 characters']);
    assert.deepEqual(isDNS1123Label(`${'x'.repeat(64)}-`), ['must be no more than 63 characters', LABEL_MSG]);
    // Go counts bytes: 32 two-byte characters are 64 bytes.
    assert.deepEqual(isDNS1123Label('é'.repeat(32)), ['must be no more than 63 characters', LABEL_MSG]);
  });
});

describe('isDNS1123Subdomain', () => {
  test('valid subdomains', () => {
    for (const v of ['a', 'example.com', 'a-b.c-d', '0.0', 'x'.repeat(63)]) assert.deepEqual(isDNS1123Subdomain(v), [], v);
  });

  test('invalid characters, dots in the wrong place, the empty string', () => {
    for (const v of ['', 'Bad_Name', 'a..b', '.a', 'a.', 'a.-b', 'a/b', 'UPPER.case']) {
      assert.deepEqual(isDNS1123Subdomain(v), [SUBDOMAIN_MSG], JSON.stringify(v));
    }
  });

  test('253 characters at most', () => {
    assert.equal(DNS1123_SUBDOMAIN_MAX, 253);
    const max = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(max.length, 253);
    assert.deepEqual(isDNS1123Subdomain(max), []);
    assert.deepEqual(isDNS1123Subdomain(`${max}d`), ['must be no more than 253 characters']);
    assert.deepEqual(isDNS1123Subdomain('A'.repeat(254)), ['must be no more than 253 characters', SUBDOMAIN_MSG]);
  });
});
