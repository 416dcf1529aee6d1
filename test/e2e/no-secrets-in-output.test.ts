/**
 * No secret leaves the control plane by a side door. One run uses every kind of credential the
 * way clients do, good and bad (static tokens, a token file reloaded and then replaced by an
 * invalid one, service-account tokens from the TokenRequest API and kubectl, tampered,
 * expired, wrong-audience and wrong-key tokens, a deleted account's token, TokenReview, client
 * certificates trusted and untrusted over REST and typed gRPC, impersonation), with every
 * process logging at debug level and exporting its spans, and the gateway auditing every
 * request at RequestResponse (bodies wherever kube's levels allow them; a Secret is written
 * too). Then every log line of every process (etcd and Redis included), the audit log, every
 * exported span (the OTLP requests whole) and every error
 * body (REST Status, gRPC status and its details, kubectl's stderr, TokenReview errors) is
 * searched for each token (whole, and a JWT's signature alone), the service-account signing
 * key and every private key of the run (PEM body and its lines, DER in base64, base64url and
 * hex, the private JWK parameters, the PEM in base64 as kubeconfigs carry it; the raw DER in
 * the log files' bytes): none may be found.
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SignJWT } from 'jose';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { ensureCA, issueCertificate, type KeyPair } from '../../lib/pki.ts';
import { PROTO_DIR } from '../../lib/proto.ts';
import { createKubectl, type Kubectl } from '../support/kubectl.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { createRestClient, type RestClient, type RestResponse } from '../support/rest-client.ts';

const NS = 'secret-run';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';

let dir: string;
let plane: ControlPlane | undefined;
let receiver: OtlpReceiver;
let rest: RestClient;
let ca: string;
let kubectl: Kubectl;
let typed: grpc.Client;
let configMaps: grpc.ServiceDefinition;
const lines: string[] = [];

/** What must never appear: each form of each secret, and what it is. */
const secrets = new Map<string, string>();
/** The DER of every private key, searched for in the log files' bytes. */
const keyDers = new Map<string, Buffer>();
/** Every error answer of the run, as text. */
const errorBodies: string[] = [];

function secretToken(label: string, token: string): void {
  secrets.set(token, `token ${label}`);
  const parts = token.split('.');
  // A JWT's signature alone is what makes its claims a credential.
  if (parts.length === 3 && (parts[2] ?? '').length >= 40) secrets.set(parts[2]!, `signature of token ${label}`);
}

/** Every form of a private key (PEM) worth searching for. */
function secretKey(label: string, pem: string): void {
  const key = createPrivateKey(pem);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  keyDers.set(label, der);
  const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  secrets.set(body, `PEM body of ${label}`);
  // Full lines only: a short last line of an EC key holds only its public point.
  for (const line of pem.split('\n')) if (/^[A-Za-z0-9+/]{64}$/.test(line)) secrets.set(line, `a PEM line of ${label}`);
  secrets.set(der.toString('base64'), `DER (base64) of ${label}`);
  secrets.set(der.toString('base64url'), `DER (base64url) of ${label}`);
  secrets.set(der.toString('hex'), `DER (hex) of ${label}`);
  secrets.set(Buffer.from(pem).toString('base64').slice(0, 200), `PEM in base64 (as in a kubeconfig) of ${label}`);
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
    const value = jwk[part];
    if (typeof value === 'string' && value.length >= 20) {
      secrets.set(value, `private JWK ${part} of ${label}`);
      secrets.set(Buffer.from(value, 'base64url').toString('hex'), `private ${part} (hex) of ${label}`);
      secrets.set(Buffer.from(value, 'base64url').toString('base64'), `private ${part} (base64) of ${label}`);
    }
  }
}

/** What of `secrets` / `keyDers` occurs in the texts and buffers given. */
function leaks(texts: Iterable<{ where: string; text: string }>, buffers: Iterable<{ where: string; bytes: Buffer }> = []): string[] {
  const found: string[] = [];
  for (const { where, text } of texts) {
    for (const [form, what] of secrets) if (text.includes(form)) found.push(`${what} in ${where}`);
  }
  for (const { where, bytes } of buffers) {
    for (const [what, der] of keyDers) if (bytes.includes(der)) found.push(`raw DER of ${what} in ${where}`);
  }
  return found;
}

/** An audit policy recording every request at RequestResponse, written into the run's folder. */
async function auditEverything(): Promise<string> {
  const file = join(dir, 'audit-policy.yaml');
  await writeFile(file, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: RequestResponse\n');
  return file;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-no-secrets-'));
  receiver = await startOtlpReceiver();
  plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    grpcTls: 'generate',
    env: {
      LOG_LEVEL: 'debug',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
    // Every request authenticated and authorized by the auth service: the most places a credential passes.
    // Every request audited with its bodies where the level allows them (never a Secret's, a TokenReview's or a TokenRequest's).
    flags: { gateway: ['--auth-cache-ttl=0', `--audit-policy-file=${await auditEverything()}`, `--audit-log-path=${join(dir, 'logs', 'audit.log')}`] },
    onLine: (line) => lines.push(line),
  });
  ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  const adminToken = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  secretToken('admin (token file)', adminToken);
  rest = createRestClient(`https://${plane.addresses.https}`, ca, adminToken);
  kubectl = createKubectl(plane.kubeconfig);
  const definition = protoLoader.loadSync('apiserver/kinds/core_v1.proto', { includeDirs: [PROTO_DIR], longs: String, enums: String, oneofs: true });
  configMaps = definition['apiserver.kinds.core.v1.ConfigMaps'] as grpc.ServiceDefinition;
  const tls = plane.grpcTls!;
  typed = new grpc.Client(
    plane.addresses.gateway,
    grpc.credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile), {
      checkServerIdentity: (_name, cert) => checkServerIdentity('127.0.0.1', cert),
    }),
    { 'grpc.ssl_target_name_override': 'localhost' },
  );
});

after(async () => {
  typed?.close();
  await plane?.stop();
  await receiver?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A REST request; a non-2xx answer's body is kept as an error body. */
async function send(method: string, path: string, options: { body?: unknown; token?: string | null; headers?: Record<string, string>; identity?: KeyPair } = {}): Promise<RestResponse> {
  const r = await rest.request(method, path, options);
  if (r.status >= 300) errorBodies.push(`${method} ${path} -> ${r.status}: ${r.body.toString()}`);
  return r;
}

async function ok(pending: Promise<RestResponse>): Promise<Record<string, unknown>> {
  const r = await pending;
  assert.ok(r.status < 300, `${r.status} ${r.body.toString()}`);
  return r.json();
}

/** A typed gRPC call; an error's message, Status details and every trailer are kept as an error body. */
function typedCall(method: 'List' | 'Create', request: object, token: string | null): Promise<grpc.status> {
  const def = configMaps[method]!;
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    typed.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata, { deadline: Date.now() + 20_000 }, (err) => {
      if (err === null) return resolve(grpc.status.OK);
      const trailers = Object.entries(err.metadata.toJSON()).map(([k, vs]) => `${k}: ${vs.map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)).join(', ')}`);
      errorBodies.push(`gRPC ${method} -> ${grpc.status[err.code]}: ${err.details}\n${trailers.join('\n')}`);
      resolve(err.code);
    });
  });
}

/** kubectl; a failure's stderr is kept as an error body. */
async function kube(args: string[], as: Kubectl = kubectl): Promise<{ code: number | null; stdout: string }> {
  const r = await as(args);
  if (r.code !== 0) errorBodies.push(`kubectl ${args[0] ?? ''} -> ${r.code}: ${r.stderr}`);
  return r;
}

async function tokenOf(name: string, spec: Record<string, unknown> = {}): Promise<string> {
  const answer = await ok(send('POST', `/api/v1/namespaces/${NS}/serviceaccounts/${name}/token`, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec } }));
  const token = (answer.status as { token: string }).token;
  secretToken(`of ${name} (TokenRequest)`, token);
  return token;
}

function kid(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('base64url');
}

function signToken(key: KeyObject, uid: string, times: { iat: number; exp: number }, keyId = kid(createPublicKey(key))): Promise<string> {
  return new SignJWT({ 'kubernetes.io': { namespace: NS, serviceaccount: { name: 'robot', uid } } })
    .setProtectedHeader({ alg: 'RS256', kid: keyId })
    .setIssuer(ISSUER)
    .setSubject(`system:serviceaccount:${NS}:robot`)
    .setAudience([ISSUER])
    .setIssuedAt(times.iat)
    .setNotBefore(times.iat)
    .setExpirationTime(times.exp)
    .setJti(randomUUID())
    .sign(key);
}

function tamper(token: string): string[] {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const longer = Buffer.from(JSON.stringify({ ...claims, exp: Number(claims.exp) + 86_400 })).toString('base64url');
  const i = Math.floor(signature.length / 2);
  const flipped = `${signature.slice(0, i)}${signature[i] === 'A' ? 'B' : 'A'}${signature.slice(i + 1)}`;
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  return [`${header}.${longer}.${signature}`, `${header}.${payload}.${flipped}`, `${none}.${payload}.`, `${header}.${Buffer.from('{"iss":').toString('base64url')}.${signature}`];
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Replaces the token file whole (as an operator's tooling would: a new file renamed over it). */
async function writeTokenFile(text: string): Promise<void> {
  const file = join(dir, 'tokens.csv');
  await writeFile(`${file}.new`, text, { mode: 0o600 });
  await rename(`${file}.new`, file);
}

test('a run with tokens, certificates and keys leaves none of them in logs, spans or error bodies', async (t) => {
  // --- service accounts and their tokens ---------------------------------------------------
  await ok(send('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } }));
  for (const name of ['robot', 'doomed']) {
    await ok(send('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } }));
    await ok(
      send('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: `${name}-view` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
        },
      }),
    );
  }
  const robotUid = ((await ok(send('GET', `/api/v1/namespaces/${NS}/serviceaccounts/robot`))).metadata as { uid: string }).uid;
  const robot = await tokenOf('robot');
  const fromKubectl = await kube(['create', 'token', 'robot', '-n', NS, '--duration', '20m']);
  assert.equal(fromKubectl.code, 0);
  const kubectlToken = fromKubectl.stdout.trim();
  secretToken('of robot (kubectl create token)', kubectlToken);
  const elsewhere = await kube(['create', 'token', 'robot', '-n', NS, '--audience', 'https://elsewhere.example']);
  const otherAudience = elsewhere.stdout.trim();
  secretToken('for another audience', otherAudience);

  // Used as they are: allowed, and refused (403) what the account may not do.
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: robot })).status, 200);
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/secrets`, { token: robot })).status, 403);
  assert.equal((await send('POST', `/api/v1/namespaces/${NS}/configmaps`, { token: robot, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no' } } })).status, 403);
  assert.equal((await send('GET', '/api/v1/namespaces/default/configmaps', { token: robot, headers: { 'Impersonate-User': 'admin' } })).status, 403);
  assert.equal(await typedCall('List', { namespace: NS }, robot), grpc.status.OK);
  assert.equal(await typedCall('Create', { namespace: NS, object: { metadata: { name: 'no' } } }, robot), grpc.status.PERMISSION_DENIED);
  assert.equal((await kube(['get', 'secrets', '-n', NS, '--token', kubectlToken])).code, 1);
  assert.equal((await send('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token: robot, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } })).status, 201);

  // --- bad tokens ------------------------------------------------------------------------
  const signingKeyPem = await readFile(join(dir, 'pki', 'sa.key'), 'utf8');
  const signingKey = createPrivateKey(signingKeyPem);
  const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  secretKey('a key of no one\'s (wrong-key tokens)', otherKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const now = Math.floor(Date.now() / 1000);
  const bad = [
    ...tamper(robot),
    otherAudience,
    await signToken(signingKey, robotUid, { iat: now - 3600, exp: now - 120 }),
    await signToken(signingKey, robotUid, { iat: now + 600, exp: now + 1200 }),
    await signToken(otherKey, robotUid, { iat: now, exp: now + 600 }, kid(createPublicKey(signingKey))),
    await signToken(signingKey, randomUUID(), { iat: now, exp: now + 600 }),
    randomBytes(32).toString('base64url'),
  ];
  for (const [i, token] of bad.entries()) {
    secretToken(`bad #${i}`, token);
    assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token })).status, 401, `bad #${i}`);
    assert.equal(await typedCall('List', { namespace: NS }, token), grpc.status.UNAUTHENTICATED, `bad #${i}`);
  }
  assert.notEqual((await kube(['get', 'configmaps', '-n', NS, '--token', bad[1]!])).code, 0);
  // Malformed Authorization headers.
  assert.equal((await send('GET', '/api/v1/namespaces', { token: null, headers: { Authorization: `Bearer ${robot} ${robot}` } })).status, 401);
  assert.equal((await send('GET', '/api/v1/namespaces', { token: null, headers: { Authorization: `Basic ${Buffer.from(`robot:${robot}`).toString('base64')}` } })).status, 401);

  // TokenReview of good and bad tokens: its errors are error bodies too.
  for (const token of [robot, otherAudience, ...bad.slice(0, 3)]) {
    const review = await ok(send('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } }));
    const status = review.status as { error?: string };
    if (status.error !== undefined) errorBodies.push(`TokenReview error: ${status.error}`);
  }

  // TokenRequest refusals.
  assert.equal((await send('POST', `/api/v1/namespaces/${NS}/serviceaccounts/robot/token`, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 10 } } })).status, 422);
  assert.equal((await send('POST', `/api/v1/namespaces/${NS}/serviceaccounts/nobody/token`, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} } })).status, 404);
  assert.ok((await send('POST', `/api/v1/namespaces/${NS}/serviceaccounts/robot/token`, { token: robot, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} } })).status >= 400);

  // A Secret: its data is a secret too, for the audit log above all.
  const secretValue = `s3cret-${randomBytes(24).toString('hex')}`;
  secrets.set(secretValue, 'the data of a Secret');
  secrets.set(Buffer.from(secretValue).toString('base64'), 'the data of a Secret (base64)');
  await ok(send('POST', `/api/v1/namespaces/${NS}/secrets`, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kept' }, stringData: { password: secretValue } } }));
  await ok(send('PUT', `/api/v1/namespaces/${NS}/secrets/kept`, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kept' }, data: { password: Buffer.from(secretValue).toString('base64') } } }));

  // A deleted account's token.
  const doomed = await tokenOf('doomed');
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: doomed })).status, 200);
  await ok(send('DELETE', `/api/v1/namespaces/${NS}/serviceaccounts/doomed`));
  await until(async () => (await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: doomed })).status === 401, 5_000, 'the deleted account\'s token to be refused');

  // --- the token file: a new token, then an invalid file ----------------------------------
  const original = await readFile(join(dir, 'tokens.csv'), 'utf8');
  const staticToken = randomBytes(32).toString('base64url');
  secretToken('static-user (token file)', staticToken);
  await writeTokenFile(`${original}${staticToken},static-user,${randomUUID()},"team"\n`);
  await until(async () => (await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: staticToken })).status === 403, 10_000, 'the new static token');
  const invalidToken = randomBytes(32).toString('base64url');
  secretToken('of an invalid token file', invalidToken);
  const from = lines.length;
  await writeTokenFile(`${original}${invalidToken},"unterminated\n${invalidToken}\n`);
  await until(async () => lines.slice(from).some((l) => l.includes('the new file is invalid')), 10_000, 'the invalid token file to be noticed');
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: invalidToken })).status, 401);
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: staticToken })).status, 403, 'the last good file stays in force');

  // --- client certificates ----------------------------------------------------------------
  const clientCa = { certPem: await readFile(join(dir, 'pki', 'client-ca.crt'), 'utf8'), keyPem: await readFile(join(dir, 'pki', 'client-ca.key'), 'utf8') };
  const foreignCa = await ensureCA(join(dir, 'foreign'), 'not-the-client-ca');
  const jane = await issueCertificate(clientCa, { commonName: 'jane', organizations: ['team'], usage: 'client' });
  const mallory = await issueCertificate(foreignCa, { commonName: 'mallory', organizations: ['system:masters'], usage: 'client' });
  const serverOnly = await issueCertificate(clientCa, { commonName: 'jane', usage: 'server' });
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: null, identity: jane })).status, 403);
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: null, identity: mallory })).status, 401);
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: null, identity: serverOnly })).status, 401);
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/configmaps`, { token: bad[0]!, identity: mallory })).status, 401);
  assert.equal((await send('GET', `/api/v1/namespaces/${NS}/secrets`, { token: robot, identity: mallory })).status, 403);
  // Typed gRPC presents the internal CA's certificate, which the client CA does not trust.
  assert.equal(await typedCall('List', { namespace: NS }, null), grpc.status.UNAUTHENTICATED);
  const admin = createKubectl(join(dir, 'admin-cert.kubeconfig'));
  assert.equal((await kube(['get', 'configmaps', '-n', NS], admin)).code, 0);
  assert.notEqual((await kube(['get', 'configmap', 'missing', '-n', NS], admin)).code, 0);
  assert.notEqual((await kube(['get', 'secrets', '-n', NS, '--as', 'system:serviceaccount:secret-run:robot'])).code, 0);
  for (const [label, pair] of [['jane\'s client certificate', jane], ['mallory\'s client certificate', mallory], ['a server certificate', serverOnly], ['a foreign CA', foreignCa]] as const) {
    secretKey(label, pair.keyPem);
  }
  // The discovery documents are public: they must hold no private key part.
  const discovery = [await send('GET', '/.well-known/openid-configuration', { token: null }), await send('GET', '/openid/v1/jwks', { token: null })];
  for (const d of discovery) assert.equal(d.status, 200, d.body.toString());

  // --- collect ------------------------------------------------------------------------------
  // Every private key of the data directory (CAs, serving and internal certificates, the signing key).
  const files = await readdir(dir, { recursive: true });
  for (const file of files) {
    if (file.startsWith('logs') || file.startsWith('etcd') || file.startsWith('redis')) continue;
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    for (const block of text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g) ?? []) secretKey(file, block);
  }
  // And the admin certificate's, which is only in admin-cert.kubeconfig.
  const adminKey = /client-key-data: "?([A-Za-z0-9+/=]+)"?/.exec(await readFile(join(dir, 'admin-cert.kubeconfig'), 'utf8'))?.[1];
  assert.ok(adminKey !== undefined, 'admin-cert.kubeconfig has a client key');
  secretKey('the admin client certificate', Buffer.from(adminKey, 'base64').toString());
  assert.ok([...secrets.values()].some((v) => v.includes('pki/sa.key')), 'the signing key is among the secrets');

  // Spans: whatever is still buffered is exported when the processes stop.
  const spansBefore = receiver.exports.length;
  await plane!.stop();
  const logDir = join(dir, 'logs');
  const logFiles = await Promise.all((await readdir(logDir)).map(async (f) => ({ where: `logs/${f}`, bytes: await readFile(join(logDir, f)) })));
  const exported = receiver.exports.join('\n');
  plane = undefined;

  // The search would see a leak: the haystack is real, and a planted secret is found.
  for (const name of ['storage', 'auth', 'admission', 'watch', 'gateway', 'etcd', 'redis']) {
    assert.ok(lines.some((l) => l.startsWith(`[${name}] `)), `no line of ${name}`);
    assert.ok(logFiles.some((f) => f.where === `logs/${name}.log` && f.bytes.length > 0), `no log file of ${name}`);
  }
  assert.ok(spansBefore > 0 && receiver.spans.some((s) => s.service === 'auth' && s.name.endsWith('Authenticate')), 'spans of the auth service were exported');
  // The audit log is part of the haystack, and holds bodies where the level allows them.
  const audit = logFiles.find((f) => f.where === 'logs/audit.log')?.bytes.toString() ?? '';
  const events = audit.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: string; verb: string; objectRef?: { resource?: string; subresource?: string }; requestObject?: unknown; responseObject?: unknown });
  assert.ok(events.some((e) => e.level === 'RequestResponse' && e.objectRef?.resource === 'serviceaccounts' && e.verb === 'create' && e.requestObject !== undefined && e.responseObject !== undefined), 'bodies are audited');
  for (const [resource, subresource] of [['secrets', undefined], ['tokenreviews', undefined], ['serviceaccounts', 'token']]) {
    const of = events.filter((e) => e.objectRef?.resource === resource && e.objectRef?.subresource === subresource && e.verb !== 'list' && e.verb !== 'get');
    assert.ok(of.length > 0, `audit events of ${resource}${subresource === undefined ? '' : `/${subresource}`}`);
    assert.deepEqual(of.filter((e) => e.level !== 'Metadata' || e.requestObject !== undefined || e.responseObject !== undefined), [], `${resource} audited at Metadata only`);
  }
  assert.ok(errorBodies.length >= 30, `${errorBodies.length} error bodies`);
  assert.deepEqual(leaks([{ where: 'a planted line', text: `x ${robot} y` }]).length > 0, true);
  assert.ok(leaks([], [{ where: 'planted bytes', bytes: Buffer.concat([Buffer.from('x'), keyDers.values().next().value!, Buffer.from('y')]) }]).length > 0);
  assert.ok(leaks([{ where: 'a planted line', text: signingKeyPem }]).some((l) => l.includes('sa.key')));

  const found = leaks(
    [
      ...lines.map((text, i) => ({ where: `output line ${i}`, text })),
      ...logFiles.map((f) => ({ where: f.where, text: f.bytes.toString() })),
      { where: 'exported spans', text: exported },
      ...errorBodies.map((text, i) => ({ where: `error body ${i} (${text.slice(0, 60)})`, text })),
      ...discovery.map((d, i) => ({ where: `discovery document ${i}`, text: d.body.toString() })),
    ],
    logFiles,
  );
  t.diagnostic(`${secrets.size} forms of ${keyDers.size} keys and the tokens searched for in ${lines.length} output lines, ${logFiles.length} log files, ${receiver.exports.length} span exports (${receiver.spans.length} spans) and ${errorBodies.length} error bodies`);
  assert.deepEqual(found, [], `secrets found:\n${found.join('\n')}`);
});
