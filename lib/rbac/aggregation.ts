/**
 * ClusterRole aggregation as kube-controller-manager's clusterrole-aggregation controller
 * computes it: the rules of an aggregated ClusterRole are those of every other ClusterRole
 * whose labels match one of its aggregationRule.clusterRoleSelectors, selector by selector,
 * the matching roles of each in name order, each rule once (the first time it is met).
 */
import { isPlainObject } from '../kube.ts';
import { labelSelectorAsSelector, selectorMatches } from '../label-selector.ts';
import { compareGoStrings, rulesEqual, rulesOf, type PolicyRule } from './rules.ts';

/** A ClusterRole as JSON. */
type ClusterRoleJson = Record<string, unknown>;

function nameOf(object: ClusterRoleJson): string {
  const meta = isPlainObject(object.metadata) ? object.metadata : {};
  return typeof meta.name === 'string' ? meta.name : '';
}

function labelsOf(object: ClusterRoleJson): unknown {
  const meta = isPlainObject(object.metadata) ? object.metadata : {};
  return meta.labels;
}

/** The role's clusterRoleSelectors, or undefined when it has no aggregationRule. */
export function aggregationSelectors(role: ClusterRoleJson): unknown[] | undefined {
  if (!isPlainObject(role.aggregationRule)) return undefined;
  const selectors = role.aggregationRule.clusterRoleSelectors;
  return Array.isArray(selectors) ? selectors : [];
}

/**
 * The rules `role` aggregates from `clusterRoles` (all the cluster's ClusterRoles; `role` itself
 * among them is skipped), or undefined when it has no aggregationRule. A selector that does not
 * convert selects nothing (the controller gives up on the role; validation refuses such selectors).
 */
export function aggregatedRules(role: ClusterRoleJson, clusterRoles: Iterable<ClusterRoleJson>): PolicyRule[] | undefined {
  const selectors = aggregationSelectors(role);
  if (selectors === undefined) return undefined;
  const self = nameOf(role);
  const sorted = [...clusterRoles].sort((a, b) => compareGoStrings(nameOf(a), nameOf(b)));
  const rules: PolicyRule[] = [];
  for (const raw of selectors) {
    const selector = labelSelectorAsSelector(raw);
    if (selector === undefined) continue;
    for (const other of sorted) {
      if (nameOf(other) === self || !selectorMatches(selector, labelsOf(other))) continue;
      for (const rule of rulesOf(other)) if (!rules.some((r) => rulesEqual(r, rule))) rules.push(rule);
    }
  }
  return rules;
}

/** Whether `role`'s stored rules already are `rules` (the controller writes only when not). */
export function sameRules(role: ClusterRoleJson, rules: readonly PolicyRule[]): boolean {
  const current = rulesOf(role);
  return current.length === rules.length && current.every((r, i) => rulesEqual(r, rules[i] as PolicyRule));
}
