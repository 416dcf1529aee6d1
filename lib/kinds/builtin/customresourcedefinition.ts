/**
 * CustomResourceDefinition (apiextensions.k8s.io/v1, cluster-scoped): the path by which kinds
 * enter the live registry at run time (lib/kinds/custom.ts turns one into kind definitions,
 * lib/kinds/follow.ts keeps a registry in step with the stored ones).
 *
 * Its strategy does what kube's CRD strategy, defaulting and validation do for the fields the
 * registry relies on (names, group, scope, versions and their storage flag, printer columns,
 * selectable fields), with kube's 422 texts. kube's naming and establishing controllers set
 * the status asynchronously; here it is set as the object is written (acceptedNames, the
 * NamesAccepted and Established conditions, storedVersions), since every follower serves a
 * kind as soon as its definition is stored. Name conflicts between definitions of the same
 * group (kinds, short names) are not looked for: NamesAccepted is always True. Groups of the
 * Kubernetes community (k8s.io, kubernetes.io and their subdomains) need kube's API approval
 * annotation.
 */
import { isPlainObject, rfc3339, type KubeObject } from '../../kube.ts';
import type { FieldError } from '../../errors.ts';
import { isDNS1123Subdomain } from '../../validation/names.ts';
import { DEFAULT_FIELDS } from '../../selectors.ts';
import { AGE_COLUMN, field, nameOf, NAME_COLUMN } from '../printing.ts';
import type { KindDefinition, KindDeletion } from '../types.ts';
import { STANDARD_VERBS } from './common.ts';

export const CRD_GROUP = 'apiextensions.k8s.io';
export const CRD_RESOURCE = 'customresourcedefinitions';

/** The finalizer kube puts on a CRD so that its custom resources are deleted before it goes. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL = new RegExp(`^${DNS1035_LABEL_FMT}$`);

/** validation.IsDNS1035Label with kube's messages. */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(value, 'utf8') > 63) errs.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(value)) {
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '" +
        DNS1035_LABEL_FMT +
        "')",
    );
  }
  return errs;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

/** The spec's names with kube's defaults (singular: the lower-cased kind; listKind: kind + "List"). */
export function defaultedNames(names: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...names };
  const kind = str(names.kind);
  if (str(names.singular) === '') out.singular = kind.toLowerCase();
  if (str(names.listKind) === '' && kind !== '') out.listKind = `${kind}List`;
  return out;
}

/** SetDefaults_CustomResourceDefinitionSpec: names defaulted, conversion None when absent. */
function defaultedSpec(spec: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec, names: defaultedNames(obj(spec.names)) };
  if (spec.conversion === undefined || spec.conversion === null) out.conversion = { strategy: 'None' };
  return out;
}

/** The name of the version marked storage ("" when none or several). */
function storageVersion(spec: Record<string, unknown>): string {
  const storage = list(spec.versions).filter((v) => obj(v).storage === true);
  return storage.length === 1 ? str(obj(storage[0]).name) : '';
}

/** The names kube accepts into status.acceptedNames (empty lists left out, as omitempty). */
function acceptedNames(names: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['plural', 'singular', 'shortNames', 'kind', 'listKind', 'categories']) {
    const value = names[key];
    if (typeof value === 'string' ? value !== '' : Array.isArray(value) && value.length > 0) out[key] = value;
  }
  return out;
}

/** A condition kept with its lastTransitionTime when its status did not change. */
function condition(previous: unknown[], type: string, reason: string, message: string, now: string): Record<string, unknown> {
  const old = previous.map(obj).find((c) => c.type === type);
  const lastTransitionTime = old !== undefined && old.status === 'True' && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now;
  return { type, status: 'True', lastTransitionTime, reason, message };
}

/**
 * The status kube's controllers settle on for `spec`: names accepted (no conflicts looked
 * for), established, and the storage version among storedVersions (kept from `old`). Other
 * conditions (Terminating) stay as `old` has them, after these two.
 */
function settledStatus(spec: Record<string, unknown>, old: Record<string, unknown> | undefined, now: Date): Record<string, unknown> {
  const previous = list(old?.conditions);
  const at = rfc3339(now);
  const stored = list(old?.storedVersions).filter((v): v is string => typeof v === 'string');
  const storage = storageVersion(spec);
  if (storage !== '' && !stored.includes(storage)) stored.push(storage);
  const settled = ['NamesAccepted', 'Established'];
  return {
    conditions: [
      condition(previous, 'NamesAccepted', 'NoConflicts', 'no conflicts found', at),
      condition(previous, 'Established', 'InitialNamesAccepted', 'the initial names have been accepted', at),
      ...previous.filter((c) => !settled.includes(str(obj(c).type))),
    ],
    acceptedNames: acceptedNames(obj(spec.names)),
    storedVersions: stored,
  };
}

function prepareForCreate(object: KubeObject): KubeObject {
  const spec = defaultedSpec(obj(object.spec));
  return { ...object, spec, status: settledStatus(spec, undefined, new Date()) };
}

function prepareForUpdate(object: KubeObject, old: KubeObject): KubeObject {
  const spec = defaultedSpec(obj(object.spec));
  return { ...object, spec, status: settledStatus(spec, obj(old.status), new Date()) };
}

const PRINTER_COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const PRINTER_COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];

/** validateSimpleJSONPath: a dotted path starting with ".". */
function simpleJsonPathErrors(path: string, at: string): FieldError[] {
  if (path === '') return [{ type: 'FieldValueInvalid', field: at, value: path, detail: 'must not be empty' }];
  if (!path.startsWith('.')) return [{ type: 'FieldValueInvalid', field: at, value: path, detail: 'must be a simple json path starting with .' }];
  if (path !== '.' && path.slice(1).split('.').some((segment) => segment === '' || /[[\]]/.test(segment))) {
    return [{ type: 'FieldValueInvalid', field: at, value: path, detail: 'must be a json path in the dot notation' }];
  }
  return [];
}

function namesErrors(names: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of ['plural', 'singular', 'kind', 'listKind']) {
    if (str(names[key]) === '') errors.push({ type: 'FieldValueRequired', field: `${at}.${key}`, detail: '' });
  }
  for (const key of ['plural', 'singular']) {
    const value = str(names[key]);
    const errs = value === '' ? [] : isDNS1035Label(value);
    if (errs.length > 0) errors.push({ type: 'FieldValueInvalid', field: `${at}.${key}`, value, detail: errs.join(',') });
  }
  for (const key of ['kind', 'listKind']) {
    const value = str(names[key]);
    const errs = value === '' ? [] : isDNS1035Label(value.toLowerCase());
    if (errs.length > 0) {
      errors.push({ type: 'FieldValueInvalid', field: `${at}.${key}`, value, detail: `may have mixed case, but should otherwise match: ${errs.join(',')}` });
    }
  }
  for (const key of ['shortNames', 'categories']) {
    list(names[key]).forEach((value, i) => {
      const errs = isDNS1035Label(str(value));
      if (errs.length > 0) errors.push({ type: 'FieldValueInvalid', field: `${at}.${key}[${i}]`, value, detail: errs.join(',') });
    });
  }
  if (str(names.kind) !== '' && names.kind === names.listKind) {
    errors.push({ type: 'FieldValueInvalid', field: `${at}.listKind`, value: names.listKind, detail: 'kind and listKind may not be the same' });
  }
  return errors;
}

function versionErrors(version: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = str(version.name);
  const nameErrs = isDNS1035Label(name);
  if (nameErrs.length > 0) errors.push({ type: 'FieldValueInvalid', field: `${at}.name`, value: name, detail: nameErrs.join(',') });
  if (!isPlainObject(obj(version.schema).openAPIV3Schema)) {
    errors.push({ type: 'FieldValueRequired', field: `${at}.schema.openAPIV3Schema`, detail: '' });
  }
  const scale = obj(version.subresources).scale;
  if (isPlainObject(scale)) {
    for (const [key, under] of [['specReplicasPath', '.spec.'], ['statusReplicasPath', '.status.']] as const) {
      const path = str(scale[key]);
      const where = `${at}.subresources.scale.${key}`;
      if (path === '') {
        errors.push({ type: 'FieldValueRequired', field: where, detail: '' });
        continue;
      }
      const errs = simpleJsonPathErrors(path, where);
      if (errs.length > 0) errors.push(...errs);
      else if (!path.startsWith(under)) errors.push({ type: 'FieldValueInvalid', field: where, value: path, detail: `should be a json path under ${under.slice(0, -1)}` });
    }
  }
  list(version.additionalPrinterColumns).forEach((raw, i) => {
    const col = obj(raw);
    const where = `${at}.additionalPrinterColumns[${i}]`;
    if (str(col.name) === '') errors.push({ type: 'FieldValueRequired', field: `${where}.name`, detail: '' });
    const type = str(col.type);
    const types = `must be one of ${PRINTER_COLUMN_TYPES.join(',')}`;
    if (type === '') errors.push({ type: 'FieldValueRequired', field: `${where}.type`, detail: types });
    else if (!PRINTER_COLUMN_TYPES.includes(type)) errors.push({ type: 'FieldValueInvalid', field: `${where}.type`, value: type, detail: types });
    const format = str(col.format);
    if (format !== '' && !PRINTER_COLUMN_FORMATS.includes(format)) {
      errors.push({ type: 'FieldValueInvalid', field: `${where}.format`, value: format, detail: `must be one of ${PRINTER_COLUMN_FORMATS.join(',')}` });
    }
    const path = str(col.jsonPath);
    if (path === '') errors.push({ type: 'FieldValueRequired', field: `${where}.JSONPath`, detail: '' });
    else errors.push(...simpleJsonPathErrors(path, `${where}.JSONPath`));
  });
  list(version.selectableFields).forEach((raw, i) => {
    const path = str(obj(raw).jsonPath);
    const where = `${at}.selectableFields[${i}].jsonPath`;
    if (path === '') errors.push({ type: 'FieldValueRequired', field: where, detail: '' });
    else if (path.startsWith('.metadata')) errors.push({ type: 'FieldValueInvalid', field: where, value: path, detail: 'must not point to fields in metadata' });
    else errors.push(...simpleJsonPathErrors(path, where));
  });
  return errors;
}

/** The annotation a definition in a protected group must carry (kube's KubeAPIApprovedAnnotation). */
export const API_APPROVED_ANNOTATION = 'api-approved.kubernetes.io';

/** IsProtectedCommunityGroup: k8s.io, kubernetes.io and their subdomains belong to the Kubernetes community. */
export function isProtectedGroup(group: string): boolean {
  return group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
}

type ApprovalState = 'invalid' | 'approved' | 'bypassed' | 'missing';

const APPROVAL_PROPOSAL = 'see https://github.com/kubernetes/enhancements/pull/1111';

/** GetAPIApprovalState: what the approval annotation says, and kube's reason for it. */
function approvalState(object: KubeObject): { state: ApprovalState; value: string; reason: string } {
  const value = str(obj(object.metadata?.annotations)[API_APPROVED_ANNOTATION]);
  if (value === '') return { state: 'missing', value, reason: `protected groups must have approval annotation "${API_APPROVED_ANNOTATION}", ${APPROVAL_PROPOSAL}` };
  if (value.startsWith('unapproved')) return { state: 'bypassed', value, reason: '' };
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // Go's url.ParseRequestURI with a scheme and a host: an absolute URL naming where it was approved.
  if (url !== undefined && url.protocol !== '' && url.host !== '') return { state: 'approved', value, reason: '' };
  return {
    state: 'invalid',
    value,
    reason: `protected groups must have approval annotation "${API_APPROVED_ANNOTATION}" with either a URL or a reason starting with "unapproved", ${APPROVAL_PROPOSAL}`,
  };
}

/**
 * validateAPIApproval: a definition in a protected group needs the approval annotation (a URL,
 * or a reason starting with "unapproved"). An update that leaves the approval state as it was
 * is never refused (a controller rewriting only the spec keeps working).
 */
function approvalErrors(object: KubeObject, old: KubeObject | undefined, group: string): FieldError[] {
  if (!isProtectedGroup(group)) return [];
  const now = approvalState(object);
  if (old !== undefined && approvalState(old).state === now.state) return [];
  const at = `metadata.annotations[${API_APPROVED_ANNOTATION}]`;
  switch (now.state) {
    case 'missing':
      return [{ type: 'FieldValueRequired', field: at, detail: now.reason }];
    case 'invalid':
      return [{ type: 'FieldValueInvalid', field: at, value: now.value, detail: now.reason }];
    default:
      return [];
  }
}

/** ValidateCustomResourceDefinition(Update), for what the registry relies on. */
export function validateCustomResourceDefinition(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const spec = defaultedSpec(obj(object.spec));
  const names = obj(spec.names);
  const group = str(spec.group);
  const name = str(object.metadata?.name);
  if (name !== '' && name !== `${str(names.plural)}.${group}`) {
    errors.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: name, detail: 'must be spec.names.plural+"."+spec.group' });
  }
  if (group === '') errors.push({ type: 'FieldValueRequired', field: 'spec.group', detail: '' });
  else if (isDNS1123Subdomain(group).length > 0) errors.push({ type: 'FieldValueInvalid', field: 'spec.group', value: group, detail: isDNS1123Subdomain(group).join(',') });
  else if (group.split('.').length < 2) errors.push({ type: 'FieldValueInvalid', field: 'spec.group', value: group, detail: 'should be a domain with at least one dot' });
  const scope = str(spec.scope);
  if (scope === '') errors.push({ type: 'FieldValueRequired', field: 'spec.scope', detail: '' });
  else if (scope !== 'Cluster' && scope !== 'Namespaced') {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.scope', value: scope, detail: 'supported values: "Cluster", "Namespaced"' });
  }
  const versions = list(spec.versions).map(obj);
  versions.forEach((v, i) => errors.push(...versionErrors(v, `spec.versions[${i}]`)));
  const versionNames = versions.map((v) => str(v.name));
  if (new Set(versionNames).size !== versionNames.length) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.versions', value: spec.versions, detail: 'must contain unique version names' });
  }
  if (versions.filter((v) => v.storage === true).length !== 1) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.versions', value: spec.versions ?? null, detail: 'must have exactly one version marked as storage version' });
  }
  errors.push(...namesErrors(names, 'spec.names'));
  if (old !== undefined) {
    const oldSpec = obj(old.spec);
    const oldNames = obj(oldSpec.names);
    const immutable = (now: unknown, before: unknown, at: string) => {
      if (now !== before) errors.push({ type: 'FieldValueInvalid', field: at, value: now, detail: 'field is immutable' });
    };
    // An established definition (every stored one here) keeps its scope and kind.
    immutable(spec.scope, oldSpec.scope, 'spec.scope');
    immutable(names.kind, oldNames.kind, 'spec.names.kind');
    immutable(spec.group, oldSpec.group, 'spec.group');
    immutable(names.plural, oldNames.plural, 'spec.names.plural');
  }
  errors.push(...approvalErrors(object, old, group));
  return errors;
}

/** One of a definition's status.conditions (apiextensions CustomResourceDefinitionCondition). */
export interface DefinitionCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * The definition with `wanted` set among its status.conditions, as kube's SetCRDCondition: an
 * existing condition of that type is changed in place (its lastTransitionTime moves only when
 * its status changes, or when it has none), a new one is appended. A copy; `crd` is not changed.
 */
export function withDefinitionCondition(crd: KubeObject, wanted: DefinitionCondition, now: Date): KubeObject {
  const status = obj(crd.status);
  const conditions = list(status.conditions).map((c) => ({ ...obj(c) }));
  const at = rfc3339(now);
  const existing = conditions.find((c) => c.type === wanted.type);
  if (existing === undefined) {
    conditions.push({ type: wanted.type, status: wanted.status, lastTransitionTime: at, reason: wanted.reason, message: wanted.message });
  } else {
    if (existing.status !== wanted.status || str(existing.lastTransitionTime) === '') existing.lastTransitionTime = at;
    Object.assign(existing, { status: wanted.status, reason: wanted.reason, message: wanted.message });
  }
  return { ...crd, status: { ...status, conditions } };
}

/** The condition of type `type` among the definition's status.conditions, if any. */
export function definitionCondition(crd: KubeObject, type: string): Record<string, unknown> | undefined {
  return list(obj(crd.status).conditions).map(obj).find((c) => c.type === type);
}

/**
 * kube's CustomResourceDefinition REST Delete: the first delete marks the definition (beside
 * deletionTimestamp) with the cleanup finalizer and the condition Terminating=True, so that it
 * stays until the crd-cleanup controller has deleted its custom resources; later deletes leave
 * it as it is. The finalizer holds it as any finalizer does.
 */
const DELETION: KindDeletion = {
  markForDeletion: (object) => {
    const finalizers = Array.isArray(object.metadata?.finalizers) ? object.metadata.finalizers : [];
    const marked = withDefinitionCondition(
      object,
      { type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending', message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon' },
      new Date(),
    );
    return { ...marked, metadata: { ...object.metadata, finalizers: finalizers.includes(CRD_CLEANUP_FINALIZER) ? finalizers : [...finalizers, CRD_CLEANUP_FINALIZER] } };
  },
};

/** kube's default TableConvertor, which CRDs use: NAME and CREATED AT (RFC 3339, not an age). */
function crdCells(object: Record<string, unknown>): unknown[] {
  const created = field(object, 'metadata')['creationTimestamp'];
  return [nameOf(object), typeof created === 'string' ? created : null];
}

export const CUSTOM_RESOURCE_DEFINITION: KindDefinition = {
  source: 'builtin',
  group: CRD_GROUP,
  version: 'v1',
  resource: CRD_RESOURCE,
  singular: 'customresourcedefinition',
  kind: 'CustomResourceDefinition',
  listKind: 'CustomResourceDefinitionList',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  verbs: STANDARD_VERBS,
  // kube's customresourcedefinitions/status: where the cleanup controller writes its conditions
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { prepareForCreate, prepareForUpdate, validate: validateCustomResourceDefinition, generation: 'spec' },
  deletion: DELETION,
  printer: {
    columns: Object.freeze([NAME_COLUMN, Object.freeze({ ...AGE_COLUMN, name: 'Created At', type: 'date' })]),
    cells: crdCells,
  },
  schema: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
};
