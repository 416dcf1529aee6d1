/**
 * Compaction coordinated between storage replicas on a real etcd: one compaction per interval
 * whatever the number of replicas, history kept for at least one interval, and reads at a
 * compacted revision answered with 410.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import { startEtcd, type EtcdServer } from '../../lib/local/etcd.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { COMPACT_REVISION_KEY, createEtcdClient, EtcdStorage } from '../../services/storage/backends/etcd.ts';
import { claimEtcdCompaction } from '../../services/storage/backends/etcd-compactor.ts';
import { compactionRound } from '../../services/storage/core/compactor.ts';

let etcd: EtcdServer;
let storage: EtcdStorage;
const telemetry = createTelemetry({ serviceName: 'test', env: {} });

before(async () => {
  etcd = await startEtcd();
  storage = new EtcdStorage(createEtcdClient(etcd.endpoint), { tracer: telemetry.tracer });
});

after(async () => {
  storage?.client.close();
  await etcd?.stop();
});

test('three replicas compacting each round: exactly one compacts, one interval behind', async () => {
  const client = storage.client;
  const compactions: number[] = [];
  const replica = () => ({
    claim: (v: number, r: number) => claimEtcdCompaction(client, v, r),
    compact: async (r: number) => {
      compactions.push(r);
      await client.kv.compact({ revision: String(r) });
    },
  });
  const replicas = [replica(), replica(), replica()];
  const states = replicas.map(() => ({ version: 0, revision: 0 }));
  const ref = (i: number) => ({ group: '', resource: 'configmaps', namespace: 'c', name: `c${i}` });
  const seenAtRound: number[] = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 5; i++) await storage.create(ref(round * 10 + i), { metadata: { name: `c${round * 10 + i}`, namespace: 'c' } });
    seenAtRound.push(Number(await storage.currentRevision()));
    // All replicas tick in the same round, in turn.
    for (const [i, r] of replicas.entries()) {
      const next = await compactionRound(r, states[i] as { version: number; revision: number });
      states[i] = { version: next.version, revision: next.revision };
    }
  }
  // Round 0 only records; each later round compacts once, the revision seen a round earlier.
  assert.equal(compactions.length, 3, `compactions: ${compactions.join(', ')}`);
  for (let k = 1; k < compactions.length; k++) assert.ok((compactions[k] ?? 0) > (compactions[k - 1] ?? 0));
  const last = compactions[compactions.length - 1] ?? 0;
  assert.ok(last < (seenAtRound[seenAtRound.length - 1] ?? 0), 'the newest interval of history is kept');
  // One successful claim per round: the shared record's version is the number of rounds, and
  // it holds the revision compacted last.
  const record = (await client.get(COMPACT_REVISION_KEY).exec()).kvs[0];
  assert.equal(record?.version, '4');
  assert.equal(record?.value.toString(), String(last));

  // History at a compacted revision is 410; after it, it is served.
  await assert.rejects(storage.events({ group: '', resource: 'configmaps' }, { fromRevision: String(last - 2) }), (err: unknown) => {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 410);
    return true;
  });
  const recent = await storage.events({ group: '', resource: 'configmaps' }, { fromRevision: String(last) });
  assert.ok(recent.events.length > 0);
});
