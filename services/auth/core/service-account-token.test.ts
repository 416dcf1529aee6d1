/**
 * Service-account tokens: kube's claims and key ids, verification (tampered, expired, wrong
 * audience, wrong key, deleted or re-created account or bound object), rotation, and the
 * discovery documents.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { LiveObject, TokenObjectLookup } from '../api.ts';
import { keyId, loadSigningKey, loadVerificationKeys, ServiceAccountTokens, type ServiceAccountTokensOptions, type SigningKey } from './service-account-token.ts';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const API = [ISSUER];
let dir: string;
let key: SigningKey;
let otherKey: SigningKey;
/** The objects that exist, by "Kind/namespace/name" (Nodes with namespace ""). */
const objects = new Map<string, LiveObject>();
const lookup: TokenObjectLookup = {
  serviceAccount: (ns, name) => objects.get(`ServiceAccount/${ns}/${name}`),
  bound: (kind, ns, name) => objects.get(`${kind}/${ns}/${name}`),
};
const put = (kind: string, ns: string, name: string, uid: string, deletionTimestamp?: number): void => {
  objects.set(`${kind}/${ns}/${name}`, deletionTimestamp === undefined ? { uid } : { uid, deletionTimestamp });
};

function tokens(overrides: Partial<ServiceAccountTokensOptions> = {}): ServiceAccountTokens {
  return new ServiceAccountTokens({
    signingKey: key,
    issuers: [ISSUER],
    apiAudiences: API,
    maxExpirationSeconds: 0,
    jwksUri: 'https://127.0.0.1:6443/openid/v1/jwks',
    objects: lookup,
    ...overrides,
  });
}

const request = { namespace: 'team-a', name: 'builder', uid: 'uid-1', audiences: [], expirationSeconds: 0 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sa-token-'));
  key = await loadSigningKey(join(dir, 'pki', 'sa.key'), true);
  otherKey = await loadSigningKey(join(dir, 'other.key'), true);
  put('ServiceAccount', 'team-a', 'builder', 'uid-1');
  put('Node', '', 'n1', 'node-uid');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('signing keys', () => {
  test('generated once, mode 0600, and read back the same', async () => {
    const file = join(dir, 'pki', 'sa.key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await loadSigningKey(file, true)).kid, key.kid);
    assert.equal(key.alg, 'RS256');
    await assert.rejects(loadSigningKey(join(dir, 'absent.key'), false), /cannot read the service-account signing key/);
  });

  test('the key id is kube\'s: base64url of the SHA-256 of the PKIX public key', () => {
    const der = key.publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(keyId(key.publicKey), createHash('sha256').update(der).digest('base64url'));
  });

  test('verification key files hold public keys, private keys or both; EC keys are ES256', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(dir, 'keys.pem');
    await writeFile(file, `${ec.publicKey.export({ type: 'spki', format: 'pem' })}${await readFile(join(dir, 'other.key'), 'utf8')}`);
    const keys = await loadVerificationKeys(file);
    assert.deepEqual(
      keys.map((k) => [k.kid, k.alg]),
      [
        [keyId(ec.publicKey), 'ES256'],
        [otherKey.kid, 'RS256'],
      ],
    );
    await writeFile(file, 'nothing here');
    await assert.rejects(loadVerificationKeys(file), /no public or private key found/);
  });
});

describe('ServiceAccountTokens', () => {
  test('a token carries kube\'s header and claims', async () => {
    const now = 1_800_000_000_000;
    const issued = await tokens({ now: () => now }).issueServiceAccountToken({
      ...request,
      audiences: ['vault'],
      expirationSeconds: 600,
      boundObject: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'pod-uid' },
    });
    assert.deepEqual(decodeProtectedHeader(issued.token), { alg: 'RS256', kid: key.kid });
    const claims = decodeJwt(issued.token);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...claims, jti: undefined },
      {
        iss: ISSUER,
        sub: 'system:serviceaccount:team-a:builder',
        aud: ['vault'],
        iat: 1_800_000_000,
        nbf: 1_800_000_000,
        exp: 1_800_000_600,
        jti: undefined,
        'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'builder', uid: 'uid-1' }, pod: { name: 'p', uid: 'pod-uid' } },
      },
    );
    assert.equal(issued.expirationTimestamp.getTime(), 1_800_000_600_000);
  });

  test('the default lifetime is an hour, capped at the maximum; the default audiences are the API server\'s', async () => {
    const t = await tokens().issueServiceAccountToken(request);
    const c = decodeJwt(t.token);
    assert.equal(Number(c.exp) - Number(c.iat), 3600);
    assert.deepEqual(c.aud, API);
    const capped = decodeJwt((await tokens({ maxExpirationSeconds: 1800 }).issueServiceAccountToken({ ...request, expirationSeconds: 7200 })).token);
    assert.equal(Number(capped.exp) - Number(capped.iat), 1800);
  });

  test('a valid token is the service account\'s user', async () => {
    const t = tokens();
    const { token } = await t.issueServiceAccountToken({ ...request, boundObject: { kind: 'Node', apiVersion: 'v1', name: 'n1', uid: 'node-uid' } });
    const jti = String(decodeJwt(token).jti);
    assert.deepEqual(await t.authenticateToken(token, API), {
      user: {
        username: 'system:serviceaccount:team-a:builder',
        uid: 'uid-1',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a'],
        extra: {
          'authentication.kubernetes.io/node-name': ['n1'],
          'authentication.kubernetes.io/node-uid': ['node-uid'],
          'authentication.kubernetes.io/credential-id': [`JTI=${jti}`],
        },
      },
      audiences: API,
    });
  });

  test('a tampered token is refused', async () => {
    const t = tokens();
    const { token } = await t.issueServiceAccountToken(request);
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims['kubernetes.io'].serviceaccount.name = 'admin';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    const outcome = await t.authenticateToken(forged, API);
    assert.ok(outcome !== undefined && 'error' in outcome);
    assert.match(outcome.error, /signature could not be verified/);
    assert.ok(!outcome.error.includes(s));
  });

  test('an expired token is refused after kube\'s minute of leeway', async () => {
    let now = Date.now();
    const t = tokens({ now: () => now });
    const { token } = await t.issueServiceAccountToken({ ...request, expirationSeconds: 600 });
    now += 630_000;
    assert.equal((await t.authenticateToken(token, API) as { user?: unknown }).user !== undefined, true);
    now += 60_000;
    assert.deepEqual(await t.authenticateToken(token, API), { error: 'service account token has expired' });
  });

  test('a token for another audience is refused with kube\'s message', async () => {
    const t = tokens();
    const { token } = await t.issueServiceAccountToken({ ...request, audiences: ['vault'] });
    assert.deepEqual(await t.authenticateToken(token, API), {
      error: 'token audiences ["vault"] is invalid for the target audiences ["https://kubernetes.default.svc.cluster.local"]',
    });
    assert.deepEqual((await t.authenticateToken(token, ['vault', 'other']) as { audiences: string[] }).audiences, ['vault']);
  });

  test('a token signed by an unknown key is refused; a listed old key still verifies (rotation)', async () => {
    const old = tokens({ signingKey: otherKey });
    const { token } = await old.issueServiceAccountToken(request);
    const outcome = await tokens().authenticateToken(token, API);
    assert.ok(outcome !== undefined && 'error' in outcome, JSON.stringify(outcome));
    const rotated = tokens({ verificationKeys: [{ publicKey: createPublicKey(otherKey.privateKey), kid: otherKey.kid, alg: otherKey.alg }] });
    assert.equal((await rotated.authenticateToken(token, API) as { user: { username: string } }).user.username, 'system:serviceaccount:team-a:builder');
  });

  test('a deleted account, or one re-created with another uid, is refused', async () => {
    const t = tokens();
    put('ServiceAccount', 'team-a', 'temp', 'uid-temp');
    const { token } = await t.issueServiceAccountToken({ ...request, name: 'temp', uid: 'uid-temp' });
    put('ServiceAccount', 'team-a', 'temp', 'uid-new');
    assert.deepEqual(await t.authenticateToken(token, API), { error: 'service account UID (uid-new) does not match claim (uid-temp)' });
    objects.delete('ServiceAccount/team-a/temp');
    assert.deepEqual(await t.authenticateToken(token, API), { error: 'serviceaccounts "temp" not found' });
  });

  test('an account being deleted for over a minute is refused, as kube\'s validator does', async () => {
    let now = 1_800_000_000_000;
    const t = tokens({ now: () => now });
    put('ServiceAccount', 'team-a', 'leaving', 'uid-leaving');
    const { token } = await t.issueServiceAccountToken({ ...request, name: 'leaving', uid: 'uid-leaving' });
    put('ServiceAccount', 'team-a', 'leaving', 'uid-leaving', now);
    now += 60_000;
    assert.ok('user' in ((await t.authenticateToken(token, API)) ?? {}), 'within the minute of leeway');
    now += 1_000;
    assert.deepEqual(await t.authenticateToken(token, API), { error: 'service account team-a/leaving has been deleted' });
  });

  for (const kind of ['Pod', 'Secret', 'Node'] as const) {
    test(`a token bound to a ${kind} ends with it: gone, re-created or long being deleted`, async () => {
      let now = 1_800_000_000_000;
      const t = tokens({ now: () => now });
      const ns = kind === 'Node' ? '' : 'team-a';
      const name = `bound-${kind.toLowerCase()}`;
      put(kind, ns, name, 'uid-a');
      const { token } = await t.issueServiceAccountToken({ ...request, boundObject: { kind, apiVersion: 'v1', name, uid: 'uid-a' } });
      const outcome = await t.authenticateToken(token, API);
      assert.ok(outcome !== undefined && 'user' in outcome, JSON.stringify(outcome));
      if (kind === 'Pod') assert.deepEqual(outcome.user.extra?.['authentication.kubernetes.io/pod-uid'], ['uid-a']);

      put(kind, ns, name, 'uid-b');
      const label = kind.toLowerCase();
      assert.deepEqual(await t.authenticateToken(token, API), { error: `${label} UID (uid-b) does not match service account ${label} ref claim (uid-a)` });

      put(kind, ns, name, 'uid-a', now - 60_000);
      assert.ok('user' in ((await t.authenticateToken(token, API)) ?? {}), 'being deleted for a minute only');
      now += 1_000;
      assert.deepEqual(await t.authenticateToken(token, API), { error: 'service account token has been invalidated' });

      objects.delete(`${kind}/${ns}/${name}`);
      assert.deepEqual(await t.authenticateToken(token, API), { error: 'service account token has been invalidated' });
    });
  }

  test('a bound object is looked for in the token\'s namespace; the account is checked first', async () => {
    const t = tokens();
    put('Secret', 'team-b', 'elsewhere', 'uid-s');
    const { token } = await t.issueServiceAccountToken({ ...request, boundObject: { kind: 'Secret', apiVersion: 'v1', name: 'elsewhere', uid: 'uid-s' } });
    assert.deepEqual(await t.authenticateToken(token, API), { error: 'service account token has been invalidated' });
    put('ServiceAccount', 'team-a', 'gone-first', 'uid-g');
    const second = await t.issueServiceAccountToken({ ...request, name: 'gone-first', uid: 'uid-g', boundObject: { kind: 'Secret', apiVersion: 'v1', name: 'elsewhere', uid: 'uid-s' } });
    objects.delete('ServiceAccount/team-a/gone-first');
    assert.deepEqual(await t.authenticateToken(second.token, API), { error: 'serviceaccounts "gone-first" not found' });
  });

  test('tokens of other issuers, and things that are not JWTs, are no business of this authenticator', async () => {
    const foreign = tokens({ issuers: ['https://elsewhere.example'] });
    const { token } = await foreign.issueServiceAccountToken(request);
    assert.equal(await tokens().authenticateToken(token, API), undefined);
    assert.equal(await tokens().authenticateToken('static-token', API), undefined);
    // A list of issuers accepts tokens of each.
    assert.ok((await tokens({ issuers: [ISSUER, 'https://elsewhere.example'] }).authenticateToken(token, API)) !== undefined);
  });

  test('the discovery documents name the issuer and every verification key', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = tokens({ verificationKeys: [{ publicKey: ec.publicKey, kid: keyId(ec.publicKey), alg: 'ES256' }] });
    const d = await t.issuerDiscovery();
    assert.deepEqual(JSON.parse(d.openidConfiguration), {
      issuer: ISSUER,
      jwks_uri: 'https://127.0.0.1:6443/openid/v1/jwks',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
    });
    const keys = JSON.parse(d.jwks).keys as Record<string, string>[];
    assert.deepEqual(
      keys.map((k) => [k.kty, k.use, k.kid, k.alg]),
      [
        ['RSA', 'sig', key.kid, 'RS256'],
        ['EC', 'sig', keyId(ec.publicKey), 'ES256'],
      ],
    );
    assert.ok(keys.every((k) => k.d === undefined), 'no private part');
  });
});
