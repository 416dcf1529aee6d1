/**
 * One create is one trace: a span in each service it crosses, parented across every gRPC hop,
 * exported over OTLP by the real exporters, configured only by the standard OTEL_* variables.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

let dir: string;
let plane: ControlPlane;
let receiver: OtlpReceiver;
let rest: RestClient;

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
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
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
    (s) => s.length >= 10,
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
  ]);
  const root = spans.find((s) => s.parentSpanId === parentId);
  assert.equal(root?.kind, 2, 'the gateway span is a SERVER span');
  assert.equal(root?.attributes['http.response.status_code'], 201);
  const etcd = spans.find((s) => s.name === 'etcd Txn');
  assert.equal(etcd?.attributes['db.system.name'], 'etcd');
  assert.equal(etcd?.kind, 3, 'the etcd span is a CLIENT span');
  // Children start after, and end before, their parents.
  for (const s of spans) {
    const parent = spans.find((p) => p.spanId === s.parentSpanId);
    if (parent !== undefined) assert.ok(s.durationMs <= parent.durationMs + 1, `${s.name} outlasts ${parent.name}`);
  }
});

test('a namespaced create also traces the namespace check through storage', async () => {
  const { tree } = await tracedRequest(
    'POST',
    '/api/v1/namespaces/traced/configmaps',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { k: 'v' } },
    201,
    (s) => s.some((x) => x.service === 'admission' && x.name.includes('Storage/Get')) && s.some((x) => x.service === 'admission' && x.name.endsWith('Admit')) && s.filter((x) => x.name.startsWith('etcd ')).length >= 2,
  );
  // Authentication comes from the gateway's short-lived cache now; authorization of this new
  // namespace may or may not (it is asked once per user, verb, resource and namespace).
  assert.deepEqual(tree.filter((line) => !line.includes('Authoriz')), [
    'gateway: POST /api/v1/namespaces/{namespace}/configmaps',
    '  gateway: apiserver.v1.Admission/Admit',
    '    admission: apiserver.v1.Admission/Admit',
    '      admission: apiserver.v1.Storage/Get',
    '        storage: apiserver.v1.Storage/Get',
    '          storage: etcd Range',
    '  gateway: apiserver.v1.Storage/Create',
    '    storage: apiserver.v1.Storage/Create',
    '      storage: etcd Txn',
  ]);
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
