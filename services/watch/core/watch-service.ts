/**
 * The watch service's core: one WatchCache per resource, fed by the changefeed, and the
 * Watch operation with kube-apiserver's resourceVersion semantics.
 */
import { badRequest, StatusError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/log.ts';
import { createObjectFilter, type ObjectFilter } from '../../../lib/selectors.ts';
import { apiVersionOf, type ResourceRegistry } from '../../../lib/resources.ts';
import type { Storage } from '../../storage/api.ts';
import type { ChangeEvent } from '../../../lib/change-event.ts';
import { bookmarkObject, CachedChange, eventFor, type WatchCache, type WatchEvent, type WatcherSink } from './watch-cache.ts';

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

export interface WatchTarget {
  group: string;
  version: string;
  resource: string;
  /** "" for all namespaces or a cluster-scoped resource. */
  namespace: string;
}

/** What the watch service offers; the gRPC server and in-process callers use it alike. */
export interface Watcher {
  /**
   * Yields the events of one watch until it ends: by `signal`, by timeoutSeconds, by shutdown,
   * or with a terminal ERROR event (410 Expired when the requested revision is too old).
   * Rejects (before any event) with BadRequest / NotFound for a bad request.
   */
  watch(target: WatchTarget, options: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent>;
}

export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/** A watcher's bounded queue; it is dropped from the cache when it overflows. */
class QueueSink implements WatcherSink {
  readonly filter: ObjectFilter;
  private readonly queue: WatchEvent[] = [];
  private readonly max: number;
  /** Changes at or below this revision are already in the watcher's initial state. */
  skipThrough = 0;
  ended = false;
  error: StatusError | undefined;
  overflowed = false;
  private wake: (() => void) | undefined;

  constructor(filter: ObjectFilter, max: number) {
    this.filter = filter;
    this.max = max;
  }

  push(cached: CachedChange): boolean {
    if (this.ended) return false;
    if (cached.revision <= this.skipThrough) return true;
    const event = eventFor(cached, this.filter);
    if (event === undefined) return true;
    if (this.queue.length >= this.max) {
      this.overflowed = true;
      this.end();
      return false;
    }
    this.queue.push(event);
    this.notify();
    return true;
  }

  pushEvent(event: WatchEvent): void {
    this.queue.push(event);
    this.notify();
  }

  end(error?: StatusError): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Yields queued events; returns when ended and empty. */
  async *drain(): AsyncGenerator<WatchEvent> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift() as WatchEvent;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

export interface WatchServiceOptions {
  caches: ReadonlyMap<string, WatchCache>;
  storage: Pick<Storage, 'list'>;
  /**
   * The committed changes of a resource in (from, to] from storage's history; lets a watcher
   * resume from a revision older than the cache window. Rejects with Expired when compacted.
   */
  history?: (resource: { group: string; resource: string }, from: number, to: number) => Promise<ChangeEvent[]>;
  registry: ResourceRegistry;
  logger: Logger;
  /** Events a watcher may have queued before it is dropped as too slow. */
  maxQueuedEvents?: number;
  /** How often a watcher that allows bookmarks gets one. */
  bookmarkIntervalMs?: number;
}

/** Key of a cache: group/resource. */
export function cacheKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}

/** An ERROR event carrying `err` as a Status. */
export function statusEvent(err: StatusError): WatchEvent {
  return { type: 'ERROR', object: Buffer.from(JSON.stringify(err.toStatus())), resourceVersion: '' };
}

function parseRevision(rv: string): number {
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) throw badRequest(`invalid resource version: ${rv}`);
  return n;
}

/**
 * Checks a watch request the way kube-apiserver does before it starts streaming, and compiles
 * its filter. Throws BadRequest / Invalid; the gateway calls it too, so a bad request gets an
 * HTTP error instead of a stream.
 */
export function validateWatch(target: Pick<WatchTarget, 'namespace' | 'group' | 'resource'>, options: WatchOptions): ObjectFilter {
  const filter = createObjectFilter({
    namespace: target.namespace,
    group: target.group,
    resource: target.resource,
    labelSelector: options.labelSelector ?? '',
    fieldSelector: options.fieldSelector ?? '',
  });
  const rv = options.resourceVersion ?? '';
  if (rv !== '') parseRevision(rv);
  if (options.sendInitialEvents === true) {
    if (options.resourceVersionMatch !== 'NotOlderThan') {
      throw new StatusError(
        'Invalid',
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      );
    }
    if (options.allowWatchBookmarks !== true) {
      throw new StatusError(
        'Invalid',
        'ListOptions.meta.k8s.io "" is invalid: allowWatch: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true',
      );
    }
  } else if (options.resourceVersionMatch !== undefined && options.resourceVersionMatch !== '') {
    throw new StatusError(
      'Invalid',
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    );
  }
  return filter;
}

export class WatchService implements Watcher {
  private readonly options: WatchServiceOptions;

  constructor(options: WatchServiceOptions) {
    this.options = options;
  }

  async *watch(target: WatchTarget, options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const info = this.options.registry.get(target.group, target.version, target.resource);
    const cache = this.options.caches.get(cacheKey(target.group, target.resource));
    if (info === undefined || cache === undefined) {
      throw new StatusError('NotFound', `the server could not find the requested resource (${target.resource})`);
    }
    const filter = validateWatch(target, options);
    const rv = options.resourceVersion ?? '';
    const sendInitial = options.sendInitialEvents === true;
    const sink = new QueueSink(filter, this.options.maxQueuedEvents ?? 10_000);
    let unregister: () => void;
    const initial = sendInitial || rv === '' || (rv === '0' && options.sendInitialEvents !== false);
    if (initial) {
      // Register first (buffering), then read the state; changes the list already contains are skipped.
      unregister = cache.watchFromNow(sink);
    } else {
      let history: ChangeEvent[] | undefined;
      try {
        unregister = cache.watchFrom(rv === '0' ? cache.revision : parseRevision(rv), sink);
      } catch (err) {
        if (!(err instanceof StatusError) || err.reason !== 'Expired') throw err;
        // Older than the cache window (this replica started later, or the window moved on):
        // serve the difference from storage's history while it exists, as if it were cached.
        const readHistory = this.options.history;
        const through = cache.revision;
        unregister = cache.watchFromNow(sink);
        sink.skipThrough = through;
        try {
          if (readHistory === undefined) throw err;
          history = await readHistory({ group: target.group, resource: target.resource }, parseRevision(rv), through);
        } catch (historyErr) {
          unregister();
          // Too old for history too: kube answers with a 200 stream holding one ERROR event, so clients relist.
          if (historyErr instanceof StatusError && historyErr.reason === 'Expired') {
            yield statusEvent(historyErr);
            return;
          }
          throw historyErr;
        }
      }
      for (const change of history ?? []) {
        const event = eventFor(new CachedChange(change), filter);
        if (event !== undefined) yield event;
      }
    }

    const timers: NodeJS.Timeout[] = [];
    const onAbort = () => sink.end();
    signal.addEventListener('abort', onAbort, { once: true });
    let lastRevision = rv === '' || rv === '0' ? cache.revision : parseRevision(rv);
    try {
      if (initial) {
        const initialEvents: WatchEvent[] = [];
        let continueToken = '';
        let listRevision = '';
        do {
          const page = await this.options.storage.list(
            { group: target.group, resource: target.resource, namespace: target.namespace, name: '' },
            { limit: 500, continue: continueToken, labelSelector: options.labelSelector ?? '', fieldSelector: options.fieldSelector ?? '' },
            signal,
          );
          if (listRevision === '') listRevision = page.resourceVersion;
          for (const item of page.items) {
            if (!filter.matches(item)) continue;
            initialEvents.push({
              type: 'ADDED',
              object: Buffer.from(JSON.stringify({ ...item, kind: info.kind, apiVersion: apiVersionOf(info) })),
              resourceVersion: item.metadata?.resourceVersion ?? listRevision,
            });
          }
          continueToken = page.continue;
        } while (continueToken !== '');
        sink.skipThrough = parseRevision(listRevision);
        lastRevision = sink.skipThrough;
        for (const event of initialEvents) yield event;
        if (sendInitial) {
          yield {
            type: 'BOOKMARK',
            object: Buffer.from(
              JSON.stringify(bookmarkObject(info.kind, apiVersionOf(info), listRevision, { [INITIAL_EVENTS_END_ANNOTATION]: 'true' })),
            ),
            resourceVersion: listRevision,
          };
        }
      }
      if (options.allowWatchBookmarks === true) {
        const interval = setInterval(() => {
          // Every change up to cache.revision is already queued ahead of this bookmark.
          const revision = Math.max(cache.revision, lastRevision);
          lastRevision = revision;
          sink.pushEvent({
            type: 'BOOKMARK',
            object: Buffer.from(JSON.stringify(bookmarkObject(info.kind, apiVersionOf(info), String(revision)))),
            resourceVersion: String(revision),
          });
        }, this.options.bookmarkIntervalMs ?? 60_000);
        timers.push(interval);
      }
      if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0) {
        timers.push(setTimeout(() => sink.end(), options.timeoutSeconds * 1000));
      }
      for await (const event of sink.drain()) {
        if (event.resourceVersion !== '') lastRevision = Math.max(lastRevision, Number(event.resourceVersion));
        yield event;
      }
      if (sink.error !== undefined) yield statusEvent(sink.error);
      if (sink.overflowed) {
        this.options.logger.warn('watcher dropped: it did not keep up', { resource: target.resource, namespace: target.namespace });
      }
    } finally {
      for (const t of timers) clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
      unregister();
      sink.end();
    }
  }
}

