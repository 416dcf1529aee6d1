/**
 * The auth service's two questions, as kube-apiserver's authenticator and authorizer
 * interfaces: who presents this credential, and may they do this.
 */

/** user.Info */
export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface Authenticator {
  /** The user a bearer token belongs to, or undefined when the token is not known. */
  authenticateToken(token: string, signal?: AbortSignal): Promise<UserInfo | undefined>;
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

/** The group whose members may do anything (kube's superuser group). */
export const SYSTEM_MASTERS = 'system:masters';
