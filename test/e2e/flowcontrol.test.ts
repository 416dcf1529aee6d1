/**
 * API Priority and Fairness end to end. The gateway runs with a small server concurrency
 * limit (--max-requests-inflight=4 --max-mutating-requests-inflight=2: six seats, of which the
 * suggested `global-default` level gets one), so that one user's flood saturates the level
 * every authenticated user shares. Checked:
 * - the bootstrap FlowSchemas and PriorityLevelConfigurations are stored, annotated
 *   autoupdate-spec "true", and a mandatory one changed by an operator is restored;
 * - every answer names the matched objects by UID (X-Kubernetes-PF-FlowSchema-UID,
 *   X-Kubernetes-PF-PriorityLevel-UID): global-default for a user, exempt for system:masters;
 * - a watch holds its seat only until it has started: with the level's one seat taken by an
 *   open watch, the same user's next request still runs;
 * - one user floods (330 requests in flight over HTTP/2): part of the flood is refused 429
 *   with kube's message and a Retry-After, while a second user of the same level gets every
 *   request answered 200, its p99 below the median wait of the flooder's served requests (fair
 *   queuing: the second user's flow has a queue of its own, served in turn with the flooder's
 *   six). Relative, so that a busy machine slows both sides alike; and system:masters is not
 *   queued at all;
 * - /metrics shows the apiserver_flowcontrol_* series with kube's labels.
 * - FlowSchemas and levels created while running apply on both gateway replicas, and a
 *   schema's Dangling condition says whether its level exists.
 * Bounded: the flood stops after the second user's requests; the whole test within minutes.
 */
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

const FS_UID = 'x-kubernetes-pf-flowschema-uid';
const PL_UID = 'x-kubernetes-pf-prioritylevel-uid';
const FLOWCONTROL = '/apis/flowcontrol.apiserver.k8s.io/v1';
/**
 * The flood: more than the level's queues hold for one flow (a hand of 6 queues of 50) and
 * its one seat, so part of it is always refused.
 */
const FLOOD_IN_FLIGHT = 330;

let dir: string;
let plane: ControlPlane;
let rest: RestClient;
/** The second gateway replica. */
let rest2: RestClient;
let ca: string;
let adminToken: string;

const as = (user: string): Record<string, string> => ({ 'Impersonate-User': user });
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apf-e2e-'));
  plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    // A maintenance pass (which also keeps the bootstrap objects) every 2 s instead of 3 minutes.
    // Two gateway replicas: both reconcile the bootstrap objects at once, and both follow them.
    gatewayReplicas: 2,
    flags: { gateway: ['--max-requests-inflight=4', '--max-mutating-requests-inflight=2', '--flowcontrol-queue-wait=10000', '--allocation-repair-interval=2'] },
  });
  ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  adminToken = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, adminToken);
  rest2 = createRestClient(`https://${plane.gatewayReplicas[1]!.https}`, ca, adminToken);
  // The test's users may read configmaps (they reach the gateway as the admin impersonating them).
  const binding = await rest.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'apf-e2e-view' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: ['flooder', 'quiet', 'special'].map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
    },
  });
  assert.equal(binding.status, 201, binding.body.toString());
  // The binding reaches the auth service's index through the watch service: wait for it (bounded).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await rest.request('GET', CONFIGMAPS, { headers: as('quiet') });
    if (r.status === 200) break;
    assert.ok(Date.now() < deadline, `the binding did not take effect: ${r.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function uidOf(resource: string, name: string): Promise<string> {
  const r = await rest.request('GET', `${FLOWCONTROL}/${resource}/${name}`);
  assert.equal(r.status, 200, r.body.toString());
  return String((r.json().metadata as Record<string, unknown>).uid);
}

test('the bootstrap configuration is stored, and a mandatory object an operator changes is restored', async () => {
  type Item = { metadata: { name: string; annotations: Record<string, string> } };
  const names = async (resource: string): Promise<string[]> => {
    const r = await rest.request('GET', `${FLOWCONTROL}/${resource}`);
    assert.equal(r.status, 200);
    return (r.json().items as Item[]).map((i) => i.metadata.name).sort();
  };
  // The gateways make them before they serve; the wait (bounded) only covers a replica that
  // has not yet seen them through its watch.
  const levelNames = ['catch-all', 'exempt', 'global-default', 'leader-election', 'node-high', 'system', 'workload-high', 'workload-low'];
  const schemaNames = ['catch-all', 'exempt', 'global-default', 'kube-controller-manager', 'kube-scheduler', 'kube-system-service-accounts', 'probes', 'service-accounts', 'system-leader-election', 'system-node-high', 'system-nodes'];
  const deadline = Date.now() + 60_000;
  while ((await names('prioritylevelconfigurations')).length < levelNames.length || (await names('flowschemas')).length < schemaNames.length) {
    assert.ok(Date.now() < deadline, 'the bootstrap objects were not made');
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(await names('prioritylevelconfigurations'), levelNames);
  assert.deepEqual(await names('flowschemas'), schemaNames);
  const items = (await rest.request('GET', `${FLOWCONTROL}/flowschemas`)).json().items as Item[];
  for (const item of items) assert.equal(item.metadata.annotations['apf.kubernetes.io/autoupdate-spec'], 'true', item.metadata.name);

  // An operator turns autoupdate off and changes the mandatory catch-all schema: the next
  // maintenance pass restores both (kube stomps changes to mandatory objects).
  const catchAll = (await rest.request('GET', `${FLOWCONTROL}/flowschemas/catch-all`)).json();
  const changed = structuredClone(catchAll) as { metadata: { annotations: Record<string, string> }; spec: { matchingPrecedence: number } };
  changed.metadata.annotations['apf.kubernetes.io/autoupdate-spec'] = 'false';
  changed.spec.matchingPrecedence = 9999;
  const put = await rest.request('PUT', `${FLOWCONTROL}/flowschemas/catch-all`, { body: changed });
  assert.equal(put.status, 200, put.body.toString());
  const restoredBy = Date.now() + 60_000;
  for (;;) {
    const now = (await rest.request('GET', `${FLOWCONTROL}/flowschemas/catch-all`)).json() as typeof changed;
    if (now.spec.matchingPrecedence === 10000) {
      assert.equal(now.metadata.annotations['apf.kubernetes.io/autoupdate-spec'], 'true');
      break;
    }
    assert.ok(Date.now() < restoredBy, 'the mandatory catch-all FlowSchema was not restored');
    await new Promise((r) => setTimeout(r, 200));
  }
});

test('answers name the matched FlowSchema and PriorityLevelConfiguration by UID; system:masters is exempt', async () => {
  const [globalFs, globalPl, exemptFs, exemptPl] = await Promise.all([
    uidOf('flowschemas', 'global-default'),
    uidOf('prioritylevelconfigurations', 'global-default'),
    uidOf('flowschemas', 'exempt'),
    uidOf('prioritylevelconfigurations', 'exempt'),
  ]);
  // The gateway follows the objects through the watch service: their UIDs arrive shortly after start.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const user = await rest.request('GET', CONFIGMAPS, { headers: as('quiet') });
    assert.equal(user.status, 200);
    if (user.headers[FS_UID] === globalFs) {
      assert.equal(user.headers[PL_UID], globalPl);
      break;
    }
    assert.ok(Date.now() < deadline, `headers: ${String(user.headers[FS_UID])}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const admin = await rest.request('GET', CONFIGMAPS);
  assert.equal(admin.headers[FS_UID], exemptFs);
  assert.equal(admin.headers[PL_UID], exemptPl);
});

test('a watch gives its seat back once started: the level\'s one seat is free for the next request', async () => {
  const controller = new AbortController();
  const events = rest.watch(`${CONFIGMAPS}?watch=true`, controller.signal, as('quiet'));
  try {
    // A configmap made now is the watch's first event: the stream has started.
    const created = rest.request('POST', CONFIGMAPS, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'apf-watched' } } });
    const first = await events.next();
    assert.equal((await created).status, 201);
    assert.equal((first.value as Record<string, unknown>).type, 'ADDED');
    const next = await rest.request('GET', CONFIGMAPS, { headers: as('quiet') });
    assert.equal(next.status, 200);
  } finally {
    controller.abort();
    await events.return(undefined);
  }
});

/** Sends GETs as `user` over HTTP/2, keeping `inFlight` outstanding until stopped; counts answers by status. */
function flood(
  user: string,
  inFlight: number,
): { stop(): Promise<void>; counts: Map<number, number>; retryAfter: Set<string>; bodies: Set<string>; firstRejection: Promise<void>; servedMs: number[] } {
  const counts = new Map<number, number>();
  /** Latencies of the flooder's answered (200) requests that came back once its queues were full (after its first rejection). */
  const servedMs: number[] = [];
  let saturated = false;
  const retryAfter = new Set<string>();
  const bodies = new Set<string>();
  let stopped = false;
  let rejected!: () => void;
  const firstRejection = new Promise<void>((r) => (rejected = r));
  // A session carries at most 100 streams (the gateway's HTTP/2 limit).
  const sessions: ClientHttp2Session[] = [];
  for (let i = 0; i < Math.ceil(inFlight / 100); i++) {
    const session = connect(`https://${plane.addresses.https}`, { ca });
    session.on('error', () => {});
    sessions.push(session);
  }
  const one = (session: ClientHttp2Session): Promise<void> =>
    new Promise((done) => {
      const start = performance.now();
      const stream = session.request({ ':path': CONFIGMAPS, authorization: `Bearer ${adminToken}`, 'impersonate-user': user, accept: 'application/json' });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
        if (status === 429) retryAfter.add(String(headers['retry-after']));
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('close', () => {
        if (status !== 0) counts.set(status, (counts.get(status) ?? 0) + 1);
        if (status === 200 && saturated && !stopped) servedMs.push(performance.now() - start);
        if (status === 429) {
          bodies.add(Buffer.concat(chunks).toString());
          saturated = true;
          rejected();
        }
        done();
      });
      stream.on('error', () => {});
      stream.end();
    });
  const workers = Array.from({ length: inFlight }, async (_, i) => {
    const session = sessions[i % sessions.length]!;
    while (!stopped && !session.destroyed) {
      await one(session);
      // A refused flooder comes back soon, but not in a busy loop that only measures this machine's CPU.
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  return {
    counts,
    retryAfter,
    bodies,
    firstRejection,
    servedMs,
    async stop() {
      stopped = true;
      // Requests still queued leave their queues as their streams close.
      for (const session of sessions) session.destroy();
      await Promise.all(workers);
    },
  };
}

/** The value of the series `name` with (at least) these labels in a Prometheus text body; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const set = line.slice(name.length + 1, close);
    if (Object.entries(labels).every(([k, v]) => set.split(',').includes(`${k}="${v}"`))) return Number(line.slice(close + 1).trim().split(' ')[0]);
  }
  return undefined;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Infinity;
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

test('one user floods: the flood gets 429 with Retry-After, a second user of the same level stays served', async (t) => {
  const flooder = flood('flooder', FLOOD_IN_FLIGHT);
  try {
    await Promise.race([
      flooder.firstRejection,
      new Promise((_, fail) => setTimeout(() => fail(new Error(`no 429 within 60 s: ${JSON.stringify([...flooder.counts])}`)), 60_000).unref()),
    ]);
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const start = performance.now();
      const r = await rest.request('GET', CONFIGMAPS, { headers: as('quiet') });
      latencies.push(performance.now() - start);
      assert.equal(r.status, 200, `the quiet user's request ${i} got ${r.status}: ${r.body.toString()}`);
    }
    // The admin (system:masters, exempt) is answered meanwhile too.
    const admin = await rest.request('GET', CONFIGMAPS);
    assert.equal(admin.status, 200);
    const quietP99 = p99(latencies);
    const flooderMedian = median(flooder.servedMs);
    t.diagnostic(`quiet user p99 ${quietP99.toFixed(0)} ms; flooder's served median ${flooderMedian.toFixed(0)} ms of ${flooder.servedMs.length}`);
    assert.ok(flooder.servedMs.length >= 5, `the flooder was served ${flooder.servedMs.length} times while saturated`);
    assert.ok(quietP99 < flooderMedian, `the quiet user's p99 ${quietP99.toFixed(0)} ms against the flooder's median ${flooderMedian.toFixed(0)} ms`);
    // And a generous absolute bound, so that a flood slowing everyone alike cannot pass.
    assert.ok(quietP99 < 5000, `the quiet user's p99 ${quietP99.toFixed(0)} ms`);
    // Metrics while the flood runs: queued requests of the flooder's schema are visible.
    const metrics = await rest.request('GET', '/metrics', { headers: { Accept: 'text/plain' } });
    assert.equal(metrics.status, 200);
    const text = metrics.body.toString();
    assert.ok(sample(text, 'apiserver_flowcontrol_rejected_requests_total', { priority_level: 'global-default', flow_schema: 'global-default', reason: 'queue-full' })! > 0);
    assert.ok(sample(text, 'apiserver_flowcontrol_dispatched_requests_total', { priority_level: 'global-default', flow_schema: 'global-default' })! > 0);
    assert.ok(sample(text, 'apiserver_flowcontrol_dispatched_requests_total', { priority_level: 'exempt', flow_schema: 'exempt' })! > 0);
    assert.ok(sample(text, 'apiserver_flowcontrol_current_inqueue_requests', { priority_level: 'global-default', flow_schema: 'global-default' })! > 0);
    assert.ok(sample(text, 'apiserver_flowcontrol_current_executing_requests', { priority_level: 'global-default', flow_schema: 'global-default' })! >= 0);
    assert.ok(sample(text, 'apiserver_flowcontrol_request_wait_duration_seconds_count', { priority_level: 'global-default', flow_schema: 'global-default', execute: 'true' })! > 0);
    assert.equal(sample(text, 'apiserver_flowcontrol_nominal_limit_seats', { priority_level: 'global-default' }), 1);
    assert.equal(sample(text, 'apiserver_flowcontrol_nominal_limit_seats', { priority_level: 'exempt' }), 0);
  } finally {
    await flooder.stop();
  }
  // The flood gone, every seat and queue place it held is given back on every replica.
  const level = { priority_level: 'global-default', flow_schema: 'global-default' };
  for (const replica of [rest, rest2]) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const metrics = await replica.request('GET', '/metrics', { headers: { Accept: 'text/plain' } });
      assert.equal(metrics.status, 200);
      const text = metrics.body.toString();
      const inQueue = sample(text, 'apiserver_flowcontrol_current_inqueue_requests', level) ?? 0;
      const executing = sample(text, 'apiserver_flowcontrol_current_executing_requests', level) ?? 0;
      if (inQueue === 0 && executing === 0) break;
      assert.ok(Date.now() < deadline, `global-default still has ${inQueue} queued and ${executing} executing after the flood`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok((flooder.counts.get(429) ?? 0) > 0, JSON.stringify([...flooder.counts]));
  assert.ok((flooder.counts.get(200) ?? 0) > 0, 'the flooder is served too, at its share');
  assert.deepEqual([...flooder.bodies], ['Too many requests, please try again later.\n']);
  for (const value of flooder.retryAfter) assert.match(value, /^[1-9]\d*$/);
});

test('objects created while running apply on every replica; a schema\'s Dangling condition says whether its level exists', async () => {
  const schema = {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name: 'apf-e2e-special' },
    spec: {
      priorityLevelConfiguration: { name: 'apf-e2e-level' },
      matchingPrecedence: 500,
      distinguisherMethod: { type: 'ByUser' },
      rules: [{ subjects: [{ kind: 'User', user: { name: 'special' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'] }] }],
    },
  };
  const created = await rest.request('POST', `${FLOWCONTROL}/flowschemas`, { body: schema });
  assert.equal(created.status, 201, created.body.toString());
  const schemaUid = String((created.json().metadata as Record<string, unknown>).uid);
  const dangling = async (): Promise<Record<string, unknown> | undefined> => {
    const got = (await rest.request('GET', `${FLOWCONTROL}/flowschemas/apf-e2e-special`)).json();
    const conditions = ((got.status as Record<string, unknown> | undefined)?.conditions ?? []) as Record<string, unknown>[];
    return conditions.find((c) => c.type === 'Dangling');
  };
  const until = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, what);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // Its level does not exist: the schema is ignored (the user stays in global-default) and marked.
  await until('Dangling True', async () => (await dangling())?.status === 'True');
  assert.equal((await dangling())?.reason, 'NotFound');
  const before = await rest.request('GET', CONFIGMAPS, { headers: as('special') });
  assert.equal(before.status, 200, before.body.toString());
  assert.equal(before.headers[FS_UID], await uidOf('flowschemas', 'global-default'));
  // The level appears: the schema applies, and its condition turns False.
  const level = await rest.request('POST', `${FLOWCONTROL}/prioritylevelconfigurations`, {
    body: {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'PriorityLevelConfiguration',
      metadata: { name: 'apf-e2e-level' },
      spec: { type: 'Limited', limited: { nominalConcurrencyShares: 10, limitResponse: { type: 'Reject' } } },
    },
  });
  assert.equal(level.status, 201, level.body.toString());
  const levelUid = String((level.json().metadata as Record<string, unknown>).uid);
  for (const replica of [rest, rest2]) {
    await until('the new schema applies', async () => (await replica.request('GET', CONFIGMAPS, { headers: as('special') })).headers[FS_UID] === schemaUid);
    const after = await replica.request('GET', CONFIGMAPS, { headers: as('special') });
    assert.equal(after.status, 200, after.body.toString());
    assert.equal(after.headers[PL_UID], levelUid);
  }
  await until('Dangling False', async () => (await dangling())?.status === 'False');
  assert.equal((await dangling())?.reason, 'Found');
  // kubectl's columns come from the server's Table.
  const table = await rest.request('GET', `${FLOWCONTROL}/flowschemas/apf-e2e-special`, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  const columns = (table.json().columnDefinitions as { name: string }[]).map((c) => c.name);
  assert.deepEqual(columns, ['Name', 'PriorityLevel', 'MatchingPrecedence', 'DistinguisherMethod', 'Age', 'MissingPL']);
  const cells = (table.json().rows as { cells: unknown[] }[])[0]!.cells;
  assert.deepEqual([cells[0], cells[1], cells[2], cells[3], cells[5]], ['apf-e2e-special', 'apf-e2e-level', 500, 'ByUser', 'False']);
});
