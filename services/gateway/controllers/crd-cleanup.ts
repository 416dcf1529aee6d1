/**
 * The crd-cleanup controller, as kube's CRD finalizer (apiextensions-apiserver
 * pkg/controller/finalizer/crd_finalizer.go): for every CustomResourceDefinition being deleted
 * that carries the `customresourcecleanup.apiextensions.k8s.io` finalizer (set by the
 * definition's first delete), it reports InstanceDeletionInProgress in the Terminating
 * condition, deletes the definition's custom resources in every namespace through the pipeline
 * (deletecollection per namespace, so admission and the objects' own finalizers are honoured),
 * waits until none is left, reports InstanceDeletionCompleted and takes its finalizer away,
 * which lets the definition go. A pass that fails (deletes refused, objects still held by their
 * finalizers after the wait) is reported with kube's reason and message and tried again with
 * backoff. Its only state is the definitions themselves: after a restart, or on another
 * replica, the watch's initial events bring back every definition still being deleted.
 */
import { StatusError } from '../../../lib/errors.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import { CRD_CLEANUP_FINALIZER, CRD_GROUP, CRD_RESOURCE, definitionCondition, withDefinitionCondition, type DefinitionCondition } from '../../../lib/kinds/builtin/customresourcedefinition.ts';
import { kindsOfDefinition } from '../../../lib/kinds/custom.ts';
import type { KindDefinition } from '../../../lib/kinds/index.ts';
import type { Target } from '../core/pipeline.ts';
import { inform } from './inform.ts';
import { runWorker, WorkQueue } from './work-queue.ts';
import { sleep, type Controller, type ControllerContext } from './types.ts';

export interface CrdCleanupOptions {
  /** Definitions cleaned up at once (kube runs 5 workers). */
  workers?: number;
  /** First wait between the checks for instances left after the deletes; doubles up to 5 s (kube polls every 5 s). */
  pollMs?: number;
  /** How long a pass waits for the instances to go before it reports InstanceDeletionCheck (kube: 1 minute). */
  pollTimeoutMs?: number;
  /** First wait before a pass that failed is tried again; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** Built-in resources stored where a definition's custom resources would be: never deleted by the cleanup (kube's OverlappingBuiltInResources). */
const OVERLAPPING_BUILTIN: readonly string[] = ['apiservices.apiregistration.k8s.io', `${CRD_RESOURCE}.${CRD_GROUP}`];

const MAX_POLL_MS = 5000;

const IN_PROGRESS: DefinitionCondition = { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' };

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function spec(crd: KubeObject): Record<string, unknown> {
  return isPlainObject(crd.spec) ? crd.spec : {};
}

function finalizersOf(crd: KubeObject): string[] {
  const finalizers: unknown = crd.metadata?.finalizers;
  return Array.isArray(finalizers) ? finalizers.filter((f): f is string => typeof f === 'string') : [];
}

/** Whether the definition is being deleted and still waits for this controller. */
function needsCleanup(crd: KubeObject): boolean {
  const at: unknown = crd.metadata?.deletionTimestamp;
  return at !== undefined && at !== null && finalizersOf(crd).includes(CRD_CLEANUP_FINALIZER);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** utilerrors.NewAggregate(errs).Error(): one message as it is, several (duplicates once) in brackets. */
function aggregate(messages: readonly string[]): string {
  const distinct = [...new Set(messages)];
  return distinct.length === 1 ? (distinct[0] as string) : `[${distinct.join(', ')}]`;
}

/**
 * The kind the definition's custom resources are stored as: its storage version, served or
 * not (storage keys carry no version, so any version reaches every object). Made from the
 * definition itself rather than looked up in the registry, which may not have caught up with it.
 */
export function storageKindOf(crd: KubeObject): KindDefinition | undefined {
  const versions = Array.isArray(spec(crd).versions) ? (spec(crd).versions as unknown[]) : [];
  const storage = versions.map((v) => (isPlainObject(v) ? v : {})).find((v) => v.storage === true);
  if (storage === undefined) return undefined;
  const serving = { ...crd, spec: { ...spec(crd), versions: versions.map((v) => (isPlainObject(v) && v.storage === true ? { ...v, served: true } : v)) } };
  return kindsOfDefinition(serving).find((k) => k.version === storage.name);
}

/** A failed step of a pass: the condition it reports. */
class PassFailure extends Error {
  readonly condition: DefinitionCondition;
  constructor(condition: DefinitionCondition) {
    super(condition.message);
    this.condition = condition;
  }
}

export class CrdCleanupController implements Controller {
  readonly name = 'crd-cleanup';
  private readonly o: Required<CrdCleanupOptions>;

  constructor(options: CrdCleanupOptions = {}) {
    this.o = { workers: 5, pollMs: 250, pollTimeoutMs: 60_000, retryMs: 1000, maxRetryMs: 60_000, ...options };
  }

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    const info = ctx.registry.get(CRD_GROUP, 'v1', CRD_RESOURCE);
    if (info === undefined) throw new StatusError('NotFound', `the server could not find the requested resource (${CRD_RESOURCE})`);
    // One pass at a time per definition; a failed or interrupted one is tried again after the definition's backoff.
    const queue = new WorkQueue<string>({ initialBackoffMs: this.o.retryMs, maxBackoffMs: this.o.maxRetryMs });
    const workers = Array.from({ length: Math.max(1, this.o.workers) }, () =>
      runWorker(queue, signal, {
        handle: (name) => this.sync(ctx, info, name, signal),
        failed: (name, err) => ctx.logger.warn('custom resources of a deleted definition not all deleted; trying again', { name, error: err }),
      }),
    );
    try {
      await inform(ctx, info, { what: 'custom resource definition', retryMs: this.o.retryMs }, signal, (type, crd) => {
        const name = str(crd.metadata?.name);
        if (type !== 'DELETED' && name !== '' && needsCleanup(crd)) queue.add(name);
      });
    } finally {
      queue.shutDown();
      await Promise.all(workers);
    }
  }

  /**
   * One pass (kube's CRDFinalizer.sync): 'done' when the definition needs nothing more (gone,
   * not being deleted, finalized), 'again' when it changed under the pass; rejects when a step
   * failed, after reporting it in the Terminating condition.
   */
  private async sync(ctx: ControllerContext, info: KindDefinition, name: string, signal: AbortSignal): Promise<'done' | 'again'> {
    const target: Target = { info, namespace: '', name };
    let crd: KubeObject;
    try {
      crd = await ctx.pipeline.get(ctx.user, target, {}, signal);
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'NotFound') return 'done';
      throw err;
    }
    if (!needsCleanup(crd)) return 'done';
    // This cleanup could take a while: say so first.
    const started = await this.writeCondition(ctx, target, crd, IN_PROGRESS, signal);
    if (started === undefined) return 'again';
    crd = started;
    let outcome: DefinitionCondition;
    const definitionSpec = spec(crd);
    const names = isPlainObject(definitionSpec.names) ? definitionSpec.names : {};
    if (OVERLAPPING_BUILTIN.includes(`${str(names.plural)}.${str(definitionSpec.group)}`)) {
      outcome = { type: 'Terminating', status: 'False', reason: 'OverlappingBuiltInResource', message: 'instances overlap with built-in resources in storage' };
    } else if (definitionCondition(crd, 'Established')?.status === 'True') {
      try {
        await this.deleteInstances(ctx, crd, signal);
      } catch (err) {
        if (signal.aborted || !(err instanceof PassFailure)) throw err;
        try {
          await this.writeCondition(ctx, target, crd, err.condition, signal);
        } catch (writeErr) {
          ctx.logger.debug('terminating condition not updated', { name, error: writeErr });
        }
        throw err;
      }
      outcome = { type: 'Terminating', status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' };
    } else {
      outcome = { type: 'Terminating', status: 'False', reason: 'NeverEstablished', message: 'resource was never established' };
    }
    const finished = await this.writeCondition(ctx, target, crd, outcome, signal);
    if (finished === undefined) return 'again';
    // The finalizer goes last: the definition, no longer held, is removed with that write.
    const finalizers = finalizersOf(finished).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    try {
      await ctx.pipeline.update(ctx.user, target, { ...finished, metadata: { ...finished.metadata, finalizers } }, {}, signal);
    } catch (err) {
      // Deleted or changed meanwhile: the next pass sees what it is now.
      if (err instanceof StatusError && err.reason === 'NotFound') return 'done';
      if (err instanceof StatusError && err.reason === 'Conflict') return 'again';
      throw err;
    }
    return 'done';
  }

  /**
   * Sets the condition through customresourcedefinitions/status (nothing written when it is set
   * already): the definition as stored after, or undefined when it went or changed meanwhile.
   */
  private async writeCondition(ctx: ControllerContext, target: Target, crd: KubeObject, condition: DefinitionCondition, signal: AbortSignal): Promise<KubeObject | undefined> {
    const current = definitionCondition(crd, condition.type);
    if (current !== undefined && current.status === condition.status && current.reason === condition.reason && current.message === condition.message) return crd;
    try {
      return await ctx.pipeline.update(ctx.user, { ...target, subresource: 'status' }, withDefinitionCondition(crd, condition, new Date()), {}, signal);
    } catch (err) {
      if (err instanceof StatusError && (err.reason === 'NotFound' || err.reason === 'Conflict')) return undefined;
      throw err;
    }
  }

  /**
   * kube's deleteInstances: every namespace holding instances gets a deletecollection of them,
   * then the instances are listed until none is left. PassFailure with kube's reason and
   * message when a step fails or instances remain after the wait.
   */
  private async deleteInstances(ctx: ControllerContext, crd: KubeObject, signal: AbortSignal): Promise<void> {
    const definitionSpec = spec(crd);
    const status = isPlainObject(crd.status) ? crd.status : {};
    const accepted = isPlainObject(status.acceptedNames) ? status.acceptedNames : {};
    const kind = storageKindOf(crd);
    const failed = (reason: string, message: string) => new PassFailure({ type: 'Terminating', status: 'True', reason, message });
    if (kind === undefined) {
      const why = `unable to find a custom resource client for ${str(accepted.plural)}.${str(definitionSpec.group)}: no storage version`;
      throw failed('InstanceDeletionFailed', `could not list instances: ${why}`);
    }
    const all: Target = { info: kind, namespace: '', name: '' };
    let listed: KubeObject[];
    try {
      listed = (await ctx.pipeline.list(ctx.user, all, {}, signal)).items;
    } catch (err) {
      if (signal.aborted) throw err;
      throw failed('InstanceDeletionFailed', `could not list instances: ${messageOf(err)}`);
    }
    const namespaces = [...new Set(listed.map((item) => str(item.metadata?.namespace)))];
    const errors: string[] = [];
    for (const namespace of namespaces) {
      if (signal.aborted) throw signal.reason;
      try {
        await ctx.pipeline.deleteCollection(ctx.user, { info: kind, namespace: kind.namespaced ? namespace : '', name: '' }, {}, {}, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        errors.push(messageOf(err));
      }
    }
    if (errors.length > 0) throw failed('InstanceDeletionFailed', `could not issue all deletes: ${aggregate(errors)}`);
    // Objects held by finalizers go when their controllers let them: wait for that a while.
    const deadline = Date.now() + this.o.pollTimeoutMs;
    for (let n = 0; ; n++) {
      let left: number;
      try {
        left = (await ctx.pipeline.list(ctx.user, all, {}, signal)).items.length;
      } catch (err) {
        if (signal.aborted) throw err;
        throw failed('InstanceDeletionCheck', `could not confirm zero CustomResources remaining: ${messageOf(err)}`);
      }
      if (left === 0) return;
      const wait = Math.min(this.o.pollMs * 2 ** Math.min(n, 20), MAX_POLL_MS, deadline - Date.now());
      if (wait <= 0) throw failed('InstanceDeletionCheck', 'could not confirm zero CustomResources remaining: context deadline exceeded');
      await sleep(wait, signal);
      if (signal.aborted) throw signal.reason;
    }
  }
}
