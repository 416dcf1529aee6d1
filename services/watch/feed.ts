/**
 * The changefeed subscription: one Redis subscription per resource for the whole process,
 * feeding that resource's WatchCache. Resources come and go with the kind registry: a channel
 * is subscribed when its first kind appears and unsubscribed when its last kind goes.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { channelFor, decodeChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import { contextFromCarrier, traceCarrier } from '../../lib/grpc/trace-context.ts';
import type { Logger } from '../../lib/log.ts';
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '../../lib/semconv.ts';
import type { Telemetry } from '../../lib/tracing.ts';
import type { KindRegistry, ResourceInfo } from '../../lib/kinds/index.ts';
import type { Storage } from '../storage/api.ts';
import { WatchCache } from './core/watch-cache.ts';
import { cacheKey } from './core/watch-service.ts';
import type { Counter } from 'prom-client';
import type { WatchMetrics } from './metrics.ts';

export interface FeedOptions {
  /** A connection for subscribing only (Redis puts it in subscriber mode). */
  subscriber: Redis;
  storage: Pick<Storage, 'currentRevision' | 'events'>;
  resources: readonly Pick<ResourceInfo, 'group' | 'resource'>[];
  logger: Logger;
  cacheCapacity: number;
  /** How long a change stays in a cache. */
  cacheMaxAgeMs?: number;
  /** Counts changes received and gaps per cache (none when absent). */
  metrics?: WatchMetrics | undefined;
  /**
   * Makes a CONSUMER span per change message that carries a trace (a child of the changefeed's
   * publish span, so the write's trace reaches this service); none without it or when disabled.
   */
  telemetry?: Telemetry | undefined;
}

type Resource = Pick<ResourceInfo, 'group' | 'resource'>;

/**
 * The watch caches of one process and their Redis subscriptions. Each cache is complete from
 * the revision it starts at: its channel is subscribed first, then storage's current revision
 * is read, so every change after it arrives on a channel already subscribed; messages that
 * arrive in between are replayed into the cache (which drops what it predates).
 */
export class CacheFeed {
  /** The caches by cacheKey, live: the watch service reads it at every watch. */
  readonly caches = new Map<string, WatchCache>();
  /** The received-changes counter of each cache, bound when it opens. */
  private readonly received = new Map<string, Counter.Internal>();
  private readonly o: FeedOptions;
  /** Channels subscribed or being subscribed, to their cache key. */
  private readonly byChannel = new Map<string, string>();
  /** Messages of a cache being created, received before it exists. */
  private readonly early = new Map<string, ChangeEvent[]>();
  /** Per cache key, the add or remove in progress (they run in order). */
  private readonly pending = new Map<string, Promise<void>>();

  private constructor(options: FeedOptions) {
    this.o = options;
    options.subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
  }

  /** Subscribes to every resource of `options` (the subscriber must be connected). */
  static async start(options: FeedOptions): Promise<CacheFeed> {
    const feed = new CacheFeed(options);
    const keys = options.resources.map((r) => feed.claim(r));
    await options.subscriber.subscribe(...options.resources.map((r) => channelFor(r.group, r.resource)));
    const start = Number(await options.storage.currentRevision());
    options.resources.forEach((r, i) => feed.open(r, keys[i] as string, start));
    // The subscriber is connected already, so every 'ready' from now on is a reconnect (ioredis
    // resubscribes by itself to what is subscribed). Messages may have been lost with nothing
    // after them to show it: catch every cache up to storage's current revision from its history.
    options.subscriber.on('ready', () => {
      options.logger.warn('redis subscription re-established; catching the watch caches up from storage');
      options.storage
        .currentRevision()
        .then((revision) => {
          for (const cache of feed.caches.values()) cache.catchUp(Number(revision));
        })
        .catch((err: unknown) => options.logger.error('catching up after a reconnect failed', { error: err }));
    });
    options.logger.info('watch caches ready', { revision: start, resources: feed.caches.size });
    return feed;
  }

  /**
   * Adds and removes caches as kinds appear in and leave `registry` (the caches hold resources,
   * without a version: a resource stays while any of its versions is served). Returns the
   * unsubscribe function.
   */
  follow(registry: KindRegistry): () => void {
    return registry.subscribe((change) => {
      const { group, resource } = change.kind;
      if (change.type === 'removed') {
        if (!registry.hasResource(group, resource)) this.schedule(cacheKey(group, resource), () => this.remove({ group, resource }));
      } else {
        this.schedule(cacheKey(group, resource), () => (registry.hasResource(group, resource) ? this.add({ group, resource }) : Promise.resolve()));
      }
    });
  }

  /** Runs `step` after the steps already scheduled for `key`; resolves when it is done. */
  schedule(key: string, step: () => Promise<void>): Promise<void> {
    const next = (this.pending.get(key) ?? Promise.resolve()).then(step).catch((err: unknown) => {
      this.o.logger.error('changing a watch cache failed', { resource: key, error: err });
    });
    this.pending.set(key, next);
    void next.then(() => {
      if (this.pending.get(key) === next) this.pending.delete(key);
    });
    return next;
  }

  /** Subscribes to a resource's channel and opens its cache (nothing when it has one). */
  async add(r: Resource): Promise<void> {
    const key = cacheKey(r.group, r.resource);
    if (this.caches.has(key) || this.early.has(key)) return;
    const channel = channelFor(r.group, r.resource);
    this.claim(r);
    try {
      await this.o.subscriber.subscribe(channel);
      const start = Number(await this.o.storage.currentRevision());
      this.open(r, key, start);
      this.o.logger.info('watch cache added', { resource: key, revision: start });
    } catch (err) {
      this.early.delete(key);
      this.byChannel.delete(channel);
      void this.o.subscriber.unsubscribe(channel).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Closes a resource's cache (its watchers' streams end, as kube's do when a definition goes)
   * and unsubscribes its channel.
   */
  async remove(r: Resource): Promise<void> {
    const key = cacheKey(r.group, r.resource);
    const channel = channelFor(r.group, r.resource);
    const cache = this.caches.get(key);
    this.caches.delete(key);
    this.early.delete(key);
    const subscribed = this.byChannel.delete(channel);
    cache?.close();
    if (subscribed) await this.o.subscriber.unsubscribe(channel);
    if (cache !== undefined) this.o.logger.info('watch cache removed', { resource: key });
  }

  /** Marks a channel as wanted: its messages are kept until its cache opens. */
  private claim(r: Resource): string {
    const key = cacheKey(r.group, r.resource);
    this.byChannel.set(channelFor(r.group, r.resource), key);
    this.early.set(key, []);
    return key;
  }

  /** Opens the cache of a claimed resource at `start` and replays what arrived meanwhile. */
  private open(r: Resource, key: string, start: number): void {
    const early = this.early.get(key);
    // Removed while it was being subscribed: nothing to open.
    if (early === undefined) return;
    this.early.delete(key);
    const cache = new WatchCache(start, {
      capacity: this.o.cacheCapacity,
      maxAgeMs: this.o.cacheMaxAgeMs,
      refill: (from, to) => readHistory(this.o.storage, r, from, to),
      onGap: this.o.metrics?.gapsFor(key),
    });
    if (this.o.metrics !== undefined) this.received.set(key, this.o.metrics.receivedFor(key));
    this.caches.set(key, cache);
    for (const change of early) cache.receive(change);
  }

  private onMessage(channel: string, message: string): void {
    const key = this.byChannel.get(channel);
    if (key === undefined) return;
    let change: ChangeEvent;
    try {
      change = decodeChangeEvent(message);
    } catch (err) {
      this.o.logger.error('dropping a malformed change event', { channel, error: err });
      return;
    }
    const cache = this.caches.get(key);
    this.received.get(key)?.inc();
    const telemetry = this.o.telemetry;
    if (telemetry?.enabled !== true || change.traceparent === undefined || cache === undefined) {
      if (cache !== undefined) cache.receive(change);
      else this.early.get(key)?.push(change);
      return;
    }
    // One span per change for the whole process, whatever the number of watchers: it covers
    // the fan-out into their queues, which is synchronous.
    const span = telemetry.tracer.startSpan(
      `receive ${channel}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: 'redis',
          [ATTR_MESSAGING_DESTINATION_NAME]: channel,
          [ATTR_MESSAGING_OPERATION_TYPE]: 'receive',
          [ATTR_MESSAGING_OPERATION_NAME]: 'message',
          [ATTR_SERVER_ADDRESS]: this.o.subscriber.options.host ?? '',
          [ATTR_SERVER_PORT]: this.o.subscriber.options.port ?? 6379,
          'k8s.resource_version': String(change.revision),
        },
      },
      contextFromCarrier(telemetry, { traceparent: change.traceparent }),
    );
    // Watchers' delivery spans link to this span: the write's trace as it reached this service.
    if (span.isRecording()) change.traceparent = traceCarrier(telemetry, trace.setSpan(context.active(), span)).traceparent;
    try {
      cache.receive(change);
    } finally {
      span.end();
    }
  }

  /** Ends every watcher of every cache (shutdown). */
  close(): void {
    for (const cache of this.caches.values()) cache.close();
  }
}

/**
 * Subscribes to every resource's channel (the subscriber must be connected) and returns the
 * caches: {@link CacheFeed.start} for a fixed set of resources.
 */
export async function subscribeCaches(options: FeedOptions): Promise<Map<string, WatchCache>> {
  return (await CacheFeed.start(options)).caches;
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
