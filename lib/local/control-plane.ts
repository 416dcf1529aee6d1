/**
 * Starts the whole control plane as separate processes: etcd and redis-server (unless given),
 * then storage, then auth, admission and watch, then the gateway, each waited on through its
 * grpc.health.v1 endpoint. Any service may run as several replicas (`replicas`), each its own
 * process at its own address; every client is given the list of all of them and spreads its
 * calls and streams over them (lib/grpc/replicas.ts). Used by `make up` (fixed, documented ports, every process supervised:
 * see supervisor.ts) and by the end-to-end tests (free ports, temporary data).
 *
 * Internal gRPC is plaintext, or mutual TLS when the GRPC_TLS_* files are in the environment the
 * services inherit, or when asked to generate certificates (`grpcTls: 'generate'`); the launcher's
 * own health checks then present a client certificate of the same CA.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { channelCredentials, tlsFilesFrom, type TlsFiles } from '../grpc/credentials.ts';
import { startEtcd, startEtcdCluster, type EtcdCluster, type EtcdServer } from './etcd.ts';
import { hostOf, issueInternalCertificates } from './grpc-pki.ts';
import { freePort } from './ports.ts';
import { spawnProcess, waitUntil, type ManagedProcess } from './process.ts';
import { startRedis, type RedisServer } from './redis.ts';
import { Supervisor, type SupervisedUnit, type SupervisorOptions } from './supervisor.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SERVICE_NAMES = ['storage', 'auth', 'admission', 'watch', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * Node's own flags per service, as docker-compose.yml and deploy/ give them too. The gateway
 * runs with a small young generation: V8's default lets it grow to tens of MiB per space and
 * keeps the pages, so under hostile load the gateway's resident memory rose about twice as
 * far (docs/decisions.md).
 */
export const NODE_FLAGS: Record<ServiceName, readonly string[]> = {
  storage: [],
  auth: [],
  admission: [],
  watch: [],
  gateway: ['--max-semi-space-size=8'],
};

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
  /**
   * Members of the etcd started here (default 1): more make a cluster on loopback, its data in
   * `$dataDir/etcd-cluster` (ports kept there across runs), and storage is given every member's
   * endpoint. The Redis started here then keeps its data in `$dataDir/redis-cluster`, apart from
   * the single etcd's `$dataDir/redis` (see redisDataDir).
   */
  etcdMembers?: number;
  /** Use this Redis instead of starting one. */
  redisUrl?: string | undefined;
  /** Fixed addresses (make up); free loopback ports by default. */
  addresses?: Partial<ControlPlaneAddresses>;
  /** Extra environment of every service (OTEL_*, LOG_LEVEL, ...). */
  env?: NodeJS.ProcessEnv;
  /** Extra flags per service. */
  flags?: Partial<Record<ServiceName, string[]>>;
  /** Extra Node.js flags per service (e.g. `--cpu-prof`), after NODE_FLAGS. */
  nodeFlags?: Partial<Record<ServiceName, string[]>>;
  /** Each output line of every process, prefixed with its name. */
  onLine?: (line: string) => void;
  /** Where each process's output is appended (one file per process); none by default. */
  logDir?: string;
  /** Readiness deadline per process (default 60 s). */
  timeoutMs?: number;
  /** Keep Redis data across restarts (so the changefeed resumes from its record). */
  persistentRedis?: boolean;
  /**
   * Processes per service (default 1 each): the first at the service's address, the others at
   * free loopback ports; gateways share the data directory, each with its own HTTPS and gRPC
   * address. Clients get every replica's address.
   */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Watch service replicas: `replicas.watch`, which wins when both are given. */
  watchReplicas?: number;
  /** Gateway replicas: `replicas.gateway`, which wins when both are given. */
  gatewayReplicas?: number;
  /**
   * Give every process a monitoring port of its own (--metrics-listen): ReplicaProcess.metrics.
   * true: each on a free loopback port. Addresses per service (make up's fixed ports): the
   * first replica of a service named there listens at its address, every other process at a
   * free loopback port.
   */
  metricsListen?: boolean | Partial<Record<ServiceName, string>>;
  /**
   * Extra flags of the gateway replicas after the first, one list per replica (gateway-1 first),
   * e.g. a replica with its auth cache off beside one with it on, or its own audit file. They
   * come after `flags.gateway`, so they win over a flag given there too (the last of a
   * repeated flag does): the more specific setting.
   */
  gatewayReplicaFlags?: string[][];
  /**
   * Mutual TLS on internal gRPC. 'generate': a CA in `$dataDir/pki/grpc` (kept across runs) and
   * a certificate per service and for the launcher, issued at each start. Files: every service
   * and the launcher use them. Unset: the GRPC_TLS_* files of the services' environment
   * (`process.env` with `env`) when set, else plaintext.
   */
  grpcTls?: 'generate' | TlsFiles;
  /**
   * Restart every process started here (etcd and Redis included) when it dies, with backoff;
   * see supervisor.ts. Off by default: tests stop and restart services themselves.
   */
  supervise?: SupervisorOptions;
}

/** One process of a service. */
export interface ReplicaProcess {
  /** The service's name for the first replica, then `<service>-1`, `<service>-2`, ... (log files, supervision, restart). */
  readonly name: string;
  readonly service: ServiceName;
  readonly process: ManagedProcess;
  /** Its gRPC address (the gateway's typed API for a gateway). */
  readonly address: string;
  /** A gateway's HTTPS address. */
  readonly https?: string | undefined;
  /** Its monitoring port's host:port, with `metricsListen`. */
  readonly metrics?: string | undefined;
}

export interface ControlPlane {
  /** The first replica's addresses. */
  readonly addresses: ControlPlaneAddresses;
  /** The single-member etcd started here (undefined with etcdEndpoints or several members). */
  readonly etcd: EtcdServer | undefined;
  /** The etcd cluster started here with etcdMembers > 1. */
  readonly etcdCluster: EtcdCluster | undefined;
  readonly redis: RedisServer | undefined;
  readonly etcdEndpoints: string;
  readonly redisUrl: string;
  /** The first replica of each service. */
  readonly processes: Record<ServiceName, ManagedProcess>;
  /** Every replica of each service, the first one first. */
  readonly replicas: Record<ServiceName, readonly ReplicaProcess[]>;
  /** Every watch replica (the first is processes.watch) and its address. */
  readonly watchReplicas: { process: ManagedProcess; address: string }[];
  /** Every gateway replica (the first is processes.gateway) and its addresses. */
  readonly gatewayReplicas: { process: ManagedProcess; grpc: string; https: string }[];
  /** $dataDir/admin.kubeconfig */
  readonly kubeconfig: string;
  /** The client identity the launcher checks health with under mutual TLS; undefined in plaintext. */
  readonly grpcTls: TlsFiles | undefined;
  /**
   * Restarts one process with the same flags (after kill or stop; under supervision, stops it
   * first): a service's name is its first replica, ReplicaProcess.name any replica.
   */
  restart(name: ServiceName | string): Promise<void>;
  /** Stops supervising, then the services (gateway first), then Redis and etcd if they were started here. */
  stop(): Promise<void>;
}

type HealthClient = grpc.Client & {
  Check(request: { service: string }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};

type HealthConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => HealthClient;
let healthConstructor: HealthConstructor | undefined;

export interface HealthCheckOptions {
  /** Mutual TLS identity to present; plaintext when undefined. */
  tls?: TlsFiles | undefined;
  /** Deadline of the check (default 2 s). */
  timeoutMs?: number;
}

/**
 * What `address` answers to grpc.health.v1 Check("") (the whole server): its status
 * ('SERVING', 'NOT_SERVING', ...), or the call's error as "CODE: details" (unreachable, TLS
 * refused, deadline). Never rejects.
 */
export function healthStatus(address: string, options: HealthCheckOptions = {}): Promise<string> {
  if (healthConstructor === undefined) {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const proto = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: HealthConstructor } } } };
    healthConstructor = proto.grpc.health.v1.Health;
  }
  let client: HealthClient;
  try {
    client = new healthConstructor(address, ...healthChannel(address, options.tls));
  } catch (err) {
    return Promise.resolve(`cannot read the TLS files: ${(err as Error).message}`);
  }
  return new Promise((resolvePromise) => {
    client.Check({ service: '' }, { deadline: Date.now() + (options.timeoutMs ?? 2_000) }, (err, response) => {
      client.close();
      resolvePromise(err === null ? (response?.status ?? 'UNKNOWN') : `${grpc.status[err.code] ?? err.code}: ${err.details}`);
    });
  });
}

/**
 * Credentials of a health check: the services' own under mutual TLS, host name check included,
 * so that a certificate that does not name the address the services dial fails here, at
 * start-up, with the reason. An IP address is checked as such, but not sent as the TLS server
 * name, which must be a host name (RFC 6066; Node warns).
 */
function healthChannel(address: string, tls: TlsFiles | undefined): [grpc.ChannelCredentials, grpc.ChannelOptions] {
  if (tls === undefined) return [grpc.credentials.createInsecure(), {}];
  const host = hostOf(address);
  if (isIP(host) === 0) return [channelCredentials(tls), {}];
  const credentials = grpc.credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile), {
    checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
  });
  return [credentials, { 'grpc.ssl_target_name_override': 'localhost' }];
}

/** Answers whether `address` reports SERVING for the whole server (grpc.health.v1). */
export async function checkHealth(address: string, options: HealthCheckOptions = {}): Promise<boolean> {
  return (await healthStatus(address, options)) === 'SERVING';
}

/** The GRPC_TLS_* files of an environment, as the services read them (all three or none). */
export function tlsFilesFromEnv(env: NodeJS.ProcessEnv): TlsFiles | undefined {
  return tlsFilesFrom({
    'grpc-tls-ca': env.GRPC_TLS_CA_FILE ?? '',
    'grpc-tls-cert': env.GRPC_TLS_CERT_FILE ?? '',
    'grpc-tls-key': env.GRPC_TLS_KEY_FILE ?? '',
  });
}

function tlsEnv(tls: TlsFiles): NodeJS.ProcessEnv {
  return { GRPC_TLS_CA_FILE: tls.caFile, GRPC_TLS_CERT_FILE: tls.certFile, GRPC_TLS_KEY_FILE: tls.keyFile };
}

async function loopback(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

/** The monitoring address of one process, as ControlPlaneOptions.metricsListen asks; undefined for none. */
async function metricsAddress(asked: ControlPlaneOptions['metricsListen'], service: ServiceName, first: boolean): Promise<string | undefined> {
  if (asked === undefined || asked === false) return undefined;
  const fixed = asked === true || !first ? undefined : asked[service];
  return fixed ?? (await loopback());
}

/**
 * Where the Redis started here keeps its data for an etcd of `etcdMembers` members started here
 * (1 as well when etcd is not started here): one dir per etcd layout, as each layout has its own
 * etcd data (`$dataDir/etcd` or `$dataDir/etcd-cluster`). Redis holds the changefeed's record,
 * the last revision published of that etcd: a record kept across a switch of layout would name
 * a revision of the other etcd. Kept apart, each layout's Redis resumes its own etcd's feed
 * and switching back and forth needs no cleaning up.
 */
export function redisDataDir(dataDir: string, etcdMembers: number): string {
  return join(dataDir, etcdMembers === 1 ? 'redis' : 'redis-cluster');
}

/** A process to run: one replica of a service. */
interface Slot {
  name: string;
  service: ServiceName;
  index: number;
  address: string;
  https?: string | undefined;
  metrics?: string | undefined;
  process?: ManagedProcess;
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
  const counts: Record<ServiceName, number> = { storage: 1, auth: 1, admission: 1, watch: options.watchReplicas ?? 1, gateway: options.gatewayReplicas ?? 1 };
  for (const name of SERVICE_NAMES) {
    const n = options.replicas?.[name] ?? counts[name];
    if (!Number.isInteger(n) || n < 1) throw new Error(`replicas of ${name} must be a whole number of at least 1, got ${n}`);
    counts[name] = n;
  }
  const slots = {} as Record<ServiceName, Slot[]>;
  for (const service of SERVICE_NAMES) {
    slots[service] = [];
    for (let index = 0; index < counts[service]; index++) {
      const first = index === 0;
      slots[service].push({
        name: first ? service : `${service}-${index}`,
        service,
        index,
        address: first ? addresses[service] : await loopback(),
        https: service !== 'gateway' ? undefined : first ? addresses.https : await loopback(),
        metrics: await metricsAddress(options.metricsListen, service, first),
      });
    }
  }
  const allSlots = SERVICE_NAMES.flatMap((name) => slots[name]);
  const listOf = (service: ServiceName) => slots[service].map((slot) => slot.address).join(',');

  // The services' environment. OTEL_SERVICE_NAME names one process; given to all five it
  // would merge their spans.
  const { OTEL_SERVICE_NAME: _serviceName, ...inherited } = { ...process.env, ...options.env };
  let launcherTls: TlsFiles | undefined;
  const tlsEnvOf: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {};
  if (options.grpcTls === 'generate') {
    const dialled = [addresses.https, ...allSlots.flatMap((slot) => [slot.address, ...(slot.https === undefined ? [] : [slot.https])])];
    const files = await issueInternalCertificates(join(dataDir, 'pki', 'grpc'), [...SERVICE_NAMES, 'launcher'], dialled);
    launcherTls = files.launcher;
    for (const name of SERVICE_NAMES) tlsEnvOf[name] = tlsEnv(files[name]);
  } else if (options.grpcTls !== undefined) {
    launcherTls = options.grpcTls;
    for (const name of SERVICE_NAMES) tlsEnvOf[name] = tlsEnv(options.grpcTls);
  } else {
    // The services will read these files from their environment: so must the launcher. A
    // partial set is refused here, as every service would refuse it.
    launcherTls = tlsFilesFromEnv(inherited);
  }

  let etcd: EtcdServer | undefined;
  let etcdCluster: EtcdCluster | undefined;
  let redis: RedisServer | undefined;
  let supervisor: Supervisor | undefined;
  const stopAll = async (): Promise<void> => {
    for (const name of [...SERVICE_NAMES].reverse()) {
      // Replicas after the first stop first, so that the first's address stays served longest.
      for (const slot of [...slots[name]].reverse()) await slot.process?.stop();
    }
    await redis?.stop();
    await etcd?.stop();
    await etcdCluster?.stop();
  };

  try {
    const etcdMembers = options.etcdMembers ?? 1;
    if (!Number.isInteger(etcdMembers) || etcdMembers < 1) throw new Error(`etcd members must be a whole number of at least 1, got ${etcdMembers}`);
    const [etcdServer, redisServer] = await Promise.all([
      options.etcdEndpoints !== undefined
        ? Promise.resolve(undefined)
        : etcdMembers === 1
          ? startEtcd({ dataDir: join(dataDir, 'etcd'), logFile: logFile('etcd'), onLine: options.onLine, timeoutMs })
          : startEtcdCluster({
              members: etcdMembers,
              dataDir: join(dataDir, 'etcd-cluster'),
              ...(options.logDir === undefined ? {} : { logFile: (name: string) => join(options.logDir as string, `${name}.log`) }),
              onLine: options.onLine,
              timeoutMs,
            }).then((cluster) => {
              etcdCluster = cluster;
              return undefined;
            }),
      options.redisUrl === undefined
        ? startRedis({ dataDir: redisDataDir(dataDir, options.etcdEndpoints === undefined ? etcdMembers : 1), logFile: logFile('redis'), onLine: options.onLine, timeoutMs, persistent: options.persistentRedis === true })
        : Promise.resolve(undefined),
    ]);
    etcd = etcdServer;
    redis = redisServer;
    const etcdEndpoints = options.etcdEndpoints ?? etcdCluster?.endpoints ?? (etcd as EtcdServer).endpoint;
    const redisUrl = options.redisUrl ?? (redis as RedisServer).url;

    const flagsOf = (slot: Slot): string[] => {
      const own = [`--listen=${slot.address}`, ...(slot.metrics === undefined ? [] : [`--metrics-listen=${slot.metrics}`])];
      switch (slot.service) {
        case 'storage':
          return [...own, `--etcd-endpoints=${etcdEndpoints}`, `--redis-url=${redisUrl}`];
        case 'auth':
          return [...own, `--data-dir=${dataDir}`, `--kubeconfig-server=https://${addresses.https}`, `--watch-address=${listOf('watch')}`];
        case 'admission':
          return [...own, `--storage-address=${listOf('storage')}`, `--watch-address=${listOf('watch')}`];
        case 'watch':
          return [...own, `--storage-address=${listOf('storage')}`, `--redis-url=${redisUrl}`];
        case 'gateway':
          return [
            ...own,
            `--https-listen=${slot.https}`,
            `--data-dir=${dataDir}`,
            `--auth-address=${listOf('auth')}`,
            `--admission-address=${listOf('admission')}`,
            `--storage-address=${listOf('storage')}`,
            `--watch-address=${listOf('watch')}`,
          ];
      }
    };
    /** The flags of this one replica, after the service's shared ones (options.gatewayReplicaFlags). */
    const replicaFlagsOf = (slot: Slot): string[] =>
      slot.service === 'gateway' && slot.index > 0 ? (options.gatewayReplicaFlags?.[slot.index - 1] ?? []) : [];
    const node = process.execPath;
    /**
     * Spawns a replica, records it (so a failed start is still stopped), waits until healthy;
     * on failure kills it and rejects with why (the last health answer and the last output).
     */
    const start = async (slot: Slot): Promise<void> => {
      const proc = spawnProcess({
        name: slot.name,
        command: node,
        args: [...NODE_FLAGS[slot.service], ...(options.nodeFlags?.[slot.service] ?? []), join(ROOT, 'services', slot.service, 'main.ts'), ...flagsOf(slot), ...(options.flags?.[slot.service] ?? []), ...replicaFlagsOf(slot)],
        env: { ...inherited, ...tlsEnvOf[slot.service] },
        cwd: ROOT,
        logFile: logFile(slot.name),
        onLine: options.onLine,
      });
      slot.process = proc;
      try {
        await waitUntil(
          `${slot.name} healthy at ${slot.address}`,
          async () => {
            const status = await healthStatus(slot.address, { tls: launcherTls });
            if (status !== 'SERVING') throw new Error(status);
          },
          { timeoutMs, process: proc },
        );
      } catch (err) {
        await proc.kill();
        throw err;
      }
    };
    await Promise.all(slots.storage.map(start));
    await Promise.all([...slots.auth, ...slots.admission, ...slots.watch].map(start));
    // The first gateway creates the serving certificate the others read.
    await start(slots.gateway[0] as Slot);
    await Promise.all(slots.gateway.slice(1).map(start));

    if (options.supervise !== undefined) {
      supervisor = new Supervisor(options.supervise);
      const units: SupervisedUnit[] = [];
      if (etcd !== undefined) {
        const server = etcd;
        units.push({ name: 'etcd', get process() { return server.process; }, start: () => server.restart() });
      }
      for (const member of etcdCluster?.members ?? []) {
        units.push({ name: member.name, get process() { return member.process; }, start: () => member.restart() });
      }
      if (redis !== undefined) {
        const server = redis;
        units.push({ name: 'redis', get process() { return server.process; }, start: () => server.restart() });
      }
      for (const slot of allSlots) {
        units.push({ name: slot.name, get process() { return slot.process as ManagedProcess; }, start: () => start(slot) });
      }
      for (const unit of units) supervisor.add(unit);
    }

    const replicaOf = (slot: Slot): ReplicaProcess => ({
      name: slot.name,
      service: slot.service,
      process: slot.process as ManagedProcess,
      address: slot.address,
      https: slot.https,
      metrics: slot.metrics,
    });
    const first = (name: ServiceName): ManagedProcess => (slots[name][0] as Slot).process as ManagedProcess;
    return {
      addresses,
      etcd,
      etcdCluster,
      redis,
      etcdEndpoints,
      redisUrl,
      // Getters: a restart replaces a replica's process.
      get processes() {
        return { storage: first('storage'), auth: first('auth'), admission: first('admission'), watch: first('watch'), gateway: first('gateway') };
      },
      get replicas() {
        const all = {} as Record<ServiceName, ReplicaProcess[]>;
        for (const name of SERVICE_NAMES) all[name] = slots[name].map(replicaOf);
        return all;
      },
      get watchReplicas() {
        return slots.watch.map((slot) => ({ process: slot.process as ManagedProcess, address: slot.address }));
      },
      get gatewayReplicas() {
        return slots.gateway.map((slot) => ({ process: slot.process as ManagedProcess, grpc: slot.address, https: slot.https as string }));
      },
      kubeconfig: join(dataDir, 'admin.kubeconfig'),
      grpcTls: launcherTls,
      restart: async (name) => {
        const slot = allSlots.find((s) => s.name === name);
        if (slot === undefined) throw new Error(`no process named ${name}`);
        if (supervisor !== undefined) return supervisor.restart(name);
        await slot.process?.stop();
        await start(slot);
      },
      stop: async () => {
        // No restart from here on; a start in progress ends when stopAll stops its process.
        supervisor?.halt();
        await stopAll();
        await supervisor?.idle();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
