/**
 * The auth service's RPCs end to end over gRPC: the real handlers over the real chain and
 * issuer, asked through AuthClient as the gateway asks: over the replicas' Exchange streams,
 * each call counted as its own method.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcServer, type CallContext } from '../../../lib/grpc/serve.ts';
import { createLogger } from '../../../lib/log.ts';
import { Metrics } from '../../../lib/metrics.ts';
import { ensureCA, issueCertificate } from '../../../lib/pki.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import { createTelemetry } from '../../../lib/tracing.ts';
import type { RuleResolver } from '../api.ts';
import { PrivilegedGroupAuthorizer } from '../core/authorizer.ts';
import { audienceAgnostic, AuthenticatorChain } from '../core/chain.ts';
import { loadSigningKey, ServiceAccountTokens } from '../core/service-account-token.ts';
import { parseTokenFile, TokenFileAuthenticator } from '../core/token-file.ts';
import { parseCertificateBundle, X509Authenticator } from '../core/x509.ts';
import { AuthClient } from './client.ts';
import { AUTH_MAX_REQUEST_BYTES, authenticationHandlers, authorizationHandlers } from './server.ts';

const API = ['https://kubernetes.default.svc.cluster.local'];
const logger = createLogger({ service: 'test', level: 'error' });
const telemetry = createTelemetry({ serviceName: 'test', env: {} });
const accounts = new Map([['team-a/builder', 'uid-1']]);
let dir: string;
let servers: GrpcServer[] = [];
let clients: AuthClient[] = [];
let certDer: Buffer;

/**
 * `handlers`, each call recorded in `calls` as its method's name, marked " (unary)" when it
 * came as a unary call of its own rather than over Exchange (only a unary call has trailers).
 */
function recorded<H extends object>(handlers: H, calls: string[]): H {
  const wrapped: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(handlers) as [string, (req: unknown, ctx: CallContext) => Promise<unknown>][]) {
    wrapped[name] = (req: unknown, ctx: CallContext) => {
      calls.push(ctx.trailers === undefined ? name : `${name} (unary)`);
      return handler(req, ctx);
    };
  }
  return wrapped as H;
}

interface Replica {
  server: GrpcServer;
  port: number;
  metrics: Metrics;
  /** The calls its handlers ran (see recorded). */
  calls: string[];
}

async function startReplica(resolver?: RuleResolver): Promise<Replica> {
  const ca = await ensureCA(join(dir, 'pki'), 'client-ca', 'client-ca');
  const sa = new ServiceAccountTokens({
    signingKey: await loadSigningKey(join(dir, 'pki', 'sa.key'), true),
    issuers: API,
    apiAudiences: API,
    maxExpirationSeconds: 0,
    jwksUri: 'https://127.0.0.1:6443/openid/v1/jwks',
    objects: {
      serviceAccount: (ns, name) => {
        const uid = accounts.get(`${ns}/${name}`);
        return uid === undefined ? undefined : { uid };
      },
      bound: () => undefined,
    },
  });
  const chain = new AuthenticatorChain({
    x509: new X509Authenticator({ roots: parseCertificateBundle(ca.certPem) }),
    tokens: [audienceAgnostic(new TokenFileAuthenticator(parseTokenFile('static-tok,alice,1\n')), API), sa],
    apiAudiences: API,
  });
  const metrics = new Metrics({ processMetrics: false });
  const calls: string[] = [];
  const server = new GrpcServer({ name: 'auth', telemetry, logger, metrics, maxReceiveMessageBytes: AUTH_MAX_REQUEST_BYTES });
  const proto = loadApiProto();
  server.addService('apiserver.v1.Authentication', proto.apiserver.v1.Authentication.service, recorded(authenticationHandlers(chain, sa), calls));
  server.addService('apiserver.v1.Authorization', proto.apiserver.v1.Authorization.service, recorded(authorizationHandlers(new PrivilegedGroupAuthorizer(), resolver), calls));
  const port = await server.listen('127.0.0.1:0');
  servers.push(server);
  return { server, port, metrics, calls };
}

function clientOf(...replicas: Replica[]): AuthClient {
  const client = new AuthClient(replicas.map((r) => `127.0.0.1:${r.port}`).join(','), { telemetry });
  clients.push(client);
  return client;
}

async function start(resolver?: RuleResolver): Promise<AuthClient> {
  return clientOf(await startReplica(resolver));
}

/** A replica's grpc_server_handled_total of the auth services, by method, type and code. */
async function handled(replica: Replica): Promise<Record<string, number>> {
  const counter = replica.metrics.registry.getSingleMetric('grpc_server_handled_total');
  assert.ok(counter !== undefined);
  const counts: Record<string, number> = {};
  for (const v of (await counter.get()).values) {
    if (v.value > 0) counts[`${v.labels.grpc_service}/${v.labels.grpc_method} ${v.labels.grpc_type} ${v.labels.grpc_code}`] = v.value;
  }
  return counts;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auth-grpc-'));
  const ca = await ensureCA(join(dir, 'pki'), 'client-ca', 'client-ca');
  certDer = new X509Certificate((await issueCertificate(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' })).certPem).raw;
});
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.shutdown(1000)));
  servers = [];
  clients = [];
  await rm(dir, { recursive: true, force: true });
});

describe('the auth service over gRPC', () => {
  test('a client certificate, a static token, an issued service-account token', async () => {
    const client = await start();
    const byCert = await client.authenticate({ clientCertificates: [certDer] });
    assert.equal(byCert.user?.username, 'kubernetes-admin');
    assert.deepEqual(byCert.user?.groups, ['system:masters', 'system:authenticated']);
    assert.equal((await client.authenticate({ token: 'static-tok' })).user?.username, 'alice');

    const issued = await client.issueServiceAccountToken({ namespace: 'team-a', name: 'builder', uid: 'uid-1', audiences: [], expirationSeconds: 600 });
    assert.ok(Math.abs(issued.expirationTimestamp.getTime() - (Date.now() + 600_000)) < 5000);
    const sa = await client.authenticate({ token: issued.token });
    assert.equal(sa.user?.username, 'system:serviceaccount:team-a:builder');
    assert.deepEqual(sa.audiences, API);

    const wrongAudience = await client.authenticate({ token: issued.token, audiences: ['vault'] });
    assert.equal(wrongAudience.user, undefined);
    assert.equal(wrongAudience.error, 'token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for the target audiences ["vault"]');
    assert.ok(!wrongAudience.error?.includes(issued.token));

    const bad = await client.authenticate({ token: 'nope' });
    assert.deepEqual(bad, { audiences: [], error: 'invalid bearer token' });
  });

  test('the discovery documents', async () => {
    const client = await start();
    const d = await client.issuerDiscovery();
    assert.equal(JSON.parse(d.openidConfiguration).issuer, API[0]);
    assert.equal(JSON.parse(d.jwks).keys.length, 1);
  });

  test('RulesFor asks the rule resolver; without one it says so', async () => {
    const seen: string[] = [];
    const client = await start({
      async rulesFor(user, namespace) {
        seen.push(`${user.username}@${namespace}`);
        return { rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: [], nonResourceURLs: [] }], errors: ['a role is missing'] };
      },
    });
    assert.deepEqual(await client.rulesFor({ username: 'jane', uid: '', groups: [] }, 'team-a'), {
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: [], nonResourceURLs: [] }],
      errors: ['a role is missing'],
    });
    assert.deepEqual(seen, ['jane@team-a']);
    const without = await start();
    await assert.rejects(without.rulesFor({ username: 'jane', uid: '', groups: [] }, ''), /no RBAC rule resolver/);
  });

  test('every call goes over the replicas\' Exchange streams and counts as its own method; a replica that stops leaves them to the other', async () => {
    const replicas = [await startReplica(), await startReplica()];
    const client = clientOf(...replicas);
    const jane = { username: 'jane', uid: '', groups: [] };
    const attributes = { user: jane, verb: 'get', resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: '', namespace: 'a', name: '', path: '' };
    for (let i = 0; i < 4; i++) {
      assert.equal((await client.authenticate({ clientCertificates: [certDer] })).user?.username, 'kubernetes-admin');
      assert.equal((await client.authorize(attributes)).decision, 'NoOpinion');
    }
    await client.issueServiceAccountToken({ namespace: 'team-a', name: 'builder', uid: 'uid-1', audiences: [], expirationSeconds: 600 });
    await client.issuerDiscovery();
    await assert.rejects(client.rulesFor(jane, ''), /no RBAC rule resolver/);

    const calls = replicas.flatMap((r) => r.calls).sort();
    assert.deepEqual(calls, [
      ...Array.from({ length: 4 }, () => 'Authenticate'),
      ...Array.from({ length: 4 }, () => 'Authorize'),
      'IssueServiceAccountToken',
      'RulesFor',
      'ServiceAccountIssuerDiscovery',
    ]);
    for (const [i, r] of replicas.entries()) assert.ok(r.calls.length > 0, `replica ${i} took calls`);
    const total: Record<string, number> = {};
    for (const r of replicas) for (const [k, v] of Object.entries(await handled(r))) total[k] = (total[k] ?? 0) + v;
    assert.deepEqual(total, {
      'apiserver.v1.Authentication/Authenticate unary OK': 4,
      'apiserver.v1.Authorization/Authorize unary OK': 4,
      'apiserver.v1.Authentication/IssueServiceAccountToken unary OK': 1,
      'apiserver.v1.Authentication/ServiceAccountIssuerDiscovery unary OK': 1,
      'apiserver.v1.Authorization/RulesFor unary Unavailable': 1,
    });

    const [first, second] = replicas as [Replica, Replica];
    await second.server.shutdown(1000);
    const seen = second.calls.length;
    for (let i = 0; i < 4; i++) {
      assert.equal((await client.authenticate({ token: 'static-tok' })).user?.username, 'alice');
      assert.equal((await client.authorize(attributes)).decision, 'NoOpinion');
    }
    assert.equal(second.calls.length, seen);
    assert.equal(first.calls.filter((c) => c === 'Authenticate').length + second.calls.filter((c) => c === 'Authenticate').length, 8);
  });
});
