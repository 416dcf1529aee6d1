/**
 * kube-apiserver's request authenticator: a union of the client certificate authenticator and
 * the bearer token authenticators (static token file, then service-account JWTs), in that
 * order; the first that names a user wins, and every authenticated user gets the group
 * system:authenticated as kube's AuthenticatedGroupAdder gives it.
 */
import { goQuote } from '../../../lib/go-strconv.ts';
import type { AuthenticationResult, Authenticator, Credentials, UserInfo } from '../api.ts';
import { CertificateError, type X509Authenticator } from './x509.ts';

export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS_USER = 'system:anonymous';

/** What a bearer token authenticator answers: a user, a reason to refuse, or no opinion (undefined). */
export type TokenOutcome = { user: UserInfo; audiences: string[] } | { error: string } | undefined;

/** A bearer token authenticator of the chain. */
export interface TokenAuthenticator {
  /** `audiences`: the audiences the token must be meant for (never empty: the API server's own when the caller named none). */
  authenticateToken(token: string, audiences: readonly string[]): Promise<TokenOutcome>;
}

/**
 * Wraps an authenticator whose tokens carry no audience (the static token file) as kube's
 * audience-agnostic wrapper does: such a token is meant for the API server's own audiences, so
 * it answers only when the requested audiences include one of them, and then for those.
 */
export function audienceAgnostic(inner: { authenticateToken(token: string): Promise<UserInfo | undefined> }, apiAudiences: readonly string[]): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences) {
      const shared = audiences.filter((a) => apiAudiences.includes(a));
      if (shared.length === 0) return undefined;
      const user = await inner.authenticateToken(token);
      return user === undefined ? undefined : { user, audiences: shared };
    },
  };
}

export interface AuthenticatorChainOptions {
  /** Client certificates; absent when no client CA is configured. */
  x509?: X509Authenticator;
  /** Bearer token authenticators, tried in order. */
  tokens: TokenAuthenticator[];
  /** --api-audiences: what a token is meant for when the caller names no audiences. */
  apiAudiences: readonly string[];
}

export class AuthenticatorChain implements Authenticator {
  private readonly options: AuthenticatorChainOptions;

  constructor(options: AuthenticatorChainOptions) {
    if (options.apiAudiences.length === 0) throw new Error('AuthenticatorChain: no API audiences');
    this.options = options;
  }

  async authenticate(credentials: Credentials): Promise<AuthenticationResult> {
    const { x509, tokens, apiAudiences } = this.options;
    const requested = credentials.audiences !== undefined && credentials.audiences.length > 0 ? [...credentials.audiences] : [...apiAudiences];
    const errors: string[] = [];
    const certificates = credentials.clientCertificates ?? [];
    if (x509 !== undefined && certificates.length > 0) {
      try {
        const user = x509.authenticate(certificates);
        if (user !== undefined) return { user: withAuthenticatedGroup(user), audiences: requested };
      } catch (err) {
        // CertificateError messages are Go's words about the chain, never its content.
        errors.push(err instanceof CertificateError ? err.message : 'x509: certificate could not be verified');
      }
    }
    const token = credentials.token ?? '';
    if (token !== '') {
      const tokenErrors: string[] = [];
      for (const step of tokens) {
        const outcome = await step.authenticateToken(token, requested);
        if (outcome === undefined) continue;
        if ('error' in outcome) {
          tokenErrors.push(outcome.error);
          continue;
        }
        return { user: withAuthenticatedGroup(outcome.user), audiences: outcome.audiences };
      }
      // kube's bearer token authenticator: a token nobody knows is "invalid bearer token".
      errors.push(...(tokenErrors.length === 0 ? ['invalid bearer token'] : tokenErrors));
    }
    if (errors.length === 0) return { audiences: [] };
    return { audiences: [], error: errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]` };
  }
}

/** kube's AuthenticatedGroupAdder: system:authenticated for everyone but the anonymous user, once. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.username === ANONYMOUS_USER) return user;
  if (user.groups.some((g) => g === ALL_AUTHENTICATED || g === ALL_UNAUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, ALL_AUTHENTICATED] };
}

/** A []string as Go's %q prints it: `["a" "b"]`. */
export function goQuoteList(values: readonly string[]): string {
  return `[${values.map((v) => goQuote(v)).join(' ')}]`;
}
