/**
 * The admission service over gRPC: the real chain behind two replicas, asked through
 * AdmissionClient as the gateway asks. Every Admit goes over a replica's Exchange stream, is
 * counted per method (grpc_server_handled_total) and keeps its Status; a request of the
 * largest size passes, a larger one is refused before it is sent; a replica that shuts down
 * leaves the calls to the other.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../lib/errors.ts';
import { MAX_OBJECT_BYTES_IN_REQUEST } from '../../lib/grpc/limits.ts';
import { GrpcServer, type CallContext } from '../../lib/grpc/serve.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { createLogger } from '../../lib/log.ts';
import { Metrics } from '../../lib/metrics.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { AdmitRequest__Output } from '../../lib/gen/apiserver/v1/AdmitRequest.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import type { AdmissionRequest } from '../../services/admission/api.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { AdmissionClient } from '../../services/admission/grpc/client.ts';
import { ADMISSION_MAX_CALL_BYTES } from '../../services/admission/grpc/codec.ts';
import { ADMISSION_MAX_REQUEST_BYTES, admissionHandlers } from '../../services/admission/grpc/server.ts';

const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });
const registry = builtinRegistry();
const user = { username: 'admin', uid: '1', groups: ['system:masters'] };

interface Replica {
  server: GrpcServer;
  metrics: Metrics;
  port: number;
}

const replicas: Replica[] = [];
/** Per Admit a handler ran: whether it came without trailers, as only a call multiplexed over Exchange does. */
const overExchange: boolean[] = [];
let client: AdmissionClient;

async function startReplica(): Promise<Replica> {
  const storage = new MemoryStorage({ kinds: registry });
  await storage.create({ group: '', resource: 'namespaces', namespace: '', name: 'default' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const handlers = admissionHandlers(buildAdmissionChain({ registry, storage, schemas: generatedSchemaValidator(), ownsRequestObjects: true }));
  const metrics = new Metrics({ processMetrics: false });
  const server = new GrpcServer({ name: 'admission', telemetry, logger, metrics, maxReceiveMessageBytes: ADMISSION_MAX_REQUEST_BYTES });
  server.addService('apiserver.v1.Admission', loadApiProto().apiserver.v1.Admission.service, {
    Admit: (req: AdmitRequest__Output, ctx: CallContext) => {
      overExchange.push(ctx.trailers === undefined);
      return handlers.Admit(req, ctx);
    },
  });
  return { server, metrics, port: await server.listen('127.0.0.1:0') };
}

/** grpc_server_handled_total of Admit as a replica counts it, by grpc_type and grpc_code. */
async function handled(replica: Replica): Promise<Record<string, number>> {
  const counter = replica.metrics.registry.getSingleMetric('grpc_server_handled_total');
  assert.ok(counter !== undefined);
  const counts: Record<string, number> = {};
  for (const v of (await counter.get()).values) {
    if (v.labels.grpc_service !== 'apiserver.v1.Admission' || v.value === 0) continue;
    counts[`${v.labels.grpc_method}/${v.labels.grpc_type}/${v.labels.grpc_code}`] = v.value;
  }
  return counts;
}

function configMapCreate(name: string, data: Record<string, string> = { a: '1' }): AdmissionRequest {
  const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
  return { operation: 'CREATE', group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name, object, user, dryRun: false };
}

before(async () => {
  replicas.push(await startReplica(), await startReplica());
  client = new AdmissionClient(replicas.map((r) => `127.0.0.1:${r.port}`).join(','), { telemetry });
});

after(async () => {
  client?.close();
  await Promise.all(replicas.map((r) => r.server.shutdown(1000)));
});

describe('admission over gRPC', () => {
  test('Admit calls go over the replicas\' Exchange streams, each counted as its own method', async () => {
    const before = await Promise.all(replicas.map(handled));
    overExchange.length = 0;
    const admitted = await Promise.all(Array.from({ length: 20 }, (_, i) => client.admit(configMapCreate(`cm-${i}`))));
    for (const [i, object] of admitted.entries()) {
      assert.equal(object?.metadata?.name, `cm-${i}`);
      assert.match(String(object?.metadata?.uid), /^[0-9a-f-]{36}$/, 'mutated by the chain');
    }
    assert.deepEqual(overExchange, Array.from({ length: 20 }, () => true));
    const after = await Promise.all(replicas.map(handled));
    const counts = after.map((a, i) => (a['Admit/unary/OK'] ?? 0) - (before[i]?.['Admit/unary/OK'] ?? 0));
    assert.equal(counts[0]! + counts[1]!, 20);
    for (const [i, n] of counts.entries()) assert.ok(n > 0, `replica ${i} took ${n} of 20 calls`);
  });

  test('a refusal comes back as the chain\'s Status', async () => {
    await assert.rejects(client.admit(configMapCreate('Not_A_Name')), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.reason, 'Invalid');
      assert.match(err.message, /^ConfigMap "Not_A_Name" is invalid: metadata.name: Invalid value: "Not_A_Name"/);
      return true;
    });
  });

  test('an update carrying two objects of the largest size passes; a larger call is refused before it is sent', async () => {
    // Two objects of up to MAX_OBJECT_BYTES_IN_REQUEST each, with room for the rest of the request.
    const big = (fill: string) => ({ a: fill.repeat(MAX_OBJECT_BYTES_IN_REQUEST - 1024) });
    const old = { ...(await client.admit(configMapCreate('big'))), data: big('o') } as KubeObject;
    const update = (data: Record<string, string>): AdmissionRequest => ({
      ...configMapCreate('big', data),
      operation: 'UPDATE',
      object: { ...old, data },
      oldObject: old,
    });
    const admitted = await client.admit(update(big('n')));
    assert.equal((admitted?.data as Record<string, string> | undefined)?.a?.length, MAX_OBJECT_BYTES_IN_REQUEST - 1024);
    await assert.rejects(client.admit(update({ a: 'n'.repeat(ADMISSION_MAX_CALL_BYTES) })), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.reason, 'RequestEntityTooLarge');
      return true;
    });
    // The stream carries on.
    assert.equal((await client.admit(configMapCreate('after-big')))?.metadata?.name, 'after-big');
  });

  test('a replica that shuts down leaves the calls to the other; none fails', async () => {
    const [first, second] = replicas as [Replica, Replica];
    await second.server.shutdown(1000);
    const before = (await handled(first))['Admit/unary/OK'] ?? 0;
    const secondBefore = await handled(second);
    const admitted = await Promise.all(Array.from({ length: 10 }, (_, i) => client.admit(configMapCreate(`after-${i}`))));
    assert.equal(admitted.length, 10);
    assert.equal(((await handled(first))['Admit/unary/OK'] ?? 0) - before, 10);
    assert.deepEqual(await handled(second), secondBefore);
  });
});
