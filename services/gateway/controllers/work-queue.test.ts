/** The controllers' work queue: one entry per key, one worker per key, backoff per key. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  test('a key is queued once however often it is added, in the order keys came', async () => {
    const queue = new WorkQueue<string>();
    for (const key of ['a', 'b', 'a', 'c', 'b']) queue.add(key);
    assert.equal(queue.size, 3);
    const got = [await queue.get(), await queue.get(), await queue.get()];
    assert.deepEqual(got, ['a', 'b', 'c']);
    for (const key of got) queue.done(key as string);
    assert.equal(queue.size, 0);
  });

  test('a key added while a worker has it comes back once, after the worker is done', async () => {
    const queue = new WorkQueue<string>();
    queue.add('a');
    assert.equal(await queue.get(), 'a');
    queue.add('a');
    queue.add('a');
    let second: string | undefined;
    const next = queue.get().then((key) => (second = key));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(second, undefined, 'not handed to a second worker while the first has it');
    queue.done('a');
    await next;
    assert.equal(second, 'a');
    queue.done('a');
    assert.equal(queue.size, 0);
  });

  test('a waiting worker gets the next key added', async () => {
    const queue = new WorkQueue<number>();
    const waiting = queue.get();
    queue.add(7);
    assert.equal(await waiting, 7);
  });

  test('a failed key comes back after a backoff that doubles, and starts over once forgotten', async () => {
    const queue = new WorkQueue<string>({ initialBackoffMs: 20, maxBackoffMs: 1_000 });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      queue.addRateLimited('a');
      queue.addRateLimited('a'); // already waiting: no second timer, no second failure counted
      const key = await queue.get();
      delays.push(performance.now() - start);
      queue.done(key as string);
    }
    const [first = 0, second = 0, third = 0] = delays;
    assert.ok(first >= 15 && second >= 35 && third >= 75, `delays ${delays.map(Math.round).join(', ')}`);
    queue.forget('a');
    const start = performance.now();
    queue.addRateLimited('a');
    queue.done((await queue.get()) as string);
    assert.ok(performance.now() - start < 75, 'forgotten: the first delay again');
  });

  test('shutting down hands undefined to waiting and later workers and drops what waits', async () => {
    const queue = new WorkQueue<string>({ initialBackoffMs: 10_000 });
    const waiting = queue.get();
    queue.addRateLimited('later');
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add('x');
    assert.equal(await queue.get(), undefined);
    assert.equal(queue.size, 0);
  });
});
