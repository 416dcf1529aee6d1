/**
 * Measuring helpers of the benchmarks: a closed-loop load generator (N operations in flight,
 * each worker starting its next operation when the previous one ends), latency percentiles,
 * and CPU use of processes (this one through process.cpuUsage(), children through /proc); and
 * the objects they write.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { rfc3339, type KubeObject } from '../lib/kube.ts';
import type { StorageRef } from '../services/storage/api.ts';
import { collectionPrefix, objectKey, REGISTRY_PREFIX } from '../services/storage/core/keys.ts';
import { abortableSleep as sleep } from '../lib/sleep.ts';

const CREATED = rfc3339(new Date());

/**
 * A ConfigMap with the metadata a real one carries (uid, creationTimestamp, labels,
 * annotations) around `data`; `bench` names the benchmark in its labels and annotation.
 */
export function benchConfigMap(namespace: string, name: string, bench: { app: string; purpose: string }, data: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      uid: randomUUID(),
      creationTimestamp: CREATED,
      labels: { app: bench.app, tier: 'backend' },
      annotations: { 'bench.example.com/purpose': bench.purpose },
    },
    data,
  };
}

/** The storage reference of a ConfigMap (its collection when `name` is empty). */
export function configMapsRef(namespace: string, name = ''): StorageRef {
  return { group: '', resource: 'configmaps', namespace, name };
}

/** The name of the `seq`th object a bench writes (fixed width, so every name is as long). */
export function nameOf(seq: number): string {
  return `cm-${String(seq).padStart(8, '0')}`;
}

/** The raw reference's key root: same length as /registry/, outside what the changefeed watches. */
export const RAW_ROOT = '/baseline/';
if (RAW_ROOT.length !== REGISTRY_PREFIX.length) throw new Error('RAW_ROOT must be as long as REGISTRY_PREFIX');

/** The raw reference's key of `ref`: the storage key with RAW_ROOT for /registry/. */
export function rawKey(ref: StorageRef): string {
  return RAW_ROOT + objectKey(ref).slice(REGISTRY_PREFIX.length);
}

/** The raw reference's key prefix of `ref`'s collection. */
export function rawPrefix(ref: StorageRef): string {
  return RAW_ROOT + collectionPrefix(ref).slice(REGISTRY_PREFIX.length);
}

/** The objects {@link seedBothRoots} wrote: as storage holds them, and as the raw reference does. */
export interface Seeded {
  /** Under /registry/, resourceVersion set to the revision of its write. */
  registry: KubeObject[];
  /** Under RAW_ROOT, with the revision of its write. */
  raw: { object: KubeObject; revision: string }[];
}

/**
 * Writes `count` objects (`object(namespace, nameOf(i))`) of `namespace` directly to etcd under
 * both roots, `inFlight` at a time, so that both sides read the same; `wrote` hears each
 * /registry/ revision (what the changefeed must publish before a window). `refOf` says where
 * the `seq`th object goes (ConfigMaps named by nameOf unless told otherwise).
 */
export async function seedBothRoots(
  raw: Etcd3,
  namespace: string,
  count: number,
  inFlight: number,
  object: (namespace: string, name: string) => KubeObject,
  wrote: (revision: number) => void,
  refOf: (namespace: string, seq: number) => StorageRef = (ns, seq) => configMapsRef(ns, nameOf(seq)),
): Promise<Seeded> {
  const registry = new Array<KubeObject>(count);
  const rawObjects = new Array<{ object: KubeObject; revision: string }>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < count; i = next++) {
        const ref = refOf(namespace, i);
        const made = object(namespace, ref.name);
        const json = JSON.stringify(made);
        const [a, b] = await Promise.all([raw.put(objectKey(ref)).value(json).exec(), raw.put(rawKey(ref)).value(json).exec()]);
        registry[i] = { ...made, metadata: { ...made.metadata, resourceVersion: a.header.revision } };
        rawObjects[i] = { object: made, revision: b.header.revision };
        wrote(Number(a.header.revision));
      }
    }),
  );
  return { registry, raw: rawObjects };
}

/** What one measured window produced. */
export interface Sample {
  /** Operations completed inside the window. */
  ops: number;
  errors: number;
  /** Seconds from the window's start to the last completion. */
  seconds: number;
  /** Milliseconds per completed operation. */
  latencies: number[];
  /** First error message seen, to explain errors in the report. */
  firstError?: string | undefined;
}

export interface Summary {
  ops: number;
  errors: number;
  seconds: number;
  /** Completed operations per second. */
  throughput: number;
  p50: number;
  p99: number;
  firstError?: string | undefined;
}

/** The operation a worker runs; `worker` is its index (0 .. inFlight - 1). */
export type Operation = (worker: number) => Promise<void>;

/**
 * Runs `op` with `inFlight` workers for `seconds`, and returns what completed. A worker starts
 * no new operation after the deadline; operations already started complete and count (the
 * elapsed time runs to the last completion, so throughput stays honest). `stop` ends early.
 */
export async function closedLoop(op: Operation, inFlight: number, seconds: number, stop?: AbortSignal): Promise<Sample> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let last = start;
  const worker = async (index: number): Promise<void> => {
    while (performance.now() < deadline && stop?.aborted !== true) {
      const t0 = performance.now();
      try {
        await op(index);
        const t1 = performance.now();
        latencies.push(t1 - t0);
        last = Math.max(last, t1);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        last = Math.max(last, performance.now());
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, i) => worker(i)));
  return { ops: latencies.length, errors, seconds: (last - start) / 1000, latencies, firstError };
}

/**
 * Starts `op` on a fixed schedule, `ratePerSec` for `seconds` (the `i`th at start + i / rate,
 * whatever is still in flight: an open loop), and returns what completed. A latency runs from
 * the operation's scheduled start, not from when it really started, so that time spent queued
 * behind a slow server (or a busy client) counts, as it does for a caller with a deadline.
 * Every operation started completes and counts; `stop` ends the schedule early. A failed
 * operation counts in `errors`, and its time from the scheduled start to the failure in
 * `failedLatencies` (scheduledPercentile ranks it behind every success).
 */
export async function openLoop(op: Operation, ratePerSec: number, seconds: number, stop?: AbortSignal): Promise<Sample & { maxInFlight: number; failedLatencies: number[] }> {
  const latencies: number[] = [];
  const failedLatencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const interval = 1000 / ratePerSec;
  const count = Math.max(1, Math.floor(ratePerSec * seconds));
  const start = performance.now();
  let last = start;
  const pending = new Set<Promise<void>>();
  const aborted = (): boolean => stop?.aborted === true;
  const run = async (index: number, scheduled: number): Promise<void> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await op(index);
      const t1 = performance.now();
      latencies.push(t1 - scheduled);
      last = Math.max(last, t1);
    } catch (err) {
      errors++;
      firstError ??= err instanceof Error ? err.message : String(err);
      const t1 = performance.now();
      failedLatencies.push(t1 - scheduled);
      last = Math.max(last, t1);
    } finally {
      inFlight--;
    }
  };
  for (let i = 0; i < count && !aborted(); i++) {
    const scheduled = start + i * interval;
    let wait = scheduled - performance.now();
    // Behind schedule, start at once, but let the answers in between (a loop that never yields
    // would starve the event loop of the very completions it waits for).
    if (wait <= 0) await new Promise<void>((resolve) => setImmediate(resolve));
    // A timer may fire before its time by up to a millisecond, and by more on a busy machine
    // (its start is the event loop's cached clock): sleep again until the scheduled start, so
    // that no operation starts early and no latency counted from its schedule is short.
    for (; wait > 0 && !aborted(); wait = scheduled - performance.now()) await sleep(Math.max(1, wait), stop);
    if (aborted()) break;
    const p = run(i, scheduled);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  await Promise.all(pending);
  return { ops: latencies.length, errors, seconds: (last - start) / 1000, latencies, firstError, maxInFlight, failedLatencies };
}

/**
 * The percentile `q` of every operation an open loop scheduled, the failed ones included: a
 * failure ranks behind every success (a caller got no answer it could use), at its own time to
 * fail or the slowest success's, whichever is longer. Leaving failures out would let a path
 * that fails its slow requests quote a low percentile.
 */
export function scheduledPercentile(latencies: readonly number[], failedLatencies: readonly number[], q: number): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  const slowest = sorted.length > 0 ? (sorted[sorted.length - 1] as number) : 0;
  const failed = failedLatencies.map((t) => Math.max(t, slowest)).sort((a, b) => a - b);
  return percentile([...sorted, ...failed], q);
}

/** Merges windows of the same measurement (e.g. the two halves of an A-B-B-A run). */
export function summarize(samples: Sample[]): Summary {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const ops = samples.reduce((n, s) => n + s.ops, 0);
  const seconds = samples.reduce((n, s) => n + s.seconds, 0);
  return {
    ops,
    errors: samples.reduce((n, s) => n + s.errors, 0),
    seconds,
    throughput: seconds > 0 ? ops / seconds : 0,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    firstError: samples.find((s) => s.firstError !== undefined)?.firstError,
  };
}

/** The middle of `values` (the mean of the two middle ones for an even count); 0 for none. */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median, smallest and largest of per-round figures: what the results quote. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spreadOf(values: number[]): Spread {
  return { median: median(values), min: values.length > 0 ? Math.min(...values) : 0, max: values.length > 0 ? Math.max(...values) : 0 };
}

/**
 * BENCH_ROUNDS: how many times each benchmark measures both sides (default 3). Each round
 * measures both, the side that goes first alternating from round to round, so that the
 * machine's drift falls on both; the rounds share the measured time (BENCH_SECONDS per side).
 */
export function benchRounds(fallback = 3): number {
  const raw = process.env.BENCH_ROUNDS;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`BENCH_ROUNDS must be a whole number >= 1, got "${raw}"`);
  return n;
}

/** A positive number of seconds from the environment variable `name`, or `fallback` when unset. */
export function envSeconds(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of seconds, got "${raw}"`);
  return n;
}

/**
 * BENCH_ONLY: the subset of `names` to run (comma-separated; an unknown name throws, `what`
 * naming the kind of thing listed), and whether a name is in the run (all when unset).
 */
export function benchOnly<T extends string>(names: readonly T[], what = 'benchmark'): { only: string[]; selected: (name: T) => boolean } {
  const only = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of only) {
    if (!(names as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown ${what} "${name}" (${names.join(', ')})`);
  }
  return { only, selected: (name) => only.length === 0 || only.includes(name) };
}

/** Nearest-rank percentile of sorted values (q in 0..1); 0 for none. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

// ---------------------------------------------------------------------------------------------
// CPU use

let clockTicks: number | undefined;

/** Kernel clock ticks per second (the unit of /proc/<pid>/stat times); 100 on Linux nearly always. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** CPU seconds (user + system) a process has used so far; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Jiffies of the whole machine (/proc/stat): busy (user, nice, system, irq, softirq), steal, total. */
function machineJiffies(): { busy: number; steal: number; total: number } {
  try {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const at = (i: number): number => f[i] ?? 0;
    return { busy: at(0) + at(1) + at(2) + at(5) + at(6), steal: at(7), total: at(0) + at(1) + at(2) + at(3) + at(4) + at(5) + at(6) + at(7) };
  } catch {
    return { busy: 0, steal: 0, total: 0 };
  }
}

/**
 * Tracks the CPU use of named processes (or groups of processes) over measured windows, in
 * percent of one core, and how loaded the whole machine was meanwhile.
 */
export class CpuMeter {
  private readonly groups: Record<string, number[]>;
  private readonly used: Record<string, number> = {};
  private wall = 0;
  private machineBusy = 0;
  private machineSteal = 0;
  private machineTotal = 0;

  constructor(groups: Record<string, number | number[]>) {
    this.groups = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, Array.isArray(pids) ? pids : [pids]]));
    for (const name of Object.keys(this.groups)) this.used[name] = 0;
  }

  /** Measures `fn`'s window and adds it to the totals. */
  async measure<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.read();
    const machine = machineJiffies();
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.wall += (performance.now() - t0) / 1000;
      const after = this.read();
      for (const name of Object.keys(this.groups)) this.used[name] = (this.used[name] ?? 0) + Math.max(0, (after[name] ?? 0) - (before[name] ?? 0));
      const m = machineJiffies();
      this.machineBusy += m.busy - machine.busy;
      this.machineSteal += m.steal - machine.steal;
      this.machineTotal += m.total - machine.total;
    }
  }

  /** A meter of the same processes with nothing measured yet (e.g. one window of several). */
  copy(): CpuMeter {
    return new CpuMeter(this.groups);
  }

  /** CPU seconds per process or group over every measured window (unrounded, for per-operation costs). */
  seconds(): Record<string, number> {
    return { ...this.used };
  }

  /** Percent of one core per process or group over every measured window. */
  percent(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, seconds] of Object.entries(this.used)) out[name] = this.wall > 0 ? Math.round((seconds / this.wall) * 100) : 0;
    return out;
  }

  /**
   * "machine": all cores busy with anything, ours or not (200 = both cores of a 2-core machine);
   * "steal": time the hypervisor gave to other guests. Both tell how loaded the machine was.
   */
  machine(): { machine: number; steal: number } {
    const cores = cpus().length;
    const share = (jiffies: number): number => (this.machineTotal > 0 ? Math.round((jiffies / this.machineTotal) * 100 * cores) : 0);
    return { machine: share(this.machineBusy), steal: share(this.machineSteal) };
  }

  private read(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups)) out[name] = pids.reduce((n, pid) => n + (cpuSecondsOf(pid) ?? 0), 0);
    return out;
  }
}

/** Runs one step of stopping a bench; stopping is best effort, so the next step must still run. */
export async function quietly(step: () => unknown): Promise<void> {
  try {
    await step();
  } catch {
    // Best effort.
  }
}

/** Ctrl-C or SIGTERM: abort `interrupted`, stop what the bench started (`what` says so), exit 130. */
export function stopOnSignals(interrupted: AbortController, what: string, stopAll: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted.signal.aborted) return;
      process.stderr.write(`\n${signal}: stopping ${what}\n`);
      interrupted.abort();
      void stopAll().finally(() => process.exit(130));
    });
  }
}

export { sleep };

/** Writes beside the file, then renames: an interrupted run never leaves half a result. */
export function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/**
 * The commit measured, and whether the code the services run differed from it (read-only git;
 * --no-optional-locks keeps even the index untouched). Undefined outside a git checkout.
 */
export function sourceVersion(root: string): { commit: string; uncommittedChanges: boolean } | undefined {
  try {
    const git = (args: string[]): string => execFileSync('git', ['--no-optional-locks', '-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const commit = git(['rev-parse', 'HEAD']).trim();
    const changed = git(['diff', '--name-only', 'HEAD', '--', 'services', 'lib', 'proto']).trim() !== '';
    return { commit, uncommittedChanges: changed };
  } catch {
    return undefined;
  }
}

/** A tool's version from its output (`pattern`'s first group), or "unknown". */
export function toolVersion(command: string, args: string[], pattern: RegExp): string {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return pattern.exec(out)?.[1] ?? out.split('\n')[0]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The commit measured; uncommittedChanges: services/, lib/ or proto/ differed from it. */
export type SourceVersion = { commit: string; uncommittedChanges: boolean } | undefined;

/** The machine and tools a bench ran on. */
export interface BenchEnvironment {
  node: string;
  cpuModel: string;
  cpuCount: number;
  etcd: string;
  redis: string;
}

/** What every bench's results start with; `S` is the bench's own settings. */
export interface ReportHeader<S> {
  date: string;
  durationSeconds: number;
  command: string;
  settings: S;
  environment: BenchEnvironment;
  source: SourceVersion;
}

/** The header of a results report for a run that began at `started` (now its end), of the checkout at `root`. */
export function reportHeader<S>(root: string, started: Date, command: string, settings: S): ReportHeader<S> {
  return {
    date: started.toISOString(),
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    command,
    settings,
    environment: {
      node: process.version,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpuCount: cpus().length,
      etcd: toolVersion('etcd', ['--version'], /etcd Version:\s*(\S+)/),
      redis: toolVersion('redis-server', ['--version'], /v=(\S+)/),
    },
    source: sourceVersion(root),
  };
}

/** " at <short commit>", and whether the code differed from it, for a report's first line; "" when unknown. */
export function sourceNote(source: SourceVersion): string {
  return source === undefined ? '' : ` at ${source.commit.slice(0, 7)}${source.uncommittedChanges ? ' (with uncommitted changes)' : ''}`;
}

/**
 * A diagnostic run (`diagnostic` says what made it one) prints its Markdown and leaves
 * bench/results/ as it was; any other writes it with {@link writeResults}.
 */
export function publishResults(dir: string, name: string, report: unknown, markdown: string, diagnostic: string | undefined): void {
  if (diagnostic !== undefined) {
    process.stdout.write(`\n${markdown}\n(${diagnostic}: a diagnostic run; bench/results/ left as it was)\n`);
    return;
  }
  writeResults(dir, name, report, markdown);
}

/** Writes `<name>.json` (numbers to three decimals) and `<name>.md` into `dir` and says so. */
export function writeResults(dir: string, name: string, report: unknown, markdown: string): void {
  mkdirSync(dir, { recursive: true });
  // Three decimals are plenty (milliseconds to the microsecond, rates to the thousandth).
  const rounded = (_key: string, value: unknown): unknown =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
  writeAtomically(join(dir, `${name}.json`), JSON.stringify(report, rounded, 2) + '\n');
  writeAtomically(join(dir, `${name}.md`), markdown);
  process.stdout.write(`\n${markdown}\nwritten: bench/results/${name}.json, bench/results/${name}.md\n`);
}

/**
 * Runs a bench's main, stops every process it started whatever happens, and exits: nothing
 * (a stray timer, a socket) may keep the process alive afterwards. 130 after an interrupt.
 */
export async function runBench(main: () => Promise<void>, stopAll: () => Promise<void>, interrupted: AbortSignal): Promise<never> {
  try {
    await main();
  } catch (err) {
    if (!interrupted.aborted) {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  } finally {
    await stopAll();
  }
  process.exit(interrupted.aborted ? 130 : (process.exitCode ?? 0));
}
