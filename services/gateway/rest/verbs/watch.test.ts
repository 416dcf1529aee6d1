/**
 * The HTTP watch stream's encode-once path (encodedOnce in verbs/watch.ts): every watcher that
 * receives the same WatchEvent object gets the same encoded line per format.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchEvent } from '../../../watch/api.ts';
import { encodedOnce } from './watch.ts';

function event(name: string): WatchEvent {
  return { type: 'ADDED', object: Buffer.from(`{"metadata":{"name":"${name}"}}`), resourceVersion: '7' };
}

/** An encoder that counts its runs and gives a new Buffer each time. */
function counting(format: string) {
  const encoder = {
    runs: 0,
    encode: () => Buffer.from(`${format} #${++encoder.runs}\n`),
  };
  return encoder;
}

describe('encodedOnce', () => {
  test('one event is encoded once per format however many watchers receive it', () => {
    const shared = event('a');
    const json = counting('json');
    const lines = Array.from({ length: 100 }, () => encodedOnce(shared, 'json', json.encode));
    assert.equal(json.runs, 1);
    for (const line of lines) assert.equal(line, lines[0], 'every watcher writes the same Buffer');
    assert.equal(lines[0]?.toString(), 'json #1\n');
  });

  test('each format of one event is encoded separately, once', () => {
    const shared = event('b');
    const json = counting('json');
    const table = counting('table object');
    const tableNone = counting('table none');
    for (let watcher = 0; watcher < 10; watcher++) {
      assert.equal(encodedOnce(shared, 'json', json.encode).toString(), 'json #1\n');
      assert.equal(encodedOnce(shared, 'table/configmaps/Object', table.encode).toString(), 'table object #1\n');
      assert.equal(encodedOnce(shared, 'table/configmaps/None', tableNone.encode).toString(), 'table none #1\n');
    }
    assert.deepEqual([json.runs, table.runs, tableNone.runs], [1, 1, 1]);
  });

  test('another event object is encoded again, even when its content is the same', () => {
    const json = counting('json');
    const first = encodedOnce(event('c'), 'json', json.encode);
    const second = encodedOnce(event('c'), 'json', json.encode);
    assert.equal(json.runs, 2);
    assert.notEqual(first, second);
    assert.equal(second.toString(), 'json #2\n');
  });
});
