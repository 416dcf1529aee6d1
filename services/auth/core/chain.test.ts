/**
 * The authenticator chain: order, kube's union (a valid credential of either kind wins), the
 * audience rules of tokens without audiences, the errors, and system:authenticated.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCA, issueCertificate, type KeyPair } from '../../../lib/pki.ts';
import type { UserInfo } from '../api.ts';
import { audienceAgnostic, AuthenticatorChain, withAuthenticatedGroup, type TokenAuthenticator } from './chain.ts';
import { parseTokenFile, TokenFileAuthenticator } from './token-file.ts';
import { parseCertificateBundle, X509Authenticator } from './x509.ts';

const API = ['https://kubernetes.default.svc.cluster.local'];
let dir: string;
let ca: KeyPair;
let jane: Buffer;
let untrusted: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chain-'));
  ca = await ensureCA(dir, 'client-ca', 'client-ca');
  const other = await ensureCA(join(dir, 'other'), 'other');
  jane = new X509Certificate((await issueCertificate(ca, { commonName: 'jane', organizations: ['dev'], usage: 'client' })).certPem).raw;
  untrusted = new X509Certificate((await issueCertificate(other, { commonName: 'mallory', usage: 'client' })).certPem).raw;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A token authenticator that records that it was asked and answers as told. */
function recording(name: string, answer: (token: string) => Awaited<ReturnType<TokenAuthenticator['authenticateToken']>>, asked: string[]): TokenAuthenticator {
  return {
    async authenticateToken(token) {
      asked.push(name);
      return answer(token);
    },
  };
}

function chain(tokens: TokenAuthenticator[]): AuthenticatorChain {
  return new AuthenticatorChain({ x509: new X509Authenticator({ roots: parseCertificateBundle(ca.certPem) }), tokens, apiAudiences: API });
}

const bob: UserInfo = { username: 'bob', uid: '2', groups: [] };

describe('AuthenticatorChain', () => {
  test('a valid client certificate wins before any token is looked at', async () => {
    const asked: string[] = [];
    const result = await chain([recording('file', () => ({ user: bob, audiences: API }), asked)]).authenticate({ token: 't', clientCertificates: [jane] });
    assert.equal(result.user?.username, 'jane');
    assert.deepEqual(result.user?.groups, ['dev', 'system:authenticated']);
    assert.deepEqual(result.audiences, API);
    assert.deepEqual(asked, []);
  });

  test('token authenticators are asked in order; the first with a user wins', async () => {
    const asked: string[] = [];
    const result = await chain([
      recording('file', () => undefined, asked),
      recording('sa', () => ({ user: bob, audiences: API }), asked),
      recording('never', () => ({ user: { ...bob, username: 'other' }, audiences: API }), asked),
    ]).authenticate({ token: 't' });
    assert.equal(result.user?.username, 'bob');
    assert.deepEqual(asked, ['file', 'sa']);
  });

  test('an untrusted certificate with a valid token: the token wins (kube\'s union)', async () => {
    const result = await chain([recording('file', () => ({ user: bob, audiences: API }), [])]).authenticate({ token: 't', clientCertificates: [untrusted] });
    assert.equal(result.user?.username, 'bob');
  });

  test('nothing valid: no user, and every reason', async () => {
    const c = chain([recording('file', () => undefined, []), recording('sa', () => ({ error: 'service account token has expired' }), [])]);
    assert.deepEqual(await c.authenticate({ token: 't', clientCertificates: [untrusted] }), {
      audiences: [],
      error: '[x509: certificate signed by unknown authority, service account token has expired]',
    });
    assert.deepEqual(await chain([recording('file', () => undefined, [])]).authenticate({ token: 't' }), { audiences: [], error: 'invalid bearer token' });
    assert.deepEqual(await chain([]).authenticate({ clientCertificates: [untrusted] }), { audiences: [], error: 'x509: certificate signed by unknown authority' });
    assert.deepEqual(await chain([]).authenticate({}), { audiences: [] });
  });

  test('static tokens are meant for the API server\'s audiences only', async () => {
    const file = audienceAgnostic(new TokenFileAuthenticator(parseTokenFile('tok,alice,1\n')), API);
    const c = chain([file]);
    assert.deepEqual(await c.authenticate({ token: 'tok' }), { user: { username: 'alice', uid: '1', groups: ['system:authenticated'] }, audiences: API });
    assert.deepEqual((await c.authenticate({ token: 'tok', audiences: ['vault', API[0]!] })).audiences, API);
    assert.deepEqual(await c.authenticate({ token: 'tok', audiences: ['vault'] }), { audiences: [], error: 'invalid bearer token' });
  });
});

describe('withAuthenticatedGroup', () => {
  test('added once; never to the anonymous user or an unauthenticated one', () => {
    assert.deepEqual(withAuthenticatedGroup({ username: 'a', uid: '', groups: ['g'] }).groups, ['g', 'system:authenticated']);
    assert.deepEqual(withAuthenticatedGroup({ username: 'a', uid: '', groups: ['system:authenticated', 'g'] }).groups, ['system:authenticated', 'g']);
    assert.deepEqual(withAuthenticatedGroup({ username: 'system:anonymous', uid: '', groups: [] }).groups, []);
    assert.deepEqual(withAuthenticatedGroup({ username: 'x', uid: '', groups: ['system:unauthenticated'] }).groups, ['system:unauthenticated']);
  });
});
