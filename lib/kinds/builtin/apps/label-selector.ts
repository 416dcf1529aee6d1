/**
 * metav1.LabelSelector (the `spec.selector` of the apps kinds) as kube reads it: its
 * conversion to a labels.Selector (LabelSelectorAsSelector) with that selector's matching and
 * printed form, its validation (ValidateLabelSelector), and the printing helpers of kube's
 * table printers (FormatLabelSelector, labels.FormatLabels).
 *
 * Objects here are open JSON that passed typed decoding, but every read is guarded all the
 * same: a missing or mistyped field reads as its Go zero value.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject } from '../../../kube.ts';
import { isQualifiedName, isValidLabelValue, validateLabels } from '../../../validation/names.ts';
import { compareCodePoints } from '../../printing.ts';

type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals';

interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

/**
 * A labels.Selector made from a LabelSelector: 'nothing' (a nil selector: matches no labels),
 * 'everything' (an empty one: matches every label set), or requirements that must all hold.
 */
export type Selector =
  | { readonly kind: 'nothing' }
  | { readonly kind: 'everything' }
  | { readonly kind: 'requirements'; readonly requirements: readonly Requirement[] };

const OPERATORS: Readonly<Record<string, Operator>> = { In: 'In', NotIn: 'NotIn', Exists: 'Exists', DoesNotExist: 'DoesNotExist' };

function stringMap(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function expressions(selector: Record<string, unknown>): Record<string, unknown>[] {
  const list = selector.matchExpressions;
  return Array.isArray(list) ? list.map((e) => (isPlainObject(e) ? e : {})) : [];
}

/** Whether labels.NewRequirement accepts the requirement (its key, operator arity and values). */
function requirementValid(key: string, operator: Operator, values: readonly string[]): boolean {
  if (isQualifiedName(key).length > 0) return false;
  if ((operator === 'In' || operator === 'NotIn') && values.length === 0) return false;
  if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) return false;
  return values.every((v) => isValidLabelValue(v).length === 0);
}

/**
 * LabelSelectorAsSelector: undefined where kube answers an error (an unknown operator, an
 * invalid key or value, an In without values, an Exists with values). Requirements are kept
 * sorted by key, as labels.Selector.Add keeps them.
 */
export function labelSelectorAsSelector(raw: unknown): Selector | undefined {
  if (raw === undefined || raw === null) return { kind: 'nothing' };
  const selector = isPlainObject(raw) ? raw : {};
  const matchLabels = stringMap(selector.matchLabels);
  const exprs = expressions(selector);
  if (Object.keys(matchLabels).length + exprs.length === 0) return { kind: 'everything' };
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(matchLabels)) {
    if (!requirementValid(key, 'Equals', [value])) return undefined;
    requirements.push({ key, operator: 'Equals', values: [value] });
  }
  for (const expr of exprs) {
    const operator = typeof expr.operator === 'string' && Object.hasOwn(OPERATORS, expr.operator) ? OPERATORS[expr.operator] : undefined;
    if (operator === undefined) return undefined;
    const key = typeof expr.key === 'string' ? expr.key : '';
    const values = stringList(expr.values);
    if (!requirementValid(key, operator, values)) return undefined;
    requirements.push({ key, operator, values });
  }
  // A stable sort by key, byte order (Go's string comparison).
  requirements.sort((a, b) => compareCodePoints(a.key, b.key));
  return { kind: 'requirements', requirements };
}

/** labels.Selector.Empty(): only the selector of an empty LabelSelector is empty (a nil one is Nothing, not empty). */
export function selectorEmpty(selector: Selector): boolean {
  return selector.kind === 'everything';
}

/** labels.Selector.Matches for a label set (values that are not strings are no labels). */
export function selectorMatches(selector: Selector, labels: unknown): boolean {
  if (selector.kind === 'nothing') return false;
  if (selector.kind === 'everything') return true;
  const set = stringMap(labels);
  return selector.requirements.every((r) => {
    const has = Object.hasOwn(set, r.key);
    const value = set[r.key] ?? '';
    switch (r.operator) {
      case 'Equals':
      case 'In':
        return has && r.values.includes(value);
      case 'NotIn':
        return !has || !r.values.includes(value);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

/** labels.Requirement.String(): `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; several values sorted. */
function requirementString(r: Requirement): string {
  const values = r.values.length === 1 ? (r.values[0] ?? '') : [...r.values].sort(compareCodePoints).join(',');
  switch (r.operator) {
    case 'Equals':
      return `${r.key}=${values}`;
    case 'In':
      return `${r.key} in (${values})`;
    case 'NotIn':
      return `${r.key} notin (${values})`;
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
  }
}

/** labels.Selector.String(): the requirements joined by commas; "" for Nothing and Everything. */
export function selectorString(selector: Selector): string {
  return selector.kind === 'requirements' ? selector.requirements.map(requirementString).join(',') : '';
}

/** metav1.FormatLabelSelector: the selector's string, "<none>" when empty, "<error>" when it does not convert. */
export function formatLabelSelector(raw: unknown): string {
  const selector = labelSelectorAsSelector(raw);
  if (selector === undefined) return '<error>';
  const text = selectorString(selector);
  return text === '' ? '<none>' : text;
}

/** labels.FormatLabels: `k=v` pairs sorted by key and joined by commas, "<none>" when there are none. */
export function formatLabels(labels: unknown): string {
  const set = stringMap(labels);
  const keys = Object.keys(set).sort(compareCodePoints);
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${set[k]}`).join(',');
}

/** Whether a LabelSelector has neither matchLabels nor matchExpressions. */
export function labelSelectorIsEmpty(raw: unknown): boolean {
  const selector = isPlainObject(raw) ? raw : {};
  return Object.keys(stringMap(selector.matchLabels)).length + expressions(selector).length === 0;
}

/**
 * ValidateLabelSelector (strict: label values in expressions must be valid): matchLabels as
 * labels, then each expression's operator and value count, key, and values. Nothing for an
 * absent selector.
 */
export function validateLabelSelector(raw: unknown, path: string): FieldError[] {
  if (!isPlainObject(raw)) return [];
  const errors: FieldError[] = [];
  if (isPlainObject(raw.matchLabels)) errors.push(...validateLabels(raw.matchLabels, `${path}.matchLabels`));
  expressions(raw).forEach((expr, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const values = stringList(expr.values);
    const operator = typeof expr.operator === 'string' ? expr.operator : '';
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) errors.push({ type: 'FieldValueRequired', field: `${at}.values`, detail: "must be specified when `operator` is 'In' or 'NotIn'" });
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) errors.push({ type: 'FieldValueForbidden', field: `${at}.values`, detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'" });
    } else {
      errors.push({ type: 'FieldValueInvalid', field: `${at}.operator`, value: operator, detail: 'not a valid selector operator' });
    }
    const key = typeof expr.key === 'string' ? expr.key : '';
    for (const detail of isQualifiedName(key)) errors.push({ type: 'FieldValueInvalid', field: `${at}.key`, value: key, detail });
    values.forEach((value, j) => {
      for (const detail of isValidLabelValue(value)) errors.push({ type: 'FieldValueInvalid', field: `${at}.values[${j}]`, value, detail });
    });
  });
  return errors;
}

/** A map[string]string as Go's encoding/json writes it: keys sorted, null when absent. */
export function goStringMap(raw: unknown): Record<string, string> | null {
  if (!isPlainObject(raw)) return null;
  const set = stringMap(raw);
  const out: Record<string, string> = {};
  for (const key of Object.keys(set).sort(compareCodePoints)) out[key] = set[key] ?? '';
  return out;
}

/**
 * A *metav1.LabelSelector as Go's encoding/json writes it (the value field errors show):
 * null when absent, empty lists and maps left out (omitempty), map keys sorted.
 */
export function goLabelSelector(raw: unknown): unknown {
  if (raw === undefined || raw === null) return null;
  const selector = isPlainObject(raw) ? raw : {};
  const out: Record<string, unknown> = {};
  const matchLabels = goStringMap(selector.matchLabels);
  if (matchLabels !== null && Object.keys(matchLabels).length > 0) out.matchLabels = matchLabels;
  const exprs = expressions(selector);
  if (exprs.length > 0) {
    out.matchExpressions = exprs.map((e) => {
      const values = stringList(e.values);
      const requirement: Record<string, unknown> = { key: typeof e.key === 'string' ? e.key : '', operator: typeof e.operator === 'string' ? e.operator : '' };
      if (values.length > 0) requirement.values = values;
      return requirement;
    });
  }
  return out;
}
