/**
 * The front door around a Pipeline: the system namespaces, the serving certificate, the HTTPS
 * server for Kubernetes REST, and the typed gRPC Resources service. Shared by the gateway
 * process and the single-process mode, which differ only in how the pipeline reaches auth,
 * admission, storage and watch.
 */
import { readFile } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { GrpcServer } from '../../lib/grpc/serve.ts';
import type { Logger } from '../../lib/log.ts';
import { ensureCA, ensureServingCertificate } from '../../lib/pki.ts';
import { loadApiProto } from '../../lib/proto.ts';
import type { KindRegistry } from '../../lib/kinds/index.ts';
import type { Telemetry } from '../../lib/tracing.ts';
import type { Pipeline } from './core/pipeline.ts';
import { bootstrapRbac } from './core/rbac-bootstrap.ts';
import { bootstrapFlowControl, reconcileFlowControlBootstrap } from './core/flowcontrol/bootstrap.ts';
import type { FlowControl } from './core/flowcontrol/controller.ts';
import { serveReflection } from './grpc/reflection.ts';
import { resourcesHandlers } from './grpc/server.ts';
import { serveTypedKinds } from './grpc/typed.ts';
import { observedHandlers, resourcesCallTarget } from './grpc/observe-calls.ts';
import { RequestObservers } from './core/observe.ts';
import { BodyReader } from './rest/body.ts';
import { BodyBudget, ConnectionLimiter, DEFAULT_EDGE_LIMITS, type EdgeLimits } from './rest/edge-limits.ts';
import { RestHandler } from './rest/handler.ts';
import type { Metrics } from '../../lib/metrics.ts';

export interface FrontDoorOptions {
  pipeline: Pipeline;
  registry: KindRegistry;
  telemetry: Telemetry;
  logger: Logger;
  /** Absolute state directory; pki/ holds the CA and the serving certificate. */
  dataDir: string;
  /** host:port of the HTTPS listener. */
  httpsListen: string;
  /** DNS names and IPs of the serving certificate. */
  tlsSans: string[];
  /** How long requests in flight may take to finish on stop. */
  shutdownGraceMs: number;
  /** The gRPC server to add the Resources service to. */
  grpcServer: GrpcServer;
  /**
   * The client CA (PEM) the HTTPS listener names when it asks clients for a certificate
   * (default `<dataDir>/pki/client-ca.crt`, which the auth service creates on its first start).
   * While the file is missing, no certificate is asked for; it is looked for again every
   * CLIENT_CA_RETRY_MS until it appears.
   */
  clientCaFile?: string;
  /** The paths requests without credentials may reach as system:anonymous (see RestHandler). */
  anonymousPaths?: readonly string[];
  /** Limits of the HTTPS listener (DEFAULT_EDGE_LIMITS for what is left out). */
  limits?: Partial<EdgeLimits>;
  /**
   * How often the kinds' allocators are repaired and the bootstrap objects made again when gone
   * (the first pass runs at start); 0 turns the periodic passes off. Default 3 minutes.
   */
  allocationRepairIntervalMs?: number;
  /** Who watches each request of both front doors (metrics, access log, audit); none by default. */
  observers?: RequestObservers;
  /** The gateway's metrics, served at /metrics on the HTTPS port to users allowed to get it. */
  metrics?: Metrics;
  /** API Priority and Fairness for REST requests (none: no limit). */
  flowControl?: FlowControl;
}

/** kube-apiserver's HTTP/2 MaxUploadBufferPerStream and MaxReadFrameSize (its resourceBody99Percentile). */
const HTTP2_STREAM_WINDOW_BYTES = 256 * 1024;

/** A claim younger than this may belong to a write still under way: repair leaves it alone. */
const ALLOCATION_REPAIR_GRACE_MS = 60_000;
const DEFAULT_ALLOCATION_REPAIR_INTERVAL_MS = 180_000;
/** How often a missing client CA file is looked for again. */
const CLIENT_CA_RETRY_MS = 5_000;

export interface FrontDoor {
  /** The HTTPS listener: HTTP/2 (ALPN h2) and HTTP/1.1. */
  readonly https: Http2SecureServer;
  /** Open connections per client address. */
  readonly connections: ConnectionLimiter;
  /** Stop accepting, end watch streams, let requests in flight finish, then cut what is left. */
  stop(): Promise<void>;
}

export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address "${address}"`);
  return { host, port };
}

/** Creates the system namespaces, retrying while the services behind the pipeline come up. */
async function bootstrapNamespaces(o: FrontDoorOptions): Promise<void> {
  const namespaces = o.registry.get('', 'v1', 'namespaces');
  if (namespaces === undefined) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await o.pipeline.ensureSystemNamespaces(namespaces);
      return;
    } catch (err) {
      if (attempt >= 60) throw err;
      o.logger.warn('creating the system namespaces failed; retrying', { error: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Creates the kinds' bootstrap objects (the `kubernetes` Service, the system priority classes), retrying while the services behind the pipeline come up. */
async function bootstrapObjects(o: FrontDoorOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await o.pipeline.ensureBootstrapObjects(o.registry);
      return;
    } catch (err) {
      if (attempt >= 60) throw err;
      o.logger.warn('creating the bootstrap objects failed; retrying', { error: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * The allocators' repair and the bootstrap objects, at start and then every interval, in the
 * background (each replica runs its own: both are safe to run at once). Returns its stop.
 */
function startMaintenance(o: FrontDoorOptions): () => void {
  const interval = o.allocationRepairIntervalMs ?? DEFAULT_ALLOCATION_REPAIR_INTERVAL_MS;
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  const pass = async (): Promise<void> => {
    try {
      for (const { resource, report } of await o.pipeline.repairAllocations(o.registry.all, ALLOCATION_REPAIR_GRACE_MS, controller.signal)) {
        if (report.restored > 0 || report.released > 0) o.logger.info('allocations repaired', { resource, restored: report.restored, released: report.released });
        for (const conflict of report.conflicts) o.logger.warn('a value is held by several objects', { resource, conflict });
      }
      await o.pipeline.ensureBootstrapObjects(o.registry, controller.signal);
    } catch (err) {
      if (!controller.signal.aborted) o.logger.warn('allocation repair failed; trying again at the next pass', { error: err });
    }
    try {
      // kube's APF configuration producer keeps the bootstrap objects too.
      await reconcileFlowControlBootstrap(o.pipeline, o.registry, controller.signal);
    } catch (err) {
      if (!controller.signal.aborted) o.logger.warn('reconciling the flow-control bootstrap configuration failed; trying again at the next pass', { error: err });
    }
  };
  const run = () => {
    if (running === undefined) running = pass().finally(() => (running = undefined));
  };
  run();
  const timer = interval > 0 ? setInterval(run, interval) : undefined;
  timer?.unref();
  return () => {
    if (timer !== undefined) clearInterval(timer);
    controller.abort();
  };
}

export async function startFrontDoor(o: FrontDoorOptions): Promise<FrontDoor> {
  await bootstrapNamespaces(o);
  await bootstrapObjects(o);
  await bootstrapRbac(o.pipeline, o.registry, o.logger);
  // The flow-control bootstrap objects are made before the first request is served, as
  // kube-apiserver is not ready until its APF configuration producer's post-start hook is done:
  // made in the background, their writes (two reconciliations at once with the maintenance
  // pass's) took the gateway's time from the first requests (slow HTTP/2 bodies then ran past
  // the body deadline). The maintenance passes keep them afterwards.
  await bootstrapFlowControl(o.pipeline, o.registry, o.logger);

  const pki = join(o.dataDir, 'pki');
  const ca = await ensureCA(pki, 'kube-grpc-apiserver-ca');
  const isIp = (s: string) => /^[\d.]+$/.test(s) || s.includes(':');
  const serving = await ensureServingCertificate(pki, 'gateway-serving', ca, {
    dnsNames: o.tlsSans.filter((s) => !isIp(s)),
    ipAddresses: o.tlsSans.filter(isIp),
  });

  const { host, port } = splitHostPort(o.httpsListen);
  const limits: EdgeLimits = { ...DEFAULT_EDGE_LIMITS, ...o.limits };
  // One budget for the objects of REST and typed gRPC writes alike.
  const budget = new BodyBudget(limits.maxBodyBytesInFlight);
  const observers = o.observers ?? new RequestObservers();
  const rest = new RestHandler({
    pipeline: o.pipeline,
    registry: o.registry,
    tracer: o.telemetry.tracer,
    propagator: o.telemetry.propagator,
    logger: o.logger,
    serverAddress: o.httpsListen,
    bodies: new BodyReader({ budget, timeoutMs: limits.bodyTimeoutMs }),
    anonymousPaths: o.anonymousPaths,
    observers,
    metrics: o.metrics,
    flowControl: o.flowControl,
  });
  // HTTP/2 as kube-apiserver serves it (client-go multiplexes requests and watches over one
  // connection), HTTP/1.1 for clients without it.
  // A client certificate is asked for but not required (kube-apiserver's --client-ca-file):
  // clients with a token or none at all still connect; the auth service verifies what is sent.
  const clientCaFile = o.clientCaFile ?? join(pki, 'client-ca.crt');
  const clientCa = await readClientCa(clientCaFile);
  if (clientCa === undefined) o.logger.warn('no client CA file yet: client certificates are not asked for until it appears', { file: clientCaFile });
  // HTTP/2 settings per stream as kube-apiserver's (secure_serving.go): a 256 KiB window and
  // frames of up to 256 KiB. The connection's window stays HTTP/2's default (64 KiB), which
  // bounds what all streams send before the gateway reads it, rather than kube's 256 KiB per
  // stream allowed: with that window a client streams bodies far past the limit faster than
  // they are refused, and such streams were cut before their 413 reached the client.
  const streamWindow = HTTP2_STREAM_WINDOW_BYTES;
  const https = createSecureServer(
    {
      cert: serving.certPem,
      key: serving.keyPem,
      ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: false }),
      allowHTTP1: true,
      settings: { maxConcurrentStreams: limits.maxStreamsPerConnection, initialWindowSize: streamWindow, maxFrameSize: streamWindow },
      // A client that opens streams faster than they finish is refused more, not queued.
      maxSessionRejectedStreams: 100,
      // As Go's listeners (kube-apiserver's): no Nagle delay on answers written in parts (an
      // HTTP/2 answer's HEADERS and DATA frames), and TCP keep-alive probes after 15 s idle.
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 15_000,
    },
    rest.handle,
  );
  // HTTP/1.1: headers must arrive within the headers timeout; the whole request (a body the
  // handler never reads too) within it plus the body timeout, or Node answers 408 and closes.
  // A watch is complete once its headers are in, so these never cut a long-lived response.
  // (Node's HTTP/2 server takes http.Server's timeouts for its HTTP/1.1 connections; its types omit them.)
  const http1 = https as unknown as { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number };
  http1.headersTimeout = limits.headersTimeoutMs;
  http1.requestTimeout = limits.headersTimeoutMs + limits.bodyTimeoutMs + 1_000;
  http1.keepAliveTimeout = limits.idleTimeoutMs;

  const connections = new ConnectionLimiter(limits.maxConnectionsPerClient);
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  https.on('connection', (socket: Socket) => {
    if (!connections.admit(socket)) {
      o.logger.debug('connection refused: its client address holds the most connections allowed', { address: socket.remoteAddress });
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  https.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    closeWhenIdle(session, limits.idleTimeoutMs);
  });
  const stopClientCaWait = clientCa === undefined ? awaitClientCa(https, clientCaFile, { cert: serving.certPem, key: serving.keyPem }, o.logger) : () => {};
  // HTTP/1.1 requests Node's parser refuses (bytes no request line may hold, unknown methods,
  // oversized headers, a request that took too long) are answered with a Status too.
  https.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerUnparsable(err, socket));
  // CONNECT is no verb of this API; without a listener Node would drop the connection unanswered.
  https.on('connect', (_req: unknown, socket: Socket) => {
    writeRawStatus(socket, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  });
  // Errors of one client's TLS handshake or HTTP/2 session concern that client only.
  https.on('tlsClientError', (err: Error) => o.logger.debug('TLS handshake failed', { error: err }));
  https.on('sessionError', (err: Error) => o.logger.debug('HTTP/2 session failed', { error: err }));
  await new Promise<void>((ok, fail) => {
    https.once('error', fail);
    https.listen(port, host, () => ok());
  });

  const stopMaintenance = startMaintenance(o);
  o.grpcServer.addService('apiserver.v1.Resources', loadApiProto().apiserver.v1.Resources.service, observedHandlers('apiserver.v1.Resources', resourcesHandlers(o.pipeline, o.registry, budget, observers), observers, resourcesCallTarget(o.registry)));
  const typed = serveTypedKinds(o.grpcServer, o.pipeline, o.registry, budget, observers);
  serveReflection(o.grpcServer, ['apiserver/v1/resources.proto', ...typed.files], ['apiserver.v1.Resources', ...typed.services]);

  return {
    https,
    connections,
    stop: () =>
      new Promise<void>((done) => {
        stopMaintenance();
        stopClientCaWait();
        https.close(() => done());
        rest.shutdown();
        // GOAWAY: clients finish their streams in flight and open new ones elsewhere.
        for (const session of sessions) session.close();
        setTimeout(() => {
          for (const session of sessions) session.destroy();
          for (const socket of sockets) socket.destroy();
        }, o.shutdownGraceMs).unref();
      }),
  };
}

/** The client CA file's PEM, or undefined while there is none. */
async function readClientCa(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Looks for the client CA file every CLIENT_CA_RETRY_MS until it appears, then has the listener
 * ask new connections for a client certificate under it. Returns its stop.
 */
function awaitClientCa(https: Http2SecureServer, file: string, serving: { cert: string; key: string }, logger: Logger): () => void {
  let stopped = false;
  const timer = setInterval(() => {
    readClientCa(file).then(
      (ca) => {
        if (ca === undefined || stopped) return;
        clearInterval(timer);
        https.setSecureContext({ ...serving, ca });
        // Read by the TLS server for every new connection (as its constructor's options are).
        Object.assign(https, { requestCert: true, rejectUnauthorized: false });
        logger.info('client CA file found: client certificates are asked for from now on', { file });
      },
      (err: unknown) => logger.warn('the client CA file could not be read; trying again', { file, error: err }),
    );
  }, CLIENT_CA_RETRY_MS);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Answers an HTTP/1.1 request the parser could not read, then closes its connection. */
function answerUnparsable(err: NodeJS.ErrnoException, socket: Socket): void {
  // A request being answered (a refusal while its body still came in) gets no second answer.
  // A keep-alive socket may still point at the previous request's response, already ended,
  // for a moment after it was written: the bytes that failed to parse are then a new request.
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean; writableEnded?: boolean } | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || (answering?.headersSent === true && answering.writableEnded !== true)) {
    socket.destroy();
    return;
  }
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      writeRawStatus(socket, 408, 'Timeout', 'the request did not arrive in time');
      return;
    case 'HPE_HEADER_OVERFLOW':
      writeRawStatus(socket, 431, 'BadRequest', 'the request headers are too large');
      return;
    default:
      writeRawStatus(socket, 400, 'BadRequest', 'the request could not be parsed as HTTP/1.1');
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** How long a socket answered by {@link writeRawStatus} may keep sending what is discarded before it is destroyed. */
const LINGER_MS = 2_000;

/**
 * Writes a Status response straight to a socket no request object stands for, and closes it.
 * What the client still sends (the rest of its request) is read and discarded until it closes
 * too, for at most LINGER_MS (a lingering close): a socket closed with unread data answers it
 * with a TCP reset, which can reach the client before the answer does.
 */
function writeRawStatus(socket: Socket, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  socket.removeAllListeners('data');
  socket.on('data', () => {});
  socket.resume();
  socket.setTimeout(0);
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_TEXT[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Closes an HTTP/2 session once it has had no open stream for `idleMs` (HTTP/1.1's
 * keep-alive timeout, for HTTP/2). A session with a stream open (a quiet watch) stays.
 */
function closeWhenIdle(session: Http2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => session.close(), idleMs);
    timer.unref();
  };
  session.on('stream', (stream) => {
    open++;
    clearTimeout(timer);
    stream.once('close', () => {
      if (--open === 0) arm();
    });
  });
  session.once('close', () => clearTimeout(timer));
  arm();
}
