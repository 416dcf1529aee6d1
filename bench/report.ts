/**
 * The results of a benchmark run: their machine-readable shape (bench/results/*.json) and the
 * Markdown table printed at the end and kept beside it.
 */
import { sourceNote, type ReportHeader, type Spread, type Summary } from './harness.ts';

export interface SideResult extends Summary {
  /** Percent of one core used by each process during this side's measured windows. */
  cpuPercent: Record<string, number>;
  /** CPU time of each process per operation, in microseconds. */
  cpuMicrosPerOp: Record<string, number>;
}

export function sideResult(summary: Summary, cpuPercent: Record<string, number>): SideResult {
  const cpuMicrosPerOp: Record<string, number> = {};
  for (const [name, percent] of Object.entries(cpuPercent)) {
    cpuMicrosPerOp[name] = summary.throughput > 0 ? Math.round(((percent / 100) * 1e6) / summary.throughput) : 0;
  }
  return { ...summary, cpuPercent, cpuMicrosPerOp };
}

/** One round: both sides measured once, one after the other. */
export interface RoundFigures {
  round: number;
  /** The side measured first in this round. */
  first: 'raw' | 'service';
  raw: { throughput: number; p99: number; cpuMicrosPerOp: number };
  service: { throughput: number; p99: number; cpuMicrosPerOp: number };
  /** service / raw within the round: throughput, p99 latency, CPU time of all processes per operation. */
  ratio: { throughput: number; p99: number; cpuPerOp: number };
}

export interface BenchResult {
  name: string;
  description: string;
  inFlight: number;
  /** What one operation is: "ops", or "lists" for a whole paginated list. */
  unit: string;
  /** Each side over every round's windows together. */
  raw: SideResult;
  service: SideResult;
  /**
   * service / raw per round, their median and range: throughput (higher is better), p99 latency
   * (lower is better), CPU time of all processes per operation (lower is better).
   */
  ratio: { throughput: Spread; p99: Spread; cpuPerOp: Spread };
  rounds: RoundFigures[];
  /** Longest wait, before a window, for the changefeed to publish the service's earlier writes. */
  changefeedCatchUpSeconds: number;
}

export interface Report extends ReportHeader<{
  benchSeconds: number;
  rounds: number;
  warmupSeconds: number;
  objectBytes: number;
  /** The raw side's etcd client (absent in older results: etcd3). */
  rawClient?: string;
}> {
  results: BenchResult[];
  /** Absent when the run did not include the create benchmark. */
  /** Judged on the medians of the rounds. */
  aim: { statement: string; createThroughputRatio: Spread; createP99Ratio: Spread; met: boolean } | undefined;
}

function rate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function ms(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** CPU time of all processes per operation, in microseconds. */
function cpuPerOp(side: SideResult): number {
  return Object.values(side.cpuMicrosPerOp).reduce((a, b) => a + b, 0);
}

function cpu(side: SideResult): string {
  const c = side.cpuPercent;
  const perOp = cpuPerOp(side);
  const cost = perOp >= 10_000 ? `${(perOp / 1000).toFixed(0)} ms` : `${Math.round(perOp)} µs`;
  return `${c.bench ?? 0} / ${c.storage ?? 0} / ${c.etcd ?? 0} / ${c.redis ?? 0} (${cost})`;
}

function spread(s: Spread): string {
  return `**${s.median.toFixed(2)}** (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}

export function renderMarkdown(report: Report): string {
  const env = report.environment;
  const source = sourceNote(report.source);
  const lines = [
    `# Storage service vs raw etcd (${report.date.slice(0, 10)})`,
    '',
    `\`${report.command}\`${source}, ${report.date}; ${env.cpuCount} × ${env.cpuModel}, Node ${env.node}, etcd ${env.etcd}, redis-server ${env.redis}; ` +
      `${report.settings.objectBytes}-byte ConfigMap JSON; ${report.settings.benchSeconds} s per benchmark and side after ` +
      `${report.settings.warmupSeconds} s of warm-up, in ${report.settings.rounds} rounds of ` +
      `${(report.settings.benchSeconds / report.settings.rounds).toFixed(1)} s per side, the side measured first alternating (raw first in round 1); ` +
      `raw client: ${report.settings.rawClient ?? 'etcd3'}.`,
    '',
    'Rates and latencies are over every round together; ratios are the median of the rounds, with their range in parentheses.',
    '',
    '| benchmark | in flight | raw etcd /s | raw p50 / p99 ms | service /s | service p50 / p99 ms | throughput ratio | p99 ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of report.results) {
    lines.push(
      `| ${r.description} | ${r.inFlight} | ${rate(r.raw.throughput)} ${r.unit} | ${ms(r.raw.p50)} / ${ms(r.raw.p99)} | ` +
        `${rate(r.service.throughput)} ${r.unit} | ${ms(r.service.p50)} / ${ms(r.service.p99)} | ` +
        `${spread(r.ratio.throughput)} | ${spread(r.ratio.p99)} |`,
    );
  }
  lines.push(
    '',
    'Ratios are service / raw: throughput (higher is better), p99 latency (lower is better). Per round:',
    '',
    '| benchmark | round | first | raw /s | service /s | throughput ratio | p99 ratio | CPU per op ratio |',
    '|---|---:|---|---:|---:|---:|---:|---:|',
  );
  for (const r of report.results) {
    for (const x of r.rounds) {
      lines.push(
        `| ${r.name} | ${x.round} | ${x.first} | ${rate(x.raw.throughput)} | ${rate(x.service.throughput)} | ` +
          `${x.ratio.throughput.toFixed(2)} | ${x.ratio.p99.toFixed(2)} | ${x.ratio.cpuPerOp.toFixed(2)} |`,
      );
    }
  }
  lines.push(
    '',
    'CPU while measuring, percent of one core (bench process / storage / etcd / redis-server), and in',
    'parentheses the CPU time of all four per operation, over every round. Their ratio depends far less on',
    'what else the machine runs than the throughput ratio does (median of the rounds, range in parentheses):',
    '',
    '| benchmark | raw etcd | service | CPU per op ratio | errors (raw / service) | changefeed catch-up |',
    '|---|---|---|---:|---|---:|',
  );
  for (const r of report.results) {
    lines.push(
      `| ${r.name} | ${cpu(r.raw)} | ${cpu(r.service)} | ${spread(r.ratio.cpuPerOp)} | ${r.raw.errors} / ${r.service.errors} | ${r.changefeedCatchUpSeconds.toFixed(1)} s |`,
    );
  }
  const a = report.aim;
  if (a !== undefined) {
    lines.push(
      '',
      `Aim (${a.statement}), judged on the medians of the rounds: **${a.met ? 'met' : 'missed'}**, throughput ratio ` +
        `${spread(a.createThroughputRatio)}, p99 ratio ${spread(a.createP99Ratio)}.`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
