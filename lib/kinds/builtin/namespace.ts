/**
 * Namespace (core/v1, cluster-scoped): starts Active with the "kubernetes" finalizer, selectable
 * by status.phase, printed as kube's printNamespace. Its lifecycle is kube's namespace storage:
 * a delete marks it Terminating (deletionTimestamp, status.phase) and it stays while
 * spec.finalizers holds it; the namespace controller empties the namespace and takes its
 * "kubernetes" finalizer away through the `finalize` subresource, and that write removes it.
 */
import type { FieldError } from '../../errors.ts';
import { isPlainObject, type KubeObject } from '../../kube.ts';
import { isQualifiedName } from '../../validation/names.ts';
import { goField, goStruct } from '../../object-meta.ts';
import { metadataString } from '../../selectors.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN, stringField } from '../printing.ts';
import type { KindDeletion, KindDefinition, UpdateSubresource } from '../types.ts';
import { NAMESPACE_VERBS } from './common.ts';

/** namespaceStrategy.PrepareForCreate: the status is replaced, and spec.finalizers holds "kubernetes". */
function prepareForCreate(object: KubeObject): KubeObject {
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const finalizers = specFinalizersOf(object);
  return {
    ...object,
    status: { phase: 'Active' },
    spec: { ...spec, finalizers: finalizers.includes(KUBERNETES_FINALIZER) ? finalizers : [...finalizers, KUBERNETES_FINALIZER] },
  };
}

/** The finalizer the namespace controller removes once the namespace is empty (v1.FinalizerKubernetes). */
export const KUBERNETES_FINALIZER = 'kubernetes';

/** The finalizer names that need no prefix (helper.IsStandardFinalizerName). */
const STANDARD_FINALIZERS: readonly string[] = ['kubernetes', 'orphan', 'foregroundDeletion'];

/** spec.finalizers of a namespace ([] when absent or not a list). */
export function specFinalizersOf(object: KubeObject): unknown[] {
  const spec: unknown = object.spec;
  const finalizers = isPlainObject(spec) ? spec.finalizers : undefined;
  return Array.isArray(finalizers) ? finalizers : [];
}

/** ValidateFinalizerName of each spec.finalizers entry: a qualified name, and one without a prefix must be a standard one. */
function finalizerErrors(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  specFinalizersOf(object).forEach((name, i) => {
    if (typeof name !== 'string') return;
    const field = `spec.finalizers[${i}]`;
    for (const detail of isQualifiedName(name)) errors.push({ type: 'FieldValueInvalid', field, value: name, detail });
    if (!name.includes('/') && !STANDARD_FINALIZERS.includes(name)) {
      errors.push({ type: 'FieldValueInvalid', field, value: name, detail: 'name is neither a standard finalizer name nor is it fully qualified' });
    }
  });
  return errors;
}

/** namespaceStrategy.PrepareForUpdate: spec.finalizers (and status) stay as stored; only /finalize changes them. */
function prepareForUpdate(object: KubeObject, old: KubeObject): KubeObject {
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const oldSpec: unknown = old.spec;
  const { finalizers: _finalizers, ...rest } = spec;
  const kept = isPlainObject(oldSpec) && oldSpec.finalizers !== undefined ? { ...rest, finalizers: oldSpec.finalizers } : rest;
  return { ...object, spec: kept, status: old.status };
}

/** ValidateNamespaceStatusUpdate: the phase follows deletionTimestamp. */
function validateStatusUpdate(object: KubeObject): FieldError[] {
  const status: unknown = object.status;
  const phase = isPlainObject(status) ? status.phase : undefined;
  const deletion: unknown = object.metadata?.deletionTimestamp;
  const deleting = deletion !== undefined && deletion !== null;
  const want = deleting ? 'Terminating' : 'Active';
  if (phase === want) return [];
  const detail = deleting ? "may only be 'Terminating' if `deletionTimestamp` is not empty" : "may only be 'Active' if `deletionTimestamp` is empty";
  return [{ type: 'FieldValueInvalid', field: 'status.Phase', value: typeof phase === 'string' ? phase : '', detail }];
}

/** namespaces/finalize (kube's namespaceFinalizeStrategy): the body's spec.finalizers and metadata are written, the stored status stays. */
const FINALIZE: UpdateSubresource = {
  prepareForUpdate: (object, old) => ({ ...object, status: old.status }),
  validate: (object) => finalizerErrors(object),
};

/**
 * kube's namespace REST Delete and ShouldDeleteNamespaceDuringUpdate: the first delete marks
 * the namespace (deletionTimestamp, status.phase Terminating); it stays while spec.finalizers
 * holds anything, and the write that empties them (with no metadata.finalizers left) removes it.
 */
const DELETION: KindDeletion = {
  markForDeletion: (object) => ({ ...object, status: { ...(isPlainObject(object.status) ? object.status : {}), phase: 'Terminating' } }),
  held: (object) => specFinalizersOf(object).length > 0,
  // kube's namespace storage answers the namespace itself, also when it removes it
  returnDeletedObject: true,
};

/** The label every namespace carries with its own name (v1.LabelMetadataName). */
const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * SetDefaults_Namespace: a namespace with a name carries the label kubernetes.io/metadata.name
 * with that name (set on every create and update, so that it cannot be changed or removed).
 * Labels that are not a map are left to decoding's refusal.
 */
function defaults(object: KubeObject): KubeObject {
  const metadata = object.metadata;
  if (!isPlainObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') return object;
  const labels: unknown = metadata.labels;
  if (labels !== undefined && labels !== null && !isPlainObject(labels)) return object;
  if (isPlainObject(labels) && labels[METADATA_NAME_LABEL] === metadata.name) return object;
  return { ...object, metadata: { ...metadata, labels: { ...(isPlainObject(labels) ? labels : {}), [METADATA_NAME_LABEL]: metadata.name } } };
}

/** printNamespace: NAME, STATUS (status.phase verbatim, "" when unset), AGE. */
function namespaceCells(object: Record<string, unknown>, now: Date): unknown[] {
  return [nameOf(object), stringField(field(object, 'status'), 'phase'), ageOf(object, now)];
}

export const NAMESPACE: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  verbs: NAMESPACE_VERBS,
  // kube's namespaces/finalize and namespaces/status, in discovery's order
  subresources: ['finalize', 'status'],
  nameValidation: 'dns1123Label',
  // kube's namespace field label conversion: metadata.name and status.phase (not metadata.namespace).
  selectableFields: {
    supported: ['metadata.name', 'status.phase'],
    values: (object: KubeObject) => {
      const status: unknown = object.status;
      const phase = isPlainObject(status) ? status.phase : undefined;
      return { 'metadata.name': metadataString(object, 'name'), 'status.phase': typeof phase === 'string' ? phase : '' };
    },
    shape: goStruct('Namespace', 'v1.Namespace', {
      status: goField.struct(goStruct('NamespaceStatus', 'v1.NamespaceStatus', { phase: goField.string('v1.NamespacePhase') })),
    }),
  },
  strategy: { defaults, prepareForCreate, prepareForUpdate, validate: finalizerErrors, generation: 'none' },
  statusStrategy: { validate: validateStatusUpdate },
  updateSubresources: { finalize: FINALIZE },
  deletion: DELETION,
  printer: { columns: Object.freeze([NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN]), cells: namespaceCells },
  schema: 'io.k8s.api.core.v1.Namespace',
};
