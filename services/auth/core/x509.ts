/**
 * Client certificate authentication as kube-apiserver's x509 authenticator (--client-ca-file):
 * the chain the client presented (leaf first, DER) must lead to one of the client CAs through
 * valid CA certificates, every certificate on the path must be within its validity dates and
 * allow client authentication; the user is the leaf's subject CN and the groups its O values.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { certificateSubject, extendedKeyUsages } from '../../../lib/pki.ts';
import type { UserInfo } from '../api.ts';

/** The user.Info extra key kube sets to identify the credential (not the credential itself). */
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
/** Go's crypto/x509 refuses longer paths in practice; a bound keeps a hostile chain cheap. */
const MAX_CHAIN = 10;

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

export class X509Authenticator {
  private readonly roots: X509Certificate[];
  private readonly now: () => number;

  constructor(options: X509AuthenticatorOptions) {
    if (options.roots.length === 0) throw new CertificateError('no client CA');
    this.roots = options.roots;
    this.now = options.now ?? Date.now;
  }

  /**
   * The user of a verified chain (DER, leaf first). Undefined for an empty chain or a leaf
   * without a common name (as kube: no opinion); CertificateError when the chain does not verify.
   */
  authenticate(chain: readonly Buffer[]): UserInfo | undefined {
    if (chain.length === 0) return undefined;
    if (chain.length > MAX_CHAIN) throw new CertificateError('x509: too many intermediates for path length constraint');
    let certs: X509Certificate[];
    try {
      certs = chain.map((der) => new X509Certificate(der));
    } catch {
      throw new CertificateError('x509: malformed certificate');
    }
    const leaf = certs[0]!;
    const path = this.verifiedPath(leaf, certs.slice(1));
    const now = this.now();
    for (const cert of path) {
      if (now < cert.validFromDate.getTime() || now > cert.validToDate.getTime()) {
        const when = now < cert.validFromDate.getTime() ? `before ${goTime(cert.validFromDate)}` : `after ${goTime(cert.validToDate)}`;
        throw new CertificateError(`x509: certificate has expired or is not yet valid: current time ${goTime(new Date(now))} is ${when}`);
      }
      const usages = extendedKeyUsages(cert.raw);
      // As Go: a certificate without the extension allows any usage.
      if (usages !== undefined && !usages.includes(CLIENT_AUTH) && !usages.includes(ANY_EXTENDED_KEY_USAGE)) {
        throw new CertificateError('x509: certificate specifies an incompatible key usage');
      }
    }
    const subject = certificateSubject(leaf.raw);
    if (subject.commonName === '') return undefined;
    return {
      username: subject.commonName,
      uid: '',
      groups: subject.organizations,
      // kube identifies the certificate by its SHA-256 fingerprint, a digest of public data.
      extra: { [CREDENTIAL_ID_KEY]: [`X509SHA256=${createHash('sha256').update(leaf.raw).digest('hex')}`] },
    };
  }

  /**
   * leaf, intermediates..., root: each certificate names the next as issuer and carries its
   * signature; intermediates must be CAs. The presented intermediates may come in any order.
   */
  private verifiedPath(leaf: X509Certificate, intermediates: X509Certificate[]): X509Certificate[] {
    const path = [leaf];
    let current = leaf;
    const unused = new Set(intermediates);
    for (;;) {
      const root = this.roots.find((r) => signedBy(current, r));
      if (root !== undefined) {
        // The root itself is checked only when it is not the leaf's own copy of a trusted CA.
        if (root.raw.equals(current.raw)) return path;
        path.push(root);
        return path;
      }
      const next = [...unused].find((c) => c.ca && signedBy(current, c));
      if (next === undefined || path.length >= MAX_CHAIN) throw new CertificateError('x509: certificate signed by unknown authority');
      unused.delete(next);
      path.push(next);
      current = next;
    }
  }
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** A time as Go's time.Time formats it in these messages (RFC 3339, UTC, seconds). */
function goTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
