/**
 * The watch service's core: one WatchCache per resource, fed by the changefeed, and the
 * Watch operation with kube-apiserver's resourceVersion semantics.
 */
import { badRequest, StatusError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/log.ts';
import { MalformedObjectLog } from '../../../lib/object-meta.ts';
import type { ObjectFilter } from '../../../lib/selectors.ts';
import { apiVersionOf, type KindDefinition, type KindRegistry } from '../../../lib/kinds/index.ts';
import { GoShapes } from '../../../lib/kinds/go-json.ts';
import type { Storage } from '../../storage/api.ts';
import type { ChangeEvent } from '../../../lib/change-event.ts';
import {
  INITIAL_EVENTS_END_ANNOTATION,
  slowWatcherError,
  statusEvent,
  validateWatch,
  type Watcher,
  type WatchEvent,
  type WatchOptions,
  type WatchTarget,
} from '../api.ts';
import { bookmarkObject, CachedChange, eventFor, type WatchCache, type WatcherSink } from './watch-cache.ts';
import type { WatchCounters, WatchMetrics } from '../metrics.ts';

/**
 * Receives the events of one watch started with {@link WatchService.start}, in order, called
 * synchronously from the cache's fan-out (so a listener must not block: it queues).
 */
export interface WatchListener {
  /**
   * One event. `initial`: part of the watch's initial state (listed objects, changes replayed
   * from storage's history, the watch-list bookmark), which a listener takes whole, as the
   * list it comes from is whole in memory anyway. A live event may be refused (false) when
   * the listener's bounded buffer is full: the watch is then dropped as too slow, and `end`
   * follows with TooManyRequests.
   */
  event(event: WatchEvent, initial: boolean): boolean;
  /**
   * The watch is over, cleanly (timeoutSeconds, shutdown) or with `error`: 410 Expired (the
   * client relists), TooManyRequests (dropped as too slow), or what failed while reading the
   * initial state. Called once, and never after WatchHandle.cancel.
   */
  end(error?: StatusError): void;
}

export interface WatchHandle {
  /** Stops the watch and frees it; the listener hears nothing more. */
  cancel(): void;
}

/** The longest delay a Node.js timer holds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A watcher's bounded queue for the async-iterator form of a watch (WatchService.watch). */
export class EventQueue implements WatchListener {
  private readonly queue: WatchEvent[] = [];
  private readonly max: number;
  ended = false;
  error: StatusError | undefined;
  private wake: (() => void) | undefined;

  constructor(max: number) {
    this.max = max;
  }

  event(event: WatchEvent, initial: boolean): boolean {
    if (this.ended) return false;
    if (!initial && this.queue.length >= this.max) return false;
    this.queue.push(event);
    this.notify();
    return true;
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

/** The watchers of one resource that allow bookmarks, and what their bookmarks say. */
interface BookmarkGroup {
  readonly cache: WatchCache;
  readonly kind: string;
  readonly apiVersion: string;
  readonly watchers: Set<ActiveWatch>;
}

/**
 * One watch inside the service: the cache's sink, its filter, where it stands, and its
 * listener. Kept small (a watch server holds thousands): no generator, no closure, no timer
 * unless timeoutSeconds asks for one; periodic bookmarks come from one ticker per service.
 */
class ActiveWatch implements WatcherSink, WatchHandle {
  readonly filter: ObjectFilter;
  private readonly service: WatchService;
  private readonly listener: WatchListener;
  private readonly cache: WatchCache;
  readonly bookmarks: BookmarkGroup | undefined;
  cacheAfter?: number;
  /** Changes at or below this revision are already in the watcher's initial state. */
  skipThrough = 0;
  /** The newest revision the watcher has been brought to (a bookmark never goes below it). */
  lastRevision = 0;
  /** While the initial state is being read, changes from the cache wait here. */
  pending: WatchEvent[] | undefined;
  ended = false;
  timer: NodeJS.Timeout | undefined;
  /** Aborts the initial list when the watch is cancelled meanwhile. */
  controller: AbortController | undefined;
  /** Its kind's apiserver_watch_events_total and apiserver_registered_watchers, when counted. */
  counters: WatchCounters | undefined;

  constructor(service: WatchService, cache: WatchCache, filter: ObjectFilter, listener: WatchListener, bookmarks: BookmarkGroup | undefined) {
    this.service = service;
    this.cache = cache;
    this.filter = filter;
    this.listener = listener;
    this.bookmarks = bookmarks;
  }

  push(cached: CachedChange): boolean {
    if (this.ended) return false;
    if (cached.revision <= this.skipThrough) return true;
    const event = eventFor(cached, this.filter);
    if (event === undefined) {
      if (this.filter.selective) this.service.reportMalformed(cached, this.filter);
      return true;
    }
    if (this.pending !== undefined) {
      if (this.pending.length >= this.service.maxQueuedEvents) {
        this.finish(slowWatcherError(this.pending.length), true);
        return false;
      }
      this.pending.push(event);
      return true;
    }
    return this.deliver(event, false);
  }

  /** Hands one event to the listener; false (and the watch ends) when it refuses a live one. */
  deliver(event: WatchEvent, initial: boolean): boolean {
    if (this.ended) return false;
    if (event.resourceVersion !== '') this.lastRevision = Math.max(this.lastRevision, Number(event.resourceVersion));
    if (this.listener.event(event, initial)) {
      // A plain number, added to the counter when scraped: this runs per event per watcher.
      if (this.counters !== undefined) this.counters.sent++;
      return true;
    }
    this.finish(slowWatcherError(this.service.maxQueuedEvents), true);
    return false;
  }

  /** The initial state is delivered: the changes that waited follow, then the watch is live. */
  goLive(): void {
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const event of pending) {
      // Changes the initial state already holds (committed before the list's revision but
      // received while it was read) are not sent again.
      if (Number(event.resourceVersion) <= this.skipThrough) continue;
      if (!this.deliver(event, false)) return;
    }
    if (this.ended) return;
    if (this.bookmarks !== undefined) this.service.addBookmarks(this);
  }

  /** Cache shutdown or 410: the cache has already forgotten this watcher. */
  end(error?: StatusError): void {
    this.finish(error, false);
  }

  cancel(): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
  }

  finish(error: StatusError | undefined, slow: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
    if (slow) this.service.logSlow(this.filter.namespace);
    this.listener.end(error);
  }

  private release(): void {
    this.counters?.open.dec();
    this.cache.unwatch(this);
    this.pending = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    this.controller = undefined;
    if (this.bookmarks !== undefined) this.service.removeBookmarks(this);
  }
}

export interface WatchServiceOptions {
  /** The caches by cacheKey, read at every watch (they come and go with the kinds served). */
  caches: ReadonlyMap<string, WatchCache>;
  storage: Pick<Storage, 'list'>;
  /**
   * The committed changes of a resource in (from, to] from storage's history; lets a watcher
   * resume from a revision older than the cache window. Rejects with Expired when compacted.
   */
  history?: (resource: { group: string; resource: string }, from: number, to: number) => Promise<ChangeEvent[]>;
  registry: KindRegistry;
  logger: Logger;
  /** Events a watcher may have queued before it is dropped as too slow. */
  maxQueuedEvents?: number;
  /** How often a watcher that allows bookmarks gets one. */
  bookmarkIntervalMs?: number;
  /** Counts watches and the events sent to them (none when absent). */
  metrics?: WatchMetrics | undefined;
  /**
   * The Go shapes of built-in kinds, given to listed objects as kube's decoding and encoding
   * gives them (lib/kinds/go-json.ts); the generated ones by default.
   */
  shapes?: GoShapes;
}

/** Key of a cache: group/resource. */
export function cacheKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}

function parseRevision(rv: string): number {
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) throw badRequest(`invalid resource version: ${rv}`);
  return n;
}

export class WatchService implements Watcher {
  private readonly options: WatchServiceOptions;
  private readonly shapes: GoShapes;
  readonly maxQueuedEvents: number;
  /** Watchers that allow bookmarks, by cache; one ticker serves them all. */
  private readonly bookmarkGroups = new Map<WatchCache, BookmarkGroup>();
  private bookmarkWatchers = 0;
  private ticker: NodeJS.Timeout | undefined;
  private readonly malformed: MalformedObjectLog;

  constructor(options: WatchServiceOptions) {
    this.options = options;
    this.shapes = options.shapes ?? new GoShapes();
    this.maxQueuedEvents = options.maxQueuedEvents ?? 10_000;
    this.malformed = new MalformedObjectLog(options.logger);
  }

  /**
   * Logs (once per object) that a change a selective watcher skipped holds a state its
   * selectors cannot read. The shapes were checked by eventFor already, once per change.
   */
  reportMalformed(cached: CachedChange, filter: ObjectFilter): void {
    const [objectProblem, prevProblem] = cached.shapeProblems(filter.shape);
    const problem = objectProblem ?? prevProblem;
    if (problem === null) return;
    const { group, resource, namespace, name } = cached.change;
    this.malformed.report(`${group}/${resource}/${namespace}/${name}`, problem);
  }

  /**
   * Starts a watch whose events go to `listener`. Throws (synchronously, before any event)
   * BadRequest / Invalid for a bad request and NotFound for an unknown resource; every later
   * failure ends the watch through `listener.end`, which may be called before this returns
   * (a resourceVersion too old: 410 Expired).
   */
  start(target: WatchTarget, options: WatchOptions, listener: WatchListener): WatchHandle {
    const info = this.options.registry.get(target.group, target.version, target.resource);
    const cache = this.options.caches.get(cacheKey(target.group, target.resource));
    if (info === undefined || cache === undefined) {
      throw new StatusError('NotFound', `the server could not find the requested resource (${target.resource})`);
    }
    const filter = validateWatch(target, info.selectableFields, options);
    const rv = options.resourceVersion ?? '';
    const sendInitial = options.sendInitialEvents === true;
    let bookmarks: BookmarkGroup | undefined;
    if (options.allowWatchBookmarks === true) {
      bookmarks = this.bookmarkGroups.get(cache);
      if (bookmarks === undefined) {
        bookmarks = { cache, kind: info.kind, apiVersion: apiVersionOf(info), watchers: new Set() };
        this.bookmarkGroups.set(cache, bookmarks);
      }
    }
    const w = new ActiveWatch(this, cache, filter, listener, bookmarks);
    w.counters = this.options.metrics?.forWatch(target.group, target.version, info.kind);
    w.counters?.open.inc();
    if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0) {
      // A timer holds at most 2^31-1 ms (24.8 days); a longer one would fire at once. A watch
      // asked to last longer ends then, and its client watches again, as after any end.
      w.timer = setTimeout(() => w.finish(undefined, false), Math.min(options.timeoutSeconds * 1000, MAX_TIMER_MS));
    }
    const initial = sendInitial || rv === '' || (rv === '0' && options.sendInitialEvents !== false);
    if (initial) {
      // Register first (changes wait in `pending`), then read the state; changes the list
      // already contains are skipped.
      w.pending = [];
      w.lastRevision = cache.revision;
      cache.subscribeFromNow(w);
      void this.listInitial(w, target, options, info, sendInitial);
      return w;
    }
    const from = rv === '0' ? cache.revision : parseRevision(rv);
    w.lastRevision = from;
    try {
      // Replays the cached changes after `from` synchronously, then the watch is live.
      if (cache.subscribeFrom(from, w)) w.goLive();
      return w;
    } catch (err) {
      if (!(err instanceof StatusError) || err.reason !== 'Expired') {
        // The listener failed on a replayed change: no watch was started, so none stays
        // counted as open, and its timer never fires.
        w.cancel();
        throw err;
      }
      // Older than the cache window (this replica started later, or the window moved on):
      // serve the difference from storage's history while it exists, as if it were cached.
      const readHistory = this.options.history;
      if (readHistory === undefined) {
        w.finish(err, false);
        return w;
      }
      const through = cache.revision;
      w.pending = [];
      w.skipThrough = through;
      cache.subscribeFromNow(w);
      void this.replayHistory(w, readHistory, target, from, through);
      return w;
    }
  }

  private async replayHistory(
    w: ActiveWatch,
    readHistory: NonNullable<WatchServiceOptions['history']>,
    target: WatchTarget,
    from: number,
    through: number,
  ): Promise<void> {
    let history: ChangeEvent[];
    try {
      history = await readHistory({ group: target.group, resource: target.resource }, from, through);
    } catch (err) {
      // Too old for history too: the watch ends with 410 (an ERROR event), so clients relist.
      this.failed(w, err);
      return;
    }
    if (w.ended) return;
    for (const change of history) {
      const cached = new CachedChange(change);
      const event = eventFor(cached, w.filter);
      if (event === undefined && w.filter.selective) this.reportMalformed(cached, w.filter);
      if (event !== undefined && !w.deliver(event, true)) return;
    }
    w.goLive();
  }

  private async listInitial(w: ActiveWatch, target: WatchTarget, options: WatchOptions, info: KindDefinition, sendInitial: boolean): Promise<void> {
    const controller = new AbortController();
    w.controller = controller;
    const initialEvents: WatchEvent[] = [];
    let listRevision = '';
    try {
      let continueToken = '';
      do {
        const page = await this.options.storage.list(
          { group: target.group, resource: target.resource, namespace: target.namespace, name: '' },
          { limit: 500, continue: continueToken, labelSelector: options.labelSelector ?? '', fieldSelector: options.fieldSelector ?? '' },
          controller.signal,
        );
        if (w.ended) return;
        if (listRevision === '') listRevision = page.resourceVersion;
        for (const item of page.items) {
          // Listed from the namespace asked for, so that is the namespace of its key.
          if (!w.filter.matches(item, target.namespace)) continue;
          // Stored by an earlier version, an object of a built-in kind may lack the fields kube
          // always writes: it is answered in shape, as every read answers it.
          const typed = { ...item, kind: info.kind, apiVersion: apiVersionOf(info) };
          initialEvents.push({
            type: 'ADDED',
            object: Buffer.from(JSON.stringify(info.source === 'builtin' ? this.shapes.shape(typed, info.schema) : typed)),
            resourceVersion: item.metadata?.resourceVersion ?? listRevision,
          });
        }
        continueToken = page.continue;
      } while (continueToken !== '');
    } catch (err) {
      this.failed(w, err);
      return;
    }
    w.controller = undefined;
    if (w.ended) return;
    w.skipThrough = parseRevision(listRevision);
    w.lastRevision = w.skipThrough;
    for (const event of initialEvents) if (!w.deliver(event, true)) return;
    // The end of the initial events is marked for a watcher that takes bookmarks (kube's cacher).
    if (sendInitial && options.allowWatchBookmarks === true) {
      const bookmark = bookmarkObject(info.kind, apiVersionOf(info), listRevision, { [INITIAL_EVENTS_END_ANNOTATION]: 'true' });
      if (!w.deliver({ type: 'BOOKMARK', object: Buffer.from(JSON.stringify(bookmark)), resourceVersion: listRevision }, true)) return;
    }
    w.goLive();
  }

  /** Ends a watch whose initial state could not be read. */
  private failed(w: ActiveWatch, err: unknown): void {
    if (w.ended) return;
    if (!(err instanceof StatusError)) this.options.logger.error('watch failed', { error: err });
    w.finish(StatusError.from(err), false);
  }

  addBookmarks(w: ActiveWatch): void {
    const group = w.bookmarks as BookmarkGroup;
    if (group.watchers.has(w)) return;
    group.watchers.add(w);
    this.bookmarkWatchers++;
    if (this.ticker === undefined) {
      this.ticker = setInterval(() => this.tick(), this.options.bookmarkIntervalMs ?? 60_000);
      this.ticker.unref();
    }
  }

  removeBookmarks(w: ActiveWatch): void {
    if (!w.bookmarks?.watchers.delete(w)) return;
    // A resource that is no longer served must not keep its group (nor its cache) alive.
    if (w.bookmarks.watchers.size === 0) this.bookmarkGroups.delete(w.bookmarks.cache);
    if (--this.bookmarkWatchers === 0 && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  /**
   * A bookmark to every watcher that allows them, at the newest revision it has been brought
   * to or the cache holds (every change up to cache.revision is already queued ahead of it).
   * Watchers at the same revision share the bookmark's bytes, so a stream of many watches
   * sends it once.
   */
  private tick(): void {
    for (const group of this.bookmarkGroups.values()) {
      const objects = new Map<number, Buffer>();
      for (const w of [...group.watchers]) {
        const revision = Math.max(group.cache.revision, w.lastRevision);
        let object = objects.get(revision);
        if (object === undefined) {
          object = Buffer.from(JSON.stringify(bookmarkObject(group.kind, group.apiVersion, String(revision))));
          objects.set(revision, object);
        }
        w.deliver({ type: 'BOOKMARK', object, resourceVersion: String(revision) }, false);
      }
    }
  }

  logSlow(namespace: string): void {
    this.options.logger.warn('watcher dropped: it did not keep up', { namespace });
  }

  /** The watch as an async iterable (the Watch RPC, in-process callers): a bounded queue over start(). */
  async *watch(target: WatchTarget, options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    if (signal.aborted) return;
    const queue = new EventQueue(this.maxQueuedEvents);
    const handle = this.start(target, options, queue);
    const onAbort = () => {
      handle.cancel();
      queue.end();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield* queue.drain();
      const error = queue.error;
      // A dropped watcher's stream just ends (as kube's cacher closes it); the client rewatches.
      if (error === undefined || error.reason === 'TooManyRequests') return;
      // A revision too old: kube answers with a 200 stream holding one ERROR event, so clients relist.
      if (error.reason === 'Expired') {
        yield statusEvent(error);
        return;
      }
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      handle.cancel();
    }
  }
}
