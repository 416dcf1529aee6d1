/**
 * PersistentVolume (core/v1, cluster-scoped, short name "pv", with a status subresource):
 * reclaim policy Retain, volume mode Filesystem and the defaults of its volume sources (kube's
 * SetDefaults_PersistentVolume and the sources' +default markers); a new volume starts
 * Pending with its phase transition time; validated as kube's ValidatePersistentVolumeSpec
 * (access modes, a storage capacity, exactly one volume source, reclaim policy, volume mode,
 * class names) with the source immutable on update; printed as kube's printPersistentVolume.
 *
 * Of the volume sources' own rules, those of hostPath, nfs, local and csi are checked; the
 * other (mostly retired in-tree) sources are only counted. Node affinity is checked for its
 * required terms, not term by term.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, rfc3339, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { parseRFC3339 } from '../../../go-time.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN, stringField } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import {
  basicResourceErrors,
  child,
  defaultResourceList,
  dns1123SubdomainErrors,
  fieldDiff,
  immutable,
  key,
  list,
  obj,
  positiveQuantityErrors,
  quantityText,
  sameValue,
  str,
  supportedValues,
} from './common.ts';
import { isDNS1123Subdomain } from '../../../validation/names.ts';
import { quantityOf } from '../../quantity.ts';

/** The PersistentVolumeSource members: exactly one of them is a volume's source. */
export const VOLUME_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cephfs',
  'iscsi',
  'cinder',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
] as const;

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'] as const;
export const VOLUME_MODES = ['Block', 'Filesystem'] as const;
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'] as const;
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'] as const;
/** The annotation that named a class before storageClassName existed; printers still prefer it. */
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** Sets `name` on `target` when it is absent or null (a pointer field kube defaults). */
function fill(target: Record<string, unknown>, name: string, value: unknown): void {
  if (target[name] === undefined || target[name] === null) target[name] = value;
}

/** Sets `name` when absent, null or "" (a string field kube defaults when empty). */
function fillEmpty(target: Record<string, unknown>, name: string, value: unknown): void {
  if (target[name] === undefined || target[name] === null || target[name] === '') target[name] = value;
}

/**
 * SetObjectDefaults_PersistentVolume: phase Pending, reclaim policy Retain, volume mode
 * Filesystem, the capacity rounded up to milli, and the +default values of the sources
 * (hostPath type "", rbd pool/user/keyring, iscsi interface, azureDisk and scaleIO settings).
 */
function defaults(object: KubeObject): KubeObject {
  const spec = object.spec;
  if (isPlainObject(spec)) {
    fillEmpty(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    fill(spec, 'volumeMode', 'Filesystem');
    defaultResourceList(spec.capacity);
    if (isPlainObject(spec.hostPath)) fill(spec.hostPath, 'type', '');
    if (isPlainObject(spec.rbd)) {
      fillEmpty(spec.rbd, 'pool', 'rbd');
      fillEmpty(spec.rbd, 'user', 'admin');
      fillEmpty(spec.rbd, 'keyring', '/etc/ceph/keyring');
    }
    if (isPlainObject(spec.iscsi)) fillEmpty(spec.iscsi, 'iscsiInterface', 'default');
    if (isPlainObject(spec.azureDisk)) {
      fill(spec.azureDisk, 'cachingMode', 'ReadWrite');
      fill(spec.azureDisk, 'fsType', 'ext4');
      fill(spec.azureDisk, 'readOnly', false);
      fill(spec.azureDisk, 'kind', 'Shared');
    }
    if (isPlainObject(spec.scaleIO)) {
      fillEmpty(spec.scaleIO, 'storageMode', 'ThinProvisioned');
      fillEmpty(spec.scaleIO, 'fsType', 'xfs');
    }
  }
  const status: Record<string, unknown> = isPlainObject(object.status) ? object.status : {};
  fillEmpty(status, 'phase', 'Pending');
  object.status = status;
  return object;
}

/** PrepareForCreate: the status is the volume's own (Pending since now), whatever was sent. */
function prepareForCreate(object: KubeObject): KubeObject {
  return { ...object, status: { phase: 'Pending', lastPhaseTransitionTime: rfc3339(new Date()) } };
}

/** validatePathNoBacksteps. */
function noBackstepsErrors(path: string, at: string): FieldError[] {
  return path.split('/').includes('..') ? [{ type: 'FieldValueInvalid', field: at, value: path, detail: "must not contain '..'" }] : [];
}

/** ValidateCSIDriverName. */
function csiDriverErrors(driver: string, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (driver === '') errors.push({ type: 'FieldValueRequired', field: at, detail: '' });
  if (Buffer.byteLength(driver, 'utf8') > 63) errors.push({ type: 'FieldValueTooLong', field: at, detail: 'may not be more than 63 bytes' });
  for (const detail of isDNS1123Subdomain(driver.toLowerCase())) errors.push({ type: 'FieldValueInvalid', field: at, value: driver, detail });
  return errors;
}

/** The rules of the volume sources this server checks (see the top of this file). */
function sourceErrors(name: string, source: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  switch (name) {
    case 'hostPath': {
      const path = str(source.path);
      if (path === '') return [{ type: 'FieldValueRequired', field: child(at, 'path'), detail: '' }];
      errors.push(...noBackstepsErrors(path, child(at, 'path')));
      const type: unknown = source.type;
      if (typeof type === 'string' && !(HOST_PATH_TYPES as readonly string[]).includes(type)) {
        errors.push({ type: 'FieldValueNotSupported', field: child(at, 'type'), value: type, detail: supportedValues(HOST_PATH_TYPES) });
      }
      return errors;
    }
    case 'nfs': {
      if (str(source.server) === '') errors.push({ type: 'FieldValueRequired', field: child(at, 'server'), detail: '' });
      const path = str(source.path);
      if (path === '') errors.push({ type: 'FieldValueRequired', field: child(at, 'path'), detail: '' });
      if (!path.startsWith('/')) errors.push({ type: 'FieldValueInvalid', field: child(at, 'path'), value: path, detail: 'must be an absolute path' });
      return errors;
    }
    case 'local': {
      const path = str(source.path);
      if (path === '') return [{ type: 'FieldValueRequired', field: child(at, 'path'), detail: '' }];
      return noBackstepsErrors(path, child(at, 'path'));
    }
    case 'csi':
      errors.push(...csiDriverErrors(str(source.driver), child(at, 'driver')));
      if (str(source.volumeHandle) === '') errors.push({ type: 'FieldValueRequired', field: child(at, 'volumeHandle'), detail: '' });
      return errors;
    default:
      return errors;
  }
}

/** The access modes: at least one, each known, ReadWriteOncePod alone (PVs and PVCs alike). */
export function accessModesErrors(modes: unknown, at: string, requiredDetail: string): FieldError[] {
  const errors: FieldError[] = [];
  const all = list(modes);
  if (all.length === 0) errors.push({ type: 'FieldValueRequired', field: at, detail: requiredDetail });
  let once = false;
  let other = false;
  for (const raw of all) {
    const mode = str(raw);
    const known = (ACCESS_MODES as readonly string[]).includes(mode);
    if (!known) errors.push({ type: 'FieldValueNotSupported', field: at, value: mode, detail: supportedValues(ACCESS_MODES) });
    if (mode === 'ReadWriteOncePod') once = true;
    else if (known) other = true;
  }
  if (once && other) errors.push({ type: 'FieldValueForbidden', field: at, detail: 'may not use ReadWriteOncePod with other access modes' });
  return errors;
}

/** An object with its keys in sorted order. */
function sortedKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]]));
}

/** ValidatePersistentVolumeSpec for a volume that is not inline. */
function specErrors(spec: Record<string, unknown>): FieldError[] {
  const errors = accessModesErrors(spec.accessModes, 'spec.accessModes', '');
  const capacity = obj(spec.capacity);
  const capacityNames = Object.keys(capacity);
  if (capacityNames.length === 0) errors.push({ type: 'FieldValueRequired', field: 'spec.capacity', detail: '' });
  if (!Object.hasOwn(capacity, 'storage') || capacityNames.length > 1) {
    // The value is the list as json.Marshal writes a Go map: null when absent, keys sorted.
    const value = spec.capacity === undefined || spec.capacity === null ? null : sortedKeys(capacity);
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.capacity', value, detail: supportedValues(['storage']) });
  }
  for (const name of capacityNames) {
    const q = quantityOf(capacity[name]);
    if (q === undefined) continue;
    errors.push(...basicResourceErrors(q, key('spec.capacity', name)), ...positiveQuantityErrors(q, key('spec.capacity', name)));
  }
  const policy = str(spec.persistentVolumeReclaimPolicy);
  if (policy !== '' && !(RECLAIM_POLICIES as readonly string[]).includes(policy)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.persistentVolumeReclaimPolicy', value: policy, detail: supportedValues(RECLAIM_POLICIES) });
  }
  let nodeAffinitySpecified = false;
  if (isPlainObject(spec.nodeAffinity)) {
    nodeAffinitySpecified = true;
    const required = spec.nodeAffinity.required;
    if (!isPlainObject(required)) {
      errors.push({ type: 'FieldValueRequired', field: 'spec.nodeAffinity.required', detail: 'must specify required node constraints' });
    } else if (list(required.nodeSelectorTerms).length === 0) {
      errors.push({ type: 'FieldValueRequired', field: 'spec.nodeAffinity.required.nodeSelectorTerms', detail: 'must have at least one node selector term' });
    }
  }
  let volumes = 0;
  for (const name of VOLUME_SOURCES) {
    const source = spec[name];
    if (source === undefined || source === null) continue;
    // kube counts a flexVolume without checking it against the ones before.
    if (volumes > 0 && name !== 'flexVolume') {
      errors.push({ type: 'FieldValueForbidden', field: child('spec', name), detail: 'may not specify more than 1 volume type' });
      continue;
    }
    volumes++;
    errors.push(...sourceErrors(name, obj(source), child('spec', name)));
    if (name === 'local' && !nodeAffinitySpecified) {
      errors.push({ type: 'FieldValueRequired', field: 'spec.nodeAffinity', detail: 'Local volume requires node affinity' });
    }
  }
  if (volumes === 0) errors.push({ type: 'FieldValueRequired', field: 'spec', detail: 'must specify a volume type' });
  const hostPath = spec.hostPath;
  if (isPlainObject(hostPath) && cleanPath(str(hostPath.path)) === '/' && policy === 'Recycle') {
    errors.push({ type: 'FieldValueForbidden', field: 'spec.persistentVolumeReclaimPolicy', detail: "may not be 'recycle' for a hostPath mount of '/'" });
  }
  const storageClass = str(spec.storageClassName);
  if (storageClass !== '') errors.push(...dns1123SubdomainErrors(storageClass, 'spec.storageClassName'));
  if (typeof spec.volumeMode === 'string' && !(VOLUME_MODES as readonly string[]).includes(spec.volumeMode)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.volumeMode', value: spec.volumeMode, detail: supportedValues(VOLUME_MODES) });
  }
  const attributesClass: unknown = spec.volumeAttributesClassName;
  if (typeof attributesClass === 'string') {
    if (attributesClass === '') errors.push({ type: 'FieldValueRequired', field: 'spec.volumeAttributesClassName', detail: 'an empty string is disallowed' });
    else errors.push(...dns1123SubdomainErrors(attributesClass, 'spec.volumeAttributesClassName'));
    if (spec.csi === undefined || spec.csi === null) {
      errors.push({ type: 'FieldValueRequired', field: 'spec.csi', detail: 'has to be specified when using volumeAttributesClassName' });
    }
  }
  return errors;
}

/** path.Clean, enough to tell "/" (and "//", "/./", "/x/..") apart. */
function cleanPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return path.startsWith('/') ? `/${parts.join('/')}` : parts.join('/') || '.';
}

/** The PersistentVolumeSource of a spec: its source members only. */
function volumeSource(spec: Record<string, unknown>): Record<string, unknown> {
  const source: Record<string, unknown> = {};
  for (const name of VOLUME_SOURCES) if (spec[name] !== undefined && spec[name] !== null) source[name] = spec[name];
  return source;
}

/** ValidatePersistentVolume, and on update ValidatePersistentVolumeUpdate (the source and volume mode fixed). */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj(object.spec);
  const errors = specErrors(spec);
  if (old === undefined) return errors;
  const oldSpec = obj(old.spec);
  const next = volumeSource(spec);
  const before = volumeSource(oldSpec);
  // A CSI volume may gain a controllerExpandSecretRef it did not have.
  const oldCsi = obj(before.csi);
  if (isPlainObject(next.csi) && isPlainObject(before.csi) && oldCsi.controllerExpandSecretRef === undefined) {
    const { controllerExpandSecretRef: _added, ...rest } = next.csi;
    next.csi = rest;
  }
  if (!sameValue(next, before)) {
    errors.push({ type: 'FieldValueForbidden', field: 'spec.persistentvolumesource', detail: `spec.persistentvolumesource is immutable after creation\n${fieldDiff(before, next)}` });
  }
  errors.push(...immutable(spec.volumeMode, oldSpec.volumeMode, 'volumeMode'));
  if (typeof oldSpec.volumeAttributesClassName === 'string' && (spec.volumeAttributesClassName === undefined || spec.volumeAttributesClassName === null)) {
    errors.push({ type: 'FieldValueForbidden', field: 'spec.volumeAttributesClassName', detail: 'update from non-nil value to nil is forbidden' });
  }
  return errors;
}

/**
 * The status strategy's PrepareForUpdate: lastPhaseTransitionTime is kept while the phase
 * stays, and set to now when the phase changes and the writer left it unset or unchanged.
 */
function prepareStatusUpdate(object: KubeObject, old: KubeObject): KubeObject {
  const status = { ...obj(object.status) };
  const oldStatus = obj(old.status);
  const time = status.lastPhaseTransitionTime;
  const unset = time === undefined || time === null;
  if (str(oldStatus.phase) === str(status.phase)) {
    if (unset) {
      if (oldStatus.lastPhaseTransitionTime === undefined) delete status.lastPhaseTransitionTime;
      else status.lastPhaseTransitionTime = oldStatus.lastPhaseTransitionTime;
    }
  } else if (unset || sameInstant(time, oldStatus.lastPhaseTransitionTime)) {
    status.lastPhaseTransitionTime = rfc3339(new Date());
  }
  return { ...object, status };
}

/** metav1.Time.Equal of two JSON times (both unset counts as equal). */
function sameInstant(a: unknown, b: unknown): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return (a === undefined || a === null) && (b === undefined || b === null);
  const left = parseRFC3339(a);
  const right = parseRFC3339(b);
  if ('error' in left || 'error' in right) return a === b;
  return left.ms === right.ms;
}

/** GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once. */
export function accessModesString(modes: unknown): string {
  const present = new Set(list(modes).map(str));
  const short: Array<[string, string]> = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return short
    .filter(([mode]) => present.has(mode))
    .map(([, s]) => s)
    .join(',');
}

/** The storage class annotation when the object has it (even empty), else `fallback`. */
export function storageClassOf(object: Record<string, unknown>, fallback: string): string {
  const annotations = field(field(object, 'metadata'), 'annotations');
  return Object.hasOwn(annotations, BETA_STORAGE_CLASS_ANNOTATION) ? stringField(annotations, BETA_STORAGE_CLASS_ANNOTATION) : fallback;
}

/** "Terminating" for an object being deleted, else its status.phase. */
export function phaseOf(object: Record<string, unknown>): string {
  const deletion = field(object, 'metadata')['deletionTimestamp'];
  return deletion !== undefined && deletion !== null ? 'Terminating' : stringField(field(object, 'status'), 'phase');
}

/** printPersistentVolume: every column, VOLUMEMODE included (kube adds it whether wide or not). */
function pvCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = field(object, 'spec');
  const claimRef = spec['claimRef'];
  const claim = isPlainObject(claimRef) ? `${str(claimRef.namespace)}/${str(claimRef.name)}` : '';
  const attributesClass = spec['volumeAttributesClassName'];
  const volumeMode = spec['volumeMode'];
  return [
    nameOf(object),
    quantityText(field(spec, 'capacity')['storage']),
    accessModesString(spec['accessModes']),
    stringField(spec, 'persistentVolumeReclaimPolicy'),
    phaseOf(object),
    claim,
    storageClassOf(object, stringField(spec, 'storageClassName')),
    typeof attributesClass === 'string' ? attributesClass : '<unset>',
    stringField(field(object, 'status'), 'reason'),
    ageOf(object, now),
    typeof volumeMode === 'string' ? volumeMode : '<unset>',
  ];
}

const PV_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Capacity', 'string', "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
  column('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes'),
  column(
    'Reclaim Policy',
    'string',
    'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming',
  ),
  column('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase'),
  column(
    'Claim',
    'string',
    'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding',
  ),
  column('StorageClass', 'string', 'StorageClass of the pv'),
  column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
  column('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
  AGE_COLUMN,
  column(
    'VolumeMode',
    'string',
    'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.',
    1,
  ),
]);

export const PERSISTENT_VOLUME: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'persistentvolumes',
  singular: 'persistentvolume',
  kind: 'PersistentVolume',
  listKind: 'PersistentVolumeList',
  namespaced: false,
  shortNames: ['pv'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, prepareForCreate, validate, generation: 'none' },
  statusStrategy: { prepareForUpdate: prepareStatusUpdate },
  printer: { columns: PV_COLUMNS, cells: pvCells },
  schema: 'io.k8s.api.core.v1.PersistentVolume',
  // kube's store answers a delete with the deleted object.
  deletion: { returnDeletedObject: true },
};
