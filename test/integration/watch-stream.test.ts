/**
 * The multiplexed watch protocol (Watch/WatchStream): open, cancel, grouped delivery,
 * per-watch errors, limits, the stream's end freeing its watches, and flow control; first on a
 * session with a hand-driven transport, then over real grpc-js with the WatchClient.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { ChangeEvent } from '../../lib/change-event.ts';
import { StatusError } from '../../lib/errors.ts';
import { GrpcServer } from '../../lib/grpc/serve.ts';
import { fromRpcStatus } from '../../lib/grpc-status.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { createLogger } from '../../lib/log.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { WatchStreamRequest__Output } from '../../lib/gen/apiserver/v1/WatchStreamRequest.ts';
import type { WatchStreamResponse } from '../../lib/gen/apiserver/v1/WatchStreamResponse.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import type { WatchEvent } from '../../services/watch/api.ts';
import { WatchCache } from '../../services/watch/core/watch-cache.ts';
import { cacheKey, WatchService } from '../../services/watch/core/watch-service.ts';
import { WatchClient } from '../../services/watch/grpc/client.ts';
import { WATCH_MAX_REQUEST_BYTES } from '../../services/watch/grpc/codec.ts';
import { watchHandlers } from '../../services/watch/grpc/server.ts';
import { WatchStreamSession } from '../../services/watch/grpc/watch-stream.ts';

const logger = createLogger({ service: 'test', level: 'error' });
const START = 100;

function cm(name: string, revision: number, labels: Record<string, string> = {}, namespace = 'ns'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels, resourceVersion: String(revision) } };
}

/** A watch service over one configmaps cache fed by hand, and a writer of changes. */
function setup(options: { maxQueuedEvents?: number; bookmarkIntervalMs?: number } = {}) {
  const cache = new WatchCache(START, { capacity: 1000 });
  const service = new WatchService({
    caches: new Map([[cacheKey('', 'configmaps'), cache]]),
    storage: new MemoryStorage(),
    registry: builtinRegistry(),
    logger,
    ...options,
  });
  let revision = START;
  const objects = new Map<string, KubeObject>();
  const write = (name: string, labels: Record<string, string> = {}, namespace = 'ns', traceparent?: string): number => {
    const prev = revision;
    revision++;
    const object = cm(name, revision, labels, namespace);
    const prevObject = objects.get(`${namespace}/${name}`);
    objects.set(`${namespace}/${name}`, object);
    const change: ChangeEvent = {
      type: prevObject === undefined ? 'ADDED' : 'MODIFIED',
      revision,
      prevRevision: prev,
      group: '',
      resource: 'configmaps',
      namespace,
      name,
      object,
      ...(prevObject === undefined ? {} : { prevObject }),
      ...(traceparent === undefined ? {} : { traceparent }),
    };
    cache.receive(change);
    return revision;
  };
  return { cache, service, write };
}

/** A transport driven by the test: write() says false once `capacity` messages are unread. */
class FakeWriter extends EventEmitter {
  readonly messages: WatchStreamResponse[] = [];
  capacity = Infinity;
  private unread = 0;

  write(message: WatchStreamResponse): boolean {
    this.messages.push(message);
    this.unread++;
    return this.unread < this.capacity;
  }

  /** The peer read everything: 'drain'. */
  drain(): void {
    this.unread = 0;
    this.emit('drain');
  }

  events(): { ids: number[]; type: string; rv: string; initial: boolean }[] {
    return this.messages
      .filter((m) => m.event !== undefined && m.event !== null)
      .map((m) => ({ ids: [...(m.ids ?? [])].sort((a, b) => a - b), type: m.event?.type ?? '', rv: m.event?.resourceVersion ?? '', initial: m.initial === true }));
  }

  closes(): { ids: number[]; reason: string }[] {
    return this.messages
      .filter((m) => m.closed !== undefined && m.closed !== null)
      .map((m) => ({
        ids: [...(m.ids ?? [])].sort((a, b) => a - b),
        reason: fromRpcStatus(m.closed?.status as Parameters<typeof fromRpcStatus>[0])?.reason ?? 'OK',
      }));
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function open(id: number, options: Record<string, unknown> = {}, ref: Record<string, string> | null = { group: '', version: 'v1', resource: 'configmaps', namespace: '', name: '' }): WatchStreamRequest__Output {
  return {
    kind: 'open',
    open: {
      id,
      ref: ref as never,
      options: {
        labelSelector: '',
        fieldSelector: '',
        resourceVersion: String(START),
        resourceVersionMatch: '',
        allowWatchBookmarks: false,
        sendInitialEvents: false,
        timeoutSeconds: '0',
        ...options,
      },
      traceparent: '',
      tracestate: '',
    },
  };
}

const cancel = (id: number): WatchStreamRequest__Output => ({ kind: 'cancel', cancel: { id } });

function session(service: WatchService, writer: FakeWriter, limits: { maxWatches?: number; maxQueuedEvents?: number } = {}) {
  return new WatchStreamSession(writer, { watcher: service, maxWatches: limits.maxWatches ?? 100, maxQueuedEvents: limits.maxQueuedEvents ?? 100, logger });
}

describe('WatchStream session', () => {
  test('one change to many watches of a stream is one message listing their ids', async () => {
    const { service, write } = setup();
    const writer = new FakeWriter();
    const s = session(service, writer);
    for (const id of [1, 2, 3]) s.receive(open(id));
    const rv = write('a');
    await tick();
    assert.deepEqual(writer.events(), [{ ids: [1, 2, 3], type: 'ADDED', rv: String(rv), initial: false }]);
  });

  test('per-watcher differences make their own messages: a selector turns MODIFIED into ADDED', async () => {
    const { service, write } = setup();
    const writer = new FakeWriter();
    const s = session(service, writer);
    s.receive(open(1));
    s.receive(open(2, { labelSelector: 'tier=gold' }));
    s.receive(open(3));
    write('a', { tier: 'silver' });
    const rv = write('a', { tier: 'gold' });
    await tick();
    assert.deepEqual(writer.events(), [
      { ids: [1, 3], type: 'ADDED', rv: String(rv - 1), initial: false },
      { ids: [1, 3], type: 'MODIFIED', rv: String(rv), initial: false },
      { ids: [2], type: 'ADDED', rv: String(rv), initial: false },
    ]);
  });

  test('a watch from a revision within the cache replays it, and joins later messages in order', async () => {
    const { service, write } = setup();
    const writer = new FakeWriter();
    const s = session(service, writer);
    s.receive(open(1));
    const first = write('a');
    // Opened after `first` reached watch 1 but before the message is written: it replays
    // `first` itself and may share the message, never get ahead of its own order.
    s.receive(open(2));
    const second = write('b');
    await tick();
    const perWatch = (id: number) => writer.events().filter((e) => e.ids.includes(id)).map((e) => e.rv);
    assert.deepEqual(perWatch(1), [String(first), String(second)]);
    assert.deepEqual(perWatch(2), [String(first), String(second)]);
    assert.ok(writer.messages.length <= 3);
  });

  test('initial events are marked initial; a namespace-filtered watch gets only its namespace', async () => {
    const { service, write } = setup();
    const writer = new FakeWriter();
    const s = session(service, writer);
    s.receive(open(1, { resourceVersion: String(START), fieldSelector: '' }, { group: '', version: 'v1', resource: 'configmaps', namespace: 'other', name: '' }));
    s.receive(open(2, { resourceVersion: '' }));
    await tick();
    const mine = write('x', {}, 'other');
    write('y', {}, 'ns');
    await tick();
    const events = writer.events();
    assert.deepEqual(events.filter((e) => e.ids.includes(1)).map((e) => e.rv), [String(mine)]);
    assert.ok(events.filter((e) => e.ids.includes(2)).length === 2);
  });

  test('cancel frees the watch on the server and nothing more is sent for it', async () => {
    const { service, cache, write } = setup();
    const writer = new FakeWriter();
    const s = session(service, writer);
    s.receive(open(1));
    s.receive(open(2));
    assert.equal(cache.watcherCount, 2);
    write('a');
    s.receive(cancel(1));
    assert.equal(cache.watcherCount, 1);
    assert.equal(s.size, 1);
    write('b');
    await tick();
    // Queued but unsent for watch 1 when it was cancelled: not sent either.
    assert.deepEqual(writer.events().map((e) => e.ids), [[2], [2]]);
  });

  test('bad input gets a per-watch error and leaves the other watches alone', async () => {
    const { service, write } = setup();
    const writer = new FakeWriter();
    const s = session(service, writer, { maxWatches: 3 });
    s.receive(open(1));
    s.receive(open(0));
    s.receive(open(2, {}, null));
    s.receive(open(3, {}, { group: '', version: 'v1', resource: 'nosuch', namespace: '', name: '' }));
    s.receive(open(4, { labelSelector: 'a in (' }));
    s.receive(cancel(99));
    s.receive({ kind: undefined } as unknown as WatchStreamRequest__Output);
    s.receive(open(5));
    s.receive(open(6));
    s.receive(open(7));
    s.receive(open(5));
    const rv = write('a');
    await tick();
    assert.deepEqual(writer.closes(), [
      { ids: [0], reason: 'BadRequest' },
      { ids: [2], reason: 'BadRequest' },
      { ids: [3], reason: 'NotFound' },
      { ids: [4], reason: 'BadRequest' },
      { ids: [99], reason: 'NotFound' },
      { ids: [0], reason: 'BadRequest' },
      { ids: [7], reason: 'TooManyRequests' },
      { ids: [5], reason: 'BadRequest' },
    ]);
    assert.deepEqual(writer.events(), [{ ids: [1, 6], type: 'ADDED', rv: String(rv), initial: false }]);
    assert.equal(s.size, 2);
  });

  test('410: a revision older than the window ends that watch with Expired', async () => {
    const { service, write } = setup();
    const writer = new FakeWriter();
    const s = session(service, writer);
    s.receive(open(1, { resourceVersion: String(START - 10) }));
    s.receive(open(2));
    write('a');
    await tick();
    assert.deepEqual(writer.closes(), [{ ids: [1], reason: 'Expired' }]);
    assert.deepEqual(writer.events().map((e) => e.ids), [[2]]);
  });

  test('the end of the stream frees every watch on it', () => {
    const { service, cache } = setup({ bookmarkIntervalMs: 10 });
    const writer = new FakeWriter();
    const s = session(service, writer);
    for (let id = 1; id <= 50; id++) s.receive(open(id, { allowWatchBookmarks: true }));
    assert.equal(cache.watcherCount, 50);
    s.close();
    assert.equal(cache.watcherCount, 0);
    assert.equal(s.size, 0);
  });

  test('shutdown ends every watch as unavailable (for its client to resume elsewhere) in one message', async () => {
    const { service, cache } = setup();
    const writer = new FakeWriter();
    const s = session(service, writer);
    for (const id of [1, 2, 3]) s.receive(open(id));
    s.shutdown();
    assert.equal(cache.watcherCount, 0);
    assert.deepEqual(writer.closes(), [{ ids: [1, 2, 3], reason: 'ServiceUnavailable' }]);
  });

  test('bookmarks at one revision are one message', async () => {
    const { service } = setup({ bookmarkIntervalMs: 15 });
    const writer = new FakeWriter();
    const s = session(service, writer);
    s.receive(open(1, { allowWatchBookmarks: true }));
    s.receive(open(2, { allowWatchBookmarks: true }));
    s.receive(open(3));
    await new Promise((r) => setTimeout(r, 40));
    s.close();
    const bookmarks = writer.events().filter((e) => e.type === 'BOOKMARK');
    assert.ok(bookmarks.length >= 1);
    for (const b of bookmarks) assert.deepEqual(b.ids, [1, 2]);
  });

  test('backpressure: nothing is written past a full transport until drain; a watch over its bound is dropped, in order', async () => {
    const { service, cache, write } = setup();
    const writer = new FakeWriter();
    writer.capacity = 1;
    const s = session(service, writer, { maxQueuedEvents: 3 });
    s.receive(open(1));
    s.receive(open(2, { labelSelector: 'rare=yes' }));
    const revisions: number[] = [];
    revisions.push(write('a'));
    await tick();
    assert.equal(writer.messages.length, 1, 'the first write fills the transport');
    for (let i = 0; i < 5; i++) revisions.push(write(`b${i}`));
    await tick();
    assert.equal(writer.messages.length, 1, 'nothing more until drain');
    // Watch 1 had 3 events waiting when the 4th came: dropped; watch 2 (no events) stays.
    assert.equal(cache.watcherCount, 1);
    assert.equal(s.backlog, 4);
    writer.capacity = Infinity;
    writer.drain();
    assert.deepEqual(
      writer.events().map((e) => e.rv),
      revisions.slice(0, 4).map(String),
    );
    assert.deepEqual(writer.closes(), [{ ids: [1], reason: 'TooManyRequests' }]);
    assert.equal(s.size, 1);
  });
});

describe('WatchStream session: delivery spans', () => {
  const REQUEST = '0af7651916cd43dd8448eb211c80319c';
  const WRITE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const writeParent = (n: number) => `00-${WRITE}-${String(n).padStart(16, '0')}-01`;

  test('a stream makes a span for its first traced change, for all its watches at once, then none within the interval', async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = createTelemetry({ serviceName: 'watch', env: { OTEL_TRACES_WATCH_DELIVERY_INTERVAL: '60' }, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const { service, write } = setup();
    const writer = new FakeWriter();
    const s = new WatchStreamSession(writer, { watcher: service, maxWatches: 100, maxQueuedEvents: 100, logger, telemetry });
    const traced = open(1);
    if (traced.open !== undefined && traced.open !== null) traced.open.traceparent = `00-${REQUEST}-00f067aa0ba902b7-01`;
    s.receive(traced);
    for (const id of [2, 3]) s.receive(open(id));
    write('untraced');
    write('a', {}, 'ns', writeParent(1));
    for (let i = 2; i <= 6; i++) write(`b${i}`, {}, 'ns', writeParent(i));
    await tick();
    assert.equal(writer.events().length, 7);
    // The write's trace travels with the event to the gateway.
    assert.equal(writer.messages[1]?.event?.traceparent, writeParent(1));
    const deliveries = exporter.getFinishedSpans().filter((x) => x.name === 'WatchStream deliver');
    assert.equal(deliveries.length, 1, 'one span for the stream within the interval');
    const [d] = deliveries;
    assert.deepEqual(d?.links.map((l) => `${l.context.traceId}-${l.context.spanId}`), [`${WRITE}-${String(1).padStart(16, '0')}`]);
    assert.equal(d?.attributes['k8s.watch.watchers'], 3, 'one message for the three watches');
    // Deliveries since the stream's last span: the untraced change's three, and the traced
    // one's first (the two watches that join its message later count toward the next span).
    assert.equal(d?.attributes['k8s.watch.events'], 4);
    assert.equal(d?.spanContext().traceId, REQUEST, 'in the trace of the request that opened the first watch');
    s.close();
  });

  test('without tracing in the watch service, the write\'s traceparent still travels to the gateway', async () => {
    const { service, write } = setup();
    const writer = new FakeWriter();
    const s = new WatchStreamSession(writer, { watcher: service, maxWatches: 100, maxQueuedEvents: 100, logger, telemetry: createTelemetry({ serviceName: 'watch', env: {} }) });
    s.receive(open(1));
    write('a', {}, 'ns', writeParent(1));
    await tick();
    assert.equal(writer.messages[0]?.event?.traceparent, writeParent(1));
    s.close();
  });
});

describe('WatchStream over gRPC with WatchClient', () => {
  let server: GrpcServer;
  let client: WatchClient;
  let env: ReturnType<typeof setup>;
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });
  const target = { group: '', version: 'v1', resource: 'configmaps', namespace: '' };

  before(async () => {
    env = setup();
    server = new GrpcServer({ name: 'watch', telemetry, logger, maxReceiveMessageBytes: WATCH_MAX_REQUEST_BYTES });
    server.addService('apiserver.v1.Watch', loadApiProto().apiserver.v1.Watch.service, watchHandlers(env.service, { maxQueuedEvents: 100 }));
    const port = await server.listen('127.0.0.1:0');
    client = new WatchClient(`127.0.0.1:${port}`, { telemetry, maxQueuedEvents: 3 });
  });

  after(async () => {
    client.close();
    await server.shutdown(1000);
  });

  async function until(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  test('watches share one stream; one message reaches both as the same event object; a cancel frees the server', async () => {
    const controllers = [new AbortController(), new AbortController()];
    const seen: WatchEvent[][] = [[], []];
    const runs = controllers.map(async (c, i) => {
      for await (const e of client.watch(target, { resourceVersion: String(env.cache.revision) }, c.signal)) {
        seen[i]?.push(e);
        if (seen[i]?.length === 2) c.abort();
      }
    });
    await until(() => env.cache.watcherCount === 2);
    env.write('s1');
    env.write('s2');
    await Promise.all(runs);
    assert.deepEqual(seen.map((list) => list.map((e) => e.type)), [['ADDED', 'ADDED'], ['ADDED', 'ADDED']]);
    assert.equal(seen[0]?.[0], seen[1]?.[0], 'one WatchEvent object for both watchers');
    await until(() => env.cache.watcherCount === 0);
  });

  test('a consumer that does not read is closed with 429; the other watch on the stream carries on', async () => {
    const slowController = new AbortController();
    const slow = client.watch(target, { resourceVersion: String(env.cache.revision) }, slowController.signal)[Symbol.asyncIterator]();
    const first = slow.next();
    const fast: WatchEvent[] = [];
    const fastController = new AbortController();
    const fastRun = (async () => {
      for await (const e of client.watch(target, { resourceVersion: String(env.cache.revision) }, fastController.signal)) {
        fast.push(e);
        if (fast.length === 8) fastController.abort();
      }
    })();
    await until(() => env.cache.watcherCount === 2);
    for (let i = 0; i < 8; i++) env.write(`slow-${i}`);
    await fastRun;
    assert.equal(fast.length, 8);
    assert.equal((await first).done, false);
    let error: unknown;
    try {
      for (let r = await slow.next(); r.done !== true; r = await slow.next());
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof StatusError && error.reason === 'TooManyRequests', String(error));
    await until(() => env.cache.watcherCount === 0);
  });

  test('a watch too large for the server is refused before it is sent; the other watch on the stream carries on', async () => {
    const controller = new AbortController();
    const seen: WatchEvent[] = [];
    const run = (async () => {
      for await (const e of client.watch(target, { resourceVersion: String(env.cache.revision) }, controller.signal)) {
        seen.push(e);
        controller.abort();
      }
    })();
    await until(() => env.cache.watcherCount === 1);
    // A selector as long as the server's whole limit: the open message would exceed it.
    const labelSelector = `a in (${'x,'.repeat(WATCH_MAX_REQUEST_BYTES / 2)}x)`;
    await assert.rejects(
      (async () => {
        for await (const _ of client.watch(target, { labelSelector }, new AbortController().signal));
      })(),
      (err: unknown) => {
        assert.ok(err instanceof StatusError);
        assert.equal(err.reason, 'RequestEntityTooLarge');
        assert.equal(err.message, `Request entity too large: limit is ${WATCH_MAX_REQUEST_BYTES}`);
        return true;
      },
    );
    env.write('after-large');
    await run;
    assert.deepEqual(seen.map((e) => e.type), ['ADDED']);
    await until(() => env.cache.watcherCount === 0);
  });
});
