/**
 * The auth service over gRPC, as an Authenticator and an Authorizer for the gateway.
 */
import { clientSettings, unary, type ClientOptions } from '../../../lib/grpc.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { AuthenticationClient } from '../../../lib/gen/apiserver/v1/Authentication.ts';
import type { AuthorizationClient } from '../../../lib/gen/apiserver/v1/Authorization.ts';
import type { Attributes, AuthorizationResult, Authenticator, Authorizer, UserInfo } from '../api.ts';
import { decisionFromProto, userFromProto, userToProto } from './server.ts';

export class AuthClient implements Authenticator, Authorizer {
  private readonly authn: AuthenticationClient;
  private readonly authz: AuthorizationClient;

  constructor(address: string, options: ClientOptions) {
    const { credentials, channelOptions } = clientSettings(options);
    const proto = loadApiProto();
    this.authn = new proto.apiserver.v1.Authentication(address, credentials, channelOptions);
    // Same address, same channel options: grpc-js shares one connection between both clients.
    this.authz = new proto.apiserver.v1.Authorization(address, credentials, channelOptions);
  }

  async authenticateToken(token: string, signal?: AbortSignal): Promise<UserInfo | undefined> {
    const res = await unary(this.authn, 'authenticate', { token }, { signal });
    return res.authenticated ? userFromProto(res.user) : undefined;
  }

  async authorize(a: Attributes, signal?: AbortSignal): Promise<AuthorizationResult> {
    const res = await unary(
      this.authz,
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

  close(): void {
    this.authn.close();
    this.authz.close();
  }
}
