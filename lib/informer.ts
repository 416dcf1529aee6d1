/**
 * The informer loop (a reduced client-go reflector) over the watch service: a watch-list from
 * resourceVersion "" (sendInitialEvents, its initial events the list, ended by the BOOKMARK
 * annotated k8s.io/initial-events-end), then changes; when a watch ends it is watched again
 * from the last resourceVersion seen, from "" (a new list) after an ERROR event (410: the
 * revision was compacted), and after a growing pause when it failed. The list is handed over
 * whole (`replace`), so that objects deleted while no watch ran are dropped.
 *
 * lib/ imports no service: `WatchSource` is the watch service's Watcher (services/watch/api.ts)
 * as far as an informer uses it, and any Watcher is one.
 */
import { parseObjectBytes, isPlainObject, type KubeObject } from './kube.ts';
import type { Logger } from './log.ts';
import type { WatchOptions } from './list-options.ts';
import { abortableSleep } from './sleep.ts';

/** The annotation of the BOOKMARK that ends a watch-list's initial events (kube's). */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export interface InformerTarget {
  group: string;
  version: string;
  resource: string;
  /** "" for all namespaces or a cluster-scoped resource. */
  namespace: string;
}

export interface InformerEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Buffer;
  resourceVersion: string;
}

/** What an informer watches through (the watch service's Watcher). */
export interface WatchSource {
  watch(target: InformerTarget, options: WatchOptions, signal: AbortSignal): AsyncIterable<InformerEvent>;
}

export interface InformerHandlers {
  /** The whole list: at the start and after every relist. */
  replace(objects: KubeObject[]): void;
  /** One change after the list. */
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void;
}

export interface InformerOptions {
  source: WatchSource;
  target: InformerTarget;
  handlers: InformerHandlers;
  logger: Logger;
  /** The first pause after a failed watch (default 250 ms); it doubles while watches keep failing. */
  retryMs?: number;
  /** The longest pause (default 30 s). */
  maxRetryMs?: number;
  /**
   * What is kept of each object, applied as it arrives (default: all of it): a follower that
   * needs a few fields keeps only those, so that a large list is never held whole while it comes in.
   */
  project?: (object: KubeObject) => KubeObject;
}

function isInitialEventsEnd(object: KubeObject): boolean {
  const meta = isPlainObject(object.metadata) ? object.metadata : {};
  const annotations = isPlainObject(meta.annotations) ? meta.annotations : {};
  return annotations[INITIAL_EVENTS_END] === 'true';
}

/**
 * Follows one resource until stopped. `synced()` is true once the first list is in;
 * `whenSynced()` resolves then. A handler that throws ends the watch as a failure would (the
 * next one starts from a new list).
 */
export class Informer {
  private readonly options: InformerOptions;
  private readonly controller = new AbortController();
  private readonly syncWaiters: (() => void)[] = [];
  private done: Promise<void> | undefined;
  private hasSynced = false;

  constructor(options: InformerOptions) {
    this.options = options;
  }

  /** Starts the loop (once). */
  start(): this {
    this.done ??= this.run();
    return this;
  }

  synced(): boolean {
    return this.hasSynced;
  }

  /** Resolves once the first list is in, or when the informer stops. */
  whenSynced(): Promise<void> {
    if (this.hasSynced || this.controller.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Stops watching; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.controller.abort();
    for (const wake of this.syncWaiters.splice(0)) wake();
    await this.done;
  }

  private markSynced(): void {
    if (this.hasSynced) return;
    this.hasSynced = true;
    for (const wake of this.syncWaiters.splice(0)) wake();
  }

  private async run(): Promise<void> {
    const { source, target, handlers, logger, project } = this.options;
    const signal = this.controller.signal;
    const firstRetry = this.options.retryMs ?? 250;
    const maxRetry = this.options.maxRetryMs ?? 30_000;
    let retry = firstRetry;
    let resourceVersion = '';
    while (!signal.aborted) {
      const listing = resourceVersion === '';
      const options: WatchOptions = listing
        ? { resourceVersion: '', sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true }
        : { resourceVersion, allowWatchBookmarks: true };
      // The initial events of a watch-list, until its end bookmark.
      let pending: KubeObject[] | undefined = listing ? [] : undefined;
      try {
        for await (const event of source.watch(target, options, signal)) {
          if (event.type === 'ERROR') {
            // Too old a revision (410), or the server gave up: list again.
            logger.info(`${target.resource} watch ended with an error; listing again`, { status: parseObjectBytes(event.object).message });
            resourceVersion = '';
            pending = undefined;
            break;
          }
          const parsed = parseObjectBytes(event.object);
          const object = event.type === 'BOOKMARK' || project === undefined ? parsed : project(parsed);
          if (event.type === 'BOOKMARK') {
            if (pending !== undefined && isInitialEventsEnd(object)) {
              // A replace that throws leaves pending set: the catch below lists again.
              handlers.replace(pending);
              pending = undefined;
              this.markSynced();
            }
          } else if (pending !== undefined) {
            pending.push(object);
          } else {
            try {
              handlers.event(event.type, object);
            } catch (err) {
              // The event is lost to the handler: only a new list makes its state whole again.
              resourceVersion = '';
              throw err;
            }
          }
          if (event.resourceVersion !== '' && pending === undefined) resourceVersion = event.resourceVersion;
          retry = firstRetry;
        }
        // A watch-list that ended before its list was complete starts over.
        if (pending !== undefined) resourceVersion = '';
      } catch (err) {
        if (signal.aborted) break;
        if (pending !== undefined) resourceVersion = '';
        logger.warn(`${target.resource} watch failed; watching again`, { error: err instanceof Error ? err.message : String(err), retryMs: retry });
        await abortableSleep(retry, signal);
        retry = Math.min(retry * 2, maxRetry);
      }
    }
  }
}
