/**
 * A control plane in one process for controller tests: the memory storage, the admission chain,
 * watch caches fed from the storage's change stream (so watches work, as in single-process
 * mode), and pipelines over it. `pipelineFor` gives each simulated gateway replica its own
 * pipeline, optionally over a storage that can be cut off (a replica that loses etcd).
 */
import { StatusError } from '../../lib/errors.ts';
import { builtinRegistry, storedKinds, type KindRegistry } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { controllerUser, type ControllerContext } from '../../services/gateway/controllers/types.ts';
import type { Storage } from '../../services/storage/api.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { readHistory } from '../../services/watch/feed.ts';
import { feedCachesLocally } from '../../services/watch/local-feed.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';

/**
 * A storage whose calls fail with ServiceUnavailable while `cut` is set, as a replica cut off
 * from etcd sees it, and whose deletes take `deleteDelayMs` (a slow replica, to stop mid-way).
 */
export class SeveredStorage implements Storage {
  cut = false;
  deleteDelayMs = 0;
  private readonly inner: Storage;
  constructor(inner: Storage) {
    this.inner = inner;
  }
  private check(): void {
    if (this.cut) throw new StatusError('ServiceUnavailable', 'storage unreachable (test)');
  }
  create: Storage['create'] = async (...a) => (this.check(), this.inner.create(...a));
  get: Storage['get'] = async (...a) => (this.check(), this.inner.get(...a));
  list: Storage['list'] = async (...a) => (this.check(), this.inner.list(...a));
  update: Storage['update'] = async (...a) => (this.check(), this.inner.update(...a));
  delete: Storage['delete'] = async (ref, preconditions, signal) => {
    if (this.deleteDelayMs > 0) await new Promise((r) => setTimeout(r, this.deleteDelayMs));
    this.check();
    // A call whose caller gave up is not made (as the gRPC client's aborted call).
    if (signal?.aborted === true) throw new StatusError('Timeout', 'the request was cancelled');
    return this.inner.delete(ref, preconditions, signal);
  };
  events: Storage['events'] = async (...a) => (this.check(), this.inner.events(...a));
  currentRevision: Storage['currentRevision'] = async (...a) => (this.check(), this.inner.currentRevision(...a));
}

export interface ControllerPlane {
  registry: KindRegistry;
  storage: MemoryStorage;
  logger: Logger;
  /** A pipeline of its own (one gateway replica) over `storage` (default: the shared one). */
  pipelineFor(storage?: Storage): Pipeline;
  /** What the controllers of a replica get. */
  contextFor(pipeline: Pipeline): ControllerContext;
  close(): Promise<void>;
}

export async function controllerPlane(): Promise<ControllerPlane> {
  const registry = builtinRegistry();
  const logger = createLogger({ service: 'test', level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'error' });
  const storage = new MemoryStorage({ kinds: registry });
  const schemas = generatedSchemaValidator();
  const { caches, subscription } = await feedCachesLocally({ source: storage, storage, resources: storedKinds(registry.all), logger, cacheCapacity: 10_000, registry });
  const watcher = new WatchService({ caches, storage, registry, logger, history: (r, from, to) => readHistory(storage, r, from, to) });
  const pipelineFor = (over: Storage = storage): Pipeline =>
    new Pipeline({
      authenticator: new TokenFileAuthenticator([]),
      authorizer: new PrivilegedGroupAuthorizer(),
      admission: buildAdmissionChain({ registry, storage: over, schemas }),
      storage: over,
      watcher,
      schemas,
      logger,
    });
  const first = pipelineFor();
  const namespaces = registry.get('', 'v1', 'namespaces');
  if (namespaces === undefined) throw new Error('no namespaces kind');
  await first.ensureSystemNamespaces(namespaces);
  return {
    registry,
    storage,
    logger,
    pipelineFor,
    contextFor: (pipeline) => ({ pipeline, registry, logger, user: controllerUser() }),
    close: async () => {
      await subscription.close();
      for (const cache of caches.values()) cache.close();
    },
  };
}
