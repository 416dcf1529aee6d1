/**
 * What the front doors tell request observers (services/gateway/core/observe.ts), at the real
 * HTTPS front door and typed gRPC API over an in-process pipeline: one record per request with
 * kube's verb, the resource, scope, who (and whom they impersonate), the authorizer's decision,
 * the answer's code and the request's trace; the stages in order (a watch's response start
 * included); the Audit-Id header; the k8s.* attributes on the request's span; and request
 * metrics whose series a client cannot multiply by naming what is not served.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { createLogger } from '../../lib/log.ts';
import { Metrics } from '../../lib/metrics.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import type { Attributes, AuthenticationResult, AuthorizationResult, Credentials, UserInfo } from '../../services/auth/api.ts';
import { RequestObservers, type ApiRequest, type RequestObserver } from '../../services/gateway/core/observe.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { RequestMetrics } from '../../services/gateway/core/request-metrics.ts';
import { startTestFrontDoor, type TestFrontDoor } from '../support/front-door.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';

const USERS: Record<string, UserInfo> = {
  'alice-token': { username: 'alice', uid: 'alice-uid', groups: ['devs', 'system:authenticated'] },
  'boss-token': { username: 'boss', uid: 'boss-uid', groups: ['system:authenticated'] },
};

/** Records every stage of every request. */
class Recorder implements RequestObserver {
  readonly stages: { stage: string; request: ApiRequest }[] = [];
  readonly finishedRequests: ApiRequest[] = [];
  private waiters: (() => void)[] = [];
  received(r: ApiRequest): void {
    this.stages.push({ stage: 'received', request: r });
    this.wake();
  }
  responseStarted(r: ApiRequest): void {
    this.stages.push({ stage: 'responseStarted', request: r });
    this.wake();
  }
  finished(r: ApiRequest): void {
    this.stages.push({ stage: 'finished', request: { ...r } });
    this.finishedRequests.push({ ...r });
    this.wake();
  }
  /** Resolves once `predicate` holds over what was recorded (checked at each stage). */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}

let dir: string;
let door: TestFrontDoor | undefined;
let grpcAddress: string;
let port: number;
const recorder = new Recorder();
const metrics = new Metrics({ processMetrics: false });
const exporter = new InMemorySpanExporter();

function call(method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const h: Record<string, string> = { accept: 'application/json', ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  if (data !== undefined) h['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: h, agent: false, rejectUnauthorized: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'request-observers-'));
  const registry = builtinRegistry();
  const storage = new MemoryStorage({ kinds: registry });
  const logger = createLogger({ service: 'test', level: 'error' });
  const telemetry = createTelemetry({ serviceName: 'gateway', env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const schemas = generatedSchemaValidator();
  const authenticator = {
    authenticate(credentials: Credentials): Promise<AuthenticationResult> {
      const user = credentials.token === undefined ? undefined : USERS[credentials.token];
      return Promise.resolve(user === undefined ? { audiences: [], error: 'invalid bearer token' } : { user, audiences: [] });
    },
  };
  const authorizer = {
    authorize(a: Attributes): Promise<AuthorizationResult> {
      if (a.user.username === 'boss' || a.user.groups.includes('system:masters')) return Promise.resolve({ decision: 'Allow', reason: '' });
      // alice may do anything to configmaps in "demo", and nothing else; boss may impersonate.
      if (a.user.username === 'alice' && a.resource === 'configmaps' && a.namespace === 'demo') return Promise.resolve({ decision: 'Allow', reason: '' });
      return Promise.resolve({ decision: 'NoOpinion', reason: 'no rule' });
    },
  };
  const admission = buildAdmissionChain({ registry, storage, schemas });
  const watcher = new WatchService({ caches: new Map(), storage, registry, logger });
  const pipeline = new Pipeline({ authenticator, authorizer, admission, storage, watcher, kinds: registry, schemas, authCacheTtlMs: 0 });
  await storage.create({ group: '', resource: 'namespaces', namespace: '', name: 'demo' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  door = await startTestFrontDoor({ pipeline, registry, telemetry, logger, dataDir: dir, observers: new RequestObservers([recorder, new RequestMetrics(metrics)], logger) });
  ({ port, grpcAddress } = door);
});

after(async () => {
  await door?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The finished record of the request `auditId` names. */
function finishedOf(auditId: unknown): ApiRequest {
  assert.equal(typeof auditId, 'string');
  const found = recorder.finishedRequests.find((r) => r.auditId === auditId);
  assert.ok(found !== undefined, `no record for audit id ${String(auditId)}`);
  return found;
}

describe('request observers at the REST front door', () => {
  test('a create is one record: verb, resource, scope, user, decision, 201, trace; stages in order; span attributes', async () => {
    const answer = await call('POST', '/api/v1/namespaces/demo/configmaps?dryRun=All', 'alice-token', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } });
    assert.equal(answer.status, 201, answer.text);
    const r = finishedOf(answer.headers['audit-id']);
    assert.equal(r.protocol, 'rest');
    assert.equal(r.verb, 'create');
    assert.equal(r.method, 'POST');
    assert.equal(r.requestUri, '/api/v1/namespaces/demo/configmaps?dryRun=All');
    // The name comes from the body (kube's RequestInfo has none for a create); the scope stays.
    assert.deepEqual([r.group, r.version, r.resource, r.subresource, r.namespace, r.name, r.scope], ['', 'v1', 'configmaps', '', 'demo', 'one', 'namespace']);
    assert.equal(r.dryRun, true);
    assert.equal(r.contentType, 'application/json');
    assert.equal(r.user?.username, 'alice');
    assert.equal(r.impersonatedUser, undefined);
    assert.equal(r.authorizationDecision, 'allow');
    assert.equal(r.code, 201);
    assert.deepEqual(r.sourceIps, ['127.0.0.1']);
    assert.match(r.traceId, /^[0-9a-f]{32}$/);
    assert.equal(r.longRunning, false);
    const stages = recorder.stages.filter((s) => s.request.auditId === r.auditId).map((s) => s.stage);
    assert.deepEqual(stages, ['received', 'finished']);
    await new Promise((resolve) => setImmediate(resolve));
    const span = exporter.getFinishedSpans().find((s) => s.spanContext().traceId === r.traceId && s.kind === 1 && s.attributes['k8s.audit_id'] === r.auditId);
    assert.ok(span !== undefined, 'the request span');
    assert.equal(span.attributes['k8s.verb'], 'create');
    assert.equal(span.attributes['k8s.resource'], 'configmaps');
    assert.equal(span.attributes['k8s.namespace.name'], 'demo');
    assert.equal(span.attributes['k8s.object.name'], 'one');
    assert.equal(span.attributes['k8s.user.name'], 'alice');
    assert.equal(span.attributes['k8s.response.code'], 201);
  });

  test('a refused request: 403, decision forbid, the Status reason; a named get: scope resource', async () => {
    const refused = await call('GET', '/api/v1/namespaces/other/configmaps/x', 'alice-token');
    assert.equal(refused.status, 403);
    const r = finishedOf(refused.headers['audit-id']);
    assert.equal(r.verb, 'get');
    assert.equal(r.scope, 'resource');
    assert.equal(r.name, 'x');
    assert.equal(r.authorizationDecision, 'forbid');
    assert.equal(r.statusReason, 'Forbidden');
    assert.equal(r.code, 403);
  });

  test('an unauthenticated request: 401 and no user', async () => {
    const answer = await call('GET', '/api/v1/namespaces/demo/configmaps', 'wrong-token');
    assert.equal(answer.status, 401);
    const r = finishedOf(answer.headers['audit-id']);
    assert.equal(r.user, undefined);
    assert.equal(r.code, 401);
    assert.equal(r.verb, 'list');
  });

  test('a non-resource request: the method as verb, no resource; a client Audit-ID is kept', async () => {
    const answer = await call('GET', '/version', 'boss-token', undefined, { 'audit-id': 'client-chosen-id' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['audit-id'], 'client-chosen-id');
    const r = finishedOf('client-chosen-id');
    assert.equal(r.verb, 'get');
    assert.equal(r.resourceRequest, false);
    assert.equal(r.scope, '');
  });

  test('impersonation: the impersonator is the user, the impersonated user recorded', async () => {
    const answer = await call('GET', '/api/v1/namespaces/demo/configmaps', 'boss-token', undefined, { 'impersonate-user': 'alice', 'impersonate-group': 'devs' });
    assert.equal(answer.status, 200, answer.text);
    const r = finishedOf(answer.headers['audit-id']);
    assert.equal(r.user?.username, 'boss');
    assert.equal(r.impersonatedUser?.username, 'alice');
  });

  test('a watch: long-running, its response start seen before it finishes', async () => {
    const controller = new AbortController();
    const auditId = 'watch-audit-id';
    const done = new Promise<void>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'GET', path: '/api/v1/namespaces/demo/configmaps?watch=1', headers: { authorization: 'Bearer alice-token', 'audit-id': auditId }, agent: false, rejectUnauthorized: false, signal: controller.signal },
        (res) => {
          res.on('data', () => {});
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        },
      );
      req.on('error', () => resolve());
      req.end();
    });
    await recorder.until(() => recorder.stages.some((s) => s.stage === 'responseStarted' && s.request.auditId === auditId));
    controller.abort();
    await done;
    await recorder.until(() => recorder.finishedRequests.some((r) => r.auditId === auditId));
    const r = finishedOf(auditId);
    assert.equal(r.verb, 'watch');
    assert.equal(r.longRunning, true);
    assert.deepEqual(
      recorder.stages.filter((s) => s.request.auditId === auditId).map((s) => s.stage),
      ['received', 'responseStarted', 'finished'],
    );
    assert.equal(r.code, 200, 'a watch its client ended was answered');
    assert.equal(r.clientGone, false);
  });

  test('a client that goes away before any answer: code 0 and client gone, not the default 200', async () => {
    const auditId = 'gone-audit-id';
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/namespaces/demo/configmaps',
      headers: { authorization: 'Bearer alice-token', 'audit-id': auditId, 'content-type': 'application/json', 'content-length': '1000' },
      agent: false,
      rejectUnauthorized: false,
    });
    req.on('error', () => {});
    // Half a body, then the client leaves while the server waits for the rest.
    req.write('{"apiVersion":"v1",');
    await recorder.until(() => recorder.stages.some((s) => s.stage === 'received' && s.request.auditId === auditId));
    req.destroy();
    await recorder.until(() => recorder.finishedRequests.some((r) => r.auditId === auditId));
    const r = finishedOf(auditId);
    assert.equal(r.code, 0);
    assert.equal(r.clientGone, true);
    assert.equal(r.verb, 'create');
  });
});

describe('request observers at the typed gRPC front door', () => {
  test('Resources Create and a refused Get: records as REST would have them', async () => {
    const Resources = loadApiProto().apiserver.v1.Resources;
    const client = new Resources(grpcAddress, grpc.credentials.createInsecure());
    try {
      const md = (token: string, auditId: string) => {
        const m = new grpc.Metadata();
        m.set('authorization', `Bearer ${token}`);
        m.set('audit-id', auditId);
        return m;
      };
      await new Promise<void>((resolve, reject) => {
        client.create(
          { ref: { group: '', version: 'v1', resource: 'configmaps', namespace: 'demo' }, object: Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'grpc-one' } })) },
          md('alice-token', 'grpc-create'),
          (err) => (err === null ? resolve() : reject(err)),
        );
      });
      const refused = await new Promise<grpc.ServiceError | null>((resolve) => {
        client.get({ ref: { group: '', version: 'v1', resource: 'configmaps', namespace: 'other', name: 'x' } }, md('alice-token', 'grpc-get'), (err) => resolve(err));
      });
      assert.equal(refused?.code, grpc.status.PERMISSION_DENIED);
    } finally {
      client.close();
    }
    const created = finishedOf('grpc-create');
    assert.equal(created.protocol, 'grpc');
    assert.equal(created.requestUri, '/apiserver.v1.Resources/Create');
    assert.deepEqual([created.verb, created.resource, created.namespace, created.scope, created.code], ['create', 'configmaps', 'demo', 'namespace', 201]);
    assert.equal(created.name, 'grpc-one');
    assert.equal(created.user?.username, 'alice');
    assert.equal(created.authorizationDecision, 'allow');
    assert.deepEqual(created.sourceIps, ['127.0.0.1']);
    assert.match(created.traceId, /^[0-9a-f]{32}$/);
    const got = finishedOf('grpc-get');
    assert.deepEqual([got.verb, got.scope, got.code, got.statusReason, got.authorizationDecision], ['get', 'resource', 403, 'Forbidden', 'forbid']);
  });
});

/** How many series apiserver_request_total and apiserver_request_duration_seconds have. */
async function requestSeries(): Promise<{ total: number; duration: number }> {
  const { body } = await metrics.render(undefined);
  const lines = body.split('\n');
  return {
    total: lines.filter((l) => l.startsWith('apiserver_request_total{')).length,
    duration: lines.filter((l) => l.startsWith('apiserver_request_duration_seconds_count{')).length,
  };
}

describe('request metrics', () => {
  test('made-up resources and subresources, over REST and gRPC, add no series', async () => {
    const Resources = loadApiProto().apiserver.v1.Resources;
    const client = new Resources(grpcAddress, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer boss-token');
    const grpcGet = (ref: Record<string, string>) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        client.get({ ref: { group: '', version: 'v1', namespace: 'demo', name: 'x', ...ref } }, md, (err) => resolve(err));
      });
    const made = () => `x${crypto.randomUUID().slice(0, 8)}`;
    /** One request of each shape, with a name nobody serves. */
    const round = async () => {
      const sub = await call('GET', `/api/v1/namespaces/demo/configmaps/x/${made()}`, 'boss-token');
      assert.equal(sub.status, 404, sub.text);
      const path = await call('GET', `/apis/${made()}/v1/namespaces/demo/${made()}/x`, 'boss-token');
      assert.equal(path.status, 404, path.text);
      assert.equal((await grpcGet({ resource: made() }))?.code, grpc.status.NOT_FOUND);
      assert.equal((await grpcGet({ group: made(), resource: 'configmaps' }))?.code, grpc.status.NOT_FOUND);
      assert.equal((await grpcGet({ resource: 'configmaps', subresource: made() }))?.code, grpc.status.NOT_FOUND);
    };
    try {
      await round();
      const before = await requestSeries();
      assert.ok(before.total > 0 && before.duration > 0);
      for (let i = 0; i < 100; i++) await round();
      assert.deepEqual(await requestSeries(), before);
    } finally {
      client.close();
    }
    // What is served is still named.
    const served = await call('GET', '/api/v1/namespaces/demo/pods/x/status', 'boss-token');
    assert.equal(served.status, 404, served.text);
    const r = finishedOf(served.headers['audit-id']);
    assert.deepEqual([r.verb, r.resource, r.subresource], ['get', 'pods', 'status']);
  });
});
