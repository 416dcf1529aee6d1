/**
 * The clusterrole-aggregation controller, as kube-controller-manager's
 * (pkg/controller/clusterroleaggregation): every ClusterRole with an aggregationRule has as its
 * rules the union of the rules of the ClusterRoles its selectors match (lib/rbac/aggregation.ts),
 * kept so as labelled ClusterRoles come, change and go. It follows the ClusterRoles with an
 * informer (lib/informer.ts, through the pipeline); any change queues every aggregated ClusterRole again (there are few, as kube reasons),
 * and a ClusterRole whose stored rules differ from the union is updated, conditionally on the
 * resourceVersion it was computed from (a Conflict waits for the watch to bring the newer one).
 * Acts as kube's service account kube-system/clusterrole-aggregation-controller.
 */
import { StatusError } from '../../../lib/errors.ts';
import { Informer } from '../../../lib/informer.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { aggregatedRules, aggregationSelectors, sameRules } from '../../../lib/rbac/aggregation.ts';
import { policyRuleJson } from '../../../lib/rbac/rules.ts';
import { pipelineWatchSource } from './inform.ts';
import { runWorker, WorkQueue } from './work-queue.ts';
import type { Controller, ControllerContext } from './types.ts';

const GROUP = 'rbac.authorization.k8s.io';

export interface ClusterRoleAggregationOptions {
  /** First wait before a failed update is tried again; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** The field manager of its writes (kube's controller names its own). */
const WRITES = { fieldManager: 'clusterrole-aggregation-controller' } as const;

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function nameOf(object: KubeObject): string {
  const name = object.metadata?.name;
  return typeof name === 'string' ? name : '';
}

export class ClusterRoleAggregationController implements Controller {
  readonly name = 'clusterrole-aggregation';
  readonly serviceAccount = 'clusterrole-aggregation-controller';
  private readonly o: Required<ClusterRoleAggregationOptions>;

  constructor(options: ClusterRoleAggregationOptions = {}) {
    this.o = { retryMs: 500, maxRetryMs: 30_000, ...options };
  }

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const info = ctx.registry.get(GROUP, 'v1', 'clusterroles');
    if (info === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource (clusterroles)');
    // The ClusterRoles as the informer last told of them, by name.
    const roles = new Map<string, KubeObject>();
    const queue = new WorkQueue<string>({ initialBackoffMs: this.o.retryMs, maxBackoffMs: this.o.maxRetryMs });
    const sync = async (name: string): Promise<'done' | 'again'> => {
      const role = roles.get(name);
      if (role === undefined) return 'done';
      const rules = aggregatedRules(role, roles.values());
      if (rules === undefined || sameRules(role, rules)) return 'done';
      try {
        await ctx.pipeline.update(ctx.user, { info, namespace: '', name }, { ...role, rules: rules.map(policyRuleJson) }, WRITES, signal);
      } catch (err) {
        // Changed meanwhile: the watch brings the new one, which queues the role again.
        if (err instanceof StatusError && (err.reason === 'Conflict' || err.reason === 'NotFound')) return 'done';
        throw err;
      }
      return 'done';
    };
    // Every aggregated role is looked at again after any change (any may change any aggregation).
    const queueAggregated = (): void => {
      for (const [other, object] of roles) if (aggregationSelectors(object) !== undefined) queue.add(other);
    };
    const worker = runWorker(queue, signal, {
      handle: sync,
      failed: (name, err) => ctx.logger.warn('aggregating the rules of a cluster role failed; trying again', { name, error: err }),
    });
    // The informer hands over each list whole (at the start, and after a watch gap ended in a
    // 410), and `roles` is rebuilt from it: a role deleted during the gap is forgotten, and no
    // aggregation is ever computed from part of the roles (which would take rules away until the
    // rest came in).
    const informer = new Informer({
      source: pipelineWatchSource(ctx, info),
      target: { group: GROUP, version: 'v1', resource: 'clusterroles', namespace: '' },
      logger: ctx.logger,
      retryMs: this.o.retryMs,
      maxRetryMs: this.o.maxRetryMs,
      handlers: {
        replace: (objects) => {
          roles.clear();
          for (const role of objects) if (nameOf(role) !== '') roles.set(nameOf(role), role);
          queueAggregated();
        },
        event: (type, role) => {
          const name = nameOf(role);
          if (name === '') return;
          if (type === 'DELETED') roles.delete(name);
          else roles.set(name, role);
          queueAggregated();
        },
      },
    }).start();
    try {
      await aborted(signal);
    } finally {
      await informer.stop();
      queue.shutDown();
      await worker;
    }
  }
}
