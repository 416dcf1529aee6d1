/**
 * `make up`: the whole control plane as plain processes on this machine: etcd and redis-server
 * (unless ETCD_ENDPOINTS / REDIS_URL point elsewhere; ETCD_MEMBERS=3 makes etcd a cluster of
 * three on loopback), then the five services. Prints where to
 * point kubectl once everything is healthy. A process that dies is restarted with backoff while
 * the others keep serving (lib/local/supervisor.ts); one that keeps failing to start stops
 * everything with exit status 1. Ctrl-C or SIGTERM stops it all cleanly.
 *
 * Settings come from the environment (lib/local/make-up-config.ts, listed in
 * docs/configuration.md). GRPC_TLS=1 turns on mutual TLS between the services with certificates
 * made here (a CA under $DATA_DIR/pki/grpc); the GRPC_TLS_CA_FILE / _CERT_FILE / _KEY_FILE of the
 * environment, when set, are used instead.
 */
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { SERVICE_NAMES, startControlPlane, type ControlPlane } from '../lib/local/control-plane.ts';
import { makeUpSettings, type MakeUpSettings } from '../lib/local/make-up-config.ts';

/** A path as the banner shows it: relative to the working directory when under it, else absolute. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? resolve(path) : rel;
}

function print(line: string): void {
  process.stdout.write(line + '\n');
}

let plane: ControlPlane | undefined;
let audit: MakeUpSettings['audit'];
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
  const settings = makeUpSettings(process.env);
  audit = settings.audit;
  plane = await startControlPlane({
    dataDir: settings.dataDir,
    etcdEndpoints: settings.etcdEndpoints,
    etcdMembers: settings.etcdMembers,
    redisUrl: settings.redisUrl,
    addresses: settings.addresses,
    metricsListen: settings.metrics,
    replicas: Object.fromEntries(SERVICE_NAMES.map((n) => [n, settings.replicas])),
    logDir: resolve(settings.dataDir, 'logs'),
    persistentRedis: true,
    onLine: (line) => print(line),
    ...(settings.generateTls ? { grpcTls: 'generate' as const } : {}),
    // Flags, not the environment, so that AUDIT_POLICY_FILE=none reaches the gateway as no audit.
    flags: { gateway: [`--audit-policy-file=${settings.audit?.policyFile ?? ''}`, `--audit-log-path=${settings.audit?.logPath ?? ''}`] },
    // Each gateway replica rotates its own audit file, as each kube-apiserver of a cluster does.
    gatewayReplicaFlags: Array.from({ length: settings.replicas - 1 }, (_, i) =>
      settings.audit === undefined ? [] : [`--audit-log-path=${settings.audit.logPath.replace(/(\.log)?$/, `-gateway-${i + 1}$1`)}`],
    ),
    supervise: {
      log: (line) => print(`[supervisor] ${line}`),
      onGiveUp: (err) => {
        process.stderr.write(`make up: ${err.message}\nstopping everything\n`);
        void stop(1);
      },
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
  const rel = shownPath(p.kubeconfig);
  // The same names as the supervisor's lines ("storage restarted (pid N)").
  const pids = [
    ...(p.etcd !== undefined
      ? [`etcd ${p.etcd.process.pid}`]
      : p.etcdCluster !== undefined
        ? p.etcdCluster.members.map((m) => `${m.name} ${m.process.pid}`)
        : [`etcd at ${p.etcdEndpoints}`]),
    p.redis === undefined ? `redis at ${p.redisUrl}` : `redis ${p.redis.process.pid}`,
    ...SERVICE_NAMES.flatMap((n) => p.replicas[n].map((r) => `${r.name} ${r.process.pid}`)),
  ];
  print('');
  print('The control plane is up.');
  print(`  Kubernetes REST (HTTPS):  https://${p.addresses.https}`);
  print(`  typed gRPC API:           ${p.addresses.gateway}`);
  if (p.replicas.gateway.length > 1) {
    for (const g of p.replicas.gateway.slice(1)) print(`  ${g.name}:${' '.repeat(Math.max(1, 24 - g.name.length))}https://${g.https}, gRPC ${g.address}`);
  }
  if (p.etcdCluster !== undefined) print(`  etcd cluster:             ${p.etcdCluster.members.length} members, ${p.etcdEndpoints}`);
  print(`  internal gRPC:            ${p.grpcTls === undefined ? 'plaintext' : `mutual TLS (CA ${shownPath(p.grpcTls.caFile)})`}`);
  // Every process: its gRPC address and its monitoring port (plaintext /metrics, /readyz).
  print('  each process (gRPC, monitoring):');
  for (const name of SERVICE_NAMES) {
    for (const r of p.replicas[name]) print(`    ${r.name}:${' '.repeat(Math.max(1, 22 - r.name.length))}${r.address}, http://${r.metrics}/metrics`);
  }
  print(`  processes:                ${pids.join(', ')}`);
  if (audit !== undefined) print(`  audit log:                ${shownPath(audit.logPath)} (policy ${shownPath(audit.policyFile)})`);
  print('Point kubectl at it:');
  print(`  export KUBECONFIG=${rel}`);
  print('  kubectl get nodes');
  // Written by the auth service on its first start next to admin.kubeconfig.
  const certConfig = join(dirname(p.kubeconfig), 'admin-cert.kubeconfig');
  print(`or with a client certificate (user kubernetes-admin, group system:masters): ${shownPath(certConfig)}`);
  print('A process that dies is restarted; Ctrl-C stops everything.');
}
