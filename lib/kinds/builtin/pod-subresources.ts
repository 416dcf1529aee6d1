/**
 * The POST subresources of Pods, as kube's pod storage serves them
 * (pkg/registry/core/pod/storage): `binding` (a v1 Binding assigns an unassigned pod to a
 * node, the scheduler's write) and `eviction` (a policy/v1 Eviction deletes a pod unless a
 * PodDisruptionBudget of its namespace forbids it, the write of `kubectl drain`). Both read
 * and write storage directly, as kube's subresource stores do: no admission or strategy runs
 * on the pod (the Binding or Eviction itself was admitted); an eviction deletes the pod as a
 * delete of it does (its grace period and finalizers), without admitting that delete.
 */
import { badRequest, conflict, StatusError, type StatusCause } from '../../errors.ts';
import { isPlainObject, rfc3339, type KubeObject } from '../../kube.ts';
import { labelSelectorAsSelector, selectorMatches } from '../../label-selector.ts';
import type { PostSubresource, SubresourceCall, SubresourceObjectRef, SubresourceStore } from '../types.ts';

/** How often a write that lost a race (Conflict) is tried again with what is stored then. */
const ATTEMPTS = 5;

/** Above this many entries of status.disruptedPods, evictions are refused (kube's MaxDisruptedPodSize). */
const MAX_DISRUPTED_POD_SIZE = 2000;

function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0;
}

function isConflict(err: unknown): boolean {
  return err instanceof StatusError && err.reason === 'Conflict';
}

/** A metav1.Status with status Success (the create handler fills in its code). */
function success(): KubeObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
}

function podRef(call: SubresourceCall): SubresourceObjectRef {
  return { group: '', resource: 'pods', namespace: call.namespace, name: call.name };
}

/** Refuses a body whose name is not the URL's, in the words of kube's handlers. */
function checkName(call: SubresourceCall, kind: string): void {
  if (str(obj(call.body.metadata).name) !== call.name) throw badRequest(`name in URL does not match name in ${kind} object`);
}

/** A JSON null is Go's nil: an object with `deletionTimestamp: null` is not being deleted. */
function beingDeleted(object: KubeObject): boolean {
  const at: unknown = object.metadata?.deletionTimestamp;
  return at !== undefined && at !== null;
}

/**
 * podutil.UpdatePodCondition: sets the condition of its type in `status` (appended when new);
 * its lastTransitionTime is now, or the old one when the status did not change.
 */
function withPodCondition(status: Record<string, unknown>, condition: Record<string, unknown>, now: Date): Record<string, unknown> {
  const conditions = Array.isArray(status.conditions) ? [...(status.conditions as unknown[])] : [];
  const index = conditions.findIndex((c) => obj(c).type === condition.type);
  const old = index >= 0 ? obj(conditions[index]) : undefined;
  const lastTransitionTime = old !== undefined && old.status === condition.status ? (old.lastTransitionTime ?? null) : rfc3339(now);
  // PodCondition's field order; lastProbeTime is a zero time kube writes as null.
  const next: Record<string, unknown> = { type: condition.type, status: condition.status, lastProbeTime: null, lastTransitionTime };
  if (str(condition.reason) !== '') next.reason = condition.reason;
  if (str(condition.message) !== '') next.message = condition.message;
  if (index >= 0) conditions[index] = next;
  else conditions.push(next);
  return { ...status, conditions };
}

/** Storage's words for a failed precondition of an update (storage.Preconditions.Check, made a Conflict by the registry). */
function checkUpdatePreconditions(pod: KubeObject, name: string, uid: string, resourceVersion: string): void {
  const storedUid = str(pod.metadata?.uid);
  const storedVersion = str(pod.metadata?.resourceVersion);
  const q = { group: '', resource: 'pods' };
  if (uid !== '' && uid !== storedUid) throw conflict(q, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${storedUid}`);
  if (resourceVersion !== '' && resourceVersion !== storedVersion) {
    throw conflict(q, name, `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${storedVersion}`);
  }
}

/**
 * ValidatePodBinding: the target is a Node (or no kind) and has a name. kube returns these
 * field errors unwrapped, which its handler answers as a 500 with their text.
 */
function checkBinding(body: KubeObject): void {
  const target = obj(body.target);
  const errors: string[] = [];
  const kind = str(target.kind);
  if (kind !== '' && kind !== 'Node') errors.push(`target.kind: Unsupported value: ${JSON.stringify(kind)}: supported values: "Node", "<empty>"`);
  if (str(target.name) === '') errors.push('target.name: Required value');
  if (errors.length > 0) throw new StatusError('InternalError', errors.length === 1 ? (errors[0] as string) : `[${errors.join(', ')}]`);
}

/**
 * POST pods/{name}/binding: sets spec.nodeName of a pod that has none, merges the Binding's
 * annotations into the pod's, clears status.nominatedNodeName and sets the PodScheduled
 * condition, conditional on the Binding's uid and resourceVersion when it has them (kube keeps
 * them as preconditions). 409 Conflict on pods/binding when the pod is bound already, being
 * deleted, or gated; 404 when there is no such pod.
 */
async function bind(call: SubresourceCall): Promise<KubeObject> {
  checkName(call, 'Binding');
  checkBinding(call.body);
  const metadata = obj(call.body.metadata);
  const node = str(obj(call.body.target).name);
  const annotations = obj(metadata.annotations) as Record<string, string>;
  const refusal = (why: string): StatusError => conflict({ group: '', resource: 'pods/binding' }, call.name, why);
  for (let attempt = 1; ; attempt++) {
    const pod = await call.store.get(podRef(call));
    checkUpdatePreconditions(pod, call.name, str(metadata.uid), str(metadata.resourceVersion));
    const spec = obj(pod.spec);
    if (beingDeleted(pod)) throw refusal(`pod ${call.name} is being deleted, cannot be assigned to a host`);
    if (str(spec.nodeName) !== '') throw refusal(`pod ${call.name} is already assigned to node ${JSON.stringify(spec.nodeName)}`);
    if (Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0) throw refusal(`pod ${call.name} has non-empty .spec.schedulingGates`);
    const { nominatedNodeName: _nominated, ...status } = obj(pod.status);
    const bound: KubeObject = {
      ...pod,
      metadata: { ...pod.metadata, ...(Object.keys(annotations).length > 0 ? { annotations: { ...(obj(pod.metadata?.annotations) as Record<string, string>), ...annotations } } : {}) },
      spec: { ...spec, nodeName: node },
      status: withPodCondition(status, { type: 'PodScheduled', status: 'True' }, call.now()),
    };
    if (call.dryRun) return success();
    try {
      await call.store.update(podRef(call), bound);
      return success();
    } catch (err) {
      if (!isConflict(err) || attempt >= ATTEMPTS || str(metadata.resourceVersion) !== '') throw err;
    }
  }
}

/** The preconditions of an eviction's delete (its deleteOptions). */
interface Preconditions {
  uid: string;
  /** undefined when the client set none (kube's resourceVersionIsUnset). */
  resourceVersion: string | undefined;
}

/** An eviction's deleteOptions: the delete of the pod is done with them. */
interface EvictionDeleteOptions {
  preconditions: Preconditions;
  gracePeriodSeconds: number | undefined;
  propagationPolicy: string | undefined;
  orphanDependents: boolean | undefined;
  dryRun: boolean;
}

function phaseOf(pod: KubeObject): string {
  return str(obj(pod.status).phase);
}

/** canIgnorePDB: a pod that is not running (pending, terminated) or already being deleted is deleted without asking its budget. */
function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || beingDeleted(pod);
}

/** shouldEnforceResourceVersion: the delete of a pod that may still become ready is pinned to the version read. */
function shouldEnforceResourceVersion(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return !(phase === 'Succeeded' || phase === 'Failed' || beingDeleted(pod));
}

/** podutil.IsPodReady: its Ready condition is True. */
function isPodReady(pod: KubeObject): boolean {
  const conditions = obj(pod.status).conditions;
  return Array.isArray(conditions) && conditions.some((c) => obj(c).type === 'Ready' && obj(c).status === 'True');
}

/** 429 with kube's eviction message and the cause naming the budget. */
function tooManyRequests(retryAfterSeconds: number, cause: string): StatusError {
  const causes: StatusCause[] = [{ reason: 'DisruptionBudget', message: cause }];
  return new StatusError('TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
    causes,
  });
}

/** createTooManyRequestsError: the budget's status is behind its spec (or the pod changed meanwhile). */
function budgetBeingProcessed(name: string): StatusError {
  return tooManyRequests(10, `The disruption budget ${name} is still being processed by the server.`);
}

function budgetForbidden(name: string, why: string): StatusError {
  return new StatusError('Forbidden', `poddisruptionbudget.policy ${JSON.stringify(name)} is forbidden: ${why}`, { name, group: 'policy', kind: 'poddisruptionbudget' });
}

/** The budgets of the pod's namespace whose selector matches it (a nil, empty or invalid selector matches nothing). */
async function budgetsOf(store: SubresourceStore, pod: KubeObject, namespace: string): Promise<KubeObject[]> {
  const budgets = await store.list({ group: 'policy', resource: 'poddisruptionbudgets', namespace });
  return budgets.filter((pdb) => {
    // A nil or empty selector selects no pod here (kube skips such budgets), nor does one that does not convert.
    const selector = labelSelectorAsSelector(obj(pdb.spec).selector);
    return selector?.kind === 'requirements' && selectorMatches(selector, pod.metadata?.labels);
  });
}

/**
 * apimeta.SetStatusCondition of the DisruptionAllowed condition, as pdbhelper sets it when an
 * eviction takes the last allowed disruption.
 */
function withDisruptionAllowedCondition(status: Record<string, unknown>, now: Date): Record<string, unknown> {
  const allowed = int(status.disruptionsAllowed) > 0;
  const condition = {
    type: 'DisruptionAllowed',
    status: allowed ? 'True' : 'False',
    observedGeneration: int(status.observedGeneration),
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
  };
  const conditions = Array.isArray(status.conditions) ? [...(status.conditions as unknown[])] : [];
  const index = conditions.findIndex((c) => obj(c).type === condition.type);
  const old = index >= 0 ? obj(conditions[index]) : undefined;
  const lastTransitionTime = old !== undefined && old.status === condition.status ? old.lastTransitionTime : rfc3339(now);
  const next = {
    type: condition.type,
    status: condition.status,
    ...(condition.observedGeneration !== 0 ? { observedGeneration: condition.observedGeneration } : {}),
    lastTransitionTime,
    reason: condition.reason,
    message: old !== undefined ? str(old.message) : '',
  };
  if (index >= 0) conditions[index] = next;
  else conditions.push(next);
  return { ...status, conditions };
}

/**
 * checkAndDecrement: refuses when the budget allows no disruption now (429, or 403 for a
 * budget in a state its controller never leaves it in), else takes one disruption from it and
 * records the pod in status.disruptedPods (not in a dry run). Conflict when the budget changed
 * since it was read.
 */
async function takeDisruption(call: SubresourceCall, pdb: KubeObject, dryRun: boolean): Promise<void> {
  const name = str(pdb.metadata?.name);
  const status = obj(pdb.status);
  const generation = int(pdb.metadata?.generation);
  if (int(status.observedGeneration) < generation) throw budgetBeingProcessed(name);
  const allowed = int(status.disruptionsAllowed);
  if (allowed < 0) throw budgetForbidden(name, 'pdb disruptions allowed is negative');
  if (Object.keys(obj(status.disruptedPods)).length > MAX_DISRUPTED_POD_SIZE) {
    throw budgetForbidden(name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  }
  if (allowed === 0) {
    throw tooManyRequests(0, `The disruption budget ${name} needs ${int(status.desiredHealthy)} healthy pods and has ${int(status.currentHealthy)} currently`);
  }
  let next: Record<string, unknown> = { ...status, disruptionsAllowed: allowed - 1 };
  if (allowed - 1 === 0) next = withDisruptionAllowedCondition(next, call.now());
  if (dryRun) return;
  next.disruptedPods = { ...obj(status.disruptedPods), [call.name]: rfc3339(call.now()) };
  await call.store.update({ group: 'policy', resource: 'poddisruptionbudgets', namespace: call.namespace, name }, { ...pdb, status: next });
}

/**
 * addConditionAndDeletePod: marks the pod with the DisruptionTarget condition (a write of its
 * status, checked against the preconditions as kube checks them), then deletes it as a delete
 * of it does (its grace period, finalizers, preconditions: the resourceVersion moved on to the
 * marked pod's when one was asked for). A dry run marks nothing, and its delete writes nothing.
 */
async function markAndDelete(call: SubresourceCall, options: EvictionDeleteOptions): Promise<void> {
  const ref = podRef(call);
  const { preconditions } = options;
  let resourceVersion = preconditions.resourceVersion;
  for (let attempt = 1; !options.dryRun; attempt++) {
    const pod = await call.store.get(ref);
    const q = { group: '', resource: 'Pod' };
    const uid = str(pod.metadata?.uid);
    const version = str(pod.metadata?.resourceVersion);
    if (preconditions.uid !== '' && preconditions.uid !== uid) {
      throw conflict(q, call.name, `the UID in the precondition (${preconditions.uid}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`);
    }
    if (resourceVersion !== undefined && resourceVersion !== '' && resourceVersion !== version) {
      throw conflict(q, call.name, `the ResourceVersion in the precondition (${resourceVersion}) does not match the ResourceVersion in record (${version}). The object might have been modified`);
    }
    const status = withPodCondition(obj(pod.status), { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }, call.now());
    try {
      const marked = await call.store.update(ref, { ...pod, status });
      // The delete is conditional on what this eviction wrote, when a version was asked for.
      if (resourceVersion !== undefined) resourceVersion = str(marked.metadata?.resourceVersion);
      break;
    } catch (err) {
      if (!isConflict(err) || attempt >= ATTEMPTS) throw err;
    }
  }
  await call.store.delete(ref, {
    preconditions: { uid: preconditions.uid, resourceVersion: resourceVersion ?? '' },
    ...(options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }),
    ...(options.propagationPolicy === undefined ? {} : { propagationPolicy: options.propagationPolicy }),
    ...(options.orphanDependents === undefined ? {} : { orphanDependents: options.orphanDependents }),
    dryRun: options.dryRun,
  });
}

/** Go's %v of a []string: `[a b]`. */
function goList(values: readonly unknown[]): string {
  return `[${values.map(String).join(' ')}]`;
}

/**
 * The eviction's deleteOptions, its dryRun joined with the request's (kube's propagateDryRun:
 * either one alone decides; both, they must be the same). kube answers a mismatch 500 with
 * these words, for want of a Status; it is the client's error, so 400 here.
 */
function deleteOptionsOf(call: SubresourceCall): EvictionDeleteOptions {
  const options = obj(call.body.deleteOptions);
  const p = obj(options.preconditions);
  const own = Array.isArray(options.dryRun) ? options.dryRun : [];
  if (call.dryRun && own.length > 0 && !(own.length === 1 && own[0] === 'All')) {
    throw badRequest(`Non-matching dry-run options in request and content: ${goList(['All'])} and ${goList(own)}`);
  }
  const grace = options.gracePeriodSeconds;
  return {
    preconditions: { uid: str(p.uid), resourceVersion: typeof p.resourceVersion === 'string' ? p.resourceVersion : undefined },
    gracePeriodSeconds: typeof grace === 'number' && Number.isSafeInteger(grace) ? grace : undefined,
    propagationPolicy: typeof options.propagationPolicy === 'string' ? options.propagationPolicy : undefined,
    orphanDependents: typeof options.orphanDependents === 'boolean' ? options.orphanDependents : undefined,
    dryRun: call.dryRun || own.length > 0,
  };
}

/**
 * POST pods/{name}/eviction (kube's EvictionREST): a pod that is not running, or already being
 * deleted, is deleted at once. Otherwise the PodDisruptionBudgets of its namespace that select
 * it are asked: none, it is deleted; more than one, a Failure Status (500) says eviction does
 * not support that; one whose status is behind its spec or allows no disruption refuses with
 * 429 TooManyRequests ("Cannot evict pod as it would violate the pod's disruption budget.");
 * else one disruption is taken from it (status.disruptionsAllowed - 1, the pod in
 * status.disruptedPods) and the pod deleted. An unready pod is deleted without taking one when
 * the budget is met anyway (or says AlwaysAllow), conditional on the pod not changing meanwhile.
 * The delete honours the Eviction's deleteOptions as a DELETE of the pod does: preconditions
 * (409 in rest.BeforeDelete's words), gracePeriodSeconds (a pod bound to a node is left
 * Terminating for its grace period), propagationPolicy and orphanDependents, and dryRun (the
 * request's or its own: nothing marked, taken from a budget or deleted).
 */
async function evict(call: SubresourceCall): Promise<KubeObject> {
  checkName(call, 'Eviction');
  const options = deleteOptionsOf(call);
  const { preconditions, dryRun } = options;
  // Conflicts are tried again, unless the client pinned a version.
  let pod: KubeObject | undefined;
  for (let attempt = 1; ; attempt++) {
    pod = await call.store.get(podRef(call));
    if (!canIgnoreBudget(pod)) break;
    const pinned = shouldEnforceResourceVersion(pod) && preconditions.resourceVersion === undefined ? { ...preconditions, resourceVersion: str(pod.metadata?.resourceVersion) } : preconditions;
    try {
      await markAndDelete(call, { ...options, preconditions: pinned });
      return success();
    } catch (err) {
      if (!isConflict(err) || attempt >= ATTEMPTS || preconditions.resourceVersion !== undefined) throw err;
    }
  }
  const budgets = await budgetsOf(call.store, pod, call.namespace);
  if (budgets.length > 1) {
    return { ...success(), status: 'Failure', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', code: 500 };
  }
  let pinToPod = false;
  const budget = budgets[0];
  if (budget !== undefined) {
    const name = str(budget.metadata?.name);
    const spec = obj(budget.spec);
    const status = obj(budget.status);
    const unready = !isPodReady(pod);
    if (unready && (spec.unhealthyPodEvictionPolicy === 'AlwaysAllow' || (int(status.currentHealthy) >= int(status.desiredHealthy) && int(status.desiredHealthy) > 0))) {
      // The unready pod counts for no healthy one: deleted without taking a disruption, if it stays unready.
      pinToPod = true;
    } else {
      let current = budget;
      for (let attempt = 1; ; attempt++) {
        try {
          await takeDisruption(call, current, dryRun);
          break;
        } catch (err) {
          if (!isConflict(err)) throw err;
          if (attempt >= ATTEMPTS) throw new StatusError('Timeout', `Timeout: couldn't update PodDisruptionBudget ${JSON.stringify(name)} due to conflicts`, { retryAfterSeconds: 10 });
          current = await call.store.get({ group: 'policy', resource: 'poddisruptionbudgets', namespace: call.namespace, name });
        }
      }
    }
  }
  const pinned = pinToPod ? { ...preconditions, resourceVersion: str(pod.metadata?.resourceVersion) } : preconditions;
  try {
    await markAndDelete(call, { ...options, preconditions: pinned });
  } catch (err) {
    if (isConflict(err) && pinToPod && preconditions.resourceVersion === undefined) throw budgetBeingProcessed(str(budget?.metadata?.name));
    throw err;
  }
  return success();
}

/** pods/binding: a v1 Binding. */
export const POD_BINDING: PostSubresource = Object.freeze({
  group: '',
  version: 'v1',
  kind: 'Binding',
  schema: 'io.k8s.api.core.v1.Binding',
  create: bind,
});

/** pods/eviction: a policy/v1 Eviction (policy/v1beta1 bodies are read alike). */
export const POD_EVICTION: PostSubresource = Object.freeze({
  group: 'policy',
  version: 'v1',
  kind: 'Eviction',
  schema: 'io.k8s.api.policy.v1.Eviction',
  acceptedApiVersions: Object.freeze(['policy/v1beta1']),
  create: evict,
});

/** The POST subresources of Pods, for the Pod definition's `postSubresources`. */
export const POD_POST_SUBRESOURCES: Readonly<Record<string, PostSubresource>> = Object.freeze({ binding: POD_BINDING, eviction: POD_EVICTION });
