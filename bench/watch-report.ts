/**
 * The results of the watch fan-out bench: their machine-readable shape
 * (bench/results/watch.json) and the Markdown kept beside it and printed at the end.
 */
import { SATURATION_P99_MS, SIDE_NAMES, type FanoutPoint, type SaturationPoint, type SaturationSide } from './charts-from-results.ts';
import { sourceNote, spreadOf, type ReportHeader } from './harness.ts';

/** One measured fan-out: a source, its watchers, a steady event rate. */
export interface FanOutResult {
  watchers: number;
  /** Events per second asked for, and achieved by the writer (creates that returned / published). */
  offeredEventsPerSecond: number;
  eventsPerSecond: number;
  /** Measured events, and the deliveries they should make / made. */
  events: number;
  expectedDeliveries: number;
  deliveries: number;
  /** Deliveries of the measured events per second, from the first measured event to the last delivery. */
  deliveriesPerSecond: number;
  /** ms from commit (storage create returned / raw write / publish) to receipt. */
  p50: number;
  p99: number;
  max: number;
  /** ms from the write's send time (before the create call) to receipt. */
  p50FromSend: number;
  p99FromSend: number;
  missed: number;
  duplicates: number;
  outOfOrder: number;
  unexpected: number;
  /** Failed streams, ERROR events, failed writes. */
  errors: number;
  firstError?: string | undefined;
  /** Seconds from the last measured write to the last delivery. */
  drainSeconds: number;
  meanObjectBytes: number;
  /** Percent of one core per process (or group) from the first measured event to the last delivery. */
  cpuPercent: Record<string, number>;
  /** Memory of the serving processes before the watchers connected and with all of them connected and idle. */
  memory?: MemoryResult | undefined;
  /** Per window (0: warm-up), the longest latency of the events of each of its seconds (shows stalls). */
  maxLatencyPerSecond: Record<number, number[]>;
  /**
   * The watch service's latency split where the change appears on Redis: commit (create
   * returned) to Redis is storage's changefeed; Redis to watcher is the watch service.
   */
  hops?: { changefeed: Percentiles; watch: Percentiles } | undefined;
  /** Redis pub/sub: the figures of each measured window (one per round); undefined for the sides of a scenario. */
  rounds?: WindowFigures[] | undefined;
}

/** What one measured window of one side gave. */
export interface WindowFigures {
  window: number;
  /** Deliveries of the window's events over the time from its first event to its last delivery. */
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  /** CPU time of the serving processes (watch replicas, raw servers, redis-server) per delivery, µs. */
  serverMicrosPerDelivery: number;
}

/** One round of a scenario: both sides measured once, one after the other. */
export interface WatchRound {
  round: number;
  /** The side measured first. */
  first: 'raw' | 'service';
  service: WindowFigures;
  rawGrpc: WindowFigures;
  /** service / raw grpc-js within the round. */
  ratio: { deliveriesPerSecond: number; p99: number; serverMicrosPerDelivery: number };
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface MemoryResult {
  /**
   * Per serving process, VmRSS in bytes: fresh; with its warm-up watchers connected and idle
   * (`rssWarm`, `warmWatchers`); with the memory watchers too (`rssIdle`, `memoryWatchers`: of
   * the scenario's shape, on a resource nobody writes); with the scenario's watchers too.
   */
  processes: {
    name: string;
    rssBefore: number;
    rssWarm: number;
    rssIdle: number;
    rssAfter: number;
    warmWatchers: number;
    memoryWatchers: number;
    watchers: number;
  }[];
  /**
   * What an idle watcher costs a warm process: (sum of idle - warm) / memory watchers (the
   * scenario's figure when there are none).
   */
  bytesPerWatcher: number;
  /** (sum of after - idle) / the scenario's watchers: the same over fewer watchers, coarser. */
  scenarioBytesPerWatcher: number;
  /** (sum of after - before) / every watcher: with what a cold process spends once (code, young generation, the first stream). */
  coldBytesPerWatcher: number;
}

export interface ScenarioResult {
  name: string;
  description: string;
  service: FanOutResult;
  rawGrpc: FanOutResult;
  /** service / raw grpc-js over every round together: deliveries per second (higher is better), p99 (lower is better). */
  ratio: { deliveriesPerSecond: number; p99: number };
  rounds: WatchRound[];
}

export interface RedisResult {
  connections: number;
  result: FanOutResult;
}

export interface Aim {
  statement: string;
  value: string;
  met: boolean;
}

export interface WatchSettings {
  benchSeconds: number;
  rounds: number;
  warmupSeconds: number;
  watchReplicas: number;
  clientProcesses: number;
  connectionsPerReplicaPerClient: number;
  objectBytes: number;
}

/** One step of one side of the saturation run (the chart fields, and more). */
export interface SaturationStep extends SaturationPoint {
  /** The ramp (1-based) and the step within it. */
  ramp: number;
  step: number;
  /** Events the writer achieved per second (the service's creates through storage may fall behind). */
  writtenPerSec: number;
  deliveries: number;
  expected: number;
  p50Ms: number;
  maxMs: number;
  missed: number;
  duplicates: number;
  outOfOrder: number;
  /** Late deliveries of an earlier step's events. */
  stray: number;
  /** CPU time of the serving processes (watch replicas, raw servers, redis-server) per delivery, µs. */
  serverMicrosPerDelivery: number;
}

/** What a side reached in the saturation run, over its ramps. */
export interface SaturationSummary {
  watchers: number;
  side: SaturationSide;
  /**
   * The median over the ramps of the rate (events/s) reached: in a ramp, the last step before
   * the one that ended it (p99 past the bound; a delivery missed, repeated, out of order or
   * stray; writes behind the rate); 0: not even the first step.
   */
  reachedPerSec: number;
  /** The range of the ramps' rates reached. */
  reachedMinPerSec: number;
  reachedMaxPerSec: number;
  /** Each ramp's rate reached, in order. */
  reachedPerRamp: number[];
  /** Medians over the ramps that held a step, of the deliveries/s and p99 at the rate each reached. */
  deliveriesPerSec: number;
  p99Ms: number;
  /** Why each ramp ended, in order. */
  endedBy: string[];
}

export interface WatchSaturationSettings {
  stepSeconds: number;
  start: number;
  factor: number;
  max: number;
  p99BoundMs: number;
  /** Ramps per watcher count (absent in results of one ramp). */
  ramps?: number;
}

export interface WatchReport extends ReportHeader<WatchSettings> {
  scenarios: ScenarioResult[];
  redis: RedisResult[];
  /** Every step of the saturation run (bench/charts-from-results.ts draws them). */
  saturation: SaturationStep[];
  saturationSummary: SaturationSummary[];
  saturationSettings?: WatchSaturationSettings | undefined;
  /** Per watcher count and side, what the side sustained within the bound (the fan-out chart). */
  fanout: FanoutPoint[];
  aims: Aim[];
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function ms(n: number): string {
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function cpu(r: FanOutResult): string {
  return Object.entries(r.cpuPercent)
    .map(([name, p]) => `${name} ${p}`)
    .join(', ');
}

function expectedRate(r: FanOutResult): number {
  return r.offeredEventsPerSecond * (r.expectedDeliveries / Math.max(1, r.events));
}

function row(label: string, r: FanOutResult): string {
  const memory = r.memory === undefined ? '-' : `${kib(r.memory.bytesPerWatcher)} (${kib(r.memory.coldBytesPerWatcher)})`;
  return (
    `| ${label} | ${int(r.watchers)} | ${int(r.eventsPerSecond)} | ${int(r.deliveriesPerSecond)} of ${int(expectedRate(r))} | ` +
    `${ms(r.p50)} / ${ms(r.p99)} / ${ms(r.max)} | ${r.missed} / ${r.duplicates} / ${r.outOfOrder} | ${r.errors} | ${memory} |`
  );
}

/** CPU time of the serving processes (watch-* or raw-*) per delivery, in microseconds. */
function serverMicrosPerDelivery(r: FanOutResult): number {
  const percent = Object.entries(r.cpuPercent)
    .filter(([name]) => name.startsWith('watch-') || name.startsWith('raw-'))
    .reduce((n, [, p]) => n + p, 0);
  return r.deliveriesPerSecond > 0 ? ((percent / 100) * 1e6) / r.deliveriesPerSecond : 0;
}

function timeline(r: FanOutResult): string {
  return Object.entries(r.maxLatencyPerSecond)
    .filter(([w]) => w !== '0')
    .map(([, list]) => list.map((m) => Math.round(m)).join(' '))
    .join(' · ');
}

export function renderMarkdown(report: WatchReport): string {
  const env = report.environment;
  const s = report.settings;
  const source = sourceNote(report.source);
  const lines = [
    `# Watch fan-out: watch service vs raw grpc-js streaming and Redis pub/sub (${report.date.slice(0, 10)})`,
    '',
    `\`${report.command}\`${source}, ${report.date}, ${report.durationSeconds} s; ${env.cpuCount} × ${env.cpuModel}, Node ${env.node}, ` +
      `etcd ${env.etcd}, redis-server ${env.redis}; ${s.objectBytes}-byte ConfigMap JSON per event.`,
    '',
    `Per scenario, both sides run at once on fresh processes: ${s.watchReplicas} watch service replicas (with storage, etcd and Redis) ` +
      `and ${s.watchReplicas} minimal grpc-js servers of the same Watch API; the watchers are spread evenly over a side's servers from ` +
      `${s.clientProcesses} client processes of their own (${s.connectionsPerReplicaPerClient} HTTP/2 connection per server and client process, ` +
      `as the gateway has one per replica) and stay connected throughout. After ${s.warmupSeconds} s of warm-up per side, each side is ` +
      `measured ${s.benchSeconds} s at the same steady event rate, in ${s.rounds} rounds of ${(s.benchSeconds / s.rounds).toFixed(1)} s per side, ` +
      'the side measured first alternating (raw first in round 1). The first table is over every round together; the figures per ' +
      'round, their median and range, follow it.',
    '',
    'Latency runs from commit to receipt by the watcher process: for the service from the moment the storage create returned',
    "to the bench (etcd has committed by then; a watcher may see the event slightly earlier, hence p50 near 0), for raw grpc-js",
    'from the server writing the event, for Redis from sending the PUBLISH. Deliveries per second count the deliveries of the',
    "measured events over the time from each window's first event to its last delivery. Every watcher is checked against the",
    'write log: missed, duplicate and reordered deliveries.',
    '',
    '| scenario / side | watchers | events/s | deliveries/s | p50 / p99 / max ms | missed / dup / reordered | errors | memory per idle watcher: warm (cold) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const sc of report.scenarios) {
    lines.push(row(`(${sc.name}) watch service`, sc.service));
    lines.push(row(`(${sc.name}) raw grpc-js streaming`, sc.rawGrpc));
  }
  for (const r of report.redis) lines.push(row(`Redis pub/sub, ${int(r.connections)} subscriber connections`, r.result));
  lines.push(
    '',
    'Per round: p99 ms and the serving processes\' CPU per delivery (the watch replicas, the raw servers, redis-server); median',
    'of the rounds with the range in parentheses, then each round:',
    '',
    '| scenario | service p99 ms | raw p99 ms | p99 ratio | server CPU per delivery, service / raw µs | deliveries/s ratio | per round: p99 service / raw ms (CPU per delivery µs) |',
    '|---|---:|---:|---:|---:|---:|---|',
  );
  const sp = (values: number[], format: (n: number) => string): string => {
    const x = spreadOf(values);
    return `${format(x.median)} (${format(x.min)}–${format(x.max)})`;
  };
  const two = (n: number): string => n.toFixed(2);
  for (const sc of report.scenarios) {
    const rounds = sc.rounds;
    lines.push(
      `| (${sc.name}) | ${sp(rounds.map((x) => x.service.p99), ms)} | ${sp(rounds.map((x) => x.rawGrpc.p99), ms)} | ` +
        `${sp(rounds.map((x) => x.ratio.p99), two)} | ${sp(rounds.map((x) => x.service.serverMicrosPerDelivery), int)} / ` +
        `${sp(rounds.map((x) => x.rawGrpc.serverMicrosPerDelivery), int)} | ${sp(rounds.map((x) => x.ratio.deliveriesPerSecond), two)} | ` +
        rounds
          .map((x) => `${x.round}${x.first === 'raw' ? 'r' : 's'}: ${ms(x.service.p99)} / ${ms(x.rawGrpc.p99)} (${int(x.service.serverMicrosPerDelivery)} / ${int(x.rawGrpc.serverMicrosPerDelivery)})`)
          .join('; ') +
        ' |',
    );
  }
  for (const r of report.redis) {
    const rounds = r.result.rounds ?? [];
    if (rounds.length === 0) continue;
    lines.push(
      `| Redis pub/sub, ${int(r.connections)} connections, ${int(r.result.offeredEventsPerSecond)} msg/s | | ${sp(rounds.map((x) => x.p99), ms)} | | ` +
        `- / ${sp(rounds.map((x) => x.serverMicrosPerDelivery), two)} | | ${rounds.map((x) => `${x.window}: ${ms(x.p99)} (${two(x.serverMicrosPerDelivery)})`).join('; ')} |`,
    );
  }
  lines.push('', '(In "per round", r or s says which side went first: raw or service.)');
  lines.push('', 'Scenarios:', '');
  for (const sc of report.scenarios) lines.push(`- (${sc.name}) ${sc.description}`);
  lines.push(
    '',
    'Service against raw grpc-js, and where the service\'s latency goes: split where the change appears on Redis (a tap',
    'subscriber in the bench), i.e. storage + changefeed (create returned → published) and the watch service (Redis → watcher):',
    '',
    '| scenario | deliveries/s ratio | p99 ratio | server CPU per delivery, service / raw | commit → Redis p50 / p99 ms | Redis → watcher p50 / p99 / max ms | p99 from create sent | drain after last write (service / raw) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const sc of report.scenarios) {
    const h = sc.service.hops;
    lines.push(
      `| (${sc.name}) | ${sc.ratio.deliveriesPerSecond.toFixed(2)} | ${sc.ratio.p99.toFixed(2)} | ` +
        `${int(serverMicrosPerDelivery(sc.service))} / ${int(serverMicrosPerDelivery(sc.rawGrpc))} µs | ` +
        `${h === undefined ? '-' : `${ms(h.changefeed.p50)} / ${ms(h.changefeed.p99)}`} | ` +
        `${h === undefined ? '-' : `${ms(h.watch.p50)} / ${ms(h.watch.p99)} / ${ms(h.watch.max)}`} | ${ms(sc.service.p99FromSend)} ms | ` +
        `${sc.service.drainSeconds.toFixed(2)} s / ${sc.rawGrpc.drainSeconds.toFixed(2)} s |`,
    );
  }
  lines.push(
    '',
    'Both sides are offered the same event rate; while both keep up the deliveries/s ratio is about 1 and says only that. The',
    'server CPU per delivery (the two watch replicas, or the two raw servers) shows what the service costs over bare streaming.',
  );
  lines.push(
    '',
    'Memory: VmRSS of each serving process fresh, with 1,000 warm-up watchers (of a namespace nobody writes to) connected and',
    'idle, then with the memory watchers too (of the scenario\'s shape, all namespaces or one namespace each, on a resource',
    'nobody writes: secrets), then with the scenario\'s watchers. "Per idle watcher" is the growth from the memory watchers',
    'per watcher: what an idle watcher costs a process that has served watchers, over enough of them to resolve it; "the',
    'scenario\'s" is the same from the scenario\'s own watchers (fewer per process: coarser). "Cold" divides the whole growth by',
    'every watcher, with what a process spends once (code compiled on first use, V8\'s young generation growing on the burst of',
    'connections, the first stream).',
    '',
  );
  lines.push('| scenario / side | process: fresh → warm → idle → with watchers, MiB (warm-up + memory + scenario watchers) | per idle watcher | the scenario\'s | cold |', '|---|---|---:|---:|---:|');
  for (const sc of report.scenarios) {
    for (const [label, r] of [
      ['watch service', sc.service],
      ['raw grpc-js', sc.rawGrpc],
    ] as const) {
      const m = r.memory;
      if (m === undefined) continue;
      const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
      const procs = m.processes
        .map((p) => `${p.name}: ${mib(p.rssBefore)} → ${mib(p.rssWarm)} → ${mib(p.rssIdle)} → ${mib(p.rssAfter)} (${int(p.warmWatchers)} + ${int(p.memoryWatchers)} + ${int(p.watchers)})`)
        .join('; ');
      lines.push(`| (${sc.name}) ${label} | ${procs} | ${kib(m.bytesPerWatcher)} | ${kib(m.scenarioBytesPerWatcher)} | ${kib(m.coldBytesPerWatcher)} |`);
    }
  }
  lines.push(
    '',
    'CPU over the measured windows, percent of one core; "machine" is everything the machine ran (ours or not),',
    '"steal" what the hypervisor gave other guests (both × cores, so 200 = both cores of a 2-core machine):',
    '',
    '| scenario / side | CPU |',
    '|---|---|',
  );
  for (const sc of report.scenarios) {
    lines.push(`| (${sc.name}) watch service | ${cpu(sc.service)} |`);
    lines.push(`| (${sc.name}) raw grpc-js | ${cpu(sc.rawGrpc)} |`);
  }
  for (const r of report.redis) lines.push(`| Redis, ${r.connections} connections, ${int(r.result.offeredEventsPerSecond)} msg/s | ${cpu(r.result)} |`);
  lines.push('', 'Stalls: the longest latency (ms) of the events of each second, per measured window (windows separated by ·):', '', '| scenario / side | max latency per second |', '|---|---|');
  for (const sc of report.scenarios) {
    lines.push(`| (${sc.name}) watch service | ${timeline(sc.service)} |`);
    lines.push(`| (${sc.name}) raw grpc-js | ${timeline(sc.rawGrpc)} |`);
  }
  for (const r of report.redis) lines.push(`| Redis, ${int(r.result.offeredEventsPerSecond)} msg/s | ${timeline(r.result)} |`);
  const errors = [...report.scenarios.flatMap((sc) => [sc.service, sc.rawGrpc]), ...report.redis.map((r) => r.result)].filter((r) => r.firstError !== undefined);
  if (errors.length > 0) {
    lines.push('', 'First errors:', '');
    for (const r of errors) lines.push(`- ${r.firstError ?? ''}`);
  }
  if (report.saturation.length > 0) {
    const st = report.saturationSettings;
    lines.push(
      '',
      `Saturation: per watcher count, every side's watchers (all configmaps) set up at once on fresh processes; the write rate ` +
        (st === undefined
          ? 'raised step by step'
          : `starts at ${st.start} events/s and is multiplied by ${st.factor} per step (up to ${st.max}), ${st.stepSeconds} s per step and side`) +
        `, the sides one after the other in an order that alternates per step; the ramp runs ${st?.ramps ?? 1} time(s) on the same watchers. ` +
        `A side's ramp stops at the first step whose p99 passes ${SATURATION_P99_MS} ms, ` +
        'that misses, repeats, reorders or strays a delivery, or whose writes fall behind the rate (the service\'s creates go through storage). ' +
        '"Reached" is, per ramp, the last rate a side held within the bound (0: not even the first step): the median over the ramps, ' +
        'with their range and each ramp\'s; deliveries/s and p99 there are medians over the ramps.',
      '',
      '| watchers | side | reached, events/s: median (range) | per ramp | deliveries/s there | p99 there, ms | ended by (per ramp) |',
      '|---:|---|---:|---|---:|---:|---|',
    );
    for (const x of report.saturationSummary) {
      lines.push(
        `| ${int(x.watchers)} | ${SIDE_NAMES[x.side]} | ${int(x.reachedPerSec)} (${int(x.reachedMinPerSec)}–${int(x.reachedMaxPerSec)}) | ${x.reachedPerRamp.map(int).join(', ')} | ` +
          `${int(x.deliveriesPerSec)} | ${x.reachedPerSec > 0 ? ms(x.p99Ms) : '-'} | ${x.endedBy.join('; ')} |`,
      );
    }
    const sides = [...new Set(report.saturation.map((x) => x.side))];
    lines.push(
      '',
      `Every step: p99 ms, deliveries/s and the serving processes' CPU per delivery (µs) per side (events written per second where they fell behind):`,
      '',
      `| watchers | ramp | events/s | ${sides.map((side) => SIDE_NAMES[side]).join(' | ')} |`,
      `|---:|---:|---:|${sides.map(() => '---').join('|')}|`,
    );
    const keys = [...new Set(report.saturation.map((x) => `${x.watchers}/${x.ramp}/${x.ratePerSec}`))];
    for (const key of keys) {
      const [watchers, ramp, rate] = key.split('/').map(Number) as [number, number, number];
      const cells = sides.map((side) => {
        const x = report.saturation.find((y) => y.watchers === watchers && y.ramp === ramp && y.ratePerSec === rate && y.side === side);
        if (x === undefined) return '';
        const behind = x.writtenPerSec < 0.9 * x.ratePerSec ? `, written ${int(x.writtenPerSec)}/s` : '';
        const broken =
          x.missed + x.duplicates + x.outOfOrder + x.stray > 0 ? `, missed ${x.missed} dup ${x.duplicates} reordered ${x.outOfOrder} stray ${x.stray}` : '';
        return `${ms(x.p99Ms)} ms, ${int(x.deliveredPerSec)}/s, ${x.serverMicrosPerDelivery.toFixed(1)} µs${behind}${broken}`;
      });
      lines.push(`| ${int(watchers)} | ${ramp} | ${rate} | ${cells.join(' | ')} |`);
    }
  }
  lines.push('', 'Aims of issue 4 (on (a) and (b), with the project\'s client settings):', '');
  for (const a of report.aims) lines.push(`- ${a.statement}: **${a.met ? 'met' : 'missed'}** (${a.value})`);
  lines.push('');
  return lines.join('\n');
}
