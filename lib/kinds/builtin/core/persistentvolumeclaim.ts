/**
 * PersistentVolumeClaim (core/v1, namespaced, short name "pvc", with a status subresource):
 * volume mode Filesystem and status phase Pending by default, requests rounded up to milli,
 * dataSource and dataSourceRef mirrored as kube normalizes them; validated as kube's
 * ValidatePersistentVolumeClaimSpec (access modes, a storage request, class names, data
 * sources) and, on update, the spec immutable but for what kube lets a bound claim change (its
 * storage request, up, and its volume attributes class) and a first volumeName; printed as
 * kube's printPersistentVolumeClaim.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { compareQuantities, quantityOf, type Quantity } from '../../quantity.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN, stringField } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import {
  basicResourceErrors,
  child,
  defaultResourceList,
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  fieldDiff,
  immutable,
  key,
  list,
  obj,
  positiveQuantityErrors,
  quantityText,
  resourceEntries,
  resourceQuantityErrors,
  sameValue,
  str,
  supportedValues,
} from './common.ts';
import { accessModesErrors, accessModesString, BETA_STORAGE_CLASS_ANNOTATION, phaseOf, storageClassOf, VOLUME_MODES } from './persistentvolume.ts';

const ZERO: Quantity = { negative: false, digits: '0', scale: 0, format: 'DecimalSI' };

/** SetDefaults_PersistentVolumeClaim(Spec): phase Pending, volume mode Filesystem, resource lists rounded up to milli. */
function defaults(object: KubeObject): KubeObject {
  const spec = object.spec;
  if (isPlainObject(spec)) {
    if (spec.volumeMode === undefined || spec.volumeMode === null) spec.volumeMode = 'Filesystem';
    const resources = spec.resources;
    if (isPlainObject(resources)) {
      defaultResourceList(resources.limits);
      defaultResourceList(resources.requests);
    }
  }
  const status: Record<string, unknown> = isPlainObject(object.status) ? object.status : {};
  if (status.phase === undefined || status.phase === null || status.phase === '') status.phase = 'Pending';
  defaultResourceList(status.capacity);
  defaultResourceList(status.allocatedResources);
  object.status = status;
  return object;
}

/**
 * NormalizeDataSources: when only one of dataSource and dataSourceRef is set (and the ref
 * names no namespace), the other is set to the same reference.
 */
function normalizeDataSources(spec: Record<string, unknown>): Record<string, unknown> {
  const source = spec.dataSource;
  const ref = spec.dataSourceRef;
  const set = (v: unknown): v is Record<string, unknown> => isPlainObject(v);
  if (set(source) && (ref === undefined || ref === null)) return { ...spec, dataSourceRef: { ...source } };
  if (set(ref) && (source === undefined || source === null) && str(ref.namespace) === '') {
    const { namespace: _namespace, ...copy } = ref;
    return { ...spec, dataSource: copy };
  }
  return spec;
}

/** PrepareForCreate: the status is the claim's own (Pending), and the data sources normalized. */
function prepareForCreate(object: KubeObject): KubeObject {
  return { ...object, spec: normalizeDataSources(obj(object.spec)), status: { phase: 'Pending' } };
}

/** PrepareForUpdate's kind-specific part: the data sources normalized. */
function prepareForUpdate(object: KubeObject): KubeObject {
  return isPlainObject(object.spec) ? { ...object, spec: normalizeDataSources(object.spec) } : object;
}

/** validateDataSource / validateDataSourceRef. */
function dataSourceErrors(source: Record<string, unknown>, at: string, withNamespace: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (str(source.name) === '') errors.push({ type: 'FieldValueRequired', field: child(at, 'name'), detail: '' });
  const kind = str(source.kind);
  if (kind === '') errors.push({ type: 'FieldValueRequired', field: child(at, 'kind'), detail: '' });
  const group = str(source.apiGroup);
  if (group === '' && kind !== 'PersistentVolumeClaim') {
    errors.push({ type: 'FieldValueInvalid', field: at, value: kind, detail: "must be 'PersistentVolumeClaim' when referencing the default apiGroup" });
  }
  if (group !== '') errors.push(...dns1123SubdomainErrors(group, child(at, 'apiGroup')));
  const namespace = str(source.namespace);
  // ValidateNamespaceName: a DNS-1123 label.
  if (withNamespace && namespace !== '') errors.push(...dns1123LabelErrors(namespace, child(at, 'namespace')));
  return errors;
}

/** ValidatePersistentVolumeClaimSpec. */
function specErrors(spec: Record<string, unknown>): FieldError[] {
  const errors = accessModesErrors(spec.accessModes, 'spec.accessModes', 'at least 1 access mode is required');
  const requests = obj(obj(spec.resources).requests);
  // kube names the request by the resources field and the key: spec.resources[storage].
  const storagePath = key('spec.resources', 'storage');
  if (!Object.hasOwn(requests, 'storage')) {
    errors.push({ type: 'FieldValueRequired', field: storagePath, detail: '' });
  } else {
    const q = quantityOf(requests.storage);
    if (q !== undefined) {
      const positive = positiveQuantityErrors(q, storagePath);
      errors.push(...(positive.length > 0 ? positive : resourceQuantityErrors('storage', q, storagePath)));
    }
  }
  const storageClass = spec.storageClassName;
  if (typeof storageClass === 'string' && storageClass !== '') errors.push(...dns1123SubdomainErrors(storageClass, 'spec.storageClassName'));
  if (typeof spec.volumeMode === 'string' && !(VOLUME_MODES as readonly string[]).includes(spec.volumeMode)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.volumeMode', value: spec.volumeMode, detail: supportedValues(VOLUME_MODES) });
  }
  const source = spec.dataSource;
  const ref = spec.dataSourceRef;
  if (isPlainObject(source)) errors.push(...dataSourceErrors(source, 'spec.dataSource', false));
  if (isPlainObject(ref)) errors.push(...dataSourceErrors(ref, 'spec.dataSourceRef', true));
  if (isPlainObject(ref) && str(ref.namespace) !== '') {
    if (isPlainObject(source)) errors.push({ type: 'FieldValueInvalid', field: 'spec', value: 'spec.dataSource', detail: 'may not be specified when dataSourceRef.namespace is specified' });
  } else if (isPlainObject(source) && isPlainObject(ref)) {
    const sameGroup = (source.apiGroup ?? null) === (ref.apiGroup ?? null);
    if (!sameGroup || str(source.kind) !== str(ref.kind) || str(source.name) !== str(ref.name)) {
      errors.push({ type: 'FieldValueInvalid', field: 'spec', value: 'spec.dataSource', detail: 'must match dataSourceRef' });
    }
  }
  const attributesClass = spec.volumeAttributesClassName;
  if (typeof attributesClass === 'string' && attributesClass !== '') errors.push(...dns1123SubdomainErrors(attributesClass, 'spec.volumeAttributesClassName'));
  return errors;
}

/** The storage request of a spec, or zero. */
function storageRequest(spec: Record<string, unknown>): Quantity {
  return quantityOf(obj(obj(spec.resources).requests).storage) ?? ZERO;
}

/**
 * ValidatePersistentVolumeClaimUpdate beyond the spec's own rules: the spec may not change but
 * for a first volumeName, a storage class given where there was none (or only the old
 * annotation), and, once bound, its storage request and volume attributes class; the request
 * may shrink only above the capacity of the status; volumeMode fixed.
 */
function updateErrors(object: KubeObject, old: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(object.spec);
  const oldSpec = obj(old.spec);
  const next: Record<string, unknown> = structuredClone(spec);
  const before: Record<string, unknown> = structuredClone(oldSpec);
  if (str(oldSpec.volumeName) === '') before.volumeName = next.volumeName;
  const oldAnnotations = obj(old.metadata?.annotations);
  const newAnnotations = obj(object.metadata?.annotations);
  const oldAnnotationSet = Object.hasOwn(oldAnnotations, BETA_STORAGE_CLASS_ANNOTATION);
  const oldClass = str(oldAnnotations[BETA_STORAGE_CLASS_ANNOTATION]);
  const unset = (v: unknown): boolean => v === undefined || v === null;
  const upgradeFromAnnotation =
    oldAnnotationSet &&
    unset(oldSpec.storageClassName) &&
    typeof spec.storageClassName === 'string' &&
    spec.storageClassName === oldClass &&
    (!Object.hasOwn(newAnnotations, BETA_STORAGE_CLASS_ANNOTATION) || newAnnotations[BETA_STORAGE_CLASS_ANNOTATION] === oldClass);
  if (upgradeFromAnnotation) {
    delete next.storageClassName;
  } else {
    const newAnnotation = str(newAnnotations[BETA_STORAGE_CLASS_ANNOTATION]);
    if (newAnnotation !== oldClass) {
      errors.push({ type: 'FieldValueInvalid', field: `metadata.annotations.${BETA_STORAGE_CLASS_ANNOTATION}`, value: newAnnotation, detail: 'field is immutable' });
    }
    // A class may be given to a claim that had none (unless the old annotation says otherwise).
    if (typeof spec.storageClassName === 'string' && unset(oldSpec.storageClassName) && (!oldAnnotationSet || spec.storageClassName === oldClass)) {
      delete next.storageClassName;
    }
  }
  const bound = str(obj(object.status).phase) === 'Bound';
  const nextRequests = obj(next.resources).requests;
  if (bound && isPlainObject(nextRequests)) {
    const oldStorage = obj(obj(oldSpec.resources).requests).storage;
    if (oldStorage === undefined) delete nextRequests.storage;
    else nextRequests.storage = oldStorage;
  }
  if (bound && next.volumeAttributesClassName !== undefined && next.volumeAttributesClassName !== null) {
    if (before.volumeAttributesClassName === undefined) delete next.volumeAttributesClassName;
    else next.volumeAttributesClassName = before.volumeAttributesClassName;
  }
  if (!sameValue(next, before)) {
    errors.push({
      type: 'FieldValueForbidden',
      field: 'spec',
      detail: `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${fieldDiff(before, next)}`,
    });
  }
  const newSize = storageRequest(spec);
  const oldSize = storageRequest(oldSpec);
  const statusSize = quantityOf(obj(obj(old.status).capacity).storage) ?? ZERO;
  // Shrinking is allowed down to just above the status capacity (recovery from a failed expansion).
  if (compareQuantities(newSize, oldSize) < 0 && compareQuantities(newSize, statusSize) <= 0) {
    errors.push({ type: 'FieldValueForbidden', field: 'spec.resources.requests.storage', detail: 'field can not be less than status.capacity' });
  }
  errors.push(...immutable(spec.volumeMode, oldSpec.volumeMode, 'volumeMode'));
  if (typeof oldSpec.volumeAttributesClassName === 'string') {
    if (unset(spec.volumeAttributesClassName)) {
      errors.push({ type: 'FieldValueForbidden', field: 'spec.volumeAttributesClassName', detail: 'update from non-nil value to nil is forbidden' });
    } else if (spec.volumeAttributesClassName === '') {
      errors.push({ type: 'FieldValueForbidden', field: 'spec.volumeAttributesClassName', detail: 'update from non-nil value to an empty string is forbidden' });
    }
  }
  return errors;
}

/** ValidatePersistentVolumeClaim, and on update ValidatePersistentVolumeClaimUpdate. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = specErrors(obj(object.spec));
  if (old !== undefined) errors.push(...updateErrors(object, old));
  return errors;
}

/**
 * ValidatePersistentVolumeClaimStatusUpdate's kind-specific part: access modes still there (kube
 * names the path "Spec.accessModes"), capacities and allocated resources no negative values.
 */
function validateStatus(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  if (list(obj(object.spec).accessModes).length === 0) {
    errors.push({ type: 'FieldValueRequired', field: 'Spec.accessModes', detail: '' });
  }
  const status = obj(object.status);
  for (const [name, q] of resourceEntries(status.capacity)) if (q !== undefined) errors.push(...basicResourceErrors(q, key('status.capacity', name)));
  for (const [name, q] of resourceEntries(status.allocatedResources)) if (q !== undefined) errors.push(...basicResourceErrors(q, key('status.allocatedResources', name)));
  return errors;
}

/**
 * printPersistentVolumeClaim: CAPACITY and ACCESS MODES come from the status once the claim
 * names a volume (empty before); VOLUMEMODE is always there (kube adds it whether wide or not).
 */
function pvcCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = field(object, 'spec');
  const status = field(object, 'status');
  const volumeName = stringField(spec, 'volumeName');
  const bound = volumeName !== '';
  const storageClass = spec['storageClassName'];
  const attributesClass = spec['volumeAttributesClassName'];
  const volumeMode = spec['volumeMode'];
  return [
    nameOf(object),
    phaseOf(object),
    volumeName,
    bound ? quantityText(field(status, 'capacity')['storage']) : '',
    bound ? accessModesString(status['accessModes']) : '',
    storageClassOf(object, typeof storageClass === 'string' ? storageClass : ''),
    typeof attributesClass === 'string' ? attributesClass : '<unset>',
    ageOf(object, now),
    typeof volumeMode === 'string' ? volumeMode : '<unset>',
  ];
}

const PVC_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
  column('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
  column('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
  column('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1'),
  column('StorageClass', 'string', 'StorageClass of the pvc'),
  column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
  AGE_COLUMN,
  column('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.', 1),
]);

export const PERSISTENT_VOLUME_CLAIM: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  kind: 'PersistentVolumeClaim',
  listKind: 'PersistentVolumeClaimList',
  namespaced: true,
  shortNames: ['pvc'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, prepareForCreate, prepareForUpdate, validate, generation: 'none' },
  statusStrategy: { validate: validateStatus },
  printer: { columns: PVC_COLUMNS, cells: pvcCells },
  schema: 'io.k8s.api.core.v1.PersistentVolumeClaim',
  // kube's store answers a delete with the deleted object.
  deletion: { returnDeletedObject: true },
};
