/**
 * The single-process mode: the whole control plane in one Node.js process, on the in-memory
 * storage backend, with no etcd and no Redis. The same cores as the services (authentication,
 * authorization, admission chain, storage semantics, watch caches, REST and gRPC front door),
 * wired directly instead of over gRPC. State lives as long as the process.
 *
 *   node scripts/single-process.ts [--https-listen=127.0.0.1:6443] [--listen=127.0.0.1:50051] [--data-dir=.data-single]
 */
import { join, resolve } from 'node:path';
import { ConfigError } from '../lib/config.ts';
import { ensureCA } from '../lib/pki.ts';
import { builtinRegistry, storedKinds } from '../lib/kinds/index.ts';
import { DEFAULT_CLUSTER_CONFIG } from '../lib/kinds/allocation.ts';
import { generatedSchemaValidator } from '../lib/kinds/validate.ts';
import { DefinitionFollower, storedDefinitions } from '../lib/kinds/follow.ts';
import { runService } from '../lib/service-main.ts';
import { buildAdmissionChain } from '../services/admission/core/chain.ts';
import { NamespaceCache } from '../services/admission/core/namespaces.ts';
import { startPolicyIndex } from '../services/auth/core/policy-index.ts';
import { bootstrapAdmin } from '../services/auth/core/bootstrap.ts';
import { audienceAgnostic, AuthenticatorChain } from '../services/auth/core/chain.ts';
import { parseTokenFile, TokenFileAuthenticator } from '../services/auth/core/token-file.ts';
import { followAuthChanges } from '../services/gateway/core/auth-cache-follower.ts';
import { Pipeline } from '../services/gateway/core/pipeline.ts';
import { splitHostPort, startFrontDoor } from '../services/gateway/front-door.ts';
import { EDGE_LIMIT_FLAGS, edgeLimitsFrom } from '../services/gateway/rest/edge-limits.ts';
import { RESOURCES_MAX_REQUEST_BYTES } from '../services/gateway/grpc/server.ts';
import { CONTROLLER_FLAGS, controllerHostFrom } from '../services/gateway/controllers/index.ts';
import { controllerUser } from '../services/gateway/controllers/types.ts';
import { MemoryStorage } from '../services/storage/backends/memory.ts';
import { WatchService } from '../services/watch/core/watch-service.ts';
import { readHistory } from '../services/watch/feed.ts';
import { feedCachesLocally } from '../services/watch/local-feed.ts';

const FLAGS = [
  { flag: 'listen', env: 'GATEWAY_GRPC_LISTEN', default: '127.0.0.1:50051', description: 'typed gRPC resource API listen address' },
  { flag: 'https-listen', env: 'GATEWAY_HTTPS_LISTEN', default: '127.0.0.1:6443', description: 'Kubernetes REST (HTTPS) listen address' },
  { flag: 'data-dir', env: 'DATA_DIR', default: './.data-single', description: 'pki/, tokens.csv and admin.kubeconfig (objects are kept in memory only)' },
  { flag: 'tls-san', env: 'GATEWAY_TLS_SANS', default: 'localhost,127.0.0.1', description: 'DNS names and IPs of the serving certificate' },
  {
    flag: 'api-audiences',
    env: 'API_AUDIENCES',
    default: 'https://kubernetes.default.svc.cluster.local',
    description: 'comma-separated audiences of the API server: a token of the token file is meant for these only',
  },
  ...EDGE_LIMIT_FLAGS,
  ...CONTROLLER_FLAGS,
] as const;

await runService('single-process', FLAGS, { maxReceiveMessageBytes: RESOURCES_MAX_REQUEST_BYTES }, async ({ config, logger, telemetry, server, onStop }) => {
  const dataDir = resolve(config['data-dir']);
  const registry = builtinRegistry();

  const ca = await ensureCA(join(dataDir, 'pki'), 'kube-grpc-apiserver-ca');
  const boot = await bootstrapAdmin({
    tokenFile: join(dataDir, 'tokens.csv'),
    dataDir,
    server: `https://${config['https-listen']}`,
    caPem: ca.certPem,
  });
  // As the auth service: the token file's tokens carry no audience, so they stand for the API
  // server's own audiences only (a TokenReview for another audience is not authenticated), and
  // every user gets system:authenticated.
  const apiAudiences = config['api-audiences'].split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (apiAudiences.length === 0) throw new ConfigError('--api-audiences: at least one audience is required');
  const tokenFile = new TokenFileAuthenticator(parseTokenFile(boot.tokenFileText));
  const authenticator = new AuthenticatorChain({ tokens: [audienceAgnostic(tokenFile, apiAudiences)], apiAudiences });

  const storage = new MemoryStorage({ logger, kinds: registry });
  const schemas = generatedSchemaValidator();
  const { caches, subscription } = await feedCachesLocally({ source: storage, storage, resources: storedKinds(registry.all), logger, cacheCapacity: 10_000, registry });
  onStop(() => subscription.close());
  const watcher = new WatchService({ caches, storage, registry, logger, history: (r, from, to) => readHistory(storage, r, from, to) });
  onStop(() => {
    for (const cache of caches.values()) cache.close();
  });
  // As the admission service: NamespaceLifecycle reads the namespaces it follows through the watch service.
  const namespaces = new NamespaceCache({ source: watcher, logger }).start();
  onStop(() => namespaces.stop());
  const admission = buildAdmissionChain({ registry, storage, namespaces, schemas });

  // One registry for every part: custom kinds follow the definitions in the store.
  const follower = new DefinitionFollower({ registry, source: storedDefinitions(storage, (from, onChanges, onError) => storage.watchChanges(from, onChanges, onError)), logger });
  onStop(() => follower.stop());
  await follower.ready;

  // kube's service ranges; the `kubernetes` Service forwards to this process's HTTPS port.
  const cluster = { ...DEFAULT_CLUSTER_CONFIG, apiServerPort: splitHostPort(config['https-listen']).port };
  // RBAC as the auth service decides it: roles and bindings followed through the watch service.
  const policy = startPolicyIndex({ watcher, logger });
  onStop(() => policy.stop());
  const pipeline = new Pipeline({ authenticator, authorizer: policy.authorizer, ruleResolver: policy.authorizer, admission, storage, watcher, kinds: registry, schemas, cluster, logger });
  // As in the gateway: the pipeline's auth caches are dropped when what they answered changes.
  const authCaches = followAuthChanges({ source: watcher, caches: pipeline, logger: logger.with({ component: 'auth-cache' }) });
  onStop(() => authCaches.stop());
  const frontDoor = await startFrontDoor({
    pipeline,
    registry,
    telemetry,
    logger,
    dataDir,
    httpsListen: config['https-listen'],
    tlsSans: config['tls-san'].split(',').map((s) => s.trim()).filter((s) => s !== ''),
    shutdownGraceMs: Number(config['shutdown-grace']) || 10_000,
    grpcServer: server,
    limits: edgeLimitsFrom(config),
  });
  onStop(() => frontDoor.stop());
  // The controllers, as in the gateway (one process: it always wins the election).
  // Authorized by RBAC as in the gateway: the controllers act as their service accounts (unless
  // --use-service-account-credentials=false; the bootstrap roles allow them), the host itself
  // (the election) as a member of system:masters.
  const controllers = controllerHostFrom(config, { pipeline, registry, logger: logger.with({ component: 'controllers' }), user: controllerUser() });
  if (controllers !== undefined) {
    controllers.start();
    onStop(() => controllers.stop());
  }
  const port = await server.listen(config.listen);
  logger.info('serving (single process, in-memory storage)', { https: config['https-listen'], grpc: port, kubeconfig: join(dataDir, 'admin.kubeconfig') });
});
