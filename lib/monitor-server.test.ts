/**
 * The monitoring port: HTTP/1.1 /metrics and health paths and gRPC health over h2c on one
 * plaintext port, with the service's own serving status; and the gRPC server's counts
 * (grpc_server_handled_total, grpc_server_handling_seconds), Exchange calls under their own
 * methods.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { MemoryStorage } from '../services/storage/backends/memory.ts';
import { StorageClient } from '../services/storage/grpc/client.ts';
import { STORAGE_MAX_REQUEST_BYTES, storageHandlers } from '../services/storage/grpc/server.ts';
import { GrpcServer } from './grpc/serve.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';
import { hostPort, MonitorServer } from './monitor-server.ts';
import { loadApiProto } from './proto.ts';
import { createTelemetry } from './tracing.ts';

const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};
const HealthClientCtor = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health') as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

function healthStatus(port: number, service = ''): Promise<string> {
  const client = new HealthClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    client.check({ service }, (err, res) => {
      client.close();
      if (err !== null) reject(err);
      else resolve(res?.status ?? '');
    });
  });
}

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** The value of the sample `name{labels}` in a Prometheus text body; labels given in any order. */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('MonitorServer', () => {
  let server: GrpcServer;
  let monitor: MonitorServer;
  let grpcPort: number;
  const metrics = new Metrics({ processMetrics: false });

  before(async () => {
    server = new GrpcServer({ name: 'test', telemetry, logger, metrics, maxReceiveMessageBytes: STORAGE_MAX_REQUEST_BYTES });
    server.addService('apiserver.v1.Storage', loadApiProto().apiserver.v1.Storage.service, storageHandlers(new MemoryStorage()));
    monitor = await MonitorServer.start('127.0.0.1:0', { metrics, ready: () => server.serving, addHealth: (s) => server.addHealthTo(s), logger });
  });

  after(async () => {
    await server.shutdown(0);
    await monitor.close();
  });

  test('before the service listens: live, not ready, gRPC health NOT_SERVING', async () => {
    assert.equal((await get(monitor.port, '/livez')).status, 200);
    const ready = await get(monitor.port, '/readyz');
    assert.equal(ready.status, 503);
    assert.equal((await get(monitor.port, '/healthz')).status, 503);
    assert.equal(await healthStatus(monitor.port), 'NOT_SERVING');
  });

  test('once listening: ready, gRPC health SERVING for the server and each service', async () => {
    grpcPort = await server.listen('127.0.0.1:0');
    const ready = await get(monitor.port, '/readyz');
    assert.deepEqual([ready.status, ready.body], [200, 'ok']);
    assert.equal(await healthStatus(monitor.port), 'SERVING');
    assert.equal(await healthStatus(monitor.port, 'apiserver.v1.Storage'), 'SERVING');
    await assert.rejects(healthStatus(monitor.port, 'no.such.Service'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
  });

  test('calls are counted by method and code, Exchange calls under their own method', async () => {
    const client = new StorageClient(`127.0.0.1:${grpcPort}`, { telemetry });
    try {
      const ref = { group: '', resource: 'configmaps', namespace: 'default', name: 'a' };
      await client.create(ref, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } });
      await client.get(ref);
      await assert.rejects(client.get({ ...ref, name: 'missing' }));
      await client.list({ ...ref, name: '' });
    } finally {
      client.close();
    }
    const { status, type, body } = await get(monitor.port, '/metrics');
    assert.equal(status, 200);
    assert.match(type, /^text\/plain; version=0\.0\.4/);
    const labels = { grpc_service: 'apiserver.v1.Storage', grpc_type: 'unary' };
    assert.equal(sample(body, 'grpc_server_handled_total', { ...labels, grpc_method: 'Create', grpc_code: 'OK' }), 1);
    assert.equal(sample(body, 'grpc_server_handled_total', { ...labels, grpc_method: 'Get', grpc_code: 'OK' }), 1);
    assert.equal(sample(body, 'grpc_server_handled_total', { ...labels, grpc_method: 'Get', grpc_code: 'NotFound' }), 1);
    assert.equal(sample(body, 'grpc_server_handled_total', { ...labels, grpc_method: 'List', grpc_code: 'OK' }), 1);
    // Methods not called yet show 0, so that rates start from the first scrape.
    assert.equal(sample(body, 'grpc_server_handled_total', { ...labels, grpc_method: 'Delete', grpc_code: 'OK' }), 0);
    assert.equal(sample(body, 'grpc_server_handling_seconds_count', { ...labels, grpc_method: 'Get' }), 2);
    assert.equal(sample(body, 'grpc_server_handling_seconds_bucket', { ...labels, grpc_method: 'Get', le: '+Inf' }), 2);
  });

  test('OpenMetrics when asked for; 404 and 405 elsewhere', async () => {
    const om = await get(monitor.port, '/metrics', { accept: 'application/openmetrics-text;version=1.0.0' });
    assert.match(om.type, /^application\/openmetrics-text/);
    assert.match(om.body, /# EOF\n$/);
    assert.equal((await get(monitor.port, '/nothing')).status, 404);
    const post = await fetch(`http://127.0.0.1:${monitor.port}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });

  test('a connection that sends bytes slowly is still told apart', async () => {
    const { connect } = await import('node:net');
    const socket = connect(monitor.port, '127.0.0.1');
    const answer = new Promise<string>((resolve, reject) => {
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString()));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('P');
    await new Promise((resolve) => setImmediate(resolve));
    socket.write('OST /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    assert.match(await answer, /^HTTP\/1\.1 405 /);
  });

  test('on shutdown: not ready, gRPC health NOT_SERVING, still live', async () => {
    await server.shutdown(0);
    assert.equal((await get(monitor.port, '/readyz')).status, 503);
    assert.equal(await healthStatus(monitor.port), 'NOT_SERVING');
    assert.equal((await get(monitor.port, '/livez')).status, 200);
  });
});

describe('hostPort', () => {
  test('host:port, [v6]:port and :port; anything else refused', () => {
    assert.deepEqual(hostPort('127.0.0.1:9090'), { host: '127.0.0.1', port: 9090 });
    assert.deepEqual(hostPort('[::1]:9090'), { host: '::1', port: 9090 });
    assert.deepEqual(hostPort(':9090'), { host: '0.0.0.0', port: 9090 });
    assert.throws(() => hostPort('9090'), /not a host:port/);
    assert.throws(() => hostPort('a:99999'), /not a host:port/);
  });
});
