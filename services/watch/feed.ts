/**
 * The changefeed subscription: one Redis subscription per resource for the whole process,
 * feeding that resource's WatchCache.
 */
import type { Redis } from 'ioredis';
import { channelFor, decodeChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import type { Logger } from '../../lib/log.ts';
import type { ResourceInfo } from '../../lib/resources.ts';
import type { Storage } from '../storage/api.ts';
import { WatchCache } from './core/watch-cache.ts';
import { cacheKey } from './core/watch-service.ts';

export interface FeedOptions {
  /** A connection for subscribing only (Redis puts it in subscriber mode). */
  subscriber: Redis;
  storage: Pick<Storage, 'currentRevision'>;
  resources: readonly ResourceInfo[];
  logger: Logger;
  cacheCapacity: number;
}

/**
 * Subscribes to every resource's channel, then reads the current revision: every change after
 * it arrives on a channel that is already subscribed, so each cache is complete from there.
 * Messages that arrive in between are replayed into the caches (which drop what they predate).
 */
export async function subscribeCaches(options: FeedOptions): Promise<Map<string, WatchCache>> {
  const byChannel = new Map<string, { key: string }>();
  for (const r of options.resources) byChannel.set(channelFor(r.group, r.resource), { key: cacheKey(r.group, r.resource) });
  const caches = new Map<string, WatchCache>();
  const early: ChangeEvent[] = [];
  options.subscriber.on('message', (channel: string, message: string) => {
    const target = byChannel.get(channel);
    if (target === undefined) return;
    let change: ChangeEvent;
    try {
      change = decodeChangeEvent(message);
    } catch (err) {
      options.logger.error('dropping a malformed change event', { channel, error: err });
      return;
    }
    const cache = caches.get(target.key);
    if (cache === undefined) early.push(change);
    else cache.receive(change);
  });
  await options.subscriber.subscribe(...byChannel.keys());
  const start = Number(await options.storage.currentRevision());
  for (const { key } of byChannel.values()) caches.set(key, new WatchCache(start, { capacity: options.cacheCapacity }));
  for (const change of early) caches.get(cacheKey(change.group, change.resource))?.receive(change);
  options.logger.info('watch caches ready', { revision: start, resources: caches.size });
  return caches;
}
