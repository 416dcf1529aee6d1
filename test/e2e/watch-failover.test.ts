/**
 * Several watch replicas behind the gateway: watches are spread over them, and when a replica
 * is stopped (SIGTERM: it ends its streams cleanly) or killed (kill -9) its watchers carry on
 * on another one from their last resourceVersion, with no gap, no duplicate and no 410.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Metadata } from '@grpc/grpc-js';
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
  ({ plane, client, storage, auth, stop } = await startGrpcPlane('watch-failover', { watchReplicas: 2 }));
});

after(() => stop());

const ref = (name = '') => ({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default', name });
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

/** Each watcher's events (type@resourceVersion) and how its watch ended, if it did before abort. */
interface Watching {
  seen: string[];
  error: unknown;
  ended: boolean;
  controller: AbortController;
}

/** `count` watches through the gateway from `start`, each recording its events until aborted. */
function watchFrom(start: string, count: number): { watchers: Watching[]; done: Promise<void> } {
  const watchers: Watching[] = Array.from({ length: count }, () => ({ seen: [], error: undefined, ended: false, controller: new AbortController() }));
  const done = Promise.all(
    watchers.map(async (w) => {
      try {
        for await (const e of serverStream(client, 'watch', { ref: ref(), options: { resourceVersion: start } }, { metadata: auth, signal: w.controller.signal })) {
          w.seen.push(`${e.type}@${e.resourceVersion}`);
        }
        if (!w.controller.signal.aborted) w.ended = true;
      } catch (err) {
        if (!w.controller.signal.aborted) w.error = err;
      }
    }),
  ).then(() => undefined);
  return { watchers, done };
}

/** Storage's history of default/configmaps from `start` on, as the watchers record events. */
async function historySince(start: string): Promise<string[]> {
  const end = await storage.currentRevision();
  const history = await storage.events({ group: '', resource: 'configmaps' }, { fromRevision: start, toRevision: end });
  return history.events.filter((e) => e.namespace === 'default').map((e) => `${e.type}@${e.revision}`);
}

test('watchers of a watch replica stopped with SIGTERM resume on another: nothing lost, repeated or ended', async () => {
  const start = await storage.currentRevision();
  const { watchers, done } = watchFrom(start, 6);
  const write = async (i: number) => {
    await unary(client, 'create', { ref: ref(), object: json({ metadata: { name: `t-${i}` } }) }, { metadata: auth });
  };
  for (let i = 0; i < 20; i++) await write(i);
  // Writes go on while the replica drains and exits (its streams end cleanly, not broken)...
  const stopping = plane.replicas.watch[1]?.process.stop();
  for (let i = 20; i < 40; i++) await write(i);
  await stopping;
  // ...after it is gone, and after it is back.
  for (let i = 40; i < 60; i++) await write(i);
  await plane.restart('watch-1');
  for (let i = 60; i < 80; i++) await write(i);
  const expected = await historySince(start);
  assert.equal(expected.length, 80);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && watchers.some((w) => w.seen.length < expected.length && w.error === undefined && !w.ended)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const w of watchers) w.controller.abort();
  await done;
  for (const [i, w] of watchers.entries()) {
    assert.equal(w.error, undefined, `watcher ${i} failed: ${String(w.error)}`);
    assert.equal(w.ended, false, `watcher ${i} ended after ${w.seen.length} events`);
    assert.deepEqual(w.seen, expected, `watcher ${i}`);
  }
});

test('watchers of a killed watch replica resume on another without a gap, a duplicate or a 410', async () => {
  const start = await storage.currentRevision();
  const watchers = Array.from({ length: 6 }, () => ({ seen: [] as string[], error: undefined as unknown, controller: new AbortController() }));
  const streams = watchers.map(async (w) => {
    try {
      for await (const e of serverStream(client, 'watch', { ref: ref(), options: { resourceVersion: start } }, { metadata: auth, signal: w.controller.signal })) {
        w.seen.push(`${e.type}@${e.resourceVersion}`);
      }
    } catch (err) {
      if (!w.controller.signal.aborted) w.error = err;
    }
  });
  const write = async (i: number) => {
    await unary(client, 'create', { ref: ref(), object: json({ metadata: { name: `f-${i}` } }) }, { metadata: auth });
  };
  for (let i = 0; i < 40; i++) await write(i);
  // Both replicas serve watchers (the gateway spreads them); kill one outright.
  await plane.watchReplicas[0]?.process.kill();
  for (let i = 40; i < 80; i++) await write(i);
  const end = await storage.currentRevision();
  const history = await storage.events({ group: '', resource: 'configmaps' }, { fromRevision: start, toRevision: end });
  const expected = history.events.filter((e) => e.namespace === 'default').map((e) => `${e.type}@${e.revision}`);
  assert.equal(expected.length, 80);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && watchers.some((w) => w.seen.length < expected.length && w.error === undefined)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const w of watchers) w.controller.abort();
  await Promise.all(streams);
  for (const [i, w] of watchers.entries()) {
    assert.equal(w.error, undefined, `watcher ${i} failed: ${String(w.error)}`);
    assert.deepEqual(w.seen, expected, `watcher ${i}`);
  }
});
