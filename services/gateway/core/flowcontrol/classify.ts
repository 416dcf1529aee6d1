/**
 * Classification, as kube's APF filter does it (k8s.io/apiserver pkg/util/flowcontrol rule.go,
 * apf_controller.go): the FlowSchemas in matching order (matchingPrecedence, then name), the
 * first whose rules match the request's user and request wins; its distinguisher (ByUser,
 * ByNamespace, none) and name make the flow, hashed as kube hashes it (the first eight bytes of
 * SHA-256 of name NUL distinguisher, little-endian).
 */
import { createHash } from 'node:crypto';
import { isPlainObject, type KubeObject } from '../../../../lib/kube.ts';

/** What a request is, for classification (kube's RequestDigest: user and RequestInfo). */
export interface RequestDigest {
  user: { username: string; groups: readonly string[] };
  resourceRequest: boolean;
  /** kube's RequestInfo verb (get, list, watch, create, ...); a non-resource request's lower-cased method. */
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  /** "" for cluster-scoped requests. */
  namespace: string;
  /** The path of a non-resource request. */
  path: string;
}

/** A FlowSchema's spec, as read from the object (what the filter needs). */
export interface FlowSchemaRules {
  name: string;
  uid: string;
  matchingPrecedence: number;
  priorityLevel: string;
  distinguisher: '' | 'ByUser' | 'ByNamespace';
  rules: PolicyRules[];
}

interface Subject {
  kind: string;
  name: string;
  namespace: string;
}

interface ResourceRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  namespaces: string[];
  clusterScope: boolean;
}

interface NonResourceRule {
  verbs: string[];
  nonResourceURLs: string[];
}

interface PolicyRules {
  subjects: Subject[];
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function record(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A stored FlowSchema as the classifier reads it; anything malformed reads as Go's zero value. */
export function flowSchemaRules(object: KubeObject): FlowSchemaRules {
  const spec = record(object.spec);
  const method = text(record(spec.distinguisherMethod).type);
  const rules = (Array.isArray(spec.rules) ? spec.rules : []).map((raw): PolicyRules => {
    const r = record(raw);
    return {
      subjects: (Array.isArray(r.subjects) ? r.subjects : []).map((s): Subject => {
        const subject = record(s);
        const kind = text(subject.kind);
        const member = record(kind === 'User' ? subject.user : kind === 'Group' ? subject.group : kind === 'ServiceAccount' ? subject.serviceAccount : undefined);
        return { kind, name: text(member.name), namespace: text(member.namespace) };
      }),
      resourceRules: (Array.isArray(r.resourceRules) ? r.resourceRules : []).map((rr): ResourceRule => {
        const rule = record(rr);
        return {
          verbs: strings(rule.verbs),
          apiGroups: strings(rule.apiGroups),
          resources: strings(rule.resources),
          namespaces: strings(rule.namespaces),
          clusterScope: rule.clusterScope === true,
        };
      }),
      nonResourceRules: (Array.isArray(r.nonResourceRules) ? r.nonResourceRules : []).map((nr): NonResourceRule => {
        const rule = record(nr);
        return { verbs: strings(rule.verbs), nonResourceURLs: strings(rule.nonResourceURLs) };
      }),
    };
  });
  return {
    name: text(object.metadata?.name),
    uid: text(object.metadata?.uid),
    matchingPrecedence: typeof spec.matchingPrecedence === 'number' ? spec.matchingPrecedence : 0,
    priorityLevel: text(record(spec.priorityLevelConfiguration).name),
    distinguisher: method === 'ByUser' || method === 'ByNamespace' ? method : '',
    rules,
  };
}

/** kube's FlowSchemaSequence order: matchingPrecedence ascending, then name. */
export function matchingOrder(a: FlowSchemaRules, b: FlowSchemaRules): number {
  if (a.matchingPrecedence !== b.matchingPrecedence) return a.matchingPrecedence - b.matchingPrecedence;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** containsString: x is listed, or the list is exactly the wildcard. */
function contains(x: string, values: readonly string[], wildcard: string): boolean {
  if (values.length === 1 && values[0] === wildcard) return true;
  return values.includes(x);
}

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

function matchesSubject(user: RequestDigest['user'], subject: Subject): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === '*' || subject.name === user.username;
    case 'Group':
      return subject.name === '*' || user.groups.includes(subject.name);
    case 'ServiceAccount':
      if (subject.name === '*') return user.username.startsWith(`${SERVICE_ACCOUNT_PREFIX}${subject.namespace}:`);
      return user.username === `${SERVICE_ACCOUNT_PREFIX}${subject.namespace}:${subject.name}`;
    default:
      return false;
  }
}

function matchesResourceRule(d: RequestDigest, rule: ResourceRule): boolean {
  if (!contains(d.verb, rule.verbs, '*')) return false;
  const resource = d.subresource === '' ? d.resource : `${d.resource}/${d.subresource}`;
  if (!contains(resource, rule.resources, '*')) return false;
  if (!contains(d.apiGroup, rule.apiGroups, '*')) return false;
  if (d.namespace === '') return rule.clusterScope;
  return contains(d.namespace, rule.namespaces, '*');
}

/** matchPolicyRuleNonResourceURL: "*", the path itself, or a prefix ending in "/*" (or a path it is under). */
function matchesNonResourceURL(urls: readonly string[], path: string): boolean {
  for (const url of urls) {
    if (url === '*' || url === path) return true;
    let prefix = url.endsWith('*') ? url.slice(0, -1) : url;
    if (!prefix.endsWith('/')) prefix += '/';
    if (path.startsWith(prefix)) return true;
  }
  return false;
}

/** Whether one of the schema's rules matches the request. */
export function matchesFlowSchema(d: RequestDigest, schema: FlowSchemaRules): boolean {
  for (const rules of schema.rules) {
    if (!rules.subjects.some((s) => matchesSubject(d.user, s))) continue;
    if (d.resourceRequest) {
      if (rules.resourceRules.some((r) => matchesResourceRule(d, r))) return true;
    } else if (rules.nonResourceRules.some((r) => contains(d.verb, r.verbs, '*') && matchesNonResourceURL(r.nonResourceURLs, d.path))) {
      return true;
    }
  }
  return false;
}

/** computeFlowDistinguisher: the user's name, the request's namespace, or "". */
export function flowDistinguisher(d: RequestDigest, schema: FlowSchemaRules): string {
  if (schema.distinguisher === 'ByUser') return d.user.username;
  if (schema.distinguisher === 'ByNamespace') return d.namespace;
  return '';
}

/** hashFlowID: the flow's 64-bit hash, from which shuffle sharding deals its hand of queues. */
export function hashFlowId(schemaName: string, distinguisher: string): bigint {
  const digest = createHash('sha256').update(schemaName).update(Buffer.of(0)).update(distinguisher).digest();
  return digest.readBigUInt64LE(0);
}

