/**
 * Child-process supervision for the local toolkit: the integration tests and the `make up`
 * launcher start real etcd, redis-server and the services as children of one Node process.
 *
 * Goals, in order:
 * - a child never outlives its parent for long: on Linux each child is started through
 *   `setpriv --pdeathsig KILL`, so the kernel kills it when the parent dies, even by SIGKILL;
 *   in addition an `exit` hook kills whatever is still running when Node exits normally;
 * - failures explain themselves: a missing binary is reported by name before anything starts,
 *   and a server that exits or never becomes ready is reported with the last lines it printed;
 * - output never blocks a child: its pipes are always drained, into a bounded ring (for tail()),
 *   an optional log file and an optional line callback.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, createWriteStream, readFileSync, statSync, type WriteStream } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/** How a process ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves (never rejects) once the process has exited and its output has been read. */
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after graceMs (default 10 s); resolves when exited */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now */
  kill(): Promise<void>;
  /** last lines of its output, for error messages */
  tail(lines?: number): string;
}

export interface SpawnOptions {
  /** Short label used in error messages and as the prefix of lines given to onLine. */
  name: string;
  /** Executable: a bare name looked up in the child's PATH, or a path. */
  command: string;
  args: string[];
  /** Child environment; the parent's by default. Its PATH is the one searched for `command`. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** file to append stdout+stderr to; otherwise kept only in a bounded in-memory ring for tail() */
  logFile?: string;
  /** also echo each output line to this function, prefixed by name (the launcher prints them) */
  onLine?: (line: string) => void;
}

/** Lines kept for tail(): enough for a crash report, small enough to keep many children around. */
const RING_LINES = 200;
/** A single line is cut here, so a child printing without newlines cannot grow the ring unboundedly. */
const MAX_LINE_CHARS = 4096;
/**
 * After `exit`, how long to wait for the pipes to close. They normally close at once; a grandchild
 * that inherited them could keep them open forever, and `exited` must still resolve.
 */
const CLOSE_GRACE_MS = 500;
const DEFAULT_GRACE_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Finding executables

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path `command` would run as, or undefined. Resolving it ourselves (instead of
 * letting spawn fail) turns ENOENT into a synchronous, named error, and is required anyway
 * because the setpriv wrapper would otherwise report the failure only as an exit code.
 */
function findExecutable(command: string, pathVar: string | undefined, cwd?: string): string | undefined {
  if (command === '') return undefined;
  if (command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(cwd ?? process.cwd(), command);
    return isExecutableFile(full) ? full : undefined;
  }
  for (const dir of (pathVar ?? '').split(delimiter)) {
    // An empty PATH entry means "current directory"; nobody wants that for etcd, so skip it.
    if (dir === '') continue;
    const full = join(dir, command);
    if (isExecutableFile(full)) return full;
  }
  return undefined;
}

/** Which of the binaries etcd / redis-server are missing from PATH (for the launcher's clear message). */
export function missingBinaries(names: string[]): string[] {
  return names.filter((name) => findExecutable(name, process.env.PATH) === undefined);
}

// ---------------------------------------------------------------------------------------------
// Dying with the parent

let pdeathsigWrapper: string | null | undefined;

/**
 * `setpriv` (util-linux) if it can set a parent-death signal here, else null. Node cannot call
 * prctl(PR_SET_PDEATHSIG) itself; setpriv does it and then execs the real command, so the pid we
 * see is the server's own pid. Probed once (a few ms) because old util-linux lacks --pdeathsig
 * and sandboxes may forbid prctl; without it we still have the exit hook below.
 * The signal fires when the spawning *thread* dies, so spawn from the main thread, not a worker.
 */
function deathSignalWrapper(): string | null {
  if (pdeathsigWrapper !== undefined) return pdeathsigWrapper;
  pdeathsigWrapper = null;
  if (process.platform !== 'linux') return null;
  const setpriv = findExecutable('setpriv', process.env.PATH);
  const truePath = findExecutable('true', process.env.PATH);
  if (setpriv === undefined || truePath === undefined) return null;
  const probe = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', truePath], { stdio: 'ignore', timeout: 5000 });
  if (probe.status === 0) pdeathsigWrapper = setpriv;
  return pdeathsigWrapper;
}

/** Children still running, killed synchronously if Node exits while they run. */
const running = new Set<{ killNow(): void }>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: kill() only sends the signal, rmSync-style cleanups run after.
  process.once('exit', () => {
    for (const child of running) child.killNow();
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // Best effort: the process is exiting and has nowhere to report to.
      }
    }
  });
}

/**
 * Registers a synchronous cleanup (e.g. removing a temp data dir) to run if Node exits before
 * it is unregistered; the returned function unregisters it. For servers whose owner forgets stop().
 */
export function addExitCleanup(cleanup: () => void): () => void {
  installExitHook();
  exitCleanups.add(cleanup);
  return () => {
    exitCleanups.delete(cleanup);
  };
}

// ---------------------------------------------------------------------------------------------
// Spawning

/**
 * Starts `command` with its output captured, its lifetime tied to this process, and a handle to
 * stop it. Throws (synchronously) an Error naming the command if it is not found or cannot start.
 */
export function spawnProcess(options: SpawnOptions): ManagedProcess {
  const { name, command } = options;
  const env = options.env ?? process.env;
  const executable = findExecutable(command, env.PATH, options.cwd);
  if (executable === undefined) {
    const where = command.includes('/') ? 'no such executable file' : `not found on PATH (${env.PATH ?? ''})`;
    throw new Error(`${name}: cannot start "${command}": ${where}`);
  }

  const wrapper = deathSignalWrapper();
  const file = wrapper ?? executable;
  const args = wrapper === null ? options.args : ['--pdeathsig', 'KILL', '--', executable, ...options.args];
  const child = spawn(file, args, {
    env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: a Ctrl-C in the launcher's terminal reaches only the
    // launcher, which stops the children in order (gateway first, etcd last), so storage can
    // still resign its leader lease. The parent-death signal above covers a launcher that dies.
    detached: true,
  });
  let childError: Error | undefined;
  // Without a listener an 'error' event (failed spawn, failed kill) would crash the parent.
  child.on('error', (err) => {
    childError = err;
  });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn() reports its errno only on the next tick; the command exists, so this is rare
    // (EACCES on a directory in the way, EAGAIN, a bad cwd).
    throw new Error(`${name}: cannot start "${command}" (${executable})${options.cwd ? ` in ${options.cwd}` : ''}`);
  }

  // Output: ring for tail(), optional log file, optional line callback.
  const ring: string[] = [];
  let log: WriteStream | undefined;
  if (options.logFile !== undefined) {
    log = createWriteStream(options.logFile, { flags: 'a' });
    log.on('error', (err) => {
      // A broken log file must not kill the parent or stall the child; note it once and go on.
      pushLine(`[log file ${options.logFile} failed: ${err.message}]`);
      log = undefined;
    });
  }
  const pushLine = (raw: string): void => {
    const line = raw.length > MAX_LINE_CHARS ? raw.slice(0, MAX_LINE_CHARS) + '…' : raw;
    ring.push(line);
    // Trim in batches so pushing stays O(1) amortised.
    if (ring.length > RING_LINES * 2) ring.splice(0, ring.length - RING_LINES);
    if (options.onLine !== undefined) {
      try {
        options.onLine(`[${name}] ${line}`);
      } catch {
        // A throwing printer must not break output capture.
      }
    }
  };
  const capture = (stream: Readable): void => {
    const decoder = new StringDecoder('utf8');
    let partial = '';
    const emitLines = (text: string): void => {
      partial += text;
      let newline = partial.indexOf('\n');
      while (newline !== -1) {
        pushLine(partial.slice(0, newline).replace(/\r$/, ''));
        partial = partial.slice(newline + 1);
        newline = partial.indexOf('\n');
      }
      if (partial.length > MAX_LINE_CHARS) {
        pushLine(partial);
        partial = '';
      }
    };
    stream.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      emitLines(decoder.write(chunk));
    });
    stream.on('end', () => {
      emitLines(decoder.end());
      if (partial !== '') pushLine(partial);
      partial = '';
    });
    stream.on('error', () => {
      // Pipe errors only mean the child is gone; 'exit' reports that.
    });
  };
  capture(child.stdout);
  capture(child.stderr);

  const entry = {
    killNow: () => {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
  installExitHook();
  running.add(entry);

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolveExited) => {
    let finished = false;
    const finish = (final: ExitStatus): void => {
      if (finished) return;
      finished = true;
      status = final;
      running.delete(entry);
      // If a grandchild holds the pipes, stop reading them so they do not keep Node alive.
      child.stdout.destroy();
      child.stderr.destroy();
      const done = (): void => resolveExited(final);
      if (log !== undefined) log.end(done);
      else done();
    };
    child.once('exit', (code, signal) => {
      running.delete(entry);
      const final = { code, signal };
      // Usually 'close' follows at once, after the last output has been read.
      setTimeout(() => finish(final), CLOSE_GRACE_MS).unref();
      child.once('close', () => finish(final));
    });
  });

  const signal = (sig: NodeJS.Signals): void => {
    if (status !== undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      child.kill(sig);
    } catch {
      // ESRCH: it exited between the check and the signal.
    }
  };

  let stopping: Promise<void> | undefined;
  const managed: ManagedProcess = {
    name,
    pid,
    exited,
    stop(graceMs = DEFAULT_GRACE_MS) {
      // Idempotent: a second stop() (or stop() after exit) waits for the same exit.
      stopping ??= (async () => {
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), graceMs);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
    async kill() {
      signal('SIGKILL');
      await exited;
    },
    tail(lines = 20) {
      const out = ring.slice(-Math.max(0, lines));
      if (childError !== undefined) out.push(`[${childError.message}]`);
      return out.join('\n');
    },
  };
  return managed;
}

// ---------------------------------------------------------------------------------------------
// Waiting for readiness

/** Poll interval: short enough that a server is used within ~50 ms of being ready. */
const POLL_MS = 50;

function describeExit(s: ExitStatus): string {
  return s.signal !== null ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
}

function withTail(message: string, proc: ManagedProcess | undefined): Error {
  if (proc === undefined) return new Error(message);
  const tail = proc.tail(30);
  return new Error(
    tail === ''
      ? `${message}\n(${proc.name} printed nothing)`
      : `${message}\n--- last output of ${proc.name} (pid ${proc.pid}) ---\n${tail}`,
  );
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return err.message + cause;
  }
  return String(err);
}

/**
 * Polls `check` (an async function that throws or returns false while not ready) every ~50 ms
 * until it succeeds; rejects with an error naming `what` and including process.tail() if the
 * process exits first or `timeoutMs` passes. A check that hangs is abandoned at the deadline or
 * when the process exits, so a dead server is reported at once rather than after a client timeout.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean | void>,
  options: { timeoutMs: number; process?: ManagedProcess },
): Promise<void> {
  const proc = options.process;
  const deadline = Date.now() + options.timeoutMs;
  let exitStatus: ExitStatus | undefined;
  const exitedOutcome = proc?.exited.then((s) => {
    exitStatus = s;
    return { kind: 'exited' as const };
  });
  let lastProblem: string | undefined;
  const lastCheck = (): string => (lastProblem === undefined ? '' : ` (last check: ${lastProblem})`);

  const exitedError = (s: ExitStatus): Error =>
    withTail(`${what}: ${proc?.name ?? 'process'} ${describeExit(s)} before it was ready${lastCheck()}`, proc);

  for (;;) {
    if (exitStatus !== undefined) throw exitedError(exitStatus);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw withTail(`${what}: not ready after ${options.timeoutMs} ms${lastCheck()}`, proc);
    }

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<{ kind: 'timeout' }>((r) => {
      timer = setTimeout(() => r({ kind: 'timeout' }), remaining);
    });
    const attempt = Promise.resolve()
      .then(check)
      .then(
        (result) => ({ kind: result === false ? ('notReady' as const) : ('ready' as const) }),
        (err: unknown) => ({ kind: 'failed' as const, err }),
      );
    const outcome = await Promise.race(exitedOutcome ? [attempt, timedOut, exitedOutcome] : [attempt, timedOut]);
    clearTimeout(timer);

    if (outcome.kind === 'ready') {
      // Something answered, but if our process died meanwhile it was not ours (a port clash).
      if (exitStatus !== undefined) throw exitedError(exitStatus);
      return;
    }
    if (outcome.kind === 'exited') continue; // reported at the top of the loop
    if (outcome.kind === 'timeout') continue; // likewise
    lastProblem = outcome.kind === 'failed' ? errorText(outcome.err) : 'check returned false';

    const pause = Math.min(POLL_MS, deadline - Date.now());
    if (pause > 0) {
      await Promise.race([new Promise((r) => setTimeout(r, pause)), exitedOutcome].filter((p) => p !== undefined));
    }
  }
}

/** VmRSS of a process in bytes (/proc/<pid>/status); 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}
