/**
 * metav1.LabelSelector as the workload kinds use it: its validation
 * (ValidateLabelSelector), whether it selects a set of labels (LabelSelectorAsSelector then
 * Matches), and its text in tables (FormatLabelSelector).
 */
import type { FieldError } from '../../../errors.ts';
import { isQualifiedName, isValidLabelValue, validateLabels } from '../../../validation/names.ts';
import { child, forbidden, index, invalid, list, obj, objectAt, required, sortStrings, str } from './fields.ts';

/** One requirement of a selector, as labels.Requirement holds it. */
interface Requirement {
  key: string;
  operator: 'in' | 'notin' | 'exists' | '!' | '=';
  values: string[];
}

/**
 * LabelSelectorAsSelector: the requirements of a selector, sorted by key; 'nothing' for an
 * absent (nil) selector, which selects nothing; undefined when a requirement is invalid (kube
 * returns an error).
 */
function requirements(selector: unknown): Requirement[] | 'nothing' | undefined {
  const s = objectAt(selector);
  if (s === undefined) return 'nothing';
  const out: Requirement[] = [];
  for (const [k, v] of Object.entries(obj(s['matchLabels']))) {
    const value = str(v);
    if (isQualifiedName(k).length > 0 || isValidLabelValue(value).length > 0) return undefined;
    out.push({ key: k, operator: '=', values: [value] });
  }
  for (const raw of list(s['matchExpressions'])) {
    const e = obj(raw);
    const k = str(e['key']);
    const values = list(e['values']).map(str);
    const op = str(e['operator']);
    let operator: Requirement['operator'];
    if (op === 'In') operator = 'in';
    else if (op === 'NotIn') operator = 'notin';
    else if (op === 'Exists') operator = 'exists';
    else if (op === 'DoesNotExist') operator = '!';
    else return undefined;
    if (isQualifiedName(k).length > 0) return undefined;
    if ((operator === 'in' || operator === 'notin') && values.length === 0) return undefined;
    if ((operator === 'exists' || operator === '!') && values.length > 0) return undefined;
    if (values.some((v) => isValidLabelValue(v).length > 0)) return undefined;
    out.push({ key: k, operator, values });
  }
  // sort.Sort(ByKey): the order of requirements with the same key is not kube's to promise.
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Whether `selector` selects an object with `labels`: an absent selector selects nothing, an
 * empty one everything; undefined when the selector is invalid (kube then skips its check).
 */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean | undefined {
  const reqs = requirements(selector);
  if (reqs === undefined) return undefined;
  if (reqs === 'nothing') return false;
  return reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key] ?? '';
    switch (r.operator) {
      case '=':
      case 'in':
        return has && r.values.includes(value);
      case 'notin':
        return !has || !r.values.includes(value);
      case 'exists':
        return has;
      case '!':
        return !has;
    }
  });
}

/** metav1.FormatLabelSelector: the selector's text, "<none>" when it selects everything or nothing, "<error>" when invalid. */
export function formatLabelSelector(selector: unknown): string {
  const reqs = requirements(selector);
  if (reqs === undefined) return '<error>';
  if (reqs === 'nothing' || reqs.length === 0) return '<none>';
  return reqs
    .map((r) => {
      const values = r.values.length === 1 ? (r.values[0] ?? '') : sortStrings(r.values).join(',');
      switch (r.operator) {
        case '=':
          return `${r.key}=${values}`;
        case 'in':
          return `${r.key} in (${values})`;
        case 'notin':
          return `${r.key} notin (${values})`;
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
      }
    })
    .join(',');
}

/** unversioned ValidateLabelSelector: label syntax, operators and their values. */
export function validateLabelSelector(selector: unknown, path: string): FieldError[] {
  const s = objectAt(selector);
  if (s === undefined) return [];
  const errors: FieldError[] = [];
  const matchLabels = objectAt(s['matchLabels']);
  if (matchLabels !== undefined) errors.push(...validateLabels(matchLabels, child(path, 'matchLabels')));
  list(s['matchExpressions']).forEach((raw, i) => {
    const e = obj(raw);
    const at = index(child(path, 'matchExpressions'), i);
    const operator = str(e['operator']);
    const values = list(e['values']);
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) errors.push(required(child(at, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) errors.push(forbidden(child(at, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else errors.push(invalid(child(at, 'operator'), operator, 'not a valid selector operator'));
    const k = str(e['key']);
    for (const msg of isQualifiedName(k)) errors.push(invalid(child(at, 'key'), k, msg));
    values.forEach((value, j) => {
      for (const msg of isValidLabelValue(str(value))) errors.push(invalid(index(child(at, 'values'), j), str(value), msg));
    });
  });
  return errors;
}
