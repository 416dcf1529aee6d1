/**
 * Watch caches fed straight from a storage backend's change stream, without Redis: the
 * single-process mode. Every change arrives (an in-process stream loses nothing), so the
 * caches see the same revision chain the Redis changefeed would publish.
 */
import type { ChangeEvent } from '../../lib/change-event.ts';
import type { Logger } from '../../lib/log.ts';
import type { ResourceInfo } from '../../lib/resources.ts';
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
}

export async function feedCachesLocally(o: LocalFeedOptions): Promise<{ caches: Map<string, WatchCache>; subscription: ChangeSubscription }> {
  const start = Number(await o.storage.currentRevision());
  const caches = new Map<string, WatchCache>();
  for (const r of o.resources) {
    caches.set(cacheKey(r.group, r.resource), new WatchCache(start, { capacity: o.cacheCapacity, refill: (from, to) => readHistory(o.storage, r, from, to) }));
  }
  const last = new Map<string, number>();
  const subscription = await o.source.watchChanges(
    String(start),
    (changes) => {
      for (const change of changes) {
        const key = cacheKey(change.group, change.resource);
        const cache = caches.get(key);
        if (cache === undefined) continue;
        const event: ChangeEvent = { ...change, prevRevision: last.get(key) ?? start };
        last.set(key, change.revision);
        cache.receive(event);
      }
    },
    (err) => o.logger.warn('change stream interrupted', { reason: err.reason, message: err.message }),
  );
  return { caches, subscription };
}
