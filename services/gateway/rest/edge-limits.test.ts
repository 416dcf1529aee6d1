/**
 * The front door's counters: connections per client address, and the budget of body bytes.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ConfigError } from '../../../lib/config.ts';
import { BodyBudget, ConnectionLimiter, edgeLimitsFrom } from './edge-limits.ts';

function socket(address: string): Socket & { close(): void } {
  const s = new EventEmitter() as Socket & { close(): void };
  Object.defineProperty(s, 'remoteAddress', { value: address });
  s.close = () => s.emit('close');
  return s;
}

describe('ConnectionLimiter', () => {
  test('admits up to the cap per address, and again once one closes', () => {
    const limiter = new ConnectionLimiter(2);
    const a1 = socket('10.0.0.1');
    assert.ok(limiter.admit(a1));
    assert.ok(limiter.admit(socket('10.0.0.1')));
    assert.equal(limiter.admit(socket('10.0.0.1')), false);
    assert.ok(limiter.admit(socket('10.0.0.2')), 'another address has its own count');
    a1.close();
    assert.equal(limiter.count('10.0.0.1'), 1);
    assert.ok(limiter.admit(socket('10.0.0.1')));
  });
});

describe('BodyBudget', () => {
  test('takes what fits, refuses what does not, and gives back', () => {
    const budget = new BodyBudget(100);
    assert.ok(budget.tryReserve(60));
    assert.equal(budget.tryReserve(50), false, 'refused without taking anything');
    assert.equal(budget.inUse, 60);
    assert.ok(budget.tryReserve(40));
    budget.release(60);
    assert.ok(budget.tryReserve(50));
    assert.equal(budget.inUse, 90);
  });

  test('a request larger than the whole budget may go alone, never beside another', () => {
    const budget = new BodyBudget(100);
    assert.ok(budget.tryReserve(500));
    assert.equal(budget.tryReserve(1), false);
    budget.release(500);
    assert.ok(budget.tryReserve(1));
    assert.equal(budget.tryReserve(500), false);
  });
});

describe('edgeLimitsFrom', () => {
  test('reads the flags and refuses what is no positive integer', () => {
    const flags = { 'max-connections-per-client': '8', 'request-body-timeout': '1000', 'http2-max-streams-per-connection': '50', 'max-body-bytes-in-flight': '1024' };
    const limits = edgeLimitsFrom(flags);
    assert.equal(limits.maxConnectionsPerClient, 8);
    assert.equal(limits.maxStreamsPerConnection, 50);
    assert.throws(() => edgeLimitsFrom({ ...flags, 'request-body-timeout': '0' }), ConfigError);
  });
});
