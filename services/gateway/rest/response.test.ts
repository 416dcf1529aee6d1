/**
 * The response writer over a real HTTP server: Status errors in the format the client's Accept
 * negotiates (protobuf included, with its envelope), and protobuf watch streams, their final
 * ERROR event included, read back frame by frame.
 * Run: ./node_modules/.bin/node --test services/gateway/rest/response.test.ts
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { StatusError } from '../../../lib/errors.ts';
import { WarningRecorder } from '../core/warnings.ts';
import { ProtobufAnswers, protobufWatchFrame } from './media/protobuf.ts';
import { KubeProtobufDecoder } from './protobuf.ts';
import { ResponseWriter } from './response.ts';

const answers = new ProtobufAnswers(new KubeProtobufDecoder());
const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => `${PROTO_DIR}/${target}`;
root.loadSync(['k8s/generated/core.v1.proto', 'k8s/generated/meta.v1.proto', 'k8s/generated/runtime.proto'], { keepCase: true });

function read(message: string, bytes: Uint8Array): Record<string, unknown> {
  const type = root.lookupType(message);
  return type.toObject(type.decode(bytes), { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>;
}

/** The kind and message of an enveloped body. */
function unwrap(body: Buffer): { kind: string; raw: Buffer } {
  assert.equal(body.subarray(0, 4).toString('latin1'), 'k8s\x00');
  const u = read('k8s.io.apimachinery.pkg.runtime.Unknown', body.subarray(4)) as { typeMeta: { kind: string }; raw: string };
  return { kind: u.typeMeta.kind, raw: Buffer.from(u.raw, 'base64') };
}

/** What each test's request is answered with, by its path. */
const handlers = new Map<string, (writer: ResponseWriter, accept: string | undefined, res: ServerResponse) => void | Promise<void>>();
let server: Server;
let port: number;

before(async () => {
  server = createServer((req, res) => {
    const writer = new ResponseWriter(res, new WarningRecorder(), answers);
    void handlers.get(req.url ?? '')?.(writer, req.headers.accept, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function get(path: string, accept?: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: accept === undefined ? {} : { Accept: accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const NOT_FOUND = new StatusError('NotFound', 'configmaps "nope" not found', { name: 'nope', kind: 'configmaps' });

describe('Status errors', () => {
  test('a resource request\'s error in protobuf when the client prefers it: meta/v1 Status in kube\'s envelope', async () => {
    handlers.set('/err-pb', (writer, accept) => {
      writer.negotiateErrors(accept);
      writer.status(NOT_FOUND);
    });
    const res = await get('/err-pb', 'application/vnd.kubernetes.protobuf,application/json');
    assert.equal(res.status, 404);
    assert.equal(res.headers['content-type'], 'application/vnd.kubernetes.protobuf');
    const { kind, raw } = unwrap(res.body);
    assert.equal(kind, 'Status');
    const status = read('k8s.io.apimachinery.pkg.apis.meta.v1.Status', raw);
    assert.deepEqual([status.status, status.reason, status.code, status.message], ['Failure', 'NotFound', 404, 'configmaps "nope" not found']);
  });

  test('YAML and JSON clients get theirs; a Table client, or one accepting nothing served, JSON', async () => {
    handlers.set('/err', (writer, accept) => {
      writer.negotiateErrors(accept);
      writer.status(NOT_FOUND);
    });
    const yaml = await get('/err', 'application/yaml');
    assert.equal(yaml.headers['content-type'], 'application/yaml');
    assert.match(yaml.body.toString(), /^reason: NotFound$/m);
    for (const accept of ['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json', 'text/html', undefined]) {
      const res = await get('/err', accept);
      assert.equal(res.headers['content-type'], 'application/json', String(accept));
      assert.equal((JSON.parse(res.body.toString()) as { reason: string }).reason, 'NotFound');
    }
  });

  test('a request whose errors are not negotiated (not a resource) answers JSON whatever it accepts', async () => {
    handlers.set('/err-path', (writer) => writer.status(NOT_FOUND));
    const res = await get('/err-path', 'application/vnd.kubernetes.protobuf');
    assert.equal(res.headers['content-type'], 'application/json');
  });

  test('Retry-After goes with a protobuf Status that says when to retry', async () => {
    handlers.set('/err-retry', (writer, accept) => {
      writer.negotiateErrors(accept);
      writer.status(new StatusError('TooManyRequests', 'too many requests', { retryAfterSeconds: 1 }));
    });
    const res = await get('/err-retry', 'application/vnd.kubernetes.protobuf');
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(read('k8s.io.apimachinery.pkg.apis.meta.v1.Status', unwrap(res.body).raw).reason, 'TooManyRequests');
  });
});

describe('protobuf watch streams', () => {
  test('frames as sent, then a final ERROR event carrying the Status', async () => {
    handlers.set('/watch', async (writer) => {
      const send = writer.startStream('protobuf');
      await send(protobufWatchFrame('ADDED', answers.encodeAs('v1', 'ConfigMap', { metadata: { name: 'a', resourceVersion: '3' } })));
      writer.status(new StatusError('Expired', 'too old resource version: 1 (3)'));
    });
    const res = await get('/watch', 'application/vnd.kubernetes.protobuf;stream=watch');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.kubernetes.protobuf;stream=watch');
    const events: { type: string; kind: string; object: Record<string, unknown> }[] = [];
    for (let at = 0; at < res.body.length; ) {
      const length = res.body.readUInt32BE(at);
      const event = read('k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent', res.body.subarray(at + 4, at + 4 + length)) as { type: string; object: { raw: string } };
      const { kind, raw } = unwrap(Buffer.from(event.object.raw, 'base64'));
      events.push({ type: event.type, kind, object: read(kind === 'Status' ? 'k8s.io.apimachinery.pkg.apis.meta.v1.Status' : 'k8s.io.api.core.v1.ConfigMap', raw) });
      at += 4 + length;
    }
    assert.deepEqual(
      events.map((e) => [e.type, e.kind]),
      [
        ['ADDED', 'ConfigMap'],
        ['ERROR', 'Status'],
      ],
    );
    assert.equal((events[0]?.object.metadata as { name: string }).name, 'a');
    assert.deepEqual([events[1]?.object.reason, events[1]?.object.code], ['Expired', 410]);
  });

  test('a JSON stream still ends with a JSON ERROR line', async () => {
    handlers.set('/watch-json', async (writer) => {
      const send = writer.startStream();
      await send(Buffer.from('{"type":"ADDED","object":{}}\n'));
      writer.status(new StatusError('Expired', 'too old'));
    });
    const res = await get('/watch-json', 'application/vnd.kubernetes.protobuf,application/json');
    assert.equal(res.headers['content-type'], 'application/json');
    const lines = res.body.toString().trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { reason?: string } });
    assert.deepEqual(lines.map((l) => l.type), ['ADDED', 'ERROR']);
    assert.equal(lines[1]?.object.reason, 'Expired');
  });
});
