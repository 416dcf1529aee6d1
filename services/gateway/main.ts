/**
 * The gateway process: the Kubernetes REST API over HTTPS and the typed resource API over gRPC,
 * both running the same pipeline against the auth, admission, storage and watch services.
 */
import { resolve } from 'node:path';
import { ConfigError, positiveInt } from '../../lib/config.ts';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from '../../lib/kinds/allocation.ts';
import { serviceNetwork } from '../../lib/kinds/builtin/service/allocator.ts';
import { isAdvertisable } from '../../lib/kinds/builtin/service/service.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { DefinitionFollower, watchedDefinitions } from '../../lib/kinds/follow.ts';
import { ADDRESS_FLAGS, refreshMsFrom } from '../../lib/grpc/replicas.ts';
import { runService } from '../../lib/service-main.ts';
import { AdmissionClient } from '../admission/grpc/client.ts';
import { AuthClient } from '../auth/grpc/client.ts';
import { StorageClient } from '../storage/grpc/client.ts';
import { WatchClient } from '../watch/grpc/client.ts';
import { DEFAULT_ANONYMOUS_PATHS } from './core/credentials.ts';
import { Pipeline } from './core/pipeline.ts';
import { splitHostPort, startFrontDoor } from './front-door.ts';
import { EDGE_LIMIT_FLAGS, edgeLimitsFrom } from './rest/edge-limits.ts';
import { RESOURCES_MAX_REQUEST_BYTES } from './grpc/server.ts';
import { CONTROLLER_FLAGS, controllerHostFrom } from './controllers/index.ts';
import { controllerUser } from './controllers/types.ts';
import { followAuthChanges } from './core/auth-cache-follower.ts';
import { RequestObservers } from './core/observe.ts';
import { RequestMetrics } from './core/request-metrics.ts';
import { REQUEST_LOG_FLAGS, requestLogsFrom } from './core/request-logs.ts';
import { FLOW_CONTROL_FLAGS, flowControlFrom } from './core/flowcontrol/flags.ts';
import { followFlowControl } from './core/flowcontrol/controller.ts';
import { writeDanglingConditions } from './core/flowcontrol/bootstrap.ts';

/** How long start-up waits for the first list of custom resource definitions. */
const FOLLOW_READY_MS = 10_000;

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
  {
    flag: 'watch-address',
    env: 'WATCH_ADDRESS',
    default: '127.0.0.1:50064',
    description: 'the watch service: one or more replicas, comma-separated; watches are spread over them and move on when one fails',
  },
  {
    flag: 'watch-max-queued-events',
    env: 'GATEWAY_WATCH_MAX_QUEUED_EVENTS',
    default: '10000',
    description:
      'events a watch may have queued for a slow client before it is dropped: a REST watch stream then just ends (the client watches again from its last resourceVersion), a gRPC watch ends with 429 (the shared watch stream never waits for one client)',
  },
  {
    flag: 'watches-per-stream',
    env: 'GATEWAY_WATCHES_PER_STREAM',
    default: '10000',
    description: 'watches multiplexed over one stream to a watch replica before another stream is opened',
  },
  {
    flag: 'client-ca-file',
    env: 'CLIENT_CA_FILE',
    default: '',
    description:
      'CA certificate (PEM) client certificates are asked for under, as kube-apiserver\'s flag (the auth service verifies them); default <data-dir>/pki/client-ca.crt, which the auth service creates. While the file is missing no certificate is asked for',
  },
  {
    flag: 'anonymous-paths',
    env: 'ANONYMOUS_PATHS',
    default: DEFAULT_ANONYMOUS_PATHS.join(','),
    description:
      'comma-separated paths a request without credentials may reach as system:anonymous (group system:unauthenticated), then authorized like any other; elsewhere it gets 401. Empty turns anonymous requests off. /healthz, /livez and /readyz answer before authentication whatever this says, so that probes do not depend on the auth service',
  },
  { flag: 'auth-cache-ttl', env: 'AUTH_CACHE_TTL_MS', default: '10000', description: 'milliseconds successful authentications and authorization answers are reused (dropped at once when RBAC objects change); refused credentials are never cached, as kube caches only successes; 0 disables' },
  ...EDGE_LIMIT_FLAGS,
  ...FLOW_CONTROL_FLAGS,
  {
    flag: 'service-cluster-ip-range',
    env: 'SERVICE_CLUSTER_IP_RANGE',
    default: DEFAULT_CLUSTER_CONFIG.serviceClusterIPRange,
    description:
      'CIDR the cluster IPs of Services are allocated from, as kube-apiserver\'s flag: one IPv4 or IPv6 range of at most 2^20 addresses; the `kubernetes` Service gets its first address. Give every gateway replica the same',
  },
  {
    flag: 'service-node-port-range',
    env: 'SERVICE_NODE_PORT_RANGE',
    default: DEFAULT_CLUSTER_CONFIG.serviceNodePortRange,
    description: 'ports NodePort and LoadBalancer Services get their node ports from ("30000-32767", "30000+2767" or one port). Give every gateway replica the same',
  },
  {
    flag: 'advertise-address',
    env: 'GATEWAY_ADVERTISE_ADDRESS',
    default: '',
    description:
      'the address the `kubernetes` Service\'s Endpoints name; by default the host of --https-listen when it is an address pods could reach (not loopback, link-local or unspecified), else the Service has no Endpoints',
  },
  {
    flag: 'allocation-repair-interval',
    env: 'ALLOCATION_REPAIR_INTERVAL_SECONDS',
    default: '180',
    description:
      'seconds between passes that release cluster IP and node port claims no Service holds (left by a gateway that died between claim and write) and restore the `kubernetes` Service; one pass runs at start; 0 turns the periodic passes off',
  },
  ...CONTROLLER_FLAGS,
  ...REQUEST_LOG_FLAGS,
  ...ADDRESS_FLAGS,
] as const;

/** The cluster's pools and the API server's address, from the flags; ConfigError when a range is not usable. */
function clusterConfig(config: Record<'service-cluster-ip-range' | 'service-node-port-range' | 'advertise-address' | 'https-listen', string>): ClusterConfig {
  const { host, port } = splitHostPort(config['https-listen']);
  const cluster: ClusterConfig = {
    serviceClusterIPRange: config['service-cluster-ip-range'],
    serviceNodePortRange: config['service-node-port-range'],
    apiServerPort: port,
    advertiseAddress: config['advertise-address'] !== '' ? config['advertise-address'] : isAdvertisable(host) ? host : '',
  };
  try {
    serviceNetwork(cluster);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (cluster.advertiseAddress !== '' && !isAdvertisable(cluster.advertiseAddress)) {
    throw new ConfigError(`--advertise-address "${cluster.advertiseAddress}" is not an address pods could reach`);
  }
  return cluster;
}

await runService('gateway', FLAGS, { maxReceiveMessageBytes: RESOURCES_MAX_REQUEST_BYTES }, async ({ config, logger, telemetry, tls, server, metrics, onStop }) => {
  const cluster = clusterConfig(config);
  const requestLogs = requestLogsFrom(config, logger);
  const flowControl = flowControlFrom(config, logger.with({ component: 'flowcontrol' }), metrics);
  const repairSeconds = Number(config['allocation-repair-interval']);
  if (!Number.isInteger(repairSeconds) || repairSeconds < 0) throw new ConfigError(`--allocation-repair-interval must be a whole number of seconds, got "${config['allocation-repair-interval']}"`);
  const registry = builtinRegistry();
  const clientOptions = { telemetry, tls, refreshMs: refreshMsFrom(config) };
  const auth = new AuthClient(config['auth-address'], clientOptions);
  const admission = new AdmissionClient(config['admission-address'], clientOptions);
  const storage = new StorageClient(config['storage-address'], clientOptions);
  const watcher = new WatchClient(config['watch-address'], {
    ...clientOptions,
    maxQueuedEvents: positiveInt('--watch-max-queued-events', config['watch-max-queued-events']),
    maxWatchesPerStream: positiveInt('--watches-per-stream', config['watches-per-stream']),
  });
  onStop(() => {
    auth.close();
    admission.close();
    storage.close();
    watcher.close();
  });
  // Custom kinds follow the stored definitions: listed from storage, watched through the watch service.
  const follower = new DefinitionFollower({ registry, source: watchedDefinitions(storage, watcher), logger });
  onStop(() => follower.stop());
  if (!(await follower.readyWithin(FOLLOW_READY_MS))) logger.warn('custom resource definitions not listed yet; serving the built-in kinds meanwhile');
  const pipeline = new Pipeline({
    authenticator: auth,
    authorizer: auth,
    tokenIssuer: auth,
    ruleResolver: auth,
    admission,
    storage,
    watcher,
    authCacheTtlMs: Number(config['auth-cache-ttl']),
    metrics,
    schemas: generatedSchemaValidator(),
    kinds: registry,
    cluster,
    logger,
    telemetry,
  });

  // Drops the decision cache when RBAC changes and the user cache when a ServiceAccount goes (docs/decisions.md).
  const authCaches = followAuthChanges({ source: watcher, caches: pipeline, logger: logger.with({ component: 'auth-cache' }) });
  onStop(() => authCaches.stop());
  // Every replica follows the flow-control objects itself, so a change applies on all of them.
  if (flowControl !== undefined) {
    const follower = followFlowControl(flowControl, watcher, logger.with({ component: 'flowcontrol' }), (updates) => writeDanglingConditions(pipeline, registry, updates));
    onStop(() => follower.stop());
  }

  // Metrics, the access log and the audit log each watch every request of both front doors.
  const observers = new RequestObservers([], logger);
  observers.add(new RequestMetrics(metrics, (group, version, resource) => registry.get(group, version, resource)?.kind ?? ''));
  for (const o of requestLogs.observers) observers.add(o);
  // Registered before the front door's stop, so it runs after it: the last requests are audited.
  onStop(() => requestLogs.close());
  const frontDoor = await startFrontDoor({
    pipeline,
    registry,
    telemetry,
    logger,
    dataDir: resolve(config['data-dir']),
    httpsListen: config['https-listen'],
    tlsSans: config['tls-san'].split(',').map((s) => s.trim()).filter((s) => s !== ''),
    shutdownGraceMs: Number(config['shutdown-grace']) || 10_000,
    grpcServer: server,
    limits: edgeLimitsFrom(config),
    allocationRepairIntervalMs: repairSeconds * 1000,
    clientCaFile: config['client-ca-file'] === '' ? undefined : resolve(config['client-ca-file']),
    anonymousPaths: config['anonymous-paths'].split(',').map((s) => s.trim()).filter((s) => s !== ''),
    observers,
    metrics,
    flowControl,
  });
  onStop(() => frontDoor.stop());
  // The control plane's controllers run in the gateway while it leads (docs/decisions.md).
  // They act as a user in system:masters until RBAC is enforced.
  const controllers = controllerHostFrom(config, { pipeline, registry, logger: logger.with({ component: 'controllers' }), user: controllerUser() });
  if (controllers !== undefined) {
    controllers.start();
    onStop(() => controllers.stop());
  }
  const grpcPort = await server.listen(config.listen);
  logger.info('serving', { https: config['https-listen'], grpc: grpcPort });
});
