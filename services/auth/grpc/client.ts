/**
 * The auth service over gRPC, as the gateway's Authenticator, Authorizer, TokenIssuer and
 * RuleResolver.
 */
import { clientSettings, type ClientOptions } from '../../../lib/grpc/client.ts';
import { MultiplexedClient } from '../../../lib/grpc/exchange-client.ts';
import { MAX_SMALL_REQUEST_BYTES, MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import { ReplicaSet } from '../../../lib/grpc/replicas.ts';
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

/** The largest request of one auth call: a token and client certificates, or the attributes of one request. */
export const AUTH_MAX_CALL_BYTES = MAX_SMALL_REQUEST_BYTES + MESSAGE_FRAMING_BYTES;

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

/**
 * Every call goes over one multiplexed Exchange stream per service and auth replica (as
 * storage's small calls do: lib/grpc/exchange-client.ts), the two services' streams on the
 * replica's one connection, spread over the replicas (lib/grpc/replicas.ts). Token issuing
 * and discovery go that way too: their answers are as small as the others', so they hold up
 * no call, and one path keeps one set of deadline, failover and drain rules.
 */
export class AuthClient implements Authenticator, Authorizer, TokenIssuer, RuleResolver {
  /** The auth replicas, the two services' clients each. */
  readonly replicas: ReplicaSet<AuthReplica>;
  private readonly authn: MultiplexedClient<AuthenticationClient, AuthReplica>;
  private readonly authz: MultiplexedClient<AuthorizationClient, AuthReplica>;

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
    const limit = { maxRequestBytes: AUTH_MAX_CALL_BYTES };
    this.authn = new MultiplexedClient(this.replicas, 'apiserver.v1.Authentication', options.telemetry, { ...limit, service: proto.apiserver.v1.Authentication.service, clientOf: authnOf });
    this.authz = new MultiplexedClient(this.replicas, 'apiserver.v1.Authorization', options.telemetry, { ...limit, service: proto.apiserver.v1.Authorization.service, clientOf: authzOf });
  }

  async authenticate(credentials: Credentials, signal?: AbortSignal): Promise<AuthenticationResult> {
    const res = await this.authn.call(
      'authenticate',
      { token: credentials.token ?? '', clientCertificates: [...(credentials.clientCertificates ?? [])], audiences: [...(credentials.audiences ?? [])] },
      { signal },
    );
    return res.authenticated ? { user: userFromProto(res.user), audiences: res.audiences } : { audiences: res.audiences, ...(res.error === '' ? {} : { error: res.error }) };
  }

  async authorize(a: Attributes, signal?: AbortSignal): Promise<AuthorizationResult> {
    const res = await this.authz.call(
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
    const res = await this.authn.call(
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
    const res = await this.authn.call('serviceAccountIssuerDiscovery', {}, { signal });
    return { openidConfiguration: res.openidConfiguration, jwks: res.jwks };
  }

  async rulesFor(user: UserInfo, namespace: string, signal?: AbortSignal): Promise<RulesResult> {
    const res = await this.authz.call('rulesFor', { user: userToProto(user), namespace }, { signal });
    return { rules: res.rules.map(ruleFromProto), errors: res.errors };
  }

  close(): void {
    this.authn.close();
    this.authz.close();
    this.replicas.close();
  }
}
