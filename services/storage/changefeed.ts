/**
 * The changefeed: publishes every committed change to its resource's Redis channel, stamped
 * with its revision and the revision of the previous event on that channel, exactly once,
 * across restarts and leadership changes.
 *
 * How exactly-once holds: the last published revision (and each channel's last revision) live
 * in Redis next to the messages, and one Lua script publishes a batch, records the new
 * revisions, and does so only if the recorded revision is still the one this publisher last
 * wrote. A new leader resumes from the recorded revision, so nothing committed is skipped; a
 * deposed publisher that still sends finds the record moved and stops, so nothing is sent
 * twice. If the record itself is lost (Redis restarted empty) or the history to resume from
 * was compacted, the feed starts at the current revision and names it as each channel's
 * predecessor, which subscribers detect as a gap and answer with a relist. A record written
 * against another etcd (its revision above etcd's current one, or another etcd cluster id
 * kept beside it: etcd replaced or its data lost while Redis kept the record) is not resumed
 * from, since nothing etcd commits would pass it: the feed resets the record to the current
 * revision and starts there, as without a record.
 *
 * Tracing: each change whose write was traced is published in a PRODUCER span, a child of the
 * write's span (its traceparent from the write-trace index), and the message carries that
 * publish span's traceparent: a subscriber's span for the message is then the publish span's
 * child, in the write's trace. Subscribers read it as they always did, as the context of the
 * write's trace; without a publish span (tracing off here) it is the write's own.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { channelFor, encodeChangeEvent } from '../../lib/change-event.ts';
import type { StatusError } from '../../lib/errors.ts';
import { contextFromCarrier, traceCarrier } from '../../lib/grpc/trace-context.ts';
import type { Logger } from '../../lib/log.ts';
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '../../lib/semconv.ts';
import type { Telemetry } from '../../lib/tracing.ts';
import type { ChangeSource, ChangeSubscription, CommittedChange } from './api.ts';
import type { WriteTraceIndex } from './core/write-trace-index.ts';
import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../../lib/metrics.ts';

/** Redis keys of the feed's record; one hash tag, so a Redis Cluster keeps them in one slot. */
export const FEED_REVISION_KEY = '{apiserver-changefeed}:revision';
export const FEED_CHANNELS_KEY = '{apiserver-changefeed}:channels';
/** The cluster id of the etcd the record was written against (absent when unknown). */
export const FEED_CLUSTER_KEY = '{apiserver-changefeed}:cluster';

/**
 * KEYS[1]: the recorded revision; KEYS[2]: channel -> last revision.
 * ARGV[1]: the revision this publisher expects recorded ("" for none); ARGV[2]: the new one;
 * then triples (channel, message, revision).
 * Returns {1, new} when published, {0, recorded} when another publisher moved the record.
 */
const PUBLISH_SCRIPT = `
local recorded = redis.call('GET', KEYS[1]) or ''
if recorded ~= ARGV[1] then return {0, recorded} end
for i = 3, #ARGV, 3 do
  redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
end
redis.call('SET', KEYS[1], ARGV[2])
return {1, ARGV[2]}
`;

/** The name the script is defined under on the ioredis client. */
const PUBLISH_COMMAND = 'apiserverPublishChanges';

/**
 * KEYS[1]: the recorded revision; KEYS[2]: channel -> last revision; KEYS[3]: the etcd cluster id.
 * ARGV[1]: the record found to be another etcd's; ARGV[2]: the current revision; ARGV[3]: the
 * cluster id ("" when unknown). Replaces the record only if it is still the one found, so a
 * publisher that took over meanwhile is not overwritten. Returns 1 when replaced.
 */
const RESET_SCRIPT = `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] == '' then redis.call('DEL', KEYS[3]) else redis.call('SET', KEYS[3], ARGV[3]) end
return 1
`;

/** The name the reset script is defined under on the ioredis client. */
const RESET_COMMAND = 'apiserverResetChangefeed';

export interface ChangefeedOptions {
  source: Pick<ChangeSource, 'watchChanges'> & {
    currentRevision(): Promise<string>;
    /**
     * The etcd cluster id (from a response header), kept with the record so that a record of
     * another etcd is recognised even when its revision is not ahead of this one's. Without
     * it only a record ahead of the current revision is recognised as another etcd's.
     */
    clusterId?(): Promise<string>;
  };
  redis: Redis;
  logger: Logger;
  writeTraces?: WriteTraceIndex | undefined;
  /**
   * Where the feed's lag is measured (none when absent): apiserver_changefeed_lag_seconds, the
   * time from etcd's watch handing a change to this process to Redis taking it (per batch,
   * its oldest change); apiserver_changefeed_pending_changes, changes waiting now; and
   * apiserver_changefeed_published_changes_total.
   */
  metrics?: Metrics | undefined;
  /** Makes the publish spans; none without it (or when it is disabled). */
  telemetry?: Telemetry | undefined;
}

/** Buckets of apiserver_changefeed_lag_seconds: a millisecond to half a minute (Redis down). */
export const CHANGEFEED_LAG_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type PublishResult = [0 | 1, string];

export class Changefeed {
  private readonly o: ChangefeedOptions;
  /** Guarded by the event loop; changed only by start(), stop() and the publish chain. */
  private subscription: ChangeSubscription | undefined;
  /** The revision recorded in Redis by this publisher's last successful publish. */
  private recorded = '';
  /** Last published revision per channel. */
  private lastOnChannel = new Map<string, number>();
  /** The predecessor named by the first event of a channel without a record. */
  private baseline = 0;
  /** Changes received and not yet published, in revision order. */
  private pending: CommittedChange[] = [];
  /** performance.now() when the oldest of `pending` arrived (undefined while none waits). */
  private pendingSince: number | undefined;
  private readonly lag: Histogram | undefined;
  private readonly published: Counter | undefined;
  private publishing: Promise<void> | undefined;
  private running = false;
  /** Resolves when the feed stopped by itself (deposed by another publisher). */
  private onDeposed: (() => void) | undefined;
  /**
   * The write's traceparent of each change taken from the index ('' for none), kept while the
   * change may be published again (a failed batch is retried; the index gives it only once).
   */
  private readonly writeTraceOf = new WeakMap<CommittedChange, string>();

  /** The script, sent by its SHA-1 (EVALSHA) once Redis has it, not as text with every batch. */
  private readonly publishCommand: (...args: Array<string | Buffer>) => Promise<PublishResult>;

  constructor(options: ChangefeedOptions) {
    this.o = options;
    const metrics = options.metrics;
    this.lag = metrics?.histogram({
      name: 'apiserver_changefeed_lag_seconds',
      help: 'Time from a committed change reaching the changefeed (etcd watch) to its publish in Redis.',
      buckets: CHANGEFEED_LAG_BUCKETS,
    });
    this.published = metrics?.counter({ name: 'apiserver_changefeed_published_changes_total', help: 'Changes the changefeed published to Redis.' });
    const waiting = () => this.pending.length;
    metrics?.gauge({
      name: 'apiserver_changefeed_pending_changes',
      help: 'Committed changes received by the changefeed and not yet published to Redis.',
      collect() {
        this.set(waiting());
      },
    });
    options.redis.defineCommand(PUBLISH_COMMAND, { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
    options.redis.defineCommand(RESET_COMMAND, { numberOfKeys: 3, lua: RESET_SCRIPT });
    const redis = options.redis as unknown as Record<string, (...args: Array<string | Buffer>) => Promise<PublishResult>>;
    this.publishCommand = (...args) => (redis[PUBLISH_COMMAND] as (...a: Array<string | Buffer>) => Promise<PublishResult>).apply(options.redis, args);
  }

  /** The revision this feed has published through (for tests and logs). */
  get publishedThrough(): string {
    return this.recorded;
  }

  /**
   * Starts publishing from the recorded revision (or the current one when there is no
   * record). `deposed` is called if another publisher takes over the record.
   */
  async start(deposed?: () => void): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.onDeposed = deposed;
    const from = await this.loadRecord();
    await this.subscribe(from);
  }

  /** Stops receiving; waits for the batch in flight. */
  async stop(): Promise<void> {
    this.running = false;
    const sub = this.subscription;
    this.subscription = undefined;
    this.pending = [];
    await sub?.close();
    await this.publishing;
  }

  /** Reads the record; returns the revision to resume after. */
  private async loadRecord(): Promise<string> {
    const [recorded, channels, recordedCluster, clusterId] = await Promise.all([
      this.o.redis.get(FEED_REVISION_KEY),
      this.o.redis.hgetall(FEED_CHANNELS_KEY),
      this.o.redis.get(FEED_CLUSTER_KEY),
      // Unknown when the member asked does not answer: only the revision check applies then.
      (this.o.source.clusterId?.() ?? Promise.resolve('')).catch((err: unknown) => {
        this.o.logger.warn('etcd cluster id unknown; a record of another etcd is recognised only by its revision', { error: err });
        return '';
      }),
    ]);
    if (recorded === null || recorded === '') {
      const current = await this.o.source.currentRevision();
      this.recorded = '';
      this.baseline = Number(current);
      this.lastOnChannel = new Map();
      if (clusterId !== '') await this.o.redis.set(FEED_CLUSTER_KEY, clusterId);
      this.o.logger.info('changefeed starts without a record: subscribers detect a possible gap and refill it', { revision: current });
      return current;
    }
    const current = await this.o.source.currentRevision();
    const otherCluster = clusterId !== '' && recordedCluster !== null && recordedCluster !== '' && recordedCluster !== clusterId;
    if (otherCluster || Number(recorded) > Number(current)) {
      return this.resetForeignRecord(recorded, recordedCluster ?? '', current, clusterId);
    }
    // A record of a version that did not keep the cluster id: it is this etcd's from now on.
    if (clusterId !== '' && (recordedCluster === null || recordedCluster === '')) await this.o.redis.set(FEED_CLUSTER_KEY, clusterId);
    this.recorded = recorded;
    this.baseline = Number(recorded);
    this.lastOnChannel = new Map(Object.entries(channels).map(([channel, rev]) => [channel, Number(rev)]));
    this.o.logger.info('changefeed resumes after its record', { revision: recorded });
    return recorded;
  }

  /**
   * The record was written against another etcd (replaced, or its data lost while Redis kept
   * the record): resuming after it would hold back every change until etcd's revision passed
   * it. The record is replaced by the current revision and the feed starts there, naming it
   * as each channel's predecessor as when there is no record (a subscriber not complete up to
   * there sees a gap and refills it, or ends its watchers with 410 Expired, and they relist).
   * A watch cache still holding the old etcd's higher revisions takes the new ones for
   * duplicates: the watch service must start afresh too (make up restarts every process).
   */
  private async resetForeignRecord(recorded: string, recordedCluster: string, current: string, clusterId: string): Promise<string> {
    this.o.logger.error('changefeed record is from another etcd (its revision is ahead of etcd\'s, or its cluster id differs): not resuming from it; starting at the current revision', {
      recordedRevision: recorded,
      recordedClusterId: recordedCluster,
      revision: current,
      clusterId,
    });
    const reset = this.o.redis as unknown as Record<string, (...args: string[]) => Promise<number>>;
    const replaced = await (reset[RESET_COMMAND] as (...a: string[]) => Promise<number>).apply(this.o.redis, [
      FEED_REVISION_KEY,
      FEED_CHANNELS_KEY,
      FEED_CLUSTER_KEY,
      recorded,
      current,
      clusterId,
    ]);
    // Not replaced: another publisher wrote the record meanwhile; the first publish then
    // finds it is not `current` and stops this feed, as when deposed.
    if (replaced !== 1) this.o.logger.warn('changefeed record changed while being reset; another publisher leads');
    this.recorded = current;
    this.baseline = Number(current);
    this.lastOnChannel = new Map();
    return current;
  }

  private async subscribe(from: string): Promise<void> {
    this.subscription = await this.o.source.watchChanges(
      from,
      (changes) => this.enqueue(changes),
      (err) => this.onSourceError(err),
    );
  }

  private onSourceError(err: StatusError): void {
    if (err.reason !== 'Expired') {
      this.o.logger.warn('changefeed source interrupted; it resumes where it stopped', { reason: err.reason });
      return;
    }
    // The history to resume from is gone: restart at the current revision, as a visible gap.
    this.o.logger.error('changefeed history was compacted before it was published; restarting at the current revision');
    void this.restartAtCurrent();
  }

  private async restartAtCurrent(): Promise<void> {
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.close();
    await this.publishing;
    if (!this.running) return;
    const current = await this.o.source.currentRevision();
    this.pending = [];
    this.baseline = Number(current);
    this.lastOnChannel = new Map();
    await this.subscribe(current);
  }

  private enqueue(changes: CommittedChange[]): void {
    if (!this.running) return;
    this.pendingSince ??= performance.now();
    this.pending.push(...changes);
    this.publishing ??= this.drain().finally(() => {
      this.publishing = undefined;
    });
  }

  /** Publishes pending changes, one script call per accumulated batch, in order. */
  private async drain(): Promise<void> {
    while (this.running && this.pending.length > 0) {
      const batch = this.pending;
      const since = this.pendingSince ?? performance.now();
      this.pending = [];
      this.pendingSince = undefined;
      try {
        await this.publish(batch);
        // Not when the batch was put back (record lost) or another publisher took over.
        if (this.running && this.recorded !== '') {
          this.lag?.observe((performance.now() - since) / 1000);
          this.published?.inc(batch.length);
        }
      } catch (err) {
        // Redis unreachable: keep the batch (in order, ahead of newer changes) and retry.
        this.pending = [...batch, ...this.pending];
        this.pendingSince = since;
        this.o.logger.warn('publishing changes failed; retrying', { error: err });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  private async publish(batch: CommittedChange[]): Promise<void> {
    const recordedBase = Number(this.recorded === '' ? this.baseline : this.recorded);
    const fresh = batch.filter((c) => c.revision > recordedBase);
    if (fresh.length === 0) return;
    // Messages go as bytes: ioredis writes string arguments by concatenating them into one
    // string, which costs more than encoding each message once.
    const args: Array<string | Buffer> = [];
    const lastOnChannel = new Map(this.lastOnChannel);
    const spans: Span[] = [];
    for (const change of fresh) {
      const channel = channelFor(change.group, change.resource);
      let traceparent = this.writeTraceOf.get(change);
      if (traceparent === undefined && this.o.writeTraces !== undefined) {
        traceparent = this.o.writeTraces.take(change.key) ?? '';
        this.writeTraceOf.set(change, traceparent);
      }
      if (traceparent !== undefined && traceparent !== '' && this.o.telemetry?.enabled === true) {
        const span = this.publishSpan(this.o.telemetry, channel, traceparent, fresh.length);
        if (span !== undefined) {
          spans.push(span);
          traceparent = traceCarrier(this.o.telemetry, trace.setSpan(context.active(), span)).traceparent;
        }
      }
      const message = encodeChangeEvent(change, lastOnChannel.get(channel) ?? this.baseline, traceparent === '' ? undefined : traceparent);
      lastOnChannel.set(channel, change.revision);
      args.push(channel, Buffer.from(message), String(change.revision));
    }
    const newest = String((fresh[fresh.length - 1] as CommittedChange).revision);
    let result: PublishResult;
    try {
      result = await this.publishCommand(FEED_REVISION_KEY, FEED_CHANNELS_KEY, this.recorded, newest, ...args);
    } catch (err) {
      for (const span of spans) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'redis unavailable' });
        span.end();
      }
      throw err;
    }
    const [ok, recorded] = result;
    for (const span of spans) {
      // Not published: another publisher moved the record (or it was lost), see below.
      if (ok !== 1) span.setStatus({ code: SpanStatusCode.ERROR, message: 'not published: the changefeed record moved' });
      span.end();
    }
    if (ok === 1) {
      this.recorded = newest;
      this.lastOnChannel = lastOnChannel;
      return;
    }
    if (recorded === '') {
      // The record vanished (Redis restarted empty): carry on; our next events name
      // predecessors the subscribers never saw, which they detect as a gap.
      this.o.logger.warn('changefeed record lost (Redis restarted?); continuing');
      this.recorded = '';
      this.pending = [...batch, ...this.pending];
      return;
    }
    // Another publisher moved the record: it is the leader now.
    this.o.logger.warn('changefeed record moved by another publisher; stopping', { recorded });
    this.running = false;
    this.pending = [];
    const sub = this.subscription;
    this.subscription = undefined;
    void sub?.close();
    this.onDeposed?.();
  }

  /**
   * The PRODUCER span of one change's publish, a child of its write's span (`traceparent`);
   * undefined when that write was not sampled (no span would be recorded).
   */
  private publishSpan(telemetry: Telemetry, channel: string, traceparent: string, batchSize: number): Span | undefined {
    const parent = contextFromCarrier(telemetry, { traceparent });
    if (trace.getSpanContext(parent) === undefined) return undefined;
    const span = telemetry.tracer.startSpan(
      `publish ${channel}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: 'redis',
          [ATTR_MESSAGING_DESTINATION_NAME]: channel,
          [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
          [ATTR_MESSAGING_OPERATION_NAME]: 'publish',
          // One script call publishes the batch this change went in.
          [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: batchSize,
          [ATTR_SERVER_ADDRESS]: this.o.redis.options.host ?? '',
          [ATTR_SERVER_PORT]: this.o.redis.options.port ?? 6379,
        },
      },
      parent,
    );
    if (span.isRecording()) return span;
    span.end();
    return undefined;
  }
}
