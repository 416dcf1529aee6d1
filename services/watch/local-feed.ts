/**
 * Watch caches fed straight from a storage backend's change stream, without Redis: the
 * single-process mode. Every change arrives (an in-process stream loses nothing), so the
 * caches see the same revision chain the Redis changefeed would publish.
 */
import { storedChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import type { Logger } from '../../lib/log.ts';
import type { KindRegistry, ResourceInfo } from '../../lib/kinds/index.ts';
import type { ChangeSource, ChangeSubscription, Storage } from '../storage/api.ts';
import { WatchCache } from './core/watch-cache.ts';
import { cacheKey } from './core/watch-service.ts';
import { readHistory } from './feed.ts';

export interface LocalFeedOptions {
  source: Pick<ChangeSource, 'watchChanges'>;
  storage: Pick<Storage, 'currentRevision' | 'events'>;
  resources: readonly ResourceInfo[];
  logger: Logger;
  cacheCapacity: number;
  /**
   * Follow it: a resource whose first kind appears gets a cache complete from the last change
   * the stream delivered (every later one comes on the stream), and loses it with its last kind.
   */
  registry?: KindRegistry;
}

export async function feedCachesLocally(o: LocalFeedOptions): Promise<{ caches: Map<string, WatchCache>; subscription: ChangeSubscription }> {
  const start = Number(await o.storage.currentRevision());
  const caches = new Map<string, WatchCache>();
  for (const r of o.resources) {
    caches.set(cacheKey(r.group, r.resource), new WatchCache(start, { capacity: o.cacheCapacity, refill: (from, to) => readHistory(o.storage, r, from, to) }));
  }
  const last = new Map<string, number>();
  /** The newest revision the stream has delivered (every change up to it has been seen). */
  let through = start;
  const unfollow = o.registry?.subscribe((change) => {
    const r = change.kind;
    const key = cacheKey(r.group, r.resource);
    const served = o.registry?.hasResource(r.group, r.resource) === true;
    if (served && !caches.has(key)) {
      caches.set(key, new WatchCache(through, { capacity: o.cacheCapacity, refill: (from, to) => readHistory(o.storage, r, from, to) }));
      last.set(key, through);
    } else if (!served) {
      const cache = caches.get(key);
      caches.delete(key);
      last.delete(key);
      // Its watchers' streams end, as kube's do when a definition goes.
      cache?.close();
    }
  });
  const changes = await o.source.watchChanges(
    String(start),
    (changes) => {
      for (const change of changes) {
        through = Math.max(through, change.revision);
        const key = cacheKey(change.group, change.resource);
        const cache = caches.get(key);
        if (cache === undefined) continue;
        const prevRevision = last.get(key) ?? start;
        last.set(key, change.revision);
        let event: ChangeEvent;
        try {
          event = storedChangeEvent(change, prevRevision);
        } catch (err) {
          // A stored value that does not parse cannot be delivered; the cache sees the gap.
          o.logger.error('dropping a change whose stored object does not parse', { resource: change.resource, revision: change.revision, error: err });
          continue;
        }
        cache.receive(event);
      }
    },
    (err) => o.logger.warn('change stream interrupted', { reason: err.reason, message: err.message }),
  );
  const subscription: ChangeSubscription = {
    close: async () => {
      unfollow?.();
      await changes.close();
    },
  };
  return { caches, subscription };
}
