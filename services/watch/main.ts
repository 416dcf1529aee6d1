/**
 * The watch process: subscribes to the changefeed once per resource and serves any number of
 * watchers from its caches over gRPC. The resources follow the stored custom resource
 * definitions (read through its own cache of them).
 */
import { Redis } from 'ioredis';
import { positiveInt } from '../../lib/config.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { builtinRegistry, storedKinds } from '../../lib/kinds/index.ts';
import { DefinitionFollower, watchedDefinitions } from '../../lib/kinds/follow.ts';
import { ADDRESS_FLAGS, refreshMsFrom } from '../../lib/grpc/replicas.ts';
import { runService } from '../../lib/service-main.ts';
import { StorageClient } from '../storage/grpc/client.ts';
import { WatchService } from './core/watch-service.ts';
import { CacheFeed, readHistory } from './feed.ts';
import { WATCH_MAX_REQUEST_BYTES } from './grpc/codec.ts';
import { watchHandlers } from './grpc/server.ts';
import { WatchMetrics } from './metrics.ts';

/** How long start-up waits for the first list of custom resource definitions. */
const FOLLOW_READY_MS = 10_000;

const FLAGS = [
  { flag: 'listen', env: 'WATCH_LISTEN', default: '127.0.0.1:50064', description: 'gRPC listen address' },
  { flag: 'redis-url', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379', description: 'Redis carrying the changefeed' },
  { flag: 'storage-address', env: 'STORAGE_ADDRESS', default: '127.0.0.1:50061', description: 'the storage service' },
  { flag: 'cache-capacity', env: 'WATCH_CACHE_CAPACITY', default: '10000', description: 'changes kept per resource for resuming watchers' },
  {
    flag: 'cache-window',
    env: 'WATCH_CACHE_WINDOW_SECONDS',
    default: '300',
    description: 'seconds a change stays in the cache (older resumes are served from storage history)',
  },
  { flag: 'max-queued-events', env: 'WATCH_MAX_QUEUED_EVENTS', default: '10000', description: 'events a slow watcher may have queued before it is dropped' },
  {
    flag: 'max-watches-per-stream',
    env: 'WATCH_MAX_WATCHES_PER_STREAM',
    default: '10000',
    description: 'watches one WatchStream (a client\'s multiplexed stream) may have open; more are refused with 429',
  },
  ...ADDRESS_FLAGS,
] as const;

await runService('watch', FLAGS, { maxReceiveMessageBytes: WATCH_MAX_REQUEST_BYTES }, async ({ config, logger, telemetry, tls, server, metrics, onStop }) => {
  const registry = builtinRegistry();
  const watchMetrics = new WatchMetrics(metrics);
  const storage = new StorageClient(config['storage-address'], { telemetry, tls, refreshMs: refreshMsFrom(config) });
  onStop(() => storage.close());
  const subscriber = new Redis(config['redis-url'], { lazyConnect: true, maxRetriesPerRequest: null });
  subscriber.on('error', (err) => logger.warn('redis connection error', { error: err }));
  await subscriber.connect();
  onStop(() => subscriber.disconnect());
  const feed = await CacheFeed.start({
    subscriber,
    storage,
    resources: storedKinds(registry.all),
    logger,
    cacheCapacity: positiveInt('--cache-capacity', config['cache-capacity']),
    cacheMaxAgeMs: positiveInt('--cache-window', config['cache-window']) * 1000,
    metrics: watchMetrics,
    telemetry,
  });
  // Caches come and go with the kinds served (custom resource definitions).
  const unfollow = feed.follow(registry);
  onStop(() => {
    unfollow();
    feed.close();
  });
  const caches = feed.caches;
  watchMetrics.observeCaches(metrics, caches);
  const maxQueuedEvents = positiveInt('--max-queued-events', config['max-queued-events']);
  const service = new WatchService({
    caches,
    storage,
    registry,
    logger,
    history: (r, from, to) => readHistory(storage, r, from, to),
    maxQueuedEvents,
    metrics: watchMetrics,
  });
  // The watch service follows the definitions through its own cache of them.
  const follower = new DefinitionFollower({ registry, source: watchedDefinitions(storage, service), logger });
  onStop(() => follower.stop());
  if (!(await follower.readyWithin(FOLLOW_READY_MS))) logger.warn('custom resource definitions not listed yet; serving the built-in kinds meanwhile');
  const handlers = watchHandlers(service, {
    maxWatchesPerStream: positiveInt('--max-watches-per-stream', config['max-watches-per-stream']),
    maxQueuedEvents,
    telemetry,
    logger,
  });
  server.addService('apiserver.v1.Watch', loadApiProto().apiserver.v1.Watch.service, handlers);
  const port = await server.listen(config.listen);
  logger.info('serving', { port });
});
