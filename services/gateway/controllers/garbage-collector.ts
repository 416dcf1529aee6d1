/**
 * The garbage collector (kube-controller-manager's garbagecollector controller,
 * pkg/controller/garbagecollector: graph_builder.go, garbagecollector.go, operations.go), run
 * by the gateway's controller host while its replica leads:
 *
 * - an owner graph (garbage-collector-graph.ts) kept current from a list, then a watch from its
 *   resourceVersion, of every stored kind of the registry that can be listed, watched and
 *   deleted (kube's deletable resources; core events excepted, as kube's ignoredResources),
 *   following the registry as custom kinds come and go, listing again after a 410;
 * - owners deleted with the `orphan` finalizer: their reference is removed from every dependent,
 *   then the finalizer from the owner;
 * - owners deleted with `foregroundDeletion`: their dependents are deleted (foreground when
 *   they have dependents of their own), and once no dependent with blockOwnerDeletion is left
 *   the finalizer is removed;
 * - dependents whose owners are all absent (checked by a live get of each owner, by uid) are
 *   deleted with the propagation their own finalizers ask for (Background when none); those
 *   with an owner left lose only the references to absent owners.
 *
 * Every read and write goes through the pipeline as the controller's user (authorized and
 * admitted as any client's), writes conditional on the resourceVersion read and retried on
 * conflicts. Work goes through two queues keyed by uid (work-queue.ts) with
 * per-key backoff. Nothing is kept across runs: each run lists afresh, so a new leader (or a
 * restarted one) resumes from what is stored (deletions in progress carry their finalizers).
 */
import { isDeepStrictEqual } from 'node:util';
import { StatusError } from '../../../lib/errors.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import { apiVersionOf, type KindChange, type KindDefinition, type KindRegistry } from '../../../lib/kinds/index.ts';
import type { Logger } from '../../../lib/log.ts';
import type { UserInfo } from '../../auth/api.ts';
import type { Pipeline, Target } from '../core/pipeline.ts';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, OwnerGraph, type GraphNode, type TypeRef } from './garbage-collector-graph.ts';
import { runWorker, WorkQueue } from './work-queue.ts';
import { CONTROLLER_WRITES, sleep, type Controller, type ControllerContext } from './types.ts';

export interface GarbageCollectorOptions {
  /** Workers per queue (kube's --concurrent-gc-syncs, default 20; here 5). */
  workers?: number;
  /** First and longest backoff of an item that failed (5 ms and 5 minutes by default). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** First and longest pause before a failed list or watch is tried again (250 ms and 10 s). */
  initialRelistBackoffMs?: number;
  maxRelistBackoffMs?: number;
  /**
   * How long the workers wait for every kind's first list before they start anyway (kube's
   * initialSyncTimeout; default 30 s).
   */
  initialSyncTimeoutMs?: number;
}

/** Resources whose objects are neither owners nor dependents worth tracking (kube's DefaultIgnoredResources). */
const IGNORED_RESOURCES = new Set(['/events', 'events.k8s.io/events']);

/** How a deletion propagates to dependents (metav1.DeletionPropagation). */
type Propagation = 'Orphan' | 'Background' | 'Foreground';

/** Attempts of one conditional write that keeps conflicting (kube: retry.DefaultBackoff's 4 steps and one more). */
const CONFLICT_ATTEMPTS = 5;

/** Dependents orphaned at once. */
const ORPHAN_PARALLELISM = 16;

/**
 * What {@link CollectorRun.liveOwner} answers for a cluster-scoped object that names a namespaced
 * owner (kube's namespacedOwnerOfClusterScopedObjectErr): a mistake no retry mends.
 */
const INVALID_OWNER = Symbol('namespaced owner of a cluster-scoped object');

/**
 * The garbage collector as a controller of the host: each run builds its graph from a fresh
 * list and works until `signal` aborts.
 */
export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  readonly serviceAccount = 'generic-garbage-collector';
  private readonly options: GarbageCollectorOptions;

  constructor(options: GarbageCollectorOptions = {}) {
    this.options = options;
  }

  async run(ctx: ControllerContext, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    await new CollectorRun(ctx, this.options, signal).run();
  }
}

/** One list-then-watch loop of a stored resource. */
interface Monitor {
  readonly controller: AbortController;
  done: Promise<void>;
  /** Resolves after the first list was applied (or the monitor stopped). */
  readonly synced: Promise<void>;
}

/** kube's absentOwnerCache: owners a live get found absent, by uid and coordinates (a uid never comes back). */
class AbsentOwners {
  private readonly keys = new Set<string>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  has(key: string): boolean {
    if (!this.keys.has(key)) return false;
    // most recently used last
    this.keys.delete(key);
    this.keys.add(key);
    return true;
  }

  add(key: string): void {
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value as string);
  }
}

function uidOf(object: KubeObject): string {
  const uid = object.metadata?.uid;
  return typeof uid === 'string' ? uid : '';
}

function finalizersOf(object: KubeObject): string[] {
  const finalizers: unknown = object.metadata?.finalizers;
  return Array.isArray(finalizers) ? finalizers.filter((f): f is string => typeof f === 'string') : [];
}

function ownerReferencesOf(object: KubeObject): Record<string, unknown>[] {
  const refs: unknown = object.metadata?.ownerReferences;
  return Array.isArray(refs) ? refs.filter(isPlainObject) : [];
}

function isReason(err: unknown, ...reasons: string[]): boolean {
  return err instanceof StatusError && reasons.includes(err.reason);
}

/** Whether a watch's ERROR event says its revision is too old (410). */
function isExpiredStatus(status: unknown): boolean {
  if (!isPlainObject(status)) return false;
  return status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone';
}

/** The group/resource key of a stored kind. */
function resourceOf(kind: { group: string; resource: string }): string {
  return `${kind.group}/${kind.resource}`;
}

/** The state of one run: its graph, queues, monitors and workers. */
class CollectorRun {
  private readonly pipeline: Pipeline;
  private readonly registry: KindRegistry;
  private readonly logger: Logger;
  private readonly user: UserInfo;
  private readonly o: GarbageCollectorOptions;
  private readonly signal: AbortSignal;
  private readonly graph: OwnerGraph;
  private readonly attemptToDelete: WorkQueue<string>;
  private readonly attemptToOrphan: WorkQueue<string>;
  private readonly absent = new AbsentOwners(500);
  private readonly monitors = new Map<string, Monitor>();
  /** Monitors of resources no longer served, until their loops have ended. */
  private readonly retired = new Set<Promise<void>>();

  constructor(ctx: ControllerContext, options: GarbageCollectorOptions, signal: AbortSignal) {
    this.pipeline = ctx.pipeline;
    this.registry = ctx.registry;
    this.logger = ctx.logger.with({ controller: 'garbage-collector' });
    this.user = ctx.user;
    this.o = options;
    this.signal = signal;
    const queueOptions = { initialBackoffMs: options.initialBackoffMs, maxBackoffMs: options.maxBackoffMs };
    this.attemptToDelete = new WorkQueue(queueOptions);
    this.attemptToOrphan = new WorkQueue(queueOptions);
    this.graph = new OwnerGraph({
      attemptToDelete: (uid) => this.attemptToDelete.add(uid),
      attemptToOrphan: (uid) => this.attemptToOrphan.add(uid),
    });
  }

  async run(): Promise<void> {
    const unsubscribe = this.registry.subscribe((change) => this.kindsChanged(change));
    const stop = () => {
      this.attemptToDelete.shutDown();
      this.attemptToOrphan.shutDown();
      for (const monitor of this.monitors.values()) monitor.controller.abort();
    };
    this.signal.addEventListener('abort', stop, { once: true });
    try {
      this.syncMonitors();
      const synced = await this.waitForSync(this.o.initialSyncTimeoutMs ?? 30_000);
      if (this.signal.aborted) return;
      this.logger.info(synced ? 'the owner graph is synced; collecting garbage' : 'not every kind could be listed in time; collecting garbage anyway', {
        kinds: this.monitors.size,
        nodes: this.graph.size,
      });
      const workers: Promise<void>[] = [];
      for (let i = 0; i < Math.max(1, this.o.workers ?? 5); i++) {
        workers.push(this.worker(this.attemptToDelete, (uid) => this.attemptToDeleteItem(uid)));
        workers.push(this.worker(this.attemptToOrphan, (uid) => this.attemptToOrphanItem(uid)));
      }
      await Promise.all(workers);
    } finally {
      unsubscribe();
      this.signal.removeEventListener('abort', stop);
      stop();
      await Promise.all([...[...this.monitors.values()].map((m) => m.done), ...this.retired]);
    }
  }

  // ---- the graph's sources: one list-then-watch per stored resource ----

  /** The kind a resource is listed and watched as: the first served one of its group/resource that stores its objects. */
  private monitoredKind(group: string, resource: string): KindDefinition | undefined {
    for (const kind of this.registry.all) {
      if (kind.group === group && kind.resource === resource && kind.storedAs === undefined) return kind;
    }
    return undefined;
  }

  /** The stored resources to monitor now (kube's GetDeletableResources). */
  private wantedResources(): Set<string> {
    const wanted = new Set<string>();
    for (const kind of this.registry.all) {
      if (kind.storedAs !== undefined || IGNORED_RESOURCES.has(resourceOf(kind))) continue;
      if (!['list', 'watch', 'delete'].every((verb) => kind.verbs.includes(verb))) continue;
      wanted.add(resourceOf(kind));
    }
    return wanted;
  }

  /** Starts monitors of resources newly served, stops those of resources no longer served. */
  private syncMonitors(): void {
    if (this.signal.aborted) return;
    const wanted = this.wantedResources();
    for (const [key, monitor] of this.monitors) {
      if (wanted.has(key)) continue;
      monitor.controller.abort();
      this.monitors.delete(key);
      this.retired.add(monitor.done);
      void monitor.done.then(() => this.retired.delete(monitor.done));
      // Its nodes stay: their dependents are checked live, as kube keeps a stopped monitor's nodes.
      this.logger.info('stopped following a resource no longer served', { resource: key });
    }
    for (const key of wanted) {
      if (this.monitors.has(key)) continue;
      const slash = key.indexOf('/');
      this.monitors.set(key, this.startMonitor(key.slice(0, slash), key.slice(slash + 1)));
    }
  }

  private kindsChanged(change: KindChange): void {
    // A kind that only changed (a custom kind's schema) is watched on as it is.
    if (change.type === 'modified') return;
    this.syncMonitors();
  }

  private startMonitor(group: string, resource: string): Monitor {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    this.signal.addEventListener('abort', onAbort, { once: true });
    let markSynced!: () => void;
    const synced = new Promise<void>((resolve) => (markSynced = resolve));
    const monitor: Monitor = { controller, synced, done: Promise.resolve() };
    monitor.done = this.follow(group, resource, controller.signal, markSynced).finally(() => {
      markSynced();
      this.signal.removeEventListener('abort', onAbort);
    });
    return monitor;
  }

  private async waitForSync(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const stopped = new Promise<boolean>((resolve) => this.signal.addEventListener('abort', () => resolve(false), { once: true }));
    try {
      return await Promise.race([Promise.all([...this.monitors.values()].map((m) => m.synced)).then(() => true), late, stopped]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Lists a resource into the graph, then watches it from the list's resourceVersion, as a
   * reflector does: a watch that ends is started again from the last resourceVersion seen; a
   * 410 (the revision was compacted) lists again; failures back off.
   */
  private async follow(group: string, resource: string, signal: AbortSignal, synced: () => void): Promise<void> {
    const initial = this.o.initialRelistBackoffMs ?? 250;
    const max = this.o.maxRelistBackoffMs ?? 10_000;
    let backoff = 0;
    let resourceVersion = '';
    while (!signal.aborted) {
      if (backoff > 0) {
        await sleep(backoff, signal);
        if (signal.aborted) return;
      }
      const kind = this.monitoredKind(group, resource);
      if (kind === undefined) return;
      const type = this.graph.typeOf(apiVersionOf(kind), kind.kind);
      const target: Target = { info: kind, namespace: '', name: '' };
      try {
        if (resourceVersion === '') {
          resourceVersion = await this.relist(target, type, signal);
          synced();
        }
        const events = await this.pipeline.watch(this.user, target, { resourceVersion, allowWatchBookmarks: true }, signal);
        let received = false;
        for await (const event of events) {
          received = true;
          if (event.type === 'ERROR') {
            const status: unknown = JSON.parse(event.object.toString('utf8'));
            if (isExpiredStatus(status)) {
              resourceVersion = '';
              break;
            }
            throw new StatusError('InternalError', `the watch of ${resource} failed: ${String(isPlainObject(status) ? status.message : '')}`);
          }
          if (event.resourceVersion !== '') resourceVersion = event.resourceVersion;
          backoff = 0;
          if (event.type === 'BOOKMARK') continue;
          const facts = this.graph.factsOf(JSON.parse(event.object.toString('utf8')));
          if (facts === undefined) continue;
          if (event.type === 'DELETED') this.graph.remove(facts.uid);
          else this.graph.observe(type, facts);
        }
        // A watch that ended (a timeout, a slow watcher dropped): watch again from where it
        // stood, after a pause when it brought nothing (so that a watch ending at once does not spin).
        if (!received && resourceVersion !== '') backoff = Math.max(backoff, initial);
      } catch (err) {
        if (signal.aborted) return;
        if (isReason(err, 'Expired', 'Gone')) resourceVersion = '';
        backoff = backoff === 0 ? initial : Math.min(backoff * 2, max);
        this.logger.warn('listing or watching a resource failed; trying again', { resource: `${resource}.${group}`, error: err, retryInMs: backoff });
      }
    }
  }

  /**
   * Lists every object of a resource into the graph; nodes of the resource the graph holds and
   * the list lacks (deleted while no watch ran) go, once a live get confirms it. Returns the
   * list's resourceVersion.
   */
  private async relist(target: Target, type: TypeRef, signal: AbortSignal): Promise<string> {
    const listed = new Set<string>();
    let resourceVersion = '';
    let token = '';
    do {
      const page = await this.pipeline.list(this.user, target, { limit: 500, continue: token }, signal);
      if (resourceVersion === '') resourceVersion = page.resourceVersion;
      for (const item of page.items) {
        const facts = this.graph.factsOf(item);
        if (facts === undefined) continue;
        listed.add(facts.uid);
        this.graph.observe(type, facts);
      }
      token = page.continue;
    } while (token !== '');
    const missing: GraphNode[] = [];
    for (const node of this.graph.all()) {
      if (node.observed && node.type.group === type.group && node.type.kind === type.kind && !listed.has(node.uid)) missing.push(node);
    }
    for (const node of missing) {
      const live = await this.getLive(target.info, node.namespace, node.name);
      if (live === undefined || uidOf(live) !== node.uid) this.graph.remove(node.uid);
    }
    return resourceVersion;
  }

  // ---- the workers ----

  /**
   * Takes keys from `queue` until it shuts down. `handle` resolves true to be retried later
   * (kube's requeueItem); a failure is logged and retried after the key's backoff.
   */
  private worker(queue: WorkQueue<string>, handle: (uid: string) => Promise<boolean>): Promise<void> {
    return runWorker(queue, this.signal, {
      handle: async (uid) => ((await handle(uid)) ? 'again' : 'done'),
      failed: (uid, err) => this.logger.warn('garbage collection of an object failed; retrying later', { uid, error: err }),
    });
  }

  /** The kind an apiVersion and kind name (kube's REST mapping); another served version of the group's kind when that one is not served. */
  private kindOf(type: TypeRef): KindDefinition | undefined {
    return this.registry.byKind(type.apiVersion, type.kind) ?? this.registry.all.find((k) => k.group === type.group && k.kind === type.kind);
  }

  private kindOfNode(node: GraphNode): KindDefinition {
    const kind = this.kindOf(node.type);
    if (kind === undefined) throw new StatusError('NotFound', `no kind ${node.type.kind} is served in ${node.type.apiVersion}`);
    return kind;
  }

  private targetOf(kind: KindDefinition, namespace: string, name: string): Target {
    return { info: kind, namespace: kind.namespaced ? namespace : '', name };
  }

  /** The object as stored now; undefined when there is none. */
  private async getLive(kind: KindDefinition, namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.pipeline.get(this.user, this.targetOf(kind, namespace, name), {}, this.signal);
    } catch (err) {
      if (isReason(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  /**
   * kube's attemptToDeleteItem: the node's object is read live; an owner waiting for its
   * dependents removes its finalizer once no blocking dependent is left; a dependent is
   * deleted when none of its owners exists (foreground when an owner waits for it and it has
   * dependents of its own), or loses its references to absent owners when some owner exists.
   */
  private async attemptToDeleteItem(uid: string): Promise<boolean> {
    const node = this.graph.get(uid);
    // A node no longer held (deleted, or no longer owned nor owning) or not yet seen has nothing to collect.
    if (node === undefined || !node.observed) return false;
    // Being deleted is a one-way trip: its dependents are looked at once it is gone.
    if (node.beingDeleted && !node.deletingDependents) return false;
    const kind = this.kindOfNode(node);
    const latest = await this.getLive(kind, node.namespace, node.name);
    if (latest === undefined || uidOf(latest) !== uid) {
      // Gone without the graph seeing it yet: as if its deletion had been watched.
      this.graph.remove(uid);
      return false;
    }
    if (node.deletingDependents) return this.processDeletingDependents(node, kind);
    const references = ownerReferencesOf(latest);
    if (references.length === 0) return false;
    const solid: Record<string, unknown>[] = [];
    const dangling: Record<string, unknown>[] = [];
    const waiting: Record<string, unknown>[] = [];
    for (const reference of references) {
      const owner = await this.liveOwner(reference, node);
      if (owner === INVALID_OWNER) {
        this.logger.info('a cluster-scoped object names a namespaced owner; it is not collected', { item: this.describe(node), owner: reference });
        return false;
      }
      if (owner === undefined) dangling.push(reference);
      else if (owner.metadata?.deletionTimestamp !== undefined && finalizersOf(owner).includes(FOREGROUND_FINALIZER)) waiting.push(reference);
      else solid.push(reference);
    }
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return false;
      // References to owners waiting for their dependents go too: they would wait forever otherwise.
      const gone = new Set([...dangling, ...waiting].map((r) => String(r.uid)));
      this.logger.info('removing references to absent owners', { item: this.describe(node), owners: [...gone] });
      await this.removeOwnerReferences(kind, node.namespace, node.name, uid, gone);
      return false;
    }
    if (waiting.length > 0 && node.dependentCount > 0) {
      // A dependent of it also waits for its own dependents: its references stop blocking so
      // that the two cannot wait for each other (kube's cycle guard).
      if ([...(node.dependents ?? [])].some((d) => d.deletingDependents)) await this.unblockOwnerReferences(kind, node.namespace, node.name, uid);
      this.logger.info('deleting a dependent in the foreground: an owner waits for it and it has dependents', { item: this.describe(node) });
      await this.deleteObject(kind, node, latest, 'Foreground');
      return false;
    }
    const finalizers = finalizersOf(latest);
    const policy: Propagation = finalizers.includes(ORPHAN_FINALIZER) ? 'Orphan' : finalizers.includes(FOREGROUND_FINALIZER) ? 'Foreground' : 'Background';
    this.logger.info('deleting an object whose owners are all absent', { item: this.describe(node), propagationPolicy: policy });
    await this.deleteObject(kind, node, latest, policy);
    return false;
  }

  /**
   * The owner an ownerReference of `node` names, as stored now (kube's isDangling); undefined
   * when absent: not found, another uid under its name, or no name at all. A namespaced
   * dependent's owner is looked for in its namespace, a cluster-scoped owner cluster-wide;
   * INVALID_OWNER for a namespaced owner of a cluster-scoped dependent.
   */
  private async liveOwner(reference: Record<string, unknown>, node: GraphNode): Promise<KubeObject | undefined | typeof INVALID_OWNER> {
    const uid = typeof reference.uid === 'string' ? reference.uid : '';
    const apiVersion = typeof reference.apiVersion === 'string' ? reference.apiVersion : '';
    const kindName = typeof reference.kind === 'string' ? reference.kind : '';
    const name = typeof reference.name === 'string' ? reference.name : '';
    const coordinates = `${uid}\u0000${apiVersion}\u0000${kindName}\u0000${name}`;
    if (this.absent.has(`\u0000${coordinates}`) || this.absent.has(`${node.namespace}\u0000${coordinates}`)) return undefined;
    const type = this.graph.typeOf(apiVersion, kindName);
    const kind = this.kindOf(type);
    if (kind === undefined) throw new StatusError('NotFound', `no kind ${kindName} is served in ${apiVersion}`);
    if (kind.namespaced && node.namespace === '') return INVALID_OWNER;
    const namespace = kind.namespaced ? node.namespace : '';
    const owner = name === '' ? undefined : await this.getLive(kind, namespace, name);
    if (owner === undefined || uidOf(owner) !== uid) {
      this.absent.add(`${namespace}\u0000${coordinates}`);
      return undefined;
    }
    const facts = this.graph.factsOf(owner);
    if (facts !== undefined) this.graph.confirm(this.graph.typeOf(apiVersionOf(kind), kind.kind), facts);
    return owner;
  }

  /** An owner waiting for its dependents (kube's processDeletingDependentsItem). */
  private async processDeletingDependents(node: GraphNode, kind: KindDefinition): Promise<boolean> {
    const blocking = node.blockingDependents();
    if (blocking.length === 0) {
      this.logger.info('no blocking dependent is left; removing the foregroundDeletion finalizer', { item: this.describe(node) });
      await this.removeFinalizer(kind, node, FOREGROUND_FINALIZER);
      return false;
    }
    for (const dependent of blocking) if (!dependent.deletingDependents) this.attemptToDelete.add(dependent.uid);
    return false;
  }

  /**
   * kube's attemptToOrphanWorker: the owner's reference is removed from every dependent the
   * graph knows, then the orphan finalizer from the owner.
   */
  private async attemptToOrphanItem(uid: string): Promise<boolean> {
    const node = this.graph.get(uid);
    if (node === undefined || !node.observed) return false;
    const kind = this.kindOfNode(node);
    const dependents = [...(node.dependents ?? [])];
    const failures: string[] = [];
    const owner = new Set([uid]);
    for (let i = 0; i < dependents.length; i += ORPHAN_PARALLELISM) {
      await Promise.all(
        dependents.slice(i, i + ORPHAN_PARALLELISM).map(async (dependent) => {
          try {
            await this.removeOwnerReferences(this.kindOfNode(dependent), dependent.namespace, dependent.name, dependent.uid, owner);
          } catch (err) {
            if (!isReason(err, 'NotFound')) failures.push(`${this.describe(dependent)}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }),
      );
    }
    if (failures.length > 0) throw new StatusError('InternalError', `orphaning the dependents of ${this.describe(node)} failed: ${failures.join('; ')}`);
    this.logger.info('dependents orphaned; removing the orphan finalizer', { item: this.describe(node), dependents: dependents.length });
    await this.removeFinalizer(kind, node, ORPHAN_FINALIZER);
    return false;
  }

  // ---- writes, each conditional on what was read and retried on conflicts ----

  /**
   * Runs `attempt` (a read then a write conditional on it) again while it conflicts, at most
   * CONFLICT_ATTEMPTS times (kube's retry.RetryOnConflict); the last Conflict is thrown.
   */
  private async retryOnConflict(attempt: () => Promise<void>): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        await attempt();
        return;
      } catch (err) {
        if (i >= CONFLICT_ATTEMPTS || !isReason(err, 'Conflict') || this.signal.aborted) throw err;
        await sleep(10 * 2 ** i, this.signal);
      }
    }
  }

  /** A JSON merge patch of the object's metadata, conditional on `resourceVersion`. */
  private async patchMetadata(kind: KindDefinition, namespace: string, name: string, metadata: Record<string, unknown>): Promise<void> {
    await this.pipeline.patch(
      this.user,
      this.targetOf(kind, namespace, name),
      { contentType: 'application/merge-patch+json', body: Buffer.from(JSON.stringify({ metadata })) },
      CONTROLLER_WRITES,
      this.signal,
    );
  }

  /** Removes the references to the owners `ownerUids` from an object (kube's deleteOwnerRefJSONMergePatch). */
  private async removeOwnerReferences(kind: KindDefinition, namespace: string, name: string, uid: string, ownerUids: ReadonlySet<string>): Promise<void> {
    await this.retryOnConflict(async () => {
      const live = await this.getLive(kind, namespace, name);
      if (live === undefined || uidOf(live) !== uid) return;
      const references = ownerReferencesOf(live);
      const kept = references.filter((r) => !ownerUids.has(String(r.uid)));
      if (kept.length === references.length) return;
      try {
        await this.patchMetadata(kind, namespace, name, { resourceVersion: live.metadata?.resourceVersion, ownerReferences: kept.length === 0 ? null : kept });
      } catch (err) {
        if (!isReason(err, 'NotFound')) throw err;
      }
    });
  }

  /** Makes every ownerReference of an object non-blocking (kube's unblockOwnerReferencesJSONMergePatch). */
  private async unblockOwnerReferences(kind: KindDefinition, namespace: string, name: string, uid: string): Promise<void> {
    await this.retryOnConflict(async () => {
      const live = await this.getLive(kind, namespace, name);
      if (live === undefined || uidOf(live) !== uid) return;
      const references = ownerReferencesOf(live);
      if (!references.some((r) => r.blockOwnerDeletion === true)) return;
      const unblocked = references.map((r) => ({ ...r, blockOwnerDeletion: false }));
      await this.patchMetadata(kind, namespace, name, { resourceVersion: live.metadata?.resourceVersion, ownerReferences: unblocked });
    });
  }

  /** Removes a finalizer from an object (kube's removeFinalizer); an object gone, or without it, is done. */
  private async removeFinalizer(kind: KindDefinition, node: GraphNode, finalizer: string): Promise<void> {
    await this.retryOnConflict(async () => {
      const live = await this.getLive(kind, node.namespace, node.name);
      if (live === undefined || uidOf(live) !== node.uid) return;
      const finalizers = finalizersOf(live);
      if (!finalizers.includes(finalizer)) return;
      const rest = finalizers.filter((f) => f !== finalizer);
      try {
        await this.patchMetadata(kind, node.namespace, node.name, { resourceVersion: live.metadata?.resourceVersion, finalizers: rest.length === 0 ? null : rest });
      } catch (err) {
        if (!isReason(err, 'NotFound')) throw err;
      }
    });
  }

  /**
   * Deletes an object read as `latest` with a propagation policy (kube's deleteObject): the
   * delete options' propagationPolicy, so the store sets the finalizer it asks for in the same
   * write; preconditions on its uid and resourceVersion, and when only the resourceVersion
   * moved and its owners are as read, again on the uid alone.
   */
  private async deleteObject(kind: KindDefinition, node: GraphNode, latest: KubeObject, policy: Propagation): Promise<void> {
    const target = this.targetOf(kind, node.namespace, node.name);
    const resourceVersion = typeof latest.metadata?.resourceVersion === 'string' ? latest.metadata.resourceVersion : '';
    const remove = (preconditions: { uid: string; resourceVersion?: string }) => this.pipeline.delete(this.user, target, { preconditions, propagationPolicy: policy }, this.signal);
    try {
      await remove(resourceVersion === '' ? { uid: node.uid } : { uid: node.uid, resourceVersion });
    } catch (err) {
      if (isReason(err, 'NotFound')) return;
      if (!isReason(err, 'Conflict') || resourceVersion === '') throw err;
      const live = await this.getLive(kind, node.namespace, node.name);
      if (live === undefined) return;
      if (uidOf(live) !== node.uid || !isDeepStrictEqual(ownerReferencesOf(live), ownerReferencesOf(latest))) throw err;
      try {
        await remove({ uid: node.uid });
      } catch (again) {
        if (!isReason(again, 'NotFound')) throw again;
      }
    }
  }

  private describe(node: GraphNode): string {
    const where = node.namespace === '' ? '' : `${node.namespace}/`;
    return `${node.type.kind}.${node.type.apiVersion} ${where}${node.name} (uid ${node.uid})`;
  }
}
