/**
 * A child process of the watch bench that holds watchers: gRPC watches of apiserver.v1.Watch
 * (the watch service's replicas, or the raw grpc-js reference server, which speaks the same
 * API), or Redis pub/sub subscriber connections. It stamps every delivery with its wall-clock
 * receipt time and keeps (watcher, revision, time) in typed arrays; at the end the bench sends
 * the sources' write logs and the client computes latencies and checks every watcher for
 * missed, duplicate and out-of-order deliveries.
 *
 * The watch service's watches are multiplexed over one WatchStream per replica and connection
 * with services/watch/grpc/client.ts's ReplicaStreams, as the gateway's WatchClient carries
 * them; the raw grpc-js reference keeps one Watch stream per watcher, consumed with
 * lib/grpc/client.ts serverStream. Both clients are made with the project's client settings; nothing
 * parses the object (a watcher's own JSON work is not what is measured).
 */
import type * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { clientSettings, serverStream } from '../lib/grpc/client.ts';
import type { WatchClient as GeneratedWatchClient } from '../lib/gen/apiserver/v1/Watch.ts';
import { watchOptionsToProto } from '../lib/list-options.ts';
import { loadApiProto } from '../lib/proto.ts';
import { createTelemetry } from '../lib/tracing.ts';
import { generatedWatchClient, ReplicaStreams } from '../services/watch/grpc/client.ts';
import { serveCommands, wallNow } from './watch-ipc.ts';
import {
  LATENCY_BUCKETS,
  latencyBucket,
  type ClientResult,
  type CollectCommand,
  type ConnectGrpcCommand,
  type ConnectRedisCommand,
  type ProgressReport,
  type StepStats,
  type StepStatsCommand,
  type WriteLog,
} from './watch-protocol.ts';

/** A growable typed array. */
class Column<A extends Float64Array | Uint32Array> {
  data: A;
  length = 0;
  private readonly make: (n: number) => A;

  constructor(make: (n: number) => A) {
    this.make = make;
    this.data = make(1 << 16);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
}

interface Watcher {
  /** Key of its source's log: the address, or "redis". */
  source: string;
  ns: number;
  last: number;
  received: number;
  /** Of a resource the bench does not write (memory measurement): expects nothing. */
  idle: boolean;
}

const watchers: Watcher[] = [];
const who = new Column((n) => new Uint32Array(n));
const revisions = new Column((n) => new Float64Array(n));
const times = new Column((n) => new Float64Array(n));
let outOfOrder = 0;
let errors = 0;
let firstError: string | undefined;
let objectBytes = 0;
let started = 0;
/** Deliveries since the start (stepStats forgets the recorded ones, not this count). */
let delivered = 0;
const stop = new AbortController();
const channels: grpc.Client[] = [];
const muxes: ReplicaStreams[] = [];
/** Connections by server address, kept across connectGrpc calls (watchers connect in two halves). */
const byAddress = new Map<string, GeneratedWatchClient[]>();
const muxByAddress = new Map<string, ReplicaStreams[]>();
const subscribers: Redis[] = [];

function record(index: number, revision: number, bytes: number): void {
  const t = wallNow();
  const w = watchers[index] as Watcher;
  if (revision < w.last) outOfOrder++;
  w.last = revision;
  w.received++;
  delivered++;
  objectBytes += bytes;
  who.push(index);
  revisions.push(revision);
  times.push(t);
}

function fail(message: string): void {
  errors++;
  firstError ??= message;
}

async function connectGrpc(command: ConnectGrpcCommand): Promise<number> {
  const telemetry = createTelemetry({ serviceName: 'watch-bench-client', env: {} });
  const { credentials, channelOptions } = clientSettings({ telemetry });
  const Watch = loadApiProto().apiserver.v1.Watch;

  const muxOf = (address: string, k: number): ReplicaStreams => {
    let list = muxByAddress.get(address);
    if (list === undefined) {
      list = [];
      for (let c = 0; c < command.channelsPerAddress; c++) {
        const options: grpc.ClientOptions = { 'grpc.use_local_subchannel_pool': 1 };
        if (command.flowControlWindow !== undefined) options['grpc-node.flow_control_window'] = command.flowControlWindow;
        const mux = new ReplicaStreams(generatedWatchClient(address, { telemetry }, options), { maxWatchesPerStream: 10_000, maxQueuedEvents: 10_000 });
        list.push(mux);
        muxes.push(mux);
      }
      muxByAddress.set(address, list);
    }
    return list[k % list.length] as ReplicaStreams;
  };
  const channelOf = (address: string, k: number): GeneratedWatchClient => {
    let list = byAddress.get(address);
    if (list === undefined) {
      list = [];
      for (let c = 0; c < command.channelsPerAddress; c++) {
        // A local subchannel pool per client: each channel is its own HTTP/2 connection.
        const options: grpc.ClientOptions = { ...channelOptions, 'grpc.use_local_subchannel_pool': 1 };
        if (command.flowControlWindow !== undefined) options['grpc-node.flow_control_window'] = command.flowControlWindow;
        const client = new Watch(address, credentials, options);
        list.push(client);
        channels.push(client);
      }
      byAddress.set(address, list);
    }
    return list[k % list.length] as GeneratedWatchClient;
  };
  command.targets.forEach((target, k) => {
    const index = watchers.length;
    watchers.push({ source: target.address, ns: target.ns, last: 0, received: 0, idle: (target.resource ?? 'configmaps') !== 'configmaps' });
    const request = {
      ref: { group: '', version: 'v1', resource: target.resource ?? 'configmaps', namespace: target.ns < 0 ? '' : `ns-${target.ns}`, name: '' },
      // As informers and kubelets ask; a bookmark is at most one a minute and is not counted.
      options: watchOptionsToProto({ resourceVersion: command.resourceVersion, allowWatchBookmarks: true }),
    };
    started++;
    if (command.multiplexed) {
      muxOf(target.address, k).open(
        { ...request, traceparent: '', tracestate: '' },
        {
          event(m) {
            if (m.type === 'BOOKMARK') return true;
            if (m.type === 'ERROR') fail(`ERROR event: ${m.object.toString('utf8').slice(0, 300)}`);
            else record(index, Number(m.resourceVersion), m.object.length);
            return true;
          },
          end(error) {
            if (!stop.signal.aborted) fail(error === undefined ? 'a watch ended' : error.message);
          },
        },
      );
      return;
    }
    const client = channelOf(target.address, k);
    void (async () => {
      try {
        for await (const m of serverStream(client, 'watch', request, { signal: stop.signal })) {
          if (m.type === 'BOOKMARK') continue;
          if (m.type === 'ERROR') {
            fail(`ERROR event: ${m.object.toString('utf8').slice(0, 300)}`);
            continue;
          }
          record(index, Number(m.resourceVersion), m.object.length);
        }
        if (!stop.signal.aborted) fail('a watch ended');
      } catch (err) {
        if (!stop.signal.aborted) fail(err instanceof Error ? err.message : String(err));
      }
    })();
  });
  return started;
}

async function connectRedis(command: ConnectRedisCommand): Promise<number> {
  await Promise.all(
    Array.from({ length: command.connections }, async () => {
      const index = watchers.length;
      watchers.push({ source: 'redis', ns: -1, last: 0, received: 0, idle: false });
      const sub = new Redis(command.url, { lazyConnect: true, maxRetriesPerRequest: null });
      sub.on('error', (err: Error) => fail(`redis: ${err.message}`));
      subscribers.push(sub);
      await sub.connect();
      // The message is "<sequence>|<payload>".
      sub.on('message', (_channel: string, message: string) => {
        record(index, Number(message.slice(0, message.indexOf('|'))), message.length);
      });
      await sub.subscribe(command.channel);
      started++;
    }),
  );
  return started;
}

function progress(): ProgressReport {
  let active = 0;
  for (const w of watchers) if (w.received > 0) active++;
  return { deliveries: delivered, active, errors, started };
}

/**
 * A saturation step: the deliveries recorded since the last step, checked against the step's
 * events (every watcher here watches everything its source writes), as a latency histogram;
 * then they are forgotten.
 */
function stepStats(command: StepStatsCommand): StepStats {
  const index = new Map<string, Map<number, number>>();
  const perSource = new Map<string, number>();
  for (const [source, log] of Object.entries(command.logs)) {
    const at = new Map<number, number>();
    for (let i = 0; i < log.revision.length; i++) at.set(log.revision[i] as number, i);
    index.set(source, at);
  }
  for (const w of watchers) if (!w.idle) perSource.set(w.source, (perSource.get(w.source) ?? 0) + 1);
  const histogram = new Array<number>(LATENCY_BUCKETS).fill(0);
  const received = new Map<string, Uint32Array>();
  const last = new Float64Array(watchers.length).fill(-1);
  let deliveries = 0;
  let duplicates = 0;
  let reordered = 0;
  let stray = 0;
  let lastReceipt = 0;
  for (let k = 0; k < who.length; k++) {
    const w = who.data[k] as number;
    const revision = revisions.data[k] as number;
    const t = times.data[k] as number;
    const source = (watchers[w] as Watcher).source;
    const i = index.get(source)?.get(revision);
    if (i === undefined) {
      stray++;
      continue;
    }
    const previous = last[w] as number;
    if (revision === previous) {
      duplicates++;
      continue;
    }
    if (revision < previous) reordered++;
    last[w] = revision;
    let counts = received.get(source);
    if (counts === undefined) received.set(source, (counts = new Uint32Array((command.logs[source] as { revision: Float64Array }).revision.length)));
    counts[i] = (counts[i] as number) + 1;
    deliveries++;
    const bucket = latencyBucket(t - ((command.logs[source] as { commitAt: Float64Array }).commitAt[i] as number));
    histogram[bucket] = (histogram[bucket] as number) + 1;
    if (t > lastReceipt) lastReceipt = t;
  }
  let missed = 0;
  for (const [source, log] of Object.entries(command.logs)) {
    const expected = perSource.get(source) ?? 0;
    const counts = received.get(source);
    for (let i = 0; i < log.revision.length; i++) missed += Math.max(0, expected - (counts?.[i] ?? 0));
  }
  who.length = 0;
  revisions.length = 0;
  times.length = 0;
  return { deliveries, histogram, missed, duplicates, outOfOrder: reordered, stray, lastReceipt, errors, firstError };
}

/** Checks every watcher against its source's log and computes the latencies of measured events. */
function collect(command: CollectCommand): ClientResult {
  interface Indexed {
    log: WriteLog;
    at: Map<number, number>;
    /** Measured event indices per namespace (key -1: all of them). */
    measuredByNs: Map<number, number[]>;
  }
  const indexed = new Map<string, Indexed>();
  for (const [source, log] of Object.entries(command.logs)) {
    const at = new Map<number, number>();
    const measuredByNs = new Map<number, number[]>([[-1, []]]);
    for (let i = 0; i < log.revision.length; i++) {
      at.set(log.revision[i] as number, i);
      if (log.window[i] === 0) continue;
      (measuredByNs.get(-1) as number[]).push(i);
      const ns = log.ns[i] as number;
      let list = measuredByNs.get(ns);
      if (list === undefined) measuredByNs.set(ns, (list = []));
      list.push(i);
    }
    indexed.set(source, { log, at, measuredByNs });
  }

  // Deliveries grouped by watcher (a counting sort keeps arrival order within a watcher).
  const n = who.length;
  const offsets = new Uint32Array(watchers.length + 1);
  for (let k = 0; k < n; k++) {
    const slot = (who.data[k] as number) + 1;
    offsets[slot] = (offsets[slot] as number) + 1;
  }
  for (let w = 0; w < watchers.length; w++) offsets[w + 1] = (offsets[w + 1] as number) + (offsets[w] as number);
  const order = new Uint32Array(n);
  const fill = offsets.slice(0, watchers.length);
  for (let k = 0; k < n; k++) {
    const w = who.data[k] as number;
    const at = fill[w] as number;
    order[at] = k;
    fill[w] = at + 1;
  }

  const latencies: number[] = [];
  const latencyWindows: number[] = [];
  const fromSend: number[] = [];
  const fromRelay: number[] = [];
  const perEventMax = new Float64Array(Math.max(0, ...Object.values(command.logs).map((l) => l.revision.length)));
  let deliveries = 0;
  let missed = 0;
  let duplicates = 0;
  let unexpected = 0;
  const windows: ClientResult['windows'] = {};
  const byAddress = new Map<string, number[]>();
  for (let w = 0; w < watchers.length; w++) {
    const watcher = watchers[w] as Watcher;
    const source = indexed.get(watcher.source);
    if (source === undefined) throw new Error(`no log for ${watcher.source}`);
    const seen = new Set<number>();
    for (let j = offsets[w] as number; j < (offsets[w + 1] as number); j++) {
      const k = order[j] as number;
      const revision = revisions.data[k] as number;
      const t = times.data[k] as number;
      if (seen.has(revision)) {
        duplicates++;
        continue;
      }
      seen.add(revision);
      const i = source.at.get(revision);
      if (i === undefined || (watcher.ns >= 0 && source.log.ns[i] !== watcher.ns)) {
        unexpected++;
        continue;
      }
      const latency = t - (source.log.commitAt[i] as number);
      if (latency > (perEventMax[i] as number)) perEventMax[i] = latency;
      const window = source.log.window[i] as number;
      if (window === 0) continue;
      deliveries++;
      const tally = (windows[window] ??= { deliveries: 0, lastReceipt: 0 });
      tally.deliveries++;
      if (t > tally.lastReceipt) tally.lastReceipt = t;
      latencies.push(latency);
      latencyWindows.push(window);
      let perAddress = byAddress.get(watcher.source);
      if (perAddress === undefined) byAddress.set(watcher.source, (perAddress = []));
      perAddress.push(latency);
      fromSend.push(t - (source.log.sentAt[i] as number));
      const relayAt = source.log.relayAt?.[i];
      if (relayAt !== undefined && !Number.isNaN(relayAt)) fromRelay.push(t - relayAt);
    }
    if (watcher.idle) continue;
    for (const i of source.measuredByNs.get(watcher.ns) ?? []) {
      if (!seen.has(source.log.revision[i] as number)) missed++;
    }
  }
  return {
    watchers: watchers.length,
    deliveries,
    latencies: Float64Array.from(latencies),
    latencyWindows: Uint8Array.from(latencyWindows),
    latenciesFromSend: Float64Array.from(fromSend),
    latenciesFromRelay: Float64Array.from(fromRelay),
    perEventMax,
    windows,
    missed,
    duplicates,
    outOfOrder,
    unexpected,
    errors,
    firstError,
    meanObjectBytes: n > 0 ? objectBytes / n : 0,
    perAddress: Object.fromEntries(
      [...byAddress].map(([address, list]) => {
        const sorted = Float64Array.from(list).sort();
        const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
        return [address, { deliveries: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) }];
      }),
    ),
  };
}

async function close(): Promise<void> {
  stop.abort();
  for (const m of muxes) m.close();
  for (const c of channels) c.close();
  await Promise.all(subscribers.map((s) => s.quit().catch(() => s.disconnect())));
}

serveCommands({
  connectGrpc: (c: ConnectGrpcCommand) => connectGrpc(c),
  connectRedis: (c: ConnectRedisCommand) => connectRedis(c),
  progress,
  stepStats: (c: StepStatsCommand) => stepStats(c),
  collect: (c: CollectCommand) => collect(c),
  close,
});
