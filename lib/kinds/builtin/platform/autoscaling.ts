/**
 * autoscaling/v2 HorizontalPodAutoscaler (namespaced, in the "all" category, status
 * subresource): kube's defaults (autoscaling/v2 defaults.go), validation
 * (autoscaling/validation) and printHorizontalPodAutoscaler.
 *
 * Quantities are kept, printed and shown in errors in kube's canonical form ("1" for "1000m").
 * Left out: the checks of scaleTargetRef.apiVersion added in recent kube, and of a container
 * resource metric's resource name; kube's HPA strategy does not raise metadata.generation, so
 * neither does this one.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { isDNS1123Label } from '../../../validation/names.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { formatQuantity, quantityOf, quantitySign } from '../../quantity.ts';
import { isSet, list, nameErrors, nonnegative, num, obj, pathSegmentErrors, str, supported } from './validation.ts';

/** kube's DefaultCPUUtilization: the target of the metric an HPA without metrics gets. */
const DEFAULT_CPU_UTILIZATION = 80;
const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;

/** GenerateHPAScaleUpRules' defaults: no stabilization, the larger of +4 pods or +100% per 15 s. */
function scaleUpDefaults(): Record<string, unknown> {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** GenerateHPAScaleDownRules' defaults: -100% per 15 s; the stabilization window stays unset (the controller's flag decides). */
function scaleDownDefaults(): Record<string, unknown> {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** copyHPAScalingRules: the rules given, their unset fields from `defaults`; a rules value of the wrong type is left alone. */
function scalingRules(given: unknown, defaults: Record<string, unknown>): unknown {
  if (given === undefined || given === null) return defaults;
  if (!isPlainObject(given)) return given;
  const rules: Record<string, unknown> = {};
  // In the Go struct's order: stabilizationWindowSeconds, selectPolicy, policies, tolerance.
  const stabilization = isSet(given.stabilizationWindowSeconds) ? given.stabilizationWindowSeconds : defaults.stabilizationWindowSeconds;
  if (stabilization !== undefined) rules.stabilizationWindowSeconds = stabilization;
  rules.selectPolicy = isSet(given.selectPolicy) ? given.selectPolicy : defaults.selectPolicy;
  rules.policies = isSet(given.policies) ? given.policies : defaults.policies;
  if (isSet(given.tolerance)) rules.tolerance = given.tolerance;
  return rules;
}

/**
 * SetDefaults_HorizontalPodAutoscaler: minReplicas 1; without metrics, 80% average CPU
 * utilization; a behavior gets both scaling rules, their unset fields defaulted
 * (SetDefaults_HorizontalPodAutoscalerBehavior).
 */
function defaultHorizontalPodAutoscaler(object: KubeObject): KubeObject {
  const spec = object.spec;
  if (!isPlainObject(spec)) return object;
  if (!isSet(spec.minReplicas)) spec.minReplicas = 1;
  if (!isSet(spec.metrics) || (Array.isArray(spec.metrics) && spec.metrics.length === 0)) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  const behavior = spec.behavior;
  if (isPlainObject(behavior)) {
    behavior.scaleUp = scalingRules(behavior.scaleUp, scaleUpDefaults());
    behavior.scaleDown = scalingRules(behavior.scaleDown, scaleDownDefaults());
    for (const rules of [behavior.scaleUp, behavior.scaleDown]) {
      if (isPlainObject(rules) && isSet(rules.tolerance)) rules.tolerance = canonical(rules.tolerance);
    }
  }
  // Quantities read back as kube writes them, as its round trip through Go types does.
  canonicalMetricQuantities(spec.metrics, 'target');
  if (isPlainObject(object.status)) canonicalMetricQuantities(object.status.currentMetrics, 'current');
  return object;
}

/** The sign of a resource.Quantity (Quantity.Sign): -1, 0 or 1 (0 for what is no quantity). */
function signOf(value: unknown): number {
  const q = quantityOf(value);
  return q === undefined ? 0 : quantitySign(q);
}

/** A quantity as kube writes it back (Quantity.String()); what is no quantity as it is. */
function canonical(value: unknown): unknown {
  const q = quantityOf(value);
  return q === undefined ? value : formatQuantity(q);
}

/** Rewrites the quantities of metric targets or current values (value, averageValue) in kube's form. */
function canonicalMetricQuantities(metrics: unknown, part: 'target' | 'current'): void {
  for (const metric of list(metrics)) {
    for (const source of Object.values(obj(metric))) {
      const values = obj(obj(source)[part]);
      for (const key of ['value', 'averageValue']) if (isSet(values[key])) values[key] = canonical(values[key]);
    }
  }
}

/** ValidateCrossVersionObjectReference: a kind and a name, each a path segment. */
function crossVersionReferenceErrors(ref: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of ['kind', 'name']) {
    const value = str(ref[key]);
    if (value === '') errors.push({ type: 'FieldValueRequired', field: `${at}.${key}`, detail: '' });
    else errors.push(...pathSegmentErrors(value, `${at}.${key}`));
  }
  return errors;
}

/** validateMetricIdentifier. */
function metricIdentifierErrors(id: Record<string, unknown>, at: string): FieldError[] {
  const name = str(id.name);
  if (name === '') return [{ type: 'FieldValueRequired', field: `${at}.name`, detail: 'must specify a metric name' }];
  return pathSegmentErrors(name, `${at}.name`);
}

const TARGET_TYPES = ['Utilization', 'Value', 'AverageValue'];

/** validateMetricTarget. */
function metricTargetErrors(target: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  const type = str(target.type);
  if (type === '') errors.push({ type: 'FieldValueRequired', field: `${at}.type`, detail: 'must specify a metric target type' });
  if (!TARGET_TYPES.includes(type)) errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, value: type, detail: 'must be either Utilization, Value, or AverageValue' });
  for (const key of ['value', 'averageValue']) {
    if (isSet(target[key]) && signOf(target[key]) !== 1) errors.push({ type: 'FieldValueInvalid', field: `${at}.${key}`, value: String(canonical(target[key])), detail: 'must be positive' });
  }
  if (isSet(target.averageUtilization) && num(target.averageUtilization) < 1) {
    errors.push({ type: 'FieldValueInvalid', field: `${at}.averageUtilization`, value: num(target.averageUtilization), detail: 'must be greater than 0' });
  }
  return errors;
}

/** The checks of a Resource or ContainerResource metric's target: a utilization or an average value, one of them. */
function resourceTargetErrors(target: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!isSet(target.averageUtilization) && !isSet(target.averageValue)) {
    errors.push({ type: 'FieldValueRequired', field: `${at}.target.averageUtilization`, detail: 'must set either a target raw value or a target utilization' });
  }
  if (isSet(target.averageUtilization) && isSet(target.averageValue)) {
    errors.push({ type: 'FieldValueForbidden', field: `${at}.target.averageValue`, detail: 'may not set both a target raw value and a target utilization' });
  }
  return errors;
}

/** The checks of each metric source, by its field name in MetricSpec. */
const SOURCE_CHECKS: Record<string, (source: Record<string, unknown>, at: string) => FieldError[]> = {
  object: (source, at) => {
    const target = obj(source.target);
    const errors = [...crossVersionReferenceErrors(obj(source.describedObject), `${at}.describedObject`), ...metricIdentifierErrors(obj(source.metric), `${at}.metric`), ...metricTargetErrors(target, `${at}.target`)];
    if (!isSet(target.value) && !isSet(target.averageValue)) {
      errors.push({ type: 'FieldValueRequired', field: `${at}.target.averageValue`, detail: 'must set either a target value or averageValue' });
    }
    return errors;
  },
  external: (source, at) => {
    const target = obj(source.target);
    const errors = [...metricIdentifierErrors(obj(source.metric), `${at}.metric`), ...metricTargetErrors(target, `${at}.target`)];
    if (!isSet(target.value) && !isSet(target.averageValue)) {
      errors.push({ type: 'FieldValueRequired', field: `${at}.target.averageValue`, detail: 'must set either a target value for metric or a per-pod target' });
    }
    if (isSet(target.value) && isSet(target.averageValue)) {
      errors.push({ type: 'FieldValueForbidden', field: `${at}.target.value`, detail: 'may not set both a target value for metric and a per-pod target' });
    }
    return errors;
  },
  pods: (source, at) => {
    const target = obj(source.target);
    const errors = [...metricIdentifierErrors(obj(source.metric), `${at}.metric`), ...metricTargetErrors(target, `${at}.target`)];
    if (!isSet(target.averageValue)) errors.push({ type: 'FieldValueRequired', field: `${at}.target.averageValue`, detail: 'must specify a positive target averageValue' });
    return errors;
  },
  resource: (source, at) => {
    const errors: FieldError[] = [];
    if (str(source.name) === '') errors.push({ type: 'FieldValueRequired', field: `${at}.name`, detail: 'must specify a resource name' });
    const target = obj(source.target);
    errors.push(...metricTargetErrors(target, `${at}.target`), ...resourceTargetErrors(target, at));
    return errors;
  },
  containerResource: (source, at) => {
    const errors: FieldError[] = [];
    if (str(source.name) === '') errors.push({ type: 'FieldValueRequired', field: `${at}.name`, detail: 'must specify a resource name' });
    const container = str(source.container);
    if (container === '') errors.push({ type: 'FieldValueRequired', field: `${at}.container`, detail: 'must specify a container' });
    else errors.push(...nameErrors(isDNS1123Label, container, `${at}.container`));
    const target = obj(source.target);
    errors.push(...metricTargetErrors(target, `${at}.target`), ...resourceTargetErrors(target, at));
    return errors;
  },
};

/** MetricSpec.type -> the field holding its source. */
const SOURCE_OF_TYPE: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource' };
const METRIC_TYPES = Object.keys(SOURCE_OF_TYPE).sort();

/**
 * validateMetricSpec: a known type and exactly its source. Only the first source present (in
 * MetricSpec's order) is checked; an unknown type is named twice, as kube does.
 */
function metricSpecErrors(spec: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  const type = str(spec.type);
  if (type === '') errors.push({ type: 'FieldValueRequired', field: `${at}.type`, detail: 'must specify a metric source type' });
  if (!METRIC_TYPES.includes(type)) errors.push({ type: 'FieldValueNotSupported', field: `${at}.type`, value: type, detail: supported(METRIC_TYPES) });
  const present: string[] = [];
  for (const key of ['object', 'external', 'pods', 'resource', 'containerResource']) {
    if (!isSet(spec[key])) continue;
    present.push(key);
    if (present.length === 1) errors.push(...(SOURCE_CHECKS[key]?.(obj(spec[key]), `${at}.${key}`) ?? []));
  }
  const expected = SOURCE_OF_TYPE[type];
  if (expected === undefined) {
    errors.push({ type: 'FieldValueNotSupported', field: `${at}.type`, value: type, detail: supported(METRIC_TYPES) });
  } else if (!isSet(spec[expected])) {
    errors.push({ type: 'FieldValueRequired', field: `${at}.${expected}`, detail: 'must populate information for the given metric source' });
  }
  if (present.length !== 1) {
    // kube walks a Go map here, in no set order; sorted here so the answer is stable.
    for (const key of present.filter((k) => k !== expected).sort()) {
      errors.push({ type: 'FieldValueForbidden', field: `${at}.${key}`, detail: 'must populate the given metric source only' });
    }
  }
  return errors;
}

const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const SCALING_POLICY_TYPES = ['Percent', 'Pods'];

/** validateScalingRules of a behavior's scaleUp or scaleDown. */
function scalingRulesErrors(rules: unknown, at: string): FieldError[] {
  if (!isSet(rules)) return [];
  const r = obj(rules);
  const errors: FieldError[] = [];
  if (isSet(r.stabilizationWindowSeconds)) {
    const window = num(r.stabilizationWindowSeconds);
    const where = `${at}.stabilizationWindowSeconds`;
    if (window < 0) errors.push({ type: 'FieldValueInvalid', field: where, value: window, detail: 'must be greater than or equal to zero' });
    if (window > MAX_STABILIZATION_WINDOW_SECONDS) {
      errors.push({ type: 'FieldValueInvalid', field: where, value: window, detail: `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}` });
    }
  }
  if (isSet(r.selectPolicy) && !SELECT_POLICIES.includes(str(r.selectPolicy))) {
    errors.push({ type: 'FieldValueNotSupported', field: `${at}.selectPolicy`, value: str(r.selectPolicy), detail: supported(SELECT_POLICIES) });
  }
  const policies = list(r.policies);
  if (policies.length === 0) errors.push({ type: 'FieldValueRequired', field: `${at}.policies`, detail: 'must specify at least one Policy' });
  policies.forEach((raw, i) => {
    const policy = obj(raw);
    const where = `${at}.policies[${i}]`;
    const type = str(policy.type);
    if (!SCALING_POLICY_TYPES.includes(type)) errors.push({ type: 'FieldValueNotSupported', field: `${where}.type`, value: type, detail: supported(SCALING_POLICY_TYPES) });
    const value = num(policy.value);
    if (value <= 0) errors.push({ type: 'FieldValueInvalid', field: `${where}.value`, value, detail: 'must be greater than zero' });
    const period = num(policy.periodSeconds);
    if (period <= 0) errors.push({ type: 'FieldValueInvalid', field: `${where}.periodSeconds`, value: period, detail: 'must be greater than zero' });
    if (period > MAX_PERIOD_SECONDS) {
      errors.push({ type: 'FieldValueInvalid', field: `${where}.periodSeconds`, value: period, detail: `must be less than or equal to ${MAX_PERIOD_SECONDS}` });
    }
  });
  return errors;
}

/**
 * ValidateHorizontalPodAutoscaler(Update): replica bounds (minReplicas may be 0 only if the
 * stored object already has it: HPAScaleToZero is off), the target reference, the metrics and
 * the behavior.
 */
function validateHorizontalPodAutoscaler(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj(object.spec);
  const errors: FieldError[] = [];
  const lowerBound = old !== undefined && obj(old.spec).minReplicas === 0 ? 0 : 1;
  const hasMin = isSet(spec.minReplicas);
  const min = num(spec.minReplicas);
  const max = num(spec.maxReplicas);
  if (hasMin && min < lowerBound) errors.push({ type: 'FieldValueInvalid', field: 'spec.minReplicas', value: min, detail: `must be greater than or equal to ${lowerBound}` });
  if (max < 1) errors.push({ type: 'FieldValueInvalid', field: 'spec.maxReplicas', value: max, detail: 'must be greater than 0' });
  if (hasMin && max < min) errors.push({ type: 'FieldValueInvalid', field: 'spec.maxReplicas', value: max, detail: 'must be greater than or equal to `minReplicas`' });
  errors.push(...crossVersionReferenceErrors(obj(spec.scaleTargetRef), 'spec.scaleTargetRef'));
  const metrics = list(spec.metrics);
  metrics.forEach((m, i) => errors.push(...metricSpecErrors(obj(m), `spec.metrics[${i}]`)));
  if (hasMin && min === 0 && !metrics.some((m) => ['Object', 'External'].includes(str(obj(m).type)))) {
    errors.push({ type: 'FieldValueForbidden', field: 'spec.metrics', detail: 'must specify at least one Object or External metric to support scaling to zero replicas' });
  }
  if (isSet(spec.behavior)) {
    const behavior = obj(spec.behavior);
    errors.push(...scalingRulesErrors(behavior.scaleUp, 'spec.behavior.scaleUp'), ...scalingRulesErrors(behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errors;
}

/** ValidateHorizontalPodAutoscalerStatusUpdate: non-negative replica counts. */
function validateHorizontalPodAutoscalerStatus(object: KubeObject): FieldError[] {
  const status = obj(object.status);
  return [...nonnegative(status.currentReplicas, 'status.currentReplicas'), ...nonnegative(status.desiredReplicas, 'status.desiredReplicas')];
}

/** A *Quantity as Go prints it: its canonical string, "<nil>" for a nil pointer. */
function quantity(value: unknown): string {
  return isSet(value) ? String(canonical(value)) : '<nil>';
}

/** One metric of formatHPAMetrics: "current/target", "<unknown>" until the controller reports. */
function formatMetric(spec: Record<string, unknown>, status: Record<string, unknown> | undefined): string {
  const type = str(spec.type);
  const key = SOURCE_OF_TYPE[type];
  if (key === undefined) return '<unknown type>';
  const target = obj(obj(spec[key]).target);
  const reported = status !== undefined && isSet(status[key]) ? obj(obj(status[key]).current) : undefined;
  if (key === 'pods') return `${reported === undefined ? '<unknown>' : quantity(reported.averageValue)}/${quantity(target.averageValue)}`;
  if (key === 'external' || key === 'object') {
    if (isSet(target.averageValue)) {
      const current = reported !== undefined && isSet(reported.averageValue) ? quantity(reported.averageValue) : '<unknown>';
      return `${current}/${quantity(target.averageValue)} (avg)`;
    }
    return `${reported === undefined ? '<unknown>' : quantity(reported.value)}/${quantity(target.value)}`;
  }
  // Resource and ContainerResource: "<name>: current/target", by average value or utilization.
  const name = str(obj(spec[key]).name);
  if (isSet(target.averageValue)) return `${name}: ${reported === undefined ? '<unknown>' : quantity(reported.averageValue)}/${quantity(target.averageValue)}`;
  const current = reported !== undefined && isSet(reported.averageUtilization) ? `${Math.trunc(num(reported.averageUtilization))}%` : '<unknown>';
  const goal = isSet(target.averageUtilization) ? `${Math.trunc(num(target.averageUtilization))}%` : '<auto>';
  return `${name}: ${current}/${goal}`;
}

/** formatHPAMetrics: the first two metrics, "+ N more..." past them, "<none>" without any. */
function formatMetrics(specs: unknown[], statuses: unknown[]): string {
  if (specs.length === 0) return '<none>';
  const max = 2;
  const all = specs.map((s, i) => formatMetric(obj(s), isSet(statuses[i]) ? obj(statuses[i]) : undefined));
  const text = all.slice(0, max).join(', ');
  return all.length > max ? `${text} + ${all.length - max} more...` : text;
}

/** printHorizontalPodAutoscaler: NAME, REFERENCE, TARGETS, MINPODS ("<unset>"), MAXPODS, REPLICAS, AGE. */
function horizontalPodAutoscalerCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = field(object, 'spec');
  const status = field(object, 'status');
  const ref = obj(spec.scaleTargetRef);
  const minPods = isSet(spec.minReplicas) ? String(Math.trunc(num(spec.minReplicas))) : '<unset>';
  return [
    nameOf(object),
    `${str(ref.kind)}/${str(ref.name)}`,
    formatMetrics(list(spec.metrics), list(status.currentMetrics)),
    minPods,
    Math.trunc(num(spec.maxReplicas)),
    Math.trunc(num(status.currentReplicas)),
    ageOf(object, now),
  ];
}

export const HORIZONTAL_POD_AUTOSCALER: KindDefinition = {
  source: 'builtin',
  group: 'autoscaling',
  version: 'v2',
  resource: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  kind: 'HorizontalPodAutoscaler',
  listKind: 'HorizontalPodAutoscalerList',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults: defaultHorizontalPodAutoscaler, validate: validateHorizontalPodAutoscaler, generation: 'none' },
  statusStrategy: { validate: validateHorizontalPodAutoscalerStatus },
  printer: {
    columns: Object.freeze([
      NAME_COLUMN,
      column('Reference', 'string', 'The resource whose replicas the autoscaler sets'),
      column('Targets', 'string', 'Current and target values of the metrics the replica count is computed from'),
      column('MinPods', 'string', 'The fewest replicas the autoscaler scales down to'),
      column('MaxPods', 'string', 'The most replicas the autoscaler scales up to'),
      column('Replicas', 'string', 'The replicas the autoscaler last saw'),
      AGE_COLUMN,
    ]),
    cells: horizontalPodAutoscalerCells,
  },
  schema: 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
};
