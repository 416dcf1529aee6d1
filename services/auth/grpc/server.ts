/**
 * Authentication and Authorization over gRPC: decode, ask the core, encode.
 */
import { MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import type { CallContext, ServiceHandlers } from '../../../lib/grpc/serve.ts';
import type { AuthenticationHandlers } from '../../../lib/gen/apiserver/v1/Authentication.ts';
import type { AuthorizationHandlers } from '../../../lib/gen/apiserver/v1/Authorization.ts';
import type { AuthenticateRequest__Output } from '../../../lib/gen/apiserver/v1/AuthenticateRequest.ts';
import type { AuthenticateResponse } from '../../../lib/gen/apiserver/v1/AuthenticateResponse.ts';
import type { AuthorizeRequest__Output } from '../../../lib/gen/apiserver/v1/AuthorizeRequest.ts';
import type { AuthorizeResponse } from '../../../lib/gen/apiserver/v1/AuthorizeResponse.ts';
import type { IssueServiceAccountTokenRequest__Output } from '../../../lib/gen/apiserver/v1/IssueServiceAccountTokenRequest.ts';
import type { IssueServiceAccountTokenResponse } from '../../../lib/gen/apiserver/v1/IssueServiceAccountTokenResponse.ts';
import type { ServiceAccountIssuerDiscoveryResponse } from '../../../lib/gen/apiserver/v1/ServiceAccountIssuerDiscoveryResponse.ts';
import type { RulesForRequest__Output } from '../../../lib/gen/apiserver/v1/RulesForRequest.ts';
import type { RulesForResponse } from '../../../lib/gen/apiserver/v1/RulesForResponse.ts';
import { badRequest, StatusError } from '../../../lib/errors.ts';
import type { Authenticator, Authorizer, RuleResolver, TokenIssuer } from '../api.ts';
import { AUTH_MAX_CALL_BYTES, decisionToProto, ruleToProto, userFromProto, userToProto } from './client.ts';

/** The largest message the auth server takes: one call and its Exchange envelope (CallRequest). */
export const AUTH_MAX_REQUEST_BYTES = AUTH_MAX_CALL_BYTES + MESSAGE_FRAMING_BYTES;

/** The Authentication service over an authenticator and the service-account token issuer. */
export function authenticationHandlers(authenticator: Authenticator, issuer: TokenIssuer): ServiceHandlers<AuthenticationHandlers> {
  return {
    Authenticate: async (req: AuthenticateRequest__Output, ctx: CallContext): Promise<AuthenticateResponse> => {
      const result = await authenticator.authenticate({ token: req.token, clientCertificates: req.clientCertificates, audiences: req.audiences }, ctx.signal);
      return result.user === undefined
        ? { authenticated: false, audiences: result.audiences, error: result.error ?? '' }
        : { authenticated: true, user: userToProto(result.user), audiences: result.audiences };
    },
    IssueServiceAccountToken: async (req: IssueServiceAccountTokenRequest__Output, ctx: CallContext): Promise<IssueServiceAccountTokenResponse> => {
      const expirationSeconds = Number(req.expirationSeconds);
      if (!Number.isSafeInteger(expirationSeconds) || expirationSeconds < 0) throw badRequest('expirationSeconds must be a non-negative number of seconds');
      const bound = req.boundObject;
      const issued = await issuer.issueServiceAccountToken(
        {
          namespace: req.namespace,
          name: req.name,
          uid: req.uid,
          audiences: req.audiences,
          expirationSeconds,
          ...(bound === null || bound.kind === '' ? {} : { boundObject: { kind: bound.kind, apiVersion: bound.apiVersion, name: bound.name, uid: bound.uid } }),
        },
        ctx.signal,
      );
      return { token: issued.token, expirationTimestamp: Math.floor(issued.expirationTimestamp.getTime() / 1000) };
    },
    ServiceAccountIssuerDiscovery: async (_req: unknown, ctx: CallContext): Promise<ServiceAccountIssuerDiscoveryResponse> => {
      const d = await issuer.issuerDiscovery(ctx.signal);
      return { openidConfiguration: d.openidConfiguration, jwks: d.jwks };
    },
  };
}

/**
 * The Authorization service. RulesFor needs a rule resolver (RBAC's); without one it answers
 * ServiceUnavailable, saying so, rather than an empty and therefore wrong list.
 */
export function authorizationHandlers(authorizer: Authorizer, resolver?: RuleResolver): ServiceHandlers<AuthorizationHandlers> {
  return {
    Authorize: async (req: AuthorizeRequest__Output, ctx: CallContext): Promise<AuthorizeResponse> => {
      const result = await authorizer.authorize(
        {
          user: userFromProto(req.user),
          verb: req.verb,
          resourceRequest: req.resourceRequest,
          apiGroup: req.apiGroup,
          apiVersion: req.apiVersion,
          resource: req.resource,
          subresource: req.subresource,
          namespace: req.namespace,
          name: req.name,
          path: req.path,
        },
        ctx.signal,
      );
      return { decision: decisionToProto(result.decision), reason: result.reason };
    },
    RulesFor: async (req: RulesForRequest__Output, ctx: CallContext): Promise<RulesForResponse> => {
      if (resolver === undefined) throw new StatusError('ServiceUnavailable', 'this auth service resolves no rules: it has no RBAC rule resolver');
      const result = await resolver.rulesFor(userFromProto(req.user), req.namespace, ctx.signal);
      return { rules: result.rules.map(ruleToProto), errors: result.errors };
    },
  };
}
