import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { startEtcd, type EtcdServer } from '../../../lib/local/etcd.ts';
import { freePort } from '../../../lib/local/ports.ts';
import { waitUntil } from '../../../lib/local/process.ts';
import { translateEtcdError } from './etcd.ts';
import { EtcdKv } from './etcd-kv.ts';

describe('etcd KV calls over HTTP/2', () => {
  let etcd: EtcdServer;
  let kv: EtcdKv;

  before(async () => {
    etcd = await startEtcd();
    kv = new EtcdKv([etcd.endpoint], 2_000);
  });

  after(async () => {
    kv?.close();
    await etcd?.stop();
  });

  test('a swap compares the mod revision: create when absent, replace and delete at the revision read, else the current state', async () => {
    const key = '/registry/configmaps/kv/swap';
    const created = await kv.swap(key, 0, '{"v":1}');
    assert.equal(created.succeeded, true);
    const revision = created.header?.revision ?? 0;
    assert.ok(revision > 0);

    const again = await kv.swap(key, 0, '{"v":2}');
    assert.notEqual(again.succeeded, true, 'a create of a present key fails');
    const current = again.responses?.[0]?.response_range?.kvs?.[0];
    assert.equal(current?.value?.toString(), '{"v":1}');
    assert.equal(current?.mod_revision, revision);
    assert.equal(current?.version, 1);

    assert.notEqual((await kv.swap(key, revision - 1, '{"v":3}')).succeeded, true, 'a stale revision fails');
    const replaced = await kv.swap(key, revision, '{"v":3}');
    assert.equal(replaced.succeeded, true);
    const read = await kv.range({ key: Buffer.from(key) });
    assert.equal(read.kvs?.[0]?.value?.toString(), '{"v":3}');
    assert.equal(read.kvs?.[0]?.version, 2);

    assert.equal((await kv.swap(key, replaced.header?.revision ?? 0, undefined)).succeeded, true, 'a delete at the revision read');
    assert.equal((await kv.range({ key: Buffer.from(key) })).kvs, undefined);
  });

  test('with one endpoint down, every call succeeds on the one that answers (a connection never made reached nothing)', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const both = new EtcdKv([down, etcd.endpoint], 2_000);
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) outcomes.push(await outcome(both.range({ key: Buffer.from('/x') })));
      assert.ok(outcomes.every((o) => o === 'ok'), outcomes.join(', '));
    } finally {
      both.close();
    }
  });

  test('a member that stops answering on an open connection is found by a ping and passed over', async () => {
    const proxy = await freezableProxy(etcd.endpoint);
    // A deadline well above the ping's detection (stall 200 ms + ping timeout 1 s): a busy machine has seconds of slack.
    const both = new EtcdKv([proxy.url, etcd.endpoint], 8_000, { stallMs: 200, pingTimeoutMs: 1_000 });
    try {
      assert.equal(await outcome(both.range({ key: Buffer.from('/x') })), 'ok');
      assert.equal(both.lastEndpoint, proxy.url.replace('http://', ''), 'the first call went through the member that will stop');
      proxy.freeze();
      const outcomes: string[] = [];
      const endpoints: string[] = [];
      for (let i = 0; i < 8; i++) {
        const result = both.range({ key: Buffer.from('/x') });
        endpoints.push(both.lastEndpoint);
        outcomes.push(await outcome(result));
      }
      const firstFailure = outcomes.findIndex((o) => o !== 'ok');
      assert.ok(firstFailure >= 0, `a call went to the stopped member: ${endpoints.join(', ')}`);
      assert.equal(outcomes[firstFailure], `failed ${GrpcStatus.UNAVAILABLE}`, 'failed by the ping, before its deadline');
      assert.ok(outcomes.slice(firstFailure + 1).every((o) => o === 'ok'), outcomes.join(', '));
      assert.ok(endpoints.slice(firstFailure + 1).every((e) => e === etcd.endpoint.replace('http://', '')), endpoints.join(', '));
    } finally {
      both.close();
      await proxy.close();
    }
  });

  test('an idle session to a member that stopped answering is given up by the periodic ping', async () => {
    const proxy = await freezableProxy(etcd.endpoint);
    const both = new EtcdKv([proxy.url, etcd.endpoint], 8_000, { keepaliveMs: 200, stallMs: 60_000, pingTimeoutMs: 500 });
    try {
      assert.equal(await outcome(both.range({ key: Buffer.from('/x') })), 'ok');
      proxy.freeze();
      await waitUntil('the frozen member\'s connection to be given up', () => Promise.resolve(proxy.closedByClient() > 0), { timeoutMs: 20_000 });
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) {
        const result = both.range({ key: Buffer.from('/x') });
        assert.equal(both.lastEndpoint, etcd.endpoint.replace('http://', ''));
        outcomes.push(await outcome(result));
      }
      assert.ok(outcomes.every((o) => o === 'ok'), outcomes.join(', '));
    } finally {
      both.close();
      await proxy.close();
    }
  });

  test('a refused call is sent again without leaking its connection, to another member when there is one', async () => {
    const refusing = await refusingServer();
    const alone = new EtcdKv([refusing.url], 2_000);
    const both = new EtcdKv([refusing.url, etcd.endpoint], 2_000);
    try {
      for (let i = 0; i < 20; i++) assert.equal(await outcome(alone.range({ key: Buffer.from('/x') })), `failed ${GrpcStatus.UNAVAILABLE}`);
      assert.ok(refusing.streams() >= 40, `each call sent twice: ${refusing.streams()} streams`);
      assert.ok(refusing.openSessions() <= 1, `${refusing.openSessions()} connections open after 20 refused calls`);
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) outcomes.push(await outcome(both.range({ key: Buffer.from('/x') })));
      assert.ok(outcomes.every((o) => o === 'ok'), outcomes.join(', '));
      assert.ok(refusing.streams() > 40, 'some calls went to the refusing member first');
    } finally {
      alone.close();
      both.close();
      await refusing.close();
    }
  });

  test('an answer larger than HTTP/2\'s default window arrives whole', async () => {
    const value = 'v'.repeat(1024);
    for (let i = 0; i < 200; i++) assert.equal((await kv.swap(`/registry/configmaps/big/${String(i).padStart(3, '0')}`, 0, value)).succeeded, true);
    const all = await kv.range({ key: Buffer.from('/registry/configmaps/big/'), range_end: Buffer.from('/registry/configmaps/big0') });
    assert.equal(all.kvs?.length, 200);
    assert.equal(all.count, 200);
    assert.ok(all.kvs.every((item) => item.value?.toString() === value));
  });

  test('etcd\'s failures keep its status code and words (a read at a compacted revision)', async () => {
    const first = await kv.swap('/registry/configmaps/kv/compacted', 0, '{"v":1}');
    const second = await kv.swap('/registry/configmaps/kv/compacted2', 0, '{"v":1}');
    await kv.compact(second.header?.revision ?? 0);
    const err = (await kv.range({ key: Buffer.from('/x'), revision: first.header?.revision ?? 0 }).then(
      () => assert.fail('a read at a compacted revision must fail'),
      (e: unknown) => e,
    )) as { code?: number; message?: string };
    assert.equal(err.code, GrpcStatus.OUT_OF_RANGE);
    assert.match(err.message ?? '', /required revision has been compacted/);
  });

  test('a server that never answers fails the call within its deadline, as unavailable (503)', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const mute = new EtcdKv([`http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`], 300);
    try {
      const started = Date.now();
      const err = await mute.range({ key: Buffer.from('/x') }).then(
        () => assert.fail('a silent server must not answer'),
        (e: unknown) => e,
      );
      assert.equal(translateEtcdError(err).reason, 'ServiceUnavailable');
      assert.ok(Date.now() - started < 5_000, `failed after ${Date.now() - started} ms`);
    } finally {
      mute.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('after etcd restarts, calls succeed again on a new connection', async () => {
    await kv.range({ key: Buffer.from('/x') });
    await etcd.restart();
    await waitUntil('calls to succeed after the restart', async () => (await kv.range({ key: Buffer.from('/x') }).then(() => true, () => false)), { timeoutMs: 20_000 });
    assert.equal((await kv.swap('/registry/configmaps/kv/after-restart', 0, '{"v":1}')).succeeded, true);
  });

  test('after close(), a call fails as etcd being unavailable (503), not as an internal error', async () => {
    const closing = new EtcdKv([etcd.endpoint], 2_000);
    await closing.range({ key: Buffer.from('/x') });
    closing.close();
    const err = await closing.range({ key: Buffer.from('/x') }).then(
      () => assert.fail('a closed client must not answer'),
      (e: unknown) => e,
    );
    assert.equal(translateEtcdError(err).reason, 'ServiceUnavailable');
  });
});

describe('etcd failures as Statuses', () => {
  const grpcError = (code: GrpcStatus, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

  test('unreachable, too slow or cut off: 503; too large: 413; anything else: 500 without etcd\'s words', () => {
    for (const code of [GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]) {
      assert.equal(translateEtcdError(grpcError(code, 'x')).reason, 'ServiceUnavailable', String(code));
    }
    assert.equal(translateEtcdError(grpcError(GrpcStatus.INVALID_ARGUMENT, 'etcdserver: request is too large')).reason, 'RequestEntityTooLarge');
    const other = translateEtcdError(grpcError(GrpcStatus.UNKNOWN, 'etcdserver: secret internal detail'));
    assert.equal(other.reason, 'InternalError');
    assert.doesNotMatch(other.message, /secret internal detail/);
  });
});

async function outcome(call: Promise<unknown>): Promise<string> {
  return call.then(() => 'ok', (err: { code?: number }) => `failed ${String(err.code)}`);
}

function listening(server: Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve(typeof address === 'object' && address !== null ? address.port : 0);
  }));
}

/** A TCP proxy to `target` that, once frozen, forwards nothing more either way and keeps its connections open (a stopped process). */
async function freezableProxy(target: string): Promise<{ url: string; freeze: () => void; closedByClient: () => number; close: () => Promise<void> }> {
  const { hostname, port } = new URL(target);
  let frozen = false;
  let closedByClient = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => { if (!frozen) upstream.write(chunk); });
    upstream.on('data', (chunk) => { if (!frozen) client.write(chunk); });
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', () => {
      if (frozen) closedByClient++;
      else upstream.destroy();
    });
    upstream.on('close', () => { if (!frozen) client.destroy(); });
  });
  const url = `http://127.0.0.1:${await listening(server)}`;
  return {
    url,
    freeze: () => { frozen = true; },
    closedByClient: () => closedByClient,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** An HTTP/2 server that refuses every stream (REFUSED_STREAM), counting streams and open connections. */
async function refusingServer(): Promise<{ url: string; streams: () => number; openSessions: () => number; close: () => Promise<void> }> {
  const sessions = new Set<http2.ServerHttp2Session>();
  let streams = 0;
  const server = http2.createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream) => {
    streams++;
    stream.on('error', () => {});
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
  });
  const url = `http://127.0.0.1:${await listening(server)}`;
  return {
    url,
    streams: () => streams,
    openSessions: () => sessions.size,
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
