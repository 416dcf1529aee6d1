/**
 * Leader election between controller hosts (two gateway replicas) over one in-process control
 * plane: exactly one leads and runs the controllers; the other takes over when the leader
 * stops (it gives the Lease up) or loses storage (its Lease expires), and the Lease records it
 * as client-go would (holderIdentity, leaseDurationSeconds, acquireTime, renewTime,
 * leaseTransitions).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../../../lib/kube.ts';
import { controllerPlane, SeveredStorage, type ControllerPlane } from '../../../test/support/controller-plane.ts';
import { ControllerHost } from './host.ts';
import { CONTROLLER_FLAGS, controllerHostFrom, electionTimingFrom, selectControllers, type ControllerSettings } from './index.ts';
import { DEFAULT_LEASE, parseDurationMs } from './leader.ts';
import type { Controller, ControllerContext } from './types.ts';

const TIMING = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

/** A controller that records when it runs (and in `log`, shared by several, when it starts and ends), and stops when told to. */
class Recorder implements Controller {
  readonly name = 'recorder';
  running = 0;
  starts = 0;
  private readonly log: string[];
  private readonly id: string;
  constructor(id = 'recorder', log: string[] = []) {
    this.id = id;
    this.log = log;
  }
  async run(_ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    this.running++;
    this.starts++;
    this.log.push(`${this.id} started`);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.running--;
    this.log.push(`${this.id} ended`);
  }
}

/** Resolves when `host` reports `leading` (at once when it already does); fails after `ms`. */
function leadership(host: ControllerHost, leading: boolean, ms = 10_000): Promise<void> {
  if (host.leading === leading) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`host did not become ${leading ? 'leader' : 'follower'} within ${ms} ms`));
    }, ms);
    const off = host.onLeadershipChange((now) => {
      if (now !== leading) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

async function leaseOf(plane: ControllerPlane): Promise<KubeObject> {
  const ref = { group: 'coordination.k8s.io', resource: 'leases', namespace: DEFAULT_LEASE.namespace, name: DEFAULT_LEASE.name };
  return plane.storage.get(ref);
}

const spec = (o: KubeObject) => o.spec as Record<string, unknown>;

describe('leader election of controller hosts', () => {
  let plane: ControllerPlane;
  before(async () => {
    plane = await controllerPlane();
  });
  after(async () => {
    await plane.close();
  });

  test('one of two hosts leads; when it stops the other takes over at once', async () => {
    const a = new Recorder();
    const b = new Recorder();
    const hostA = new ControllerHost({ context: plane.contextFor(plane.pipelineFor()), controllers: [a], identity: 'replica-a', timing: TIMING });
    const hostB = new ControllerHost({ context: plane.contextFor(plane.pipelineFor()), controllers: [b], identity: 'replica-b', timing: TIMING });
    hostA.start();
    await leadership(hostA, true);
    hostB.start();
    try {
      // B keeps following while A renews: several renewals, no takeover.
      const before = spec(await leaseOf(plane)).renewTime;
      await new Promise((r) => setTimeout(r, TIMING.leaseDurationMs + 500));
      assert.equal(hostB.leading, false);
      assert.equal(b.starts, 0);
      assert.equal(a.running, 1);
      const lease = spec(await leaseOf(plane));
      assert.equal(lease.holderIdentity, 'replica-a');
      assert.equal(lease.leaseDurationSeconds, 2);
      assert.notEqual(lease.renewTime, before, 'the leader renews');
      assert.match(String(lease.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      const managers = ((await leaseOf(plane)).metadata?.managedFields as { manager?: string }[] | undefined)?.map((e) => e.manager);
      assert.deepEqual(managers, ['kube-controller-manager'], 'the Lease is written as kube-controller-manager writes it');
      const transitions = Number(lease.leaseTransitions);

      const started = performance.now();
      await hostA.stop();
      assert.equal(a.running, 0, 'the stopped leader\'s controllers ended');
      await leadership(hostB, true);
      assert.ok(performance.now() - started < TIMING.leaseDurationMs, 'a released Lease is taken without waiting for it to expire');
      assert.equal(b.running, 1);
      const taken = spec(await leaseOf(plane));
      assert.equal(taken.holderIdentity, 'replica-b');
      assert.equal(taken.leaseTransitions, transitions + 1);
      assert.equal(taken.acquireTime, taken.renewTime);
    } finally {
      await hostA.stop();
      await hostB.stop();
    }
    assert.equal(b.running, 0);
  });

  test('a leader cut off from storage steps down and the other takes over after the Lease expires', async () => {
    const severed = new SeveredStorage(plane.storage);
    // What both hosts and their controllers do, in the order they do it.
    const log: string[] = [];
    const a = new Recorder('a', log);
    const b = new Recorder('b', log);
    const hostA = new ControllerHost({ context: plane.contextFor(plane.pipelineFor(severed)), controllers: [a], identity: 'replica-c', timing: TIMING });
    const hostB = new ControllerHost({ context: plane.contextFor(plane.pipelineFor()), controllers: [b], identity: 'replica-d', timing: TIMING });
    hostA.onLeadershipChange((leading) => log.push(`host a ${leading ? 'leads' : 'follows'}`));
    hostB.onLeadershipChange((leading) => log.push(`host b ${leading ? 'leads' : 'follows'}`));
    hostA.start();
    await leadership(hostA, true);
    hostB.start();
    try {
      const cut = performance.now();
      severed.cut = true;
      await leadership(hostA, false);
      const steppedDown = performance.now() - cut;
      assert.equal(a.running, 0);
      await leadership(hostB, true);
      const takenOver = performance.now() - cut;
      assert.ok(steppedDown <= TIMING.renewDeadlineMs + TIMING.retryPeriodMs * 2 + 300, `stepped down after ${steppedDown} ms`);
      assert.ok(takenOver >= steppedDown, `taken over after ${takenOver} ms`);
      // Never two leaders: B led and started its controller only after A's had ended.
      assert.deepEqual(log, ['host a leads', 'a started', 'a ended', 'host a follows', 'host b leads', 'b started']);
      assert.equal(spec(await leaseOf(plane)).holderIdentity, 'replica-d');
      // Storage back: A follows, B keeps leading.
      severed.cut = false;
      await new Promise((r) => setTimeout(r, TIMING.retryPeriodMs * 4));
      assert.equal(hostA.leading, false);
      assert.equal(hostB.leading, true);
    } finally {
      await hostB.stop();
      await hostA.stop();
    }
  });

  test('a controller that fails while leading is started again', async () => {
    let runs = 0;
    let thirdRun!: () => void;
    const third = new Promise<void>((resolve) => (thirdRun = resolve));
    const flaky: Controller = {
      name: 'flaky',
      run: async (_ctx, signal) => {
        runs++;
        if (runs < 3) throw new Error('boom');
        thirdRun();
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      },
    };
    const host = new ControllerHost({ context: plane.contextFor(plane.pipelineFor()), controllers: [flaky], identity: 'replica-e', timing: TIMING, restartBackoffMs: 10 });
    host.start();
    try {
      await leadership(host, true);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`started ${runs} times within 5 s`)), 5000)));
      await Promise.race([third, late]).finally(() => clearTimeout(timer));
      assert.equal(runs, 3);
    } finally {
      await host.stop();
    }
  });

  test('--controllers chooses as kube\'s does; the --leader-elect-* durations must fit together', () => {
    const named = (name: string): Controller => ({ name, run: async () => {} });
    const all = [named('namespace'), named('garbagecollector')];
    assert.deepEqual(selectControllers('*', all).map((c) => c.name), ['namespace', 'garbagecollector']);
    assert.deepEqual(selectControllers('*,-namespace', all).map((c) => c.name), ['garbagecollector']);
    assert.deepEqual(selectControllers('namespace', all).map((c) => c.name), ['namespace']);
    assert.deepEqual(selectControllers('', all), []);
    assert.throws(() => selectControllers('nodes', all), /unknown controller "nodes"/);
    assert.deepEqual(electionTimingFrom({ 'leader-elect-lease-duration': '15s', 'leader-elect-renew-deadline': '10s', 'leader-elect-retry-period': '2s' }), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 });
    assert.throws(() => electionTimingFrom({ 'leader-elect-lease-duration': '10s', 'leader-elect-renew-deadline': '10s', 'leader-elect-retry-period': '2s' }), /must be greater than --leader-elect-renew-deadline/);
    assert.throws(() => electionTimingFrom({ 'leader-elect-lease-duration': '15', 'leader-elect-renew-deadline': '10s', 'leader-elect-retry-period': '2s' }), /positive duration/);
  });

  test('the controllers a caller makes are given --namespace-deletion-grace-period', () => {
    const flags = Object.fromEntries(CONTROLLER_FLAGS.map((f) => [f.flag, f.default])) as Record<(typeof CONTROLLER_FLAGS)[number]['flag'], string>;
    const seen: ControllerSettings[] = [];
    const context = {} as ControllerContext;
    const host = controllerHostFrom({ ...flags, controllers: '*', 'namespace-deletion-grace-period': '2s' }, context, (settings) => {
      seen.push(settings);
      return [];
    });
    assert.equal(host, undefined, 'no controller: no host');
    assert.deepEqual(seen, [{ namespaceDeletionGracePeriodMs: 2000 }]);
  });

  test('durations as kube\'s flags write them', () => {
    assert.equal(parseDurationMs('15s'), 15_000);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('1.5s'), 1500);
    assert.ok(Number.isNaN(parseDurationMs('15')));
    assert.ok(Number.isNaN(parseDurationMs('s')));
    assert.ok(Number.isNaN(parseDurationMs('')));
  });
});
