/**
 * A priority level's seats and queues: requests run while seats are free, queue when not,
 * are refused when their queue is full (or at once by a level that does not queue), leave
 * their queue after the wait limit or when cancelled, and freed seats go to the queues in
 * turn, so that a light flow is not stuck behind a heavy one. Also kube's Retry-After.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueueSet, type QueueSetObserver, type Seat } from './queueset.ts';
import { RetryAfter } from './retry-after.ts';

function recorder(): QueueSetObserver & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    queued: (fs, length) => events.push(`queued ${fs} ${length}`),
    unqueued: (fs) => events.push(`unqueued ${fs}`),
    executing: (fs) => events.push(`executing ${fs}`),
    finished: (fs) => events.push(`finished ${fs}`),
    rejected: (fs, reason) => events.push(`rejected ${fs} ${reason}`),
  };
}

function seatOf(result: ReturnType<QueueSet['start']>): Seat {
  assert.equal(result.kind, 'execute');
  return (result as { seat: Seat }).seat;
}

test('seats: requests run while seats are free, then queue; a freed seat starts the next', async () => {
  const observer = recorder();
  const qs = new QueueSet({ concurrencyLimit: 2, queuing: { queues: 4, handSize: 2, queueLengthLimit: 10 } }, 10_000, observer);
  const a = seatOf(qs.start('fs', 1n));
  seatOf(qs.start('fs', 1n));
  const third = qs.start('fs', 1n);
  assert.equal(third.kind, 'wait');
  assert.equal(qs.executing, 2);
  assert.equal(qs.queued, 1);
  a.release();
  a.release(); // a second release gives nothing back
  const outcome = await (third as { outcome: Promise<{ kind: string; seat?: Seat }> }).outcome;
  assert.equal(outcome.kind, 'execute');
  assert.equal(qs.executing, 2);
  assert.equal(qs.queued, 0);
  assert.deepEqual(observer.events, ['executing fs', 'executing fs', 'queued fs 1', 'finished fs', 'unqueued fs', 'executing fs']);
});

test('a level that does not queue refuses at once ("concurrency-limit"); a full queue refuses ("queue-full")', () => {
  const reject = new QueueSet({ concurrencyLimit: 1 }, 10_000, recorder());
  seatOf(reject.start('fs', 0n));
  assert.deepEqual(reject.start('fs', 0n), { kind: 'reject', reason: 'concurrency-limit' });

  const qs = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 1, handSize: 1, queueLengthLimit: 2 } }, 10_000, recorder());
  seatOf(qs.start('fs', 5n));
  const waiting = [qs.start('fs', 5n), qs.start('fs', 5n)];
  assert.deepEqual(waiting.map((w) => w.kind), ['wait', 'wait']);
  assert.deepEqual(qs.start('fs', 5n), { kind: 'reject', reason: 'queue-full' });
  for (const w of waiting) if (w.kind === 'wait') w.cancel();
});

test('a request leaves its queue after the wait limit ("time-out") or when cancelled ("cancelled")', async () => {
  const observer = recorder();
  const qs = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 2, handSize: 1, queueLengthLimit: 5 } }, 30, observer);
  const seat = seatOf(qs.start('fs', 0n));
  const timed = qs.start('fs', 0n);
  const cancelled = qs.start('fs', 1n);
  assert.ok(timed.kind === 'wait' && cancelled.kind === 'wait');
  cancelled.cancel();
  assert.deepEqual(await cancelled.outcome, { kind: 'reject', reason: 'cancelled' });
  assert.deepEqual(await timed.outcome, { kind: 'reject', reason: 'time-out' });
  assert.equal(qs.queued, 0);
  seat.release();
  assert.ok(qs.idle);
  assert.ok(observer.events.includes('rejected fs time-out') && observer.events.includes('rejected fs cancelled'));
});

test('fair queuing: a light flow is served within a few dispatches of a heavy flow\'s backlog', async () => {
  // One seat, eight queues, a hand of one: each flow has a queue of its own.
  const qs = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 8, handSize: 1, queueLengthLimit: 100 } }, 10_000, recorder());
  let seat = seatOf(qs.start('heavy', 0n));
  const order: string[] = [];
  const granted: Seat[] = [];
  const enqueue = (flow: string, hash: bigint) => {
    const r = qs.start(flow, hash);
    assert.equal(r.kind, 'wait');
    void (r as { outcome: Promise<{ kind: string; seat?: Seat }> }).outcome.then((o) => {
      assert.equal(o.kind, 'execute');
      order.push(flow);
      granted.push(o.seat!);
    });
  };
  for (let i = 0; i < 20; i++) enqueue('heavy', 0n);
  enqueue('light', 1n);
  enqueue('light', 1n);
  // Each release starts the next waiting request; its seat is released in turn.
  for (let i = 0; i < 22; i++) {
    seat.release();
    await new Promise((r) => setImmediate(r));
    assert.equal(order.length, i + 1);
    seat = granted.shift()!;
  }
  seat.release();
  assert.ok(qs.idle);
  // The two light requests went within the first four dispatches (round robin over the two queues).
  assert.ok(order.indexOf('light') <= 1 && order.lastIndexOf('light') <= 3, order.join(','));
});

test('reconfiguring: a higher limit starts waiting requests; a level that stops queuing refuses them', async () => {
  const qs = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 4, handSize: 2, queueLengthLimit: 5 } }, 10_000, recorder());
  seatOf(qs.start('fs', 0n));
  const a = qs.start('fs', 0n);
  const b = qs.start('fs', 9n);
  assert.ok(a.kind === 'wait' && b.kind === 'wait');
  qs.reconfigure({ concurrencyLimit: 2, queuing: { queues: 8, handSize: 2, queueLengthLimit: 5 } });
  assert.equal((await a.outcome).kind, 'execute');
  qs.reconfigure({ concurrencyLimit: 2 });
  assert.deepEqual(await b.outcome, { kind: 'reject', reason: 'concurrency-limit' });
});

test('Retry-After: 1 s, doubling while many are dropped, back down when few are', () => {
  let now = 1_000_000;
  const ra = new RetryAfter(() => now);
  assert.equal(ra.dropped(), 1);
  for (let i = 0; i < 10; i++) ra.dropped();
  now += 1000;
  // 11 drops in the previous second >= 3 * 1: doubled.
  assert.equal(ra.dropped(), 2);
  for (let i = 0; i < 20; i++) ra.dropped();
  now += 2000;
  assert.equal(ra.dropped(), 4);
  // Drops within the last Retry-After seconds still count, but no doubling before it has passed.
  now += 1000;
  assert.equal(ra.dropped(), 4);
  // Quiet seconds: fewer drops than Retry-After in its window, and it comes down by one each time.
  now += 10_000;
  assert.equal(ra.dropped(), 3);
  now += 1000;
  assert.equal(ra.dropped(), 2);
});

test('a level of kube\'s most queues (10^7) costs only the queues in use', async () => {
  const qs = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 10_000_000, handSize: 2, queueLengthLimit: 5 } }, 10_000, recorder());
  const first = seatOf(qs.start('fs', 1n));
  const outcomes = [qs.start('fs', 2n), qs.start('fs', 3n)].map((w) => {
    assert.equal(w.kind, 'wait');
    return (w as { outcome: Promise<{ kind: string; seat?: Seat }> }).outcome;
  });
  assert.equal(qs.queued, 2);
  first.release();
  // Each waiting request runs in turn as the seat is freed.
  const next = await Promise.race(outcomes);
  assert.equal(next.kind, 'execute');
  assert.equal(qs.queued, 1);
  next.seat!.release();
  const last = await Promise.all(outcomes);
  assert.deepEqual(last.map((o) => o.kind), ['execute', 'execute']);
  assert.equal(qs.queued, 0);
  for (const o of last) o.seat!.release();
  assert.ok(qs.idle);
});
