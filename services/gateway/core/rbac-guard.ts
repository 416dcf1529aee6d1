/**
 * RBAC's escalation prevention, as kube's policy-based storage of roles and bindings
 * (pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased): a write of
 * a Role or ClusterRole whose rules the writer does not hold is Forbidden unless the writer may
 * `escalate` that resource; a ClusterRole with an aggregationRule needs `escalate`; a write of a
 * RoleBinding or ClusterRoleBinding needs `bind` on the role it references, or every rule of that
 * role. Members of system:masters may do all of it. Checked on create, update, patch and apply,
 * after authorization and before admission; a write that changes only what the garbage collector
 * changes (ownerReferences, finalizers) is not checked, as kube's.
 */
import { isDeepStrictEqual } from 'node:util';
import { StatusError } from '../../../lib/errors.ts';
import { goQuote } from '../../../lib/go-strconv.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import { bindingFrom } from '../../../lib/rbac/rbac-index.ts';
import { escalationMessage, rulesOf, type PolicyRule } from '../../../lib/rbac/rules.ts';
import { SYSTEM_MASTERS, type Attributes, type RuleResolver, type UserInfo } from '../../auth/api.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** What the guard asks of the API server. */
export interface RbacGuardOptions {
  /** Whether the authorizer allows `attributes` (the pipeline's, with its decision cache). */
  allowed(attributes: Attributes, signal?: AbortSignal): Promise<boolean>;
  /** The rules a user holds; without one the writer is taken to hold none. */
  rules?: RuleResolver;
  /** A stored Role (namespace given) or ClusterRole; rejects with NotFound as storage does. */
  readRole(resource: 'roles' | 'clusterroles', namespace: string, name: string, signal?: AbortSignal): Promise<KubeObject>;
}

/** Where a write goes. */
export interface GuardedTarget {
  group: string;
  resource: string;
  subresource?: string;
  namespace: string;
}

const GUARDED = new Set(['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);

/** Whether writes of `target` are checked for escalation (the four RBAC resources themselves). */
export function isGuarded(target: GuardedTarget): boolean {
  return target.group === RBAC_GROUP && GUARDED.has(target.resource) && (target.subresource ?? '') === '';
}

function metadataOf(object: KubeObject | undefined): Record<string, unknown> {
  return isPlainObject(object?.metadata) ? object.metadata : {};
}

function nameOf(object: KubeObject): string {
  const name = metadataOf(object).name;
  return typeof name === 'string' ? name : '';
}

function hasAggregationRule(object: KubeObject | undefined): boolean {
  return object !== undefined && object.aggregationRule !== undefined && object.aggregationRule !== null;
}

/**
 * rbacregistry.IsOnlyMutatingGCFields: `object` equals `old` once old's ownerReferences and
 * finalizers are taken over (and what every write sets anyway: managedFields and resourceVersion).
 */
function onlyGarbageCollectorFields(object: KubeObject, old: KubeObject | undefined): boolean {
  if (old === undefined) return false;
  const strip = (o: KubeObject, from: KubeObject): KubeObject => {
    const meta = { ...metadataOf(o) };
    const source = metadataOf(from);
    for (const field of ['ownerReferences', 'finalizers', 'managedFields', 'resourceVersion']) {
      if (source[field] === undefined) delete meta[field];
      else meta[field] = source[field];
    }
    return { ...o, metadata: meta };
  };
  return isDeepStrictEqual(strip(object, old), strip(old, old));
}

function forbidden(target: GuardedTarget, name: string, message: string): StatusError {
  return new StatusError('Forbidden', `${target.resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: ${message}`, { name, group: RBAC_GROUP, kind: target.resource });
}

/**
 * Refuses, with kube's Forbidden, a write of `object` (the role or binding about to be admitted;
 * `old` is the stored one on update) that would escalate `user`'s privileges; resolves otherwise.
 */
export async function confirmNoEscalation(o: RbacGuardOptions, user: UserInfo, target: GuardedTarget, object: KubeObject, old: KubeObject | undefined, signal?: AbortSignal): Promise<void> {
  if (!isGuarded(target)) return;
  // kube's EscalationAllowed: system:masters (the API server's own loopback user among them).
  if (user.groups.includes(SYSTEM_MASTERS)) return;
  if (onlyGarbageCollectorFields(object, old)) return;
  const name = nameOf(object);
  const namespace = target.namespace;
  const attributes = (verb: string, resource: string, attributeName: string, group = RBAC_GROUP): Attributes => ({
    user,
    verb,
    resourceRequest: true,
    apiGroup: group,
    apiVersion: '',
    resource,
    subresource: '',
    namespace,
    name: attributeName,
    path: '',
  });
  const confirmHeld = async (requested: readonly PolicyRule[]): Promise<void> => {
    const held = o.rules === undefined ? { rules: [], errors: [] } : await o.rules.rulesFor(user, namespace, signal);
    const message = escalationMessage(user, held.rules, held.errors, requested);
    if (message !== undefined) throw forbidden(target, name, message);
  };

  if (target.resource === 'roles' || target.resource === 'clusterroles') {
    // RoleEscalationAuthorized: the request's own name (none on a create: a POST to the collection).
    if (await o.allowed(attributes('escalate', target.resource, old === undefined ? '' : name), signal)) return;
    if (target.resource === 'clusterroles' && (hasAggregationRule(object) || hasAggregationRule(old))) {
      throw forbidden(target, name, 'must have cluster-admin privileges to use the aggregationRule');
    }
    await confirmHeld(rulesOf(object));
    return;
  }

  // A binding: `bind` on the role it references (BindingAuthorized), else holding all its rules.
  const { roleRef } = bindingFrom(object);
  const roleResource = roleRef.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
  if (await o.allowed(attributes('bind', roleResource, roleRef.name, roleRef.apiGroup), signal)) return;
  let rules: PolicyRule[];
  if (roleRef.kind === 'Role' || roleRef.kind === 'ClusterRole') {
    try {
      rules = rulesOf(await o.readRole(roleResource, roleRef.kind === 'Role' ? namespace : '', roleRef.name, signal));
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'NotFound') throw forbidden(target, name, `${roleResource}.${RBAC_GROUP} ${goQuote(roleRef.name)} not found`);
      throw err;
    }
  } else {
    throw forbidden(target, name, `unsupported role reference kind: ${goQuote(roleRef.kind)}`);
  }
  await confirmHeld(rules);
}
