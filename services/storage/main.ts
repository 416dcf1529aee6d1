/**
 * The storage process: the etcd backend served over gRPC; the changefeed to Redis, run by the
 * elected leader among storage replicas; and the compactor, coordinated among them.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { ConfigError, positiveInt } from '../../lib/config.ts';
import { runService } from '../../lib/service-main.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { DefinitionFollower, storedDefinitions } from '../../lib/kinds/follow.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createEtcdClient, EtcdStorage } from './backends/etcd.ts';
import { watchEtcdChanges } from './backends/etcd-changes.ts';
import { startEtcdCompactor } from './backends/etcd-compactor.ts';
import { Changefeed } from './changefeed.ts';
import { WriteTraceIndex } from './core/write-trace-index.ts';
import { STORAGE_MAX_REQUEST_BYTES, storageHandlers } from './grpc/server.ts';
import { startLeaderElection } from './leader.ts';

const FLAGS = [
  { flag: 'listen', env: 'STORAGE_LISTEN', default: '127.0.0.1:50061', description: 'gRPC listen address' },
  { flag: 'etcd-endpoints', env: 'ETCD_ENDPOINTS', default: 'http://127.0.0.1:2379', description: 'comma-separated etcd client URLs' },
  { flag: 'redis-url', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379', description: 'Redis the changefeed publishes to' },
  { flag: 'etcd-timeout', env: 'ETCD_TIMEOUT_MS', default: '5000', description: 'deadline of each etcd call in milliseconds' },
  {
    flag: 'leader-lease-ttl',
    env: 'LEADER_LEASE_TTL_SECONDS',
    default: '10',
    description: 'seconds a dead changefeed leader holds its lease before another replica takes over',
  },
  {
    flag: 'compaction-interval',
    env: 'COMPACTION_INTERVAL_SECONDS',
    default: '300',
    description: 'seconds between history compactions (coordinated among replicas); 0 disables',
  },
  { flag: 'replica-id', env: 'REPLICA_ID', default: '', description: 'this replica\'s name in the leader election; default <hostname>-<pid>' },
] as const;

await runService('storage', FLAGS, { maxReceiveMessageBytes: STORAGE_MAX_REQUEST_BYTES }, async ({ config, logger, telemetry, server, metrics, onStop }) => {
  const etcd = createEtcdClient(config['etcd-endpoints'], positiveInt('--etcd-timeout', config['etcd-timeout']));
  onStop(() => etcd.close());
  const writeTraces = new WriteTraceIndex();
  // The kinds' per-resource facts (selectable fields, generation rule) follow the stored
  // custom resource definitions, read from this replica's own store and etcd's watch.
  const kinds = builtinRegistry();
  const storage = new EtcdStorage(etcd, { tracer: telemetry.tracer, writeTraces, logger, kinds, metrics });
  const follower = new DefinitionFollower({
    registry: kinds,
    source: storedDefinitions(storage, (from, onChanges, onError) => storage.watchChanges(from, onChanges, onError)),
    logger,
  });
  onStop(() => follower.stop());
  if (!(await follower.readyWithin(10_000))) logger.warn('custom resource definitions not listed yet; serving the built-in kinds meanwhile');

  const redis = new Redis(config['redis-url'], { lazyConnect: true, maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn('redis connection error', { error: err }));
  await redis.connect();
  onStop(() => void redis.quit());

  const changefeed = new Changefeed({
    source: {
      currentRevision: () => storage.currentRevision(),
      // Kept with the record: a record of another etcd (replaced, data lost) is not resumed.
      clusterId: async () => (await etcd.maintenance.status()).header.cluster_id,
      watchChanges: (from, onChanges, onError) => watchEtcdChanges(etcd, from, onChanges, onError),
    },
    redis,
    logger,
    writeTraces,
    metrics,
    telemetry,
  });
  const identity = config['replica-id'] === '' ? `${hostname()}-${process.pid}` : config['replica-id'];
  const election = startLeaderElection({
    etcd,
    name: 'apiserver-changefeed-leader',
    ttlSeconds: positiveInt('--leader-lease-ttl', config['leader-lease-ttl']),
    identity,
    logger,
    lead: () => changefeed.start(() => election.recampaign()),
    abdicate: () => changefeed.stop(),
  });
  onStop(() => election.stop());

  const compactionSeconds = Number(config['compaction-interval']);
  if (!Number.isFinite(compactionSeconds) || compactionSeconds < 0) {
    throw new ConfigError(`--compaction-interval must be a number of seconds >= 0, got "${config['compaction-interval']}"`);
  }
  if (compactionSeconds > 0) {
    const compactor = startEtcdCompactor(etcd, compactionSeconds * 1000, logger);
    onStop(() => compactor.stop());
  }

  const proto = loadApiProto();
  server.addService('apiserver.v1.Storage', proto.apiserver.v1.Storage.service, storageHandlers(storage));
  const port = await server.listen(config.listen);
  logger.info('serving', { port, etcd: config['etcd-endpoints'], identity });
});
