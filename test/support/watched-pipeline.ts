/**
 * The in-process pipeline of test/support/pipeline.ts with watches that work: its watch
 * service reads caches fed straight from the memory backend's change stream (as the
 * single-process mode wires them) and storage's history, following the registry's kinds; the
 * registry follows the stored CustomResourceDefinitions. For tests of what reads, writes and
 * watches the pipeline together (controllers).
 */
import { createLogger, type Logger } from '../../lib/log.ts';
import { DefinitionFollower, storedDefinitions } from '../../lib/kinds/follow.ts';
import { builtinRegistry, storedKinds, type KindDefinition, type KindRegistry } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { Pipeline, type Target } from '../../services/gateway/core/pipeline.ts';
import type { Storage } from '../../services/storage/api.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';
import { readHistory } from '../../services/watch/feed.ts';
import { feedCachesLocally } from '../../services/watch/local-feed.ts';

export interface WatchedPipeline {
  pipeline: Pipeline;
  registry: KindRegistry;
  storage: MemoryStorage;
  logger: Logger;
  /** The watch service the pipelines watch through. */
  watcher: WatchService;
  /**
   * Another pipeline (another gateway replica) sharing the watch service, over `storage`
   * (default: the shared one; a wrapper of it simulates a replica's own connection).
   */
  pipelineFor(storage?: Storage): Pipeline;
  /** The served kind of `group/version/resource`; throws when none is. */
  kind(group: string, version: string, resource: string): KindDefinition;
  /** A target of the kind of `group/version/resource`. */
  target(group: string, version: string, resource: string, namespace?: string, name?: string): Target;
  /** Stops the caches' feed and the following of definitions. */
  close(): Promise<void>;
}

export interface WatchedPipelineOptions {
  registry?: KindRegistry;
  /** Changes each resource's watch cache holds (default 10,000): a small one makes old watches 410 once history is compacted. */
  cacheCapacity?: number;
}

export async function watchedPipeline(options: WatchedPipelineOptions = {}): Promise<WatchedPipeline> {
  const registry = options.registry ?? builtinRegistry();
  const logger = createLogger({ service: 'test', level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'error' });
  const storage = new MemoryStorage({ logger, kinds: registry });
  const schemas = generatedSchemaValidator();
  const { caches, subscription } = await feedCachesLocally({ source: storage, storage, resources: storedKinds(registry.all), logger, cacheCapacity: options.cacheCapacity ?? 10_000, registry });
  const watcher = new WatchService({ caches, storage, registry, logger, history: (r, from, to) => readHistory(storage, r, from, to) });
  const pipelineFor = (over: Storage = storage): Pipeline =>
    new Pipeline({
      authenticator: new TokenFileAuthenticator([]),
      authorizer: new PrivilegedGroupAuthorizer(),
      admission: buildAdmissionChain({ registry, storage: over, schemas }),
      kinds: registry,
      storage: over,
      watcher,
      schemas,
      logger,
    });
  const pipeline = pipelineFor();
  const kind = (group: string, version: string, resource: string): KindDefinition => {
    const found = registry.get(group, version, resource);
    if (found === undefined) throw new Error(`${group}/${version}/${resource} is not served`);
    return found;
  };
  const follower = new DefinitionFollower({ registry, source: storedDefinitions(storage, (from, onChanges, onError) => storage.watchChanges(from, onChanges, onError)), logger });
  await follower.ready;
  await pipeline.ensureSystemNamespaces(kind('', 'v1', 'namespaces'));
  return {
    pipeline,
    registry,
    storage,
    logger,
    watcher,
    pipelineFor,
    kind,
    target: (group, version, resource, namespace = '', name = '') => ({ info: kind(group, version, resource), namespace, name }),
    async close() {
      await follower.stop();
      await subscription.close();
      for (const cache of caches.values()) cache.close();
    },
  };
}
