/** RecentStates: bounded by entries and characters, least recently used out, never older over newer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentStates } from './recent-states.ts';

const kv = (key: string, modRevision: number, value = '{}') => ({ key, value, modRevision, version: 1 });

test('a newer state is never replaced by an older one; a delete forgets only what it deleted', () => {
  const states = new RecentStates();
  states.remember(kv('/a', 5));
  states.remember(kv('/a', 3));
  assert.equal(states.get('/a')?.modRevision, 5);
  states.forget('/a', 4);
  assert.equal(states.get('/a')?.modRevision, 5, 'a delete older than the known state leaves it');
  states.forget('/a', 6);
  assert.equal(states.get('/a'), undefined);
});

test('bounded by entries, least recently used first out', () => {
  const states = new RecentStates(2);
  states.remember(kv('/a', 1));
  states.remember(kv('/b', 2));
  states.get('/a');
  states.remember(kv('/c', 3));
  assert.equal(states.size, 2);
  assert.equal(states.get('/b'), undefined);
  assert.ok(states.get('/a') !== undefined && states.get('/c') !== undefined);
});

test('bounded by characters of JSON; a value over 64 Ki characters is not kept', () => {
  const states = new RecentStates(100, 10);
  states.remember(kv('/a', 1, '123456'));
  states.remember(kv('/b', 2, '123456'));
  assert.equal(states.get('/a'), undefined);
  assert.equal(states.get('/b')?.value, '123456');
  const roomy = new RecentStates();
  roomy.remember(kv('/big', 1, 'x'.repeat(64 * 1024 + 1)));
  assert.equal(roomy.get('/big'), undefined);
  assert.equal(new RecentStates(0).size, 0);
});
