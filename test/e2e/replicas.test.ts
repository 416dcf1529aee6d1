/**
 * Replicas that share the load: two processes of every service (as `make up` runs them with
 * REPLICAS=2), each with its own monitoring port. A bench-like load goes through both gateways
 * (a gRPC client given both addresses, REST alternating between them, watches open
 * throughout); each replica's own /metrics (grpc_server_handled_total) shows it took a share.
 * Then one replica of each internal service is stopped with SIGTERM and started again while
 * the load runs, and no client sees an error.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { generatedReplicas, replicaUnary, type ReplicaSet } from '../../lib/grpc/replicas.ts';
import { startControlPlane, type ControlPlane, type ReplicaProcess, type ServiceName } from '../../lib/local/control-plane.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { ResourcesClient } from '../../lib/gen/apiserver/v1/Resources.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

/** The gRPC services each internal service serves, as grpc_server_handled_total's grpc_service names them. */
const SERVED: Record<Exclude<ServiceName, 'gateway'>, readonly string[]> = {
  storage: ['apiserver.v1.Storage'],
  auth: ['apiserver.v1.Authentication', 'apiserver.v1.Authorization'],
  admission: ['apiserver.v1.Admission'],
  watch: ['apiserver.v1.Watch'],
};
const INTERNAL = ['storage', 'auth', 'admission', 'watch'] as const;

let dir: string;
let plane: ControlPlane;
let rests: RestClient[];
let gateways: ReplicaSet<ResourcesClient>;
const auth = new grpc.Metadata();
const asIs = (c: ResourcesClient): ResourcesClient => c;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-replicas-'));
  plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    replicas: { storage: 2, auth: 2, admission: 2, watch: 2, gateway: 2 },
    metricsListen: true,
    // Every request asks auth (no authentication or authorization cache), so auth's share shows.
    flags: { gateway: ['--auth-cache-ttl=0'] },
  });
  const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  auth.set('authorization', `Bearer ${token}`);
  rests = plane.replicas.gateway.map((g) => createRestClient(`https://${g.https}`, ca, token));
  // The typed API's client, given both gateways as one address list.
  gateways = generatedReplicas(loadApiProto().apiserver.v1.Resources, plane.replicas.gateway.map((g) => g.address).join(','), {
    telemetry: createTelemetry({ serviceName: 'test', env: {} }),
  });
});

after(async () => {
  gateways?.close();
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The sum of one replica's samples of the counter `name` whose labels pass `keep`, from its monitoring port. */
async function counterSum(replica: ReplicaProcess, name: string, keep: (labels: string) => boolean = () => true): Promise<number> {
  const res = await fetch(`http://${replica.metrics}/metrics`);
  assert.equal(res.status, 200);
  let sum = 0;
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = /^\S+\{([^}]*)\} (\S+)$/.exec(line);
    if (m !== null && keep(m[1] as string)) sum += Number(m[2]);
  }
  return sum;
}

/** One replica's grpc_server_handled_total summed over `services` (all codes, all methods). */
function handled(replica: ReplicaProcess, services: readonly string[]): Promise<number> {
  return counterSum(replica, 'grpc_server_handled_total', (labels) => services.includes(/grpc_service="([^"]*)"/.exec(labels)?.[1] ?? ''));
}

/** The watch events a watch replica sent to its watchers (apiserver_watch_events_total, every kind). */
function watchEvents(replica: ReplicaProcess): Promise<number> {
  return counterSum(replica, 'apiserver_watch_events_total');
}

const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };

/**
 * A bench-like load until stop(): workers create through the gRPC API (both gateways), read
 * and list through REST (alternating gateways), and watch through REST from a known
 * resourceVersion. Every failure a client sees is recorded.
 */
function startLoad(prefix: string, workers = 4): { stop: () => Promise<void>; errors: string[]; done: () => number; watches: () => number } {
  const errors: string[] = [];
  let running = true;
  let count = 0;
  let watches = 0;
  const controller = new AbortController();
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const name = `${prefix}-${w}-${i}`;
      const rest = rests[i % rests.length] as RestClient;
      try {
        const object = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } }));
        await replicaUnary(gateways, asIs, 'create', { ref: { ...ref, name }, object }, { metadata: auth, timeoutMs: 30_000 });
        const got = await rest.request('GET', `/api/v1/namespaces/default/configmaps/${name}`);
        if (got.status !== 200) errors.push(`get ${name}: ${got.status} ${got.body.toString()}`);
        if (i % 5 === 0) {
          const list = await rest.request('GET', '/api/v1/namespaces/default/configmaps?limit=20');
          if (list.status !== 200) errors.push(`list: ${list.status} ${list.body.toString()}`);
        }
        count++;
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
    }
  };
  const watcher = async (g: number): Promise<void> => {
    const rest = rests[g] as RestClient;
    while (running) {
      const list = await rest.request('GET', '/api/v1/namespaces/default/configmaps?limit=1');
      const rv = (list.json().metadata as { resourceVersion: string }).resourceVersion;
      try {
        // A watch from a known revision survives its watch replica's restart (the gateway
        // resumes it elsewhere); short ones, so that new watches keep reaching every replica.
        watches++;
        for await (const event of rest.watch(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}&timeoutSeconds=3`, controller.signal)) {
          if (event.type === 'ERROR') errors.push(`watch via gateway ${g}: ${JSON.stringify(event.object)}`);
        }
      } catch (err) {
        if (!controller.signal.aborted) errors.push(`watch via gateway ${g}: ${(err as Error).message}`);
      }
    }
  };
  const all = Promise.all([...Array.from({ length: workers }, (_, w) => worker(w)), ...rests.map((_, g) => watcher(g))]);
  return {
    errors,
    done: () => count,
    watches: () => watches,
    stop: async () => {
      running = false;
      controller.abort();
      await all;
    },
  };
}

async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('under load through both gateways, every replica of every service takes a share', async (t) => {
  const before = new Map<string, number>();
  for (const name of INTERNAL) for (const r of plane.replicas[name]) before.set(r.name, await handled(r, SERVED[name]));
  for (const r of plane.replicas.watch) before.set(`${r.name} events`, await watchEvents(r));
  const load = startLoad('share');
  await until(() => load.done() >= 120 || load.errors.length > 0, '120 rounds of load', 120_000);
  await load.stop();
  assert.deepEqual(load.errors, []);
  // Storage, auth and admission count unary and multiplexed calls as they end.
  for (const name of ['storage', 'auth', 'admission'] as const) {
    const counts = await Promise.all(plane.replicas[name].map(async (r) => (await handled(r, SERVED[name])) - (before.get(r.name) ?? 0)));
    const total = counts.reduce((a, b) => a + b, 0);
    t.diagnostic(`${name}: ${counts.join(' + ')} = ${total} calls`);
    for (const [i, n] of counts.entries()) assert.ok(n >= total * 0.25, `${name} replica ${i} took ${n} of ${total} calls`);
  }
  // Watch streams are counted as they end; the watches on them show in the events each replica sent.
  const events = await Promise.all(plane.replicas.watch.map(async (r) => (await watchEvents(r)) - (before.get(`${r.name} events`) ?? 0)));
  const total = events.reduce((a, b) => a + b, 0);
  t.diagnostic(`watch: ${events.join(' + ')} = ${total} events sent`);
  for (const [i, n] of events.entries()) assert.ok(total > 0 && n >= total * 0.15, `watch replica ${i} sent ${n} of ${total} events`);
});

test('one replica of each internal service stopped (SIGTERM) and started again under load: no client error', async (t) => {
  const load = startLoad('restart');
  await until(() => load.done() >= 20 || load.errors.length > 0, 'load running', 60_000);
  for (const name of INTERNAL) {
    const replica = plane.replicas[name][1] as ReplicaProcess;
    const at = load.done();
    await replica.process.stop();
    // The load goes on without it...
    await until(() => load.done() >= at + 10 || load.errors.length > 0, `load while ${replica.name} is down`, 60_000);
    await plane.restart(replica.name);
    t.diagnostic(`${replica.name} stopped and restarted; ${load.done() - at} rounds meanwhile`);
  }
  // ...and takes it back when it returns.
  const at = load.done();
  const watchesAt = load.watches();
  await until(() => (load.done() >= at + 40 && load.watches() >= watchesAt + 8) || load.errors.length > 0, 'load after the restarts', 120_000);
  await load.stop();
  assert.deepEqual(load.errors, []);
  for (const name of ['storage', 'auth', 'admission'] as const) {
    const restarted = plane.replicas[name][1] as ReplicaProcess;
    assert.ok((await handled(restarted, SERVED[name])) > 0, `${restarted.name} takes calls again after its restart`);
  }
  // Watch streams are counted as they end: the gateways' streams to the restarted watch
  // replica end when the gateways stop.
  for (const g of plane.replicas.gateway) await g.process.stop();
  for (const r of plane.replicas.watch) assert.ok((await handled(r, SERVED.watch)) > 0, `${r.name} carried watch streams`);
});
