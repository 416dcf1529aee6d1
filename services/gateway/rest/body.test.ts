/**
 * BodyReader over a real HTTP/1.1 connection to a server made as the front door makes its own
 * (HTTPS with HTTP/1.1 allowed): a refused body without a declared size (chunked) is read on
 * and thrown away within twice the limit, so the connection serves the client's next request,
 * and past that the connection is closed rather than left hanging.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { StatusError } from '../../../lib/errors.ts';
import { ensureCA, ensureServingCertificate } from '../../../lib/pki.ts';
import { BodyReader, edgeResponse, MAX_BODY_BYTES } from './body.ts';
import { BodyBudget } from './edge-limits.ts';

let dir: string;
let server: Http2SecureServer;
let port: number;
let ca: string;
/** Both ends of every connection, closed at the end. */
const sockets = new Set<Socket>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'body-test-'));
  const authority = await ensureCA(dir, 'body-test-ca');
  const serving = await ensureServingCertificate(dir, 'serving', authority, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  ca = authority.certPem;
  const bodies = new BodyReader({ budget: new BodyBudget(64 * 1024 * 1024), timeoutMs: 20_000 });
  server = createSecureServer({ cert: serving.certPem, key: serving.keyPem, allowHTTP1: true }, (req, res) => {
    bodies.read(req, edgeResponse(res)).then(
      (body) => res.writeHead(200, { 'Content-Length': String(body.length).length }).end(String(body.length)),
      (err: unknown) => {
        const code = err instanceof StatusError ? err.code : 500;
        res.writeHead(code, { 'Content-Length': 0 }).end();
      },
    );
  });
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((done) => server.close(done));
  await rm(dir, { recursive: true, force: true });
});

/** A connection that collects what it reads, and says when it closed. */
function open(): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    sockets.add(socket);
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    // Writing the rest of a body the server no longer takes may fail: what counts is what was read.
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('secureConnect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

/** Resolves once `check` holds, or rejects after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes `bytes` of body as chunks of 64 KiB, waiting for the socket to take each. */
async function writeChunked(socket: Socket, bytes: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < bytes && !socket.destroyed; sent += chunk.length) {
    const ok = socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    if (ok) continue;
    await new Promise<void>((resume) => {
      const go = (): void => {
        socket.off('drain', go).off('close', go);
        resume();
      };
      socket.on('drain', go).on('close', go);
    });
  }
  if (!socket.destroyed) socket.write('0\r\n\r\n');
}

const POST = 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

describe('a refused chunked body', () => {
  test('within twice the limit: 413, and the same connection answers the next request', async () => {
    const c = await open();
    c.socket.write(POST);
    await writeChunked(c.socket, MAX_BODY_BYTES + 512 * 1024);
    c.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    await until(() => /HTTP\/1\.1 200 [^]*\r\n\r\n2$/.test(c.text()), 10_000, `the next request answered; read so far: ${JSON.stringify(c.text())}`);
    assert.match(c.text(), /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(c.text(), /Connection: close/i);
    c.socket.destroy();
  });

  test('past twice the limit: 413, then the connection is closed', async () => {
    const c = await open();
    c.socket.write(POST);
    const writing = writeChunked(c.socket, 2 * MAX_BODY_BYTES + 1024 * 1024);
    let timer: NodeJS.Timeout | undefined;
    const stayedOpen = new Promise((_, fail) => {
      timer = setTimeout(() => fail(new Error(`the connection stayed open; read: ${JSON.stringify(c.text())}`)), 10_000);
    });
    try {
      await Promise.race([c.closed, stayedOpen]);
    } finally {
      clearTimeout(timer);
    }
    await writing;
    assert.match(c.text(), /^HTTP\/1\.1 413 /);
  });
});
