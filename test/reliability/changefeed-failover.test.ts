/**
 * Killing the publishing storage replica (kill -9) during a stream of writes loses and
 * duplicates no event on the Redis side: every committed revision, as etcd's history tells
 * it, arrives exactly once, in order, each naming its predecessor.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { channelFor, decodeChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import { StatusError } from '../../lib/errors.ts';
import { checkHealth } from '../../lib/local/control-plane.ts';
import { startEtcd, type EtcdServer } from '../../lib/local/etcd.ts';
import { freePort } from '../../lib/local/ports.ts';
import { spawnProcess, waitUntil, type ManagedProcess } from '../../lib/local/process.ts';
import { startRedis, type RedisServer } from '../../lib/local/redis.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { createEtcdClient, EtcdStorage } from '../../services/storage/backends/etcd.ts';
import { StorageClient } from '../../services/storage/grpc/client.ts';

const MAIN = fileURLToPath(new URL('../../services/storage/main.ts', import.meta.url));
const telemetry = createTelemetry({ serviceName: 'test', env: {} });

let etcd: EtcdServer;
let redis: RedisServer;
let subscriber: Redis;
const replicas: { name: string; proc: ManagedProcess; client: StorageClient }[] = [];

async function startReplica(name: string): Promise<void> {
  const address = `127.0.0.1:${await freePort()}`;
  const proc = spawnProcess({
    name,
    command: process.execPath,
    args: [MAIN, `--listen=${address}`, `--etcd-endpoints=${etcd.endpoint}`, `--redis-url=${redis.url}`, '--leader-lease-ttl=1', `--replica-id=${name}`],
  });
  await waitUntil(`${name} healthy`, () => checkHealth(address), { timeoutMs: 30_000, process: proc });
  replicas.push({ name, proc, client: new StorageClient(address, { telemetry }) });
}

before(async () => {
  [etcd, redis] = await Promise.all([startEtcd(), startRedis()]);
  await startReplica('replica-a');
  await startReplica('replica-b');
  subscriber = new Redis(redis.url);
});

after(async () => {
  subscriber?.disconnect();
  for (const r of replicas) {
    r.client.close();
    await r.proc.stop();
  }
  await redis?.stop();
  await etcd?.stop();
});

function leader(): (typeof replicas)[number] | undefined {
  return replicas.find((r) => r.proc.tail(200).includes('elected changefeed leader'));
}

test('kill -9 of the publishing replica loses and duplicates no event', async () => {
  await waitUntil('a leader is elected', async () => leader() !== undefined, { timeoutMs: 15_000 });
  const received: ChangeEvent[] = [];
  await subscriber.subscribe(channelFor('', 'configmaps'));
  subscriber.on('message', (_channel: string, message: string) => received.push(decodeChangeEvent(message)));

  const direct = new EtcdStorage(createEtcdClient(etcd.endpoint), { tracer: telemetry.tracer });
  const start = await direct.currentRevision();
  const total = 400;
  let next = 0;
  let killed = false;
  const writer = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      if (i === Math.floor(total / 3) && !killed) {
        killed = true;
        const victim = leader();
        assert.ok(victim !== undefined);
        await victim.proc.kill();
      }
      const ref = { group: '', resource: 'configmaps', namespace: 'failover', name: `cm-${i}` };
      // Write through any live replica; a create whose reply was lost may have committed.
      for (let attempt = 0; ; attempt++) {
        const target = replicas[(i + attempt) % replicas.length];
        try {
          await target?.client.create(ref, { metadata: { name: ref.name, namespace: ref.namespace } });
          break;
        } catch (err) {
          if (err instanceof StatusError && err.reason === 'AlreadyExists') break;
          if (attempt > 20) throw err;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  const end = await direct.currentRevision();

  const history = await direct.events({ group: '', resource: 'configmaps' }, { fromRevision: start, toRevision: end });
  assert.equal(history.events.length, total, 'every create committed once');
  const expected = history.events.map((e) => e.revision);
  await waitUntil(
    'the surviving replica publishes everything',
    async () => received.filter((e) => e.revision <= Number(end)).length >= expected.length,
    { timeoutMs: 20_000 },
  );
  const got = received.filter((e) => e.revision > Number(start) && e.revision <= Number(end));
  assert.deepEqual(
    got.map((e) => e.revision),
    expected,
    'exactly the committed revisions, once each, in order',
  );
  for (let i = 1; i < got.length; i++) {
    assert.equal(got[i]?.prevRevision, got[i - 1]?.revision, `event ${got[i]?.revision} names its predecessor`);
  }
  assert.ok(replicas.some((r) => r.proc !== leader()?.proc && r.proc.tail(200).includes('changefeed resumes after its record')), 'the new leader resumed from the record');
  direct.client.close();
});
