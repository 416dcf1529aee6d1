/**
 * autoscaling/v1 HorizontalPodAutoscaler <-> autoscaling/v2 (the stored form), as kube converts
 * them. v1 has one target, CPU utilization (`spec.targetCPUUtilizationPercentage`, and
 * `status.currentCPUUtilizationPercentage`); everything v2 says beyond it travels in v1 as
 * annotations, so that a v1 client's read-modify-write keeps it:
 * `autoscaling.alpha.kubernetes.io/metrics` (the other metric specs, in v1's MetricSpec form),
 * `.../current-metrics` (the metric statuses), `.../conditions` and `.../behavior`. Converting
 * back reads them and drops them.
 */
import { isPlainObject, type KubeObject } from '../../../kube.ts';

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP = [METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj {
  return isPlainObject(value) ? value : {};
}

/** `out` with the keys of `pairs` whose values are set (Go's omitempty of pointers and strings). */
function pick(pairs: readonly (readonly [string, unknown])[]): Obj {
  const out: Obj = {};
  for (const [key, value] of pairs) if (value !== undefined && value !== null && value !== '') out[key] = value;
  return out;
}

function isCpuUtilization(metric: Obj): boolean {
  const resource = obj(metric.resource);
  return metric.type === 'Resource' && resource.name === 'cpu' && obj(resource.target).type === 'Utilization';
}

/** A v2 MetricTarget as v1's fields, by the names `names` gives them (value, averageValue, averageUtilization). */
function targetFields(target: unknown, names: { value?: string; averageValue?: string; averageUtilization?: string }): [string, unknown][] {
  const t = obj(target);
  const out: [string, unknown][] = [];
  if (names.averageUtilization !== undefined) out.push([names.averageUtilization, t.averageUtilization]);
  if (names.value !== undefined) out.push([names.value, t.value]);
  if (names.averageValue !== undefined) out.push([names.averageValue, t.averageValue]);
  return out;
}

/** v2 MetricSpec -> v1 MetricSpec (the old form: targetAverageUtilization, metricName, ...). */
function specToV1(metric: Obj): Obj {
  const type = metric.type;
  switch (type) {
    case 'Resource': {
      const r = obj(metric.resource);
      return { type, resource: pick([['name', r.name], ...targetFields(r.target, { averageUtilization: 'targetAverageUtilization', averageValue: 'targetAverageValue' })]) };
    }
    case 'ContainerResource': {
      const r = obj(metric.containerResource);
      return {
        type,
        containerResource: pick([['name', r.name], ...targetFields(r.target, { averageUtilization: 'targetAverageUtilization', averageValue: 'targetAverageValue' }), ['container', r.container]]),
      };
    }
    case 'Pods': {
      const p = obj(metric.pods);
      const m = obj(p.metric);
      return { type, pods: pick([['metricName', m.name], ...targetFields(p.target, { averageValue: 'targetAverageValue' }), ['selector', m.selector]]) };
    }
    case 'Object': {
      const o = obj(metric.object);
      const m = obj(o.metric);
      return {
        type,
        object: pick([['target', o.describedObject], ['metricName', m.name], ...targetFields(o.target, { value: 'targetValue' }), ['selector', m.selector], ...targetFields(o.target, { averageValue: 'averageValue' })]),
      };
    }
    case 'External': {
      const e = obj(metric.external);
      const m = obj(e.metric);
      return {
        type,
        external: pick([['metricName', m.name], ['metricSelector', m.selector], ...targetFields(e.target, { value: 'targetValue', averageValue: 'targetAverageValue' })]),
      };
    }
    default:
      return pick([['type', type]]);
  }
}

/** The v2 MetricTarget of v1's fields: utilization first, then an average value, then a value. */
function targetOf(utilization: unknown, averageValue: unknown, value?: unknown): Obj {
  if (utilization !== undefined && utilization !== null) return { type: 'Utilization', averageUtilization: utilization };
  if (averageValue !== undefined && averageValue !== null) return { type: 'AverageValue', averageValue };
  if (value !== undefined && value !== null) return { type: 'Value', value };
  return {};
}

/** v1 MetricSpec -> v2 MetricSpec. */
function specToV2(metric: Obj): Obj {
  const type = metric.type;
  switch (type) {
    case 'Resource': {
      const r = obj(metric.resource);
      return { type, resource: { name: r.name, target: targetOf(r.targetAverageUtilization, r.targetAverageValue) } };
    }
    case 'ContainerResource': {
      const r = obj(metric.containerResource);
      return { type, containerResource: { name: r.name, container: r.container, target: targetOf(r.targetAverageUtilization, r.targetAverageValue) } };
    }
    case 'Pods': {
      const p = obj(metric.pods);
      return { type, pods: { metric: pick([['name', p.metricName], ['selector', p.selector]]), target: targetOf(undefined, p.targetAverageValue) } };
    }
    case 'Object': {
      const o = obj(metric.object);
      return { type, object: { describedObject: o.target, metric: pick([['name', o.metricName], ['selector', o.selector]]), target: targetOf(undefined, o.averageValue, o.targetValue) } };
    }
    case 'External': {
      const e = obj(metric.external);
      return { type, external: { metric: pick([['name', e.metricName], ['selector', e.metricSelector]]), target: targetOf(undefined, e.targetAverageValue, e.targetValue) } };
    }
    default:
      return pick([['type', type]]);
  }
}

/** v2 MetricValueStatus fields as v1's names. */
function currentFields(current: unknown, names: { value?: string; averageValue?: string; averageUtilization?: string }): [string, unknown][] {
  return targetFields(current, names);
}

/** v2 MetricStatus -> v1 MetricStatus. */
function statusToV1(metric: Obj): Obj {
  const type = metric.type;
  switch (type) {
    case 'Resource': {
      const r = obj(metric.resource);
      return { type, resource: pick([['name', r.name], ...currentFields(r.current, { averageUtilization: 'currentAverageUtilization', averageValue: 'currentAverageValue' })]) };
    }
    case 'ContainerResource': {
      const r = obj(metric.containerResource);
      return {
        type,
        containerResource: pick([['name', r.name], ...currentFields(r.current, { averageUtilization: 'currentAverageUtilization', averageValue: 'currentAverageValue' }), ['container', r.container]]),
      };
    }
    case 'Pods': {
      const p = obj(metric.pods);
      const m = obj(p.metric);
      return { type, pods: pick([['metricName', m.name], ...currentFields(p.current, { averageValue: 'currentAverageValue' }), ['selector', m.selector]]) };
    }
    case 'Object': {
      const o = obj(metric.object);
      const m = obj(o.metric);
      return {
        type,
        object: pick([['target', o.describedObject], ['metricName', m.name], ...currentFields(o.current, { value: 'currentValue' }), ['selector', m.selector], ...currentFields(o.current, { averageValue: 'averageValue' })]),
      };
    }
    case 'External': {
      const e = obj(metric.external);
      const m = obj(e.metric);
      return {
        type,
        external: pick([['metricName', m.name], ['metricSelector', m.selector], ...currentFields(e.current, { value: 'currentValue', averageValue: 'currentAverageValue' })]),
      };
    }
    default:
      return pick([['type', type]]);
  }
}

/** v1 MetricStatus -> v2 MetricStatus. */
function statusToV2(metric: Obj): Obj {
  const type = metric.type;
  const current = (pairs: [string, unknown][]): Obj => pick(pairs);
  switch (type) {
    case 'Resource': {
      const r = obj(metric.resource);
      return { type, resource: { name: r.name, current: current([['averageValue', r.currentAverageValue], ['averageUtilization', r.currentAverageUtilization]]) } };
    }
    case 'ContainerResource': {
      const r = obj(metric.containerResource);
      return {
        type,
        containerResource: { name: r.name, container: r.container, current: current([['averageValue', r.currentAverageValue], ['averageUtilization', r.currentAverageUtilization]]) },
      };
    }
    case 'Pods': {
      const p = obj(metric.pods);
      return { type, pods: { metric: pick([['name', p.metricName], ['selector', p.selector]]), current: current([['averageValue', p.currentAverageValue]]) } };
    }
    case 'Object': {
      const o = obj(metric.object);
      return {
        type,
        object: { describedObject: o.target, metric: pick([['name', o.metricName], ['selector', o.selector]]), current: current([['value', o.currentValue], ['averageValue', o.averageValue]]) },
      };
    }
    case 'External': {
      const e = obj(metric.external);
      return {
        type,
        external: { metric: pick([['name', e.metricName], ['selector', e.metricSelector]]), current: current([['value', e.currentValue], ['averageValue', e.currentAverageValue]]) },
      };
    }
    default:
      return pick([['type', type]]);
  }
}

/** The JSON array (or object) an annotation holds; undefined when absent or not JSON of that shape. */
function annotationJson(annotations: Obj, key: string, array: boolean): unknown {
  const text = annotations[key];
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return array ? (Array.isArray(value) ? value : undefined) : isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function list(value: unknown): Obj[] {
  return Array.isArray(value) ? value.map(obj) : [];
}

/** An autoscaling/v1 HorizontalPodAutoscaler as the autoscaling/v2 object it is stored as. */
export function autoscalingV1ToV2(object: KubeObject): KubeObject {
  const metadata = { ...obj(object.metadata) };
  const annotations = obj(metadata.annotations);
  const spec = obj(object.spec);
  const status = obj(object.status);
  const metrics: Obj[] = [];
  if (typeof spec.targetCPUUtilizationPercentage === 'number') {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  for (const metric of list(annotationJson(annotations, METRICS_ANNOTATION, true))) metrics.push(specToV2(metric));
  const behavior = annotationJson(annotations, BEHAVIOR_ANNOTATION, false);
  let currentMetrics = list(annotationJson(annotations, CURRENT_METRICS_ANNOTATION, true)).map(statusToV2);
  if (currentMetrics.length === 0 && typeof status.currentCPUUtilizationPercentage === 'number') {
    currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
  }
  const conditions = annotationJson(annotations, CONDITIONS_ANNOTATION, true);
  if (isPlainObject(metadata.annotations)) {
    const kept = Object.fromEntries(Object.entries(annotations).filter(([key]) => !ROUND_TRIP.includes(key)));
    if (Object.keys(kept).length === 0) delete metadata.annotations;
    else metadata.annotations = kept;
  }
  const out: KubeObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata };
  const v2spec: Obj = pick([['scaleTargetRef', spec.scaleTargetRef], ['minReplicas', spec.minReplicas], ['maxReplicas', spec.maxReplicas]]);
  if (metrics.length > 0) v2spec.metrics = metrics;
  if (behavior !== undefined) v2spec.behavior = behavior;
  out.spec = v2spec;
  if (object.status !== undefined) {
    const v2status: Obj = pick([
      ['observedGeneration', status.observedGeneration],
      ['lastScaleTime', status.lastScaleTime],
      ['currentReplicas', status.currentReplicas],
      ['desiredReplicas', status.desiredReplicas],
    ]);
    if (currentMetrics.length > 0) v2status.currentMetrics = currentMetrics;
    if (conditions !== undefined) v2status.conditions = conditions;
    out.status = v2status;
  }
  return out;
}

/** A stored autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1 shows it. */
export function autoscalingV2ToV1(object: KubeObject): KubeObject {
  const metadata = { ...obj(object.metadata) };
  const spec = obj(object.spec);
  const status = obj(object.status);
  const metrics = list(spec.metrics);
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  const currentMetrics = list(status.currentMetrics);
  const cpuCurrent = currentMetrics.find((m) => m.type === 'Resource' && obj(m.resource).name === 'cpu' && obj(obj(m.resource).current).averageUtilization !== undefined);
  const conditions = Array.isArray(status.conditions) && status.conditions.length > 0 ? status.conditions : undefined;
  const extra: Obj = {};
  if (others.length > 0) extra[METRICS_ANNOTATION] = JSON.stringify(others.map(specToV1));
  if (currentMetrics.length > 0) extra[CURRENT_METRICS_ANNOTATION] = JSON.stringify(currentMetrics.map(statusToV1));
  if (conditions !== undefined) extra[CONDITIONS_ANNOTATION] = JSON.stringify(conditions);
  if (isPlainObject(spec.behavior)) extra[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);
  if (Object.keys(extra).length > 0) metadata.annotations = { ...obj(metadata.annotations), ...extra };
  const out: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata };
  out.spec = pick([
    ['scaleTargetRef', spec.scaleTargetRef],
    ['minReplicas', spec.minReplicas],
    ['maxReplicas', spec.maxReplicas],
    ['targetCPUUtilizationPercentage', cpu === undefined ? undefined : obj(obj(cpu.resource).target).averageUtilization],
  ]);
  if (object.status !== undefined) {
    out.status = pick([
      ['observedGeneration', status.observedGeneration],
      ['lastScaleTime', status.lastScaleTime],
      ['currentReplicas', status.currentReplicas],
      ['desiredReplicas', status.desiredReplicas],
      ['currentCPUUtilizationPercentage', cpuCurrent === undefined ? undefined : obj(obj(cpuCurrent.resource).current).averageUtilization],
    ]);
  }
  return out;
}
