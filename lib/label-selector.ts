/**
 * metav1.LabelSelector (`matchLabels`, `matchExpressions`) as kube reads it, for every kind that
 * has one: its conversion to a labels.Selector (LabelSelectorAsSelector, with kube's error
 * texts), that selector's matching and String() form (the requirements sorted by key, `a=b`,
 * `a in (b,c)`, `a notin (b)`, `a`, `!a`, joined by commas: what a Scale's status.selector
 * carries), its validation (ValidateLabelSelector), and the printing helpers of kube's table
 * printers (FormatLabelSelector, labels.FormatLabels).
 *
 * Objects here are open JSON that passed typed decoding, but every read is guarded all the
 * same: a missing or mistyped field reads as its Go zero value.
 */
import type { FieldError } from './errors.ts';
import { isPlainObject } from './kube.ts';
import { compareCodePoints } from './kinds/printing.ts';
import { isQualifiedName, isValidLabelValue, validateLabels } from './validation/names.ts';

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

/** labels.NewRequirement's checks, in its words; undefined when the requirement is valid. */
function requirementError(r: Requirement): string | undefined {
  const errors: string[] = [];
  for (const problem of isQualifiedName(r.key)) errors.push(`key: Invalid value: ${JSON.stringify(r.key)}: ${problem}`);
  if ((r.operator === 'In' || r.operator === 'NotIn') && r.values.length === 0) errors.push("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && r.values.length !== 0) {
    errors.push(`values: Invalid value: ${JSON.stringify(r.values)}: values set must be empty for exists and does not exist`);
  }
  r.values.forEach((v, i) => {
    const problems = isValidLabelValue(v);
    if (problems.length > 0) errors.push(`values[${i}][${r.key}]: Invalid value: ${JSON.stringify(v)}: ${problems.join('; ')}`);
  });
  if (errors.length === 0) return undefined;
  return errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
}

/**
 * LabelSelectorAsSelector of a LabelSelector as JSON (absent or null is nil), or kube's error
 * text for the first requirement it refuses (an unknown operator, an invalid key or value, an
 * In without values, an Exists with values). Requirements are kept sorted by key, as
 * labels.Selector.Add keeps them.
 */
export function convertLabelSelector(raw: unknown): Selector | { error: string } {
  if (raw === undefined || raw === null) return { kind: 'nothing' };
  const selector = isPlainObject(raw) ? raw : {};
  const matchLabels = stringMap(selector.matchLabels);
  const exprs = expressions(selector);
  if (Object.keys(matchLabels).length + exprs.length === 0) return { kind: 'everything' };
  const requirements: Requirement[] = [];
  const add = (r: Requirement): string | undefined => {
    const error = requirementError(r);
    if (error === undefined) requirements.push(r);
    return error;
  };
  for (const [key, value] of Object.entries(matchLabels)) {
    const error = add({ key, operator: 'Equals', values: [value] });
    if (error !== undefined) return { error };
  }
  for (const expr of exprs) {
    const name = typeof expr.operator === 'string' ? expr.operator : '';
    const operator = Object.hasOwn(OPERATORS, name) ? OPERATORS[name] : undefined;
    if (operator === undefined) return { error: `${JSON.stringify(name)} is not a valid label selector operator` };
    const error = add({ key: typeof expr.key === 'string' ? expr.key : '', operator, values: stringList(expr.values) });
    if (error !== undefined) return { error };
  }
  // A stable sort by key, byte order (Go's string comparison).
  requirements.sort((a, b) => compareCodePoints(a.key, b.key));
  return { kind: 'requirements', requirements };
}

/** LabelSelectorAsSelector: undefined where kube answers an error (see {@link convertLabelSelector}). */
export function labelSelectorAsSelector(raw: unknown): Selector | undefined {
  const selector = convertLabelSelector(raw);
  return 'error' in selector ? undefined : selector;
}

/** Whether metav1.LabelSelectorAsSelector refuses the selector (an invalid key, value or operator). */
export function labelSelectorInvalid(raw: unknown): boolean {
  return 'error' in convertLabelSelector(raw);
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

/**
 * Whether the LabelSelector `raw` selects an object with `labels`: a nil selector selects
 * nothing, an empty one everything; undefined when it does not convert (kube then skips its check).
 */
export function labelSelectorMatches(raw: unknown, labels: unknown): boolean | undefined {
  const selector = labelSelectorAsSelector(raw);
  return selector === undefined ? undefined : selectorMatches(selector, labels);
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

/** metav1.FormatLabelSelector: the selector's string, "<none>" when empty or nil, "<error>" when it does not convert. */
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
 * metav1validation.ValidateLabelSelector: matchLabels as labels, then each expression's
 * operator and value count, key, and values (label values unless `allowInvalidLabelValue`,
 * which kube's update validation sets when the stored object already had invalid ones).
 * Nothing for an absent selector.
 */
export function validateLabelSelector(raw: unknown, path: string, allowInvalidLabelValue = false): FieldError[] {
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
    if (allowInvalidLabelValue) return;
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
