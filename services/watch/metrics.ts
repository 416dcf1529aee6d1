/**
 * The watch service's metrics. kube's names where kube has the same thing:
 *
 * - apiserver_registered_watchers{group,version,kind} and apiserver_watch_events_total{group,version,kind}
 *   (k8s.io/apiserver/pkg/endpoints/metrics/metrics.go): watches open here, events sent to them;
 * - apiserver_watch_cache_events_received_total{group,resource}, watch_cache_capacity{group,resource} (no apiserver_ prefix, as kube names it)
 *   and apiserver_watch_cache_resource_version{group,resource} (k8s.io/apiserver/pkg/storage/cacher/metrics/metrics.go);
 *
 * and this project's own, for what kube does not have:
 *
 * - apiserver_watch_cache_events_held{group,resource}: changes a cache holds now (its size);
 * - apiserver_watch_cache_gaps_total{group,resource,outcome}: changes the Redis bus lost, found
 *   by a change naming a predecessor the cache never received, and either `refilled` from
 *   storage's history or, when that history was compacted, `expired` (every watcher got 410).
 *
 * A delivered event costs one increment of a plain number kept per kind, added to
 * apiserver_watch_events_total when it is scraped: an event reaches every watcher of its kind,
 * so prom-client's per-call label validation and hashing would be paid watchers × events times.
 */
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../lib/metrics.ts';
import type { WatchCache } from './core/watch-cache.ts';

export type GapOutcome = 'refilled' | 'expired';

/** What the watches of one kind count: the events sent to them, and themselves while open. */
export interface WatchCounters {
  /** Events sent since the last scrape (added to apiserver_watch_events_total then): increment it per event. */
  sent: number;
  /** apiserver_registered_watchers of the kind: up when a watch starts, down when it ends. */
  readonly open: Gauge.Internal<string>;
}

/** A kind's counters and the counter child its events are added to. */
interface KindCounters extends WatchCounters {
  readonly events: Counter.Internal;
}

/** Splits a cache key (`group/resource`) into its labels. */
function keyLabels(key: string): [string, string] {
  const slash = key.lastIndexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

export class WatchMetrics {
  private readonly events: Counter<string>;
  private readonly watchers: Gauge<string>;
  private readonly received: Counter<string>;
  private readonly gaps: Counter<string>;
  private readonly perKind = new Map<string, KindCounters>();

  constructor(metrics: Metrics) {
    const perKind = this.perKind;
    this.events = metrics.counter({
      name: 'apiserver_watch_events_total',
      help: 'Number of events sent in watch clients',
      labelNames: ['group', 'version', 'kind'],
      collect() {
        for (const counters of perKind.values()) {
          if (counters.sent === 0) continue;
          counters.events.inc(counters.sent);
          counters.sent = 0;
        }
      },
    });
    this.watchers = metrics.gauge({
      name: 'apiserver_registered_watchers',
      help: 'Number of currently registered watchers for a given resources',
      labelNames: ['group', 'version', 'kind'],
    });
    this.received = metrics.counter({
      name: 'apiserver_watch_cache_events_received_total',
      help: 'Counter of events received in watch cache broken by resource type.',
      labelNames: ['group', 'resource'],
    });
    this.gaps = metrics.counter({
      name: 'apiserver_watch_cache_gaps_total',
      help: 'Changes missing from the change bus, detected by a watch cache: refilled from storage history, or expired (watchers ended with 410).',
      labelNames: ['group', 'resource', 'outcome'],
    });
  }

  /** Gauges read from `caches` when scraped: capacity, size and revision of each. */
  observeCaches(metrics: Metrics, caches: ReadonlyMap<string, WatchCache>): void {
    const each = (set: (gauge: Gauge<string>, group: string, resource: string, cache: WatchCache) => void) =>
      function collect(this: Gauge<string>): void {
        this.reset();
        for (const [key, cache] of caches) set(this, ...keyLabels(key), cache);
      };
    metrics.gauge({
      name: 'watch_cache_capacity',
      help: 'Total capacity of watch cache broken by resource type.',
      labelNames: ['group', 'resource'],
      collect: each((g, group, resource, cache) => g.labels(group, resource).set(cache.capacity)),
    });
    metrics.gauge({
      name: 'apiserver_watch_cache_events_held',
      help: 'Changes a watch cache holds now for watchers that resume, broken by resource type.',
      labelNames: ['group', 'resource'],
      collect: each((g, group, resource, cache) => g.labels(group, resource).set(cache.size)),
    });
    metrics.gauge({
      name: 'apiserver_watch_cache_resource_version',
      help: 'Current resource version of watch cache broken by resource type.',
      labelNames: ['group', 'resource'],
      collect: each((g, group, resource, cache) => g.labels(group, resource).set(cache.revision)),
    });
  }

  /** The counters of the watches of `kind`, shared by them all (made once per kind). */
  forWatch(group: string, version: string, kind: string): WatchCounters {
    const key = `${group}/${version}/${kind}`;
    let counters = this.perKind.get(key);
    if (counters === undefined) {
      counters = { sent: 0, open: this.watchers.labels(group, version, kind), events: this.events.labels(group, version, kind) };
      this.perKind.set(key, counters);
    }
    return counters;
  }

  /** The received-events counter of the cache under `key`. */
  receivedFor(key: string): Counter.Internal {
    return this.received.labels(...keyLabels(key));
  }

  /** A gap's report for the cache under `key`. */
  gapsFor(key: string): (outcome: GapOutcome) => void {
    const [group, resource] = keyLabels(key);
    const refilled = this.gaps.labels(group, resource, 'refilled');
    const expired = this.gaps.labels(group, resource, 'expired');
    // Shown at 0 from the start, so that an alert on their rate has a series to read.
    refilled.inc(0);
    expired.inc(0);
    return (outcome) => (outcome === 'refilled' ? refilled : expired).inc();
  }
}
