/**
 * The PodSpec every workload kind embeds (Pod, the pod templates of Job, CronJob, Deployment,
 * ReplicaSet, StatefulSet, DaemonSet): kube's scheme defaults for it (pkg/apis/core/v1
 * defaults.go and the declarative `+default` tags of k8s.io/api, as the generated
 * SetObjectDefaults_PodTemplate applies them) and the rules of ValidatePodSpec /
 * ValidatePodTemplateSpec that real manifests hit, with kube's field paths and texts.
 *
 * Everything works in place on open JSON and never throws: a field of the wrong type is left
 * alone by the defaults and read as its Go zero value by the validation (the decoding in front
 * has refused wrong types already).
 *
 * Left out of validation (kube checks them; manifests seldom get them wrong): node and pod
 * affinity terms, topology spread label selectors, sysctls, Windows options, AppArmor and
 * seccomp annotations against fields, resource claims, huge page sizes, the mount propagation
 * of privileged containers, the in-tree volume sources beyond their required fields.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject } from '../../../kube.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateAnnotations, validateLabels } from '../../../validation/names.ts';
import {
  child,
  duplicate,
  forbidden,
  inclusiveRange,
  index,
  invalid,
  isSet,
  key,
  list,
  nonNegative,
  notFound,
  notSupported,
  num,
  obj,
  objectAt,
  required,
  str,
} from './fields.ts';
import { addQuantities, compareQuantities, formatQuantity, quantityMilliValue, quantityOf, quantitySign, roundUpQuantity, type Quantity } from '../../quantity.ts';

// ---------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------

/** Sets `field` of `object` to `value` when it is absent or null (a nil pointer or empty string). */
function setIfUnset(object: Record<string, unknown>, field: string, value: unknown): void {
  const current = object[field];
  if (current === undefined || current === null || current === '') object[field] = value;
}

/** Sets `field` when absent or null only (an empty string is a value for pointer fields). */
function setIfNil(object: Record<string, unknown>, field: string, value: unknown): void {
  if (object[field] === undefined || object[field] === null) object[field] = value;
}

/**
 * SetDefaults_ResourceList: every quantity rounded up to milli precision and written as kube
 * writes quantities back (its canonical text). A value that is no quantity is left alone.
 */
function defaultResourceList(resources: unknown): void {
  if (!isPlainObject(resources)) return;
  for (const [name, value] of Object.entries(resources)) {
    const q = quantityOf(value);
    if (q !== undefined) resources[name] = formatQuantity(roundUpQuantity(q, 3));
  }
}

/**
 * The tag parsers.ParseImageName finds in an image reference (docker's reference grammar as
 * ParseNormalizedNamed reads it): its tag, "latest" when it has neither tag nor digest, "" for
 * a digest only or a reference that does not parse.
 */
export function imageTag(image: string): string {
  if (image === '' || /^[a-f0-9]{64}$/.test(image)) return '';
  // splitDockerDomain: the first component is a domain only if it looks like one.
  const slash = image.indexOf('/');
  let domain = 'docker.io';
  let remainder = image;
  if (slash !== -1) {
    const first = image.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      remainder = image.slice(slash + 1);
    }
  }
  const colon = remainder.indexOf(':');
  const remoteName = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remoteName.toLowerCase() !== remoteName) return '';
  const match = REFERENCE.exec(`${domain}/${remainder}`);
  if (match === null || (match[1]?.length ?? 0) > 255) return '';
  const tag = match[2] ?? '';
  const digest = match[3] ?? '';
  return tag === '' && digest === '' ? 'latest' : tag;
}

const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** SetDefaults_Container's pull policy: Always for ":latest" (or no tag), IfNotPresent otherwise. */
function defaultPullPolicy(image: unknown): string {
  return imageTag(str(image)) === 'latest' ? 'Always' : 'IfNotPresent';
}

/** SetDefaults_HTTPGetAction. */
function defaultHttpGet(action: unknown): void {
  if (!isPlainObject(action)) return;
  setIfUnset(action, 'path', '/');
  setIfUnset(action, 'scheme', 'HTTP');
}

/** SetDefaults_Probe and the defaults of its handler. */
function defaultProbe(probe: unknown): void {
  if (!isPlainObject(probe)) return;
  // Zero counts as unset: the fields are plain int32s in kube.
  for (const [field, value] of [['timeoutSeconds', 1], ['periodSeconds', 10], ['successThreshold', 1], ['failureThreshold', 3]] as const) {
    if (probe[field] === undefined || probe[field] === null || probe[field] === 0) probe[field] = value;
  }
  defaultHttpGet(probe['httpGet']);
  const grpc = probe['grpc'];
  // GRPCAction.service: `+default=""` on a pointer without omitempty.
  if (isPlainObject(grpc)) setIfNil(grpc, 'service', '');
}

/** SetDefaults_ObjectFieldSelector. */
function defaultFieldRef(fieldRef: unknown): void {
  if (isPlainObject(fieldRef)) setIfUnset(fieldRef, 'apiVersion', 'v1');
}

/** SetDefaults_Container and what the generated defaulter applies to a container's parts. */
function defaultContainer(container: unknown): void {
  if (!isPlainObject(container)) return;
  setIfUnset(container, 'imagePullPolicy', defaultPullPolicy(container['image']));
  setIfUnset(container, 'terminationMessagePath', '/dev/termination-log');
  setIfUnset(container, 'terminationMessagePolicy', 'File');
  for (const port of list(container['ports'])) if (isPlainObject(port)) setIfUnset(port, 'protocol', 'TCP');
  for (const env of list(container['env'])) {
    const valueFrom = obj(obj(env)['valueFrom']);
    defaultFieldRef(valueFrom['fieldRef']);
    // FileKeySelector.optional: `+default=false`.
    const fileKeyRef = valueFrom['fileKeyRef'];
    if (isPlainObject(fileKeyRef)) setIfNil(fileKeyRef, 'optional', false);
  }
  const resources = obj(container['resources']);
  defaultResourceList(resources['limits']);
  defaultResourceList(resources['requests']);
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(container[probe]);
  const lifecycle = obj(container['lifecycle']);
  for (const hook of ['postStart', 'preStop']) defaultHttpGet(obj(lifecycle[hook])['httpGet']);
}

/** The JSON names of a VolumeSource's fields, in kube's order (validateVolumeSource's). */
const VOLUME_SOURCES = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'cinder',
  'cephfs',
  'quobyte',
  'downwardAPI',
  'fc',
  'flexVolume',
  'configMap',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'storageos',
  'projected',
  'scaleIO',
  'csi',
  'ephemeral',
  'image',
] as const;

/** The file mode kube gives secret, configMap, downwardAPI and projected volumes (0644). */
const DEFAULT_FILE_MODE = 420;

/** SetDefaults_Volume and the defaults of its source. */
function defaultVolume(volume: unknown): void {
  if (!isPlainObject(volume)) return;
  // A volume without a source is an emptyDir.
  if (!VOLUME_SOURCES.some((source) => isSet(volume[source]))) volume['emptyDir'] = {};
  const image = volume['image'];
  if (isPlainObject(image)) setIfUnset(image, 'pullPolicy', defaultPullPolicy(image['reference']));
  const hostPath = volume['hostPath'];
  if (isPlainObject(hostPath)) setIfNil(hostPath, 'type', '');
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const s = volume[source];
    if (isPlainObject(s)) setIfNil(s, 'defaultMode', DEFAULT_FILE_MODE);
  }
  for (const item of list(obj(volume['downwardAPI'])['items'])) defaultFieldRef(obj(item)['fieldRef']);
  for (const projection of list(obj(volume['projected'])['sources'])) {
    const p = obj(projection);
    for (const item of list(obj(p['downwardAPI'])['items'])) defaultFieldRef(obj(item)['fieldRef']);
    const token = p['serviceAccountToken'];
    if (isPlainObject(token)) setIfNil(token, 'expirationSeconds', 3600);
  }
  // The declarative defaults of the in-tree sources.
  const iscsi = volume['iscsi'];
  if (isPlainObject(iscsi)) setIfUnset(iscsi, 'iscsiInterface', 'default');
  const rbd = volume['rbd'];
  if (isPlainObject(rbd)) {
    setIfUnset(rbd, 'pool', 'rbd');
    setIfUnset(rbd, 'user', 'admin');
    setIfUnset(rbd, 'keyring', '/etc/ceph/keyring');
  }
  const azureDisk = volume['azureDisk'];
  if (isPlainObject(azureDisk)) {
    setIfNil(azureDisk, 'cachingMode', 'ReadWrite');
    setIfNil(azureDisk, 'fsType', 'ext4');
    setIfNil(azureDisk, 'readOnly', false);
    setIfNil(azureDisk, 'kind', 'Shared');
  }
  const scaleIO = volume['scaleIO'];
  if (isPlainObject(scaleIO)) {
    setIfUnset(scaleIO, 'storageMode', 'ThinProvisioned');
    setIfUnset(scaleIO, 'fsType', 'xfs');
  }
  const claimTemplate = obj(obj(volume['ephemeral'])['volumeClaimTemplate']);
  const claimSpec = claimTemplate['spec'];
  if (isPlainObject(claimSpec)) {
    setIfNil(claimSpec, 'volumeMode', 'Filesystem');
    const resources = obj(claimSpec['resources']);
    defaultResourceList(resources['limits']);
    defaultResourceList(resources['requests']);
  }
}

/**
 * SetDefaults_PodSpec and everything it holds (containers, init and ephemeral containers,
 * volumes, overhead), in place, as kube defaults a PodSpec in a pod template: restartPolicy
 * Always, dnsPolicy ClusterFirst, schedulerName default-scheduler, an empty securityContext,
 * terminationGracePeriodSeconds 30; per container the pull policy, termination message path
 * and policy, port protocols, probe timings, downward API versions and milli-rounded
 * quantities; per volume the source defaults. What kube defaults only in a Pod (requests from
 * limits, enableServiceLinks, host ports under hostNetwork) is {@link defaultPodSpecOfPod}'s.
 * Never throws; a spec that is no object is left alone.
 */
export function defaultPodSpec(spec: unknown): void {
  if (!isPlainObject(spec)) return;
  setIfUnset(spec, 'dnsPolicy', 'ClusterFirst');
  setIfUnset(spec, 'restartPolicy', 'Always');
  setIfNil(spec, 'securityContext', {});
  setIfNil(spec, 'terminationGracePeriodSeconds', 30);
  setIfUnset(spec, 'schedulerName', 'default-scheduler');
  for (const volume of list(spec['volumes'])) defaultVolume(volume);
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const container of list(spec[field])) defaultContainer(container);
  }
  defaultResourceList(spec['overhead']);
  const resources = objectAt(spec['resources']);
  if (resources !== undefined) {
    defaultResourceList(resources['limits']);
    defaultResourceList(resources['requests']);
  }
}

/** The defaults of a PodTemplateSpec: those of its spec ({@link defaultPodSpec}). Never throws. */
export function defaultPodTemplateSpec(template: unknown): void {
  if (!isPlainObject(template)) return;
  defaultPodSpec(template['spec']);
}

/**
 * What SetDefaults_Pod adds for a Pod's own spec before {@link defaultPodSpec}: requests
 * default to limits for each resource a container (or init container) limits but does not
 * request, enableServiceLinks true, and with hostNetwork every container port's hostPort
 * defaults to its containerPort. Never throws.
 */
export function defaultPodSpecOfPod(spec: unknown): void {
  if (!isPlainObject(spec)) return;
  for (const field of ['containers', 'initContainers']) {
    for (const container of list(spec[field])) {
      const resources = objectAt(obj(container)['resources']);
      const limits = objectAt(resources?.['limits']);
      if (resources === undefined || limits === undefined) continue;
      let requests = objectAt(resources['requests']);
      if (requests === undefined) {
        if (isSet(resources['requests'])) continue;
        requests = {};
        resources['requests'] = requests;
      }
      for (const [name, value] of Object.entries(limits)) if (!(name in requests)) requests[name] = value;
    }
  }
  setIfNil(spec, 'enableServiceLinks', true);
  if (spec['hostNetwork'] === true) {
    for (const field of ['containers', 'initContainers']) {
      for (const container of list(spec[field])) {
        for (const port of list(obj(container)['ports'])) {
          if (isPlainObject(port) && (port['hostPort'] === undefined || port['hostPort'] === null || port['hostPort'] === 0)) {
            port['hostPort'] = port['containerPort'];
          }
        }
      }
    }
  }
  defaultPodSpec(spec);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** PodValidationOptions the workload kinds need. */
export interface PodSpecValidationOptions {
  /** The spec is a Pod's own (host ports under hostNetwork must then equal container ports). */
  readonly resourceIsPod?: boolean;
}

const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

/** validation.IsValidPortNum. */
function portNumErrors(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [inclusiveRange(1, 65535)];
}

/** validation.IsValidPortName. */
export function portNameErrors(port: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(port, 'utf8') > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** ValidatePortNumOrName for an IntOrString port. */
function portNumOrNameErrors(port: unknown, field: string): FieldError[] {
  if (typeof port === 'number') return portNumErrors(port).map((msg) => invalid(field, port, msg));
  if (typeof port === 'string') return portNameErrors(port).map((msg) => invalid(field, port, msg));
  return portNumErrors(0).map((msg) => invalid(field, 0, msg));
}

/** DNS-label errors as Invalid at `field`. */
function dnsLabel(value: string, field: string): FieldError[] {
  return isDNS1123Label(value).map((msg) => invalid(field, value, msg));
}

/** DNS-subdomain errors as Invalid at `field`. */
function dnsSubdomain(value: string, field: string): FieldError[] {
  return isDNS1123Subdomain(value).map((msg) => invalid(field, value, msg));
}

/** ValidateQualifiedName. */
function qualifiedName(value: string, field: string): FieldError[] {
  return isQualifiedName(value).map((msg) => invalid(field, value, msg));
}

/** NameIsDNSSubdomain with prefix (trailing dashes allowed, as for a generateName). */
function subdomainPrefixErrors(value: string): string[] {
  return isDNS1123Subdomain(value.length > 1 && value.endsWith('-') ? `${value.slice(0, -2)}a` : value);
}

/** validatePathNoBacksteps. */
function noBacksteps(path: string, field: string): FieldError[] {
  return path.replaceAll('\\', '/').split('/').includes('..') ? [invalid(field, path, "must not contain '..'")] : [];
}

/** validateLocalDescendingPath. */
function localDescendingPath(path: string, field: string): FieldError[] {
  const errors: FieldError[] = [];
  if (path.startsWith('/')) errors.push(invalid(field, path, 'must be a relative path'));
  errors.push(...noBacksteps(path, field));
  return errors;
}

/** ValidateLocalNonReservedPath. */
function localNonReservedPath(path: string, field: string): FieldError[] {
  const errors = localDescendingPath(path, field);
  if (path.startsWith('..') && !path.startsWith('../')) errors.push(invalid(field, path, "must not start with '..'"));
  return errors;
}

/** The file mode checks of secret, configMap, downwardAPI and projected volumes and items. */
function fileMode(value: unknown, field: string): FieldError[] {
  return typeof value === 'number' && (value > 0o777 || value < 0) ? [invalid(field, value, FILE_MODE_ERROR)] : [];
}

/** validateKeyToPath. */
function keyToPath(item: unknown, field: string): FieldError[] {
  const kp = obj(item);
  const errors: FieldError[] = [];
  if (str(kp['key']) === '') errors.push(required(child(field, 'key')));
  const path = str(kp['path']);
  if (path === '') errors.push(required(child(field, 'path')));
  errors.push(...localNonReservedPath(path, child(field, 'path')));
  errors.push(...fileMode(kp['mode'], child(field, 'mode')));
  return errors;
}

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

/** The checks of one volume source, at `field` (the source's own path). */
function volumeSourceErrors(source: string, value: Record<string, unknown>, field: string): FieldError[] {
  const errors: FieldError[] = [];
  switch (source) {
    case 'emptyDir': {
      const q = quantityOf(value['sizeLimit']);
      if (q !== undefined && quantitySign(q) < 0) errors.push(forbidden(child(field, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      break;
    }
    case 'hostPath': {
      const path = str(value['path']);
      if (path === '') return [required(child(field, 'path'))];
      errors.push(...noBacksteps(path, child(field, 'path')));
      const type = value['type'];
      if (typeof type === 'string' && !HOST_PATH_TYPES.includes(type)) errors.push(notSupported(child(field, 'type'), type, HOST_PATH_TYPES));
      break;
    }
    case 'secret':
      if (str(value['secretName']) === '') errors.push(required(child(field, 'secretName')));
      errors.push(...fileMode(value['defaultMode'], child(field, 'defaultMode')));
      list(value['items']).forEach((item, i) => errors.push(...keyToPath(item, index(child(field, 'items'), i))));
      break;
    case 'configMap':
      if (str(value['name']) === '') errors.push(required(child(field, 'name')));
      errors.push(...fileMode(value['defaultMode'], child(field, 'defaultMode')));
      list(value['items']).forEach((item, i) => errors.push(...keyToPath(item, index(child(field, 'items'), i))));
      break;
    case 'persistentVolumeClaim':
      if (str(value['claimName']) === '') errors.push(required(child(field, 'claimName')));
      break;
    case 'nfs': {
      const path = str(value['path']);
      if (str(value['server']) === '') errors.push(required(child(field, 'server')));
      if (path === '') errors.push(required(child(field, 'path')));
      if (!path.startsWith('/')) errors.push(invalid(child(field, 'path'), path, 'must be an absolute path'));
      break;
    }
    case 'downwardAPI':
      errors.push(...fileMode(value['defaultMode'], child(field, 'defaultMode')));
      // kube reports the items' errors at the source's path, not the item's.
      for (const item of list(value['items'])) errors.push(...downwardAPIFile(item, field));
      break;
    case 'projected':
      errors.push(...fileMode(value['defaultMode'], child(field, 'defaultMode')));
      errors.push(...projectionSources(value, field));
      break;
    case 'csi':
      if (str(value['driver']) === '') errors.push(required(child(field, 'driver')));
      break;
    case 'ephemeral':
      if (!isPlainObject(value['volumeClaimTemplate'])) errors.push(required(child(field, 'volumeClaimTemplate')));
      break;
    case 'image':
      if (str(value['reference']) === '') errors.push(required(child(field, 'reference')));
      break;
    case 'gitRepo':
      if (str(value['repository']) === '') errors.push(required(child(field, 'repository')));
      errors.push(...localDescendingPath(str(value['directory']), child(field, 'directory')));
      break;
  }
  return errors;
}

const VOLUME_DOWNWARD_API_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];

/** validateDownwardAPIVolumeFile. */
function downwardAPIFile(item: unknown, field: string): FieldError[] {
  const file = obj(item);
  const errors: FieldError[] = [];
  const path = str(file['path']);
  if (path === '') errors.push(required(child(field, 'path')));
  errors.push(...localNonReservedPath(path, child(field, 'path')));
  if (isSet(file['fieldRef'])) {
    errors.push(...objectFieldSelector(file['fieldRef'], VOLUME_DOWNWARD_API_PATHS, child(field, 'fieldRef')));
    if (isSet(file['resourceFieldRef'])) errors.push(invalid(field, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (isSet(file['resourceFieldRef'])) {
    errors.push(...resourceFieldSelector(file['resourceFieldRef'], child(field, 'resourceFieldRef'), true));
  } else {
    errors.push(required(field, 'one of fieldRef and resourceFieldRef is required'));
  }
  errors.push(...fileMode(file['mode'], child(field, 'mode')));
  return errors;
}

/** validateProjectionSources: each source has one kind, names and paths as kube checks them. */
function projectionSources(projected: Record<string, unknown>, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const paths = new Set<string>();
  const claimPath = (path: string, value: unknown): void => {
    if (path === '') return;
    if (paths.has(path)) errors.push(invalid(field, value, 'conflicting duplicate paths'));
    else paths.add(path);
  };
  list(projected['sources']).forEach((raw, i) => {
    const source = obj(raw);
    const at = index(child(field, 'sources'), i);
    let count = 0;
    for (const kind of ['secret', 'configMap'] as const) {
      const s = objectAt(source[kind]);
      if (s === undefined) continue;
      count++;
      if (str(s['name']) === '') errors.push(required(child(at, kind, 'name')));
      list(s['items']).forEach((item, j) => {
        errors.push(...keyToPath(item, index(child(at, kind, 'items'), j)));
        claimPath(str(obj(item)['path']), str(s['name']));
      });
    }
    const downward = objectAt(source['downwardAPI']);
    if (downward !== undefined) {
      count++;
      for (const item of list(downward['items'])) {
        errors.push(...downwardAPIFile(item, child(at, 'downwardAPI')));
        const path = str(obj(item)['path']);
        claimPath(path, path);
      }
    }
    const token = objectAt(source['serviceAccountToken']);
    if (token !== undefined) {
      count++;
      const seconds = num(token['expirationSeconds']);
      if (seconds < 600) errors.push(invalid(child(at, 'serviceAccountToken', 'expirationSeconds'), seconds, 'may not specify a duration less than 10 minutes'));
      if (seconds > 2 ** 32) errors.push(invalid(child(at, 'serviceAccountToken', 'expirationSeconds'), seconds, 'may not specify a duration larger than 2^32 seconds'));
      const path = str(token['path']);
      if (path === '') errors.push(required(child(field, 'path')));
      else errors.push(...localNonReservedPath(path, child(field, 'path')));
    }
    if (isSet(source['clusterTrustBundle'])) count++;
    if (isSet(source['podCertificate'])) count++;
    if (count > 1) errors.push(forbidden(at, 'may not specify more than 1 volume type per source'));
  });
  return errors;
}

/** The path kube names a second volume source at (kube's own spellings, typos included). */
function secondSourcePath(source: string): string {
  if (source === 'cephfs') return 'cephFS';
  if (source === 'downwardAPI') return 'downwarAPI';
  return source;
}

/** ValidateVolumes: the names of valid volumes, and the errors. */
function validateVolumes(volumes: unknown, field: string, podName: string): { names: Map<string, Record<string, unknown>>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const names = new Map<string, Record<string, unknown>>();
  const created = new Set<string>();
  if (podName !== '') for (const v of list(volumes)) if (isSet(obj(v)['ephemeral'])) created.add(`${podName}-${str(obj(v)['name'])}`);
  list(volumes).forEach((raw, i) => {
    const volume = obj(raw);
    const at = index(field, i);
    const name = str(volume['name']);
    const volumeErrors: FieldError[] = [];
    let count = 0;
    for (const source of VOLUME_SOURCES) {
      const value = volume[source];
      if (!isSet(value)) continue;
      if (count > 0) {
        volumeErrors.push(forbidden(child(at, secondSourcePath(source)), 'may not specify more than 1 volume type'));
        continue;
      }
      count++;
      volumeErrors.push(...volumeSourceErrors(source, obj(value), child(at, source === 'gcePersistentDisk' ? 'persistentDisk' : source)));
    }
    if (count === 0) volumeErrors.push(required(at, 'must specify a volume type'));
    if (name === '') volumeErrors.push(required(child(at, 'name')));
    else volumeErrors.push(...dnsLabel(name, child(at, 'name')));
    if (names.has(name)) volumeErrors.push(duplicate(child(at, 'name'), name));
    if (volumeErrors.length === 0) names.set(name, volume);
    else errors.push(...volumeErrors);
    const claim = obj(volume['persistentVolumeClaim']);
    if (created.has(str(claim['claimName']))) {
      errors.push(invalid(child(at, 'persistentVolumeClaim', 'claimName'), str(claim['claimName']), 'must not reference a PVC that gets created for an ephemeral volume'));
    }
  });
  return { names, errors };
}

const SUPPORTED_PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** validateContainerPorts. */
function validatePorts(ports: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  list(ports).forEach((raw, i) => {
    const port = obj(raw);
    const at = index(field, i);
    const name = str(port['name']);
    if (name !== '') {
      const msgs = portNameErrors(name);
      if (msgs.length > 0) for (const msg of msgs) errors.push(invalid(child(at, 'name'), name, msg));
      else if (names.has(name)) errors.push(duplicate(child(at, 'name'), name));
      else names.add(name);
    }
    const containerPort = num(port['containerPort']);
    if (containerPort === 0) errors.push(required(child(at, 'containerPort')));
    else for (const msg of portNumErrors(containerPort)) errors.push(invalid(child(at, 'containerPort'), containerPort, msg));
    const hostPort = num(port['hostPort']);
    if (hostPort !== 0) for (const msg of portNumErrors(hostPort)) errors.push(invalid(child(at, 'hostPort'), hostPort, msg));
    const protocol = str(port['protocol']);
    if (protocol === '') errors.push(required(child(at, 'protocol')));
    else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) errors.push(notSupported(child(at, 'protocol'), protocol, SUPPORTED_PORT_PROTOCOLS));
  });
  return errors;
}

const RELAXED_ENV_NAME_ERROR = "a valid environment variable name must consist only of printable ASCII characters other than '='";

/** validation.IsRelaxedEnvVarName (kube 1.32 and later validate env names with it). */
function envNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name === '') errs.push('environment variable name must be non-empty');
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code > 0x7e || code < 0x20 || ch === '=') {
      errs.push(RELAXED_ENV_NAME_ERROR);
      break;
    }
  }
  return errs;
}

const ENV_DOWNWARD_API_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

/** The field paths ConvertDownwardAPIFieldLabel accepts (subscripted labels and annotations aside). */
const DOWNWARD_API_LABELS = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

/** validateObjectFieldSelector. */
function objectFieldSelector(raw: unknown, expressions: readonly string[], field: string): FieldError[] {
  const selector = obj(raw);
  const apiVersion = str(selector['apiVersion']);
  const fieldPath = str(selector['fieldPath']);
  if (apiVersion === '') return [required(child(field, 'apiVersion'))];
  if (fieldPath === '') return [required(child(field, 'fieldPath'))];
  if (apiVersion !== 'v1') return [invalid(child(field, 'fieldPath'), fieldPath, `error converting fieldPath: unsupported pod version: ${apiVersion}`)];
  let path = fieldPath === 'spec.host' ? 'spec.nodeName' : fieldPath;
  const subscript = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(path);
  if (subscript === null && !DOWNWARD_API_LABELS.has(path)) {
    return [invalid(child(field, 'fieldPath'), fieldPath, `error converting fieldPath: field label not supported: ${fieldPath}`)];
  }
  if (subscript !== null) {
    path = subscript[1] ?? '';
    const k = subscript[2] ?? '';
    return qualifiedName(path === 'metadata.annotations' ? k.toLowerCase() : k, field);
  }
  if (!expressions.includes(path)) return [notSupported(child(field, 'fieldPath'), path, expressions)];
  return [];
}

const CONTAINER_RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

/** validateContainerResourceFieldSelector (divisors aside). */
function resourceFieldSelector(raw: unknown, field: string, volume: boolean): FieldError[] {
  const selector = obj(raw);
  const resource = str(selector['resource']);
  if (volume && str(selector['containerName']) === '') return [required(child(field, 'containerName'))];
  if (resource === '') return [required(child(field, 'resource'))];
  if (!CONTAINER_RESOURCE_FIELD_PATHS.includes(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-')) {
    return [notSupported(child(field, 'resource'), resource, CONTAINER_RESOURCE_FIELD_PATHS)];
  }
  return [];
}

const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;

/** validation.IsConfigMapKey. */
function configMapKeyErrors(value: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(value, 'utf8') > 253) errs.push('must be no more than 253 characters');
  if (!CONFIG_MAP_KEY.test(value)) {
    errs.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  }
  if (value === '.') errs.push("must not be '.'");
  else if (value === '..') errs.push("must not be '..'");
  else if (value.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** validateConfigMapKeySelector / validateSecretKeySelector. */
function keySelector(raw: unknown, field: string): FieldError[] {
  const selector = obj(raw);
  const errors: FieldError[] = [];
  const name = str(selector['name']);
  for (const msg of isDNS1123Subdomain(name)) errors.push(invalid(child(field, 'name'), name, msg));
  const k = str(selector['key']);
  if (k === '') errors.push(required(child(field, 'key')));
  else for (const msg of configMapKeyErrors(k)) errors.push(invalid(child(field, 'key'), k, msg));
  return errors;
}

/** ValidateEnv. */
function validateEnv(env: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  list(env).forEach((raw, i) => {
    const variable = obj(raw);
    const at = index(field, i);
    const name = str(variable['name']);
    if (name === '') errors.push(required(child(at, 'name')));
    else for (const msg of envNameErrors(name)) errors.push(invalid(child(at, 'name'), name, msg));
    const valueFrom = objectAt(variable['valueFrom']);
    if (valueFrom === undefined) return;
    const from = child(at, 'valueFrom');
    let sources = 0;
    if (isSet(valueFrom['fieldRef'])) {
      sources++;
      errors.push(...objectFieldSelector(valueFrom['fieldRef'], ENV_DOWNWARD_API_PATHS, child(from, 'fieldRef')));
    }
    if (isSet(valueFrom['resourceFieldRef'])) {
      sources++;
      errors.push(...resourceFieldSelector(valueFrom['resourceFieldRef'], child(from, 'resourceFieldRef'), false));
    }
    if (isSet(valueFrom['configMapKeyRef'])) {
      sources++;
      errors.push(...keySelector(valueFrom['configMapKeyRef'], child(from, 'configMapKeyRef')));
    }
    if (isSet(valueFrom['secretKeyRef'])) {
      sources++;
      errors.push(...keySelector(valueFrom['secretKeyRef'], child(from, 'secretKeyRef')));
    }
    if (sources === 0) errors.push(invalid(from, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (str(variable['value']) !== '') errors.push(invalid(from, '', 'may not be specified when `value` is not empty'));
    else if (sources > 1) errors.push(invalid(from, '', 'may not have more than one field specified at a time'));
  });
  return errors;
}

/** ValidateEnvFrom. */
function validateEnvFrom(envFrom: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  list(envFrom).forEach((raw, i) => {
    const source = obj(raw);
    const at = index(field, i);
    const prefix = str(source['prefix']);
    if (prefix !== '') for (const msg of envNameErrors(prefix)) errors.push(invalid(child(at, 'prefix'), prefix, msg));
    let sources = 0;
    for (const kind of ['configMapRef', 'secretRef']) {
      if (!isSet(source[kind])) continue;
      sources++;
      const name = str(obj(source[kind])['name']);
      if (name === '') errors.push(required(child(at, kind, 'name')));
      else for (const msg of subdomainPrefixErrors(name)) errors.push(invalid(child(at, kind, 'name'), name, msg));
    }
    if (sources === 0) errors.push(invalid(field, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errors.push(invalid(field, '', 'may not have more than one field specified at a time'));
  });
  return errors;
}

const MOUNT_PROPAGATIONS = ['Bidirectional', 'HostToContainer', 'None'];
const RECURSIVE_READ_ONLY = ['Disabled', 'Enabled', 'IfPossible'];

/** ValidateVolumeMounts. */
function validateVolumeMounts(container: Record<string, unknown>, volumes: Map<string, Record<string, unknown>>, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const mountPaths = new Set<string>();
  const devices = new Map(list(container['volumeDevices']).map((d) => [str(obj(d)['name']), str(obj(d)['devicePath'])] as const));
  const privileged = obj(container['securityContext'])['privileged'] === true;
  list(container['volumeMounts']).forEach((raw, i) => {
    const mount = obj(raw);
    const at = index(field, i);
    const name = str(mount['name']);
    const mountPath = str(mount['mountPath']);
    if (name === '') errors.push(required(child(at, 'name')));
    if (!volumes.has(name)) errors.push(notFound(child(at, 'name'), name));
    if (mountPath === '') errors.push(required(child(at, 'mountPath')));
    if (mountPaths.has(mountPath)) errors.push(invalid(child(at, 'mountPath'), mountPath, 'must be unique'));
    mountPaths.add(mountPath);
    if (devices.has(name)) errors.push(invalid(child(at, 'name'), name, 'must not already exist in volumeDevices'));
    if ([...devices.values()].includes(mountPath)) errors.push(invalid(child(at, 'mountPath'), mountPath, 'must not already exist as a path in volumeDevices'));
    const subPath = str(mount['subPath']);
    const subPathExpr = str(mount['subPathExpr']);
    if (isSet(volumes.get(name)?.['image'])) {
      if (subPath !== '') errors.push(invalid(child(at, 'subPath'), subPath, 'not allowed in image volume sources'));
      if (subPathExpr !== '') errors.push(invalid(child(at, 'subPathExpr'), subPathExpr, 'not allowed in image volume sources'));
    }
    // kube names the list, not the entry, for the sub paths.
    if (subPath !== '') errors.push(...localDescendingPath(subPath, child(field, 'subPath')));
    if (subPathExpr !== '') {
      if (subPath !== '') errors.push(invalid(child(at, 'subPathExpr'), subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errors.push(...localDescendingPath(subPathExpr, child(field, 'subPathExpr')));
    }
    const propagation = mount['mountPropagation'];
    if (typeof propagation === 'string') {
      if (!MOUNT_PROPAGATIONS.includes(propagation)) errors.push(notSupported(child(field, 'mountPropagation'), propagation, MOUNT_PROPAGATIONS));
      if (propagation === 'Bidirectional' && !privileged) {
        errors.push(forbidden(child(field, 'mountPropagation'), 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
    const rro = mount['recursiveReadOnly'];
    if (typeof rro === 'string' && rro !== 'Disabled') {
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (mount['readOnly'] !== true) errors.push(forbidden(child(field, 'recursiveReadOnly'), 'may only be specified when readOnly is true'));
        if (typeof propagation === 'string' && propagation !== 'None') {
          errors.push(forbidden(child(field, 'recursiveReadOnly'), 'may only be specified when mountPropagation is None or not specified'));
        }
      } else errors.push(notSupported(child(field, 'recursiveReadOnly'), rro, RECURSIVE_READ_ONLY));
    }
  });
  return errors;
}

/** ValidateVolumeDevices. */
function validateVolumeDevices(container: Record<string, unknown>, volumes: Map<string, Record<string, unknown>>, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  const mounts = new Map(list(container['volumeMounts']).map((m) => [str(obj(m)['name']), str(obj(m)['mountPath'])] as const));
  list(container['volumeDevices']).forEach((raw, i) => {
    const device = obj(raw);
    const at = index(field, i);
    const name = str(device['name']);
    const path = str(device['devicePath']);
    const volume = volumes.get(name);
    if (name === '') errors.push(required(child(at, 'name')));
    if (names.has(name)) errors.push(invalid(child(at, 'name'), name, 'must be unique'));
    if (volume !== undefined && !isSet(volume['persistentVolumeClaim']) && !isSet(volume['ephemeral'])) {
      errors.push(invalid(child(at, 'name'), name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    }
    if (volume === undefined) errors.push(notFound(child(at, 'name'), name));
    if (path === '') errors.push(required(child(at, 'devicePath')));
    if (paths.has(path)) errors.push(invalid(child(at, 'devicePath'), path, 'must be unique'));
    if (path !== '' && path.replaceAll('\\', '/').split('/').includes('..')) errors.push(invalid(child(at, 'devicePath'), path, "can not contain backsteps ('..')"));
    else paths.add(path);
    if (mounts.has(name)) errors.push(invalid(child(at, 'name'), name, 'must not already exist in volumeMounts'));
    if ([...mounts.values()].includes(path)) errors.push(invalid(child(at, 'devicePath'), path, 'must not already exist as a path in volumeMounts'));
    if (name !== '') names.add(name);
  });
  return errors;
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

/** The resource names a container may use without a domain (IsStandardContainerResourceName). */
function isStandardContainerResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-');
}

const STANDARD_RESOURCES = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);

/** helper.IsNativeResource: no domain, or a kubernetes.io one. */
function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** helper.IsOvercommitAllowed: native resources other than huge pages. */
function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !name.startsWith('hugepages-');
}

/** helper.IsIntegerResourceName: extended resources and object counts take whole numbers. */
function isIntegerResource(name: string): boolean {
  return !isNativeResource(name) || name === 'pods' || name.startsWith('count/') || ['services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers'].includes(name);
}

/** validateContainerResourceName. */
function containerResourceName(name: string, field: string): FieldError[] {
  const errors = qualifiedName(name, field);
  if (errors.length > 0) return errors;
  if (!name.includes('/')) {
    if (!STANDARD_RESOURCES.has(name) && !name.startsWith('hugepages-') && !name.startsWith('requests.hugepages-')) {
      errors.push(invalid(field, name, 'must be a standard resource type or fully qualified'));
    }
    if (!isStandardContainerResource(name)) errors.push(invalid(field, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && (name.startsWith('requests.') || isQualifiedName(`requests.${name}`).length > 0)) {
    errors.push(invalid(field, name, "doesn't follow extended resource name standard"));
  }
  return errors;
}

/** ValidateResourceQuantityValue. */
function resourceQuantity(name: string, q: Quantity, field: string): FieldError[] {
  const errors: FieldError[] = [];
  if (quantitySign(q) < 0) errors.push(invalid(field, formatQuantity(q), 'must be greater than or equal to 0'));
  // MilliValue() % 1000: whole units only.
  if (isIntegerResource(name) && quantityMilliValue(q) % 1000n !== 0n) errors.push(invalid(field, formatQuantity(q), 'must be an integer'));
  return errors;
}

/** validateResourceRequirements for a container (claims and huge page sizes aside). */
function validateResources(resources: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const r = obj(resources);
  const limitsPath = child(field, 'limits');
  const requestsPath = child(field, 'requests');
  const limits = obj(r['limits']);
  const requests = obj(r['requests']);
  let limitsCpuOrMemory = false;
  let requestsCpuOrMemory = false;
  let hugePages = false;
  for (const [name, value] of Object.entries(limits)) {
    const at = key(limitsPath, name);
    errors.push(...containerResourceName(name, at));
    const q = quantityOf(value);
    if (q !== undefined) errors.push(...resourceQuantity(name, q, at));
    if (name.startsWith('hugepages-')) hugePages = true;
    if (name === 'cpu' || name === 'memory') limitsCpuOrMemory = true;
  }
  for (const [name, value] of Object.entries(requests)) {
    const at = key(requestsPath, name);
    errors.push(...containerResourceName(name, at));
    const q = quantityOf(value);
    if (q !== undefined) errors.push(...resourceQuantity(name, q, at));
    const limit = quantityOf(limits[name]);
    if (limit !== undefined && q !== undefined) {
      if (compareQuantities(q, limit) !== 0 && !isOvercommitAllowed(name)) {
        errors.push(invalid(requestsPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(limit)}`));
      } else if (compareQuantities(q, limit) > 0) {
        errors.push(invalid(requestsPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`));
      }
    } else if (!(name in limits) && !isOvercommitAllowed(name)) {
      errors.push(required(limitsPath, 'Limit must be set for non overcommitable resources'));
    }
    if (name.startsWith('hugepages-')) hugePages = true;
    if (name === 'cpu' || name === 'memory') requestsCpuOrMemory = true;
  }
  if (!limitsCpuOrMemory && !requestsCpuOrMemory && hugePages) errors.push(forbidden(field, 'HugePages require cpu or memory'));
  return errors;
}

const MAX_INT32 = 2147483647;

/** The container securityContext checks of ValidateSecurityContext that manifests hit. */
function validateContainerSecurityContext(raw: unknown, field: string, hostUsers: boolean): FieldError[] {
  const sc = objectAt(raw);
  if (sc === undefined) return [];
  const errors: FieldError[] = [];
  for (const idField of ['runAsUser', 'runAsGroup']) {
    const value = sc[idField];
    if (typeof value === 'number' && (value < 0 || value > MAX_INT32)) errors.push(invalid(child(field, idField), value, inclusiveRange(0, MAX_INT32)));
  }
  const procMount = sc['procMount'];
  if (typeof procMount === 'string') {
    if (procMount !== 'Default' && procMount !== 'Unmasked') errors.push(notSupported(child(field, 'procMount'), procMount, ['Default', 'Unmasked']));
    else if (hostUsers && procMount === 'Unmasked') errors.push(invalid(child(field, 'procMount'), procMount, '`hostUsers` must be false to use `Unmasked`'));
  }
  errors.push(...seccompProfile(sc['seccompProfile'], child(field, 'seccompProfile')));
  if (sc['allowPrivilegeEscalation'] === false) {
    if (sc['privileged'] === true) errors.push(invalid(field, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    for (const cap of list(obj(sc['capabilities'])['add'])) {
      if (cap === 'CAP_SYS_ADMIN') errors.push(invalid(field, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  return errors;
}

/** validateSeccompProfileField. */
function seccompProfile(raw: unknown, field: string): FieldError[] {
  const profile = objectAt(raw);
  if (profile === undefined) return [];
  const type = str(profile['type']);
  const localhost = profile['localhostProfile'];
  switch (type) {
    case 'Localhost':
      if (typeof localhost !== 'string' || localhost === '') return [required(child(field, 'localhostProfile'), 'must be set when seccomp type is Localhost')];
      return [];
    case 'RuntimeDefault':
    case 'Unconfined':
      return isSet(localhost) ? [invalid(child(field, 'localhostProfile'), localhost, 'can only be set when seccomp type is Localhost')] : [];
    case '':
      return [required(child(field, 'type'), 'type is required when seccompProfile is set')];
    default:
      return [notSupported(child(field, 'type'), type, ['Localhost', 'RuntimeDefault', 'Unconfined'])];
  }
}

/** What every container kind shares (validateContainerCommon). */
function validateContainerCommon(container: Record<string, unknown>, volumes: Map<string, Record<string, unknown>>, field: string, hostUsers: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const name = str(container['name']);
  if (name === '') errors.push(required(child(field, 'name')));
  else errors.push(...dnsLabel(name, child(field, 'name')));
  if (str(container['image']) === '') errors.push(required(child(field, 'image')));
  const policy = str(container['terminationMessagePolicy']);
  if (policy === '') errors.push(required(child(field, 'terminationMessagePolicy')));
  else if (policy !== 'File' && policy !== 'FallbackToLogsOnError') {
    errors.push(notSupported(child(field, 'terminationMessagePolicy'), policy, ['File', 'FallbackToLogsOnError']));
  }
  errors.push(...validatePorts(container['ports'], child(field, 'ports')));
  errors.push(...validateEnv(container['env'], child(field, 'env')));
  errors.push(...validateEnvFrom(container['envFrom'], child(field, 'envFrom')));
  errors.push(...validateVolumeMounts(container, volumes, child(field, 'volumeMounts')));
  errors.push(...validateVolumeDevices(container, volumes, child(field, 'volumeDevices')));
  const pull = str(container['imagePullPolicy']);
  if (pull === '') errors.push(required(child(field, 'imagePullPolicy')));
  else if (!PULL_POLICIES.includes(pull)) errors.push(notSupported(child(field, 'imagePullPolicy'), pull, PULL_POLICIES));
  errors.push(...validateResources(container['resources'], child(field, 'resources')));
  errors.push(...validateContainerSecurityContext(container['securityContext'], child(field, 'securityContext'), hostUsers));
  return errors;
}

const HTTP_SCHEMES = ['HTTP', 'HTTPS'];

/** validateHandler: exactly one action, each checked. */
function validateHandler(handler: Record<string, unknown>, actions: readonly string[], gracePeriod: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  let count = 0;
  for (const action of actions) {
    const value = handler[action];
    if (!isSet(value)) continue;
    const at = child(field, action);
    if (count > 0) {
      errors.push(forbidden(at, 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    const a = obj(value);
    switch (action) {
      case 'exec':
        if (list(a['command']).length === 0) errors.push(required(child(at, 'command')));
        break;
      case 'httpGet': {
        if (str(a['path']) === '') errors.push(required(child(at, 'path')));
        errors.push(...portNumOrNameErrors(a['port'], child(at, 'port')));
        const scheme = str(a['scheme']);
        if (!HTTP_SCHEMES.includes(scheme)) errors.push(notSupported(child(at, 'scheme'), scheme, HTTP_SCHEMES));
        for (const header of list(a['httpHeaders'])) {
          const headerName = str(obj(header)['name']);
          if (!/^[-A-Za-z0-9]+$/.test(headerName)) {
            errors.push(invalid(child(at, 'httpHeaders'), headerName, "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"));
          }
        }
        break;
      }
      case 'tcpSocket':
        errors.push(...portNumOrNameErrors(a['port'], child(at, 'port')));
        break;
      case 'grpc':
        errors.push(...portNumOrNameErrors(num(a['port']), child(at, 'port')));
        break;
      case 'sleep': {
        const seconds = num(a['seconds']);
        if (typeof gracePeriod === 'number' && (seconds < 0 || seconds > gracePeriod)) {
          errors.push(invalid(at, seconds, `must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod})`));
        }
        break;
      }
    }
  }
  if (count === 0) errors.push(required(field, 'must specify a handler type'));
  return errors;
}

/** validateProbe and the liveness, readiness and startup rules. */
function validateProbe(kind: 'livenessProbe' | 'readinessProbe' | 'startupProbe', raw: unknown, gracePeriod: unknown, field: string): FieldError[] {
  const probe = objectAt(raw);
  if (probe === undefined) return [];
  const errors = validateHandler(probe, ['exec', 'httpGet', 'tcpSocket', 'grpc'], gracePeriod, field);
  for (const count of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errors.push(...nonNegative(probe[count], child(field, count)));
  }
  const grace = probe['terminationGracePeriodSeconds'];
  if (typeof grace === 'number' && grace <= 0) errors.push(invalid(child(field, 'terminationGracePeriodSeconds'), grace, 'must be greater than 0'));
  if (kind === 'readinessProbe') {
    if (isSet(grace)) errors.push(invalid(child(field, 'terminationGracePeriodSeconds'), grace, 'must not be set for readinessProbes'));
  } else if (num(probe['successThreshold']) !== 1) {
    errors.push(invalid(child(field, 'successThreshold'), num(probe['successThreshold']), 'must be 1'));
  }
  return errors;
}

/** validateLifecycle. */
function validateLifecycle(raw: unknown, gracePeriod: unknown, field: string): FieldError[] {
  const lifecycle = obj(raw);
  const errors: FieldError[] = [];
  for (const hook of ['postStart', 'preStop']) {
    const handler = objectAt(lifecycle[hook]);
    if (handler !== undefined) errors.push(...validateHandler(handler, ['exec', 'httpGet', 'tcpSocket', 'sleep'], gracePeriod, child(field, hook)));
  }
  return errors;
}

/** The probes and lifecycle of a container that may have them. */
function validateProbesAndLifecycle(container: Record<string, unknown>, gracePeriod: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  if (isSet(container['lifecycle'])) errors.push(...validateLifecycle(container['lifecycle'], gracePeriod, child(field, 'lifecycle')));
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) errors.push(...validateProbe(kind, container[kind], gracePeriod, child(field, kind)));
  return errors;
}

/** checkHostPortConflicts: one protocol/hostIP/hostPort per set of containers. */
function hostPortConflicts(containers: { container: Record<string, unknown>; index: number }[], field: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const { container, index: ci } of containers) {
    list(container['ports']).forEach((raw, pi) => {
      const port = obj(raw);
      const hostPort = num(port['hostPort']);
      if (hostPort === 0) return;
      const id = `${str(port['protocol'])}/${str(port['hostIP'])}/${hostPort}`;
      if (seen.has(id)) errors.push(duplicate(child(index(child(index(field, ci), 'ports'), pi), 'hostPort'), id));
      else seen.add(id);
    });
  }
  return errors;
}

/** validateContainers. */
function validateContainers(containers: unknown, volumes: Map<string, Record<string, unknown>>, gracePeriod: unknown, field: string, hostUsers: boolean): FieldError[] {
  const items = list(containers);
  if (items.length === 0) return [required(field)];
  const errors: FieldError[] = [];
  const names = new Set<string>();
  items.forEach((raw, i) => {
    const container = obj(raw);
    const at = index(field, i);
    errors.push(...validateContainerCommon(container, volumes, at, hostUsers));
    const name = str(container['name']);
    if (names.has(name)) errors.push(duplicate(child(at, 'name'), name));
    else names.add(name);
    errors.push(...validateProbesAndLifecycle(container, gracePeriod, at));
    if (isSet(container['restartPolicy'])) errors.push(forbidden(child(at, 'restartPolicy'), 'may not be set for non-init containers'));
  });
  errors.push(...hostPortConflicts(items.map((c, i) => ({ container: obj(c), index: i })), field));
  return errors;
}

const INIT_ONLY = 'may not be set for init containers without restartPolicy=Always';

/** validateInitContainers. */
function validateInitContainers(
  initContainers: unknown,
  containers: unknown,
  volumes: Map<string, Record<string, unknown>>,
  gracePeriod: unknown,
  field: string,
  hostUsers: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Set(list(containers).map((c) => str(obj(c)['name'])));
  list(initContainers).forEach((raw, i) => {
    const container = obj(raw);
    const at = index(field, i);
    errors.push(...validateContainerCommon(container, volumes, at, hostUsers));
    const policy = container['restartPolicy'];
    const restartAlways = policy === 'Always';
    if (isSet(policy) && !restartAlways) errors.push(notSupported(child(at, 'restartPolicy'), policy, ['Always']));
    const name = str(container['name']);
    if (names.has(name)) errors.push(duplicate(child(at, 'name'), name));
    else if (name !== '') names.add(name);
    errors.push(...hostPortConflicts([{ container, index: i }], field));
    if (restartAlways) errors.push(...validateProbesAndLifecycle(container, gracePeriod, at));
    else {
      for (const part of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (isSet(container[part])) errors.push(forbidden(child(at, part), INIT_ONLY));
      }
    }
  });
  return errors;
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** ValidateTolerations. */
function validateTolerations(tolerations: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  list(tolerations).forEach((raw, i) => {
    const t = obj(raw);
    const at = index(field, i);
    const k = str(t['key']);
    const operator = str(t['operator']);
    const value = str(t['value']);
    const effect = str(t['effect']);
    if (k !== '') errors.push(...qualifiedName(k, child(at, 'key')));
    if (k === '' && operator !== 'Exists') {
      errors.push(invalid(child(at, 'operator'), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (isSet(t['tolerationSeconds']) && effect !== 'NoExecute') {
      errors.push(invalid(child(at, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (operator === 'Equal' || operator === '') {
      const msgs = isValidLabelValue(value);
      if (msgs.length > 0) errors.push(invalid(child(at, 'operator'), value, msgs.join(';')));
    } else if (operator === 'Exists') {
      if (value !== '') errors.push(invalid(child(at, 'operator'), value, "value must be empty when `operator` is 'Exists'"));
    } else errors.push(notSupported(child(at, 'operator'), operator, ['Equal', 'Exists']));
    if (effect !== '' && !TAINT_EFFECTS.includes(effect)) errors.push(notSupported(child(at, 'effect'), effect, TAINT_EFFECTS));
  });
  return errors;
}

/** The pod securityContext checks of validatePodSpecSecurityContext that manifests hit. */
function validatePodSecurityContext(raw: unknown, field: string): FieldError[] {
  const sc = objectAt(raw);
  if (sc === undefined) return [];
  const errors: FieldError[] = [];
  for (const idField of ['fsGroup', 'runAsUser', 'runAsGroup']) {
    const value = sc[idField];
    if (typeof value === 'number' && (value < 0 || value > MAX_INT32)) errors.push(invalid(child(field, idField), value, inclusiveRange(0, MAX_INT32)));
  }
  list(sc['supplementalGroups']).forEach((gid, g) => {
    if (typeof gid === 'number' && (gid < 0 || gid > MAX_INT32)) errors.push(invalid(index(child(field, 'supplementalGroups'), g), gid, inclusiveRange(0, MAX_INT32)));
  });
  const policy = sc['fsGroupChangePolicy'];
  if (typeof policy === 'string' && policy !== 'OnRootMismatch' && policy !== 'Always') {
    errors.push(notSupported(child(field, 'fsGroupChangePolicy'), policy, ['Always', 'OnRootMismatch']));
  }
  errors.push(...seccompProfile(sc['seccompProfile'], child(field, 'seccompProfile')));
  return errors;
}

/** validatePodDNSConfig (search path syntax aside). */
function validateDNSConfig(raw: unknown, dnsPolicy: string, field: string): FieldError[] {
  const config = objectAt(raw);
  if (dnsPolicy === 'None') {
    if (config === undefined) return [required(field, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (list(config['nameservers']).length === 0) return [required(child(field, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (config === undefined) return [];
  const errors: FieldError[] = [];
  const nameservers = list(config['nameservers']);
  if (nameservers.length > 3) errors.push(invalid(child(field, 'nameservers'), nameservers, 'must not have more than 3 nameservers'));
  const searches = list(config['searches']);
  if (searches.length > 32) errors.push(invalid(child(field, 'searches'), searches, 'must not have more than 32 search paths'));
  list(config['options']).forEach((option, i) => {
    if (str(obj(option)['name']) === '') errors.push(required(index(child(field, 'options'), i), 'must not be empty'));
  });
  return errors;
}

const UNSATISFIABLE_CONSTRAINT_ACTIONS = ['DoNotSchedule', 'ScheduleAnyway'];

/** The first checks of validateTopologySpreadConstraints. */
function validateTopologySpread(raw: unknown, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  list(raw).forEach((c, i) => {
    const constraint = obj(c);
    const at = index(field, i);
    const maxSkew = num(constraint['maxSkew']);
    if (maxSkew <= 0) errors.push(invalid(child(at, 'maxSkew'), maxSkew, 'must be greater than zero'));
    const topologyKey = str(constraint['topologyKey']);
    if (topologyKey === '') errors.push(required(child(at, 'topologyKey'), 'can not be empty'));
    else errors.push(...qualifiedName(topologyKey, child(at, 'topologyKey')));
    const action = str(constraint['whenUnsatisfiable']);
    if (!UNSATISFIABLE_CONSTRAINT_ACTIONS.includes(action)) errors.push(notSupported(child(at, 'whenUnsatisfiable'), action, UNSATISFIABLE_CONSTRAINT_ACTIONS));
    const pair = `${topologyKey}/${action}`;
    if (seen.has(pair)) errors.push(duplicate(at, `{${topologyKey}, ${action}}`));
    seen.add(pair);
  });
  return errors;
}

/** The host IP of a hostAlias (validation.IsValidIP). */
function validIP(value: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(value)) return value.split('.').every((part) => Number(part) <= 255 && !/^0\d/.test(part));
  return value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value) && URL.canParse(`http://[${value}]/`);
}

/**
 * ValidatePodSpec: the spec of a Pod or pod template, its errors at `path` (e.g. "spec",
 * "spec.template.spec") in kube's order and words: containers (at least one, names DNS labels
 * and unique across regular and init containers, image required, ports, env, mounts naming
 * volumes, quantities with requests at most limits, probes), volumes (names unique, one
 * source), restartPolicy, dnsPolicy, and the pod-level fields real manifests use. Run on a
 * defaulted spec (defaults fill fields kube requires, such as terminationGracePeriodSeconds).
 * Never throws.
 */
export function validatePodSpec(spec: unknown, path: string, options: PodSpecValidationOptions & { podName?: string } = {}): FieldError[] {
  const s = obj(spec);
  const errors: FieldError[] = [];
  if (!isSet(s['terminationGracePeriodSeconds'])) errors.push(required(child(path, 'terminationGracePeriodSeconds')));
  const gracePeriod = s['terminationGracePeriodSeconds'];
  const hostUsers = obj(s['securityContext'])['hostUsers'] !== false;
  const volumes = validateVolumes(s['volumes'], child(path, 'volumes'), options.podName ?? '');
  errors.push(...volumes.errors);
  errors.push(...validateContainers(s['containers'], volumes.names, gracePeriod, child(path, 'containers'), hostUsers));
  errors.push(...validateInitContainers(s['initContainers'], s['containers'], volumes.names, gracePeriod, child(path, 'initContainers'), hostUsers));
  if (s['hostNetwork'] === true) {
    list(s['containers']).forEach((c, i) => {
      list(obj(c)['ports']).forEach((p, j) => {
        const hostPort = num(obj(p)['hostPort']);
        const containerPort = num(obj(p)['containerPort']);
        if ((options.resourceIsPod === true || hostPort !== 0) && hostPort !== containerPort) {
          errors.push(invalid(child(index(child(index(child(path, 'containers'), i), 'ports'), j), 'hostPort'), hostPort, 'must match `containerPort` when `hostNetwork` is true'));
        }
      });
    });
  }
  const restartPolicy = str(s['restartPolicy']);
  if (restartPolicy === '') errors.push(required(child(path, 'restartPolicy')));
  else if (!RESTART_POLICIES.includes(restartPolicy)) errors.push(notSupported(child(path, 'restartPolicy'), restartPolicy, RESTART_POLICIES));
  const dnsPolicy = str(s['dnsPolicy']);
  if (dnsPolicy === '') errors.push(required(child(path, 'dnsPolicy')));
  else if (!DNS_POLICIES.includes(dnsPolicy)) errors.push(notSupported(child(path, 'dnsPolicy'), dnsPolicy, DNS_POLICIES));
  const nodeSelector = objectAt(s['nodeSelector']);
  if (nodeSelector !== undefined) errors.push(...validateLabels(nodeSelector, child(path, 'nodeSelector')));
  errors.push(...validatePodSecurityContext(s['securityContext'], child(path, 'securityContext')));
  list(s['imagePullSecrets']).forEach((secret, i) => {
    const ref = obj(secret);
    if (Object.keys(ref).some((k) => k !== 'name')) errors.push(invalid(index(child(path, 'imagePullSecrets'), i), ref, 'only name may be set'));
  });
  errors.push(...validateDNSConfig(s['dnsConfig'], dnsPolicy, child(path, 'dnsConfig')));
  list(s['readinessGates']).forEach((gate, i) => {
    errors.push(...qualifiedName(str(obj(gate)['conditionType']), child(index(child(path, 'readinessGates'), i), 'conditionType')));
  });
  const gates = new Set<string>();
  list(s['schedulingGates']).forEach((gate, i) => {
    const name = str(obj(gate)['name']);
    errors.push(...qualifiedName(name, index(child(path, 'schedulingGates'), i)));
    if (gates.has(name)) errors.push(duplicate(index(child(path, 'schedulingGates'), i), name));
    gates.add(name);
  });
  errors.push(...validateTopologySpread(s['topologySpreadConstraints'], child(path, 'topologySpreadConstraints')));
  const serviceAccountName = str(s['serviceAccountName']);
  if (serviceAccountName !== '') errors.push(...dnsSubdomain(serviceAccountName, child(path, 'serviceAccountName')));
  const nodeName = str(s['nodeName']);
  if (nodeName !== '') errors.push(...dnsSubdomain(nodeName, child(path, 'nodeName')));
  const deadline = s['activeDeadlineSeconds'];
  if (typeof deadline === 'number' && (deadline < 1 || deadline > MAX_INT32)) {
    errors.push(invalid(child(path, 'activeDeadlineSeconds'), deadline, inclusiveRange(1, MAX_INT32)));
  }
  const hostname = str(s['hostname']);
  if (hostname !== '') errors.push(...dnsLabel(hostname, child(path, 'hostname')));
  const subdomain = str(s['subdomain']);
  if (subdomain !== '') errors.push(...dnsLabel(subdomain, child(path, 'subdomain')));
  errors.push(...validateTolerations(s['tolerations'], child(path, 'tolerations')));
  list(s['hostAliases']).forEach((alias, i) => {
    const at = index(child(path, 'hostAliases'), i);
    const ip = str(obj(alias)['ip']);
    if (!validIP(ip)) errors.push(invalid(child(at, 'ip'), ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    list(obj(alias)['hostnames']).forEach((h, j) => errors.push(...dnsSubdomain(str(h), index(child(at, 'hostnames'), j))));
  });
  const priorityClassName = str(s['priorityClassName']);
  if (priorityClassName !== '') errors.push(...dnsSubdomain(priorityClassName, child(path, 'priorityClassName')));
  if (typeof s['runtimeClassName'] === 'string') errors.push(...dnsSubdomain(s['runtimeClassName'], child(path, 'runtimeClassName')));
  const preemption = s['preemptionPolicy'];
  if (typeof preemption === 'string') {
    if (preemption === '') errors.push(required(child(path, 'preemptionPolicy')));
    else if (preemption !== 'PreemptLowerPriority' && preemption !== 'Never') {
      errors.push(notSupported(child(path, 'preemptionPolicy'), preemption, ['PreemptLowerPriority', 'Never']));
    }
  }
  const overhead = objectAt(s['overhead']);
  if (overhead !== undefined) errors.push(...validateResources({ limits: overhead }, child(path, 'overhead')));
  const os = objectAt(s['os']);
  if (os !== undefined) {
    const osName = str(os['name']);
    if (osName === '') errors.push(required(child(path, 'os', 'name')));
    else if (osName !== 'linux' && osName !== 'windows') errors.push(notSupported(child(path, 'os', 'name'), osName, ['linux', 'windows']));
  }
  return errors;
}

/**
 * ValidatePodTemplateSpec: the template's labels (at `<path>.labels`, as kube names them) and
 * annotations, its spec ({@link validatePodSpec} at `<path>.spec`), and no ephemeral
 * containers. `path` is where the template sits (e.g. "spec.template"). Never throws.
 */
export function validatePodTemplateSpec(template: unknown, path: string, options: PodSpecValidationOptions = {}): FieldError[] {
  const t = obj(template);
  const metadata = obj(t['metadata']);
  const errors: FieldError[] = [];
  const labels = objectAt(metadata['labels']);
  if (labels !== undefined) errors.push(...validateLabels(labels, child(path, 'labels')));
  const annotations = objectAt(metadata['annotations']);
  if (annotations !== undefined) errors.push(...validateAnnotations(annotations, child(path, 'annotations')));
  errors.push(...validatePodSpec(t['spec'], child(path, 'spec'), { resourceIsPod: options.resourceIsPod === true }));
  if (list(obj(t['spec'])['ephemeralContainers']).length > 0) {
    errors.push(forbidden(child(path, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errors;
}

/**
 * validateContainersOnlyForPod: what a Pod's containers must meet beyond a template's (no
 * leading or trailing whitespace in the image).
 */
export function validatePodOnlyContainers(spec: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['containers', 'initContainers']) {
    list(obj(spec)[field]).forEach((c, i) => {
      const image = str(obj(c)['image']);
      if (image.trim() !== image) errors.push(invalid(child(index(child(path, field), i), 'image'), image, 'must not have leading or trailing whitespace'));
    });
  }
  return errors;
}

/** The containers of a spec as `name` and `image` lists, for the CONTAINERS and IMAGES columns. */
export function containerCells(spec: unknown): [string, string] {
  const containers = list(obj(spec)['containers']).map(obj);
  return [containers.map((c) => str(c['name'])).join(','), containers.map((c) => str(c['image'])).join(',')];
}

/** The resources kube's QoS counts (isSupportedQoSComputeResource). */
const QOS_RESOURCES = ['cpu', 'memory'];

/**
 * qos.GetPodQOS / ComputePodQOS: BestEffort when no container requests or limits cpu or
 * memory, Guaranteed when every container limits both and requests equal limits, Burstable
 * otherwise. Pod-level resources, when set, decide instead of the containers'.
 */
export function podQOSClass(spec: unknown): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const s = obj(spec);
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const zero = quantityOf('0') as Quantity;
  const accumulate = (into: Map<string, Quantity>, resources: unknown, found?: Set<string>): void => {
    for (const [name, value] of Object.entries(obj(resources))) {
      if (!QOS_RESOURCES.includes(name)) continue;
      const q = quantityOf(value);
      if (q === undefined || compareQuantities(q, zero) !== 1) continue;
      found?.add(name);
      const current = into.get(name);
      into.set(name, current === undefined ? q : addQuantities(current, q));
    }
  };
  const podResources = objectAt(s['resources']);
  if (podResources !== undefined && (Object.keys(obj(podResources['requests'])).length > 0 || Object.keys(obj(podResources['limits'])).length > 0)) {
    accumulate(requests, podResources['requests']);
    if (Object.keys(obj(podResources['limits'])).length > 0) {
      const found = new Set<string>();
      accumulate(limits, podResources['limits'], found);
      if (!found.has('memory') || !found.has('cpu')) guaranteed = false;
    }
  } else {
    for (const container of [...list(s['containers']), ...list(s['initContainers'])]) {
      const resources = obj(obj(container)['resources']);
      accumulate(requests, resources['requests']);
      const found = new Set<string>();
      accumulate(limits, resources['limits'], found);
      if (!found.has('memory') || !found.has('cpu')) guaranteed = false;
    }
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, request] of requests) {
      const limit = limits.get(name);
      if (limit === undefined || compareQuantities(limit, request) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
