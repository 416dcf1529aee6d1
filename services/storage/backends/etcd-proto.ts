/**
 * The few etcd KV messages of every request, encoded and decoded by hand (etcd's rpc.proto and
 * kv.proto, field numbers below): the Range and Txn requests storage makes and their answers.
 * protobufjs, through proto-loader, builds a message object from the plain one, encodes it,
 * then copies it behind the gRPC frame prefix, and on the way back decodes every field (the
 * header's cluster and member ids as 64-bit Longs) and converts the result to a plain object
 * again; here a request is written once into its frame, and an answer yields only the fields
 * storage reads. etcd-proto.test.ts checks both against protobufjs with etcd's own .proto.
 *
 * 64-bit integers (revisions, counts, limits) are numbers: they stay far below 2^53. Fields
 * absent on the wire are absent here, as proto-loader's `defaults: false` leaves them.
 */
import type { EtcdKeyValue, EtcdRangeRequest, EtcdRangeResponse, EtcdTxnResponse } from './etcd-kv.ts';

/** Length-prefixed message framing of gRPC: a compressed flag and a 32-bit big-endian length. */
export const FRAME_PREFIX_BYTES = 5;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** etcdserverpb.Compare.CompareTarget.MOD and CompareResult.EQUAL. */
const COMPARE_TARGET_MOD = 2;

// --- encoding -------------------------------------------------------------------------------

/** Bytes of `value` (a non-negative safe integer) as a varint. */
function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function tagSize(field: number): number {
  return varintSize(field << 3);
}

/** Bytes of a length-delimited field of `length` bytes. */
function bytesFieldSize(field: number, length: number): number {
  return tagSize(field) + varintSize(length) + length;
}

/** A writer into a buffer sized beforehand. */
class Writer {
  readonly buffer: Buffer;
  private at: number;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + size);
    this.buffer[0] = 0;
    this.buffer.writeUInt32BE(size, 1);
    this.at = FRAME_PREFIX_BYTES;
  }

  varint(value: number): void {
    while (value >= 128) {
      this.buffer[this.at++] = (value % 128) | 128;
      value = Math.floor(value / 128);
    }
    this.buffer[this.at++] = value;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** A varint field (not written when zero, as proto3 leaves defaults out, unless `always`). */
  uint(field: number, value: number | undefined, always = false): void {
    if (value === undefined || (value === 0 && !always)) return;
    this.tag(field, VARINT);
    this.varint(value);
  }

  bool(field: number, value: boolean | undefined): void {
    if (value !== true) return;
    this.tag(field, VARINT);
    this.buffer[this.at++] = 1;
  }

  /** The header of a length-delimited field whose `length` bytes the caller writes next. */
  open(field: number, length: number): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(length);
  }

  bytes(field: number, value: Buffer | undefined): void {
    if (value === undefined || value.length === 0) return;
    this.open(field, value.length);
    this.at += value.copy(this.buffer, this.at);
  }

  /** The frame, checked to be exactly as long as it was sized. */
  done(): Buffer {
    if (this.at !== this.buffer.length) throw new Error(`etcd message sized ${this.buffer.length} bytes, written ${this.at}`);
    return this.buffer;
  }
}

function uintSize(field: number, value: number | undefined, always = false): number {
  return value === undefined || (value === 0 && !always) ? 0 : tagSize(field) + varintSize(value);
}

function boolSize(field: number, value: boolean | undefined): number {
  return value === true ? tagSize(field) + 1 : 0;
}

function optionalBytesSize(field: number, value: Buffer | undefined): number {
  return value === undefined || value.length === 0 ? 0 : bytesFieldSize(field, value.length);
}

/** RangeRequest: key 1, range_end 2, limit 3, revision 4, serializable 7, keys_only 8, count_only 9. */
function rangeRequestSize(r: EtcdRangeRequest): number {
  return (
    optionalBytesSize(1, r.key) +
    optionalBytesSize(2, r.range_end) +
    uintSize(3, r.limit) +
    uintSize(4, r.revision) +
    boolSize(7, r.serializable) +
    boolSize(8, r.keys_only) +
    boolSize(9, r.count_only)
  );
}

function writeRangeRequest(w: Writer, r: EtcdRangeRequest): void {
  w.bytes(1, r.key);
  w.bytes(2, r.range_end);
  w.uint(3, r.limit);
  w.uint(4, r.revision);
  w.bool(7, r.serializable);
  w.bool(8, r.keys_only);
  w.bool(9, r.count_only);
}

/** A RangeRequest in its gRPC frame. */
export function encodeRangeRequest(request: EtcdRangeRequest): Buffer {
  const w = new Writer(rangeRequestSize(request));
  writeRangeRequest(w, request);
  return w.done();
}

/**
 * The TxnRequest of a compare-and-swap on one key, in its gRPC frame: compare (1) the key's
 * mod revision (Compare: result 1 EQUAL, target 2 MOD, key 3, mod_revision 6, always written
 * as the member of its oneof); on success (2) a put (RequestOp.request_put 2: PutRequest key 1,
 * value 2) or, without a value, a delete (request_delete_range 3: key 1); on failure (3) a
 * read of the key (request_range 1).
 */
export function encodeSwapTxn(key: Buffer, modRevision: number, value: Buffer | undefined): Buffer {
  const keyField = bytesFieldSize(1, key.length);
  const compare = tagSize(2) + 1 + bytesFieldSize(3, key.length) + uintSize(6, modRevision, true);
  const put = value === undefined ? keyField : keyField + optionalBytesSize(2, value);
  const successOp = bytesFieldSize(value === undefined ? 3 : 2, put);
  const failureOp = bytesFieldSize(1, keyField);
  const w = new Writer(bytesFieldSize(1, compare) + bytesFieldSize(2, successOp) + bytesFieldSize(3, failureOp));
  w.open(1, compare);
  w.uint(2, COMPARE_TARGET_MOD);
  w.bytes(3, key);
  w.uint(6, modRevision, true);
  w.open(2, successOp);
  w.open(value === undefined ? 3 : 2, put);
  w.bytes(1, key);
  if (value !== undefined) w.bytes(2, value);
  w.open(3, failureOp);
  w.open(1, keyField);
  w.bytes(1, key);
  return w.done();
}

// --- decoding -------------------------------------------------------------------------------

/** A reader of one message (or of a field's bytes within one). */
class Reader {
  private readonly buffer: Buffer;
  private at: number;
  private readonly end: number;

  constructor(buffer: Buffer, start = 0, end = buffer.length) {
    this.buffer = buffer;
    this.at = start;
    this.end = end;
  }

  get more(): boolean {
    return this.at < this.end;
  }

  /** A varint; above 2^53 it loses precision (only ids are that large, and they are skipped). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.at >= this.end) throw new Error('truncated varint');
      const byte = this.buffer[this.at++] as number;
      value += (byte & 127) * scale;
      if (byte < 128) return value;
      scale *= 128;
      if (scale > 2 ** 63) throw new Error('varint longer than 64 bits');
    }
  }

  /** The field number and wire type of the next field. */
  tag(): { field: number; wireType: number } {
    const tag = this.varint();
    return { field: Math.floor(tag / 8), wireType: tag & 7 };
  }

  /** The bounds of a length-delimited field's bytes, which are then passed over. */
  delimited(): [number, number] {
    const length = this.varint();
    const start = this.at;
    if (start + length > this.end) throw new Error('truncated field');
    this.at += length;
    return [start, this.at];
  }

  bytes(): Buffer {
    const [start, end] = this.delimited();
    return this.buffer.subarray(start, end);
  }

  sub(): Reader {
    const [start, end] = this.delimited();
    return new Reader(this.buffer, start, end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.at += 8;
        break;
      case LENGTH_DELIMITED:
        this.delimited();
        return;
      case FIXED32:
        this.at += 4;
        break;
      default:
        throw new Error(`unknown wire type ${wireType}`);
    }
    if (this.at > this.end) throw new Error('truncated field');
  }
}

/** ResponseHeader: revision 3 (cluster_id, member_id and raft_term are not used). */
function readHeader(r: Reader): { revision?: number } {
  const header: { revision?: number } = {};
  while (r.more) {
    const { field, wireType } = r.tag();
    if (field === 3 && wireType === VARINT) header.revision = r.varint();
    else r.skip(wireType);
  }
  return header;
}

/** mvccpb.KeyValue: key 1, mod_revision 3, version 4, value 5. */
function readKeyValue(r: Reader): EtcdKeyValue {
  let key: Buffer | undefined;
  const kv: Omit<EtcdKeyValue, 'key'> = {};
  while (r.more) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) key = r.bytes();
    else if (field === 3 && wireType === VARINT) kv.mod_revision = r.varint();
    else if (field === 4 && wireType === VARINT) kv.version = r.varint();
    else if (field === 5 && wireType === LENGTH_DELIMITED) kv.value = r.bytes();
    else r.skip(wireType);
  }
  return { key: key ?? Buffer.alloc(0), ...kv };
}

/** RangeResponse: header 1, kvs 2, more 3, count 4. */
function readRangeResponse(r: Reader): EtcdRangeResponse {
  const response: EtcdRangeResponse = {};
  while (r.more) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) response.header = readHeader(r.sub());
    else if (field === 2 && wireType === LENGTH_DELIMITED) (response.kvs ??= []).push(readKeyValue(r.sub()));
    else if (field === 3 && wireType === VARINT) response.more = r.varint() !== 0;
    else if (field === 4 && wireType === VARINT) response.count = r.varint();
    else r.skip(wireType);
  }
  return response;
}

export function decodeRangeResponse(bytes: Buffer): EtcdRangeResponse {
  return readRangeResponse(new Reader(bytes));
}

/** TxnResponse: header 1, succeeded 2, responses 3 (ResponseOp: response_range 1; the others are not read). */
export function decodeTxnResponse(bytes: Buffer): EtcdTxnResponse {
  const r = new Reader(bytes);
  const response: EtcdTxnResponse = {};
  while (r.more) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) response.header = readHeader(r.sub());
    else if (field === 2 && wireType === VARINT) response.succeeded = r.varint() !== 0;
    else if (field === 3 && wireType === LENGTH_DELIMITED) {
      const op = r.sub();
      const entry: { response_range?: EtcdRangeResponse } = {};
      while (op.more) {
        const { field: opField, wireType: opWire } = op.tag();
        if (opField === 1 && opWire === LENGTH_DELIMITED) entry.response_range = readRangeResponse(op.sub());
        else op.skip(opWire);
      }
      (response.responses ??= []).push(entry);
    } else r.skip(wireType);
  }
  return response;
}
