/**
 * Audit policy (audit.k8s.io/v1 Policy): which requests are recorded and how much of each, read
 * and checked as kube-apiserver reads --audit-policy-file (k8s.io/apiserver/pkg/audit/policy
 * reader.go and checker.go, pkg/apis/audit/validation), with kube's messages where it has them.
 *
 * Rules are tried in order and the first that matches gives the level; no match is level None.
 * A rule matches when every field it sets matches: users (the authenticated user's name),
 * userGroups (any of the user's groups), verbs, and then either resources and namespaces (for
 * resource requests only) or nonResourceURLs (for non-resource requests only). The policy's
 * omitStages are added to every rule's.
 */
import YAML from 'yaml';
import { ConfigError } from '../config.ts';

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type Level = (typeof LEVELS)[number];

export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type Stage = (typeof STAGES)[number];

export interface GroupResources {
  /** '' is the core group. */
  group: string;
  /** 'pods', 'pods/log', '*', 'pods/*', '*\/scale'; empty: every resource of the group. */
  resources: string[];
  /** Empty: every name. */
  resourceNames: string[];
}

export interface PolicyRule {
  level: Level;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  namespaces: string[];
  nonResourceURLs: string[];
  omitStages: Stage[];
  /** Overrides the policy's omitManagedFields when set. */
  omitManagedFields: boolean | undefined;
}

export interface Policy {
  rules: PolicyRule[];
  omitStages: Stage[];
  omitManagedFields: boolean;
}

/** What a rule is matched against: kube's authorizer attributes of the request. */
export interface PolicyAttributes {
  /** The authenticated user (the impersonator when impersonating); undefined when authentication failed. */
  user: { username: string; groups: readonly string[] } | undefined;
  verb: string;
  resourceRequest: boolean;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** The URL path, for non-resource rules. */
  path: string;
}

/** What the policy says of one request. */
export interface AuditDecision {
  level: Level;
  omitStages: ReadonlySet<Stage>;
  omitManagedFields: boolean;
}

/** Whether `a` records less than `b` (kube's Level.Less). */
export function levelLess(a: Level, b: Level): boolean {
  return LEVELS.indexOf(a) < LEVELS.indexOf(b);
}

/** The policy's decision for a request (kube's policyRuleEvaluator.EvaluatePolicyRule). */
export function evaluatePolicy(policy: Policy, attrs: PolicyAttributes): AuditDecision {
  for (const rule of policy.rules) {
    if (ruleMatches(rule, attrs)) {
      return {
        level: rule.level,
        omitStages: new Set([...policy.omitStages, ...rule.omitStages]),
        omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields,
      };
    }
  }
  return { level: 'None', omitStages: new Set(policy.omitStages), omitManagedFields: policy.omitManagedFields };
}

function ruleMatches(rule: PolicyRule, attrs: PolicyAttributes): boolean {
  const user = attrs.user;
  if (rule.users.length > 0 && (user === undefined || !rule.users.includes(user.username))) return false;
  if (rule.userGroups.length > 0 && (user === undefined || !user.groups.some((g) => rule.userGroups.includes(g)))) return false;
  if (rule.verbs.length > 0 && !rule.verbs.includes(attrs.verb)) return false;
  if (rule.namespaces.length > 0 || rule.resources.length > 0) return resourceMatches(rule, attrs);
  if (rule.nonResourceURLs.length > 0) return !attrs.resourceRequest && rule.nonResourceURLs.some((spec) => pathMatches(attrs.path, spec));
  return true;
}

/** '*' matches every path; a spec ending in '*' matches paths it prefixes; else the path itself. */
function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function resourceMatches(rule: PolicyRule, attrs: PolicyAttributes): boolean {
  if (!attrs.resourceRequest) return false;
  // A cluster-scoped resource's namespace is '' and matches "" in the list.
  if (rule.namespaces.length > 0 && !rule.namespaces.includes(attrs.namespace)) return false;
  if (rule.resources.length === 0) return true;
  const { resource, subresource } = attrs;
  const combined = subresource === '' ? resource : `${resource}/${subresource}`;
  for (const gr of rule.resources) {
    if (gr.group !== attrs.group) continue;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(attrs.name)) continue;
    for (const res of gr.resources) {
      if (res === '*' || res === combined) return true;
      if (subresource !== '' && res.startsWith('*/') && res.slice(2) === subresource) return true;
      if (res.endsWith('/*') && res.slice(0, -2) === resource) return true;
    }
  }
  return false;
}

// ---- reading and checking a policy file ----

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function stringList(value: unknown, path: string, errors: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    errors.push(`${path}: must be a list of strings`);
    return [];
  }
  return value;
}

function stages(value: unknown, path: string, errors: string[]): Stage[] {
  const list = stringList(value, path, errors);
  list.forEach((s, i) => {
    if (!(STAGES as readonly string[]).includes(s)) errors.push(`${path}[${i}]: Invalid value: "${s}": allowed stages are ${STAGES.join(',')}`);
  });
  return list.filter((s): s is Stage => (STAGES as readonly string[]).includes(s));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readRule(raw: unknown, path: string, errors: string[]): PolicyRule | undefined {
  if (!isObject(raw)) {
    errors.push(`${path}: must be an object`);
    return undefined;
  }
  const level = raw.level;
  if (level === undefined || level === null || level === '') errors.push(`${path}.level: Required value`);
  else if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) {
    errors.push(`${path}.level: Unsupported value: ${JSON.stringify(level)}: supported values: ${LEVELS.map((l) => `"${l}"`).join(', ')}`);
  }
  const nonResourceURLs = stringList(raw.nonResourceURLs, `${path}.nonResourceURLs`, errors);
  nonResourceURLs.forEach((url, i) => {
    if (url === '*') return;
    if (!url.startsWith('/')) errors.push(`${path}.nonResourceURLs[${i}]: Invalid value: "${url}": non-resource URL rules must begin with a '/' character`);
    if (url !== '' && url.slice(0, -1).includes('*')) {
      errors.push(`${path}.nonResourceURLs[${i}]: Invalid value: "${url}": non-resource URL wildcards '*' must be the final character of the rule`);
    }
  });
  const resources: GroupResources[] = [];
  if (raw.resources !== undefined && raw.resources !== null) {
    if (!Array.isArray(raw.resources)) errors.push(`${path}.resources: must be a list`);
    else {
      raw.resources.forEach((gr: unknown, i) => {
        const at = `${path}.resources[${i}]`;
        if (!isObject(gr)) {
          errors.push(`${at}: must be an object`);
          return;
        }
        const group = gr.group ?? '';
        if (typeof group !== 'string') {
          errors.push(`${at}.group: must be a string`);
          return;
        }
        if (group !== '' && (group.length > 253 || !DNS1123_SUBDOMAIN.test(group))) {
          errors.push(`${path}.resources.group: Invalid value: "${group}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
        }
        const names = stringList(gr.resourceNames, `${at}.resourceNames`, errors);
        const res = stringList(gr.resources, `${at}.resources`, errors);
        if (names.length > 0 && res.length === 0) {
          errors.push(`${path}.resources.resourceNames: Invalid value: ${JSON.stringify(names)}: using resourceNames requires at least one resource`);
        }
        resources.push({ group, resources: res, resourceNames: names });
      });
    }
  }
  const namespaces = stringList(raw.namespaces, `${path}.namespaces`, errors);
  if (nonResourceURLs.length > 0 && (resources.length > 0 || namespaces.length > 0)) {
    errors.push(`${path}.nonResourceURLs: Invalid value: ${JSON.stringify(nonResourceURLs)}: rules cannot apply to both regular resources and non-resource URLs`);
  }
  const omitManagedFields = raw.omitManagedFields;
  if (omitManagedFields !== undefined && omitManagedFields !== null && typeof omitManagedFields !== 'boolean') errors.push(`${path}.omitManagedFields: must be a boolean`);
  return {
    level: level as Level,
    users: stringList(raw.users, `${path}.users`, errors),
    userGroups: stringList(raw.userGroups, `${path}.userGroups`, errors),
    verbs: stringList(raw.verbs, `${path}.verbs`, errors),
    resources,
    namespaces,
    nonResourceURLs,
    omitStages: stages(raw.omitStages, `${path}.omitStages`, errors),
    omitManagedFields: typeof omitManagedFields === 'boolean' ? omitManagedFields : undefined,
  };
}

/**
 * Reads a policy (YAML or JSON text) and checks it as kube does: apiVersion audit.k8s.io/v1
 * (kube no longer serves v1alpha1 or v1beta1 policies) and kind Policy, every rule valid, at
 * least one rule. Throws ConfigError naming every problem.
 */
export function parsePolicy(text: string, source = 'audit policy'): Policy {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`failed decoding: ${(err as Error).message}: from file ${source}`);
  }
  if (!isObject(doc)) throw new ConfigError(`failed decoding: not an object: from file ${source}`);
  if (doc.apiVersion !== 'audit.k8s.io/v1' || doc.kind !== 'Policy') {
    throw new ConfigError(`unknown group version field ${String(doc.apiVersion)}, Kind=${String(doc.kind)} in policy (want apiVersion audit.k8s.io/v1, kind Policy): from file ${source}`);
  }
  const errors: string[] = [];
  const rules: PolicyRule[] = [];
  if (doc.rules !== undefined && doc.rules !== null && !Array.isArray(doc.rules)) errors.push('rules: must be a list');
  if (Array.isArray(doc.rules)) {
    doc.rules.forEach((raw: unknown, i) => {
      const rule = readRule(raw, `rules[${i}]`, errors);
      if (rule !== undefined) rules.push(rule);
    });
  }
  const omitStages = stages(doc.omitStages, 'omitStages', errors);
  const omitManagedFields = doc.omitManagedFields ?? false;
  if (typeof omitManagedFields !== 'boolean') errors.push('omitManagedFields: must be a boolean');
  if (errors.length > 0) throw new ConfigError(`${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}: from file ${source}`);
  if (rules.length === 0) throw new ConfigError(`loaded illegal policy with 0 rules: from file ${source}`);
  return { rules, omitStages, omitManagedFields: omitManagedFields === true };
}
