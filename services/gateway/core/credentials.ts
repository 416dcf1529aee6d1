/**
 * Credentials as clients present them, for REST (Authorization header, TLS client
 * certificate) and gRPC (authorization metadata, the peer's certificate) alike, and the key
 * answers about them are cached under: a hash, never the credential itself.
 */
import { createHash } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Metadata } from '@grpc/grpc-js';
import type { CallContext } from '../../../lib/grpc/serve.ts';
import type { Credentials, UserInfo } from '../../auth/api.ts';

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/** kube's user.Anonymous and the group it alone is in. */
export const ANONYMOUS_USER: Readonly<UserInfo> = Object.freeze({ username: 'system:anonymous', uid: '', groups: Object.freeze(['system:unauthenticated']) as string[] });

/** The paths a request without credentials may reach as system:anonymous (kube's anonymous authenticator conditions). */
export const DEFAULT_ANONYMOUS_PATHS: readonly string[] = Object.freeze([
  '/livez',
  '/readyz',
  '/version',
  '/version/',
  '/.well-known/openid-configuration',
  '/.well-known/openid-configuration/',
  '/openid/v1/jwks',
  '/openid/v1/jwks/',
]);

/** Whether `credentials` present anything at all (a request without is anonymous or refused). */
export function presentsCredentials(credentials: Credentials): boolean {
  return (credentials.token !== undefined && credentials.token !== '') || (credentials.clientCertificates?.length ?? 0) > 0;
}

/**
 * The cache key of what `credentials` present: a SHA-256 over the token and every certificate,
 * each length-prefixed so that no two different presentations share a key.
 */
export function credentialsKey(credentials: Credentials): string {
  const hash = createHash('sha256');
  const part = (tag: string, bytes: Buffer | string) => {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    hash.update(tag).update(length).update(data);
  };
  part('t', credentials.token ?? '');
  for (const certificate of credentials.clientCertificates ?? []) part('c', certificate);
  for (const audience of credentials.audiences ?? []) part('a', audience);
  return hash.digest('base64');
}

/**
 * The certificate chain a TLS client presented, DER, leaf first, as Node saw it (unverified:
 * the front door asks for a certificate without requiring a trusted one; the auth service
 * verifies it). Empty when the client sent none or the socket is no TLS socket.
 */
export function peerCertificateChain(socket: unknown): Buffer[] {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (typeof tls?.getPeerCertificate !== 'function') return [];
  let certificate: PeerCertificate & { issuerCertificate?: PeerCertificate } = tls.getPeerCertificate(true);
  const chain: Buffer[] = [];
  // Node links each certificate to its issuer among those the client sent; a self-signed one links to itself.
  while (certificate?.raw !== undefined && chain.length < 10) {
    if (chain.some((known) => known.equals(certificate.raw))) break;
    chain.push(certificate.raw);
    const issuer = certificate.issuerCertificate;
    if (issuer === undefined || issuer === certificate) break;
    certificate = issuer;
  }
  return chain;
}

/** The credentials of a gRPC call: the bearer token of its `authorization` metadata, and its TLS client certificate. */
export function callCredentials(ctx: CallContext): Credentials {
  const value = ctx.metadata.get('authorization')[0];
  return { token: bearerToken(typeof value === 'string' ? value : undefined), clientCertificates: ctx.peerCertificate === undefined ? [] : [ctx.peerCertificate] };
}

/** A call's metadata as name/value pairs (a repeated key once per value; binary values left out), for impersonation. */
export function metadataPairs(metadata: Metadata): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [name, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) if (typeof value === 'string') pairs.push([name, value]);
  }
  return pairs;
}
