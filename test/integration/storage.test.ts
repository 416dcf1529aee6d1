/**
 * The storage service against real etcd and Redis: the etcd backend directly and over gRPC
 * (the same assertions through both), and the changefeed as a Redis subscriber sees it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { channelFor, decodeChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import { StatusError } from '../../lib/errors.ts';
import { GrpcServer } from '../../lib/grpc.ts';
import { startEtcd, type EtcdServer } from '../../lib/local/etcd.ts';
import { startRedis, type RedisServer } from '../../lib/local/redis.ts';
import { createLogger } from '../../lib/log.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { Storage, StorageRef } from '../../services/storage/api.ts';
import { createEtcdClient, EtcdStorage } from '../../services/storage/backends/etcd.ts';
import { Changefeed } from '../../services/storage/changefeed.ts';
import { watchEtcdChanges } from '../../services/storage/backends/etcd-changes.ts';
import { WriteTraceIndex } from '../../services/storage/core/write-trace-index.ts';
import { StorageClient } from '../../services/storage/grpc/client.ts';
import { storageHandlers } from '../../services/storage/grpc/server.ts';

const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });

let etcd: EtcdServer;
let redis: RedisServer;
let backend: EtcdStorage;
let server: GrpcServer;
let client: StorageClient;
let changefeed: Changefeed;
let publisher: Redis;
let subscriber: Redis;
const received: ChangeEvent[] = [];
let feedStart = 0;

before(async () => {
  [etcd, redis] = await Promise.all([startEtcd(), startRedis()]);
  const writeTraces = new WriteTraceIndex();
  backend = new EtcdStorage(createEtcdClient(etcd.endpoint, 1_500), { tracer: telemetry.tracer, writeTraces });
  publisher = new Redis(redis.url);
  subscriber = new Redis(redis.url);
  await subscriber.subscribe(channelFor('', 'configmaps'), channelFor('', 'nodes'));
  subscriber.on('message', (_channel: string, message: string) => received.push(decodeChangeEvent(message)));
  changefeed = new Changefeed({
    source: {
      currentRevision: () => backend.currentRevision(),
      watchChanges: (from, onChanges, onError) => watchEtcdChanges(backend.client, from, onChanges, onError),
    },
    redis: publisher,
    logger,
    writeTraces,
  });
  // A fresh Redis has no record: the feed starts at the current revision.
  feedStart = Number(await backend.currentRevision());
  await changefeed.start();
  server = new GrpcServer({ name: 'storage', telemetry, logger });
  server.addService('apiserver.v1.Storage', loadApiProto().apiserver.v1.Storage.service, storageHandlers(backend));
  const port = await server.listen('127.0.0.1:0');
  client = new StorageClient(`127.0.0.1:${port}`, { telemetry });
});

after(async () => {
  client?.close();
  await server?.shutdown(1_000);
  await changefeed?.stop();
  backend?.client.close();
  publisher?.disconnect();
  subscriber?.disconnect();
  await redis?.stop();
  await etcd?.stop();
});

function cm(name: string, data: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns1', uid: `uid-${name}` }, data };
}

async function rejects(promise: Promise<unknown>, reason: string, message?: RegExp): Promise<StatusError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected StatusError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

for (const [label, storage] of [
  ['etcd backend', () => backend],
  ['over gRPC', () => client],
] as const) {
  describe(`storage contract (${label})`, () => {
    const s = (): Storage => storage();
    const ns = label === 'etcd backend' ? 'direct' : 'grpc';
    const ref = (name: string): StorageRef => ({ group: '', resource: 'configmaps', namespace: ns, name });

    test('create stamps resourceVersion with the etcd revision; AlreadyExists on a taken name', async () => {
      const before = Number(await s().currentRevision());
      const created = await s().create(ref('a'), { ...cm('a', { k: 'v' }), metadata: { name: 'a', namespace: ns } });
      assert.equal(Number(created.metadata?.resourceVersion), before + 1);
      const again = await rejects(s().create(ref('a'), { metadata: { name: 'a', namespace: ns } }), 'AlreadyExists', /^configmaps "a" already exists$/);
      assert.equal(again.code, 409);
      assert.deepEqual(again.details, { name: 'a', group: '', kind: 'configmaps' });
    });

    test('get returns the stored object; NotFound with kube\'s message', async () => {
      const got = await s().get(ref('a'));
      assert.deepEqual(got.data, { k: 'v' });
      await rejects(s().get(ref('missing')), 'NotFound', /^configmaps "missing" not found$/);
    });

    test('create refuses an object that already has a resourceVersion', async () => {
      await rejects(s().create(ref('b'), { metadata: { name: 'b', resourceVersion: '5' } }), 'BadRequest');
    });

    test('list paginates at one revision', async () => {
      for (const n of ['c1', 'c2', 'c3', 'c4']) await s().create(ref(n), { metadata: { name: n, namespace: ns } });
      const first = await s().list(ref(''), { limit: 2 });
      assert.equal(first.items.length, 2);
      assert.notEqual(first.continue, '');
      assert.equal(first.remainingItemCount, 3);
      await s().create(ref('c0'), { metadata: { name: 'c0', namespace: ns } });
      const second = await s().list(ref(''), { limit: 2, continue: first.continue });
      assert.equal(second.resourceVersion, first.resourceVersion);
      const third = await s().list(ref(''), { limit: 2, continue: second.continue });
      assert.equal(third.continue, '');
      const names = [...first.items, ...second.items, ...third.items].map((o) => o.metadata?.name);
      assert.deepEqual(names, ['a', 'c1', 'c2', 'c3', 'c4']);
      await rejects(s().list(ref(''), { continue: 'bm90LWEtdG9rZW4=' }), 'BadRequest');
    });

    test('delete honours uid and resourceVersion preconditions', async () => {
      const obj = await s().create(ref('d'), { metadata: { name: 'd', namespace: ns, uid: 'uid-d' } });
      await rejects(s().delete(ref('d'), { uid: 'other' }), 'Conflict', /Precondition failed: UID in precondition: other, UID in object meta: uid-d/);
      await rejects(s().delete(ref('d'), { resourceVersion: '1' }), 'Conflict', /Precondition failed: ResourceVersion in precondition: 1/);
      const deleted = await s().delete(ref('d'), { uid: 'uid-d', resourceVersion: obj.metadata?.resourceVersion ?? '' });
      assert.equal(deleted.object.metadata?.name, 'd');
      assert.equal(deleted.pending, false);
      await rejects(s().delete(ref('d')), 'NotFound');
    });

    test('keys cannot escape their collection', async () => {
      await rejects(s().get({ ...ref('x'), name: '../nodes/n1' }), 'BadRequest');
      await rejects(s().get({ ...ref('x'), namespace: '..' }), 'BadRequest');
    });
  });
}

test('objects over etcd\'s request limit are refused with 413, not an etcd error', async () => {
  const big = { metadata: { name: 'big', namespace: 'direct' }, data: { x: 'y'.repeat(1_600_000) } };
  await rejects(client.create({ group: '', resource: 'configmaps', namespace: 'direct', name: 'big' }, big), 'RequestEntityTooLarge');
});

test('the changefeed publishes every change in revision order, each naming the previous one', async () => {
  const ref = { group: '', resource: 'configmaps', namespace: 'feed', name: 'f' };
  const start = received.length;
  const a = await backend.create(ref, { metadata: { name: 'f', namespace: 'feed' } });
  await backend.delete(ref);
  const n = await backend.create({ group: '', resource: 'nodes', namespace: '', name: 'n1' }, { metadata: { name: 'n1' } });
  const deadline = Date.now() + 5_000;
  while (received.filter((e) => e.revision >= Number(a.metadata?.resourceVersion)).length < 3 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const mine = received.slice(start).filter((e) => e.namespace === 'feed' || e.resource === 'nodes');
  assert.deepEqual(
    mine.map((e) => [e.type, e.resource, e.name]),
    [
      ['ADDED', 'configmaps', 'f'],
      ['DELETED', 'configmaps', 'f'],
      ['ADDED', 'nodes', 'n1'],
    ],
  );
  const [added, deleted, node] = mine as [ChangeEvent, ChangeEvent, ChangeEvent];
  assert.equal(added.revision, Number(a.metadata?.resourceVersion));
  assert.equal(deleted.prevRevision, added.revision, 'DELETED names the ADDED before it on the channel');
  assert.equal(deleted.object.metadata?.resourceVersion, String(deleted.revision));
  assert.equal(deleted.prevObject?.metadata?.name, 'f');
  assert.equal(node.revision, Number(n.metadata?.resourceVersion));
  // Every configmaps event's prevRevision is the previous configmaps event's revision.
  const cms = received.filter((e) => e.resource === 'configmaps');
  // The first event of a channel names the revision the feed started from: anything before
  // may have been committed unpublished, so a subscriber not complete up to there sees a gap.
  assert.equal(cms[0]?.prevRevision, feedStart);
  for (let i = 1; i < cms.length; i++) assert.equal(cms[i]?.prevRevision, cms[i - 1]?.revision);
});

test('etcd unavailable: requests fail fast with ServiceUnavailable and succeed once etcd is back', async () => {
  const ref = { group: '', resource: 'configmaps', namespace: 'outage', name: 'o' };
  await etcd.process.kill();
  const started = Date.now();
  const err = await rejects(client.get(ref), 'ServiceUnavailable');
  assert.equal(err.code, 503);
  assert.ok(Date.now() - started < 5_000, `failed after ${Date.now() - started} ms`);
  assert.ok(!/127\.0\.0\.1|grpc|14 UNAVAILABLE/i.test(err.message), `no internals in the message: ${err.message}`);
  await etcd.restart();
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await client.create(ref, { metadata: { name: 'o', namespace: 'outage' } });
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.equal((await client.get(ref)).metadata?.name, 'o');
});

describe('update, finalizers and history (etcd backend and over gRPC)', () => {
  const ref = (name: string): StorageRef => ({ group: '', resource: 'configmaps', namespace: 'upd', name });

  test('update is compare-and-swap on the resourceVersion read; unconditional without one', async () => {
    const created = await client.create(ref('u'), { metadata: { name: 'u', namespace: 'upd', uid: 'uid-u', generation: 1 }, data: { a: '1' } });
    const rv = created.metadata?.resourceVersion ?? '';
    const updated = await client.update(ref('u'), { ...created, data: { a: '2' } });
    assert.ok(Number(updated.metadata?.resourceVersion) > Number(rv));
    assert.equal(updated.metadata?.generation, 2, 'a change of the desired state raises generation');
    const stale = await rejects(client.update(ref('u'), { ...created, data: { a: '3' } }), 'Conflict');
    assert.equal(
      stale.message,
      'Operation cannot be fulfilled on configmaps "u": the object has been modified; please apply your changes to the latest version and try again',
    );
    const labelsOnly = await client.update(ref('u'), { ...updated, metadata: { ...updated.metadata, labels: { x: 'y' } } });
    assert.equal(labelsOnly.metadata?.generation, 2, 'metadata changes keep generation');
    const unconditional = await client.update(ref('u'), { metadata: { name: 'u', namespace: 'upd' }, data: { a: '4' } });
    assert.equal(unconditional.metadata?.uid, 'uid-u', 'uid is kept');
    await rejects(client.update(ref('u'), { metadata: { name: 'u', uid: 'other' }, data: {} }), 'Conflict', /Precondition failed: UID/);
    await rejects(client.update(ref('absent'), { metadata: { name: 'absent' } }), 'NotFound');
  });

  test('delete of an object with finalizers marks it; the update that empties them removes it', async () => {
    await client.create(ref('f'), { metadata: { name: 'f', namespace: 'upd', finalizers: ['example.com/hold'], generation: 1 } });
    const first = await client.delete(ref('f'));
    assert.equal(first.pending, true);
    assert.match(first.object.metadata?.deletionTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(first.object.metadata?.deletionGracePeriodSeconds, 0);
    const again = await client.delete(ref('f'));
    assert.equal(again.pending, true);
    assert.equal(again.object.metadata?.resourceVersion, first.object.metadata?.resourceVersion, 'a second delete writes nothing');
    const stillThere = await client.get(ref('f'));
    const cleared = await client.update(ref('f'), { ...stillThere, metadata: { ...stillThere.metadata, finalizers: [] } });
    assert.equal(cleared.metadata?.name, 'f');
    await rejects(client.get(ref('f')), 'NotFound');
  });

  test('events returns the history of one resource between two revisions, in order', async () => {
    const from = await client.currentRevision();
    await client.create(ref('h1'), { metadata: { name: 'h1', namespace: 'upd' } });
    await client.create({ group: '', resource: 'nodes', namespace: '', name: 'h-node' }, { metadata: { name: 'h-node' } });
    const h1 = await client.get(ref('h1'));
    await client.update(ref('h1'), { ...h1, data: { v: '1' } });
    await client.delete(ref('h1'));
    const to = await client.currentRevision();
    const result = await client.events({ group: '', resource: 'configmaps' }, { fromRevision: from, toRevision: to });
    assert.deepEqual(
      result.events.map((e) => [e.type, e.name]),
      [
        ['ADDED', 'h1'],
        ['MODIFIED', 'h1'],
        ['DELETED', 'h1'],
      ],
    );
    assert.equal(result.resourceVersion, to);
    assert.equal(result.more, false);
    assert.equal(result.events[2]?.object.metadata?.resourceVersion, String(result.events[2]?.revision));
    const limited = await client.events({ group: '', resource: 'configmaps' }, { fromRevision: from, limit: 2 });
    assert.equal(limited.events.length, 2);
    assert.equal(limited.more, true);
    const nodes = await client.events({ group: '', resource: 'nodes' }, { fromRevision: from, toRevision: to });
    assert.deepEqual(nodes.events.map((e) => e.name), ['h-node']);
    const empty = await client.events({ group: '', resource: 'namespaces' }, { fromRevision: from, toRevision: to });
    assert.deepEqual(empty.events, []);
  });

  test('history before a compaction is Expired', async () => {
    const rev = Number(await client.currentRevision());
    await backend.client.put('compact_rev_key').value(String(rev));
    await backend.client.kv.compact({ revision: String(rev) });
    await rejects(client.events({ group: '', resource: 'configmaps' }, { fromRevision: String(rev - 3) }), 'Expired', /^too old resource version: \d+ \(\d+\)$/);
  });
});
