/**
 * Watchers never miss or repeat a change when the bus loses messages: the watch service's
 * Redis subscription is cut (CLIENT KILL) and Redis itself restarts while writes go on; every
 * watcher must still see exactly etcd's history, in order.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Metadata } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { serverStream, unary } from '../../lib/grpc/client.ts';
import type { ControlPlane } from '../../lib/local/control-plane.ts';
import type { ResourcesClient } from '../../lib/gen/apiserver/v1/Resources.ts';
import type { StorageClient } from '../../services/storage/grpc/client.ts';
import { startGrpcPlane } from '../support/grpc-plane.ts';

let plane: ControlPlane;
let client: ResourcesClient;
let storage: StorageClient;
let auth: Metadata;
let stop: () => Promise<void> = async () => {};

before(async () => {
  ({ plane, client, storage, auth, stop } = await startGrpcPlane('lossy'));
});

after(() => stop());

const ref = (name = '') => ({ group: '', version: 'v1', resource: 'configmaps', namespace: 'lossy', name });
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

test('watchers see every change exactly once, in order, through subscription cuts, a Redis restart and selector changes', async () => {
  await unary(client, 'create', { ref: { ...ref(), resource: 'namespaces', namespace: '' }, object: json({ metadata: { name: 'lossy' } }) }, { metadata: auth });
  const start = await storage.currentRevision();
  // Half the watchers see everything, half only objects labelled tier=gold: objects move in and
  // out of their view as updates change the label.
  const watchers = Array.from({ length: 10 }, (_, i) => ({
    selector: i % 2 === 0 ? '' : 'tier=gold',
    seen: [] as { type: string; rv: number }[],
    controller: new AbortController(),
  }));
  const streams = watchers.map(async (w) => {
    try {
      const options = { resourceVersion: start, labelSelector: w.selector };
      for await (const e of serverStream(client, 'watch', { ref: ref(), options }, { metadata: auth, signal: w.controller.signal })) {
        w.seen.push({ type: e.type, rv: Number(e.resourceVersion) });
      }
    } catch {
      // Ended by the abort at the end.
    }
  });

  const admin = new Redis(plane.redisUrl);
  const writes = 150;
  for (let i = 0; i < writes; i++) {
    const name = `cm-${i % 40}`;
    try {
      const labels = { tier: i % 4 < 2 ? 'gold' : 'silver' };
      if (i < 40) await unary(client, 'create', { ref: ref(), object: json({ metadata: { name, labels }, data: { i: String(i) } }) }, { metadata: auth });
      else if (i % 3 === 0) await unary(client, 'delete', { ref: ref(name) }, { metadata: auth });
      else await unary(client, 'update', { ref: ref(name), object: json({ metadata: { name, labels }, data: { i: String(i) } }) }, { metadata: auth });
    } catch {
      // A delete of a deleted object or an update of one: fine, history is the truth.
    }
    if (i === 50 || i === 90) await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    if (i === 120) {
      admin.disconnect();
      await plane.redis?.restart();
    }
  }
  const end = await storage.currentRevision();
  const history = await storage.events({ group: '', resource: 'configmaps' }, { fromRevision: start, toRevision: end });
  const mine = history.events.filter((e) => e.namespace === 'lossy');
  const expected = mine.map((e) => `${e.type}@${e.revision}`);
  assert.ok(expected.length > 100);
  // What a tier=gold watcher must see, by kube's rule for selectors over old and new state.
  const gold = (o: { metadata?: { labels?: Record<string, string> } } | undefined) => o?.metadata?.labels?.tier === 'gold';
  const expectedGold = mine.flatMap((e) => {
    const now = gold(e.object);
    const before = gold(e.prevObject);
    if (e.type === 'ADDED') return now ? [`ADDED@${e.revision}`] : [];
    if (e.type === 'DELETED') return now ? [`DELETED@${e.revision}`] : [];
    if (now && before) return [`MODIFIED@${e.revision}`];
    if (now) return [`ADDED@${e.revision}`];
    if (before) return [`DELETED@${e.revision}`];
    return [];
  });
  assert.ok(expectedGold.some((e) => e.startsWith('DELETED')) && expectedGold.length < expected.length);

  const deadline = Date.now() + 20_000;
  const want = (w: (typeof watchers)[number]) => (w.selector === '' ? expected : expectedGold);
  while (Date.now() < deadline && watchers.some((w) => w.seen.filter((e) => e.type !== 'BOOKMARK').length < want(w).length)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const w of watchers) w.controller.abort();
  await Promise.all(streams);
  for (const [i, w] of watchers.entries()) {
    const got = w.seen.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type}@${e.rv}`);
    assert.deepEqual(got, want(w), `watcher ${i} (${w.selector || 'everything'}): no gap, no duplicate, revision order`);
  }
});
