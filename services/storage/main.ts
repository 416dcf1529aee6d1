/**
 * The storage process: the etcd backend served over gRPC, and the changefeed to Redis.
 */
import { Redis } from 'ioredis';
import { runService } from '../../lib/service-main.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createEtcdClient, EtcdStorage } from './backends/etcd.ts';
import { Changefeed } from './changefeed.ts';
import { WriteTraceIndex } from './core/write-trace-index.ts';
import { storageHandlers } from './grpc/server.ts';

export const STORAGE_FLAGS = [
  { flag: 'listen', env: 'STORAGE_LISTEN', default: '127.0.0.1:50061', description: 'gRPC listen address' },
  { flag: 'etcd-endpoints', env: 'ETCD_ENDPOINTS', default: 'http://127.0.0.1:2379', description: 'comma-separated etcd client URLs' },
  { flag: 'redis-url', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379', description: 'Redis the changefeed publishes to' },
  { flag: 'etcd-timeout', env: 'ETCD_TIMEOUT_MS', default: '5000', description: 'deadline of each etcd call in milliseconds' },
] as const;

await runService('storage', STORAGE_FLAGS, async ({ config, logger, telemetry, server, onStop }) => {
  const etcd = createEtcdClient(config['etcd-endpoints'], Number(config['etcd-timeout']) || 5000);
  onStop(() => etcd.close());
  const writeTraces = new WriteTraceIndex();
  const storage = new EtcdStorage(etcd, { tracer: telemetry.tracer, writeTraces });

  const redis = new Redis(config['redis-url'], { lazyConnect: true, maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn('redis connection error', { error: err }));
  await redis.connect();
  onStop(() => void redis.quit());

  const changefeed = new Changefeed({ etcd, redis, logger, writeTraces });
  await changefeed.start(await storage.currentRevision());
  onStop(() => changefeed.stop());

  const proto = loadApiProto();
  server.addService('apiserver.v1.Storage', proto.apiserver.v1.Storage.service, storageHandlers(storage));
  const port = await server.listen(config.listen);
  logger.info('serving', { port, etcd: config['etcd-endpoints'] });
});
