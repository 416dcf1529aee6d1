/**
 * `make bench`: the storage service against raw etcd, measured in one run on one machine so
 * that every figure has its reference beside it (on 2 shared cores runs differ by up to 25%;
 * only ratios measured under the same noise mean something).
 *
 * It starts a real etcd and redis-server (temp dirs, free ports) and the real storage service
 * as its own process, and drives both from this process: the service through StorageClient
 * (gRPC), etcd directly through the etcd3 client made by the service's own createEtcdClient
 * (retries off, same limits). Each benchmark warms both sides up, then measures BENCH_ROUNDS
 * rounds (default 3) of both sides, BENCH_SECONDS / BENCH_ROUNDS each, the side measured first
 * alternating from round to round (raw, service; service, raw; ...), so a drift of the
 * machine's load during the run falls on both sides alike; the ratios quoted are the median
 * of the rounds' with their range. Every write goes to a fresh key.
 *
 * Fairness: the service's keys are /registry/configmaps/<namespace>/<name>; the raw keys are
 * /baseline/configmaps/<namespace>/<name> (same layout, same length). The storage process
 * runs its changefeed (an etcd watch on /registry/ that publishes every change to Redis) as
 * it does in production, so its cost is part of the service's figures; the raw keys live
 * outside /registry/ so that the service does not work on the reference's writes. Before each
 * measured window the bench waits until the changefeed has published every service write, so
 * a backlog of one window never runs during the next.
 *
 * Environment: BENCH_SECONDS (default 10) per benchmark and side, BENCH_ROUNDS (default 3),
 * BENCH_WARMUP_SECONDS
 * (default 2) per side; for investigating: BENCH_ONLY=create,get,update,list,create-1 (a
 * subset; its results are printed, not written to bench/results/) and BENCH_CPU_PROF=<dir>
 * (a CPU profile of the storage process, written when it stops; bench/profile-summary.ts
 * reads it) and BENCH_CHANGEFEED=off (the bench holds the changefeed's leadership, so the
 * service runs without publishing: what the changefeed costs; results not written either) and
 * BENCH_NODE_FLAGS (space-separated Node flags of the storage process, e.g. GC settings).
 * BENCH_RAW_CLIENT=kv: the raw side uses the service's own EtcdKv client instead of etcd3
 * (bench/raw-etcd.ts; lighter, so it takes less CPU from etcd on a small machine).
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import type { KubeObject } from '../lib/kube.ts';
import { checkHealth } from '../lib/local/control-plane.ts';
import { startEtcd, type EtcdServer } from '../lib/local/etcd.ts';
import { freePort } from '../lib/local/ports.ts';
import { missingBinaries, spawnProcess, waitUntil, type ManagedProcess } from '../lib/local/process.ts';
import { startRedis, type RedisServer } from '../lib/local/redis.ts';
import { createTelemetry } from '../lib/tracing.ts';
import { createEtcdClient } from '../services/storage/backends/etcd.ts';
import { FEED_REVISION_KEY } from '../services/storage/changefeed.ts';
import { prefixEnd } from '../services/storage/core/keys.ts';
import { StorageClient } from '../services/storage/grpc/client.ts';
import {
  benchConfigMap,
  benchOnly,
  benchRounds,
  closedLoop,
  configMapsRef,
  CpuMeter,
  envSeconds,
  nameOf,
  type Operation,
  publishResults,
  quietly,
  rawKey,
  rawPrefix,
  reportHeader,
  runBench,
  type Sample,
  seedBothRoots,
  sleep,
  spreadOf,
  stopOnSignals,
  summarize,
  type Summary,
} from './harness.ts';
import { rawClientDescription, rawClientName, rawEtcd } from './raw-etcd.ts';
import { renderMarkdown, sideResult, type BenchResult, type Report, type RoundFigures } from './report.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_DIR = join(ROOT, 'bench', 'results');

const SECONDS = envSeconds('BENCH_SECONDS', 10);
const WARMUP_SECONDS = envSeconds('BENCH_WARMUP_SECONDS', 2);
const ROUNDS = benchRounds();
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const BENCHMARKS = ['create', 'get', 'update', 'list', 'create-1'] as const;
/** Whether this run includes the benchmark (all of them unless BENCH_ONLY names a subset). */
const { only: ONLY, selected } = benchOnly(BENCHMARKS);
const CHANGEFEED = (process.env.BENCH_CHANGEFEED ?? 'on') !== 'off';
/** The raw side's client (bench/raw-etcd.ts): etcd3 by default, the service's own EtcdKv with BENCH_RAW_CLIENT=kv. */
const RAW_CLIENT = rawClientName();
/** The election storage/main.ts campaigns in for the changefeed (BENCH_CHANGEFEED=off holds it). */
const CHANGEFEED_ELECTION = 'apiserver-changefeed-leader';
/** A partial or diagnostic run prints its table but leaves bench/results/ alone. */
const DIAGNOSTIC = ONLY.length > 0 || !CHANGEFEED;
const IN_FLIGHT = 64;
const AIM = 'storage-service create at 64 in flight: throughput >= 70% of raw etcd transactions, p99 <= 2x raw';
const OBJECT_BYTES = 1024;
const GET_KEYS = 1_000;
/** Objects each update worker cycles through (so a key is never updated by two workers). */
const UPDATE_KEYS_PER_WORKER = 4;
const LIST_OBJECTS = 10_000;
const LIST_PAGE = 500;

// ---------------------------------------------------------------------------------------------
// The object: a ConfigMap of ~1 KiB of JSON, as the service stores it (no resourceVersion).

function configMap(namespace: string, name: string, payload: string, counter = 0): KubeObject {
  return benchConfigMap(namespace, name, { app: 'storage-bench', purpose: 'storage service versus raw etcd' }, { counter: String(counter), payload });
}

/** Padding that makes configMap() ~OBJECT_BYTES of JSON with the names the bench uses. */
const PAYLOAD = 'x'.repeat(Math.max(0, OBJECT_BYTES - JSON.stringify(configMap('bench-create', nameOf(0), '')).length));

// ---------------------------------------------------------------------------------------------
// Everything the bench starts, stopped in finally and on SIGINT/SIGTERM.

interface Running {
  etcd?: EtcdServer;
  redis?: RedisServer;
  storage?: ManagedProcess;
  service?: StorageClient;
  raw?: Etcd3;
  feed?: Redis;
}

const running: Running = {};
let stopping: Promise<void> | undefined;
const interrupted = new AbortController();

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await quietly(() => running.service?.close());
    await quietly(() => running.raw?.close());
    await quietly(() => running.feed?.disconnect());
    await quietly(() => running.storage?.stop(10_000));
    await Promise.all([quietly(() => running.redis?.stop()), quietly(() => running.etcd?.stop())]);
  })();
  return stopping;
}

stopOnSignals(interrupted, 'etcd, redis-server and the storage service', stopAll);

function checkInterrupted(): void {
  if (interrupted.signal.aborted) throw new Error('interrupted');
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Start-up

async function startStorage(etcdEndpoint: string, redisUrl: string): Promise<{ proc: ManagedProcess; address: string }> {
  // Tracing stays as deployed by default (spans made, nothing exported): no OTEL_* from the shell.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_')) env[k] = v;
  const nodeFlags = [...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== ''), ...(CPU_PROF_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${resolve(CPU_PROF_DIR)}`])];
  for (let attempt = 1; ; attempt++) {
    const address = `127.0.0.1:${await freePort()}`;
    const proc = spawnProcess({
      name: 'storage',
      command: process.execPath,
      args: [
        ...nodeFlags,
        join(ROOT, 'services', 'storage', 'main.ts'),
        `--listen=${address}`,
        `--etcd-endpoints=${etcdEndpoint}`,
        `--redis-url=${redisUrl}`,
        // Periodic maintenance (every 5 min by default) would land in one window or another.
        '--compaction-interval=0',
        '--shutdown-grace=2000',
      ],
      env,
      cwd: ROOT,
    });
    running.storage = proc;
    try {
      await waitUntil(`storage healthy at ${address}`, () => checkHealth(address), { timeoutMs: 60_000, process: proc });
      return { proc, address };
    } catch (err) {
      await proc.kill();
      if (attempt < 3 && /address already in use|EADDRINUSE/i.test(err instanceof Error ? err.message : '')) continue;
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface Side {
  name: 'raw' | 'service';
  op: Operation;
  samples: Sample[];
  cpu: CpuMeter;
}

async function main(): Promise<void> {
  const missing = missingBinaries(['etcd', 'redis-server']);
  if (missing.length > 0) throw new Error(`missing on PATH: ${missing.join(', ')} (make system-deps installs them)`);
  const started = new Date();
  log(`storage bench: ${SECONDS} s per benchmark and side in ${ROUNDS} rounds (+${WARMUP_SECONDS} s warm-up), ${IN_FLIGHT} in flight`);

  const [etcd, redis] = await Promise.all([startEtcd(), startRedis()]);
  running.etcd = etcd;
  running.redis = redis;
  checkInterrupted();
  const raw = createEtcdClient(etcd.endpoint);
  running.raw = raw;
  const rawKv = rawEtcd(raw, RAW_CLIENT);
  if (!CHANGEFEED) {
    // Elected first, the bench keeps the lease alive for the whole run; storage never leads.
    const campaign = raw.election(CHANGEFEED_ELECTION, 60).campaign('storage-bench');
    await new Promise<void>((resolve, reject) => {
      campaign.once('elected', () => resolve());
      campaign.once('error', reject);
    });
    log('BENCH_CHANGEFEED=off: the bench holds the changefeed leadership; the service publishes nothing');
  }
  const storage = await startStorage(etcd.endpoint, redis.url);
  checkInterrupted();
  log(`etcd ${etcd.endpoint}, redis ${redis.url}, storage ${storage.address} (pid ${storage.proc.pid})`);

  const telemetry = createTelemetry({ serviceName: 'storage-bench', env: {} });
  const service = new StorageClient(storage.address, { telemetry });
  running.service = service;
  const feed = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  feed.on('error', () => {});
  await feed.connect();
  running.feed = feed;

  /** The newest revision the service wrote; the changefeed must have published it before a window. */
  let serviceRevision = 0;
  const noteRevision = (object: KubeObject): void => {
    const rv = Number(object.metadata?.resourceVersion);
    if (rv > serviceRevision) serviceRevision = rv;
  };
  const feedRevision = async (): Promise<number> => Number((await feed.get(FEED_REVISION_KEY)) ?? 0);

  /** Waits until the changefeed has published every service write so far (and says how long that took). */
  const settle = async (): Promise<number> => {
    if (!CHANGEFEED) return 0;
    const t0 = performance.now();
    await waitUntil('the changefeed to publish the service writes', async () => (await feedRevision()) >= serviceRevision, {
      timeoutMs: 180_000,
      process: storage.proc,
    });
    checkInterrupted();
    return (performance.now() - t0) / 1000;
  };

  // The changefeed starts once the storage replica is elected; write until it publishes.
  const probe = async (): Promise<boolean> => {
    const name = `probe-${randomUUID()}`;
    noteRevision(await service.create(configMapsRef('bench-probe', name), configMap('bench-probe', name, '')));
    await sleep(200);
    return (await feedRevision()) >= serviceRevision;
  };
  if (CHANGEFEED) await waitUntil('the changefeed to run', probe, { timeoutMs: 60_000, process: storage.proc });

  // Seed what get, update and list read: the same objects under both roots, written directly.
  const seed = (namespace: string, count: number): ReturnType<typeof seedBothRoots> =>
    seedBothRoots(raw, namespace, count, IN_FLIGHT, (ns, name) => configMap(ns, name, PAYLOAD), (revision) => {
      if (revision > serviceRevision) serviceRevision = revision;
    });
  log('seeding the objects get, update and list read, under both roots');
  if (selected('get')) await seed('bench-get', GET_KEYS);
  const updateObjects = selected('update') ? await seed('bench-update', IN_FLIGHT * UPDATE_KEYS_PER_WORKER) : { registry: [], raw: [] };
  if (selected('list')) await seed('bench-list', LIST_OBJECTS);
  const seedLag = await settle();
  log(`seeded; the changefeed caught up ${seedLag.toFixed(1)} s after the last seed write`);

  const cpuPids = { bench: process.pid, storage: storage.proc.pid, etcd: etcd.process.pid, redis: redis.process.pid };
  const results: BenchResult[] = [];

  /** Warm-up of both sides, then ROUNDS rounds of both, the side measured first alternating. */
  const measure = async (
    name: (typeof BENCHMARKS)[number],
    description: string,
    inFlight: number,
    rawOp: Operation,
    serviceOp: Operation,
    unit: string,
  ): Promise<void> => {
    if (!selected(name)) return;
    log(`${description}, ${inFlight} in flight`);
    const sides: Side[] = [
      { name: 'raw', op: rawOp, samples: [], cpu: new CpuMeter(cpuPids) },
      { name: 'service', op: serviceOp, samples: [], cpu: new CpuMeter(cpuPids) },
    ];
    const [rawSide, serviceSide] = sides as [Side, Side];
    let feedLag = 0;
    for (const side of sides) {
      await settle();
      await closedLoop(side.op, inFlight, WARMUP_SECONDS, interrupted.signal);
    }
    const rounds: RoundFigures[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [rawSide, serviceSide] : [serviceSide, rawSide];
      const figures: Partial<Record<Side['name'], { throughput: number; p99: number; cpuMicrosPerOp: number }>> = {};
      for (const side of order) {
        feedLag = Math.max(feedLag, await settle());
        const meter = new CpuMeter(cpuPids);
        const sample = await side.cpu.measure(() => meter.measure(() => closedLoop(side.op, inFlight, SECONDS / ROUNDS, interrupted.signal)));
        checkInterrupted();
        side.samples.push(sample);
        const summary = summarize([sample]);
        const cpuSeconds = Object.values(meter.seconds()).reduce((a, b) => a + b, 0);
        figures[side.name] = { throughput: summary.throughput, p99: summary.p99, cpuMicrosPerOp: summary.ops > 0 ? (cpuSeconds * 1e6) / summary.ops : 0 };
        // CPU per operation of each process, so a change to one process shows in its own figure.
        const perProcess = Object.entries(meter.seconds())
          .map(([process, seconds]) => `${process} ${summary.ops > 0 ? Math.round((seconds * 1e6) / summary.ops) : 0}`)
          .join(', ');
        log(`  ${name} round ${round} ${side.name}: ${Math.round(summary.throughput)} ${unit}/s (CPU µs per op: ${perProcess})${sample.errors > 0 ? `, ${sample.errors} errors (${sample.firstError})` : ''}`);
      }
      const r = figures.raw as { throughput: number; p99: number; cpuMicrosPerOp: number };
      const s = figures.service as { throughput: number; p99: number; cpuMicrosPerOp: number };
      rounds.push({
        round,
        first: order[0]?.name ?? 'raw',
        raw: r,
        service: s,
        ratio: {
          throughput: r.throughput > 0 ? s.throughput / r.throughput : 0,
          p99: r.p99 > 0 ? s.p99 / r.p99 : 0,
          cpuPerOp: r.cpuMicrosPerOp > 0 ? s.cpuMicrosPerOp / r.cpuMicrosPerOp : 0,
        },
      });
    }
    feedLag = Math.max(feedLag, await settle());
    const rawSummary: Summary = summarize(rawSide.samples);
    const serviceSummary: Summary = summarize(serviceSide.samples);
    results.push({
      name,
      description,
      inFlight,
      unit,
      raw: sideResult(rawSummary, rawSide.cpu.percent()),
      service: sideResult(serviceSummary, serviceSide.cpu.percent()),
      ratio: {
        throughput: spreadOf(rounds.map((x) => x.ratio.throughput)),
        p99: spreadOf(rounds.map((x) => x.ratio.p99)),
        cpuPerOp: spreadOf(rounds.map((x) => x.ratio.cpuPerOp)),
      },
      rounds,
      changefeedCatchUpSeconds: feedLag,
    });
  };

  // create, 64 in flight (and 1 in flight: the latency floor), fresh keys on both sides.
  const creates = (namespace: string): { raw: Operation; service: Operation } => {
    let rawSeq = 0;
    let serviceSeq = 0;
    return {
      raw: async () => {
        const ref = configMapsRef(namespace, nameOf(rawSeq++));
        const json = JSON.stringify(configMap(namespace, ref.name, PAYLOAD));
        const key = rawKey(ref);
        if (!(await rawKv.create(key, json))) throw new Error(`${key} exists`);
      },
      service: async () => {
        const ref = configMapsRef(namespace, nameOf(serviceSeq++));
        noteRevision(await service.create(ref, configMap(namespace, ref.name, PAYLOAD)));
      },
    };
  };
  const create64 = creates('bench-create');
  await measure('create', 'create (etcd: txn create-if-absent)', IN_FLIGHT, create64.raw, create64.service, 'ops');

  // get, 64 in flight: linearizable reads of the seeded objects, parsed.
  let rawGets = 0;
  let serviceGets = 0;
  await measure(
    'get',
    'get (etcd: linearizable range + JSON.parse)',
    IN_FLIGHT,
    async () => {
      const key = rawKey(configMapsRef('bench-get', nameOf(rawGets++ % GET_KEYS)));
      const kv = await rawKv.get(key);
      if (kv === undefined) throw new Error(`${key} missing`);
      JSON.parse(kv.value.toString('utf8'));
    },
    async () => {
      await service.get(configMapsRef('bench-get', nameOf(serviceGets++ % GET_KEYS)));
    },
    'ops',
  );

  // update, 64 in flight: each worker cycles through its own objects, compare-and-swap on the
  // revision it last wrote (the service: the resourceVersion of the object it holds).
  const rawState = updateObjects.raw;
  const serviceState = updateObjects.registry;
  const rawTurn = new Array<number>(IN_FLIGHT).fill(0);
  const serviceTurn = new Array<number>(IN_FLIGHT).fill(0);
  let counter = 0;
  await measure(
    'update',
    'update with resourceVersion (etcd: txn compare mod_revision, put)',
    IN_FLIGHT,
    async (worker) => {
      const index = worker + IN_FLIGHT * ((rawTurn[worker] = (rawTurn[worker] ?? 0) + 1) % UPDATE_KEYS_PER_WORKER);
      const current = rawState[index] as { object: KubeObject; revision: string };
      const object = { ...current.object, data: { counter: String(++counter), payload: PAYLOAD } };
      const key = rawKey(configMapsRef('bench-update', current.object.metadata?.name ?? ''));
      const revision = await rawKv.update(key, current.revision, JSON.stringify(object));
      if (revision === undefined) throw new Error(`${key} changed under the bench`);
      rawState[index] = { object, revision };
    },
    async (worker) => {
      const index = worker + IN_FLIGHT * ((serviceTurn[worker] = (serviceTurn[worker] ?? 0) + 1) % UPDATE_KEYS_PER_WORKER);
      const current = serviceState[index] as KubeObject;
      const object = { ...current, data: { counter: String(++counter), payload: PAYLOAD } };
      const updated = await service.update(configMapsRef('bench-update', current.metadata?.name ?? ''), object);
      noteRevision(updated);
      serviceState[index] = updated;
    },
    'ops',
  );

  // list: all 10,000 objects in pages of 500, one list at a time, every page at the first
  // page's revision. (Pages keep each reply far under grpc-js's default 4 MiB receive limit,
  // which etcd3 never raises: an unpaginated range of 10,000 1 KiB values would fail.)
  const listRef = configMapsRef('bench-list');
  await measure(
    'list',
    `list ${LIST_OBJECTS.toLocaleString('en-US')} objects, pages of ${LIST_PAGE} (etcd: ranges with limit at one revision + JSON.parse)`,
    1,
    async () => {
      const prefix = rawPrefix(listRef);
      const end = prefixEnd(prefix);
      let start = Buffer.from(prefix);
      let revision = '0';
      let items = 0;
      for (;;) {
        const response = await rawKv.page(start, end, LIST_PAGE, revision);
        if (revision === '0') revision = response.revision;
        for (const kv of response.kvs) JSON.parse(kv.value.toString('utf8'));
        items += response.kvs.length;
        const last = response.kvs[response.kvs.length - 1];
        if (!response.more || last === undefined) break;
        start = Buffer.concat([last.key, Buffer.from([0])]);
      }
      if (items !== LIST_OBJECTS) throw new Error(`raw list saw ${items} objects`);
    },
    async () => {
      let items = 0;
      let token = '';
      do {
        const page = await service.list(listRef, { limit: LIST_PAGE, continue: token });
        items += page.items.length;
        token = page.continue;
      } while (token !== '');
      if (items !== LIST_OBJECTS) throw new Error(`service list saw ${items} objects`);
    },
    'lists',
  );

  const create1 = creates('bench-create-1');
  await measure('create-1', 'create (etcd: txn create-if-absent), latency floor', 1, create1.raw, create1.service, 'ops');

  const create = results.find((r) => r.name === 'create');
  const report: Report = {
    ...reportHeader(ROOT, started, `${ONLY.length > 0 ? `BENCH_ONLY=${ONLY.join(',')} ` : ''}${CHANGEFEED ? '' : 'BENCH_CHANGEFEED=off '}${RAW_CLIENT === 'etcd3' ? '' : `BENCH_RAW_CLIENT=${RAW_CLIENT} `}make bench`, {
      benchSeconds: SECONDS,
      rawClient: rawClientDescription(RAW_CLIENT),
      rounds: ROUNDS,
      warmupSeconds: WARMUP_SECONDS,
      objectBytes: JSON.stringify(configMap('bench-create', nameOf(0), PAYLOAD)).length,
    }),
    results,
    aim:
      create === undefined
        ? undefined
        : {
            statement: AIM,
            createThroughputRatio: create.ratio.throughput,
            createP99Ratio: create.ratio.p99,
            met: create.ratio.throughput.median >= 0.7 && create.ratio.p99.median <= 2,
          },
  };
  publishResults(RESULTS_DIR, 'storage', report, renderMarkdown(report), DIAGNOSTIC ? 'BENCH_ONLY or BENCH_CHANGEFEED=off' : undefined);
}

await runBench(main, stopAll, interrupted.signal);
