/**
 * Multiplexed unary calls (MultiplexedClient, GrpcServer's Exchange): each call behaves
 * as the unary call it replaces — answers, Statuses, deadlines, cancellation, spans — and the
 * stream's failures and shutdown are handled without losing or duplicating a call.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { context, trace } from '@opentelemetry/api';
import { notFound, StatusError } from '../errors.ts';
import { GrpcServer, type CallContext, type ServiceHandlers } from './serve.ts';
import { decodeStatusDetails, encodeStatusDetails } from '../grpc-status.ts';
import { MultiplexedClient } from './exchange-client.ts';
import { createLogger } from '../log.ts';
import { loadApiProto } from '../proto.ts';
import { createTelemetry, type Telemetry } from '../tracing.ts';
import type { CallRequest__Output } from '../gen/apiserver/v1/CallRequest.ts';
import type { CallResponse } from '../gen/apiserver/v1/CallResponse.ts';
import type { StorageClient as GeneratedStorageClient, StorageHandlers } from '../gen/apiserver/v1/Storage.ts';
import type { StorageCreateRequest__Output } from '../gen/apiserver/v1/StorageCreateRequest.ts';
import type { StorageGetRequest__Output } from '../gen/apiserver/v1/StorageGetRequest.ts';

const proto = loadApiProto();
const logger = createLogger({ service: 'test', level: 'error' });
const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default', name: 'a' };
/** Small limits, so that a call over them is cheap to make: one call's request, and the server's message. */
const MAX_CALL_BYTES = 64 * 1024;
const MAX_MESSAGE_BYTES = MAX_CALL_BYTES + 4 * 1024;

interface Harness {
  server: GrpcServer;
  address: string;
  client: GeneratedStorageClient;
  mux: MultiplexedClient<GeneratedStorageClient>;
  /** What each Create handler saw: its name and its signal. */
  seen: { name: string; signal: AbortSignal }[];
  /** Create calls for names starting with "hold" wait until this resolves. */
  release: () => void;
}

/** A Storage server whose Create echoes the object and Get answers NotFound. */
async function start(telemetry: Telemetry, port = 0): Promise<Harness> {
  const seen: { name: string; signal: AbortSignal }[] = [];
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const unused = () => Promise.reject(new StatusError('MethodNotAllowed', 'not in this test'));
  const handlers: ServiceHandlers<StorageHandlers> = {
    Create: async (req: StorageCreateRequest__Output, ctx: CallContext) => {
      seen.push({ name: req.ref?.name ?? '', signal: ctx.signal });
      if (req.ref?.name.startsWith('hold') === true) {
        await Promise.race([held, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))]);
      }
      return { object: req.object };
    },
    Get: (req: StorageGetRequest__Output) => Promise.reject(notFound({ group: '', resource: 'configmaps' }, req.ref?.name ?? '')),
    List: unused,
    Update: unused,
    Delete: unused,
    Events: unused,
    CurrentRevision: () => Promise.resolve({ resourceVersion: '42' }),
  };
  const server = new GrpcServer({ name: 'test', telemetry, logger, maxReceiveMessageBytes: MAX_MESSAGE_BYTES });
  server.addService('apiserver.v1.Storage', proto.apiserver.v1.Storage.service, handlers);
  const address = `127.0.0.1:${await server.listen(`127.0.0.1:${port}`)}`;
  const client = new proto.apiserver.v1.Storage(address, grpc.credentials.createInsecure());
  const mux = new MultiplexedClient(client, 'apiserver.v1.Storage', telemetry, { maxRequestBytes: MAX_CALL_BYTES });
  return { server, address, client, mux, seen, release: () => release() };
}

function create(h: Pick<Harness, 'mux'>, name: string, opts?: { signal?: AbortSignal; timeoutMs?: number }) {
  return h.mux.call('create', { ref: { ...ref, name }, object: Buffer.from(`{"n":"${name}"}`) }, opts);
}

describe('multiplexed calls', () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry({ serviceName: 'test', env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  let h: Harness;
  before(async () => {
    h = await start(telemetry);
  });
  after(async () => {
    h.release();
    h.mux.close();
    h.client.close();
    await h.server.shutdown(1_000);
  });

  test('many calls in flight on one stream each get their own answer', async () => {
    const names = Array.from({ length: 500 }, (_, i) => `obj-${i}`);
    const answers = await Promise.all(names.map((name) => create(h, name)));
    assert.deepEqual(answers.map((a) => JSON.parse(Buffer.from(a.object).toString()).n), names);
    assert.equal((await h.mux.call('currentRevision', {})).resourceVersion, '42');
  });

  test('a failed call rejects with the server\'s Status', async () => {
    await assert.rejects(h.mux.call('get', { ref, resourceVersion: '' }), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.reason, 'NotFound');
      assert.equal(err.message, 'configmaps "a" not found');
      return true;
    });
    // An unknown method is refused by name before anything is sent.
    await assert.rejects(h.mux.call('exchange' as 'create', { ref, object: Buffer.alloc(0) }), { reason: 'MethodNotAllowed' });
  });

  test('a deadline or the caller\'s signal ends the call and cancels it on the server', async () => {
    await assert.rejects(create(h, 'hold-deadline', { timeoutMs: 50 }), { reason: 'Timeout' });
    const controller = new AbortController();
    const call = create(h, 'hold-abort', { signal: controller.signal });
    await waitFor(() => h.seen.some((s) => s.name === 'hold-abort'));
    controller.abort();
    await assert.rejects(call, { reason: 'Timeout' });
    for (const name of ['hold-deadline', 'hold-abort']) {
      const signal = h.seen.find((s) => s.name === name)?.signal;
      await waitFor(() => signal?.aborted === true);
    }
    // The stream is still good for the next call.
    assert.equal((await h.mux.call('currentRevision', {})).resourceVersion, '42');
  });

  test('a call larger than the limit is refused before it is sent; the calls in flight on the stream carry on', async () => {
    const held = create(h, 'hold-size');
    await waitFor(() => h.seen.some((s) => s.name === 'hold-size'));
    const big = Buffer.alloc(MAX_CALL_BYTES, 'x');
    await assert.rejects(h.mux.call('create', { ref: { ...ref, name: 'big' }, object: big }), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.reason, 'RequestEntityTooLarge');
      assert.equal(err.message, `Request entity too large: limit is ${MAX_CALL_BYTES}`);
      return true;
    });
    assert.ok(!h.seen.some((s) => s.name === 'big'), 'never sent');
    h.release();
    assert.equal(JSON.parse(Buffer.from((await held).object).toString()).n, 'hold-size');
    // The same call, one the server's limit would take, passes the check.
    const fits = big.subarray(0, MAX_CALL_BYTES - 1024);
    assert.equal((await h.mux.call('create', { ref: { ...ref, name: 'fits' }, object: fits })).object.length, fits.length);
  });

  test('a message over the server\'s limit ends its stream with RESOURCE_EXHAUSTED; a new stream serves the next call', async () => {
    // As a client without the check: the server refuses the message from its length prefix.
    const stream = h.client.exchange();
    stream.on('error', () => {});
    const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    const request = Buffer.from(proto.apiserver.v1.Storage.service.Create.requestSerialize({ ref: { ...ref, name: 'too-big' }, object: Buffer.alloc(MAX_MESSAGE_BYTES) }));
    stream.write({ id: 1, method: 'Create', request });
    const ended = await status;
    assert.equal(ended.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.ok(!h.seen.some((s) => s.name === 'too-big'));
    assert.equal((await h.mux.call('currentRevision', {})).resourceVersion, '42');
  });

  test('each call has a CLIENT span and a SERVER span of its own, in the caller\'s trace', async () => {
    exporter.reset();
    const parent = telemetry.tracer.startSpan('caller');
    await context.with(trace.setSpan(context.active(), parent), () => create(h, 'traced'));
    parent.end();
    const creates = () => exporter.getFinishedSpans().filter((s) => s.name === 'apiserver.v1.Storage/Create');
    // The server ends its span once the answer is written, which may be after the client has it.
    await waitFor(() => creates().length === 2);
    const spans = creates();
    const client = spans.find((s) => s.kind === 2 /* CLIENT */);
    const server = spans.find((s) => s.kind === 1 /* SERVER */);
    assert.ok(client !== undefined && server !== undefined);
    assert.equal(client.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(server.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(server.parentSpanContext?.spanId, client.spanContext().spanId);
    assert.ok(!exporter.getFinishedSpans().some((s) => s.name.endsWith('/Exchange')), 'the stream itself has no span');
  });

  test('spans carry the gRPC semantic conventions: rpc.*, the peer, the status code, ERROR as each side counts it', async () => {
    exporter.reset();
    await create(h, 'attributes');
    await assert.rejects(h.mux.call('get', { ref, resourceVersion: '' }));
    const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === `apiserver.v1.Storage/${name}`);
    await waitFor(() => named('Create').length === 2 && named('Get').length === 2);
    const port = Number(h.address.split(':')[1]);
    for (const s of [...named('Create'), ...named('Get')]) {
      assert.equal(s.attributes['rpc.system'], 'grpc');
      assert.equal(s.attributes['rpc.service'], 'apiserver.v1.Storage');
      assert.equal(s.attributes['network.peer.address'], '127.0.0.1');
      if (s.kind === 2 /* CLIENT */) {
        assert.equal(s.attributes['server.address'], '127.0.0.1');
        assert.equal(s.attributes['server.port'], port);
      } else {
        assert.equal(s.attributes['server.port'], port);
      }
    }
    const [createClient, createServer] = [named('Create').find((s) => s.kind === 2), named('Create').find((s) => s.kind === 1)];
    assert.equal(createClient?.attributes['rpc.method'], 'Create');
    assert.equal(createClient?.attributes['rpc.grpc.status_code'], 0);
    assert.equal(createServer?.attributes['rpc.grpc.status_code'], 0);
    assert.equal(createClient?.status.code, 0 /* UNSET */);
    // NOT_FOUND: an error for the caller, a correct answer for the server.
    const [getClient, getServer] = [named('Get').find((s) => s.kind === 2), named('Get').find((s) => s.kind === 1)];
    assert.equal(getClient?.attributes['rpc.grpc.status_code'], grpc.status.NOT_FOUND);
    assert.equal(getServer?.attributes['rpc.grpc.status_code'], grpc.status.NOT_FOUND);
    assert.equal(getClient?.status.code, 2 /* ERROR */);
    assert.equal(getClient?.status.message, 'NOT_FOUND');
    assert.equal(getServer?.status.code, 0 /* UNSET */);
  });
});

describe('multiplexed calls: the stream\'s end', () => {
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });

  test('a shutdown lets calls in flight finish; later calls go to the next server', async () => {
    const first = await start(telemetry);
    const port = Number(first.address.split(':')[1]);
    const held = create(first, 'hold-drain');
    await waitFor(() => first.seen.length === 1);
    const stopping = first.server.shutdown(5_000);
    first.release();
    assert.equal(JSON.parse(Buffer.from((await held).object).toString()).n, 'hold-drain');
    await stopping;
    // The same address, a new server: the client opens a new stream to it.
    const second = await start(telemetry, port);
    try {
      const answer = await first.mux.call('create', { ref: { ...ref, name: 'after' }, object: Buffer.from('{"n":"after"}') });
      assert.equal(JSON.parse(Buffer.from(answer.object).toString()).n, 'after');
      assert.deepEqual(second.seen.map((s) => s.name), ['after']);
    } finally {
      first.mux.close();
      first.client.close();
      second.mux.close();
      second.client.close();
      await second.server.shutdown(1_000);
    }
  });

  test('a call refused as not executed by a draining server is sent again on a new stream and runs once, on the next server', async () => {
    const first = await start(telemetry);
    const port = Number(first.address.split(':')[1]);
    // A call in flight keeps the first server's stream open while it drains.
    const held = create(first, 'hold-drain');
    await waitFor(() => first.seen.length === 1);
    const stopping = first.server.shutdown(5_000);
    // The same address, a new server, while the first one still drains.
    const second = await start(telemetry, port);
    try {
      // Written on the draining stream, refused there as not executed, sent again on a new one.
      const answer = await create(first, 'resent');
      assert.equal(JSON.parse(Buffer.from(answer.object).toString()).n, 'resent');
      assert.deepEqual(first.seen.map((s) => s.name), ['hold-drain'], 'the draining server did not run it');
      assert.deepEqual(second.seen.map((s) => s.name), ['resent']);
      first.release();
      assert.equal(JSON.parse(Buffer.from((await held).object).toString()).n, 'hold-drain');
      await stopping;
    } finally {
      first.release();
      first.mux.close();
      first.client.close();
      second.mux.close();
      second.client.close();
      await second.server.shutdown(1_000);
    }
  });

  test('a stream the server ends cleanly before answering: the calls waiting on it are sent again', async () => {
    // The first stream ends as soon as a call arrives (the server answered all it ran: none).
    const raw = await rawServer((call, request, stream) => (stream === 1 ? call.end() : call.write(created(request))));
    const client = new proto.apiserver.v1.Storage(raw.address, grpc.credentials.createInsecure());
    const mux = new MultiplexedClient(client, 'apiserver.v1.Storage', telemetry);
    try {
      const answer = await create({ mux }, 'again');
      assert.equal(JSON.parse(Buffer.from(answer.object).toString()).n, 'again');
      assert.deepEqual(raw.calls, [{ stream: 1, name: 'again' }, { stream: 2, name: 'again' }]);
    } finally {
      mux.close();
      client.close();
      raw.stop();
    }
  });

  test('a call refused or left unanswered on every stream gets a clear Status after three resends', async () => {
    const cases = [
      {
        end: 'refused as not executed',
        serve: (call: ExchangeCall, request: CallRequest__Output) => call.write(notExecuted(request)),
        // The server's own Status, as it refused the last time.
        expect: { reason: 'ServiceUnavailable', message: 'server is shutting down' },
      },
      {
        end: 'stream ended cleanly',
        serve: (call: ExchangeCall) => call.end(),
        expect: { reason: 'ServiceUnavailable', message: 'service unavailable: a control plane service did not answer' },
      },
    ];
    for (const { end, serve, expect } of cases) {
      const raw = await rawServer(serve);
      const client = new proto.apiserver.v1.Storage(raw.address, grpc.credentials.createInsecure());
      const mux = new MultiplexedClient(client, 'apiserver.v1.Storage', telemetry);
      try {
        await assert.rejects(create({ mux }, 'never', { timeoutMs: 5_000 }), (err: unknown) => {
          assert.ok(err instanceof StatusError, end);
          assert.equal(err.reason, expect.reason, end);
          assert.equal(err.message, expect.message, end);
          return true;
        });
        // Sent once, then again three times, each time on a new stream.
        const sent = [1, 2, 3, 4].map((stream) => ({ stream, name: 'never' }));
        assert.deepEqual(raw.calls, sent, end);
        // The client is not stuck: the next call is sent (and refused) in the same way.
        await assert.rejects(create({ mux }, 'next', { timeoutMs: 5_000 }), { reason: 'ServiceUnavailable' });
        assert.equal(raw.calls.length, 8, end);
      } finally {
        mux.close();
        client.close();
        raw.stop();
      }
    }
  });

  test('a broken stream fails its calls with ServiceUnavailable, never hangs', async () => {
    const h = await start(telemetry);
    const held = create(h, 'hold-broken');
    await waitFor(() => h.seen.length === 1);
    // forceShutdown cuts the connection: the call's outcome is unknown, as for a unary call.
    void h.server.shutdown(0);
    await assert.rejects(held, (err: unknown) => err instanceof StatusError && ['ServiceUnavailable', 'Timeout'].includes(err.reason));
    await assert.rejects(h.mux.call('currentRevision', {}, { timeoutMs: 2_000 }), (err: unknown) => err instanceof StatusError && ['ServiceUnavailable', 'Timeout'].includes(err.reason));
    h.mux.close();
    h.client.close();
  });

  test('a call in flight when the connection breaks is not sent again: it fails with ServiceUnavailable', async () => {
    const h = await start(telemetry);
    const relay = await tcpRelay(h.address);
    const client = new proto.apiserver.v1.Storage(relay.address, grpc.credentials.createInsecure());
    const mux = new MultiplexedClient(client, 'apiserver.v1.Storage', telemetry);
    try {
      const held = create({ mux }, 'hold-cut', { timeoutMs: 3_000 });
      await waitFor(() => h.seen.length === 1);
      // The connection drops, as when the server's process dies: the call may have written.
      relay.cut();
      await assert.rejects(held, (err: unknown) => {
        assert.ok(err instanceof StatusError);
        assert.equal(err.reason, 'ServiceUnavailable');
        return true;
      });
      await waitFor(() => h.seen[0]?.signal.aborted === true);
      // The client goes on with a new connection, and the broken call was not repeated on it.
      const answer = await create({ mux }, 'after-cut');
      assert.equal(JSON.parse(Buffer.from(answer.object).toString()).n, 'after-cut');
      assert.deepEqual(h.seen.map((s) => s.name), ['hold-cut', 'after-cut']);
    } finally {
      h.release();
      mux.close();
      client.close();
      relay.close();
      h.mux.close();
      h.client.close();
      await h.server.shutdown(1_000);
    }
  });

  /** A raw Exchange stream of `h`, with the answers it received and its end. */
  function rawExchange(h: Harness) {
    const stream = h.client.exchange();
    const answers: { id: number; error: Buffer; notExecuted: boolean; response: Buffer }[] = [];
    stream.on('data', (r: (typeof answers)[number]) => answers.push(r));
    const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.on('error', () => {});
    const createRequest = (name: string) =>
      Buffer.from(proto.apiserver.v1.Storage.service.Create.requestSerialize({ ref: { ...ref, name }, object: Buffer.from(`{"n":"${name}"}`) }));
    return { stream, answers, status, createRequest };
  }

  test('the server keeps a call\'s deadline, and a call cancelled before it started never runs', async () => {
    const h = await start(telemetry);
    try {
      const { stream, answers, createRequest } = rawExchange(h);
      stream.write({ id: 1, method: 'Create', request: createRequest('hold-deadline'), timeoutMs: 50 });
      // Sent together, as a backlog is read after a pause: the cancel is seen before the call runs.
      stream.write({ id: 2, method: 'Create', request: createRequest('cancelled-early') });
      stream.write({ id: 2, cancel: true });
      await waitFor(() => answers.length === 2);
      for (const answer of answers) assert.equal(decodeStatusDetails(answer.error)?.reason, 'Timeout');
      assert.deepEqual(h.seen.map((s) => s.name), ['hold-deadline']);
      assert.equal(h.seen[0]?.signal.aborted, true);
      stream.end();
    } finally {
      h.release();
      h.mux.close();
      h.client.close();
      await h.server.shutdown(1_000);
    }
  });

  test('while the server drains, a new call is refused as not executed and the stream ends after the calls in flight', async () => {
    const h = await start(telemetry);
    const { stream, answers, status, createRequest } = rawExchange(h);
    stream.write({ id: 1, method: 'Create', request: createRequest('hold-drain') });
    await waitFor(() => h.seen.length === 1);
    const stopping = h.server.shutdown(5_000);
    stream.write({ id: 2, method: 'Create', request: createRequest('late') });
    await waitFor(() => answers.length === 1);
    assert.equal(answers[0]?.id, 2);
    assert.equal(answers[0]?.notExecuted, true);
    assert.equal(decodeStatusDetails(answers[0]!.error)?.reason, 'ServiceUnavailable');
    h.release();
    assert.equal((await status).code, grpc.status.OK);
    assert.deepEqual(answers.map((a) => a.id), [2, 1]);
    const created = proto.apiserver.v1.Storage.service.Create.responseDeserialize(answers[1]!.response) as { object: Buffer };
    assert.equal(JSON.parse(created.object.toString()).n, 'hold-drain');
    assert.deepEqual(h.seen.map((s) => s.name), ['hold-drain'], 'the refused call never ran');
    await stopping;
    h.mux.close();
    h.client.close();
  });

  test('a protocol error from a client gets a clear Status, never a crash', async () => {
    const h = await start(telemetry);
    try {
      const stream = h.client.exchange();
      const answers: { id: number; error: Buffer }[] = [];
      stream.on('data', (r: { id: number; error: Buffer }) => answers.push(r));
      const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
      stream.on('error', () => {});
      stream.write({ id: 1, method: 'NoSuchMethod', request: Buffer.alloc(0) });
      stream.write({ id: 2, method: 'Create', request: Buffer.from([0xff, 0xff, 0xff]) });
      await waitFor(() => answers.length === 2);
      assert.equal(decodeStatusDetails(answers[0]!.error)?.reason, 'MethodNotAllowed');
      assert.equal(decodeStatusDetails(answers[1]!.error)?.reason, 'BadRequest');
      stream.write({ id: 3, method: 'Create', request: Buffer.from(proto.apiserver.v1.Storage.service.Create.requestSerialize({ ref: { ...ref, name: 'hold-dup' } })) });
      stream.write({ id: 3, method: 'Create', request: Buffer.from(proto.apiserver.v1.Storage.service.Create.requestSerialize({ ref: { ...ref, name: 'hold-dup' } })) });
      const ended = await status;
      assert.equal(ended.code, grpc.status.INVALID_ARGUMENT);
      assert.match(ended.details, /call id 3 is already in flight/);
      // The held call was aborted with the stream; the server still serves others.
      await waitFor(() => h.seen.every((s) => s.signal.aborted));
      assert.equal((await h.mux.call('currentRevision', {})).resourceVersion, '42');
    } finally {
      h.release();
      h.mux.close();
      h.client.close();
      await h.server.shutdown(1_000);
    }
  });
});

type ExchangeCall = grpc.ServerDuplexStream<CallRequest__Output, CallResponse>;

/**
 * A bare gRPC server (not GrpcServer) whose Storage Exchange hands each call it reads to
 * `serve`, with the number of the stream it came on (1 for the first); `calls` lists them.
 */
async function rawServer(serve: (call: ExchangeCall, request: CallRequest__Output, stream: number) => void) {
  const calls: { stream: number; name: string }[] = [];
  let streams = 0;
  const server = new grpc.Server();
  server.addService(proto.apiserver.v1.Storage.service, {
    Exchange: (call: ExchangeCall) => {
      const stream = ++streams;
      call.on('error', () => {});
      call.on('data', (request: CallRequest__Output) => {
        if (request.cancel) return;
        const decoded = proto.apiserver.v1.Storage.service.Create.requestDeserialize(request.request) as StorageCreateRequest__Output;
        calls.push({ stream, name: decoded.ref?.name ?? '' });
        serve(call, request, stream);
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err === null ? resolve(port) : reject(err))),
  );
  return { address: `127.0.0.1:${port}`, calls, stop: () => server.forceShutdown() };
}

/** The answer of a Create that echoes the object. */
function created(request: CallRequest__Output): CallResponse {
  const { object } = proto.apiserver.v1.Storage.service.Create.requestDeserialize(request.request) as StorageCreateRequest__Output;
  return { id: request.id, response: proto.apiserver.v1.Storage.service.Create.responseSerialize({ object }) };
}

/** A draining server's refusal. */
function notExecuted(request: CallRequest__Output): CallResponse {
  return { id: request.id, error: encodeStatusDetails(new StatusError('ServiceUnavailable', 'server is shutting down')), notExecuted: true };
}

/** A TCP relay to `target`; cut() drops its connections at once, as when a process dies. */
async function tcpRelay(target: string) {
  const [host, port] = target.split(':');
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(port), host);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut,
    close: () => {
      server.close();
      cut();
    },
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
