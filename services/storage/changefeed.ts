/**
 * The changefeed: tails etcd's watch over every object key and publishes each committed change
 * to its resource's Redis channel, stamped with its revision and the revision of the previous
 * event on that channel.
 *
 * The etcd watch delivers events in revision order; ioredis sends commands on one connection in
 * call order, so a channel's messages leave in revision order too.
 */
import type { Etcd3, IEvent, IWatchResponse, Watcher } from 'etcd3';
import type { Redis } from 'ioredis';
import { channelFor, encodeChangeEvent, type ChangeEvent } from '../../lib/change-event.ts';
import { isPlainObject, type KubeObject } from '../../lib/kube.ts';
import type { Logger } from '../../lib/log.ts';
import { REGISTRY_PREFIX, resourceOfKey } from './core/keys.ts';
import type { WriteTraceIndex } from './core/write-trace-index.ts';

export interface ChangefeedOptions {
  etcd: Etcd3;
  redis: Redis;
  logger: Logger;
  writeTraces?: WriteTraceIndex;
}

function parseObject(value: Buffer | undefined, revision: string): KubeObject | undefined {
  if (value === undefined || value.length === 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    if (!isPlainObject(parsed)) return undefined;
    const object = parsed as KubeObject;
    object.metadata = { ...(object.metadata ?? {}), resourceVersion: revision };
    return object;
  } catch {
    return undefined;
  }
}

export class Changefeed {
  private readonly options: ChangefeedOptions;
  /** Last revision published per channel; touched only from the watch's event handler. */
  private readonly lastPublished = new Map<string, number>();
  private watcher: Watcher | undefined;
  /**
   * The revision tailing started after. Changes up to it may have been committed without being
   * published (a previous storage process died between the two), so the first event of each
   * channel names it as its predecessor: a subscriber that has not seen everything up to it
   * detects the possible gap instead of missing a change silently.
   */
  private startRevision = 0;

  constructor(options: ChangefeedOptions) {
    this.options = options;
  }

  /** Starts tailing after `fromRevision` (exclusive); resolves once the etcd watch is established. */
  async start(fromRevision: string): Promise<void> {
    this.startRevision = Number(fromRevision);
    const watcher = await this.options.etcd
      .watch()
      .prefix(REGISTRY_PREFIX)
      .withPreviousKV()
      .startRevision(String(Number(fromRevision) + 1))
      .create();
    watcher.on('data', (response: IWatchResponse) => this.onResponse(response));
    watcher.on('error', (err) => this.options.logger.error('changefeed watch failed', { error: err }));
    watcher.on('disconnected', () => this.options.logger.warn('changefeed watch disconnected; etcd3 reconnects'));
    this.watcher = watcher;
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel();
    this.watcher = undefined;
  }

  private onResponse(response: IWatchResponse): void {
    for (const event of response.events) {
      const change = this.toChange(event);
      if (change === undefined) continue;
      const channel = channelFor(change.group, change.resource);
      change.prevRevision = this.lastPublished.get(channel) ?? this.startRevision;
      this.lastPublished.set(channel, change.revision);
      this.options.redis.publish(channel, encodeChangeEvent(change)).catch((err: unknown) => {
        this.options.logger.error('publishing a change failed', { channel, revision: change.revision, error: err });
      });
    }
  }

  private toChange(event: IEvent): ChangeEvent | undefined {
    const key = event.kv.key.toString('utf8');
    const owner = resourceOfKey(key);
    if (owner === undefined) return undefined;
    const revision = event.kv.mod_revision;
    const prevObject = parseObject(event.prev_kv?.value, event.prev_kv?.mod_revision ?? revision);
    let type: ChangeEvent['type'];
    let object: KubeObject | undefined;
    if (event.type === 'Delete') {
      type = 'DELETED';
      object = prevObject === undefined ? undefined : { ...prevObject, metadata: { ...prevObject.metadata, resourceVersion: revision } };
    } else {
      type = event.kv.version === '1' ? 'ADDED' : 'MODIFIED';
      object = parseObject(event.kv.value, revision);
    }
    if (object === undefined) {
      this.options.logger.warn('skipping a change whose object cannot be read', { key, revision });
      return undefined;
    }
    return {
      type,
      revision: Number(revision),
      prevRevision: 0,
      group: owner.group,
      resource: owner.resource,
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? '',
      object,
      prevObject: type === 'ADDED' ? undefined : prevObject,
      traceparent: this.options.writeTraces?.take(key),
    };
  }
}
