/**
 * The results of a benchmark run: their machine-readable shape (bench/results/*.json) and the
 * Markdown table printed at the end and kept beside it.
 */
import type { Summary } from './harness.ts';

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

export interface BenchResult {
  name: string;
  description: string;
  inFlight: number;
  /** What one operation is: "ops", or "lists" for a whole paginated list. */
  unit: string;
  raw: SideResult;
  service: SideResult;
  /** service / raw: throughput (higher is better) and p99 latency (lower is better). */
  ratio: { throughput: number; p99: number };
  /** Longest wait, before a window, for the changefeed to publish the service's earlier writes. */
  changefeedCatchUpSeconds: number;
}

export interface Report {
  date: string;
  durationSeconds: number;
  command: string;
  settings: { benchSeconds: number; warmupSeconds: number; objectBytes: number };
  environment: { node: string; cpuModel: string; cpuCount: number; etcd: string; redis: string };
  /** The commit measured; uncommittedChanges: services/, lib/ or proto/ differed from it. */
  source: { commit: string; uncommittedChanges: boolean } | undefined;
  results: BenchResult[];
  /** Absent when the run did not include the create benchmark. */
  aim: { statement: string; createThroughputRatio: number; createP99Ratio: number; met: boolean } | undefined;
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

export function renderMarkdown(report: Report): string {
  const env = report.environment;
  const source =
    report.source === undefined ? '' : ` at ${report.source.commit.slice(0, 7)}${report.source.uncommittedChanges ? ' (with uncommitted changes)' : ''}`;
  const lines = [
    `# Storage service vs raw etcd (${report.date.slice(0, 10)})`,
    '',
    `\`${report.command}\`${source}, ${report.date}; ${env.cpuCount} × ${env.cpuModel}, Node ${env.node}, etcd ${env.etcd}, redis-server ${env.redis}; ` +
      `${report.settings.objectBytes}-byte ConfigMap JSON; ${report.settings.benchSeconds} s per benchmark and side after ` +
      `${report.settings.warmupSeconds} s of warm-up, measured raw, service, service, raw (half the time each).`,
    '',
    '| benchmark | in flight | raw etcd /s | raw p50 / p99 ms | service /s | service p50 / p99 ms | throughput ratio | p99 ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of report.results) {
    lines.push(
      `| ${r.description} | ${r.inFlight} | ${rate(r.raw.throughput)} ${r.unit} | ${ms(r.raw.p50)} / ${ms(r.raw.p99)} | ` +
        `${rate(r.service.throughput)} ${r.unit} | ${ms(r.service.p50)} / ${ms(r.service.p99)} | ` +
        `${r.ratio.throughput.toFixed(2)} | ${r.ratio.p99.toFixed(2)} |`,
    );
  }
  lines.push(
    '',
    'Ratios are service / raw: throughput (higher is better), p99 latency (lower is better).',
    '',
    'CPU while measuring, percent of one core (bench process / storage / etcd / redis-server), and in',
    'parentheses the CPU time of all four per operation. Their ratio depends far less on what else',
    'the machine runs than the throughput ratio does:',
    '',
    '| benchmark | raw etcd | service | CPU per op ratio | errors (raw / service) | changefeed catch-up |',
    '|---|---|---|---:|---|---:|',
  );
  for (const r of report.results) {
    const ratio = cpuPerOp(r.raw) > 0 ? (cpuPerOp(r.service) / cpuPerOp(r.raw)).toFixed(2) : '-';
    lines.push(
      `| ${r.name} | ${cpu(r.raw)} | ${cpu(r.service)} | ${ratio} | ${r.raw.errors} / ${r.service.errors} | ${r.changefeedCatchUpSeconds.toFixed(1)} s |`,
    );
  }
  const a = report.aim;
  if (a !== undefined) {
    lines.push(
      '',
      `Aim (${a.statement}): **${a.met ? 'met' : 'missed'}**, throughput ratio ${a.createThroughputRatio.toFixed(2)}, p99 ratio ${a.createP99Ratio.toFixed(2)}.`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
