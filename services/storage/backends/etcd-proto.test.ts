import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { decodeRangeResponse, decodeTxnResponse, encodeRangeRequest, encodeSwapTxn, FRAME_PREFIX_BYTES } from './etcd-proto.ts';

// etcd's own messages, as protobufjs reads them from the .proto the etcd3 package ships.
const RPC_PROTO = join(dirname(createRequire(import.meta.url).resolve('etcd3/package.json')), 'proto', 'rpc.proto');
const root = new protobuf.Root().loadSync(RPC_PROTO, { keepCase: true });

const type = (name: string): protobuf.Type => root.lookupType(name);
const plain = (t: protobuf.Type, bytes: Uint8Array): Record<string, unknown> =>
  t.toObject(t.decode(bytes), { longs: Number, enums: Number, bytes: String, defaults: false, oneofs: true });

/** The message of a frame, after checking the frame's prefix. */
function body(frame: Buffer): Buffer {
  assert.equal(frame[0], 0, 'not compressed');
  assert.equal(frame.readUInt32BE(1), frame.length - FRAME_PREFIX_BYTES, 'length prefix');
  return frame.subarray(FRAME_PREFIX_BYTES);
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('etcd messages encoded by hand', () => {
  test('a swap that creates, replaces or deletes decodes with protobufjs as the TxnRequest meant', () => {
    const Txn = type('etcdserverpb.TxnRequest');
    const key = Buffer.from('/registry/configmaps/ns/name');
    const value = Buffer.from('x'.repeat(300));
    for (const [modRevision, put] of [[0, value], [2 ** 40 + 7, value], [129, undefined]] as const) {
      const decoded = plain(Txn, body(encodeSwapTxn(key, modRevision, put)));
      // result EQUAL is 0, proto3's default, so it is not on the wire; target MOD is 2.
      assert.deepEqual(decoded.compare, [{ target: 2, key: b64(key.toString()), mod_revision: modRevision, target_union: 'mod_revision' }]);
      const success = put === undefined ? { request_delete_range: { key: b64(key.toString()) }, request: 'request_delete_range' } : { request_put: { key: b64(key.toString()), value: put.toString('base64') }, request: 'request_put' };
      assert.deepEqual(decoded.success, [success]);
      assert.deepEqual(decoded.failure, [{ request_range: { key: b64(key.toString()) }, request: 'request_range' }]);
    }
  });

  test('a range request carries every field storage sets, and leaves out the unset ones', () => {
    const Range = type('etcdserverpb.RangeRequest');
    const full = plain(Range, body(encodeRangeRequest({ key: Buffer.from('/a'), range_end: Buffer.from('/b'), limit: 500, revision: 2 ** 35, serializable: true, keys_only: true, count_only: true })));
    assert.deepEqual(full, { key: b64('/a'), range_end: b64('/b'), limit: 500, revision: 2 ** 35, serializable: true, keys_only: true, count_only: true });
    assert.deepEqual(plain(Range, body(encodeRangeRequest({ key: Buffer.from('/a') }))), { key: b64('/a') });
  });
});

describe('etcd answers decoded by hand', () => {
  const header = { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: 2 ** 33 + 5, raft_term: 9 };
  const kv = (key: string, value: string, mod: number, version: number) => ({ key: Buffer.from(key), create_revision: 3, mod_revision: mod, version, value: Buffer.from(value), lease: 0 });

  test('a range answer: the header\'s revision, every key with its value, mod revision and version, more and count', () => {
    const Range = type('etcdserverpb.RangeResponse');
    const bytes = Buffer.from(Range.encode(Range.fromObject({ header, kvs: [kv('/a', 'one', 7, 1), kv('/b', '', 2 ** 40, 300)], more: true, count: 2 ** 34 })).finish());
    const decoded = decodeRangeResponse(bytes);
    assert.equal(decoded.header?.revision, 2 ** 33 + 5);
    assert.equal(decoded.more, true);
    assert.equal(decoded.count, 2 ** 34);
    assert.equal(decoded.kvs?.length, 2);
    assert.equal(decoded.kvs?.[0]?.key.toString(), '/a');
    assert.equal(decoded.kvs?.[0]?.value?.toString(), 'one');
    assert.equal(decoded.kvs?.[0]?.mod_revision, 7);
    assert.equal(decoded.kvs?.[0]?.version, 1);
    assert.equal(decoded.kvs?.[1]?.value?.length ?? 0, 0, 'an empty value');
    assert.equal(decoded.kvs?.[1]?.mod_revision, 2 ** 40);
    assert.equal(decoded.kvs?.[1]?.version, 300);
    const empty = decodeRangeResponse(Buffer.from(Range.encode(Range.fromObject({ header })).finish()));
    assert.equal(empty.kvs, undefined);
    assert.equal(empty.more, undefined);
  });

  test('a transaction\'s answer: succeeded, or the range its failure branch read', () => {
    const Txn = type('etcdserverpb.TxnResponse');
    const ok = decodeTxnResponse(Buffer.from(Txn.encode(Txn.fromObject({ header, succeeded: true, responses: [{ response_put: { header } }] })).finish()));
    assert.equal(ok.succeeded, true);
    assert.equal(ok.header?.revision, header.revision);
    assert.deepEqual(ok.responses, [{}]);
    const failed = decodeTxnResponse(Buffer.from(Txn.encode(Txn.fromObject({ header, responses: [{ response_range: { header, kvs: [kv('/k', '{"v":1}', 12, 2)], count: 1 } }] })).finish()));
    assert.equal(failed.succeeded, undefined);
    const current = failed.responses?.[0]?.response_range?.kvs?.[0];
    assert.equal(current?.value?.toString(), '{"v":1}');
    assert.equal(current?.mod_revision, 12);
    assert.equal(current?.version, 2);
  });

  test('a truncated answer is an error, not a partial result', () => {
    const Range = type('etcdserverpb.RangeResponse');
    const bytes = Buffer.from(Range.encode(Range.fromObject({ header, kvs: [kv('/a', 'one', 7, 1)] })).finish());
    assert.throws(() => decodeRangeResponse(bytes.subarray(0, bytes.length - 2)), /truncated/);
  });
});
