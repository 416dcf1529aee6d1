/**
 * Restarts the processes of the local control plane when they die, the way docker-compose's
 * `restart: unless-stopped` and the kubelet's `restartPolicy: Always` do, so that `make up`
 * survives one of its processes crashing while the others keep serving.
 *
 * Policy (the kubelet's CrashLoopBackOff, with shorter times for a developer's machine):
 * - a process that exits, for whatever reason and with whatever status, is started again after
 *   a delay that starts at `initialBackoffMs` and doubles at each restart up to `maxBackoffMs`;
 * - the delay returns to `initialBackoffMs` once a process has run healthy for `resetAfterMs`;
 * - a process that fails `maxFailedStarts` starts in a row (it exits, or never becomes healthy,
 *   before it is ready) is given up on: `onGiveUp` receives why, with its last output, so the
 *   owner can stop everything rather than keep a half-working control plane.
 *
 * It knows nothing of what it supervises beyond {@link SupervisedUnit}: how to start a unit
 * again (same flags, addresses and data), and which process runs it now.
 */
import type { ExitStatus, ManagedProcess } from './process.ts';

export interface SupervisedUnit {
  /** Name in log lines ("storage restarted (pid 123)"). */
  readonly name: string;
  /** The process that runs the unit now (a new one after each successful start). */
  readonly process: ManagedProcess;
  /**
   * Starts the unit again, as it was started first, and resolves once it is healthy. On failure
   * it rejects with an error that explains why (with the process's last output), having stopped
   * whatever it started.
   */
  start(): Promise<void>;
}

export interface SupervisorOptions {
  /** Delay before the first restart (default 1 s). */
  initialBackoffMs?: number;
  /** The delay doubles at each restart up to this (default 30 s). */
  maxBackoffMs?: number;
  /** A unit that ran healthy this long before it died is restarted after initialBackoffMs again (default 60 s). */
  resetAfterMs?: number;
  /** Failed starts in a row (exited or not healthy before ready) after which the unit is given up (default 5). */
  maxFailedStarts?: number;
  /** Every decision, as one line ("storage (pid 12) was killed by SIGKILL ...; restarting in 1 s"). */
  log?: (line: string) => void;
  /** Called once per unit given up on, with why (the last start's error, which carries its output). */
  onGiveUp?: (error: Error) => void;
}

interface UnitState {
  readonly unit: SupervisedUnit;
  /** The delay before the next restart. */
  backoffMs: number;
  /** Failed starts since the last successful one. */
  failures: number;
  /** When the watched process became healthy. */
  healthySince: number;
  /** The process whose exit triggers a restart; undefined while none is watched (restarting, given up). */
  watched: ManagedProcess | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The start in progress. */
  starting: Promise<void> | undefined;
}

function describeExit(status: ExitStatus): string {
  return status.signal !== null ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s` : `${Math.round(ms / 1000)} s`;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}

export class Supervisor {
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly resetAfterMs: number;
  private readonly maxFailedStarts: number;
  private readonly log: (line: string) => void;
  private readonly onGiveUp: (error: Error) => void;
  private readonly units = new Map<string, UnitState>();
  private halted = false;

  constructor(options: SupervisorOptions = {}) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = Math.max(this.initialBackoffMs, options.maxBackoffMs ?? 30_000);
    this.resetAfterMs = options.resetAfterMs ?? 60_000;
    this.maxFailedStarts = Math.max(1, options.maxFailedStarts ?? 5);
    this.log = options.log ?? (() => {});
    this.onGiveUp = options.onGiveUp ?? (() => {});
  }

  /** Supervises `unit`, whose current process is running and healthy. Names are unique. */
  add(unit: SupervisedUnit): void {
    if (this.units.has(unit.name)) throw new Error(`supervisor: ${unit.name} is already supervised`);
    const state: UnitState = {
      unit,
      backoffMs: this.initialBackoffMs,
      failures: 0,
      healthySince: Date.now(),
      watched: undefined,
      timer: undefined,
      starting: undefined,
    };
    this.units.set(unit.name, state);
    this.watch(state);
  }

  /**
   * Stops the running process of `name` (SIGTERM) and starts it again now, without backoff;
   * resolves once it is healthy. If that start fails, the rejection says why and the unit is
   * restarted on the usual schedule.
   */
  async restart(name: string): Promise<void> {
    const state = this.units.get(name);
    if (state === undefined) throw new Error(`supervisor: no unit named ${name}`);
    if (this.halted) throw new Error(`supervisor: restart of ${name} after stop`);
    // A start in progress may schedule another when it fails: wait for it, then cancel.
    await state.starting;
    clearTimeout(state.timer);
    state.timer = undefined;
    state.watched = undefined;
    state.failures = 0;
    await state.unit.process.stop();
    if (this.halted) throw new Error(`supervisor: restart of ${name} after stop`);
    await this.attempt(state, true);
  }

  /**
   * Stops restarting: pending restarts are cancelled and exits from now on are left alone.
   * Starts in progress go on; their owner stops what they started, and {@link idle} waits for them.
   */
  halt(): void {
    this.halted = true;
    for (const state of this.units.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.watched = undefined;
    }
  }

  /** Resolves once no start is in progress. */
  async idle(): Promise<void> {
    await Promise.all([...this.units.values()].map((s) => s.starting));
  }

  private watch(state: UnitState): void {
    const proc = state.unit.process;
    state.watched = proc;
    void proc.exited.then((status) => {
      if (this.halted || state.watched !== proc) return;
      state.watched = undefined;
      const ranMs = Date.now() - state.healthySince;
      if (ranMs >= this.resetAfterMs) state.backoffMs = this.initialBackoffMs;
      const delay = this.nextDelay(state);
      this.log(`${state.unit.name} (pid ${proc.pid}) ${describeExit(status)} after ${seconds(ranMs)}; restarting in ${seconds(delay)}`);
      this.schedule(state, delay);
    });
  }

  /** The delay to wait now; doubles the next one. */
  private nextDelay(state: UnitState): number {
    const delay = state.backoffMs;
    state.backoffMs = Math.min(this.maxBackoffMs, state.backoffMs * 2);
    return delay;
  }

  private schedule(state: UnitState, delayMs: number): void {
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.attempt(state, false);
    }, delayMs);
  }

  /** One start; on failure, schedules the next or gives up. Rejects with the start's error when `manual`. */
  private attempt(state: UnitState, manual: boolean): Promise<void> {
    const run = (async () => {
      try {
        await state.unit.start();
      } catch (err) {
        if (this.halted) throw err;
        state.failures++;
        if (state.failures >= this.maxFailedStarts) {
          const error = new Error(
            `${state.unit.name} failed to start ${state.failures} times in a row; giving up: ${err instanceof Error ? err.message : String(err)}`,
          );
          this.log(`${state.unit.name} failed to start ${state.failures} times in a row; giving up`);
          this.onGiveUp(error);
          throw err;
        }
        const delay = this.nextDelay(state);
        this.log(
          `${state.unit.name} failed to start (${state.failures} of ${this.maxFailedStarts} in a row): ${firstLine(err)}; retrying in ${seconds(delay)}`,
        );
        this.schedule(state, delay);
        throw err;
      }
      state.failures = 0;
      state.healthySince = Date.now();
      if (this.halted) return;
      this.log(`${state.unit.name} restarted (pid ${state.unit.process.pid})`);
      this.watch(state);
    })();
    // `starting` never rejects: the schedule above handles a failure, and only a manual
    // restart's caller wants the rejection.
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    state.starting = settled;
    void settled.then(() => {
      if (state.starting === settled) state.starting = undefined;
    });
    return manual ? run : settled;
  }
}
