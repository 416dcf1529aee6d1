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
  /** Who makes the authorization benchmarks' requests, and through which gateway (absent in older results). */
  authorization?: { namespace: string; rbacUser: string; admin: string; cacheOn: string; cacheOff: string };
}

export interface PipelineReport extends ReportHeader<PipelineSettings> {
  results: PipelineBench[];
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

export function renderPipelineMarkdown(report: PipelineReport): string {
  const env = report.environment;
  const s = report.settings;
  const source = sourceNote(report.source);
  const lines = [
    `# REST pipeline vs raw etcd (${report.date.slice(0, 10)})`,
    '',
    `\`${report.command}\`${source}, ${report.date}, ${report.durationSeconds} s; ${env.cpuCount} × ${env.cpuModel}, Node ${env.node}, ` +
      `etcd ${env.etcd}, redis-server ${env.redis}; ${s.objectBytes}-byte ConfigMap JSON, ${s.deploymentBytes}-byte Deployment JSON as stored; ${s.inFlight} requests in flight on both sides; ` +
      `REST client: ${s.client}. Each benchmark: ${s.warmupSeconds} s of warm-up per side, then ${s.rounds} rounds of ` +
      `${(s.benchSeconds / s.rounds).toFixed(1)} s per side (${s.benchSeconds} s per side in all), the side measured first alternating.`,
    '',
    'Pipeline: HTTPS to the gateway, which authenticates (auth), admits (admission) and stores (storage, etcd); the changefeed',
    'publishes every change to Redis and the watch service takes it in. Raw: the same operation with the etcd3 client on the same',
    'etcd, under keys of the same length outside what the changefeed watches. Figures are medians of the rounds, range in',
    'parentheses; the ratio is pipeline / raw throughput within each round.',
    '',
    '| operation | raw etcd /s | pipeline /s | ratio | ratio per round | p99 ms, raw / pipeline (median) |',
    '|---|---:|---:|---:|---|---:|',
  ];
  for (const r of report.results) {
    lines.push(
      `| ${r.description} | ${spread(r.raw.throughput, rate)} ${r.unit} | ${spread(r.pipeline.throughput, rate)} ${r.unit} | ` +
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
    'HTTPS and JSON for the pipeline, the etcd3 client for raw; "gateway" every gateway replica the run started). CPU per',
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
  lines.push(...authorizationSection(report));
  const failures = report.results.flatMap((r) =>
    (['raw', 'pipeline'] as const).filter((side) => r[side].errors > 0).map((side) => `- ${r.name} / ${side}: ${r[side].errors} errors, first: ${r[side].firstError ?? ''}`),
  );
  if (failures.length > 0) lines.push('', 'Errors:', '', ...failures);
  lines.push('');
  return lines.join('\n');
}
