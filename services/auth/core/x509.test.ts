/**
 * Client certificate authentication against a client CA, with certificates made by lib/pki.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCA, issueCertificate, type KeyPair } from '../../../lib/pki.ts';
import { CertificateError, CREDENTIAL_ID_KEY, parseCertificateBundle, X509Authenticator } from './x509.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
let dir: string;
let ca: KeyPair;
let otherCa: KeyPair;

function der(pair: KeyPair): Buffer {
  return new X509Certificate(pair.certPem).raw;
}

function refusal(auth: X509Authenticator, chain: Buffer[]): string {
  try {
    auth.authenticate(chain);
  } catch (err) {
    assert.ok(err instanceof CertificateError, String(err));
    return err.message;
  }
  assert.fail('expected the chain to be refused');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x509-'));
  ca = await ensureCA(dir, 'client-ca', 'client-ca');
  otherCa = await ensureCA(join(dir, 'other'), 'someone-else');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('X509Authenticator', () => {
  test('a client certificate of the CA: CN is the user, O the groups, the fingerprint the credential id', async () => {
    const cert = await issueCertificate(ca, { commonName: 'jane', organizations: ['dev', 'ops'], usage: 'client' });
    const auth = new X509Authenticator({ roots: parseCertificateBundle(ca.certPem) });
    const fingerprint = createHash('sha256').update(der(cert)).digest('hex');
    assert.deepEqual(auth.authenticate([der(cert)]), {
      username: 'jane',
      uid: '',
      groups: ['dev', 'ops'],
      extra: { [CREDENTIAL_ID_KEY]: [`X509SHA256=${fingerprint}`] },
    });
  });

  test('a certificate for both usages is a client certificate too', async () => {
    const cert = await issueCertificate(ca, { commonName: 'both', usage: 'both' });
    assert.equal(new X509Authenticator({ roots: parseCertificateBundle(ca.certPem) }).authenticate([der(cert)])?.username, 'both');
  });

  test('a CA file may hold several CAs', async () => {
    const cert = await issueCertificate(otherCa, { commonName: 'from-other', usage: 'client' });
    const auth = new X509Authenticator({ roots: parseCertificateBundle(ca.certPem + otherCa.certPem) });
    assert.equal(auth.authenticate([der(cert)])?.username, 'from-other');
  });

  test('a certificate of another CA is signed by an unknown authority', async () => {
    const cert = await issueCertificate(otherCa, { commonName: 'mallory', organizations: ['system:masters'], usage: 'client' });
    const auth = new X509Authenticator({ roots: parseCertificateBundle(ca.certPem) });
    assert.equal(refusal(auth, [der(cert)]), 'x509: certificate signed by unknown authority');
    // Presenting the trusted CA as an "intermediate" does not help: it did not sign the leaf.
    assert.equal(refusal(auth, [der(cert), der(ca)]), 'x509: certificate signed by unknown authority');
  });

  test('an expired certificate, and one not valid yet', async () => {
    const cert = await issueCertificate(ca, { commonName: 'old', usage: 'client', validDays: 1 });
    const later = new X509Authenticator({ roots: parseCertificateBundle(ca.certPem), now: () => Date.now() + 2 * DAY_MS });
    assert.match(refusal(later, [der(cert)]), /^x509: certificate has expired or is not yet valid: current time \S+Z is after \S+Z$/);
    const earlier = new X509Authenticator({ roots: parseCertificateBundle(ca.certPem), now: () => Date.now() - 2 * DAY_MS });
    assert.match(refusal(earlier, [der(cert)]), /^x509: certificate has expired or is not yet valid: current time \S+Z is before \S+Z$/);
  });

  test('a serving certificate is not a client certificate', async () => {
    const cert = await issueCertificate(ca, { commonName: 'server', usage: 'server', dnsNames: ['localhost'] });
    const auth = new X509Authenticator({ roots: parseCertificateBundle(ca.certPem) });
    assert.equal(refusal(auth, [der(cert)]), 'x509: certificate specifies an incompatible key usage');
  });

  test('garbage is a malformed certificate; no certificate is no opinion', () => {
    const auth = new X509Authenticator({ roots: parseCertificateBundle(ca.certPem) });
    assert.equal(refusal(auth, [Buffer.from('not a certificate')]), 'x509: malformed certificate');
    assert.equal(auth.authenticate([]), undefined);
  });

  test('a CA file without a certificate is refused', () => {
    assert.throws(() => parseCertificateBundle(ca.keyPem), CertificateError);
  });
});
