/**
 * ResourceQuota (core/v1, namespaced, short name "quota", with a status subresource): hard
 * limits rounded up to milli; resource names, quantities and scopes validated as kube's
 * ValidateResourceQuota, scopes immutable; a new quota starts with an empty status (kube's
 * quota controller, which this server does not run, fills it in); printed as kube's
 * printResourceQuota from the status (REQUEST and LIMIT are "resource: used/hard" lists).
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import {
  child,
  defaultResourceList,
  FIELD_IMMUTABLE,
  isStandardQuotaResourceName,
  key,
  list,
  obj,
  quantityText,
  resourceEntries,
  resourceNameErrors,
  resourceQuantityErrors,
  str,
} from './common.ts';

const STANDARD_SCOPES = new Set(['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass']);
const POD_COUNT_RESOURCES = new Set(['pods']);
const POD_COMPUTE_RESOURCES = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);
const PVC_RESOURCES = new Set(['persistentvolumeclaims', 'requests.storage']);
const CONFLICTING_SCOPES: ReadonlyArray<readonly [string, string]> = [
  ['BestEffort', 'NotBestEffort'],
  ['Terminating', 'NotTerminating'],
];
const EXISTS_ONLY_SCOPES = new Set(['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity']);

/** IsResourceQuotaScopeValidForResource. */
function scopeAppliesTo(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return POD_COUNT_RESOURCES.has(resource) || POD_COMPUTE_RESOURCES.has(resource);
    case 'BestEffort':
      return POD_COUNT_RESOURCES.has(resource);
    case 'VolumeAttributesClass':
      return PVC_RESOURCES.has(resource);
    default:
      return true;
  }
}

/** SetDefaults_ResourceList for spec.hard, status.hard and status.used. */
function defaults(object: KubeObject): KubeObject {
  defaultResourceList(obj(object.spec).hard);
  defaultResourceList(obj(object.status).hard);
  defaultResourceList(obj(object.status).used);
  return object;
}

/** PrepareForCreate: a new quota's status is empty until the quota controller computes it. */
function prepareForCreate(object: KubeObject): KubeObject {
  return { ...object, status: {} };
}

/** ValidateResourceQuotaResourceName: a resource name, and one quota tracks unless fully qualified. */
function quotaResourceNameErrors(name: string, path: string): FieldError[] {
  const errors = resourceNameErrors(name, path);
  if (!name.includes('/') && !isStandardQuotaResourceName(name)) {
    errors.push({ type: 'FieldValueInvalid', field: path, value: name, detail: 'must be a standard resource for quota' });
  }
  return errors;
}

/** The names and quantities of a resource list (hard or used). */
function resourceListErrors(value: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, q] of resourceEntries(value)) {
    const at = key(path, name);
    errors.push(...quotaResourceNameErrors(name, at));
    if (q !== undefined) errors.push(...resourceQuantityErrors(name, q, at));
  }
  return errors;
}

/** validateResourceQuotaScopes: known scopes, each valid for every standard hard resource, none conflicting. */
function scopesErrors(spec: Record<string, unknown>): FieldError[] {
  const scopes = list(spec.scopes).map(str);
  if (scopes.length === 0) return [];
  const errors: FieldError[] = [];
  const path = 'spec.scopes';
  const hard = Object.keys(obj(spec.hard)).sort();
  for (const scope of scopes) {
    if (!STANDARD_SCOPES.has(scope)) errors.push({ type: 'FieldValueInvalid', field: path, value: spec.scopes, detail: 'unsupported scope' });
    for (const resource of hard) {
      if (isStandardQuotaResourceName(resource) && !scopeAppliesTo(scope, resource)) {
        errors.push({ type: 'FieldValueInvalid', field: path, value: spec.scopes, detail: 'unsupported scope applied to resource' });
      }
    }
  }
  for (const [a, b] of CONFLICTING_SCOPES) {
    if (scopes.includes(a) && scopes.includes(b)) errors.push({ type: 'FieldValueInvalid', field: path, value: spec.scopes, detail: 'conflicting scopes' });
  }
  return errors;
}

/** validateScopeSelector: each match expression's scope, operator and values. */
function scopeSelectorErrors(spec: Record<string, unknown>): FieldError[] {
  if (spec.scopeSelector === undefined || spec.scopeSelector === null) return [];
  const errors: FieldError[] = [];
  const path = 'spec.scopeSelector.matchExpressions';
  const hard = Object.keys(obj(spec.hard)).sort();
  const seen = new Set<string>();
  for (const raw of list(obj(spec.scopeSelector).matchExpressions)) {
    const requirement = obj(raw);
    const scope = str(requirement.scopeName);
    const operator = str(requirement.operator);
    const values = list(requirement.values);
    if (!STANDARD_SCOPES.has(scope)) errors.push({ type: 'FieldValueInvalid', field: child(path, 'scopeName'), value: scope, detail: 'unsupported scope' });
    for (const resource of hard) {
      if (isStandardQuotaResourceName(resource) && !scopeAppliesTo(scope, resource)) {
        errors.push({ type: 'FieldValueInvalid', field: path, value: spec.scopeSelector, detail: 'unsupported scope applied to resource' });
      }
    }
    if (EXISTS_ONLY_SCOPES.has(scope) && operator !== 'Exists') {
      errors.push({
        type: 'FieldValueInvalid',
        field: child(path, 'operator'),
        value: operator,
        detail:
          "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
      });
    }
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) {
        errors.push({ type: 'FieldValueRequired', field: child(path, 'values'), detail: "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector" });
      }
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length !== 0) {
        errors.push({ type: 'FieldValueInvalid', field: child(path, 'values'), value: values, detail: "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector" });
      }
    } else {
      errors.push({ type: 'FieldValueInvalid', field: child(path, 'operator'), value: operator, detail: 'not a valid selector operator' });
    }
    seen.add(scope);
  }
  for (const [a, b] of CONFLICTING_SCOPES) {
    if (seen.has(a) && seen.has(b)) errors.push({ type: 'FieldValueInvalid', field: path, value: spec.scopes ?? null, detail: 'conflicting scopes' });
  }
  return errors;
}

/** ValidateResourceQuotaSpec. */
function specErrors(object: KubeObject): FieldError[] {
  const spec = obj(object.spec);
  return [...resourceListErrors(spec.hard, 'spec.hard'), ...scopesErrors(spec), ...scopeSelectorErrors(spec)];
}

/** ValidateResourceQuotaStatus: the names and quantities of status.hard and status.used. */
function statusErrors(object: KubeObject): FieldError[] {
  const status = obj(object.status);
  return [...resourceListErrors(status.hard, 'status.hard'), ...resourceListErrors(status.used, 'status.used')];
}

/** ValidateResourceQuota on create; on update, the spec and scopes that do not change. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (old === undefined) return [...specErrors(object), ...statusErrors(object)];
  const errors = specErrors(object);
  const next = new Set(list(obj(object.spec).scopes).map(str));
  const before = new Set(list(obj(old.spec).scopes).map(str));
  if (next.size !== before.size || [...next].some((s) => !before.has(s))) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.scopes', value: obj(object.spec).scopes ?? null, detail: FIELD_IMMUTABLE });
  }
  return errors;
}

/**
 * printResourceQuota: REQUEST and LIMIT list "resource: used/hard" for each resource of
 * status.hard in name order, those named "limits.*" under LIMIT and the rest under REQUEST.
 */
function quotaCells(object: Record<string, unknown>, now: Date): unknown[] {
  const status = field(object, 'status');
  const hard = obj(status['hard']);
  const used = obj(status['used']);
  const requests: string[] = [];
  const limits: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const pieces = name.split('.');
    const cell = `${name}: ${quantityText(used[name])}/${quantityText(hard[name])}`;
    (pieces.length > 1 && pieces[0] === 'limits' ? limits : requests).push(cell);
  }
  return [nameOf(object), requests.join(', '), limits.join(', '), ageOf(object, now)];
}

export const RESOURCE_QUOTA: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'resourcequotas',
  singular: 'resourcequota',
  kind: 'ResourceQuota',
  listKind: 'ResourceQuotaList',
  namespaced: true,
  shortNames: ['quota'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, prepareForCreate, validate, generation: 'none' },
  // ValidateResourceQuotaStatusUpdate: the names and quantities of the status written.
  statusStrategy: { validate: (object) => statusErrors(object) },
  printer: {
    // kube 1.33 moved AGE after REQUEST and LIMIT.
    columns: Object.freeze([
      NAME_COLUMN,
      column('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      column('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
      AGE_COLUMN,
    ]),
    cells: quotaCells,
  },
  schema: 'io.k8s.api.core.v1.ResourceQuota',
};
