/**
 * The etcd change stream resumes where its delivery stopped: a watch whose connection breaks
 * before it has delivered the changes it was asked for gets them after the reconnect, none
 * skipped and none twice.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEtcd, type EtcdServer } from '../../../lib/local/etcd.ts';
import { waitUntil } from '../../../lib/local/process.ts';
import { createEtcdClient, type EtcdClient } from './etcd.ts';
import { watchEtcdChanges } from './etcd-changes.ts';

let etcd: EtcdServer;
let client: EtcdClient;

before(async () => {
  etcd = await startEtcd();
  client = createEtcdClient(etcd.endpoint, 2_000);
});

after(async () => {
  client?.close();
  await etcd?.stop();
});

/** etcd sends a watch that starts behind at most this many revisions per response (watchBatchMaxRevs). */
const ETCD_BATCH_REVISIONS = 1000;

test('a watch broken in the middle of its catch-up resumes after the last change it delivered', async () => {
  const from = Number((await client.kvCalls.range({ key: Buffer.from('\x00'), limit: 1, keys_only: true })).header?.revision ?? 0);
  const total = ETCD_BATCH_REVISIONS + 200;
  for (let i = 0; i < total; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, total - i) }, (_, j) => {
        const name = `cm-${i + j}`;
        return client.kvCalls.swap(`/registry/configmaps/resume/${name}`, 0, JSON.stringify({ metadata: { name, namespace: 'resume' } }));
      }),
    );
  }

  const received: number[] = [];
  let broken = false;
  const subscription = await watchEtcdChanges(
    client,
    String(from),
    (changes) => {
      received.push(...changes.map((c) => c.revision));
      // The first response holds the first 1,000 revisions but names the current revision in
      // its header; the rest follows on etcd's next sync, 100 ms later. Break the watch now.
      if (!broken) {
        broken = true;
        process.kill(etcd.process.pid, 'SIGKILL');
      }
    },
    () => {},
  );
  try {
    await waitUntil('the first batch', async () => broken, { timeoutMs: 20_000 });
    await etcd.restart();
    await waitUntil('every change after the reconnect', async () => received.length >= total, { timeoutMs: 20_000 }).catch(() => {});
    assert.ok(received.length < total + 1, 'nothing twice');
    assert.deepEqual(
      received,
      Array.from({ length: total }, (_, i) => from + 1 + i),
      'every change from the start revision, once, in order',
    );
  } finally {
    await subscription.close();
  }
});
