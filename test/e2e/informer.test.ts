/**
 * End to end with a real `@kubernetes/client-node` informer against the gateway's REST API:
 * the whole control plane as separate processes on real etcd and Redis, the client configured
 * from the admin kubeconfig as a user's controller would be.
 *
 * client-node 2.0.1's informer (`makeInformer` = `new ListWatch(path, new Watch(kc), listFn)`)
 * lists, then watches `?watch=true&resourceVersion=<last seen>`; on a 410 (ERROR event or
 * HTTP status) it relists and diffs its cache against the list; on a stream that ends it
 * watches again from the last resourceVersion (1 s, 2 s, ... apart while nothing arrives). It
 * sends neither allowWatchBookmarks nor timeoutSeconds nor sendInitialEvents; its `Watch` is
 * used directly here for the watch-list (KEP-3157) request.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, KubeConfig, ListWatch, makeInformer, Watch, type Informer, type V1ConfigMap } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { createEtcdClient } from '../../services/storage/backends/etcd.ts';

const NS = 'informer';
const PATH = `/api/v1/namespaces/${NS}/configmaps`;
/** How long any one awaited event may take (reconnects back off 1 s, 2 s, 4 s, ...). */
const EVENT_TIMEOUT_MS = 15_000;

let dir: string;
let plane: ControlPlane;
let kc: KubeConfig;
let api: CoreV1Api;
/** The long-lived informer of the first suite. */
let main: ReturnType<typeof createInformer>;

/** Every recorder calls bump() when it records something; until() re-checks then. */
const changes = new EventTarget();
function bump(): void {
  changes.dispatchEvent(new Event('change'));
}

/** Resolves once `check()` holds (checked now and after every recorded event), or fails after timeoutMs. */
function until(what: string, check: () => boolean, timeoutMs = EVENT_TIMEOUT_MS): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onChange = () => {
      if (!check()) return;
      clearTimeout(timer);
      changes.removeEventListener('change', onChange);
      resolve();
    };
    const timer = setTimeout(() => {
      changes.removeEventListener('change', onChange);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    changes.addEventListener('change', onChange);
  });
}

type Query = Record<string, string | number | boolean | undefined>;
interface WireObject {
  kind?: string;
  apiVersion?: string;
  code?: number;
  reason?: string;
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
}

/**
 * client-node's Watch, recording what goes over the wire: each watch request's query, each
 * event as parsed, and how each stream ended. `extraQuery` is added to every request.
 */
class RecordingWatch extends Watch {
  readonly requests: Query[] = [];
  readonly events: { type: string; object: WireObject }[] = [];
  readonly ends: unknown[] = [];
  private readonly extraQuery: Query;

  constructor(config: KubeConfig, extraQuery: Query = {}) {
    super(config);
    this.extraQuery = extraQuery;
  }

  override watch(path: string, queryParams: Query, callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    const query = { ...queryParams, ...this.extraQuery };
    this.requests.push(query);
    return super.watch(
      path,
      query,
      (phase, object, raw) => {
        this.events.push({ type: phase, object: object as WireObject });
        callback(phase, object, raw);
        bump();
      },
      (err) => {
        this.ends.push(err ?? null);
        done(err);
        bump();
      },
    );
  }

  /** Change events (not BOOKMARK/ERROR) as "TYPE name@rv". */
  changeEvents(from = 0): string[] {
    return this.events
      .slice(from)
      .filter((e) => e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED')
      .map((e) => `${e.type} ${e.object.metadata?.name}@${e.object.metadata?.resourceVersion}`);
  }
}

/** What an informer's handlers were called with, as "verb name@rv", and its errors. */
class InformerLog {
  readonly seen: string[] = [];
  readonly objects: V1ConfigMap[] = [];
  readonly errors: unknown[] = [];

  constructor(informer: Informer<V1ConfigMap>) {
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, (object: V1ConfigMap) => {
        this.seen.push(`${verb} ${object.metadata?.name}@${object.metadata?.resourceVersion}`);
        this.objects.push(object);
        bump();
      });
    }
    informer.on('error', (err: unknown) => {
      this.errors.push(err);
      bump();
    });
  }

  has(entry: string): boolean {
    return this.seen.includes(entry);
  }

  /** Errors other than the AbortError that stop() causes; any of them would stop the informer for good. */
  realErrors(): unknown[] {
    return this.errors.filter((e) => !(e instanceof Error && e.name === 'AbortError'));
  }
}

/**
 * An informer on PATH built as makeInformer builds it, with a recording Watch and a counted
 * list; `inactivityTimeoutMs` replaces client-node's 30 s (a private field of its Watch).
 */
function createInformer(extraQuery: Query = {}, inactivityTimeoutMs?: number) {
  const watch = new RecordingWatch(kc, extraQuery);
  if (inactivityTimeoutMs !== undefined) Object.assign(watch, { requestTimeoutMs: inactivityTimeoutMs });
  const counter = { lists: 0 };
  const informer = new ListWatch<V1ConfigMap>(
    PATH,
    watch,
    () => {
      counter.lists++;
      return api.listNamespacedConfigMap({ namespace: NS });
    },
    false,
  );
  const log = new InformerLog(informer);
  return { informer, watch, log, counter };
}

/** Stops an informer and waits for the AbortError its aborted watch reports (so a later start() is not aborted by it). */
async function stopInformer(informer: ListWatch<V1ConfigMap>, log: InformerLog): Promise<void> {
  const errors = log.errors.length;
  await informer.stop();
  await until('the stopped informer to report its aborted watch', () => log.errors.length > errors);
}

const rv = (o: { metadata?: { resourceVersion?: string } } | undefined): string => o?.metadata?.resourceVersion ?? '';
const entries = (objects: readonly V1ConfigMap[]) => objects.map((o) => `${o.metadata?.name}@${rv(o)}`).sort();

function create(name: string, data: Record<string, string>, labels?: Record<string, string>, namespace = NS): Promise<V1ConfigMap> {
  return api.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels }, data } });
}

/** The informer's cache holds exactly what a fresh list holds: the same names at the same resourceVersions. */
async function assertConverged(informer: ListWatch<V1ConfigMap>): Promise<void> {
  const fresh = await api.listNamespacedConfigMap({ namespace: NS });
  assert.deepEqual(entries(informer.list(NS)), entries(fresh.items));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-informer-'));
  // A tiny watch cache, so that a resume from an old resourceVersion must go to storage's
  // history, and is answered 410 once that history is compacted.
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs'), flags: { watch: ['--cache-capacity=2'] } });
  kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  api = kc.makeApiClient(CoreV1Api);
  await api.createNamespace({ body: { metadata: { name: NS } } });
  main = createInformer();
});

after(async () => {
  await plane?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a client-node informer against the gateway', () => {
  const objects: Record<string, V1ConfigMap> = {};

  after(async () => {
    await main?.informer.stop();
  });

  test('the initial list delivers the existing objects as add, then it watches from the list', async () => {
    objects.one = await create('one', { v: '1' });
    objects.two = await create('two', { v: '1' });
    await main.informer.start();
    assert.deepEqual(main.log.seen, [`add one@${rv(objects.one)}`, `add two@${rv(objects.two)}`]);
    assert.deepEqual(main.log.objects.map((o) => o.data), [{ v: '1' }, { v: '1' }]);
    assert.equal(main.counter.lists, 1);
    const first = main.watch.requests[0];
    assert.match(String(first?.resourceVersion), /^\d+$/);
    assert.ok(Number(first?.resourceVersion) >= Number(rv(objects.two)), `watch from ${first?.resourceVersion}`);
    await assertConverged(main.informer);
  });

  test('creates, updates (PUT) and deletes arrive as add, update, delete with their objects and resourceVersions', async () => {
    const mark = main.log.seen.length;
    const three = await create('three', { v: '1' });
    await until('add three', () => main.log.has(`add three@${rv(three)}`));

    // A controller's update: take the cached object, change it, replace (conditional on its resourceVersion).
    const cached = main.informer.get('one', NS);
    assert.ok(cached !== undefined);
    const replaced = await api.replaceNamespacedConfigMap({ name: 'one', namespace: NS, body: { ...cached, data: { v: '2' } } });
    assert.ok(Number(rv(replaced)) > Number(rv(objects.one)));
    await until('update one', () => main.log.has(`update one@${rv(replaced)}`));
    assert.deepEqual(main.informer.get('one', NS)?.data, { v: '2' });
    assert.equal(main.informer.get('one', NS)?.metadata?.uid, objects.one?.metadata?.uid);

    const status = await api.deleteNamespacedConfigMap({ name: 'two', namespace: NS });
    assert.equal(status.status, 'Success');
    assert.deepEqual({ ...status.details }, { name: 'two', kind: 'configmaps', uid: objects.two?.metadata?.uid });
    await until('delete two', () => main.log.seen.slice(mark).some((s) => s.startsWith('delete two@')));
    const deleted = main.log.objects[main.log.objects.length - 1];
    // kube stamps the deleted object's last state with the deletion's revision.
    assert.equal(deleted?.metadata?.uid, objects.two?.metadata?.uid);
    assert.ok(Number(rv(deleted)) > Number(rv(replaced)), `deleted at ${rv(deleted)}`);
    assert.equal(main.informer.get('two', NS), undefined);

    assert.deepEqual(main.log.seen.slice(mark), [`add three@${rv(three)}`, `update one@${rv(replaced)}`, `delete two@${rv(deleted)}`]);
    assert.deepEqual(
      main.watch.changeEvents(),
      [`ADDED three@${rv(three)}`, `MODIFIED one@${rv(replaced)}`, `DELETED two@${rv(deleted)}`],
    );
    objects.one = replaced;
    objects.three = three;
    await assertConverged(main.informer);
  });

  test('when the watch service restarts, the informer resumes from its last resourceVersion: nothing missed, nothing twice, no relist', async () => {
    const mark = main.log.seen.length;
    const wireMark = main.watch.events.length;
    const requestMark = main.watch.requests.length;
    const endsMark = main.watch.ends.length;
    const resumeFrom = main.informer.latestResourceVersion();

    await plane.processes.watch.stop();
    // The stream ends: the watch service ends its streams on SIGTERM, the gateway its REST stream.
    await until('the watch stream to end', () => main.watch.ends.length > endsMark);
    // Changes while no watch service runs: the restarted one has none of them in its cache.
    const four = await create('four', { v: '1' });
    const threeCached = main.informer.get('three', NS);
    const three = await api.replaceNamespacedConfigMap({ name: 'three', namespace: NS, body: { ...threeCached, data: { v: '2' } } });
    await api.deleteNamespacedConfigMap({ name: 'one', namespace: NS });
    await plane.restart('watch');
    const five = await create('five', { v: '1' });

    await until('add five', () => main.log.has(`add five@${rv(five)}`));
    const seen = main.log.seen.slice(mark);
    const deletedOne = seen.find((s) => s.startsWith('delete one@')) ?? '';
    const deletedAt = Number(deletedOne.split('@')[1]);
    assert.ok(deletedAt > Number(rv(three)) && deletedAt < Number(rv(five)), `${deletedOne} between ${rv(three)} and ${rv(five)}`);
    assert.deepEqual(seen, [`add four@${rv(four)}`, `update three@${rv(three)}`, deletedOne, `add five@${rv(five)}`]);
    assert.deepEqual(main.watch.changeEvents(wireMark), [`ADDED four@${rv(four)}`, `MODIFIED three@${rv(three)}`, `DELETED one@${deletedAt}`, `ADDED five@${rv(five)}`]);

    // It resumed (every new watch from a resourceVersion, the first from the last one seen), never relisted.
    assert.equal(main.counter.lists, 1);
    const resumed = main.watch.requests.slice(requestMark);
    assert.ok(resumed.length >= 1);
    assert.equal(resumed[0]?.resourceVersion, resumeFrom);
    for (const q of resumed) assert.match(String(q.resourceVersion), /^\d+$/);
    assert.deepEqual(main.log.realErrors(), []);
    objects.three = three;
    await assertConverged(main.informer);
  });

  const endings = [
    {
      by: 'the server (timeoutSeconds=1)',
      // client-node cannot ask for timeoutSeconds itself; its Watch adds it to every request here.
      make: () => createInformer({ timeoutSeconds: 1 }),
      // The stream ends cleanly; client-node reconnects at once, then 1 s later while nothing arrives.
      end: (e: unknown) => e === null,
      name: 'six',
    },
    {
      by: 'the client (its inactivity timeout, 30 s by default, here 500 ms)',
      make: () => createInformer({}, 500),
      // client-node aborts a stream quiet for that long and reconnects at once.
      end: (e: unknown) => e instanceof Error && e.name === 'TimeoutError',
      name: 'six-b',
    },
  ];
  for (const ending of endings) {
    test(`a watch stream ended by ${ending.by} is resumed without a relist`, async () => {
      const b = ending.make();
      try {
        await b.informer.start();
        assert.ok(b.log.seen.length > 0 && b.log.seen.every((s) => s.startsWith('add ')), b.log.seen.join(', '));
        await assertConverged(b.informer);
        await until('two streams to end', () => b.watch.ends.length >= 2);
        assert.ok(b.watch.ends.slice(0, 2).every(ending.end), String(b.watch.ends));
        const created = await create(ending.name, { v: '1' });
        await until(`add ${ending.name}`, () => b.log.has(`add ${ending.name}@${rv(created)}`));
        assert.deepEqual(b.watch.changeEvents(), [`ADDED ${ending.name}@${rv(created)}`]);
        assert.equal(b.counter.lists, 1);
        const listedAt = b.watch.requests[0]?.resourceVersion;
        for (const q of b.watch.requests.slice(1)) assert.ok(q.resourceVersion === listedAt || q.resourceVersion === rv(created), `resumed from ${q.resourceVersion}`);
        assert.deepEqual(b.log.realErrors(), []);
        await until(`the long-lived informer to see ${ending.name} too`, () => main.log.has(`add ${ending.name}@${rv(created)}`));
        await assertConverged(b.informer);
      } finally {
        await b.informer.stop();
      }
    });
  }

  test('relist on 410: an informer resuming from a compacted resourceVersion relists and converges to the true state', async () => {
    await stopInformer(main.informer, main.log);
    const mark = main.log.seen.length;
    const wireMark = main.watch.events.length;
    const stale = main.informer.latestResourceVersion();

    // More changes than the watch cache holds, then compact etcd's history past them.
    await api.deleteNamespacedConfigMap({ name: 'three', namespace: NS });
    const four = await api.replaceNamespacedConfigMap({ name: 'four', namespace: NS, body: { ...(await get('four')), data: { v: '2' } } });
    const seven = await create('seven', { v: '1' });
    const eight = await create('eight', { v: '1' });
    // Once the watch cache holds eight, its window (the last 2 changes) starts after `stale`,
    // so the informer's resume must come from storage's history, compacted below.
    await watchCacheHas(rv(seven), 'eight');
    const now = rv(await api.listNamespacedConfigMap({ namespace: NS }));
    const etcd = createEtcdClient(plane.etcdEndpoints);
    try {
      await etcd.kv.compact({ revision: now });
    } finally {
      etcd.close();
    }

    await main.informer.start();
    await until('the relist', () => main.counter.lists === 2);
    const expected = [`delete three@${rv(objects.three)}`, `update four@${rv(four)}`, `add seven@${rv(seven)}`, `add eight@${rv(eight)}`];
    await until('the relist diff', () => expected.every((e) => main.log.has(e)));

    // It asked from the stale resourceVersion, got one ERROR 410 Expired, then listed.
    const wire = main.watch.events.slice(wireMark);
    assert.equal(wire[0]?.type, 'ERROR');
    assert.equal(wire[0]?.object.code, 410);
    assert.equal(wire[0]?.object.reason, 'Expired');
    assert.ok(main.watch.requests.some((q) => q.resourceVersion === stale));
    assert.deepEqual(main.log.seen.slice(mark).sort(), expected.sort());
    await assertConverged(main.informer);

    // And it watches on from the relist.
    const nine = await create('nine', { v: '1' });
    await until('add nine', () => main.log.has(`add nine@${rv(nine)}`));
    assert.equal(main.log.seen.length, mark + expected.length + 1);
    assert.deepEqual(main.log.realErrors(), []);
    await assertConverged(main.informer);
  });

  test('no change event was delivered twice over the whole run', () => {
    const events = main.watch.changeEvents();
    assert.deepEqual(events, [...new Set(events)]);
  });
});

async function get(name: string): Promise<V1ConfigMap> {
  return api.readNamespacedConfigMap({ name, namespace: NS });
}

/** Resolves once a watch from resourceVersion `from` delivers a change of `name`: the watch cache has received it. */
async function watchCacheHas(from: string, name: string): Promise<void> {
  let seen = false;
  const controller = await new Watch(kc).watch(
    PATH,
    { resourceVersion: from },
    (_type, object: WireObject) => {
      if (object.metadata?.name === name) seen = true;
      bump();
    },
    () => bump(),
  );
  try {
    await until(`the watch cache to receive ${name}`, () => seen);
  } finally {
    controller.abort();
  }
}

describe('watch-list (sendInitialEvents) with client-node Watch', () => {
  for (const from of ['unset', 'the list'] as const) {
    test(`resourceVersion ${from}: ADDED for the current state, a BOOKMARK marking its end, then changes`, async () => {
      const current = await api.listNamespacedConfigMap({ namespace: NS });
      const events: { type: string; object: WireObject }[] = [];
      let ended: unknown;
      const query: Query = { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true };
      if (from === 'the list') query.resourceVersion = rv(current);
      const controller = await new Watch(kc).watch(
        PATH,
        query,
        (type, object: WireObject) => {
          events.push({ type, object });
          bump();
        },
        (err) => {
          ended = err ?? null;
          bump();
        },
      );
      try {
        await until('the initial-events-end bookmark', () => events.some((e) => e.type === 'BOOKMARK'));
        const end = events.findIndex((e) => e.type === 'BOOKMARK');
        const initial = events.slice(0, end);
        assert.ok(initial.every((e) => e.type === 'ADDED'), JSON.stringify(initial.map((e) => e.type)));
        assert.deepEqual(
          initial.map((e) => `${e.object.metadata?.name}@${rv(e.object)}`).sort(),
          entries(current.items),
        );
        assert.ok(initial.every((e) => e.object.kind === 'ConfigMap' && e.object.apiVersion === 'v1'));
        const bookmark = events[end]?.object;
        assert.equal(bookmark?.kind, 'ConfigMap');
        assert.equal(bookmark?.apiVersion, 'v1');
        assert.deepEqual(bookmark?.metadata?.annotations, { 'k8s.io/initial-events-end': 'true' });
        assert.ok(Number(rv(bookmark)) >= Number(rv(current)), `bookmark at ${rv(bookmark)}, list at ${rv(current)}`);

        const added = await create(`watch-list-${from === 'unset' ? 'a' : 'b'}`, { v: '1' });
        await until('the change after the bookmark', () => events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === added.metadata?.name));
        assert.deepEqual(
          events.slice(end + 1).map((e) => `${e.type} ${e.object.metadata?.name}@${rv(e.object)}`),
          [`ADDED ${added.metadata?.name}@${rv(added)}`],
        );
        assert.equal(ended, undefined);
      } finally {
        controller.abort();
      }
    });
  }
});

describe('a label-selected informer (makeInformer with a labelSelector)', () => {
  test('objects entering and leaving the selection arrive as add and delete', async () => {
    const ns = 'informer-selected';
    await api.createNamespace({ body: { metadata: { name: ns } } });
    await create('web-0', { v: '1' }, { tier: 'web' }, ns);
    await create('db-0', { v: '1' }, { tier: 'db' }, ns);
    const selected = makeInformer<V1ConfigMap>(
      kc,
      `/api/v1/namespaces/${ns}/configmaps`,
      () => api.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier=web' }),
      'tier=web',
    );
    const log = new InformerLog(selected);
    try {
      await selected.start();
      assert.deepEqual(log.seen.map((s) => s.split('@')[0]), ['add web-0']);

      const web1 = await create('web-1', { v: '1' }, { tier: 'web' }, ns);
      await until('add web-1', () => log.has(`add web-1@${rv(web1)}`));
      // Moves out of the selection: DELETED (its last matching state, at the change's revision).
      const moved = await api.replaceNamespacedConfigMap({ name: 'web-1', namespace: ns, body: { ...web1, metadata: { ...web1.metadata, labels: { tier: 'db' } } } });
      await until('delete web-1', () => log.has(`delete web-1@${rv(moved)}`));
      assert.equal(log.objects[log.objects.length - 1]?.metadata?.labels?.tier, 'web');
      // A change outside the selection is not seen; moving back in is an add.
      const db0 = await api.readNamespacedConfigMap({ name: 'db-0', namespace: ns });
      await api.replaceNamespacedConfigMap({ name: 'db-0', namespace: ns, body: { ...db0, data: { v: '2' } } });
      const back = await api.replaceNamespacedConfigMap({ name: 'web-1', namespace: ns, body: { ...moved, metadata: { ...moved.metadata, labels: { tier: 'web' } } } });
      await until('add web-1 again', () => log.has(`add web-1@${rv(back)}`));
      assert.deepEqual(log.seen.slice(1), [`add web-1@${rv(web1)}`, `delete web-1@${rv(moved)}`, `add web-1@${rv(back)}`]);
      assert.deepEqual(selected.list(ns).map((o) => o.metadata?.name).sort(), ['web-0', 'web-1']);
      assert.deepEqual(log.realErrors(), []);
    } finally {
      await selected.stop();
    }
  });
});
