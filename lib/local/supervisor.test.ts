/**
 * The supervisor's restart policy on real child processes (small Node scripts): restart with
 * doubling backoff, reset after a healthy run, give up after failed starts in a row, manual
 * restart, and nothing restarted once halted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnProcess, waitUntil, type ManagedProcess } from './process.ts';
import { Supervisor, type SupervisedUnit } from './supervisor.ts';

/** A unit running `node -e`: healthy once it printed "ready"; `failing` makes its starts exit at once. */
class ScriptUnit implements SupervisedUnit {
  readonly name: string;
  failing = false;
  starts = 0;
  private current: ManagedProcess;

  constructor(name: string) {
    this.name = name;
    this.current = this.spawn();
  }

  get process(): ManagedProcess {
    return this.current;
  }

  async ready(): Promise<void> {
    await this.wait(this.current);
  }

  async start(): Promise<void> {
    this.starts++;
    this.current = this.spawn();
    try {
      await this.wait(this.current);
    } catch (err) {
      await this.current.kill();
      throw err;
    }
  }

  private spawn(): ManagedProcess {
    const script = this.failing
      ? "console.error('cannot bind: address already in use'); process.exit(3)"
      : "console.log('ready'); setInterval(() => {}, 1000)";
    return spawnProcess({ name: this.name, command: process.execPath, args: ['-e', script] });
  }

  private wait(proc: ManagedProcess): Promise<void> {
    return waitUntil(`${this.name} ready`, async () => proc.tail(5).split('\n').includes('ready'), { timeoutMs: 10_000, process: proc });
  }
}

/** Log lines, and a way to await one. */
class Lines {
  readonly all: string[] = [];
  private readonly waiters = new Set<() => void>();

  push = (line: string): void => {
    this.all.push(line);
    for (const w of this.waiters) w();
  };

  until(pattern: RegExp, count = 1, timeoutMs = 10_000): Promise<void> {
    const done = () => this.all.filter((l) => pattern.test(l)).length >= count;
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${count} line(s) matching ${pattern} in ${timeoutMs} ms:\n${this.all.join('\n')}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

test('a unit that dies is restarted with doubling backoff, and the backoff resets after a healthy run', async () => {
  const lines = new Lines();
  const supervisor = new Supervisor({ initialBackoffMs: 200, maxBackoffMs: 800, resetAfterMs: 1_500, log: lines.push });
  const unit = new ScriptUnit('svc');
  await unit.ready();
  supervisor.add(unit);
  try {
    const delays: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const pid = unit.process.pid;
      const exitedAt = Date.now();
      await unit.process.kill();
      await lines.until(/^svc restarted \(pid \d+\)$/, i);
      const elapsed = Date.now() - exitedAt;
      const crash = lines.all.filter((l) => l.startsWith(`svc (pid ${pid}) was killed by SIGKILL`));
      assert.equal(crash.length, 1, lines.all.join('\n'));
      delays.push(/restarting in ([\d.]+ s)/.exec(crash[0] ?? '')?.[1] ?? '');
      assert.ok(elapsed >= [200, 400, 800, 800][i - 1]!, `restart ${i} after ${elapsed} ms`);
      assert.notEqual(unit.process.pid, pid);
    }
    // 0.2, 0.4, 0.8, then capped at 0.8.
    assert.deepEqual(delays, ['0.2 s', '0.4 s', '0.8 s', '0.8 s']);
    assert.ok(lines.all.at(-1)?.endsWith(`(pid ${unit.process.pid})`));

    // Healthy for longer than resetAfterMs: the next restart waits the initial delay again.
    await new Promise((r) => setTimeout(r, 1_600));
    await unit.process.kill();
    await lines.until(/^svc restarted/, 5);
    assert.match(lines.all.filter((l) => l.includes('was killed')).at(-1) ?? '', /restarting in 0\.2 s$/);
    assert.equal(unit.starts, 5);
  } finally {
    supervisor.halt();
    await supervisor.idle();
    await unit.process.stop();
  }
});

test('a unit that fails to start N times in a row is given up, with its last output; the others go on', async () => {
  const lines = new Lines();
  const givenUp: Error[] = [];
  const supervisor = new Supervisor({
    initialBackoffMs: 50,
    maxBackoffMs: 200,
    maxFailedStarts: 3,
    log: lines.push,
    onGiveUp: (err) => givenUp.push(err),
  });
  const broken = new ScriptUnit('broken');
  const healthy = new ScriptUnit('healthy');
  await Promise.all([broken.ready(), healthy.ready()]);
  supervisor.add(broken);
  supervisor.add(healthy);
  try {
    broken.failing = true;
    await broken.process.kill();
    await lines.until(/^broken failed to start 3 times in a row; giving up$/);
    assert.equal(broken.starts, 3, lines.all.join('\n'));
    assert.equal(givenUp.length, 1);
    assert.match(givenUp[0]?.message ?? '', /^broken failed to start 3 times in a row; giving up: broken ready: broken exited with code 3 before it was ready/);
    assert.match(givenUp[0]?.message ?? '', /cannot bind: address already in use/);
    const failures = lines.all.filter((l) => l.startsWith('broken failed to start ('));
    assert.deepEqual(
      failures.map((l) => /\((\d of 3 in a row)\).*retrying in ([\d.]+ s)$/.exec(l)?.slice(1).join(' ')),
      ['1 of 3 in a row 0.1 s', '2 of 3 in a row 0.2 s'],
    );
    // Nothing more is tried, and the healthy unit is still supervised.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(broken.starts, 3);
    await healthy.process.kill();
    await lines.until(/^healthy restarted/);
  } finally {
    supervisor.halt();
    await supervisor.idle();
    await healthy.process.stop();
  }
});

test('restart() stops and starts at once; after halt() nothing is restarted', async () => {
  const lines = new Lines();
  const supervisor = new Supervisor({ initialBackoffMs: 100, log: lines.push });
  const unit = new ScriptUnit('svc');
  await unit.ready();
  supervisor.add(unit);
  const first = unit.process;
  await supervisor.restart('svc');
  assert.deepEqual(await first.exited, { code: null, signal: 'SIGTERM' });
  assert.notEqual(unit.process.pid, first.pid);
  assert.deepEqual(lines.all, [`svc restarted (pid ${unit.process.pid})`]);
  assert.equal(unit.starts, 1);

  // A death, then halt() during the backoff: the pending restart is cancelled.
  await unit.process.kill();
  await lines.until(/restarting in 0\.1 s$/);
  supervisor.halt();
  await new Promise((r) => setTimeout(r, 300));
  await supervisor.idle();
  assert.equal(unit.starts, 1);
  await assert.rejects(supervisor.restart('svc'), /after stop/);
});
