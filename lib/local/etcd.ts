/**
 * A real single-member etcd (Debian etcd-server 3.4, binary `etcd`) on loopback ports, for the
 * integration tests and the `make up` launcher. Using the real server rather than a fake keeps
 * revisions, compaction and watch semantics honest.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { addExitCleanup, spawnProcess, waitUntil, type ManagedProcess } from './process.ts';

export interface EtcdServer {
  /** Client URL, http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly dataDir: string;
  /** The running etcd; a new one after restart(). */
  readonly process: ManagedProcess;
  /** SIGTERM (then SIGKILL), and remove the data dir if it was a temporary one. Safe to call twice. */
  stop(): Promise<void>;
  /** kill -9 then start again on the same ports and data dir (for restart tests) */
  restart(): Promise<void>;
}

export interface EtcdOptions {
  /** default: fresh temp dir, removed on stop */
  dataDir?: string;
  /** default: a free port */
  clientPort?: number;
  /** default: a free port */
  peerPort?: number;
  /** append etcd's output to this file */
  logFile?: string;
  /** receive etcd's output lines, prefixed with "[etcd]" */
  onLine?: (l: string) => void;
  /** default 'etcd' */
  binary?: string;
  /** how long to wait for etcd to answer; default 30 s */
  timeoutMs?: number;
}

/** Default readiness timeout: etcd normally answers in ~0.1 s, but CI machines stall. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** Fresh ports to try when automatically chosen ones were taken between freePort() and bind. */
const PORT_ATTEMPTS = 3;
/** One health/identity probe must not hang longer than this; waitUntil retries. */
const PROBE_TIMEOUT_MS = 2_000;

function isPortClash(tail: string): boolean {
  return /address already in use/i.test(tail);
}

/**
 * Environment without ETCD_* variables: etcd reads its flags from them too, and a stray
 * ETCD_DATA_DIR or ETCD_NAME in a developer's shell must not change the server we start.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('ETCD_') && !key.startsWith('ETCDCTL_')) env[key] = value;
  }
  return env;
}

/**
 * Ready means: /health says {"health":"true"} (etcd serves client requests only after it has a
 * leader and has published itself) and the member answering carries the unique name we gave this
 * start, so an etcd of someone else that holds the port is never mistaken for ours.
 */
async function probe(endpoint: string, memberName: string): Promise<boolean> {
  const health = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  const body = (await health.json()) as { health?: unknown };
  if (body.health !== 'true') throw new Error(`/health answered ${JSON.stringify(body)}`);
  // The v3 JSON gateway; etcd 3.4 serves it at /v3/ (and /v3beta/).
  const list = await fetch(`${endpoint}/v3/cluster/member/list`, {
    method: 'POST',
    body: '{}',
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  });
  const members = ((await list.json()) as { members?: { name?: string }[] }).members ?? [];
  if (!members.some((m) => m.name === memberName)) {
    throw new Error(`another etcd answers at ${endpoint} (members: ${members.map((m) => m.name).join(', ')})`);
  }
  return true;
}

/**
 * Starts etcd and resolves once it answers. Without ports, it picks free ones (and retries with
 * others if they were taken meanwhile). Without a dataDir, it uses a temp dir removed by stop().
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  const binary = options.binary ?? 'etcd';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'local-etcd-')));
  // etcd wants its data dir private (it warns otherwise); mkdtemp already makes it 0700.
  if (!ownsDataDir) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const forgetDataDir = ownsDataDir
    ? addExitCleanup(() => rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 }))
    : () => {};
  const removeDataDir = async (): Promise<void> => {
    forgetDataDir();
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
  };

  let clientPort = 0;
  let peerPort = 0;
  let endpoint = '';

  /** Spawns etcd on the current ports and waits until it is ours and ready; kills it on failure. */
  const launch = async (): Promise<ManagedProcess> => {
    // A new name each start: etcd republishes its name on restart, which lets probe() tell
    // this process apart from an old or foreign etcd on the same port.
    const memberName = `local-${randomBytes(4).toString('hex')}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const proc = spawnProcess({
      name: 'etcd',
      command: binary,
      args: [
        '--name', memberName,
        '--data-dir', dataDir,
        '--listen-client-urls', endpoint,
        '--advertise-client-urls', endpoint,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        // Ignored by etcd once the data dir holds a member (i.e. on restart), as it should be.
        '--initial-cluster', `${memberName}=${peerUrl}`,
        '--initial-cluster-state', 'new',
        // A single member has nobody to wait for: short raft timers make it elect itself in
        // ~0.1 s instead of ~1 s, and cannot cause leader flapping without peers.
        '--heartbeat-interval', '10',
        '--election-timeout', '100',
        '--logger', 'zap',
        '--log-level', 'warn',
      ],
      env: childEnv(),
      ...(options.logFile !== undefined ? { logFile: options.logFile } : {}),
      ...(options.onLine !== undefined ? { onLine: options.onLine } : {}),
    });
    try {
      await waitUntil(`etcd at ${endpoint} (data dir ${dataDir})`, () => probe(endpoint, memberName), {
        timeoutMs,
        process: proc,
      });
    } catch (err) {
      await proc.kill();
      throw err;
    }
    return proc;
  };

  let current: ManagedProcess | undefined;
  const autoPorts = options.clientPort === undefined && options.peerPort === undefined;
  for (let attempt = 1; current === undefined; attempt++) {
    clientPort = options.clientPort ?? (await freePort());
    peerPort = options.peerPort ?? (await freePort());
    endpoint = `http://127.0.0.1:${clientPort}`;
    try {
      current = await launch();
    } catch (err) {
      // The error message carries etcd's last output, where a bind failure shows.
      const message = err instanceof Error ? err.message : '';
      if (autoPorts && attempt < PORT_ATTEMPTS && isPortClash(message)) continue;
      await removeDataDir();
      throw err;
    }
  }

  let running: ManagedProcess = current;
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;

  const server: EtcdServer = {
    get endpoint() {
      return endpoint;
    },
    dataDir,
    get process() {
      return running;
    },
    stop() {
      stopping ??= (async () => {
        // Let an in-flight restart finish (or fail) so we stop the process it started.
        await restarting?.catch(() => {});
        await running.stop();
        await removeDataDir();
      })();
      return stopping;
    },
    restart() {
      if (stopping !== undefined) return Promise.reject(new Error('etcd: restart() after stop()'));
      if (restarting !== undefined) return restarting;
      restarting = (async () => {
        await running.kill();
        // Same ports and data dir: clients keep their endpoint, the data must survive.
        running = await launch();
      })().finally(() => {
        restarting = undefined;
      });
      return restarting;
    },
  };
  return server;
}
