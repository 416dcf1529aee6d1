/**
 * Tests of the local toolkit against the real etcd and redis-server binaries.
 * Run: ./node_modules/.bin/node --test lib/local/local.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { missingBinaries, spawnProcess, waitUntil, type ManagedProcess } from './process.ts';
import { startEtcd, startEtcdCluster, type EtcdServer } from './etcd.ts';
import { startRedis, type RedisServer } from './redis.ts';
import { redisDataDir } from './control-plane.ts';

// Whatever a failing test leaves running is stopped here, so the test process can exit.
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  await Promise.allSettled(cleanups.map((c) => c()));
});
function track<T extends { stop(): Promise<void> }>(thing: T): T {
  cleanups.push(() => thing.stop());
  return thing;
}

/** Alive and not a zombie: an orphan killed by the kernel stays a zombie until init reaps it. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: "pid (comm) STATE ..."; comm may contain spaces, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

async function listenOn(port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test('freePort returns distinct usable ports', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 5; i++) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length, `ports not distinct: ${ports.join(', ')}`);
  for (const port of ports) {
    assert.ok(port > 0 && port < 65536);
    await listenOn(port);
  }
});

test('missingBinaries names only what is not on PATH', () => {
  assert.deepEqual(missingBinaries(['etcd', 'redis-server', 'no-such-binary-7f3a']), ['no-such-binary-7f3a']);
});

test('spawnProcess fails clearly when the command does not exist', () => {
  assert.throws(
    () => spawnProcess({ name: 'ghost', command: 'no-such-command-7f3a', args: [] }),
    (err: Error) => err.message.includes('"no-such-command-7f3a"') && err.message.includes('not found'),
  );
  assert.throws(
    () => spawnProcess({ name: 'ghost', command: './nowhere/no-such-command-7f3a', args: [] }),
    /no-such-command-7f3a/,
  );
});

test('waitUntil rejects with the tail of a process that exits early', async () => {
  const proc = spawnProcess({
    name: 'shortlived',
    command: 'sh',
    args: ['-c', 'echo booting; echo "fatal: config is broken" >&2; exit 3'],
  });
  await assert.rejects(
    waitUntil('fake server', async () => false, { timeoutMs: 5000, process: proc }),
    (err: Error) => {
      assert.match(err.message, /^fake server: shortlived exited with code 3 before it was ready/);
      assert.match(err.message, /booting/);
      assert.match(err.message, /fatal: config is broken/);
      return true;
    },
  );
  assert.deepEqual(await proc.exited, { code: 3, signal: null });
  await proc.stop(); // harmless after exit
});

test('waitUntil times out naming what it waited for and the last problem', async () => {
  const started = Date.now();
  await assert.rejects(
    waitUntil(
      'the moon',
      async () => {
        throw new Error('still rising');
      },
      { timeoutMs: 200 },
    ),
    /^Error: the moon: not ready after 200 ms \(last check: still rising\)/,
  );
  assert.ok(Date.now() - started < 1000);
  // A check that never settles is abandoned at the deadline.
  await assert.rejects(waitUntil('hang', () => new Promise(() => {}), { timeoutMs: 100 }), /hang: not ready/);
});

test('stop() escalates to SIGKILL after the grace period and is idempotent', async () => {
  const lines: string[] = [];
  const proc = track(
    spawnProcess({
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', 'process.on("SIGTERM", () => console.log("ignoring TERM")); console.log("up"); setInterval(() => {}, 1000)'],
      onLine: (l) => lines.push(l),
    }),
  );
  await waitUntil('stubborn', async () => lines.includes('[stubborn] up'), { timeoutMs: 5000, process: proc });
  await Promise.all([proc.stop(200), proc.stop(200)]);
  assert.deepEqual(await proc.exited, { code: null, signal: 'SIGKILL' });
  assert.match(proc.tail(), /ignoring TERM/);
  assert.equal(isRunning(proc.pid), false);
  await proc.stop();
  await proc.kill();
});

test('children die with their parent, even when it is SIGKILLed', async (t) => {
  if (process.platform !== 'linux' || missingBinaries(['setpriv']).length > 0) {
    t.skip('needs setpriv --pdeathsig (Linux)');
    return;
  }
  const processTs = fileURLToPath(new URL('./process.ts', import.meta.url));
  const script = `
    import { spawnProcess } from ${JSON.stringify(processTs)};
    const p = spawnProcess({ name: 'sleeper', command: 'sleep', args: ['30'] });
    console.log(p.pid);
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const childPid = await new Promise<number>((resolve, reject) => {
    parent.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
  });
  assert.ok(isRunning(childPid));
  parent.kill('SIGKILL');
  // The kernel delivers the death signal at once; a loaded machine may take a while to run the reaping.
  await waitUntil(`sleeper ${childPid} to die`, async () => !isRunning(childPid), { timeoutMs: 15_000 });
});

test('etcd: start, put/get, restart keeps data, stop removes everything', async (t) => {
  const t0 = performance.now();
  const etcd: EtcdServer = track(await startEtcd());
  const startMs = performance.now() - t0;
  t.diagnostic(`etcd ready in ${startMs.toFixed(0)} ms at ${etcd.endpoint}`);
  assert.match(etcd.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(existsSync(etcd.dataDir));

  const client = new Etcd3({ hosts: etcd.endpoint });
  try {
    await client.put('/local-test/key').value('survives restarts');
    assert.equal(await client.get('/local-test/key').string(), 'survives restarts');
  } finally {
    client.close();
  }

  const firstPid = etcd.process.pid;
  const t1 = performance.now();
  await etcd.restart();
  t.diagnostic(`etcd restarted in ${(performance.now() - t1).toFixed(0)} ms`);
  assert.notEqual(etcd.process.pid, firstPid);
  assert.equal(isRunning(firstPid), false);

  const again = new Etcd3({ hosts: etcd.endpoint });
  try {
    assert.equal(await again.get('/local-test/key').string(), 'survives restarts');
  } finally {
    again.close();
  }

  const proc: ManagedProcess = etcd.process;
  await etcd.stop();
  assert.equal(isRunning(proc.pid), false);
  assert.equal(existsSync(etcd.dataDir), false);
  await etcd.stop(); // harmless
  await assert.rejects(etcd.restart(), /after stop/);
});

test('etcd cluster: three members with one leader; a second start on the same data dir keeps ports and data; a wrong member count is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'local-etcd-cluster-test-'));
  try {
    const t0 = performance.now();
    const first = track(await startEtcdCluster({ members: 3, dataDir: dir }));
    t.diagnostic(`3 members ready in ${(performance.now() - t0).toFixed(0)} ms at ${first.endpoints}`);
    assert.deepEqual(first.members.map((m) => m.name), ['etcd', 'etcd-1', 'etcd-2']);
    const statuses = await Promise.all(first.members.map((m) => m.status()));
    assert.equal(statuses.filter((s) => s.isLeader).length, 1, 'one leader');
    assert.equal(new Set(statuses.map((s) => s.leaderId)).size, 1, 'every member follows it');
    const client = new Etcd3({ hosts: first.endpoints.split(',') });
    try {
      await client.put('/local-test/cluster').value('kept');
    } finally {
      client.close();
    }
    // Stopped together, the leader would try to hand over its leadership to members going
    // away and give up only after etcd's request timeout (~7 s): followers go first.
    const stopStart = performance.now();
    await first.stop();
    const stopMs = performance.now() - stopStart;
    // Reported, not asserted: a time bound would fail on a busy machine.
    t.diagnostic(`3 members stopped in ${stopMs.toFixed(0)} ms`);

    const second = track(await startEtcdCluster({ members: 3, dataDir: dir }));
    assert.equal(second.endpoints, first.endpoints, 'the members keep their addresses');
    const again = new Etcd3({ hosts: second.endpoints.split(',') });
    try {
      assert.equal(await again.get('/local-test/cluster').string(), 'kept');
    } finally {
      again.close();
    }
    await second.stop();
    await assert.rejects(startEtcdCluster({ members: 5, dataDir: dir }), /holds an etcd cluster of 3 members, not 5/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the Redis of make up keeps its data apart per etcd layout (the changefeed record is of one etcd)', () => {
  assert.equal(redisDataDir('/data', 1), join('/data', 'redis'), 'a single etcd keeps the Redis data it always had');
  assert.equal(redisDataDir('/data', 3), join('/data', 'redis-cluster'));
  assert.equal(redisDataDir('/data', 5), join('/data', 'redis-cluster'), 'as etcd-cluster holds any cluster');
});

test('redis: start, publish/subscribe one message, stop', async (t) => {
  const t0 = performance.now();
  const redis: RedisServer = track(await startRedis());
  t.diagnostic(`redis ready in ${(performance.now() - t0).toFixed(0)} ms at ${redis.url}`);
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);

  const subscriber = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const publisher = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    await subscriber.subscribe('local-test');
    const received = new Promise<[string, string]>((resolve) => {
      subscriber.once('message', (channel: string, message: string) => resolve([channel, message]));
    });
    assert.equal(await publisher.publish('local-test', 'hello'), 1);
    assert.deepEqual(await received, ['local-test', 'hello']);
  } finally {
    subscriber.disconnect();
    publisher.disconnect();
  }

  const pid = redis.process.pid;
  await redis.stop();
  assert.equal(isRunning(pid), false);
  assert.equal(existsSync(redis.dataDir), false);
  await redis.stop(); // harmless
});

test('a server that cannot start reports its own output', async () => {
  // Both get the same fixed port: the second redis cannot bind it and must say so.
  const first = track(await startRedis());
  await assert.rejects(startRedis({ port: first.port, timeoutMs: 5000 }), (err: Error) => {
    assert.match(err.message, new RegExp(`redis at 127\\.0\\.0\\.1:${first.port}`));
    assert.match(err.message, /address already in use/i);
    return true;
  });
  await first.stop();
});
