/**
 * The certificates of the control plane: one CA per cluster, serving certificates for the API
 * server and its peers, client certificates whose subject carries the user (CN) and the groups (O)
 * the way Kubernetes reads them.
 *
 * Keys are ECDSA P-256 signed with SHA-256: generating one takes about a millisecond (RSA-2048
 * takes a hundred or more), and every TLS stack that talks to us supports it (Go's crypto/tls in
 * kubectl, OpenSSL in Node, BoringSSL in gRPC).
 *
 * The layout on disk is kubeadm's: `<dir>/<name>.crt` (PEM certificate) next to `<dir>/<name>.key`
 * (PEM PKCS#8 private key, mode 0600). Several processes may start at once on one directory
 * (replicas sharing a volume, a harness starting every service together), so files are written by
 * a protocol that never shows a reader a half-written or mismatched pair: see publishNew and
 * publishReplacement.
 */
import { createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate as NodeCertificate } from 'node:crypto';
import { link, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';
import { isIP } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A certificate and its private key, both PEM: the key as PKCS#8 (`-----BEGIN PRIVATE KEY-----`). */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** What {@link issueCertificate} puts in a certificate. */
export interface IssueOptions {
  /** Subject CN: the user name of a client certificate, informational on a serving one. */
  commonName: string;
  /** Subject O values: Kubernetes takes a client certificate's groups from them. */
  organizations?: string[];
  /** DNS subjectAltNames. Clients match host names only against these, never against the CN. */
  dnsNames?: string[];
  /** IP subjectAltNames (IPv4 or IPv6). A client dialing an IP matches it only against these. */
  ipAddresses?: string[];
  /** Extended key usage: serverAuth, clientAuth, or both. */
  usage: 'server' | 'client' | 'both';
  /** Lifetime from now; 365 by default, never beyond the CA's own expiry. */
  validDays?: number;
}

// @peculiar/x509 resolves its algorithm implementations through tsyringe, which needs the
// Reflect metadata API (the library's documented set-up imports reflect-metadata first).
// Static imports are evaluated in order, so 'reflect-metadata' must be loaded before x509: hence
// require() after it rather than a hoisted static import.
const load = createRequire(import.meta.url);
load('reflect-metadata');
const x509 = load('@peculiar/x509') as typeof X509;

// Passed explicitly to every x509 call instead of relying on the library's global default.
const crypto = webcrypto;
const { subtle } = webcrypto;

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** notBefore is backdated this much so that a peer whose clock is behind accepts a new certificate. */
const CLOCK_SKEW_MS = HOUR_MS;
const CA_VALID_DAYS = 3650;
const DEFAULT_VALID_DAYS = 365;
/** A serving certificate closer than this to expiry is replaced at startup rather than reused. */
const RENEW_BEFORE_DAYS = 30;
/**
 * How long a reader waits for a pair that is momentarily inconsistent to settle. A writer's window
 * is two system calls long (but a loaded machine can stall it), so a pair still torn after this
 * was left by a crash.
 */
const TORN_WAIT_MS = 3000;

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EXTENDED_USAGES: Record<IssueOptions['usage'], string[]> = {
  server: [SERVER_AUTH],
  client: [CLIENT_AUTH],
  both: [SERVER_AUTH, CLIENT_AUTH],
};
const P256: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/**
 * Loads the CA from `dir/<name>.crt` + `dir/<name>.key` (`name` is `ca` unless given: the client
 * CA is `client-ca`), creating it (and `dir`, mode 0700) when absent.
 *
 * Safe when several processes call it at once on the same dir: exactly one CA results and every
 * caller returns it. Creators race on an exclusive hard link of a fully written key; the loser
 * discards its CA and reads the winner's (see publishNew). The key file is mode 0600.
 *
 * `commonName` is used only when creating. An existing CA is never replaced, because every client
 * trusts it: a CA that is not a CA, has expired, or whose key does not match is an error for the
 * operator to resolve, not something to paper over.
 */
export async function ensureCA(dir: string, commonName: string, name = 'ca'): Promise<KeyPair> {
  if (commonName === '') throw new Error('ensureCA: commonName is empty');
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) throw new Error(`ensureCA: invalid name ${JSON.stringify(name)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await loadPair(dir, name);
    if (state.kind === 'ok') {
      checkCA(dir, name, state.pair);
      return state.pair;
    }
    if (state.kind === 'torn') {
      throw new Error(
        `${dir}: ${name}.crt and ${name}.key are not a certificate and its key (${state.reason}); ` +
          'restore them, or remove both to create a new CA (every issued certificate then becomes invalid)',
      );
    }
    await publishNew(dir, name, await createCA(commonName));
    // Won or lost, the CA is whatever is on disk now: read it back so every caller returns the same.
  }
  throw new Error(`${dir}: ${name}.crt and ${name}.key keep disappearing while being created`);
}

/**
 * Issues a certificate signed by `ca`, with a fresh P-256 key: random serial, notBefore an hour in
 * the past (clock skew), keyUsage digitalSignature|keyEncipherment, the extended key usage of
 * `usage`, the DNS and IP subjectAltNames, and key identifiers linking it to the CA.
 */
export async function issueCertificate(ca: KeyPair, options: IssueOptions): Promise<KeyPair> {
  const { commonName, usage } = options;
  const organizations = options.organizations ?? [];
  const dnsNames = options.dnsNames ?? [];
  const ipAddresses = options.ipAddresses ?? [];
  const validDays = options.validDays ?? DEFAULT_VALID_DAYS;
  if (commonName === '') throw new Error('issueCertificate: commonName is empty');
  if (!Object.hasOwn(EXTENDED_USAGES, usage)) throw new Error(`issueCertificate: unknown usage ${JSON.stringify(usage)}`);
  if (!(validDays > 0 && Number.isFinite(validDays))) throw new Error(`issueCertificate: invalid validDays ${validDays}`);
  if (organizations.some((o) => o === '')) throw new Error('issueCertificate: empty organization');
  checkHosts({ dnsNames, ipAddresses });

  const caCert = new x509.X509Certificate(ca.certPem);
  const signer = await importSigningKey(ca.keyPem);
  const keys = await subtle.generateKey(P256, true, ['sign', 'verify']);
  const now = Date.now();
  const notAfter = Math.min(now + validDays * DAY_MS, caCert.notAfter.getTime());
  if (notAfter <= now) throw new Error(`issueCertificate: the CA "${caCert.subject}" has expired`);

  // Reuse the CA's own subject key identifier when it has one: it may have been computed
  // differently from ours (an operator-supplied CA), and chain builders match AKI against it.
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const authorityKeyId =
    caKeyId !== undefined
      ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
      : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto);
  const extensions: InstanceType<typeof x509.Extension>[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    // keyEncipherment means nothing for an ECDSA key (it is RSA key transport); it is there
    // because the certificates Kubernetes issues carry it, and TLS stacks ignore it for ECDSA.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(EXTENDED_USAGES[usage]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    authorityKeyId,
  ];
  if (dnsNames.length > 0 || ipAddresses.length > 0) {
    // An empty subjectAltName is invalid DER, so a plain client certificate goes without one.
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value: sanIp(value) })),
      ]),
    );
  }

  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      // One RDN per O value, CN last: the order OpenSSL and Kubernetes print them in.
      subject: [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }],
      issuer: caCert.subjectName,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(notAfter),
      publicKey: keys.publicKey,
      signingKey: signer.key,
      signingAlgorithm: signer.algorithm,
      extensions,
    },
    crypto,
  );
  const pair = { certPem: certificatePem(cert), keyPem: privateKeyPem(keys.privateKey) };

  // Check the result the way TLS peers will (OpenSSL underneath), so that a CA key that does not
  // belong to the CA certificate, or an address the encoder mangled, fails here and not in a
  // handshake far away.
  const issued = new NodeCertificate(pair.certPem);
  const caNode = new NodeCertificate(ca.certPem);
  if (!issued.verify(caNode.publicKey)) {
    throw new Error(`issueCertificate: the CA key does not belong to the CA certificate "${caCert.subject}"`);
  }
  for (const ip of ipAddresses) {
    if (issued.checkIP(ip) === undefined) throw new Error(`issueCertificate: IP ${ip} was not encoded correctly`);
  }
  return pair;
}

/**
 * Loads `dir/<name>.crt`/`.key` when present, signed by `ca`, covering every requested DNS name
 * and IP, and valid for at least 30 more days; otherwise issues a new one (server usage, CN
 * `name`) and writes it the same race-safe way as the CA. Extra names on an existing certificate
 * are fine: it is reused as long as it covers what is asked.
 *
 * When several processes replace the same certificate at once they may end up with different
 * ones; each is valid for its holder, and the files on disk always hold a matching pair.
 */
export async function ensureServingCertificate(
  dir: string,
  name: string,
  ca: KeyPair,
  hosts: { dnsNames: string[]; ipAddresses: string[] },
): Promise<KeyPair> {
  // The name becomes file names, and must not collide with the staging directories.
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(name) || name.includes('.tmp-')) {
    throw new Error(`ensureServingCertificate: invalid certificate name ${JSON.stringify(name)}`);
  }
  checkHosts(hosts);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caCert = new NodeCertificate(ca.certPem);
  let issued: KeyPair | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await loadPair(dir, name);
    if (state.kind === 'ok' && servesHosts(state.pair.certPem, caCert, hosts)) return state.pair;
    issued = await issueCertificate(ca, {
      commonName: name,
      dnsNames: hosts.dnsNames,
      ipAddresses: hosts.ipAddresses,
      usage: 'server',
    });
    if (state.kind === 'absent') await publishNew(dir, name, issued);
    else await publishReplacement(dir, name, issued);
    // Read back: when another process published first, its certificate may well do.
  }
  // Another process asking for different hosts keeps replacing the files. The certificate issued
  // here is valid for this process, which holds it in memory.
  return issued!;
}

/** The subject of a certificate as Kubernetes reads a client certificate's: CN the user, O the groups. */
export interface CertificateSubject {
  commonName: string;
  organizations: string[];
}

/**
 * The subject CN (the last one, as Go's pkix.Name keeps) and every O value, in order, of a
 * certificate (DER or PEM). Parsed from the ASN.1, never from a printed form, so a value holding
 * `=`, `,` or a line break cannot pass for another attribute.
 */
export function certificateSubject(cert: Buffer | string): CertificateSubject {
  const name = new x509.X509Certificate(cert).subjectName;
  const commonNames = name.getField('CN');
  return { commonName: commonNames[commonNames.length - 1] ?? '', organizations: name.getField('O') };
}

/**
 * The extended key usages of a certificate (DER or PEM) as OIDs; undefined when it has no
 * extendedKeyUsage extension (which Go's verifier takes as "any usage").
 */
export function extendedKeyUsages(cert: Buffer | string): string[] | undefined {
  return new x509.X509Certificate(cert).getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String);
}

/** What a chain verifier reads of a certificate beyond what node:crypto's X509Certificate shows. */
export interface CertificateConstraints {
  /** The basicConstraints extension; undefined when the certificate has none. */
  basicConstraints: { ca: boolean; pathLength: number | undefined } | undefined;
  /** Whether the certificate carries a nameConstraints extension, critical or not. */
  nameConstraints: boolean;
  /** The OIDs of the extensions marked critical. */
  criticalExtensions: string[];
  /** For an RSASSA-PSS signature: the hash (WebCrypto name) and salt length its parameters name. */
  pss: { hash: string; saltLength: number } | undefined;
}

const NAME_CONSTRAINTS = '2.5.29.30';

/**
 * The constraints of a certificate (DER or PEM), read from the ASN.1. Throws on a certificate
 * whose extensions cannot be read or that holds an extension twice (RFC 5280 forbids it, and Go
 * refuses to parse such a certificate), so a verifier can refuse it as malformed.
 */
export function certificateConstraints(cert: Buffer | string): CertificateConstraints {
  const parsed = new x509.X509Certificate(cert);
  const oids = parsed.extensions.map((e) => e.type);
  if (new Set(oids).size !== oids.length) throw new Error('the certificate contains duplicate extensions');
  const bc = parsed.getExtension(x509.BasicConstraintsExtension);
  // The library names the algorithms it knows (RSA-PSS among them) and gives the OID of others.
  const algorithm = parsed.signatureAlgorithm as { name: string; hash?: { name?: unknown }; saltLength?: unknown };
  const pss = algorithm.name === 'RSA-PSS' ? { hash: String(algorithm.hash?.name), saltLength: Number(algorithm.saltLength) } : undefined;
  return {
    basicConstraints: bc === null ? undefined : { ca: bc.ca, pathLength: bc.pathLength },
    nameConstraints: oids.includes(NAME_CONSTRAINTS),
    criticalExtensions: parsed.extensions.filter((e) => e.critical).map((e) => e.type),
    pss,
  };
}

// ---------------------------------------------------------------------------------------------
// Certificates

async function createCA(commonName: string): Promise<KeyPair> {
  const keys = await subtle.generateKey(P256, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: [{ CN: [commonName] }],
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now + CA_VALID_DAYS * DAY_MS),
      keys,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: certificatePem(cert), keyPem: privateKeyPem(keys.privateKey) };
}

/** Refuses a loaded CA that cannot work, with a message that says what to do. */
function checkCA(dir: string, name: string, pair: KeyPair): void {
  const cert = new NodeCertificate(pair.certPem);
  if (!cert.ca) throw new Error(`${dir}/${name}.crt is not a CA certificate (basicConstraints CA:FALSE or absent)`);
  if (cert.validToDate.getTime() <= Date.now()) {
    throw new Error(`${dir}/${name}.crt expired on ${cert.validToDate.toISOString()}; a new CA must be created and distributed`);
  }
}

/** Whether an existing serving certificate can be kept (its key was already matched on load). */
function servesHosts(
  certPem: string,
  caCert: NodeCertificate,
  hosts: { dnsNames: string[]; ipAddresses: string[] },
): boolean {
  const cert = new NodeCertificate(certPem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
  const now = Date.now();
  if (cert.validFromDate.getTime() > now) return false;
  if (cert.validToDate.getTime() - now < RENEW_BEFORE_DAYS * DAY_MS) return false;
  const parsed = new x509.X509Certificate(certPem);
  const usages = parsed.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  if (!usages.includes(SERVER_AUTH)) return false;
  // DNS names compare exactly (case-insensitively): a wildcard we did not ask for is not reused.
  const names = parsed.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const dns = new Set(names.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase()));
  if (!hosts.dnsNames.every((d) => dns.has(d.toLowerCase()))) return false;
  // OpenSSL compares address bytes, so "::1" matches however the address was spelled.
  return hosts.ipAddresses.every((ip) => cert.checkIP(ip) !== undefined);
}

function checkHosts(hosts: { dnsNames: string[]; ipAddresses: string[] }): void {
  for (const name of hosts.dnsNames) {
    // Clients match an address they dial only against IP SANs, never DNS SANs, so an address
    // among the DNS names would silently not work.
    if (isIP(name) !== 0) throw new Error(`DNS name ${name} is an IP address: pass it in ipAddresses`);
    if (!/^[A-Za-z0-9*_.-]+$/.test(name) || name.startsWith('.') || name.endsWith('.')) {
      throw new Error(`invalid DNS name ${JSON.stringify(name)}`);
    }
  }
  for (const ip of hosts.ipAddresses) {
    if (isIP(ip) === 0 || ip.includes('%')) throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
  }
}

/**
 * The x509 library parses IPv6 group by group and would misread a trailing dotted quad
 * (`::ffff:10.0.0.1`) without complaint, so that part is rewritten as two hex groups.
 */
function sanIp(ip: string): string {
  if (isIP(ip) !== 6 || !ip.includes('.')) return ip;
  const at = ip.lastIndexOf(':');
  const q = ip.slice(at + 1).split('.').map(Number);
  const hex = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);
  return `${ip.slice(0, at + 1)}${hex(q[0]!, q[1]!)}:${hex(q[2]!, q[3]!)}`;
}

/** 16 random octets (RFC 5280 allows 20), top bit clear so the INTEGER needs no sign pad. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function certificatePem(cert: InstanceType<typeof x509.X509Certificate>): string {
  const pem = cert.toString('pem').replace(/\r\n/g, '\n');
  return pem.endsWith('\n') ? pem : pem + '\n';
}

function privateKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Imports the CA's private key for signing. Ours is P-256, but an operator may drop in a CA of
 * their own, possibly RSA or P-384 and possibly as SEC1 or PKCS#1 PEM; Node reads them all.
 */
async function importSigningKey(keyPem: string): Promise<{ key: webcrypto.CryptoKey; algorithm: webcrypto.Algorithm }> {
  const keyObject = createPrivateKey(keyPem);
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (namedCurve === undefined) throw new Error(`unsupported CA key curve ${curve}`);
    const key = await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { key, algorithm: ECDSA_SHA256 };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  throw new Error(`unsupported CA key type ${keyObject.asymmetricKeyType}`);
}

function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    return new NodeCertificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false; // unparsable, or key of another type
  }
}

// ---------------------------------------------------------------------------------------------
// Files
//
// A pair is two files and no system call replaces two files at once, so consistency comes from
// ordering plus verification:
// - every writer first writes both files in full (fsync'd) into a private staging directory
//   `<dir>/.<name>.tmp-XXXXXX` on the same filesystem, then puts the key in place, then the
//   certificate, each with one atomic link() or rename();
// - every reader reads the certificate, then the key, and accepts them only if the key belongs to
//   the certificate; anything else is "torn" and read again until it settles.
// Creation uses link(), which fails when the target exists: the first key linked decides which pair
// wins, and the certificate that follows is that key's partner, so a certificate present means its
// key is too. A creator that dies between its two links leaves the key alone, but its staging
// directory still holds the certificate, which the next reader links into place (see
// completeInterruptedCreate), so even a crash there does not wedge the directory.

type PairState = { kind: 'absent' } | { kind: 'ok'; pair: KeyPair } | { kind: 'torn'; reason: string };

interface PairFiles {
  crt: string;
  key: string;
}

function pairFiles(dir: string, name: string): PairFiles {
  return { crt: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

function stagingPrefix(name: string): string {
  return `.${name}.tmp-`;
}

/** Reads a pair, waiting up to TORN_WAIT_MS for one caught mid-write to settle. */
async function loadPair(dir: string, name: string): Promise<PairState> {
  const deadline = Date.now() + TORN_WAIT_MS;
  for (;;) {
    const state = await readPair(dir, name);
    if (state.kind !== 'torn' || Date.now() >= deadline) return state;
    await sleep(5 + Math.random() * 20);
  }
}

async function readPair(dir: string, name: string): Promise<PairState> {
  const files = pairFiles(dir, name);
  const certPem = await readIfExists(files.crt);
  const keyPem = await readIfExists(files.key);
  if (certPem === undefined && keyPem === undefined) return { kind: 'absent' };
  if (certPem === undefined) {
    await completeInterruptedCreate(dir, name);
    return { kind: 'torn', reason: `${name}.key without ${name}.crt` };
  }
  if (keyPem === undefined) return { kind: 'torn', reason: `${name}.crt without ${name}.key` };
  if (!keyMatches(certPem, keyPem)) return { kind: 'torn', reason: `${name}.key does not belong to ${name}.crt` };
  return { kind: 'ok', pair: { certPem, keyPem } };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Publishes a pair only if none exists. Returns false when another writer's key got there first;
 * this pair is then discarded.
 */
async function publishNew(dir: string, name: string, pair: KeyPair): Promise<boolean> {
  const files = pairFiles(dir, name);
  const staged = await stage(dir, name, pair);
  try {
    await link(staged.key, files.key);
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
    await rm(staged.dir, { recursive: true, force: true });
    return false;
  }
  try {
    await link(staged.crt, files.crt);
  } catch (err) {
    // A reader may have completed the job already. On any other error the staging directory is
    // kept: it is what lets a later reader complete it.
    if (errorCode(err) !== 'EEXIST') throw err;
  }
  await syncDir(dir);
  await rm(staged.dir, { recursive: true, force: true });
  return true;
}

/**
 * Replaces an existing pair: key first, then certificate, each by an atomic rename. A reader
 * between the two sees a key that does not match and reads again.
 */
async function publishReplacement(dir: string, name: string, pair: KeyPair): Promise<void> {
  const files = pairFiles(dir, name);
  const staged = await stage(dir, name, pair);
  await rename(staged.key, files.key);
  await rename(staged.crt, files.crt);
  await syncDir(dir);
  await rm(staged.dir, { recursive: true, force: true });
}

/** Writes both files in full, durably, into a fresh staging directory next to their destination. */
async function stage(dir: string, name: string, pair: KeyPair): Promise<PairFiles & { dir: string }> {
  const stagingDir = await mkdtemp(path.join(dir, stagingPrefix(name)));
  const files = pairFiles(stagingDir, name);
  // The key is created 0600 (umask can only narrow it): it is never readable by others, not even
  // for the instant between creation and a chmod.
  await writeDurably(files.key, pair.keyPem, 0o600);
  await writeDurably(files.crt, pair.certPem, 0o644);
  return { dir: stagingDir, ...files };
}

/**
 * Finishes a creation whose writer died between linking the key and linking the certificate: the
 * staging directory holding the same key file (same inode) holds its certificate.
 */
async function completeInterruptedCreate(dir: string, name: string): Promise<void> {
  const files = pairFiles(dir, name);
  try {
    const published = await stat(files.key);
    for (const entry of await readdir(dir)) {
      if (!entry.startsWith(stagingPrefix(name))) continue;
      const staged = pairFiles(path.join(dir, entry), name);
      const candidate = await stat(staged.key).catch(() => undefined);
      if (candidate?.ino !== published.ino || candidate.dev !== published.dev) continue;
      await link(staged.crt, files.crt);
      return;
    }
  } catch (err) {
    // The writer (or another reader) finished, or the staging directory vanished: read again.
    if (!['ENOENT', 'EEXIST'].includes(errorCode(err) ?? '')) throw err;
  }
}

async function writeDurably(file: string, data: string, mode: number): Promise<void> {
  const handle = await open(file, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the new directory entries survive a power loss. Best effort: not every platform allows it. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // EISDIR/EPERM/EINVAL on platforms that cannot fsync a directory; the data files are synced.
  }
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
