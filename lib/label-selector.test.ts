/** LabelSelectorAsSelector: matching, and String() as a Scale's status.selector carries it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelSelectorAsSelector } from './label-selector.ts';

test('String(): requirements sorted by key, values of in/notin sorted, kube\'s operators', () => {
  const s = labelSelectorAsSelector({
    matchLabels: { tier: 'web', app: 'shop' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'dev'] },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'owner', operator: 'Exists' },
    ],
  });
  // Sorted by key (canary), not by the text printed (!canary).
  assert.equal(s.text, 'app=shop,!canary,env in (dev,prod),owner,tier=web,zone notin (b)');
  assert.equal(s.empty, false);
});

test('matching: every requirement must hold; notin and !key match a missing label', () => {
  const s = labelSelectorAsSelector({ matchLabels: { app: 'shop' }, matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['b'] }, { key: 'canary', operator: 'DoesNotExist' }] });
  assert.equal(s.matches({ app: 'shop' }), true);
  assert.equal(s.matches({ app: 'shop', zone: 'a' }), true);
  assert.equal(s.matches({ app: 'shop', zone: 'b' }), false);
  assert.equal(s.matches({ app: 'shop', canary: 'x' }), false);
  assert.equal(s.matches({ app: 'other' }), false);
  assert.equal(s.matches(undefined), false);
});

test('nil matches nothing, an empty selector everything; both print as ""', () => {
  const nil = labelSelectorAsSelector(undefined);
  assert.deepEqual([nil.text, nil.empty, nil.matches({ a: 'b' })], ['', true, false]);
  const everything = labelSelectorAsSelector({});
  assert.deepEqual([everything.text, everything.empty, everything.matches({ a: 'b' })], ['', true, true]);
});

test('an unknown operator or an invalid requirement is an error in kube\'s words', () => {
  assert.throws(() => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }), { message: '"Gt" is not a valid label selector operator' });
  assert.throws(() => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), {
    message: "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
  });
  assert.throws(() => labelSelectorAsSelector({ matchLabels: { 'bad key!': 'x' } }), { message: /^key: Invalid value: "bad key!": name part must consist/ });
});
