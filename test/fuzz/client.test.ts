/**
 * The fuzzer's clients tell an answer from a hang. REST: the answer to a CONNECT comes through
 * the request's 'connect' event with the socket, its body partly in `head` and partly after
 * it, and must be read like any other so that a Status is recognized. gRPC: DEADLINE_EXCEEDED
 * answered by the server (kube's 504 Timeout maps to it) is an answer; only the client's own
 * deadline passing is a hang.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { Agent } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ensureCA, ensureServingCertificate } from '../../lib/pki.ts';
import { loadApiProto } from '../../lib/proto.ts';
import type { ResourcesClient } from '../../lib/gen/apiserver/v1/Resources.ts';
import { ADMIN_TOKEN, type GrpcFuzzRequest } from './generators.ts';
import { grpcCall, restCall } from './hostile.ts';

let dir: string;
let server: Server;
let client: { host: string; port: number; ca: string; agent: Agent };
let grpcServer: grpc.Server;
let grpcClient: { token: string; grpc: ResourcesClient };

const STATUS = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'no', reason: 'MethodNotAllowed', code: 405 });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rest-call-'));
  const ca = await ensureCA(dir, 'rest-call-test-ca');
  const serving = await ensureServingCertificate(dir, 'serving', ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  server = createServer({ cert: serving.certPem, key: serving.keyPem });
  server.on('connect', (req: { url?: string }, socket: Socket) => {
    const head = `HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(STATUS)}\r\nConnection: close\r\n\r\n`;
    if (req.url === '/split') {
      // The headers and the first bytes of the body, then the rest a moment later.
      socket.write(head + STATUS.slice(0, 10));
      setTimeout(() => socket.end(STATUS.slice(10)), 50);
    } else if (req.url === '/no-length') {
      socket.end(`HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${STATUS}`);
    } else {
      socket.end(head + STATUS);
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  client = { host: '127.0.0.1', port: address.port, ca: ca.certPem, agent: new Agent({ keepAlive: true, ca: ca.certPem }) };

  // Get answers DEADLINE_EXCEEDED at once, as storage does for a resourceVersion it has not
  // reached; "silent" never answers.
  const Resources = loadApiProto().apiserver.v1.Resources;
  grpcServer = new grpc.Server();
  grpcServer.addService(Resources.service, {
    Get: (call: grpc.ServerUnaryCall<{ ref?: { name?: string } }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (call.request.ref?.name === 'silent') return;
      callback({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Timeout: Too large resource version: 99999999999, current: 66' });
    },
  });
  const grpcPort = await new Promise<number>((ok, fail) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? ok(p) : fail(err))),
  );
  grpcClient = { token: 'unused', grpc: new Resources(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) };
});

after(async () => {
  grpcClient.grpc.close();
  grpcServer.forceShutdown();
  client.agent.destroy();
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  await rm(dir, { recursive: true, force: true });
});

test('the answer to a CONNECT is read with its body, in one piece, split, or without a length', async () => {
  for (const path of ['/whole', '/split', '/no-length']) {
    const a = await restCall(client, { method: 'CONNECT', path, headers: {} }, 5_000);
    assert.equal(a.kind, 'answer', path);
    assert.ok(a.kind === 'answer');
    assert.equal(a.status, 405, path);
    assert.equal(a.body.toString(), STATUS, path);
  }
});

test('DEADLINE_EXCEEDED from the server is an answer; the client deadline passing is a hang', async () => {
  const get = (name: string): { request: GrpcFuzzRequest; message: Record<string, unknown> } => {
    const message = { ref: { group: '', version: 'v1', resource: 'configmaps', namespace: 'fuzz-b', name }, resourceVersion: '99999999999' };
    return { request: { api: 'grpc', category: 'test', method: 'Get', message: { typed: message }, token: ADMIN_TOKEN }, message };
  };
  const answered = get('fz-8');
  const a = await grpcCall(grpcClient, answered.request, answered.message, 5_000);
  assert.equal(a.kind, 'error');
  assert.ok(a.kind === 'error');
  assert.equal(a.error.code, grpc.status.DEADLINE_EXCEEDED);
  assert.match(a.error.details, /Too large resource version/);
  const silent = get('silent');
  assert.equal((await grpcCall(grpcClient, silent.request, silent.message, 300)).kind, 'hang');
});
