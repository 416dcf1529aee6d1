/**
 * Replicas that share a service's load (lib/grpc/replicas.ts): address lists, DNS names
 * followed as their answers change (with an injected resolver), TLS that checks the name, and
 * real servers on loopback for round-robin, failover and drain: a call that never left, or that
 * a draining server refused, runs on another replica; a call that may have run is not sent again.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { issueInternalCertificates } from '../local/grpc-pki.ts';
import { loadApiProto } from '../proto.ts';
import { createTelemetry } from '../tracing.ts';
import type { StorageClient as GeneratedStorageClient, StorageHandlers } from '../gen/apiserver/v1/Storage.ts';
import type { StorageCreateRequest__Output } from '../gen/apiserver/v1/StorageCreateRequest.ts';
import type { TlsFiles } from './credentials.ts';
import { MultiplexedClient } from './exchange-client.ts';
import { generatedReplicas, parseAddressList, refreshMsFrom, replicaUnary, type ReplicaSet } from './replicas.ts';
import { GrpcServer, type CallContext, type ServiceHandlers } from './serve.ts';

const proto = loadApiProto();
const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });
const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default', name: 'a' };
const asIs = (c: GeneratedStorageClient): GeneratedStorageClient => c;

/** A Storage server that records the names it created; a name starting with "hold" waits for release(). */
interface TestServer {
  server: GrpcServer;
  port: number;
  address: string;
  created: string[];
  release: () => void;
}

async function startServer(host = '127.0.0.1', port = 0, tls?: TlsFiles): Promise<TestServer> {
  const created: string[] = [];
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const unused = () => Promise.reject(new StatusError('MethodNotAllowed', 'not in this test'));
  let bound = 0;
  const handlers: ServiceHandlers<StorageHandlers> = {
    Create: async (req: StorageCreateRequest__Output, ctx: CallContext) => {
      const name = req.ref?.name ?? '';
      created.push(name);
      if (name.startsWith('hold')) await Promise.race([held, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))]);
      return { object: req.object };
    },
    Get: unused,
    List: () => Promise.resolve({ items: [], resourceVersion: String(bound), continue: '', remainingItemCount: 0 }),
    Update: unused,
    Delete: unused,
    Events: unused,
    CurrentRevision: () => Promise.resolve({ resourceVersion: '1' }),
  };
  const server = new GrpcServer({ name: 'test', telemetry, logger, tls, maxReceiveMessageBytes: 1024 * 1024 });
  server.addService('apiserver.v1.Storage', proto.apiserver.v1.Storage.service, handlers);
  bound = await server.listen(`${host}:${port}`);
  return { server, port: bound, address: `${host}:${bound}`, created, release: () => release() };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function create(mux: MultiplexedClient<GeneratedStorageClient>, name: string, timeoutMs = 10_000) {
  return mux.call('create', { ref: { ...ref, name }, object: Buffer.from(name) }, { timeoutMs });
}

function muxOver(set: ReplicaSet<GeneratedStorageClient>): MultiplexedClient<GeneratedStorageClient> {
  return new MultiplexedClient(set, 'apiserver.v1.Storage', telemetry, { service: proto.apiserver.v1.Storage.service });
}

describe('address lists', () => {
  test('host:port entries, IPv6 in brackets, DNS names told from IP addresses', () => {
    assert.deepEqual(parseAddressList(' 10.0.0.1:50061, storage:50061 ,[::1]:7,'), [
      { host: '10.0.0.1', port: 50061, named: false },
      { host: 'storage', port: 50061, named: true },
      { host: '::1', port: 7, named: false },
    ]);
  });

  test('a malformed entry or an empty list is refused with a message naming it', () => {
    for (const bad of ['storage', 'storage:0', 'storage:70000', '::1:5', '[storage]:5', 'a:b']) {
      assert.throws(() => parseAddressList(bad), (err: Error) => err.message.includes(`"${bad}"`), bad);
    }
    assert.throws(() => parseAddressList(' , '), /no service address/);
  });

  test('--address-refresh-interval: positive seconds', () => {
    assert.equal(refreshMsFrom({ 'address-refresh-interval': '10' }), 10_000);
    assert.equal(refreshMsFrom({ 'address-refresh-interval': '0.5' }), 500);
    for (const bad of ['0', '-1', 'ten', '']) assert.throws(() => refreshMsFrom({ 'address-refresh-interval': bad }), /--address-refresh-interval must be a positive number of seconds/, bad);
  });
});

describe('replicas over real servers', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  test('a DNS name is followed: replicas added and removed as the answer changes, a failed look-up changes nothing', async () => {
    // Two servers on one port, at two loopback addresses, as two pods behind a headless Service.
    const a = await startServer('127.0.0.1');
    const b = await startServer('127.0.0.2', a.port);
    cleanup.push(() => a.server.shutdown(0), () => b.server.shutdown(0));
    let answer: string[] | Error = ['127.0.0.1'];
    const looked: string[] = [];
    const set = generatedReplicas(proto.apiserver.v1.Storage, `storage.test:${a.port}`, {
      telemetry,
      refreshMs: 3_600_000,
      resolve: (host) => {
        looked.push(host);
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    });
    cleanup.push(() => set.close());
    const mux = muxOver(set);
    cleanup.push(() => mux.close());
    // The first call waits for the first look-up.
    await create(mux, 'first');
    assert.deepEqual(looked, ['storage.test']);
    assert.deepEqual(set.replicas.map((r) => r.address), [`127.0.0.1:${a.port}`]);

    answer = ['127.0.0.1', '127.0.0.2'];
    await set.refresh();
    assert.deepEqual(set.replicas.map((r) => r.address).sort(), [`127.0.0.1:${a.port}`, `127.0.0.2:${a.port}`]);
    for (let i = 0; i < 10; i++) await create(mux, `spread-${i}`);
    assert.ok(b.created.length >= 4 && a.created.length >= 5, `both take calls: ${a.created.length} and ${b.created.length}`);

    answer = new Error('SERVFAIL');
    await set.refresh();
    assert.equal(set.size, 2, 'a failed look-up keeps the replicas');

    answer = ['127.0.0.2'];
    await set.refresh();
    assert.deepEqual(set.replicas.map((r) => r.address), [`127.0.0.2:${a.port}`]);
    const before = a.created.length;
    for (let i = 0; i < 6; i++) await create(mux, `after-${i}`);
    await replicaUnary(set, asIs, 'list', { ref });
    assert.equal(a.created.length, before, 'the replica no longer named takes no new call');
  });

  test('a name with both address families is one replica at its IPv4 address; an address given twice is one replica', async (t) => {
    // localhost's answer: ::1 and 127.0.0.1 are one server, which here listens on IPv4 only.
    const a = await startServer('127.0.0.1');
    t.after(() => a.server.shutdown(0));
    let answer = ['::1', '127.0.0.1', '127.0.0.1'];
    const set = generatedReplicas(proto.apiserver.v1.Storage, `localhost:${a.port}`, { telemetry, refreshMs: 3_600_000, resolve: () => Promise.resolve(answer) });
    t.after(() => set.close());
    const mux = muxOver(set);
    t.after(() => mux.close());
    await create(mux, 'one-family');
    assert.deepEqual(set.replicas.map((r) => r.address), [`127.0.0.1:${a.port}`]);
    assert.equal(a.created.length, 1);
    // A name with IPv6 addresses only is followed at those.
    answer = ['::1', '::1'];
    await set.refresh();
    assert.deepEqual(set.replicas.map((r) => r.address), [`[::1]:${a.port}`]);
  });

  test('a DNS name is looked up again every refresh interval by itself', async (t) => {
    let answer = ['127.0.0.1'];
    const set = generatedReplicas(proto.apiserver.v1.Storage, 'storage.test:1', { telemetry, refreshMs: 50, resolve: () => Promise.resolve(answer) });
    t.after(() => set.close());
    await waitFor(() => set.size === 1, 'the first look-up');
    answer = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    await waitFor(() => set.size === 3, 'a pod added');
    answer = ['127.0.0.3'];
    await waitFor(() => set.size === 1 && set.replicas[0]?.address === '127.0.0.3:1', 'pods removed');
  });

  test('under mutual TLS a resolved address is checked against the DNS name, not its IP', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'replicas-tls-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    // The certificates name storage.test, localhost, 127.0.0.1 and ::1: not 127.0.0.2.
    const files = await issueInternalCertificates(dir, ['server', 'client'], ['storage.test:1']);
    const server = await startServer('127.0.0.2', 0, files.server);
    cleanup.push(() => server.server.shutdown(0));
    const dial = (name: string) => {
      const set = generatedReplicas(proto.apiserver.v1.Storage, `${name}:${server.port}`, { telemetry, tls: files.client, resolve: () => Promise.resolve(['127.0.0.2']) });
      t.after(() => set.close());
      return replicaUnary(set, asIs, 'list', { ref }, { timeoutMs: 5_000 });
    };
    assert.equal((await dial('storage.test')).resourceVersion, String(server.port));
    await assert.rejects(dial('other.test'), { reason: 'ServiceUnavailable' });
  });

  test('calls go round-robin; a stopped replica takes none and no call fails; it takes its share again when back', async () => {
    const a = await startServer();
    const b = await startServer();
    cleanup.push(() => b.server.shutdown(0));
    const set = generatedReplicas(proto.apiserver.v1.Storage, `${a.address},${b.address}`, { telemetry });
    cleanup.push(() => set.close());
    const mux = muxOver(set);
    cleanup.push(() => mux.close());
    for (let i = 0; i < 10; i++) await create(mux, `rr-${i}`);
    assert.equal(a.created.length, 5);
    assert.equal(b.created.length, 5);

    await a.server.shutdown(1_000);
    // Nothing listens at a's address now: every call still succeeds, on b.
    for (let i = 0; i < 10; i++) {
      await create(mux, `down-${i}`);
      await replicaUnary(set, asIs, 'list', { ref });
    }
    assert.equal(b.created.length, 15);

    // a comes back at the same address: its connection is retried with backoff, and calls reach it again.
    const back = await startServer('127.0.0.1', a.port);
    cleanup.push(() => back.server.shutdown(0));
    await waitFor(() => set.readyCount === 2, 'both replicas ready', 15_000);
    for (let i = 0; i < 10; i++) await create(mux, `back-${i}`);
    assert.ok(back.created.length >= 4, `the restarted replica takes calls: ${back.created.length}`);
  });

  test('a draining replica finishes its call in flight and refuses new ones, which run once, on another replica', async () => {
    const a = await startServer();
    const b = await startServer();
    cleanup.push(() => b.server.shutdown(0));
    const set = generatedReplicas(proto.apiserver.v1.Storage, `${a.address},${b.address}`, { telemetry });
    cleanup.push(() => set.close());
    const mux = muxOver(set);
    cleanup.push(() => mux.close());
    // Both streams open: the held call on a, one call on b.
    const held = create(mux, 'hold-a');
    await create(mux, 'open-b');
    await waitFor(() => a.created.length === 1, 'the held call on a');
    const stopping = a.server.shutdown(5_000);
    const names = Array.from({ length: 20 }, (_, i) => `during-${i}`);
    await Promise.all(names.map((n) => create(mux, n)));
    a.release();
    assert.equal(Buffer.from((await held).object).toString(), 'hold-a');
    await stopping;
    assert.deepEqual(a.created, ['hold-a'], 'the draining replica ran nothing new');
    assert.deepEqual(b.created.filter((n) => n.startsWith('during-')).sort(), [...names].sort(), 'each ran once, on b');
  });

  test('a call that may have run is not sent again: it fails when its replica is cut off', async () => {
    const a = await startServer();
    const b = await startServer();
    cleanup.push(() => b.server.shutdown(0));
    const set = generatedReplicas(proto.apiserver.v1.Storage, `${a.address},${b.address}`, { telemetry });
    cleanup.push(() => set.close());
    const mux = muxOver(set);
    cleanup.push(() => mux.close());
    const held = create(mux, 'hold-cut');
    await waitFor(() => a.created.length === 1, 'the held call on a');
    // No grace: the connection is cut with the call running (its outcome is unknown, as for a unary call).
    void a.server.shutdown(0);
    await assert.rejects(held, (err: unknown) => err instanceof StatusError && ['ServiceUnavailable', 'Timeout'].includes(err.reason));
    assert.deepEqual(b.created, [], 'not repeated on b');
    // Later calls go to b.
    await create(mux, 'next');
    assert.deepEqual(b.created, ['next']);
  });
});
