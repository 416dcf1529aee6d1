/**
 * Label and field selectors with kube's syntax and semantics
 * (k8s.io/apimachinery/pkg/labels and pkg/fields).
 *
 * Labels: `a=b`, `a==b`, `a!=b`, `a in (b,c)`, `a notin (b,c)`, `a`, `!a`, joined by commas
 * (all must hold). `a!=b` and `notin` also match objects without the label.
 * Fields: `f=v`, `f==v`, `f!=v`, joined by commas, over the fields a resource supports.
 */
import { badRequest } from './errors.ts';
import type { KubeObject } from './kube.ts';

type Requirement =
  | { key: string; op: 'in'; values: string[] }
  | { key: string; op: 'notin'; values: string[] }
  | { key: string; op: 'exists' }
  | { key: string; op: '!' };

export interface LabelSelector {
  readonly empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, selector: string): void {
  const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
  if (!LABEL_KEY.test(key) || name.length > 63 || (key.includes('/') && key.indexOf('/') > 253)) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  }
}

function checkValue(value: string, selector: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw badRequest(`unable to parse requirement: invalid label value: "${value}" in selector "${selector}"`);
  }
}

/** Splits at top-level commas (commas inside parentheses belong to a value set). */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms.map((t) => t.trim());
}

function parseRequirement(term: string, selector: string): Requirement {
  if (term === '') throw badRequest(`unable to parse requirement: found '', expected: identifier in selector "${selector}"`);
  if (term.startsWith('!')) {
    const key = term.slice(1).trim();
    checkKey(key, selector);
    return { key, op: '!' };
  }
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (setMatch !== null) {
    const [, key = '', op, list = ''] = setMatch;
    checkKey(key, selector);
    const values = list.split(',').map((v) => v.trim());
    for (const v of values) checkValue(v, selector);
    return op === 'in' ? { key, op: 'in', values } : { key, op: 'notin', values };
  }
  const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
  if (eq !== null) {
    const [, key = '', op, value = ''] = eq;
    checkKey(key, selector);
    checkValue(value, selector);
    return op === '!=' ? { key, op: 'notin', values: [value] } : { key, op: 'in', values: [value] };
  }
  checkKey(term, selector);
  return { key: term, op: 'exists' };
}

/** Parses a label selector; BadRequest with kube's words when it is malformed. */
export function parseLabelSelector(selector: string): LabelSelector {
  const trimmed = selector.trim();
  const requirements = trimmed === '' ? [] : splitTerms(trimmed).map((t) => parseRequirement(t, selector));
  return {
    empty: requirements.length === 0,
    matches(labels) {
      for (const r of requirements) {
        const has = labels !== undefined && Object.hasOwn(labels, r.key);
        const value = has ? labels[r.key] : undefined;
        switch (r.op) {
          case 'in':
            if (!has || !r.values.includes(value as string)) return false;
            break;
          case 'notin':
            if (has && r.values.includes(value as string)) return false;
            break;
          case 'exists':
            if (!has) return false;
            break;
          case '!':
            if (has) return false;
            break;
        }
      }
      return true;
    },
  };
}

export interface FieldSelector {
  readonly empty: boolean;
  /** The value the selector requires for `field` with `=`, if any (e.g. metadata.name). */
  requiredValue(field: string): string | undefined;
  matches(fields: Record<string, string>): boolean;
}

/** The selectable fields of an object: metadata.name and metadata.namespace for every kind. */
export function objectFields(object: KubeObject): Record<string, string> {
  return {
    'metadata.name': object.metadata?.name ?? '',
    'metadata.namespace': object.metadata?.namespace ?? '',
  };
}

/** Parses a field selector over `supported` fields; BadRequest for others, as kube does. */
export function parseFieldSelector(selector: string, supported: readonly string[] = ['metadata.name', 'metadata.namespace']): FieldSelector {
  const trimmed = selector.trim();
  const terms: { field: string; negate: boolean; value: string }[] = [];
  if (trimmed !== '') {
    for (const term of trimmed.split(',')) {
      const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
      if (m === null) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
      const [, field = '', op, value = ''] = m;
      if (!supported.includes(field)) {
        throw badRequest(`field label not supported: ${field}`);
      }
      terms.push({ field, negate: op === '!=', value });
    }
  }
  return {
    empty: terms.length === 0,
    requiredValue: (field) => terms.find((t) => t.field === field && !t.negate)?.value,
    matches(fields) {
      return terms.every((t) => ((fields[t.field] ?? '') === t.value) !== t.negate);
    },
  };
}

/** A compiled list/watch filter: namespace, labels and fields together. */
export interface ObjectFilter {
  readonly everything: boolean;
  matches(object: KubeObject): boolean;
}

export function createObjectFilter(options: { namespace?: string; labelSelector?: string; fieldSelector?: string }): ObjectFilter {
  const labels = parseLabelSelector(options.labelSelector ?? '');
  const fields = parseFieldSelector(options.fieldSelector ?? '');
  const namespace = options.namespace ?? '';
  return {
    everything: labels.empty && fields.empty && namespace === '',
    matches(object) {
      if (namespace !== '' && (object.metadata?.namespace ?? '') !== namespace) return false;
      if (!labels.empty && !labels.matches(object.metadata?.labels)) return false;
      if (!fields.empty && !fields.matches(objectFields(object))) return false;
      return true;
    },
  };
}
