/**
 * Starts the whole control plane as separate processes: etcd and redis-server (unless given),
 * then storage, then auth, admission and watch, then the gateway, each waited on through its
 * grpc.health.v1 endpoint. Used by `make up` (fixed, documented ports) and by the end-to-end
 * tests (free ports, temporary data).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { startEtcd, type EtcdServer } from './etcd.ts';
import { freePort } from './ports.ts';
import { spawnProcess, waitUntil, type ManagedProcess } from './process.ts';
import { startRedis, type RedisServer } from './redis.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SERVICE_NAMES = ['storage', 'auth', 'admission', 'watch', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ControlPlaneAddresses {
  storage: string;
  auth: string;
  admission: string;
  watch: string;
  /** The gateway's typed gRPC API. */
  gateway: string;
  /** The gateway's HTTPS host:port. */
  https: string;
}

export interface ControlPlaneOptions {
  /** State of auth and gateway (pki/, tokens.csv, admin.kubeconfig); etcd's data too when it is started here. */
  dataDir: string;
  /** Use this etcd instead of starting one. */
  etcdEndpoints?: string | undefined;
  /** Use this Redis instead of starting one. */
  redisUrl?: string | undefined;
  /** Fixed addresses (make up); free loopback ports by default. */
  addresses?: Partial<ControlPlaneAddresses>;
  /** Extra environment of every service (OTEL_*, LOG_LEVEL, ...). */
  env?: NodeJS.ProcessEnv;
  /** Extra flags per service. */
  flags?: Partial<Record<ServiceName, string[]>>;
  /** Each output line of every process, prefixed with its name. */
  onLine?: (line: string) => void;
  /** Where each process's output is appended (one file per process); none by default. */
  logDir?: string;
  /** Readiness deadline per process (default 60 s). */
  timeoutMs?: number;
  /** Keep Redis data across restarts (so the changefeed resumes from its record). */
  persistentRedis?: boolean;
  /** Watch service replicas (default 1); the gateway spreads watches over all of them. */
  watchReplicas?: number;
}

export interface ControlPlane {
  readonly addresses: ControlPlaneAddresses;
  readonly etcd: EtcdServer | undefined;
  readonly redis: RedisServer | undefined;
  readonly etcdEndpoints: string;
  readonly redisUrl: string;
  readonly processes: Record<ServiceName, ManagedProcess>;
  /** Every watch replica (the first is processes.watch) and its address. */
  readonly watchReplicas: { process: ManagedProcess; address: string }[];
  /** $dataDir/admin.kubeconfig */
  readonly kubeconfig: string;
  /** Restarts one service with the same flags (after kill or stop). */
  restart(name: ServiceName): Promise<void>;
  /** Stops the services (gateway first), then Redis and etcd if they were started here. */
  stop(): Promise<void>;
}

type HealthClient = grpc.Client & {
  Check(request: { service: string }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};

let healthConstructor: (new (address: string, credentials: grpc.ChannelCredentials) => HealthClient) | undefined;

/** Answers whether `address` reports SERVING for the whole server (grpc.health.v1). */
export function checkHealth(address: string, timeoutMs = 2_000): Promise<boolean> {
  if (healthConstructor === undefined) {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials) => HealthClient } } };
    };
    healthConstructor = proto.grpc.health.v1.Health;
  }
  const client = new healthConstructor(address, grpc.credentials.createInsecure());
  return new Promise((resolvePromise) => {
    client.Check({ service: '' }, { deadline: Date.now() + timeoutMs }, (err, response) => {
      client.close();
      resolvePromise(err === null && response?.status === 'SERVING');
    });
  });
}

async function loopback(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  if (options.logDir !== undefined) await mkdir(options.logDir, { recursive: true });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const logFile = (name: string) => (options.logDir === undefined ? undefined : join(options.logDir, `${name}.log`));
  const given = options.addresses ?? {};
  const addresses: ControlPlaneAddresses = {
    storage: given.storage ?? (await loopback()),
    auth: given.auth ?? (await loopback()),
    admission: given.admission ?? (await loopback()),
    watch: given.watch ?? (await loopback()),
    gateway: given.gateway ?? (await loopback()),
    https: given.https ?? (await loopback()),
  };

  let etcd: EtcdServer | undefined;
  let redis: RedisServer | undefined;
  const running: Partial<Record<ServiceName, ManagedProcess>> = {};
  const extraWatch: { process: ManagedProcess; address: string }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const name of [...SERVICE_NAMES].reverse()) {
      if (name === 'watch') for (const w of extraWatch) await w.process.stop();
      await running[name]?.stop();
    }
    await redis?.stop();
    await etcd?.stop();
  };

  try {
    const [etcdServer, redisServer] = await Promise.all([
      options.etcdEndpoints === undefined
        ? startEtcd({ dataDir: join(dataDir, 'etcd'), logFile: logFile('etcd'), onLine: options.onLine, timeoutMs })
        : Promise.resolve(undefined),
      options.redisUrl === undefined
        ? startRedis({ dataDir: join(dataDir, 'redis'), logFile: logFile('redis'), onLine: options.onLine, timeoutMs, persistent: options.persistentRedis === true })
        : Promise.resolve(undefined),
    ]);
    etcd = etcdServer;
    redis = redisServer;
    const etcdEndpoints = options.etcdEndpoints ?? (etcd as EtcdServer).endpoint;
    const redisUrl = options.redisUrl ?? (redis as RedisServer).url;

    const extraWatchAddresses: string[] = [];
    for (let i = 1; i < (options.watchReplicas ?? 1); i++) extraWatchAddresses.push(await loopback());
    const watchAddresses = [addresses.watch, ...extraWatchAddresses].join(',');
    const flagsOf: Record<ServiceName, string[]> = {
      storage: [`--listen=${addresses.storage}`, `--etcd-endpoints=${etcdEndpoints}`, `--redis-url=${redisUrl}`],
      auth: [`--listen=${addresses.auth}`, `--data-dir=${dataDir}`, `--kubeconfig-server=https://${addresses.https}`],
      admission: [`--listen=${addresses.admission}`, `--storage-address=${addresses.storage}`],
      watch: [`--listen=${addresses.watch}`, `--storage-address=${addresses.storage}`, `--redis-url=${redisUrl}`],
      gateway: [
        `--listen=${addresses.gateway}`,
        `--https-listen=${addresses.https}`,
        `--data-dir=${dataDir}`,
        `--auth-address=${addresses.auth}`,
        `--admission-address=${addresses.admission}`,
        `--storage-address=${addresses.storage}`,
        `--watch-address=${watchAddresses}`,
      ],
    };
    const node = process.execPath;
    // OTEL_SERVICE_NAME names one process; given to all five it would merge their spans.
    const { OTEL_SERVICE_NAME: _serviceName, ...inherited } = { ...process.env, ...options.env };
    /** Spawns a service, records it (so a failed start is still stopped), waits until healthy. */
    const launch = async (name: ServiceName, label: string, flags: string[], address: string, record: (p: ManagedProcess) => void): Promise<void> => {
      const proc = spawnProcess({
        name: label,
        command: node,
        args: [join(ROOT, 'services', name, 'main.ts'), ...flags, ...(options.flags?.[name] ?? [])],
        env: inherited,
        cwd: ROOT,
        logFile: logFile(label),
        onLine: options.onLine,
      });
      record(proc);
      await waitUntil(`${label} healthy at ${address}`, () => checkHealth(address), { timeoutMs, process: proc });
    };
    const start = (name: ServiceName): Promise<void> =>
      launch(name, name, flagsOf[name], name === 'gateway' ? addresses.gateway : addresses[name], (p) => (running[name] = p));
    const startExtraWatch = (address: string, i: number): Promise<void> => {
      const flags = flagsOf.watch.map((f) => (f.startsWith('--listen=') ? `--listen=${address}` : f));
      return launch('watch', `watch-${i + 1}`, flags, address, (p) => extraWatch.push({ process: p, address }));
    };
    await start('storage');
    await Promise.all([start('auth'), start('admission'), start('watch'), ...extraWatchAddresses.map((a, i) => startExtraWatch(a, i))]);
    await start('gateway');

    return {
      addresses,
      etcd,
      redis,
      etcdEndpoints,
      redisUrl,
      processes: running as Record<ServiceName, ManagedProcess>,
      get watchReplicas() {
        return [{ process: running.watch as ManagedProcess, address: addresses.watch }, ...extraWatch];
      },
      kubeconfig: join(dataDir, 'admin.kubeconfig'),
      restart: async (name) => {
        await running[name]?.stop();
        await start(name);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
