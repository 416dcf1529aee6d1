/**
 * kube's RBAC authorizer and rule resolver over an RbacIndex: DefaultRuleResolver's visit of
 * the rules that apply to a user (every ClusterRoleBinding whose subjects name the user, then,
 * for a namespace, that namespace's RoleBindings), the authorizer's reasons in kube's words
 * (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`; a binding whose
 * role is missing is an error the no-opinion reason reports), and RulesFor.
 *
 * The privileged group (system:masters) is not RBAC's business: kube's privileged-group
 * authorizer comes before RBAC, and so does the auth service's.
 */
import { goQuote } from '../go-strconv.ts';
import { aggregateMessage, ruleAllows, type PolicyRule, type RbacUser, type RequestAttributes } from './rules.ts';
import type { Binding, RbacIndex, Subject } from './rbac-index.ts';

/** The prefix of a service account's username (system:serviceaccount:<namespace>:<name>). */
export const SERVICE_ACCOUNT_USERNAME_PREFIX = 'system:serviceaccount:';

/** serviceaccount.MakeUsername */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${name}`;
}

/**
 * appliesToUser: a User subject by name, a Group by membership, a ServiceAccount by its
 * username (its namespace defaulting to the binding's; none at all never matches).
 */
export function subjectMatches(user: RbacUser, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace !== '' ? subject.namespace : bindingNamespace;
      if (namespace === '') return false;
      return user.username === serviceAccountUsername(namespace, subject.name);
    }
    default:
      return false;
  }
}

/** describeSubject: `User "x"`, `ServiceAccount "name/namespace"`. */
function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') return `${subject.kind} ${goQuote(`${subject.name}/${subject.namespace !== '' ? subject.namespace : bindingNamespace}`)}`;
  return `${subject.kind} ${goQuote(subject.name)}`;
}

/** What a rule came from, as kube's describers print it. */
export function describeSource(binding: Binding, subject: Subject): string {
  if (binding.namespace === '') {
    return `ClusterRoleBinding ${goQuote(binding.name)} of ${binding.roleRef.kind} ${goQuote(binding.roleRef.name)} to ${describeSubject(subject, '')}`;
  }
  return `RoleBinding ${goQuote(`${binding.name}/${binding.namespace}`)} of ${binding.roleRef.kind} ${goQuote(binding.roleRef.name)} to ${describeSubject(subject, binding.namespace)}`;
}

/**
 * Called with each rule that applies (and a description of its source, made when asked) or
 * with an error met resolving; returns false to stop.
 */
export type RuleVisitor = (visit: { rule: PolicyRule; source: () => string } | { error: string }) => boolean;

export type RbacDecision = 'Allow' | 'NoOpinion';

export interface RbacAuthorizationResult {
  decision: RbacDecision;
  reason: string;
}

export interface RbacRulesResult {
  rules: PolicyRule[];
  errors: string[];
}

/**
 * RBAC over an index. The async `authorize` and `rulesFor` are the auth service's Authorizer
 * and RuleResolver; `decide` and `resolve` are the same answers, synchronously.
 */
export class RbacAuthorizer {
  private readonly index: RbacIndex;

  constructor(index: RbacIndex) {
    this.index = index;
  }

  /** GetRoleReferenceRules: the rules of a binding's role, or kube's error when there is none. */
  roleReferenceRules(binding: Binding): PolicyRule[] | { error: string } {
    const { kind, name } = binding.roleRef;
    if (kind === 'Role') {
      const role = this.index.role(binding.namespace, name);
      return role === undefined ? { error: `role.rbac.authorization.k8s.io ${goQuote(name)} not found` } : role.rules;
    }
    if (kind === 'ClusterRole') {
      const role = this.index.clusterRole(name);
      return role === undefined ? { error: `clusterrole.rbac.authorization.k8s.io ${goQuote(name)} not found` } : role.rules;
    }
    return { error: `unsupported role reference kind: ${goQuote(kind)}` };
  }

  /** VisitRulesFor: cluster bindings first, then (for a namespace) the namespace's bindings. */
  visitRulesFor(user: RbacUser, namespace: string, visitor: RuleVisitor): void {
    const lists: (readonly Binding[])[] = [this.index.listClusterRoleBindings()];
    if (namespace !== '') lists.push(this.index.listRoleBindings(namespace));
    for (const bindings of lists) {
      for (const binding of bindings) {
        const subject = binding.subjects.find((s) => subjectMatches(user, s, binding.namespace));
        if (subject === undefined) continue;
        const rules = this.roleReferenceRules(binding);
        if (!Array.isArray(rules)) {
          if (!visitor(rules)) return;
          continue;
        }
        const source = (): string => describeSource(binding, subject);
        for (const rule of rules) if (!visitor({ rule, source })) return;
      }
    }
  }

  /** RBACAuthorizer.Authorize: Allow with the rule's source, or NoOpinion with the errors met ("RBAC: ..."). */
  decide(attributes: RequestAttributes): RbacAuthorizationResult {
    const errors: string[] = [];
    let allowedBy: string | undefined;
    this.visitRulesFor(attributes.user, attributes.namespace, (visit) => {
      if ('error' in visit) {
        errors.push(visit.error);
        return true;
      }
      if (ruleAllows(attributes, visit.rule)) {
        allowedBy = visit.source();
        return false;
      }
      return true;
    });
    if (allowedBy !== undefined) return { decision: 'Allow', reason: `RBAC: allowed by ${allowedBy}` };
    return { decision: 'NoOpinion', reason: errors.length > 0 ? `RBAC: ${aggregateMessage(errors)}` : '' };
  }

  /** RulesFor: every rule that applies, and the errors met (the rules are then incomplete). */
  resolve(user: RbacUser, namespace: string): RbacRulesResult {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (visit) => {
      if ('error' in visit) errors.push(visit.error);
      else rules.push(visit.rule);
      return true;
    });
    return { rules, errors };
  }

  async authorize(attributes: RequestAttributes): Promise<RbacAuthorizationResult> {
    return this.decide(attributes);
  }

  async rulesFor(user: RbacUser, namespace: string): Promise<RbacRulesResult> {
    return this.resolve(user, namespace);
  }
}
