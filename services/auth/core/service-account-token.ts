/**
 * Service-account tokens as kube-apiserver issues and verifies them (pkg/serviceaccount): JWTs
 * signed with the control plane's key (--service-account-signing-key-file), verified with any of
 * the known public keys (that key plus --service-account-key-file, so keys can rotate), with
 * kube's claims, key ids, audience and time rules, and bound to the ServiceAccount's uid (and to
 * the Pod, Secret or Node's it was requested for): the token of a deleted (or deleted and
 * re-created) account or bound object is refused. JWS work is `jose`'s.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { compactVerify, decodeJwt, decodeProtectedHeader, exportJWK, SignJWT } from 'jose';
import { badRequest } from '../../../lib/errors.ts';
import type { BoundObjectKind, IssuedToken, IssuerDiscovery, LiveObject, ServiceAccountTokenRequest, TokenIssuer, TokenObjectLookup, UserInfo } from '../api.ts';
import { goQuoteList, type TokenAuthenticator, type TokenOutcome } from './chain.ts';
import { CREDENTIAL_ID_KEY } from './x509.ts';

/**
 * go-jose's jwt.DefaultLeeway, which kube's validator uses for exp, nbf and iat, and as the time
 * a token's objects may have been being deleted before the token is refused.
 */
const LEEWAY_SECONDS = 60;
/** kube's answer for a token whose bound object is gone or being deleted. */
const INVALIDATED = 'service account token has been invalidated';
/** TokenRequest's default lifetime. */
export const DEFAULT_EXPIRATION_SECONDS = 3600;

/** A key tokens are verified with, and how kube names it. */
export interface VerificationKey {
  publicKey: KeyObject;
  /** kube's key id: base64url (no padding) of the SHA-256 of the key's PKIX DER. */
  kid: string;
  /** RS256 for RSA; ES256/ES384/ES512 for the NIST curves. */
  alg: string;
}

export interface SigningKey extends VerificationKey {
  privateKey: KeyObject;
}

/** The key id kube derives from a public key. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

/** The JWS algorithm kube signs with for a key; an Error for key types it does not use. */
export function algorithmOf(publicKey: KeyObject): string {
  if (publicKey.asymmetricKeyType === 'rsa') return 'RS256';
  if (publicKey.asymmetricKeyType === 'ec') {
    const curve = publicKey.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
  }
  throw new Error(`unsupported service-account key type ${publicKey.asymmetricKeyType ?? 'unknown'}`);
}

function verificationKey(publicKey: KeyObject): VerificationKey {
  return { publicKey, kid: keyId(publicKey), alg: algorithmOf(publicKey) };
}

/**
 * The signing key from `file` (PEM: PKCS#8, PKCS#1 or SEC 1), generated (RSA 2048, as kubeadm's
 * sa.key) when the file does not exist and `create` is set. Of several processes creating it at
 * once, exactly one writes it (exclusive hard link) and all use that one. Errors name the file,
 * never its content.
 */
export async function loadSigningKey(file: string, create: boolean): Promise<SigningKey> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw new Error(`${file}: cannot read the service-account signing key: ${(err as Error).message}`);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      await link(tmp, file);
    } catch (linkErr) {
      if ((linkErr as NodeJS.ErrnoException).code !== 'EEXIST') throw linkErr;
    } finally {
      await unlink(tmp);
    }
    pem = await readFile(file, 'utf8');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error(`${file}: not a PEM private key`);
  }
  return { privateKey, ...verificationKey(createPublicKey(privateKey)) };
}

/**
 * Every public key in a PEM file, as kube's --service-account-key-file reads it: public keys,
 * private keys (their public half) and certificates (their key).
 */
export async function loadVerificationKeys(file: string): Promise<VerificationKey[]> {
  const text = await readFile(file, 'utf8');
  const blocks = text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  const keys: VerificationKey[] = [];
  for (const block of blocks) {
    try {
      keys.push(verificationKey(block.startsWith('-----BEGIN CERTIFICATE-----') ? new X509Certificate(block).publicKey : createPublicKey(block)));
    } catch (err) {
      throw new Error(`${file}: a PEM block is not a usable key (${(err as Error).message.startsWith('unsupported') ? (err as Error).message : 'unreadable'})`);
    }
  }
  if (keys.length === 0) throw new Error(`${file}: no public or private key found`);
  return keys;
}

/** The `kubernetes.io` claim. */
interface KubernetesClaim {
  namespace?: string;
  serviceaccount?: { name?: string; uid?: string };
  pod?: { name?: string; uid?: string };
  secret?: { name?: string; uid?: string };
  node?: { name?: string; uid?: string };
  warnafter?: number;
}

export interface ServiceAccountTokensOptions {
  signingKey: SigningKey;
  /** More keys tokens may be verified with (rotation); the signing key's is always one. */
  verificationKeys?: VerificationKey[];
  /** --service-account-issuer: the first is written into tokens; tokens of any are accepted. */
  issuers: string[];
  /** --api-audiences: a token's audiences when the request names none. */
  apiAudiences: string[];
  /** --service-account-max-token-expiration in seconds; 0 for no maximum. */
  maxExpirationSeconds: number;
  /** The jwks_uri of the discovery document. */
  jwksUri: string;
  /** The ServiceAccounts, and the Pods, Secrets and Nodes tokens are bound to, that exist. */
  objects: TokenObjectLookup;
  /** The clock in milliseconds, for tests. */
  now?: () => number;
}

/** The service-account token issuer and its token authenticator. */
export class ServiceAccountTokens implements TokenIssuer, TokenAuthenticator {
  private readonly options: ServiceAccountTokensOptions;
  private readonly keys: VerificationKey[];
  private readonly now: () => number;
  private readonly discovery: IssuerDiscovery | Promise<IssuerDiscovery>;

  constructor(options: ServiceAccountTokensOptions) {
    if (options.issuers.length === 0 || options.issuers.some((i) => i === '')) throw new Error('service-account issuer is required');
    if (options.apiAudiences.length === 0) throw new Error('API audiences are required');
    this.options = options;
    this.now = options.now ?? Date.now;
    const byKid = new Map<string, VerificationKey>([[options.signingKey.kid, options.signingKey]]);
    for (const k of options.verificationKeys ?? []) if (!byKid.has(k.kid)) byKid.set(k.kid, k);
    this.keys = [...byKid.values()];
    this.discovery = this.buildDiscovery();
  }

  async issueServiceAccountToken(request: ServiceAccountTokenRequest): Promise<IssuedToken> {
    const { signingKey, issuers, apiAudiences, maxExpirationSeconds } = this.options;
    if (request.namespace === '' || request.name === '' || request.uid === '') throw badRequest('the service account namespace, name and uid are required');
    let seconds = request.expirationSeconds > 0 ? request.expirationSeconds : DEFAULT_EXPIRATION_SECONDS;
    if (maxExpirationSeconds > 0 && seconds > maxExpirationSeconds) seconds = maxExpirationSeconds;
    const k8s: KubernetesClaim = { namespace: request.namespace, serviceaccount: { name: request.name, uid: request.uid } };
    const bound = request.boundObject;
    if (bound !== undefined && bound.kind !== '') {
      const ref = { name: bound.name, uid: bound.uid };
      if (bound.kind === 'Pod') k8s.pod = ref;
      else if (bound.kind === 'Secret') k8s.secret = ref;
      else if (bound.kind === 'Node') k8s.node = ref;
      else throw badRequest(`cannot bind a token to a ${bound.kind}: only Pod, Secret and Node`);
    }
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + seconds;
    const token = await new SignJWT({ 'kubernetes.io': k8s as Record<string, unknown> })
      .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid })
      .setIssuer(issuers[0]!)
      .setSubject(serviceAccountUsername(request.namespace, request.name))
      .setAudience(request.audiences.length > 0 ? [...request.audiences] : [...apiAudiences])
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(signingKey.privateKey);
    return { token, expirationTimestamp: new Date(exp * 1000) };
  }

  async issuerDiscovery(): Promise<IssuerDiscovery> {
    return this.discovery;
  }

  /**
   * A token that is not a JWT, or not of one of our issuers, is none of this authenticator's
   * business (undefined). Otherwise: the signature with any known key, the audiences, the times
   * (with kube's minute of leeway), then the ServiceAccount and bound object with the token's uids.
   */
  async authenticateToken(token: string, audiences: readonly string[]): Promise<TokenOutcome> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      return undefined;
    }
    if (typeof unverified.iss !== 'string' || !this.options.issuers.includes(unverified.iss)) return undefined;

    // The key named by kid first; a token without a kid (or with an unknown one) tries every key.
    const named = this.keys.filter((k) => k.kid === header.kid);
    const candidates = (named.length > 0 ? named : this.keys).filter((k) => k.alg === header.alg);
    let payload: Record<string, unknown> | undefined;
    for (const key of candidates) {
      try {
        const verified = await compactVerify(token, key.publicKey, { algorithms: [key.alg] });
        payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
        break;
      } catch {
        // Another key may verify it.
      }
    }
    if (payload === undefined) return { error: 'invalid bearer token: the token signature could not be verified with any known key' };

    const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud.filter((a): a is string => typeof a === 'string') : [];
    const shared = audiences.filter((a) => aud.includes(a));
    if (shared.length === 0) return { error: `token audiences ${goQuoteList(aud)} is invalid for the target audiences ${goQuoteList(audiences)}` };

    const now = this.now() / 1000;
    const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const exp = num(payload.exp);
    const nbf = num(payload.nbf);
    const iat = num(payload.iat);
    if (exp !== undefined && now > exp + LEEWAY_SECONDS) return { error: 'service account token has expired' };
    if (nbf !== undefined && now + LEEWAY_SECONDS < nbf) return { error: 'service account token is not valid yet' };
    if (iat !== undefined && now + LEEWAY_SECONDS < iat) return { error: 'service account token claims could not be validated due to unexpected validation error' };

    const k8s = (payload['kubernetes.io'] ?? {}) as KubernetesClaim;
    const namespace = k8s.namespace ?? '';
    const name = k8s.serviceaccount?.name ?? '';
    const uid = k8s.serviceaccount?.uid ?? '';
    if (namespace === '' || name === '' || payload.sub !== serviceAccountUsername(namespace, name)) {
      return { error: 'service account token claims could not be validated due to unexpected private claim' };
    }
    const invalid = this.objectsInvalidate(k8s, namespace, name, uid, now * 1000);
    if (invalid !== undefined) return { error: invalid };

    const extra: Record<string, string[]> = {};
    if (k8s.pod?.name) {
      extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid ?? ''];
    }
    if (k8s.node?.name) {
      extra['authentication.kubernetes.io/node-name'] = [k8s.node.name];
      extra['authentication.kubernetes.io/node-uid'] = [k8s.node.uid ?? ''];
    }
    if (typeof payload.jti === 'string' && payload.jti !== '') extra[CREDENTIAL_ID_KEY] = [`JTI=${payload.jti}`];
    const user: UserInfo = {
      username: serviceAccountUsername(namespace, name),
      uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    };
    return { user, audiences: shared };
  }

  /**
   * Why the objects the token names no longer back it, in kube's words (claims.go Validate), or
   * undefined when they do: the ServiceAccount must exist with the token's uid, and so must the
   * Secret and the Pod it is bound to (or the Node, for a token bound to a Node alone); none of
   * them may have been being deleted for longer than the leeway.
   */
  private objectsInvalidate(k8s: KubernetesClaim, namespace: string, name: string, uid: string, nowMs: number): string | undefined {
    const { objects } = this.options;
    const deletedLongAgo = (o: LiveObject): boolean => o.deletionTimestamp !== undefined && o.deletionTimestamp < nowMs - LEEWAY_SECONDS * 1000;
    const account = objects.serviceAccount(namespace, name);
    if (account === undefined) return `serviceaccounts ${JSON.stringify(name)} not found`;
    if (account.uid !== uid) return `service account UID (${account.uid}) does not match claim (${uid})`;
    if (deletedLongAgo(account)) return `service account ${namespace}/${name} has been deleted`;
    const check = (kind: BoundObjectKind, label: string, ref: { name?: string; uid?: string }): string | undefined => {
      const found = objects.bound(kind, kind === 'Node' ? '' : namespace, ref.name ?? '');
      if (found === undefined) return INVALIDATED;
      if (found.uid !== (ref.uid ?? '')) return `${label} UID (${found.uid}) does not match service account ${label} ref claim (${ref.uid ?? ''})`;
      if (deletedLongAgo(found)) return INVALIDATED;
      return undefined;
    };
    if (k8s.secret !== undefined) {
      const why = check('Secret', 'secret', k8s.secret);
      if (why !== undefined) return why;
    }
    if (k8s.pod !== undefined) {
      const why = check('Pod', 'pod', k8s.pod);
      if (why !== undefined) return why;
    } else if (k8s.node !== undefined) {
      // A pod-bound token's node claim is information only; a token bound to a Node is checked against it.
      const why = check('Node', 'node', k8s.node);
      if (why !== undefined) return why;
    }
    return undefined;
  }

  private async buildDiscovery(): Promise<IssuerDiscovery> {
    const jwks = await Promise.all(
      this.keys.map(async (k) => {
        const jwk = await exportJWK(k.publicKey);
        return { use: 'sig', ...jwk, kid: k.kid, alg: k.alg };
      }),
    );
    const algs = [...new Set(this.keys.map((k) => k.alg))].sort();
    return {
      openidConfiguration: JSON.stringify({
        issuer: this.options.issuers[0],
        jwks_uri: this.options.jwksUri,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: algs,
      }),
      jwks: JSON.stringify({ keys: jwks }),
    };
  }
}

/** kube's service-account user name. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}
