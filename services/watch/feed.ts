/**
 * The changefeed subscription: one Redis subscription per resource for the whole process,
 * feeding that resource's WatchCache.
 */
import type { Redis } from 'ioredis';
import { channelFor, decodeChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import type { Logger } from '../../lib/log.ts';
import type { ResourceInfo } from '../../lib/kinds/index.ts';
import type { Storage } from '../storage/api.ts';
import { WatchCache } from './core/watch-cache.ts';
import { cacheKey } from './core/watch-service.ts';

export interface FeedOptions {
  /** A connection for subscribing only (Redis puts it in subscriber mode). */
  subscriber: Redis;
  storage: Pick<Storage, 'currentRevision' | 'events'>;
  resources: readonly ResourceInfo[];
  logger: Logger;
  cacheCapacity: number;
  /** How long a change stays in a cache. */
  cacheMaxAgeMs?: number;
}

/**
 * Subscribes to every resource's channel (the subscriber must be connected), then reads the current revision: every change after
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
  for (const r of options.resources) {
    caches.set(
      cacheKey(r.group, r.resource),
      new WatchCache(start, {
        capacity: options.cacheCapacity,
        maxAgeMs: options.cacheMaxAgeMs,
        refill: (from, to) => readHistory(options.storage, r, from, to),
      }),
    );
  }
  // The subscriber is connected already, so every 'ready' from now on is a reconnect (ioredis
  // resubscribes by itself). Messages may have been lost with nothing after them to show it:
  // catch every cache up to storage's current revision from its history.
  options.subscriber.on('ready', () => {
    options.logger.warn('redis subscription re-established; catching the watch caches up from storage');
    options.storage
      .currentRevision()
      .then((revision) => {
        for (const cache of caches.values()) cache.catchUp(Number(revision));
      })
      .catch((err: unknown) => options.logger.error('catching up after a reconnect failed', { error: err }));
  });
  for (const change of early) caches.get(cacheKey(change.group, change.resource))?.receive(change);
  options.logger.info('watch caches ready', { revision: start, resources: caches.size });
  return caches;
}

/** The resource's committed changes in (from, to] from storage's history, as change events. */
export async function readHistory(
  storage: Pick<Storage, 'events'>,
  r: Pick<ResourceInfo, 'group' | 'resource'>,
  from: number,
  to: number,
): Promise<ChangeEvent[]> {
  const changes: ChangeEvent[] = [];
  let after = from;
  let prev = from;
  for (;;) {
    const page = await storage.events({ group: r.group, resource: r.resource }, { fromRevision: String(after), toRevision: String(to) });
    for (const e of page.events) {
      changes.push({ ...e, group: r.group, resource: r.resource, prevRevision: prev });
      prev = e.revision;
    }
    if (!page.more) return changes;
    after = Number(page.resourceVersion);
  }
}
