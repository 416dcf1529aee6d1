/**
 * policy/v1 PodDisruptionBudget (namespaced, status subresource): kube's validation
 * (policy/validation; policy/v1 has no defaults) and printPodDisruptionBudget.
 *
 * Names are only checked as path segments, as kube's PodDisruptionBudget validation leaves
 * ObjectMeta to the generic checks.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { isQualifiedName } from '../../../validation/names.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { intOrStringText, isSet, list, nonnegative, num, obj, positiveIntOrPercent, str, supported } from './validation.ts';
import { validateLabelSelector } from '../../../label-selector.ts';

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

const CONDITION_REASON_FMT = '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?';
const CONDITION_REASON = new RegExp(`^${CONDITION_REASON_FMT}$`);
const MAX_REASON_LENGTH = 1024;
const MAX_MESSAGE_LENGTH = 32 * 1024;

/** metav1validation.ValidateCondition's reason checks: its format and length. */
function reasonErrors(reason: string, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!CONDITION_REASON.test(reason)) {
    errors.push({
      type: 'FieldValueInvalid',
      field: at,
      value: reason,
      detail: `a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '${CONDITION_REASON_FMT}')`,
    });
  }
  if (Buffer.byteLength(reason, 'utf8') > MAX_REASON_LENGTH) errors.push({ type: 'FieldValueTooLong', field: at, detail: `may not be more than ${MAX_REASON_LENGTH} bytes` });
  return errors;
}

/** ValidatePodDisruptionBudgetStatusUpdate: the conditions (metav1validation.ValidateConditions), and non-negative counts. */
function validatePodDisruptionBudgetStatus(object: KubeObject): FieldError[] {
  const status = obj(object.status);
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  list(status.conditions).forEach((raw, i) => {
    const condition = obj(raw);
    const at = `status.conditions[${i}]`;
    const type = str(condition.type);
    if (seen.has(type)) errors.push({ type: 'FieldValueDuplicate', field: `${at}.type`, value: type, detail: '' });
    seen.add(type);
    for (const detail of isQualifiedName(type)) errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, value: type, detail });
    if (!CONDITION_STATUSES.includes(str(condition.status))) {
      errors.push({ type: 'FieldValueNotSupported', field: `${at}.status`, value: str(condition.status), detail: supported(CONDITION_STATUSES) });
    }
    if (num(condition.observedGeneration) < 0) {
      errors.push({ type: 'FieldValueInvalid', field: `${at}.observedGeneration`, value: num(condition.observedGeneration), detail: 'must be greater than or equal to zero' });
    }
    if (!isSet(condition.lastTransitionTime)) errors.push({ type: 'FieldValueRequired', field: `${at}.lastTransitionTime`, detail: '' });
    const reason = str(condition.reason);
    if (reason === '') errors.push({ type: 'FieldValueRequired', field: `${at}.reason`, detail: '' });
    else errors.push(...reasonErrors(reason, `${at}.reason`));
    if (Buffer.byteLength(str(condition.message), 'utf8') > MAX_MESSAGE_LENGTH) {
      errors.push({ type: 'FieldValueTooLong', field: `${at}.message`, detail: `may not be more than ${MAX_MESSAGE_LENGTH} bytes` });
    }
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
