/**
 * scheduling.k8s.io/v1 PriorityClass (cluster-scoped): kube's defaults (scheduling/v1
 * defaults.go), validation (scheduling/validation), printPriorityClass, and the two system
 * classes kube-apiserver creates at start (system-cluster-critical, system-node-critical).
 *
 * Left out: the Priority admission plugin's refusal of a second globalDefault class.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { immutable, isSet, num, str, supported } from './validation.ts';

/** The highest value a class that is not a system class may have. */
const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** The value of system-cluster-critical; system-node-critical is 1000 above it. */
const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
const SYSTEM_PREFIX = 'system-';
const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];

/**
 * The classes kube-apiserver creates at start (their descriptions as kube writes them, since
 * clients see them); the only ones allowed the "system-" prefix, with exactly these values.
 */
const SYSTEM_PRIORITY_CLASSES: readonly KubeObject[] = Object.freeze([
  {
    metadata: { name: 'system-node-critical' },
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    metadata: { name: 'system-cluster-critical' },
    value: SYSTEM_CRITICAL_PRIORITY,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
]);

/** IsKnownSystemPriorityClass: why a "system-" class is not one of the system classes, or undefined when it is. */
function notSystemClass(name: string, value: number, globalDefault: boolean): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.metadata?.name === name);
  if (known === undefined) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${String(known.value)}`;
  // No system class is the global default.
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

/** SetDefaults_PriorityClass: preemptionPolicy PreemptLowerPriority. */
function defaultPriorityClass(object: KubeObject): KubeObject {
  if (!isSet(object.preemptionPolicy)) object.preemptionPolicy = 'PreemptLowerPriority';
  return object;
}

/**
 * ValidatePriorityClass: "system-" names only for the system classes, values above one billion
 * only for them, a known preemptionPolicy; on update also ValidatePriorityClassUpdate (value
 * and preemptionPolicy do not change).
 */
function validatePriorityClass(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const name = str(object.metadata?.name);
  const value = num(object.value);
  if (name.startsWith(SYSTEM_PREFIX)) {
    const why = notSystemClass(name, value, object.globalDefault === true);
    if (why !== undefined) {
      errors.push({ type: 'FieldValueForbidden', field: 'metadata.name', detail: `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${why}` });
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errors.push({ type: 'FieldValueForbidden', field: 'value', detail: `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}` });
  }
  if (isSet(object.preemptionPolicy)) {
    const policy = str(object.preemptionPolicy);
    if (policy === '') errors.push({ type: 'FieldValueRequired', field: 'preemptionPolicy', detail: '' });
    else if (!PREEMPTION_POLICIES.includes(policy)) errors.push({ type: 'FieldValueNotSupported', field: 'preemptionPolicy', value: policy, detail: supported(PREEMPTION_POLICIES) });
  }
  if (old === undefined) return errors;
  if (value !== num(old.value)) errors.push({ type: 'FieldValueForbidden', field: 'value', detail: 'may not be changed in an update.' });
  errors.push(...immutable(object.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errors;
}

/** printPriorityClass: NAME, VALUE, GLOBAL-DEFAULT, AGE, PREEMPTIONPOLICY ("" when unset). */
function priorityClassCells(object: Record<string, unknown>, now: Date): unknown[] {
  return [nameOf(object), Math.trunc(num(object.value)), object.globalDefault === true, ageOf(object, now), str(object.preemptionPolicy)];
}

export const PRIORITY_CLASS: KindDefinition = {
  source: 'builtin',
  group: 'scheduling.k8s.io',
  version: 'v1',
  resource: 'priorityclasses',
  singular: 'priorityclass',
  kind: 'PriorityClass',
  listKind: 'PriorityClassList',
  namespaced: false,
  shortNames: ['pc'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults: defaultPriorityClass, validate: validatePriorityClass, generation: 'none' },
  printer: {
    columns: Object.freeze([
      NAME_COLUMN,
      column('Value', 'integer', 'The priority pods of this class get'),
      column('Global-Default', 'boolean', 'Whether pods without a priority class get this one'),
      AGE_COLUMN,
      column('PreemptionPolicy', 'string', 'Whether pods of this class may preempt pods of lower priority'),
    ]),
    cells: priorityClassCells,
  },
  schema: 'io.k8s.api.scheduling.v1.PriorityClass',
  bootstrap: () => SYSTEM_PRIORITY_CLASSES.map((c) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', ...c })),
};
