/**
 * A control plane in one process for controller tests: the watched pipeline of
 * watched-pipeline.ts (memory storage, admission, watch caches fed from the storage's change
 * stream, as in single-process mode), and pipelines over it. `pipelineFor` gives each simulated gateway replica its own
 * pipeline, optionally over a storage that can be cut off (a replica that loses etcd).
 */
import { StatusError } from '../../lib/errors.ts';
import type { KindRegistry } from '../../lib/kinds/index.ts';
import type { Logger } from '../../lib/log.ts';
import { controllerUser, type ControllerContext } from '../../services/gateway/controllers/types.ts';
import type { Pipeline } from '../../services/gateway/core/pipeline.ts';
import type { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { watchedPipeline } from './watched-pipeline.ts';
import type { Storage } from '../../services/storage/api.ts';

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
  delete: Storage['delete'] = async (ref, preconditions, signal, options) => {
    if (this.deleteDelayMs > 0) await new Promise((r) => setTimeout(r, this.deleteDelayMs));
    this.check();
    // A call whose caller gave up is not made (as the gRPC client's aborted call).
    if (signal?.aborted === true) throw new StatusError('Timeout', 'the request was cancelled');
    return this.inner.delete(ref, preconditions, signal, options);
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
  const plane = await watchedPipeline();
  return {
    registry: plane.registry,
    storage: plane.storage,
    logger: plane.logger,
    pipelineFor: plane.pipelineFor,
    contextFor: (pipeline) => ({ pipeline, registry: plane.registry, logger: plane.logger, user: controllerUser() }),
    close: () => plane.close(),
  };
}
