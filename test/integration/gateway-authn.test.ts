/**
 * Who a request is from, at the real HTTPS front door and typed gRPC API over an in-process
 * pipeline (memory storage, the real admission chain): the client certificate chain and the
 * bearer token handed to the authenticator, anonymous requests on the anonymous paths only,
 * 401 for credentials nobody knows, impersonation headers and metadata checked with the
 * `impersonate` verb, the issuer's discovery documents, and serviceaccounts/token. The
 * authenticator, authorizer and token issuer are small in-process implementations of the auth
 * service's interfaces that record what they are asked.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcServer } from '../../lib/grpc/serve.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { createLogger } from '../../lib/log.ts';
import { issueCertificate, ensureCA, type KeyPair } from '../../lib/pki.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import {
  SYSTEM_MASTERS,
  type Attributes,
  type AuthenticationResult,
  type Authenticator,
  type AuthorizationResult,
  type Authorizer,
  type Credentials,
  type IssuedToken,
  type IssuerDiscovery,
  type ServiceAccountTokenRequest,
  type TokenIssuer,
  type UserInfo,
} from '../../services/auth/api.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { startFrontDoor, type FrontDoor } from '../../services/gateway/front-door.ts';
import { RESOURCES_MAX_REQUEST_BYTES } from '../../services/gateway/grpc/server.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';

const ADMIN_TOKEN = 'gateway-authn-admin-token';
const IMPERSONATOR_TOKEN = 'gateway-authn-impersonator-token';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** kube's union of a certificate authenticator (CN = user, O = groups, against `ca`) and a token map: a valid one of either wins. */
class RecordingAuthenticator implements Authenticator {
  readonly seen: Credentials[] = [];
  private readonly ca: X509Certificate;
  private readonly tokens: Map<string, UserInfo>;

  constructor(ca: KeyPair, tokens: Map<string, UserInfo>) {
    this.ca = new X509Certificate(ca.certPem);
    this.tokens = tokens;
  }

  authenticate(credentials: Credentials): Promise<AuthenticationResult> {
    this.seen.push(credentials);
    const leaf = credentials.clientCertificates?.[0];
    if (leaf !== undefined) {
      const certificate = new X509Certificate(leaf);
      if (certificate.checkIssued(this.ca) && certificate.verify(this.ca.publicKey)) {
        const subject = new Map(certificate.subject.split('\n').map((line) => line.split('=') as [string, string]));
        return Promise.resolve({ user: { username: subject.get('CN') ?? '', uid: '', groups: [subject.get('O') ?? '', 'system:authenticated'] }, audiences: [ISSUER] });
      }
    }
    const user = credentials.token === undefined ? undefined : this.tokens.get(credentials.token);
    return Promise.resolve(user === undefined ? { audiences: [], error: 'invalid credentials' } : { user, audiences: [ISSUER] });
  }
}

/** Allows what `rules` allow (and system:masters everything); records every question. */
class RecordingAuthorizer implements Authorizer {
  readonly asked: Attributes[] = [];
  private readonly rules: ((a: Attributes) => boolean)[];

  constructor(rules: ((a: Attributes) => boolean)[]) {
    this.rules = rules;
  }

  authorize(a: Attributes): Promise<AuthorizationResult> {
    this.asked.push(a);
    const allowed = a.user.groups.includes(SYSTEM_MASTERS) || this.rules.some((rule) => rule(a));
    return Promise.resolve({ decision: allowed ? 'Allow' : 'NoOpinion', reason: '' });
  }
}

/** Issues unsigned tokens whose payload says who they are for (the gateway reads only `aud`). */
class RecordingIssuer implements TokenIssuer {
  readonly requests: ServiceAccountTokenRequest[] = [];
  discoveries = 0;

  issueServiceAccountToken(request: ServiceAccountTokenRequest): Promise<IssuedToken> {
    this.requests.push(request);
    const claims = { aud: request.audiences.length > 0 ? request.audiences : [ISSUER], sub: `system:serviceaccount:${request.namespace}:${request.name}` };
    const token = `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
    return Promise.resolve({ token, expirationTimestamp: new Date(Date.UTC(2030, 0, 1) + request.expirationSeconds * 1000) });
  }

  issuerDiscovery(): Promise<IssuerDiscovery> {
    this.discoveries++;
    return Promise.resolve({
      openidConfiguration: JSON.stringify({ issuer: ISSUER, jwks_uri: `${ISSUER}/openid/v1/jwks` }),
      jwks: JSON.stringify({ keys: [{ kty: 'EC', kid: 'k1', use: 'sig', alg: 'ES256' }] }),
    });
  }
}

interface Answer {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}

let dir: string;
let frontDoor: FrontDoor;
let grpcServer: GrpcServer;
let grpcAddress: string;
let port: number;
let clientCa: KeyPair;
let alice: KeyPair;
let mallory: KeyPair;
let authenticator: RecordingAuthenticator;
let authorizer: RecordingAuthorizer;
let issuer: RecordingIssuer;
let startAnother: (clientCaFile: string) => Promise<{ frontDoor: FrontDoor; grpcServer: GrpcServer }>;

/** One HTTPS request on its own connection (so each presents its own certificate). */
function call(
  method: string,
  path: string,
  options: { token?: string; cert?: KeyPair; headers?: Record<string, string | string[]>; body?: unknown; port?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string | string[]> = { accept: 'application/json', ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const data = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  if (data !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: options.port ?? port, method, path, headers, agent: false, rejectUnauthorized: false, cert: options.cert?.certPem, key: options.cert?.keyPem, timeout: 20_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gateway-authn-'));
  clientCa = await ensureCA(join(dir, 'client-pki'), 'test-client-ca');
  const otherCa = await ensureCA(join(dir, 'other-pki'), 'untrusted-ca');
  alice = await issueCertificate(clientCa, { commonName: 'alice', organizations: ['devs'], usage: 'client' });
  mallory = await issueCertificate(otherCa, { commonName: 'mallory', organizations: [SYSTEM_MASTERS], usage: 'client' });
  const clientCaFile = join(dir, 'client-ca.crt');
  await writeFile(clientCaFile, clientCa.certPem);

  const registry = builtinRegistry();
  const storage = new MemoryStorage({ kinds: registry });
  const logger = createLogger({ service: 'test', level: 'error' });
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });
  const schemas = generatedSchemaValidator();
  authenticator = new RecordingAuthenticator(
    clientCa,
    new Map([
      [ADMIN_TOKEN, { username: 'admin', uid: 'admin-uid', groups: [SYSTEM_MASTERS, 'system:authenticated'] }],
      [IMPERSONATOR_TOKEN, { username: 'impersonator', uid: 'imp-uid', groups: ['system:authenticated'] }],
    ]),
  );
  const nonResource = (user: string, path: string) => (a: Attributes) => !a.resourceRequest && a.verb === 'get' && a.path === path && a.user.username === user;
  const impersonating = (resource: string, name: string, extra: Partial<Attributes> = {}) => (a: Attributes) =>
    a.user.username === 'impersonator' && a.verb === 'impersonate' && a.resource === resource && a.name === name && Object.entries(extra).every(([k, v]) => a[k as keyof Attributes] === v);
  authorizer = new RecordingAuthorizer([
    nonResource('system:anonymous', '/version'),
    nonResource('system:anonymous', '/.well-known/openid-configuration'),
    nonResource('system:anonymous', '/openid/v1/jwks'),
    (a) => a.user.username === 'alice' && a.resource === 'configmaps' && a.verb === 'list',
    impersonating('users', 'bob'),
    impersonating('groups', 'devs'),
    impersonating('serviceaccounts', 'robot', { namespace: 'default' }),
    impersonating('userextras', 'view', { subresource: 'scopes', apiGroup: 'authentication.k8s.io' }),
    // Only bob in group devs may list configmaps: impersonation must hand the pipeline that user.
    (a) => a.user.username === 'bob' && a.user.groups.includes('devs') && a.resource === 'configmaps' && a.verb === 'list',
    (a) => a.user.username === 'system:serviceaccount:default:robot' && a.user.groups.includes('system:serviceaccounts:default') && a.resource === 'configmaps',
  ]);
  issuer = new RecordingIssuer();
  const admission = buildAdmissionChain({ registry, storage, schemas });
  const watcher = new WatchService({ caches: new Map(), storage, registry, logger });
  const pipeline = new Pipeline({ authenticator, authorizer, tokenIssuer: issuer, admission, storage, watcher, kinds: registry, schemas, authCacheTtlMs: 0 });
  startAnother = async (file: string) => {
    const server = new GrpcServer({ name: 'gateway', telemetry, logger, maxReceiveMessageBytes: RESOURCES_MAX_REQUEST_BYTES });
    const door = await startFrontDoor({
      pipeline,
      registry,
      telemetry,
      logger,
      dataDir: dir,
      httpsListen: '127.0.0.1:0',
      tlsSans: ['127.0.0.1'],
      shutdownGraceMs: 1_000,
      grpcServer: server,
      allocationRepairIntervalMs: 0,
      clientCaFile: file,
    });
    return { frontDoor: door, grpcServer: server };
  };
  grpcServer = new GrpcServer({ name: 'gateway', telemetry, logger, maxReceiveMessageBytes: RESOURCES_MAX_REQUEST_BYTES });
  frontDoor = await startFrontDoor({
    pipeline,
    registry,
    telemetry,
    logger,
    dataDir: dir,
    httpsListen: '127.0.0.1:0',
    tlsSans: ['127.0.0.1'],
    shutdownGraceMs: 1_000,
    grpcServer,
    allocationRepairIntervalMs: 0,
    clientCaFile,
  });
  const address = frontDoor.https.address();
  assert.ok(address !== null && typeof address === 'object');
  port = address.port;
  grpcAddress = `127.0.0.1:${await grpcServer.listen('127.0.0.1:0')}`;
});

after(async () => {
  await frontDoor?.stop();
  await grpcServer?.shutdown(1_000);
  await rm(dir, { recursive: true, force: true });
});

describe('credentials at the HTTPS front door', () => {
  test('a client certificate is asked for and its chain, leaf first, goes to the authenticator', async () => {
    authenticator.seen.length = 0;
    const answer = await call('GET', '/api/v1/namespaces/default/configmaps', { cert: alice });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const leaf = authenticator.seen.at(-1)?.clientCertificates?.[0];
    assert.ok(leaf !== undefined, 'the authenticator got no certificate');
    assert.equal(new X509Certificate(leaf).subject, new X509Certificate(alice.certPem).subject);
    assert.equal(authenticator.seen.at(-1)?.token, undefined);
  });

  test('an untrusted certificate alone is 401; with a valid token the token wins', async () => {
    const refused = await call('GET', '/api/v1/namespaces/default/configmaps', { cert: mallory });
    assert.equal(refused.status, 401);
    assert.deepEqual({ kind: refused.body.kind, reason: refused.body.reason, code: refused.body.code }, { kind: 'Status', reason: 'Unauthorized', code: 401 });
    const allowed = await call('GET', '/api/v1/namespaces/default/configmaps', { cert: mallory, token: ADMIN_TOKEN });
    assert.equal(allowed.status, 200);
    const both = authenticator.seen.at(-1);
    assert.equal(both?.token, ADMIN_TOKEN);
    assert.equal(both?.clientCertificates?.length !== 0, true);
  });

  test('a token nobody knows is 401, on an anonymous path too', async () => {
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps', { token: 'nobody-knows-this' })).status, 401);
    assert.equal((await call('GET', '/version', { token: 'nobody-knows-this' })).status, 401);
  });

  test('without credentials: system:anonymous on the anonymous paths (then authorized), 401 elsewhere', async () => {
    authorizer.asked.length = 0;
    const version = await call('GET', '/version');
    assert.equal(version.status, 200);
    assert.deepEqual(authorizer.asked.at(-1)?.user, { username: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] });
    assert.equal((await call('GET', '/api')).status, 401);
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps')).status, 401);
    const livezAsked = authorizer.asked.length;
    assert.equal((await call('GET', '/livez')).status, 200, 'health checks answer without authentication, for probes');
    assert.equal(authorizer.asked.length, livezAsked);
  });
});

describe('authorized before routed, as kube', () => {
  test('a non-resource path is authorized with its method as the verb: 403 for a method nobody may use, not 405', async () => {
    const deleted = await call('DELETE', '/version');
    assert.equal(deleted.status, 403);
    assert.equal(deleted.body.message, 'forbidden: User "system:anonymous" cannot delete path "/version"');
    assert.equal((await call('DELETE', '/version', { token: ADMIN_TOKEN })).status, 405, 'one who may gets 405');
  });

  test('a subresource or method the kind does not serve: 403 for a user without the right, 404 / 405 for one with it', async () => {
    const bogus = await call('GET', '/api/v1/namespaces/default/configmaps/x/bogus', { cert: alice });
    assert.equal(bogus.status, 403);
    assert.equal(bogus.body.message, 'configmaps "x" is forbidden: User "alice" cannot get resource "configmaps/bogus" in API group "" in the namespace "default"');
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps/x/bogus', { token: ADMIN_TOKEN })).status, 404);
    const post = await call('POST', '/api/v1/namespaces/default/configmaps/x', { cert: alice, body: {} });
    assert.equal(post.status, 403);
    assert.equal((await call('POST', '/api/v1/namespaces/default/configmaps/x', { token: ADMIN_TOKEN, body: {} })).status, 405);
  });
});

describe('a client CA file that appears after start', () => {
  test('no certificate is asked for until it exists, then one is', async () => {
    const file = join(dir, 'late-client-ca.crt');
    const late = await startAnother(file);
    try {
      const address = late.frontDoor.https.address();
      assert.ok(address !== null && typeof address === 'object');
      const before = authenticator.seen.length;
      assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps', { cert: alice, port: address.port })).status, 401, 'no certificate was asked for');
      assert.equal(authenticator.seen.length, before, 'nothing presented, nothing asked');
      await writeFile(file, clientCa.certPem);
      // Looked for again every few seconds: bounded by twice that and a margin.
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        status = (await call('GET', '/api/v1/namespaces/default/configmaps', { cert: alice, port: address.port })).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(status, 200, 'the certificate was never asked for');
    } finally {
      await late.frontDoor.stop();
      await late.grpcServer.shutdown(1_000);
    }
  });
});

describe('impersonation', () => {
  test('headers: each part checked with the impersonate verb, the request then runs as that user', async () => {
    authorizer.asked.length = 0;
    const answer = await call('GET', '/api/v1/namespaces/default/configmaps', {
      token: IMPERSONATOR_TOKEN,
      headers: { 'Impersonate-User': 'bob', 'Impersonate-Group': 'devs', 'Impersonate-Extra-Scopes': 'view' },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const checks = authorizer.asked.filter((a) => a.verb === 'impersonate').map((a) => [a.resource, a.subresource, a.name, a.apiGroup]);
    assert.deepEqual(checks, [
      ['users', '', 'bob', ''],
      ['groups', '', 'devs', ''],
      ['userextras', 'scopes', 'view', 'authentication.k8s.io'],
    ]);
    const list = authorizer.asked.find((a) => a.verb === 'list');
    assert.deepEqual(list?.user, { username: 'bob', uid: '', groups: ['devs', 'system:authenticated'], extra: { scopes: ['view'] } });
  });

  test('a service account username is impersonated as one, with its groups', async () => {
    authorizer.asked.length = 0;
    const answer = await call('GET', '/api/v1/namespaces/default/configmaps', { token: IMPERSONATOR_TOKEN, headers: { 'Impersonate-User': 'system:serviceaccount:default:robot' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(authorizer.asked.find((a) => a.verb === 'list')?.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
  });

  test('without the impersonate verb: Forbidden in kube\'s words; groups without a user: an internal error', async () => {
    const forbidden = await call('GET', '/api/v1/namespaces/default/configmaps', { token: IMPERSONATOR_TOKEN, headers: { 'Impersonate-User': 'carol' } });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.message, 'users "carol" is forbidden: User "impersonator" cannot impersonate resource "users" in API group "" at the cluster scope');
    const groupOnly = await call('GET', '/api/v1/namespaces/default/configmaps', { token: IMPERSONATOR_TOKEN, headers: { 'Impersonate-Group': 'devs' } });
    assert.equal(groupOnly.status, 500);
    assert.equal(groupOnly.body.message, 'Internal error occurred: requested [{Group  devs    }] without impersonating a user');
  });

  test('more than 100 groups and extra values: BadRequest, nothing authorized', async () => {
    authorizer.asked.length = 0;
    const groups = Array.from({ length: 101 }, () => 'devs');
    const answer = await call('GET', '/api/v1/namespaces/default/configmaps', { token: IMPERSONATOR_TOKEN, headers: { 'Impersonate-User': 'bob', 'Impersonate-Group': groups } });
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.message, 'Impersonate-Group, Impersonate-Extra-*: Too many: 101: must have at most 100 items');
    assert.deepEqual(authorizer.asked.filter((a) => a.verb === 'impersonate'), []);
  });

  test('typed gRPC: impersonate-* metadata alike', async () => {
    const proto = loadApiProto();
    const Resources = proto.apiserver.v1.Resources as unknown as grpc.ServiceClientConstructor;
    const client = new Resources(grpcAddress, grpc.credentials.createInsecure());
    try {
      const list = (metadata: grpc.Metadata) =>
        new Promise<{ code: number; details: string }>((resolve) => {
          client.List!({ ref: { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' } }, metadata, (err: grpc.ServiceError | null) =>
            resolve({ code: err?.code ?? 0, details: err?.details ?? '' }),
          );
        });
      const asBob = new grpc.Metadata();
      asBob.set('authorization', `Bearer ${IMPERSONATOR_TOKEN}`);
      asBob.set('impersonate-user', 'bob');
      asBob.add('impersonate-group', 'devs');
      assert.deepEqual(await list(asBob), { code: 0, details: '' });
      const asCarol = new grpc.Metadata();
      asCarol.set('authorization', `Bearer ${IMPERSONATOR_TOKEN}`);
      asCarol.set('impersonate-user', 'carol');
      const refused = await list(asCarol);
      assert.equal(refused.code, grpc.status.PERMISSION_DENIED);
      assert.match(refused.details, /User "impersonator" cannot impersonate resource "users"/);
      assert.equal((await list(new grpc.Metadata())).code, grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });
});

describe('the issuer\'s discovery documents', () => {
  test('served anonymously with kube\'s content types, from the issuer, reused briefly', async () => {
    const before = issuer.discoveries;
    const configuration = await call('GET', '/.well-known/openid-configuration');
    assert.equal(configuration.status, 200);
    assert.equal(configuration.contentType, 'application/json');
    assert.equal(configuration.body.issuer, ISSUER);
    const jwks = await call('GET', '/openid/v1/jwks');
    assert.equal(jwks.status, 200);
    assert.equal(jwks.contentType, 'application/jwk-set+json');
    assert.deepEqual(jwks.body, { keys: [{ kty: 'EC', kid: 'k1', use: 'sig', alg: 'ES256' }] });
    assert.ok(issuer.discoveries - before <= 1, 'the documents are reused');
  });
});

describe('serviceaccounts/token', () => {
  const base = '/api/v1/namespaces/default/serviceaccounts';
  const tokenRequest = (spec: Record<string, unknown> = {}) => ({ kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: {}, spec });

  test('issues a token for an existing ServiceAccount, as kubectl create token asks', async () => {
    const created = await call('POST', base, { token: ADMIN_TOKEN, body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder' } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const uid = (created.body.metadata as { uid: string }).uid;
    const answer = await call('POST', `${base}/builder/token`, { token: ADMIN_TOKEN, body: tokenRequest({ audiences: null, expirationSeconds: null, boundObjectRef: null }) });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.kind, 'TokenRequest');
    assert.equal(answer.body.apiVersion, 'authentication.k8s.io/v1');
    const status = answer.body.status as { token: string; expirationTimestamp: string };
    const request = issuer.requests.at(-1);
    assert.deepEqual(request, { namespace: 'default', name: 'builder', uid, audiences: [], expirationSeconds: 3600, boundObject: undefined });
    assert.match(status.token, /^e30\./);
    assert.equal(status.expirationTimestamp, '2030-01-01T01:00:00Z');
    assert.deepEqual((answer.body.spec as { audiences: string[] }).audiences, [ISSUER]);
  });

  test('NotFound for a missing ServiceAccount; Invalid below ten minutes; a bound Secret must exist with its uid', async () => {
    const missing = await call('POST', `${base}/nobody/token`, { token: ADMIN_TOKEN, body: tokenRequest() });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'serviceaccounts "nobody" not found');
    const short = await call('POST', `${base}/builder/token`, { token: ADMIN_TOKEN, body: tokenRequest({ expirationSeconds: 60 }) });
    assert.equal(short.status, 422);
    assert.equal(short.body.message, 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
    const named = await call('POST', `${base}/builder/token`, { token: ADMIN_TOKEN, body: { ...tokenRequest(), metadata: { name: 'other' } } });
    assert.equal(named.status, 422);
    assert.equal(named.body.message, 'TokenRequest.authentication.k8s.io "builder" is invalid: metadata.name: Invalid value: "other": must match the service account name if specified');
    const unbound = await call('POST', `${base}/builder/token`, { token: ADMIN_TOKEN, body: tokenRequest({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'gone' } }) });
    assert.equal(unbound.status, 404);
    const secret = await call('POST', '/api/v1/namespaces/default/secrets', { token: ADMIN_TOKEN, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bound' } } });
    const secretUid = (secret.body.metadata as { uid: string }).uid;
    const stale = await call('POST', `${base}/builder/token`, { token: ADMIN_TOKEN, body: tokenRequest({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'bound', uid: 'not-it' } }) });
    assert.equal(stale.status, 409);
    const bound = await call('POST', `${base}/builder/token`, { token: ADMIN_TOKEN, body: tokenRequest({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'bound' } }) });
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    assert.deepEqual(issuer.requests.at(-1)?.boundObject, { kind: 'Secret', apiVersion: 'v1', name: 'bound', uid: secretUid });
    const configMap = await call('POST', `${base}/builder/token`, { token: ADMIN_TOKEN, body: tokenRequest({ boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } }) });
    assert.equal(configMap.status, 400);
    assert.equal(configMap.body.message, 'cannot bind token to object of type /v1, Kind=ConfigMap');
  });

  test('a user who may not create serviceaccounts/token is Forbidden', async () => {
    const answer = await call('POST', `${base}/builder/token`, { cert: alice, body: tokenRequest() });
    assert.equal(answer.status, 403);
    assert.match(String(answer.body.message), / is forbidden: User "alice" cannot create resource "serviceaccounts\/token" in API group "" in the namespace "default"$/);
  });
});
