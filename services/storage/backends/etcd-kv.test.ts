import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { startEtcd, type EtcdServer } from '../../../lib/local/etcd.ts';
import { freePort } from '../../../lib/local/ports.ts';
import { translateEtcdError } from './etcd.ts';
import { EtcdKv } from './etcd-kv.ts';

describe('etcd KV calls through grpc-js', () => {
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

  test('with one endpoint down, calls go to the one that answers after its first failure', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const both = new EtcdKv([down, etcd.endpoint], 2_000);
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        outcomes.push(await both.range({ key: Buffer.from('/x') }).then(() => 'ok', (err: { code?: number }) => `failed ${String(err.code)}`));
      }
      assert.ok(outcomes.slice(2).every((o) => o === 'ok'), outcomes.join(', '));
      assert.ok(outcomes.filter((o) => o !== 'ok').length <= 1, outcomes.join(', '));
    } finally {
      both.close();
    }
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
