/**
 * Authorization for now: members of system:masters may do anything; for everyone else this
 * authorizer has no opinion, which the gateway answers with 403 Forbidden (kube's behaviour
 * when no authorizer allows). RBAC joins the chain later.
 */
import { SYSTEM_MASTERS, type Attributes, type AuthorizationResult, type Authorizer } from '../api.ts';

export class PrivilegedGroupAuthorizer implements Authorizer {
  async authorize(attributes: Attributes): Promise<AuthorizationResult> {
    if (attributes.user.groups.includes(SYSTEM_MASTERS)) return { decision: 'Allow', reason: '' };
    return { decision: 'NoOpinion', reason: '' };
  }
}
