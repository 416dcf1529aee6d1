/** LabelSelectorAsSelector: matching, and String() as a Scale's status.selector carries it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertLabelSelector, labelSelectorAsSelector, selectorEmpty, selectorMatches, selectorString, type Selector } from './label-selector.ts';

/** The selector of a LabelSelector that converts. */
function convert(raw: unknown): Selector {
  const selector = labelSelectorAsSelector(raw);
  assert.ok(selector !== undefined);
  return selector;
}

/** kube's error text for a LabelSelector that does not convert. */
function errorOf(raw: unknown): string {
  const converted = convertLabelSelector(raw);
  assert.ok('error' in converted);
  return converted.error;
}

test('String(): requirements sorted by key, values of in/notin sorted, kube\'s operators', () => {
  const s = convert({
    matchLabels: { tier: 'web', app: 'shop' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'dev'] },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'owner', operator: 'Exists' },
    ],
  });
  // Sorted by key (canary), not by the text printed (!canary).
  assert.equal(selectorString(s), 'app=shop,!canary,env in (dev,prod),owner,tier=web,zone notin (b)');
  assert.equal(selectorEmpty(s), false);
});

test('matching: every requirement must hold; notin and !key match a missing label', () => {
  const s = convert({ matchLabels: { app: 'shop' }, matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['b'] }, { key: 'canary', operator: 'DoesNotExist' }] });
  assert.equal(selectorMatches(s, { app: 'shop' }), true);
  assert.equal(selectorMatches(s, { app: 'shop', zone: 'a' }), true);
  assert.equal(selectorMatches(s, { app: 'shop', zone: 'b' }), false);
  assert.equal(selectorMatches(s, { app: 'shop', canary: 'x' }), false);
  assert.equal(selectorMatches(s, { app: 'other' }), false);
  assert.equal(selectorMatches(s, undefined), false);
});

test('nil matches nothing, an empty selector everything; both print as ""', () => {
  // labels.Nothing() is not Empty(); labels.Everything() is.
  const nil = convert(undefined);
  assert.deepEqual([selectorString(nil), selectorEmpty(nil), selectorMatches(nil, { a: 'b' })], ['', false, false]);
  const everything = convert({});
  assert.deepEqual([selectorString(everything), selectorEmpty(everything), selectorMatches(everything, { a: 'b' })], ['', true, true]);
});

test('an unknown operator or an invalid requirement is an error in kube\'s words', () => {
  assert.equal(errorOf({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }), '"Gt" is not a valid label selector operator');
  assert.equal(errorOf({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
  assert.match(errorOf({ matchLabels: { 'bad key!': 'x' } }), /^key: Invalid value: "bad key!": name part must consist/);
  // Requirements are checked in order, as kube converts them: the first refused one answers.
  assert.match(errorOf({ matchLabels: { 'bad key!': 'x' }, matchExpressions: [{ key: 'a', operator: 'Gt' }] }), /^key: Invalid value: "bad key!"/);
  assert.equal(labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'Gt' }] }), undefined);
});
