/**
 * The watch cache: ordering, exactly-once delivery, 410 Expired, gap detection, capacity, and
 * how a change looks through a selector (kube's cacheWatcher.convertToWatchEvent).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent } from '../../../lib/change-event.ts';
import { StatusError } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { createObjectFilter, type ObjectFilter } from '../../../lib/selectors.ts';
import type { WatchEvent } from '../api.ts';
import { bookmarkObject, CachedChange, eventFor, WatchCache, type WatcherSink } from './watch-cache.ts';

function cm(name: string, rv: number, labels?: Record<string, string>): KubeObject {
  const metadata: KubeObject['metadata'] = { name, namespace: 'ns', resourceVersion: String(rv) };
  if (labels !== undefined) metadata.labels = labels;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata };
}

/** A change at `revision` whose predecessor on the channel was `prev`. */
function change(revision: number, prev: number, type: ChangeEvent['type'] = 'ADDED', name = `cm-${revision}`): ChangeEvent {
  return { type, revision, prevRevision: prev, group: '', resource: 'configmaps', namespace: 'ns', name, object: cm(name, revision) };
}

/** A chain of changes from..to (inclusive), each pointing at the one before. */
function changes(from: number, to: number): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  for (let r = from; r <= to; r++) out.push(change(r, r - 1));
  return out;
}

class Sink implements WatcherSink {
  readonly filter: ObjectFilter;
  readonly revisions: number[] = [];
  ended = false;
  error: StatusError | undefined;
  private readonly limit: number;

  constructor(limit = Infinity, filter: ObjectFilter = createObjectFilter({})) {
    this.limit = limit;
    this.filter = filter;
  }

  push(c: CachedChange): boolean {
    if (this.ended) return false;
    if (this.revisions.length >= this.limit) {
      this.end();
      return false;
    }
    this.revisions.push(c.revision);
    return true;
  }

  end(error?: StatusError): void {
    this.ended = true;
    this.error = error;
  }
}

function feed(cache: WatchCache, events: ChangeEvent[]): void {
  for (const e of events) cache.receive(e);
}

function expired(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.reason, 'Expired');
    assert.equal(err.code, 410);
    return err;
  }
  assert.fail('expected 410 Expired');
}

describe('WatchCache: delivery', () => {
  test('a watcher gets every later change once, in revision order', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const sink = new Sink();
    cache.watchFrom(10, sink);
    feed(cache, changes(11, 15));
    assert.deepEqual(sink.revisions, [11, 12, 13, 14, 15]);
    assert.equal(cache.revision, 15);
    assert.equal(cache.watcherCount, 1);
  });

  test('revisions need not be consecutive (etcd revisions are global)', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const sink = new Sink();
    cache.watchFrom(10, sink);
    feed(cache, [change(14, 10), change(20, 14), change(33, 20)]);
    assert.deepEqual(sink.revisions, [14, 20, 33]);
  });

  test('registered mid-stream: the cached changes after its revision, then live ones, each exactly once', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    feed(cache, changes(11, 15));
    const sink = new Sink();
    cache.watchFrom(12, sink);
    assert.deepEqual(sink.revisions, [13, 14, 15]);
    feed(cache, changes(16, 17));
    assert.deepEqual(sink.revisions, [13, 14, 15, 16, 17]);
    const late = new Sink();
    cache.watchFrom(17, late);
    feed(cache, changes(18, 18));
    assert.deepEqual(late.revisions, [18]);
  });

  test('duplicates and stale messages are dropped', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const sink = new Sink();
    cache.watchFrom(10, sink);
    feed(cache, [change(11, 10), change(12, 11), change(12, 11), change(11, 10), change(9, 8), change(13, 12)]);
    assert.deepEqual(sink.revisions, [11, 12, 13]);
    // A change at or below the start revision is history the cache's owner already has.
    const fresh = new WatchCache(10, { capacity: 100 });
    const s2 = new Sink();
    fresh.watchFrom(10, s2);
    fresh.receive(change(10, 9));
    assert.deepEqual(s2.revisions, []);
    assert.equal(fresh.revision, 10);
  });

  test('a watcher ahead of the cache (it listed from storage) gets only changes after its revision', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const sink = new Sink();
    cache.watchFrom(13, sink);
    feed(cache, changes(11, 15));
    assert.deepEqual(sink.revisions, [14, 15]);
  });

  test('watchFromNow gets every change that arrives after it registers', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    feed(cache, changes(11, 12));
    const sink = new Sink();
    cache.watchFromNow(sink);
    feed(cache, changes(13, 14));
    assert.deepEqual(sink.revisions, [13, 14]);
  });

  test('unregistering stops delivery', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const sink = new Sink();
    const stop = cache.watchFrom(10, sink);
    cache.receive(change(11, 10));
    stop();
    cache.receive(change(12, 11));
    assert.deepEqual(sink.revisions, [11]);
    assert.equal(cache.watcherCount, 0);
  });

  test('a watcher whose buffer overflows is dropped; the others go on', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const slow = new Sink(2);
    const fast = new Sink();
    cache.watchFrom(10, slow);
    cache.watchFrom(10, fast);
    feed(cache, changes(11, 14));
    assert.deepEqual(slow.revisions, [11, 12]);
    assert.equal(slow.ended, true);
    assert.deepEqual(fast.revisions, [11, 12, 13, 14]);
    assert.equal(cache.watcherCount, 1);
  });

  test('a watcher that overflows while catching up is never registered', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    feed(cache, changes(11, 15));
    const slow = new Sink(2);
    cache.watchFrom(10, slow);
    assert.equal(cache.watcherCount, 0);
    cache.receive(change(16, 15));
    assert.deepEqual(slow.revisions, [11, 12]);
  });

  test('close ends every watcher with the given error', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const a = new Sink();
    const b = new Sink();
    cache.watchFrom(10, a);
    cache.watchFromNow(b);
    const shutdown = new StatusError('ServiceUnavailable', 'shutting down');
    cache.close(shutdown);
    assert.equal(a.error, shutdown);
    assert.equal(b.error, shutdown);
    assert.equal(cache.watcherCount, 0);
  });
});

describe('WatchCache: the window', () => {
  test('a revision before the start is 410 Expired; the start itself is servable', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const err = expired(() => cache.watchFrom(9, new Sink()));
    assert.equal(err.message, 'too old resource version: 9 (10)');
    cache.watchFrom(10, new Sink());
  });

  test('capacity trimming raises the oldest servable revision', () => {
    const cache = new WatchCache(10, { capacity: 3 });
    feed(cache, changes(11, 15));
    // 13, 14, 15 are kept: everything after 12 is servable, 12 itself too.
    const sink = new Sink();
    cache.watchFrom(12, sink);
    assert.deepEqual(sink.revisions, [13, 14, 15]);
    assert.equal(expired(() => cache.watchFrom(11, new Sink())).message, 'too old resource version: 11 (12)');
    expired(() => cache.watchFrom(10, new Sink()));
    cache.receive(change(16, 15));
    expired(() => cache.watchFrom(12, new Sink()));
    const later = new Sink();
    cache.watchFrom(13, later);
    assert.deepEqual(later.revisions, [14, 15, 16]);
  });

  test('watchers already registered keep getting everything while the window moves', () => {
    const cache = new WatchCache(10, { capacity: 2 });
    const sink = new Sink();
    cache.watchFrom(10, sink);
    feed(cache, changes(11, 20));
    assert.deepEqual(sink.revisions, [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  });
});

describe('WatchCache: gaps', () => {
  test('a change whose predecessor was never received ends every watcher with 410 Expired', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const a = new Sink();
    const b = new Sink();
    feed(cache, changes(11, 12));
    cache.watchFrom(12, a);
    cache.watchFromNow(b);
    cache.receive(change(15, 14)); // 13 and 14 were lost on the bus
    for (const sink of [a, b]) {
      assert.equal(sink.ended, true);
      assert.equal(sink.error?.reason, 'Expired');
      assert.equal(sink.error?.code, 410);
      assert.deepEqual(sink.revisions, []);
    }
    assert.equal(cache.watcherCount, 0);
  });

  test('after a gap the window restarts at the gap: older revisions are 410, newer ones served', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    feed(cache, changes(11, 12));
    cache.receive(change(15, 14));
    assert.equal(cache.revision, 15);
    expired(() => cache.watchFrom(12, new Sink()));
    expired(() => cache.watchFrom(13, new Sink()));
    const sink = new Sink();
    cache.watchFrom(14, sink);
    assert.deepEqual(sink.revisions, [15]);
    cache.receive(change(16, 15));
    assert.deepEqual(sink.revisions, [15, 16]);
  });

  test('no gap when the predecessor is known, even across revisions of other resources', () => {
    const cache = new WatchCache(10, { capacity: 100 });
    const sink = new Sink();
    cache.watchFrom(10, sink);
    feed(cache, [change(11, 10), change(19, 11)]);
    assert.equal(sink.ended, false);
    assert.deepEqual(sink.revisions, [11, 19]);
  });
});

describe('eventFor: a change through a watcher\'s filter', () => {
  const web = createObjectFilter({ labelSelector: 'app=web' });

  function modified(prevLabels: Record<string, string>, labels: Record<string, string>): CachedChange {
    return new CachedChange({
      type: 'MODIFIED',
      revision: 20,
      prevRevision: 19,
      group: '',
      resource: 'configmaps',
      namespace: 'ns',
      name: 'x',
      object: cm('x', 20, labels),
      prevObject: cm('x', 12, prevLabels),
    });
  }

  function json(event: WatchEvent | undefined): unknown {
    assert.ok(event);
    return JSON.parse(event.object.toString('utf8'));
  }

  test('without a filter, the change as it is', () => {
    const c = modified({ app: 'db' }, { app: 'db' });
    const event = eventFor(c, createObjectFilter({}));
    assert.equal(event?.type, 'MODIFIED');
    assert.equal(event?.resourceVersion, '20');
    assert.deepEqual(json(event), cm('x', 20, { app: 'db' }));
  });

  test('matches before and after: MODIFIED with the new object', () => {
    const event = eventFor(modified({ app: 'web', v: '1' }, { app: 'web', v: '2' }), web);
    assert.equal(event?.type, 'MODIFIED');
    assert.deepEqual(json(event), cm('x', 20, { app: 'web', v: '2' }));
  });

  test('starts matching: ADDED with the new object', () => {
    const event = eventFor(modified({ app: 'db' }, { app: 'web' }), web);
    assert.equal(event?.type, 'ADDED');
    assert.equal(event?.resourceVersion, '20');
    assert.deepEqual(json(event), cm('x', 20, { app: 'web' }));
  });

  test('stops matching: DELETED with the old object stamped at the new revision', () => {
    const event = eventFor(modified({ app: 'web' }, { app: 'db' }), web);
    assert.equal(event?.type, 'DELETED');
    assert.equal(event?.resourceVersion, '20');
    assert.deepEqual(json(event), cm('x', 20, { app: 'web' }));
  });

  test('matches neither: nothing', () => {
    assert.equal(eventFor(modified({ app: 'db' }, { app: 'db' }), web), undefined);
  });

  test('ADDED and DELETED pass when their object matches', () => {
    const added = new CachedChange({ ...change(21, 20), object: cm('y', 21, { app: 'web' }) });
    assert.equal(eventFor(added, web)?.type, 'ADDED');
    assert.equal(eventFor(new CachedChange(change(22, 21)), web), undefined);
    const deleted = new CachedChange({ ...change(23, 22, 'DELETED', 'y'), object: cm('y', 23, { app: 'web' }), prevObject: cm('y', 21, { app: 'web' }) });
    const event = eventFor(deleted, web);
    assert.equal(event?.type, 'DELETED');
    assert.deepEqual(json(event), cm('y', 23, { app: 'web' }));
  });

  test('a MODIFIED change without its previous state can only start matching', () => {
    const c = new CachedChange({ ...change(24, 23, 'MODIFIED'), object: cm('z', 24, { app: 'web' }) });
    assert.equal(eventFor(c, web)?.type, 'ADDED');
  });

  test('the namespace and field selector take part too', () => {
    const c = modified({ app: 'web' }, { app: 'web' });
    assert.equal(eventFor(c, createObjectFilter({ namespace: 'other' })), undefined);
    assert.equal(eventFor(c, createObjectFilter({ namespace: 'ns', fieldSelector: 'metadata.name=x' }))?.type, 'MODIFIED');
    assert.equal(eventFor(c, createObjectFilter({ fieldSelector: 'metadata.name!=x' })), undefined);
  });

  test('a state the selectors cannot read matches none of them: a change to or from it is ADDED or DELETED', () => {
    const poisoned = { metadata: { name: 'x', namespace: 'ns', labels: 'app=web' } } as unknown as KubeObject;
    const base = { revision: 30, prevRevision: 29, group: '', resource: 'configmaps', namespace: 'ns', name: 'x' };
    const toPoison = new CachedChange({ ...base, type: 'MODIFIED', object: poisoned, prevObject: cm('x', 29, { app: 'web' }) });
    assert.equal(eventFor(toPoison, web)?.type, 'DELETED', 'stops matching');
    const fromPoison = new CachedChange({ ...base, type: 'MODIFIED', object: cm('x', 30, { app: 'web' }), prevObject: poisoned });
    assert.equal(eventFor(fromPoison, web)?.type, 'ADDED', 'starts matching');
    for (const type of ['ADDED', 'DELETED'] as const) {
      const c = new CachedChange({ ...base, type, object: poisoned, prevObject: type === 'DELETED' ? poisoned : undefined });
      assert.equal(eventFor(c, web), undefined, type);
      assert.equal(eventFor(c, createObjectFilter({ labelSelector: '!app' })), undefined, type);
      assert.equal(eventFor(c, createObjectFilter({ fieldSelector: 'metadata.name=x' })), undefined, type);
      assert.equal(eventFor(c, createObjectFilter({}))?.type, type, 'without selectors it is delivered as it is');
      assert.equal(eventFor(c, createObjectFilter({ namespace: 'ns' }))?.type, type);
    }
  });

  test('the namespace checked is the one of the change\'s key, so metadata that lost it does not hide a change', () => {
    const lost = new CachedChange({ ...change(31, 30), object: { metadata: { name: 'x', labels: { app: 'web' } } } });
    assert.equal(eventFor(lost, createObjectFilter({ namespace: 'ns' }))?.type, 'ADDED');
    assert.equal(eventFor(lost, createObjectFilter({ namespace: 'ns', labelSelector: 'app=web' }))?.type, 'ADDED');
    assert.equal(eventFor(lost, createObjectFilter({ namespace: 'other' })), undefined);
  });

  test('the shapes of a change are checked once for all watchers', () => {
    const c = new CachedChange({ ...change(32, 31, 'MODIFIED'), object: { metadata: { labels: { app: 1 } } } as unknown as KubeObject, prevObject: cm('x', 31) });
    const first = c.shapeProblems(undefined);
    assert.deepEqual(first, ['json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string', null]);
    assert.equal(c.shapeProblems(undefined), first);
  });

  test('the JSON is made once and shared by every watcher', () => {
    const c = modified({ app: 'web' }, { app: 'db' });
    assert.equal(eventFor(c, createObjectFilter({}))?.object, eventFor(c, createObjectFilter({ labelSelector: 'app=db' }))?.object);
    assert.equal(eventFor(c, web)?.object, eventFor(c, createObjectFilter({ labelSelector: 'app in (web)' }))?.object);
  });
});

describe('bookmarkObject', () => {
  test('kind, apiVersion and resourceVersion; annotations only when given', () => {
    assert.deepEqual(bookmarkObject('ConfigMap', 'v1', '42'), { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '42' } });
    assert.deepEqual(bookmarkObject('Widget', 'example.com/v1', '7', { 'k8s.io/initial-events-end': 'true' }), {
      kind: 'Widget',
      apiVersion: 'example.com/v1',
      metadata: { resourceVersion: '7', annotations: { 'k8s.io/initial-events-end': 'true' } },
    });
  });
});

describe('WatchCache: refilling gaps from storage history', () => {
  /** A refill that serves `history` (a chain) and records what it was asked. */
  function historyRefill(history: ChangeEvent[]) {
    const asked: [number, number][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    return {
      asked,
      release,
      refill: async (from: number, to: number) => {
        asked.push([from, to]);
        await gate;
        return history.filter((c) => c.revision > from && c.revision <= to);
      },
    };
  }

  test('a lost message is fetched from history before anything later is delivered', async () => {
    const all = changes(11, 15);
    const h = historyRefill(all);
    const cache = new WatchCache(10, { capacity: 100, refill: h.refill });
    const sink = new Sink();
    cache.watchFrom(10, sink);
    feed(cache, [all[0] as ChangeEvent]); // 11
    // 12 and 13 are lost on the bus; 14 names 13 as its predecessor.
    cache.receive(all[3] as ChangeEvent);
    assert.equal(cache.refilling, true);
    cache.receive(all[4] as ChangeEvent); // 15 arrives during the refill: held back
    assert.deepEqual(sink.revisions, [11], 'nothing after the gap is delivered before the gap is filled');
    h.release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.asked, [[11, 13]]);
    assert.deepEqual(sink.revisions, [11, 12, 13, 14, 15]);
    assert.equal(sink.ended, false, 'no 410');
    assert.equal(cache.revision, 15);
  });

  test('when history is compacted, watchers end with 410 and the window restarts after the gap', async () => {
    const cache = new WatchCache(10, {
      capacity: 100,
      refill: async () => {
        throw new StatusError('Expired', 'too old resource version: 10 (12)');
      },
    });
    const sink = new Sink();
    cache.watchFrom(10, sink);
    cache.receive(change(14, 13));
    await new Promise((r) => setImmediate(r));
    assert.equal(sink.error?.code, 410);
    assert.equal(cache.revision, 14);
    const late = new Sink();
    cache.watchFrom(13, late);
    assert.deepEqual(late.revisions, [14]);
  });

  test('catchUp after a reconnect brings the cache to the given revision with nothing after it', async () => {
    const all = changes(11, 12);
    const h = historyRefill(all);
    h.release();
    const cache = new WatchCache(10, { capacity: 100, refill: h.refill });
    const sink = new Sink();
    cache.watchFrom(10, sink);
    cache.catchUp(20);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sink.revisions, [11, 12]);
    assert.equal(cache.revision, 20, 'history up to 20 is complete even where nothing happened');
    cache.receive(change(12, 11)); // the late bus copy is a duplicate
    assert.deepEqual(sink.revisions, [11, 12]);
  });
});

describe('WatchCache: the window is bounded by time as well as count', () => {
  test('changes older than maxAgeMs leave the window; resumes before them are 410 here (history serves them)', () => {
    let now = 1_000_000;
    const cache = new WatchCache(10, { capacity: 100, maxAgeMs: 60_000, clock: () => now });
    feed(cache, changes(11, 12));
    now += 61_000;
    feed(cache, changes(13, 13));
    expired(() => cache.watchFrom(11, new Sink()));
    const sink = new Sink();
    cache.watchFrom(12, sink);
    assert.deepEqual(sink.revisions, [13]);
  });
});
