/**
 * Pod (core/v1, namespaced): kube's SetObjectDefaults_Pod (SetDefaults_Pod and the PodSpec's),
 * podStrategy's PrepareForCreate (status Pending with the QoS class kube computes, the
 * SchedulingGated condition), ValidatePodCreate and ValidatePodUpdate (most of the spec is
 * immutable after create), the status strategy's kind-specific parts, the pod field label
 * conversion, and printPod's columns and STATUS reasoning.
 *
 * The binding and eviction subresources are listed here and served by the gateway's generic
 * POST subresources; ephemeralcontainers, resize, log, exec, attach, portforward and proxy are
 * not served, so not listed.
 */
import { isDeepStrictEqual } from 'node:util';
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import type { GoField, GoStruct } from '../../../object-meta.ts';
import { goField, goStruct } from '../../../object-meta.ts';
import { metadataString } from '../../../selectors.ts';
import { isDNS1123Subdomain } from '../../../validation/names.ts';
import { age, AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { parseRFC3339 } from '../../../go-time.ts';
import { STANDARD_VERBS } from '../common.ts';
import { POD_POST_SUBRESOURCES } from '../pod-subresources.ts';
import { FIELD_IMMUTABLE_ERROR_MSG, forbidden, inclusiveRange, invalid, isSet, list, num, obj, objectAt, required, str } from './fields.ts';
import { defaultPodSpecOfPod, podQOSClass, validatePodOnlyContainers, validatePodSpec } from './pod-spec.ts';

/** SetObjectDefaults_Pod. In place; never throws. */
function defaults(object: KubeObject): KubeObject {
  defaultPodSpecOfPod(object.spec);
  return object;
}

/**
 * podStrategy.PrepareForCreate: the status is replaced by phase Pending and the pod's QoS
 * class; a pod with scheduling gates gets the PodScheduled=False condition kube gives it.
 */
function prepareForCreate(object: KubeObject): KubeObject {
  const status: Record<string, unknown> = { phase: 'Pending', qosClass: podQOSClass(object.spec) };
  if (list(obj(object.spec)['schedulingGates']).length > 0) {
    status['conditions'] = [
      { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: null, reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' },
    ];
  }
  return { ...object, status };
}

/** ValidatePodSpecificAnnotations: the pod deletion cost, when given, is a 32-bit integer. */
function validatePodAnnotations(object: KubeObject): FieldError[] {
  const annotations = obj(object.metadata?.annotations);
  const errors: FieldError[] = [];
  const mirror = annotations['kubernetes.io/config.mirror'];
  if (typeof mirror === 'string' && str(obj(object.spec)['nodeName']) === '') {
    errors.push(invalid('metadata.annotations[kubernetes.io/config.mirror]', mirror, 'must set spec.nodeName if mirror pod annotation is set'));
  }
  const cost = annotations['controller.kubernetes.io/pod-deletion-cost'];
  if (typeof cost === 'string') {
    const n = /^[+-]?[0-9]+$/.test(cost) ? Number(cost) : Number.NaN;
    if (!Number.isInteger(n) || n < -(2 ** 31) || n > 2 ** 31 - 1) {
      errors.push(invalid('metadata.annotations[controller.kubernetes.io/pod-deletion-cost]', cost, 'must be a 32bit integer'));
    }
  }
  return errors;
}

/** validatePodMetadataAndSpec beyond ObjectMeta (which admission checks for every kind). */
function validateMetadataAndSpec(object: KubeObject): FieldError[] {
  const spec = obj(object.spec);
  const errors = validatePodAnnotations(object);
  errors.push(...validatePodSpec(spec, 'spec', { resourceIsPod: true, podName: metadataString(object, 'name') }));
  if (str(spec['serviceAccountName']) === '') {
    list(spec['volumes']).forEach((volume, v) => {
      list(obj(obj(volume)['projected'])['sources']).forEach((source, s) => {
        if (isSet(obj(source)['serviceAccountToken'])) {
          errors.push(forbidden(`spec.volumes[${v}].projected.sources[${s}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'));
        }
      });
    });
  }
  errors.push(...validatePodOnlyContainers(spec, 'spec'));
  return errors;
}

/** ValidatePodCreate. */
function validateCreate(object: KubeObject): FieldError[] {
  const spec = obj(object.spec);
  const errors = validateMetadataAndSpec(object);
  if (list(spec['ephemeralContainers']).length > 0) errors.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  if (str(spec['nodeName']) !== '' && list(spec['schedulingGates']).length > 0) {
    errors.push(forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  }
  return errors;
}

/** The fields ValidatePodUpdate lets an update change, as its message lists them. */
const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
].join(',');

/** ValidateContainerUpdates: the same number of containers, each with an image. */
function containerUpdates(next: unknown, old: unknown, path: string): { errors: FieldError[]; stop: boolean } {
  const containers = list(next);
  if (containers.length !== list(old).length) return { errors: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errors: FieldError[] = [];
  containers.forEach((c, i) => {
    const image = str(obj(c)['image']);
    if (image === '') errors.push(required(`${path}[${i}].image`));
    if (image.trim() !== image) errors.push(invalid(`${path}[${i}].image`, image, 'must not have leading or trailing whitespace'));
  });
  return { errors, stop: false };
}

/**
 * The changed leaves of two JSON values, as "-" / "+" lines: kube prints go-cmp's diff of the
 * two PodSpecs here, a format go-cmp itself keeps unstable; this one names the same changes.
 */
function specDiff(old: unknown, next: unknown, path = 'spec'): string[] {
  if (isDeepStrictEqual(old, next)) return [];
  if (isPlainObject(old) && isPlainObject(next)) {
    const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
    return keys.flatMap((k) => specDiff(old[k], next[k], `${path}.${k}`));
  }
  if (Array.isArray(old) && Array.isArray(next) && old.length === next.length) {
    return old.flatMap((item, i) => specDiff(item, next[i], `${path}[${i}]`));
  }
  const lines: string[] = [];
  if (old !== undefined) lines.push(`- ${path}: ${JSON.stringify(old)}`);
  if (next !== undefined) lines.push(`+ ${path}: ${JSON.stringify(next)}`);
  return lines;
}

/** validateOnlyAddedTolerations: existing tolerations stay (their tolerationSeconds may change). */
function onlyAddedTolerations(next: unknown[], old: unknown[]): FieldError[] {
  for (const o of old) {
    const found = next.some((n) => {
      const { tolerationSeconds: _a, ...left } = obj(o);
      const { tolerationSeconds: _b, ...right } = obj(n);
      return isDeepStrictEqual(left, right);
    });
    if (!found) return [forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return [];
}

/** ValidatePodUpdate (the gated pods' node selector and affinity additions aside). */
function validateUpdate(object: KubeObject, old: KubeObject): FieldError[] {
  const spec = obj(object.spec);
  const oldSpec = obj(old.spec);
  const errors = validateMetadataAndSpec(object);
  const oldAnnotations = obj(old.metadata?.annotations);
  const annotations = obj(object.metadata?.annotations);
  const mirror = 'kubernetes.io/config.mirror';
  if (Object.hasOwn(oldAnnotations, mirror) && annotations[mirror] !== oldAnnotations[mirror]) {
    errors.push(forbidden(`metadata.annotations[${mirror}]`, 'may not remove or update mirror pod annotation'));
  } else if (!Object.hasOwn(oldAnnotations, mirror) && Object.hasOwn(annotations, mirror)) {
    errors.push(forbidden(`metadata.annotations[${mirror}]`, 'may not add mirror pod annotation'));
  }
  // ValidatePodSpecificAnnotationUpdates checks the annotations once more.
  errors.push(...validatePodAnnotations(object));
  for (const field of ['containers', 'initContainers']) {
    const result = containerUpdates(spec[field], oldSpec[field], `spec.${field}`);
    errors.push(...result.errors);
    if (result.stop) return errors;
  }
  const deadline = spec['activeDeadlineSeconds'];
  const oldDeadline = oldSpec['activeDeadlineSeconds'];
  if (typeof deadline === 'number') {
    if (deadline < 0 || deadline > 2147483647) {
      errors.push(invalid('spec.activeDeadlineSeconds', deadline, inclusiveRange(0, 2147483647)));
      return errors;
    }
    if (typeof oldDeadline === 'number' && oldDeadline < deadline) {
      errors.push(invalid('spec.activeDeadlineSeconds', deadline, 'must be less than or equal to previous value'));
      return errors;
    }
  } else if (typeof oldDeadline === 'number') {
    errors.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  errors.push(...onlyAddedTolerations(list(spec['tolerations']), list(oldSpec['tolerations'])));
  const oldGates = new Set(list(oldSpec['schedulingGates']).map((g) => str(obj(g)['name'])));
  list(spec['schedulingGates']).forEach((g, i) => {
    const name = str(obj(g)['name']);
    if (!oldGates.has(name)) errors.push(forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${name}'`));
  });
  if (isDeepStrictEqual(spec, oldSpec)) return errors;
  // The updatable fields take their old values; anything else that differs is refused.
  const munged: Record<string, unknown> = structuredClone(spec);
  for (const field of ['containers', 'initContainers']) {
    const oldContainers = list(oldSpec[field]);
    if (Array.isArray(munged[field])) {
      munged[field] = (munged[field] as unknown[]).map((c, i) => (isPlainObject(c) ? { ...c, image: obj(oldContainers[i])['image'] } : c));
    }
  }
  for (const field of ['activeDeadlineSeconds', 'schedulingGates', 'tolerations']) {
    if (oldSpec[field] === undefined) delete munged[field];
    else munged[field] = oldSpec[field];
  }
  const oldGrace = oldSpec['terminationGracePeriodSeconds'];
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged['terminationGracePeriodSeconds'] === 1) munged['terminationGracePeriodSeconds'] = oldGrace;
  // Go compares nil and empty alike for the munged lists.
  for (const field of ['schedulingGates', 'tolerations']) if (Array.isArray(munged[field]) && (munged[field] as unknown[]).length === 0 && oldSpec[field] === undefined) delete munged[field];
  if (!isDeepStrictEqual(munged, oldSpec)) {
    errors.push(forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS}\n${specDiff(oldSpec, munged).join('\n')}`));
  }
  return errors;
}

/** podStrategy.Validate / ValidateUpdate. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  return old === undefined ? validateCreate(object) : validateUpdate(object, old);
}

/**
 * podStatusStrategy.PrepareForUpdate beyond what every status write does: the QoS class, set
 * at creation, is kept when a write leaves it out, and so are observedGeneration values; the
 * owner references stay as stored.
 */
function prepareStatusUpdate(object: KubeObject, old: KubeObject): KubeObject {
  const status: Record<string, unknown> = { ...obj(object.status) };
  const oldStatus = obj(old.status);
  if (str(status['qosClass']) === '' && isSet(oldStatus['qosClass'])) status['qosClass'] = oldStatus['qosClass'];
  if (num(status['observedGeneration']) === 0 && isSet(oldStatus['observedGeneration'])) status['observedGeneration'] = oldStatus['observedGeneration'];
  const oldGenerations = new Map<unknown, unknown[]>();
  for (const c of list(oldStatus['conditions'])) {
    const type = obj(c)['type'];
    oldGenerations.set(type, [...(oldGenerations.get(type) ?? []), obj(c)['observedGeneration']]);
  }
  if (Array.isArray(status['conditions'])) {
    status['conditions'] = status['conditions'].map((c) => {
      if (!isPlainObject(c)) return c;
      const queue = oldGenerations.get(c['type']) ?? [];
      const previous = queue.shift();
      return num(c['observedGeneration']) === 0 && isSet(previous) && previous !== 0 ? { ...c, observedGeneration: previous } : c;
    });
  }
  // Old kubelets corrupt owner references through pods/status: kube keeps the stored ones.
  const metadata = { ...(object.metadata ?? {}) };
  if (old.metadata?.ownerReferences === undefined) delete metadata.ownerReferences;
  else metadata.ownerReferences = old.metadata.ownerReferences;
  return { ...object, metadata, status };
}

/** The checks of ValidatePodStatusUpdate manifests and clients hit. */
function validateStatusUpdate(object: KubeObject, old: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const status = obj(object.status);
  const oldStatus = obj(old.status);
  if (str(obj(object.spec)['nodeName']) !== str(obj(old.spec)['nodeName'])) errors.push(forbidden('status.nodeName', 'may not be changed directly'));
  const nominated = str(status['nominatedNodeName']);
  if (nominated !== str(oldStatus['nominatedNodeName']) && nominated !== '') {
    for (const msg of isDNS1123Subdomain(nominated)) errors.push(invalid('status.nominatedNodeName', nominated, msg));
  }
  if (str(status['qosClass']) !== str(oldStatus['qosClass'])) errors.push(invalid('status.qosClass', str(status['qosClass']), FIELD_IMMUTABLE_ERROR_MSG));
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

const POD_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'string', 'The aggregate status of the containers in this pod.'),
  column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  AGE_COLUMN,
  column('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
  column(
    'Node',
    'string',
    'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
    1,
  ),
  column(
    'Nominated Node',
    'string',
    'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
    1,
  ),
  column(
    'Readiness Gates',
    'string',
    'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
    1,
  ),
]);

/** A time in milliseconds (with its sub-millisecond fraction), or undefined when absent, invalid or zero. */
function instant(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseRFC3339(value);
  return 'error' in parsed || parsed.zero ? undefined : parsed.ms + parsed.fraction;
}

/** A restart time: the text kube shows the age of, and its instant. */
interface RestartTime {
  text: string;
  at: number;
}

/** The later of `latest` and the container's last termination (lastState.terminated.finishedAt). */
function laterRestart(latest: RestartTime | undefined, container: Record<string, unknown>): RestartTime | undefined {
  const terminated = objectAt(obj(container['lastState'])['terminated']);
  const at = instant(terminated?.['finishedAt']);
  if (terminated === undefined || at === undefined || (latest !== undefined && at <= latest.at)) return latest;
  return { text: str(terminated['finishedAt']), at };
}

/** The terminated state's reason for STATUS: its reason, else the signal or exit code. */
function terminatedReason(terminated: Record<string, unknown>, prefix: string): string {
  if (str(terminated['reason']) !== '') return `${prefix}${str(terminated['reason'])}`;
  const signal = num(terminated['signal']);
  return signal !== 0 ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${num(terminated['exitCode'])}`;
}

/** isPodInitializedConditionTrue: the first condition of `type` is True. */
function firstConditionTrue(status: Record<string, unknown>, type: string): boolean {
  const condition = list(status['conditions']).map(obj).find((c) => c['type'] === type);
  return condition?.['status'] === 'True';
}

/** hasPodReadyCondition: a condition of `type` is True. */
function conditionTrue(status: Record<string, unknown>, type: string): boolean {
  return list(status['conditions']).some((c) => obj(c)['type'] === type && obj(c)['status'] === 'True');
}

/** printPod with Wide set: READY, STATUS (kube's reasoning), RESTARTS, and the wide columns. */
function podCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = obj(object['spec']);
  const status = obj(object['status']);
  const metadata = obj(object['metadata']);
  const initContainers = list(spec['initContainers']).map(obj);
  const restartable = new Set(initContainers.filter((c) => c['restartPolicy'] === 'Always').map((c) => str(c['name'])));
  const totalContainers = list(spec['containers']).length + initContainers.filter((c) => c['restartPolicy'] === 'Always').length;
  let readyContainers = 0;
  const phase = str(status['phase']);
  let reason = str(status['reason']) !== '' ? str(status['reason']) : phase;
  for (const condition of list(status['conditions'])) {
    if (obj(condition)['type'] === 'PodScheduled' && obj(condition)['reason'] === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initStatuses = list(status['initContainerStatuses']).map(obj);
  let restarts = 0;
  let restartableRestarts = 0;
  let lastRestart: RestartTime | undefined;
  let lastRestartableRestart: RestartTime | undefined;
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i] ?? {};
    const isRestartable = restartable.has(str(container['name']));
    restarts += num(container['restartCount']);
    lastRestart = laterRestart(lastRestart, container);
    if (isRestartable) {
      restartableRestarts += num(container['restartCount']);
      lastRestartableRestart = laterRestart(lastRestartableRestart, container);
    }
    const state = obj(container['state']);
    const terminated = objectAt(state['terminated']);
    const waiting = objectAt(state['waiting']);
    if (terminated !== undefined && num(terminated['exitCode']) === 0) continue;
    if (isRestartable && container['started'] === true) {
      if (container['ready'] === true) readyContainers++;
      continue;
    }
    if (terminated !== undefined) reason = terminatedReason(terminated, 'Init:');
    else if (waiting !== undefined && str(waiting['reason']) !== '' && waiting['reason'] !== 'PodInitializing') reason = `Init:${str(waiting['reason'])}`;
    else reason = `Init:${i}/${initContainers.length}`;
    initializing = true;
    break;
  }

  if (!initializing || firstConditionTrue(status, 'Initialized')) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const statuses = list(status['containerStatuses']).map(obj);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i] ?? {};
      restarts += num(container['restartCount']);
      lastRestart = laterRestart(lastRestart, container);
      const state = obj(container['state']);
      const waiting = objectAt(state['waiting']);
      const terminated = objectAt(state['terminated']);
      if (waiting !== undefined && str(waiting['reason']) !== '') reason = str(waiting['reason']);
      else if (terminated !== undefined) reason = terminatedReason(terminated, '');
      else if (container['ready'] === true && isSet(state['running'])) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = isSet(metadata['deletionTimestamp']);
  if (deleting && status['reason'] === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Failed' && phase !== 'Succeeded') reason = 'Terminating';

  const restartsText = restarts !== 0 && lastRestart !== undefined ? `${restarts} (${age(lastRestart.text, now)} ago)` : String(restarts);
  const podIP = str(obj(list(status['podIPs'])[0])['ip']);
  const readinessGates = list(spec['readinessGates']);
  let gates = '<none>';
  if (readinessGates.length > 0) {
    let trueConditions = 0;
    for (const gate of readinessGates) {
      const type = obj(gate)['conditionType'];
      const condition = list(status['conditions']).map(obj).find((c) => c['type'] === type);
      if (condition?.['status'] === 'True') trueConditions++;
    }
    gates = `${trueConditions}/${readinessGates.length}`;
  }
  return [
    nameOf(object),
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsText,
    ageOf(object, now),
    podIP === '' ? '<none>' : podIP,
    str(spec['nodeName']) === '' ? '<none>' : str(spec['nodeName']),
    str(status['nominatedNodeName']) === '' ? '<none>' : str(status['nominatedNodeName']),
    gates,
  ];
}

// ---------------------------------------------------------------------------------------------
// The kind
// ---------------------------------------------------------------------------------------------

const STRING_FIELD: GoField = goField.string();
const POD_IP: GoStruct = goStruct('PodIP', 'v1.PodIP', { ip: STRING_FIELD });

/** The Pod fields its selectable fields read, as kube's typed decoding sees them. */
const POD_SHAPE = goStruct('Pod', 'v1.Pod', {
  spec: goField.struct(
    goStruct('PodSpec', 'v1.PodSpec', {
      nodeName: STRING_FIELD,
      restartPolicy: goField.string('v1.RestartPolicy'),
      schedulerName: STRING_FIELD,
      serviceAccountName: STRING_FIELD,
      hostNetwork: goField.bool(),
    }),
  ),
  status: goField.struct(
    goStruct('PodStatus', 'v1.PodStatus', {
      phase: goField.string('v1.PodPhase'),
      podIPs: { type: { kind: 'slice', name: '[]v1.PodIP', element: POD_IP }, omitEmpty: true, pointer: false },
      nominatedNodeName: STRING_FIELD,
    }),
  ),
});

/** ToSelectableFields: what a pod can be selected by (status.podIPs is accepted but holds nothing). */
function podFields(object: KubeObject): Record<string, string> {
  const spec = obj(object.spec);
  const status = obj(object.status);
  const nodeName = str(spec['nodeName']);
  return {
    'metadata.name': metadataString(object, 'name'),
    'metadata.namespace': metadataString(object, 'namespace'),
    'spec.nodeName': nodeName,
    'spec.restartPolicy': str(spec['restartPolicy']),
    'spec.schedulerName': str(spec['schedulerName']),
    'spec.serviceAccountName': str(spec['serviceAccountName']),
    'spec.hostNetwork': String(spec['hostNetwork'] === true),
    'status.phase': str(status['phase']),
    'status.podIP': str(obj(list(status['podIPs'])[0])['ip']),
    'status.nominatedNodeName': str(status['nominatedNodeName']),
    // Old clients' name for spec.nodeName, which kube's conversion maps.
    'spec.host': nodeName,
  };
}

/**
 * The grace period of a pod's delete (kube's pod strategy CheckGracefulDelete): the one asked
 * for, else spec.terminationGracePeriodSeconds, else 0; 0 for a pod not scheduled to a node or
 * already finished (Succeeded, Failed), which nothing has to stop.
 */
export function podGracePeriodSeconds(pod: KubeObject, requested: number | undefined): number {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const fromSpec = spec['terminationGracePeriodSeconds'];
  let period = requested ?? (typeof fromSpec === 'number' && Number.isSafeInteger(fromSpec) ? fromSpec : 0);
  const nodeName = spec['nodeName'];
  if (typeof nodeName !== 'string' || nodeName === '') period = 0;
  if (status['phase'] === 'Succeeded' || status['phase'] === 'Failed') period = 0;
  return period;
}

export const POD: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'pods',
  singular: 'pod',
  kind: 'Pod',
  listKind: 'PodList',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['binding', 'eviction', 'status'],
  nameValidation: 'dns1123Subdomain',
  // kube's pod field label conversion.
  selectableFields: {
    supported: [
      'metadata.name',
      'metadata.namespace',
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.podIPs',
      'status.nominatedNodeName',
      'spec.host',
    ],
    values: podFields,
    shape: POD_SHAPE,
  },
  strategy: { defaults, prepareForCreate, validate, generation: 'spec' },
  statusStrategy: { prepareForUpdate: prepareStatusUpdate, validate: validateStatusUpdate },
  postSubresources: POD_POST_SUBRESOURCES,
  printer: { columns: POD_COLUMNS, cells: podCells },
  schema: 'io.k8s.api.core.v1.Pod',
  deletion: { gracePeriodSeconds: podGracePeriodSeconds, returnDeletedObject: true },
};
