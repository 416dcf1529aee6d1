/**
 * The RBAC bootstrap of a cluster, as kube-apiserver's rbac/bootstrap-roles post-start hook: every
 * object of the bootstrap policy (lib/rbac/bootstrap-policy.ts) reconciled with what is stored
 * (lib/rbac/reconcile.ts): created when missing, completed when it lacks rules, selectors,
 * subjects, labels or annotations, left alone when annotated autoupdate "false". Written through
 * the pipeline as the API server itself. Safe with several replicas at once: a Conflict or
 * AlreadyExists means another writer was first, so the object is read again and reconciled anew.
 */
import { StatusError } from '../../../lib/errors.ts';
import type { KindRegistry } from '../../../lib/kinds/index.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import type { Logger } from '../../../lib/log.ts';
import { bootstrapPolicy } from '../../../lib/rbac/bootstrap-policy.ts';
import { reconcileBinding, reconcileRole } from '../../../lib/rbac/reconcile.ts';
import { APISERVER_USER, type Pipeline, type Target } from './pipeline.ts';

const GROUP = 'rbac.authorization.k8s.io';
/** kube-apiserver's own writes are managed as its own. */
const WRITES = { fieldManager: 'kube-apiserver' } as const;
/** How often one object is read and written again after losing a race. */
const ATTEMPTS = 5;

/** What one reconciliation did. */
export interface RbacBootstrapReport {
  created: string[];
  updated: string[];
}

function isReason(err: unknown, reason: string): boolean {
  return err instanceof StatusError && err.reason === reason;
}

/** Reconciles every object of the bootstrap policy; rejects on the first failure that is no lost race. */
export async function reconcileRbacBootstrap(pipeline: Pipeline, registry: KindRegistry, signal?: AbortSignal): Promise<RbacBootstrapReport> {
  const policy = bootstrapPolicy();
  const report: RbacBootstrapReport = { created: [], updated: [] };
  const groups: [string, KubeObject[], 'role' | 'binding'][] = [
    ['clusterroles', policy.clusterRoles, 'role'],
    ['clusterrolebindings', policy.clusterRoleBindings, 'binding'],
    ['roles', policy.roles, 'role'],
    ['rolebindings', policy.roleBindings, 'binding'],
  ];
  for (const [resource, objects, type] of groups) {
    const info = registry.get(GROUP, 'v1', resource);
    if (info === undefined) continue;
    for (const expected of objects) {
      const name = String(expected.metadata?.name ?? '');
      const namespace = info.namespaced ? String(expected.metadata?.namespace ?? '') : '';
      const target: Target = { info, namespace, name };
      const what = `${resource}/${namespace === '' ? '' : `${namespace}/`}${name}`;
      const outcome = await reconcileOne(pipeline, target, expected, type, signal);
      if (outcome === 'created') report.created.push(what);
      else if (outcome === 'updated') report.updated.push(what);
    }
  }
  return report;
}

async function reconcileOne(pipeline: Pipeline, target: Target, expected: KubeObject, type: 'role' | 'binding', signal?: AbortSignal): Promise<'created' | 'updated' | 'unchanged'> {
  const user = APISERVER_USER;
  for (let attempt = 1; ; attempt++) {
    let existing: KubeObject | undefined;
    try {
      existing = await pipeline.get(user, target, {}, signal);
    } catch (err) {
      if (!isReason(err, 'NotFound')) throw err;
    }
    const wanted = type === 'role' ? reconcileRole(existing, expected) : reconcileBinding(existing, expected);
    if (wanted === undefined) return 'unchanged';
    try {
      if (existing === undefined) {
        await pipeline.create(user, { ...target, name: '' }, wanted, WRITES, signal);
        return 'created';
      }
      if ((wanted.metadata?.resourceVersion ?? '') === '') {
        // A binding whose roleRef changed: roleRef is immutable, so it is deleted and created again.
        await pipeline.delete(user, target, { preconditions: { uid: String(existing.metadata?.uid ?? '') } }, signal);
        await pipeline.create(user, { ...target, name: '' }, wanted, WRITES, signal);
        return 'updated';
      }
      await pipeline.update(user, target, wanted, WRITES, signal);
      return 'updated';
    } catch (err) {
      // Another replica wrote first: read again and reconcile with what it wrote.
      const raced = isReason(err, 'Conflict') || isReason(err, 'AlreadyExists') || isReason(err, 'NotFound');
      if (!raced || attempt >= ATTEMPTS) throw err;
    }
  }
}

/**
 * {@link reconcileRbacBootstrap} at start, retried while the services behind the pipeline come up
 * (as the other bootstrap steps of the front door), logging what it created and completed.
 */
export async function bootstrapRbac(pipeline: Pipeline, registry: KindRegistry, logger: Logger, attempts = 60): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const report = await reconcileRbacBootstrap(pipeline, registry);
      if (report.created.length > 0 || report.updated.length > 0) logger.info('RBAC bootstrap policy reconciled', { created: report.created.length, updated: report.updated });
      return;
    } catch (err) {
      if (attempt >= attempts) throw err;
      logger.warn('reconciling the RBAC bootstrap policy failed; retrying', { error: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
