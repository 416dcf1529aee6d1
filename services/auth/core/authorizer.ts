/**
 * kube's privileged-group authorizer: members of system:masters may do anything; for everyone
 * else it has no opinion, which the gateway answers with 403 Forbidden (kube's behaviour when no
 * authorizer allows). It comes first in the chain; RBAC follows it (core/policy-index.ts).
 */
import { SYSTEM_MASTERS, type Attributes, type AuthorizationResult, type Authorizer } from '../api.ts';

export class PrivilegedGroupAuthorizer implements Authorizer {
  async authorize(attributes: Attributes): Promise<AuthorizationResult> {
    if (attributes.user.groups.includes(SYSTEM_MASTERS)) return { decision: 'Allow', reason: '' };
    return { decision: 'NoOpinion', reason: '' };
  }
}
