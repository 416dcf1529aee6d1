/**
 * storage.k8s.io/v1 StorageClass (cluster-scoped): kube's defaults (storage/v1 defaults.go),
 * validation (storage/validation) and printStorageClass. kube raises no metadata.generation for
 * it.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { isQualifiedName } from '../../../validation/names.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { immutable, isSet, list, obj, semanticEqual, str, supported } from './validation.ts';

const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;
const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const DEFAULT_CLASS_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

/** SetDefaults_StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate. */
function defaultStorageClass(object: KubeObject): KubeObject {
  if (!isSet(object.reclaimPolicy)) object.reclaimPolicy = 'Delete';
  if (!isSet(object.volumeBindingMode)) object.volumeBindingMode = 'Immediate';
  return object;
}

/** validateParameters: at most 512 of them, no empty key, 256 KiB of keys and values in all. */
function parametersErrors(parameters: unknown): FieldError[] {
  if (!isPlainObject(parameters)) return [];
  const entries = Object.entries(parameters);
  // kube counts entries against the limit but words it as bytes (field.TooLong).
  if (entries.length > MAX_PARAMETERS) return [{ type: 'FieldValueTooLong', field: 'parameters', detail: `may not be more than ${MAX_PARAMETERS} bytes` }];
  const errors: FieldError[] = [];
  let size = 0;
  for (const [key, value] of entries) {
    if (key === '') errors.push({ type: 'FieldValueInvalid', field: 'parameters', value: key, detail: 'field can not be empty.' });
    size += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(str(value), 'utf8');
  }
  if (size > MAX_PARAMETERS_SIZE) errors.push({ type: 'FieldValueTooLong', field: 'parameters', detail: `may not be more than ${MAX_PARAMETERS_SIZE} bytes` });
  return errors;
}

/**
 * validateAllowedTopologies: each term's requirements have values (no duplicates) and a label key
 * (no duplicates in a term), and no term repeats another. As kube's, the check of repeated terms
 * also finds every term without requirements (it compares against placeholders of empty terms).
 */
function topologiesErrors(topologies: unknown[]): FieldError[] {
  const errors: FieldError[] = [];
  // Each term as kube compares them: key -> its sorted values.
  const terms: Map<string, string>[] = [];
  topologies.forEach((term, i) => {
    const expressions = new Map<string, string>();
    list(obj(term).matchLabelExpressions).forEach((raw, j) => {
      const requirement = obj(raw);
      const at = `allowedTopologies[${i}].matchLabelExpressions[${j}]`;
      const values = list(requirement.values).map(str);
      if (values.length === 0) errors.push({ type: 'FieldValueRequired', field: `${at}.values`, detail: '' });
      values.forEach((value, k) => {
        if (values.indexOf(value) < k) errors.push({ type: 'FieldValueDuplicate', field: `${at}.values[${k}]`, value, detail: '' });
      });
      const key = str(requirement.key);
      for (const detail of isQualifiedName(key)) errors.push({ type: 'FieldValueInvalid', field: `${at}.key`, value: key, detail });
      if (expressions.has(key)) errors.push({ type: 'FieldValueDuplicate', field: `${at}.key`, value: key, detail: '' });
      expressions.set(key, JSON.stringify([...new Set(values)].sort()));
    });
    const same = (other: Map<string, string>) => other.size === expressions.size && [...expressions].every(([k, v]) => other.get(k) === v);
    if (expressions.size === 0 || terms.some(same)) {
      errors.push({ type: 'FieldValueDuplicate', field: `allowedTopologies[${i}].matchLabelExpressions`, value: '', detail: '' });
    }
    terms.push(expressions);
  });
  return errors;
}

/** ValidateStorageClass, and on update ValidateStorageClassUpdate: provisioner, parameters and reclaimPolicy are forbidden to change, volumeBindingMode is immutable. */
function validateStorageClass(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const provisioner = str(object.provisioner);
  if (provisioner === '') errors.push({ type: 'FieldValueRequired', field: 'provisioner', detail: '' });
  else for (const detail of isQualifiedName(provisioner.toLowerCase())) errors.push({ type: 'FieldValueInvalid', field: 'provisioner', value: provisioner, detail });
  errors.push(...parametersErrors(object.parameters));
  const reclaimPolicy = str(object.reclaimPolicy);
  if (reclaimPolicy !== '' && !RECLAIM_POLICIES.includes(reclaimPolicy)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'reclaimPolicy', value: reclaimPolicy, detail: supported(RECLAIM_POLICIES) });
  }
  if (!isSet(object.volumeBindingMode)) errors.push({ type: 'FieldValueRequired', field: 'volumeBindingMode', detail: '' });
  else if (!BINDING_MODES.includes(str(object.volumeBindingMode))) {
    errors.push({ type: 'FieldValueNotSupported', field: 'volumeBindingMode', value: str(object.volumeBindingMode), detail: supported(BINDING_MODES) });
  }
  errors.push(...topologiesErrors(list(object.allowedTopologies)));
  if (old === undefined) return errors;
  if (!semanticEqual(object.parameters, old.parameters)) errors.push({ type: 'FieldValueForbidden', field: 'parameters', detail: 'updates to parameters are forbidden.' });
  if (provisioner !== str(old.provisioner)) errors.push({ type: 'FieldValueForbidden', field: 'provisioner', detail: 'updates to provisioner are forbidden.' });
  if (reclaimPolicy !== str(old.reclaimPolicy)) errors.push({ type: 'FieldValueForbidden', field: 'reclaimPolicy', detail: 'updates to reclaimPolicy are forbidden.' });
  errors.push(...immutable(object.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errors;
}

/**
 * printStorageClass: NAME (with " (default)" for the default class), PROVISIONER,
 * RECLAIMPOLICY, VOLUMEBINDINGMODE, ALLOWVOLUMEEXPANSION, AGE; unset fields print their
 * defaults.
 */
function storageClassCells(object: Record<string, unknown>, now: Date): unknown[] {
  const annotations = field(field(object, 'metadata'), 'annotations');
  const isDefault = DEFAULT_CLASS_ANNOTATIONS.some((key) => annotations[key] === 'true');
  const reclaimPolicy = isSet(object.reclaimPolicy) ? str(object.reclaimPolicy) : 'Delete';
  const bindingMode = isSet(object.volumeBindingMode) ? str(object.volumeBindingMode) : 'Immediate';
  return [
    isDefault ? `${nameOf(object)} (default)` : nameOf(object),
    str(object.provisioner),
    reclaimPolicy,
    bindingMode,
    object.allowVolumeExpansion === true,
    ageOf(object, now),
  ];
}

export const STORAGE_CLASS: KindDefinition = {
  source: 'builtin',
  group: 'storage.k8s.io',
  version: 'v1',
  resource: 'storageclasses',
  singular: 'storageclass',
  kind: 'StorageClass',
  listKind: 'StorageClassList',
  namespaced: false,
  shortNames: ['sc'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults: defaultStorageClass, validate: validateStorageClass, generation: 'none' },
  printer: {
    columns: Object.freeze([
      NAME_COLUMN,
      column('Provisioner', 'string', 'The provisioner that creates volumes of this class'),
      column('ReclaimPolicy', 'string', 'What becomes of a provisioned volume once released (Delete by default)'),
      column('VolumeBindingMode', 'string', 'When claims of this class are provisioned and bound (Immediate by default)'),
      column('AllowVolumeExpansion', 'string', 'Whether volumes of this class may be expanded'),
      AGE_COLUMN,
    ]),
    cells: storageClassCells,
  },
  schema: 'io.k8s.api.storage.v1.StorageClass',
};
