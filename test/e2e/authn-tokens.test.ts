/**
 * Credentials the control plane must refuse, through the real processes: service-account tokens
 * that were tampered with, expired, meant for another audience, signed with another key or
 * issued for an account since deleted, and client certificates of an untrusted CA, are 401 with
 * kube's Status over REST and UNAUTHENTICATED over the typed gRPC API; each refusal is paired
 * with the same credential made right being accepted, so that no refusal passes for a broken
 * setup. A deleted ServiceAccount's token stops working within seconds. The admin client
 * certificate kubeconfig works with the real kubectl.
 *
 * Internal gRPC runs with mutual TLS here, so that a typed gRPC call presents a client
 * certificate (the launcher's, of the internal CA, which the client CA does not trust).
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SignJWT } from 'jose';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { ensureCA, issueCertificate, type KeyPair } from '../../lib/pki.ts';
import { PROTO_DIR } from '../../lib/proto.ts';
import { createKubectl, type Kubectl } from '../support/kubectl.ts';
import { createRestClient, type RestClient, type RestResponse } from '../support/rest-client.ts';

const NS = 'tokens';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** kube's body of every 401. */
const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

let dir: string;
let plane: ControlPlane;
let rest: RestClient;
let ca: string;
let kubectl: Kubectl;
let typed: grpc.Client;
let configMaps: grpc.ServiceDefinition;
let signingKey: KeyObject;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-authn-tokens-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs'), grpcTls: 'generate' });
  ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  const adminToken = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, adminToken);
  kubectl = createKubectl(plane.kubeconfig);
  signingKey = createPrivateKey(await readFile(join(dir, 'pki', 'sa.key'), 'utf8'));

  const definition = protoLoader.loadSync('apiserver/kinds/core_v1.proto', { includeDirs: [PROTO_DIR], longs: String, enums: String, oneofs: true });
  configMaps = definition['apiserver.kinds.core.v1.ConfigMaps'] as grpc.ServiceDefinition;
  // The launcher's identity of the internal CA: the gateway's gRPC port requires one.
  const tls = plane.grpcTls!;
  const credentials = grpc.credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile), {
    checkServerIdentity: (_name, cert) => checkServerIdentity('127.0.0.1', cert),
  });
  typed = new grpc.Client(plane.addresses.gateway, credentials, { 'grpc.ssl_target_name_override': 'localhost' });

  await created(rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } }));
  await serviceAccountThatMayView('robot');
  await created(rest.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seen' } } }));
});

after(async () => {
  typed?.close();
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function created(pending: Promise<RestResponse>): Promise<Record<string, unknown>> {
  const r = await pending;
  assert.ok(r.status === 201 || r.status === 200, `${r.status} ${r.body.toString()}`);
  return r.json();
}

/** A ServiceAccount in NS bound to the `view` ClusterRole there; resolves with its uid. */
async function serviceAccountThatMayView(name: string): Promise<string> {
  const sa = await created(rest.request('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } }));
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${name}-view` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
  };
  const existing = await rest.request('GET', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/${name}-view`);
  if (existing.status === 404) await created(rest.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, { body: binding }));
  return (sa.metadata as { uid: string }).uid;
}

/** A token of `name` from the TokenRequest API. */
async function tokenOf(name: string, spec: Record<string, unknown> = {}): Promise<string> {
  const answer = await created(
    rest.request('POST', `/api/v1/namespaces/${NS}/serviceaccounts/${name}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec },
    }),
  );
  return (answer.status as { token: string }).token;
}

/** kube's key id of a public key. */
function kid(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('base64url');
}

/** A service-account token signed here, with kube's claims, for account `name` (uid `uid`) of NS. */
function signToken(key: KeyObject, options: { name: string; uid: string; kid?: string; audience?: string; issuedAt?: number; expiresAt?: number }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const iat = options.issuedAt ?? now;
  return new SignJWT({ 'kubernetes.io': { namespace: NS, serviceaccount: { name: options.name, uid: options.uid } } })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? kid(createPublicKey(key)) })
    .setIssuer(ISSUER)
    .setSubject(`system:serviceaccount:${NS}:${options.name}`)
    .setAudience([options.audience ?? ISSUER])
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(options.expiresAt ?? now + 600)
    .setJti(randomUUID())
    .sign(key);
}

/** GET of the ConfigMaps of NS with a bearer token (null: none), and optionally a client certificate. */
function listConfigMaps(token: string | null, identity?: KeyPair): Promise<RestResponse> {
  return rest.request('GET', `/api/v1/namespaces/${NS}/configmaps`, { token, ...(identity === undefined ? {} : { identity }) });
}

/** The typed gRPC List of ConfigMaps in NS: OK, or the gRPC status code it failed with. */
function typedList(token: string | null): Promise<{ code: grpc.status; details: string; names: string[] }> {
  const method = configMaps.List!;
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    typed.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, { namespace: NS }, metadata, { deadline: Date.now() + 20_000 }, (err, answer) => {
      if (err !== null) resolve({ code: err.code, details: err.details, names: [] });
      else resolve({ code: grpc.status.OK, details: '', names: (answer as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name) });
    });
  });
}

/** Asserts that `token` is refused as kube refuses it, over REST and typed gRPC. */
async function refused(token: string): Promise<void> {
  const r = await listConfigMaps(token);
  assert.equal(r.status, 401, r.body.toString());
  assert.deepEqual(r.json(), UNAUTHORIZED);
  const g = await typedList(token);
  assert.equal(g.code, grpc.status.UNAUTHENTICATED, g.details);
  assert.equal(g.details, 'Unauthorized');
}

/** Asserts that `token` lists the ConfigMaps of NS over REST and typed gRPC. */
async function accepted(token: string): Promise<void> {
  const r = await listConfigMaps(token);
  assert.equal(r.status, 200, r.body.toString());
  const g = await typedList(token);
  assert.equal(g.code, grpc.status.OK, g.details);
  assert.ok(g.names.includes('seen'));
}

/** Replaces one character of the signature's middle (the last one may carry only padding bits). */
function flipSignature(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const i = Math.floor(signature.length / 2);
  const swapped = signature[i] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, i)}${swapped}${signature.slice(i + 1)}`;
}

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
}

function encodePart(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('service-account tokens', () => {
  test('a token from the TokenRequest API is accepted over REST and typed gRPC', async () => {
    await accepted(await tokenOf('robot'));
  });

  test('tampered tokens are 401: a changed claim, a changed signature, alg none', async () => {
    const token = await tokenOf('robot');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // Another account, same signature.
    const claims = decodePart(payload) as { sub: string; 'kubernetes.io': { serviceaccount: { name: string } } };
    claims.sub = `system:serviceaccount:${NS}:default`;
    claims['kubernetes.io'].serviceaccount.name = 'default';
    await refused(`${header}.${encodePart(claims)}.${signature}`);
    // A longer life, same signature.
    await refused(`${header}.${encodePart({ ...decodePart(payload), exp: Math.floor(Date.now() / 1000) + 86_400 * 365 })}.${signature}`);
    await refused(flipSignature(token));
    // Unsigned, as a forger would like it read.
    await refused(`${encodePart({ alg: 'none', typ: 'JWT' })}.${payload}.`);
    // The token itself still works: only the changes were refused.
    await accepted(token);
  });

  test('an expired token is 401 (past kube\'s minute of leeway); the same token unexpired is accepted', async () => {
    const uid = await uidOf('robot');
    const now = Math.floor(Date.now() / 1000);
    await accepted(await signToken(signingKey, { name: 'robot', uid }));
    await refused(await signToken(signingKey, { name: 'robot', uid, issuedAt: now - 3600, expiresAt: now - 120 }));
    // Not valid yet, likewise.
    await refused(await signToken(signingKey, { name: 'robot', uid, issuedAt: now + 600, expiresAt: now + 1200 }));
  });

  test('a token for another audience is 401 (kubectl create token --audience)', async () => {
    const r = await kubectl(['create', 'token', 'robot', '-n', NS, '--audience', 'https://elsewhere.example']);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    assert.deepEqual(decodePart(token.split('.')[1]!).aud, ['https://elsewhere.example']);
    await refused(token);
    // The API's own audience, asked for by name, is accepted.
    const own = await kubectl(['create', 'token', 'robot', '-n', NS, '--audience', ISSUER]);
    assert.equal(own.code, 0, own.stderr);
    await accepted(own.stdout.trim());
  });

  test('a token signed with another key is 401, whether it names the real key id or its own', async () => {
    const uid = await uidOf('robot');
    const { privateKey: other } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await refused(await signToken(other, { name: 'robot', uid, kid: kid(createPublicKey(signingKey)) }));
    await refused(await signToken(other, { name: 'robot', uid }));
  });

  test('kubectl with a refused token says kube\'s words', async () => {
    const r = await kubectl(['get', 'configmaps', '-n', NS, '--token', flipSignature(await tokenOf('robot'))]);
    assert.notEqual(r.code, 0);
    // What kubectl says of kube-apiserver's 401 to its discovery requests.
    assert.match(r.stderr, /^error: You must be logged in to the server \(the server has asked for the client to provide credentials\)$/m);
  });

  test('a deleted ServiceAccount\'s token stops working within seconds, and stays refused when the name is re-created', async () => {
    await serviceAccountThatMayView('doomed');
    const token = await tokenOf('doomed');
    await accepted(token);
    const deleted = await rest.request('DELETE', `/api/v1/namespaces/${NS}/serviceaccounts/doomed`);
    assert.equal(deleted.status, 200, deleted.body.toString());
    const since = Date.now();
    await until(async () => (await listConfigMaps(token)).status === 401 && (await typedList(token)).code === grpc.status.UNAUTHENTICATED, 5_000, 'the deleted account\'s token to be refused');
    const lag = Date.now() - since;
    await refused(token);
    // The same name again is another account (another uid): the old token stays refused.
    await serviceAccountThatMayView('doomed');
    const fresh = await tokenOf('doomed');
    await accepted(fresh);
    await refused(token);
    assert.ok(lag < 5_000, `refused after ${lag} ms`);
  });
});

describe('client certificates', () => {
  let clientCa: KeyPair;
  let foreignCa: KeyPair;

  before(async () => {
    clientCa = { certPem: await readFile(join(dir, 'pki', 'client-ca.crt'), 'utf8'), keyPem: await readFile(join(dir, 'pki', 'client-ca.key'), 'utf8') };
    foreignCa = await ensureCA(join(dir, 'foreign'), 'not-the-client-ca');
  });

  test('a certificate of the client CA is its subject (CN user, O groups)', async () => {
    const jane = await issueCertificate(clientCa, { commonName: 'jane', organizations: ['system:masters'], usage: 'client' });
    const r = await listConfigMaps(null, jane);
    assert.equal(r.status, 200, r.body.toString());
    const plain = await issueCertificate(clientCa, { commonName: 'joe', usage: 'client' });
    const refusedJoe = await listConfigMaps(null, plain);
    assert.equal(refusedJoe.status, 403);
    assert.match(String(refusedJoe.json().message), /^configmaps is forbidden: User "joe" cannot list resource "configmaps"/);
  });

  test('an untrusted certificate is 401, even naming system:masters; a valid token with it wins', async () => {
    const mallory = await issueCertificate(foreignCa, { commonName: 'mallory', organizations: ['system:masters'], usage: 'client' });
    const r = await listConfigMaps(null, mallory);
    assert.equal(r.status, 401, r.body.toString());
    assert.deepEqual(r.json(), UNAUTHORIZED);
    // kube's union: the token authenticates, as the account (which may list here, not elsewhere).
    const token = await tokenOf('robot');
    assert.equal((await listConfigMaps(token, mallory)).status, 200);
    const elsewhere = await rest.request('GET', '/api/v1/namespaces/default/configmaps', { token });
    assert.equal(elsewhere.status, 403);
  });

  test('a client CA certificate for servers only, or expired, is 401', async () => {
    const server = await issueCertificate(clientCa, { commonName: 'jane', organizations: ['system:masters'], usage: 'server' });
    assert.equal((await listConfigMaps(null, server)).status, 401);
    // Valid for a second from now (notBefore is backdated): expired once that second is past.
    const shortLived = await issueCertificate(clientCa, { commonName: 'jane', organizations: ['system:masters'], usage: 'client', validDays: 1 / 86_400 });
    const notAfter = new X509Certificate(shortLived.certPem).validToDate.getTime();
    await until(async () => Date.now() > notAfter + 1_000, 5_000, 'the certificate to expire');
    const r = await listConfigMaps(null, shortLived);
    assert.equal(r.status, 401, r.body.toString());
    assert.deepEqual(r.json(), UNAUTHORIZED);
  });

  test('typed gRPC: a certificate the client CA does not trust is UNAUTHENTICATED without a token', async () => {
    const g = await typedList(null);
    assert.equal(g.code, grpc.status.UNAUTHENTICATED, g.details);
    assert.equal(g.details, 'Unauthorized');
  });

  test('admin-cert.kubeconfig works with the real kubectl', async () => {
    const admin = createKubectl(join(dir, 'admin-cert.kubeconfig'));
    const whoami = await admin(['auth', 'whoami', '-o', 'json']);
    assert.equal(whoami.code, 0, whoami.stderr);
    const status = (JSON.parse(whoami.stdout) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    assert.equal(status.username, 'kubernetes-admin');
    assert.deepEqual([...status.groups].sort(), ['system:authenticated', 'system:masters']);
    const made = await admin(['create', 'configmap', 'by-certificate', '-n', NS, '--from-literal=a=b']);
    assert.equal(made.code, 0, made.stderr);
    const got = await admin(['get', 'configmap', 'by-certificate', '-n', NS, '-o', 'jsonpath={.data.a}']);
    assert.equal(got.stdout, 'b', got.stderr);
    const can = await admin(['auth', 'can-i', 'delete', 'nodes']);
    assert.equal(can.stdout.trim(), 'yes', can.stderr);
  });
});

async function uidOf(name: string): Promise<string> {
  const r = await rest.request('GET', `/api/v1/namespaces/${NS}/serviceaccounts/${name}`);
  assert.equal(r.status, 200, r.body.toString());
  return (r.json().metadata as { uid: string }).uid;
}

/** Resolves once `condition` holds, checking every 100 ms; rejects after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
