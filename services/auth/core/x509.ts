/**
 * Client certificate authentication as kube-apiserver's x509 authenticator (--client-ca-file):
 * the chain the client presented (leaf first, DER) must lead to one of the client CAs through
 * valid CA certificates, every certificate on the path must be within its validity dates and
 * allow client authentication; the user is the leaf's subject CN and the groups its O values.
 *
 * The path is verified as Go's crypto/x509 Verify does (node:crypto only checks one signature
 * at a time): intermediates must be CAs by basicConstraints, every CA's pathLenConstraint is
 * honoured, signatures must use SHA-2 or Ed25519 (MD5 and SHA-1 are refused), and a certificate
 * with a critical extension Go would not understand is refused. Unlike Go, name constraints
 * are not evaluated: a chain through a CA that carries them is refused (fail closed).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { goQuote } from '../../../lib/go-strconv.ts';
import { certificateConstraints, certificateSubject, extendedKeyUsages, type CertificateConstraints } from '../../../lib/pki.ts';
import type { UserInfo } from '../api.ts';

/** The user.Info extra key kube sets to identify the credential (not the credential itself). */
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
/** Go's crypto/x509 refuses longer paths in practice; a bound keeps a hostile chain cheap. */
const MAX_CHAIN = 10;
/** Go's maxChainSignatureChecks: the signatures one verification may check in all. */
const MAX_SIGNATURE_CHECKS = 100;

const RSASSA_PSS = '1.2.840.113549.1.1.10';
/** The signature algorithms Go verifies certificates with (PSS subject to its parameters). */
const SIGNATURE_ALGORITHMS = new Set([
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
  RSASSA_PSS,
  '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4', // ecdsa-with-SHA512
  '1.3.101.112', // Ed25519
]);
/** The algorithms Go knows and refuses as insecure, by the names its messages give them. */
const INSECURE_SIGNATURE_ALGORITHMS = new Map([
  ['1.2.840.113549.1.1.4', 'MD5-RSA'],
  ['1.2.840.113549.1.1.5', 'SHA1-RSA'],
  ['1.3.14.3.2.29', 'SHA1-RSA'],
  ['1.2.840.10040.4.3', 'DSA-SHA1'],
  ['1.2.840.10045.4.1', 'ECDSA-SHA1'],
]);
/** The RSASSA-PSS hashes Go accepts, with the salt length it requires of each. */
const PSS_SALT_LENGTHS = new Map([
  ['SHA-256', 32],
  ['SHA-384', 48],
  ['SHA-512', 64],
]);
/**
 * Critical extensions whose meaning this verifier applies, or which restrict nothing it
 * relies on (as Go handles them). Any other critical extension refuses the certificate, as Go
 * does: among them the policy constraints, which are not evaluated here. nameConstraints is
 * "handled" by refusing every CA that carries it (see NAME_CONSTRAINTS_UNSUPPORTED).
 */
const HANDLED_CRITICAL_EXTENSIONS = new Set([
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.30', // nameConstraints
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.32', // certificatePolicies (no policy constraint is honoured, so none restricts)
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.37', // extKeyUsage
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
]);
/** Not Go's words: Go checks name constraints, this verifier refuses every CA that has them. */
const NAME_CONSTRAINTS_UNSUPPORTED = 'x509: a root or intermediate certificate with name constraints is not supported';

/** Why a chain was refused, in Go crypto/x509's words; never contains the certificate. */
export class CertificateError extends Error {
  override name = 'CertificateError';
}

/** Every certificate of a PEM bundle (a CA file may hold several). Throws when there is none. */
export function parseCertificateBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new CertificateError('no certificate found in the client CA file');
  return blocks.map((b) => new X509Certificate(b));
}

export interface X509AuthenticatorOptions {
  /** The client CAs (roots). */
  roots: X509Certificate[];
  /** The clock, for tests. */
  now?: () => number;
}

/** A certificate with what the verifier reads of it, parsed once. */
interface Parsed {
  cert: X509Certificate;
  constraints: CertificateConstraints;
  /** Its extended key usages; undefined when it has no such extension (any usage). */
  usages: string[] | undefined;
}

/** The role a certificate is checked for, as Go's isValid takes it. */
type Role = 'leaf' | 'intermediate' | 'root';

export class X509Authenticator {
  private readonly roots: Parsed[];
  private readonly now: () => number;

  constructor(options: X509AuthenticatorOptions) {
    if (options.roots.length === 0) throw new CertificateError('no client CA');
    this.roots = options.roots.map((cert) => {
      const parsed = parse(cert);
      if (parsed === undefined) throw new CertificateError('a client CA certificate cannot be read: x509: malformed certificate');
      return parsed;
    });
    this.now = options.now ?? Date.now;
  }

  /**
   * The user of a verified chain (DER, leaf first). Undefined for an empty chain or a leaf
   * without a common name (as kube: no opinion); CertificateError when the chain does not verify.
   */
  authenticate(chain: readonly Buffer[]): UserInfo | undefined {
    if (chain.length === 0) return undefined;
    if (chain.length > MAX_CHAIN) throw new CertificateError('x509: too many intermediates for path length constraint');
    const certs: Parsed[] = [];
    for (const der of chain) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(der);
      } catch {
        throw new CertificateError('x509: malformed certificate');
      }
      const parsed = parse(cert);
      if (parsed === undefined) throw new CertificateError('x509: malformed certificate');
      certs.push(parsed);
    }
    const leaf = certs[0]!;
    const now = this.now();
    // As Go: the leaf's own faults are reported as they are, not as an unknown authority.
    const invalid = this.invalid(leaf, 'leaf', [], now);
    if (invalid !== undefined) throw new CertificateError(invalid);
    const chains = this.roots.some((r) => r.cert.raw.equals(leaf.cert.raw))
      ? [[leaf]]
      : this.buildChains([leaf], certs.slice(1), now, { checks: 0 });
    // As Go: every certificate of some chain must allow client authentication; a certificate
    // without the extension allows any usage.
    const usable = chains.some((path) => path.every((c) => c.usages === undefined || c.usages.includes(CLIENT_AUTH) || c.usages.includes(ANY_EXTENDED_KEY_USAGE)));
    if (!usable) throw new CertificateError('x509: certificate specifies an incompatible key usage');
    const subject = certificateSubject(leaf.cert.raw);
    if (subject.commonName === '') return undefined;
    return {
      username: subject.commonName,
      uid: '',
      groups: subject.organizations,
      // kube identifies the certificate by its SHA-256 fingerprint, a digest of public data.
      extra: { [CREDENTIAL_ID_KEY]: [`X509SHA256=${createHash('sha256').update(leaf.cert.raw).digest('hex')}`] },
    };
  }

  /**
   * Every chain from the last certificate of `chain` up to a root, as Go's buildChains: the
   * roots, then the presented intermediates (in any order) that name it as issuer are tried,
   * each must have signed it with an accepted algorithm and be valid in its role (see
   * {@link invalid}). Throws, when there is no chain, the error of the deepest failed attempt,
   * or "unknown authority" with the first reason a candidate was turned down as a hint.
   */
  private buildChains(chain: Parsed[], intermediates: Parsed[], now: number, budget: { checks: number }): Parsed[][] {
    const current = chain[chain.length - 1]!;
    const chains: Parsed[][] = [];
    let hint: { reason: string; candidate: Parsed } | undefined;
    let failure: CertificateError | undefined;
    const consider = (role: 'intermediate' | 'root', candidate: Parsed): void => {
      if (chain.some((c) => c.cert.raw.equals(candidate.cert.raw))) return;
      // Presented intermediates may form loops and forks: bound the work as Go does.
      if (++budget.checks > MAX_SIGNATURE_CHECKS) {
        failure = new CertificateError('x509: signature check attempts limit reached while verifying certificate chain');
        return;
      }
      const reason = signatureFault(current, candidate) ?? this.invalid(candidate, role, chain, now);
      if (reason !== undefined) {
        hint ??= { reason, candidate };
        return;
      }
      if (role === 'root') {
        chains.push([...chain, candidate]);
        return;
      }
      try {
        chains.push(...this.buildChains([...chain, candidate], intermediates, now, budget));
        failure = undefined;
      } catch (err) {
        failure = err as CertificateError;
      }
    };
    for (const root of this.roots) if (current.cert.checkIssued(root.cert)) consider('root', root);
    for (const c of intermediates) if (current.cert.checkIssued(c.cert)) consider('intermediate', c);
    if (chains.length > 0) return chains;
    if (failure !== undefined) throw failure;
    let message = 'x509: certificate signed by unknown authority';
    if (hint !== undefined) {
      message += ` (possibly because of ${goQuote(hint.reason)} while trying to verify candidate authority certificate ${goQuote(certificateName(hint.candidate))})`;
    }
    throw new CertificateError(message);
  }

  /**
   * Why a certificate cannot take its role in a chain (`below`: the chain under it, leaf
   * first), in Go's isValid order and words; undefined when it can.
   */
  private invalid(c: Parsed, role: Role, below: Parsed[], now: number): string | undefined {
    if (c.constraints.criticalExtensions.some((oid) => !HANDLED_CRITICAL_EXTENSIONS.has(oid))) return 'x509: unhandled critical extension';
    const { cert } = c;
    if (now < cert.validFromDate.getTime() || now > cert.validToDate.getTime()) {
      const when = now < cert.validFromDate.getTime() ? `before ${goTime(cert.validFromDate)}` : `after ${goTime(cert.validToDate)}`;
      return `x509: certificate has expired or is not yet valid: current time ${goTime(new Date(now))} is ${when}`;
    }
    if (role === 'leaf') return undefined;
    // Go checks the chain's subjectAltNames against a CA's name constraints; this verifier does
    // not implement them and refuses such a CA instead (fail closed).
    if (c.constraints.nameConstraints) return NAME_CONSTRAINTS_UNSUPPORTED;
    const bc = c.constraints.basicConstraints;
    // A root is trusted as configured; an intermediate must say it is a CA.
    if (role === 'intermediate' && bc?.ca !== true) return 'x509: certificate is not authorized to sign other certificates';
    // pathLenConstraint bounds the intermediates below a CA (the leaf does not count).
    if (bc?.pathLength !== undefined && below.length - 1 > bc.pathLength) return 'x509: too many intermediates for path length constraint';
    return undefined;
  }
}

function parse(cert: X509Certificate): Parsed | undefined {
  try {
    return { cert, constraints: certificateConstraints(cert.raw), usages: extendedKeyUsages(cert.raw) };
  } catch {
    return undefined;
  }
}

/**
 * Why `issuer` is not accepted as the signer of `cert`, in Go's words; undefined when its
 * signature verifies with an algorithm Go accepts. Go refuses MD5 and SHA-1 signatures as
 * insecure and knows only the SHA-2 and Ed25519 algorithms below; OpenSSL alone would accept more.
 */
function signatureFault(cert: Parsed, issuer: Parsed): string | undefined {
  const oid = cert.cert.signatureAlgorithmOid;
  const insecure = INSECURE_SIGNATURE_ALGORITHMS.get(oid);
  if (insecure !== undefined) return `x509: cannot verify signature: insecure algorithm ${insecure}`;
  if (!SIGNATURE_ALGORITHMS.has(oid)) return 'x509: cannot verify signature: algorithm unimplemented';
  if (oid === RSASSA_PSS) {
    // Go takes PSS only with SHA-256/384/512 and a salt as long as the digest.
    const pss = cert.constraints.pss;
    if (pss === undefined || PSS_SALT_LENGTHS.get(pss.hash) !== pss.saltLength) return 'x509: cannot verify signature: algorithm unimplemented';
  }
  let verified: boolean;
  try {
    verified = cert.cert.verify(issuer.cert.publicKey);
  } catch {
    verified = false;
  }
  if (verified) return undefined;
  switch (issuer.cert.publicKey.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return 'crypto/rsa: verification error';
    case 'ec':
      return 'x509: ECDSA verification failure';
    case 'ed25519':
      return 'x509: Ed25519 verification failure';
    default:
      return 'x509: cannot verify signature: algorithm unimplemented';
  }
}

/** How Go names a candidate authority in its hint: CN, else the first O, else the serial number. */
function certificateName(c: Parsed): string {
  const subject = certificateSubject(c.cert.raw);
  if (subject.commonName !== '') return subject.commonName;
  if (subject.organizations.length > 0) return subject.organizations[0]!;
  return `serial:${BigInt(`0x${c.cert.serialNumber}`).toString()}`;
}

/** A time as Go's time.Time formats it in these messages (RFC 3339, UTC, seconds). */
function goTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
