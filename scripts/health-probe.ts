/**
 * Container health check: `node scripts/health-probe.ts HOST:PORT` asks the gRPC server there for
 * grpc.health.v1 Check("") and exits 0 when it answers SERVING, 1 otherwise (NOT_SERVING while
 * draining after SIGTERM, unreachable, or no answer within the deadline).
 *
 * docker-compose.yml runs it against each service's monitoring port (METRICS_LISTEN, plaintext
 * gRPC health over h2c), because compose has no gRPC check of its own; deploy/ uses the kubelet's
 * native grpc probe on that port instead. Pointed at a service's main gRPC port, it speaks mutual
 * TLS with the same GRPC_TLS_* files as the service in its container, and plaintext when they are
 * unset, as the service does.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

/** Below the healthcheck's timeout (compose: 5 s), so the answer is ours, not a kill. */
const DEADLINE_MS = 3_000;

type HealthClient = grpc.Client & {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
};
type HealthConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => HealthClient;

function credentials(env: NodeJS.ProcessEnv): grpc.ChannelCredentials {
  const files = [env.GRPC_TLS_CA_FILE ?? '', env.GRPC_TLS_CERT_FILE ?? '', env.GRPC_TLS_KEY_FILE ?? ''];
  if (files.every((f) => f === '')) return grpc.credentials.createInsecure();
  const [ca = '', cert = '', key = ''] = files;
  // The probe dials its own container over loopback, a name no certificate carries: the chain is
  // verified against the CA, the host name is not.
  return grpc.credentials.createSsl(readFileSync(ca), readFileSync(key), readFileSync(cert), {
    checkServerIdentity: () => undefined,
  });
}

function probe(address: string): Promise<string> {
  const definition = protoLoader.loadSync(protoPath, { keepCase: true, enums: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: HealthConstructor } } } };
  // A host name for TLS SNI, which must not be an IP address (Node warns, RFC 6066).
  const client = new loaded.grpc.health.v1.Health(address, credentials(process.env), { 'grpc.ssl_target_name_override': 'localhost' });
  return new Promise((resolve) => {
    client.Check({ service: '' }, { deadline: Date.now() + DEADLINE_MS }, (err, response) => {
      client.close();
      resolve(err === null ? (response?.status ?? 'UNKNOWN') : `${grpc.status[err.code] ?? err.code}: ${err.details}`);
    });
  });
}

const address = process.argv[2];
if (address === undefined || process.argv.length > 3) {
  process.stderr.write('usage: node scripts/health-probe.ts HOST:PORT\n');
  process.exit(2);
}
const status = await probe(address);
process.stdout.write(`${address}: ${status}\n`);
process.exitCode = status === 'SERVING' ? 0 : 1;
