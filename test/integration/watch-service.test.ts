/**
 * WatchService semantics that need no network: initial state, watch-list bookmarks, periodic
 * bookmarks, selectors, and the bounded queue of a slow watcher.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChangeEvent } from '../../lib/change-event.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { INITIAL_EVENTS_END_ANNOTATION, slowWatcherError, SlowWatcherError, type WatchEvent, type WatchOptions } from '../../services/watch/api.ts';
import { WatchCache } from '../../services/watch/core/watch-cache.ts';
import { StatusError } from '../../lib/errors.ts';
import { fromRpcStatus, toRpcStatus } from '../../lib/grpc-status.ts';
import { cacheKey, WatchService } from '../../services/watch/core/watch-service.ts';
import { Metrics } from '../../lib/metrics.ts';
import { WatchMetrics } from '../../services/watch/metrics.ts';

const logger = createLogger({ service: 'test', level: 'error' });
const target = { group: '', version: 'v1', resource: 'configmaps', namespace: 'ns' };

async function setup(options: { bookmarkIntervalMs?: number; maxQueuedEvents?: number; logger?: Logger; metrics?: WatchMetrics } = {}) {
  const storage = new MemoryStorage();
  const ref = (name: string) => ({ group: '', resource: 'configmaps', namespace: 'ns', name });
  await storage.create(ref('a'), { metadata: { name: 'a', namespace: 'ns', labels: { tier: 'gold' } } });
  const start = Number(await storage.currentRevision());
  const cache = new WatchCache(start, { capacity: 100 });
  const service = new WatchService({ caches: new Map([[cacheKey('', 'configmaps'), cache]]), storage, registry: builtinRegistry(), logger, ...options });
  let prev = start;
  /** Writes an object straight into storage (past the write checks) and feeds its change to the cache. */
  const change = async (name: string, labels: unknown, metadata: Record<string, unknown> = {}) => {
    const object = await storage.create(ref(name), { metadata: { name, namespace: 'ns', labels, ...metadata } } as KubeObject);
    const revision = Number(object.metadata?.resourceVersion);
    const event: ChangeEvent = { type: 'ADDED', revision, prevRevision: prev, group: '', resource: 'configmaps', namespace: 'ns', name, object };
    prev = revision;
    cache.receive(event);
    return revision;
  };
  return { service, cache, change, start };
}

/** Collects events until `count` arrived, then stops the watch. */
async function collect(service: WatchService, options: WatchOptions, count: number, during?: () => Promise<void>): Promise<WatchEvent[]> {
  const controller = new AbortController();
  const events: WatchEvent[] = [];
  const done = (async () => {
    for await (const e of service.watch(target, options, controller.signal)) {
      events.push(e);
      if (events.length >= count) controller.abort();
    }
  })();
  await during?.();
  await done;
  return events;
}

const json = (e: WatchEvent) => JSON.parse(e.object.toString()) as { metadata: { name?: string; resourceVersion: string; annotations?: Record<string, string> } };

describe('WatchService', () => {
  test('rv unset: the current state as ADDED, then changes', async () => {
    const { service, change } = await setup();
    const events = await collect(service, {}, 2, async () => {
      await new Promise((r) => setImmediate(r));
      await change('b', {});
    });
    assert.deepEqual(events.map((e) => [e.type, json(e).metadata.name]), [['ADDED', 'a'], ['ADDED', 'b']]);
  });

  test('a timeoutSeconds past what a timer holds does not end the watch at once', async () => {
    const { service, change } = await setup();
    const events = await collect(service, { timeoutSeconds: 9_223_372_036_854_775 }, 2, async () => {
      await new Promise((r) => setTimeout(r, 20));
      await change('b', {});
    });
    assert.deepEqual(events.map((e) => [e.type, json(e).metadata.name]), [['ADDED', 'a'], ['ADDED', 'b']]);
  });

  test('watch-list: initial events, then a bookmark marking their end', async () => {
    const { service, start } = await setup();
    const events = await collect(service, { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true }, 2);
    assert.equal(events[0]?.type, 'ADDED');
    assert.equal(events[1]?.type, 'BOOKMARK');
    assert.equal(json(events[1] as WatchEvent).metadata.annotations?.[INITIAL_EVENTS_END_ANNOTATION], 'true');
    assert.ok(Number(json(events[1] as WatchEvent).metadata.resourceVersion) >= start);
  });

  test('watch-list without bookmarks: the initial events, then changes, and no end marker (as kube)', async () => {
    const { service, change } = await setup();
    const events = await collect(service, { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' }, 2, async () => {
      await new Promise((r) => setImmediate(r));
      await change('b', {});
    });
    assert.deepEqual(events.map((e) => [e.type, json(e).metadata.name]), [['ADDED', 'a'], ['ADDED', 'b']]);
  });

  test('options are checked before anything is streamed, in the words every path uses', async () => {
    const { service, cache } = await setup();
    const listener = { event: () => true, end: () => {} };
    assert.throws(() => service.start(target, { timeoutSeconds: -1 }, listener), {
      reason: 'BadRequest',
      message: 'timeoutSeconds: Invalid value: -1: must be greater than or equal to 0',
    });
    assert.throws(() => service.start(target, { resourceVersionMatch: 'NotOlderThan' }, listener), {
      reason: 'Invalid',
      message: 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    });
    assert.equal(cache.watcherCount, 0);
  });

  test('bookmarks come periodically when allowed, at the newest revision delivered or cached', async () => {
    const { service, change, start } = await setup({ bookmarkIntervalMs: 20 });
    const events = await collect(service, { resourceVersion: String(start), allowWatchBookmarks: true }, 3, async () => {
      await change('b', {});
    });
    assert.equal(events[0]?.type, 'ADDED');
    assert.equal(events[1]?.type, 'BOOKMARK');
    assert.equal(events[1]?.resourceVersion, events[0]?.resourceVersion);
  });

  test('no bookmarks unless asked for', async () => {
    const { service, change, start } = await setup({ bookmarkIntervalMs: 5 });
    const events = await collect(service, { resourceVersion: String(start) }, 2, async () => {
      await new Promise((r) => setTimeout(r, 30));
      await change('b', {});
      await change('c', {});
    });
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'ADDED']);
  });

  test('a label selector filters changes', async () => {
    const { service, change, start } = await setup();
    const events = await collect(service, { resourceVersion: String(start), labelSelector: 'tier=gold' }, 1, async () => {
      await change('silver', { tier: 'silver' });
      await change('gold', { tier: 'gold' });
    });
    assert.deepEqual(events.map((e) => json(e).metadata.name), ['gold']);
  });

  test('a malformed object (stored past the write checks) is skipped by selectors, in the initial state and live, and logged once', async () => {
    const warnings: unknown[] = [];
    const record = (_msg: string, fields?: Record<string, unknown>) => warnings.push(fields?.key);
    const recorder: Logger = { debug: () => {}, info: () => {}, warn: record, error: record, with: () => recorder };
    const { service, change } = await setup({ logger: recorder });
    await change('poison-initial', 'tier=gold');
    const events = await collect(service, { labelSelector: 'tier=gold' }, 3, async () => {
      await new Promise((r) => setImmediate(r));
      await change('poison-live', { tier: 7 });
      await change('nulls', null, { annotations: null });
      await change('poison-annotation', { tier: 'gold' }, { annotations: { n: 1 } });
      await change('gold', { tier: 'gold' });
      await change('gold-too', { tier: 'gold' });
    });
    assert.deepEqual(events.map((e) => [e.type, json(e).metadata.name]), [['ADDED', 'a'], ['ADDED', 'gold'], ['ADDED', 'gold-too']]);
    // A second watcher skips them too, without logging them again.
    const second = await collect(service, { labelSelector: '!tier' }, 1);
    assert.deepEqual(second.map((e) => json(e).metadata.name), ['nulls'], 'null labels are no labels');
    assert.deepEqual(warnings, ['/configmaps/ns/poison-live', '/configmaps/ns/poison-annotation']);
  });

  test('a watcher that does not read is dropped when its queue is full; others carry on', async () => {
    const { service, change, start } = await setup({ maxQueuedEvents: 3 });
    const controller = new AbortController();
    const slow = service.watch(target, { resourceVersion: String(start) }, controller.signal)[Symbol.asyncIterator]();
    const first = slow.next(); // registers the watcher; nothing more is read
    const fast = collect(service, { resourceVersion: String(start) }, 6);
    for (let i = 0; i < 6; i++) await change(`x${i}`, {});
    assert.equal((await fast).length, 6);
    assert.equal((await first).done, false);
    // The slow one got at most its queue's worth, then its stream ended.
    let more = 0;
    for (let r = await slow.next(); r.done !== true; r = await slow.next()) more++;
    assert.ok(more <= 3, `${more} more events after the overflow`);
  });
});

describe('SlowWatcherError', () => {
  test('events sent are counted per kind as plain numbers, added to apiserver_watch_events_total when scraped', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const watchMetrics = new WatchMetrics(metrics);
    // Every call prom-client gets for the counter (bound children call it too).
    const counter = metrics.registry.getSingleMetric('apiserver_watch_events_total') as unknown as { inc: (...args: unknown[]) => void };
    const inc = counter.inc;
    let calls = 0;
    counter.inc = function (this: unknown, ...args: unknown[]) {
      calls++;
      inc.apply(this, args);
    };
    const { service, change, start } = await setup({ metrics: watchMetrics });
    const received: number[] = [];
    const handles = Array.from({ length: 10 }, (_, i) => {
      received[i] = 0;
      return service.start(target, { resourceVersion: String(start) }, { event: () => ((received[i] = (received[i] ?? 0) + 1), true), end: () => {} });
    });
    for (let i = 0; i < 20; i++) await change(`e${i}`, {});
    assert.deepEqual(received, Array(10).fill(20));
    assert.equal(calls, 0, 'nothing asked of prom-client per event');
    const count = async () => Number(/^apiserver_watch_events_total\{group="",version="v1",kind="ConfigMap"\} (\d+)$/m.exec((await metrics.render(undefined)).body)?.[1]);
    assert.equal(await count(), 200);
    assert.equal(calls, 1, 'one addition per kind per scrape');
    await change('late', {});
    assert.equal(await count(), 210, 'what was added is not added again');
    for (const h of handles) h.cancel();
  });

  test('a watch whose listener fails on a replayed change is not left counted as open', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const { service, change, start } = await setup({ metrics: new WatchMetrics(metrics) });
    await change('b', {});
    const ended: unknown[] = [];
    const failing = {
      event: () => {
        throw new Error('listener failed');
      },
      end: (error?: unknown) => ended.push(error),
    };
    assert.throws(() => service.start(target, { resourceVersion: String(start), timeoutSeconds: 1 }, failing), /listener failed/);
    const { body } = await metrics.render(undefined);
    assert.match(body, /^apiserver_registered_watchers\{group="",version="v1",kind="ConfigMap"\} 0$/m);
    // Nor does its timer end it later: it never started.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.deepEqual(ended, []);
  });

  test('a drop as too slow is still recognized after a gRPC hop; other 429s are not taken for one', () => {
    const crossed = fromRpcStatus(toRpcStatus(slowWatcherError(8)));
    assert.ok(crossed !== undefined && !(crossed instanceof SlowWatcherError), 'the hop gives a plain StatusError');
    const recognized = SlowWatcherError.recognize(crossed);
    assert.ok(recognized instanceof SlowWatcherError);
    assert.equal(recognized.reason, 'TooManyRequests');
    assert.equal(recognized.message, slowWatcherError(8).message);

    const limit = fromRpcStatus(toRpcStatus(new StatusError('TooManyRequests', 'too many watches on this stream (limit 2); open another stream')));
    assert.equal(SlowWatcherError.recognize(limit), limit);
    assert.equal(SlowWatcherError.recognize(undefined), undefined);
  });
});
