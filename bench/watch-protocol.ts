/**
 * What the watch bench and its children exchange: the write log of a source (which revision
 * was committed when, for which namespace) and what the watcher clients measured against it.
 */

/**
 * The events a source produced, in order. For the watch service: the creates the bench made
 * through storage; for the raw grpc-js server: the events it wrote; for Redis: the messages
 * published. Index i is one event.
 */
export interface WriteLog {
  /** The revision (resourceVersion) or sequence number a watcher sees. */
  revision: Float64Array;
  /** Wall-clock ms of the commit: the storage create returned / the raw server wrote / the publish was sent. */
  commitAt: Float64Array;
  /** Wall-clock ms the write was sent (before the create call); equals commitAt for the references. */
  sentAt: Float64Array;
  /** Index of the namespace written (ns-<index>); watchers of all namespaces see every event. */
  ns: Int32Array;
  /** The window of the event: 0 for warm-up, 1, 2, ... for the measured windows. */
  window: Uint8Array;
  /**
   * Wall-clock ms the event appeared on the Redis channel the watch replicas subscribe to (a tap
   * subscriber in the bench); NaN when not seen. Only for the watch service: splits its latency
   * into storage + changefeed (commit to Redis) and the watch service (Redis to watcher).
   */
  relayAt?: Float64Array | undefined;
}

export function emptyLog(n: number): WriteLog {
  return {
    revision: new Float64Array(n),
    commitAt: new Float64Array(n),
    sentAt: new Float64Array(n),
    ns: new Int32Array(n),
    window: new Uint8Array(n),
  };
}

/** One watcher: the address of its gRPC server and its namespace index (-1: all namespaces). */
export interface WatchTargetSpec {
  address: string;
  ns: number;
  /** The resource watched (default configmaps, which the bench writes); another one stays idle. */
  resource?: string | undefined;
}

export interface ConnectGrpcCommand {
  targets: WatchTargetSpec[];
  /** resourceVersion the watches start after ("" for none). */
  resourceVersion: string;
  /** HTTP/2 connections per address in this client process. */
  channelsPerAddress: number;
  /** grpc-node.flow_control_window of the client's connections (undefined: as lib/grpc/limits.ts sets, grpc-js's default). */
  flowControlWindow?: number | undefined;
  /**
   * true: the watches are multiplexed over WatchStream, as the gateway's WatchClient does (the
   * watch service); false: one Watch stream per watcher (the raw grpc-js reference).
   */
  multiplexed: boolean;
}

export interface ConnectRedisCommand {
  url: string;
  channel: string;
  connections: number;
}

export interface ProgressReport {
  /** Deliveries so far (BOOKMARKs not counted). */
  deliveries: number;
  /** Watches that have received at least one event. */
  active: number;
  errors: number;
  /** Watches (or subscriptions) set up. */
  started: number;
}

export interface CollectCommand {
  /** The log of each source, by address ("redis" for the Redis reference). */
  logs: Record<string, WriteLog>;
}

/** What one client process measured for the measured events. */
export interface ClientResult {
  watchers: number;
  /** Deliveries of measured events. */
  deliveries: number;
  /** Per delivery of a measured event, ms from commit to receipt. */
  latencies: Float64Array;
  /** The window of each entry of `latencies` (per-round figures). */
  latencyWindows: Uint8Array;
  /** Per delivery of a measured event, ms from the write's send time to receipt. */
  latenciesFromSend: Float64Array;
  /** Per delivery of a measured event seen by the tap, ms from its appearance on Redis to receipt. */
  latenciesFromRelay: Float64Array;
  /** Per event (index in the log, warm-up included), the longest commit-to-receipt latency of its deliveries here (0: none). */
  perEventMax: Float64Array;
  /** Per measured window: deliveries of its events, and the wall-clock ms of the last one (0 when none). */
  windows: Record<number, { deliveries: number; lastReceipt: number }>;
  /** Measured events a watcher should have received and did not. */
  missed: number;
  /** Events received more than once by the same watcher. */
  duplicates: number;
  /** Deliveries with a revision lower than the one before on the same watch. */
  outOfOrder: number;
  /** Deliveries of events not in the watcher's log (another namespace's, or unknown). */
  unexpected: number;
  /** Streams that failed or carried an ERROR event. */
  errors: number;
  firstError: string | undefined;
  /** Mean size of the object bytes received. */
  meanObjectBytes: number;
  /** Commit-to-receipt percentiles per server address (for the log: is one connection behind?). */
  perAddress: Record<string, { deliveries: number; p50: number; p99: number; max: number }>;
}

/** The events of one saturation step per source: revision and commit time (wall-clock ms) of each. */
export interface StepStatsCommand {
  logs: Record<string, { revision: Float64Array; commitAt: Float64Array }>;
}

/**
 * What one client process received since the last step: latencies as a histogram
 * (LATENCY_BUCKETS), checked against the step's events, after which the deliveries are
 * forgotten (a saturation run makes millions of them).
 */
export interface StepStats {
  deliveries: number;
  histogram: number[];
  /** Events of the step a watcher of this process did not receive. */
  missed: number;
  duplicates: number;
  outOfOrder: number;
  /** Deliveries of events not in the step (late ones of an earlier step). */
  stray: number;
  /** Wall-clock ms of the last delivery (0: none). */
  lastReceipt: number;
  errors: number;
  firstError: string | undefined;
}

/** Latency histogram buckets: bucket i holds latencies up to LATENCY_FLOOR_MS x LATENCY_GROWTH^i (2% wide). */
export const LATENCY_FLOOR_MS = 0.01;
export const LATENCY_GROWTH = 1.02;
export const LATENCY_BUCKETS = 820;

export function latencyBucket(ms: number): number {
  if (!(ms > LATENCY_FLOOR_MS)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, Math.ceil(Math.log(ms / LATENCY_FLOOR_MS) / Math.log(LATENCY_GROWTH)));
}

/** The upper edge of the bucket holding quantile q (0..1) of the histogram; 0 when it is empty. */
export function histogramQuantile(histogram: readonly number[], q: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] as number;
    if (seen >= rank) return LATENCY_FLOOR_MS * LATENCY_GROWTH ** i;
  }
  return LATENCY_FLOOR_MS * LATENCY_GROWTH ** (histogram.length - 1);
}
