/**
 * The monitoring port every service process may open (--metrics-listen): plaintext, for
 * Prometheus and the kubelet, while the service's own gRPC port requires mutual TLS.
 *
 * One TCP port serves two protocols, told apart by the first bytes a client sends:
 * - HTTP/2 with prior knowledge (h2c: the connection preface "PRI * HTTP/2.0...") goes to a
 *   grpc-js server serving grpc.health.v1 with the service's own statuses, through grpc-js's
 *   connection injector, so that the kubelet's native `grpc:` probe works;
 * - anything else is HTTP/1.1: GET /metrics (Prometheus text, or OpenMetrics with exemplars
 *   when asked for), /livez (the process answers), /readyz and /healthz (the service is
 *   serving: 200 "ok", else 503).
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { StatusError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/** The client connection preface of HTTP/2 (RFC 9113, 3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** How long a new connection may take to send enough bytes to tell its protocol. */
const SNIFF_TIMEOUT_MS = 10_000;

export interface MonitorServerOptions {
  metrics: Metrics;
  /** Whether the service is ready (listening, not shutting down): /readyz and /healthz. */
  ready: () => boolean;
  /** Adds grpc.health.v1 to the monitoring port's gRPC server (GrpcServer.addHealthTo). */
  addHealth: (server: grpc.Server) => void;
  logger: Logger;
}

/** A running monitoring port. */
export class MonitorServer {
  /** The port it listens on (useful with port 0). */
  readonly port: number;
  private readonly listener: net.Server;
  private readonly http: http.Server;
  private readonly grpcServer: grpc.Server;
  private readonly injector: grpc.ConnectionInjector;
  /** Every open connection, whatever its protocol: closed with the server. */
  private readonly sockets = new Set<net.Socket>();

  private constructor(listener: net.Server, httpServer: http.Server, grpcServer: grpc.Server, injector: grpc.ConnectionInjector) {
    this.listener = listener;
    this.http = httpServer;
    this.grpcServer = grpcServer;
    this.injector = injector;
    const address = listener.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Listens on `address` ("host:port"); rejects with a StatusError when it cannot. */
  static async start(address: string, options: MonitorServerOptions): Promise<MonitorServer> {
    const { host, port } = hostPort(address);
    const grpcServer = new grpc.Server();
    options.addHealth(grpcServer);
    const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const httpServer = http.createServer((req, res) => void answer(req, res, options));
    // Scrapes and probes are small and quick; a client that stalls is not waited for.
    httpServer.requestTimeout = 30_000;
    httpServer.headersTimeout = 10_000;
    httpServer.keepAliveTimeout = 65_000;
    const listener = net.createServer({ pauseOnConnect: false });
    try {
      await new Promise<void>((resolve, reject) => {
        listener.once('error', (err) => reject(new StatusError('InternalError', `monitoring port ${address}: ${err.message}`)));
        listener.listen({ host, port }, () => resolve());
      });
    } catch (err) {
      grpcServer.forceShutdown();
      throw err;
    }
    listener.on('error', (err) => options.logger.warn('monitoring port error', { error: err }));
    const server = new MonitorServer(listener, httpServer, grpcServer, injector);
    listener.on('connection', (socket) => server.sniff(socket));
    return server;
  }

  /** Stops listening and closes every connection (scrapes and probes are retried by their clients). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    this.injector.destroy();
    this.grpcServer.forceShutdown();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Reads a connection's first bytes and hands it, bytes put back, to the server of its protocol. */
  private sniff(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    let head: Buffer = Buffer.alloc(0);
    const onError = () => socket.destroy();
    const hand = (to: (socket: net.Socket) => void) => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      to(socket);
    };
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      if (!head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
        hand((s) => {
          this.http.emit('connection', s);
          // The HTTP/1 server reads through 'data' events, which a paused socket does not emit;
          // the HTTP/2 session reads the put-back bytes itself (and then the handle).
          s.resume();
        });
      }
      else if (head.length >= H2_PREFACE.length) hand((s) => this.injector.injectConnection(s));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
  }
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, options: MonitorServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  const reply = (code: number, contentType: string, body: string) => {
    res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    reply(405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/metrics': {
      try {
        const { contentType, body } = await options.metrics.render(req.headers.accept);
        reply(200, contentType, body);
      } catch (err) {
        options.logger.error('rendering metrics failed', { error: err });
        reply(500, 'text/plain; charset=utf-8', 'rendering metrics failed\n');
      }
      return;
    }
    case '/livez':
      reply(200, 'text/plain; charset=utf-8', 'ok');
      return;
    case '/readyz':
    case '/healthz':
      if (options.ready()) reply(200, 'text/plain; charset=utf-8', 'ok');
      else reply(503, 'text/plain; charset=utf-8', `${path.slice(1)} check failed: not serving\n`);
      return;
    default:
      reply(404, 'text/plain; charset=utf-8', '404 page not found\n');
  }
}

/** "host:port" (a bracketed IPv6 host allowed), as --metrics-listen takes it. */
export function hostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new StatusError('BadRequest', `"${address}" is not a host:port address`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}
