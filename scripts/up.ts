/**
 * `make up`: the whole control plane as plain processes on this machine: etcd and redis-server
 * (unless ETCD_ENDPOINTS / REDIS_URL point elsewhere), then the five services. Prints where to
 * point kubectl once everything is healthy; Ctrl-C or SIGTERM stops it all cleanly.
 */
import { relative, resolve } from 'node:path';
import { SERVICE_NAMES, startControlPlane, type ControlPlane } from '../lib/local/control-plane.ts';

const dataDir = resolve(process.env.DATA_DIR ?? '.data');
const env = process.env;

function print(line: string): void {
  process.stdout.write(line + '\n');
}

let plane: ControlPlane | undefined;
let starting = true;
let stopRequested: number | undefined;
let stopping = false;

async function stop(code: number): Promise<void> {
  if (starting) {
    // Stop in order once start-up returns, rather than killing half-started processes.
    stopRequested ??= code;
    print('stopping once start-up has finished...');
    return;
  }
  if (stopping) return;
  stopping = true;
  print('stopping the control plane...');
  await plane?.stop();
  print('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  plane = await startControlPlane({
    dataDir,
    etcdEndpoints: env.ETCD_ENDPOINTS,
    redisUrl: env.REDIS_URL,
    logDir: resolve(dataDir, 'logs'),
    persistentRedis: true,
    onLine: (line) => print(line),
    addresses: {
      gateway: env.GATEWAY_GRPC_LISTEN ?? '127.0.0.1:50051',
      https: env.GATEWAY_HTTPS_LISTEN ?? '127.0.0.1:6443',
      storage: env.STORAGE_LISTEN ?? '127.0.0.1:50061',
      auth: env.AUTH_LISTEN ?? '127.0.0.1:50062',
      admission: env.ADMISSION_LISTEN ?? '127.0.0.1:50063',
      watch: env.WATCH_LISTEN ?? '127.0.0.1:50064',
    },
  });
} catch (err) {
  process.stderr.write(`make up failed: ${(err as Error).message}\n`);
  stopRequested = 1;
}
starting = false;
if (stopRequested !== undefined) await stop(stopRequested);

if (plane !== undefined) {
  const p = plane;
  for (const name of SERVICE_NAMES) {
    void p.processes[name].exited.then((status) => {
      if (stopping) return;
      process.stderr.write(`${name} exited unexpectedly (${JSON.stringify(status)}); stopping everything\n`);
      void stop(1);
    });
  }
  const rel = relative(process.cwd(), p.kubeconfig) || p.kubeconfig;
  const pids = [
    p.etcd === undefined ? `etcd at ${p.etcdEndpoints}` : `etcd ${p.etcd.process.pid}`,
    p.redis === undefined ? `redis at ${p.redisUrl}` : `redis-server ${p.redis.process.pid}`,
    ...SERVICE_NAMES.map((n) => `${n} ${p.processes[n].pid}`),
  ];
  print('');
  print('The control plane is up.');
  print(`  Kubernetes REST (HTTPS):  https://${p.addresses.https}`);
  print(`  typed gRPC API:           ${p.addresses.gateway}`);
  print(`  processes:                ${pids.join(', ')}`);
  print('Point kubectl at it:');
  print(`  export KUBECONFIG=${rel}`);
  print('  kubectl get nodes');
  print('Ctrl-C stops everything.');
}
