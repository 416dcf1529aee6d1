/**
 * `make bench-pipeline`: the whole control plane through its HTTPS REST front door against raw
 * etcd, measured in one run on one machine. On 2 shared cores throughput moves from run to run
 * with whatever else runs; the ratio to raw etcd measured under the same noise is the figure
 * to quote, and the CPU time each process spends per operation says which hop costs what.
 *
 * It starts the control plane as `make up` and the end-to-end tests do (lib/local/control-plane.ts:
 * etcd, redis-server, storage, auth, admission, watch, gateway; temp dir, free ports) and drives
 * it from this process as a client would: HTTPS with the cluster CA, HTTP/2 as client-go speaks
 * it (a stream per request over one TLS connection; BENCH_HTTP=1.1: HTTP/1.1 keep-alive with one
 * socket per request in flight), the admin bearer token, JSON. Beside it, in the same run,
 * the raw references go to the same etcd with the etcd3 client the storage service makes
 * (createEtcdClient: retries off, same limits), at the same concurrency:
 *
 *   create  POST a ConfigMap            | txn: create-if-absent put
 *   get     GET one ConfigMap           | range get of one key + JSON.parse
 *   update  PUT with resourceVersion    | txn: compare mod_revision, put
 *   patch   PATCH, strategic merge      | range + JSON.parse, change, txn compare mod_revision, put
 *   apply   PATCH, server-side apply    | the same
 *   list    GET ?limit=100 pages        | range with limit 100 at the first page's revision + JSON.parse
 *
 * Raw etcd stores and reads ConfigMaps and Deployments as the pipeline stores them (taken from
 * one created through it first: defaults and managedFields included).
 * (list: a page per operation: every worker walks its own list of LIST_OBJECTS objects page by page
 * and starts again at the end; pages/s and objects/s are reported). Every write goes to a fresh
 * key (create) or to the worker's own objects (update, patch, apply: patch and apply name the
 * object and carry no resourceVersion, so the server reads it first, as the raw side does). The pipeline's keys are
 * /registry/configmaps/<namespace>/<name>; the raw keys /baseline/configmaps/<namespace>/<name>
 * (same length), outside what the changefeed watches.
 *
 * The same six run for Deployments (deployment-create, -get, -update, -patch, -apply, -list): a Deployment as
 * a client writes it (one container with ports, environment, resources and a probe), which the
 * pipeline defaults and validates as kube does for apps/v1; raw etcd stores and reads the same
 * Deployment as the pipeline stores it (taken from one created through the pipeline first), and
 * an update changes an environment value of the pod template, as a rollout does. Keys
 * /registry/apps/deployments/... and /baseline/apps/deployments/.... The changefeed and the watch service run
 * as deployed, so publishing every change to Redis and the watch cache's work are part of the
 * pipeline's cost; before each measured window the bench waits until the changefeed has
 * published every pipeline write, so that one window's backlog never runs in the next.
 *
 * What authorization costs: create and get of ConfigMaps in the namespace bench-rbac by a user
 * whose only right there is a RoleBinding to the ClusterRole `edit` (a line the bench appends to
 * the token file, which the auth service reloads), so that the auth service decides with RBAC
 * (rbac-create, rbac-get); the admin's requests (system:masters) are allowed before RBAC is
 * asked. The gateway reuses authentication and authorization answers for --auth-cache-ttl; a
 * second gateway replica with the cache off (--auth-cache-ttl=0: every request asks the auth
 * service twice) serves the same as the admin (create-nocache, get-nocache) and as the RBAC user
 * (rbac-create-nocache, rbac-get-nocache). Each is measured against raw etcd as the others; the
 * report compares each with the admin's same operation (the ratios to raw divided, so that the
 * machine's drift between the windows cancels) and gives the auth process's share of the CPU.
 *
 * What the request path's aims need (issue 15), beside the operations above:
 *
 *   grpc-create      ConfigMap create through the gateway's typed gRPC API (@apiserver/client,
 *                    the ConfigMap as its protobuf message) | txn: create-if-absent put
 *   create-p99-half  the pipeline's closed-loop create rate at 64 in flight, measured first in
 *                    the same run; then creates driven open loop at half of it (a fixed schedule,
 *                    each latency from its scheduled start, so that queueing counts), raw etcd's
 *                    transactions at the same rate beside it: the p99 of each over every
 *                    scheduled create, a failed one ranked behind every success (and counted)
 *   load-sweep       create and get at 1, 4, 16, 64 and 128 in flight (BENCH_SWEEP_SECONDS per
 *                    point and side, default 3), throughput and p99 per side: `loadSweep` of the
 *                    results, the data of the charts
 *
 * The results end with the aims of the issue (ratios of create, grpc-create, get and list;
 * create-p99-half's p99), met or missed in this run; a benchmark whose pipeline side had failed
 * requests does not meet its aim (the table says how many failed). A line per round on stderr says how far
 * the run is.
 *
 * Each benchmark warms both sides up, then measures BENCH_ROUNDS rounds (default 3), each
 * measuring both sides for BENCH_SECONDS / BENCH_ROUNDS, the side that goes first alternating
 * from round to round. Reported: per round each side's ops/s and the ratio pipeline / raw; the
 * median ratio with its range; CPU seconds per operation of every process over all rounds.
 *
 * Environment: BENCH_SECONDS (default 10) measured per benchmark and side, BENCH_ROUNDS (3),
 * BENCH_WARMUP_SECONDS (2) per benchmark and side; for investigating, BENCH_ONLY=create,get,
 * update,patch,apply,list, the same with a deployment- prefix, rbac-create, rbac-get,
 * create-nocache, get-nocache, rbac-create-nocache, rbac-get-nocache, grpc-create,
 * create-p99-half, load-sweep (a subset: printed, bench/results/ left as it was; a comparison
 * with the admin shows only when both ran); BENCH_HTTP=1.1 (the REST client's protocol, 2 by
 * default); BENCH_SWEEP_SECONDS (3); BENCH_CPU_PROF=<dir>: a V8 CPU profile of every service
 * process, written there when the control plane stops, and summarized per process at the end
 * (by part of the work and by function; `node bench/profile-summary.ts <dir>/*.cpuprofile`
 * says more of one); a profiled run leaves bench/results/ as it was too. BENCH_RAW_CLIENT=kv:
 * the raw side uses the storage service's own EtcdKv client instead of etcd3 (bench/raw-etcd.ts;
 * lighter, so it takes less CPU from etcd on a small machine); the report names the client.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { ApiClient } from '@apiserver/client';
import type { KubeObject } from '../lib/kube.ts';
import { startControlPlane, type ControlPlane } from '../lib/local/control-plane.ts';
import { missingBinaries, waitUntil } from '../lib/local/process.ts';
import type { StorageRef } from '../services/storage/api.ts';
import { createEtcdClient } from '../services/storage/backends/etcd.ts';
import { FEED_REVISION_KEY } from '../services/storage/changefeed.ts';
import { prefixEnd } from '../services/storage/core/keys.ts';
import {
  benchConfigMap,
  benchOnly,
  benchRounds,
  closedLoop,
  configMapsRef,
  CpuMeter,
  envSeconds,
  nameOf,
  openLoop,
  type Operation,
  publishResults,
  quietly,
  rawKey,
  rawPrefix,
  reportHeader,
  runBench,
  seedBothRoots,
  scheduledPercentile,
  spreadOf,
  stopOnSignals,
  summarize,
} from './harness.ts';
import { profileLines, readProfile, summarizeProfile } from './profile-summary.ts';
import { rawClientDescription, rawClientName, rawEtcd } from './raw-etcd.ts';
import { renderPipelineMarkdown, type LoadSweepPoint, type PipelineBench, type PipelineReport, type PipelineSide, type RoundResult } from './pipeline-report.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_DIR = join(ROOT, 'bench', 'results');

const SECONDS = envSeconds('BENCH_SECONDS', 10);
const WARMUP_SECONDS = envSeconds('BENCH_WARMUP_SECONDS', 2);
const ROUNDS = benchRounds();
const BENCHMARKS = [
  'create',
  'get',
  'update',
  'patch',
  'apply',
  'list',
  'deployment-create',
  'deployment-get',
  'deployment-update',
  'deployment-patch',
  'deployment-apply',
  'deployment-list',
  'rbac-create',
  'rbac-get',
  'create-nocache',
  'get-nocache',
  'rbac-create-nocache',
  'rbac-get-nocache',
  'grpc-create',
  'create-p99-half',
  'load-sweep',
] as const;
type BenchName = (typeof BENCHMARKS)[number];
const { only: ONLY, selected } = benchOnly<BenchName>(BENCHMARKS);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF === undefined || process.env.BENCH_CPU_PROF === '' ? undefined : resolve(process.env.BENCH_CPU_PROF);
const DIAGNOSTIC = ONLY.length > 0 || CPU_PROF_DIR !== undefined;
/** The raw side's client (bench/raw-etcd.ts): etcd3 by default, the storage service's own EtcdKv with BENCH_RAW_CLIENT=kv. */
const RAW_CLIENT = rawClientName();

/** `--cpu-prof` for every service process when BENCH_CPU_PROF names a directory. */
function cpuProfileFlags(): Partial<Record<'storage' | 'auth' | 'admission' | 'watch' | 'gateway', string[]>> | undefined {
  if (CPU_PROF_DIR === undefined) return undefined;
  const flags = ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`];
  return { storage: flags, auth: flags, admission: flags, watch: flags, gateway: flags };
}

const IN_FLIGHT = 64;
/** The in-flight levels of the load sweep (create and get at each), and its seconds per level and side. */
const SWEEP_IN_FLIGHT = [1, 4, 16, 64, 128] as const;
const SWEEP_SECONDS = envSeconds('BENCH_SWEEP_SECONDS', 3);
const SWEEP_WARMUP_SECONDS = Math.min(WARMUP_SECONDS, 0.5);
/** The most requests any benchmark has in flight (what the HTTP/1.1 client keeps sockets for). */
const MAX_IN_FLIGHT = Math.max(IN_FLIGHT, ...SWEEP_IN_FLIGHT);

/**
 * BENCH_HTTP: the REST client's protocol. HTTP/2 by default, because that is what kubectl and
 * every client-go program speak to kube-apiserver (ALPN h2; HTTP/1.1 only when the server
 * offers nothing else or DISABLE_HTTP2 is set); 1.1 keeps the keep-alive client with one socket
 * per request in flight.
 */
const HTTP_VERSION = ((): '2' | '1.1' => {
  const v = process.env.BENCH_HTTP ?? '';
  if (v === '' || v === '2') return '2';
  if (v === '1.1') return '1.1';
  throw new Error(`BENCH_HTTP must be 2 or 1.1, got "${v}"`);
})();
/** Go's HTTP/2 transport: streams assumed until the server's SETTINGS arrive, and its receive windows. */
const HTTP2_ASSUMED_STREAMS = 100;
const HTTP2_STREAM_WINDOW = 4 << 20;
const HTTP2_CONNECTION_WINDOW = 1 << 30;
const CLIENT_DESCRIPTION =
  HTTP_VERSION === '2'
    ? 'HTTPS, HTTP/2 as client-go speaks it (one TLS connection, a stream per request; another connection only past the server\'s stream limit), bearer token, JSON'
    : 'HTTPS, HTTP/1.1 keep-alive, one socket per request in flight, bearer token, JSON';
const OBJECT_BYTES = 1024;
const GET_KEYS = 1_000;
/** Objects each update worker cycles through (so a key is never updated by two workers). */
const UPDATE_KEYS_PER_WORKER = 4;
const LIST_OBJECTS = 3_000;
const LIST_PAGE = 100;

/** The namespace of the authorization benchmarks, where the RBAC user may edit. */
const RBAC_NAMESPACE = 'bench-rbac';
/** The RBAC user's name (a line of the token file) and what binds it. */
const RBAC_USER = 'bench-editor';
const RBAC_ROLE = 'edit';
/** The benchmarks served by the gateway replica with its auth cache off. */
const NOCACHE_BENCHMARKS: readonly BenchName[] = ['create-nocache', 'get-nocache', 'rbac-create-nocache', 'rbac-get-nocache'];
/** The benchmarks made by the RBAC user. */
const RBAC_BENCHMARKS: readonly BenchName[] = ['rbac-create', 'rbac-get', 'rbac-create-nocache', 'rbac-get-nocache'];

/** A ConfigMap as stored: the metadata the admission chain adds (uid, creationTimestamp) included. */
function configMap(namespace: string, name: string, payload: string, counter = 0): KubeObject {
  return benchConfigMap(namespace, name, { app: 'pipeline-bench', purpose: 'REST pipeline versus raw etcd' }, { counter: String(counter), payload });
}

/** What a client sends to create it: no uid or creationTimestamp, which the server sets. */
function createBody(namespace: string, name: string, payload: string): KubeObject {
  const { uid: _uid, creationTimestamp: _created, ...metadata } = configMap(namespace, name, payload).metadata ?? {};
  return { ...configMap(namespace, name, payload), metadata };
}

/** Padding that makes the stored ConfigMap ~OBJECT_BYTES of JSON with the names the bench uses. */
const PAYLOAD = 'x'.repeat(Math.max(0, OBJECT_BYTES - JSON.stringify(configMap('bench-create', nameOf(0), '')).length));

/** A Deployment as a client writes it: one container with ports, environment, resources and a probe. */
function deploymentBody(namespace: string, name: string): KubeObject {
  const labels = { app: 'pipeline-bench', component: 'server' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { ...labels, tier: 'backend' }, annotations: { 'bench.example.com/purpose': 'REST pipeline versus raw etcd' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'registry.example.com/bench/server:1.0.0',
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [{ name: 'COUNTER', value: '0' }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
            },
          ],
        },
      },
    },
  };
}

/** The Deployment with its first container's COUNTER set to `counter`: a change of the pod template. */
function withCounter(deployment: KubeObject, counter: number): KubeObject {
  const spec = deployment.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
  const [first, ...rest] = spec.template.spec.containers;
  const containers = [{ ...first, env: [{ name: 'COUNTER', value: String(counter) }] }, ...rest];
  return { ...deployment, spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, containers } } } };
}

/** What the bench needs of the kind it writes. */
interface BenchKind {
  /** Prefix of its benchmarks' names ("" for ConfigMaps, the first ones). */
  prefix: '' | 'deployment-';
  /** Its name in the descriptions ("" for ConfigMaps, whose descriptions predate the others). */
  label: string;
  ref(namespace: string, name?: string): StorageRef;
  /** The REST path of the collection, or of one object. */
  path(namespace: string, name?: string): string;
  /** The name of the `seq`th object of a namespace. */
  name(seq: number): string;
  /** The object as storage holds it (what the raw side writes and seeding puts under both roots). */
  stored(namespace: string, name: string): KubeObject;
  /** What a client sends to create it. */
  body(namespace: string, name: string): KubeObject;
  /** The object changed for an update. */
  changed(object: KubeObject, counter: number): KubeObject;
  /** A strategic merge patch making the same change as `changed`. */
  patch(counter: number): unknown;
}

/** ConfigMaps, stored as `probe` (one created through the pipeline: managedFields included) is stored. */
function configMaps(probe: KubeObject): BenchKind {
  const { resourceVersion: _rv, ...metadata } = probe.metadata ?? {};
  return {
    prefix: '',
    label: '',
    ref: configMapsRef,
    path: (namespace, name) => `/api/v1/namespaces/${namespace}/configmaps${name === undefined ? '' : `/${name}`}`,
    name: nameOf,
    stored: (namespace, name) => ({ ...probe, metadata: { ...metadata, name, namespace, uid: randomUUID() } }),
    body: (namespace, name) => createBody(namespace, name, PAYLOAD),
    changed: (object, counter) => ({ ...object, data: { counter: String(counter), payload: PAYLOAD } }),
    patch: (counter) => ({ data: { counter: String(counter) } }),
  };
}

/** Deployments, stored as `probe` (one created through the pipeline) is stored. */
function deployments(probe: KubeObject): BenchKind {
  const { resourceVersion: _rv, ...metadata } = probe.metadata ?? {};
  return {
    prefix: 'deployment-',
    label: ' Deployment',
    ref: (namespace, name = '') => ({ group: 'apps', resource: 'deployments', namespace, name }),
    path: (namespace, name) => `/apis/apps/v1/namespaces/${namespace}/deployments${name === undefined ? '' : `/${name}`}`,
    name: (seq) => `dp-${String(seq).padStart(8, '0')}`,
    stored: (namespace, name) => ({ ...probe, metadata: { ...metadata, name, namespace, uid: randomUUID() } }),
    body: deploymentBody,
    changed: withCounter,
    patch: (counter) => ({ spec: { template: { spec: { containers: [{ name: 'server', env: [{ name: 'COUNTER', value: String(counter) }] }] } } } }),
  };
}

// ---------------------------------------------------------------------------------------------
// Everything the bench starts, stopped in finally and on SIGINT/SIGTERM.

interface Running {
  dir?: string;
  plane?: ControlPlane;
  raw?: Etcd3;
  feed?: Redis;
  /** Everything with connections to close: REST clients, the typed gRPC client. */
  clients: { close(): void }[];
}

const running: Running = { clients: [] };
let stopping: Promise<void> | undefined;
const interrupted = new AbortController();

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const client of running.clients) await quietly(() => client.close());
    await quietly(() => running.raw?.close());
    await quietly(() => running.feed?.disconnect());
    await quietly(() => running.plane?.stop());
    if (running.dir !== undefined) await quietly(() => rm(running.dir as string, { recursive: true, force: true }));
  })();
  return stopping;
}

stopOnSignals(interrupted, 'the control plane', stopAll);

function checkInterrupted(): void {
  if (interrupted.signal.aborted) throw new Error('interrupted');
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// The REST client: HTTPS, HTTP/2 (or HTTP/1.1 keep-alive), bearer token, JSON.

interface RestAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** A REST client of one gateway as one user. */
interface RestClient {
  /** Sends one request and parses the JSON answer; rejects with the Status message on anything but 2xx. */
  send(method: string, path: string, body?: unknown, contentType?: string): Promise<RestAnswer>;
  /** Closes its connections; requests in flight fail. */
  close(): void;
}

/** The answer of `method path`: its JSON, or a rejection with the Status message on anything but 2xx. */
function answerOf(method: string, path: string, status: number, chunks: Buffer[]): RestAnswer {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${method} ${path}: ${status}, not JSON (${(err as Error).message})`);
  }
  if (status < 200 || status > 299) throw new Error(`${method} ${path}: ${status} ${String(parsed.message ?? '')}`);
  return { status, body: parsed };
}

/** The request's body as bytes, and the headers that describe it. */
function bodyOf(body: unknown, contentType: string): { payload: Buffer | undefined; headers: Record<string, string> } {
  if (body === undefined) return { payload: undefined, headers: {} };
  const payload = Buffer.from(JSON.stringify(body));
  return { payload, headers: { 'content-type': contentType, 'content-length': String(payload.length) } };
}

/** HTTP/1.1 keep-alive: one socket per request in flight, kept open between requests. */
class Http1RestClient implements RestClient {
  private readonly host: string;
  private readonly port: string;
  private readonly agent: Agent;
  private readonly authorization: string;

  constructor(address: string, ca: string, token: string) {
    const url = new URL(`https://${address}`);
    this.host = url.hostname;
    this.port = url.port;
    this.agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT, maxFreeSockets: MAX_IN_FLIGHT, ca });
    this.authorization = `Bearer ${token}`;
  }

  send(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RestAnswer> {
    return new Promise((resolve, reject) => {
      const { payload, headers } = bodyOf(body, contentType);
      const req = request(
        { host: this.host, port: this.port, method, path, headers: { accept: 'application/json', authorization: this.authorization, ...headers }, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            try {
              resolve(answerOf(method, path, res.statusCode ?? 0, chunks));
            } catch (err) {
              reject(err as Error);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * HTTP/2 as client-go speaks it: requests are streams of one TLS connection, a further
 * connection only when every open one has as many streams as the server allows (its
 * SETTINGS_MAX_CONCURRENT_STREAMS; 100 assumed until they arrive, as Go's transport does),
 * and Go's flow-control windows (4 MiB per stream, 1 GiB per connection), so that a large
 * answer (a page of a list) never waits for WINDOW_UPDATEs.
 */
class Http2RestClient implements RestClient {
  private readonly origin: string;
  private readonly ca: string;
  private readonly authorization: string;
  private readonly sessions: { session: ClientHttp2Session; active: number; limit: number }[] = [];

  constructor(address: string, ca: string, token: string) {
    this.origin = `https://${address}`;
    this.ca = ca;
    this.authorization = `Bearer ${token}`;
  }

  /** A connection with a stream to spare, a new one when none has. */
  private session(): { session: ClientHttp2Session; active: number; limit: number } {
    const open = this.sessions.find((s) => !s.session.closed && !s.session.destroyed && s.active < s.limit);
    if (open !== undefined) return open;
    const session = connect(this.origin, { ca: this.ca, settings: { initialWindowSize: HTTP2_STREAM_WINDOW } });
    const entry = { session, active: 0, limit: HTTP2_ASSUMED_STREAMS };
    this.sessions.push(entry);
    // A session's failure reaches its streams, which reject their requests.
    session.on('error', () => {});
    session.once('connect', () => session.setLocalWindowSize(HTTP2_CONNECTION_WINDOW));
    session.on('remoteSettings', (settings) => {
      entry.limit = settings.maxConcurrentStreams ?? HTTP2_ASSUMED_STREAMS;
    });
    // Closed by the server (GOAWAY, idle timeout) or by close(): the next request opens another.
    session.once('close', () => {
      const at = this.sessions.indexOf(entry);
      if (at !== -1) this.sessions.splice(at, 1);
    });
    return entry;
  }

  send(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RestAnswer> {
    return new Promise((resolve, reject) => {
      const { payload, headers } = bodyOf(body, contentType);
      const entry = this.session();
      let stream: ClientHttp2Stream;
      try {
        stream = entry.session.request(
          { ':method': method, ':path': path, accept: 'application/json', authorization: this.authorization, ...headers },
          { endStream: payload === undefined },
        );
      } catch (err) {
        reject(err as Error);
        return;
      }
      entry.active++;
      stream.once('close', () => {
        entry.active--;
        // Reset (or its session gone) before the answer ended: no 'end' will come. (A no-op after 'end'.)
        reject(new Error(`${method} ${path}: stream closed before its answer ended (code ${stream.rstCode ?? 'none'})`));
      });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        status = Number(h[':status'] ?? 0);
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('end', () => {
        try {
          resolve(answerOf(method, path, status, chunks));
        } catch (err) {
          reject(err as Error);
        }
      });
      if (payload !== undefined) stream.end(payload);
    });
  }

  close(): void {
    for (const { session } of [...this.sessions]) session.destroy();
  }
}

/** A REST client speaking BENCH_HTTP's protocol. */
function restClient(address: string, ca: string, token: string): RestClient {
  return HTTP_VERSION === '2' ? new Http2RestClient(address, ca, token) : new Http1RestClient(address, ca, token);
}

// ---------------------------------------------------------------------------------------------
// The RBAC user

/** The REST clients of the authorization benchmarks, those of the users and gateways the run needs. */
interface AuthzClients {
  /** The admin (system:masters) through the first gateway (auth cache on): the client of every other benchmark. */
  admin: RestClient;
  adminUncached?: RestClient;
  rbac?: RestClient;
  rbacUncached?: RestClient;
}

/** The HTTPS address of the gateway replica started with its auth cache off. */
function uncachedGateway(plane: ControlPlane): string {
  const replica = plane.gatewayReplicas[1];
  if (replica === undefined) throw new Error('the gateway with its auth cache off did not start');
  return replica.https;
}

/**
 * Makes RBAC_USER: appends its token to the token file (the auth service reloads it), binds it
 * to the ClusterRole RBAC_ROLE in RBAC_NAMESPACE, and waits until the auth service knows the
 * token and allows what the benchmarks do. Both are asked through reviews, which reach the auth
 * service without the gateway's cache, so that no answer from before the change is reused.
 * Returns the token.
 */
async function addRbacUser(admin: RestClient, tokenFile: string, noteRevision: (object: Record<string, unknown>) => void): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const text = await readFile(tokenFile, 'utf8');
  await appendFile(tokenFile, `${text === '' || text.endsWith('\n') ? '' : '\n'}${token},${RBAC_USER},${randomUUID()}\n`);
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${RBAC_USER}-${RBAC_ROLE}`, namespace: RBAC_NAMESPACE },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: RBAC_ROLE },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RBAC_USER }],
  };
  noteRevision((await admin.send('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${RBAC_NAMESPACE}/rolebindings`, binding)).body);
  await waitUntil(`the auth service to know ${RBAC_USER}'s token`, async () => {
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
    const status = (await admin.send('POST', '/apis/authentication.k8s.io/v1/tokenreviews', review)).body.status as { authenticated?: boolean; user?: { username?: string } } | undefined;
    if (status?.authenticated !== true || status.user?.username !== RBAC_USER) throw new Error('not authenticated yet');
  }, { timeoutMs: 30_000 });
  for (const verb of ['create', 'get']) {
    await waitUntil(`RBAC to allow ${RBAC_USER} to ${verb} configmaps in ${RBAC_NAMESPACE}`, async () => {
      const review = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: RBAC_USER, groups: ['system:authenticated'], resourceAttributes: { namespace: RBAC_NAMESPACE, verb, resource: 'configmaps' } },
      };
      const status = (await admin.send('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review)).body.status as { allowed?: boolean; reason?: string } | undefined;
      if (status?.allowed !== true) throw new Error(`not allowed yet: ${status?.reason ?? ''}`);
    }, { timeoutMs: 30_000 });
  }
  return token;
}

// ---------------------------------------------------------------------------------------------
// The run

interface Side {
  name: 'raw' | 'pipeline';
  op: Operation;
  /** Objects returned so far (list); undefined for the other benchmarks. */
  objects?: () => number;
}

async function main(): Promise<void> {
  const missing = missingBinaries(['etcd', 'redis-server']);
  if (missing.length > 0) throw new Error(`missing on PATH: ${missing.join(', ')} (make system-deps installs them)`);
  const started = new Date();
  log(`pipeline bench: ${SECONDS} s per benchmark and side in ${ROUNDS} rounds (+${WARMUP_SECONDS} s warm-up), ${IN_FLIGHT} in flight`);

  const dir = await mkdtemp(join(tmpdir(), 'bench-pipeline-'));
  running.dir = dir;
  // Tracing stays as deployed by default (spans made, nothing exported): no OTEL_* from the shell.
  // The gateway's auth cache as deployed too (its default TTL), whatever the shell says.
  const env: NodeJS.ProcessEnv = { AUTH_CACHE_TTL_MS: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) env[k] = undefined;
  const uncached = NOCACHE_BENCHMARKS.some(selected);
  const plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    env,
    // Periodic compaction (every 5 min by default) would land in one window or another.
    flags: { storage: ['--compaction-interval=0'] },
    // A second gateway with its auth cache off, for the -nocache benchmarks only.
    gatewayReplicas: uncached ? 2 : 1,
    gatewayReplicaFlags: [['--auth-cache-ttl=0']],
    nodeFlags: cpuProfileFlags(),
  });
  running.plane = plane;
  checkInterrupted();
  const etcdPid = plane.etcd?.process.pid;
  const redisPid = plane.redis?.process.pid;
  if (etcdPid === undefined || redisPid === undefined) throw new Error('the control plane did not start etcd and redis-server here');
  log(`etcd ${plane.etcdEndpoints}, redis ${plane.redisUrl}, gateway https://${plane.addresses.https}`);

  const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  const rest = restClient(plane.addresses.https, ca, token);
  running.clients.push(rest);
  const raw = createEtcdClient(plane.etcdEndpoints);
  running.raw = raw;
  const rawKv = rawEtcd(raw, RAW_CLIENT);
  const feed = new Redis(plane.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  feed.on('error', () => {});
  await feed.connect();
  running.feed = feed;

  /** The newest revision the pipeline wrote; the changefeed must have published it before a window. */
  let pipelineRevision = 0;
  const noteRevision = (object: Record<string, unknown>): void => {
    const rv = Number((object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion);
    if (rv > pipelineRevision) pipelineRevision = rv;
  };
  const feedRevision = async (): Promise<number> => Number((await feed.get(FEED_REVISION_KEY)) ?? 0);
  const settle = async (): Promise<void> => {
    await waitUntil('the changefeed to publish the pipeline writes', async () => (await feedRevision()) >= pipelineRevision, {
      timeoutMs: 180_000,
      process: plane.processes.storage,
    });
    checkInterrupted();
  };

  const namespaces = ['bench-create', 'bench-grpc', 'bench-get', 'bench-update', 'bench-patch', 'bench-apply', 'bench-list', 'bench-probe', RBAC_NAMESPACE];
  for (const name of namespaces) noteRevision((await rest.send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).body);
  await settle();

  // The clients of the authorization benchmarks: the RBAC user through the gateway with its
  // cache on, and both users through the replica with it off.
  const clients: AuthzClients = { admin: rest };
  if (RBAC_BENCHMARKS.some(selected)) {
    const rbacToken = await addRbacUser(rest, join(dir, 'tokens.csv'), noteRevision);
    clients.rbac = restClient(plane.addresses.https, ca, rbacToken);
    running.clients.push(clients.rbac);
    if (uncached) {
      clients.rbacUncached = restClient(uncachedGateway(plane), ca, rbacToken);
      running.clients.push(clients.rbacUncached);
    }
  }
  if (uncached) {
    clients.adminUncached = restClient(uncachedGateway(plane), ca, token);
    running.clients.push(clients.adminUncached);
  }
  await settle();

  // Seed what get, update and list read: the same objects under both roots, written directly
  // (as the pipeline stores them; the changefeed publishes the /registry/ ones as any write).
  const seed = (kind: BenchKind, namespace: string, count: number): ReturnType<typeof seedBothRoots> =>
    seedBothRoots(
      raw,
      namespace,
      count,
      IN_FLIGHT,
      kind.stored,
      (revision) => {
        if (revision > pipelineRevision) pipelineRevision = revision;
      },
      (ns, seq) => kind.ref(ns, kind.name(seq)),
    );

  const cpuPids: Record<string, number | number[]> = {
    // Every replica: the one with its cache off idles while the other serves, and the other way round.
    gateway: plane.gatewayReplicas.map((g) => g.process.pid),
    auth: plane.processes.auth.pid,
    admission: plane.processes.admission.pid,
    storage: plane.processes.storage.pid,
    watch: plane.processes.watch.pid,
    etcd: etcdPid,
    redis: redisPid,
    bench: process.pid,
  };
  const results: PipelineBench[] = [];
  const loadSweep: LoadSweepPoint[] = [];

  // Progress: the time since the start, and which benchmark of how many.
  const total = BENCHMARKS.filter(selected).length;
  let step = 0;
  const elapsed = (): string => {
    const seconds = Math.round((Date.now() - started.getTime()) / 1000);
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  };
  const progress = (line: string): void => log(`[${elapsed()}] ${line}`);
  const begin = (name: BenchName, what: string): void => progress(`(${++step}/${total}) ${name}: ${what}`);
  const figure = (f: PipelineSide, unit: string): string =>
    `${Math.round(f.throughput)} ${unit}/s, p99 ${f.p99.toFixed(1)} ms${f.errors > 0 ? `, ${f.errors} errors (${f.firstError ?? ''})` : ''}`;

  /**
   * Warm-up of both sides, then ROUNDS rounds of both, the first side alternating; recorded in
   * the results unless the options say it is a point of the load sweep (`label` names it then).
   */
  const measure = async (
    name: BenchName,
    description: string,
    unit: string,
    rawSide: Side,
    pipelineSide: Side,
    options: { inFlight?: number; seconds?: number; warmupSeconds?: number; sweep?: string } = {},
  ): Promise<PipelineBench | undefined> => {
    if (!selected(name)) return undefined;
    const inFlight = options.inFlight ?? IN_FLIGHT;
    const label = options.sweep ?? name;
    if (options.sweep === undefined) begin(name, `${description}, ${inFlight} in flight`);
    for (const side of [rawSide, pipelineSide]) {
      await settle();
      await closedLoop(side.op, inFlight, options.warmupSeconds ?? WARMUP_SECONDS, interrupted.signal);
    }
    const totals = { raw: new CpuMeter(cpuPids), pipeline: new CpuMeter(cpuPids) };
    const rounds: RoundResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [rawSide, pipelineSide] : [pipelineSide, rawSide];
      const figures: Partial<Record<'raw' | 'pipeline', PipelineSide>> = {};
      for (const side of order) {
        await settle();
        const meter = new CpuMeter(cpuPids);
        const objectsBefore = side.objects?.() ?? 0;
        const sample = await totals[side.name].measure(() =>
          meter.measure(() => closedLoop(side.op, inFlight, (options.seconds ?? SECONDS) / ROUNDS, interrupted.signal)),
        );
        checkInterrupted();
        const objects = (side.objects?.() ?? 0) - objectsBefore;
        const f = sideFigures(summarize([sample]), meter, side.objects === undefined ? undefined : objects);
        figures[side.name] = f;
        progress(`  ${label} round ${round}/${ROUNDS} ${side.name}: ${figure(f, unit)}`);
      }
      const r = figures.raw as PipelineSide;
      const p = figures.pipeline as PipelineSide;
      rounds.push({ round, first: order[0]?.name ?? 'raw', raw: r, pipeline: p, ratio: r.throughput > 0 ? p.throughput / r.throughput : 0 });
    }
    const ratio = spreadOf(rounds.map((r) => r.ratio));
    progress(`  ${label}: ratio ${ratio.median.toFixed(3)} (${ratio.min.toFixed(3)}-${ratio.max.toFixed(3)})`);
    const bench: PipelineBench = {
      name,
      description,
      unit,
      inFlight,
      rounds,
      ratio,
      raw: overall(rounds.map((r) => r.raw), totals.raw),
      pipeline: overall(rounds.map((r) => r.pipeline), totals.pipeline),
    };
    if (options.sweep === undefined) results.push(bench);
    return bench;
  };

  /**
   * p99 at half the maximum rate: the pipeline's closed-loop rate at IN_FLIGHT measured first
   * (after both sides' warm-up), then both sides driven open-loop at half of it, ROUNDS rounds
   * with the first side alternating, each latency from its operation's scheduled start.
   */
  const measureHalfRate = async (name: BenchName, description: string, rawSide: Side, pipelineSide: Side): Promise<void> => {
    if (!selected(name)) return;
    begin(name, description);
    for (const side of [rawSide, pipelineSide]) {
      await settle();
      await closedLoop(side.op, IN_FLIGHT, WARMUP_SECONDS, interrupted.signal);
    }
    await settle();
    const maxMeter = new CpuMeter(cpuPids);
    const max = sideFigures(summarize([await maxMeter.measure(() => closedLoop(pipelineSide.op, IN_FLIGHT, SECONDS / ROUNDS, interrupted.signal))]), maxMeter, undefined);
    checkInterrupted();
    const rate = max.throughput / 2;
    progress(`  ${name}: maximum ${figure(max, 'ops')} at ${IN_FLIGHT} in flight; open loop at ${Math.round(rate)}/s`);
    if (!(rate > 0)) throw new Error(`${name}: the pipeline completed no create in the closed-loop window (${max.firstError ?? 'no error'})`);
    const totals = { raw: new CpuMeter(cpuPids), pipeline: new CpuMeter(cpuPids) };
    const rounds: RoundResult[] = [];
    const mostInFlight = { raw: 0, pipeline: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [rawSide, pipelineSide] : [pipelineSide, rawSide];
      const figures: Partial<Record<'raw' | 'pipeline', PipelineSide>> = {};
      for (const side of order) {
        await settle();
        const meter = new CpuMeter(cpuPids);
        const sample = await totals[side.name].measure(() => meter.measure(() => openLoop(side.op, rate, SECONDS / ROUNDS, interrupted.signal)));
        checkInterrupted();
        mostInFlight[side.name] = Math.max(mostInFlight[side.name], sample.maxInFlight);
        // Percentiles over every scheduled create, the failed ones ranked behind every success.
        const f = sideFigures(summarize([sample]), meter, undefined);
        f.p50 = scheduledPercentile(sample.latencies, sample.failedLatencies, 0.5);
        f.p99 = scheduledPercentile(sample.latencies, sample.failedLatencies, 0.99);
        figures[side.name] = f;
        progress(`  ${name} round ${round}/${ROUNDS} ${side.name}: ${figure(f, 'ops')}, at most ${sample.maxInFlight} in flight`);
      }
      const r = figures.raw as PipelineSide;
      const p = figures.pipeline as PipelineSide;
      rounds.push({ round, first: order[0]?.name ?? 'raw', raw: r, pipeline: p, ratio: r.throughput > 0 ? p.throughput / r.throughput : 0 });
    }
    const bench: PipelineBench = {
      name,
      description,
      unit: 'ops',
      inFlight: IN_FLIGHT,
      rounds,
      ratio: spreadOf(rounds.map((r) => r.ratio)),
      raw: overall(rounds.map((r) => r.raw), totals.raw),
      pipeline: overall(rounds.map((r) => r.pipeline), totals.pipeline),
      openLoop: { maxRate: max.throughput, maxP99: max.p99, maxErrors: max.errors, rate, mostInFlight },
    };
    const failed = (side: PipelineBench['raw']): string => (side.errors > 0 ? `, ${side.errors} failed` : '');
    progress(
      `  ${name}: p99 ${bench.pipeline.p99.median.toFixed(1)} ms${failed(bench.pipeline)} (raw ${bench.raw.p99.median.toFixed(1)} ms${failed(bench.raw)}) at ${Math.round(rate)}/s, failed creates counted as slowest`,
    );
    results.push(bench);
  };

  /**
   * Creates of `kind` in `namespace` on both sides, fresh names on each (numbered on from
   * whatever an earlier benchmark created there): a create-if-absent txn of the object as
   * stored, and a REST POST of what a client sends.
   */
  const createdNames = new Map<string, number>();
  const fresh = (side: string, kind: BenchKind, namespace: string): string => {
    const key = `${side}/${kind.prefix}/${namespace}`;
    const seq = createdNames.get(key) ?? (namespace === RBAC_NAMESPACE ? GET_KEYS : 0);
    createdNames.set(key, seq + 1);
    return kind.name(seq);
  };
  const rawCreate = (kind: BenchKind, namespace: string): Side => ({
    name: 'raw',
    op: async () => {
      const name = fresh('raw', kind, namespace);
      const key = rawKey(kind.ref(namespace, name));
      if (!(await rawKv.create(key, JSON.stringify(kind.stored(namespace, name))))) throw new Error(`${key} exists`);
    },
  });
  const restCreate = (kind: BenchKind, namespace: string, client: RestClient = rest): Side => ({
    name: 'pipeline',
    op: async () => {
      noteRevision((await client.send('POST', kind.path(namespace), kind.body(namespace, fresh('pipeline', kind, namespace)))).body);
    },
  });
  /** Gets of the seeded objects of `namespace` in turn, parsed: a range get + JSON.parse, a REST GET. */
  const rawGet = (kind: BenchKind, namespace: string): Side => {
    let gets = 0;
    return {
      name: 'raw',
      op: async () => {
        const key = rawKey(kind.ref(namespace, kind.name(gets++ % GET_KEYS)));
        const kv = await rawKv.get(key);
        if (kv === undefined) throw new Error(`${key} missing`);
        JSON.parse(kv.value.toString('utf8'));
      },
    };
  };
  const restGet = (kind: BenchKind, namespace: string, client: RestClient = rest): Side => {
    let gets = 0;
    return {
      name: 'pipeline',
      op: async () => {
        await client.send('GET', kind.path(namespace, kind.name(gets++ % GET_KEYS)));
      },
    };
  };
  const seededGets = new Set<string>();
  /** Seeds the GET_KEYS objects the get benchmarks of `namespace` read, once. */
  const seedGets = async (kind: BenchKind, namespace: string): Promise<void> => {
    const key = `${kind.prefix}/${namespace}`;
    if (seededGets.has(key)) return;
    seededGets.add(key);
    await seed(kind, namespace, GET_KEYS);
  };

  /** The four benchmarks of one kind, after seeding what get, update and list read. */
  const benchKind = async (kind: BenchKind): Promise<void> => {
    const named = (name: 'create' | 'get' | 'update' | 'patch' | 'apply' | 'list'): BenchName => `${kind.prefix}${name}`;
    const own = (['create', 'get', 'update', 'patch', 'apply', 'list'] as const).map(named);
    if (!own.some(selected) && !(kind.prefix === '' && selected('load-sweep'))) return;
    progress(`seeding the${kind.label} objects get, update and list read, under both roots`);
    if (selected(named('get')) || (kind.prefix === '' && selected('load-sweep'))) await seedGets(kind, 'bench-get');
    const updateObjects = selected(named('update')) ? await seed(kind, 'bench-update', IN_FLIGHT * UPDATE_KEYS_PER_WORKER) : { registry: [], raw: [] };
    const patchObjects = selected(named('patch')) ? await seed(kind, 'bench-patch', IN_FLIGHT * UPDATE_KEYS_PER_WORKER) : { registry: [], raw: [] };
    const applyObjects = selected(named('apply')) ? await seed(kind, 'bench-apply', IN_FLIGHT * UPDATE_KEYS_PER_WORKER) : { registry: [], raw: [] };
    // The bench's field manager takes the seeded objects over once (force), so that each measured
    // apply is a manager re-applying its own configuration, as `kubectl apply --server-side` again.
    for (const object of applyObjects.registry) {
      const name = object.metadata?.name ?? '';
      // (a value other than the stored one: fields applied with the value they hold are shared, not taken)
      noteRevision((await rest.send('PATCH', `${kind.path('bench-apply', name)}?fieldManager=bench&force=true`, kind.changed(kind.body('bench-apply', name), -1), 'application/apply-patch+yaml')).body);
    }
    if (selected(named('list'))) await seed(kind, 'bench-list', LIST_OBJECTS);
    await settle();

    // create: fresh names on both sides.
    await measure(named('create'), `create${kind.label} (REST POST | etcd txn create-if-absent)`, 'ops', rawCreate(kind, 'bench-create'), restCreate(kind, 'bench-create'));

    // get: the seeded objects in turn, parsed on both sides (the REST client parses its answer).
    await measure(named('get'), `get${kind.label} (REST GET | etcd range + JSON.parse)`, 'ops', rawGet(kind, 'bench-get'), restGet(kind, 'bench-get'));

    // update: each worker cycles through its own objects; compare-and-swap on the revision it
    // last wrote (the pipeline: PUT of the object it holds, resourceVersion included).
    const rawState = updateObjects.raw;
    const pipelineState = updateObjects.registry;
    const rawTurn = new Array<number>(IN_FLIGHT).fill(0);
    const pipelineTurn = new Array<number>(IN_FLIGHT).fill(0);
    let counter = 0;
    await measure(
      named('update'),
      `update${kind.label} with resourceVersion (REST PUT | etcd txn compare mod_revision, put)`,
      'ops',
      {
        name: 'raw',
        op: async (worker) => {
          const index = worker + IN_FLIGHT * ((rawTurn[worker] = (rawTurn[worker] ?? 0) + 1) % UPDATE_KEYS_PER_WORKER);
          const current = rawState[index] as { object: KubeObject; revision: string };
          const object = kind.changed(current.object, ++counter);
          const key = rawKey(kind.ref('bench-update', current.object.metadata?.name ?? ''));
          const revision = await rawKv.update(key, current.revision, JSON.stringify(object));
          if (revision === undefined) throw new Error(`${key} changed under the bench`);
          rawState[index] = { object, revision };
        },
      },
      {
        name: 'pipeline',
        op: async (worker) => {
          const index = worker + IN_FLIGHT * ((pipelineTurn[worker] = (pipelineTurn[worker] ?? 0) + 1) % UPDATE_KEYS_PER_WORKER);
          const current = pipelineState[index] as KubeObject;
          const object = kind.changed(current, ++counter);
          const updated = (await rest.send('PUT', kind.path('bench-update', current.metadata?.name ?? ''), object)).body;
          noteRevision(updated);
          pipelineState[index] = updated as KubeObject;
        },
      },
    );

    // patch and apply: each worker changes its own objects by name, as `kubectl patch` and
    // `kubectl apply --server-side` do (no resourceVersion: the server reads, changes and writes
    // conditionally). Raw: what that costs etcd alone, a range read, JSON.parse, the change and
    // a txn comparing the mod_revision read.
    const readModifyWrite = (namespace: string, state: { object: KubeObject }[]): Side => {
      const turn = new Array<number>(IN_FLIGHT).fill(0);
      return {
        name: 'raw',
        op: async (worker) => {
          const index = worker + IN_FLIGHT * ((turn[worker] = (turn[worker] ?? 0) + 1) % UPDATE_KEYS_PER_WORKER);
          const key = rawKey(kind.ref(namespace, (state[index] as { object: KubeObject }).object.metadata?.name ?? ''));
          const kv = await rawKv.get(key);
          if (kv === undefined) throw new Error(`${key} missing`);
          const object = kind.changed(JSON.parse(kv.value.toString('utf8')) as KubeObject, ++counter);
          if ((await rawKv.update(key, kv.modRevision, JSON.stringify(object))) === undefined) throw new Error(`${key} changed under the bench`);
        },
      };
    };
    const byName = (namespace: string, names: string[], send: (path: string, counter: number) => Promise<RestAnswer>): Side => {
      const turn = new Array<number>(IN_FLIGHT).fill(0);
      return {
        name: 'pipeline',
        op: async (worker) => {
          const index = worker + IN_FLIGHT * ((turn[worker] = (turn[worker] ?? 0) + 1) % UPDATE_KEYS_PER_WORKER);
          noteRevision((await send(kind.path(namespace, names[index] ?? ''), ++counter)).body);
        },
      };
    };
    const namesOf = (objects: KubeObject[]): string[] => objects.map((o) => o.metadata?.name ?? '');
    await measure(
      named('patch'),
      `patch${kind.label}, strategic merge (REST PATCH | etcd range + JSON.parse, txn compare mod_revision, put)`,
      'ops',
      readModifyWrite('bench-patch', patchObjects.raw),
      byName('bench-patch', namesOf(patchObjects.registry), (path, n) => rest.send('PATCH', path, kind.patch(n), 'application/strategic-merge-patch+json')),
    );
    await measure(
      named('apply'),
      `server-side apply${kind.label} (REST PATCH apply | etcd range + JSON.parse, txn compare mod_revision, put)`,
      'ops',
      readModifyWrite('bench-apply', applyObjects.raw),
      byName('bench-apply', namesOf(applyObjects.registry), (path, n) => {
        const name = path.slice(path.lastIndexOf('/') + 1);
        return rest.send('PATCH', `${path}?fieldManager=bench`, kind.changed(kind.body('bench-apply', name), n), 'application/apply-patch+yaml');
      }),
    );

    // list: a page per operation; each worker walks its own list of LIST_OBJECTS, page by page,
    // every page of a list at its first page's revision, and starts again at the end.
    const rawStart = rawPrefix(kind.ref('bench-list'));
    const rawEnd = prefixEnd(rawStart);
    const rawCursor = Array.from({ length: IN_FLIGHT }, () => ({ start: Buffer.from(rawStart), revision: '0', items: 0 }));
    const pipelineCursor = Array.from({ length: IN_FLIGHT }, () => ({ token: '', items: 0 }));
    let rawObjects = 0;
    let pipelineObjects = 0;
    await measure(
      named('list'),
      `list ${LIST_OBJECTS.toLocaleString('en-US')}${kind.label === '' ? ' objects' : `${kind.label}s`}, pages of ${LIST_PAGE} (REST GET ?limit&continue | etcd range with limit at one revision + JSON.parse)`,
      'pages',
      {
        name: 'raw',
        objects: () => rawObjects,
        op: async (worker) => {
          const cursor = rawCursor[worker] as { start: Buffer; revision: string; items: number };
          const response = await rawKv.page(cursor.start, rawEnd, LIST_PAGE, cursor.revision);
          for (const kv of response.kvs) JSON.parse(kv.value.toString('utf8'));
          rawObjects += response.kvs.length;
          cursor.items += response.kvs.length;
          const last = response.kvs[response.kvs.length - 1];
          if (response.more && last !== undefined) {
            if (cursor.revision === '0') cursor.revision = response.revision;
            cursor.start = Buffer.concat([last.key, Buffer.from([0])]);
            return;
          }
          if (cursor.items !== LIST_OBJECTS) throw new Error(`raw list saw ${cursor.items} objects`);
          rawCursor[worker] = { start: Buffer.from(rawStart), revision: '0', items: 0 };
        },
      },
      {
        name: 'pipeline',
        objects: () => pipelineObjects,
        op: async (worker) => {
          const cursor = pipelineCursor[worker] as { token: string; items: number };
          const query = `limit=${LIST_PAGE}${cursor.token === '' ? '' : `&continue=${encodeURIComponent(cursor.token)}`}`;
          const page = (await rest.send('GET', `${kind.path('bench-list')}?${query}`)).body;
          const items = (page.items as unknown[] | undefined)?.length ?? 0;
          pipelineObjects += items;
          cursor.items += items;
          const next = (page.metadata as { continue?: string } | undefined)?.continue ?? '';
          if (next !== '') {
            cursor.token = next;
            return;
          }
          if (cursor.items !== LIST_OBJECTS) throw new Error(`pipeline list saw ${cursor.items} objects`);
          pipelineCursor[worker] = { token: '', items: 0 };
        },
      },
    );
  };

  /**
   * Create and get of ConfigMaps in RBAC_NAMESPACE by each user through each gateway (see the
   * header): the same raw side as create and get, the pipeline side as the client says.
   */
  const benchAuthorization = async (kind: BenchKind): Promise<void> => {
    const gets: BenchName[] = ['rbac-get', 'get-nocache', 'rbac-get-nocache'];
    const creates: BenchName[] = ['rbac-create', 'create-nocache', 'rbac-create-nocache'];
    if (!gets.some(selected) && !creates.some(selected)) return;
    if (gets.some(selected)) {
      progress('seeding the objects the authorization benchmarks get, under both roots');
      await seedGets(kind, RBAC_NAMESPACE);
    }
    await settle();
    const clientOf = (name: BenchName): RestClient => {
      const client = name.startsWith('rbac-')
        ? name.endsWith('-nocache') ? clients.rbacUncached : clients.rbac
        : name.endsWith('-nocache') ? clients.adminUncached : clients.admin;
      if (client === undefined) throw new Error(`no client for ${name}`);
      return client;
    };
    const who = (name: BenchName): string =>
      `as ${name.startsWith('rbac-') ? `${RBAC_USER} (RoleBinding to ${RBAC_ROLE})` : 'admin (system:masters)'}, auth cache ${name.endsWith('-nocache') ? 'off' : 'on'}`;

    // Fresh names after the seeded ones, numbered on from one create benchmark to the next.
    for (const name of creates) {
      if (!selected(name)) continue;
      await measure(name, `create ${who(name)} (REST POST | etcd txn create-if-absent)`, 'ops', rawCreate(kind, RBAC_NAMESPACE), restCreate(kind, RBAC_NAMESPACE, clientOf(name)));
    }
    for (const name of gets) {
      if (!selected(name)) continue;
      await measure(name, `get ${who(name)} (REST GET | etcd range + JSON.parse)`, 'ops', rawGet(kind, RBAC_NAMESPACE), restGet(kind, RBAC_NAMESPACE, clientOf(name)));
    }
  };

  /**
   * What the issue's aims need beside the per-operation benchmarks: a ConfigMap create through
   * the typed gRPC API, the p99 of creates at half the maximum rate, and the load sweep.
   */
  const benchRequestPath = async (kind: BenchKind): Promise<void> => {
    if (selected('grpc-create')) {
      // The typed gRPC API as a component calls it (@apiserver/client: one channel, the kind's
      // protobuf message in and out), the same ConfigMap as the REST create sends.
      const client = new ApiClient({ address: plane.addresses.gateway, token });
      running.clients.push(client);
      const configMaps = client.kinds.core.v1.ConfigMaps;
      await measure('grpc-create', 'create through the typed gRPC API (ConfigMaps.Create | etcd txn create-if-absent)', 'ops', rawCreate(kind, 'bench-grpc'), {
        name: 'pipeline',
        op: async () => {
          const { metadata, data } = kind.body('bench-grpc', fresh('pipeline', kind, 'bench-grpc')) as { metadata: Record<string, unknown>; data: Record<string, string> };
          const created = await configMaps.create({ namespace: 'bench-grpc', object: { metadata, data } });
          noteRevision({ metadata: { resourceVersion: created.metadata?.resourceVersion } });
        },
      });
    }

    await measureHalfRate(
      'create-p99-half',
      `create at half the maximum rate, open loop (REST POST | etcd txn create-if-absent at the same rate), latency from the scheduled start`,
      rawCreate(kind, 'bench-create'),
      restCreate(kind, 'bench-create'),
    );

    if (selected('load-sweep')) {
      begin('load-sweep', `create and get at ${SWEEP_IN_FLIGHT.join(', ')} in flight, ${SWEEP_SECONDS} s per level and side in ${ROUNDS} rounds`);
      for (const operation of ['create', 'get'] as const) {
        for (const inFlight of SWEEP_IN_FLIGHT) {
          const sides = operation === 'create' ? [rawCreate(kind, 'bench-create'), restCreate(kind, 'bench-create')] : [rawGet(kind, 'bench-get'), restGet(kind, 'bench-get')];
          const point = await measure('load-sweep', `${operation} at ${inFlight} in flight`, 'ops', sides[0] as Side, sides[1] as Side, {
            inFlight,
            seconds: SWEEP_SECONDS,
            warmupSeconds: SWEEP_WARMUP_SECONDS,
            sweep: `load-sweep ${operation} at ${inFlight} in flight`,
          });
          if (point === undefined) continue;
          loadSweep.push({
            operation,
            inFlight,
            pipeline: { opsPerSec: point.pipeline.throughput.median, p99Ms: point.pipeline.p99.median },
            raw: { opsPerSec: point.raw.throughput.median, p99Ms: point.raw.p99.median },
            ratio: point.ratio.median,
          });
        }
      }
    }
  };

  // Both kinds are stored as the pipeline stores them (managedFields included): a first object
  // created through it says how.
  const configMapProbe = (await rest.send('POST', '/api/v1/namespaces/bench-probe/configmaps', createBody('bench-probe', 'probe', PAYLOAD))).body as KubeObject;
  noteRevision(configMapProbe);
  const configMapKind = configMaps(configMapProbe);
  await benchKind(configMapKind);
  await benchRequestPath(configMapKind);
  // Deployments are stored as the pipeline stores one: a first one created through it says how.
  const probe = (await rest.send('POST', '/apis/apps/v1/namespaces/bench-probe/deployments', deploymentBody('bench-probe', 'probe'))).body as KubeObject;
  noteRevision(probe);
  const deploymentKind = deployments(probe);
  await benchKind(deploymentKind);
  await benchAuthorization(configMapKind);

  const report: PipelineReport = {
    ...reportHeader(ROOT, started, `${ONLY.length > 0 ? `BENCH_ONLY=${ONLY.join(',')} ` : ''}${CPU_PROF_DIR !== undefined ? 'BENCH_CPU_PROF=<dir> ' : ''}${RAW_CLIENT === 'etcd3' ? '' : `BENCH_RAW_CLIENT=${RAW_CLIENT} `}make bench-pipeline`, {
      benchSeconds: SECONDS,
      rounds: ROUNDS,
      warmupSeconds: WARMUP_SECONDS,
      inFlight: IN_FLIGHT,
      objectBytes: JSON.stringify(configMapKind.stored('bench-create', nameOf(0))).length,
      deploymentBytes: JSON.stringify(deploymentKind.stored('bench-create', deploymentKind.name(0))).length,
      listObjects: LIST_OBJECTS,
      listPage: LIST_PAGE,
      client: CLIENT_DESCRIPTION,
      rawClient: rawClientDescription(RAW_CLIENT),
      grpcClient: '@apiserver/client ApiClient (grpc-js, one plaintext channel), ConfigMap as its protobuf message, bearer token',
      sweep: { inFlight: [...SWEEP_IN_FLIGHT], seconds: SWEEP_SECONDS, warmupSeconds: SWEEP_WARMUP_SECONDS },
      authorization: {
        namespace: RBAC_NAMESPACE,
        rbacUser: `${RBAC_USER} (token file), RoleBinding to ClusterRole ${RBAC_ROLE} in ${RBAC_NAMESPACE}`,
        admin: 'admin (token file, system:masters)',
        cacheOn: 'the gateway as deployed (--auth-cache-ttl default)',
        cacheOff: 'a second gateway replica with --auth-cache-ttl=0',
      },
    }),
    results,
    ...(loadSweep.length > 0 ? { loadSweep } : {}),
  };
  publishResults(RESULTS_DIR, 'pipeline', report, renderPipelineMarkdown(report), DIAGNOSTIC ? (ONLY.length > 0 ? 'BENCH_ONLY' : 'BENCH_CPU_PROF') : undefined);

  if (CPU_PROF_DIR !== undefined) {
    // The services write their profiles when they exit: stop them first.
    const processOf = new Map<number, string>([
      ...plane.gatewayReplicas.map((g, i): [number, string] => [g.process.pid, plane.gatewayReplicas.length > 1 ? `gateway ${i + 1}` : 'gateway']),
      ...(['auth', 'admission', 'storage', 'watch'] as const).map((name): [number, string] => [plane.processes[name].pid, name]),
    ]);
    await stopAll();
    process.stdout.write(await profilesSummary(CPU_PROF_DIR, processOf));
  }
}

/** Parts of the work, and functions by self time, printed per process after a profiled run. */
const PROFILE_TOP_PARTS = 8;
const PROFILE_TOP_FUNCTIONS = 8;

/**
 * Where the time goes, process by process: each profile of `dir` written by one of the
 * processes `processOf` names (a .cpuprofile file is named CPU.<date>.<time>.<pid>.<thread>.<n>),
 * summarized by part of the work and by function (bench/profile-summary.ts).
 */
async function profilesSummary(dir: string, processOf: Map<number, string>): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const found = files
    .map((file) => ({ file, name: processOf.get(Number(file.split('.')[3])) }))
    .filter((f): f is { file: string; name: string } => f.name !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
  const lines = ['', `Where the time goes: CPU profiles of the services (${dir}; the whole run, set-up included)`];
  if (found.length === 0) lines.push('', `no profile of this run's services in ${dir} (a service that did not exit cleanly writes none)`);
  for (const { file, name } of found) {
    const summary = summarizeProfile(readProfile(join(dir, file)));
    lines.push(
      '',
      `${name}: ${summary.busySeconds.toFixed(1)} s busy of ${summary.wallSeconds.toFixed(1)} s (${file})`,
      '  by part of the work:',
      ...profileLines(summary.byPart, summary.busySeconds, PROFILE_TOP_PARTS).map((l) => `    ${l}`),
      '  by function, self time:',
      ...profileLines(summary.selfByFunction, summary.busySeconds, PROFILE_TOP_FUNCTIONS).map((l) => `    ${l}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** One side of one round: throughput, latency, CPU per operation of every process. */
function sideFigures(summary: ReturnType<typeof summarize>, meter: CpuMeter, objects: number | undefined): PipelineSide {
  const cpu = meter.seconds();
  const cpuMicrosPerOp: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(cpu)) cpuMicrosPerOp[name] = summary.ops > 0 ? (seconds * 1e6) / summary.ops : 0;
  return {
    ops: summary.ops,
    errors: summary.errors,
    seconds: summary.seconds,
    throughput: summary.throughput,
    objectsPerSecond: objects === undefined ? undefined : summary.seconds > 0 ? objects / summary.seconds : 0,
    p50: summary.p50,
    p99: summary.p99,
    firstError: summary.firstError,
    cpuMicrosPerOp,
    machine: meter.machine(),
  };
}

/** A side over every round: the median throughput and CPU per operation over all its windows. */
function overall(rounds: PipelineSide[], total: CpuMeter): PipelineBench['raw'] {
  const ops = rounds.reduce((n, r) => n + r.ops, 0);
  const cpuMicrosPerOp: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(total.seconds())) cpuMicrosPerOp[name] = ops > 0 ? (seconds * 1e6) / ops : 0;
  const objects = rounds.map((r) => r.objectsPerSecond).filter((o): o is number => o !== undefined);
  return {
    throughput: spreadOf(rounds.map((r) => r.throughput)),
    objectsPerSecond: objects.length > 0 ? spreadOf(objects) : undefined,
    p99: spreadOf(rounds.map((r) => r.p99)),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    firstError: rounds.find((r) => r.firstError !== undefined)?.firstError,
    cpuMicrosPerOp,
    machine: total.machine(),
  };
}

await runBench(main, stopAll, interrupted.signal);
