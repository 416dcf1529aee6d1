/**
 * The request objects the audit log records at Request level, as kube's: a patch as it was
 * sent (JSON, or the object an apply YAML body decodes to), a delete's DeleteOptions as a
 * meta.k8s.io/v1 DeleteOptions, never a Secret's; over the typed gRPC API too when the policy
 * rule that asks for them names the user (known only once the call's handler authenticated it).
 * The real HTTPS front door and gRPC Resources API over an in-process pipeline.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { AuditEvent } from '../../lib/audit/event.ts';
import { parsePolicy } from '../../lib/audit/policy.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { createLogger } from '../../lib/log.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import type { AuthenticationResult, AuthorizationResult, Credentials, UserInfo } from '../../services/auth/api.ts';
import { AuditObserver } from '../../services/gateway/core/audit.ts';
import { RequestObservers } from '../../services/gateway/core/observe.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { startTestFrontDoor, type TestFrontDoor } from '../support/front-door.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';

const USERS: Record<string, UserInfo> = {
  'alice-token': { username: 'alice', uid: 'alice-uid', groups: ['system:authenticated'] },
};

/** Request level for alice only (a rule naming a user), Metadata for everyone else; only the ResponseComplete stage. */
const POLICY = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Request
    users: [alice]
  - level: Metadata
`);

const events: AuditEvent[] = [];
let dir: string;
let door: TestFrontDoor | undefined;
let grpcAddress: string;
let port: number;

function call(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const h: Record<string, string> = { accept: 'application/json', authorization: 'Bearer alice-token' };
  if (body !== undefined) {
    h['content-type'] = contentType;
    h['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: h, agent: false, rejectUnauthorized: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : Buffer.from(body));
  });
}

/** The ResponseComplete event of the request `auditId` names (written as the request finished, before its answer). */
function eventOf(auditId: unknown): AuditEvent {
  assert.equal(typeof auditId, 'string');
  const found = events.find((e) => e.auditID === auditId && e.stage === 'ResponseComplete');
  assert.ok(found !== undefined, `no event for audit id ${String(auditId)}`);
  return found;
}

async function create(resource: string, object: Record<string, unknown>): Promise<void> {
  const answer = await call('POST', `/api/v1/namespaces/demo/${resource}`, JSON.stringify(object));
  assert.equal(answer.status, 201, answer.text);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audit-bodies-'));
  const registry = builtinRegistry();
  const storage = new MemoryStorage({ kinds: registry });
  const logger = createLogger({ service: 'test', level: 'error' });
  const telemetry = createTelemetry({ serviceName: 'gateway', env: {} });
  const schemas = generatedSchemaValidator();
  const authenticator = {
    authenticate(credentials: Credentials): Promise<AuthenticationResult> {
      const user = credentials.token === undefined ? undefined : USERS[credentials.token];
      return Promise.resolve(user === undefined ? { audiences: [], error: 'invalid bearer token' } : { user, audiences: [] });
    },
  };
  const authorizer = { authorize: (): Promise<AuthorizationResult> => Promise.resolve({ decision: 'Allow', reason: '' }) };
  const admission = buildAdmissionChain({ registry, storage, schemas });
  const watcher = new WatchService({ caches: new Map(), storage, registry, logger });
  const pipeline = new Pipeline({ authenticator, authorizer, admission, storage, watcher, kinds: registry, schemas, authCacheTtlMs: 0 });
  await storage.create({ group: '', resource: 'namespaces', namespace: '', name: 'demo' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  const sink = { write: (e: AuditEvent) => void events.push(e), close: async () => {} };
  door = await startTestFrontDoor({ pipeline, registry, telemetry, logger, dataDir: dir, observers: new RequestObservers([new AuditObserver({ policy: POLICY, sink })], logger) });
  ({ port, grpcAddress } = door);
});

after(async () => {
  await door?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('audit request objects over REST', () => {
  test('a merge patch and a JSON patch are recorded as sent; the patch names no object of the reference', async () => {
    await create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patched' }, data: { a: '1' } });
    const merge = { metadata: { labels: { tier: 'web' }, resourceVersion: '' }, data: { b: '2' } };
    const merged = await call('PATCH', '/api/v1/namespaces/demo/configmaps/patched', JSON.stringify(merge), 'application/merge-patch+json');
    assert.equal(merged.status, 200, merged.text);
    const m = eventOf(merged.headers['audit-id']);
    assert.equal(m.level, 'Request');
    assert.deepEqual(m.requestObject, merge);
    assert.deepEqual(m.objectRef, { resource: 'configmaps', namespace: 'demo', name: 'patched', apiVersion: 'v1' });

    const operations = [{ op: 'add', path: '/data/c', value: '3' }];
    const jsonPatched = await call('PATCH', '/api/v1/namespaces/demo/configmaps/patched', JSON.stringify(operations), 'application/json-patch+json');
    assert.equal(jsonPatched.status, 200, jsonPatched.text);
    assert.deepEqual(eventOf(jsonPatched.headers['audit-id']).requestObject, operations);
  });

  test('a patch of a missing object (404) is recorded as sent, as kube logs the patch once it has read it', async () => {
    const merge = { data: { b: '2' } };
    const missing = await call('PATCH', '/api/v1/namespaces/demo/configmaps/missing', JSON.stringify(merge), 'application/merge-patch+json');
    assert.equal(missing.status, 404, missing.text);
    assert.deepEqual(eventOf(missing.headers['audit-id']).requestObject, merge);
  });

  test('an apply YAML body is recorded as the object it decodes to', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n';
    const applied = await call('PATCH', '/api/v1/namespaces/demo/configmaps/applied?fieldManager=tester', yaml, 'application/apply-patch+yaml');
    assert.equal(applied.status, 201, applied.text);
    assert.deepEqual(eventOf(applied.headers['audit-id']).requestObject, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { k: 'v' } });
  });

  test('a delete and a deletecollection record their DeleteOptions as meta.k8s.io/v1 DeleteOptions', async () => {
    await create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'doomed' } });
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, propagationPolicy: 'Background' };
    const deleted = await call('DELETE', '/api/v1/namespaces/demo/configmaps/doomed', JSON.stringify(body));
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(eventOf(deleted.headers['audit-id']).requestObject, { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', gracePeriodSeconds: 0, propagationPolicy: 'Background' });

    const all = await call('DELETE', '/api/v1/namespaces/demo/configmaps?dryRun=All&labelSelector=none%3Dsuch');
    assert.equal(all.status, 200, all.text);
    const e = eventOf(all.headers['audit-id']);
    assert.equal(e.verb, 'deletecollection');
    assert.deepEqual(e.requestObject, { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'] });
  });

  test('a Secret\'s patch and delete are capped at Metadata: no request object', async () => {
    await create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'credential' }, stringData: { password: 'p4ssw0rd' } });
    const patched = await call('PATCH', '/api/v1/namespaces/demo/secrets/credential', JSON.stringify({ stringData: { password: 'n3wp4ss' } }), 'application/merge-patch+json');
    assert.equal(patched.status, 200, patched.text);
    const deleted = await call('DELETE', '/api/v1/namespaces/demo/secrets/credential', JSON.stringify({ gracePeriodSeconds: 0 }));
    assert.equal(deleted.status, 200, deleted.text);
    for (const answer of [patched, deleted]) {
      const e = eventOf(answer.headers['audit-id']);
      assert.equal(e.level, 'Metadata');
      assert.equal(e.requestObject, undefined);
    }
    assert.ok(!JSON.stringify(events).includes('n3wp4ss'));
  });
});

describe('audit request objects over the typed gRPC API', () => {
  test('a rule naming the user keeps the bodies of an update, a patch and a delete (decided again once the user is known)', async () => {
    await create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-grpc' } });
    const Resources = loadApiProto().apiserver.v1.Resources;
    const client = new Resources(grpcAddress, grpc.credentials.createInsecure());
    const md = (auditId: string) => {
      const m = new grpc.Metadata();
      m.set('authorization', 'Bearer alice-token');
      m.set('audit-id', auditId);
      return m;
    };
    const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'demo', name: 'over-grpc' };
    const updated = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-grpc', namespace: 'demo' }, data: { k: 'v' } };
    const patch = { data: { k: 'w' } };
    try {
      await new Promise<void>((resolve, reject) => {
        client.update({ ref, object: Buffer.from(JSON.stringify(updated)) }, md('grpc-update'), (err) => (err === null ? resolve() : reject(err)));
      });
      await new Promise<void>((resolve, reject) => {
        client.patch({ ref, type: 'PATCH_TYPE_MERGE', patch: Buffer.from(JSON.stringify(patch)) }, md('grpc-patch'), (err) => (err === null ? resolve() : reject(err)));
      });
      await new Promise<void>((resolve, reject) => {
        client.delete({ ref, gracePeriodSeconds: '0' }, md('grpc-delete'), (err) => (err === null ? resolve() : reject(err)));
      });
    } finally {
      client.close();
    }
    const u = eventOf('grpc-update');
    assert.deepEqual([u.level, u.user.username], ['Request', 'alice']);
    assert.deepEqual(u.requestObject, updated);
    assert.deepEqual(eventOf('grpc-patch').requestObject, patch);
    assert.deepEqual(eventOf('grpc-delete').requestObject, { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', gracePeriodSeconds: 0 });
  });
});
