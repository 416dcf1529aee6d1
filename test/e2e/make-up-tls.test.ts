/**
 * `GRPC_TLS=1 make up`: scripts/up.ts as a child process makes an internal CA and a certificate
 * per service, starts everything with mutual TLS on internal gRPC (its own health checks
 * presenting a client certificate), and serves the Kubernetes REST API as usual (auditing its
 * changes, as make up does by default); an internal port refuses a plaintext client and a TLS
 * client without a certificate.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { healthStatus } from '../../lib/local/control-plane.ts';
import { issueInternalCertificates } from '../../lib/local/grpc-pki.ts';
import { waitUntil } from '../../lib/local/process.ts';
import { startMakeUp, type MakeUp } from '../support/make-up.ts';

let up: MakeUp;

before(async () => {
  up = await startMakeUp('tls', { GRPC_TLS: '1' });
});

after(async () => {
  const status = await up?.stop();
  if (status !== undefined) assert.deepEqual(status, { code: 0, signal: null }, 'SIGTERM stops make up cleanly');
});

const grpcDir = () => join(up.dir, 'pki', 'grpc');

test('it says internal gRPC is mutual TLS, with a CA and a certificate per service under $DATA_DIR/pki/grpc', async () => {
  assert.ok(up.lines.some((l) => /^\s+internal gRPC:\s+mutual TLS \(CA .*pki\/grpc\/ca\.crt\)$/.test(l)), up.lines.join('\n'));
  const ca = new X509Certificate(await readFile(join(grpcDir(), 'ca.crt')));
  for (const name of ['storage', 'auth', 'admission', 'watch', 'gateway', 'launcher']) {
    const cert = new X509Certificate(await readFile(join(grpcDir(), `${name}.crt`)));
    assert.ok(cert.verify(ca.publicKey), `${name}.crt is signed by the internal CA`);
    assert.match(cert.subject, new RegExp(`CN=${name}`));
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  }
  // Not the cluster CA that kubectl trusts.
  assert.notEqual(await readFile(join(up.dir, 'pki', 'ca.crt'), 'utf8'), await readFile(join(grpcDir(), 'ca.crt'), 'utf8'));
});

test('the REST API serves with the admin token', async () => {
  const rest = await up.rest();
  const namespaces = await rest.request('GET', '/api/v1/namespaces');
  assert.equal(namespaces.status, 200, namespaces.body.toString());
  const names = (namespaces.json().items as { metadata: { name: string } }[]).map((n) => n.metadata.name);
  assert.ok(names.includes('default'), names.join(', '));
  const created = await rest.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'over-mtls' }, data: { a: 'b' } } });
  assert.equal(created.status, 201, created.body.toString());
  const read = await rest.request('GET', '/api/v1/namespaces/default/configmaps/over-mtls');
  assert.equal(read.status, 200);
  assert.deepEqual(read.json().data, { a: 'b' });
});

test('make up audits changes into $DATA_DIR/logs/audit.log with the shipped policy, and says so', async () => {
  assert.ok(up.lines.some((l) => /^\s+audit log:\s+.*logs\/audit\.log \(policy .*examples\/audit-policy\.yaml\)$/.test(l)), up.lines.join('\n'));
  const rest = await up.rest();
  const created = await rest.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'audited-by-make-up' } } });
  assert.equal(created.status, 201, created.body.toString());
  const auditId = created.headers['audit-id'];
  let event: { verb: string; level: string; objectRef?: { name?: string }; responseStatus?: { code: number } } | undefined;
  await waitUntil(
    'the audit event of the create',
    async () => {
      const text = await readFile(join(up.dir, 'logs', 'audit.log'), 'utf8').catch(() => '');
      event = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { auditID: string } & NonNullable<typeof event>)
        .find((e) => e.auditID === auditId);
      return event !== undefined;
    },
    { timeoutMs: 10_000 },
  );
  assert.deepEqual([event!.verb, event!.level, event!.objectRef?.name, event!.responseStatus?.code], ['create', 'Metadata', 'audited-by-make-up', 201]);
});

test('internal ports refuse plaintext and TLS without a client certificate, and answer the launcher certificate', async () => {
  const launcher = { caFile: join(grpcDir(), 'ca.crt'), certFile: join(grpcDir(), 'launcher.crt'), keyFile: join(grpcDir(), 'launcher.key') };
  const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
  const Health = (grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client } } };
  }).grpc.health.v1.Health;
  const caOnly = grpc.credentials.createSsl(await readFile(launcher.caFile));
  for (const name of ['storage', 'auth', 'admission', 'watch', 'gateway'] as const) {
    const address = up.addresses[name];
    assert.equal(await healthStatus(address, { tls: launcher }), 'SERVING', `${name} with the launcher's certificate`);
    assert.match(await healthStatus(address), /^UNAVAILABLE/, `${name} in plaintext`);
    // The server asks for a client certificate and rejects the handshake without one.
    const client = new Health(address, caOnly, { 'grpc.ssl_target_name_override': 'localhost' }) as grpc.Client & {
      Check(request: { service: string }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null) => void): void;
    };
    const err = await new Promise<grpc.ServiceError | null>((resolve) => {
      client.Check({ service: '' }, { deadline: Date.now() + 5_000 }, (e) => resolve(e));
    });
    client.close();
    assert.equal(err?.code, grpc.status.UNAVAILABLE, `${name} without a client certificate: ${err?.details}`);
  }
});

test('with GRPC_TLS_CA_FILE / _CERT_FILE / _KEY_FILE set (one identity for all, as deploy/ does), make up uses those files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'make-up-own-certs-'));
  let own: MakeUp | undefined;
  try {
    const { shared } = await issueInternalCertificates(dir, ['shared'], []);
    own = await startMakeUp('own-certs', { GRPC_TLS_CA_FILE: shared.caFile, GRPC_TLS_CERT_FILE: shared.certFile, GRPC_TLS_KEY_FILE: shared.keyFile });
    // A path outside the working directory is shown absolute (one under it, relative).
    assert.ok(own.lines.some((l) => l.includes(`mutual TLS (CA ${resolve(shared.caFile)})`)), own.lines.join('\n'));
    const namespaces = await (await own.rest()).request('GET', '/api/v1/namespaces/default');
    assert.equal(namespaces.status, 200, namespaces.body.toString());
    assert.equal(await healthStatus(own.addresses.storage, { tls: shared }), 'SERVING');
    assert.match(await healthStatus(own.addresses.storage), /^UNAVAILABLE/);
  } finally {
    try {
      if (own !== undefined) assert.deepEqual(await own.stop(), { code: 0, signal: null });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
