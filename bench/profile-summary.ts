/**
 * Where a process spent its CPU: reads a V8 .cpuprofile (node --cpu-prof, e.g. the storage
 * process of `BENCH_CPU_PROF=<dir> make bench`) and prints self time by package and by
 * function, and inclusive time by function (a function's own time plus what it called).
 *
 *   node bench/profile-summary.ts <file.cpuprofile> [top=25] [filter]
 *
 * (The pipeline bench imports summarizeProfile to print a summary per process after a
 * BENCH_CPU_PROF run.)
 *
 * `filter` keeps only samples whose stack contains a function or file matching it (a regular
 * expression), e.g. "Changefeed|watchEtcdChanges" for the changefeed's share.
 *
 * First it sorts every busy sample into one of a few parts of a service's work (see PARTS), so
 * that the question "is it the gRPC hop, the etcd client, a call to another service, tracing,
 * JSON or the changefeed?" has a number per part.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package> (scoped too), node's own code, the project's file, or V8's pseudo-frames. */
/** file:// URL of the project root, as profile frames name its files. */
const PROJECT_ROOT = new URL('../', import.meta.url).href;

function packageOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] ?? ''}`;
  // Paths inside the project read relative to its root (services/..., lib/...).
  return url.startsWith(PROJECT_ROOT) ? url.slice(PROJECT_ROOT.length) : url;
}

function functionOf(frame: CallFrame): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  return frame.url === '' ? name : `${name} ${packageOf(frame)}:${frame.lineNumber + 1}`;
}

const GRPC_SERVER = /@grpc\/grpc-js\/build\/src\/server[^/]*\.js$|\/lib\/grpc\/(server|exchange)\.ts$/;
const GRPC_CLIENT =
  /@grpc\/grpc-js\/build\/src\/(client|client-interceptors|call|call-credentials|internal-channel|resolving-call|retrying-call|load-balancing-call|subchannel|subchannel-call|transport|channel|compression-filter|filter-stack|deadline)\.js$/;

/**
 * The part of the work a sample belongs to, judged by its stack (leaf first for the parts that
 * run inside others: tracing and JSON run within the gRPC handlers).
 */
function partOf(stack: CallFrame[]): string {
  const leaf = stack[0];
  if (leaf === undefined) return 'other';
  if (leaf.functionName === '(garbage collector)') return 'garbage collection';
  if (leaf.functionName === '(program)') return 'V8/native outside JS ("(program)")';
  const leafPackage = packageOf(leaf);
  if (leafPackage.startsWith('@opentelemetry/')) return 'tracing (OpenTelemetry spans, context)';
  if (stack.some((f) => /changefeed\.ts$|etcd-changes\.ts$|\/ioredis\//.test(f.url))) return 'changefeed (etcd watch -> Redis)';
  // JSON.parse and JSON.stringify are builtins: their time shows as the self time of the caller.
  if (/\/(lib\/kube|lib\/change-event|services\/storage\/core\/(object-rules|history))\.ts$|\/backends\/etcd\.ts$/.test(leaf.url) || leaf.functionName === 'isDeepStrictEqual') {
    return 'JSON and object rules (project code)';
  }
  // Which hop: the innermost gRPC frame tells (a handler's etcd call runs under the server's frames).
  for (const f of stack) {
    if (f.url.includes('/etcd3/') || /\/backends\/etcd-(kv|proto)\.ts$/.test(f.url)) return 'etcd client (storage\'s KV calls, etcd3)';
    if (GRPC_CLIENT.test(f.url)) return 'outgoing gRPC calls (grpc-js client channels to another service)';
    if (GRPC_SERVER.test(f.url)) return 'gRPC server (grpc-js server, http2, lib/grpc/serve.ts, lib/grpc/exchange.ts)';
  }
  if (stack.some((f) => f.url.startsWith('node:internal/http2') || f.url.startsWith('node:internal/stream') || f.url.startsWith('node:net'))) {
    return 'http2 / socket I/O not tied to a hop';
  }
  if (stack.some((f) => f.functionName === 'runMicrotasks' || f.functionName === 'processTicksAndRejections')) return 'promise continuations (async glue)';
  return 'other';
}

/** Where one profile's busy time went, in microseconds, each list largest first. */
export interface ProfileSummary {
  /** Seconds from the profile's start to its end. */
  wallSeconds: number;
  /** Seconds of samples in JavaScript, V8 or native code (matching the filter, when one was given). */
  busySeconds: number;
  /** Seconds of idle samples (the event loop waiting). */
  idleSeconds: number;
  byPart: [string, number][];
  selfByPackage: [string, number][];
  selfByFunction: [string, number][];
  inclusive: [string, number][];
}

/** Reads a .cpuprofile file. */
export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/**
 * Sorts a profile's busy samples by part of the work (see partOf), by package and function
 * (self time) and by function with its callees (inclusive time). With `filter`, only samples
 * whose stack holds a function or file matching it count.
 */
export function summarizeProfile(profile: Profile, filter?: RegExp): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }

  const byPart = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const add = (map: Map<string, number>, key: string, us: number): void => {
    map.set(key, (map.get(key) ?? 0) + us);
  };
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (node === undefined) return;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      return;
    }
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame !== undefined && frame.functionName !== '(root)') stack.push(frame);
    }
    if (filter !== undefined && !stack.some((f) => filter.test(f.functionName) || filter.test(f.url))) return;
    total += us;
    add(byPart, partOf(stack), us);
    add(selfByPackage, packageOf(node.callFrame), us);
    add(selfByFunction, functionOf(node.callFrame), us);
    for (const key of new Set(stack.map(functionOf))) add(inclusive, key, us);
  });
  const sorted = (map: Map<string, number>): [string, number][] => [...map].sort((a, b) => b[1] - a[1]);
  return {
    wallSeconds: (profile.endTime - profile.startTime) / 1e6,
    busySeconds: total / 1e6,
    idleSeconds: idle / 1e6,
    byPart: sorted(byPart),
    selfByPackage: sorted(selfByPackage),
    selfByFunction: sorted(selfByFunction),
    inclusive: sorted(inclusive),
  };
}

/** Lines of `entries` (the `top` largest): share of the busy time, seconds, name. */
export function profileLines(entries: [string, number][], busySeconds: number, top: number): string[] {
  const busy = busySeconds * 1e6;
  return entries.slice(0, top).map(([key, us]) => `${(busy > 0 ? (us / busy) * 100 : 0).toFixed(1).padStart(5)}% ${(us / 1e6).toFixed(2).padStart(7)} s  ${key}`);
}

function main(): void {
  const [file, topArg, filterArg] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top=25] [filter]\n');
    process.exitCode = 2;
    return;
  }
  const top = Number(topArg ?? 25);
  const summary = summarizeProfile(readProfile(file), filterArg === undefined ? undefined : new RegExp(filterArg));
  process.stdout.write(
    `${file}: ${summary.wallSeconds.toFixed(1)} s profiled, ${summary.busySeconds.toFixed(1)} s busy${filterArg === undefined ? '' : ` in stacks matching /${filterArg}/`}, ${summary.idleSeconds.toFixed(1)} s idle\n`,
  );
  const print = (title: string, entries: [string, number][]): void => {
    process.stdout.write(`\n${title}\n${profileLines(entries, summary.busySeconds, top).map((l) => `${l}\n`).join('')}`);
  };
  print('busy time by part of the work', summary.byPart);
  print('self time by package', summary.selfByPackage);
  print('self time by function', summary.selfByFunction);
  print('inclusive time by function', summary.inclusive);
}

// Run as a script (not imported by the pipeline bench).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Piped into head: stop quietly when the reader has gone.
  process.stdout.on('error', () => process.exit(0));
  main();
}
