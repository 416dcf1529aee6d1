/**
 * The results of `make bench-pipeline`: their machine-readable shape
 * (bench/results/pipeline.json) and the Markdown printed at the end and kept beside it.
 */
import { sourceNote, type ReportHeader, type Spread } from './harness.ts';

/** The processes whose CPU time is measured, in the order a request passes them (the bench is the client). */
export const PROCESSES = ['gateway', 'auth', 'admission', 'storage', 'watch', 'etcd', 'redis', 'bench'] as const;

/** One side of one round. */
export interface PipelineSide {
  ops: number;
  errors: number;
  seconds: number;
  /** Completed operations per second. */
  throughput: number;
  /** List: objects returned per second; undefined for the other benchmarks. */
  objectsPerSecond: number | undefined;
  p50: number;
  p99: number;
  firstError: string | undefined;
  /** CPU time of each process per operation, in microseconds. */
  cpuMicrosPerOp: Record<string, number>;
  /** How busy the whole machine was (200 = both cores of a 2-core machine), and the hypervisor's steal. */
  machine: { machine: number; steal: number };
}

export interface RoundResult {
  round: number;
  /** The side measured first in this round. */
  first: 'raw' | 'pipeline';
  raw: PipelineSide;
  pipeline: PipelineSide;
  /** pipeline / raw throughput. */
  ratio: number;
}

/** A side over every round. */
export interface SideOverall {
  /** Median and range of the rounds' throughput. */
  throughput: Spread;
  objectsPerSecond: Spread | undefined;
  p99: Spread;
  errors: number;
  firstError: string | undefined;
  /** CPU time of each process per operation over every round's windows, in microseconds. */
  cpuMicrosPerOp: Record<string, number>;
  machine: { machine: number; steal: number };
}

export interface PipelineBench {
  name: string;
  description: string;
  /** What one operation is: "ops", or "pages" for a page of a list. */
  unit: string;
  inFlight: number;
  rounds: RoundResult[];
  /** pipeline / raw throughput: median of the rounds and their range. */
  ratio: Spread;
  raw: SideOverall;
  pipeline: SideOverall;
  /**
   * An open-loop benchmark (create-p99-half): the pipeline's closed-loop rate at `inFlight`
   * measured first in the same run (and its p99), the rate both sides were then driven at, and
   * the most operations each side had in flight. Its latencies run from each operation's
   * scheduled start, over every scheduled operation (a failed one ranked behind every success;
   * the sides' `errors` count them); its throughput ratio only says whether the pipeline kept
   * up. `maxErrors`: failed creates of the closed-loop window (its rate counts the others).
   */
  openLoop?: { maxRate: number; maxP99: number; maxErrors: number; rate: number; mostInFlight: { raw: number; pipeline: number } };
}

/** One point of the load sweep: medians over its rounds (the chart data of `make bench`). */
export interface LoadSweepPoint {
  operation: string;
  inFlight: number;
  pipeline: { opsPerSec: number; p99Ms: number };
  raw: { opsPerSec: number; p99Ms: number };
  /** Median of the rounds' pipeline / raw throughput. */
  ratio: number;
}

export interface PipelineSettings {
  benchSeconds: number;
  rounds: number;
  warmupSeconds: number;
  inFlight: number;
  objectBytes: number;
  /** The Deployment of the deployment-* benchmarks as stored (defaulted), in bytes of JSON. */
  deploymentBytes: number;
  listObjects: number;
  listPage: number;
  client: string;
  /** The raw side's etcd client (absent in older results: etcd3). */
  rawClient?: string;
  /** The typed gRPC client of grpc-create (absent in older results). */
  grpcClient?: string;
  /** The load sweep's in-flight levels and its seconds per level and side (absent in older results). */
  sweep?: { inFlight: number[]; seconds: number; warmupSeconds: number };
  /** Who makes the authorization benchmarks' requests, and through which gateway (absent in older results). */
  authorization?: { namespace: string; rbacUser: string; admin: string; cacheOn: string; cacheOff: string };
}

export interface PipelineReport extends ReportHeader<PipelineSettings> {
  results: PipelineBench[];
  /** Create and get at each in-flight level of the sweep (absent when it did not run). */
  loadSweep?: LoadSweepPoint[];
}

/** Text for a table cell: a description's "REST POST | etcd txn" must not split the row. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function rate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function ms(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function spread(s: Spread, format: (n: number) => string): string {
  return `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

const ratio = (n: number): string => n.toFixed(2);

function micros(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

function total(cpu: Record<string, number>): number {
  return PROCESSES.reduce((n, p) => n + (cpu[p] ?? 0), 0);
}

/** The control plane's CPU per operation: every process but the bench client. */
function server(cpu: Record<string, number>): number {
  return total(cpu) - (cpu.bench ?? 0);
}

/**
 * The rows of the authorization table: each operation by each user through each gateway, and
 * the admin's benchmark of the same operation through the same gateway (`sameCache`) and
 * through the one with its cache on (`cacheOn`).
 */
const AUTHZ_ROWS = (['create', 'get'] as const).flatMap((op) => [
  { op, user: 'admin', cache: 'on', name: op, sameCache: op, cacheOn: op },
  { op, user: 'RBAC', cache: 'on', name: `rbac-${op}`, sameCache: op, cacheOn: op },
  { op, user: 'admin', cache: 'off', name: `${op}-nocache`, sameCache: `${op}-nocache`, cacheOn: op },
  { op, user: 'RBAC', cache: 'off', name: `rbac-${op}-nocache`, sameCache: `${op}-nocache`, cacheOn: op },
]);

/** The section on what authorization costs; none when the run had no authorization benchmark. */
function authorizationSection(report: PipelineReport): string[] {
  const byName = new Map(report.results.map((r) => [r.name, r]));
  if (!AUTHZ_ROWS.some((row) => row.name !== row.op && byName.has(row.name))) return [];
  const a = report.settings.authorization;
  const relative = (r: PipelineBench, reference: string): string => {
    const ref = byName.get(reference);
    return ref === undefined || ref.ratio.median <= 0 ? '—' : ratio(r.ratio.median / ref.ratio.median);
  };
  const lines = [
    '',
    'What authorization costs: create and get by the admin (system:masters, allowed before RBAC is asked) and by a user',
    `whose only right is a RoleBinding to \`edit\` in the bench namespace${a === undefined ? '' : ` (${a.rbacUser})`}, through the gateway with its auth`,
    'cache on (authentication and authorization answers reused for --auth-cache-ttl, default) and through a second replica',
    'with it off (--auth-cache-ttl=0: every request asks the auth service to authenticate, then to authorize). "vs admin": the',
    'row\'s ratio to raw etcd over that of the admin\'s same operation (through the same gateway, or the one with its cache',
    'on); each is measured against raw etcd in its own rounds, so that the machine\'s drift between them cancels. CPU: µs per',
    'operation over every round; "control plane" is every process but the bench client (every gateway replica counted;',
    'of two, the idle one costs little), "auth share" the auth process\'s part of it. "—": the benchmark compared with did',
    'not run.',
    '',
    '| operation | user | auth cache | ratio to raw | vs admin, same cache | vs admin, cache on | gateway µs | auth µs | control plane µs | auth share |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of AUTHZ_ROWS) {
    const r = byName.get(row.name);
    if (r === undefined) continue;
    const cpu = r.pipeline.cpuMicrosPerOp;
    const all = server(cpu);
    const share = all > 0 ? `${(((cpu.auth ?? 0) / all) * 100).toFixed(1)}%` : '—';
    lines.push(
      `| ${row.op} | ${row.user} | ${row.cache} | ${ratio(r.ratio.median)} | ${relative(r, row.sameCache)} | ${relative(r, row.cacheOn)} | ` +
        `${micros(cpu.gateway ?? 0)} | ${micros(cpu.auth ?? 0)} | ${micros(all)} | ${share} |`,
    );
  }
  return lines;
}

/** The open-loop benchmarks (p99 at half the maximum rate); none when none ran. */
function halfRateSection(report: PipelineReport): string[] {
  const open = report.results.filter((r) => r.openLoop !== undefined);
  if (open.length === 0) return [];
  const lines = [
    '',
    'p99 at half the maximum rate: the pipeline\'s closed-loop create rate at the benchmark\'s in-flight count is measured first,',
    'in the same run; then both sides are driven open loop at half of it (operations started on a fixed schedule, whatever',
    'is still in flight), and each latency runs from its operation\'s scheduled start, so that time queued counts. Raw etcd runs',
    'the same transactions at the same rate. The p99 is over every scheduled create: a failed one counts, ranked behind every',
    'success; "failed" counts them over all rounds. p99 per round, raw / pipeline; "kept up": the throughput ratio (1.00: every',
    'scheduled create completed in the window).',
    '',
    '| operation | maximum rate (closed loop), p99 | driven at | p99 ms raw (median, range) | p99 ms pipeline (median, range) | per round, raw / pipeline | failed, raw / pipeline | most in flight, raw / pipeline | kept up |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|',
  ];
  for (const r of open) {
    const o = r.openLoop as NonNullable<PipelineBench['openLoop']>;
    const maxFailed = o.maxErrors > 0 ? `, ${o.maxErrors} failed` : '';
    lines.push(
      `| ${r.name} | ${rate(o.maxRate)}/s at ${r.inFlight} in flight, p99 ${ms(o.maxP99)} ms${maxFailed} | ${rate(o.rate)}/s | ${spread(r.raw.p99, ms)} | **${spread(r.pipeline.p99, ms)}** | ` +
        `${r.rounds.map((x) => `${ms(x.raw.p99)} / ${ms(x.pipeline.p99)}`).join(', ')} | ${r.raw.errors} / ${r.pipeline.errors} | ` +
        `${o.mostInFlight.raw} / ${o.mostInFlight.pipeline} | ${ratio(r.ratio.median)} |`,
    );
  }
  return lines;
}

/** The load sweep's table; none when it did not run. */
function loadSweepSection(report: PipelineReport): string[] {
  const sweep = report.loadSweep;
  if (sweep === undefined || sweep.length === 0) return [];
  const s = report.settings.sweep;
  const lines = [
    '',
    `Load sweep: each operation at each in-flight count, closed loop${s === undefined ? '' : `, ${s.seconds} s per point and side in ${report.settings.rounds} rounds (${s.warmupSeconds} s warm-up)`};`,
    'medians of the rounds (bench/results/pipeline.json `loadSweep`, the data of the throughput and p99 charts).',
    '',
    '| operation | in flight | raw /s | raw p99 ms | pipeline /s | pipeline p99 ms | ratio |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of sweep) {
    lines.push(`| ${p.operation} | ${p.inFlight} | ${rate(p.raw.opsPerSec)} | ${ms(p.raw.p99Ms)} | ${rate(p.pipeline.opsPerSec)} | ${ms(p.pipeline.p99Ms)} | ${ratio(p.ratio)} |`);
  }
  return lines;
}

/** The aims of issue 15 this bench measures: which figure, which bound, which way. */
const AIMS: { aim: string; bench: string; measure: 'ratio' | 'p99'; bound: number }[] = [
  { aim: 'REST create, ratio to raw etcd txn at 64 in flight >= 0.40', bench: 'create', measure: 'ratio', bound: 0.4 },
  { aim: 'typed gRPC create, ratio to raw etcd txn at 64 in flight >= 0.50', bench: 'grpc-create', measure: 'ratio', bound: 0.5 },
  { aim: 'create p99 at half the maximum rate < 20 ms', bench: 'create-p99-half', measure: 'p99', bound: 20 },
  { aim: 'get, ratio to raw range + decode >= 0.5', bench: 'get', measure: 'ratio', bound: 0.5 },
  { aim: 'paginated list, ratio to raw ranges + decode >= 0.5', bench: 'list', measure: 'ratio', bound: 0.5 },
];

/**
 * The aims table the results end with: each aim's figure in this run (median of the rounds,
 * range), how many rounds met it, and met or missed by the median. A request of the pipeline
 * side that failed keeps its round, and the aim, from being met (a path that fails requests
 * meets no aim), and the table says how many failed; failures of the raw side are noted.
 * (The issue's aims are medians of three runs: one run's table is one of them.)
 */
function aimsSection(report: PipelineReport): string[] {
  const byName = new Map(report.results.map((r) => [r.name, r]));
  const lines = ['', 'Aims (this run; the issue judges the median of three runs):', '', '| aim | measured, median (range) | rounds meeting it | |', '|---|---:|---:|---|'];
  for (const a of AIMS) {
    const r = byName.get(a.bench);
    if (r === undefined) {
      lines.push(`| ${a.aim} | not run | | |`);
      continue;
    }
    const meets = (n: number): boolean => (a.measure === 'ratio' ? n >= a.bound : n < a.bound);
    const figure = a.measure === 'ratio' ? spread(r.ratio, ratio) : `${spread(r.pipeline.p99, ms)} ms (raw ${ms(r.raw.p99.median)} ms)`;
    const roundsMeeting = r.rounds.filter((x) => x.pipeline.errors === 0 && meets(a.measure === 'ratio' ? x.ratio : x.pipeline.p99)).length;
    const median = a.measure === 'ratio' ? r.ratio.median : r.pipeline.p99.median;
    const failed = r.pipeline.errors;
    const verdict = meets(median) && failed === 0 ? 'met' : `**missed**${failed > 0 ? ` (${failed} pipeline requests failed)` : ''}`;
    const rawNote = r.raw.errors > 0 ? ` (raw etcd: ${r.raw.errors} requests failed)` : '';
    lines.push(`| ${a.aim} | ${figure} | ${roundsMeeting} of ${r.rounds.length} | ${verdict}${rawNote} |`);
  }
  return lines;
}

export function renderPipelineMarkdown(report: PipelineReport): string {
  const env = report.environment;
  const s = report.settings;
  const source = sourceNote(report.source);
  const lines = [
    `# REST pipeline vs raw etcd (${report.date.slice(0, 10)})`,
    '',
    `\`${report.command}\`${source}, ${report.date}, ${report.durationSeconds} s; ${env.cpuCount} × ${env.cpuModel}, Node ${env.node}, ` +
      `etcd ${env.etcd}, redis-server ${env.redis}; ${s.objectBytes}-byte ConfigMap JSON, ${s.deploymentBytes}-byte Deployment JSON as stored; ${s.inFlight} requests in flight on both sides; ` +
      `REST client: ${s.client}; raw etcd client: ${s.rawClient ?? 'etcd3'}. Each benchmark: ${s.warmupSeconds} s of warm-up per side, then ${s.rounds} rounds of ` +
      `${(s.benchSeconds / s.rounds).toFixed(1)} s per side (${s.benchSeconds} s per side in all), the side measured first alternating.`,
    '',
    'Pipeline: HTTPS to the gateway, which authenticates (auth), admits (admission) and stores (storage, etcd); the changefeed',
    `publishes every change to Redis and the watch service takes it in. Raw: the same operation with the ${s.rawClient === undefined ? 'etcd3' : s.rawClient.split(' ')[0]} client on the same`,
    'etcd, under keys of the same length outside what the changefeed watches. Figures are medians of the rounds, range in',
    'parentheses; the ratio is pipeline / raw throughput within each round.',
    '',
    '| operation | raw etcd /s | pipeline /s | ratio | ratio per round | p99 ms, raw / pipeline (median) |',
    '|---|---:|---:|---:|---|---:|',
  ];
  for (const r of report.results) {
    if (r.openLoop !== undefined) continue;
    lines.push(
      `| ${cell(r.description)} | ${spread(r.raw.throughput, rate)} ${r.unit} | ${spread(r.pipeline.throughput, rate)} ${r.unit} | ` +
        `**${ratio(r.ratio.median)}** (${ratio(r.ratio.min)}–${ratio(r.ratio.max)}) | ${r.rounds.map((x) => ratio(x.ratio)).join(', ')} | ` +
        `${ms(r.raw.p99.median)} / ${ms(r.pipeline.p99.median)} |`,
    );
  }
  const list = report.results.filter((r) => r.raw.objectsPerSecond !== undefined && r.pipeline.objectsPerSecond !== undefined);
  for (const r of list) {
    lines.push(
      '',
      `List (${r.name}): objects/s raw ${spread(r.raw.objectsPerSecond as Spread, rate)}, pipeline ${spread(r.pipeline.objectsPerSecond as Spread, rate)}; ` +
        `pages/s as in the table (${s.listPage} objects a page, lists of ${s.listObjects.toLocaleString('en-US')}).`,
    );
  }
  lines.push('', 'Per round (ops/s, or pages/s for list; errors in parentheses when any):', '', '| operation | round | first | raw /s | pipeline /s | ratio | machine busy, raw / pipeline |', '|---|---:|---|---:|---:|---:|---:|');
  for (const r of report.results) {
    for (const x of r.rounds) {
      const errors = (side: PipelineSide): string => (side.errors > 0 ? ` (${side.errors} errors)` : '');
      lines.push(
        `| ${r.name} | ${x.round} | ${x.first} | ${rate(x.raw.throughput)}${errors(x.raw)} | ${rate(x.pipeline.throughput)}${errors(x.pipeline)} | ` +
          `${ratio(x.ratio)} | ${x.raw.machine.machine}% / ${x.pipeline.machine.machine}% |`,
      );
    }
  }
  lines.push(
    '',
    'Where the time goes: CPU time per operation of each process, in µs, over every round of a side ("bench" is the client:',
    `HTTPS and JSON for the pipeline, the ${report.settings.rawClient === undefined ? 'etcd3' : report.settings.rawClient.split(' ')[0]} client for raw; "gateway" every gateway replica the run started). CPU per`,
    'operation depends far less on what else the machine runs than throughput does.',
    '',
    `| operation / side | ${PROCESSES.join(' | ')} | total | total, pipeline / raw |`,
    `|---|${PROCESSES.map(() => '---:').join('|')}|---:|---:|`,
  );
  for (const r of report.results) {
    for (const side of ['raw', 'pipeline'] as const) {
      const cpu = r[side].cpuMicrosPerOp;
      const share = side === 'pipeline' && total(r.raw.cpuMicrosPerOp) > 0 ? ratio(total(cpu) / total(r.raw.cpuMicrosPerOp)) : '';
      lines.push(`| ${r.name} / ${side} | ${PROCESSES.map((p) => micros(cpu[p] ?? 0)).join(' | ')} | ${micros(total(cpu))} | ${share} |`);
    }
  }
  lines.push(...authorizationSection(report), ...halfRateSection(report), ...loadSweepSection(report));
  const failures = report.results.flatMap((r) =>
    (['raw', 'pipeline'] as const).filter((side) => r[side].errors > 0).map((side) => `- ${r.name} / ${side}: ${r[side].errors} errors, first: ${r[side].firstError ?? ''}`),
  );
  if (failures.length > 0) lines.push('', 'Errors:', '', ...failures);
  lines.push(...aimsSection(report), '');
  return lines.join('\n');
}
