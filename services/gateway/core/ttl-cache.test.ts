import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TtlCache } from './ttl-cache.ts';

/** A clock the test moves by hand. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TtlCache', () => {
  test('a value is there until its TTL has passed, then gone', () => {
    const c = clock();
    const cache = new TtlCache<string>(1000, 10, c.now);
    cache.set('token-a', 'alice');
    assert.equal(cache.get('token-a'), 'alice');
    c.advance(999);
    assert.equal(cache.get('token-a'), 'alice');
    c.advance(1);
    assert.equal(cache.get('token-a'), undefined);
    // Gone for good, even if the clock were to go back.
    c.advance(-500);
    assert.equal(cache.get('token-a'), undefined);
  });

  test('unknown keys are undefined; falsy values are values', () => {
    const cache = new TtlCache<unknown>(1000, 10, clock().now);
    assert.equal(cache.get('nope'), undefined);
    cache.set('zero', 0);
    cache.set('empty', '');
    cache.set('no', false);
    assert.equal(cache.get('zero'), 0);
    assert.equal(cache.get('empty'), '');
    assert.equal(cache.get('no'), false);
  });

  test('setting again replaces the value and restarts its TTL', () => {
    const c = clock();
    const cache = new TtlCache<string>(1000, 10, c.now);
    cache.set('k', 'old');
    c.advance(800);
    cache.set('k', 'new');
    c.advance(800);
    assert.equal(cache.get('k'), 'new');
    c.advance(200);
    assert.equal(cache.get('k'), undefined);
  });

  test('each entry expires on its own schedule', () => {
    const c = clock();
    const cache = new TtlCache<number>(1000, 10, c.now);
    cache.set('a', 1);
    c.advance(500);
    cache.set('b', 2);
    c.advance(500);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), 2);
  });

  test('when full, the oldest entry goes first', () => {
    const cache = new TtlCache<number>(60_000, 3, clock().now);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    cache.set('d', 4);
    assert.equal(cache.get('a'), undefined);
    assert.deepEqual(['b', 'c', 'd'].map((k) => cache.get(k)), [2, 3, 4]);
  });

  test('an entry set again counts as new when the oldest is evicted', () => {
    const cache = new TtlCache<number>(60_000, 2, clock().now);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 10);
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 10);
    assert.equal(cache.get('c'), 3);
  });

  test('a TTL of zero (or less) caches nothing', () => {
    for (const ttl of [0, -1]) {
      const cache = new TtlCache<string>(ttl, 10, clock().now);
      cache.set('k', 'v');
      assert.equal(cache.get('k'), undefined, String(ttl));
    }
  });

  test('uses Date.now without an injected clock', () => {
    const cache = new TtlCache<string>(60_000, 10);
    cache.set('k', 'v');
    assert.equal(cache.get('k'), 'v');
  });
});
