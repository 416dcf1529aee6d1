/**
 * RBAC's policy rules as kube evaluates them: whether a rule allows a request
 * (rbac.RuleAllows and rbacv1helpers' VerbMatches, APIGroupMatches, ResourceMatches,
 * ResourceNameMatches, NonResourceURLMatches), whether some rules cover others (the escalation
 * check's Covers, with BreakdownRule), and how the escalation error names what is missing
 * (CompactRules, CompactString, ConfirmNoEscalation's message).
 *
 * lib/ imports no service, so the shapes here are structural twins of services/auth/api.ts's
 * PolicyRule, UserInfo and Attributes: a value of one is a value of the other.
 */
import { goQuote } from '../go-strconv.ts';
import { isPlainObject } from '../kube.ts';

/** rbacv1.PolicyRule, every list present (absent in JSON reads as empty). */
export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

/** user.Info as RBAC reads it. */
export interface RbacUser {
  username: string;
  groups: readonly string[];
}

/** authorizer.Attributes as RBAC reads it. */
export interface RequestAttributes {
  user: RbacUser;
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

/** The wildcard of verbs, groups, resources and non-resource URLs (rbacv1.VerbAll and friends). */
export const ALL = '*';

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A rule from JSON (a stored object's `rules[i]`); what is absent or mistyped reads as empty. */
export function policyRuleFrom(raw: unknown): PolicyRule {
  const r = isPlainObject(raw) ? raw : {};
  return {
    verbs: strings(r.verbs),
    apiGroups: strings(r.apiGroups),
    resources: strings(r.resources),
    resourceNames: strings(r.resourceNames),
    nonResourceURLs: strings(r.nonResourceURLs),
  };
}

/** The rules of a Role or ClusterRole as JSON (`rules` absent or null: none). */
export function rulesOf(object: Record<string, unknown>): PolicyRule[] {
  return Array.isArray(object.rules) ? object.rules.map(policyRuleFrom) : [];
}

/** A rule as JSON the way kube serializes it: empty lists left out. */
export function policyRuleJson(rule: PolicyRule): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (rule.apiGroups.length > 0) out.apiGroups = [...rule.apiGroups];
  if (rule.nonResourceURLs.length > 0) out.nonResourceURLs = [...rule.nonResourceURLs];
  if (rule.resourceNames.length > 0) out.resourceNames = [...rule.resourceNames];
  if (rule.resources.length > 0) out.resources = [...rule.resources];
  out.verbs = [...rule.verbs];
  return out;
}

/** Two rules equal field by field, in order (equality.Semantic.DeepEqual: nil and empty lists alike). */
export function rulesEqual(a: PolicyRule, b: PolicyRule): boolean {
  const same = (x: readonly string[], y: readonly string[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.verbs, b.verbs) && same(a.apiGroups, b.apiGroups) && same(a.resources, b.resources) && same(a.resourceNames, b.resourceNames) && same(a.nonResourceURLs, b.nonResourceURLs);
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return rule.apiGroups.some((g) => g === ALL || g === group);
}

/**
 * `combined` is "resource" or "resource/subresource". A rule's "*" matches everything, an exact
 * entry its own, and "*\/sub" any resource's subresource `sub` (only when one is requested).
 */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources) {
    if (r === ALL || r === combined) return true;
    if (subresource === '') continue;
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

/** No resourceNames: any name (including none, as a list or create has). */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  return rule.resourceNames.length === 0 || rule.resourceNames.includes(name);
}

/** "*" matches every path, an exact path its own, and a path ending in "*" every path with what precedes its trailing stars as prefix. */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return rule.nonResourceURLs.some((u) => u === ALL || u === path || (u.endsWith('*') && path.startsWith(trimTrailingStars(u))));
}

function trimTrailingStars(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '*') end--;
  return s.slice(0, end);
}

/** rbac.RuleAllows: whether `rule` allows the request of `attributes`. */
export function ruleAllows(attributes: Omit<RequestAttributes, 'user'>, rule: PolicyRule): boolean {
  if (attributes.resourceRequest) {
    const combined = attributes.subresource === '' ? attributes.resource : `${attributes.resource}/${attributes.subresource}`;
    return verbMatches(rule, attributes.verb) && apiGroupMatches(rule, attributes.apiGroup) && resourceMatches(rule, combined, attributes.subresource) && resourceNameMatches(rule, attributes.name);
  }
  return verbMatches(rule, attributes.verb) && nonResourceURLMatches(rule, attributes.path);
}

function emptyRule(): PolicyRule {
  return { verbs: [], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: [] };
}

/** BreakdownRule: one rule per group × resource × verb (× name), then per non-resource URL × verb. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups) {
    for (const resource of rule.resources) {
      for (const verb of rule.verbs) {
        if (rule.resourceNames.length > 0) {
          for (const name of rule.resourceNames) out.push({ ...emptyRule(), apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        } else {
          out.push({ ...emptyRule(), apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs) for (const verb of rule.verbs) out.push({ ...emptyRule(), nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function hasAll(set: readonly string[], wanted: readonly string[]): boolean {
  const owned = new Set(set);
  return wanted.every((w) => owned.has(w));
}

function resourceCoversAll(owner: readonly string[], wanted: readonly string[]): boolean {
  if (owner.includes(ALL) || hasAll(owner, wanted)) return true;
  for (const path of wanted) {
    if (owner.includes(path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0) return false;
    if (!owner.includes(`*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, path: string): boolean {
  return owner === path || (owner.endsWith('*') && path.startsWith(trimTrailingStars(owner)));
}

/** ruleCovers: every request `sub` allows, `owner` allows too. */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes(ALL) || hasAll(owner.verbs, sub.verbs);
  const groups = owner.apiGroups.includes(ALL) || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourceCoversAll(owner.resources, sub.resources);
  const urls = sub.nonResourceURLs.every((path) => owner.nonResourceURLs.some((o) => nonResourceURLCovers(o, path)));
  const names = sub.resourceNames.length === 0 ? owner.resourceNames.length === 0 : owner.resourceNames.length === 0 || hasAll(owner.resourceNames, sub.resourceNames);
  return verbs && groups && resources && names && urls;
}

/**
 * validation.Covers: whether `owner` rules cover all of `servant`; when not, the broken-down
 * servant rules no owner rule covers, in order.
 */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing = servant.flatMap(breakdownRule).filter((sub) => !owner.some((o) => ruleCovers(o, sub)));
  return { covered: missing.length === 0, missing };
}

/**
 * CompactRules: rules of one group, one resource and at most one name (and nothing else) are
 * merged into one per (group, resource, name), their verbs appended; the rest stay as they are.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const isSimple = rule.resourceNames.length <= 1 && rule.nonResourceURLs.length === 0 && rule.apiGroups.length === 1 && rule.resources.length === 1;
    if (!isSimple) {
      compacted.push(rule);
      continue;
    }
    const key = JSON.stringify([rule.apiGroups[0], rule.resources[0], rule.resourceNames.length > 0, rule.resourceNames[0] ?? '']);
    const existing = simple.get(key);
    if (existing !== undefined) existing.verbs.push(...rule.verbs);
    else simple.set(key, { ...rule, verbs: [...rule.verbs], apiGroups: [...rule.apiGroups], resources: [...rule.resources], resourceNames: [...rule.resourceNames] });
  }
  return [...compacted, ...simple.values()];
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** rbacv1helpers.CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`, empty fields left out. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups.length > 0) parts.push(`APIGroups:${goQuoteList(rule.apiGroups)}`);
  if (rule.resources.length > 0) parts.push(`Resources:${goQuoteList(rule.resources)}`);
  if (rule.nonResourceURLs.length > 0) parts.push(`NonResourceURLs:${goQuoteList(rule.nonResourceURLs)}`);
  if (rule.resourceNames.length > 0) parts.push(`ResourceNames:${goQuoteList(rule.resourceNames)}`);
  if (rule.verbs.length > 0) parts.push(`Verbs:${goQuoteList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** Go's byte-wise string order (sets.String.List sorts so). */
export function compareGoStrings(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/** utilerrors.NewAggregate(errors).Error(): one message as is; several, deduplicated, as "[a, b]". */
export function aggregateMessage(errors: readonly string[]): string {
  if (errors.length === 0) return '';
  if (errors.length === 1) return errors[0] ?? '';
  const seen = [...new Set(errors)];
  return seen.length === 1 ? (seen[0] ?? '') : `[${seen.join(', ')}]`;
}

/**
 * rbac's ConfirmNoEscalation: undefined when the rules `user` holds (`owner`, as rulesFor
 * resolved them, with its `errors`) cover `requested`; otherwise kube's message naming what is
 * missing (compacted, described, sorted, one a line) and any resolution errors. The caller wraps
 * it in a Forbidden for the role (`roles.rbac.authorization.k8s.io "x" is forbidden: ...`).
 */
export function escalationMessage(user: RbacUser, owner: readonly PolicyRule[], errors: readonly string[], requested: readonly PolicyRule[]): string | undefined {
  const { covered, missing } = covers(owner, requested);
  if (covered) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort(compareGoStrings);
  let message = `user ${goQuote(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  // kube prints its []error of one aggregate with %v: the aggregate's text in brackets.
  if (errors.length > 0) message += `; resolution errors: [${aggregateMessage(errors)}]`;
  return message;
}
