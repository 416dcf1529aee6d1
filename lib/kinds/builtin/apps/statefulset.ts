/**
 * StatefulSet (apps/v1, namespaced, names are DNS labels; `status` and `scale` subresources):
 * defaulted as kube's SetDefaults_StatefulSet (with the MaxUnavailableStatefulSet gate on, as
 * it is by default since 1.35) and the defaults of its volume claim templates, validated as
 * ValidateStatefulSet(Update) (most of the spec cannot change), printed as printStatefulSet.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { validateAnnotations, validateLabels } from '../../../validation/names.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { quantityOf, formatQuantity, roundUpQuantity } from '../../quantity.ts';
import { goLabelSelector, labelSelectorAsSelector, selectorEmpty, selectorMatches } from '../../../label-selector.ts';
import {
  collisionCountErrors,
  CONTAINERS_COLUMN,
  defaultPointer,
  defaultTemplate,
  defaultString,
  IMAGES_COLUMN,
  int,
  intOrPercentValue,
  intOrString,
  nonNegative,
  notMoreThan100Percent,
  obj,
  restartPolicyErrors,
  selectorErrors,
  selectorMismatch,
  semanticEqual,
  specForDefaults,
  statusCounterErrors,
  structForDefaults,
  templateContainerCells,
  templateOf,
  unset,
  validateIntOrPercent,
  type StatusCounter,
} from './workload.ts';

/** SetDefaults_ResourceList: quantities rounded up to milli precision, written as kube writes them. */
function defaultResourceList(resources: unknown): void {
  if (!isPlainObject(resources)) return;
  for (const [name, value] of Object.entries(resources)) {
    const quantity = quantityOf(value);
    if (quantity !== undefined) resources[name] = formatQuantity(roundUpQuantity(quantity, 3));
  }
}

/**
 * What kube's generated defaulters apply to each volume claim template:
 * SetDefaults_PersistentVolumeClaim (phase Pending), SetDefaults_PersistentVolumeClaimSpec
 * (volumeMode Filesystem), and SetDefaults_ResourceList on its requests, limits and capacity.
 * Each template also says `apiVersion: v1` and `kind: PersistentVolumeClaim`, whatever the
 * client wrote there: kube's conversion of a StatefulSet to apps/v1 writes them (as its
 * reflective conversion did before 1.17) and its conversion from apps/v1 drops them.
 */
function defaultClaimTemplate(claim: unknown): void {
  if (!isPlainObject(claim)) return;
  claim.apiVersion = 'v1';
  claim.kind = 'PersistentVolumeClaim';
  const spec = structForDefaults(claim, 'spec');
  if (spec !== undefined) {
    defaultPointer(spec, 'volumeMode', 'Filesystem');
    const resources = obj(spec.resources);
    defaultResourceList(resources.limits);
    defaultResourceList(resources.requests);
  }
  const status = structForDefaults(claim, 'status');
  if (status !== undefined) {
    defaultString(status, 'phase', 'Pending');
    defaultResourceList(status.capacity);
  }
}

/**
 * SetDefaults_StatefulSet: OrderedReady pods, the RollingUpdate strategy with partition 0 and
 * at most one pod unavailable, claims retained on deletion and scale-down, one replica, ten
 * revisions kept; the defaults of the pod template and of the volume claim templates.
 */
function defaults(object: KubeObject): KubeObject {
  const spec = specForDefaults(object);
  if (spec === undefined) return object;
  defaultString(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = structForDefaults(spec, 'updateStrategy');
  if (strategy !== undefined) {
    if (unset(strategy.type) || strategy.type === '') {
      strategy.type = 'RollingUpdate';
      defaultPointer(strategy, 'rollingUpdate', {});
    }
    if (strategy.type === 'RollingUpdate' && isPlainObject(strategy.rollingUpdate)) {
      defaultPointer(strategy.rollingUpdate, 'partition', 0);
      defaultPointer(strategy.rollingUpdate, 'maxUnavailable', 1);
    }
  }
  const retention = structForDefaults(spec, 'persistentVolumeClaimRetentionPolicy');
  if (retention !== undefined) {
    defaultString(retention, 'whenDeleted', 'Retain');
    defaultString(retention, 'whenScaled', 'Retain');
  }
  defaultPointer(spec, 'replicas', 1);
  defaultPointer(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
  if (Array.isArray(spec.volumeClaimTemplates)) for (const claim of spec.volumeClaimTemplates) defaultClaimTemplate(claim);
  return object;
}

/** The internal RollingUpdateStatefulSetStrategy as Go's encoding/json writes it (Go's field names). */
function internalRollingUpdate(raw: unknown): unknown {
  if (unset(raw)) return null;
  const rollingUpdate = obj(raw);
  return { Partition: int(rollingUpdate.partition), MaxUnavailable: unset(rollingUpdate.maxUnavailable) ? null : intOrString(rollingUpdate.maxUnavailable) };
}

/** The updateStrategy checks of ValidateStatefulSetSpec, with validateRollingUpdateStatefulSet. */
function updateStrategyErrors(strategy: Record<string, unknown>): FieldError[] {
  const type = typeof strategy.type === 'string' ? strategy.type : '';
  const at = 'spec.updateStrategy';
  switch (type) {
    case '':
      return [{ type: 'FieldValueRequired', field: at, detail: '' }];
    case 'OnDelete':
      return unset(strategy.rollingUpdate)
        ? []
        : [{ type: 'FieldValueInvalid', field: `${at}.rollingUpdate`, value: internalRollingUpdate(strategy.rollingUpdate), detail: "only allowed for updateStrategy 'RollingUpdate'" }];
    case 'RollingUpdate': {
      if (unset(strategy.rollingUpdate)) return [];
      const rollingUpdate = obj(strategy.rollingUpdate);
      const errors = nonNegative(int(rollingUpdate.partition), `${at}.rollingUpdate.partition`);
      if (!unset(rollingUpdate.maxUnavailable)) {
        const maxUnavailable = intOrString(rollingUpdate.maxUnavailable);
        const path = `${at}.rollingUpdate.maxUnavailable`;
        errors.push(...validateIntOrPercent(maxUnavailable, path));
        if (intOrPercentValue(maxUnavailable) === 0) errors.push({ type: 'FieldValueInvalid', field: path, value: maxUnavailable, detail: 'cannot be 0' });
        errors.push(...notMoreThan100Percent(maxUnavailable, path));
      }
      return errors;
    }
    default:
      return [
        {
          type: 'FieldValueInvalid',
          field: at,
          value: { Type: type, RollingUpdate: internalRollingUpdate(strategy.rollingUpdate) },
          detail: "must be 'RollingUpdate' or 'OnDelete'",
        },
      ];
  }
}

/** ValidatePersistentVolumeClaimRetentionPolicy: each policy Retain or Delete. */
function retentionErrors(raw: unknown): FieldError[] {
  if (unset(raw)) return [];
  const policy = obj(raw);
  const errors: FieldError[] = [];
  for (const key of ['whenDeleted', 'whenScaled']) {
    const value = typeof policy[key] === 'string' ? policy[key] : '';
    if (value !== 'Retain' && value !== 'Delete') {
      errors.push({ type: 'FieldValueNotSupported', field: `spec.persistentVolumeClaimRetentionPolicy.${key}`, value, detail: 'supported values: "Retain", "Delete"' });
    }
  }
  return errors;
}

/**
 * ValidatePodTemplateSpecForStatefulSet: the selector must select the template's labels, whose
 * keys and values, and annotations, are checked; kube leaves the rest of the pod spec to the
 * pods the controller creates.
 */
function templateErrors(selectorRaw: unknown, template: Record<string, unknown>): FieldError[] {
  const selector = labelSelectorAsSelector(selectorRaw);
  if (selector === undefined) return [{ type: 'FieldValueInvalid', field: 'spec.selector', value: goLabelSelector(selectorRaw), detail: '' }];
  const metadata = obj(template.metadata);
  const errors: FieldError[] = [];
  if (!selectorEmpty(selector) && !selectorMatches(selector, metadata.labels)) errors.push(selectorMismatch(template));
  if (isPlainObject(metadata.labels)) errors.push(...validateLabels(metadata.labels, 'spec.template.labels'));
  if (isPlainObject(metadata.annotations)) errors.push(...validateAnnotations(metadata.annotations, 'spec.template.annotations'));
  return errors;
}

/** ValidateStatefulSetSpec. */
function specErrors(spec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const policy = typeof spec.podManagementPolicy === 'string' ? spec.podManagementPolicy : '';
  if (policy === '') errors.push({ type: 'FieldValueRequired', field: 'spec.podManagementPolicy', detail: '' });
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.podManagementPolicy', value: policy, detail: "must be 'OrderedReady' or 'Parallel'" });
  }
  errors.push(...updateStrategyErrors(obj(spec.updateStrategy)));
  errors.push(...retentionErrors(spec.persistentVolumeClaimRetentionPolicy));
  errors.push(...nonNegative(int(spec.replicas), 'spec.replicas'));
  errors.push(...nonNegative(int(spec.minReadySeconds), 'spec.minReadySeconds'));
  if (!unset(spec.ordinals)) errors.push(...nonNegative(int(obj(spec.ordinals).start), 'spec.ordinals.start'));
  errors.push(...selectorErrors(spec.selector, 'empty selector is invalid for statefulset', true));
  const template = obj(spec.template);
  errors.push(...templateErrors(spec.selector, template));
  errors.push(...restartPolicyErrors(template, 'StatefulSet'));
  return errors;
}

/** The spec fields an update may change; any other change is forbidden. */
const MUTABLE_SPEC_FIELDS = new Set(['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds']);

/**
 * The spec without the fields an update may change, as kube compares it: in its internal form,
 * where volume claim templates carry no apiVersion or kind (so one stored without them is the
 * same as one written with them).
 */
function withoutMutableFields(spec: Record<string, unknown>): Record<string, unknown> {
  const rest = Object.fromEntries(Object.entries(spec).filter(([key]) => !MUTABLE_SPEC_FIELDS.has(key)));
  if (Array.isArray(rest.volumeClaimTemplates)) {
    rest.volumeClaimTemplates = rest.volumeClaimTemplates.map((claim: unknown) => {
      if (!isPlainObject(claim)) return claim;
      const { apiVersion: _apiVersion, kind: _kind, ...internal } = claim;
      return internal;
    });
  }
  return rest;
}

/** ValidateStatefulSet, or on update ValidateStatefulSetUpdate: the spec, then what may not change. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj(object.spec);
  const errors = specErrors(spec);
  if (old !== undefined && !semanticEqual(withoutMutableFields(spec), withoutMutableFields(obj(old.spec)))) {
    errors.push({
      type: 'FieldValueForbidden',
      field: 'spec',
      detail: "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    });
  }
  return errors;
}

const STATUS_COUNTERS: readonly StatusCounter[] = [
  { field: 'replicas' },
  { field: 'readyReplicas', atMost: [{ field: 'replicas', detail: 'cannot be greater than status.replicas' }] },
  { field: 'currentReplicas', atMost: [{ field: 'replicas', detail: 'cannot be greater than status.replicas' }] },
  { field: 'updatedReplicas', atMost: [{ field: 'replicas', detail: 'cannot be greater than status.replicas' }] },
  {
    field: 'availableReplicas',
    atMost: [
      { field: 'replicas', detail: 'cannot be greater than status.replicas' },
      { field: 'readyReplicas', detail: 'cannot be greater than status.readyReplicas' },
    ],
  },
  { field: 'observedGeneration', optional: true },
  { field: 'collisionCount', optional: true },
];

/** ValidateStatefulSetStatusUpdate (metadata aside). */
function validateStatus(object: KubeObject, old: KubeObject): FieldError[] {
  const status = obj(object.status);
  return [...statusCounterErrors(status, STATUS_COUNTERS), ...collisionCountErrors(status, obj(old.status))];
}

const COLUMNS: readonly TableColumnDefinition[] = Object.freeze([NAME_COLUMN, column('Ready', 'string', 'Number of the pod with ready state'), AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN]);

/** printStatefulSet: READY is ready/desired replicas. */
function cells(object: Record<string, unknown>, now: Date): unknown[] {
  const [containers, images] = templateContainerCells(templateOf(object));
  return [nameOf(object), `${int(obj(object.status).readyReplicas)}/${int(obj(object.spec).replicas)}`, ageOf(object, now), containers, images];
}

export const STATEFUL_SET: KindDefinition = {
  source: 'builtin',
  group: 'apps',
  version: 'v1',
  resource: 'statefulsets',
  singular: 'statefulset',
  kind: 'StatefulSet',
  listKind: 'StatefulSetList',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['status', 'scale'],
  // ValidateStatefulSetName: pod names and hostnames are made from it.
  nameValidation: 'dns1123Label',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, validate, generation: 'spec' },
  statusStrategy: { validate: validateStatus },
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selectorPath: '.spec.selector' },
  printer: { columns: COLUMNS, cells },
  schema: 'io.k8s.api.apps.v1.StatefulSet',
};
