/**
 * The admission process: the built-in chain, served over gRPC. It follows the namespaces
 * through the watch service (NamespaceLifecycle's cache; storage is read only for a namespace
 * the cache cannot vouch for), and the custom resource definitions through storage and the
 * watch service.
 */
import { ADDRESS_FLAGS, refreshMsFrom } from '../../lib/grpc/replicas.ts';
import { runService } from '../../lib/service-main.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { DefinitionFollower, watchedDefinitions } from '../../lib/kinds/follow.ts';
import { StorageClient } from '../storage/grpc/client.ts';
import { WatchClient } from '../watch/grpc/client.ts';
import { buildAdmissionChain } from './core/chain.ts';
import { NamespaceCache } from './core/namespaces.ts';
import { ADMISSION_MAX_REQUEST_BYTES, admissionHandlers } from './grpc/server.ts';

const FLAGS = [
  { flag: 'listen', env: 'ADMISSION_LISTEN', default: '127.0.0.1:50063', description: 'gRPC listen address' },
  { flag: 'storage-address', env: 'STORAGE_ADDRESS', default: '127.0.0.1:50061', description: 'the storage service' },
  {
    flag: 'watch-address',
    env: 'WATCH_ADDRESS',
    default: '127.0.0.1:50064',
    description: 'the watch service (one or more replicas, comma-separated), through which namespaces and custom resource definitions are followed',
  },
  ...ADDRESS_FLAGS,
] as const;

/** How long start-up waits for the first list of custom resource definitions. */
const FOLLOW_READY_MS = 10_000;

await runService('admission', FLAGS, { maxReceiveMessageBytes: ADMISSION_MAX_REQUEST_BYTES }, async ({ config, logger, telemetry, tls, server, onStop }) => {
  const registry = builtinRegistry();
  const storage = new StorageClient(config['storage-address'], { telemetry, tls, refreshMs: refreshMsFrom(config) });
  onStop(() => storage.close());
  const watcher = new WatchClient(config['watch-address'], { telemetry, tls, refreshMs: refreshMsFrom(config) });
  onStop(() => watcher.close());
  // Custom kinds follow the stored definitions: listed from storage, watched through the watch service.
  const follower = new DefinitionFollower({ registry, source: watchedDefinitions(storage, watcher), logger });
  onStop(() => follower.stop());
  if (!(await follower.readyWithin(FOLLOW_READY_MS))) logger.warn('custom resource definitions not listed yet; serving the built-in kinds meanwhile');
  // NamespaceLifecycle's namespaces, followed through the watch service. Serving does not wait
  // for the first list: a create waits for it (at most 10 s, as kube's admission handler).
  const namespaces = new NamespaceCache({ source: watcher, logger }).start();
  onStop(() => namespaces.stop());
  void namespaces.waitForSync(FOLLOW_READY_MS).then((synced) => {
    if (synced) logger.info('namespaces listed', { namespaces: namespaces.size });
    else logger.warn('namespaces not listed yet; creates wait for the list');
  });
  // Every request's objects are decoded anew by the gRPC server.
  const chain = buildAdmissionChain({ registry, storage, namespaces, ownsRequestObjects: true });
  server.addService('apiserver.v1.Admission', loadApiProto().apiserver.v1.Admission.service, admissionHandlers(chain));
  const port = await server.listen(config.listen);
  logger.info('serving', { port });
});
