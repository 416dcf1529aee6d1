/**
 * RBAC's policy rules as kube evaluates them: whether a rule allows a request
 * (rbac.RuleAllows and rbacv1helpers' VerbMatches, APIGroupMatches, ResourceMatches,
 * ResourceNameMatches, NonResourceURLMatches), whether some rules cover others (the escalation
 * check's Covers, with BreakdownRule, within limits a request cannot push past), and how the
 * escalation error names what is missing (CompactRules, CompactString, ConfirmNoEscalation's
 * message, its list capped).
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

/** Limits on one coverage question (see covers); a question that would exceed one stops there. */
export interface CoverageLimits {
  /** How many atomic requested rules (one group × resource × verb × name, or URL × verb) may be examined. */
  rules: number;
  /** How many times a requested value (a verb, group, resource, name or URL) may be compared with an owner rule. */
  comparisons: number;
  /** How many characters (the lengths of their values) the uncovered pieces may add up to. */
  missingChars: number;
}

/**
 * What an escalation check may spend on one request: enough for any role a person writes
 * (thousands of atomic rules against a few hundred held rules take a few milliseconds), far
 * below what a hostile rule of a few kilobytes would take when broken down (groups × resources ×
 * verbs × names: hundreds of millions). Past 64 KiB of uncovered values (thousands of pieces)
 * the answer is already "not held" and the rest would only lengthen a message no one reads.
 */
export const ESCALATION_CHECK_LIMITS: Readonly<CoverageLimits> = { rules: 50_000, comparisons: 1_000_000, missingChars: 64 * 1024 };

/**
 * One list of an owner rule, for lookups: a short list is searched, a long one made a set the
 * first time it is asked (most owner rules are turned down on their first list; a user may
 * hold many long ones).
 */
class Members {
  private readonly list: readonly string[];
  private set: Set<string> | undefined;
  private star: boolean | undefined;

  constructor(list: readonly string[]) {
    this.list = list;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** Whether the list holds "*". */
  all(spend: Spending): boolean {
    return (this.star ??= this.has(ALL, spend));
  }

  /** Whether the list holds `value`; making the set is spent as one comparison per entry. */
  has(value: string, spend: Spending): boolean {
    spend.compare();
    if (this.list.length <= 16) return this.list.includes(value);
    if (this.set === undefined) {
      spend.compare(this.list.length);
      this.set = new Set(this.list);
    }
    return this.set.has(value);
  }
}

/** An owner rule, read as Covers reads it. */
class OwnerRule {
  readonly verbs: Members;
  readonly groups: Members;
  readonly resources: Members;
  readonly names: Members;
  readonly urls: Members;
  private readonly rule: PolicyRule;
  private prefixes: string[] | undefined;

  constructor(rule: PolicyRule) {
    this.rule = rule;
    this.verbs = new Members(rule.verbs);
    this.groups = new Members(rule.apiGroups);
    this.resources = new Members(rule.resources);
    this.names = new Members(rule.resourceNames);
    this.urls = new Members(rule.nonResourceURLs);
  }

  /** What precedes the trailing stars of each URL ending in "*" ("" for "*" itself); finding them is spent as one comparison per URL. */
  urlPrefixes(spend: Spending): readonly string[] {
    if (this.prefixes === undefined) {
      spend.compare(this.rule.nonResourceURLs.length);
      this.prefixes = this.rule.nonResourceURLs.filter((u) => u.endsWith('*')).map(trimTrailingStars);
    }
    return this.prefixes;
  }
}

/** The limits were reached: the question has no answer within them. */
class LimitReached extends Error {}

/** Counts what a coverage question spends, and stops it at its limits. */
class Spending {
  private rules = 0;
  private comparisons = 0;
  private missingChars = 0;
  private readonly limits: Readonly<CoverageLimits>;

  constructor(limits: Readonly<CoverageLimits>) {
    this.limits = limits;
  }

  rule(): void {
    if (++this.rules > this.limits.rules) throw new LimitReached();
  }

  compare(n = 1): void {
    this.comparisons += n;
    if (this.comparisons > this.limits.comparisons) throw new LimitReached();
  }

  /** Counts the `chars` an uncovered piece keeps in the answer. */
  keep(chars: number): void {
    this.missingChars += chars;
    if (this.missingChars > this.limits.missingChars) throw new LimitReached();
  }
}

function verbCovered(o: OwnerRule, verb: string, spend: Spending): boolean {
  return o.verbs.all(spend) || o.verbs.has(verb, spend);
}

function groupCovered(o: OwnerRule, group: string, spend: Spending): boolean {
  return o.groups.all(spend) || o.groups.has(group, spend);
}

/** resourceCoversAll for one requested resource: "*", the resource itself, or "*\/sub" for "res/sub". */
function resourceCovered(o: OwnerRule, resource: string, spend: Spending): boolean {
  if (o.resources.all(spend) || o.resources.has(resource, spend)) return true;
  const slash = resource.indexOf('/');
  return slash >= 0 && o.resources.has(`*/${resource.slice(slash + 1)}`, spend);
}

/** A requested name (or none, `undefined`): an owner without names covers all; one with names, those only, and never no name. */
function nameCovered(o: OwnerRule, name: string | undefined, spend: Spending): boolean {
  return o.names.empty || (name !== undefined && o.names.has(name, spend));
}

/** nonResourceURLsCoversAll for one requested URL: the same URL, or a prefix the owner ends with stars. */
function urlCovered(o: OwnerRule, url: string, spend: Spending): boolean {
  if (o.urls.has(url, spend)) return true;
  const prefixes = o.urlPrefixes(spend);
  spend.compare(prefixes.length);
  return prefixes.some((prefix) => url.startsWith(prefix));
}

function allOf(values: readonly string[], covered: (value: string) => boolean): boolean {
  for (const value of values) if (!covered(value)) return false;
  return true;
}

/**
 * Whether one owner rule alone covers the whole resource part of `rule` (every group ×
 * resource × verb × name of it), as ruleCovers would judge each piece of its breakdown.
 */
function coversResourcePart(o: OwnerRule, rule: PolicyRule, spend: Spending): boolean {
  return (
    allOf(rule.verbs, (v) => verbCovered(o, v, spend)) &&
    allOf(rule.apiGroups, (g) => groupCovered(o, g, spend)) &&
    allOf(rule.resources, (r) => resourceCovered(o, r, spend)) &&
    (rule.resourceNames.length === 0 ? nameCovered(o, undefined, spend) : allOf(rule.resourceNames, (n) => nameCovered(o, n, spend)))
  );
}

/** The same for the non-resource part (every URL × verb); the pieces have no name, so the owner must have none either. */
function coversUrlPart(o: OwnerRule, rule: PolicyRule, spend: Spending): boolean {
  return allOf(rule.verbs, (v) => verbCovered(o, v, spend)) && allOf(rule.nonResourceURLs, (u) => urlCovered(o, u, spend)) && nameCovered(o, undefined, spend);
}

/**
 * kube's BreakdownRule of the resource part of `rule` (one rule per group × resource × verb (×
 * name)), keeping the pieces no owner rule covers, in that order, into `missing`. Owners are
 * narrowed level by level (those holding the group, then the resource, then the verb), so each
 * piece is compared only with the few owners still in question.
 */
function uncoveredResourcePieces(owners: readonly OwnerRule[], rule: PolicyRule, spend: Spending, missing: PolicyRule[]): void {
  const names: ReadonlyArray<string | undefined> = rule.resourceNames.length > 0 ? rule.resourceNames : [undefined];
  for (const group of rule.apiGroups) {
    const byGroup = owners.filter((o) => groupCovered(o, group, spend));
    for (const resource of rule.resources) {
      const byResource = byGroup.filter((o) => resourceCovered(o, resource, spend));
      for (const verb of rule.verbs) {
        const byVerb = byResource.filter((o) => verbCovered(o, verb, spend));
        for (const name of names) {
          spend.rule();
          if (!byVerb.some((o) => nameCovered(o, name, spend))) {
            spend.keep(group.length + resource.length + verb.length + (name?.length ?? 0));
            missing.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: name === undefined ? [] : [name], nonResourceURLs: [] });
          }
        }
      }
    }
  }
}

/** The same for the non-resource part (one rule per URL × verb). */
function uncoveredUrlPieces(owners: readonly OwnerRule[], rule: PolicyRule, spend: Spending, missing: PolicyRule[]): void {
  for (const url of rule.nonResourceURLs) {
    const byUrl = owners.filter((o) => nameCovered(o, undefined, spend) && urlCovered(o, url, spend));
    for (const verb of rule.verbs) {
      spend.rule();
      if (!byUrl.some((o) => verbCovered(o, verb, spend))) {
        spend.keep(url.length + verb.length);
        missing.push({ verbs: [verb], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: [url] });
      }
    }
  }
}

/** What covers answers. */
export interface Coverage {
  covered: boolean;
  /** The broken-down requested rules no owner rule covers, in order (those found before a limit was reached). */
  missing: PolicyRule[];
  /** A limit was reached before every requested rule was checked: `covered` is then false. */
  limitReached: boolean;
}

/**
 * validation.Covers: whether `owner` rules cover all of `servant`; when not, the broken-down
 * servant rules no owner rule covers, in order. A servant rule one owner rule covers whole is
 * taken as covered without breaking it down (what breakdown would find too: each piece is
 * covered by that owner). Without `limits` the question is answered whatever it costs: only
 * for rules that are trusted and small (the bootstrap policy); with them, a question that would
 * exceed them answers not covered with `limitReached`.
 */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[], limits?: Readonly<CoverageLimits>): Coverage {
  const owners = owner.map((rule) => new OwnerRule(rule));
  const spend = new Spending(limits ?? { rules: Infinity, comparisons: Infinity, missingChars: Infinity });
  const missing: PolicyRule[] = [];
  try {
    for (const rule of servant) {
      // A part with an empty list breaks down into nothing: there is nothing to cover.
      if (rule.verbs.length === 0) continue;
      if (rule.apiGroups.length > 0 && rule.resources.length > 0 && !owners.some((o) => coversResourcePart(o, rule, spend))) uncoveredResourcePieces(owners, rule, spend, missing);
      if (rule.nonResourceURLs.length > 0 && !owners.some((o) => coversUrlPart(o, rule, spend))) uncoveredUrlPieces(owners, rule, spend, missing);
    }
  } catch (err) {
    if (!(err instanceof LimitReached)) throw err;
    return { covered: false, missing, limitReached: true };
  }
  return { covered: missing.length === 0, missing, limitReached: false };
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

/** How much of what is missing an escalation message lists: the first lines in order, within a length; the rest are counted. */
export interface ListingLimits {
  lines: number;
  chars: number;
}

/** The last line of an escalation message whose check stopped at its limits. */
export const TOO_LARGE_NOTE = '(not all checked: the requested rules are too large to check rule by rule)';

export const ESCALATION_LISTING_LIMITS: Readonly<ListingLimits> = { lines: 50, chars: 8192 };

/**
 * rbac's ConfirmNoEscalation: undefined when the rules `user` holds (`owner`, as rulesFor
 * resolved them, with its `errors`) cover `requested`; otherwise kube's message naming what is
 * missing (compacted, described, sorted, one a line) and any resolution errors. The caller wraps
 * it in a Forbidden for the role (`roles.rbac.authorization.k8s.io "x" is forbidden: ...`).
 *
 * Unlike kube, the check is bounded (`limits`): requested rules too large to check piece by
 * piece within them are refused as not held, with a note saying so; and the message lists at
 * most `listing`'s lines and characters, then how many more there are.
 */
export function escalationMessage(
  user: RbacUser,
  owner: readonly PolicyRule[],
  errors: readonly string[],
  requested: readonly PolicyRule[],
  limits: Readonly<CoverageLimits> = ESCALATION_CHECK_LIMITS,
  listing: Readonly<ListingLimits> = ESCALATION_LISTING_LIMITS,
): string | undefined {
  const { covered, missing, limitReached } = covers(owner, requested, limits);
  if (covered) return undefined;
  // Byte-wise order (sets.String.List), each description's bytes made once rather than per comparison.
  const descriptions = [...new Set(compactRules(missing).map(compactString))].map((text) => ({ text, bytes: Buffer.from(text) })).sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const listed: string[] = [];
  let chars = 0;
  for (const { text } of descriptions) {
    if (listed.length >= listing.lines || chars + text.length > listing.chars) break;
    listed.push(text);
    chars += text.length + 1;
  }
  if (listed.length < descriptions.length) listed.push(`and ${descriptions.length - listed.length} more`);
  if (limitReached) listed.push(TOO_LARGE_NOTE);
  let message = `user ${goQuote(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${listed.join('\n')}`;
  // kube prints its []error of one aggregate with %v: the aggregate's text in brackets.
  if (errors.length > 0) message += `; resolution errors: [${aggregateMessage(errors)}]`;
  return message;
}
