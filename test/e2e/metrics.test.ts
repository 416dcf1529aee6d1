/**
 * Metrics end to end: every service's monitoring port (--metrics-listen) and the gateway's
 * HTTPS /metrics, scraped before and under load (creates, lists, an open watch), show the
 * request histogram, the watcher gauges, etcd's, the changefeed's and the caches' counts move;
 * the metrics kube has are checked, name, label names and buckets, against a table of kube's
 * facts citing the kube source file each comes from. The HTTPS /metrics is authorized as
 * kube's: the bootstrap system:monitoring group may get it, another user gets 403, no
 * credentials 401. The monitoring port also answers /readyz and the gRPC health check (h2c).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { SERVICE_NAMES, startControlPlane, type ControlPlane, type ServiceName } from '../../lib/local/control-plane.ts';
import { freePort } from '../../lib/local/ports.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

/**
 * kube's facts: each metric kube-apiserver has that this project exposes under the same name,
 * with kube's label names (in kube's order) and buckets, and the kube source file that
 * defines it (paths in kubernetes/kubernetes).
 */
const ENDPOINTS_METRICS = 'staging/src/k8s.io/apiserver/pkg/endpoints/metrics/metrics.go';
const ETCD3_METRICS = 'staging/src/k8s.io/apiserver/pkg/storage/etcd3/metrics/metrics.go';
const CACHER_METRICS = 'staging/src/k8s.io/apiserver/pkg/storage/cacher/metrics/metrics.go';
const TOKEN_CACHE_STATS = 'staging/src/k8s.io/apiserver/pkg/authentication/token/cache/stats.go';
const KUBE_LATENCY_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

interface KubeFact {
  service: ServiceName;
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: string[];
  buckets?: number[];
  source: string;
}

const KUBE_FACTS: KubeFact[] = [
  {
    service: 'gateway',
    name: 'apiserver_request_total',
    type: 'counter',
    labels: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'],
    source: ENDPOINTS_METRICS,
  },
  {
    service: 'gateway',
    name: 'apiserver_request_duration_seconds',
    type: 'histogram',
    labels: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    buckets: KUBE_LATENCY_BUCKETS,
    source: ENDPOINTS_METRICS,
  },
  { service: 'gateway', name: 'apiserver_current_inflight_requests', type: 'gauge', labels: ['request_kind'], source: ENDPOINTS_METRICS },
  {
    service: 'gateway',
    name: 'apiserver_longrunning_requests',
    type: 'gauge',
    labels: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    source: ENDPOINTS_METRICS,
  },
  // Deprecated in kube 1.23 and since removed; the issue asks for it by this name.
  { service: 'gateway', name: 'apiserver_registered_watchers', type: 'gauge', labels: ['group', 'version', 'kind'], source: ENDPOINTS_METRICS },
  { service: 'watch', name: 'apiserver_registered_watchers', type: 'gauge', labels: ['group', 'version', 'kind'], source: ENDPOINTS_METRICS },
  { service: 'watch', name: 'apiserver_watch_events_total', type: 'counter', labels: ['group', 'version', 'kind'], source: ENDPOINTS_METRICS },
  { service: 'watch', name: 'apiserver_watch_cache_events_received_total', type: 'counter', labels: ['group', 'resource'], source: CACHER_METRICS },
  { service: 'watch', name: 'apiserver_watch_cache_resource_version', type: 'gauge', labels: ['group', 'resource'], source: CACHER_METRICS },
  { service: 'watch', name: 'watch_cache_capacity', type: 'gauge', labels: ['group', 'resource'], source: CACHER_METRICS },
  { service: 'storage', name: 'etcd_request_duration_seconds', type: 'histogram', labels: ['operation', 'type'], buckets: KUBE_LATENCY_BUCKETS, source: ETCD3_METRICS },
  { service: 'storage', name: 'etcd_requests_total', type: 'counter', labels: ['operation', 'type'], source: ETCD3_METRICS },
  { service: 'gateway', name: 'authentication_token_cache_request_total', type: 'counter', labels: ['status'], source: TOKEN_CACHE_STATS },
];

/** One sample of a Prometheus text body. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Scrape {
  text: string;
  types: Map<string, string>;
  samples: Sample[];
}

function parse(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t !== null) types.set(t[1] as string, t[2] as string);
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1] as string, x[2] as string]));
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { text, types, samples };
}

/** The sum of the samples of `name` whose labels include `labels`. */
function sum(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const s of scrape.samples) {
    if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

let dir: string;
let plane: ControlPlane;
let rest: RestClient;
const monitorPorts = {} as Record<ServiceName, number>;

async function scrapeMonitor(service: ServiceName): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${monitorPorts[service]}/metrics`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `${service} /metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

async function scrapeGateway(headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await rest.request('GET', '/metrics', { headers });
  assert.equal(res.status, 200, res.body.toString());
  return parse(res.body.toString());
}

const MONITORING_USER = { 'Impersonate-User': 'prometheus', 'Impersonate-Group': 'system:monitoring' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-metrics-'));
  const flags: Partial<Record<ServiceName, string[]>> = {};
  for (const name of SERVICE_NAMES) {
    monitorPorts[name] = await freePort();
    flags[name] = [`--metrics-listen=127.0.0.1:${monitorPorts[name]}`];
  }
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs'), flags });
  const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, token);
});

after(async () => {
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('metrics', () => {
  test('every monitoring port is ready, answers gRPC health over h2c and counts its gRPC calls', async () => {
    type HealthClient = grpc.Client & { check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void };
    const Health = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health') as unknown as new (
      address: string,
      credentials: grpc.ChannelCredentials,
    ) => HealthClient;
    for (const name of SERVICE_NAMES) {
      const ready = await fetch(`http://127.0.0.1:${monitorPorts[name]}/readyz`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(ready.status, 200, `${name} /readyz`);
      const client = new Health(`127.0.0.1:${monitorPorts[name]}`, grpc.credentials.createInsecure());
      const status = await new Promise<string>((resolve, reject) =>
        client.check({ service: '' }, (err, res) => (err === null ? resolve(res?.status ?? '') : reject(err))),
      );
      client.close();
      assert.equal(status, 'SERVING', `${name} gRPC health`);
    }
    // The start-up calls (definitions listed from storage, ...) are counted already.
    const storage = await scrapeMonitor('storage');
    assert.ok(sum(storage, 'grpc_server_handled_total', { grpc_service: 'apiserver.v1.Storage', grpc_code: 'OK' }) > 0, 'storage counts its calls');
  });

  test('under load the request histogram, the watcher gauges and the storage and watch counts move', async () => {
    const ns = '/api/v1/namespaces/default/configmaps';
    const before = {
      gateway: await scrapeGateway(MONITORING_USER),
      storage: await scrapeMonitor('storage'),
      watch: await scrapeMonitor('watch'),
    };
    const created = { verb: 'POST', resource: 'configmaps', scope: 'resource', code: '201', component: 'apiserver' };
    assert.equal(sum(before.gateway, 'apiserver_registered_watchers', { kind: 'ConfigMap' }), 0);

    // A watch stays open while the writes happen.
    const abort = new AbortController();
    const events = rest.watch(`${ns}?watch=true`, abort.signal);
    const firstEvent = events.next();
    const N = 20;
    for (let i = 0; i < N; i++) {
      const r = await rest.request('POST', ns, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `m-${i}` }, data: { i: String(i) } } });
      assert.equal(r.status, 201, r.body.toString());
    }
    assert.equal((await rest.request('GET', ns)).status, 200);
    await firstEvent;

    const during = {
      gateway: await scrapeGateway(MONITORING_USER),
      storage: await scrapeMonitor('storage'),
      watch: await scrapeMonitor('watch'),
    };
    // The gateway: requests counted and timed by kube's labels; the open watch in the gauges.
    assert.equal(sum(during.gateway, 'apiserver_request_total', created) - sum(before.gateway, 'apiserver_request_total', created), N);
    const timed = { verb: 'POST', resource: 'configmaps', scope: 'resource' };
    assert.equal(sum(during.gateway, 'apiserver_request_duration_seconds_count', timed) - sum(before.gateway, 'apiserver_request_duration_seconds_count', timed), N);
    assert.equal(sum(during.gateway, 'apiserver_request_duration_seconds_bucket', { ...timed, le: '60' }) - sum(before.gateway, 'apiserver_request_duration_seconds_bucket', { ...timed, le: '60' }), N);
    assert.ok(sum(during.gateway, 'apiserver_request_total', { verb: 'LIST', resource: 'configmaps', scope: 'namespace', code: '200' }) >= 1);
    assert.ok(sum(during.gateway, 'apiserver_registered_watchers', { group: '', version: 'v1', kind: 'ConfigMap' }) >= 1, 'the open watch is registered');
    assert.ok(sum(during.gateway, 'apiserver_longrunning_requests', { verb: 'WATCH', resource: 'configmaps' }) >= 1);
    assert.ok(sum(during.gateway, 'apiserver_current_inflight_requests', { request_kind: 'mutating' }) >= 1);
    assert.ok(sum(during.gateway, 'authentication_token_cache_request_total', { status: 'hit' }) > sum(before.gateway, 'authentication_token_cache_request_total', { status: 'hit' }));
    // The watch service: the gateway's watch is one of its watchers, and the events went out.
    // The gateway's controllers may watch ConfigMaps too: the client's watch is one more.
    const watchersBefore = sum(before.watch, 'apiserver_registered_watchers', { group: '', version: 'v1', kind: 'ConfigMap' });
    assert.equal(sum(during.watch, 'apiserver_registered_watchers', { group: '', version: 'v1', kind: 'ConfigMap' }), watchersBefore + 1);
    assert.ok(sum(during.watch, 'apiserver_watch_events_total', { kind: 'ConfigMap' }) - sum(before.watch, 'apiserver_watch_events_total', { kind: 'ConfigMap' }) >= 1);
    assert.ok(sum(during.watch, 'apiserver_watch_cache_events_received_total', { group: '', resource: 'configmaps' }) - sum(before.watch, 'apiserver_watch_cache_events_received_total', { group: '', resource: 'configmaps' }) >= N);
    assert.ok(sum(during.watch, 'apiserver_watch_cache_events_held', { group: '', resource: 'configmaps' }) >= N);
    // Storage: etcd's calls by kube's operation and type, the changefeed's publishes.
    assert.equal(sum(during.storage, 'etcd_requests_total', { operation: 'create', type: 'configmaps' }) - sum(before.storage, 'etcd_requests_total', { operation: 'create', type: 'configmaps' }), N);
    assert.ok(sum(during.storage, 'apiserver_changefeed_lag_seconds_count') > sum(before.storage, 'apiserver_changefeed_lag_seconds_count'));
    assert.ok(sum(during.storage, 'grpc_server_handled_total', { grpc_method: 'Create', grpc_code: 'OK' }) - sum(before.storage, 'grpc_server_handled_total', { grpc_method: 'Create', grpc_code: 'OK' }) >= N);

    abort.abort();
    await events.return(undefined).catch(() => {});
    // The gauges come down once the watch is gone (the gateway sees the client leave at once;
    // its stream to the watch service ends right after).
    const deadline = Date.now() + 15_000;
    for (;;) {
      const g = await scrapeGateway(MONITORING_USER);
      const w = await scrapeMonitor('watch');
      if (sum(g, 'apiserver_registered_watchers', { kind: 'ConfigMap' }) === 0 && sum(w, 'apiserver_registered_watchers', { kind: 'ConfigMap' }) === watchersBefore) break;
      assert.ok(
        Date.now() < deadline,
        `the watcher gauges did not come down: gateway ${sum(g, 'apiserver_registered_watchers', { kind: 'ConfigMap' })}, watch ${sum(w, 'apiserver_registered_watchers', { kind: 'ConfigMap' })}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  test("names, label names and buckets are kube's", async () => {
    const scrapes = new Map<ServiceName, Scrape>();
    for (const name of ['gateway', 'storage', 'watch'] as const) scrapes.set(name, await scrapeMonitor(name));
    for (const fact of KUBE_FACTS) {
      const scrape = scrapes.get(fact.service) as Scrape;
      const where = `${fact.service}: ${fact.name} (kube: ${fact.source})`;
      assert.equal(scrape.types.get(fact.name), fact.type, `${where}: type`);
      const sampleName = fact.type === 'histogram' ? `${fact.name}_bucket` : fact.name;
      const samples = scrape.samples.filter((s) => s.name === sampleName);
      assert.ok(samples.length > 0, `${where}: no samples`);
      for (const s of samples) {
        const names = Object.keys(s.labels).filter((l) => l !== 'le');
        assert.deepEqual(names.toSorted(), fact.labels.toSorted(), `${where}: label names`);
      }
      if (fact.buckets !== undefined) {
        const first = samples[0] as Sample;
        const series = samples.filter((s) => fact.labels.every((l) => s.labels[l] === first.labels[l]));
        assert.deepEqual(series.map((s) => s.labels.le), [...fact.buckets.map(String), '+Inf'], `${where}: buckets`);
      }
    }
    // kube's label values: verbs upper-case, scope as CleanScope, component apiserver.
    const gateway = scrapes.get('gateway') as Scrape;
    const verbs = new Set(gateway.samples.filter((s) => s.name === 'apiserver_request_total').map((s) => s.labels.verb));
    for (const verb of verbs) assert.match(verb ?? '', /^(APPLY|CONNECT|DELETE|DELETECOLLECTION|GET|LIST|PATCH|POST|PUT|WATCH|other)$/);
    const scopes = new Set(gateway.samples.filter((s) => s.name === 'apiserver_request_total').map((s) => s.labels.scope));
    for (const scope of scopes) assert.match(scope ?? '', /^(resource|namespace|cluster|)$/);
    assert.deepEqual(new Set(gateway.samples.filter((s) => s.name === 'apiserver_current_inflight_requests').map((s) => s.labels.request_kind)), new Set(['readOnly', 'mutating']));
  });

  test('the HTTPS /metrics is authorized as kube: system:monitoring may get it, others 403, no credentials 401', async () => {
    const allowed = await rest.request('GET', '/metrics', { headers: MONITORING_USER });
    assert.equal(allowed.status, 200);
    assert.match(String(allowed.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(allowed.body.toString(), /^# TYPE apiserver_request_total counter$/m);
    const om = await rest.request('GET', '/metrics', { headers: { ...MONITORING_USER, Accept: 'application/openmetrics-text;version=1.0.0' } });
    assert.equal(om.status, 200);
    assert.match(String(om.headers['content-type']), /^application\/openmetrics-text/);
    assert.match(om.body.toString(), /# EOF\n$/);
    const forbidden = await rest.request('GET', '/metrics', { headers: { 'Impersonate-User': 'nobody' } });
    assert.equal(forbidden.status, 403, forbidden.body.toString());
    const anonymous = await rest.request('GET', '/metrics', { token: null });
    assert.equal(anonymous.status, 401, anonymous.body.toString());
  });
});
