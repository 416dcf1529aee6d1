/**
 * The auth service over gRPC, as the gateway's Authenticator, Authorizer, TokenIssuer and
 * RuleResolver.
 */
import { clientSettings, type ClientOptions } from '../../../lib/grpc/client.ts';
import { replicaUnary, ReplicaSet } from '../../../lib/grpc/replicas.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { AuthenticationClient } from '../../../lib/gen/apiserver/v1/Authentication.ts';
import type { AuthorizationClient } from '../../../lib/gen/apiserver/v1/Authorization.ts';
import type { UserInfo as ProtoUserInfo, UserInfo__Output } from '../../../lib/gen/apiserver/v1/UserInfo.ts';
import type { Decision__Output } from '../../../lib/gen/apiserver/v1/Decision.ts';
import type { PolicyRule as ProtoPolicyRule, PolicyRule__Output } from '../../../lib/gen/apiserver/v1/PolicyRule.ts';
import { badRequest } from '../../../lib/errors.ts';
import type {
  Attributes,
  AuthenticationResult,
  AuthorizationResult,
  Authenticator,
  Authorizer,
  Credentials,
  Decision,
  IssuedToken,
  IssuerDiscovery,
  PolicyRule,
  RuleResolver,
  RulesResult,
  ServiceAccountTokenRequest,
  TokenIssuer,
  UserInfo,
} from '../api.ts';

// Wire conversions of the auth service's messages: its own server uses them too, and other
// services that carry a user (admission) reach them here, through the client module.

/** A user as apiserver.v1.UserInfo. */
export function userToProto(user: UserInfo): ProtoUserInfo {
  const extra: Record<string, { values: string[] }> = {};
  for (const [k, v] of Object.entries(user.extra ?? {})) extra[k] = { values: v };
  return { username: user.username, uid: user.uid, groups: user.groups, extra };
}

/** A user from apiserver.v1.UserInfo; BadRequest when it is missing. */
export function userFromProto(user: UserInfo__Output | null): UserInfo {
  if (user === null) throw badRequest('user is required');
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(user.extra)) extra[k] = v.values;
  return { username: user.username, uid: user.uid, groups: user.groups, extra };
}

const DECISIONS: Record<Decision, Decision__Output> = {
  Allow: 'DECISION_ALLOW',
  Deny: 'DECISION_DENY',
  NoOpinion: 'DECISION_NO_OPINION',
};

export function decisionToProto(d: Decision): Decision__Output {
  return DECISIONS[d];
}

export function decisionFromProto(d: Decision__Output): Decision {
  switch (d) {
    case 'DECISION_ALLOW':
      return 'Allow';
    case 'DECISION_DENY':
      return 'Deny';
    case 'DECISION_NO_OPINION':
      return 'NoOpinion';
  }
}

/** A rule as apiserver.v1.PolicyRule. */
export function ruleToProto(rule: PolicyRule): ProtoPolicyRule {
  return { verbs: rule.verbs, apiGroups: rule.apiGroups, resources: rule.resources, resourceNames: rule.resourceNames, nonResourceUrls: rule.nonResourceURLs };
}

export function ruleFromProto(rule: PolicyRule__Output): PolicyRule {
  return { verbs: rule.verbs, apiGroups: rule.apiGroups, resources: rule.resources, resourceNames: rule.resourceNames, nonResourceURLs: rule.nonResourceUrls };
}

/** The clients of one auth replica. */
interface AuthReplica {
  authn: AuthenticationClient;
  authz: AuthorizationClient;
}

const authnOf = (r: AuthReplica): AuthenticationClient => r.authn;
const authzOf = (r: AuthReplica): AuthorizationClient => r.authz;

/** Calls spread over the auth replicas (lib/grpc/replicas.ts). */
export class AuthClient implements Authenticator, Authorizer, TokenIssuer, RuleResolver {
  /** The auth replicas, the two services' clients each. */
  readonly replicas: ReplicaSet<AuthReplica>;

  /** `address`: one or more auth replicas, comma-separated `host:port` (a DNS name stands for every address it resolves to). */
  constructor(address: string, options: ClientOptions) {
    const { credentials, channelOptions } = clientSettings(options);
    const proto = loadApiProto();
    this.replicas = new ReplicaSet<AuthReplica>({
      addresses: address,
      create: (target) => {
        const o = { ...channelOptions, ...target.channelOptions };
        // Same address, same channel options: grpc-js shares one connection between both clients.
        return { authn: new proto.apiserver.v1.Authentication(target.address, credentials, o), authz: new proto.apiserver.v1.Authorization(target.address, credentials, o) };
      },
      channelOf: (r) => r.authn.getChannel(),
      close: (r) => {
        r.authn.close();
        r.authz.close();
      },
      refreshMs: options.refreshMs,
      resolve: options.resolve,
    });
  }

  async authenticate(credentials: Credentials, signal?: AbortSignal): Promise<AuthenticationResult> {
    const res = await replicaUnary(
      this.replicas,
      authnOf,
      'authenticate',
      { token: credentials.token ?? '', clientCertificates: [...(credentials.clientCertificates ?? [])], audiences: [...(credentials.audiences ?? [])] },
      { signal },
    );
    return res.authenticated ? { user: userFromProto(res.user), audiences: res.audiences } : { audiences: res.audiences, ...(res.error === '' ? {} : { error: res.error }) };
  }

  async authorize(a: Attributes, signal?: AbortSignal): Promise<AuthorizationResult> {
    const res = await replicaUnary(
      this.replicas,
      authzOf,
      'authorize',
      {
        user: userToProto(a.user),
        verb: a.verb,
        resourceRequest: a.resourceRequest,
        apiGroup: a.apiGroup,
        apiVersion: a.apiVersion,
        resource: a.resource,
        subresource: a.subresource,
        namespace: a.namespace,
        name: a.name,
        path: a.path,
      },
      { signal },
    );
    return { decision: decisionFromProto(res.decision), reason: res.reason };
  }

  async issueServiceAccountToken(request: ServiceAccountTokenRequest, signal?: AbortSignal): Promise<IssuedToken> {
    const b = request.boundObject;
    const res = await replicaUnary(
      this.replicas,
      authnOf,
      'issueServiceAccountToken',
      {
        namespace: request.namespace,
        name: request.name,
        uid: request.uid,
        audiences: request.audiences,
        expirationSeconds: request.expirationSeconds,
        ...(b === undefined ? {} : { boundObject: { kind: b.kind, apiVersion: b.apiVersion, name: b.name, uid: b.uid } }),
      },
      { signal },
    );
    return { token: res.token, expirationTimestamp: new Date(Number(res.expirationTimestamp) * 1000) };
  }

  async issuerDiscovery(signal?: AbortSignal): Promise<IssuerDiscovery> {
    const res = await replicaUnary(this.replicas, authnOf, 'serviceAccountIssuerDiscovery', {}, { signal });
    return { openidConfiguration: res.openidConfiguration, jwks: res.jwks };
  }

  async rulesFor(user: UserInfo, namespace: string, signal?: AbortSignal): Promise<RulesResult> {
    const res = await replicaUnary(this.replicas, authzOf, 'rulesFor', { user: userToProto(user), namespace }, { signal });
    return { rules: res.rules.map(ruleFromProto), errors: res.errors };
  }

  close(): void {
    this.replicas.close();
  }
}
