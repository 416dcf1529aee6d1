/**
 * The namespace controller, as kube's (pkg/controller/namespace and its
 * deletion/namespaced_resources_deleter.go): for every namespace being deleted, it deletes every
 * object of every served namespaced resource in it, reports progress in the namespace's
 * status.conditions with kube's types, reasons and messages, waits (with backoff) while
 * objects held by finalizers remain, then takes its "kubernetes" finalizer out of
 * spec.finalizers through namespaces/finalize, which removes the namespace once nothing else
 * holds it. Its only state is the namespaces themselves: after a restart, or on another
 * replica, the watch's initial events bring back every namespace still Terminating.
 */
import { StatusError } from '../../../lib/errors.ts';
import { formatRFC3339 } from '../../../lib/go-time.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import { KUBERNETES_FINALIZER, specFinalizersOf } from '../../../lib/kinds/builtin/namespace.ts';
import { storedKinds, type KindDefinition } from '../../../lib/kinds/index.ts';
import type { Target } from '../core/pipeline.ts';
import { inform } from './inform.ts';
import { runWorker, WorkQueue } from './work-queue.ts';
import { CONTROLLER_WRITES, type Controller, type ControllerContext } from './types.ts';

export interface NamespaceControllerOptions {
  /** Namespaces synced at once (kube's --concurrent-namespace-syncs, 10). */
  workers?: number;
  /** Deletes of one resource's objects in flight at once, when they are deleted one by one (default 32). */
  deleteParallelism?: number;
  /**
   * Wait before the first pass over a namespace seen Terminating (kube's
   * namespaceDeletionGracePeriod, 5 s), so that creates admitted just before the delete are
   * stored before the sweep: admission reads the namespace from a cache, and another admission
   * replica's may not have seen the deletion yet. Default 5 s; shorter is safe only with one
   * admission replica.
   */
  startDelayMs?: number;
  /** First wait before a namespace whose content remains (or whose pass failed) is tried again; doubles (default 500 ms). */
  retryMs?: number;
  /** How often every namespace still Terminating is tried again regardless (kube's informer resync, 5 min). */
  resyncMs?: number;
}

/** Condition types the controller maintains, in kube's order (v1.NamespaceConditionType). */
const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;
type ConditionType = (typeof CONDITION_TYPES)[number];

/** The "all is well" reason and message of each condition type (kube's okReasons / okMessages). */
const OK: Readonly<Record<ConditionType, { reason: string; message: string }>> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
};

/** A failing condition of a pass (status True). */
interface Failing {
  type: ConditionType;
  reason: string;
  message: string;
}

/** kube's estimate of how long objects held by finalizers take to go (finalizerEstimateSeconds). */
const FINALIZER_ESTIMATE_SECONDS = 15;
const MAX_ERROR_BACKOFF_MS = 30_000;

/** What a pass over one resource found: objects left, and how many each finalizer holds. */
interface Remaining {
  count: number;
  finalizers: Map<string, number>;
}

/** What one pass over a namespace's content came to. */
interface ContentResult {
  /** Objects left (held by finalizers, or created meanwhile). */
  remaining: number;
  errors: string[];
}

function isDeleting(namespace: KubeObject): boolean {
  const at: unknown = namespace.metadata?.deletionTimestamp;
  return at !== undefined && at !== null;
}

function conditionsOf(namespace: KubeObject): Record<string, unknown>[] {
  const status: unknown = namespace.status;
  const conditions = isPlainObject(status) ? status.conditions : undefined;
  return Array.isArray(conditions) ? conditions.filter(isPlainObject) : [];
}

/**
 * The namespace's conditions after a pass (kube's updateConditions): each maintained type set
 * to its failing form or its "ok" form; an existing condition keeps its lastTransitionTime
 * unless its status changes. Undefined when nothing changed.
 */
export function updatedConditions(namespace: KubeObject, failing: readonly Failing[], now: Date): Record<string, unknown>[] | undefined {
  const conditions = conditionsOf(namespace).map((c) => ({ ...c }));
  let changed = false;
  const time = formatRFC3339(now.getTime());
  for (const type of CONDITION_TYPES) {
    const fail = failing.find((f) => f.type === type);
    const wanted = fail !== undefined ? { status: 'True', reason: fail.reason, message: fail.message } : { status: 'False', ...OK[type] };
    const old = conditions.find((c) => c.type === type);
    if (old === undefined) {
      conditions.push({ type, ...wanted, lastTransitionTime: time });
      changed = true;
    } else if (old.status !== wanted.status || old.reason !== wanted.reason || old.message !== wanted.message) {
      if (old.status !== wanted.status) old.lastTransitionTime = time;
      Object.assign(old, wanted);
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}

/**
 * Runs `work` over `items` with at most `limit` at once, starting no more once `signal` aborts;
 * resolves when all started have settled, with their errors.
 */
async function bounded<T>(items: readonly T[], limit: number, signal: AbortSignal, work: (item: T) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !signal.aborted) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        errors.push(err);
      }
    }
  });
  await Promise.all(lanes);
  return errors;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The NamespaceDeletionContentFailure condition of a pass's content errors (kube's ProcessDeleteContentErr), if any. */
function contentFailure(errors: readonly string[]): Failing[] {
  if (errors.length === 0) return [];
  const sorted = [...errors].sort();
  return [{ type: 'NamespaceDeletionContentFailure', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${errors.length} remaining: ${sorted.join(', ')}` }];
}

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  readonly serviceAccount = 'namespace-controller';
  private readonly o: Required<NamespaceControllerOptions>;

  constructor(options: NamespaceControllerOptions = {}) {
    this.o = { workers: 10, deleteParallelism: 32, startDelayMs: 5000, retryMs: 500, resyncMs: 300_000, ...options };
  }

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const info = ctx.registry.get('', 'v1', 'namespaces');
    if (info === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource (namespaces)');
    const queue = new WorkQueue<string>({ initialBackoffMs: this.o.retryMs, maxBackoffMs: MAX_ERROR_BACKOFF_MS });
    const workers = Array.from({ length: Math.max(1, this.o.workers) }, () =>
      runWorker(queue, signal, {
        handle: (name) => this.sync(ctx, info, name, signal),
        failed: (name, err) => ctx.logger.warn('namespace not finished; trying again', { namespace: name, error: err }),
        // Content held by finalizers: kube waits estimate/2 + 1 s; sooner first, as objects often go quickly.
        againMaxMs: (FINALIZER_ESTIMATE_SECONDS / 2 + 1) * 1000,
      }),
    );
    // Namespaces seen Terminating: tried again at every resync.
    const terminating = new Set<string>();
    const resync = setInterval(() => {
      for (const name of terminating) queue.add(name);
    }, this.o.resyncMs);
    try {
      await inform(ctx, info, { what: 'namespace', retryMs: this.o.retryMs }, signal, (type, namespace) => {
        const name = String(namespace.metadata?.name ?? '');
        if (type === 'DELETED' || !isDeleting(namespace)) {
          terminating.delete(name);
          queue.drop(name);
          return;
        }
        if (!terminating.has(name)) {
          terminating.add(name);
          queue.addAfter(name, this.o.startDelayMs);
        } else {
          queue.add(name);
        }
      });
    } finally {
      clearInterval(resync);
      queue.shutDown();
      await Promise.all(workers);
    }
  }

  /**
   * One pass over a namespace (kube's namespacedResourcesDeleter.Delete): 'done' when there is
   * nothing more to do (gone, not being deleted, finalized), 'again' while content remains;
   * rejects when a step failed (retried with backoff).
   */
  private async sync(ctx: ControllerContext, info: KindDefinition, name: string, signal: AbortSignal): Promise<'done' | 'again'> {
    const target: Target = { info, namespace: '', name };
    let namespace: KubeObject;
    try {
      namespace = await ctx.pipeline.get(ctx.user, target, {}, signal);
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'NotFound') return 'done';
      throw err;
    }
    if (!isDeleting(namespace)) return 'done';
    if (!isPlainObject(namespace.status) || namespace.status.phase !== 'Terminating') {
      namespace = await ctx.pipeline.update(ctx.user, { ...target, subresource: 'status' }, { ...namespace, status: { ...(isPlainObject(namespace.status) ? namespace.status : {}), phase: 'Terminating' } }, CONTROLLER_WRITES, signal);
    }
    if (specFinalizersOf(namespace).length === 0) return 'done';
    const content = await this.deleteAllContent(ctx, namespace, signal);
    if (content.errors.length > 0) throw new StatusError('InternalError', content.errors.join(', '));
    if (content.remaining > 0) return 'again';
    await this.finalize(ctx, target, namespace, signal);
    return 'done';
  }

  /**
   * Deletes every object of every served namespaced resource in the namespace (kube's
   * deleteAllContent, with OrderedNamespaceDeletion as kube 1.33 on and 1.34 locked on): Pods
   * first, and while any Pod remains nothing else (kube then writes the conditions of that
   * pass without the content totals); then every other resource. Lists again what is left
   * and writes the conditions.
   */
  private async deleteAllContent(ctx: ControllerContext, namespace: KubeObject, signal: AbortSignal): Promise<ContentResult> {
    const name = String(namespace.metadata?.name ?? '');
    // Views share their stored kind's objects: each stored resource once.
    const kinds = storedKinds(ctx.registry.all).filter((k) => k.namespaced && k.verbs.includes('delete') && k.verbs.includes('list'));
    // What the pass answers (errors), and what the NamespaceDeletionContentFailure condition says.
    const errors: string[] = [];
    const contentErrors: string[] = [];
    const byResource = new Map<string, number>();
    const byFinalizer = new Map<string, number>();
    const sweep = async (kind: KindDefinition, describe: (message: string) => string): Promise<void> => {
      try {
        const left = await this.deleteResource(ctx, kind, name, signal);
        if (left.count > 0) {
          byResource.set(`${kind.resource}.${kind.group}`, left.count);
          for (const [f, n] of left.finalizers) byFinalizer.set(f, (byFinalizer.get(f) ?? 0) + n);
          if (left.finalizers.size === 0) {
            const message = `unexpected items still remain in namespace: ${name} for gvr: ${gvrString(kind)}`;
            errors.push(describe(message));
            contentErrors.push(message);
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        errors.push(describe(messageOf(err)));
        contentErrors.push(messageOf(err));
      }
    };
    const pods = kinds.find((k) => k.group === '' && k.resource === 'pods');
    if (pods !== undefined) {
      await sweep(pods, (message) => `failed to delete pods for namespace: ${name}, err: ${message}`);
      if (signal.aborted) throw signal.reason;
      // A sweep that failed before it could count what is left (its delete or list refused) holds
      // nothing back, as in kube (deleteAllContentForGroupVersionResource then reports no items
      // remaining): the other resources are deleted, the error is kept for the conditions, and the
      // pass fails, so the namespace is not finalized and is tried again.
      const podsLeft = byResource.get(`${pods.resource}.${pods.group}`) ?? 0;
      if (podsLeft > 0) {
        // Nothing else is deleted while Pods remain (kube's ordered deletion).
        await this.writeConditions(ctx, namespace, contentFailure(contentErrors), signal);
        return { remaining: podsLeft, errors };
      }
    }
    for (const kind of kinds) {
      if (signal.aborted) break;
      if (kind === pods) continue;
      await sweep(kind, (message) => message);
    }
    if (signal.aborted) throw signal.reason;
    const failing: Failing[] = [];
    if (byResource.size > 0) {
      const parts = [...byResource].map(([r, n]) => `${r} has ${n} resource instances`).sort();
      failing.push({ type: 'NamespaceContentRemaining', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${parts.join(', ')}` });
    }
    if (byFinalizer.size > 0) {
      const parts = [...byFinalizer].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      failing.push({ type: 'NamespaceFinalizersRemaining', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}` });
    }
    failing.push(...contentFailure(contentErrors));
    await this.writeConditions(ctx, namespace, failing, signal);
    let remaining = 0;
    for (const n of byResource.values()) remaining += n;
    return { remaining, errors };
  }

  /** Writes the namespace's conditions after a pass, when they change; as kube, one not written now is written by a later pass. */
  private async writeConditions(ctx: ControllerContext, namespace: KubeObject, failing: readonly Failing[], signal: AbortSignal): Promise<void> {
    const name = String(namespace.metadata?.name ?? '');
    const conditions = updatedConditions(namespace, failing, new Date());
    if (conditions === undefined) return;
    const info = ctx.registry.get('', 'v1', 'namespaces');
    if (info === undefined) return;
    try {
      await ctx.pipeline.update(ctx.user, { info, namespace: '', name, subresource: 'status' }, { ...namespace, status: { ...(isPlainObject(namespace.status) ? namespace.status : {}), conditions } }, CONTROLLER_WRITES, signal);
    } catch (err) {
      ctx.logger.debug('namespace conditions not updated', { namespace: name, error: err });
    }
  }

  /**
   * Deletes the objects of one resource in the namespace (deletecollection when the kind serves
   * it, as kube's deleter; else one by one with bounded parallelism), with propagation
   * Background as kube's (the garbage collector must not orphan what the namespace takes with
   * it), and lists what is left.
   */
  private async deleteResource(ctx: ControllerContext, kind: KindDefinition, namespace: string, signal: AbortSignal): Promise<Remaining> {
    const collection: Target = { info: kind, namespace, name: '' };
    const options = { propagationPolicy: 'Background' };
    if (kind.verbs.includes('deletecollection')) {
      await ctx.pipeline.deleteCollection(ctx.user, collection, {}, options, signal);
    } else {
      const listed = await ctx.pipeline.list(ctx.user, collection, {}, signal);
      // Objects already being deleted wait for their finalizers: deleting them again changes nothing.
      const live = listed.items.filter((o) => !isDeleting(o));
      const failures = await bounded(live, this.o.deleteParallelism, signal, async (object) => {
        const name = String(object.metadata?.name ?? '');
        const uid = object.metadata?.uid;
        try {
          await ctx.pipeline.delete(ctx.user, { ...collection, name }, { ...options, preconditions: typeof uid === 'string' ? { uid } : {} }, signal);
        } catch (err) {
          // Gone already, or replaced (another object by that name: the next pass deletes it).
          if (err instanceof StatusError && (err.reason === 'NotFound' || err.reason === 'Conflict' || err.reason === 'MethodNotAllowed')) return;
          throw err;
        }
      });
      if (failures.length > 0) throw failures[0];
    }
    if (signal.aborted) throw signal.reason;
    const left = await ctx.pipeline.list(ctx.user, collection, {}, signal);
    const finalizers = new Map<string, number>();
    for (const item of left.items) {
      const fs = item.metadata?.finalizers;
      if (!Array.isArray(fs)) continue;
      for (const f of fs) if (typeof f === 'string') finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    }
    return { count: left.items.length, finalizers };
  }

  /** Takes the "kubernetes" finalizer out of spec.finalizers (PUT namespaces/finalize), retried on conflicts while the uid stays. */
  private async finalize(ctx: ControllerContext, target: Target, namespace: KubeObject, signal: AbortSignal): Promise<void> {
    let current = namespace;
    for (let attempt = 0; ; attempt++) {
      const rest = specFinalizersOf(current).filter((f) => f !== KUBERNETES_FINALIZER);
      const finalizers = [...new Set(rest.map(String))].sort();
      try {
        await ctx.pipeline.update(ctx.user, { ...target, subresource: 'finalize' }, { ...current, spec: { ...(isPlainObject(current.spec) ? current.spec : {}), finalizers } }, CONTROLLER_WRITES, signal);
        return;
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'NotFound') return;
        if (!(err instanceof StatusError) || err.reason !== 'Conflict' || attempt >= 10) throw err;
      }
      const latest = await ctx.pipeline.get(ctx.user, target, {}, signal);
      if (latest.metadata?.uid !== current.metadata?.uid) throw new StatusError('Conflict', 'namespace uid has changed across retries');
      current = latest;
    }
  }
}

/** A GroupVersionResource as Go's %v prints it. */
function gvrString(kind: KindDefinition): string {
  return `${kind.group}/${kind.version}, Resource=${kind.resource}`;
}
