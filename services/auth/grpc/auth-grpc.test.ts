/**
 * The auth service's RPCs end to end over gRPC: the real handlers over the real chain and
 * issuer, asked through AuthClient as the gateway asks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcServer } from '../../../lib/grpc/serve.ts';
import { createLogger } from '../../../lib/log.ts';
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

async function start(resolver?: RuleResolver): Promise<AuthClient> {
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
  const server = new GrpcServer({ name: 'auth', telemetry, logger, maxReceiveMessageBytes: AUTH_MAX_REQUEST_BYTES });
  const proto = loadApiProto();
  server.addService('apiserver.v1.Authentication', proto.apiserver.v1.Authentication.service, authenticationHandlers(chain, sa));
  server.addService('apiserver.v1.Authorization', proto.apiserver.v1.Authorization.service, authorizationHandlers(new PrivilegedGroupAuthorizer(), resolver));
  const port = await server.listen('127.0.0.1:0');
  servers.push(server);
  const client = new AuthClient(`127.0.0.1:${port}`, { telemetry });
  clients.push(client);
  return client;
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
});
