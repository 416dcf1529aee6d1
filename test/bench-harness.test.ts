import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openLoop, percentile, scheduledPercentile } from '../bench/harness.ts';

describe('bench harness: the open loop counts its failures', () => {
  it('ranks a failed operation behind every success, at its own time or the slowest success', () => {
    const ok = Array.from({ length: 99 }, (_, i) => i + 1);
    // Successes alone: the p99 of 1..99 is 99.
    assert.equal(scheduledPercentile(ok, [], 0.99), percentile(ok, 0.99));
    // A quick failure out of 100 is no fast answer: it ranks last, at the slowest success's time.
    assert.equal(scheduledPercentile(ok, [0.5], 0.99), 99);
    assert.equal(scheduledPercentile(ok, [0.5], 1), 99);
    // Two failures out of 101: the p99 falls on the first of them, at its own (longer) time.
    assert.equal(scheduledPercentile(ok, [300, 250], 0.99), 250);
    assert.equal(scheduledPercentile([], [3, 1], 0.5), 1);
    assert.equal(scheduledPercentile([], [], 0.99), 0);
  });

  it('returns the failed operations with their times from the scheduled start', async () => {
    let n = 0;
    const sample = await openLoop(async () => {
      if (n++ % 2 === 1) throw new Error('refused');
    }, 200, 0.1);
    assert.equal(sample.ops + sample.errors, 20);
    assert.equal(sample.errors, 10);
    assert.equal(sample.failedLatencies.length, 10);
    // No operation starts before its scheduled time, however early a timer wakes.
    assert.ok(sample.failedLatencies.every((t) => Number.isFinite(t) && t >= 0), sample.failedLatencies.join(' '));
    assert.equal(sample.firstError, 'refused');
  });
});
