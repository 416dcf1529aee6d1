/**
 * Micro-benchmark of the call path of admission and authorization: a unary call each (what
 * the gateway did before) against calls multiplexed over one Exchange stream (AdmissionClient,
 * AuthClient). One server process (a child of this one) runs the real admission chain over
 * in-memory storage and the Authorization service; this process calls it both ways, 64 calls
 * in flight, in alternating rounds (unary first, then multiplexed first, ...), so that a drift
 * of the machine's load falls on both. Prints calls/s and the CPU time per call of the calling
 * process and of the server process, medians of the rounds with their range.
 *
 * `node bench/exchange-micro.ts`; MICRO_SECONDS (default 3) per round and path.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { replicaUnary } from '../lib/grpc/replicas.ts';
import { GrpcServer } from '../lib/grpc/serve.ts';
import { builtinRegistry } from '../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../lib/kinds/validate.ts';
import { createLogger } from '../lib/log.ts';
import { loadApiProto } from '../lib/proto.ts';
import { createTelemetry } from '../lib/tracing.ts';
import { MemoryStorage } from '../services/storage/backends/memory.ts';
import { buildAdmissionChain } from '../services/admission/core/chain.ts';
import { AdmissionClient } from '../services/admission/grpc/client.ts';
import { admitRequestToProto } from '../services/admission/grpc/codec.ts';
import { ADMISSION_MAX_REQUEST_BYTES, admissionHandlers } from '../services/admission/grpc/server.ts';
import { PrivilegedGroupAuthorizer } from '../services/auth/core/authorizer.ts';
import { AuthClient, userToProto } from '../services/auth/grpc/client.ts';
import { AUTH_MAX_REQUEST_BYTES, authorizationHandlers } from '../services/auth/grpc/server.ts';
import type { AdmissionRequest } from '../services/admission/api.ts';
import type { AdmissionClient as GeneratedAdmissionClient } from '../lib/gen/apiserver/v1/Admission.ts';
import type { AuthorizationClient } from '../lib/gen/apiserver/v1/Authorization.ts';

const logger = createLogger({ service: 'micro', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'micro', env: {} });
const proto = loadApiProto();

if (process.argv[2] === 'server') {
  const registry = builtinRegistry();
  const storage = new MemoryStorage({ kinds: registry });
  await storage.create({ group: '', resource: 'namespaces', namespace: '', name: 'default' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const admission = new GrpcServer({ name: 'admission', telemetry, logger, maxReceiveMessageBytes: ADMISSION_MAX_REQUEST_BYTES });
  admission.addService('apiserver.v1.Admission', proto.apiserver.v1.Admission.service, admissionHandlers(buildAdmissionChain({ registry, storage, schemas: generatedSchemaValidator(), ownsRequestObjects: true })));
  const auth = new GrpcServer({ name: 'auth', telemetry, logger, maxReceiveMessageBytes: AUTH_MAX_REQUEST_BYTES });
  auth.addService('apiserver.v1.Authorization', proto.apiserver.v1.Authorization.service, authorizationHandlers(new PrivilegedGroupAuthorizer()));
  const a = await admission.listen('127.0.0.1:0');
  const b = await auth.listen('127.0.0.1:0');
  process.stdout.write(`${a} ${b}\n`);
  // Serves until the parent goes (its end of stdin closes), however it ends.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  await new Promise(() => {});
}

const child = spawn(process.execPath, [import.meta.filename, 'server'], { stdio: ['pipe', 'pipe', 'inherit'] });
const [admissionPort, authPort] = await new Promise<string[]>((resolve) => {
  createInterface({ input: child.stdout }).once('line', (line) => resolve(line.split(' ')));
});
/** The unit of the CPU times in /proc/<pid>/stat: clock ticks (USER_HZ, 100 on Linux). */
const TICK = 100;
/** The server process's CPU seconds so far (utime + stime). */
function childCpuSeconds(): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const auth = new AuthClient(`127.0.0.1:${authPort}`, { telemetry });
const admission = new AdmissionClient(`127.0.0.1:${admissionPort}`, { telemetry });
const user = { username: 'jane', uid: '', groups: ['system:authenticated'] };
const attributes = { user, verb: 'create', resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'configmaps', subresource: '', namespace: 'default', name: '', path: '' };
const authzOf = (r: { authz: AuthorizationClient }): AuthorizationClient => r.authz;
const asIs = (c: GeneratedAdmissionClient): GeneratedAdmissionClient => c;
let n = 0;
function admitRequest(): AdmissionRequest {
  const name = `cm-${n++}`;
  return {
    operation: 'CREATE', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name, user, dryRun: false,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels: { app: 'bench' } }, data: { key: 'x'.repeat(1024) } },
  };
}
const paths: Record<string, () => Promise<unknown>> = {
  'authorize unary': () => replicaUnary(auth.replicas, authzOf, 'authorize', { ...attributes, user: userToProto(user) }),
  'authorize mux': () => auth.authorize(attributes),
  'admit unary': () => replicaUnary(admission.replicas, asIs, 'admit', admitRequestToProto(admitRequest())),
  'admit mux': () => admission.admit(admitRequest()),
};

const SECONDS = Number(process.env.MICRO_SECONDS ?? 3);
async function round(call: () => Promise<unknown>): Promise<{ ops: number; client: number; server: number }> {
  let ops = 0;
  const end = Date.now() + SECONDS * 1000;
  const c0 = ownCpuSeconds();
  const s0 = childCpuSeconds();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (Date.now() < end) {
      await call();
      ops++;
    }
  }));
  return { ops, client: ownCpuSeconds() - c0, server: childCpuSeconds() - s0 };
}

for (const name of Object.keys(paths)) await round(paths[name]!); // warm-up
const results: Record<string, { ops: number; client: number; server: number }[]> = {};
for (let r = 0; r < 3; r++) {
  for (const op of ['authorize', 'admit']) {
    const order = r % 2 === 0 ? ['unary', 'mux'] : ['mux', 'unary'];
    for (const how of order) {
      const key = `${op} ${how}`;
      (results[key] ??= []).push(await round(paths[key]!));
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [key, rounds] of Object.entries(results)) {
  const perSec = rounds.map((x) => x.ops / SECONDS);
  const clientUs = rounds.map((x) => (x.client * 1e6) / x.ops);
  const serverUs = rounds.map((x) => (x.server * 1e6) / x.ops);
  const fmt = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  console.log(`${key.padEnd(16)} calls/s ${fmt(perSec)}  client µs/call ${fmt(clientUs)}  server µs/call ${fmt(serverUs)}`);
}
auth.close();
admission.close();
child.stdin.end();
