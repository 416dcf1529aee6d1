/**
 * Client certificate authentication against a client CA, with certificates made by lib/pki,
 * and chains through intermediates made here with @peculiar/x509 (lib/pki issues only leaves).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCA, issueCertificate, type KeyPair } from '../../../lib/pki.ts';
import { CertificateError, CREDENTIAL_ID_KEY, parseCertificateBundle, X509Authenticator } from './x509.ts';
import type * as X509 from '@peculiar/x509';

// As lib/pki: the library needs the Reflect metadata API loaded before it.
const load = createRequire(import.meta.url);
load('reflect-metadata');
const x509 = load('@peculiar/x509') as typeof X509;

const DAY_MS = 24 * 60 * 60 * 1000;
let dir: string;
let ca: KeyPair;
let otherCa: KeyPair;

function der(pair: KeyPair): Buffer {
  return new X509Certificate(pair.certPem).raw;
}

/** A certificate made for these tests and its keys, to sign others with. */
interface Made {
  cert: X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' };
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
/** nameConstraints permitting only the DNS names under example.com (DER of RFC 5280's NameConstraints). */
const EXAMPLE_COM_ONLY = Buffer.from('3011a00f300d820b6578616d706c652e636f6d', 'hex');

/**
 * A certificate named `name` with a P-256 key, signed by `issuer` (self-signed without one)
 * with ECDSA and `hash`. A CA (`ca`) gets basicConstraints cA with `pathLength` and
 * keyCertSign; a leaf gets clientAuth (and keyCertSign when asked).
 */
async function make(options: {
  name: string;
  issuer?: Made;
  ca?: boolean;
  pathLength?: number;
  organizations?: string[];
  hash?: 'SHA-1' | 'SHA-256';
  keys?: webcrypto.CryptoKeyPair;
  keyCertSign?: boolean;
  notAfter?: Date;
  extensions?: X509.Extension[];
}): Promise<Made> {
  const keys = options.keys ?? ((await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair);
  const signer = options.issuer?.keys ?? keys;
  const hash = options.hash ?? 'SHA-256';
  const ca = options.ca === true;
  const extensions = [
    new x509.BasicConstraintsExtension(ca, options.pathLength, true),
    new x509.KeyUsagesExtension(ca || options.keyCertSign === true ? x509.KeyUsageFlags.keyCertSign : x509.KeyUsageFlags.digitalSignature, true),
    ...(ca ? [] : [new x509.ExtendedKeyUsageExtension([CLIENT_AUTH])]),
    ...(options.extensions ?? []),
  ];
  const subject = [...(options.organizations ?? []).map((o) => ({ O: [o] })), { CN: [options.name] }];
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject,
      issuer: options.issuer === undefined ? subject : new x509.X509Certificate(options.issuer.cert.raw).subjectName,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: options.notAfter ?? new Date(Date.now() + DAY_MS),
      publicKey: keys.publicKey,
      signingKey: signer.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash },
      extensions,
    },
    webcrypto,
  );
  return { cert: new X509Certificate(Buffer.from(cert.rawData)), keys };
}

function trusting(...roots: Made[]): X509Authenticator {
  return new X509Authenticator({ roots: roots.map((r) => r.cert) });
}

/** Go's message for a chain refused because of `reason` while trying the authority `name`. */
function unknownAuthority(reason: string, name: string): string {
  return `x509: certificate signed by unknown authority (possibly because of "${reason}" while trying to verify candidate authority certificate "${name}")`;
}

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.equal(result.status, 0, `openssl ${args.join(' ')} failed: ${result.stderr}`);
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

describe('X509Authenticator: paths through intermediates', () => {
  test("an intermediate's pathLenConstraint bounds the CAs under it (presented in any order)", async () => {
    const root = await make({ name: 'root', ca: true });
    const intermediate = await make({ name: 'intermediate', issuer: root, ca: true, pathLength: 0 });
    const subCa = await make({ name: 'sub-ca', issuer: intermediate, ca: true });
    const leaf = await make({ name: 'mallory', organizations: ['system:masters'], issuer: subCa });
    const auth = trusting(root);
    const refused = unknownAuthority('x509: too many intermediates for path length constraint', 'intermediate');
    assert.equal(refusal(auth, [leaf.cert.raw, subCa.cert.raw, intermediate.cert.raw]), refused);
    assert.equal(refusal(auth, [leaf.cert.raw, intermediate.cert.raw, subCa.cert.raw]), refused);
    // pathlen:0 still allows issuing leaves; pathlen:1 allows one CA under it.
    const direct = await make({ name: 'direct', issuer: intermediate });
    assert.equal(auth.authenticate([direct.cert.raw, intermediate.cert.raw])?.username, 'direct');
    const wider = await make({ name: 'intermediate', issuer: root, ca: true, pathLength: 1, keys: intermediate.keys });
    assert.deepEqual(auth.authenticate([leaf.cert.raw, subCa.cert.raw, wider.cert.raw])?.groups, ['system:masters']);
  });

  test("the root's own pathLenConstraint counts too", async () => {
    const root = await make({ name: 'root', ca: true, pathLength: 0 });
    const intermediate = await make({ name: 'intermediate', issuer: root, ca: true });
    const leaf = await make({ name: 'jane', issuer: intermediate });
    assert.equal(refusal(trusting(root), [leaf.cert.raw, intermediate.cert.raw]), unknownAuthority('x509: too many intermediates for path length constraint', 'root'));
    assert.equal(trusting(root).authenticate([(await make({ name: 'direct', issuer: root })).cert.raw])?.username, 'direct');
  });

  test('an intermediate must be a CA by basicConstraints', async () => {
    const root = await make({ name: 'root', ca: true });
    // keyCertSign, so that only basicConstraints (cA false) stands in the way.
    const notCa = await make({ name: 'not-a-ca', issuer: root, keyCertSign: true });
    const leaf = await make({ name: 'jane', issuer: notCa });
    assert.equal(refusal(trusting(root), [leaf.cert.raw, notCa.cert.raw]), unknownAuthority('x509: certificate is not authorized to sign other certificates', 'not-a-ca'));
  });

  test('an SHA-1 signature is refused; the same CA signing with SHA-256 is accepted', async () => {
    const ecRoot = await make({ name: 'ec-root', ca: true });
    const ecSha1 = await make({ name: 'jane', issuer: ecRoot, hash: 'SHA-1' });
    assert.equal(refusal(trusting(ecRoot), [ecSha1.cert.raw]), unknownAuthority('x509: cannot verify signature: insecure algorithm ECDSA-SHA1', 'ec-root'));
    assert.equal(trusting(ecRoot).authenticate([(await make({ name: 'jane', issuer: ecRoot })).cert.raw])?.username, 'jane');

    // An intermediate signed with SHA-1 breaks the path as well.
    const sha1Intermediate = await make({ name: 'intermediate', issuer: ecRoot, ca: true, hash: 'SHA-1' });
    const leaf = await make({ name: 'jane', issuer: sha1Intermediate });
    assert.equal(refusal(trusting(ecRoot), [leaf.cert.raw, sha1Intermediate.cert.raw]), unknownAuthority('x509: cannot verify signature: insecure algorithm ECDSA-SHA1', 'ec-root'));

    // As Go, a trusted root's own self-signature is never checked, whatever its algorithm.
    const sha1Root = await make({ name: 'old-root', ca: true, hash: 'SHA-1' });
    assert.equal(trusting(sha1Root).authenticate([(await make({ name: 'jane', issuer: sha1Root })).cert.raw])?.username, 'jane');
  });

  test('RSA signatures with MD5 or SHA-1 (made by openssl) are refused as insecure', async () => {
    const work = await mkdtemp(join(dir, 'md5-'));
    const file = (name: string) => join(work, name);
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('root.key'), '-out', file('root.pem'), '-subj', '/CN=rsa-root', '-days', '1', '-addext', 'basicConstraints=critical,CA:TRUE']);
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('leaf.key'), '-out', file('leaf.csr'), '-subj', '/O=system:masters/CN=jane']);
    const sign = (digest: string, out: string) =>
      openssl(['x509', '-req', '-in', file('leaf.csr'), '-CA', file('root.pem'), '-CAkey', file('root.key'), '-CAcreateserial', `-${digest}`, '-days', '1', '-out', file(out)]);
    sign('md5', 'md5.pem');
    sign('sha1', 'sha1.pem');
    sign('sha256', 'sha256.pem');
    const auth = new X509Authenticator({ roots: parseCertificateBundle(await readFile(file('root.pem'), 'utf8')) });
    const leaf = async (name: string) => new X509Certificate(await readFile(file(name))).raw;
    assert.equal(refusal(auth, [await leaf('md5.pem')]), unknownAuthority('x509: cannot verify signature: insecure algorithm MD5-RSA', 'rsa-root'));
    assert.equal(refusal(auth, [await leaf('sha1.pem')]), unknownAuthority('x509: cannot verify signature: insecure algorithm SHA1-RSA', 'rsa-root'));
    assert.equal(auth.authenticate([await leaf('sha256.pem')])?.username, 'jane');
  });

  test('a chain through a name-constrained CA is refused (name constraints are not evaluated)', async () => {
    const constraint = new x509.Extension('2.5.29.30', true, EXAMPLE_COM_ONLY);
    const root = await make({ name: 'root', ca: true });
    const constrained = await make({ name: 'constrained', issuer: root, ca: true, extensions: [constraint] });
    const leaf = await make({ name: 'jane', issuer: constrained });
    const refused = 'x509: a root or intermediate certificate with name constraints is not supported';
    assert.equal(refusal(trusting(root), [leaf.cert.raw, constrained.cert.raw]), unknownAuthority(refused, 'constrained'));
    // A constrained root as well, critical or not.
    const constrainedRoot = await make({ name: 'constrained-root', ca: true, extensions: [new x509.Extension('2.5.29.30', false, EXAMPLE_COM_ONLY)] });
    const leaf2 = await make({ name: 'jane', issuer: constrainedRoot });
    assert.equal(refusal(trusting(constrainedRoot), [leaf2.cert.raw]), unknownAuthority(refused, 'constrained-root'));
  });

  test('a critical extension Go does not understand refuses the certificate', async () => {
    const root = await make({ name: 'root', ca: true });
    const odd = new x509.Extension('1.3.6.1.4.1.55555.1', true, Buffer.from([0x05, 0x00]));
    const leaf = await make({ name: 'jane', issuer: root, extensions: [odd] });
    assert.equal(refusal(trusting(root), [leaf.cert.raw]), 'x509: unhandled critical extension');
    const intermediate = await make({ name: 'intermediate', issuer: root, ca: true, extensions: [odd] });
    const leaf2 = await make({ name: 'jane', issuer: intermediate });
    assert.equal(refusal(trusting(root), [leaf2.cert.raw, intermediate.cert.raw]), unknownAuthority('x509: unhandled critical extension', 'intermediate'));
    // Not critical: ignored.
    const lenient = await make({ name: 'jane', issuer: root, extensions: [new x509.Extension('1.3.6.1.4.1.55555.1', false, Buffer.from([0x05, 0x00]))] });
    assert.equal(trusting(root).authenticate([lenient.cert.raw])?.username, 'jane');
  });

  test('when one candidate issuer fails, another with the same name and key is tried', async () => {
    const root = await make({ name: 'root', ca: true });
    const expired = await make({ name: 'intermediate', issuer: root, ca: true, notAfter: new Date(Date.now() - 1000) });
    const renewed = await make({ name: 'intermediate', issuer: root, ca: true, keys: expired.keys });
    const leaf = await make({ name: 'jane', issuer: expired });
    assert.equal(trusting(root).authenticate([leaf.cert.raw, expired.cert.raw, renewed.cert.raw])?.username, 'jane');
    assert.match(refusal(trusting(root), [leaf.cert.raw, expired.cert.raw]), /^x509: certificate signed by unknown authority \(possibly because of "x509: certificate has expired or is not yet valid: current time \S+ is after \S+" while trying to verify candidate authority certificate "intermediate"\)$/);
  });
});
