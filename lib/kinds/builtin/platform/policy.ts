/**
 * policy/v1 PodDisruptionBudget (namespaced, status subresource): kube's validation
 * (policy/validation; policy/v1 has no defaults) and printPodDisruptionBudget.
 *
 * Names are only checked as path segments, as kube's PodDisruptionBudget validation leaves
 * ObjectMeta to the generic checks. Left out of status writes: duplicate condition types and the
 * format and length of a condition's reason and message.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { isQualifiedName } from '../../../validation/names.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { intOrStringText, isSet, list, nonnegative, num, obj, positiveIntOrPercent, str, supported, validateLabelSelector } from './validation.ts';

const EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];

/**
 * The spec as kube's error shows it: the internal Go struct (no json tags, hence the Go field
 * names) marshalled to JSON, nil pointers as null.
 */
function internalSpec(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    MinAvailable: spec.minAvailable ?? null,
    Selector: spec.selector ?? null,
    MaxUnavailable: spec.maxUnavailable ?? null,
    UnhealthyPodEvictionPolicy: spec.unhealthyPodEvictionPolicy ?? null,
  };
}

/**
 * ValidatePodDisruptionBudgetSpec: minAvailable or maxUnavailable (not both), each a
 * non-negative integer or a percentage up to 100%, the selector, the eviction policy. An update
 * keeps label values the stored selector already holds.
 */
function validatePodDisruptionBudget(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj(object.spec);
  const errors: FieldError[] = [];
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec', value: internalSpec(spec), detail: 'minAvailable and maxUnavailable cannot be both set' });
  }
  for (const key of ['minAvailable', 'maxUnavailable']) {
    if (isSet(spec[key])) errors.push(...positiveIntOrPercent(spec[key], `spec.${key}`));
  }
  const allowInvalidLabelValue = old !== undefined && validateLabelSelector(obj(old.spec).selector, '').length > 0;
  errors.push(...validateLabelSelector(spec.selector, 'spec.selector', allowInvalidLabelValue));
  if (isSet(spec.unhealthyPodEvictionPolicy) && !EVICTION_POLICIES.includes(str(spec.unhealthyPodEvictionPolicy))) {
    errors.push({
      type: 'FieldValueNotSupported',
      field: 'spec.unhealthyPodEvictionPolicy',
      value: str(spec.unhealthyPodEvictionPolicy),
      detail: supported(EVICTION_POLICIES),
    });
  }
  return errors;
}

/** ValidatePodDisruptionBudgetStatusUpdate: the conditions' required parts, and non-negative counts. */
function validatePodDisruptionBudgetStatus(object: KubeObject): FieldError[] {
  const status = obj(object.status);
  const errors: FieldError[] = [];
  list(status.conditions).forEach((raw, i) => {
    const condition = obj(raw);
    const at = `status.conditions[${i}]`;
    const type = str(condition.type);
    for (const detail of isQualifiedName(type)) errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, value: type, detail });
    if (!CONDITION_STATUSES.includes(str(condition.status))) {
      errors.push({ type: 'FieldValueNotSupported', field: `${at}.status`, value: str(condition.status), detail: supported(CONDITION_STATUSES) });
    }
    if (num(condition.observedGeneration) < 0) {
      errors.push({ type: 'FieldValueInvalid', field: `${at}.observedGeneration`, value: num(condition.observedGeneration), detail: 'must be greater than or equal to zero' });
    }
    if (!isSet(condition.lastTransitionTime)) errors.push({ type: 'FieldValueRequired', field: `${at}.lastTransitionTime`, detail: '' });
    if (str(condition.reason) === '') errors.push({ type: 'FieldValueRequired', field: `${at}.reason`, detail: '' });
  });
  for (const key of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']) errors.push(...nonnegative(status[key], `status.${key}`));
  return errors;
}

/** printPodDisruptionBudget: NAME, MIN AVAILABLE and MAX UNAVAILABLE ("N/A" when unset), ALLOWED DISRUPTIONS, AGE. */
function podDisruptionBudgetCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = field(object, 'spec');
  const text = (value: unknown) => (isSet(value) ? intOrStringText(value) : 'N/A');
  return [nameOf(object), text(spec.minAvailable), text(spec.maxUnavailable), Math.trunc(num(field(object, 'status').disruptionsAllowed)), ageOf(object, now)];
}

export const POD_DISRUPTION_BUDGET: KindDefinition = {
  source: 'builtin',
  group: 'policy',
  version: 'v1',
  resource: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  kind: 'PodDisruptionBudget',
  listKind: 'PodDisruptionBudgetList',
  namespaced: true,
  shortNames: ['pdb'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'pathSegmentName',
  selectableFields: DEFAULT_FIELDS,
  strategy: { validate: validatePodDisruptionBudget, generation: 'spec' },
  statusStrategy: { validate: validatePodDisruptionBudgetStatus },
  printer: {
    columns: Object.freeze([
      NAME_COLUMN,
      column('Min Available', 'string', 'How many of the selected pods must stay available'),
      column('Max Unavailable', 'string', 'How many of the selected pods may be unavailable'),
      column('Allowed Disruptions', 'integer', 'How many pods may be disrupted now, as last computed'),
      AGE_COLUMN,
    ]),
    cells: podDisruptionBudgetCells,
  },
  schema: 'io.k8s.api.policy.v1.PodDisruptionBudget',
};
