/**
 * Stream ids (lib/stream-ids.ts): in turn, never 0, never one in use, wrapping past 2^32-1.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_STREAM_ID, nextFreeId, type StreamIds } from './stream-ids.ts';

/**
 * The ids for which `inUse` is true, `size` of them, as a table that fails the test when it is
 * asked more than 100 times (a search gone wrong would otherwise never return).
 */
function table(inUse: (id: number) => boolean, size: number): StreamIds {
  let probes = 0;
  return {
    size,
    has: (id) => {
      assert.ok(++probes <= 100, `still searching at id ${id}`);
      assert.ok(Number.isInteger(id) && id >= 1 && id <= MAX_STREAM_ID, `id ${id} is not a uint32 other than 0`);
      return inUse(id);
    },
  };
}

describe('nextFreeId', () => {
  test('ids are handed out in turn from 1', () => {
    const inUse = new Set<number>();
    let last = 0;
    for (const expected of [1, 2, 3]) {
      last = nextFreeId(last, inUse);
      assert.equal(last, expected);
      inUse.add(last);
    }
    // An id that ended is not taken again before the others have had their turn.
    inUse.delete(1);
    assert.equal(nextFreeId(last, inUse), 4);
  });

  test('ids in use are skipped', () => {
    assert.equal(nextFreeId(0, new Set([1, 2, 4])), 3);
    assert.equal(nextFreeId(2, new Set([3, 4, 5])), 6);
  });

  test('past 2^32-1 the ids wrap around to 1, never 0', () => {
    assert.equal(nextFreeId(MAX_STREAM_ID - 1, table(() => false, 0)), MAX_STREAM_ID);
    assert.equal(nextFreeId(MAX_STREAM_ID, table(() => false, 0)), 1);
    const ids: number[] = [];
    let last = MAX_STREAM_ID - 2;
    for (let i = 0; i < 4; i++) {
      last = nextFreeId(last, table(() => false, 0));
      ids.push(last);
    }
    assert.deepEqual(ids, [MAX_STREAM_ID - 1, MAX_STREAM_ID, 1, 2]);
  });

  test('the search for a free id wraps around as well', () => {
    // From 2^32-4 on, everything in use up to 6: the next id is 7.
    const inUse = table((id) => id > MAX_STREAM_ID - 4 || id < 7, 9);
    assert.equal(nextFreeId(MAX_STREAM_ID - 4, inUse), 7);
  });

  test('a full table is an error, not an endless search', () => {
    assert.throws(() => nextFreeId(0, table(() => true, MAX_STREAM_ID)), /every stream id is in use/);
    assert.throws(() => nextFreeId(123, table(() => true, MAX_STREAM_ID)), RangeError);
  });
});
