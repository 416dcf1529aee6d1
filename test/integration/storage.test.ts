/**
 * The storage service against real etcd and Redis: the key layout in etcd, the changefeed as
 * a Redis subscriber sees it, and an etcd outage. The storage semantics themselves are checked
 * by services/storage/contract.test.ts on every backend.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { context, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { Redis } from 'ioredis';
import { channelFor, decodeChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import { StatusError } from '../../lib/errors.ts';
import { GrpcServer } from '../../lib/grpc/serve.ts';
import { startEtcd, type EtcdServer } from '../../lib/local/etcd.ts';
import { startRedis, type RedisServer } from '../../lib/local/redis.ts';
import { createLogger } from '../../lib/log.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { StorageRef } from '../../services/storage/api.ts';
import { createEtcdClient, EtcdStorage } from '../../services/storage/backends/etcd.ts';
import { Changefeed } from '../../services/storage/changefeed.ts';
import { WriteTraceIndex } from '../../services/storage/core/write-trace-index.ts';
import { StorageClient } from '../../services/storage/grpc/client.ts';
import { STORAGE_MAX_REQUEST_BYTES, storageHandlers } from '../../services/storage/grpc/server.ts';

const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });
/** The changefeed's own, recording: its publish spans are checked. */
const feedSpans = new InMemorySpanExporter();
const feedTelemetry = createTelemetry({ serviceName: 'storage', env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter: feedSpans })] });

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
    source: backend,
    redis: publisher,
    logger,
    writeTraces,
    telemetry: feedTelemetry,
  });
  // A fresh Redis has no record: the feed starts at the current revision.
  feedStart = Number(await backend.currentRevision());
  await changefeed.start();
  server = new GrpcServer({ name: 'storage', telemetry, logger, maxReceiveMessageBytes: STORAGE_MAX_REQUEST_BYTES });
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

async function rejects(promise: Promise<unknown>, reason: string): Promise<StatusError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected StatusError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

// The semantics every backend shares (create, get, update, delete, list, history,
// compaction, size, keys) are services/storage/contract.test.ts, run against this backend on a
// real etcd and over gRPC. Here: what only the etcd backend in a running system shows.

test('objects live at kube-apiserver\'s keys, as JSON without resourceVersion (the key\'s mod revision)', async () => {
  const ref: StorageRef = { group: '', resource: 'configmaps', namespace: 'layout', name: 'cm' };
  const created = await client.create(ref, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'layout' }, data: { k: 'v' } });
  const raw = (await backend.client.get('/registry/configmaps/layout/cm').exec()).kvs[0];
  assert.ok(raw !== undefined, 'stored under /registry/<resource>/<namespace>/<name>');
  assert.equal(raw.mod_revision, created.metadata?.resourceVersion);
  assert.deepEqual(JSON.parse(raw.value.toString('utf8')), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'layout' }, data: { k: 'v' } });
  await client.create({ group: 'example.com', resource: 'widgets', namespace: '', name: 'w' }, { metadata: { name: 'w' } });
  assert.equal((await backend.client.get('/registry/example.com/widgets/w').exec()).kvs.length, 1, 'other groups: /registry/<group>/<resource>/<name>');
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

test('a Redis that lost the publish script (SCRIPT FLUSH) is sent it again: no change is lost', async () => {
  const ref = (name: string) => ({ group: '', resource: 'configmaps', namespace: 'flush', name });
  const arrived = async (rv: string | undefined): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!received.some((e) => e.revision === Number(rv)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  const before = await backend.create(ref('before'), { metadata: { name: 'before', namespace: 'flush' } });
  await arrived(before.metadata?.resourceVersion);
  assert.equal(await publisher.script('FLUSH'), 'OK');
  const after = await backend.create(ref('after'), { metadata: { name: 'after', namespace: 'flush' } });
  await arrived(after.metadata?.resourceVersion);
  const mine = received.filter((e) => e.namespace === 'flush');
  assert.deepEqual(mine.map((e) => [e.name, e.object.metadata?.resourceVersion]), [
    ['before', before.metadata?.resourceVersion],
    ['after', after.metadata?.resourceVersion],
  ]);
  assert.equal(mine[1]?.prevRevision, mine[0]?.revision, 'the chain has no gap');
});

test('a change event carries the traceparent of the write that made it', async () => {
  const ref = { group: '', resource: 'configmaps', namespace: 'traced', name: 't' };
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parent = trace.setSpanContext(context.active(), { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED });
  const created = await context.with(parent, () => backend.create(ref, { metadata: { name: 't', namespace: 'traced' } }));
  const deadline = Date.now() + 5_000;
  while (!received.some((e) => e.namespace === 'traced') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const event = received.find((e) => e.namespace === 'traced');
  assert.equal(event?.revision, Number(created.metadata?.resourceVersion));
  assert.match(event?.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  // The publish is a PRODUCER span, a child of the write's span, and the event carries its
  // context: the subscriber's span will be the publish span's child, in the write's trace.
  const publish = feedSpans.getFinishedSpans().find((s) => s.spanContext().traceId === traceId);
  assert.ok(publish !== undefined, 'a publish span in the write\'s trace');
  assert.equal(publish.name, 'publish apiserver/events/configmaps');
  assert.equal(publish.kind, SpanKind.PRODUCER);
  assert.equal(publish.parentSpanContext?.spanId, '00f067aa0ba902b7');
  assert.equal(publish.attributes['messaging.system'], 'redis');
  assert.equal(publish.attributes['messaging.destination.name'], 'apiserver/events/configmaps');
  assert.equal(publish.attributes['messaging.operation.type'], 'send');
  assert.equal(event?.traceparent, `00-${traceId}-${publish.spanContext().spanId}-01`);
  // A write outside any trace is published without a span.
  assert.ok(feedSpans.getFinishedSpans().every((s) => s.spanContext().traceId === traceId), 'untraced writes make no publish span');
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

test('history keeps a multi-key transaction whole: at the upper bound and at a page limit', async () => {
  // Written straight to etcd: one transaction, two objects, one revision.
  const from = await backend.currentRevision();
  const key = (name: string) => `/registry/configmaps/multi/${name}`;
  const value = (name: string) => JSON.stringify({ metadata: { name, namespace: 'multi' } });
  await backend.client.kv.txn({
    success: [
      { request_put: { key: Buffer.from(key('m1')), value: Buffer.from(value('m1')) } },
      { request_put: { key: Buffer.from(key('m2')), value: Buffer.from(value('m2')) } },
    ],
  });
  const to = await backend.currentRevision();
  const whole = await backend.events({ group: '', resource: 'configmaps' }, { fromRevision: from, toRevision: to });
  assert.deepEqual(whole.events.map((e) => [e.name, e.revision]), [['m1', Number(to)], ['m2', Number(to)]]);
  // A limit of 1 may not split the revision: the page holds both (more follows only between revisions).
  await backend.create({ group: '', resource: 'configmaps', namespace: 'multi', name: 'm3' }, { metadata: { name: 'm3', namespace: 'multi' } });
  const page = await backend.events({ group: '', resource: 'configmaps' }, { fromRevision: from, limit: 1 });
  assert.deepEqual(page.events.map((e) => e.name), ['m1', 'm2']);
  assert.equal(page.more, true);
  assert.equal(page.resourceVersion, to);
});

test('two storage replicas on one etcd: what one remembers of a key never gives a wrong answer after the other wrote it', async () => {
  // Replica A is the service behind `client`; replica B writes the same keys directly.
  const other = new EtcdStorage(createEtcdClient(etcd.endpoint, 1_500), { tracer: telemetry.tracer });
  try {
    const ref: StorageRef = { group: '', resource: 'configmaps', namespace: 'replicas', name: 'shared' };
    const object = (uid: string, n: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: 'replicas', uid }, data: { n } });
    const created = await client.create(ref, object('first', '1'));
    const changed = await other.update(ref, { ...created, data: { n: '2' } });
    // A last saw revision `created`; the caller read `changed`: no Conflict.
    const updated = await client.update(ref, { ...changed, data: { n: '3' } });
    assert.deepEqual(updated.data, { n: '3' });
    await rejects(client.update(ref, { ...changed, data: { n: '4' } }), 'Conflict');
    // B deletes and recreates the key with another uid; A's preconditions see the new object.
    await other.delete(ref);
    await other.create(ref, object('second', '5'));
    await rejects(client.update(ref, object('first', '6')), 'Conflict');
    await rejects(client.delete(ref, { uid: 'first' }), 'Conflict');
    const deleted = await client.delete(ref, { uid: 'second' });
    assert.equal(deleted.pending, false);
    await rejects(client.get(ref), 'NotFound');
    await rejects(client.update(ref, object('second', '7')), 'NotFound');
  } finally {
    other.client.close();
  }
});
