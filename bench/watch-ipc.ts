/**
 * The watch bench's child processes (watcher clients, the raw grpc-js reference server) and how
 * the bench talks to them: request/response over Node's IPC channel with the structured-clone
 * serialization, so typed arrays (delivery logs, latencies) cross without JSON.
 *
 * Lifetime: a child exits when its IPC channel closes, so it never outlives the bench even if
 * the bench is killed with SIGKILL; stop() asks it to exit, then SIGKILLs it after a grace.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

interface Request {
  id: number;
  cmd: string;
  payload: unknown;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

const RING_LINES = 100;

/** A child process of the bench, driven by request/response messages. */
export class BenchChild {
  readonly name: string;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly lines: string[] = [];
  private nextId = 1;
  private exitedWith: string | undefined;
  private readonly exited: Promise<void>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    if (child.pid === undefined) throw new Error(`${name}: could not start`);
    this.pid = child.pid;
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.lines.push(line.slice(0, 2000));
      if (this.lines.length > RING_LINES * 2) this.lines.splice(0, this.lines.length - RING_LINES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (err) => keep(Buffer.from(`[${err.message}]`)));
    child.on('message', (message: Reply) => {
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${this.name}: ${message.error ?? 'failed'}`));
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedWith = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
        for (const waiter of this.pending.values()) waiter.reject(new Error(`${this.name} ${this.exitedWith}\n${this.tail()}`));
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Starts `file` (a .ts module of bench/) as a child with an IPC channel. */
  static start(name: string, file: string, nodeFlags: string[] = []): BenchChild {
    const child = fork(file, [], {
      execPath: process.execPath,
      execArgv: nodeFlags,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group: Ctrl-C reaches only the bench, which stops its children in order.
      detached: true,
    });
    return new BenchChild(name, child);
  }

  tail(lines = 20): string {
    return this.lines.slice(-lines).join('\n');
  }

  /** Sends a command and resolves with the child's answer. */
  call<T>(cmd: string, payload: unknown = {}): Promise<T> {
    if (this.exitedWith !== undefined) return Promise.reject(new Error(`${this.name} ${this.exitedWith}\n${this.tail()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, payload } satisfies Request, (err) => {
        if (err === null) return;
        this.pending.delete(id);
        reject(new Error(`${this.name}: cannot send ${cmd}: ${err.message}`));
      });
    });
  }

  /** Closes the IPC channel (the child then exits), SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exitedWith !== undefined) return;
    const timer = setTimeout(() => this.kill(), graceMs);
    try {
      if (this.child.connected) this.child.disconnect();
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    try {
      this.child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Child side: answers the bench's commands; exits when the bench goes away. */
export function serveCommands(handlers: Record<string, (payload: never) => unknown>): void {
  if (process.send === undefined) {
    process.stderr.write('this module is a child process of bench/watch.ts\n');
    process.exit(2);
  }
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd];
    const reply = (r: Omit<Reply, 'id'>): void => {
      if (process.connected) process.send?.({ id: message.id, ...r });
    };
    if (handler === undefined) {
      reply({ ok: false, error: `unknown command ${message.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.payload as never))
      .then(
        (result) => reply({ ok: true, result }),
        (err: unknown) => reply({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  // The bench handles Ctrl-C and stops its children; a stray signal must not leave a half state.
  process.on('SIGINT', () => {});
}

/**
 * Runs `fire(i)` for i = 0 .. count-1 at a steady `rate` per second from now (open loop: a
 * slow fire does not delay the schedule; late events fire at once to catch up). Resolves
 * after the last one fired; `stop` ends early.
 */
export async function steadySchedule(count: number, rate: number, fire: (i: number) => void, stop?: AbortSignal): Promise<void> {
  const start = performance.now();
  const interval = 1000 / rate;
  let i = 0;
  while (i < count && stop?.aborted !== true) {
    const wait = start + i * interval - performance.now();
    // Timers have a 1 ms granularity: a shorter wait sleeps 1 ms rather than spinning.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const now = performance.now();
    while (i < count && start + i * interval <= now) fire(i++);
    // Still behind after a burst: let I/O run before the next one.
    if (i < count && start + i * interval <= performance.now()) await new Promise((resolve) => setImmediate(resolve));
  }
}
