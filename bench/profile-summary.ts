/**
 * Where a process spent its CPU: reads a V8 .cpuprofile (node --cpu-prof, e.g. the storage
 * process of `BENCH_CPU_PROF=<dir> make bench`) and prints self time by package and by
 * function, and inclusive time by function (a function's own time plus what it called).
 *
 *   node bench/profile-summary.ts <file.cpuprofile> [top=25] [filter]
 *
 * `filter` keeps only samples whose stack contains a function or file matching it (a regular
 * expression), e.g. "Changefeed|watchEtcdChanges" for the changefeed's share.
 *
 * First it sorts every busy sample into one of a few parts of a service's work (see PARTS), so
 * that the question "is it the gRPC hop, the etcd client, tracing, JSON or the changefeed?"
 * has a number per part.
 */
import { readFileSync } from 'node:fs';

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

interface Profile {
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
    if (f.url.includes('/etcd3/') || GRPC_CLIENT.test(f.url)) return 'etcd client (etcd3 + grpc-js channel, http2)';
    if (GRPC_SERVER.test(f.url)) return 'gRPC server (grpc-js server, http2, lib/grpc/serve.ts, lib/grpc/exchange.ts)';
  }
  if (stack.some((f) => f.url.startsWith('node:internal/http2') || f.url.startsWith('node:internal/stream') || f.url.startsWith('node:net'))) {
    return 'http2 / socket I/O not tied to a hop';
  }
  if (stack.some((f) => f.functionName === 'runMicrotasks' || f.functionName === 'processTicksAndRejections')) return 'promise continuations (async glue)';
  return 'other';
}

function main(): void {
  const [file, topArg, filterArg] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top=25] [filter]\n');
    process.exitCode = 2;
    return;
  }
  const top = Number(topArg ?? 25);
  const filter = filterArg === undefined ? undefined : new RegExp(filterArg);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
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

  const wall = (profile.endTime - profile.startTime) / 1e6;
  const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const print = (title: string, map: Map<string, number>): void => {
    process.stdout.write(`\n${title}\n`);
    for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${pct(us)} ${(us / 1e6).toFixed(2).padStart(7)} s  ${key}\n`);
    }
  };
  process.stdout.write(
    `${file}: ${wall.toFixed(1)} s profiled, ${(total / 1e6).toFixed(1)} s busy${filter === undefined ? '' : ` in stacks matching /${filterArg}/`}, ${(idle / 1e6).toFixed(1)} s idle\n`,
  );
  print('busy time by part of the work', byPart);
  print('self time by package', selfByPackage);
  print('self time by function', selfByFunction);
  print('inclusive time by function', inclusive);
}

// Piped into head: stop quietly when the reader has gone.
process.stdout.on('error', () => process.exit(0));
main();
