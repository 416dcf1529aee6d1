/**
 * Label and field selectors with kube's syntax and semantics
 * (k8s.io/apimachinery/pkg/labels and pkg/fields).
 *
 * Labels: `a=b`, `a==b`, `a!=b`, `a in (b,c)`, `a notin (b,c)`, `a`, `!a`, `a>1`, `a<1`, joined
 * by commas (all must hold), with whitespace allowed between tokens. `a!=b` and `notin` also
 * match objects without the label; `>`/`<` compare integers and need the label. Errors carry
 * the words of labels.Parse.
 * Fields: `f=v`, `f==v`, `f!=v`, joined by commas, over the fields a resource supports; no
 * whitespace is trimmed, and `\,`, `\=` and `\\` escape those characters in a value.
 */
import { badRequest } from './errors.ts';
import { isPlainObject, type KubeObject } from './kube.ts';
import { objectShapeProblem, type GoStruct } from './object-meta.ts';
import { isQualifiedName, isValidLabelValue } from './validation/names.ts';

type Operator = 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

export interface LabelSelector {
  readonly empty: boolean;
  /**
   * Whether a label set matches. Never throws: anything but an object is no labels, and a
   * value that is not a string is no label (an object holding such labels is malformed, and
   * ObjectFilter matches it with no selector at all).
   */
  matches(labels: unknown): boolean;
}

/** A field.Invalid error as its Error() prints it (`<nil>` is the path when there is none). */
function fieldInvalid(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
}

function keyError(key: string): string | undefined {
  const problems = isQualifiedName(key);
  return problems.length === 0 ? undefined : fieldInvalid('<nil>', key, problems.join('; '));
}

/** strconv.ParseInt(s, 10, 64). */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

// ---- Lexer (labels.Lexer) ----

type Token = 'eos' | 'identifier' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';

interface Item {
  tok: Token;
  lit: string;
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isSpecial(ch: string): boolean {
  return ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';
}

/**
 * Tokens as kube's lexer reads them: whitespace separates, each special character is an
 * operator on its own except "==" and "!=" (the longest match wins), and every other run of
 * characters is an identifier ("in" and "notin" are keywords where an operator may stand).
 */
function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos] as string)) pos++;
    if (pos >= s.length) {
      items.push({ tok: 'eos', lit: '' });
      return items;
    }
    const ch = s[pos] as string;
    if (isSpecial(ch)) {
      const pair = s.slice(pos, pos + 2);
      const lit = pair === '==' || pair === '!=' ? pair : ch;
      items.push({ tok: lit as Token, lit });
      pos += lit.length;
      continue;
    }
    const start = pos;
    while (pos < s.length && !isSpecial(s[pos] as string) && !isWhitespace(s[pos] as string)) pos++;
    const word = s.slice(start, pos);
    items.push({ tok: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'identifier', lit: word });
  }
}

// ---- Parser (labels.Parser) ----

class ParseError extends Error {}

/** Where `in`/`notin` are plain identifiers (keys and values) or operators. */
type Context = 'keyAndOperator' | 'values';

class Parser {
  private readonly items: Item[];
  private position = 0;

  constructor(selector: string) {
    this.items = lex(selector);
  }

  private at(index: number, context: Context): Item {
    const item = this.items[Math.min(index, this.items.length - 1)] as Item;
    if (context === 'values' && (item.tok === 'in' || item.tok === 'notin')) return { tok: 'identifier', lit: item.lit };
    return item;
  }

  private lookahead(context: Context): Item {
    return this.at(this.position, context);
  }

  private consume(context: Context): Item {
    const item = this.at(this.position, context);
    this.position++;
    return item;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead('values');
      if (tok === 'eos') return requirements;
      if (tok !== 'identifier' && tok !== '!') throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      try {
        requirements.push(this.parseRequirement());
      } catch (err) {
        if (err instanceof ParseError) throw new ParseError(`unable to parse requirement: ${err.message}`);
        throw err;
      }
      const next = this.consume('values');
      if (next.tok === 'eos') return requirements;
      if (next.tok !== ',') throw new ParseError(`found '${next.lit}', expected: ',' or 'end of string'`);
      const after = this.lookahead('values');
      if (after.tok !== 'identifier' && after.tok !== '!') throw new ParseError(`found '${after.lit}', expected: identifier after ','`);
    }
  }

  private parseRequirement(): Requirement {
    let item = this.consume('values');
    let op: Operator | undefined;
    if (item.tok === '!') {
      op = '!';
      item = this.consume('values');
    }
    if (item.tok !== 'identifier') throw new ParseError(`found '${item.lit}', expected: identifier`);
    const key = item.lit;
    const bad = keyError(key);
    if (bad !== undefined) throw new ParseError(bad);
    const next = this.lookahead('values').tok;
    if (op === '!') return { key, op, values: [] };
    if (next === 'eos' || next === ',') return { key, op: 'exists', values: [] };

    const operator = this.consume('keyAndOperator');
    let values: Set<string>;
    switch (operator.tok) {
      case 'in':
      case 'notin':
        values = this.parseValues();
        op = operator.tok;
        break;
      case '=':
      case '==':
      case '!=':
      case '>':
      case '<':
        values = this.parseExactValue();
        op = operator.tok === '!=' ? 'notin' : operator.tok === '>' ? 'gt' : operator.tok === '<' ? 'lt' : 'in';
        break;
      default:
        throw new ParseError(`found '${operator.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    return newRequirement(key, op, [...values].sort());
  }

  private parseValues(): Set<string> {
    const open = this.consume('values');
    if (open.tok !== '(') throw new ParseError(`found '${open.lit}' expected: '('`);
    const first = this.lookahead('values');
    if (first.tok === ')') {
      this.consume('values');
      return new Set(['']);
    }
    if (first.tok !== 'identifier' && first.tok !== ',') throw new ParseError(`found '${first.lit}', expected: ',', ')' or identifier`);
    const values = this.parseIdentifiersList();
    this.consume('values'); // the ')' parseIdentifiersList stopped at
    return values;
  }

  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const item = this.consume('values');
      if (item.tok === 'identifier') {
        values.add(item.lit);
        const next = this.lookahead('values');
        if (next.tok === ',') continue;
        if (next.tok === ')') return values;
        throw new ParseError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (item.tok === ',') {
        // An empty value: "(,a)", "(a,)" and "(a,,b)" all hold "".
        if (values.size === 0) values.add('');
        const next = this.lookahead('values');
        if (next.tok === ')') {
          values.add('');
          return values;
        }
        if (next.tok === ',') {
          this.consume('values');
          values.add('');
        }
        continue;
      }
      throw new ParseError(`found '${item.lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead('values');
    if (next.tok === 'eos' || next.tok === ',') return new Set(['']);
    const item = this.consume('values');
    if (item.tok === 'identifier') return new Set([item.lit]);
    throw new ParseError(`found '${item.lit}', expected: identifier`);
  }
}

/** labels.NewRequirement's checks of the values (the key was checked by the parser). */
function newRequirement(key: string, op: Operator, values: string[]): Requirement {
  const errs: string[] = [];
  if (op === 'gt' || op === 'lt') {
    values.forEach((v, i) => {
      if (parseInt64(v) === undefined) errs.push(fieldInvalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
    });
  }
  values.forEach((v, i) => {
    const problems = isValidLabelValue(v);
    if (problems.length > 0) errs.push(fieldInvalid(`values[${i}][${key}]`, v, problems.join('; ')));
  });
  const unique = [...new Set(errs)];
  if (unique.length === 1) throw new ParseError(unique[0] as string);
  if (unique.length > 1) throw new ParseError(`[${unique.join(', ')}]`);
  return { key, op, values };
}

function requirementMatches(r: Requirement, labels: unknown): boolean {
  const found = isPlainObject(labels) && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
  const has = typeof found === 'string';
  const value = has ? found : undefined;
  switch (r.op) {
    case 'in':
      return has && r.values.includes(value as string);
    case 'notin':
      return !has || !r.values.includes(value as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has) return false;
      const actual = parseInt64(value as string);
      const bound = parseInt64(r.values[0] ?? '');
      if (actual === undefined || bound === undefined) return false;
      return r.op === 'gt' ? actual > bound : actual < bound;
    }
  }
}

/** Parses a label selector; BadRequest with the words of kube's labels.Parse when it is malformed. */
export function parseLabelSelector(selector: string): LabelSelector {
  let requirements: Requirement[];
  try {
    requirements = new Parser(selector).parse();
  } catch (err) {
    if (err instanceof ParseError) throw badRequest(err.message);
    throw err;
  }
  return {
    empty: requirements.length === 0,
    matches(labels) {
      return requirements.every((r) => requirementMatches(r, labels));
    },
  };
}

export interface FieldSelector {
  readonly empty: boolean;
  /** The fields the selector names, in the order kube checks them (its terms sorted). */
  readonly fields: readonly string[];
  /** The value the selector requires for `field` with `=`, if any (e.g. metadata.name). */
  requiredValue(field: string): string | undefined;
  matches(fields: Record<string, string>): boolean;
}

/** The fields every kind can be selected by, unless its own list says otherwise. */
export const DEFAULT_SELECTABLE_FIELDS: readonly string[] = ['metadata.name', 'metadata.namespace'];

/** A string field of an object's metadata; "" (Go's zero value) when it or the metadata is not there or not a string. */
export function metadataString(object: KubeObject, field: string): string {
  const metadata: unknown = object.metadata;
  const value = isPlainObject(metadata) ? metadata[field] : undefined;
  return typeof value === 'string' ? value : '';
}

/** The selectable fields of an object: metadata.name and metadata.namespace for every kind. */
export function objectFields(object: KubeObject): Record<string, string> {
  return {
    'metadata.name': metadataString(object, 'name'),
    'metadata.namespace': metadataString(object, 'namespace'),
  };
}

/** Which fields a resource can be selected by, and their values in an object. */
export interface SelectableFields {
  /** The field labels kube accepts for the kind (its field label conversion function). */
  readonly supported: readonly string[];
  /** The field set of an object (its GetAttrs / ToSelectableFields). Never throws. */
  values(object: KubeObject): Record<string, string>;
  /**
   * The kind's fields outside metadata that `values` reads, as Go types: an object where they
   * do not fit could not have been decoded by kube, so no selector matches it.
   */
  readonly shape?: GoStruct;
}

/** The selectable fields of a kind without its own list: metadata.name and metadata.namespace. */
export const DEFAULT_FIELDS: SelectableFields = { supported: DEFAULT_SELECTABLE_FIELDS, values: objectFields };

/** fields.splitTerms: split at commas that are not escaped with a backslash. */
function splitFieldTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (escaped) escaped = false;
    else if (ch === '\\') escaped = true;
    else if (ch === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** fields.UnescapeValue. */
function unescapeFieldValue(raw: string): string {
  let out = '';
  let escaped = false;
  for (const ch of raw) {
    if (escaped) {
      if (ch !== '\\' && ch !== ',' && ch !== '=') throw badRequest(`invalid field selector: invalid escape sequence: \\${ch}`);
      out += ch;
      escaped = false;
    } else if (ch === '\\') escaped = true;
    else if (ch === ',' || ch === '=') {
      // Go prints the rune as its number.
      throw badRequest(`invalid field selector: unescaped character in value: ${ch.codePointAt(0)}`);
    } else out += ch;
  }
  if (escaped) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/**
 * Parses a field selector; BadRequest with kube's words when it is malformed, or when it names
 * a field outside `supported` ("field label not supported: x", checked in kube's order). With
 * `supported` null only the syntax is checked: callers that must report other problems in
 * between (kube validates list options after the syntax, before the fields) call
 * {@link checkFieldsSupported} themselves.
 */
export function parseFieldSelector(selector: string, supported: readonly string[] | null = DEFAULT_SELECTABLE_FIELDS): FieldSelector {
  const terms: { field: string; negate: boolean; value: string }[] = [];
  // kube sorts the terms before it reads them, so the first bad one it names is the smallest.
  for (const part of splitFieldTerms(selector).sort()) {
    if (part === '') continue;
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(part);
    if (m === null) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [, field = '', op, raw = ''] = m;
    terms.push({ field, negate: op === '!=', value: unescapeFieldValue(raw) });
  }
  const parsed: FieldSelector = {
    empty: terms.length === 0,
    fields: terms.map((t) => t.field),
    requiredValue: (field) => terms.find((t) => t.field === field && !t.negate)?.value,
    matches(fields) {
      return terms.every((t) => ((fields[t.field] ?? '') === t.value) !== t.negate);
    },
  };
  if (supported !== null) checkFieldsSupported(parsed, supported);
  return parsed;
}

/** BadRequest "field label not supported: x" for the first field outside `supported`. */
export function checkFieldsSupported(selector: FieldSelector, supported: readonly string[]): void {
  for (const field of selector.fields) {
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
  }
}

/**
 * What a filter says of one object: whether it matches, or — for an object the selectors
 * cannot read as kube would (see objectShapeProblem) — why not; such an object matches no
 * selector, and the caller may log the problem (it quotes no value of the object).
 */
export type FilterVerdict = boolean | { malformed: string };

/** A compiled list/watch filter: namespace, labels and fields together. */
export interface ObjectFilter {
  readonly everything: boolean;
  /** The namespace an object must be in; "" for any (the watch cache indexes watchers by it). */
  readonly namespace: string;
  /** There is a label or field selector: only then does an object's shape matter. */
  readonly selective: boolean;
  /** The fields of the resource's kind the selectors read (objectShapeProblem's `kind`). */
  readonly shape: GoStruct | undefined;
  /** verdict(...) === true. */
  matches(object: KubeObject, keyNamespace?: string): boolean;
  /**
   * Never throws. `keyNamespace`: the namespace of the object's storage key, when the caller
   * knows it; the namespace check then uses it, as kube's cacher checks the key, rather than
   * metadata.namespace. `shapeProblem`: the object's objectShapeProblem(object, shape) when
   * the caller has it already (null: none), so that a change offered to many watchers is
   * checked once.
   */
  verdict(object: KubeObject, keyNamespace?: string, shapeProblem?: string | null): FilterVerdict;
}

/**
 * One object per filter, no closures: a watch server holds one per watcher (thousands), so
 * it is kept small; selectors that are empty share one parsed form.
 */
class CompiledFilter implements ObjectFilter {
  readonly everything: boolean;
  readonly namespace: string;
  readonly selective: boolean;
  private readonly labels: LabelSelector | undefined;
  private readonly fields: FieldSelector | undefined;
  private readonly selectable: SelectableFields;

  constructor(namespace: string, labels: LabelSelector, fields: FieldSelector, selectable: SelectableFields) {
    this.namespace = namespace;
    this.labels = labels.empty ? undefined : labels;
    this.fields = fields.empty ? undefined : fields;
    this.selectable = selectable;
    this.selective = !labels.empty || !fields.empty;
    this.everything = !this.selective && namespace === '';
  }

  get shape(): GoStruct | undefined {
    return this.selectable.shape;
  }

  matches(object: KubeObject, keyNamespace?: string): boolean {
    return this.verdict(object, keyNamespace) === true;
  }

  verdict(object: KubeObject, keyNamespace?: string, shapeProblem?: string | null): FilterVerdict {
    if (this.namespace !== '' && (keyNamespace ?? metadataString(object, 'namespace')) !== this.namespace) return false;
    if (!this.selective) return true;
    const problem = shapeProblem === undefined ? objectShapeProblem(object, this.selectable.shape) : shapeProblem;
    if (typeof problem === 'string') return { malformed: problem };
    if (this.labels !== undefined && !this.labels.matches(object.metadata?.labels)) return false;
    if (this.fields !== undefined && !this.fields.matches(this.selectable.values(object))) return false;
    return true;
  }
}

/**
 * A filter from selectors already parsed (and checked, as storage's list checks them in kube's
 * order), over the selectable fields of the resource.
 */
export function compileObjectFilter(namespace: string, labels: LabelSelector, fields: FieldSelector, selectable: SelectableFields): ObjectFilter {
  return new CompiledFilter(namespace, labels, fields, selectable);
}

/**
 * Compiles a filter. With `selectable`, field selectors use that kind's fields (`status.phase`
 * for namespaces, `spec.unschedulable` for nodes); without, the default metadata.name and
 * metadata.namespace. BadRequest for a malformed selector.
 */
export function createObjectFilter(options: {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  selectable?: SelectableFields;
}): ObjectFilter {
  const selectable = options.selectable ?? DEFAULT_FIELDS;
  const labels = parseLabelSelector(options.labelSelector ?? '');
  const fields = parseFieldSelector(options.fieldSelector ?? '', selectable.supported);
  return new CompiledFilter(options.namespace ?? '', labels, fields, selectable);
}
