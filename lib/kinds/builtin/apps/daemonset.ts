/**
 * DaemonSet (apps/v1, namespaced; `status` subresource): defaulted as kube's
 * SetDefaults_DaemonSet, validated as the daemon set strategy's Validate(Update) with the
 * selector immutable, printed as printDaemonSet. Its template generation is kept, as apps/v1
 * shows it, in the `deprecated.daemonset.template.generation` annotation: 1 on create, one
 * more on each update that changes the pod template, never what a client writes there.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { validatePodTemplateSpec } from '../workloads/pod-spec.ts';
import { formatLabels, formatLabelSelector, goLabelSelector, labelSelectorAsSelector, labelSelectorIsEmpty, selectorMatches, validateLabelSelector } from '../../../label-selector.ts';
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
  restartPolicyErrors,
  selectorImmutable,
  selectorMismatch,
  semanticEqual,
  specForDefaults,
  statusCounterErrors,
  structForDefaults,
  templateContainerCells,
  templateOf,
  unset,
  validateIntOrPercent,
  type StatusCounter,
} from './workload.ts';

/** appsv1.DeprecatedTemplateGeneration: where apps/v1 carries the internal spec.templateGeneration. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/** SetDefaults_DaemonSet: the RollingUpdate strategy, one pod unavailable and none surging; ten revisions kept; the pod template's defaults. */
function defaults(object: KubeObject): KubeObject {
  const spec = specForDefaults(object);
  if (spec === undefined) return object;
  const strategy = structForDefaults(spec, 'updateStrategy');
  if (strategy !== undefined) {
    defaultString(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rollingUpdate = structForDefaults(strategy, 'rollingUpdate');
      if (rollingUpdate !== undefined) {
        defaultPointer(rollingUpdate, 'maxUnavailable', 1);
        defaultPointer(rollingUpdate, 'maxSurge', 0);
      }
    }
  }
  defaultPointer(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
  return object;
}

/** The template generation an object carries (0 when it has none, or none that reads as an integer). */
function templateGeneration(object: KubeObject): number {
  const value = object.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return typeof value === 'string' && /^[+-]?[0-9]+$/.test(value) ? Number(value) : 0;
}

function withTemplateGeneration(object: KubeObject, generation: number): KubeObject {
  const annotations = { ...(object.metadata?.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(generation) };
  return { ...object, metadata: { ...(object.metadata ?? {}), annotations } };
}

/** PrepareForCreate: the template generation starts at 1 (a larger one sent is kept, as kube keeps it). */
function prepareForCreate(object: KubeObject): KubeObject {
  return withTemplateGeneration(object, Math.max(templateGeneration(object), 1));
}

/** PrepareForUpdate: the stored template generation, one more when the pod template changed. */
function prepareForUpdate(object: KubeObject, old: KubeObject): KubeObject {
  const changed = !semanticEqual(obj(object.spec).template, obj(old.spec).template);
  return withTemplateGeneration(object, templateGeneration(old) + (changed ? 1 : 0));
}

/** A status write keeps the spec, and with it the template generation. */
function prepareStatusUpdate(object: KubeObject, old: KubeObject): KubeObject {
  return withTemplateGeneration(object, templateGeneration(old));
}

/** The internal DaemonSetUpdateStrategy as Go's encoding/json writes it (Go's field names). */
function internalStrategy(strategy: Record<string, unknown>): unknown {
  const rollingUpdate = unset(strategy.rollingUpdate)
    ? null
    : { MaxUnavailable: intOrString(obj(strategy.rollingUpdate).maxUnavailable), MaxSurge: intOrString(obj(strategy.rollingUpdate).maxSurge) };
  return { Type: typeof strategy.type === 'string' ? strategy.type : '', RollingUpdate: rollingUpdate };
}

/** ValidateDaemonSetUpdateStrategy with ValidateRollingUpdateDaemonSet: exactly one of maxUnavailable and maxSurge non-zero. */
function updateStrategyErrors(strategy: Record<string, unknown>): FieldError[] {
  const at = 'spec.updateStrategy';
  switch (strategy.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      if (unset(strategy.rollingUpdate)) return [{ type: 'FieldValueRequired', field: `${at}.rollingUpdate`, detail: '' }];
      const rollingUpdate = obj(strategy.rollingUpdate);
      const maxUnavailable = intOrString(rollingUpdate.maxUnavailable);
      const maxSurge = intOrString(rollingUpdate.maxSurge);
      const errors = [
        ...validateIntOrPercent(maxUnavailable, `${at}.rollingUpdate.maxUnavailable`),
        ...validateIntOrPercent(maxSurge, `${at}.rollingUpdate.maxSurge`),
        ...notMoreThan100Percent(maxUnavailable, `${at}.rollingUpdate.maxUnavailable`),
        ...notMoreThan100Percent(maxSurge, `${at}.rollingUpdate.maxSurge`),
      ];
      const hasUnavailable = intOrPercentValue(maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(maxSurge) !== 0;
      if (hasUnavailable && hasSurge) {
        errors.push({ type: 'FieldValueInvalid', field: `${at}.rollingUpdate.maxSurge`, value: maxSurge, detail: 'may not be set when maxUnavailable is non-zero' });
      } else if (!hasUnavailable && !hasSurge) {
        errors.push({ type: 'FieldValueRequired', field: `${at}.rollingUpdate.maxUnavailable`, detail: 'cannot be 0 when maxSurge is 0' });
      }
      return errors;
    }
    default:
      return [{ type: 'FieldValueNotSupported', field: at, value: internalStrategy(strategy), detail: 'supported values: "RollingUpdate", "OnDelete"' }];
  }
}

/**
 * ValidateDaemonSetSpec. Unlike the other apps kinds a selector may be absent here, but then
 * it selects nothing, so the template's labels do not match it.
 */
function specErrors(object: KubeObject): FieldError[] {
  const spec = obj(object.spec);
  const template = obj(spec.template);
  const errors = validateLabelSelector(spec.selector, 'spec.selector');
  const selector = labelSelectorAsSelector(spec.selector);
  if (selector !== undefined && !selectorMatches(selector, obj(template.metadata).labels)) errors.push(selectorMismatch(template));
  if (!unset(spec.selector) && labelSelectorIsEmpty(spec.selector)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.selector', value: goLabelSelector(spec.selector), detail: 'empty selector is invalid for daemonset' });
  }
  errors.push(...validatePodTemplateSpec(template, 'spec.template'));
  errors.push(...restartPolicyErrors(template, 'DaemonSet'));
  errors.push(...nonNegative(int(spec.minReadySeconds), 'spec.minReadySeconds'));
  errors.push(...updateStrategyErrors(obj(spec.updateStrategy)));
  errors.push(...optionalNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errors;
}

/**
 * Validate, and on update what kube's strategy answers: ValidateDaemonSet and then
 * ValidateDaemonSetUpdate, which checks the spec a second time (each spec error is listed
 * twice among the causes, as kube lists it), then the selector's immutability.
 */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = specErrors(object);
  if (old === undefined) return errors;
  return [...errors, ...specErrors(object), ...selectorImmutable(object, old)];
}

const STATUS_COUNTERS: readonly StatusCounter[] = [
  { field: 'currentNumberScheduled' },
  { field: 'numberMisscheduled' },
  { field: 'desiredNumberScheduled' },
  { field: 'numberReady' },
  { field: 'observedGeneration' },
  { field: 'updatedNumberScheduled' },
  { field: 'numberAvailable' },
  { field: 'numberUnavailable' },
  { field: 'collisionCount', optional: true },
];

/** ValidateDaemonSetStatusUpdate (metadata aside). */
function validateStatus(object: KubeObject, old: KubeObject): FieldError[] {
  const status = obj(object.status);
  return [...statusCounterErrors(status, STATUS_COUNTERS), ...collisionCountErrors(status, obj(old.status))];
}

const DAEMONSET_DOCS = 'More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/';

const COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Desired', 'integer', `The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). ${DAEMONSET_DOCS}`),
  column('Current', 'integer', `The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. ${DAEMONSET_DOCS}`),
  column('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
  column('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
  column(
    'Available',
    'integer',
    'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
  ),
  column(
    'Node Selector',
    'string',
    "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
  ),
  AGE_COLUMN,
  CONTAINERS_COLUMN,
  IMAGES_COLUMN,
  column(
    'Selector',
    'string',
    'A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    1,
  ),
]);

/** printDaemonSet: the five counters, the template's node selector ("<none>" when empty), then the wide cells. */
function cells(object: Record<string, unknown>, now: Date): unknown[] {
  const status = obj(object.status);
  const template = templateOf(object);
  const [containers, images] = templateContainerCells(template);
  return [
    nameOf(object),
    int(status.desiredNumberScheduled),
    int(status.currentNumberScheduled),
    int(status.numberReady),
    int(status.updatedNumberScheduled),
    int(status.numberAvailable),
    formatLabels(obj(template.spec).nodeSelector),
    ageOf(object, now),
    containers,
    images,
    formatLabelSelector(obj(object.spec).selector),
  ];
}

export const DAEMON_SET: KindDefinition = {
  source: 'builtin',
  group: 'apps',
  version: 'v1',
  resource: 'daemonsets',
  singular: 'daemonset',
  kind: 'DaemonSet',
  listKind: 'DaemonSetList',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, prepareForCreate, prepareForUpdate, validate, generation: 'spec' },
  statusStrategy: { prepareForUpdate: prepareStatusUpdate, validate: validateStatus },
  printer: { columns: COLUMNS, cells },
  schema: 'io.k8s.api.apps.v1.DaemonSet',
};
