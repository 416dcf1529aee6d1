/**
 * The front door around a Pipeline: the system namespaces, the serving certificate, the HTTPS
 * server for Kubernetes REST, and the typed gRPC Resources service. Shared by the gateway
 * process and the single-process mode, which differ only in how the pipeline reaches auth,
 * admission, storage and watch.
 */
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { GrpcServer } from '../../lib/grpc.ts';
import type { Logger } from '../../lib/log.ts';
import { ensureCA, ensureServingCertificate } from '../../lib/pki.ts';
import { loadApiProto } from '../../lib/proto.ts';
import type { ResourceRegistry } from '../../lib/resources.ts';
import type { Telemetry } from '../../lib/tracing.ts';
import type { Pipeline } from './core/pipeline.ts';
import { resourcesHandlers } from './grpc/server.ts';
import { RestHandler } from './rest/handler.ts';

export interface FrontDoorOptions {
  pipeline: Pipeline;
  registry: ResourceRegistry;
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
}

export interface FrontDoor {
  readonly https: Server;
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

export async function startFrontDoor(o: FrontDoorOptions): Promise<FrontDoor> {
  await bootstrapNamespaces(o);

  const pki = join(o.dataDir, 'pki');
  const ca = await ensureCA(pki, 'kube-grpc-apiserver-ca');
  const isIp = (s: string) => /^[\d.]+$/.test(s) || s.includes(':');
  const serving = await ensureServingCertificate(pki, 'gateway-serving', ca, {
    dnsNames: o.tlsSans.filter((s) => !isIp(s)),
    ipAddresses: o.tlsSans.filter(isIp),
  });

  const { host, port } = splitHostPort(o.httpsListen);
  const rest = new RestHandler({
    pipeline: o.pipeline,
    registry: o.registry,
    tracer: o.telemetry.tracer,
    propagator: o.telemetry.propagator,
    logger: o.logger,
    serverAddress: o.httpsListen,
  });
  const https = createServer({ cert: serving.certPem, key: serving.keyPem }, rest.handle);
  // Watches are long-lived: no server-wide request timeout (non-watch requests have their own);
  // idle keep-alive sockets close after 5 minutes.
  https.requestTimeout = 0;
  https.keepAliveTimeout = 300_000;
  await new Promise<void>((ok, fail) => {
    https.once('error', fail);
    https.listen(port, host, () => ok());
  });

  o.grpcServer.addService('apiserver.v1.Resources', loadApiProto().apiserver.v1.Resources.service, resourcesHandlers(o.pipeline, o.registry));

  return {
    https,
    stop: () =>
      new Promise<void>((done) => {
        https.close(() => done());
        rest.shutdown();
        https.closeIdleConnections();
        setTimeout(() => https.closeAllConnections(), o.shutdownGraceMs).unref();
      }),
  };
}
