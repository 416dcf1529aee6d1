import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  canonicalQuantity,
  compareQuantities,
  parseQuantity,
  quantityMilliValue,
  quantityString,
  quantityValue,
  roundUpQuantity,
  type Quantity,
} from './quantity.ts';

function q(text: string): Quantity {
  const parsed = parseQuantity(text);
  assert.ok(parsed !== undefined, `${text} parses`);
  return parsed;
}

describe('resource quantities', () => {
  // The canonical forms kube writes for what clients send (resource.Quantity.String()).
  const canonical: Array<[string, string]> = [
    ['0', '0'],
    ['0Gi', '0'],
    // kube takes a suffix without digits as zero.
    ['Gi', '0'],
    ['-0', '0'],
    ['1', '1'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['0.5', '500m'],
    ['.5', '500m'],
    ['1.5', '1500m'],
    ['2000m', '2'],
    ['100m', '100m'],
    ['0.05', '50m'],
    ['1e3', '1e3'],
    ['12e2', '1200'],
    ['1E', '1E'],
    ['5G', '5G'],
    ['5000M', '5G'],
    ['1Gi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1024Mi', '1Gi'],
    ['1000Mi', '1000Mi'],
    ['1023Ki', '1023Ki'],
    ['1Ki', '1Ki'],
    ['512', '512'],
    ['0.5Ki', '512'],
    ['0.1Ki', '102400m'],
    ['+3', '3'],
    ['-1.5', '-1500m'],
    ['-2Gi', '-2Gi'],
    ['1n', '1n'],
    ['0.1n', '1n'],
    ['1.', '1'],
    ['  2  ', '2'],
  ];
  for (const [text, expected] of canonical) {
    test(`${JSON.stringify(text)} is written ${JSON.stringify(expected)}`, () => {
      assert.equal(quantityString(q(text)), expected);
    });
  }

  test('what ParseQuantity refuses is undefined', () => {
    for (const bad of ['', 'abc', '1x', '1Gb', '1.2.3', '--1', '1e', '1e1.5', '1 Gi']) assert.equal(parseQuantity(bad), undefined, bad);
  });

  test('comparison is exact across suffixes', () => {
    assert.equal(compareQuantities(q('1Gi'), q('1073741824')), 0);
    assert.equal(compareQuantities(q('1G'), q('1Gi')), -1);
    assert.equal(compareQuantities(q('500m'), q('0.5')), 0);
    assert.equal(compareQuantities(q('2'), q('1999m')), 1);
    assert.equal(compareQuantities(q('-1'), q('0')), -1);
  });

  test('Value and MilliValue round up, away from zero', () => {
    assert.equal(quantityValue(q('1.1')), 2n);
    assert.equal(quantityValue(q('-1.1')), -2n);
    assert.equal(quantityValue(q('1Ki')), 1024n);
    assert.equal(quantityMilliValue(q('0.0001')), 1n);
    assert.equal(quantityMilliValue(q('1.5')), 1500n);
  });

  test('RoundUp to milli, as kube defaults resource lists', () => {
    assert.equal(quantityString(roundUpQuantity(q('0.0001'), -3)), '1m');
    assert.equal(quantityString(roundUpQuantity(q('1.0001'), -3)), '1001m');
    assert.equal(quantityString(roundUpQuantity(q('-0.0001'), -3)), '-1m');
    assert.equal(quantityString(roundUpQuantity(q('5Gi'), -3)), '5Gi');
    assert.equal(canonicalQuantity('100u', -3), '1m');
    assert.equal(canonicalQuantity(2.5), '2500m');
    assert.equal(canonicalQuantity(1000), '1k');
    assert.equal(canonicalQuantity('nope'), undefined);
    assert.equal(canonicalQuantity(true), undefined);
  });

  test('absurd sizes are not taken (no unbounded arithmetic)', () => {
    assert.equal(parseQuantity('1e99999999'), undefined);
    assert.equal(parseQuantity('1'.repeat(10_000)), undefined);
    assert.ok(parseQuantity('1e1000') !== undefined);
  });
});
