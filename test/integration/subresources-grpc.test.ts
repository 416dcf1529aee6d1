/**
 * Subresources over the wire, in one process: the typed Resources API reaches status, scale
 * and POST subresources through ref.subresource, and the admission service gets the
 * subresource over gRPC (a status write admitted remotely still keeps everything but status;
 * a Binding is not checked as a Pod). Authorization sees the subresource.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { StatusError } from '../../lib/errors.ts';
import { clientSettings, unary } from '../../lib/grpc/client.ts';
import { GrpcServer } from '../../lib/grpc/serve.ts';
import type { ResourcesClient } from '../../lib/gen/apiserver/v1/Resources.ts';
import type { ResourceRef } from '../../lib/gen/apiserver/v1/ResourceRef.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { createLogger } from '../../lib/log.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { AdmissionClient } from '../../services/admission/grpc/client.ts';
import { ADMISSION_MAX_REQUEST_BYTES, admissionHandlers } from '../../services/admission/grpc/server.ts';
import { SYSTEM_MASTERS } from '../../services/auth/api.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { RESOURCES_MAX_REQUEST_BYTES, resourcesHandlers } from '../../services/gateway/grpc/server.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';
import { REPLICATORS } from '../support/subresource-kinds.ts';

const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });
const registry = builtinRegistry();
for (const kind of [REPLICATORS]) if (registry.get(kind.group, kind.version, kind.resource) === undefined) registry.add(kind);

let admissionServer: GrpcServer;
let resourcesServer: GrpcServer;
let admission: AdmissionClient;
let client: ResourcesClient;
const as = (token: string): { metadata: Metadata } => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return { metadata };
};
const admin = as('admin-token');
const bob = as('bob-token');

before(async () => {
  const storage = new MemoryStorage({ kinds: registry });
  const schemas = generatedSchemaValidator();
  admissionServer = new GrpcServer({ name: 'admission', telemetry, logger, maxReceiveMessageBytes: ADMISSION_MAX_REQUEST_BYTES });
  admissionServer.addService('apiserver.v1.Admission', loadApiProto().apiserver.v1.Admission.service, admissionHandlers(buildAdmissionChain({ registry, storage, schemas, ownsRequestObjects: true })));
  admission = new AdmissionClient(`127.0.0.1:${await admissionServer.listen('127.0.0.1:0')}`, { telemetry });
  const authenticator = new TokenFileAuthenticator([
    { token: 'admin-token', user: { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] } },
    { token: 'bob-token', user: { username: 'bob', uid: '2', groups: [] } },
  ]);
  const watcher = new WatchService({ caches: new Map(), storage, registry, logger });
  const pipeline = new Pipeline({ authenticator, authorizer: new PrivilegedGroupAuthorizer(), admission, storage, watcher, kinds: registry, schemas });
  const namespaces = registry.get('', 'v1', 'namespaces');
  assert.ok(namespaces !== undefined);
  await pipeline.ensureSystemNamespaces(namespaces);
  resourcesServer = new GrpcServer({ name: 'gateway', telemetry, logger, maxReceiveMessageBytes: RESOURCES_MAX_REQUEST_BYTES });
  resourcesServer.addService('apiserver.v1.Resources', loadApiProto().apiserver.v1.Resources.service, resourcesHandlers(pipeline, registry));
  const { credentials, channelOptions } = clientSettings({ telemetry });
  client = new (loadApiProto().apiserver.v1.Resources)(`127.0.0.1:${await resourcesServer.listen('127.0.0.1:0')}`, credentials, channelOptions);
});

after(async () => {
  client.close();
  admission.close();
  await resourcesServer.shutdown(1_000);
  await admissionServer.shutdown(1_000);
});

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const parse = (bytes: Buffer | Uint8Array): Record<string, unknown> => JSON.parse(Buffer.from(bytes).toString()) as Record<string, unknown>;
const replicators = (name = '', subresource = ''): ResourceRef => ({ group: 'example.test', version: 'v1', resource: 'replicators', namespace: 'default', name, subresource });
const pods = (name = '', subresource = ''): ResourceRef => ({ group: '', version: 'v1', resource: 'pods', namespace: 'default', name, subresource });

async function refused(call: Promise<unknown>): Promise<StatusError> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

test('status and scale through ref.subresource, admitted over gRPC', async () => {
  const body = { apiVersion: 'example.test/v1', kind: 'Replicator', metadata: { name: 'a' }, spec: { replicas: 1, selector: { matchLabels: { app: 'a' } } }, status: { replicas: 4 } };
  const created = parse((await unary(client, 'create', { ref: replicators(), object: json(body) }, admin)).object);
  assert.deepEqual(created.status, {});
  const status = parse((await unary(client, 'update', { ref: replicators('a', 'status'), object: json({ ...created, spec: { replicas: 9 }, status: { replicas: 1 } }) }, admin)).object);
  // the spec as a Deployment's Go struct writes it (the kind has a Deployment's schema)
  const deploymentSpec = { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: {}, spec: { containers: null } }, strategy: {} };
  assert.deepEqual([status.spec, status.status], [deploymentSpec, { replicas: 1 }]);
  const scale = parse((await unary(client, 'get', { ref: replicators('a', 'scale') }, admin)).object);
  assert.deepEqual([scale.kind, scale.spec, scale.status], ['Scale', { replicas: 1 }, { replicas: 1, selector: 'app=a' }]);
  const patched = parse((await unary(client, 'patch', { ref: replicators('a', 'scale'), type: 'PATCH_TYPE_MERGE', patch: json({ spec: { replicas: 3 } }) }, admin)).object);
  assert.deepEqual(patched.spec, { replicas: 3 });
  const object = parse((await unary(client, 'get', { ref: replicators('a') }, admin)).object);
  assert.deepEqual([(object.spec as Record<string, unknown>).replicas, object.status, (object.metadata as Record<string, unknown>).generation], [3, { replicas: 1 }, 2]);
  assert.equal((await refused(unary(client, 'delete', { ref: replicators('a', 'status') }, admin))).reason, 'MethodNotAllowed');
  assert.equal((await refused(unary(client, 'get', { ref: replicators('a', 'binding') }, admin))).reason, 'NotFound');
});

test('a POST subresource through Create; authorization names the subresource', async () => {
  await unary(client, 'create', { ref: pods(), object: json({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }) }, admin);
  const binding = json({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { name: 'node-1' } });
  const forbidden = await refused(unary(client, 'create', { ref: pods('p', 'binding'), object: binding }, bob));
  assert.equal(forbidden.reason, 'Forbidden');
  assert.equal(forbidden.message, 'pods "p" is forbidden: User "bob" cannot create resource "pods/binding" in API group "" in the namespace "default"');
  const answer = parse((await unary(client, 'create', { ref: pods('p', 'binding'), object: binding }, admin)).object);
  assert.deepEqual(answer, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  const pod = parse((await unary(client, 'get', { ref: pods('p') }, admin)).object);
  assert.equal((pod.spec as Record<string, unknown>).nodeName, 'node-1');
  assert.equal((await refused(unary(client, 'create', { ref: pods('', 'binding'), object: binding }, admin))).reason, 'BadRequest');
});

test('server-side apply through Resources.Patch (PATCH_TYPE_APPLY): creates, conflicts, forces; /status apply; writes record their manager', async () => {
  const configmaps = (name = ''): ResourceRef => ({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default', name, subresource: '' });
  const apply = (data: Record<string, string>, fieldManager: string, force = false) => ({
    ref: configmaps('applied'),
    type: 'PATCH_TYPE_APPLY' as const,
    patch: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data }),
    fieldManager,
    force,
  });
  const managers = (o: Record<string, unknown>): string[] => ((o.metadata as { managedFields?: { manager: string; operation: string; subresource?: string }[] }).managedFields ?? []).map((e) => `${e.manager}/${e.operation}/${e.subresource ?? ''}`).sort();
  const created = parse((await unary(client, 'patch', apply({ a: '1', b: '2' }, 'one'), admin)).object);
  assert.deepEqual(created.data, { a: '1', b: '2' });
  assert.deepEqual(managers(created), ['one/Apply/']);
  const conflict = await refused(unary(client, 'patch', apply({ a: '9' }, 'two'), admin));
  assert.equal(conflict.reason, 'Conflict');
  assert.deepEqual(conflict.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "one"', field: '.data.a' }]);
  const forced = parse((await unary(client, 'patch', apply({ a: '9' }, 'two', true), admin)).object);
  assert.deepEqual([forced.data, managers(forced)], [{ a: '9', b: '2' }, ['one/Apply/', 'two/Apply/']]);
  assert.equal((await refused(unary(client, 'patch', { ...apply({}, 'two'), patch: Buffer.from('a: [') }, admin))).reason, 'BadRequest');

  // /status, as the admission service admits it remotely: only the status is written, by its own manager.
  const body = { apiVersion: 'example.test/v1', kind: 'Replicator', metadata: { name: 's' }, spec: { replicas: 1, selector: { matchLabels: { app: 's' } } } };
  await unary(client, 'create', { ref: replicators(), object: json(body), fieldManager: 'creator' }, admin);
  const status = { ref: replicators('s', 'status'), type: 'PATCH_TYPE_APPLY' as const, patch: json({ ...body, spec: { replicas: 5 }, status: { replicas: 3 } }), fieldManager: 'controller' };
  const applied = parse((await unary(client, 'patch', status, admin)).object);
  assert.deepEqual([(applied.spec as Record<string, unknown>).replicas, applied.status], [1, { replicas: 3 }]);
  assert.deepEqual(managers(applied), ['controller/Apply/status', 'creator/Update/']);
});
