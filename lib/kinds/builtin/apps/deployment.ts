/**
 * Deployment (apps/v1, namespaced; `status` and `scale` subresources): defaulted as kube's
 * SetDefaults_Deployment, validated as ValidateDeployment(Update) with the selector immutable,
 * printed as printDeployment.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { labelSelectorAsSelector, selectorString } from '../../../label-selector.ts';
import {
  collisionCountErrors,
  CONTAINERS_COLUMN,
  defaultPointer,
  defaultTemplate,
  defaultString,
  IMAGES_COLUMN,
  int,
  intOrPercentValue,
  intOrString,
  nonNegative,
  notMoreThan100Percent,
  obj,
  optionalNonNegative,
  replicaSetTemplateErrors,
  selectorErrors,
  selectorImmutable,
  specForDefaults,
  statusCounterErrors,
  structForDefaults,
  templateContainerCells,
  templateOf,
  unset,
  validateIntOrPercent,
  type StatusCounter,
} from './workload.ts';

/**
 * SetDefaults_Deployment: one replica, the RollingUpdate strategy with 25% unavailable and 25%
 * surge, ten revisions kept, a 600 s progress deadline; the pod template's defaults.
 */
function defaults(object: KubeObject): KubeObject {
  const spec = specForDefaults(object);
  if (spec === undefined) return object;
  defaultPointer(spec, 'replicas', 1);
  const strategy = structForDefaults(spec, 'strategy');
  if (strategy !== undefined) {
    defaultString(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rollingUpdate = structForDefaults(strategy, 'rollingUpdate');
      if (rollingUpdate !== undefined) {
        defaultPointer(rollingUpdate, 'maxUnavailable', '25%');
        defaultPointer(rollingUpdate, 'maxSurge', '25%');
      }
    }
  }
  defaultPointer(spec, 'revisionHistoryLimit', 10);
  defaultPointer(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
  return object;
}

/**
 * The internal apps.DeploymentStrategy as Go's encoding/json writes it (no json tags: Go's
 * field names), the value kube shows for an unsupported strategy type.
 */
function internalStrategy(strategy: Record<string, unknown>): unknown {
  const rollingUpdate = unset(strategy.rollingUpdate)
    ? null
    : { MaxUnavailable: intOrString(obj(strategy.rollingUpdate).maxUnavailable), MaxSurge: intOrString(obj(strategy.rollingUpdate).maxSurge) };
  return { Type: typeof strategy.type === 'string' ? strategy.type : '', RollingUpdate: rollingUpdate };
}

/** ValidateDeploymentStrategy. */
function strategyErrors(strategy: Record<string, unknown>): FieldError[] {
  switch (strategy.type) {
    case 'Recreate':
      return unset(strategy.rollingUpdate)
        ? []
        : [{ type: 'FieldValueForbidden', field: 'spec.strategy.rollingUpdate', detail: "may not be specified when strategy `type` is 'Recreate'" }];
    case 'RollingUpdate': {
      if (unset(strategy.rollingUpdate)) return [{ type: 'FieldValueRequired', field: 'spec.strategy.rollingUpdate', detail: 'this should be defaulted and never be nil' }];
      const rollingUpdate = obj(strategy.rollingUpdate);
      const maxUnavailable = intOrString(rollingUpdate.maxUnavailable);
      const maxSurge = intOrString(rollingUpdate.maxSurge);
      const at = 'spec.strategy.rollingUpdate';
      const errors = [...validateIntOrPercent(maxUnavailable, `${at}.maxUnavailable`), ...validateIntOrPercent(maxSurge, `${at}.maxSurge`)];
      if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0) {
        errors.push({ type: 'FieldValueInvalid', field: `${at}.maxUnavailable`, value: maxUnavailable, detail: 'may not be 0 when `maxSurge` is 0' });
      }
      errors.push(...notMoreThan100Percent(maxUnavailable, `${at}.maxUnavailable`));
      return errors;
    }
    default:
      return [{ type: 'FieldValueNotSupported', field: 'spec.strategy', value: internalStrategy(strategy), detail: 'supported values: "Recreate", "RollingUpdate"' }];
  }
}

/** ValidateDeploymentSpec, then (on update) the selector's immutability, as the strategy adds it. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj(object.spec);
  const errors: FieldError[] = [...nonNegative(int(spec.replicas), 'spec.replicas')];
  errors.push(...selectorErrors(spec.selector, 'empty selector is invalid for deployment', true));
  errors.push(...replicaSetTemplateErrors(spec.selector, obj(spec.template)));
  errors.push(...strategyErrors(obj(spec.strategy)));
  errors.push(...nonNegative(int(spec.minReadySeconds), 'spec.minReadySeconds'));
  errors.push(...optionalNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const deadline = spec.progressDeadlineSeconds;
  if (typeof deadline === 'number') {
    errors.push(...nonNegative(deadline, 'spec.progressDeadlineSeconds'));
    if (deadline <= int(spec.minReadySeconds)) {
      errors.push({ type: 'FieldValueInvalid', field: 'spec.progressDeadlineSeconds', value: deadline, detail: 'must be greater than minReadySeconds' });
    }
  }
  if (old !== undefined) errors.push(...selectorImmutable(object, old));
  return errors;
}

const STATUS_COUNTERS: readonly StatusCounter[] = [
  { field: 'observedGeneration' },
  { field: 'replicas' },
  { field: 'updatedReplicas', atMost: [{ field: 'replicas', detail: 'cannot be greater than status.replicas' }] },
  { field: 'readyReplicas', atMost: [{ field: 'replicas', detail: 'cannot be greater than status.replicas' }] },
  {
    field: 'availableReplicas',
    atMost: [
      { field: 'replicas', detail: 'cannot be greater than status.replicas' },
      { field: 'readyReplicas', detail: 'cannot be greater than readyReplicas' },
    ],
  },
  { field: 'unavailableReplicas' },
  { field: 'collisionCount', optional: true },
];

/** ValidateDeploymentStatusUpdate (metadata aside): the counters, and collisionCount never going down. */
function validateStatus(object: KubeObject, old: KubeObject): FieldError[] {
  const status = obj(object.status);
  return [...statusCounterErrors(status, STATUS_COUNTERS), ...collisionCountErrors(status, obj(old.status))];
}

/** deploymentStatusStrategy.PrepareForUpdate: a status write cannot change the labels either. */
function prepareStatusUpdate(object: KubeObject, old: KubeObject): KubeObject {
  const metadata = { ...(object.metadata ?? {}) };
  if (old.metadata?.labels === undefined) delete metadata.labels;
  else metadata.labels = old.metadata.labels;
  return { ...object, metadata };
}

const COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Ready', 'string', 'Number of the pod with ready state'),
  column('Up-to-date', 'string', 'Total number of non-terminating pods targeted by this deployment that have the desired template spec.'),
  column('Available', 'string', 'Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.'),
  AGE_COLUMN,
  CONTAINERS_COLUMN,
  IMAGES_COLUMN,
  column('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
]);

/** printDeployment: READY is ready/desired replicas; SELECTOR "<invalid>" when it does not convert. */
function cells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = obj(object.spec);
  const status = obj(object.status);
  const selector = labelSelectorAsSelector(spec.selector);
  const [containers, images] = templateContainerCells(templateOf(object));
  return [
    nameOf(object),
    `${int(status.readyReplicas)}/${int(spec.replicas)}`,
    int(status.updatedReplicas),
    int(status.availableReplicas),
    ageOf(object, now),
    containers,
    images,
    selector === undefined ? '<invalid>' : selectorString(selector),
  ];
}

export const DEPLOYMENT: KindDefinition = {
  source: 'builtin',
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  singular: 'deployment',
  kind: 'Deployment',
  listKind: 'DeploymentList',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['status', 'scale'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, validate, generation: 'spec' },
  statusStrategy: { prepareForUpdate: prepareStatusUpdate, validate: validateStatus },
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selectorPath: '.spec.selector' },
  printer: { columns: COLUMNS, cells },
  schema: 'io.k8s.api.apps.v1.Deployment',
};
