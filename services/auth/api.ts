/**
 * The auth service's questions, as kube-apiserver's authenticator and authorizer interfaces:
 * who presents these credentials, and may they do this; and what the gateway asks of it beyond
 * them: service-account tokens (TokenRequest, the issuer's discovery documents) and the rules a
 * user holds (SelfSubjectRulesReview, RBAC's escalation checks).
 */
import type { PolicyRule } from '../../lib/rbac/rules.ts';

/** user.Info */
export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a request presents. */
export interface Credentials {
  /** A bearer token, without "Bearer ". */
  token?: string;
  /** The certificates of the client's TLS handshake, DER, leaf first. */
  clientCertificates?: readonly Buffer[];
  /** The audiences a token must be meant for (TokenReview); none means the API server's own. */
  audiences?: readonly string[];
}

export interface AuthenticationResult {
  /** Who it is; undefined when the credentials are unknown or invalid. */
  user?: UserInfo;
  /** The requested audiences the token is meant for (the API server's own when none were requested). */
  audiences: string[];
  /** When there is no user: why, in words that never contain the credential (TokenReview's status.error). */
  error?: string;
}

export interface Authenticator {
  /**
   * Who presents `credentials`, as kube's union authenticator: the client certificate chain
   * first, then the bearer token. Resolves without a user when none is valid; never rejects for
   * bad credentials.
   */
  authenticate(credentials: Credentials, signal?: AbortSignal): Promise<AuthenticationResult>;
}

/** TokenRequest's spec.boundObjectRef. */
export interface BoundObjectReference {
  kind: string;
  apiVersion: string;
  name: string;
  uid: string;
}

export interface ServiceAccountTokenRequest {
  namespace: string;
  /** The ServiceAccount's name and uid. */
  name: string;
  uid: string;
  /** Empty: the API server's own audiences. */
  audiences: string[];
  /** Requested lifetime; 0 for the default. */
  expirationSeconds: number;
  boundObject?: BoundObjectReference;
}

export interface IssuedToken {
  token: string;
  expirationTimestamp: Date;
}

export interface IssuerDiscovery {
  /** The JSON of /.well-known/openid-configuration. */
  openidConfiguration: string;
  /** The JSON of /openid/v1/jwks. */
  jwks: string;
}

/**
 * The ServiceAccounts that exist, kept current by a watch: a token whose account is gone (or was
 * deleted and created again, so its uid differs) is refused.
 */
export interface ServiceAccountLookup {
  /** The uid of ServiceAccount `namespace/name`, or undefined when there is none. */
  uidOf(namespace: string, name: string): string | undefined;
}

/** What a token check needs of an object (kube's getters return the whole object; only this is kept). */
export interface LiveObject {
  uid: string;
  /** metadata.deletionTimestamp in milliseconds since the epoch; absent when the object is not being deleted. */
  deletionTimestamp?: number;
}

/** The kinds of object a service-account token may be bound to (TokenRequest's boundObjectRef). */
export type BoundObjectKind = 'Pod' | 'Secret' | 'Node';

/**
 * The objects service-account tokens depend on, kept current by watches (kube's
 * ServiceAccountTokenGetter): a token is refused once its ServiceAccount, or the Pod, Secret or
 * Node it is bound to, is gone, re-created (another uid) or being deleted for over a minute.
 */
export interface TokenObjectLookup {
  /** ServiceAccount `namespace/name`, or undefined when there is none. */
  serviceAccount(namespace: string, name: string): LiveObject | undefined;
  /** The Pod or Secret `namespace/name`, or the Node `name` (namespace ""); undefined when there is none. */
  bound(kind: BoundObjectKind, namespace: string, name: string): LiveObject | undefined;
}

/** The service-account token issuer. */
export interface TokenIssuer {
  /** Signs a token; the caller has checked that the ServiceAccount (and bound object) exist with these uids. */
  issueServiceAccountToken(request: ServiceAccountTokenRequest, signal?: AbortSignal): Promise<IssuedToken>;
  issuerDiscovery(signal?: AbortSignal): Promise<IssuerDiscovery>;
}

/** authorizer.Attributes */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

export type Decision = 'Allow' | 'Deny' | 'NoOpinion';

export interface AuthorizationResult {
  decision: Decision;
  /** Why, for audit and for the Forbidden message. */
  reason: string;
}

export interface Authorizer {
  authorize(attributes: Attributes, signal?: AbortSignal): Promise<AuthorizationResult>;
}

/** rbacv1.PolicyRule (absent lists are empty): one type with RBAC's own. */
export type { PolicyRule } from '../../lib/rbac/rules.ts';

export interface RulesResult {
  /** Every rule that applies, resource and non-resource alike. */
  rules: PolicyRule[];
  /** Errors met while resolving, in kube's words (a binding naming a missing role); the rules are then incomplete. */
  errors: string[];
}

/** kube's RBAC rule resolver: the rules `user` holds in `namespace` ("" for the cluster-wide ones only). */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string, signal?: AbortSignal): Promise<RulesResult>;
}

/** The group whose members may do anything (kube's superuser group). */
export const SYSTEM_MASTERS = 'system:masters';
