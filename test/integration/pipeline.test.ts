/**
 * The pipeline's checks of a written body's metadata (shared by REST and the typed gRPC API):
 * kube's typed decoding of ObjectMeta on create and update, over the real admission chain and
 * the memory storage backend.
 */
import { inProcessPipeline } from '../support/pipeline.ts';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import { GrpcServer } from '../../lib/grpc/serve.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { createLogger } from '../../lib/log.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import type { Storage } from '../../services/storage/api.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { StorageClient } from '../../services/storage/grpc/client.ts';
import { STORAGE_MAX_REQUEST_BYTES, storageHandlers } from '../../services/storage/grpc/server.ts';
import { type Target } from '../../services/gateway/core/pipeline.ts';

const registry = builtinRegistry();
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
const logger = createLogger({ service: 'test', level: 'error' });

/** The pipeline over `storage` (the memory backend, or a gRPC client of it). */
async function setup(storage: Storage = new MemoryStorage()) {
  const { pipeline, configmaps } = await inProcessPipeline(storage, registry);
  const cms: Target = { info: configmaps, namespace: 'default', name: '' };
  const cm = (name: string): Target => ({ ...cms, name });
  return { storage, pipeline, cms, cm };
}

async function badRequest(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    assert.equal(err.reason, 'BadRequest', err.message);
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail('expected a BadRequest');
}

const PREFIX = 'ConfigMap in version "v1" cannot be handled as a ConfigMap: ';

/** A body as a client may send it: any JSON. */
const body = (json: unknown) => json as KubeObject;

describe('Pipeline: the types of a body\'s metadata', () => {
  test('create: null maps and lists are no maps and lists, as Go decodes them', async () => {
    const { pipeline, cms } = await setup();
    const created = await pipeline.create(admin, cms, body({ metadata: { name: 'a', labels: null, annotations: null, finalizers: null, ownerReferences: null } }));
    assert.equal(created.metadata?.labels, undefined);
    assert.equal('labels' in (created.metadata ?? {}), false);
    assert.equal('annotations' in (created.metadata ?? {}), false);
    assert.equal('finalizers' in (created.metadata ?? {}), false);
    // The object no longer poisons a selector list of its collection.
    const listed = await pipeline.list(admin, cms, { labelSelector: '!app' });
    assert.deepEqual(listed.items.map((o) => o.metadata?.name), ['a']);
  });

  test('create: a wrong type is 400 with kube\'s words, and nothing is written', async () => {
    const { storage, pipeline, cms } = await setup();
    const before = await storage.currentRevision();
    const cases: [unknown, string][] = [
      [{ metadata: { name: 'a', labels: { app: 1 } } }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string'],
      [{ metadata: { name: 'a', annotations: { note: { x: 'y' } } } }, 'json: cannot unmarshal object into Go struct field ObjectMeta.metadata.annotations of type string'],
      [{ metadata: { name: { first: 'a' } } }, 'json: cannot unmarshal object into Go struct field ObjectMeta.metadata.name of type string'],
      [{ metadata: { name: 'a', namespace: 5 } }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.namespace of type string'],
      [{ metadata: { generateName: ['a-'] } }, 'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.generateName of type string'],
      [{ metadata: { name: 'a', finalizers: 'x' } }, 'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.finalizers of type []string'],
      [{ metadata: [] }, 'json: cannot unmarshal array into Go struct field ConfigMap.metadata of type v1.ObjectMeta'],
    ];
    for (const [json, words] of cases) assert.equal(await badRequest(pipeline.create(admin, cms, body(json))), PREFIX + words);
    assert.equal(
      await badRequest(pipeline.create(admin, cms, body({ kind: 1, metadata: { name: 'a' } }))),
      'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: json: cannot unmarshal number into Go struct field .kind of type string',
    );
    assert.equal(await storage.currentRevision(), before);
  });

  test('update: the same check, before the name is compared with the URL', async () => {
    const { pipeline, cms, cm } = await setup();
    await pipeline.create(admin, cms, { metadata: { name: 'a', labels: { app: 'web' } } });
    assert.equal(
      await badRequest(pipeline.update(admin, cm('a'), body({ metadata: { name: { a: 1 } } }))),
      `${PREFIX}json: cannot unmarshal object into Go struct field ObjectMeta.metadata.name of type string`,
    );
    assert.equal(
      await badRequest(pipeline.update(admin, cm('a'), body({ metadata: { name: 'a', resourceVersion: 3 } }))),
      `${PREFIX}json: cannot unmarshal number into Go struct field ObjectMeta.metadata.resourceVersion of type string`,
    );
    const updated = await pipeline.update(admin, cm('a'), body({ metadata: { name: 'a', labels: null, resourceVersion: null }, data: { k: 'v' } }));
    assert.equal('labels' in (updated.metadata ?? {}), false, 'labels: null removes the labels');
    assert.deepEqual(updated.data, { k: 'v' });
  });

  test('labels and annotations of the right types but bad keys or values: 422 Invalid with a cause each, on create and update', async () => {
    const { storage, pipeline, cms, cm } = await setup();
    const before = await storage.currentRevision();
    const refused = await pipeline.create(admin, cms, body({ metadata: { name: 'a', labels: { 'app/x/y': 'web', tier: '-front' } } })).then(
      () => assert.fail('expected Invalid'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof StatusError);
    assert.equal(refused.code, 422);
    assert.equal(refused.reason, 'Invalid');
    assert.match(refused.message, /^ConfigMap "a" is invalid: \[metadata\.labels: Invalid value: "app\/x\/y": a qualified name must consist of .*, metadata\.labels: Invalid value: "-front": a valid label must be an empty string or consist of /);
    assert.deepEqual(refused.details?.causes?.map((c) => [c.reason, c.field]), [['FieldValueInvalid', 'metadata.labels'], ['FieldValueInvalid', 'metadata.labels']]);
    assert.equal(await storage.currentRevision(), before, 'nothing is written');

    const created = await pipeline.create(admin, cms, body({ metadata: { name: 'a', labels: { app: 'web' }, annotations: { 'Example.com/Note': 'free text' } } }));
    await assert.rejects(
      pipeline.update(admin, cm('a'), body({ ...created, metadata: { ...created.metadata, annotations: { 'bad key': 'v' } } })),
      (err: unknown) =>
        err instanceof StatusError &&
        err.code === 422 &&
        err.message.startsWith('ConfigMap "a" is invalid: metadata.annotations: Invalid value: "bad key": name part must consist of') &&
        err.details?.causes?.[0]?.field === 'metadata.annotations',
    );
  });

  test('delete: an object stored with a uid of the wrong type can still be deleted (its uid is no precondition)', async () => {
    const memory = new MemoryStorage();
    const telemetry = createTelemetry({ serviceName: 'test', env: {} });
    const server = new GrpcServer({ name: 'storage', telemetry, logger, maxReceiveMessageBytes: STORAGE_MAX_REQUEST_BYTES });
    server.addService('apiserver.v1.Storage', loadApiProto().apiserver.v1.Storage.service, storageHandlers(memory));
    const client = new StorageClient(`127.0.0.1:${await server.listen('127.0.0.1:0')}`, { telemetry });
    try {
      const { pipeline, cm } = await setup(client);
      const ref = { group: '', resource: 'configmaps', namespace: 'default', name: 'p' };
      // Written by another writer, past the checks.
      await memory.create(ref, body({ metadata: { name: 'p', namespace: 'default', uid: 42, labels: null } }));
      const deleted = await pipeline.delete(admin, cm('p'));
      assert.equal(deleted.pending, false);
      await assert.rejects(memory.get(ref), { reason: 'NotFound' });
    } finally {
      client.close();
      await server.shutdown(1_000);
    }
  });
});
