/**
 * The fuzzer's clients read what a server answers, however Node hands it over: the answer to a
 * CONNECT comes through the request's 'connect' event with the socket, its body partly in
 * `head` and partly after it, and must be read like any other so that a Status is recognized.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { Agent } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureCA, ensureServingCertificate } from '../../lib/pki.ts';
import { restCall } from './hostile.ts';

let dir: string;
let server: Server;
let client: { host: string; port: number; ca: string; agent: Agent };

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

});

after(async () => {
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
