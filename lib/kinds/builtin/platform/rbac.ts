/**
 * rbac.authorization.k8s.io/v1 Role, RoleBinding (namespaced), ClusterRole and
 * ClusterRoleBinding (cluster-scoped): stored and served with kube's defaults (rbac/v1
 * defaults.go), validation (rbac/validation) and printing. Nothing here enforces them, and an
 * aggregationRule is stored as sent (kube's aggregation controller fills the rules).
 *
 * Names are path segments (kube's ValidateRBACName), so "system:controller:x" is a valid name.
 * kube raises no metadata.generation for these kinds.
 */
import type { FieldError } from '../../../errors.ts';
import { parseRFC3339, formatRFC3339 } from '../../../go-time.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { isDNS1123Subdomain } from '../../../validation/names.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, KindPrinter } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { list, nameErrors, obj, pathSegmentErrors, str, supported } from './validation.ts';
import { labelSelectorInvalid, validateLabelSelector } from '../../../label-selector.ts';

const GROUP = 'rbac.authorization.k8s.io';

/** ValidatePolicyRule: verbs, and either resource rules (API groups and resources) or non-resource URLs (cluster roles only). */
function policyRuleErrors(rule: Record<string, unknown>, namespaced: boolean, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (list(rule.verbs).length === 0) errors.push({ type: 'FieldValueRequired', field: `${at}.verbs`, detail: 'verbs must contain at least one value' });
  const urls = list(rule.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) errors.push({ type: 'FieldValueInvalid', field: `${at}.nonResourceURLs`, value: urls, detail: 'namespaced rules cannot apply to non-resource URLs' });
    if (list(rule.apiGroups).length > 0 || list(rule.resources).length > 0 || list(rule.resourceNames).length > 0) {
      errors.push({ type: 'FieldValueInvalid', field: `${at}.nonResourceURLs`, value: urls, detail: 'rules cannot apply to both regular resources and non-resource URLs' });
    }
    return errors;
  }
  if (list(rule.apiGroups).length === 0) errors.push({ type: 'FieldValueRequired', field: `${at}.apiGroups`, detail: 'resource rules must supply at least one api group' });
  if (list(rule.resources).length === 0) errors.push({ type: 'FieldValueRequired', field: `${at}.resources`, detail: 'resource rules must supply at least one resource' });
  return errors;
}

function rulesErrors(object: KubeObject, namespaced: boolean): FieldError[] {
  return list(object.rules).flatMap((rule, i) => policyRuleErrors(obj(rule), namespaced, `rules[${i}]`));
}

/** ValidateRole(Update). */
function validateRole(object: KubeObject): FieldError[] {
  return rulesErrors(object, true);
}

/** ValidateClusterRole(Update): rules, and an aggregationRule's selectors (at least one). */
function validateClusterRole(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = rulesErrors(object, false);
  if (object.aggregationRule === undefined || object.aggregationRule === null) return errors;
  const at = 'aggregationRule.clusterRoleSelectors';
  const selectors = list(obj(object.aggregationRule).clusterRoleSelectors);
  if (selectors.length === 0) errors.push({ type: 'FieldValueRequired', field: at, detail: 'at least one clusterRoleSelector required if aggregationRule is non-nil' });
  // An update keeps label values the stored selectors already hold.
  const allowInvalidLabelValue =
    old !== undefined && list(obj(old.aggregationRule).clusterRoleSelectors).some((s, i) => validateLabelSelector(s, `${at}[${i}]`).length > 0);
  selectors.forEach((selector, i) => {
    errors.push(...validateLabelSelector(obj(selector), `${at}[${i}]`, allowInvalidLabelValue));
    // kube shows the selector it failed to build: none.
    if (labelSelectorInvalid(obj(selector))) errors.push({ type: 'FieldValueInvalid', field: `${at}[${i}]`, value: null, detail: 'invalid label selector.' });
  });
  return errors;
}

/** ValidateRoleBindingSubject: a name; a ServiceAccount in the core group (with a namespace in cluster bindings), a User or Group in RBAC's. */
function subjectErrors(subject: Record<string, unknown>, namespaced: boolean, at: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = str(subject.name);
  const apiGroup = str(subject.apiGroup);
  if (name === '') errors.push({ type: 'FieldValueRequired', field: `${at}.name`, detail: '' });
  switch (str(subject.kind)) {
    case 'ServiceAccount':
      if (name !== '') errors.push(...nameErrors(isDNS1123Subdomain, name, `${at}.name`));
      if (apiGroup !== '') errors.push({ type: 'FieldValueNotSupported', field: `${at}.apiGroup`, value: apiGroup, detail: supported(['']) });
      if (!namespaced && str(subject.namespace) === '') errors.push({ type: 'FieldValueRequired', field: `${at}.namespace`, detail: '' });
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== GROUP) errors.push({ type: 'FieldValueNotSupported', field: `${at}.apiGroup`, value: apiGroup, detail: supported([GROUP]) });
      break;
    default:
      errors.push({ type: 'FieldValueNotSupported', field: `${at}.kind`, value: str(subject.kind), detail: supported(['ServiceAccount', 'User', 'Group']) });
  }
  return errors;
}

/**
 * ValidateRoleBinding / ValidateClusterRoleBinding, and on update the roleRef's immutability:
 * kube shows the new roleRef as its internal struct (Go field names).
 */
function bindingErrors(object: KubeObject, old: KubeObject | undefined, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const ref = obj(object.roleRef);
  const apiGroup = str(ref.apiGroup);
  const kind = str(ref.kind);
  const name = str(ref.name);
  if (apiGroup !== GROUP) errors.push({ type: 'FieldValueNotSupported', field: 'roleRef.apiGroup', value: apiGroup, detail: supported([GROUP]) });
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(kind)) errors.push({ type: 'FieldValueNotSupported', field: 'roleRef.kind', value: kind, detail: supported(kinds) });
  if (name === '') errors.push({ type: 'FieldValueRequired', field: 'roleRef.name', detail: '' });
  else errors.push(...pathSegmentErrors(name, 'roleRef.name'));
  list(object.subjects).forEach((s, i) => errors.push(...subjectErrors(obj(s), namespaced, `subjects[${i}]`)));
  if (old !== undefined) {
    const was = obj(old.roleRef);
    if (str(was.apiGroup) !== apiGroup || str(was.kind) !== kind || str(was.name) !== name) {
      errors.push({ type: 'FieldValueInvalid', field: 'roleRef', value: { APIGroup: apiGroup, Kind: kind, Name: name }, detail: 'cannot change roleRef' });
    }
  }
  return errors;
}

/**
 * SetDefaults_RoleBinding / _ClusterRoleBinding and SetDefaults_Subject: the roleRef's apiGroup
 * (roleRef is a struct, present even when the body leaves it out), and the RBAC group for User
 * and Group subjects.
 */
function defaultBinding(object: KubeObject): KubeObject {
  // A string field that is absent or null decodes as "" in Go.
  const empty = (value: unknown) => value === undefined || value === null || value === '';
  if (object.roleRef === undefined || object.roleRef === null) object.roleRef = {};
  const ref = object.roleRef;
  if (isPlainObject(ref) && empty(ref.apiGroup)) ref.apiGroup = GROUP;
  for (const subject of list(object.subjects)) {
    if (isPlainObject(subject) && empty(subject.apiGroup) && (subject.kind === 'User' || subject.kind === 'Group')) subject.apiGroup = GROUP;
  }
  return object;
}

/**
 * The default TableConvertor kube serves these kinds with: NAME and CREATED AT (the
 * creationTimestamp in UTC, RFC 3339; the zero time when there is none).
 */
function createdAtCells(object: Record<string, unknown>): unknown[] {
  const timestamp = field(object, 'metadata').creationTimestamp;
  const parsed = typeof timestamp === 'string' ? parseRFC3339(timestamp) : undefined;
  const created = parsed === undefined || 'error' in parsed ? '0001-01-01T00:00:00Z' : formatRFC3339(parsed.ms);
  return [nameOf(object), created];
}

const CREATED_AT_PRINTER: KindPrinter = {
  columns: Object.freeze([NAME_COLUMN, column('Created At', 'date', AGE_COLUMN.description)]),
  cells: createdAtCells,
};

/** rbac.SubjectsStrings: users, groups, and service accounts as "namespace/name". */
function subjectsStrings(subjects: unknown[]): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const raw of subjects) {
    const subject = obj(raw);
    const kind = str(subject.kind);
    if (kind === 'ServiceAccount') serviceAccounts.push(`${str(subject.namespace)}/${str(subject.name)}`);
    else if (kind === 'User') users.push(str(subject.name));
    else if (kind === 'Group') groups.push(str(subject.name));
  }
  return { users, groups, serviceAccounts };
}

/** printRoleBinding / printClusterRoleBinding: NAME, ROLE ("Kind/name"), AGE; wide: USERS, GROUPS, SERVICEACCOUNTS. */
function bindingCells(object: Record<string, unknown>, now: Date): unknown[] {
  const ref = obj(object.roleRef);
  const { users, groups, serviceAccounts } = subjectsStrings(list(object.subjects));
  return [nameOf(object), `${str(ref.kind)}/${str(ref.name)}`, ageOf(object, now), users.join(', '), groups.join(', '), serviceAccounts.join(', ')];
}

function bindingPrinter(what: string): KindPrinter {
  return {
    columns: Object.freeze([
      NAME_COLUMN,
      column('Role', 'string', 'The role the subjects are bound to'),
      AGE_COLUMN,
      column('Users', 'string', `Users in the ${what}`, 1),
      column('Groups', 'string', `Groups in the ${what}`, 1),
      column('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
    ]),
    cells: bindingCells,
  };
}

const COMMON = {
  source: 'builtin',
  group: GROUP,
  version: 'v1',
  categories: [],
  shortNames: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'pathSegmentName',
  selectableFields: DEFAULT_FIELDS,
} as const;

export const ROLE: KindDefinition = {
  ...COMMON,
  resource: 'roles',
  singular: 'role',
  kind: 'Role',
  listKind: 'RoleList',
  namespaced: true,
  strategy: { validate: validateRole, generation: 'none' },
  printer: CREATED_AT_PRINTER,
  schema: 'io.k8s.api.rbac.v1.Role',
};

export const CLUSTER_ROLE: KindDefinition = {
  ...COMMON,
  resource: 'clusterroles',
  singular: 'clusterrole',
  kind: 'ClusterRole',
  listKind: 'ClusterRoleList',
  namespaced: false,
  strategy: { validate: validateClusterRole, generation: 'none' },
  printer: CREATED_AT_PRINTER,
  schema: 'io.k8s.api.rbac.v1.ClusterRole',
};

export const ROLE_BINDING: KindDefinition = {
  ...COMMON,
  resource: 'rolebindings',
  singular: 'rolebinding',
  kind: 'RoleBinding',
  listKind: 'RoleBindingList',
  namespaced: true,
  strategy: { defaults: defaultBinding, validate: (object, old) => bindingErrors(object, old, true), generation: 'none' },
  printer: bindingPrinter('roleBinding'),
  schema: 'io.k8s.api.rbac.v1.RoleBinding',
};

export const CLUSTER_ROLE_BINDING: KindDefinition = {
  ...COMMON,
  resource: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  kind: 'ClusterRoleBinding',
  listKind: 'ClusterRoleBindingList',
  namespaced: false,
  strategy: { defaults: defaultBinding, validate: (object, old) => bindingErrors(object, old, false), generation: 'none' },
  printer: bindingPrinter('clusterRoleBinding'),
  schema: 'io.k8s.api.rbac.v1.ClusterRoleBinding',
};
