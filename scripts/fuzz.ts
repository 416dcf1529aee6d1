/**
 * `make fuzz`: the hostile-input fuzzer (test/fuzz/hostile.ts) at length against its own
 * control plane (separate processes, real etcd and Redis, temporary data). Prints progress,
 * the answers by status code, the gateway's resident memory (VmRSS) before, at its peak during
 * and after the run, every kind of request that broke a rule, the checks after the run, and a
 * final summary line; exits 1 when anything failed.
 *
 * Environment:
 *   FUZZ_RUNS            REST requests (default 20000)
 *   FUZZ_GRPC_RUNS       typed gRPC calls (default a quarter of FUZZ_RUNS)
 *   FUZZ_SEED            the seed (default: a new one, printed, to replay a run)
 *   FUZZ_CONCURRENCY     requests in flight (default 8)
 *   FUZZ_DEADLINE_MS     the longest wait for an answer before a request counts as hung (default 30000)
 *   FUZZ_DEPTH           nesting of the big cases (default 10000)
 *   FUZZ_BIG_EVERY       one big case every this many requests (default 200)
 *   FUZZ_HEAP_SNAPSHOTS  a directory: heap snapshots of the gateway before the run, after each
 *                        quarter of it and at the end (the run pauses while one is written)
 *   FUZZ_KEEP            1: keep the data directory (the services' logs are in its logs/)
 */
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startControlPlane, type ControlPlane } from '../lib/local/control-plane.ts';
import { rssBytes } from '../lib/local/process.ts';
import { formatReport, passed, runHostileFuzz } from '../test/fuzz/hostile.ts';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const mib = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** Has the gateway write a heap snapshot (SIGUSR2) and waits until it is written; returns its path. */
async function heapSnapshot(plane: ControlPlane, dir: string, label: string): Promise<string> {
  const before = new Set(await readdir(dir));
  const pid = plane.processes.gateway.pid;
  const rss = rssBytes(pid);
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 600_000;
  let lastSize = -1;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`no heap snapshot of the gateway in ${dir} after 10 minutes`);
    await new Promise((r) => setTimeout(r, 1_000));
    const fresh = (await readdir(dir)).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    const file = fresh[0];
    if (file === undefined) continue;
    // Written on the gateway's main thread: done once the size stays put.
    const size = (await stat(join(dir, file))).size;
    if (size > 0 && size === lastSize) {
      const target = join(dir, `gateway-${label}.heapsnapshot`);
      await rename(join(dir, file), target);
      print(`heap snapshot ${label}: ${target} (${mib(size)}; gateway RSS ${mib(rss)} when asked)`);
      return target;
    }
    lastSize = size;
  }
}

async function main(): Promise<void> {
  const restRuns = intFromEnv('FUZZ_RUNS', 20_000);
  const grpcRuns = intFromEnv('FUZZ_GRPC_RUNS', Math.ceil(restRuns / 4));
  const seed = intFromEnv('FUZZ_SEED', Date.now() % 2 ** 31);
  const concurrency = Math.max(1, intFromEnv('FUZZ_CONCURRENCY', 8));
  const deadlineMs = intFromEnv('FUZZ_DEADLINE_MS', 30_000);
  const depth = intFromEnv('FUZZ_DEPTH', 10_000);
  const bigEvery = Math.max(1, intFromEnv('FUZZ_BIG_EVERY', 200));
  const snapshotDir = process.env.FUZZ_HEAP_SNAPSHOTS === undefined || process.env.FUZZ_HEAP_SNAPSHOTS === '' ? undefined : resolve(process.env.FUZZ_HEAP_SNAPSHOTS);
  const keep = process.env.FUZZ_KEEP === '1';

  const dir = await mkdtemp(join(tmpdir(), 'fuzz-'));
  const logDir = join(dir, 'logs');
  if (snapshotDir !== undefined) await mkdir(snapshotDir, { recursive: true });
  print(`fuzz: seed ${seed}, ${restRuns} REST requests and ${grpcRuns} gRPC calls, ${concurrency} in flight, big cases every ${bigEvery} (nesting ${depth} deep); data in ${dir}`);
  let plane: ControlPlane | undefined;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await plane?.stop();
    if (!keep) await rm(dir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping the control plane\n`);
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    plane = await startControlPlane({
      dataDir: dir,
      logDir,
      // The signal only goes to the gateway; the other services merely could take one.
      env: snapshotDir === undefined ? {} : { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}` },
    });
    const running = plane;
    const generated = restRuns + grpcRuns;
    const pauses =
      snapshotDir === undefined
        ? []
        : [0, 1, 2, 3].map((q) => ({ after: Math.floor((generated * q) / 4), run: () => heapSnapshot(running, snapshotDir, q === 0 ? 'before' : `q${q}`).then(() => undefined) }));
    const report = await runHostileFuzz(
      { plane, dataDir: dir, logDir },
      {
        seed,
        restRuns,
        grpcRuns,
        concurrency,
        deadlineMs,
        big: { depth, oversizeBytes: 3.5 * 1024 * 1024, arrayLength: 200_000 },
        bigEvery,
        log: print,
        pauses,
      },
    );
    if (snapshotDir !== undefined) await heapSnapshot(plane, snapshotDir, 'after');
    if (keep) print(`data and logs kept in ${dir}`);
    print('');
    // Ends with the summary line.
    print(formatReport(report, { maxGroups: 200 }));
    if (!passed(report)) process.exitCode = 1;
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`fuzz failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
