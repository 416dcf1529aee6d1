/**
 * ReplicaSet (apps/v1, namespaced; `status` and `scale` subresources): defaulted as kube's
 * SetDefaults_ReplicaSet, validated as the replica set strategy's Validate(Update) with the
 * selector immutable, printed as printReplicaSet.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { formatLabelSelector } from '../../../label-selector.ts';
import {
  CONTAINERS_COLUMN,
  defaultPointer,
  defaultTemplate,
  IMAGES_COLUMN,
  int,
  nonNegative,
  obj,
  replicaSetTemplateErrors,
  selectorErrors,
  selectorImmutable,
  specForDefaults,
  statusCounterErrors,
  templateContainerCells,
  templateOf,
  type StatusCounter,
} from './workload.ts';

/** SetDefaults_ReplicaSet: one replica; the pod template's defaults. */
function defaults(object: KubeObject): KubeObject {
  const spec = specForDefaults(object);
  if (spec === undefined) return object;
  defaultPointer(spec, 'replicas', 1);
  defaultTemplate(spec);
  return object;
}

/** ValidateReplicaSetSpec. */
function specErrors(object: KubeObject): FieldError[] {
  const spec = obj(object.spec);
  return [
    ...nonNegative(int(spec.replicas), 'spec.replicas'),
    ...nonNegative(int(spec.minReadySeconds), 'spec.minReadySeconds'),
    // kube's ReplicaSet validation says "deployment" here too.
    ...selectorErrors(spec.selector, 'empty selector is invalid for deployment', true),
    ...replicaSetTemplateErrors(spec.selector, obj(spec.template)),
  ];
}

/**
 * Validate, and on update what kube's strategy answers: ValidateReplicaSet and then
 * ValidateReplicaSetUpdate, which checks the spec a second time (so each spec error is listed
 * twice among the causes, as kube lists it), then the selector's immutability.
 */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = specErrors(object);
  if (old === undefined) return errors;
  return [...errors, ...specErrors(object), ...selectorImmutable(object, old)];
}

const STATUS_COUNTERS: readonly StatusCounter[] = [
  { field: 'replicas' },
  { field: 'fullyLabeledReplicas', atMost: [{ field: 'replicas', detail: 'cannot be greater than status.replicas' }] },
  { field: 'readyReplicas', atMost: [{ field: 'replicas', detail: 'cannot be greater than status.replicas' }] },
  {
    field: 'availableReplicas',
    atMost: [
      { field: 'replicas', detail: 'cannot be greater than status.replicas' },
      { field: 'readyReplicas', detail: 'cannot be greater than readyReplicas' },
    ],
  },
  { field: 'observedGeneration' },
];

/** ValidateReplicaSetStatusUpdate (metadata aside). */
function validateStatus(object: KubeObject): FieldError[] {
  return statusCounterErrors(obj(object.status), STATUS_COUNTERS);
}

const COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column(
    'Desired',
    'integer',
    'Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
  ),
  column('Current', 'integer', 'Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset'),
  column('Ready', 'integer', 'The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.'),
  AGE_COLUMN,
  CONTAINERS_COLUMN,
  IMAGES_COLUMN,
  column(
    'Selector',
    'string',
    'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    1,
  ),
]);

/** printReplicaSet: DESIRED, CURRENT and READY as numbers; SELECTOR as FormatLabelSelector prints it. */
function cells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = obj(object.spec);
  const status = obj(object.status);
  const [containers, images] = templateContainerCells(templateOf(object));
  return [nameOf(object), int(spec.replicas), int(status.replicas), int(status.readyReplicas), ageOf(object, now), containers, images, formatLabelSelector(spec.selector)];
}

export const REPLICA_SET: KindDefinition = {
  source: 'builtin',
  group: 'apps',
  version: 'v1',
  resource: 'replicasets',
  singular: 'replicaset',
  kind: 'ReplicaSet',
  listKind: 'ReplicaSetList',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['status', 'scale'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, validate, generation: 'spec' },
  statusStrategy: { validate: validateStatus },
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selectorPath: '.spec.selector' },
  printer: { columns: COLUMNS, cells },
  schema: 'io.k8s.api.apps.v1.ReplicaSet',
};
