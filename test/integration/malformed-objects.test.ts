/**
 * No stored object can make another request fail. Objects written straight into the store (past
 * the write checks, as before them or by another writer of etcd) with metadata of the wrong
 * shape: the REST API still answers every list, selector list, Table list and watch of their
 * collection with 200, skipping them where selectors cannot read them and printing them where
 * it lists them, and each is logged once. On the memory backend and on a real etcd, with the
 * whole read path in one process: REST handler, pipeline, storage, changefeed, watch cache.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startEtcd, type EtcdServer } from '../../lib/local/etcd.ts';
import type { Logger } from '../../lib/log.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { SYSTEM_MASTERS } from '../../services/auth/api.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { BodyReader } from '../../services/gateway/rest/body.ts';
import { BodyBudget, DEFAULT_EDGE_LIMITS } from '../../services/gateway/rest/edge-limits.ts';
import { RestHandler } from '../../services/gateway/rest/handler.ts';
import type { ChangeSource, Storage } from '../../services/storage/api.ts';
import { createEtcdClient, EtcdStorage } from '../../services/storage/backends/etcd.ts';
import { MemoryEngine, MemoryStorage } from '../../services/storage/backends/memory.ts';
import { feedCachesLocally } from '../../services/watch/local-feed.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';

const TOKEN = 'malformed-objects-test-token';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const CONFIGMAPS = '/api/v1/namespaces/ns/configmaps';

/** What the fuzz run stored, and more shapes no typed decoding would accept. */
const POISONED: readonly [name: string, json: string][] = [
  ['p', '{"metadata":{"name":"p","namespace":"ns","labels":null}}'],
  ['labels-string', '{"metadata":{"name":"labels-string","namespace":"ns","labels":"app=web"}}'],
  ['metadata-array', '{"metadata":["metadata-array"]}'],
  ['no-metadata', '{"data":{"a":"b"}}'],
  ['numeric-annotation', '{"metadata":{"name":"numeric-annotation","namespace":"ns","labels":{"app":"web"},"annotations":{"n":1}}}'],
  ['name-object', '{"metadata":{"name":{"a":1},"namespace":"ns","labels":{"app":"web"}}}'],
  ['not-json', '{"metadata":'],
  ['uid-number', '{"metadata":{"name":"uid-number","namespace":"ns","uid":42}}'],
];

/** A logger that keeps the keys of what it warned about. */
function recordingLogger(): { logger: Logger; warnedKeys: string[] } {
  const warnedKeys: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (_msg, fields) => {
      if (typeof fields?.key === 'string') warnedKeys.push(fields.key);
    },
    error: () => {},
    with: () => logger,
  };
  return { logger, warnedKeys };
}

interface Backend {
  storage: Storage & ChangeSource;
  putRaw(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

interface Stack {
  base: string;
  putRaw(key: string, value: string): Promise<void>;
  warnedKeys: string[];
  stop(): Promise<void>;
}

/** The read path of the control plane in one process over `backend`, REST on a local port. */
async function startStack(makeBackend: (logger: Logger) => Promise<Backend>): Promise<Stack> {
  const { logger, warnedKeys } = recordingLogger();
  const backend = await makeBackend(logger);
  const { storage } = backend;
  const registry = builtinRegistry();
  const { caches, subscription } = await feedCachesLocally({ source: storage, storage, resources: registry.all, logger, cacheCapacity: 1000 });
  const watcher = new WatchService({ caches, storage, registry, logger });
  const admission = buildAdmissionChain({ registry, storage });
  const authenticator = new TokenFileAuthenticator([{ token: TOKEN, user: { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] } }]);
  const pipeline = new Pipeline({ authenticator, authorizer: new PrivilegedGroupAuthorizer(), admission, storage, watcher, kinds: registry, authCacheTtlMs: 0 });
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });
  const bodies = new BodyReader({ budget: new BodyBudget(DEFAULT_EDGE_LIMITS.maxBodyBytesInFlight), timeoutMs: DEFAULT_EDGE_LIMITS.bodyTimeoutMs });
  const rest = new RestHandler({ pipeline, registry, tracer: telemetry.tracer, propagator: telemetry.propagator, logger, serverAddress: '127.0.0.1', bodies });
  const server: Server = createServer(rest.handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    putRaw: backend.putRaw,
    warnedKeys,
    stop: async () => {
      rest.shutdown();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await subscription.close();
      for (const cache of caches.values()) cache.close();
      await backend.close();
    },
  };
}

/** A watch stream's events as they arrive; `until` resolves when the events seen satisfy it. */
function openWatch(base: string, path: string, signal: AbortSignal) {
  const events: { type: string; object: Record<string, unknown> }[] = [];
  let status = 0;
  let wake: (() => void) | undefined;
  const done = (async () => {
    try {
      const res = await fetch(base + path, { headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/json' }, signal });
      status = res.status;
      wake?.();
      let partial = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body ?? []) {
        partial += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          if (line.trim() !== '') events.push(JSON.parse(line) as { type: string; object: Record<string, unknown> });
          wake?.();
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  })();
  return {
    events,
    status: () => status,
    async until(what: string, predicate: (seen: typeof events) => boolean, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => e.type))}`);
        await Promise.race([new Promise<void>((r) => (wake = r)), new Promise((r) => setTimeout(r, 100)), done]);
      }
    },
    done,
  };
}

function runCases(name: string, makeBackend: (logger: Logger) => Promise<Backend>): void {
  describe(`malformed stored objects: ${name}`, () => {
    let stack: Stack;
    const request = async (path: string, init: { method?: string; body?: unknown; accept?: string } = {}) => {
      const res = await fetch(stack.base + path, {
        method: init.method ?? 'GET',
        headers: { Authorization: `Bearer ${TOKEN}`, Accept: init.accept ?? 'application/json', 'Content-Type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const itemNames = (list: Record<string, unknown>) =>
      (list.items as { metadata?: { name?: unknown } }[]).map((o) => (typeof o.metadata?.name === 'string' ? o.metadata.name : '(none)'));

    before(async () => {
      stack = await startStack(makeBackend);
      assert.equal((await request('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'ns' } } })).status, 201);
    });

    after(async () => {
      await stack?.stop();
    });

    test('lists, selector lists, Table lists and watches of the collection answer 200 and skip or print them', async () => {
      const controller = new AbortController();
      try {
        // Watches open before the poisoned writes: they must survive them.
        const byLabel = openWatch(stack.base, `${CONFIGMAPS}?watch=1&labelSelector=${encodeURIComponent('app=web')}`, controller.signal);
        const byField = openWatch(stack.base, `${CONFIGMAPS}?watch=1&fieldSelector=${encodeURIComponent('metadata.name!=zzz')}`, controller.signal);
        const everything = openWatch(stack.base, `${CONFIGMAPS}?watch=1`, controller.signal);
        await byLabel.until('the label watch to start', () => byLabel.status() === 200);
        await byField.until('the field watch to start', () => byField.status() === 200);
        await everything.until('the plain watch to start', () => everything.status() === 200);

        for (const [name, json] of POISONED) await stack.putRaw(`/registry/configmaps/ns/${name}`, json);
        const created = await request(CONFIGMAPS, { method: 'POST', body: { metadata: { name: 'web', labels: { app: 'web' } } } });
        assert.equal(created.status, 201);

        // Every change reaches the watches in revision order, so once "web" arrived the poisoned
        // ones were offered before it, and skipped.
        const names = (events: typeof byLabel.events) => events.map((e) => `${e.type} ${String((e.object.metadata as { name?: unknown } | undefined)?.name ?? '(none)')}`);
        await byLabel.until('web through the label watch', (seen) => seen.some((e) => e.type === 'ADDED'));
        assert.deepEqual(names(byLabel.events), ['ADDED web']);
        await byField.until('web through the field watch', (seen) => seen.some((e) => (e.object.metadata as { name?: string }).name === 'web'));
        assert.deepEqual(names(byField.events), ['ADDED p', 'ADDED (none)', 'ADDED (none)', 'ADDED web'], 'null labels and no metadata are well-formed');
        await everything.until('web through the plain watch', (seen) => seen.some((e) => (e.object.metadata as { name?: string }).name === 'web'));
        assert.equal(everything.events.length, POISONED.length - 1 + 1, 'without selectors every object change but the unparsable one is delivered');

        const byLabelList = await request(`${CONFIGMAPS}?labelSelector=${encodeURIComponent('app=web')}`);
        assert.equal(byLabelList.status, 200, JSON.stringify(byLabelList.json));
        assert.deepEqual(itemNames(byLabelList.json), ['web']);
        const byFieldList = await request(`${CONFIGMAPS}?fieldSelector=${encodeURIComponent('metadata.name=p')}`);
        assert.equal(byFieldList.status, 200);
        assert.deepEqual(itemNames(byFieldList.json), ['p']);
        const notLabelled = await request(`${CONFIGMAPS}?labelSelector=${encodeURIComponent('!app')}&limit=1`);
        assert.equal(notLabelled.status, 200);
        assert.deepEqual(itemNames(notLabelled.json), ['(none)']);
        const plain = await request(CONFIGMAPS);
        assert.equal(plain.status, 200);
        // In key order: labels-string, metadata-array, name-object, no-metadata, (not-json left out), numeric-annotation, p, uid-number, web.
        assert.deepEqual(itemNames(plain.json), ['labels-string', '(none)', '(none)', '(none)', 'numeric-annotation', 'p', 'uid-number', 'web']);
        const clusterWide = await request(`/api/v1/configmaps?labelSelector=${encodeURIComponent('app')}`);
        assert.equal(clusterWide.status, 200);
        assert.deepEqual(itemNames(clusterWide.json), ['web']);

        const table = await request(CONFIGMAPS, { accept: TABLE });
        assert.equal(table.status, 200);
        const rows = table.json.rows as { cells: unknown[] }[];
        assert.deepEqual(
          rows.map((r) => r.cells.slice(0, 2)),
          [['labels-string', 0], ['', 0], ['', 0], ['', 1], ['numeric-annotation', 0], ['p', 0], ['uid-number', 0], ['web', 0]],
          'every object prints, its absent or mistyped cells as kube prints zero values',
        );
        const selectedTable = await request(`${CONFIGMAPS}?labelSelector=${encodeURIComponent('app=web')}`, { accept: TABLE });
        assert.equal(selectedTable.status, 200);
        assert.deepEqual((selectedTable.json.rows as { cells: unknown[] }[]).map((r) => r.cells[0]), ['web']);
        assert.equal((await request(`${CONFIGMAPS}/labels-string`, { accept: TABLE })).status, 200);

        // Logged once each, however many requests skipped them.
        const storageKeys = stack.warnedKeys.filter((k) => k.startsWith('/registry/'));
        assert.deepEqual(new Set(storageKeys).size, storageKeys.length, `each key once: ${JSON.stringify(storageKeys)}`);
        assert.ok(storageKeys.includes('/registry/configmaps/ns/labels-string'));
        assert.ok(storageKeys.includes('/registry/configmaps/ns/not-json'));
        const watchKeys = stack.warnedKeys.filter((k) => !k.startsWith('/registry/'));
        assert.deepEqual(new Set(watchKeys).size, watchKeys.length, `each key once: ${JSON.stringify(watchKeys)}`);
        assert.ok(watchKeys.includes('/configmaps/ns/numeric-annotation'));
      } finally {
        controller.abort();
      }
    });

    test('a new watch with selectors starts from a list that holds them, and they can be replaced and deleted', async () => {
      const controller = new AbortController();
      try {
        const watch = openWatch(stack.base, `${CONFIGMAPS}?watch=1&labelSelector=${encodeURIComponent('app in (web)')}`, controller.signal);
        await watch.until('the initial state', (seen) => seen.length >= 1);
        assert.equal(watch.status(), 200);
        assert.deepEqual(watch.events.map((e) => (e.object.metadata as { name?: string }).name), ['web']);
        // Replaced with a well-formed object, it matches again.
        const replaced = await request(`${CONFIGMAPS}/labels-string`, { method: 'PUT', body: { metadata: { name: 'labels-string', labels: { app: 'web' } } } });
        assert.equal(replaced.status, 200, JSON.stringify(replaced.json));
        await watch.until('the replaced object', (seen) => seen.length >= 2);
        assert.deepEqual(watch.events.map((e) => `${e.type} ${(e.object.metadata as { name?: string }).name}`), ['ADDED web', 'ADDED labels-string']);
        for (const name of ['p', 'labels-string', 'metadata-array', 'no-metadata', 'numeric-annotation', 'name-object', 'uid-number']) {
          const deleted = await request(`${CONFIGMAPS}/${name}`, { method: 'DELETE' });
          assert.equal(deleted.status, 200, `${name}: ${JSON.stringify(deleted.json)}`);
          // A Status clients can decode: details.uid is a string whatever the object held.
          assert.equal(typeof (deleted.json.details as { uid?: unknown }).uid, 'string', name);
        }
        const left = await request(CONFIGMAPS);
        assert.deepEqual(itemNames(left.json), ['web']);
        // Of the deletions the watch saw only the one that matched, and it is still live.
        await request(CONFIGMAPS, { method: 'POST', body: { metadata: { name: 'web2', labels: { app: 'web' } } } });
        await watch.until('web2', (seen) => seen.length >= 4);
        assert.deepEqual(watch.events.map((e) => `${e.type} ${(e.object.metadata as { name?: string }).name}`), [
          'ADDED web',
          'ADDED labels-string',
          'DELETED labels-string',
          'ADDED web2',
        ]);
      } finally {
        controller.abort();
      }
    });
  });
}

runCases('memory backend', async (logger) => {
  const engine = new MemoryEngine();
  const storage = new MemoryStorage({ logger }, engine);
  return {
    storage,
    putRaw: async (key, value) => {
      await engine.create(key, value);
    },
    close: async () => {},
  };
});

describe('on a real etcd', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  runCases('etcd backend', async (logger) => {
    const telemetry = createTelemetry({ serviceName: 'test', env: {} });
    const client = createEtcdClient(etcd.endpoint);
    const storage = new EtcdStorage(client, { tracer: telemetry.tracer, logger });
    return {
      storage,
      putRaw: async (key, value) => {
        await client.put(key).value(value);
      },
      close: async () => client.close(),
    };
  });
});
