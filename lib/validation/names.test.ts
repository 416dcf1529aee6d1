/**
 * Names, label keys and values and annotations checked with the exact words of
 * k8s.io/apimachinery's util/validation and api/validation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DNS1123_LABEL_MAX,
  DNS1123_SUBDOMAIN_MAX,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  TOTAL_ANNOTATION_SIZE_LIMIT,
  validateAnnotations,
  validateLabels,
} from './names.ts';

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

const QUALIFIED_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('isQualifiedName', () => {
  test('valid names, with and without a prefix', () => {
    for (const v of ['a', 'MyName', 'my.name', '123-abc', 'a_b', 'example.com/MyName', 'k8s.io/x', 'x'.repeat(63), `${'p'.repeat(253)}/n`]) {
      assert.deepEqual(isQualifiedName(v), [], v);
    }
  });

  test('the name part: non-empty, 63 bytes, alphanumeric at both ends', () => {
    assert.deepEqual(isQualifiedName(''), ['name part must be non-empty', `name part ${QUALIFIED_MSG}`]);
    assert.deepEqual(isQualifiedName('example.com/'), ['name part must be non-empty', `name part ${QUALIFIED_MSG}`]);
    assert.deepEqual(isQualifiedName('-a'), [`name part ${QUALIFIED_MSG}`]);
    assert.deepEqual(isQualifiedName('a b'), [`name part ${QUALIFIED_MSG}`]);
    assert.deepEqual(isQualifiedName('x'.repeat(64)), ['name part must be no more than 63 characters']);
  });

  test('the prefix part: non-empty, an RFC 1123 subdomain of at most 253 bytes', () => {
    assert.deepEqual(isQualifiedName('/a'), ['prefix part must be non-empty']);
    assert.deepEqual(isQualifiedName('Example.com/a'), [`prefix part ${SUBDOMAIN_MSG}`]);
    assert.deepEqual(isQualifiedName(`${'p'.repeat(254)}/a`), ['prefix part must be no more than 253 characters']);
  });

  test('more than one "/": one message for the whole', () => {
    assert.deepEqual(isQualifiedName('a/b/c'), [
      `a qualified name ${QUALIFIED_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ]);
  });
});

describe('isValidLabelValue', () => {
  test('empty or a name of at most 63 bytes', () => {
    for (const v of ['', 'MyValue', 'my_value', '12345', 'a.b-c', 'x'.repeat(63)]) assert.deepEqual(isValidLabelValue(v), [], v);
    for (const v of ['-a', 'a-', 'a b', 'a/b', 'ä']) assert.deepEqual(isValidLabelValue(v), [VALUE_MSG], v);
    assert.deepEqual(isValidLabelValue('x'.repeat(64)), ['must be no more than 63 characters']);
    assert.deepEqual(isValidLabelValue('é'.repeat(32)), ['must be no more than 63 characters', VALUE_MSG]);
  });
});

describe('validateLabels', () => {
  test('each bad key and each bad value is an Invalid error on the map itself', () => {
    assert.deepEqual(validateLabels({ app: 'web', 'example.com/tier': '' }, 'metadata.labels'), []);
    assert.deepEqual(validateLabels({ 'a b': 'c d', ok: 1 }, 'metadata.labels'), [
      { type: 'FieldValueInvalid', field: 'metadata.labels', value: 'a b', detail: `name part ${QUALIFIED_MSG}` },
      { type: 'FieldValueInvalid', field: 'metadata.labels', value: 'c d', detail: VALUE_MSG },
    ]);
  });
});

describe('validateAnnotations', () => {
  test('keys are qualified names in any case; values are free', () => {
    assert.deepEqual(validateAnnotations({ 'Example.COM/Key': 'any text: ☃', ANNOTATION: '' }, 'metadata.annotations'), []);
    assert.deepEqual(validateAnnotations({ 'Bad Key': 'v' }, 'metadata.annotations'), [
      { type: 'FieldValueInvalid', field: 'metadata.annotations', value: 'Bad Key', detail: `name part ${QUALIFIED_MSG}` },
    ]);
  });

  test('keys and values together at most 256 KiB, counted in bytes', () => {
    assert.equal(TOTAL_ANNOTATION_SIZE_LIMIT, 262144);
    assert.deepEqual(validateAnnotations({ a: 'x'.repeat(262143) }, 'f'), []);
    const tooLong = { type: 'FieldValueTooLong', field: 'f', detail: 'may not be more than 262144 bytes' };
    assert.deepEqual(validateAnnotations({ a: 'x'.repeat(262144) }, 'f'), [tooLong]);
    assert.deepEqual(validateAnnotations({ a: `é${'x'.repeat(262142)}` }, 'f'), [tooLong]);
  });
});
