/**
 * What the apps/v1 kinds share: reading their open JSON, kube's validation helpers of
 * pkg/apis/apps/validation (non-negative fields, int-or-percent values, the pod template of a
 * replicated workload), the comparisons of their strategies, and the container cells of their
 * printers.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { column } from '../../printing.ts';
import { containerCells, defaultPodTemplateSpec, validatePodTemplateSpec } from '../workloads/pod-spec.ts';
import { goLabelSelector, goStringMap, labelSelectorAsSelector, labelSelectorIsEmpty, selectorEmpty, selectorMatches, validateLabelSelector } from '../../../label-selector.ts';

/** A nested object, or an empty object when absent or not an object (Go's zero struct). */
export function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

/** An integer field, or 0 (Go's zero value) when absent or not a number. */
export function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Whether a field is unset (absent or null: Go's nil pointer or empty string). */
export function unset(value: unknown): boolean {
  return value === undefined || value === null;
}

/**
 * The object's spec for defaulting: created when absent (the Go struct always exists), the
 * object's own when it is an object, undefined when it is of another type (left alone).
 */
export function specForDefaults(object: KubeObject): Record<string, unknown> | undefined {
  if (unset(object.spec)) object.spec = {};
  return isPlainObject(object.spec) ? object.spec : undefined;
}

/** A nested struct for defaulting: created when absent, undefined when of another type. */
export function structForDefaults(parent: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  if (unset(parent[key])) parent[key] = {};
  const value = parent[key];
  return isPlainObject(value) ? value : undefined;
}

/**
 * The defaults of the workload's pod template (SetDefaults_PodSpec and those of its
 * containers and volumes, as kube's generated defaulters apply them to every apps kind). The
 * template and its spec are Go structs that always exist, so they are made when absent.
 */
export function defaultTemplate(spec: Record<string, unknown>): void {
  const template = structForDefaults(spec, 'template');
  if (template === undefined) return;
  structForDefaults(template, 'spec');
  defaultPodTemplateSpec(template);
}

/** Sets a pointer field (`*int32`, `*IntOrString`, ...) to `value` when it is nil. */
export function defaultPointer(parent: Record<string, unknown>, key: string, value: unknown): void {
  if (unset(parent[key])) parent[key] = value;
}

/** Sets a string field to `value` when it is empty (absent, null and "" are all Go's ""). */
export function defaultString(parent: Record<string, unknown>, key: string, value: string): void {
  if (unset(parent[key]) || parent[key] === '') parent[key] = value;
}

const IS_NEGATIVE = 'must be greater than or equal to 0';

/** ValidateNonnegativeField: an Invalid error with the value when it is below zero. */
export function nonNegative(value: number, path: string): FieldError[] {
  return value < 0 ? [{ type: 'FieldValueInvalid', field: path, value, detail: IS_NEGATIVE }] : [];
}

/** ValidateNonnegativeField of an optional (pointer) field: nothing when unset. */
export function optionalNonNegative(value: unknown, path: string): FieldError[] {
  return typeof value === 'number' ? nonNegative(value, path) : [];
}

const PERCENT = /^[0-9]+%$/;
const PERCENT_MESSAGE = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** intstr.IntOrString as JSON: a number or a string; anything else reads as the int 0. */
export type IntOrString = number | string;

export function intOrString(value: unknown): IntOrString {
  return typeof value === 'number' || typeof value === 'string' ? value : 0;
}

/** getPercentValue: the number of a valid percent string. */
function percentValue(value: IntOrString): number | undefined {
  return typeof value === 'string' && PERCENT.test(value) ? Number(value.slice(0, -1)) : undefined;
}

/** IntOrString.IntValue(): a string that is no integer counts as 0 (strconv.Atoi's failure). */
function intValue(value: IntOrString): number {
  if (typeof value === 'number') return value;
  return /^[+-]?[0-9]+$/.test(value) ? Number(value) : 0;
}

/** getIntOrPercentValue: the number of a percent string, else the integer value. */
export function intOrPercentValue(value: IntOrString): number {
  return percentValue(value) ?? intValue(value);
}

/** ValidatePositiveIntOrPercent: a percent string, or an integer of at least 0. */
export function validateIntOrPercent(value: IntOrString, path: string): FieldError[] {
  if (typeof value === 'string') return PERCENT.test(value) ? [] : [{ type: 'FieldValueInvalid', field: path, value, detail: PERCENT_MESSAGE }];
  return nonNegative(value, path);
}

/** IsNotMoreThan100Percent: a percent string above 100% is refused. */
export function notMoreThan100Percent(value: IntOrString, path: string): FieldError[] {
  const percent = percentValue(value);
  return percent !== undefined && percent > 100 ? [{ type: 'FieldValueInvalid', field: path, value, detail: 'must not be greater than 100%' }] : [];
}

/**
 * The selector checks every replicated kind shares: Required when absent (`required`: all but
 * DaemonSet), ValidateLabelSelector, and an empty selector refused with `emptyDetail`.
 */
export function selectorErrors(selector: unknown, emptyDetail: string, required: boolean): FieldError[] {
  if (unset(selector)) return required ? [{ type: 'FieldValueRequired', field: 'spec.selector', detail: '' }] : [];
  const errors = validateLabelSelector(selector, 'spec.selector');
  if (labelSelectorIsEmpty(selector)) errors.push({ type: 'FieldValueInvalid', field: 'spec.selector', value: goLabelSelector(selector), detail: emptyDetail });
  return errors;
}

/** The "`selector` does not match template `labels`" error, with the template's labels as Go prints them. */
export function selectorMismatch(template: Record<string, unknown>): FieldError {
  return {
    type: 'FieldValueInvalid',
    field: 'spec.template.metadata.labels',
    value: goStringMap(obj(template.metadata).labels),
    detail: '`selector` does not match template `labels`',
  };
}

/** Whether a selector that converts and is not empty fails to select the template's labels (the check kube makes). */
export function templateLabelsMismatch(selectorRaw: unknown, template: Record<string, unknown>): boolean {
  const selector = labelSelectorAsSelector(selectorRaw);
  return selector !== undefined && !selectorEmpty(selector) && !selectorMatches(selector, obj(template.metadata).labels);
}

/**
 * The pod template rules of every apps kind: restartPolicy must be Always, and
 * activeDeadlineSeconds is not supported (`kind` names the kind in kube's words).
 */
export function restartPolicyErrors(template: Record<string, unknown>, kind: string): FieldError[] {
  const spec = obj(template.spec);
  const errors: FieldError[] = [];
  const restartPolicy = typeof spec.restartPolicy === 'string' ? spec.restartPolicy : '';
  if (restartPolicy !== 'Always') {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', value: restartPolicy, detail: 'supported values: "Always"' });
  }
  if (!unset(spec.activeDeadlineSeconds)) {
    errors.push({ type: 'FieldValueForbidden', field: 'spec.template.spec.activeDeadlineSeconds', detail: `activeDeadlineSeconds in ${kind} is not Supported` });
  }
  return errors;
}

/**
 * ValidatePodTemplateSpecForReplicaSet, as Deployments and ReplicaSets call it after their
 * selector checks: "invalid label selector" when the selector does not convert; else the
 * template's labels must be selected (unless the selector is empty), the template must be a
 * valid pod template (ValidatePodTemplateSpec), and its restart policy and deadline are
 * checked.
 */
export function replicaSetTemplateErrors(selectorRaw: unknown, template: Record<string, unknown>): FieldError[] {
  const selector = labelSelectorAsSelector(selectorRaw);
  if (selector === undefined) return [{ type: 'FieldValueInvalid', field: 'spec.selector', value: goLabelSelector(selectorRaw), detail: 'invalid label selector' }];
  const errors: FieldError[] = [];
  if (!selectorEmpty(selector) && !selectorMatches(selector, obj(template.metadata).labels)) errors.push(selectorMismatch(template));
  errors.push(...validatePodTemplateSpec(template, 'spec.template'));
  errors.push(...restartPolicyErrors(template, 'ReplicaSet'));
  return errors;
}

/**
 * apiequality.Semantic.DeepEqual over JSON: an empty map or list equals an absent one (Go's
 * nil and empty compare equal there), as does null.
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  const blank = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
  if (blank(a) && blank(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => semanticEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!semanticEqual(a[key], b[key])) return false;
    return true;
  }
  return a === b;
}

/** ValidateImmutableField of spec.selector: "field is immutable", with the new selector. */
export function selectorImmutable(object: KubeObject, old: KubeObject): FieldError[] {
  const now = obj(object.spec).selector;
  if (semanticEqual(now, obj(old.spec).selector)) return [];
  return [{ type: 'FieldValueInvalid', field: 'spec.selector', value: goLabelSelector(now), detail: 'field is immutable' }];
}

/** One status counter that may not be negative, and the counters it may not exceed. */
export interface StatusCounter {
  readonly field: string;
  /** The counters it may not exceed, each with kube's detail, in kube's order. */
  readonly atMost?: readonly { readonly field: string; readonly detail: string }[];
  /** A pointer field: checked only when set. */
  readonly optional?: boolean;
}

/** The Validate<Kind>Status checks: counters not negative, then not above their bounds, in kube's order. */
export function statusCounterErrors(status: Record<string, unknown>, counters: readonly StatusCounter[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const c of counters) {
    if (c.optional === true) errors.push(...optionalNonNegative(status[c.field], `status.${c.field}`));
    else errors.push(...nonNegative(int(status[c.field]), `status.${c.field}`));
  }
  for (const c of counters) {
    for (const bound of c.atMost ?? []) {
      if (int(status[c.field]) > int(status[bound.field])) {
        errors.push({ type: 'FieldValueInvalid', field: `status.${c.field}`, value: int(status[c.field]), detail: bound.detail });
      }
    }
  }
  return errors;
}

/** IsDecremented of status.collisionCount: "cannot be decremented" (an unset one reads 0). */
export function collisionCountErrors(status: Record<string, unknown>, oldStatus: Record<string, unknown>): FieldError[] {
  const now = status.collisionCount;
  const before = oldStatus.collisionCount;
  const decremented = typeof before === 'number' && (typeof now !== 'number' || now < before);
  return decremented ? [{ type: 'FieldValueInvalid', field: 'status.collisionCount', value: int(now), detail: 'cannot be decremented' }] : [];
}

/** The wide columns every apps printer ends with (priority 1). */
export const CONTAINERS_COLUMN = column('Containers', 'string', 'Names of each container in the template.', 1);
export const IMAGES_COLUMN = column('Images', 'string', 'Images referenced by each container in the template.', 1);

/** layoutContainerCells: the template's container names and images, each joined by commas. */
export function templateContainerCells(template: Record<string, unknown>): [string, string] {
  return containerCells(template.spec);
}

/** The pod template of a workload spec (the Go struct always exists). */
export function templateOf(object: Record<string, unknown>): Record<string, unknown> {
  return obj(obj(object.spec).template);
}
