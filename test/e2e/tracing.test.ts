/**
 * One create is one trace: a span in each service it crosses, parented across every gRPC hop,
 * through etcd and the Redis publish to the watch service, exported over OTLP by the real
 * exporters, configured only by the standard OTEL_* variables; and a watcher's delivery of the
 * change is a span of the watch's own trace, linked to the create's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { createKubectl } from '../support/kubectl.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

let dir: string;
let plane: ControlPlane;
let receiver: OtlpReceiver;
let rest: RestClient;
let token: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-tracing-'));
  receiver = await startOtlpReceiver();
  plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
  const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, token);
});

after(async () => {
  await plane?.stop();
  await receiver?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Renders a span tree as indented "service: name" lines, children in start order by name. */
function render(spans: ReceivedSpan[], parentId: string, depth = 0): string[] {
  return spans
    .filter((s) => s.parentSpanId === parentId)
    .sort((a, b) => `${a.service}:${a.name}`.localeCompare(`${b.service}:${b.name}`))
    .flatMap((s) => [`${'  '.repeat(depth)}${s.service}: ${s.name}`, ...render(spans, s.spanId, depth + 1)]);
}

async function tracedRequest(method: string, path: string, body: unknown, expect: number, complete: (spans: ReceivedSpan[]) => boolean): Promise<{ spans: ReceivedSpan[]; tree: string[]; parentId: string }> {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  const r = await rest.request(method, path, { body, headers: { traceparent: `00-${traceId}-${parentId}-01` } });
  assert.equal(r.status, expect, r.body.toString());
  const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
  // The gateway's span ends after the response is written, so it may be exported last.
  await receiver.waitFor(() => complete(inTrace()) && inTrace().some((s) => s.parentSpanId === parentId), 10_000);
  const spans = inTrace();
  return { spans, tree: render(spans, parentId), parentId };
}

function listing(spans: ReceivedSpan[]): string {
  return spans.map((s) => `${s.service}\t${s.name}\t${s.durationMs.toFixed(2)} ms`).join('\n');
}

test('the span tree of a create crosses gateway, auth, admission, storage and etcd', async (t) => {
  // The first request: the gateway's authn/authz caches are cold, so every service is crossed.
  const { spans, tree, parentId } = await tracedRequest(
    'POST',
    '/api/v1/namespaces',
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'traced' } },
    201,
    // The change's publish to Redis and its receipt by the watch service are in the trace too.
    (s) => s.length >= 12 && s.some((x) => x.service === 'watch' && x.name.startsWith('receive ')),
  );
  t.diagnostic(`spans of one create:\n${listing(spans)}`);
  assert.deepEqual(tree, [
    'gateway: POST /api/v1/namespaces',
    '  gateway: apiserver.v1.Admission/Admit',
    '    admission: apiserver.v1.Admission/Admit',
    '  gateway: apiserver.v1.Authentication/Authenticate',
    '    auth: apiserver.v1.Authentication/Authenticate',
    '  gateway: apiserver.v1.Authorization/Authorize',
    '    auth: apiserver.v1.Authorization/Authorize',
    '  gateway: apiserver.v1.Storage/Create',
    '    storage: apiserver.v1.Storage/Create',
    '      storage: etcd Txn',
    '      storage: publish apiserver/events/namespaces',
    '        watch: receive apiserver/events/namespaces',
  ]);
  const root = spans.find((s) => s.parentSpanId === parentId);
  assert.equal(root?.kind, 2, 'the gateway span is a SERVER span');
  assert.equal(root?.attributes['http.response.status_code'], 201);
  const etcd = spans.find((s) => s.name === 'etcd Txn');
  assert.equal(etcd?.attributes['db.system.name'], 'etcd');
  assert.equal(etcd?.kind, 3, 'the etcd span is a CLIENT span');
  // Children start after, and end before, their parents; except the publish and what follows
  // it, which happen after the write answered (the changefeed follows etcd's watch).
  for (const s of spans) {
    const parent = spans.find((p) => p.spanId === s.parentSpanId);
    if (parent === undefined || s.name.startsWith('publish ') || s.name.startsWith('receive ')) continue;
    assert.ok(s.durationMs <= parent.durationMs + 1, `${s.name} outlasts ${parent.name}`);
  }
});

test('a namespaced create checks its namespace in admission\'s cache: one etcd request, no read through storage', async () => {
  // Admission's namespace cache follows namespaces through the watch service; until it has seen
  // "traced" (created by the first test), a create falls back to a live read through storage, as
  // kube's NamespaceLifecycle does. Creates are repeated until one is answered from the cache.
  const ATTEMPTS = 20;
  let tree: string[] = [];
  for (let i = 0; i < ATTEMPTS; i++) {
    ({ tree } = await tracedRequest(
      'POST',
      '/api/v1/namespaces/traced/configmaps',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: i === 0 ? 'cm' : `cm-${i}` }, data: { k: 'v' } },
      201,
      (s) =>
        s.some((x) => x.service === 'admission' && x.name.endsWith('Admit')) &&
        s.some((x) => x.service === 'storage' && x.name === 'etcd Txn') &&
        s.some((x) => x.service === 'watch' && x.name.startsWith('receive ')),
    ));
    if (!tree.some((line) => line.includes('admission: apiserver.v1.Storage/Get'))) break;
  }
  // Authentication comes from the gateway's short-lived cache now; authorization of this new
  // namespace may or may not (it is asked once per user, verb, resource and namespace).
  assert.deepEqual(tree.filter((line) => !line.includes('Authoriz')), [
    'gateway: POST /api/v1/namespaces/{namespace}/configmaps',
    '  gateway: apiserver.v1.Admission/Admit',
    '    admission: apiserver.v1.Admission/Admit',
    '  gateway: apiserver.v1.Storage/Create',
    '    storage: apiserver.v1.Storage/Create',
    '      storage: etcd Txn',
    '      storage: publish apiserver/events/configmaps',
    '        watch: receive apiserver/events/configmaps',
  ], `none of ${ATTEMPTS} creates was admitted from the namespace cache`);
});

test('a refused token is traced to the auth service and never recorded', async () => {
  // A new token (not in the gateway's cache): the gateway asks the auth service.
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  const r = await rest.request('GET', '/api/v1/namespaces/traced/configmaps/cm', {
    token: 'unknown-token-for-tracing',
    headers: { traceparent: `00-${traceId}-${parentId}-01` },
  });
  assert.equal(r.status, 401);
  await receiver.waitFor(
    (all) => all.some((s) => s.traceId === traceId && s.service === 'auth') && all.some((s) => s.traceId === traceId && s.parentSpanId === parentId),
    10_000,
  );
  const tree = render(receiver.spans.filter((s) => s.traceId === traceId), parentId);
  assert.deepEqual(tree, [
    'gateway: GET /api/v1/namespaces/{namespace}/configmaps/{name}',
    '  gateway: apiserver.v1.Authentication/Authenticate',
    '    auth: apiserver.v1.Authentication/Authenticate',
  ]);
  // The token never appears in any span.
  assert.ok(!JSON.stringify(receiver.spans).includes('unknown-token-for-tracing'));
});

test('a watch multiplexed over the shared stream stays in its request\'s trace, with its initial list', async () => {
  const { tree } = await tracedRequest(
    'GET',
    '/api/v1/namespaces/traced/configmaps?watch=true&timeoutSeconds=1',
    undefined,
    200,
    (s) => s.some((x) => x.service === 'watch' && x.name === 'apiserver.v1.Watch/WatchStream') && s.some((x) => x.service === 'storage' && x.name.startsWith('etcd ')),
  );
  assert.deepEqual(tree.filter((line) => !line.includes('Authoriz') && !line.includes('Authenticat')).slice(0, 5), [
    'gateway: GET /api/v1/namespaces/{namespace}/configmaps',
    '  gateway: apiserver.v1.Watch/WatchStream',
    '    watch: apiserver.v1.Watch/WatchStream',
    '      watch: apiserver.v1.Storage/List',
    '        storage: apiserver.v1.Storage/List',
  ]);
});

test('kubectl create and kubectl get -w: one trace through all five services, etcd and Redis, and the delivery linked to it', async (t) => {
  const ns = 'traced-watch';
  assert.equal((await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } })).status, 201);
  assert.equal(
    (await rest.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'listed' } } })).status,
    201,
  );
  // The watch with the token's kubeconfig; the create with the client certificate's, whose
  // user the gateway has not met yet, so authentication and authorization reach the auth service.
  const watcher = createKubectl(plane.kubeconfig);
  const writer = createKubectl(join(dir, 'admin-cert.kubeconfig'));
  const watch = watcher.spawn(['get', 'configmaps', '-n', ns, '-w']);
  t.after(() => watch.stop());
  await watch.waitFor((lines) => lines.some((l) => l.startsWith('listed')), 30_000);
  const created = await writer(['create', 'configmap', 'watched-cm', '-n', ns, '--from-literal=a=b']);
  assert.equal(created.code, 0, created.stderr);
  await watch.waitFor((lines) => lines.some((l) => l.startsWith('watched-cm')), 30_000);

  // The create's trace: the one whose etcd transaction wrote the ConfigMap's key.
  const isWrite = (s: ReceivedSpan) => s.name === 'etcd Txn' && String(s.attributes['db.etcd.key']).endsWith(`/configmaps/${ns}/watched-cm`);
  await receiver.waitFor((all) => all.some(isWrite), 15_000);
  const traceId = (receiver.spans.find(isWrite) as ReceivedSpan).traceId;
  const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
  const isDelivery = (s: ReceivedSpan) => s.service === 'gateway' && s.name === 'watch deliver' && s.links.some((l) => l.traceId === traceId);
  await receiver.waitFor(
    (all) =>
      ['gateway', 'auth', 'admission', 'storage', 'watch'].every((service) => inTrace().some((s) => s.service === service)) &&
      inTrace().some((s) => s.name.startsWith('receive ')) &&
      inTrace().some((s) => s.service === 'gateway' && s.kind === 2) &&
      all.some(isDelivery),
    15_000,
  );
  const spans = inTrace();
  t.diagnostic(`spans of kubectl create:\n${listing(spans)}`);
  const root = spans.find((s) => s.service === 'gateway' && s.kind === 2) as ReceivedSpan;
  assert.equal(root.parentSpanId, '', 'kubectl sends no trace context: the gateway starts the trace');
  assert.equal(root.attributes['http.response.status_code'], 201);
  // The Kubernetes attributes platform teams filter on.
  assert.equal(root.attributes['k8s.verb'], 'create');
  assert.equal(root.attributes['k8s.group'], '');
  assert.equal(root.attributes['k8s.resource'], 'configmaps');
  assert.equal(root.attributes['k8s.namespace.name'], ns);
  // A create names no object in its URL (kube's RequestInfo), so the span has no k8s.object.name.
  assert.equal(root.attributes['k8s.user.name'], 'kubernetes-admin');
  assert.equal(Number(root.attributes['k8s.response.code']), 201);

  // Every hop after the gRPC semantic conventions.
  const rpcSpans = spans.filter((s) => s.attributes['rpc.system'] !== undefined);
  assert.ok(rpcSpans.length >= 8, listing(rpcSpans));
  for (const s of rpcSpans) {
    assert.equal(s.attributes['rpc.system'], 'grpc', s.name);
    assert.equal(`${String(s.attributes['rpc.service'])}/${String(s.attributes['rpc.method'])}`, s.name);
    assert.equal(Number(s.attributes['rpc.grpc.status_code']), 0, s.name);
    if (s.kind === 3) {
      assert.match(String(s.attributes['server.address']), /^127\.0\.0\.1$/, `${s.service} ${s.name} server.address`);
      assert.ok(Number(s.attributes['server.port']) > 0, `${s.service} ${s.name} server.port`);
    } else {
      assert.equal(s.kind, 2, `${s.service} ${s.name} is CLIENT or SERVER`);
      assert.match(String(s.attributes['network.peer.address']), /^127\.0\.0\.1$/, `${s.service} ${s.name} network.peer.address`);
    }
  }
  assert.ok(spans.some((s) => s.service === 'auth' && s.kind === 2), 'the auth service served the create');

  // etcd: a CLIENT span of the database conventions.
  const etcd = spans.find(isWrite) as ReceivedSpan;
  assert.equal(etcd.kind, 3);
  assert.equal(etcd.attributes['db.system.name'], 'etcd');
  assert.equal(etcd.attributes['db.system'], 'etcd');
  assert.equal(etcd.attributes['db.operation.name'], 'Txn');
  assert.equal(etcd.attributes['server.address'], '127.0.0.1');

  // Redis: the publish is a PRODUCER child of the storage call that wrote, and the watch
  // service's receipt a CONSUMER child of the publish.
  const publish = spans.find((s) => s.name === 'publish apiserver/events/configmaps') as ReceivedSpan;
  assert.ok(publish !== undefined, listing(spans));
  assert.equal(publish.service, 'storage');
  assert.equal(publish.kind, 4);
  assert.equal(publish.attributes['messaging.system'], 'redis');
  assert.equal(publish.attributes['messaging.destination.name'], 'apiserver/events/configmaps');
  assert.equal(publish.attributes['messaging.operation.type'], 'send');
  assert.equal(spans.find((s) => s.spanId === publish.parentSpanId)?.name, 'apiserver.v1.Storage/Create');
  const receive = spans.find((s) => s.name === 'receive apiserver/events/configmaps') as ReceivedSpan;
  assert.equal(receive.service, 'watch');
  assert.equal(receive.kind, 5);
  assert.equal(receive.parentSpanId, publish.spanId);
  assert.equal(receive.attributes['messaging.system'], 'redis');
  assert.equal(receive.attributes['messaging.operation.type'], 'receive');

  // The delivery to kubectl: a span of the watch request's own trace (its gateway span's
  // child), linked to the watch service's receipt of the create's change, standing for the
  // stream's events so far.
  const delivery = receiver.spans.find(isDelivery) as ReceivedSpan;
  assert.deepEqual(delivery.links.map((l) => `${l.traceId}-${l.spanId}`), [`${traceId}-${receive.spanId}`]);
  assert.notEqual(delivery.traceId, traceId);
  // The watch request's span ends, and is exported, when its stream does.
  watch.stop();
  await receiver.waitFor((all) => all.some((s) => s.spanId === delivery.parentSpanId), 15_000);
  const watchRequest = receiver.spans.find((s) => s.spanId === delivery.parentSpanId);
  assert.equal(watchRequest?.name, 'GET /api/v1/namespaces/{namespace}/configmaps', 'a child of the watch request');
  assert.equal(delivery.attributes['k8s.resource'], 'configmaps');
  assert.equal(delivery.attributes['k8s.namespace.name'], ns);
  assert.equal(delivery.attributes['k8s.watch.event_type'], 'ADDED');
  assert.ok(Number(delivery.attributes['k8s.watch.events']) >= 1);

  // Nothing exported names a credential.
  const exported = receiver.exports.join('\n');
  assert.ok(token.length > 10);
  assert.ok(!exported.includes(token), 'the admin token appears in an exported span');
  // (Not the word alone: rbac.authorization.k8s.io is in etcd keys, Authorization in RPC names.)
  const header = /"key":"[^"]*authorization[^"]*"|bearer\s+\S/i.exec(exported);
  assert.equal(header, null, 'an authorization header appears in an exported span');
});
