/**
 * Field paths and field sets as structured-merge-diff's fieldpath package defines them, and
 * their FieldsV1 encoding (`metadata.managedFields[].fieldsV1`).
 *
 * A path element is carried as its serialized FieldsV1 key, which is canonical: `f:<name>` (a
 * field), `k:<json object>` (an associative-list item by its key fields, sorted by name),
 * `v:<json>` (a set item by its value), `i:<n>` (an index). Keys built from values and keys
 * decoded from FieldsV1 are written the same way (Go's encoding/json of sorted maps, HTML
 * characters escaped), so sets compare by string. Order (for encoding and iteration) is SMD's
 * PathElement.Compare: fields < keys < values < indices, each by its own order.
 *
 * A {@link FieldSet} is SMD's Set: `members` (paths that end here) and `children` (paths that go
 * on). Sets are immutable once built by the operations here; builders mutate only fresh sets.
 */
import { StatusError } from '../errors.ts';
import { isPlainObject, jsonNestingDepth, MAX_JSON_DEPTH } from '../kube.ts';

/** Go's encoding/json of a decoded JSON value: map keys sorted, `<`, `>`, `&`, U+2028/9 escaped. */
export function goJson(value: unknown): string {
  if (typeof value === 'string') return escapeHtml(JSON.stringify(value));
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  const keys = Object.keys(value).sort(compareStrings);
  return `{${keys.map((k) => `${escapeHtml(JSON.stringify(k))}:${goJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

function escapeHtml(s: string): string {
  return /[<>&\u2028\u2029]/.test(s) ? s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : s;
}

/** Byte order of the UTF-8 encodings (Go's strings.Compare), which is code point order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // past U+D7FF, UTF-16 order differs from code point order (surrogates vs U+E000..U+FFFF)
      return (a.codePointAt(i) ?? 0) < (b.codePointAt(i) ?? 0) ? -1 : 1;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** The path element of field `name`. */
export function fieldElement(name: string): string {
  return `f:${name}`;
}

/** The path element of an associative-list item whose key fields are `fields` (name -> value). */
export function keyElement(fields: readonly (readonly [string, unknown])[]): string {
  const sorted = [...fields].sort((a, b) => compareStrings(a[0], b[0]));
  return `k:{${sorted.map(([k, v]) => `${escapeHtml(JSON.stringify(k))}:${goJson(v)}`).join(',')}}`;
}

/** The path element of a set item. */
export function valueElement(value: unknown): string {
  return `v:${goJson(value)}`;
}

/** Go's value.ToString, for path strings. */
function valueString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goQuoteString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  return Object.keys(v)
    .sort(compareStrings)
    .map((k) => `${k}=${valueString((v as Record<string, unknown>)[k])}`)
    .join('');
}

/** Go's %q of a string (printable ASCII kept, the rest escaped as strconv.Quote does for common cases). */
function goQuoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** One element as SMD's PathElement.String writes it (`.name`, `[k=v,...]`, `[=v]`, `[n]`). */
export function elementString(pe: string): string {
  const kind = pe.charCodeAt(0);
  const rest = pe.slice(2);
  switch (kind) {
    case 0x66: // f
      return `.${rest}`;
    case 0x6b: {
      // k
      const fields = JSON.parse(rest) as Record<string, unknown>;
      return `[${Object.keys(fields)
        .sort(compareStrings)
        .map((k) => `${k}=${valueString(fields[k])}`)
        .join(',')}]`;
    }
    case 0x76: // v
      return `[=${valueString(JSON.parse(rest))}]`;
    case 0x69: // i
      return `[${rest}]`;
    default:
      return '{{invalid path element}}';
  }
}

/** A path as SMD's Path.String writes it (`.spec.containers[name="x"].image`). */
export function pathString(path: readonly string[]): string {
  return path.map(elementString).join('');
}

const RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/** SMD's value.Compare of decoded JSON: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1:
      return compareStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a === false ? -1 : 1;
    case 3: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < x.length && i < y.length; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
    }
    case 4: {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort(compareStrings);
      for (const k of keys) {
        if (!Object.hasOwn(x, k)) return 1;
        if (!Object.hasOwn(y, k)) return -1;
        const c = compareValues(x[k], y[k]);
        if (c !== 0) return c;
      }
      return 0;
    }
    default:
      return 0;
  }
}

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isPlainObject(v)) return 4;
  return 5;
}

/** A path element decoded for ordering. */
interface SortKey {
  readonly pe: string;
  readonly rank: number;
  readonly parsed: unknown;
}

function sortKeyOf(pe: string): SortKey {
  const rank = RANK[pe[0] ?? ''] ?? 4;
  const rest = pe.slice(2);
  let parsed: unknown = rest;
  if (rank === 1) {
    const fields = JSON.parse(rest) as Record<string, unknown>;
    parsed = Object.keys(fields)
      .sort(compareStrings)
      .map((k) => [k, fields[k]]);
  } else if (rank === 2) parsed = JSON.parse(rest);
  else if (rank === 3) parsed = Number(rest);
  return { pe, rank, parsed };
}

function compareSortKeys(a: SortKey, b: SortKey): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  switch (a.rank) {
    case 0:
      return compareStrings(a.parsed as string, b.parsed as string);
    case 1: {
      const x = a.parsed as [string, unknown][];
      const y = b.parsed as [string, unknown][];
      for (let i = 0; ; i++) {
        if (i >= x.length && i >= y.length) return 0;
        if (i >= x.length) return -1;
        if (i >= y.length) return 1;
        const c = compareStrings(x[i]![0], y[i]![0]) || compareValues(x[i]![1], y[i]![1]);
        if (c !== 0) return c;
      }
    }
    case 2:
      return compareValues(a.parsed, b.parsed);
    case 3:
      return (a.parsed as number) - (b.parsed as number);
    default:
      return compareStrings(a.pe, b.pe);
  }
}

/** `elements` in SMD's order. */
export function sortElements(elements: Iterable<string>): string[] {
  const keys = [...elements];
  if (keys.length < 2) return keys;
  if (keys.every((k) => k.charCodeAt(0) === 0x66)) return keys.sort((a, b) => compareStrings(a, b));
  return keys
    .map(sortKeyOf)
    .sort(compareSortKeys)
    .map((k) => k.pe);
}

/** SMD's fieldpath.Set. */
export class FieldSet {
  readonly members = new Set<string>();
  readonly children = new Map<string, FieldSet>();

  /** A set of `paths` (each a list of path elements). */
  static of(...paths: (readonly string[])[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds `path` (mutates: only for sets being built). */
  insert(path: readonly string[]): void {
    if (path.length === 0) return;
    if (path.length === 1) {
      this.members.add(path[0]!);
      return;
    }
    let s = this.child(path[0]!);
    for (let i = 1; i < path.length - 1; i++) s = s.child(path[i]!);
    s.members.add(path[path.length - 1]!);
  }

  /** The child set at `pe`, created when absent (mutates: only for sets being built). */
  child(pe: string): FieldSet {
    let c = this.children.get(pe);
    if (c === undefined) {
      c = new FieldSet();
      this.children.set(pe, c);
    }
    return c;
  }

  has(path: readonly string[]): boolean {
    if (path.length === 0) return false;
    if (path.length === 1) return this.members.has(path[0]!);
    let s = this.children.get(path[0]!);
    for (let i = 1; i < path.length - 1 && s !== undefined; i++) s = s.children.get(path[i]!);
    return s !== undefined && s.members.has(path[path.length - 1]!);
  }

  empty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  /** Paths in the set below `pe` (SMD WithPrefix), or an empty set. */
  withPrefix(pe: string): FieldSet {
    return this.children.get(pe) ?? EMPTY;
  }

  union(other: FieldSet): FieldSet {
    if (other.empty()) return this;
    if (this.empty()) return other;
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const m of other.members) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      out.children.set(pe, o === undefined ? c : c.union(o));
    }
    for (const [pe, o] of other.children) if (!this.children.has(pe)) out.children.set(pe, o);
    return out;
  }

  /** This set without `other`'s paths; this very set when nothing is taken away. */
  difference(other: FieldSet): FieldSet {
    if (other.empty() || this.empty()) return this;
    const out = new FieldSet();
    let same = true;
    for (const m of this.members) {
      if (!other.members.has(m)) out.members.add(m);
      else same = false;
    }
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      const d = o === undefined ? c : c.difference(o);
      if (d !== c) same = false;
      if (!d.empty()) out.children.set(pe, d);
      else same = false;
    }
    return same ? this : out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (o === undefined) continue;
      const i = c.intersection(o);
      if (!i.empty()) out.children.set(pe, i);
    }
    return out;
  }

  /** This set without the members of `other` and everything below them (SMD RecursiveDifference). */
  recursiveDifference(other: FieldSet): FieldSet {
    if (other.empty() || this.empty()) return this;
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      if (other.members.has(pe)) continue;
      const o = other.children.get(pe);
      const d = o === undefined ? c : c.recursiveDifference(o);
      if (!d.empty()) out.children.set(pe, d);
    }
    return out;
  }

  /** Every path, in SMD's order (a set's members, then each child's paths). */
  iterate(fn: (path: readonly string[]) => void, prefix: readonly string[] = []): void {
    for (const m of sortElements(this.members)) fn([...prefix, m]);
    for (const pe of sortElements(this.children.keys())) this.children.get(pe)!.iterate(fn, [...prefix, pe]);
  }

  /** All paths, as strings (for tests and messages). */
  paths(): string[] {
    const out: string[] = [];
    this.iterate((p) => out.push(pathString(p)));
    return out;
  }

  equals(other: FieldSet): boolean {
    return this.difference(other).empty() && other.difference(this).empty();
  }

  /** The FieldsV1 object of this set (kube's SetToFields). */
  toFieldsV1(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let keys: string[];
    if (this.children.size === 0) keys = sortElements(this.members);
    else {
      const all = new Set(this.members);
      for (const [pe, c] of this.children) if (!c.empty()) all.add(pe);
      keys = sortElements(all);
    }
    if (includeSelf && keys.length > 0) out['.'] = {};
    for (const pe of keys) {
      const c = this.children.get(pe);
      out[pe] = c === undefined || c.empty() ? {} : c.emit(this.members.has(pe));
    }
    return out;
  }
}

const EMPTY = new FieldSet();

/** Why a FieldsV1 value does not decode (a 400: managedFields come from clients). */
export class FieldsV1Error extends StatusError {
  constructor(message: string) {
    super('BadRequest', message);
    this.name = 'FieldsV1Error';
  }
}

/** Bounds of decoding: the depth of nesting and the number of path elements. */
export interface DecodeLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxDepth: MAX_JSON_DEPTH, maxElements: 1_000_000 };

/**
 * The set a FieldsV1 object holds (kube's FieldsToSet): `.` marks an element that is also a
 * member, `{}` a member, keys of unknown element types are dropped (as SMD drops them); keys are
 * rewritten canonically. Throws {@link FieldsV1Error} on malformed keys, non-object values and
 * input past `limits`.
 */
export function decodeFieldsV1(raw: unknown, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): FieldSet {
  const budget = { left: limits.maxElements };
  if (raw === null || raw === undefined) return new FieldSet();
  if (!isPlainObject(raw)) throw new FieldsV1Error(`expected an object, got ${describe(raw)}`);
  return decodeNode(raw, 1, limits.maxDepth, budget).set ?? new FieldSet();
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}

function decodeNode(raw: Record<string, unknown>, depth: number, maxDepth: number, budget: { left: number }): { set: FieldSet | undefined; member: boolean } {
  if (depth > maxDepth) throw new FieldsV1Error(`nested more than ${maxDepth} levels deep`);
  let set: FieldSet | undefined;
  let member = false;
  for (const key of Object.keys(raw)) {
    if (--budget.left < 0) throw new FieldsV1Error('too many path elements');
    if (key === '.') {
      member = true;
      continue;
    }
    const pe = canonicalElement(key);
    if (pe === undefined) continue;
    const v = raw[key];
    let grand: FieldSet | undefined;
    let childMember = true;
    if (v !== null) {
      if (!isPlainObject(v)) throw new FieldsV1Error(`value of ${JSON.stringify(key)}: expected an object, got ${describe(v)}`);
      ({ set: grand, member: childMember } = decodeNode(v, depth + 1, maxDepth, budget));
    }
    set ??= new FieldSet();
    if (childMember) set.members.add(pe);
    if (grand !== undefined) {
      const existing = set.children.get(pe);
      set.children.set(pe, existing === undefined ? grand : existing.union(grand));
    }
  }
  if (set === undefined) member = true;
  return { set, member };
}

/** `key` as a canonical path element; undefined for an unknown element type (dropped). */
export function canonicalElement(key: string): string | undefined {
  if (key.length < 2) throw new FieldsV1Error(`invalid path element ${JSON.stringify(key)}: key must be 2 characters long`);
  if (key[1] !== ':') throw new FieldsV1Error(`invalid path element ${JSON.stringify(key)}: missing colon`);
  const rest = key.slice(2);
  switch (key[0]) {
    case 'f':
      return key;
    case 'v':
      return `v:${goJson(parseJson(key, rest))}`;
    case 'k': {
      const fields = parseJson(key, rest);
      if (!isPlainObject(fields)) throw new FieldsV1Error(`invalid path element ${JSON.stringify(key)}: expected a JSON object`);
      return keyElement(Object.entries(fields));
    }
    case 'i':
      if (!/^[+-]?\d{1,18}$/.test(rest)) throw new FieldsV1Error(`invalid path element ${JSON.stringify(key)}: not an index`);
      return `i:${Number(rest)}`;
    default:
      return undefined;
  }
}

function parseJson(key: string, text: string): unknown {
  // A key's value is a JSON text of its own, which the depth bound of the object holding it
  // does not reach; nested deeper, it would exhaust the stack of every recursive walk below.
  if (jsonNestingDepth(Buffer.from(text, 'utf8'), MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new FieldsV1Error(`invalid path element ${JSON.stringify(key.slice(0, 64))}: nested more than ${MAX_JSON_DEPTH} levels deep`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new FieldsV1Error(`invalid path element ${JSON.stringify(key)}: invalid JSON`);
  }
}
