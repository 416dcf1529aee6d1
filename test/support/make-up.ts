/**
 * Runs the control plane as `make up` does: scripts/up.ts as a child process, with its data in a
 * temporary DATA_DIR and every listen address on a free loopback port (the variables up.ts
 * reads). Collects its output lines so a test can await one ("The control plane is up",
 * "[supervisor] storage restarted (pid N)") and find the pid of each process.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../lib/local/ports.ts';
import { spawnProcess, type ExitStatus, type ManagedProcess } from '../../lib/local/process.ts';
import { createRestClient, type RestClient } from './rest-client.ts';

const UP = fileURLToPath(new URL('../../scripts/up.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MakeUpAddresses {
  gateway: string;
  https: string;
  storage: string;
  auth: string;
  admission: string;
  watch: string;
  /** Each service's first monitoring port (--metrics-listen). */
  metrics: { gateway: string; storage: string; auth: string; admission: string; watch: string };
}

export interface MakeUp {
  readonly dir: string;
  readonly addresses: MakeUpAddresses;
  readonly process: ManagedProcess;
  /** Every line up.ts printed so far (stdout and stderr), without a prefix. */
  readonly lines: string[];
  /** Resolves with the first line (from index `from` on) matching `pattern`; rejects after timeoutMs or when up.ts exits first. */
  line(pattern: RegExp, timeoutMs: number, from?: number): Promise<string>;
  /** The pid of `name` (etcd, redis, storage, ...) as last printed: the "processes:" line or a "restarted (pid N)" line. */
  pidOf(name: string): number;
  /** A REST client for the gateway with the cluster CA and the admin token. */
  rest(): Promise<RestClient>;
  /** SIGTERM to up.ts (it stops everything), then removes DATA_DIR; resolves with up.ts's exit status. */
  stop(): Promise<ExitStatus>;
}

async function loopback(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

/** Starts scripts/up.ts and resolves once it printed its whole ready banner, from "The control plane is up" (rejects with its output otherwise). */
export async function startMakeUp(name: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<MakeUp> {
  const dir = await mkdtemp(join(tmpdir(), `make-up-${name}-`));
  const addresses: MakeUpAddresses = {
    gateway: await loopback(),
    https: await loopback(),
    storage: await loopback(),
    auth: await loopback(),
    admission: await loopback(),
    watch: await loopback(),
    metrics: { gateway: await loopback(), storage: await loopback(), auth: await loopback(), admission: await loopback(), watch: await loopback() },
  };
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const prefix = '[make-up] ';
  const proc = spawnProcess({
    name: 'make-up',
    command: process.execPath,
    args: [UP],
    cwd: ROOT,
    env: {
      ...process.env,
      OTEL_TRACES_EXPORTER: 'none',
      ...env,
      DATA_DIR: dir,
      GATEWAY_GRPC_LISTEN: addresses.gateway,
      GATEWAY_HTTPS_LISTEN: addresses.https,
      STORAGE_LISTEN: addresses.storage,
      AUTH_LISTEN: addresses.auth,
      ADMISSION_LISTEN: addresses.admission,
      WATCH_LISTEN: addresses.watch,
      GATEWAY_METRICS_LISTEN: addresses.metrics.gateway,
      STORAGE_METRICS_LISTEN: addresses.metrics.storage,
      AUTH_METRICS_LISTEN: addresses.metrics.auth,
      ADMISSION_METRICS_LISTEN: addresses.metrics.admission,
      WATCH_METRICS_LISTEN: addresses.metrics.watch,
    },
    onLine: (l) => {
      lines.push(l.startsWith(prefix) ? l.slice(prefix.length) : l);
      for (const w of waiters) w();
    },
  });
  let exited: ExitStatus | undefined;
  void proc.exited.then((s) => {
    exited = s;
    for (const w of waiters) w();
  });

  const line = (pattern: RegExp, waitMs: number, from = 0): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.slice(from).find((l) => pattern.test(l));
        if (found !== undefined || exited !== undefined) {
          clearTimeout(timer);
          waiters.delete(check);
          if (found !== undefined) resolve(found);
          else reject(new Error(`make up exited (${JSON.stringify(exited)}) before printing ${pattern}:\n${lines.slice(-40).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`make up printed no line matching ${pattern} in ${waitMs} ms; last lines:\n${lines.slice(-40).join('\n')}`));
      }, waitMs);
      waiters.add(check);
      check();
    });

  const stop = async (): Promise<ExitStatus> => {
    // up.ts stops its children in order within their grace periods; the SIGKILL is a last resort.
    await proc.stop(60_000);
    await rm(dir, { recursive: true, force: true });
    return proc.exited;
  };

  try {
    // The whole banner: what follows "up" (addresses, processes, TLS mode) is read by tests.
    await line(/Ctrl-C stops everything\.$/, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    dir,
    addresses,
    process: proc,
    lines,
    line,
    stop,
    pidOf(target: string): number {
      const restarted = new RegExp(`^\\[supervisor\\] ${target} restarted \\(pid (\\d+)\\)$`);
      const listed = new RegExp(`^\\s+processes:.*\\b${target} (\\d+)\\b`);
      for (let i = lines.length - 1; i >= 0; i--) {
        const match = restarted.exec(lines[i] ?? '') ?? listed.exec(lines[i] ?? '');
        if (match?.[1] !== undefined) return Number(match[1]);
      }
      throw new Error(`make up printed no pid of ${target}`);
    },
    async rest(): Promise<RestClient> {
      const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
      const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
      return createRestClient(`https://${addresses.https}`, ca, token);
    },
  };
}
