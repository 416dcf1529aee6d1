/**
 * Authentication and Authorization over gRPC: decode, ask the core, encode.
 */
import { MAX_SMALL_REQUEST_BYTES, MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import type { CallContext, ServiceHandlers } from '../../../lib/grpc/serve.ts';
import type { AuthenticationHandlers } from '../../../lib/gen/apiserver/v1/Authentication.ts';
import type { AuthorizationHandlers } from '../../../lib/gen/apiserver/v1/Authorization.ts';
import type { AuthenticateRequest__Output } from '../../../lib/gen/apiserver/v1/AuthenticateRequest.ts';
import type { AuthenticateResponse } from '../../../lib/gen/apiserver/v1/AuthenticateResponse.ts';
import type { AuthorizeRequest__Output } from '../../../lib/gen/apiserver/v1/AuthorizeRequest.ts';
import type { AuthorizeResponse } from '../../../lib/gen/apiserver/v1/AuthorizeResponse.ts';
import { StatusError } from '../../../lib/errors.ts';
import type { Authenticator, Authorizer } from '../api.ts';
import { decisionToProto, userFromProto, userToProto } from './client.ts';

/** The largest request the auth server takes: a token, or the attributes of one request. */
export const AUTH_MAX_REQUEST_BYTES = MAX_SMALL_REQUEST_BYTES + MESSAGE_FRAMING_BYTES;

export function authenticationHandlers(authenticator: Authenticator): ServiceHandlers<AuthenticationHandlers> {
  return {
    Authenticate: async (req: AuthenticateRequest__Output, ctx: CallContext): Promise<AuthenticateResponse> => {
      const result = await authenticator.authenticate({ token: req.token, clientCertificates: req.clientCertificates, audiences: req.audiences }, ctx.signal);
      return result.user === undefined
        ? { authenticated: false, audiences: result.audiences, error: result.error ?? '' }
        : { authenticated: true, user: userToProto(result.user), audiences: result.audiences };
    },
    // BASE SCAFFOLD (replaced by the service-account token work before this reaches main).
    IssueServiceAccountToken: async () => {
      throw new StatusError('InternalError', 'service-account tokens are not served yet');
    },
    ServiceAccountIssuerDiscovery: async () => {
      throw new StatusError('InternalError', 'service-account tokens are not served yet');
    },
  };
}

export function authorizationHandlers(authorizer: Authorizer): ServiceHandlers<AuthorizationHandlers> {
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
    // BASE SCAFFOLD (replaced by the RBAC work before this reaches main).
    RulesFor: async () => {
      throw new StatusError('InternalError', 'rules are not served yet');
    },
  };
}
