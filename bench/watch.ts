/**
 * `make bench-watch` (and `make bench`, after the storage bench): the watch fan-out of issue 4,
 * measured in one run on one machine, with its references measured in the same run.
 *
 * It starts a real etcd and redis-server (temp dirs, free ports) and the storage service as
 * their own processes. Scenarios:
 *
 *   (a) BENCH_WATCHERS_A (1,000) watchers of all configmaps, 50 creates/s: every event goes to
 *       every watcher (50,000 deliveries/s);
 *   (a-window) the same with the watcher clients' HTTP/2 connection window at 16 MiB instead of
 *       grpc-js's 64 KiB default (what lib/grpc/client.ts's client settings give the gateway), to
 *       separate the transport's flow control from the service's own cost;
 *   (b) BENCH_WATCHERS_B (10,000) watchers, each of its own namespace ns-<i>, 500 creates/s
 *       round-robin over those namespaces: every event goes to one watcher.
 *
 * Each scenario has two sides, set up at once on fresh processes, each with its own watcher
 * client processes (bench/watch-client.ts; the bench process only writes and collects):
 *   - the watch service: two watch replicas (services/watch/main.ts), the watchers spread
 *     evenly over them, watching the replicas' gRPC Watch API directly from the revision
 *     current before the writes (no initial list; bookmarks allowed, as informers ask); events
 *     are creates through the storage service at a steady rate (open loop);
 *   - raw grpc-js server streaming: two minimal grpc-js servers of the same Watch API
 *     (bench/watch-raw-server.ts) that write events of the same size at the same rate.
 * The memory of each side's servers is read (VmRSS) on the fresh process, once BENCH_WARM_WATCHERS
 * (1,000) warm-up watchers per server of a namespace nobody writes to are connected and idle,
 * once BENCH_MEMORY_WATCHERS (5,000) more per server, shaped as the scenario's (all namespaces,
 * or one namespace each) but of a resource nobody writes (secrets), are too, and once the
 * scenario's watchers are: the growth from the memory watchers per watcher is what an idle
 * watcher costs a warm process (the scenario's own 500 per process in (a) are too few to
 * resolve it: a few hundred KiB of noise is a KiB per watcher); the whole growth over every
 * watcher includes what a process spends once (code compiled on first use, V8's young
 * generation growing on the burst of connections, the first stream). Each
 * side is warmed up, then both are measured in BENCH_ROUNDS rounds (default 3) of
 * BENCH_SECONDS / BENCH_ROUNDS each, the side measured first alternating from round to round,
 * so that a drift of the machine's load (it is shared) falls on both alike; each round's p99
 * and CPU per delivery are reported with their median and range. A window ends when every
 * delivery of its events has arrived.
 *
 * Latency runs from the moment the storage create returned to the bench (etcd has committed by
 * then) to the watcher's receipt (wall clock, sub-millisecond, same machine); from the create's
 * send time too. A tap subscriber in the bench notes when each change appears on Redis, which
 * splits the service's latency into storage + changefeed and the watch service. Every watcher
 * is checked against the write log: no missed, duplicate or reordered event.
 *
 * Then the saturation run: for each of BENCH_SAT_WATCHERS (1,000 and 5,000) watchers of all
 * configmaps, the three sides (the watch service, raw grpc-js, raw Redis pub/sub with one
 * subscriber connection per watcher) set up at once; the write rate starts at BENCH_SAT_START
 * (10/s) and is multiplied by BENCH_SAT_FACTOR (2) per step up to BENCH_SAT_MAX (2,560/s),
 * BENCH_SAT_STEP_SECONDS (3) per step and side, the sides in an order that alternates per
 * step; a side's ramp stops at the first step whose p99 passes 100 ms, that misses, repeats,
 * reorders or strays a delivery, or whose writes fall behind. The ramp runs BENCH_SAT_RAMPS
 * times (default BENCH_ROUNDS) on the same watchers, so that one noisy step does not decide:
 * the rate reached is the median (and range) of the ramps'. Every step is written as
 * `saturation`, the rates reached as `saturationSummary`, and `fanout` (what each side
 * sustained, per watcher count) for the charts. With the defaults a ramp is at most 9 steps
 * of 3 s per side (81 s of writes, plus the drains), so three ramps of both watcher counts
 * take at most about 8 minutes of writes.
 *
 * Then raw Redis pub/sub fan-out: BENCH_REDIS_CONNECTIONS (100) subscriber connections in the
 * client processes, at (a)'s delivery rate and at MEASURED.md's 2,000 messages/s
 * (BENCH_REDIS_RATES), measured in as many windows as rounds.
 *
 * Environment: BENCH_SECONDS (10) measured per side, BENCH_ROUNDS (3), BENCH_WARMUP_SECONDS (2) per side,
 * BENCH_WATCHERS_A, BENCH_WATCHERS_B, BENCH_RATE_A (50), BENCH_RATE_B (500), BENCH_CLIENTS (2
 * client processes per side), BENCH_CHANNELS (1 HTTP/2 connection per server and client process,
 * as the gateway has one per replica), BENCH_REDIS_CONNECTIONS, BENCH_REDIS_RATES ("500,2000");
 * BENCH_MEMORY_WATCHERS (per watch replica; the raw servers' one stream per watcher is resolved by
 * the scenario's own watchers), BENCH_SAT_*; for investigating: BENCH_ONLY=a,a-window,b,saturation,redis, BENCH_CPU_PROF=<dir> (CPU profiles of the
 * watch replicas, written when they stop; bench/profile-summary.ts reads them) and
 * BENCH_HEAP_SNAPSHOT=<dir> (heap snapshots of watch-1 and raw-grpc-1 before and after their
 * watchers connect; bench/heap-summary.ts compares them). A run that changes what is measured
 * prints its table but leaves bench/results/ alone.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { KubeObject } from '../lib/kube.ts';
import { checkHealth } from '../lib/local/control-plane.ts';
import { startEtcd, type EtcdServer } from '../lib/local/etcd.ts';
import { freePort } from '../lib/local/ports.ts';
import { missingBinaries, spawnProcess, waitUntil, type ManagedProcess } from '../lib/local/process.ts';
import { startRedis, type RedisServer } from '../lib/local/redis.ts';
import { createTelemetry } from '../lib/tracing.ts';
import { FEED_REVISION_KEY } from '../services/storage/changefeed.ts';
import { channelFor } from '../lib/change-event.ts';
import { StorageClient } from '../services/storage/grpc/client.ts';
import {
  benchConfigMap,
  benchOnly,
  benchRounds,
  configMapsRef,
  CpuMeter,
  cpuSecondsOf,
  median,
  publishResults,
  quietly,
  reportHeader,
  runBench,
  sleep,
  spreadOf,
  stopOnSignals,
} from './harness.ts';
import { rssBytes } from '../lib/local/process.ts';
import { BenchChild, steadySchedule, wallNow } from './watch-ipc.ts';
import { SATURATION_P99_MS, SIDE_NAMES, type FanoutPoint, type SaturationSide } from './charts-from-results.ts';
import { renderCharts } from './charts-from-results.ts';
import {
  emptyLog,
  histogramQuantile,
  LATENCY_BUCKETS,
  type ClientResult,
  type ProgressReport,
  type StepStats,
  type WatchTargetSpec,
  type WriteLog,
} from './watch-protocol.ts';
import type { RunCommand } from './watch-raw-server.ts';
import {
  renderMarkdown,
  type Aim,
  type FanOutResult,
  type MemoryResult,
  type Percentiles,
  type RedisResult,
  type SaturationStep,
  type SaturationSummary,
  type ScenarioResult,
  type WatchReport,
  type WatchRound,
  type WindowFigures,
} from './watch-report.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const CLIENT_FILE = join(ROOT, 'bench', 'watch-client.ts');
const RAW_SERVER_FILE = join(ROOT, 'bench', 'watch-raw-server.ts');

function envNumber(name: string, fallback: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  }
  return n;
}

const SECONDS = envNumber('BENCH_SECONDS', 10);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 2);
const ROUNDS = benchRounds();
const WATCHERS_A = envNumber('BENCH_WATCHERS_A', 1_000, true);
const WATCHERS_B = envNumber('BENCH_WATCHERS_B', 10_000, true);
const RATE_A = envNumber('BENCH_RATE_A', 50);
const RATE_B = envNumber('BENCH_RATE_B', 500);
const CLIENTS = envNumber('BENCH_CLIENTS', 2, true);
const CHANNELS = envNumber('BENCH_CHANNELS', 1, true);
/** Warm-up watchers per server, connected (idle) before the scenario's watchers are measured. */
const WARM_WATCHERS = process.env.BENCH_WARM_WATCHERS === '0' ? 0 : envNumber('BENCH_WARM_WATCHERS', 1_000, true);
/**
 * Idle watchers per server of the scenario's shape (all namespaces, or one namespace each) on a
 * resource nobody writes, connected after the warm-up watchers: their growth is the memory
 * figure, resolved over enough watchers (the scenario's own may be too few per process).
 */
const MEMORY_WATCHERS = process.env.BENCH_MEMORY_WATCHERS === '0' ? 0 : envNumber('BENCH_MEMORY_WATCHERS', 5_000, true);
/** The resource of the memory watchers: served and cached like configmaps, never written here. */
const IDLE_RESOURCE = 'secrets';
/** The clients' HTTP/2 connection window of scenario a-window (grpc-node.flow_control_window). */
const WIDE_WINDOW = 16 * 2 ** 20;
const REDIS_CONNECTIONS = envNumber('BENCH_REDIS_CONNECTIONS', 100, true);
const REDIS_RATES = (process.env.BENCH_REDIS_RATES ?? '500,2000').split(',').map((s) => Number(s.trim()));
if (REDIS_RATES.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error('BENCH_REDIS_RATES: positive numbers, comma-separated');
/** The saturation run: watcher counts, the first rate, the factor between steps, the last rate, seconds per step. */
const SAT_WATCHERS = (process.env.BENCH_SAT_WATCHERS ?? '1000,5000').split(',').map((x) => Number(x.trim()));
if (SAT_WATCHERS.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('BENCH_SAT_WATCHERS: positive integers, comma-separated');
const SAT_START = envNumber('BENCH_SAT_START', 10);
const SAT_FACTOR = envNumber('BENCH_SAT_FACTOR', 2);
if (SAT_FACTOR <= 1) throw new Error('BENCH_SAT_FACTOR must be above 1');
const SAT_MAX = envNumber('BENCH_SAT_MAX', 2560);
const SAT_STEP_SECONDS = envNumber('BENCH_SAT_STEP_SECONDS', 3);
/** Ramps per watcher count (the rate reached is their median): BENCH_SAT_RAMPS, else BENCH_ROUNDS. */
const SAT_RAMPS = envNumber('BENCH_SAT_RAMPS', ROUNDS, true);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
/** Diagnostic: heap snapshots of watch-1 and raw-grpc-1 before and after their watchers connect go here. */
const HEAP_DIR = process.env.BENCH_HEAP_SNAPSHOT === undefined ? undefined : resolve(process.env.BENCH_HEAP_SNAPSHOT);
const PARTS = ['a', 'a-window', 'b', 'saturation', 'redis'] as const;
type Part = (typeof PARTS)[number];
const { only: ONLY, selected } = benchOnly<Part>(PARTS, 'part');
/** Only a run of the issue's figures writes bench/results/ (durations may differ). */
const DIAGNOSTIC =
  ONLY.length > 0 || HEAP_DIR !== undefined || WARM_WATCHERS !== 1_000 || MEMORY_WATCHERS !== 5_000 || WATCHERS_A !== 1_000 || WATCHERS_B !== 10_000 || RATE_A !== 50 || RATE_B !== 500 || process.env.BENCH_REDIS_RATES !== undefined ||
  ['BENCH_SAT_WATCHERS', 'BENCH_SAT_START', 'BENCH_SAT_FACTOR', 'BENCH_SAT_MAX', 'BENCH_SAT_STEP_SECONDS', 'BENCH_SAT_RAMPS'].some((name) => process.env[name] !== undefined);
const REPLICAS = 2;
const OBJECT_BYTES = 1024;
/** Aims of issue 4. */
const AIM_P99_MS = 100;
const AIM_BYTES_PER_WATCHER = 4096;
const AIM_DELIVERY_RATIO = 0.5;
/** Longest wait for the last deliveries after the last write. */
const DRAIN_TIMEOUT_MS = 60_000;
/** A drain that makes no progress for this long is over (what is missing is missed). */
const STALL_MS = 5_000;

const STARTED_AT = performance.now();

/** A progress line on stderr, stamped with the time since the bench started. */
function log(line: string): void {
  const seconds = Math.round((performance.now() - STARTED_AT) / 1000);
  const stamp = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  process.stderr.write(`[watch ${stamp}] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// The object: a ConfigMap of ~1 KiB of JSON (as the storage bench writes).

function configMap(namespace: string, name: string, payload: string): KubeObject {
  return benchConfigMap(namespace, name, { app: 'watch-bench', purpose: 'watch fan-out' }, { payload });
}

const PAYLOAD = 'x'.repeat(Math.max(0, OBJECT_BYTES - JSON.stringify(configMap('ns-0000', 'a-00000000', '')).length));

// ---------------------------------------------------------------------------------------------
// Everything the bench starts, stopped in finally and on SIGINT/SIGTERM.

const running = {
  etcd: undefined as EtcdServer | undefined,
  redis: undefined as RedisServer | undefined,
  storage: undefined as ManagedProcess | undefined,
  service: undefined as StorageClient | undefined,
  redisClients: new Set<Redis>(),
  watch: new Set<ManagedProcess>(),
  children: new Set<BenchChild>(),
};
let stopping: Promise<void> | undefined;
const interrupted = new AbortController();


function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await Promise.all([...running.children].map((c) => quietly(() => c.stop())));
    await quietly(() => running.service?.close());
    for (const r of running.redisClients) r.disconnect();
    await Promise.all([...running.watch].map((w) => quietly(() => w.stop(10_000))));
    await quietly(() => running.storage?.stop(10_000));
    await Promise.all([quietly(() => running.redis?.stop()), quietly(() => running.etcd?.stop())]);
  })();
  return stopping;
}

stopOnSignals(interrupted, 'the watchers, the watch replicas, storage, etcd and redis-server', stopAll);

function checkInterrupted(): void {
  if (interrupted.signal.aborted) throw new Error('interrupted');
}

/** Tracing as deployed (spans made, nothing exported): no OTEL_* from the shell. */
function serviceEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_')) env[k] = v;
  return env;
}

/** Spawns a service on a free port and waits until it is healthy (retrying a port clash). */
async function startService(name: string, file: string, flags: string[], nodeFlags: string[] = []): Promise<{ proc: ManagedProcess; address: string }> {
  for (let attempt = 1; ; attempt++) {
    const address = `127.0.0.1:${await freePort()}`;
    const proc = spawnProcess({
      name,
      command: process.execPath,
      args: [...nodeFlags, join(ROOT, file), `--listen=${address}`, ...flags, '--shutdown-grace=2000'],
      env: serviceEnv(),
      cwd: ROOT,
    });
    try {
      await waitUntil(`${name} healthy at ${address}`, () => checkHealth(address), { timeoutMs: 60_000, process: proc });
      return { proc, address };
    } catch (err) {
      await proc.kill();
      if (attempt < 3 && /address already in use|EADDRINUSE/i.test(err instanceof Error ? err.message : '')) continue;
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring helpers

/**
 * Waits until `pids` use on average under 5% of one core each (10% under --cpu-prof, whose
 * sampling costs a little even when idle) over half a second, twice in a row.
 */
async function waitQuiet(what: string, pids: number[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const used = (): number => pids.reduce((s, pid) => s + (cpuSecondsOf(pid) ?? 0), 0);
  let quiet = 0;
  let before = used();
  while (quiet < 2) {
    if (Date.now() > deadline) throw new Error(`${what}: still busy after ${timeoutMs / 1000} s`);
    await sleep(500, interrupted.signal);
    checkInterrupted();
    const now = used();
    quiet = now - before < (CPU_PROF_DIR === undefined ? 0.025 : 0.05) * pids.length ? quiet + 1 : 0;
    before = now;
  }
}

/**
 * VmRSS of `pids` once it has settled: a process keeps growing for a moment after a burst of
 * connections has been served (the collector's concurrent work, pages touched late), so it is
 * read every 500 ms until no process moved by more than 128 KiB over 2 s (at most 20 s).
 */
async function settledRss(pids: number[]): Promise<number[]> {
  const readings: number[][] = [pids.map(rssBytes)];
  const deadline = Date.now() + 20_000;
  for (;;) {
    await sleep(500, interrupted.signal);
    checkInterrupted();
    readings.push(pids.map(rssBytes));
    const window = readings.slice(-5);
    if (window.length === 5 && pids.every((_, i) => Math.max(...window.map((r) => r[i] ?? 0)) - Math.min(...window.map((r) => r[i] ?? 0)) <= 128 * 1024)) break;
    if (Date.now() > deadline) break;
  }
  return readings[readings.length - 1] as number[];
}

/** Node flags of a serving process: a CPU profile and heap snapshots on SIGUSR2 when asked for. */
function diagnosticFlags(cpuProfile: boolean): string[] {
  const flags = cpuProfile && CPU_PROF_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${resolve(CPU_PROF_DIR)}`] : [];
  if (HEAP_DIR !== undefined) flags.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`);
  return flags;
}

/** Has `pid` write a heap snapshot (it must run with diagnosticFlags()) and names it `<label>.heapsnapshot`. */
async function heapSnapshot(pid: number, label: string): Promise<void> {
  if (HEAP_DIR === undefined) return;
  mkdirSync(HEAP_DIR, { recursive: true });
  const known = new Set(readdirSync(HEAP_DIR));
  process.kill(pid, 'SIGUSR2');
  let file: string | undefined;
  let size = -1;
  await waitUntil(
    `heap snapshot ${label}`,
    async () => {
      file ??= readdirSync(HEAP_DIR).find((f) => f.endsWith('.heapsnapshot') && !known.has(f));
      if (file === undefined) return false;
      // Written from the process's main thread: done when the size stays put and the process is idle.
      const now = statSync(join(HEAP_DIR, file)).size;
      const stable = now === size && now > 0;
      size = now;
      if (!stable) await sleep(500);
      return stable;
    },
    { timeoutMs: 300_000 },
  );
  await waitQuiet(`heap snapshot ${label}`, [pid]);
  renameSync(join(HEAP_DIR, file as string), join(HEAP_DIR, `${label}.heapsnapshot`));
  log(`  heap snapshot: ${join(HEAP_DIR, `${label}.heapsnapshot`)}`);
}

/** Watcher j: client j % CLIENTS, server floor(j / CLIENTS) % servers, namespace j or all. */
function spread(watchers: number, addresses: string[], perNamespace: boolean): WatchTargetSpec[][] {
  const perClient: WatchTargetSpec[][] = Array.from({ length: CLIENTS }, () => []);
  for (let j = 0; j < watchers; j++) {
    (perClient[j % CLIENTS] as WatchTargetSpec[]).push({
      address: addresses[Math.floor(j / CLIENTS) % addresses.length] as string,
      ns: perNamespace ? j : -1,
    });
  }
  return perClient;
}

function startChild(name: string, file: string, nodeFlags: string[] = []): BenchChild {
  const child = BenchChild.start(name, file, nodeFlags);
  running.children.add(child);
  return child;
}

function startClients(label: string): BenchChild[] {
  return Array.from({ length: CLIENTS }, (_, i) => startChild(`${label} client ${i + 1}`, CLIENT_FILE));
}

async function stopChild(child: BenchChild): Promise<void> {
  await quietly(() => child.call('close'));
  await child.stop();
  running.children.delete(child);
}

async function progressOf(clients: BenchChild[]): Promise<ProgressReport> {
  const reports = await Promise.all(clients.map((c) => c.call<ProgressReport>('progress')));
  return reports.reduce((a, r) => ({
    deliveries: a.deliveries + r.deliveries,
    active: a.active + r.active,
    errors: a.errors + r.errors,
    started: a.started + r.started,
  }));
}

/** Waits until the clients have `expected` deliveries in all, or nothing came for STALL_MS. */
async function drain(clients: BenchChild[], expected: number): Promise<void> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    checkInterrupted();
    const p = await progressOf(clients);
    if (p.deliveries >= expected) return;
    if (p.deliveries !== last) {
      last = p.deliveries;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > STALL_MS) {
      log(`    drain: no delivery for ${STALL_MS / 1000} s at ${p.deliveries} of ${expected}; going on`);
      return;
    }
    if (performance.now() > deadline) {
      log(`    drain: ${p.deliveries} of ${expected} after ${DRAIN_TIMEOUT_MS / 1000} s; going on`);
      return;
    }
    await sleep(50, interrupted.signal);
  }
}

/** Nearest-rank percentile of sorted values (q in 0..1), as harness.ts percentile() for typed arrays. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function percentiles(sorted: Float64Array): Percentiles {
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : 0 };
}

function concatSorted(arrays: Float64Array[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out.sort();
}

/** A write log that grows window by window. */
class LogBuilder {
  readonly revision: number[] = [];
  readonly commitAt: number[] = [];
  readonly sentAt: number[] = [];
  readonly ns: number[] = [];
  readonly window: number[] = [];

  get length(): number {
    return this.revision.length;
  }

  append(segment: WriteLog): void {
    for (let i = 0; i < segment.revision.length; i++) {
      this.revision.push(segment.revision[i] as number);
      this.commitAt.push(segment.commitAt[i] as number);
      this.sentAt.push(segment.sentAt[i] as number);
      this.ns.push(segment.ns[i] as number);
      this.window.push(segment.window[i] as number);
    }
  }

  build(relay?: Map<number, number>): WriteLog {
    return {
      revision: Float64Array.from(this.revision),
      commitAt: Float64Array.from(this.commitAt),
      sentAt: Float64Array.from(this.sentAt),
      ns: Int32Array.from(this.ns),
      window: Uint8Array.from(this.window),
      relayAt: relay === undefined ? undefined : Float64Array.from(this.revision, (r) => relay.get(r) ?? NaN),
    };
  }
}

/** Merges what the clients measured against `logs` (the first one gives the event times) into one result. */
function combine(
  results: ClientResult[],
  logs: WriteLog[],
  extra: { watchers: number; offered: number; deliveriesPerEvent: (ns: number) => number; writeErrors: number; firstWriteError?: string | undefined },
  cpuPercent: Record<string, number>,
  memory: MemoryResult | undefined,
): FanOutResult {
  const first = logs[0] as WriteLog;
  const latencies = concatSorted(results.map((r) => r.latencies));
  const fromSend = concatSorted(results.map((r) => r.latenciesFromSend));
  // Per window: its events, when its writes began and ended, its expected deliveries.
  const windows = new Map<number, { events: number; firstSent: number; lastSent: number; expected: number }>();
  for (let i = 0; i < first.revision.length; i++) {
    const w = first.window[i] as number;
    let win = windows.get(w);
    if (win === undefined) windows.set(w, (win = { events: 0, firstSent: Infinity, lastSent: 0, expected: 0 }));
    win.events++;
    win.firstSent = Math.min(win.firstSent, first.sentAt[i] as number);
    win.lastSent = Math.max(win.lastSent, first.sentAt[i] as number);
    win.expected += extra.deliveriesPerEvent(first.ns[i] as number);
  }
  let events = 0;
  let expectedDeliveries = 0;
  let deliverySeconds = 0;
  let writeSeconds = 0;
  let drainSeconds = 0;
  for (const [w, win] of windows) {
    if (w === 0) continue;
    events += win.events;
    expectedDeliveries += win.expected;
    // A write every 1/rate s: n writes span n intervals.
    writeSeconds += win.events > 1 ? ((win.lastSent - win.firstSent) / 1000) * (win.events / (win.events - 1)) : 0;
    const lastReceipt = Math.max(0, ...results.map((r) => r.windows[w]?.lastReceipt ?? 0));
    if (lastReceipt > 0) {
      deliverySeconds += (lastReceipt - win.firstSent) / 1000;
      drainSeconds = Math.max(drainSeconds, (lastReceipt - win.lastSent) / 1000);
    }
  }
  const deliveries = results.reduce((n, r) => n + r.deliveries, 0);
  // The longest latency per second of each window's events (by send time), over every client.
  const maxLatencyPerSecond: Record<number, number[]> = {};
  for (let i = 0; i < first.revision.length; i++) {
    const w = first.window[i] as number;
    const second = Math.floor(((first.sentAt[i] as number) - (windows.get(w)?.firstSent ?? 0)) / 1000);
    const worst = Math.max(...results.map((r) => r.perEventMax[i] ?? 0));
    const list = (maxLatencyPerSecond[w] ??= []);
    list[second] = Math.round(Math.max(list[second] ?? 0, worst) * 10) / 10;
  }
  let hops: FanOutResult['hops'];
  const relayAt = first.relayAt;
  if (relayAt !== undefined) {
    const feed: number[] = [];
    for (let i = 0; i < first.revision.length; i++) {
      if (first.window[i] !== 0 && !Number.isNaN(relayAt[i])) feed.push((relayAt[i] as number) - (first.commitAt[i] as number));
    }
    hops = { changefeed: percentiles(Float64Array.from(feed).sort()), watch: percentiles(concatSorted(results.map((r) => r.latenciesFromRelay))) };
  }
  return {
    watchers: extra.watchers,
    offeredEventsPerSecond: extra.offered,
    eventsPerSecond: writeSeconds > 0 ? events / writeSeconds : 0,
    events,
    expectedDeliveries,
    deliveries,
    deliveriesPerSecond: deliverySeconds > 0 ? deliveries / deliverySeconds : 0,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.length > 0 ? (latencies[latencies.length - 1] as number) : 0,
    p50FromSend: quantile(fromSend, 0.5),
    p99FromSend: quantile(fromSend, 0.99),
    missed: results.reduce((n, r) => n + r.missed, 0),
    duplicates: results.reduce((n, r) => n + r.duplicates, 0),
    outOfOrder: results.reduce((n, r) => n + r.outOfOrder, 0),
    unexpected: results.reduce((n, r) => n + r.unexpected, 0),
    errors: results.reduce((n, r) => n + r.errors, 0) + extra.writeErrors,
    firstError: extra.firstWriteError ?? results.find((r) => r.firstError !== undefined)?.firstError,
    drainSeconds,
    meanObjectBytes: Math.round(results.reduce((n, r) => n + r.meanObjectBytes * r.deliveries, 0) / Math.max(1, deliveries)),
    cpuPercent,
    memory,
    maxLatencyPerSecond,
    hops,
  };
}

/**
 * One measured window of a side: its deliveries per second (from its first event to its last
 * delivery), latency percentiles, and the CPU time of the serving processes (`servers`: the
 * meter's groups measured over that window alone) per delivery.
 */
function windowFigures(results: ClientResult[], log: WriteLog, window: number, meter: CpuMeter, servers: (name: string) => boolean): WindowFigures {
  let firstSent = Infinity;
  for (let i = 0; i < log.revision.length; i++) if (log.window[i] === window) firstSent = Math.min(firstSent, log.sentAt[i] as number);
  const deliveries = results.reduce((n, r) => n + (r.windows[window]?.deliveries ?? 0), 0);
  const lastReceipt = Math.max(0, ...results.map((r) => r.windows[window]?.lastReceipt ?? 0));
  const latencies = concatSorted(results.map((r) => r.latencies.filter((_, i) => r.latencyWindows[i] === window)));
  const serverSeconds = Object.entries(meter.seconds())
    .filter(([name]) => servers(name))
    .reduce((n, [, s]) => n + s, 0);
  return {
    window,
    deliveriesPerSecond: lastReceipt > firstSent ? deliveries / ((lastReceipt - firstSent) / 1000) : 0,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    serverMicrosPerDelivery: deliveries > 0 ? (serverSeconds * 1e6) / deliveries : 0,
  };
}

/** The serving processes of a scenario's sides: the watch replicas, the raw grpc-js servers. */
const isServer = (name: string): boolean => name.startsWith('watch-') || name.startsWith('raw-');

/** Per client process and server: is one connection behind the others? */
function logPerAddress(results: ClientResult[]): void {
  results.forEach((r, i) => {
    for (const [address, p] of Object.entries(r.perAddress)) {
      log(`    client ${i + 1} -> ${address}: ${p.deliveries} deliveries, p50 ${p.p50.toFixed(1)} p99 ${p.p99.toFixed(1)} max ${p.max.toFixed(1)} ms`);
    }
  });
}

function memoryOf(
  processes: { name: string; warmWatchers: number; memoryWatchers: number; watchers: number }[],
  before: number[],
  warm: number[],
  idle: number[],
  after: number[],
): MemoryResult {
  const list = processes.map((p, i) => ({
    name: p.name,
    rssBefore: before[i] ?? 0,
    rssWarm: warm[i] ?? 0,
    rssIdle: idle[i] ?? 0,
    rssAfter: after[i] ?? 0,
    warmWatchers: p.warmWatchers,
    memoryWatchers: p.memoryWatchers,
    watchers: p.watchers,
  }));
  const sum = (f: (p: (typeof list)[number]) => number): number => list.reduce((n, p) => n + f(p), 0);
  const watchers = sum((p) => p.watchers);
  const memoryWatchers = sum((p) => p.memoryWatchers);
  const all = watchers + memoryWatchers + sum((p) => p.warmWatchers);
  const scenarioBytesPerWatcher = watchers > 0 ? sum((p) => p.rssAfter - p.rssIdle) / watchers : 0;
  return {
    processes: list,
    bytesPerWatcher: memoryWatchers > 0 ? sum((p) => p.rssIdle - p.rssWarm) / memoryWatchers : scenarioBytesPerWatcher,
    scenarioBytesPerWatcher,
    coldBytesPerWatcher: all > 0 ? sum((p) => p.rssAfter - p.rssBefore) / all : 0,
  };
}

function memoryNote(m: MemoryResult): string {
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
  return `${kib(m.bytesPerWatcher)} (the scenario's watchers: ${kib(m.scenarioBytesPerWatcher)}; cold process: ${kib(m.coldBytesPerWatcher)})`;
}

// ---------------------------------------------------------------------------------------------
// The two sides of a scenario: the watch service and raw grpc-js streaming

interface Scenario {
  name: string;
  description: string;
  watchers: number;
  rate: number;
  perNamespace: boolean;
  /** The clients' HTTP/2 connection window; undefined: the project's client settings. */
  flowControlWindow?: number | undefined;
  /** false: no warm-up or memory watchers, no memory reading (the saturation run). */
  memory?: boolean | undefined;
}

interface Context {
  etcd: EtcdServer;
  redis: RedisServer;
  storage: { proc: ManagedProcess; address: string };
  service: StorageClient;
  /** Size of a created object's JSON, as watchers receive it. */
  objectBytes: number;
}

/** One side, set up with its watchers connected and idle. */
interface Side {
  name: string;
  clients: BenchChild[];
  memory: MemoryResult;
  cpu: CpuMeter;
  /** Writes `count` events as window `window` at `rate` (default the scenario's), then waits for their deliveries. */
  window(window: number, count: number, rate?: number): Promise<void>;
  /** Every source's log, by address. */
  logs(): Record<string, WriteLog>;
  writeErrors(): { count: number; first?: string | undefined };
  stop(): Promise<void>;
}

function deliveriesPerEvent(sc: Scenario): (ns: number) => number {
  return (ns) => (sc.perNamespace ? (ns < sc.watchers ? 1 : 0) : sc.watchers);
}

/** The namespace index of the warm-up watchers: one nobody writes to. */
const WARM_NS = 1_000_000_000;

/** The namespace indices of the memory watchers of one namespace each: nobody writes there. */
const MEMORY_NS = 2_000_000_000;

/**
 * Connects the scenario's watchers to `addresses` from fresh client processes. First
 * WARM_WATCHERS per server of a namespace nobody writes to, which stay connected and idle:
 * `warmed` runs once they are (with their count), so that the memory a process spends once
 * (code compiled on first use, V8's young generation growing, the first stream) is spent
 * before anything is measured. Then MEMORY_WATCHERS per server shaped as the scenario's (all
 * namespaces, or one namespace each) of IDLE_RESOURCE, idle throughout: `idled` runs once they
 * are. Then the scenario's watchers.
 */
async function connectWatchers(
  label: string,
  sc: Scenario,
  addresses: string[],
  resourceVersion: string,
  multiplexed: boolean,
  warmed: (clients: BenchChild[], connected: number) => Promise<void>,
  idled: (clients: BenchChild[], connected: number) => Promise<void>,
): Promise<{ clients: BenchChild[]; targets: WatchTargetSpec[][]; warm: WatchTargetSpec[][]; idle: WatchTargetSpec[][] }> {
  const clients = startClients(label);
  const targets = spread(sc.watchers, addresses, sc.perNamespace);
  const measured = sc.memory !== false;
  const warm = spread(measured ? WARM_WATCHERS * addresses.length : 0, addresses, false).map((list) => list.map((t) => ({ ...t, ns: WARM_NS })));
  // The raw reference's one stream per watcher (7-14 KiB) is resolved by the scenario's own watchers.
  const idle = spread(measured && multiplexed ? MEMORY_WATCHERS * addresses.length : 0, addresses, sc.perNamespace).map((list) =>
    list.map((t) => ({ ...t, ns: t.ns < 0 ? -1 : MEMORY_NS + t.ns, resource: IDLE_RESOURCE })),
  );
  const connect = (lists: WatchTargetSpec[][]) =>
    Promise.all(
      clients.map((c, i) =>
        c.call('connectGrpc', { targets: lists[i], resourceVersion, channelsPerAddress: CHANNELS, flowControlWindow: sc.flowControlWindow, multiplexed }),
      ),
    );
  if (measured) {
    if (warm.flat().length > 0) await connect(warm);
    await warmed(clients, warm.flat().length);
    if (idle.flat().length > 0) await connect(idle);
    await idled(clients, warm.flat().length + idle.flat().length);
  }
  await connect(targets);
  return { clients, targets, warm, idle };
}

/** A Redis client the bench disconnects on Ctrl-C too (lazy: connect() it); errors surface as failed calls. */
function trackedRedis(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  running.redisClients.add(client);
  return client;
}

/** Disconnects a client of trackedRedis and forgets it. */
function releaseRedis(client: Redis): void {
  client.disconnect();
  running.redisClients.delete(client);
}

/** The watch service: two fresh replicas; events are creates through storage. */
async function serviceSide(ctx: Context, sc: Scenario): Promise<Side> {
  const nodeFlags = diagnosticFlags(true);
  const replicas: { proc: ManagedProcess; address: string }[] = [];
  let clients: BenchChild[] = [];
  const tap = trackedRedis(ctx.redis.url);
  const stop = async (): Promise<void> => {
    await Promise.all(clients.map(stopChild));
    releaseRedis(tap);
    await Promise.all(
      replicas.map(async (r) => {
        await r.proc.stop(10_000);
        running.watch.delete(r.proc);
      }),
    );
  };
  try {
    await Promise.all(
      Array.from({ length: REPLICAS }, async (_, i) => {
        const r = await startService(`watch-${i + 1}`, 'services/watch/main.ts', [`--storage-address=${ctx.storage.address}`, `--redis-url=${ctx.redis.url}`], nodeFlags);
        running.watch.add(r.proc);
        replicas[i] = r;
      }),
    );
    checkInterrupted();
    const pids = replicas.map((r) => r.proc.pid);
    if (CPU_PROF_DIR !== undefined) log(`  CPU profiles of the watch replicas (pids ${pids.join(', ')}) go to ${CPU_PROF_DIR}`);
    await waitQuiet('the watch replicas after start', pids);
    const before = sc.memory === false ? [] : await settledRss(pids);
    const t0 = performance.now();
    let warm: number[] = [];
    let idle: number[] = [];
    // A replica answers nothing until the first event: the watches are all in place once the
    // replicas and clients are idle again (a watch that was not would show as missed events).
    const connected = await connectWatchers(
      `(${sc.name}) service`,
      sc,
      replicas.map((r) => r.address),
      await ctx.service.currentRevision(),
      true,
      async (c) => {
        await waitQuiet('the watch replicas and clients after connecting the warm-up watchers', [...pids, ...c.map((x) => x.pid)]);
        warm = await settledRss(pids);
        await heapSnapshot(pids[0] as number, `${sc.name}-watch-1-before`);
      },
      async (c) => {
        await waitQuiet('the watch replicas and clients after connecting the memory watchers', [...pids, ...c.map((x) => x.pid)]);
        idle = await settledRss(pids);
        await heapSnapshot(pids[0] as number, `${sc.name}-watch-1-after`);
      },
    );
    clients = connected.clients;
    await waitQuiet('the watch replicas and clients after connecting', [...pids, ...clients.map((c) => c.pid)]);
    const after = sc.memory === false ? before : await settledRss(pids);
    const count = (list: WatchTargetSpec[][], address: string): number => list.flat().filter((t) => t.address === address).length;
    const memory = memoryOf(
      replicas.map((r, i) => ({
        name: `watch-${i + 1}`,
        warmWatchers: count(connected.warm, r.address),
        memoryWatchers: count(connected.idle, r.address),
        watchers: count(connected.targets, r.address),
      })),
      before,
      warm,
      idle,
      after,
    );
    const progress = await progressOf(clients);
    log(
      `  service: ${progress.started} watches open in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${progress.errors} errors; ` +
        (sc.memory === false ? 'memory not measured' : `memory per idle watcher ${memoryNote(memory)}`),
    );

    // The tap: when each change appears on the channel the replicas subscribe to.
    const seenOnRedis = new Map<number, number>();
    await tap.connect();
    tap.on('message', (_channel: string, message: string) => {
      const t = wallNow();
      const match = /"revision":(\d+)/.exec(message);
      if (match !== null) seenOnRedis.set(Number(match[1]), t);
    });
    await tap.subscribe(channelFor('', 'configmaps'));

    const writes = new LogBuilder();
    const nsCount = sc.perNamespace ? sc.watchers : 1;
    const perEvent = deliveriesPerEvent(sc);
    let expected = 0;
    let errorCount = 0;
    let firstError: string | undefined;
    return {
      name: 'service',
      clients,
      memory,
      cpu: new CpuMeter({
        bench: [process.pid],
        clients: clients.map((c) => c.pid),
        'watch-1': [pids[0] as number],
        'watch-2': [pids[1] as number],
        storage: [ctx.storage.proc.pid],
        etcd: [ctx.etcd.process.pid],
        redis: [ctx.redis.process.pid],
      }),
      async window(window, count, rate = sc.rate) {
        const base = writes.length;
        const segment = emptyLog(count);
        const inFlight = new Set<Promise<void>>();
        await steadySchedule(
          count,
          rate,
          (i) => {
            const g = base + i;
            const ns = g % nsCount;
            const name = `${sc.name}-${String(g).padStart(8, '0')}`;
            segment.ns[i] = ns;
            segment.window[i] = window;
            segment.sentAt[i] = wallNow();
            const p = ctx.service.create(configMapsRef(`ns-${ns}`, name), configMap(`ns-${ns}`, name, PAYLOAD)).then(
              (created) => {
                segment.commitAt[i] = wallNow();
                segment.revision[i] = Number(created.metadata?.resourceVersion);
              },
              (err: unknown) => {
                errorCount++;
                firstError ??= `create: ${err instanceof Error ? err.message : String(err)}`;
                segment.revision[i] = -1 - g;
              },
            );
            inFlight.add(p);
            void p.finally(() => inFlight.delete(p));
          },
          interrupted.signal,
        );
        await Promise.all(inFlight);
        checkInterrupted();
        writes.append(segment);
        for (let i = 0; i < count; i++) expected += perEvent(segment.ns[i] as number);
        await drain(clients, expected);
      },
      logs() {
        const log = writes.build(seenOnRedis);
        return Object.fromEntries(replicas.map((r) => [r.address, log]));
      },
      writeErrors: () => ({ count: errorCount, first: firstError }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The raw grpc-js reference: two minimal servers of the same Watch API, writing events themselves. */
async function rawSide(ctx: Context, sc: Scenario): Promise<Side> {
  const servers = Array.from({ length: REPLICAS }, (_, i) => startChild(`raw-grpc-${i + 1}`, RAW_SERVER_FILE, diagnosticFlags(false)));
  let clients: BenchChild[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(clients.map(stopChild));
    await Promise.all(servers.map(stopChild));
  };
  try {
    const addresses = (await Promise.all(servers.map((s) => s.call<number>('listen')))).map((port) => `127.0.0.1:${port}`);
    const pids = servers.map((s) => s.pid);
    await waitQuiet('the raw grpc-js servers after start', pids);
    const measured = sc.memory !== false;
    const before = measured ? await settledRss(pids) : [];
    const open = async (n: number, c: BenchChild[]): Promise<void> => {
      await waitUntil(
        'every raw stream to be open',
        async () => (await Promise.all(servers.map((s) => s.call<number>('streams')))).reduce((a, b) => a + b, 0) === n,
        { timeoutMs: 300_000 },
      );
      await waitQuiet('the raw servers and clients after connecting', [...pids, ...c.map((x) => x.pid)]);
    };
    let warm: number[] = [];
    let idle: number[] = [];
    const connected = await connectWatchers(
      `(${sc.name}) raw`,
      sc,
      addresses,
      '0',
      false,
      async (c, n) => {
        await open(n, c);
        warm = await settledRss(pids);
        await heapSnapshot(pids[0] as number, `${sc.name}-raw-grpc-1-before`);
      },
      async (c, n) => {
        await open(n, c);
        idle = await settledRss(pids);
        await heapSnapshot(pids[0] as number, `${sc.name}-raw-grpc-1-after`);
      },
    );
    clients = connected.clients;
    await open(sc.watchers + connected.warm.flat().length + connected.idle.flat().length, clients);
    const after = measured ? await settledRss(pids) : [];
    const count = (list: WatchTargetSpec[][], address: string | undefined): number => list.flat().filter((t) => t.address === address).length;
    const memory = memoryOf(
      servers.map((s, i) => ({
        name: s.name,
        warmWatchers: count(connected.warm, addresses[i]),
        memoryWatchers: count(connected.idle, addresses[i]),
        watchers: count(connected.targets, addresses[i]),
      })),
      before,
      warm,
      idle,
      after,
    );
    if (measured) log(`  raw grpc-js: ${sc.watchers} streams open; memory per idle stream ${memoryNote(memory)}`);
    const builders = servers.map(() => new LogBuilder());
    const perEvent = deliveriesPerEvent(sc);
    let expected = 0;
    return {
      name: 'raw grpc-js',
      clients,
      memory,
      cpu: new CpuMeter({ bench: [process.pid], clients: clients.map((c) => c.pid), 'raw-1': [pids[0] as number], 'raw-2': [pids[1] as number] }),
      async window(window, count, rate = sc.rate) {
        const command: RunCommand = {
          count,
          rate,
          window,
          firstIndex: (builders[0] as LogBuilder).length,
          nsCount: sc.perNamespace ? sc.watchers : 1,
          payloadBytes: ctx.objectBytes,
        };
        const segments = await Promise.all(servers.map((s) => s.call<WriteLog>('run', command)));
        segments.forEach((segment, i) => (builders[i] as LogBuilder).append(segment));
        for (let i = 0; i < count; i++) expected += perEvent(segments[0]?.ns[i] ?? 0);
        await drain(clients, expected);
      },
      logs: () => Object.fromEntries(addresses.map((a, i) => [a, (builders[i] as LogBuilder).build()])),
      writeErrors: () => ({ count: 0 }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function resultOf(side: Side, sc: Scenario): Promise<{ result: FanOutResult; clients: ClientResult[]; log: WriteLog }> {
  const logs = side.logs();
  const results = await Promise.all(side.clients.map((c) => c.call<ClientResult>('collect', { logs })));
  logPerAddress(results);
  const errors = side.writeErrors();
  const result = combine(
    results,
    Object.values(logs),
    { watchers: sc.watchers, offered: sc.rate, deliveriesPerEvent: deliveriesPerEvent(sc), writeErrors: errors.count, firstWriteError: errors.first },
    { ...side.cpu.percent(), ...side.cpu.machine() },
    side.memory,
  );
  return { result, clients: results, log: Object.values(logs)[0] as WriteLog };
}

/**
 * Both sides set up (fresh processes, watchers connected and idle, memory read), each warmed
 * up, then measured in ROUNDS rounds, the side measured first alternating, so that a drift of
 * the machine's load falls on both alike.
 */
async function measureScenario(ctx: Context, sc: Scenario, progress: string): Promise<ScenarioResult> {
  log(`${progress} (${sc.name}) ${sc.description}`);
  const raw = await rawSide(ctx, sc);
  let service: Side | undefined;
  try {
    service = await serviceSide(ctx, sc);
    const perWindow = Math.max(1, Math.round((sc.rate * SECONDS) / ROUNDS));
    const warmup = Math.round(sc.rate * WARMUP_SECONDS);
    for (const side of [raw, service]) if (warmup > 0) await side.window(0, warmup);
    let window = 1;
    const windows: { round: number; first: 'raw' | 'service'; raw: { window: number; meter: CpuMeter }; service: { window: number; meter: CpuMeter } }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const first = round % 2 === 1 ? 'raw' : 'service';
      const entry: Partial<(typeof windows)[number]> = { round, first };
      for (const [name, side] of first === 'raw' ? ([['raw', raw], ['service', service]] as const) : ([['service', service], ['raw', raw]] as const)) {
        const w = window++;
        const meter = side.cpu.copy();
        await side.cpu.measure(() => meter.measure(() => side.window(w, perWindow)));
        entry[name] = { window: w, meter };
        checkInterrupted();
      }
      windows.push(entry as (typeof windows)[number]);
    }
    log('  raw grpc-js:');
    const rawMeasured = await resultOf(raw, sc);
    const rawResult = rawMeasured.result;
    log(summaryLine(rawResult));
    log('  watch service:');
    const serviceMeasured = await resultOf(service, sc);
    const serviceResult = serviceMeasured.result;
    log(summaryLine(serviceResult));
    const rounds: WatchRound[] = windows.map((w) => {
      const s = windowFigures(serviceMeasured.clients, serviceMeasured.log, w.service.window, w.service.meter, isServer);
      const r = windowFigures(rawMeasured.clients, rawMeasured.log, w.raw.window, w.raw.meter, isServer);
      return {
        round: w.round,
        first: w.first,
        service: s,
        rawGrpc: r,
        ratio: {
          deliveriesPerSecond: r.deliveriesPerSecond > 0 ? s.deliveriesPerSecond / r.deliveriesPerSecond : 0,
          p99: r.p99 > 0 ? s.p99 / r.p99 : 0,
          serverMicrosPerDelivery: r.serverMicrosPerDelivery > 0 ? s.serverMicrosPerDelivery / r.serverMicrosPerDelivery : 0,
        },
      };
    });
    for (const x of rounds) {
      log(`  round ${x.round}: p99 service ${x.service.p99.toFixed(1)} / raw ${x.rawGrpc.p99.toFixed(1)} ms, server CPU per delivery ${x.service.serverMicrosPerDelivery.toFixed(1)} / ${x.rawGrpc.serverMicrosPerDelivery.toFixed(1)} µs`);
    }
    return {
      rounds,
      name: sc.name,
      description: sc.description,
      service: serviceResult,
      rawGrpc: rawResult,
      ratio: {
        deliveriesPerSecond: rawResult.deliveriesPerSecond > 0 ? serviceResult.deliveriesPerSecond / rawResult.deliveriesPerSecond : 0,
        p99: rawResult.p99 > 0 ? serviceResult.p99 / rawResult.p99 : 0,
      },
    };
  } finally {
    await service?.stop();
    await raw.stop();
  }
}

/** Raw Redis pub/sub: REDIS_CONNECTIONS subscribers over the client processes, publishes at `rate`. */
async function measureRedis(ctx: Context, rate: number, progress: string): Promise<FanOutResult> {
  log(`${progress} Redis pub/sub: ${REDIS_CONNECTIONS} subscriber connections, ${rate} messages/s`);
  const clients = startClients('redis');
  const publisher = trackedRedis(ctx.redis.url);
  try {
    await publisher.connect();
    const channel = `bench/fanout/${randomUUID()}`;
    await Promise.all(
      clients.map((c, i) =>
        c.call('connectRedis', { url: ctx.redis.url, channel, connections: Math.floor(REDIS_CONNECTIONS / CLIENTS) + (i < REDIS_CONNECTIONS % CLIENTS ? 1 : 0) }),
      ),
    );
    const payload = 'x'.repeat(ctx.objectBytes);
    const cpu = new CpuMeter({ bench: [process.pid], clients: clients.map((c) => c.pid), redis: [ctx.redis.process.pid] });
    const writes = new LogBuilder();
    let errorCount = 0;
    let firstError: string | undefined;
    const publish = async (window: number, count: number): Promise<void> => {
      const base = writes.length;
      const segment = emptyLog(count);
      const inFlight = new Set<Promise<unknown>>();
      await steadySchedule(
        count,
        rate,
        (i) => {
          const t = wallNow();
          segment.revision[i] = base + i + 1;
          segment.sentAt[i] = t;
          segment.commitAt[i] = t;
          segment.window[i] = window;
          const p = publisher.publish(channel, `${base + i + 1}|${payload}`).catch((err: unknown) => {
            errorCount++;
            firstError ??= `publish: ${err instanceof Error ? err.message : String(err)}`;
          });
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        },
        interrupted.signal,
      );
      await Promise.all(inFlight);
      writes.append(segment);
      await drain(clients, writes.length * REDIS_CONNECTIONS);
    };
    await publish(0, Math.round(rate * WARMUP_SECONDS));
    const meters: CpuMeter[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const meter = cpu.copy();
      await cpu.measure(() => meter.measure(() => publish(round, Math.round((rate * SECONDS) / ROUNDS))));
      meters.push(meter);
      checkInterrupted();
    }
    const logs = { redis: writes.build() };
    const results = await Promise.all(clients.map((c) => c.call<ClientResult>('collect', { logs })));
    const result = combine(
      results,
      [logs.redis],
      { watchers: REDIS_CONNECTIONS, offered: rate, deliveriesPerEvent: () => REDIS_CONNECTIONS, writeErrors: errorCount, firstWriteError: firstError },
      { ...cpu.percent(), ...cpu.machine() },
      undefined,
    );
    result.rounds = meters.map((meter, i) => windowFigures(results, logs.redis, i + 1, meter, (name) => name === 'redis'));
    log(summaryLine(result));
    return result;
  } finally {
    await Promise.all(clients.map(stopChild));
    releaseRedis(publisher);
  }
}

// ---------------------------------------------------------------------------------------------
// The saturation run: the write rate raised step by step until the watchers' p99 passes the bound

/** One side of the saturation run, its watchers connected and idle. */
interface SaturationRunner {
  side: SaturationSide;
  clients: BenchChild[];
  cpu: CpuMeter;
  /** The meter's groups that serve the watchers (their CPU per delivery). */
  servers: (name: string) => boolean;
  /** Writes `count` events at `rate` as window `window` and waits for their deliveries; resolves with the window's events by source. */
  step(window: number, count: number, rate: number): Promise<Record<string, { revision: Float64Array; commitAt: Float64Array; sentAt: Float64Array }>>;
  stop(): Promise<void>;
}

/** The events of window `w` of a log. */
function windowOf(log: WriteLog, w: number): { revision: Float64Array; commitAt: Float64Array; sentAt: Float64Array } {
  const keep: number[] = [];
  for (let i = 0; i < log.revision.length; i++) if (log.window[i] === w) keep.push(i);
  return {
    revision: Float64Array.from(keep, (i) => log.revision[i] as number),
    commitAt: Float64Array.from(keep, (i) => log.commitAt[i] as number),
    sentAt: Float64Array.from(keep, (i) => log.sentAt[i] as number),
  };
}

/** A scenario side (the watch service, raw grpc-js) as a saturation runner. */
function runnerOf(side: Side, key: SaturationSide): SaturationRunner {
  return {
    side: key,
    clients: side.clients,
    cpu: side.cpu,
    servers: isServer,
    async step(window, count, rate) {
      await side.window(window, count, rate);
      return Object.fromEntries(Object.entries(side.logs()).map(([source, log]) => [source, windowOf(log, window)]));
    },
    stop: () => side.stop(),
  };
}

/** Raw Redis pub/sub: one subscriber connection per watcher, over the client processes; the bench publishes. */
async function redisRunner(ctx: Context, watchers: number): Promise<SaturationRunner> {
  const clients = startClients(`(saturation ${watchers}) redis`);
  const publisher = trackedRedis(ctx.redis.url);
  const stop = async (): Promise<void> => {
    await Promise.all(clients.map(stopChild));
    releaseRedis(publisher);
  };
  try {
    await publisher.connect();
    const channel = `bench/saturation/${randomUUID()}`;
    await Promise.all(
      clients.map((c, i) => c.call('connectRedis', { url: ctx.redis.url, channel, connections: Math.floor(watchers / CLIENTS) + (i < watchers % CLIENTS ? 1 : 0) })),
    );
    const payload = 'x'.repeat(ctx.objectBytes);
    let sequence = 0;
    let delivered = 0;
    let errorCount = 0;
    return {
      side: 'redis',
      clients,
      cpu: new CpuMeter({ bench: [process.pid], clients: clients.map((c) => c.pid), redis: [ctx.redis.process.pid] }),
      servers: (name) => name === 'redis',
      async step(window, count, rate) {
        const segment = emptyLog(count);
        const inFlight = new Set<Promise<unknown>>();
        await steadySchedule(
          count,
          rate,
          (i) => {
            const seq = ++sequence;
            const t = wallNow();
            segment.revision[i] = seq;
            segment.sentAt[i] = t;
            segment.commitAt[i] = t;
            segment.window[i] = window;
            const p = publisher.publish(channel, `${seq}|${payload}`).catch(() => {
              errorCount++;
            });
            inFlight.add(p);
            void p.finally(() => inFlight.delete(p));
          },
          interrupted.signal,
        );
        await Promise.all(inFlight);
        delivered += count * watchers;
        await drain(clients, delivered);
        if (errorCount > 0) log(`    redis: ${errorCount} publishes failed so far`);
        return { redis: windowOf(segment, window) };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The rates of the saturation steps: SAT_START times SAT_FACTOR^k up to SAT_MAX. */
function saturationRates(): number[] {
  const rates: number[] = [];
  for (let r = SAT_START; r <= SAT_MAX * (1 + 1e-9); r *= SAT_FACTOR) rates.push(Math.round(r * 100) / 100);
  return rates;
}

/**
 * `watchers` watchers of all configmaps on each side (the watch service, raw grpc-js, raw
 * Redis), set up at once; then SAT_RAMPS ramps on them: in each, the write rate is raised step
 * by step (SAT_STEP_SECONDS each, the sides one after the other in an order that alternates
 * from step to step) and a side's ramp ends at the first step whose p99 passes
 * SATURATION_P99_MS, that misses, repeats, reorders or strays a delivery, or whose writes fall
 * behind the rate asked for (the service's creates through storage). A side reached, in a
 * ramp, the rate of the last step before the one that ended it; the summary quotes the median
 * and range over the ramps, so that one noisy step does not decide.
 */
async function measureSaturation(ctx: Context, watchers: number, progress: string): Promise<{ steps: SaturationStep[]; summary: SaturationSummary[] }> {
  const sc: Scenario = { name: `sat-${watchers}`, description: `${watchers} watchers of all configmaps`, watchers, rate: SAT_START, perNamespace: false, memory: false };
  const rates = saturationRates();
  log(
    `${progress} saturation, ${watchers.toLocaleString('en-US')} watchers of all configmaps per side: ${SAT_RAMPS} ramp(s) of up to ${rates.length} steps of ${SAT_STEP_SECONDS} s ` +
      `(${rates.join(', ')} events/s), at most ${Math.round(SAT_RAMPS * rates.length * SAT_STEP_SECONDS * 3)} s of writes over the three sides`,
  );
  const runners: SaturationRunner[] = [];
  try {
    runners.push(runnerOf(await serviceSide(ctx, sc), 'service'));
    runners.push(runnerOf(await rawSide(ctx, sc), 'grpc'));
    runners.push(await redisRunner(ctx, watchers));
    log(`  every side's ${watchers.toLocaleString('en-US')} watchers connected`);
    const steps: SaturationStep[] = [];
    /** Per side, what ended each ramp and the rate reached in it (0: not even the first step). */
    const ramps = new Map<SaturationSide, { endedBy: string; reached: SaturationStep | undefined }[]>(runners.map((r) => [r.side, []]));
    // Windows are numbered across ramps: a ramp's warm-up, then its steps.
    const windowsPerRamp = rates.length + 1;
    for (let ramp = 0; ramp < SAT_RAMPS; ramp++) {
      const rampLabel = `ramp ${ramp + 1}/${SAT_RAMPS}`;
      // Warm-up: a second at the first rate (not measured); it also takes in any late
      // delivery of the previous ramp's last step, so that it does not count as stray here.
      for (const r of runners) {
        const logs = await r.step(ramp * windowsPerRamp, Math.max(1, Math.round(SAT_START)), SAT_START);
        await Promise.all(r.clients.map((c) => c.call<StepStats>('stepStats', { logs })));
      }
      const endedBy = new Map<SaturationSide, string>();
      const reached = new Map<SaturationSide, SaturationStep>();
      for (let k = 0; k < rates.length; k++) {
        const rate = rates[k] as number;
        const live = runners.filter((r) => !endedBy.has(r.side));
        if (live.length === 0) break;
        const order = (ramp + k) % 2 === 0 ? live : [...live].reverse();
        const line: string[] = [];
        for (const r of order) {
          checkInterrupted();
          const window = ramp * windowsPerRamp + k + 1;
          const count = Math.max(2, Math.round(rate * SAT_STEP_SECONDS));
          const meter = r.cpu.copy();
          const logs = await meter.measure(() => r.step(window, count, rate));
          const stats = await Promise.all(r.clients.map((c) => c.call<StepStats>('stepStats', { logs })));
          const histogram = stats.reduce((sum, x) => sum.map((n, i) => n + (x.histogram[i] ?? 0)), new Array<number>(LATENCY_BUCKETS).fill(0));
          const deliveries = stats.reduce((n, x) => n + x.deliveries, 0);
          const events = Object.values(logs)[0] as { revision: Float64Array; commitAt: Float64Array; sentAt: Float64Array };
          const firstSent = Math.min(...events.sentAt);
          const lastSent = Math.max(...events.sentAt);
          const firstCommit = Math.min(...events.commitAt);
          const lastCommit = Math.max(...events.commitAt);
          const lastReceipt = Math.max(0, ...stats.map((x) => x.lastReceipt));
          const serverSeconds = Object.entries(meter.seconds())
            .filter(([name]) => r.servers(name))
            .reduce((n, [, v]) => n + v, 0);
          const step: SaturationStep = {
            watchers,
            side: r.side,
            ramp: ramp + 1,
            step: k + 1,
            ratePerSec: rate,
            // n commits span n - 1 intervals: spaced as the sends while the writer keeps up.
            writtenPerSec: lastCommit > firstCommit ? (count - 1) / ((lastCommit - firstCommit) / 1000) : 0,
            deliveredPerSec: lastReceipt > firstSent ? deliveries / ((lastReceipt - firstSent) / 1000) : 0,
            deliveries,
            expected: count * watchers,
            p50Ms: histogramQuantile(histogram, 0.5),
            p99Ms: histogramQuantile(histogram, 0.99),
            maxMs: histogramQuantile(histogram, 1),
            missed: stats.reduce((n, x) => n + x.missed, 0),
            duplicates: stats.reduce((n, x) => n + x.duplicates, 0),
            outOfOrder: stats.reduce((n, x) => n + x.outOfOrder, 0),
            stray: stats.reduce((n, x) => n + x.stray, 0),
            serverMicrosPerDelivery: deliveries > 0 ? (serverSeconds * 1e6) / deliveries : 0,
          };
          steps.push(step);
          const writeSeconds = (lastSent - firstSent) / 1000;
          const ended = stepFailure(step, writeSeconds);
          if (ended !== undefined) endedBy.set(r.side, ended);
          else reached.set(r.side, step);
          line.push(
            `${SIDE_NAMES[r.side]} p99 ${step.p99Ms.toFixed(1)} ms, ${Math.round(step.deliveredPerSec).toLocaleString('en-US')} deliveries/s, ` +
              `${step.serverMicrosPerDelivery.toFixed(1)} µs/delivery${ended === undefined ? '' : ` (stops: ${ended})`}`,
          );
        }
        log(`  ${progress} ${watchers.toLocaleString('en-US')} watchers, ${rampLabel}, step ${k + 1}/${rates.length}, ${rate} events/s: ${line.join('; ')}`);
      }
      for (const r of runners) {
        ramps.get(r.side)?.push({
          endedBy: endedBy.get(r.side) ?? `the last step (${rates[rates.length - 1]} events/s) within the bound`,
          reached: reached.get(r.side),
        });
      }
    }
    const summary: SaturationSummary[] = runners.map((r) => {
      const runs = ramps.get(r.side) ?? [];
      const reachedPerRamp = runs.map((x) => x.reached?.ratePerSec ?? 0);
      const spread = spreadOf(reachedPerRamp);
      const held = runs.flatMap((x) => (x.reached === undefined ? [] : [x.reached]));
      return {
        watchers,
        side: r.side,
        reachedPerSec: spread.median,
        reachedMinPerSec: spread.min,
        reachedMaxPerSec: spread.max,
        reachedPerRamp,
        deliveriesPerSec: median(held.map((x) => x.deliveredPerSec)),
        p99Ms: median(held.map((x) => x.p99Ms)),
        endedBy: runs.map((x) => x.endedBy),
      };
    });
    for (const x of summary) {
      log(
        `  ${watchers.toLocaleString('en-US')} watchers, ${SIDE_NAMES[x.side]}: reached ${x.reachedPerSec} events/s (${x.reachedMinPerSec}–${x.reachedMaxPerSec} over ${x.reachedPerRamp.length} ramps) ` +
          `with p99 ≤ ${SATURATION_P99_MS} ms; ended by ${x.endedBy.join('; ')}`,
      );
    }
    return { steps, summary };
  } finally {
    for (const r of runners) await quietly(() => r.stop());
  }
}

/**
 * Why a saturation step ends its side's ramp, or undefined when the side held it: p99 past the
 * bound, any delivery missed, repeated, out of order or not of the step's events (stray), or
 * writes behind the rate asked for.
 */
function stepFailure(step: SaturationStep, writeSeconds: number): string | undefined {
  if (step.p99Ms > SATURATION_P99_MS) return `p99 ${step.p99Ms.toFixed(0)} ms > ${SATURATION_P99_MS} ms`;
  const broken = [
    step.missed > 0 ? `${step.missed} missed` : '',
    step.duplicates > 0 ? `${step.duplicates} duplicate` : '',
    step.outOfOrder > 0 ? `${step.outOfOrder} out of order` : '',
    step.stray > 0 ? `${step.stray} stray` : '',
  ].filter((x) => x !== '');
  if (broken.length > 0) return `deliveries ${broken.join(', ')}`;
  if (step.writtenPerSec < 0.9 * step.ratePerSec && writeSeconds > 0) return `writes fell behind: ${Math.round(step.writtenPerSec)} of ${step.ratePerSec}/s`;
  return undefined;
}

function summaryLine(r: FanOutResult): string {
  const timeline = Object.entries(r.maxLatencyPerSecond)
    .map(([w, list]) => `${w === '0' ? 'warm-up' : `window ${w}`}: ${list.map((m) => Math.round(m)).join(' ')}`)
    .join('; ');
  return (
    `    ${Math.round(r.deliveriesPerSecond)} deliveries/s (${r.deliveries} of ${r.expectedDeliveries}), ` +
    `p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(1)} max ${r.max.toFixed(1)} ms, missed ${r.missed}, dup ${r.duplicates}, ` +
    `reordered ${r.outOfOrder}, unexpected ${r.unexpected}, errors ${r.errors}${r.firstError === undefined ? '' : ` (${r.firstError})`}; CPU ${JSON.stringify(r.cpuPercent)}` +
    (r.hops === undefined
      ? ''
      : `\n    commit -> Redis p50 ${r.hops.changefeed.p50.toFixed(1)} p99 ${r.hops.changefeed.p99.toFixed(1)} max ${r.hops.changefeed.max.toFixed(1)} ms; ` +
        `Redis -> watcher p50 ${r.hops.watch.p50.toFixed(1)} p99 ${r.hops.watch.p99.toFixed(1)} max ${r.hops.watch.max.toFixed(1)} ms`) +
    `\n    max latency (ms) per second of events, ${timeline}`
  );
}

async function main(): Promise<void> {
  const missing = missingBinaries(['etcd', 'redis-server']);
  if (missing.length > 0) throw new Error(`missing on PATH: ${missing.join(', ')} (make system-deps installs them)`);
  const started = new Date();
  log(
    `watch bench: ${SECONDS} s measured per side in ${ROUNDS} rounds (+${WARMUP_SECONDS} s warm-up); (a) ${WATCHERS_A} watchers at ${RATE_A}/s, ` +
      `(b) ${WATCHERS_B} at ${RATE_B}/s; ${REPLICAS} replicas, ${CLIENTS} client processes per side`,
  );

  const [etcd, redis] = await Promise.all([startEtcd(), startRedis()]);
  running.etcd = etcd;
  running.redis = redis;
  checkInterrupted();
  const storage = await startService('storage', 'services/storage/main.ts', [
    `--etcd-endpoints=${etcd.endpoint}`,
    `--redis-url=${redis.url}`,
    // Periodic maintenance would land in one window or another.
    '--compaction-interval=0',
  ]);
  running.storage = storage.proc;
  checkInterrupted();
  log(`etcd ${etcd.endpoint}, redis ${redis.url}, storage ${storage.address} (pid ${storage.proc.pid})`);
  const telemetry = createTelemetry({ serviceName: 'watch-bench', env: {} });
  const service = new StorageClient(storage.address, { telemetry });
  running.service = service;

  // The changefeed starts once the storage replica is elected: write until it publishes.
  const feed = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  feed.on('error', () => {});
  running.redisClients.add(feed);
  await feed.connect();
  let objectBytes = 0;
  await waitUntil(
    'the changefeed to run',
    async () => {
      const name = `probe-${randomUUID()}`;
      const created = await service.create(configMapsRef('bench-probe', name), configMap('bench-probe', name, PAYLOAD));
      objectBytes = JSON.stringify(created).length;
      await sleep(200);
      return Number((await feed.get(FEED_REVISION_KEY)) ?? 0) >= Number(created.metadata?.resourceVersion);
    },
    { timeoutMs: 60_000, process: storage.proc },
  );
  feed.disconnect();
  running.redisClients.delete(feed);
  const ctx: Context = { etcd, redis, storage, service, objectBytes };

  const a = `${WATCHERS_A.toLocaleString('en-US')} watchers of all configmaps, ${RATE_A} creates/s`;
  const scenarios: Scenario[] = [
    { name: 'a', description: a, watchers: WATCHERS_A, rate: RATE_A, perNamespace: false },
    {
      name: 'a-window',
      description: `${a}; clients' HTTP/2 connection window ${WIDE_WINDOW / 2 ** 20} MiB (grpc-node.flow_control_window) instead of grpc-js's 64 KiB`,
      watchers: WATCHERS_A,
      rate: RATE_A,
      perNamespace: false,
      flowControlWindow: WIDE_WINDOW,
    },
    {
      name: 'b',
      description: `${WATCHERS_B.toLocaleString('en-US')} watchers each of its own namespace, ${RATE_B} creates/s over those namespaces`,
      watchers: WATCHERS_B,
      rate: RATE_B,
      perNamespace: true,
    },
  ];
  // Progress: "[k/n]" over the parts this run measures.
  const parts = scenarios.filter((sc) => selected(sc.name as Part)).length + (selected('saturation') ? SAT_WATCHERS.length : 0) + (selected('redis') ? REDIS_RATES.length : 0);
  let part = 0;
  const next = (): string => `[${++part}/${parts}]`;
  const scenarioResults: ScenarioResult[] = [];
  for (const sc of scenarios) {
    if (!selected(sc.name as Part)) continue;
    scenarioResults.push(await measureScenario(ctx, sc, next()));
    checkInterrupted();
  }
  const saturation: SaturationStep[] = [];
  const saturationSummary: SaturationSummary[] = [];
  if (selected('saturation')) {
    for (const watchers of SAT_WATCHERS) {
      const run = await measureSaturation(ctx, watchers, next());
      saturation.push(...run.steps);
      saturationSummary.push(...run.summary);
      checkInterrupted();
    }
  }
  const fanout: FanoutPoint[] = saturationSummary
    .filter((x) => x.reachedPerSec > 0)
    .map((x) => ({ watchers: x.watchers, side: x.side, deliveriesPerSec: x.deliveriesPerSec, p99Ms: x.p99Ms }));
  const redisResults: RedisResult[] = [];
  if (selected('redis')) {
    for (const rate of REDIS_RATES) {
      redisResults.push({ connections: REDIS_CONNECTIONS, result: await measureRedis(ctx, rate, next()) });
      checkInterrupted();
    }
  }

  // The aims of issue 4, judged on the scenarios as the issue states them (project settings).
  const aims: Aim[] = [];
  const headline = scenarioResults.filter((sc) => sc.name === 'a' || sc.name === 'b');
  for (const sc of headline) {
    const r = sc.service;
    aims.push({ statement: `(${sc.name}) p99 delivery < ${AIM_P99_MS} ms`, value: `${r.p99.toFixed(1)} ms`, met: r.p99 < AIM_P99_MS && r.deliveries > 0 });
  }
  for (const sc of headline) {
    const m = sc.service.memory;
    if (m === undefined) continue;
    // Judged on the scenario's watchers joining a warm process; from a cold process (with what
    // it spends once) beside it.
    aims.push({
      statement: `(${sc.name}) memory < 4 KiB per idle watcher`,
      value: `${(m.bytesPerWatcher / 1024).toFixed(2)} KiB on a warm process over ${m.processes.reduce((n, p) => n + p.memoryWatchers, 0).toLocaleString('en-US')} idle watchers (the scenario's own: ${(m.scenarioBytesPerWatcher / 1024).toFixed(2)} KiB); ${(m.coldBytesPerWatcher / 1024).toFixed(2)} KiB from a cold process`,
      met: m.bytesPerWatcher < AIM_BYTES_PER_WATCHER,
    });
  }
  for (const sc of headline) {
    aims.push({
      statement: `(${sc.name}) deliveries/s ≥ ${AIM_DELIVERY_RATIO} × raw grpc-js streaming`,
      value: `ratio ${sc.ratio.deliveriesPerSecond.toFixed(2)}`,
      met: sc.ratio.deliveriesPerSecond >= AIM_DELIVERY_RATIO,
    });
  }
  for (const sc of scenarioResults) {
    const r = sc.service;
    aims.push({
      statement: `(${sc.name}) every event delivered to its watchers exactly once, in order`,
      value: `missed ${r.missed}, duplicates ${r.duplicates}, reordered ${r.outOfOrder}, unexpected ${r.unexpected}, errors ${r.errors}`,
      met: r.missed === 0 && r.duplicates === 0 && r.outOfOrder === 0 && r.unexpected === 0 && r.errors === 0 && r.deliveries === r.expectedDeliveries,
    });
  }

  const report: WatchReport = {
    ...reportHeader(ROOT, started, `${DIAGNOSTIC ? 'BENCH_* (diagnostic) ' : ''}make bench-watch`, {
      benchSeconds: SECONDS,
      rounds: ROUNDS,
      warmupSeconds: WARMUP_SECONDS,
      watchReplicas: REPLICAS,
      clientProcesses: CLIENTS,
      connectionsPerReplicaPerClient: CHANNELS,
      objectBytes,
    }),
    scenarios: scenarioResults,
    redis: redisResults,
    saturation,
    saturationSummary,
    saturationSettings: { stepSeconds: SAT_STEP_SECONDS, start: SAT_START, factor: SAT_FACTOR, max: SAT_MAX, p99BoundMs: SATURATION_P99_MS, ramps: SAT_RAMPS },
    fanout,
    aims,
  };
  publishResults(RESULTS_DIR, 'watch', report, renderMarkdown(report), DIAGNOSTIC ? 'BENCH_ONLY, other watcher counts or rates' : undefined);
  if (!DIAGNOSTIC) log(`charts: ${renderCharts(RESULTS_DIR, join(ROOT, 'docs', 'images')).join(', ')}`);
}

await runBench(main, stopAll, interrupted.signal);
