/**
 * The environment variables `make up` (scripts/up.ts) reads, in one table: up.ts takes its
 * settings from it and docs/configuration.md is generated from it (scripts/config-docs.ts).
 * Every other variable reaches the services unchanged (LOG_LEVEL, OTEL_*, GRPC_TLS_*_FILE, ...).
 */
import { resolve } from 'node:path';
import { ConfigError } from '../config.ts';
import type { ControlPlaneAddresses, ServiceName } from './control-plane.ts';

export const MAKE_UP_VARIABLES = [
  { env: 'DATA_DIR', default: './.data', description: 'etcd and Redis data, pki/, tokens.csv, admin.kubeconfig, logs/' },
  { env: 'ETCD_ENDPOINTS', default: '', description: 'use this etcd (comma-separated client URLs) instead of starting one' },
  {
    env: 'ETCD_MEMBERS',
    default: '1',
    description:
      'members of the etcd started here: 3 (or 5) runs a cluster on loopback, its data and ports kept in $DATA_DIR/etcd-cluster (and Redis\'s in $DATA_DIR/redis-cluster), and storage uses every member',
  },
  { env: 'REDIS_URL', default: '', description: 'use this Redis instead of starting one' },
  { env: 'GATEWAY_HTTPS_LISTEN', default: '127.0.0.1:6443', description: 'the gateway\'s Kubernetes REST API (HTTPS)' },
  { env: 'GATEWAY_GRPC_LISTEN', default: '127.0.0.1:50051', description: 'the gateway\'s typed gRPC API' },
  { env: 'STORAGE_LISTEN', default: '127.0.0.1:50061', description: 'storage service' },
  { env: 'AUTH_LISTEN', default: '127.0.0.1:50062', description: 'auth service' },
  { env: 'ADMISSION_LISTEN', default: '127.0.0.1:50063', description: 'admission service' },
  { env: 'WATCH_LISTEN', default: '127.0.0.1:50064', description: 'watch service' },
  { env: 'GATEWAY_METRICS_LISTEN', default: '127.0.0.1:9090', description: 'the gateway\'s monitoring port (plaintext /metrics, /readyz, gRPC health)' },
  { env: 'STORAGE_METRICS_LISTEN', default: '127.0.0.1:9091', description: 'storage service\'s monitoring port' },
  { env: 'AUTH_METRICS_LISTEN', default: '127.0.0.1:9092', description: 'auth service\'s monitoring port' },
  { env: 'ADMISSION_METRICS_LISTEN', default: '127.0.0.1:9093', description: 'admission service\'s monitoring port' },
  { env: 'WATCH_METRICS_LISTEN', default: '127.0.0.1:9094', description: 'watch service\'s monitoring port' },
  {
    env: 'REPLICAS',
    default: '1',
    description:
      'processes per service (storage, auth, admission, watch, gateway): the first at the ports above (monitoring ports included), the others at free loopback ports; every client spreads its calls over all of them',
  },
  {
    env: 'GRPC_TLS',
    default: '0',
    description:
      '1: mutual TLS on internal gRPC with a CA and per-service certificates made under $DATA_DIR/pki/grpc; ' +
      'GRPC_TLS_CA_FILE, GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE, when set, are used instead (and turn it on by themselves)',
  },
  {
    env: 'AUDIT_POLICY_FILE',
    default: 'examples/audit-policy.yaml',
    description: 'the gateway\'s audit policy (the shipped one: every change at Metadata level); "none" turns audit off',
  },
  { env: 'AUDIT_LOG_PATH', default: '$DATA_DIR/logs/audit.log', description: 'the gateway\'s audit log, rotated at 100 MB (AUDIT_LOG_MAXSIZE, AUDIT_LOG_MAXBACKUP, AUDIT_LOG_MAXAGE reach the gateway as they are)' },
] as const;

type Variable = (typeof MAKE_UP_VARIABLES)[number]['env'];

export interface MakeUpSettings {
  /** Absolute. */
  dataDir: string;
  etcdEndpoints: string | undefined;
  /** Members of the etcd started here (when etcdEndpoints is undefined). */
  etcdMembers: number;
  redisUrl: string | undefined;
  addresses: ControlPlaneAddresses;
  /** The monitoring port (--metrics-listen) of each service's first process. */
  metrics: Record<ServiceName, string>;
  /** Make the internal certificates (GRPC_TLS=1 without GRPC_TLS_*_FILE). */
  generateTls: boolean;
  /** The gateway's audit policy and log (absolute), or undefined for no audit. */
  audit: { policyFile: string; logPath: string } | undefined;
  /** Processes per service. */
  replicas: number;
}

/** `make up`'s settings from `env` (an empty variable counts as unset); ConfigError on a bad value. */
export function makeUpSettings(env: NodeJS.ProcessEnv): MakeUpSettings {
  const get = (name: Variable): string => {
    const value = env[name]?.trim() ?? '';
    return value !== '' ? value : (MAKE_UP_VARIABLES.find((v) => v.env === name)?.default ?? '');
  };
  const tls = get('GRPC_TLS').toLowerCase();
  if (!['0', '1', 'false', 'true'].includes(tls)) throw new ConfigError(`GRPC_TLS must be 1, true, 0 or false, got "${env.GRPC_TLS}"`);
  const tlsFilesGiven = [env.GRPC_TLS_CA_FILE, env.GRPC_TLS_CERT_FILE, env.GRPC_TLS_KEY_FILE].some((f) => f !== undefined && f !== '');
  const replicas = Number(get('REPLICAS'));
  if (!Number.isInteger(replicas) || replicas < 1) throw new ConfigError(`REPLICAS must be a whole number of at least 1, got "${env.REPLICAS}"`);
  const etcdMembers = Number(get('ETCD_MEMBERS'));
  if (!Number.isInteger(etcdMembers) || etcdMembers < 1) throw new ConfigError(`ETCD_MEMBERS must be a whole number of at least 1, got "${env.ETCD_MEMBERS}"`);
  const optional = (name: Variable): string | undefined => (get(name) === '' ? undefined : get(name));
  const dataDir = resolve(get('DATA_DIR'));
  const policyFile = get('AUDIT_POLICY_FILE');
  const logPath = get('AUDIT_LOG_PATH');
  return {
    dataDir,
    etcdEndpoints: optional('ETCD_ENDPOINTS'),
    etcdMembers,
    redisUrl: optional('REDIS_URL'),
    addresses: {
      https: get('GATEWAY_HTTPS_LISTEN'),
      gateway: get('GATEWAY_GRPC_LISTEN'),
      storage: get('STORAGE_LISTEN'),
      auth: get('AUTH_LISTEN'),
      admission: get('ADMISSION_LISTEN'),
      watch: get('WATCH_LISTEN'),
    },
    metrics: {
      gateway: get('GATEWAY_METRICS_LISTEN'),
      storage: get('STORAGE_METRICS_LISTEN'),
      auth: get('AUTH_METRICS_LISTEN'),
      admission: get('ADMISSION_METRICS_LISTEN'),
      watch: get('WATCH_METRICS_LISTEN'),
    },
    generateTls: (tls === '1' || tls === 'true') && !tlsFilesGiven,
    audit:
      policyFile === 'none'
        ? undefined
        : { policyFile: resolve(policyFile), logPath: logPath.startsWith('$DATA_DIR/') ? resolve(dataDir, logPath.slice('$DATA_DIR/'.length)) : resolve(logPath) },
    replicas,
  };
}
