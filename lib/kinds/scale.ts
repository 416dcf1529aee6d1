/**
 * The scale subresource (autoscaling/v1 Scale) of any kind whose definition says where its
 * replicas are ({@link ScaleSubresource}), as kube serves it: built-in kinds as their
 * ScaleREST (replicas and a metav1.LabelSelector, ValidateScale on writes, the Scale's uid a
 * precondition), custom kinds as apiextensions' (replicas read as int64 at the definition's
 * paths, a string selector, an error when the desired replicas are missing).
 */
import { badRequest, conflict, invalid, StatusError, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../kube.ts';
import { convertLabelSelector, selectorString } from '../label-selector.ts';
import { DEFAULT_FIELDS } from '../selectors.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from './printing.ts';
import { SCALE_GVK } from './subresources.ts';
import type { KindDefinition, KindPrinter, ScaleSubresource } from './types.ts';

/** What apiextensions puts in a Scale read for a write when the desired replicas are missing (the smallest int32). */
const MISSING_REPLICAS = -2147483648;

function integer(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0;
}

/** printScale: NAME, DESIRED (spec.replicas), AVAILABLE (status.replicas), AGE. */
const SCALE_PRINTER: KindPrinter = {
  columns: Object.freeze([
    column('Name', 'string', NAME_COLUMN.description),
    column('Desired', 'integer', 'replicas is the desired number of instances for the scaled object.'),
    column('Available', 'integer', 'replicas is the actual number of observed instances of the scaled object.'),
    AGE_COLUMN,
  ]),
  cells(object, now) {
    const spec = isPlainObject(object.spec) ? object.spec : {};
    const status = isPlainObject(object.status) ? object.status : {};
    return [nameOf(object), integer(spec.replicas), integer(status.replicas), ageOf(object, now)];
  },
};

function scaleKind(namespaced: boolean): KindDefinition {
  return Object.freeze({
    source: 'builtin',
    ...SCALE_GVK,
    resource: 'scale',
    singular: '',
    listKind: 'ScaleList',
    namespaced,
    shortNames: [],
    categories: [],
    verbs: [],
    subresources: [],
    nameValidation: 'dns1123Subdomain',
    selectableFields: DEFAULT_FIELDS,
    strategy: { generation: 'none' },
    printer: SCALE_PRINTER,
    schema: 'io.k8s.api.autoscaling.v1.Scale',
  } satisfies KindDefinition);
}

// The Scale as a kind: what Scale bodies are decoded and checked against, and printed with.
// Two, so a Scale's scope follows the object's (its namespace is checked against the URL's).
const NAMESPACED_SCALE = scaleKind(true);
const CLUSTER_SCALE = scaleKind(false);

/** The Scale kind of `kind`'s scale subresource (same scope). */
export function scaleKindOf(kind: KindDefinition): KindDefinition {
  return kind.namespaced ? NAMESPACED_SCALE : CLUSTER_SCALE;
}

/** The segments of a replicas path (".spec.replicas": spec, replicas), as apiextensions splits it. */
function segments(path: string): string[] {
  return (path.startsWith('.') ? path.slice(1) : path).split('.');
}

/** Go's %T of a JSON value as unstructured holds it. */
function goTypeOf(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int64' : 'float64';
  return Array.isArray(value) ? '[]interface {}' : 'map[string]interface {}';
}

/** unstructured.NestedFieldNoCopy: the value at `path`, and whether every step was there. */
function nested(object: unknown, path: string): { found: boolean; value: unknown } {
  let value = object;
  for (const s of segments(path)) {
    if (!isPlainObject(value) || !Object.hasOwn(value, s)) return { found: false, value: undefined };
    value = value[s];
  }
  return { found: true, value };
}

/** A field read as apiextensions reads it (NestedInt64 / NestedString): a value of another type is an error. */
function nestedOf(object: unknown, path: string, type: 'int64' | 'string'): { found: boolean; value: unknown } {
  const r = nested(object, path);
  if (!r.found) return r;
  const ok = type === 'int64' ? typeof r.value === 'number' && Number.isInteger(r.value) : typeof r.value === 'string';
  if (!ok) {
    const shown = typeof r.value === 'string' ? r.value : r.value === null ? '<nil>' : JSON.stringify(r.value);
    throw new StatusError('InternalError', `${path} accessor error: ${shown} is of the type ${goTypeOf(r.value)}, expected ${type}`);
  }
  return r;
}

/** int32(x) of Go: the low 32 bits, signed. */
function int32(value: number): number {
  return Number(BigInt.asIntN(32, BigInt(value)));
}

function metadataOf(object: KubeObject): Record<string, unknown> {
  return isPlainObject(object.metadata) ? object.metadata : {};
}

/** The Scale's metadata: the object's name, namespace, uid, resourceVersion and creationTimestamp. */
function scaleMetadata(object: KubeObject): Record<string, unknown> {
  const m = metadataOf(object);
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'namespace', 'uid', 'resourceVersion']) if (typeof m[key] === 'string' && m[key] !== '') out[key] = m[key];
  out.creationTimestamp = m.creationTimestamp ?? null;
  return out;
}

/** A Scale as kube writes it: spec.replicas omitted when 0, status.replicas always, status.selector when not empty. */
function scaleObject(object: KubeObject, specReplicas: number, statusReplicas: number, selector: string): KubeObject {
  return {
    kind: SCALE_GVK.kind,
    apiVersion: `${SCALE_GVK.group}/${SCALE_GVK.version}`,
    metadata: scaleMetadata(object),
    spec: specReplicas === 0 ? {} : { replicas: specReplicas },
    status: selector === '' ? { replicas: statusReplicas } : { replicas: statusReplicas, selector },
  };
}

function scaleFacts(kind: KindDefinition): ScaleSubresource {
  if (kind.scale === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource');
  return kind.scale;
}

/**
 * The Scale of `object`. For a read (`purpose` 'get') a custom resource without its desired
 * replicas is a 500 in apiextensions' words; for a write the Scale then carries a marker the
 * write refuses unless it sets the replicas.
 */
export function scaleOf(kind: KindDefinition, object: KubeObject, purpose: 'get' | 'write' = 'get'): KubeObject {
  const facts = scaleFacts(kind);
  if (kind.source === 'custom') {
    const spec = nestedOf(object, facts.specReplicasPath, 'int64');
    const status = nestedOf(object, facts.statusReplicasPath, 'int64');
    const selector = facts.labelSelectorPath === undefined || facts.labelSelectorPath === '' ? undefined : nestedOf(object, facts.labelSelectorPath, 'string');
    if (!spec.found && purpose === 'get') {
      throw new StatusError('InternalError', `Internal error occurred: the spec replicas field ${JSON.stringify(facts.specReplicasPath)} does not exist`);
    }
    const desired = spec.found ? int32(spec.value as number) : MISSING_REPLICAS;
    return scaleObject(object, desired, status.found ? int32(status.value as number) : 0, selector?.found === true ? (selector.value as string) : '');
  }
  let selector = '';
  if (facts.selectorPath !== undefined) {
    const converted = convertLabelSelector(nested(object, facts.selectorPath).value);
    if ('error' in converted) throw badRequest(converted.error);
    selector = selectorString(converted);
  } else if (facts.labelSelectorPath !== undefined) {
    const value = nested(object, facts.labelSelectorPath).value;
    selector = typeof value === 'string' ? value : '';
  }
  return scaleObject(object, integer(nested(object, facts.specReplicasPath).value), integer(nested(object, facts.statusReplicasPath).value), selector);
}

/** Sets `value` at `path` in a copy of `object`, making the objects on the way. */
function withValueAt(object: KubeObject, path: string, value: number): KubeObject {
  const [first, ...rest] = segments(path);
  const put = (target: Record<string, unknown>, keys: string[], key: string): Record<string, unknown> => {
    if (keys.length === 0) return { ...target, [key]: value };
    const [next, ...more] = keys as [string, ...string[]];
    const inner = isPlainObject(target[key]) ? target[key] : {};
    return { ...target, [key]: put(inner, more, next) };
  };
  return put(object as Record<string, unknown>, rest, first ?? '') as KubeObject;
}

/**
 * The object to store when `scale` (a Scale decoded and checked against the URL) is written to
 * `current`: only the desired replicas change, and the Scale's resourceVersion, when it has one,
 * is the write's precondition. Built-in kinds check the Scale as kube's ValidateScale (422
 * Invalid Scale.autoscaling) and its uid (409); custom kinds refuse a write that leaves the
 * missing replicas unset (400), as apiextensions does.
 */
export function applyScale(kind: KindDefinition, current: KubeObject, scale: KubeObject): KubeObject {
  const facts = scaleFacts(kind);
  const scaleMeta = metadataOf(scale);
  const spec = isPlainObject(scale.spec) ? scale.spec : {};
  const replicas = integer(spec.replicas);
  const name = typeof metadataOf(current).name === 'string' ? (metadataOf(current).name as string) : '';
  if (kind.source === 'custom') {
    if (replicas === MISSING_REPLICAS) throw badRequest(`the spec replicas field ${JSON.stringify(facts.specReplicasPath)} cannot be empty`);
  } else {
    const errors: FieldError[] = [];
    if ((scaleMeta.name ?? '') === '' && (scaleMeta.generateName ?? '') === '') {
      errors.push({ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
    }
    if (replicas < 0) errors.push({ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' });
    if (errors.length > 0) throw invalid(SCALE_GVK.kind, SCALE_GVK.group, name, errors);
    const uid = typeof scaleMeta.uid === 'string' ? scaleMeta.uid : '';
    const currentUid = typeof metadataOf(current).uid === 'string' ? (metadataOf(current).uid as string) : '';
    if (uid !== '' && uid !== currentUid) {
      throw conflict({ group: kind.group, resource: `${kind.resource}/scale` }, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${currentUid}`);
    }
  }
  const updated = withValueAt(current, facts.specReplicasPath, replicas);
  const resourceVersion = typeof scaleMeta.resourceVersion === 'string' ? scaleMeta.resourceVersion : '';
  const metadata = { ...metadataOf(current) };
  if (resourceVersion !== '') metadata.resourceVersion = resourceVersion;
  return { ...updated, metadata };
}
