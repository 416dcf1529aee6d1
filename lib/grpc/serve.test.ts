/**
 * What GrpcServer does before any handler runs: a request that does not decode as its message
 * gets INVALID_ARGUMENT with a BadRequest Status, whatever the kind of call, and the server
 * goes on serving; a message over the server's limit gets RESOURCE_EXHAUSTED.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { StatusError } from '../errors.ts';
import { GrpcServer, type CallContext, type ServiceHandlers } from './serve.ts';
import { decodeStatusDetails, fromGrpcError } from '../grpc-status.ts';
import { createLogger } from '../log.ts';
import { loadApiProto } from '../proto.ts';
import { createTelemetry } from '../tracing.ts';
import type { StorageGetRequest__Output } from '../gen/apiserver/v1/StorageGetRequest.ts';
import type { AdmissionHandlers } from '../gen/apiserver/v1/Admission.ts';
import type { StorageHandlers } from '../gen/apiserver/v1/Storage.ts';
import type { WatchHandlers } from '../gen/apiserver/v1/Watch.ts';
import type { WatchStreamRequest__Output } from '../gen/apiserver/v1/WatchStreamRequest.ts';
import type { WatchStreamResponse } from '../gen/apiserver/v1/WatchStreamResponse.ts';

const proto = loadApiProto();
const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });
const MAX_MESSAGE_BYTES = 16 * 1024;

/** Bytes no message decodes: the tag of a varint field 1, without its value. */
const MALFORMED = Buffer.from([0x08]);
const identity = (b: Buffer) => b;

/** The Status a failed call carries, and its gRPC code. */
function statusOf(err: unknown): { code: number; status: StatusError } {
  const e = err as grpc.ServiceError;
  return { code: e.code, status: fromGrpcError(e) };
}

describe('GrpcServer before the handlers', () => {
  let server: GrpcServer;
  let raw: grpc.Client;
  let address: string;
  /** What the handlers were called with. */
  const calls: string[] = [];
  /** Signals of the bidi streams the handler saw. */
  const streams: AbortSignal[] = [];

  before(async () => {
    const handlers: ServiceHandlers<StorageHandlers> = {
      Get: (req: StorageGetRequest__Output) => {
        calls.push(`Get ${req.ref?.name ?? ''}`);
        return Promise.resolve({ object: Buffer.from(`{"name":"${req.ref?.name ?? ''}"}`) });
      },
      Create: () => Promise.reject(new StatusError('MethodNotAllowed', 'not in this test')),
      List: () => Promise.reject(new StatusError('MethodNotAllowed', 'not in this test')),
      Update: () => Promise.reject(new StatusError('MethodNotAllowed', 'not in this test')),
      Delete: () => Promise.reject(new StatusError('MethodNotAllowed', 'not in this test')),
      Events: () => Promise.reject(new StatusError('MethodNotAllowed', 'not in this test')),
      CurrentRevision: () => Promise.resolve({ resourceVersion: '7' }),
    };
    const watchHandlers: ServiceHandlers<WatchHandlers> = {
      Watch: (_req, _ctx, send) => {
        calls.push('Watch');
        return send({ type: 'BOOKMARK', object: Buffer.from('{}'), resourceVersion: '1' });
      },
      WatchStream: (call: grpc.ServerDuplexStream<WatchStreamRequest__Output, WatchStreamResponse>, ctx: CallContext) =>
        new Promise<void>((resolve) => {
          streams.push(ctx.signal);
          call.on('data', () => calls.push('WatchStream message'));
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
          call.on('end', () => resolve());
        }),
    };
    server = new GrpcServer({ name: 'test', telemetry, logger, maxReceiveMessageBytes: MAX_MESSAGE_BYTES });
    server.addService('apiserver.v1.Storage', proto.apiserver.v1.Storage.service, handlers);
    server.addService('apiserver.v1.Watch', proto.apiserver.v1.Watch.service, watchHandlers);
    address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
    raw = new grpc.Client(address, grpc.credentials.createInsecure());
  });

  after(async () => {
    raw.close();
    await server.shutdown(1_000);
  });

  const unaryRaw = (path: string, bytes: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      raw.makeUnaryRequest(path, identity, identity, bytes, (err, response) => (err === null ? resolve(response as Buffer) : reject(err)));
    });

  test('a unary request that does not decode: INVALID_ARGUMENT, a BadRequest saying why, and no handler call', async () => {
    await assert.rejects(unaryRaw('/apiserver.v1.Storage/Get', MALFORMED), (err: unknown) => {
      const { code, status } = statusOf(err);
      assert.equal(code, grpc.status.INVALID_ARGUMENT);
      assert.equal(status.reason, 'BadRequest');
      assert.match(status.message, /^malformed apiserver\.v1\.Storage\/Get request: index out of range/);
      return true;
    });
    assert.deepEqual(calls, []);
    // The server is fine: a well-formed request is answered.
    const good = proto.apiserver.v1.Storage.service.Get.requestSerialize({ ref: { resource: 'configmaps', name: 'ok' } });
    const answer = proto.apiserver.v1.Storage.service.Get.responseDeserialize(await unaryRaw('/apiserver.v1.Storage/Get', Buffer.from(good))) as { object: Buffer };
    assert.equal(JSON.parse(answer.object.toString()).name, 'ok');
    assert.deepEqual(calls, ['Get ok']);
    calls.length = 0;
  });

  test('a server-streaming request that does not decode: INVALID_ARGUMENT before the handler runs', async () => {
    const stream = raw.makeServerStreamRequest('/apiserver.v1.Watch/Watch', identity, identity, MALFORMED);
    const messages: Buffer[] = [];
    stream.on('data', (m: Buffer) => messages.push(m));
    const err = await new Promise<unknown>((resolve) => stream.on('error', resolve));
    const { code, status } = statusOf(err);
    assert.equal(code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.message, /^malformed apiserver\.v1\.Watch\/Watch request: /);
    assert.deepEqual(messages, []);
    assert.deepEqual(calls, []);
  });

  test('a message of a bidi stream that does not decode ends the stream with INVALID_ARGUMENT; the handler never sees it', async () => {
    const stream = raw.makeBidiStreamRequest('/apiserver.v1.Watch/WatchStream', identity, identity);
    const err = new Promise<unknown>((resolve) => stream.on('error', resolve));
    const good = Buffer.from(proto.apiserver.v1.Watch.service.WatchStream.requestSerialize({ cancel: { id: 1 } }));
    stream.write(good);
    stream.write(MALFORMED);
    const { code, status } = statusOf(await err);
    assert.equal(code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.message, /^malformed apiserver\.v1\.Watch\/WatchStream request: /);
    assert.deepEqual(calls, ['WatchStream message'], 'only the good message');
    // The handler's call is over: its signal is aborted.
    assert.equal(streams.length, 1);
    await waitFor(() => streams[0]?.aborted === true);
    calls.length = 0;
  });

  test('Exchange: a malformed envelope ends the stream with INVALID_ARGUMENT; a malformed call is answered with BadRequest and the stream goes on', async () => {
    const stream = raw.makeBidiStreamRequest('/apiserver.v1.Storage/Exchange', identity, identity);
    const answers: { id: number; error: Buffer; response: Buffer }[] = [];
    const Exchange = proto.apiserver.v1.Storage.service.Exchange;
    stream.on('data', (b: Buffer) => answers.push(Exchange.responseDeserialize(b) as (typeof answers)[number]));
    const err = new Promise<unknown>((resolve) => stream.on('error', resolve));
    const envelope = (m: object) => Buffer.from(Exchange.requestSerialize(m));
    stream.write(envelope({ id: 1, method: 'Get', request: MALFORMED }));
    stream.write(envelope({ id: 2, method: 'CurrentRevision', request: Buffer.alloc(0) }));
    await waitFor(() => answers.length === 2);
    const bad = answers.find((a) => a.id === 1);
    const decoded = decodeStatusDetails(bad?.error ?? Buffer.alloc(0));
    assert.equal(decoded?.reason, 'BadRequest');
    assert.match(decoded?.message ?? '', /^malformed apiserver\.v1\.Storage\/Get request: index out of range/);
    assert.equal(answers.find((a) => a.id === 2)?.error.length, 0);
    stream.write(MALFORMED);
    const { code, status } = statusOf(await err);
    assert.equal(code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.message, /^malformed apiserver\.v1\.Storage\/Exchange request: /);
    assert.deepEqual(calls, []);
  });

  test('a message over the server\'s limit: RESOURCE_EXHAUSTED, before the handler', async () => {
    const big = Buffer.from(proto.apiserver.v1.Storage.service.Get.requestSerialize({ ref: { resource: 'configmaps', name: 'x'.repeat(MAX_MESSAGE_BYTES) } }));
    await assert.rejects(unaryRaw('/apiserver.v1.Storage/Get', big), (err: unknown) => {
      const { code, status } = statusOf(err);
      assert.equal(code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(status.reason, 'RequestEntityTooLarge');
      return true;
    });
    assert.deepEqual(calls, []);
  });
});

describe('handlers typed against the generated service types', () => {
  // The @ts-expect-error lines are the compile-time half of this test: `tsc -p .` fails when
  // one of them stops being an error (a handler map the type lets through).
  const admit = () => Promise.resolve({ object: Buffer.alloc(0) });

  test('a missing, misspelt, mistyped or wrong-kind handler does not compile', () => {
    const typed: ServiceHandlers<AdmissionHandlers> = { Admit: admit };
    // @ts-expect-error -- Admit is missing
    const _missing: ServiceHandlers<AdmissionHandlers> = {};
    const _misspelt: ServiceHandlers<AdmissionHandlers> = {
      Admit: admit,
      // @ts-expect-error -- apiserver.v1.Admission has no method Admitt
      Admitt: admit,
    };
    const _mistyped: ServiceHandlers<AdmissionHandlers> = {
      // @ts-expect-error -- Admit answers an AdmitResponse, which has no field objekt
      Admit: async () => ({ objekt: Buffer.alloc(0) }),
    };
    const _wrongKind: Pick<ServiceHandlers<StorageHandlers>, 'Get'> = {
      // @ts-expect-error -- Get is unary: it answers, it has no stream to send to
      Get: (_req: StorageGetRequest__Output, _ctx: CallContext, send: (m: object) => Promise<void>) => send({}),
    };
    const server = new GrpcServer({ name: 'test', telemetry, logger, maxReceiveMessageBytes: MAX_MESSAGE_BYTES });
    // @ts-expect-error -- addService checks the names against the definition's methods
    assert.throws(() => server.addService('apiserver.v1.Admission', proto.apiserver.v1.Admission.service, { Admitt: admit }), /no handler for Admit/);
    server.addService('apiserver.v1.Admission', proto.apiserver.v1.Admission.service, typed);
  });

  test('a handler missing at run time (a map the compiler did not see) is refused when the service is added', () => {
    const server = new GrpcServer({ name: 'test', telemetry, logger, maxReceiveMessageBytes: MAX_MESSAGE_BYTES });
    const untyped: unknown = JSON.parse('{}');
    assert.throws(() => server.addService('apiserver.v1.Admission', proto.apiserver.v1.Admission.service, untyped as ServiceHandlers<AdmissionHandlers>), /apiserver\.v1\.Admission: no handler for Admit/);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
