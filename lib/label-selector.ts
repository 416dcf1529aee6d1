/**
 * metav1.LabelSelector (`matchLabels`, `matchExpressions`) as kube's LabelSelectorAsSelector
 * reads it: a selector that matches label sets, and its String() form (the requirements sorted
 * by key, `a=b`, `a in (b,c)`, `a notin (b)`, `a`, `!a`, joined by commas), which is what a
 * Scale's status.selector carries.
 */
import { isPlainObject } from './kube.ts';
import { isQualifiedName, isValidLabelValue } from './validation/names.ts';

type Operator = 'equals' | 'in' | 'notin' | 'exists' | 'doesNotExist';

interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

/** A converted selector: nil matches nothing, an empty one everything (as kube's Nothing and Everything). */
export interface ConvertedSelector {
  /** labels.Selector.String(): "" for nil and for an empty selector. */
  readonly text: string;
  /** Whether it has no requirements (nil or an empty selector). */
  readonly empty: boolean;
  matches(labels: unknown): boolean;
}

const OPERATORS: Readonly<Record<string, Operator>> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'doesNotExist' };

/** labels.NewRequirement's checks, in its words; undefined when the requirement is valid. */
function requirementError(r: Requirement): string | undefined {
  const errors: string[] = [];
  for (const problem of isQualifiedName(r.key)) errors.push(`key: Invalid value: ${JSON.stringify(r.key)}: ${problem}`);
  if ((r.op === 'in' || r.op === 'notin') && r.values.length === 0) errors.push("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
  if ((r.op === 'exists' || r.op === 'doesNotExist') && r.values.length !== 0) {
    errors.push(`values: Invalid value: ${JSON.stringify(r.values)}: values set must be empty for exists and does not exist`);
  }
  r.values.forEach((v, i) => {
    const problems = isValidLabelValue(v);
    if (problems.length > 0) errors.push(`values[${i}][${r.key}]: Invalid value: ${JSON.stringify(v)}: ${problems.join('; ')}`);
  });
  if (errors.length === 0) return undefined;
  return errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
}

function requirementText(r: Requirement): string {
  switch (r.op) {
    case 'exists':
      return r.key;
    case 'doesNotExist':
      return `!${r.key}`;
    case 'equals':
      return `${r.key}=${r.values[0] ?? ''}`;
    case 'in':
    case 'notin':
      // String() sorts the values it prints, without changing the requirement.
      return `${r.key} ${r.op} (${[...r.values].sort().join(',')})`;
  }
}

function requirementMatches(r: Requirement, labels: unknown): boolean {
  const value = isPlainObject(labels) && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
  const has = typeof value === 'string';
  switch (r.op) {
    case 'equals':
    case 'in':
      return has && r.values.includes(value);
    case 'notin':
      return !has || !r.values.includes(value);
    case 'exists':
      return has;
    case 'doesNotExist':
      return !has;
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : '')) : [];
}

/**
 * LabelSelectorAsSelector of a metav1.LabelSelector as JSON (absent or null is nil). Throws an
 * Error in kube's words when an operator is unknown or a requirement invalid.
 */
export function labelSelectorAsSelector(selector: unknown): ConvertedSelector {
  if (selector === undefined || selector === null) return { text: '', empty: true, matches: () => false };
  const s = isPlainObject(selector) ? selector : {};
  const requirements: Requirement[] = [];
  const matchLabels = isPlainObject(s.matchLabels) ? s.matchLabels : {};
  for (const [key, value] of Object.entries(matchLabels)) requirements.push({ key, op: 'equals', values: [typeof value === 'string' ? value : ''] });
  for (const raw of Array.isArray(s.matchExpressions) ? s.matchExpressions : []) {
    const expression = isPlainObject(raw) ? raw : {};
    const name = typeof expression.operator === 'string' ? expression.operator : '';
    const op = Object.hasOwn(OPERATORS, name) ? OPERATORS[name] : undefined;
    if (op === undefined) throw new Error(`${JSON.stringify(name)} is not a valid label selector operator`);
    requirements.push({ key: typeof expression.key === 'string' ? expression.key : '', op, values: strings(expression.values) });
  }
  if (requirements.length === 0) return { text: '', empty: true, matches: () => true };
  for (const r of requirements) {
    const error = requirementError(r);
    if (error !== undefined) throw new Error(error);
  }
  // Selector.Add sorts its requirements by key.
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    text: requirements.map(requirementText).join(','),
    empty: false,
    matches: (labels) => requirements.every((r) => requirementMatches(r, labels)),
  };
}
