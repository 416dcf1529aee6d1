import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addQuantities,
  canonicalQuantity,
  compareQuantities,
  formatQuantity,
  parseQuantity,
  QUANTITY_FORMAT_ERROR,
  QUANTITY_SUFFIX_ERROR,
  quantityError,
  quantityMilliValue,
  quantityOf,
  quantitySign,
  quantityValue,
  roundUpQuantity,
  type Quantity,
} from './quantity.ts';

/** The text kube writes back for `text` (Quantity.String() after ParseQuantity). */
function written(text: string): string {
  const parsed = parseQuantity(text);
  assert.ok(!('error' in parsed), `${text}: ${'error' in parsed ? parsed.error : ''}`);
  return formatQuantity(parsed);
}

// Facts from apimachinery's resource package (quantity_test.go, v0.36.3): the written form of
// each input (TestQuantityString's canonical and alternate forms, TestQuantityParseEmit), and
// the values of TestQuantityParse as their canonical text.
test('a quantity is written back in the canonical form kube gives it', () => {
  const cases: [string, string][] = [
    // canonical already: kept as given
    ['1Gi', '1Gi'],
    ['300Mi', '300Mi'],
    ['1001Gi', '1001Gi'],
    ['100m', '100m'],
    ['80m', '80m'],
    ['1080m', '1080m'],
    ['1234567M', '1234567M'],
    ['1e9', '1e9'],
    ['80e-3', '80e-3'],
    ['1n', '1n'],
    ['3k', '3k'],
    ['1025', '1025'],
    ['0', '0'],
    // alternates: canonicalised
    ['1024Mi', '1Gi'],
    ['307200Ki', '300Mi'],
    ['1025024Mi', '1001Gi'],
    ['1024Gi', '1Ti'],
    ['5000m', '5'],
    ['0.5', '500m'],
    ['1000M', '1G'],
    ['0.001T', '1G'],
    ['1000u', '1m'],
    ['1.08', '1080m'],
    ['1080000000n', '1080m'],
    ['.001e12', '1e9'],
    ['0.001e0', '1e-3'],
    ['1000e-12', '1e-9'],
    ['00', '0'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    // from the issue
    ['1000m', '1'],
    ['1.5', '1500m'],
    ['1.5Gi', '1536Mi'],
    // values of TestQuantityParse
    ['0Ki', '0'],
    ['50k', '50k'],
    ['40T', '40T'],
    ['1E', '1E'],
    ['12E', '12E'],
    ['1e14', '100e12'],
    ['1e13', '10e12'],
    ['1E-3', '1E-3'],
    ['100.035k', '100.035k'],
    ['0.0005k', '500m'],
    ['0.5e-1', '50e-3'],
    ['1.2e3', '1200'],
    ['1.3E+6', '1300e3'],
    ['7.123456M', '7.123456M'],
    ['6.987654321G', '6.987654321G'],
    ['7.1234560M', '7123456'],
    ['3.001n', '4n'],
    ['1.1E-9', '2e-9'],
    ['0.0000000001', '1n'],
    ['0.00000012354', '124n'],
    ['9Ei', '9223372036854775807'],
    ['9223372036854775807Ki', '9223372036854775807'],
    ['100.035Ki', '102435840m'],
    ['0.5Mi', '512Ki'],
    ['0.05Gi', '53687091200m'],
    ['0.025Ti', '27487790694400m'],
    // ParseQuantity keeps a text its quick look takes for canonical
    ['1.', '1.'],
    ['1.G', '1.G'],
    ['+1', '+1'],
    ['01', '01'],
    ['-1', '-1'],
    // past E, DecimalSI has no suffix to write, and kube writes none
    ['1000E', '1'],
  ];
  for (const [input, expected] of cases) assert.equal(written(input), expected, input);
  // Negative values are written with a sign, zero never.
  for (const [input, expected] of [['-1024Mi', '-1Gi'], ['-0.5', '-500m'], ['-0', '0'], ['-.000000000001Ki', '-2n']]) assert.equal(written(input!), expected, input);
});

test('the JSON form: strings trimmed, numbers as their text, anything else not a quantity', () => {
  assert.equal(canonicalQuantity(' 1 '), '1');
  assert.equal(canonicalQuantity(1), '1');
  assert.equal(canonicalQuantity(0.5), '500m');
  assert.equal(canonicalQuantity(2000), '2k');
  assert.equal(canonicalQuantity('x'), undefined);
  assert.equal(canonicalQuantity(null), undefined);
  assert.equal(canonicalQuantity({}), undefined);
});

test('what ParseQuantity refuses, in its words', () => {
  for (const text of ['', '1.1.M', '1+1.0M', 'aoeu', '1..2', '0.1am']) assert.deepEqual(parseQuantity(text), { error: QUANTITY_FORMAT_ERROR }, text);
  for (const text of ['0.1mi', '.5i', '1i', '-3.01i', '-3.01e-', '1Ki3', '1e']) assert.deepEqual(parseQuantity(text), { error: QUANTITY_SUFFIX_ERROR }, text);
  // the JSON decoding trims; ParseQuantity itself does not
  assert.deepEqual(parseQuantity(' 1'), { error: QUANTITY_FORMAT_ERROR });
  assert.equal(quantityError(' 1'), undefined);
  for (const ok of ['0', '1', '500m', '1.5Gi', '+1e3', '1E-2', '2Ei', '.5', '1.', '-']) assert.equal(quantityError(ok), undefined, ok);
});

test('a quantity of many digits costs what reading it costs', () => {
  const started = performance.now();
  assert.equal(written('9'.repeat(1_000_000)), '9'.repeat(1_000_000));
  // 10^1000000: an exponent past E, written without a suffix as kube writes it
  assert.equal(written(`1${'0'.repeat(1_000_000)}`), '10');
  assert.equal(written(`1.${'0'.repeat(1_000_000)}1Ki`), '1024000000001n');
  assert.equal(written(`${'9'.repeat(1_000_000)}Ki`), '9223372036854775807');
  assert.equal(written(`0.${'0'.repeat(1_000_000)}1`), '1n');
  assert.ok(performance.now() - started < 2000);
});

describe('quantity arithmetic (Sign, Cmp, Add, RoundUp, Value, MilliValue)', () => {
  const q = (text: string): Quantity => {
    const parsed = quantityOf(text);
    assert.ok(parsed !== undefined, text);
    return parsed;
  };

  test('Value and MilliValue round up, away from zero', () => {
    assert.equal(quantityValue(q('1.1')), 2n);
    assert.equal(quantityValue(q('-1.1')), -2n);
    assert.equal(quantityValue(q('1Ki')), 1024n);
    assert.equal(quantityValue(q('5k')), 5000n);
    assert.equal(quantityMilliValue(q('1n')), 1n);
    assert.equal(quantityMilliValue(q('1.5')), 1500n);
    assert.equal(quantityMilliValue(q('2')), 2000n);
  });

  test('huge exponents and long texts parse as in kube, and every operation on them stays cheap', () => {
    const started = Date.now();
    // ParseInt64 then int32: 9999999999 wraps to 1410065407, written 10e1410065406 as kube does.
    assert.equal(formatQuantity(q('1e9999999999')), '10e1410065406');
    assert.equal(formatQuantity(roundUpQuantity(q('1e-99999999'), 3)), '1e-3');
    assert.equal(formatQuantity(q('1'.repeat(1000))), '1'.repeat(1000));
    assert.equal(compareQuantities(q('1e2000000000'), q('1e1999999999')), 1);
    assert.equal(compareQuantities(q('-1e2000000000'), q('1')), -1);
    assert.equal(compareQuantities(addQuantities(q('1e2000000000'), q('1')), q('1e2000000000')), 0);
    assert.equal(quantitySign(q('-1e2000000000')), -1);
    assert.ok(quantityValue(q('1e2000000000')) > 10n ** 399n);
    assert.equal(quantityMilliValue(q('1e-2000000000')), 1n);
    assert.ok(Date.now() - started < 2000);
    assert.ok(quantityOf('1e900') !== undefined);
    assert.ok(quantityOf(' 2 ') !== undefined);
    assert.equal(quantityOf({}), undefined);
  });

  test('Cmp and Add are exact across scales and signs', () => {
    assert.equal(compareQuantities(q('1Gi'), q('1073741824')), 0);
    assert.equal(compareQuantities(q('1G'), q('1Gi')), -1);
    assert.equal(compareQuantities(q('-2'), q('-1')), -1);
    assert.equal(compareQuantities(q('0'), q('-0m')), 0);
    assert.equal(formatQuantity(addQuantities(q('1.5'), q('500m'))), '2');
    assert.equal(formatQuantity(addQuantities(q('1'), q('-1500m'))), '-500m');
    assert.equal(formatQuantity(addQuantities(q('999m'), q('1m'))), '1');
    assert.equal(formatQuantity(addQuantities(q('1'), q('-1'))), '0');
  });
});
