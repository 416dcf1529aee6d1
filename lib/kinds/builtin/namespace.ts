/**
 * Namespace (core/v1, cluster-scoped): starts Active with the "kubernetes" finalizer, selectable
 * by status.phase, printed as kube's printNamespace.
 */
import { isPlainObject, type KubeObject } from '../../kube.ts';
import { goField, goStruct } from '../../object-meta.ts';
import { metadataString } from '../../selectors.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN, stringField } from '../printing.ts';
import type { KindDefinition } from '../types.ts';
import { NAMESPACE_VERBS } from './common.ts';

/** namespaceStrategy.PrepareForCreate: the status is replaced, and spec.finalizers holds "kubernetes". */
function prepareForCreate(object: KubeObject): KubeObject {
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const finalizers = Array.isArray(spec.finalizers) ? (spec.finalizers as unknown[]) : [];
  return {
    ...object,
    status: { phase: 'Active' },
    spec: { ...spec, finalizers: finalizers.includes('kubernetes') ? finalizers : [...finalizers, 'kubernetes'] },
  };
}

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
  subresources: [],
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
  strategy: { defaults, prepareForCreate, generation: 'allButMetadataAndStatus' },
  printer: { columns: Object.freeze([NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN]), cells: namespaceCells },
  schema: 'io.k8s.api.core.v1.Namespace',
};
