/**
 * The control plane on a three-member etcd cluster (make up's ETCD_MEMBERS=3) loses a member
 * under load: writers create and update ConfigMaps through the storage service and watchers
 * follow them through the watch service while one member is killed (kill -9): first the
 * leader, which costs an election, then a follower, which costs nothing but the calls it had
 * in flight. Afterwards:
 * - every acknowledged write is in etcd's history once, at the revision it was acknowledged
 *   with, and in the final state; a write answered 503 (outcome unknown) is there at most once;
 * - every watcher saw exactly the history, each event once, in order;
 * - only writes sent between the kill and the end of the election as observed (plus a grace
 *   of storage's etcd deadline and a margin) failed, and only with 503; writes went on, and
 *   were sent past that grace, so that a later failure is caught. (A write the dead leader
 *   had taken but not committed is answered when storage's etcd deadline, 5 s, passes: etcd
 *   cannot tell sooner whether it will commit.);
 * - the member, started again, catches up: its applied revision reaches the cluster's.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import type { EtcdCluster, EtcdMember } from '../../lib/local/etcd.ts';
import { waitUntil } from '../../lib/local/process.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { HistoryEvent } from '../../services/storage/api.ts';
import { StorageClient } from '../../services/storage/grpc/client.ts';
import { WatchClient } from '../../services/watch/grpc/client.ts';

const NAMESPACE = 'etcd-cluster';
const WRITERS = 6;
const WATCHERS = 3;
/** Acknowledged writes before the kill, and again after the election, so that the load visibly spans both. */
const WRITES_BEFORE = 150;
const WRITES_AFTER = 150;
/** Storage's etcd request deadline (createEtcdClient's default), within which a call to a dead member is answered. */
const ETCD_DEADLINE_MS = 5_000;
/**
 * How long after the election as the test observed it (or the kill of a follower) a write sent
 * may still fail: one that reached the dead member's connection before it was seen closed, or
 * a follower before it learnt of the new leader, is answered at the latest by the etcd
 * deadline; the margin is for a loaded 2-core machine, where the members' and the test's
 * views of the election can lie seconds apart. On an idle machine all of it takes tens of
 * milliseconds.
 */
const GRACE_MS = ETCD_DEADLINE_MS + 3_000;
/** After the grace, writes go on this long at least: a write that fails then is a failure of the test. */
const AFTER_GRACE_MS = 2_000;

const telemetry = createTelemetry({ serviceName: 'test', env: {} });
let dir: string;
let plane: ControlPlane;
let cluster: EtcdCluster;
let storage: StorageClient;
let watch: WatchClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reliability-etcd-cluster-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs'), etcdMembers: 3 });
  cluster = plane.etcdCluster as EtcdCluster;
  storage = new StorageClient(plane.addresses.storage, { telemetry });
  watch = new WatchClient(plane.addresses.watch, { telemetry });
});

after(async () => {
  watch?.close();
  storage?.close();
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const ref = (name: string) => ({ group: '', resource: 'configmaps', namespace: NAMESPACE, name });
const configMap = (name: string, value: string, resourceVersion?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NAMESPACE, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
  data: { v: value },
});

/** What the writers were told. */
interface Load {
  /** Acknowledged writes: name -> the revisions acknowledged, and the value of the last. */
  acked: Map<string, { revisions: number[]; value: string }>;
  /** Names of writes answered 503: in etcd or not. */
  unknown: Set<string>;
  /** Every failed write: when it was sent and when it failed (performance.now()), and how. */
  errors: { sent: number; at: number; reason: string; message: string }[];
  /** Acknowledged writes so far. */
  count: number;
  /** When the last acknowledged write was sent (performance.now()). */
  lastAckedSent: number;
  stop(): Promise<void>;
}

/** WRITERS loops, each creating ConfigMaps named `<prefix>-<writer>-<i>` and updating each once, until stop(). */
function startLoad(prefix: string): Load {
  let stopped = false;
  const load: Load = { acked: new Map(), unknown: new Set(), errors: [], count: 0, lastAckedSent: 0, stop: async () => {} };
  const failed = (name: string, sent: number, err: unknown): void => {
    const status = err instanceof StatusError ? err : undefined;
    load.errors.push({ sent, at: performance.now(), reason: status?.reason ?? 'thrown', message: err instanceof Error ? err.message : String(err) });
    load.unknown.add(name);
  };
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; !stopped; i++) {
      const name = `${prefix}-${w}-${i}`;
      let created: KubeObject;
      let sent = performance.now();
      try {
        created = await storage.create(ref(name), configMap(name, 'created'));
      } catch (err) {
        failed(name, sent, err);
        continue;
      }
      load.acked.set(name, { revisions: [Number(created.metadata?.resourceVersion)], value: 'created' });
      load.count++;
      load.lastAckedSent = sent;
      sent = performance.now();
      try {
        const updated = await storage.update(ref(name), configMap(name, 'updated', created.metadata?.resourceVersion));
        const entry = load.acked.get(name) as { revisions: number[]; value: string };
        entry.revisions.push(Number(updated.metadata?.resourceVersion));
        entry.value = 'updated';
        load.count++;
        load.lastAckedSent = sent;
      } catch (err) {
        failed(name, sent, err);
      }
    }
  };
  const running = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  load.stop = async () => {
    stopped = true;
    await running;
  };
  return load;
}

/** WATCHERS watches of the namespace's ConfigMaps through the watch service from `from`, each recording `TYPE@revision name`. */
function startWatchers(from: string): { seen: string[][]; errors: unknown[]; stop(): Promise<void> } {
  const controller = new AbortController();
  const seen: string[][] = Array.from({ length: WATCHERS }, () => []);
  const errors: unknown[] = [];
  const running = Promise.all(
    seen.map(async (events) => {
      try {
        const target = { group: '', version: 'v1', resource: 'configmaps', namespace: NAMESPACE };
        for await (const e of watch.watch(target, { resourceVersion: from }, controller.signal)) {
          if (e.type === 'BOOKMARK') continue;
          const name = (JSON.parse(e.object.toString('utf8')) as KubeObject).metadata?.name;
          events.push(`${e.type}@${e.resourceVersion} ${name}`);
        }
      } catch (err) {
        if (!controller.signal.aborted) errors.push(err);
      }
    }),
  );
  return {
    seen,
    errors,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

/** The history of the namespace's ConfigMaps in (from, to], every page of it. */
async function history(from: string, to: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let cursor = from;
  for (;;) {
    const page = await storage.events({ group: '', resource: 'configmaps' }, { fromRevision: cursor, toRevision: to, limit: 1000 });
    events.push(...page.events.filter((e) => e.namespace === NAMESPACE));
    if (!page.more) return events;
    cursor = page.resourceVersion;
  }
}

/**
 * Runs the load and the watchers, kills the member `pickVictim` names once WRITES_BEFORE writes
 * are acknowledged (the leader when `leader`, else a follower: picked again while its own status
 * says otherwise, as leadership can move between the pick and the kill), and checks everything
 * the file's comment promises.
 */
async function killUnderLoad(t: TestContext, prefix: string, leader: boolean, pickVictim: () => Promise<EtcdMember>): Promise<void> {
  const start = await storage.currentRevision();
  const watchers = startWatchers(start);
  const load = startLoad(prefix);
  let victim: EtcdMember | undefined;
  try {
    const loadStart = performance.now();
    await waitUntil(`${WRITES_BEFORE} writes acknowledged`, async () => load.count >= WRITES_BEFORE, { timeoutMs: 60_000 });
    t.diagnostic(`${load.count} writes in ${(performance.now() - loadStart).toFixed(0)} ms before the kill`);
    // The victim's role by its own status read just before the kill, picked again until it is
    // the role wanted; and the raft term then, to tell afterwards whether an election followed.
    let before: Awaited<ReturnType<EtcdMember['status']>> | undefined;
    for (let attempt = 0; attempt < 10 && before?.isLeader !== leader; attempt++) {
      victim = await pickVictim();
      before = await victim.status();
    }
    assert.ok(victim !== undefined && before?.isLeader === leader, `a ${leader ? 'leader' : 'follower'} to kill, by its own status`);
    const killedAt = performance.now();
    await victim.kill();
    // The election is over when a remaining member leads (a follower's death needs none).
    let newLeader: EtcdMember | undefined;
    await waitUntil(
      'a leader among the remaining members',
      async () => {
        newLeader = await cluster.leader();
        return newLeader !== undefined && newLeader !== victim;
      },
      { timeoutMs: 30_000 },
    );
    const electedAt = performance.now();
    const termAfter = (await (newLeader as EtcdMember).status()).raftTerm;
    // The leader killed: its term ended with it, so the new leader's is a later one.
    if (leader) assert.ok(termAfter > before.raftTerm, `an election followed the kill of the leader (term ${before.raftTerm}, then ${termAfter})`);
    const countAtElection = load.count;
    await waitUntil(
      `${WRITES_AFTER} writes acknowledged after the election, and writes sent after its grace`,
      async () => load.count >= countAtElection + WRITES_AFTER && load.lastAckedSent > electedAt + GRACE_MS + AFTER_GRACE_MS,
      { timeoutMs: 60_000 + GRACE_MS + AFTER_GRACE_MS },
    );
    await load.stop();
    const stoppedAt = performance.now();
    const end = await storage.currentRevision();
    t.diagnostic(
      `killed ${victim.name} (${leader ? 'leader' : 'follower'}, term ${before.raftTerm}); ${newLeader?.name} led (term ${termAfter}) after ${(electedAt - killedAt).toFixed(0)} ms; ` +
        `${load.count} writes acknowledged, the last ${(stoppedAt - electedAt).toFixed(0)} ms after it; ${load.errors.length} failed: ` +
        load.errors.map((e) => `${e.reason} sent at +${(e.sent - killedAt).toFixed(0)} ms, answered at +${(e.at - killedAt).toFixed(0)} ms`).join('; '),
    );

    // Errors: 503 only, after the kill, of writes sent before the election ended as observed
    // (and its grace). Each failure was answered after the kill: its catch ran after killedAt.
    for (const e of load.errors) {
      assert.equal(e.reason, 'ServiceUnavailable', `a write failed otherwise than as unavailable: ${e.reason}: ${e.message}`);
      assert.ok(e.at >= killedAt, `a write failed before the kill: ${e.message}`);
      assert.ok(
        e.sent <= electedAt + GRACE_MS,
        `a write sent ${(e.sent - killedAt).toFixed(0)} ms after the kill failed, after the election (${(electedAt - killedAt).toFixed(0)} ms): ${e.message}`,
      );
    }

    // Every acknowledged write once in the history, at its revision; nothing twice.
    const events = await history(start, end);
    const added = new Map<string, number>();
    for (const e of events) {
      assert.equal(e.type === 'DELETED', false, `nothing was deleted: ${e.name}`);
      if (e.type === 'ADDED') added.set(e.name, (added.get(e.name) ?? 0) + 1);
    }
    for (const [name, n] of added) assert.equal(n, 1, `${name} was created ${n} times`);
    const byRevision = new Map(events.map((e) => [e.revision, e]));
    assert.equal(byRevision.size, events.length, 'one event per revision');
    for (const [name, write] of load.acked) {
      for (const [i, revision] of write.revisions.entries()) {
        const event = byRevision.get(revision);
        assert.equal(event?.name, name, `the acknowledged ${i === 0 ? 'create' : 'update'} of ${name} at ${revision} is in the history`);
        assert.equal(event?.type, i === 0 ? 'ADDED' : 'MODIFIED');
      }
    }
    for (const e of events) {
      assert.ok(load.acked.has(e.name) || load.unknown.has(e.name), `${e.name} was written by nobody`);
    }
    const stored = await storage.list(ref(''), {});
    const current = new Map(stored.items.filter((o) => o.metadata?.name?.startsWith(`${prefix}-`)).map((o) => [o.metadata?.name as string, o]));
    for (const [name, write] of load.acked) {
      const object = current.get(name);
      assert.ok(object !== undefined, `${name}, acknowledged, is stored`);
      // A 503 update may have gone through after an acknowledged create: then its value shows.
      if (!load.unknown.has(name)) assert.equal((object.data as Record<string, string>).v, write.value, `${name} holds its last acknowledged value`);
    }

    // Every watcher: exactly the history, once each, in order.
    const expected = events.map((e) => `${e.type}@${e.revision} ${e.name}`);
    const checkedAt = performance.now();
    await waitUntil(
      'the watchers receive every event',
      async () => watchers.errors.length > 0 || watchers.seen.every((s) => s.length >= expected.length),
      { timeoutMs: 30_000 },
    ).catch(() => {});
    await watchers.stop();
    t.diagnostic(`watchers: ${watchers.seen.map((s) => s.length).join(', ')} of ${expected.length} events, ${(performance.now() - checkedAt).toFixed(0)} ms after the checks of the writes`);
    assert.deepEqual(watchers.errors, [], 'no watch failed');
    for (const [i, seen] of watchers.seen.entries()) assert.deepEqual(seen, expected, `watcher ${i} saw the history exactly once, in order`);

    // The member returns and catches up with what it missed.
    const restartedAt = performance.now();
    await victim.start();
    const target = (await (newLeader as EtcdMember).status()).revision;
    assert.ok(target >= Number(end), `the cluster's revision ${target} holds the last write ${end}`);
    // At least: later writes (the compactor, election keys) move the cluster on meanwhile.
    await waitUntil(`${victim.name} catches up to revision ${target}`, async () => ((await victim?.status())?.revision ?? 0) >= target, { timeoutMs: 30_000 });
    t.diagnostic(`${victim.name} back and at revision ${target} after ${(performance.now() - restartedAt).toFixed(0)} ms`);
  } finally {
    await load.stop();
    await watchers.stop();
    // Whatever failed above, the next test needs all three members.
    await victim?.start().catch(() => {});
  }
}

test('the etcd leader killed under load: acknowledged writes kept, watchers exactly once, errors only during the election, the member catches up', async (t) => {
  await killUnderLoad(t, 'leader', true, async () => {
    const leader = await cluster.leader();
    assert.ok(leader !== undefined, 'the cluster has a leader');
    return leader;
  });
});

test('an etcd follower killed under load: the same, without an election', async (t) => {
  await killUnderLoad(t, 'follower', false, async () => {
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader);
    assert.ok(follower !== undefined);
    return follower;
  });
});
