/**
 * The gateway process: the Kubernetes REST API over HTTPS and the typed resource API over gRPC,
 * both running the same pipeline against the auth, admission, storage and watch services.
 */
import { createServer } from 'node:https';
import { join, resolve } from 'node:path';
import { ensureCA, ensureServingCertificate } from '../../lib/pki.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { ResourceRegistry } from '../../lib/resources.ts';
import { runService } from '../../lib/service-main.ts';
import { AdmissionClient } from '../admission/grpc/client.ts';
import { AuthClient } from '../auth/grpc/client.ts';
import { StorageClient } from '../storage/grpc/client.ts';
import { WatchClient } from '../watch/grpc/client.ts';
import { Pipeline } from './core/pipeline.ts';
import { resourcesHandlers } from './grpc/server.ts';
import { RestHandler } from './rest/handler.ts';

const FLAGS = [
  { flag: 'listen', env: 'GATEWAY_GRPC_LISTEN', default: '127.0.0.1:50051', description: 'typed gRPC resource API listen address' },
  { flag: 'https-listen', env: 'GATEWAY_HTTPS_LISTEN', default: '127.0.0.1:6443', description: 'Kubernetes REST (HTTPS) listen address' },
  { flag: 'data-dir', env: 'DATA_DIR', default: './.data', description: 'state directory: pki/ holds the CA and the serving certificate' },
  {
    flag: 'tls-san',
    env: 'GATEWAY_TLS_SANS',
    default: 'localhost,127.0.0.1',
    description: 'comma-separated DNS names and IPs of the serving certificate',
  },
  { flag: 'auth-address', env: 'AUTH_ADDRESS', default: '127.0.0.1:50062', description: 'the auth service' },
  { flag: 'admission-address', env: 'ADMISSION_ADDRESS', default: '127.0.0.1:50063', description: 'the admission service' },
  { flag: 'storage-address', env: 'STORAGE_ADDRESS', default: '127.0.0.1:50061', description: 'the storage service' },
  { flag: 'watch-address', env: 'WATCH_ADDRESS', default: '127.0.0.1:50064', description: 'the watch service' },
  { flag: 'auth-cache-ttl', env: 'AUTH_CACHE_TTL_MS', default: '10000', description: 'milliseconds authn/authz answers are reused; 0 disables' },
] as const;

function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address "${address}"`);
  return { host, port };
}

await runService('gateway', FLAGS, async ({ config, logger, telemetry, tls, server, onStop }) => {
  const registry = new ResourceRegistry();
  const clientOptions = { telemetry, tls };
  const auth = new AuthClient(config['auth-address'], clientOptions);
  const admission = new AdmissionClient(config['admission-address'], clientOptions);
  const storage = new StorageClient(config['storage-address'], clientOptions);
  const watcher = new WatchClient(config['watch-address'], clientOptions);
  onStop(() => {
    auth.close();
    admission.close();
    storage.close();
    watcher.close();
  });
  const pipeline = new Pipeline({
    authenticator: auth,
    authorizer: auth,
    admission,
    storage,
    watcher,
    authCacheTtlMs: Number(config['auth-cache-ttl']),
  });

  // The namespaces every cluster has; retried while the other services come up.
  const namespaces = registry.get('', 'v1', 'namespaces');
  if (namespaces !== undefined) {
    for (let attempt = 1; ; attempt++) {
      try {
        await pipeline.ensureSystemNamespaces(namespaces);
        break;
      } catch (err) {
        if (attempt >= 60) throw err;
        logger.warn('creating the system namespaces failed; retrying', { error: err });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  const pki = join(resolve(config['data-dir']), 'pki');
  const ca = await ensureCA(pki, 'kube-grpc-apiserver-ca');
  const sans = config['tls-san'].split(',').map((s) => s.trim()).filter((s) => s !== '');
  const isIp = (s: string) => /^[\d.]+$/.test(s) || s.includes(':');
  const serving = await ensureServingCertificate(pki, 'gateway-serving', ca, {
    dnsNames: sans.filter((s) => !isIp(s)),
    ipAddresses: sans.filter(isIp),
  });

  const { host, port } = splitHostPort(config['https-listen']);
  const rest = new RestHandler({ pipeline, registry, tracer: telemetry.tracer, propagator: telemetry.propagator, logger, serverAddress: config['https-listen'] });
  const https = createServer({ cert: serving.certPem, key: serving.keyPem }, rest.handle);
  // Watches are long-lived: no request timeout; idle keep-alive sockets close after 5 minutes.
  https.requestTimeout = 0;
  https.keepAliveTimeout = 300_000;
  await new Promise<void>((ok, fail) => {
    https.once('error', fail);
    https.listen(port, host, () => ok());
  });
  onStop(
    () =>
      new Promise<void>((done) => {
        // Stop accepting, end watch streams, let requests in flight finish, then cut what is left.
        https.close(() => done());
        rest.shutdown();
        https.closeIdleConnections();
        setTimeout(() => https.closeAllConnections(), Number(config['shutdown-grace']) || 10_000).unref();
      }),
  );

  server.addService('apiserver.v1.Resources', loadApiProto().apiserver.v1.Resources.service, resourcesHandlers(pipeline, registry));
  const grpcPort = await server.listen(config.listen);
  logger.info('serving', { https: config['https-listen'], grpc: grpcPort });
});
