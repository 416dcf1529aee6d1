/**
 * The watch process: subscribes to the changefeed once per resource and serves any number of
 * watchers from its caches over gRPC.
 */
import { Redis } from 'ioredis';
import { positiveInt } from '../../lib/config.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { runService } from '../../lib/service-main.ts';
import { StorageClient } from '../storage/grpc/client.ts';
import { WatchService } from './core/watch-service.ts';
import { readHistory, subscribeCaches } from './feed.ts';
import { WATCH_MAX_REQUEST_BYTES } from './grpc/codec.ts';
import { watchHandlers } from './grpc/server.ts';

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
] as const;

await runService('watch', FLAGS, { maxReceiveMessageBytes: WATCH_MAX_REQUEST_BYTES }, async ({ config, logger, telemetry, tls, server, onStop }) => {
  const registry = builtinRegistry();
  const storage = new StorageClient(config['storage-address'], { telemetry, tls });
  onStop(() => storage.close());
  const subscriber = new Redis(config['redis-url'], { lazyConnect: true, maxRetriesPerRequest: null });
  subscriber.on('error', (err) => logger.warn('redis connection error', { error: err }));
  await subscriber.connect();
  onStop(() => subscriber.disconnect());
  const caches = await subscribeCaches({
    subscriber,
    storage,
    resources: registry.all,
    logger,
    cacheCapacity: positiveInt('--cache-capacity', config['cache-capacity']),
    cacheMaxAgeMs: positiveInt('--cache-window', config['cache-window']) * 1000,
  });
  onStop(() => {
    for (const cache of caches.values()) cache.close();
  });
  const maxQueuedEvents = positiveInt('--max-queued-events', config['max-queued-events']);
  const service = new WatchService({
    caches,
    storage,
    registry,
    logger,
    history: (r, from, to) => readHistory(storage, r, from, to),
    maxQueuedEvents,
  });
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
