/**
 * The bootstrap configuration of API Priority and Fairness, as kube-apiserver's
 * (k8s.io/apiserver pkg/apis/flowcontrol/bootstrap): the mandatory objects (the `exempt` and
 * `catch-all` priority levels and flow schemas) and the suggested ones (system, node-high,
 * leader-election, workload-high, workload-low, global-default and their flow schemas, and
 * `probes`), and their reconciliation at start and at every maintenance pass, with kube's
 * `apf.kubernetes.io/autoupdate-spec` rules:
 * - a missing object is created, annotated "true";
 * - a mandatory object always has its spec restored and the annotation set to "true" (an
 *   operator's change is stomped), except the `exempt` level's nominalConcurrencyShares and
 *   lendablePercent, which the operator may set;
 * - a suggested object has its spec restored when annotated "true", or when the annotation is
 *   missing and its generation is 1 (never changed); a missing annotation is written as "true"
 *   or "false" by the same test. An object annotated "false" is left alone.
 * Writes go through the pipeline as the API server itself; lost races with another replica are
 * read and reconciled again (as the RBAC bootstrap).
 */
import { isDeepStrictEqual } from 'node:util';
import { StatusError } from '../../../../lib/errors.ts';
import type { KindRegistry } from '../../../../lib/kinds/index.ts';
import { isPlainObject, type KubeObject } from '../../../../lib/kube.ts';
import type { Logger } from '../../../../lib/log.ts';
import { APISERVER_USER, type Pipeline, type Target } from '../pipeline.ts';
import type { FlowSchemaStatusUpdate } from './controller.ts';

export const FLOWCONTROL_GROUP = 'flowcontrol.apiserver.k8s.io';
/** kube's annotation: whether the server keeps a bootstrap object's spec. */
export const AUTO_UPDATE_ANNOTATION = 'apf.kubernetes.io/autoupdate-spec';
const WRITES = { fieldManager: 'api-priority-and-fairness-config-producer-v1' } as const;
const ATTEMPTS = 5;

type Subject = { kind: 'Group'; group: { name: string } } | { kind: 'User'; user: { name: string } } | { kind: 'ServiceAccount'; serviceAccount: { namespace: string; name: string } };

const group = (...names: string[]): Subject[] => names.map((name) => ({ kind: 'Group', group: { name } }));
const user = (...names: string[]): Subject[] => names.map((name) => ({ kind: 'User', user: { name } }));
const kubeSystemServiceAccounts = (): Subject[] => [{ kind: 'ServiceAccount', serviceAccount: { namespace: 'kube-system', name: '*' } }];
/** A resource rule; clusterScope false is left out, as Go's omitempty writes it (so stored and bootstrap specs compare equal). */
const resourceRule = (verbs: string[], apiGroups: string[], resources: string[], clusterScope: boolean) => ({ verbs, apiGroups, resources, ...(clusterScope ? { clusterScope } : {}), namespaces: ['*'] });
const everyResource = () => [resourceRule(['*'], ['*'], ['*'], true)];
const everyPath = () => [{ verbs: ['*'], nonResourceURLs: ['*'] }];

function priorityLevel(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: `${FLOWCONTROL_GROUP}/v1`, kind: 'PriorityLevelConfiguration', metadata: { name, annotations: { [AUTO_UPDATE_ANNOTATION]: 'true' } }, spec };
}

function limited(shares: number, lendablePercent: number, queuing?: { queues: number; handSize: number; queueLengthLimit: number }): Record<string, unknown> {
  return {
    type: 'Limited',
    limited: {
      nominalConcurrencyShares: shares,
      lendablePercent,
      limitResponse: queuing === undefined ? { type: 'Reject' } : { type: 'Queue', queuing },
    },
  };
}

function flowSchema(name: string, level: string, matchingPrecedence: number, distinguisher: 'ByUser' | 'ByNamespace' | undefined, rules: Record<string, unknown>): KubeObject {
  return {
    apiVersion: `${FLOWCONTROL_GROUP}/v1`,
    kind: 'FlowSchema',
    metadata: { name, annotations: { [AUTO_UPDATE_ANNOTATION]: 'true' } },
    spec: {
      priorityLevelConfiguration: { name: level },
      matchingPrecedence,
      ...(distinguisher === undefined ? {} : { distinguisherMethod: { type: distinguisher } }),
      rules: [rules],
    },
  };
}

/** The bootstrap objects: mandatory and suggested, levels and schemas. */
export interface BootstrapConfiguration {
  mandatoryPriorityLevels: KubeObject[];
  mandatoryFlowSchemas: KubeObject[];
  suggestedPriorityLevels: KubeObject[];
  suggestedFlowSchemas: KubeObject[];
}

/** A fresh copy of kube's bootstrap configuration (callers may change what they get). */
export function bootstrapConfiguration(): BootstrapConfiguration {
  const queues = (q: number, handSize: number) => ({ queues: q, handSize, queueLengthLimit: 50 });
  return {
    mandatoryPriorityLevels: [
      priorityLevel('catch-all', limited(5, 0)),
      priorityLevel('exempt', { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } }),
    ],
    mandatoryFlowSchemas: [
      flowSchema('exempt', 'exempt', 1, undefined, { subjects: group('system:masters'), resourceRules: everyResource(), nonResourceRules: everyPath() }),
      flowSchema('catch-all', 'catch-all', 10000, 'ByUser', {
        subjects: group('system:unauthenticated', 'system:authenticated'),
        resourceRules: everyResource(),
        nonResourceRules: everyPath(),
      }),
    ],
    suggestedPriorityLevels: [
      priorityLevel('system', limited(30, 33, queues(64, 6))),
      priorityLevel('node-high', limited(40, 25, queues(64, 6))),
      priorityLevel('leader-election', limited(10, 0, queues(16, 4))),
      priorityLevel('workload-high', limited(40, 50, queues(128, 6))),
      priorityLevel('workload-low', limited(100, 90, queues(128, 6))),
      priorityLevel('global-default', limited(20, 50, queues(128, 6))),
    ],
    suggestedFlowSchemas: [
      flowSchema('system-nodes', 'system', 500, 'ByUser', { subjects: group('system:nodes'), resourceRules: everyResource(), nonResourceRules: everyPath() }),
      flowSchema('system-node-high', 'node-high', 400, 'ByUser', {
        subjects: group('system:nodes'),
        resourceRules: [resourceRule(['*'], [''], ['nodes', 'nodes/status'], true), resourceRule(['*'], ['coordination.k8s.io'], ['leases'], false)],
      }),
      flowSchema('probes', 'exempt', 2, undefined, {
        subjects: group('system:unauthenticated', 'system:authenticated'),
        nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/readyz', '/livez'] }],
      }),
      flowSchema('system-leader-election', 'leader-election', 100, 'ByUser', {
        subjects: [...user('system:kube-controller-manager', 'system:kube-scheduler'), ...kubeSystemServiceAccounts()],
        resourceRules: [resourceRule(['get', 'create', 'update'], ['coordination.k8s.io'], ['leases'], false)],
      }),
      flowSchema('kube-controller-manager', 'workload-high', 800, 'ByNamespace', {
        subjects: user('system:kube-controller-manager'),
        resourceRules: everyResource(),
        nonResourceRules: everyPath(),
      }),
      flowSchema('kube-scheduler', 'workload-high', 800, 'ByNamespace', { subjects: user('system:kube-scheduler'), resourceRules: everyResource(), nonResourceRules: everyPath() }),
      flowSchema('kube-system-service-accounts', 'workload-high', 900, 'ByNamespace', {
        subjects: kubeSystemServiceAccounts(),
        resourceRules: everyResource(),
        nonResourceRules: everyPath(),
      }),
      flowSchema('service-accounts', 'workload-low', 9000, 'ByUser', {
        subjects: group('system:serviceaccounts'),
        resourceRules: everyResource(),
        nonResourceRules: everyPath(),
      }),
      flowSchema('global-default', 'global-default', 9900, 'ByUser', {
        subjects: group('system:unauthenticated', 'system:authenticated'),
        resourceRules: everyResource(),
        nonResourceRules: everyPath(),
      }),
    ],
  };
}

function annotationsOf(object: KubeObject): Record<string, string> {
  const annotations = object.metadata?.annotations;
  return isPlainObject(annotations) ? (annotations as Record<string, string>) : {};
}

/** strconv.ParseBool's true and false spellings; undefined for anything else. */
function parseBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/**
 * What the stored object should become (undefined: leave it), by kube's autoupdate rules.
 * `mandatory` objects are always kept; the exempt level keeps the operator's shares and
 * lendablePercent.
 */
export function reconciledObject(existing: KubeObject, expected: KubeObject, mandatory: boolean): KubeObject | undefined {
  const annotations = annotationsOf(existing);
  const flag = parseBool(annotations[AUTO_UPDATE_ANNOTATION]);
  let autoUpdate: boolean;
  if (mandatory) autoUpdate = true;
  else if (flag !== undefined) autoUpdate = flag;
  else autoUpdate = Number(existing.metadata?.generation ?? 1) === 1;
  let spec = expected.spec as Record<string, unknown>;
  if (mandatory && existing.kind === 'PriorityLevelConfiguration' && existing.metadata?.name === 'exempt') {
    const stored = isPlainObject(existing.spec) && isPlainObject(existing.spec.exempt) ? existing.spec.exempt : {};
    const exempt = { ...(spec.exempt as Record<string, unknown>) };
    for (const key of ['nominalConcurrencyShares', 'lendablePercent']) if (stored[key] !== undefined) exempt[key] = stored[key];
    spec = { ...spec, exempt };
  }
  const wantedAnnotation = String(autoUpdate);
  const specChanged = autoUpdate && !isDeepStrictEqual(existing.spec, spec);
  const annotationChanged = annotations[AUTO_UPDATE_ANNOTATION] !== wantedAnnotation;
  if (!specChanged && !annotationChanged) return undefined;
  return {
    ...existing,
    metadata: { ...existing.metadata, annotations: { ...annotations, [AUTO_UPDATE_ANNOTATION]: wantedAnnotation } },
    ...(autoUpdate ? { spec } : {}),
  };
}

function isReason(err: unknown, reason: string): boolean {
  return err instanceof StatusError && err.reason === reason;
}

/** What one reconciliation did. */
export interface FlowControlBootstrapReport {
  created: string[];
  updated: string[];
}

/**
 * Reconciles every bootstrap object (levels first, so that no schema is dangling for long);
 * rejects on the first failure that is no lost race.
 */
export async function reconcileFlowControlBootstrap(pipeline: Pipeline, registry: KindRegistry, signal?: AbortSignal): Promise<FlowControlBootstrapReport> {
  const config = bootstrapConfiguration();
  const report: FlowControlBootstrapReport = { created: [], updated: [] };
  const groups: [string, KubeObject[], boolean][] = [
    ['prioritylevelconfigurations', config.mandatoryPriorityLevels, true],
    ['prioritylevelconfigurations', config.suggestedPriorityLevels, false],
    ['flowschemas', config.mandatoryFlowSchemas, true],
    ['flowschemas', config.suggestedFlowSchemas, false],
  ];
  for (const [resource, objects, mandatory] of groups) {
    const info = registry.get(FLOWCONTROL_GROUP, 'v1', resource);
    if (info === undefined) continue;
    for (const expected of objects) {
      const target: Target = { info, namespace: '', name: String(expected.metadata?.name ?? '') };
      const outcome = await reconcileOne(pipeline, target, expected, mandatory, signal);
      if (outcome !== 'unchanged') report[outcome].push(`${resource}/${target.name}`);
    }
  }
  return report;
}

async function reconcileOne(pipeline: Pipeline, target: Target, expected: KubeObject, mandatory: boolean, signal?: AbortSignal): Promise<'created' | 'updated' | 'unchanged'> {
  for (let attempt = 1; ; attempt++) {
    try {
      let existing: KubeObject | undefined;
      try {
        existing = await pipeline.get(APISERVER_USER, target, {}, signal);
      } catch (err) {
        if (!isReason(err, 'NotFound')) throw err;
      }
      if (existing === undefined) {
        await pipeline.create(APISERVER_USER, { ...target, name: '' }, structuredClone(expected), WRITES, signal);
        return 'created';
      }
      const wanted = reconciledObject(existing, expected, mandatory);
      if (wanted === undefined) return 'unchanged';
      await pipeline.update(APISERVER_USER, target, wanted, WRITES, signal);
      return 'updated';
    } catch (err) {
      const raced = isReason(err, 'Conflict') || isReason(err, 'AlreadyExists') || isReason(err, 'NotFound');
      if (!raced || attempt >= ATTEMPTS) throw err;
    }
  }
}

/**
 * {@link reconcileFlowControlBootstrap} at start, retried while the services behind the pipeline
 * come up (every 500 ms, `attempts` times), until `signal` aborts.
 */
export async function bootstrapFlowControl(pipeline: Pipeline, registry: KindRegistry, logger: Logger, signal?: AbortSignal, attempts = 120): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const report = await reconcileFlowControlBootstrap(pipeline, registry, signal);
      if (report.created.length > 0 || report.updated.length > 0) logger.info('flow-control bootstrap configuration reconciled', { created: report.created.length, updated: report.updated });
      return;
    } catch (err) {
      if (attempt >= attempts || signal?.aborted === true) throw err;
      logger.warn('reconciling the flow-control bootstrap configuration failed; retrying', { error: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Writes FlowSchemas' Dangling conditions (kube's APF controller applies them as
 * "api-priority-and-fairness-config-consumer-v1"): each the stored object as last seen with
 * the condition set (its transition time now), guarded by its resourceVersion. A schema
 * changed or deleted meanwhile is left to the next round (its event brings it back).
 */
export async function writeDanglingConditions(pipeline: Pipeline, registry: KindRegistry, updates: FlowSchemaStatusUpdate[], now: () => Date = () => new Date()): Promise<void> {
  const info = registry.get(FLOWCONTROL_GROUP, 'v1', 'flowschemas');
  if (info === undefined) return;
  for (const { flowSchema, condition } of updates) {
    const status = isPlainObject(flowSchema.status) ? flowSchema.status : {};
    const others = (Array.isArray(status.conditions) ? status.conditions : []).filter((c: unknown) => !(isPlainObject(c) && c.type === 'Dangling'));
    const object = { ...flowSchema, status: { ...status, conditions: [...others, { ...condition, lastTransitionTime: now().toISOString().replace(/\.\d+Z$/, 'Z') }] } };
    try {
      await pipeline.update(APISERVER_USER, { info, namespace: '', name: String(flowSchema.metadata?.name ?? ''), subresource: 'status' }, object, { fieldManager: 'api-priority-and-fairness-config-consumer-v1' });
    } catch (err) {
      if (!isReason(err, 'Conflict') && !isReason(err, 'NotFound')) throw err;
    }
  }
}
