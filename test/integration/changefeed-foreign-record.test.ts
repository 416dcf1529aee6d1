/**
 * The changefeed against a record written for another etcd (etcd replaced, e.g. another
 * `make up` etcd layout on the same Redis, or etcd's data lost while Redis kept the record):
 * it must not resume after that record (nothing etcd commits would pass it, so nothing would
 * ever be published) but start at etcd's current revision, as without a record, naming it as
 * each channel's predecessor so that subscribers holding the old state see a gap.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { Redis } from 'ioredis';
import { channelFor, decodeChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import { startEtcd, type EtcdServer } from '../../lib/local/etcd.ts';
import { startRedis, type RedisServer } from '../../lib/local/redis.ts';
import { createLogger } from '../../lib/log.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { createEtcdClient, EtcdStorage } from '../../services/storage/backends/etcd.ts';
import { Changefeed, FEED_CHANNELS_KEY, FEED_CLUSTER_KEY, FEED_REVISION_KEY } from '../../services/storage/changefeed.ts';

const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });
const CHANNEL = channelFor('', 'configmaps');

let etcd: EtcdServer;
let redis: RedisServer;
let backend: EtcdStorage;
let publisher: Redis;
let subscriber: Redis;
let clusterId = '';
const received: ChangeEvent[] = [];

before(async () => {
  [etcd, redis] = await Promise.all([startEtcd(), startRedis()]);
  backend = new EtcdStorage(createEtcdClient(etcd.endpoint, 1_500), { tracer: telemetry.tracer });
  clusterId = (await backend.client.maintenance.status()).header.cluster_id;
  publisher = new Redis(redis.url);
  subscriber = new Redis(redis.url);
  await subscriber.subscribe(CHANNEL);
  subscriber.on('message', (_channel: string, message: string) => received.push(decodeChangeEvent(message)));
});

after(async () => {
  backend?.client.close();
  publisher?.disconnect();
  subscriber?.disconnect();
  await redis?.stop();
  await etcd?.stop();
});

beforeEach(async () => {
  await publisher.del(FEED_REVISION_KEY, FEED_CHANNELS_KEY, FEED_CLUSTER_KEY);
});

function feed(withClusterId: boolean): Changefeed {
  return new Changefeed({
    source: {
      currentRevision: () => backend.currentRevision(),
      watchChanges: (from, onChanges, onError) => backend.watchChanges(from, onChanges, onError),
      ...(withClusterId ? { clusterId: async () => (await backend.client.maintenance.status()).header.cluster_id } : {}),
    },
    redis: publisher,
    logger,
  });
}

/** Creates a configmap and waits (bounded) for its event on the channel. */
async function createAndReceive(name: string): Promise<ChangeEvent> {
  const created = await backend.create({ group: '', resource: 'configmaps', namespace: 'foreign', name }, { metadata: { name, namespace: 'foreign' } });
  const revision = Number(created.metadata?.resourceVersion);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const event = received.find((e) => e.revision === revision);
    if (event !== undefined) return event;
    assert.ok(Date.now() < deadline, `the create at revision ${revision} was never published`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a record ahead of etcd\'s revision is not resumed from: changes are published again', async () => {
  const current = Number(await backend.currentRevision());
  await publisher.set(FEED_REVISION_KEY, String(current + 100_000));
  await publisher.hset(FEED_CHANNELS_KEY, CHANNEL, String(current + 99_999));
  const changefeed = feed(false);
  try {
    await changefeed.start();
    assert.equal(changefeed.publishedThrough, String(current), 'the record is reset to etcd\'s current revision');
    const event = await createAndReceive('ahead');
    // The first event names the revision the feed started at: a subscriber holding the other
    // etcd's state cannot take it as a continuation and relists.
    assert.equal(event.prevRevision, current);
    assert.equal(await publisher.get(FEED_REVISION_KEY), String(event.revision));
    assert.equal(await publisher.hget(FEED_CHANNELS_KEY, CHANNEL), String(event.revision), 'the other etcd\'s channel record is gone');
  } finally {
    await changefeed.stop();
  }
});

test('a record of another etcd cluster id is not resumed from, even when its revision is behind', async () => {
  await backend.create({ group: '', resource: 'configmaps', namespace: 'foreign', name: 'before' }, { metadata: { name: 'before', namespace: 'foreign' } });
  const current = Number(await backend.currentRevision());
  assert.ok(current > 1);
  await publisher.set(FEED_REVISION_KEY, '1');
  await publisher.set(FEED_CLUSTER_KEY, 'another-cluster');
  const changefeed = feed(true);
  try {
    await changefeed.start();
    assert.equal(changefeed.publishedThrough, String(current));
    assert.equal(await publisher.get(FEED_CLUSTER_KEY), clusterId, 'the record now names this etcd');
    const event = await createAndReceive('other-cluster');
    assert.equal(event.prevRevision, current);
  } finally {
    await changefeed.stop();
  }
});

test('a record of this etcd is resumed from, and one without a cluster id is adopted', async () => {
  // Committed while no feed runs.
  const created = await backend.create({ group: '', resource: 'configmaps', namespace: 'foreign', name: 'resume' }, { metadata: { name: 'resume', namespace: 'foreign' } });
  const current = Number(created.metadata?.resourceVersion);
  await publisher.set(FEED_REVISION_KEY, String(current - 1));
  const changefeed = feed(true);
  try {
    await changefeed.start();
    assert.equal(changefeed.publishedThrough, String(current - 1), 'resumes after its record');
    assert.equal(await publisher.get(FEED_CLUSTER_KEY), clusterId);
    // The change at `current` was committed after the record: it is published now.
    const deadline = Date.now() + 10_000;
    while (!received.some((e) => e.revision === current)) {
      assert.ok(Date.now() < deadline, 'the change after the record was published');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await changefeed.stop();
  }
});
