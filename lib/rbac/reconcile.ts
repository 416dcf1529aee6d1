/**
 * kube-apiserver's reconciliation of the bootstrap RBAC objects (pkg/registry/rbac/reconciliation,
 * as the rbac/bootstrap-roles post-start hook runs it: in union mode). Given what is stored and
 * what the bootstrap policy expects: missing rules, aggregation selectors and subjects are
 * added, labels and annotations united (the stored values winning), nothing is removed; an
 * object annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is left alone.
 */
import { isPlainObject, type KubeObject } from '../kube.ts';
import { covers, policyRuleJson, rulesOf } from './rules.ts';
import { bindingFrom, type Subject } from './rbac-index.ts';

/** The annotation that keeps reconciliation off an object when "false". */
export const AUTO_UPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';

type Json = Record<string, unknown>;

function clone<T>(value: T): T {
  return structuredClone(value);
}

function stringMap(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

function metaOf(object: Json): Json {
  return isPlainObject(object.metadata) ? object.metadata : {};
}

function protectedObject(existing: Json): boolean {
  return stringMap(metaOf(existing).annotations)[AUTO_UPDATE_ANNOTATION] === 'false';
}

function sameMap(a: unknown, b: Record<string, string>): boolean {
  // reflect.DeepEqual: an absent map differs from a non-empty one, and equals an empty one only when both are absent.
  if (!isPlainObject(a)) return false;
  const x = stringMap(a);
  const keys = Object.keys(x);
  return keys.length === Object.keys(b).length && keys.every((k) => x[k] === b[k]);
}

/**
 * Unites expected labels and annotations into `result` (the stored values win); true when that
 * changed them.
 */
function mergeMetadata(result: Json, existing: Json, expected: Json): boolean {
  const meta = metaOf(result);
  result.metadata = meta;
  let changed = false;
  for (const field of ['annotations', 'labels'] as const) {
    const expectedMap = stringMap(metaOf(expected)[field]);
    const existingRaw = metaOf(existing)[field];
    const merged = { ...expectedMap, ...stringMap(existingRaw) };
    if (Object.keys(merged).length === 0 && !isPlainObject(existingRaw)) continue;
    if (!sameMap(existingRaw, merged)) changed = true;
    meta[field] = merged;
  }
  return changed;
}

function selectorsOf(object: Json): unknown[] | undefined {
  if (!isPlainObject(object.aggregationRule)) return undefined;
  const selectors = object.aggregationRule.clusterRoleSelectors;
  return Array.isArray(selectors) ? selectors : [];
}

/** equality.Semantic.DeepEqual of two label selectors as JSON (absent and empty alike). */
function sameSelector(a: unknown, b: unknown): boolean {
  const norm = (s: unknown): string => {
    const o = isPlainObject(s) ? s : {};
    const labels = stringMap(o.matchLabels);
    const exprs = Array.isArray(o.matchExpressions) ? o.matchExpressions : [];
    return JSON.stringify([Object.entries(labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)), exprs]);
  };
  return norm(a) === norm(b);
}

/**
 * reconcileRole for a Role or ClusterRole: the object to write, or undefined when `existing`
 * needs nothing or is protected. With no `existing`, `expected` (to create).
 */
export function reconcileRole(existing: KubeObject | undefined, expected: KubeObject): KubeObject | undefined {
  if (existing === undefined) return clone(expected);
  const result = clone(existing) as KubeObject;
  let changed = mergeMetadata(result, existing, expected);

  const { missing } = covers(rulesOf(existing), rulesOf(expected));
  if (missing.length > 0) {
    result.rules = [...(Array.isArray(existing.rules) ? clone(existing.rules) : []), ...missing.map(policyRuleJson)];
    changed = true;
  }

  const expectedSelectors = selectorsOf(expected);
  const existingSelectors = selectorsOf(existing);
  if (expectedSelectors === undefined && existingSelectors !== undefined) {
    delete result.aggregationRule;
    changed = true;
  } else if (expectedSelectors !== undefined) {
    const missingSelectors = expectedSelectors.filter((s) => !(existingSelectors ?? []).some((e) => sameSelector(e, s)));
    if (missingSelectors.length > 0) {
      result.aggregationRule = { clusterRoleSelectors: [...clone(existingSelectors ?? []), ...clone(missingSelectors)] };
      changed = true;
    }
  }

  if (!changed || protectedObject(existing)) return undefined;
  return result;
}

function sameSubject(a: Subject, b: Subject): boolean {
  return a.kind === b.kind && a.apiGroup === b.apiGroup && a.name === b.name && a.namespace === b.namespace;
}

/**
 * reconcileBinding for a RoleBinding or ClusterRoleBinding: the object to write, or undefined
 * when `existing` needs nothing or is protected. The object is `existing` with what it lacks
 * (an update, it keeps existing's resourceVersion), or, when the roleRef differs (a roleRef
 * cannot change), `expected` itself without a resourceVersion: the caller deletes the existing
 * binding and creates it. With no `existing`, `expected` (to create).
 */
export function reconcileBinding(existing: KubeObject | undefined, expected: KubeObject): KubeObject | undefined {
  if (existing === undefined) return clone(expected);
  const existingRef = bindingFrom(existing).roleRef;
  const expectedRef = bindingFrom(expected).roleRef;
  const recreate = existingRef.apiGroup !== expectedRef.apiGroup || existingRef.kind !== expectedRef.kind || existingRef.name !== expectedRef.name;
  if (recreate) return protectedObject(existing) ? undefined : clone(expected);

  const result = clone(existing) as KubeObject;
  let changed = mergeMetadata(result, existing, expected);
  const have = bindingFrom(existing).subjects;
  const expectedRaw = Array.isArray(expected.subjects) ? expected.subjects : [];
  const missing = expectedRaw.filter((_, i) => {
    const want = bindingFrom(expected).subjects[i] as Subject;
    return !have.some((h) => sameSubject(h, want));
  });
  if (missing.length > 0) {
    result.subjects = [...(Array.isArray(existing.subjects) ? clone(existing.subjects) : []), ...clone(missing)];
    changed = true;
  }
  if (!changed || protectedObject(existing)) return undefined;
  return result;
}
