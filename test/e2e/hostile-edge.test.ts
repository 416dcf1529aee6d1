/**
 * The HTTPS front door against hostile and broken clients, on the whole control plane:
 * request paths are never resolved (dot-segments and encoded slashes cannot reach another
 * object), bodies are checked before anything touches them, slow bodies are cut with 408,
 * one address cannot hold more connections than allowed, clients that vanish are no errors,
 * and HTTP/2 is served (with kube's stream limit) to kubectl, client-node and watches.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { Metadata, status as GrpcCode, type ServiceError } from '@grpc/grpc-js';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { clientSettings } from '../../lib/grpc/client.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { createKubectl } from '../support/kubectl.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

const NS = 'edge';
const BODY_TIMEOUT_MS = 1_500;
const MAX_CONNECTIONS = 24;
/** Room for one large body's copies (4 x 3 MiB) and a little more, not two. */
const BODY_BUDGET = 16 * 1024 * 1024;

let dir: string;
let plane: ControlPlane;
let receiver: OtlpReceiver;
let rest: RestClient;
let ca: string;
let token: string;
let host: string;
let port: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-edge-'));
  receiver = await startOtlpReceiver();
  plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' },
    flags: {
      gateway: [`--request-body-timeout=${BODY_TIMEOUT_MS}`, `--max-connections-per-client=${MAX_CONNECTIONS}`, `--max-body-bytes-in-flight=${BODY_BUDGET}`],
    },
  });
  ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, token);
  [host = '', port = 0] = [plane.addresses.https.split(':')[0], Number(plane.addresses.https.split(':')[1])];
  assert.equal((await rest.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } })).status, 201);
  const sentinel = await rest.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'sentinel' }, data: { a: 'b' } } });
  assert.equal(sentinel.status, 201);
});

after(async () => {
  agent.destroy();
  await plane?.stop();
  await receiver?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Keep-alive connections for rawRequest: with "Connection: close" the server closes the
 * connection on answering early (a 413 before the body is in) and the client fails writing the rest.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** One request with the path exactly as given (no client-side normalization), over HTTP/1.1 on its own connection. */
function rawRequest(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json', ...headers };
    if (body !== undefined) {
      h['Content-Type'] ??= 'application/json';
      h['Content-Length'] = String(body.length);
    }
    const req = httpsRequest({ host, port, ca, method, path, headers: h, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = { unparsed: text };
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function sentinelState(): Promise<string> {
  const ns = await rest.request('GET', `/api/v1/namespaces/${NS}`);
  const cm = await rest.request('GET', `/api/v1/namespaces/${NS}/configmaps/sentinel`);
  assert.equal(ns.status, 200, 'the namespace is still there');
  assert.equal(cm.status, 200, 'the sentinel ConfigMap is still there');
  const meta = (o: Record<string, unknown>) => o.metadata as Record<string, unknown>;
  return JSON.stringify([meta(ns.json()).uid, meta(ns.json()).resourceVersion, meta(cm.json()).uid, meta(cm.json()).resourceVersion]);
}

describe('request paths are matched as sent', () => {
  test('dot-segments and encoded slashes in every position of the path, with every verb, reach nothing else', async () => {
    const before = await sentinelState();
    const segments = ['..', '.', '%2E%2E', '%2e%2e', '%2e', '%2E', '%2F', 'a%2Fb', '%2e%2E%2F'];
    const template = ['api', 'v1', 'namespaces', NS, 'configmaps', 'sentinel'];
    const methods = ['GET', 'DELETE', 'PUT', 'POST'];
    const body = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sentinel' }, data: { x: 'y' } }));
    let requests = 0;
    for (const segment of segments) {
      const paths: string[] = [];
      for (let i = 1; i < template.length; i++) paths.push('/' + template.map((s, j) => (j === i ? segment : s)).join('/'));
      for (let i = 1; i <= template.length; i++) paths.push('/' + [...template.slice(0, i), segment, ...template.slice(i)].join('/'));
      for (const path of paths) {
        for (const method of methods) {
          const r = await rawRequest(method, path, method === 'PUT' || method === 'POST' ? body : undefined);
          requests++;
          assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} answered ${r.status}: ${JSON.stringify(r.json)}`);
          assert.equal(r.json.kind, 'Status', `${method} ${path} answers a Status`);
        }
      }
    }
    assert.ok(requests > 350);
    assert.equal(await sentinelState(), before, 'nothing was changed or deleted');
  });

  test("'.' and '..' as names and namespaces are refused with kube's messages", async () => {
    const cases: [string, string, string][] = [
      ['DELETE', `/api/v1/namespaces/${NS}/configmaps/%2E%2E`, `Name parameter invalid: "..": may not be '..'`],
      ['GET', `/api/v1/namespaces/${NS}/configmaps/%2e%2e`, `Name parameter invalid: "..": may not be '..'`],
      ['GET', `/api/v1/namespaces/${NS}/configmaps/..`, `Name parameter invalid: "..": may not be '..'`],
      ['GET', `/api/v1/namespaces/${NS}/configmaps/%2e`, `Name parameter invalid: ".": may not be '.'`],
      ['GET', `/api/v1/namespaces/${NS}/configmaps/a%2Fb`, `Name parameter invalid: "a/b": may not contain '/'`],
      ['GET', '/api/v1/namespaces/%2e%2e/configmaps', `Namespace parameter invalid: "..": may not be '..'`],
      ['GET', '/api/v1/namespaces/../configmaps', `Namespace parameter invalid: "..": may not be '..'`],
      ['DELETE', '/api/v1/namespaces/%2E%2E', `Name parameter invalid: "..": may not be '..'`],
      ['GET', '/api/v1/watch/namespaces/%2e%2e/configmaps', `Namespace parameter invalid: "..": may not be '..'`],
    ];
    for (const [method, path, message] of cases) {
      const r = await rawRequest(method, path);
      assert.equal(r.status, 400, `${method} ${path}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.reason, 'BadRequest');
      assert.equal(r.json.message, message, `${method} ${path}`);
    }
    const unauthenticated = await rawRequest('GET', '/api/v1/namespaces/%zz/configmaps', undefined, { Authorization: 'Bearer wrong' });
    assert.equal(unauthenticated.status, 401, 'authentication comes before anything the path says');
  });
});

/** Sends raw bytes on a new TLS connection and resolves with everything read until the server closes it. */
async function rawExchange(bytes: Buffer): Promise<string> {
  const socket = await openTls();
  assert.ok(socket !== null);
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.once('close', () => resolve(text));
    socket.write(bytes);
  });
}

describe('requests the HTTP parser refuses', () => {
  test('get a Status too: bytes no request line may hold, unknown methods, CONNECT', async () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([Buffer.from('GET /api/v1/nodes/'), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]), /^HTTP\/1\.1 400 /],
      [Buffer.from('BREW /api/v1/nodes HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 400 /],
      [Buffer.from('CONNECT /api/v1/nodes HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 405 /],
    ];
    for (const [bytes, status] of cases) {
      const answer = await rawExchange(bytes);
      assert.match(answer, status, JSON.stringify(bytes.toString('latin1')));
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
      assert.equal(body.kind, 'Status');
      assert.equal(body.status, 'Failure');
    }
  });
});

describe('bodies are checked before anything touches them', () => {
  test('nesting past the bound is a 400 that says so; a body that is not UTF-8 is a 400; more than 3 MiB is a 413', async () => {
    const deep = `{"metadata":{"name":"deep"},"data":{"a":"b"},"extra":${'['.repeat(5_000)}${']'.repeat(5_000)}}`;
    const r1 = await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, Buffer.from(deep));
    assert.equal(r1.status, 400, JSON.stringify(r1.json));
    assert.match(String(r1.json.message), /nested too deeply: at most 1000 levels/);
    const deepLabels = `{"metadata":{"name":"deep2","labels":${'{"a":'.repeat(3_000)}"x"${'}'.repeat(3_000)}}}`;
    assert.equal((await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, Buffer.from(deepLabels))).status, 400);
    const notUtf8 = Buffer.concat([Buffer.from('{"metadata":{"name":"bad'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const r2 = await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, notUtf8);
    assert.equal(r2.status, 400);
    assert.match(String(r2.json.message), /not valid UTF-8/);
    const big = Buffer.from(JSON.stringify({ metadata: { name: 'big' }, data: { a: 'x'.repeat(3.5 * 1024 * 1024) } }));
    const r3 = await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, big);
    assert.equal(r3.status, 413);
    assert.equal(r3.json.reason, 'RequestEntityTooLarge');
  });
});

/** Opens a TLS connection and resolves once it is usable, or with null when the server closes it first. */
function openTls(alpn: string[] = ['http/1.1']): Promise<TLSSocket | null> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, ca, servername: 'localhost', ALPNProtocols: alpn });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', () => resolve(null));
    socket.once('close', () => resolve(null));
  });
}

describe('deadlines and connection limits', () => {
  test('an HTTP/1.1 body that does not arrive in time gets 408 and its connection is closed', async () => {
    const socket = await openTls();
    assert.ok(socket !== null);
    const started = Date.now();
    const answer = new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.once('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    });
    socket.write(
      `POST /api/v1/namespaces/${NS}/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"metadata":',
    );
    // One more byte a while later: a trickle does not extend the deadline.
    const trickle = setInterval(() => socket.write(' '), 300);
    const { text, closedAfterMs } = await answer;
    clearInterval(trickle);
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /"code":408/);
    assert.ok(closedAfterMs >= BODY_TIMEOUT_MS - 100 && closedAfterMs < BODY_TIMEOUT_MS + 5_000, `closed after ${closedAfterMs} ms`);
  });

  test('an HTTP/2 body that does not arrive in time gets 408 on its stream; the connection serves on', async () => {
    const session = connectHttp2(`https://${plane.addresses.https}`, { ca, servername: 'localhost' });
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': `/api/v1/namespaces/${NS}/configmaps`,
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      });
      stream.write('{"metadata":');
      const status = await new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
      assert.equal(status, 408);
      const ok = await h2Get(session, `/api/v1/namespaces/${NS}/configmaps/sentinel`);
      assert.equal(ok.status, 200, 'another request on the same connection is served');
    } finally {
      session.close();
    }
  });

  test('bodies in flight share one memory budget over REST and gRPC: past it, 429 with Retry-After, at once', async () => {
    // A large body that has mostly arrived holds its share of the budget (its copies, counted as its bytes arrive).
    const holder = await openTls();
    assert.ok(holder !== null);
    holder.write(
      `POST /api/v1/namespaces/${NS}/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${3 * 1024 * 1024}\r\n\r\n{"metadata":{"name":"holder"},"data":{"a":"${'x'.repeat(2.5 * 1024 * 1024)}`,
    );
    await new Promise((r) => setTimeout(r, 300));
    try {
      const big = Buffer.from(JSON.stringify({ metadata: { name: 'second' }, data: { a: 'x'.repeat(2 * 1024 * 1024) } }));
      const started = Date.now();
      const r = await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, big);
      assert.equal(r.status, 429, JSON.stringify(r.json));
      assert.equal(r.json.message, 'Too many requests, please try again later.');
      assert.deepEqual(r.json.details, { retryAfterSeconds: 1 });
      assert.ok(Date.now() - started < BODY_TIMEOUT_MS, 'refused at once, not after the other body');
      // The typed gRPC API takes from the same budget.
      const telemetry = createTelemetry({ serviceName: 'test', env: {} });
      const { credentials, channelOptions } = clientSettings({ telemetry });
      const client = new (loadApiProto().apiserver.v1.Resources)(plane.addresses.gateway, credentials, channelOptions);
      const auth = new Metadata();
      auth.set('authorization', `Bearer ${token}`);
      const err = await new Promise<ServiceError | null>((resolve) =>
        client.Create({ ref: { group: '', version: 'v1', resource: 'configmaps', namespace: NS, name: '' }, object: big }, auth, (e) => resolve(e)),
      );
      client.close();
      assert.equal(err?.code, GrpcCode.RESOURCE_EXHAUSTED, err?.message);
      // Small writes are not held up.
      const small = await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, Buffer.from('{"metadata":{"name":"small-during-big"}}'));
      assert.equal(small.status, 201);
    } finally {
      holder.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const after = Buffer.from(JSON.stringify({ metadata: { name: 'after-big' }, data: { a: 'x'.repeat(1024 * 1024) } }));
    assert.equal((await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, after)).status, 201, 'the budget is given back when a request ends');
  });

  test('a request that outlives its ?timeout= ends with 504 then, not when its work would end', async () => {
    // A list at a resourceVersion the store has not reached waits for it (3 s, as kube's cache does).
    const path = `/api/v1/namespaces/${NS}/configmaps?resourceVersion=999999999&resourceVersionMatch=NotOlderThan`;
    const started = Date.now();
    const r = await rawRequest('GET', `${path}&timeout=300ms`);
    const took = Date.now() - started;
    assert.equal(r.status, 504, JSON.stringify(r.json));
    assert.equal(r.json.reason, 'Timeout');
    assert.ok(took >= 250 && took < 2_000, `answered after ${took} ms`);
    const waited = await rawRequest('GET', path);
    assert.equal(waited.status, 504);
    assert.match(String(waited.json.message), /Too large resource version/);
  });

  test('a declared length alone takes nothing from the budget', async () => {
    // Header-only requests claiming large bodies: others' writes go on.
    const claims = await Promise.all(Array.from({ length: 8 }, () => openTls()));
    for (const c of claims) {
      c?.write(`POST /api/v1/namespaces/${NS}/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${3 * 1024 * 1024}\r\n\r\n`);
    }
    await new Promise((r) => setTimeout(r, 200));
    try {
      const body = Buffer.from(JSON.stringify({ metadata: { name: 'beside-claims' }, data: { a: 'x'.repeat(1024 * 1024) } }));
      assert.equal((await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, body)).status, 201);
    } finally {
      for (const c of claims) c?.destroy();
    }
  });

  test('an HTTP/2 body past the limit without a declared length is refused and its stream closed, its budget given back', async () => {
    const session = connectHttp2(`https://${plane.addresses.https}`, { ca, servername: 'localhost' });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 6 }, () => {
          const stream = session.request({ ':method': 'POST', ':path': `/api/v1/namespaces/${NS}/configmaps`, authorization: `Bearer ${token}`, 'content-type': 'application/json' });
          stream.on('error', () => undefined);
          // More than 3 MiB, never ended.
          stream.write(Buffer.alloc(3 * 1024 * 1024 + 10, 0x20));
          return new Promise<number>((resolve) => {
            stream.once('response', (h) => resolve(Number(h[':status'])));
            stream.once('close', () => resolve(0));
          });
        }),
      );
      // Too large (413), or past the budget while they came in (429); or cut before the answer.
      assert.ok(statuses.every((s) => s === 413 || s === 429 || s === 0), statuses.join(','));
      assert.ok(statuses.some((s) => s === 413 || s === 429));
      const body = Buffer.from(JSON.stringify({ metadata: { name: 'after-h2-refusals' }, data: { a: 'x'.repeat(1024 * 1024) } }));
      assert.equal((await rawRequest('POST', `/api/v1/namespaces/${NS}/configmaps`, body)).status, 201, 'the refused streams hold no budget');
    } finally {
      session.destroy();
    }
  });

  test('one client address holds at most the configured number of connections', async () => {
    const sockets: TLSSocket[] = [];
    let refused = 0;
    try {
      for (let i = 0; i < MAX_CONNECTIONS + 8; i++) {
        const s = await openTls();
        if (s === null) refused++;
        else sockets.push(s);
      }
      assert.ok(sockets.length <= MAX_CONNECTIONS, `${sockets.length} connections were kept open`);
      assert.ok(refused >= 8, `${refused} connections were refused`);
    } finally {
      for (const s of sockets) s.destroy();
    }
    // Once they are closed, the address may connect again.
    await new Promise((r) => setTimeout(r, 200));
    const again = await openTls();
    assert.ok(again !== null, 'a new connection is accepted after the others closed');
    again.destroy();
  });

  test('clients that go away mid-request are not logged as errors', async () => {
    const sockets = await Promise.all(Array.from({ length: 10 }, () => openTls()));
    for (const s of sockets) {
      s?.write(`POST /api/v1/namespaces/${NS}/configmaps HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"meta`);
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const s of sockets) s?.destroy();
    // A request after them has been served, so their handling is over.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await rest.request('GET', `/api/v1/namespaces/${NS}/configmaps/sentinel`)).status, 200);
    const log = await readFile(join(dir, 'logs', 'gateway.log'), 'utf8');
    assert.doesNotMatch(log, /"level":"error"/);
  });
});

function h2Get(session: ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': path, authorization: `Bearer ${token}`, accept: 'application/json' });
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (d: Buffer) => (body += d.toString()));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
    stream.end();
  });
}

describe('HTTP/2', () => {
  test('ALPN offers h2 and the server allows kube\'s 100 concurrent streams per connection', async () => {
    const socket = await openTls(['h2', 'http/1.1']);
    assert.ok(socket !== null);
    assert.equal(socket.alpnProtocol, 'h2');
    socket.destroy();
    const session = connectHttp2(`https://${plane.addresses.https}`, { ca, servername: 'localhost' });
    try {
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
      assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
      const r = await h2Get(session, '/version');
      assert.equal(r.status, 200);
    } finally {
      session.close();
    }
  });

  test('a watch over HTTP/2 streams events, beside other requests on the same connection', async () => {
    const session = connectHttp2(`https://${plane.addresses.https}`, { ca, servername: 'localhost' });
    try {
      const list = JSON.parse((await h2Get(session, `/api/v1/namespaces/${NS}/configmaps`)).body) as { metadata: { resourceVersion: string } };
      const stream = session.request({
        ':method': 'GET',
        ':path': `/api/v1/namespaces/${NS}/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
        authorization: `Bearer ${token}`,
      });
      let buffered = '';
      const added = new Promise<Record<string, unknown>>((resolve) => {
        stream.on('data', (d: Buffer) => {
          buffered += d.toString();
          for (const line of buffered.split('\n').slice(0, -1)) {
            const event = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
            if (event.type === 'ADDED' && event.object.metadata.name === 'over-h2') resolve(event);
          }
        });
      });
      const created = await rest.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'over-h2' } } });
      assert.equal(created.status, 201);
      await added;
      assert.equal((await h2Get(session, '/version')).status, 200, 'the connection serves other requests while the watch is open');
      stream.close();
    } finally {
      session.close();
    }
  });

  test('client-node and kubectl speak HTTP/2 to the gateway, watches included', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    const seen = new Promise<void>((resolve, reject) => {
      void new Watch(kc)
        .watch(`/api/v1/namespaces/${NS}/configmaps`, { fieldSelector: 'metadata.name=client-node-h2' }, (type) => {
          if (type === 'ADDED') resolve();
        }, (err: unknown) => {
          if (err !== null && err !== undefined) reject(err as Error);
        })
        .then((controller) => seen.finally(() => controller.abort()), reject);
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await rest.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { metadata: { name: 'client-node-h2' } } })).status, 201);
    await seen;
    const kubectl = createKubectl(plane.kubeconfig);
    const got = await kubectl(['get', 'configmaps', '-n', NS, '-w', '--request-timeout=1s']);
    assert.match(got.stdout, /client-node-h2/);
    // The gateway's SERVER span of each request says which protocol carried it.
    const versions = (agent: RegExp) =>
      receiver.spans
        .filter((s) => s.service === 'gateway' && agent.test(String(s.attributes['user_agent.original'] ?? '')))
        .map((s) => String(s.attributes['network.protocol.version']));
    await receiver.waitFor(() => versions(/^kubectl/).length > 0 && versions(/^(?!kubectl)./).length > 0, 10_000);
    assert.ok(versions(/^kubectl/).every((v) => v === '2'), `kubectl: ${versions(/^kubectl/).join(',')}`);
    assert.ok(versions(/^(?!kubectl)./).every((v) => v === '2'), `client-node: ${versions(/^(?!kubectl)./).join(',')}`);
  });
});
