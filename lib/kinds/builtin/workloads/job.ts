/**
 * Job (batch/v1, namespaced): kube's SetDefaults_Job and the pod template's defaults, the
 * selector and template labels its strategy generates on create, ValidateJob and
 * ValidateJobUpdate (template restartPolicy OnFailure or Never, selector matching the
 * template, spec.template and the other fields immutable), the status subresource, and
 * printJob's columns.
 *
 * Left out of validation: the rules of podFailurePolicy and successPolicy entries, elastic
 * indexed jobs' completions changes, and most of the status rules that only a controller hits.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import type { GoField } from '../../../object-meta.ts';
import { goStruct } from '../../../object-meta.ts';
import { metadataString } from '../../../selectors.ts';
import { isDNS1123Label } from '../../../validation/names.ts';
import { age, AGE_COLUMN, ageOf, column, humanDuration, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { parseRFC3339 } from '../../../go-time.ts';
import { STANDARD_VERBS } from '../common.ts';
import {
  child,
  duplicate,
  FIELD_IMMUTABLE_ERROR_MSG,
  invalid,
  isSet,
  list,
  nonNegative,
  notSupported,
  num,
  obj,
  objectAt,
  required,
  str,
  stringMap,
} from './fields.ts';
import { formatLabelSelector, labelSelectorMatches, validateLabelSelector } from '../../../label-selector.ts';
import { containerCells, defaultPodTemplateSpec, validatePodTemplateSpec } from './pod-spec.ts';
import { isDeepStrictEqual } from 'node:util';

/** The labels kube's job strategy puts on the pod template (and selects by). */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';

const MAX_INT32 = 2147483647;

/** SetDefaults_PodFailurePolicyOnPodConditionsPattern: a pattern's status defaults to True. */
function defaultPodFailurePolicy(policy: unknown): void {
  for (const rule of list(obj(policy)['rules'])) {
    for (const pattern of list(obj(rule)['onPodConditions'])) {
      if (isPlainObject(pattern) && (pattern['status'] === undefined || pattern['status'] === null || pattern['status'] === '')) pattern['status'] = 'True';
    }
  }
}

/**
 * The defaults every JobSpec gets, in a Job or a CronJob's job template: the pod template's,
 * and the pod failure policy's pattern status.
 */
export function defaultJobSpecParts(spec: Record<string, unknown>): void {
  defaultPodTemplateSpec(spec['template']);
  defaultPodFailurePolicy(spec['podFailurePolicy']);
}

/**
 * SetDefaults_Job: completions and parallelism 1 when both are unset (parallelism 1 when only
 * it is), backoffLimit 6 (MaxInt32 with a per-index limit), the template's labels on a Job
 * without labels, completionMode NonIndexed, suspend false, podReplacementPolicy (Failed with
 * a pod failure policy, else TerminatingOrFailed), manualSelector false; then the template's
 * defaults. In place; never throws.
 */
function defaults(object: KubeObject): KubeObject {
  const spec = objectAt(object.spec);
  if (spec === undefined) return object;
  const unset = (field: string): boolean => spec[field] === undefined || spec[field] === null;
  if (unset('completions') && unset('parallelism')) {
    spec['completions'] = 1;
    spec['parallelism'] = 1;
  }
  if (unset('parallelism')) spec['parallelism'] = 1;
  if (unset('backoffLimit')) spec['backoffLimit'] = isSet(spec['backoffLimitPerIndex']) ? MAX_INT32 : 6;
  const templateLabels = obj(spec['template'])['metadata'];
  const labels = isPlainObject(templateLabels) ? templateLabels['labels'] : undefined;
  if (isPlainObject(labels) && isPlainObject(object.metadata) && Object.keys(obj(object.metadata.labels)).length === 0) {
    object.metadata.labels = { ...stringMap(labels) };
  }
  if (unset('completionMode')) spec['completionMode'] = 'NonIndexed';
  if (unset('suspend')) spec['suspend'] = false;
  if (unset('podReplacementPolicy')) spec['podReplacementPolicy'] = isSet(spec['podFailurePolicy']) ? 'Failed' : 'TerminatingOrFailed';
  if (unset('manualSelector')) spec['manualSelector'] = false;
  defaultJobSpecParts(spec);
  return object;
}

/**
 * generateSelector (unless manualSelector): the pod template gets the job-name and
 * controller-uid labels (legacy and batch.kubernetes.io/ ones) where not set, and the selector
 * matches batch.kubernetes.io/controller-uid.
 */
function generateSelector(object: KubeObject): void {
  const spec = objectAt(object.spec);
  if (spec === undefined || spec['manualSelector'] === true) return;
  const name = metadataString(object, 'name');
  const uid = metadataString(object, 'uid');
  const template = isPlainObject(spec['template']) ? spec['template'] : (spec['template'] = {});
  const metadata = isPlainObject(template['metadata']) ? template['metadata'] : (template['metadata'] = {});
  const labels = isPlainObject(metadata['labels']) ? metadata['labels'] : (metadata['labels'] = {});
  for (const label of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(label in labels)) labels[label] = name;
  for (const label of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(label in labels)) labels[label] = uid;
  const selector = isPlainObject(spec['selector']) ? spec['selector'] : (spec['selector'] = {});
  const matchLabels = isPlainObject(selector['matchLabels']) ? selector['matchLabels'] : (selector['matchLabels'] = {});
  if (!(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid;
}

/** jobStrategy.PrepareForCreate: the generated selector, and an empty status. */
function prepareForCreate(object: KubeObject): KubeObject {
  const next: KubeObject = structuredClone(object);
  generateSelector(next);
  next.status = {};
  return next;
}

/** ValidateHasLabel. */
function hasLabel(labels: Record<string, string>, path: string, k: string, expected: string): FieldError[] {
  if (!Object.hasOwn(labels, k)) return [required(`${child(path, 'labels')}[${k}]`, `must be '${expected}'`)];
  if (labels[k] !== expected) return [invalid(`${child(path, 'labels')}[${k}]`, labels, `must be '${expected}'`)];
  return [];
}

/** validateGeneratedSelector. */
function validateGeneratedSelector(object: KubeObject, batchLabels: boolean): FieldError[] {
  const spec = obj(object.spec);
  if (spec['manualSelector'] === true || !isPlainObject(spec['selector'])) return [];
  const errors: FieldError[] = [];
  const uid = metadataString(object, 'uid');
  const name = metadataString(object, 'name');
  if (uid === '') errors.push(required('metadata.uid'));
  const labels = stringMap(obj(obj(spec['template'])['metadata'])['labels']);
  const at = 'spec.template.metadata';
  errors.push(...hasLabel(labels, at, LEGACY_CONTROLLER_UID_LABEL, uid));
  errors.push(...hasLabel(labels, at, LEGACY_JOB_NAME_LABEL, name));
  const expected: Record<string, string> = {};
  if (batchLabels) {
    errors.push(...hasLabel(labels, at, CONTROLLER_UID_LABEL, uid));
    errors.push(...hasLabel(labels, at, JOB_NAME_LABEL, name));
    expected[CONTROLLER_UID_LABEL] = uid;
    expected[JOB_NAME_LABEL] = name;
  }
  expected[LEGACY_CONTROLLER_UID_LABEL] = uid;
  expected[LEGACY_JOB_NAME_LABEL] = name;
  if (labelSelectorMatches(spec['selector'], expected) === false) errors.push(invalid('spec.selector', spec['selector'], '`selector` not auto-generated'));
  return errors;
}

const COMPLETION_MODES = ['NonIndexed', 'Indexed'];
const POD_REPLACEMENT_POLICIES = ['Failed', 'TerminatingOrFailed'];

/**
 * validateJobSpec: what a Job and a CronJob's job template share (counts, completion mode,
 * pod replacement policy, the pod template and its restartPolicy), at `path`.
 */
export function validateJobSpecParts(spec: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex']) {
    errors.push(...nonNegative(spec[field], child(path, field)));
  }
  if (isSet(spec['maxFailedIndexes'])) {
    errors.push(...nonNegative(spec['maxFailedIndexes'], child(path, 'maxFailedIndexes')));
    if (!isSet(spec['backoffLimitPerIndex'])) errors.push(required(child(path, 'backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  const managedBy = spec['managedBy'];
  if (typeof managedBy === 'string' && Buffer.byteLength(managedBy, 'utf8') > 63) {
    errors.push({ type: 'FieldValueTooLong', field: child(path, 'managedBy'), detail: 'may not be more than 63 bytes', value: '<value omitted>' });
  }
  const mode = spec['completionMode'];
  const indexed = mode === 'Indexed';
  if (typeof mode === 'string') {
    if (!COMPLETION_MODES.includes(mode)) errors.push(notSupported(child(path, 'completionMode'), mode, COMPLETION_MODES));
    if (indexed) {
      if (!isSet(spec['completions'])) errors.push(required(child(path, 'completions'), 'when completion mode is Indexed'));
      if (num(spec['parallelism']) > 100000) errors.push(invalid(child(path, 'parallelism'), spec['parallelism'], 'must be less than or equal to 100000 when completion mode is Indexed'));
    }
  }
  if (!indexed) {
    if (isSet(spec['backoffLimitPerIndex'])) errors.push(invalid(child(path, 'backoffLimitPerIndex'), spec['backoffLimitPerIndex'], 'requires indexed completion mode'));
    if (isSet(spec['maxFailedIndexes'])) errors.push(invalid(child(path, 'maxFailedIndexes'), spec['maxFailedIndexes'], 'requires indexed completion mode'));
  }
  if (isSet(spec['successPolicy']) && !indexed) errors.push(invalid(child(path, 'successPolicy'), spec['successPolicy'], 'requires indexed completion mode'));
  const replacement = spec['podReplacementPolicy'];
  if (typeof replacement === 'string') {
    if (isSet(spec['podFailurePolicy'])) {
      if (replacement !== 'Failed') errors.push(notSupported(child(path, 'podReplacementPolicy'), replacement, ['Failed']));
    } else if (!POD_REPLACEMENT_POLICIES.includes(replacement)) errors.push(notSupported(child(path, 'podReplacementPolicy'), replacement, POD_REPLACEMENT_POLICIES));
  }
  errors.push(...validatePodTemplateSpec(spec['template'], child(path, 'template')));
  const restartPolicy = str(obj(obj(spec['template'])['spec'])['restartPolicy']);
  const restartPath = child(path, 'template', 'spec', 'restartPolicy');
  if (restartPolicy === 'Always' || restartPolicy === '') errors.push(required(restartPath, 'valid values: "OnFailure", "Never"'));
  else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') errors.push(notSupported(restartPath, restartPolicy, ['OnFailure', 'Never']));
  else if (isSet(spec['podFailurePolicy']) && restartPolicy !== 'Never') {
    errors.push(invalid(restartPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errors;
}

/** ValidateJobSpec: the shared parts, a selector, and the selector matching the template. */
function validateJobSpec(spec: Record<string, unknown>, path: string): FieldError[] {
  const errors = validateJobSpecParts(spec, path);
  if (!isSet(spec['selector'])) errors.push(required(child(path, 'selector')));
  else errors.push(...validateLabelSelector(spec['selector'], child(path, 'selector')));
  const templateLabels = obj(obj(spec['template'])['metadata'])['labels'];
  if (labelSelectorMatches(spec['selector'], stringMap(templateLabels)) === false) {
    errors.push(invalid(child(path, 'template', 'metadata', 'labels'), isPlainObject(templateLabels) ? templateLabels : null, '`selector` does not match template `labels`'));
  }
  return errors;
}

/** ValidateJob. */
function validateJob(object: KubeObject, batchLabels: boolean): FieldError[] {
  const spec = obj(object.spec);
  const errors = validateGeneratedSelector(object, batchLabels);
  errors.push(...validateJobSpec(spec, 'spec'));
  const completions = spec['completions'];
  if (spec['completionMode'] === 'Indexed' && typeof completions === 'number' && completions > 0) {
    const name = metadataString(object, 'name');
    const hostname = `${name}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) errors.push(invalid('metadata.name', name, `will not able to create pod with invalid DNS label: ${hostname}`));
  }
  return errors;
}

/** ValidateImmutableField. */
function immutable(next: unknown, old: unknown, path: string): FieldError[] {
  return isDeepStrictEqual(next ?? null, old ?? null) ? [] : [invalid(path, next ?? null, FIELD_IMMUTABLE_ERROR_MSG)];
}

/**
 * validatePodTemplateUpdate: spec.template is immutable, except that a suspended Job that
 * never started may change its template's scheduling directives (node affinity, node
 * selector, tolerations, scheduling gates) and its labels and annotations.
 */
function validateTemplateUpdate(spec: Record<string, unknown>, oldSpec: Record<string, unknown>, mutableScheduling: boolean): FieldError[] {
  const template = spec['template'];
  let oldTemplate = oldSpec['template'];
  if (mutableScheduling && isPlainObject(template) && isPlainObject(oldTemplate)) {
    const copy = structuredClone(oldTemplate);
    const tSpec = obj(template['spec']);
    const cSpec = isPlainObject(copy['spec']) ? copy['spec'] : (copy['spec'] = {});
    const affinity = objectAt(tSpec['affinity']);
    const oldAffinity = objectAt(cSpec['affinity']);
    if (affinity === undefined && oldAffinity !== undefined) {
      delete oldAffinity['nodeAffinity'];
      if (Object.keys(oldAffinity).length === 0) delete cSpec['affinity'];
    } else if (affinity !== undefined && oldAffinity === undefined) {
      cSpec['affinity'] = isSet(affinity['nodeAffinity']) ? { nodeAffinity: affinity['nodeAffinity'] } : {};
    } else if (affinity !== undefined && oldAffinity !== undefined) {
      if (isSet(affinity['nodeAffinity'])) oldAffinity['nodeAffinity'] = affinity['nodeAffinity'];
      else delete oldAffinity['nodeAffinity'];
    }
    for (const field of ['nodeSelector', 'tolerations', 'schedulingGates']) {
      if (isSet(tSpec[field])) cSpec[field] = tSpec[field];
      else delete cSpec[field];
    }
    const meta = obj(template['metadata']);
    const copyMeta = isPlainObject(copy['metadata']) ? copy['metadata'] : (copy['metadata'] = {});
    for (const field of ['labels', 'annotations']) {
      if (isSet(meta[field])) copyMeta[field] = meta[field];
      else delete copyMeta[field];
    }
    oldTemplate = copy;
  }
  return immutable(template, oldTemplate, 'spec.template');
}

/** ValidateJobSpecUpdate. */
function validateJobSpecUpdate(spec: Record<string, unknown>, oldSpec: Record<string, unknown>, mutableScheduling: boolean): FieldError[] {
  const errors = validateJobSpec(spec, 'spec');
  // Completions may change only for an Indexed Job, in tandem with parallelism.
  if (spec['completionMode'] === 'Indexed') {
    if (!isDeepStrictEqual(spec['completions'] ?? null, oldSpec['completions'] ?? null) && isSet(spec['completions']) && spec['completions'] !== spec['parallelism']) {
      errors.push(invalid('spec.completions', spec['completions'], 'can only be modified in tandem with spec.parallelism'));
    }
  } else errors.push(...immutable(spec['completions'], oldSpec['completions'], 'spec.completions'));
  errors.push(...immutable(spec['selector'], oldSpec['selector'], 'spec.selector'));
  errors.push(...validateTemplateUpdate(spec, oldSpec, mutableScheduling));
  for (const field of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
    errors.push(...immutable(spec[field], oldSpec[field], `spec.${field}`));
  }
  return errors;
}

/** jobStrategy.Validate / ValidateUpdate. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (old === undefined) return validateJob(object, true);
  // BeforeUpdate gives an update without a uid the stored one before validating it.
  if (metadataString(object, 'uid') === '' && metadataString(old, 'uid') !== '') object = { ...object, metadata: { ...object.metadata, uid: metadataString(old, 'uid') } };
  const oldSpec = obj(old.spec);
  const oldLabels = stringMap(obj(obj(oldSpec['template'])['metadata'])['labels']);
  // Jobs created before the batch.kubernetes.io labels are not required to have them.
  const batchLabels = Object.hasOwn(oldLabels, JOB_NAME_LABEL) && Object.hasOwn(oldLabels, CONTROLLER_UID_LABEL);
  const mutableScheduling = oldSpec['suspend'] === true && !isSet(obj(old.status)['startTime']);
  return [...validateJob(object, batchLabels), ...validateJobSpecUpdate(obj(object.spec), oldSpec, mutableScheduling)];
}

/** The counters of validateJobStatus. */
function validateStatus(object: KubeObject): FieldError[] {
  const status = obj(object.status);
  const errors: FieldError[] = [];
  for (const field of ['active', 'succeeded', 'failed', 'ready', 'terminating']) errors.push(...nonNegative(status[field], `status.${field}`));
  const uncounted = objectAt(status['uncountedTerminatedPods']);
  if (uncounted !== undefined) {
    const seen = new Set<string>();
    for (const kind of ['succeeded', 'failed']) {
      list(uncounted[kind]).forEach((uid, i) => {
        const at = `status.uncountedTerminatedPods.${kind}[${i}]`;
        const value = str(uid);
        if (value === '') errors.push(invalid(at, value, 'must not be empty'));
        else if (seen.has(value)) errors.push(duplicate(at, value));
        else seen.add(value);
      });
    }
  }
  return errors;
}

const STATUS_DESCRIPTION = 'Status of the job.';
const SUCCEEDED_DESCRIPTION =
  'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.';
const SELECTOR_DESCRIPTION =
  'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';

/** Columns kube's printJob and printCronJob share for -o wide. */
export const CONTAINERS_COLUMN = column('Containers', 'string', 'Names of each container in the template.', 1);
export const IMAGES_COLUMN = column('Images', 'string', 'Images referenced by each container in the template.', 1);
export const JOB_SELECTOR_COLUMN = column('Selector', 'string', SELECTOR_DESCRIPTION, 1);

const JOB_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Status', 'string', STATUS_DESCRIPTION),
  column('Completions', 'string', SUCCEEDED_DESCRIPTION),
  column('Duration', 'string', 'Time required to complete the job.'),
  AGE_COLUMN,
  CONTAINERS_COLUMN,
  IMAGES_COLUMN,
  JOB_SELECTOR_COLUMN,
]);

/** hasJobCondition: the first condition of the type decides. */
function hasCondition(status: Record<string, unknown>, type: string): boolean {
  for (const condition of list(status['conditions'])) {
    if (obj(condition)['type'] === type) return obj(condition)['status'] === 'True';
  }
  return false;
}

/** A status time in milliseconds, or undefined when absent or no RFC 3339 time. */
function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseRFC3339(value);
  return 'error' in parsed || parsed.zero ? undefined : parsed.ms + parsed.fraction;
}

/** printJob with Wide set. */
function jobCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = obj(object['spec']);
  const status = obj(object['status']);
  const succeeded = num(status['succeeded']);
  let completions: string;
  if (isSet(spec['completions'])) completions = `${succeeded}/${num(spec['completions'])}`;
  else {
    const parallelism = num(spec['parallelism']);
    completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
  }
  let duration = '';
  const start = timeOf(status['startTime']);
  if (start !== undefined) {
    const completion = timeOf(status['completionTime']);
    duration = completion === undefined ? age(str(status['startTime']), now) : humanDuration(completion - start);
  }
  let state: string;
  if (hasCondition(status, 'Complete')) state = 'Complete';
  else if (hasCondition(status, 'Failed')) state = 'Failed';
  else if (isSet(obj(object['metadata'])['deletionTimestamp'])) state = 'Terminating';
  else if (hasCondition(status, 'Suspended')) state = 'Suspended';
  else if (hasCondition(status, 'FailureTarget')) state = 'FailureTarget';
  else state = 'Running';
  const [names, images] = containerCells(obj(spec['template'])['spec']);
  return [nameOf(object), state, completions, duration, ageOf(object, now), names, images, formatLabelSelector(spec['selector'])];
}

const INT32_FIELD: GoField = { type: { kind: 'int64' }, omitEmpty: true, pointer: false };

export const JOB: KindDefinition = {
  source: 'builtin',
  group: 'batch',
  version: 'v1',
  resource: 'jobs',
  singular: 'job',
  kind: 'Job',
  listKind: 'JobList',
  namespaced: true,
  shortNames: [],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  // kube's Job field label conversion: metadata.name, metadata.namespace, status.successful.
  selectableFields: {
    supported: ['metadata.name', 'metadata.namespace', 'status.successful'],
    values: (object: KubeObject) => ({
      'metadata.name': metadataString(object, 'name'),
      'metadata.namespace': metadataString(object, 'namespace'),
      'status.successful': String(Math.trunc(num(obj(object.status)['succeeded']))),
    }),
    shape: goStruct('Job', 'v1.Job', {
      status: { type: goStruct('JobStatus', 'v1.JobStatus', { succeeded: INT32_FIELD }), omitEmpty: true, pointer: false },
    }),
  },
  strategy: { defaults, prepareForCreate, validate, generation: 'spec' },
  statusStrategy: { validate: (object) => validateStatus(object) },
  printer: { columns: JOB_COLUMNS, cells: jobCells },
  schema: 'io.k8s.api.batch.v1.Job',
  // kube's job strategy: batch/v1 orphans dependents by default, for backward compatibility.
  deletion: { garbageCollectionPolicy: 'OrphanDependents' },
};
