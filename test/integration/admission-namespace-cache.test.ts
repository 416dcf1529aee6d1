/**
 * NamespaceLifecycle over its namespace cache, as kube's plugin over its informer: the cache
 * answers when it can be trusted, storage is read for a namespace the cache has not seen
 * (after a short wait for it), for one deleted a moment ago, and creates wait for the cache's
 * first list. The cache is the real one (an informer) over a watch whose events each test
 * delivers itself; storage is the memory backend. Then the same over the in-process watch
 * service.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import { INITIAL_EVENTS_END, type InformerEvent, type InformerTarget, type WatchSource } from '../../lib/informer.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { createLogger } from '../../lib/log.ts';
import type { WatchOptions } from '../../lib/list-options.ts';
import type { StorageRef } from '../../services/storage/api.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { watchedPipeline } from '../support/watched-pipeline.ts';
import { SYSTEM_MASTERS } from '../../services/auth/api.ts';
import type { AdmissionRequest } from '../../services/admission/api.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { ExpiringNames, NamespaceCache } from '../../services/admission/core/namespaces.ts';
import { NamespaceLifecycle } from '../../services/admission/core/plugins.ts';

const registry = builtinRegistry();
const logger = createLogger({ service: 'test', level: 'error' });
const NAMESPACES = { group: '', resource: 'namespaces', namespace: '', name: '' };

function request(overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    operation: 'CREATE',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespace: 'team',
    name: 'cm',
    user: { username: 'alice', uid: '1', groups: ['system:authenticated'] },
    dryRun: false,
    ...overrides,
  };
}

const configMap = (name = 'cm'): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: {} });

function namespace(name: string, phase = 'Active', deleting = false): KubeObject {
  const metadata: Record<string, unknown> = { name };
  if (deleting) metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  return { apiVersion: 'v1', kind: 'Namespace', metadata, spec: { finalizers: ['kubernetes'] }, status: { phase } };
}

async function rejection(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

/** A watch whose events the test delivers: every watch the informer opens reads the one queue. */
class DeliveredWatch implements WatchSource {
  private readonly queue: InformerEvent[] = [];
  private wake: (() => void) | undefined;
  private revision = 1;
  /** How many events the watch has handed to the informer. */
  delivered = 0;

  deliver(type: InformerEvent['type'], object: KubeObject): void {
    const resourceVersion = String(++this.revision);
    const withRevision = { ...object, metadata: { ...object.metadata, resourceVersion } };
    this.queue.push({ type, object: Buffer.from(JSON.stringify(withRevision)), resourceVersion });
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The watch-list's initial events: the objects, then the bookmark that ends them. */
  list(objects: KubeObject[]): void {
    for (const object of objects) this.deliver('ADDED', object);
    this.deliver('BOOKMARK', { kind: 'Namespace', apiVersion: 'v1', metadata: { annotations: { [INITIAL_EVENTS_END]: 'true' } } });
  }

  /** Resolves once every event delivered so far has been handed to the informer and handled. */
  async drained(): Promise<void> {
    while (this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    // The informer handles an event in the same turn it receives it; one more turn to be sure.
    await new Promise((resolve) => setImmediate(resolve));
  }

  async *watch(_target: InformerTarget, _options: WatchOptions, signal: AbortSignal): AsyncIterable<InformerEvent> {
    const onAbort = () => this.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const event = this.queue.shift();
        if (event !== undefined) {
          this.delivered++;
          yield event;
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** The memory backend, counting its namespace reads (NamespaceLifecycle's live reads). */
class CountingStorage extends MemoryStorage {
  namespaceReads = 0;

  override async get(ref: StorageRef, options?: Parameters<MemoryStorage['get']>[1], signal?: AbortSignal): Promise<KubeObject> {
    if (ref.resource === 'namespaces') this.namespaceReads++;
    return super.get(ref, options, signal);
  }
}

interface Setup {
  storage: CountingStorage;
  watch: DeliveredWatch;
  cache: NamespaceCache;
  plugin: NamespaceLifecycle;
  clock: { now: number };
}

async function withSetup(run: (s: Setup) => Promise<void>, options: { readyWaitMs?: number; missingNamespaceWaitMs?: number } = {}): Promise<void> {
  const storage = new CountingStorage({ logger, kinds: registry });
  const watch = new DeliveredWatch();
  const cache = new NamespaceCache({ source: watch, logger }).start();
  const clock = { now: 1_000_000 };
  const plugin = new NamespaceLifecycle(storage, registry, {
    namespaces: cache,
    missingNamespaceWaitMs: options.missingNamespaceWaitMs ?? 20,
    readyWaitMs: options.readyWaitMs ?? 5_000,
    now: () => clock.now,
  });
  try {
    await run({ storage, watch, cache, plugin, clock });
  } finally {
    await cache.stop();
  }
}

/** Stores `ns` and lets the cache see it (the list, or an ADDED event). */
async function stored(s: Setup, ns: KubeObject): Promise<void> {
  await s.storage.create({ ...NAMESPACES, name: String(ns.metadata?.name) }, ns);
}

describe('NamespaceLifecycle over its namespace cache', () => {
  test('a namespace in the cache: admitted without reading storage', async () => {
    await withSetup(async (s) => {
      s.watch.list([namespace('team')]);
      await s.plugin.validate(request(), configMap());
      assert.equal(s.storage.namespaceReads, 0);
      assert.equal(s.cache.size, 1);
    });
  });

  test('a namespace created a moment ago, not in the cache yet: found by a live read after the wait', async () => {
    await withSetup(async (s) => {
      s.watch.list([]);
      await s.watch.drained();
      await stored(s, namespace('team'));
      const started = performance.now();
      await s.plugin.validate(request(), configMap());
      assert.ok(performance.now() - started >= 15, 'waited for the cache first');
      assert.equal(s.storage.namespaceReads, 1);
    });
  });

  test('a namespace that reaches the cache during the wait: admitted from the cache', async () => {
    await withSetup(
      async (s) => {
        s.watch.list([]);
        await s.watch.drained();
        const admitted = s.plugin.validate(request(), configMap());
        // The plugin has looked once and is waiting: the namespace's ADDED arrives now.
        s.watch.deliver('ADDED', namespace('team'));
        await admitted;
        assert.equal(s.storage.namespaceReads, 0);
      },
      { missingNamespaceWaitMs: 200 },
    );
  });

  test('a namespace neither cached nor stored: 404 `namespaces "x" not found`, after a live read', async () => {
    await withSetup(async (s) => {
      s.watch.list([namespace('team')]);
      const err = await rejection(s.plugin.validate(request({ namespace: 'nope' }), configMap()));
      assert.equal(err.code, 404);
      assert.equal(err.message, 'namespaces "nope" not found');
      assert.deepEqual(err.details, { name: 'nope', group: '', kind: 'namespaces' });
      assert.equal(s.storage.namespaceReads, 1);
    });
  });

  test('a terminating namespace in the cache: 403 with kube\'s message and cause, storage not read', async () => {
    await withSetup(async (s) => {
      s.watch.list([namespace('team', 'Terminating', true), namespace('marked', 'Active', true)]);
      for (const ns of ['team', 'marked']) {
        const err = await rejection(s.plugin.validate(request({ namespace: ns }), configMap()));
        assert.equal(err.code, 403);
        assert.equal(err.reason, 'Forbidden');
        assert.equal(err.message, `configmaps "cm" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`);
        assert.deepEqual(err.toStatus().details, {
          name: 'cm',
          kind: 'configmaps',
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
        });
      }
      assert.equal(s.storage.namespaceReads, 0);
    });
  });

  test('a namespace deleted through the plugin: read live for 30 s while the cache still shows it active', async () => {
    await withSetup(async (s) => {
      const active = namespace('team');
      await stored(s, active);
      s.watch.list([active]);
      await s.plugin.validate(request({ operation: 'DELETE', resource: 'namespaces', kind: 'Namespace', namespace: '', name: 'team' }), undefined);
      // Storage has it Terminating; the cache has not seen the change yet.
      await s.storage.update({ ...NAMESPACES, name: 'team' }, namespace('team', 'Terminating'));
      const err = await rejection(s.plugin.validate(request(), configMap()));
      assert.match(err.message, /because it is being terminated$/);
      assert.equal(s.storage.namespaceReads, 1);
      // Once the cache shows it terminating, the cache answers.
      s.watch.deliver('MODIFIED', namespace('team', 'Terminating', true));
      await s.watch.drained();
      await rejection(s.plugin.validate(request(), configMap()));
      assert.equal(s.storage.namespaceReads, 1);
    });
  });

  test('a namespace deleted through the plugin: after 30 s the cache is trusted again', async () => {
    await withSetup(async (s) => {
      s.watch.list([namespace('team')]);
      await s.watch.drained();
      await s.plugin.validate(request({ operation: 'DELETE', resource: 'namespaces', kind: 'Namespace', namespace: '', name: 'team' }), undefined);
      s.clock.now += 29_999;
      // Storage never had it: a live read says so.
      await rejection(s.plugin.validate(request(), configMap()));
      assert.equal(s.storage.namespaceReads, 1);
      s.clock.now += 1;
      await s.plugin.validate(request(), configMap());
      assert.equal(s.storage.namespaceReads, 1);
    });
  });

  test('a namespace gone from the cache and from storage: 404', async () => {
    await withSetup(async (s) => {
      s.watch.list([namespace('team')]);
      await s.watch.drained();
      await s.plugin.validate(request(), configMap());
      s.watch.deliver('DELETED', namespace('team', 'Terminating', true));
      await s.watch.drained();
      const err = await rejection(s.plugin.validate(request(), configMap()));
      assert.equal(err.message, 'namespaces "team" not found');
      assert.equal(s.storage.namespaceReads, 1);
    });
  });

  test('the cache not synced: a create waits for the first list, and is admitted from it', async () => {
    await withSetup(async (s) => {
      assert.equal(s.cache.synced(), false);
      const admitted = s.plugin.validate(request(), configMap());
      s.watch.list([namespace('team')]);
      await admitted;
      assert.equal(s.storage.namespaceReads, 0);
    });
  });

  test('the cache not synced in time: 403 "not yet ready to handle request" (a generateName names the object)', async () => {
    await withSetup(
      async (s) => {
        const err = await rejection(s.plugin.validate(request({ name: '' }), { ...configMap(), metadata: { name: 'web-x7k2p', generateName: 'web-' } }));
        assert.equal(err.code, 403);
        assert.equal(err.message, 'configmaps "web-" is forbidden: not yet ready to handle request');
        assert.deepEqual(err.details, { name: 'web-', group: '', kind: 'configmaps' });
        assert.equal(s.storage.namespaceReads, 0);
      },
      { readyWaitMs: 30 },
    );
  });

  test('a caller that goes away while the create waits for the cache: the wait ends with it', async () => {
    await withSetup(async (s) => {
      const controller = new AbortController();
      const started = performance.now();
      const waiting = rejection(s.plugin.validate(request(), configMap(), controller.signal));
      controller.abort();
      const err = await waiting;
      assert.equal(err.reason, 'Timeout');
      assert.ok(performance.now() - started < 1_000);
    });
  });
});

describe('ExpiringNames (kube\'s LRUExpireCache as NamespaceLifecycle uses it)', () => {
  test('a name leaves after its time to live', () => {
    let now = 0;
    const names = new ExpiringNames(10, 100, () => now);
    names.add('a');
    now = 99;
    assert.equal(names.has('a'), true);
    now = 100;
    assert.equal(names.has('a'), false);
    assert.equal(names.has('b'), false);
  });

  test('over capacity, the least recently used name goes first', () => {
    const names = new ExpiringNames(2, 1_000, () => 0);
    names.add('a');
    names.add('b');
    assert.equal(names.has('a'), true);
    names.add('c');
    assert.equal(names.has('b'), false);
    assert.equal(names.has('a'), true);
    assert.equal(names.has('c'), true);
  });
});

describe('the admission chain with a namespace cache over the in-process watch service', () => {
  test('namespaces created and deleted through the pipeline: admission follows them, storage is read only for the new one', async () => {
    const plane = await watchedPipeline();
    // Live reads go to the plane's storage, counted.
    const reads = { count: 0 };
    const counted = {
      get: (ref: StorageRef, options?: Parameters<MemoryStorage['get']>[1], signal?: AbortSignal) => {
        if (ref.resource === 'namespaces') reads.count++;
        return plane.storage.get(ref, options, signal);
      },
    };
    // The cache's source, passing every event on: the consumer has handled an event when it
    // asks for the next one, so each resumption tells the waiters to look at the cache again.
    const handled = new Set<() => void>();
    const source: WatchSource = {
      async *watch(target, options, signal) {
        for await (const event of plane.watcher.watch(target, options, signal)) {
          yield event;
          for (const check of handled) check();
        }
      },
    };
    const cache = new NamespaceCache({ source, logger }).start();
    /** Resolves once the cache holds `name`; fails, naming what it waited for, after `ms`. */
    const cached = (name: string, ms: number) => new Promise<void>((resolve, reject) => {
      const check = () => {
        if (cache.get(name) === undefined) return;
        handled.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        handled.delete(check);
        reject(new Error(`the namespace cache did not see namespace ${name} within ${ms} ms`));
      }, ms);
      handled.add(check);
      check();
    });
    try {
      assert.equal(await cache.waitForSync(10_000), true);
      const chain = buildAdmissionChain({ registry: plane.registry, storage: counted, namespaces: cache });
      const admin = { username: 'admin', uid: '', groups: [SYSTEM_MASTERS] };
      const admit = (ns: string, name: string) =>
        chain.admit({ operation: 'CREATE', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: ns, name, user: admin, dryRun: false, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } } });
      // The system namespaces were listed: no read.
      await admit('default', 'a');
      assert.equal(reads.count, 0);
      // A namespace created just now and used at once: found, by the cache or by a live read.
      await plane.pipeline.create(admin, plane.target('', 'v1', 'namespaces'), { metadata: { name: 'fresh' } });
      await admit('fresh', 'b');
      assert.ok(reads.count <= 1);
      const before = reads.count;
      // Once the cache has it, creates there read nothing.
      await cached('fresh', 10_000);
      for (let i = 0; i < 5; i++) await admit('fresh', `c${i}`);
      assert.equal(reads.count, before);
      // Deleted (admitted by this chain first, as the gateway does): Terminating while the
      // namespace's finalizer holds it, and creates refused whether or not the cache saw it yet.
      await chain.admit({ operation: 'DELETE', group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespace: '', name: 'fresh', user: admin, dryRun: false });
      await plane.pipeline.delete(admin, { info: plane.kind('', 'v1', 'namespaces'), namespace: '', name: 'fresh' });
      const err = await rejection(admit('fresh', 'late'));
      assert.equal(err.message, 'configmaps "late" is forbidden: unable to create new content in namespace fresh because it is being terminated');
    } finally {
      await cache.stop();
      await plane.close();
    }
  });
});
