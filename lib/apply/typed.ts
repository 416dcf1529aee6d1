/**
 * Walks of values against their types, as structured-merge-diff's typed package does them:
 * the field set of a value (ToFieldSet), the comparison of two values (Compare: added,
 * modified, removed), the merge of an apply configuration into a value (Merge) and the removal
 * of a field set from a value (RemoveItems). Values are decoded JSON; `undefined` is "absent".
 *
 * Each walk visits every node once (list items are indexed by their path element in a Map), so
 * work is linear in the size of the values (and of the set, for removals).
 */
import { StatusError } from '../errors.ts';
import { isPlainObject } from '../kube.ts';
import { FieldSet, fieldElement, keyElement, pathString, valueElement } from './fieldpath.ts';
import { DEDUCED, type Atom, type ListAtom, type MapAtom } from './types.ts';

type Json = unknown;
type JsonMap = Record<string, Json>;

/** A type error of a value (SMD's ValidationError): where, and what. */
export class TypedError extends StatusError {
  constructor(message: string) {
    super('BadRequest', message);
    this.name = 'TypedError';
  }
}

type Handler = 'scalar' | 'list' | 'map';

/** Which part of `atom` handles `v` (SMD deduceAtom + handleAtom). */
function handlerOf(atom: Atom, v: Json): Handler {
  if (Array.isArray(v)) {
    if (atom.list !== undefined) return 'list';
  } else if (isPlainObject(v)) {
    if (atom.map !== undefined) return 'map';
  } else if (v !== null && v !== undefined && atom.scalar) return 'scalar';
  if (atom.map !== undefined) return 'map';
  if (atom.scalar) return 'scalar';
  return 'list';
}

function fieldAtom(m: MapAtom, key: string): Atom {
  return m.field(key) ?? m.elem() ?? DEDUCED;
}

/**
 * The path element of list item `item` (SMD listItemToPathElement): its key fields (missing
 * ones from the schema's defaults, else left out) or, for a set, its value.
 */
export function itemElement(list: ListAtom, item: Json): string {
  if (list.keys.length > 0) {
    if (item === null || item === undefined) throw new TypedError('associative list with keys may not have a null element');
    if (!isPlainObject(item)) throw new TypedError('associative list with keys may not have non-map elements');
    const fields: [string, Json][] = [];
    for (const k of list.keys) {
      if (Object.hasOwn(item, k)) fields.push([k, item[k]]);
      else if (list.keyDefaults.has(k)) fields.push([k, list.keyDefaults.get(k)]);
    }
    if (fields.length === 0) {
      throw new TypedError(`associative list with keys has an element that omits all key fields ${goQuoteList(list.keys)} (and doesn't have default values for any key fields)`);
    }
    return keyElement(fields);
  }
  if (isPlainObject(item)) throw new TypedError("associative list without keys has an element that's a map type");
  if (Array.isArray(item)) throw new TypedError('not supported: associative list with lists as elements');
  if (item === null || item === undefined) throw new TypedError("associative list without keys has an element that's an explicit null");
  return valueElement(item);
}

function goQuoteList(keys: readonly string[]): string {
  return `[${keys.map((k) => JSON.stringify(k)).join(' ')}]`;
}

/** Collects the errors of a walk with their paths (SMD ValidationErrors). */
class Errors {
  readonly list: string[] = [];
  add(path: readonly string[], message: string): void {
    if (this.list.length < 100) this.list.push(`${pathString(path)}: ${message}`);
  }
  /** SMD's ValidationErrors.Error(). */
  message(): string {
    return this.list.length === 1 ? this.list[0]! : `errors:\n  ${this.list.join('\n  ')}`;
  }
}

/**
 * The fields `v` holds (SMD TypedValue.ToFieldSet). With `strict` (an apply configuration),
 * duplicate list items and items without a path element are errors (thrown as
 * {@link TypedError}); otherwise they are passed over as SMD does for live objects.
 */
export function toFieldSet(v: Json, atom: Atom, strict = false): FieldSet {
  const out = new FieldSet();
  const errors = strict ? new Errors() : undefined;
  collect(v, atom, out, [], errors);
  if (errors !== undefined && errors.list.length > 0) throw new TypedError(errors.message());
  return out;
}

/** Adds the fields of `v` below its path to `out`; true when `v`'s own path is a member. */
function collect(v: Json, atom: Atom, out: FieldSet, path: string[], errors: Errors | undefined): boolean {
  const h = handlerOf(atom, v);
  if (h === 'scalar') return true;
  if (h === 'list') {
    const l = atom.list!;
    if (l.atomic) return true;
    if (!Array.isArray(v)) return false;
    const pes: (string | undefined)[] = Array.from({ length: v.length });
    const seen = new Map<string, number>();
    for (let i = 0; i < v.length; i++) {
      try {
        const pe = itemElement(l, v[i]);
        pes[i] = pe;
        seen.set(pe, (seen.get(pe) ?? 0) + 1);
      } catch (err) {
        if (!(err instanceof TypedError)) throw err;
        errors?.add(path, `element ${i}: ${err.message}`);
      }
    }
    const elem = l.elem();
    const reported = new Set<string>();
    for (let i = 0; i < v.length; i++) {
      const pe = pes[i];
      if (pe === undefined) continue;
      out.members.add(pe);
      if (seen.get(pe)! > 1) {
        // duplicates are owned as a whole (SMD), and refused in an apply configuration
        if (errors !== undefined && !reported.has(pe)) errors.add(path, `duplicate entries for key ${pathString([pe])}`);
        reported.add(pe);
        continue;
      }
      const item = v[i];
      if (typeof item === 'object' && item !== null) {
        const c = new FieldSet();
        path.push(pe);
        collect(item, elem, c, path, errors);
        path.pop();
        if (c.members.size > 0 || c.children.size > 0) out.children.set(pe, c);
      }
    }
    return false;
  }
  const m = atom.map!;
  if (m.atomic) return true;
  if (!isPlainObject(v)) return false;
  for (const key of Object.keys(v)) {
    const val = v[key];
    const pe = fieldElement(key);
    const declared = m.field(key);
    const fa = declared ?? m.elem() ?? DEDUCED;
    let self: boolean;
    if (typeof val === 'object' && val !== null) {
      const c = new FieldSet();
      path.push(pe);
      self = collect(val, fa, c, path, errors);
      path.pop();
      if (c.members.size > 0 || c.children.size > 0) out.children.set(pe, c);
      if (!self && !Array.isArray(val) && Object.keys(val).length === 0) self = true;
    } else {
      self = true;
    }
    if (self || declared === undefined) out.members.add(pe);
  }
  return false;
}

/** Added, modified and removed fields from one value to another (SMD Comparison). */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/** How `lhs` became `rhs` (SMD TypedValue.Compare), typed objects' zero fields taken as present. */
export function compare(lhs: Json, rhs: Json, atom: Atom): Comparison {
  const c = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareWalk(lhs, rhs, atom, [], c);
  return c;
}

function compareWalk(l: Json, r: Json, atom: Atom, path: string[], c: Comparison): void {
  const h = handlerOf(atom, r !== undefined ? r : l);
  let leaf = false;
  const doLeaf = (): void => {
    leaf = true;
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!jsonEqual(l, r)) c.modified.insert(path);
  };
  if (h === 'scalar' || (l !== undefined && r !== undefined && shape(l) !== shape(r) && l !== null && r !== null)) {
    doLeaf();
  } else if (h === 'list') {
    const la = Array.isArray(l) ? l : undefined;
    const ra = Array.isArray(r) ? r : undefined;
    const list = atom.list!;
    if (list.atomic || ((la === undefined || la.length === 0) && (ra === undefined || ra.length === 0))) doLeaf();
    else compareLists(list, la ?? [], ra ?? [], path, c);
  } else {
    const lm = isPlainObject(l) ? l : undefined;
    const rm = isPlainObject(r) ? r : undefined;
    const map = atom.map!;
    if (map.atomic || ((lm === undefined || isEmpty(lm)) && (rm === undefined || isEmpty(rm)))) doLeaf();
    else compareMaps(map, lm, rm, path, c);
  }
  if (!leaf && path.length > 0) {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
  }
}

function compareMaps(map: MapAtom, lm: JsonMap | undefined, rm: JsonMap | undefined, path: string[], c: Comparison): void {
  const zero = map.zeroFields;
  const valueOf = (m: JsonMap | undefined, k: string): Json => (m === undefined ? undefined : Object.hasOwn(m, k) ? m[k] : zero.get(k));
  const visit = (k: string): void => {
    path.push(fieldElement(k));
    compareWalk(valueOf(lm, k), valueOf(rm, k), fieldAtom(map, k), path, c);
    path.pop();
  };
  if (lm !== undefined) for (const k of Object.keys(lm)) visit(k);
  if (rm !== undefined) for (const k of Object.keys(rm)) if (lm === undefined || !Object.hasOwn(lm, k)) visit(k);
  // zero fields present on neither side are equal: nothing to visit
}

function compareLists(list: ListAtom, la: Json[], ra: Json[], path: string[], c: Comparison): void {
  const order: string[] = [];
  const lv = new Map<string, Json[]>();
  const rv = new Map<string, Json[]>();
  for (const item of la) {
    const pe = tryElement(list, item);
    if (pe === undefined) continue;
    const got = lv.get(pe);
    if (got === undefined) {
      lv.set(pe, [item]);
      order.push(pe);
    } else got.push(item);
  }
  for (const item of ra) {
    const pe = tryElement(list, item);
    if (pe === undefined) continue;
    const got = rv.get(pe);
    if (got === undefined) {
      rv.set(pe, [item]);
      if (!lv.has(pe)) order.push(pe);
    } else got.push(item);
  }
  const elem = list.elem();
  for (const pe of order) {
    const ll = lv.get(pe) ?? [];
    const rl = rv.get(pe) ?? [];
    path.push(pe);
    if (ll.length <= 1 && rl.length <= 1) {
      compareWalk(ll[0], rl[0], elem, path, c);
    } else if (ll.length >= 2 && rl.length >= 2) {
      if (ll.length !== rl.length || ll.some((x, i) => !jsonEqual(x, rl[i]))) c.modified.insert(path);
    } else if (ll.length >= 2) {
      if (rl.length !== 0) compareWalk(undefined, rl[0], elem, path, c);
      c.removed.insert(path);
    } else {
      if (ll.length !== 0) compareWalk(ll[0], undefined, elem, path, c);
      c.added.insert(path);
    }
    path.pop();
  }
}

function tryElement(list: ListAtom, item: Json): string | undefined {
  try {
    return itemElement(list, item);
  } catch (err) {
    if (err instanceof TypedError) return undefined;
    throw err;
  }
}

function shape(v: Json): string {
  return Array.isArray(v) ? 'list' : isPlainObject(v) ? 'map' : 'scalar';
}

function isEmpty(m: JsonMap): boolean {
  for (const _ in m) return false;
  return true;
}

/** Equality of decoded JSON values (SMD value.Equals; map key order does not matter). */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !jsonEqual((a as JsonMap)[k], (b as JsonMap)[k])) return false;
  return true;
}

/**
 * `rhs` (an apply configuration) merged into `lhs` (SMD TypedValue.Merge): maps merge by key,
 * associative lists by path element in SMD's order, atomic values and scalars are replaced.
 * Inputs are not changed; unchanged subtrees of `lhs` are shared.
 */
export function merge(lhs: Json, rhs: Json, atom: Atom): Json {
  if (rhs === undefined) return lhs;
  if (lhs === undefined) return rhs;
  const h = handlerOf(atom, rhs);
  if (h === 'scalar') return rhs;
  if (h === 'list') {
    const list = atom.list!;
    // null (or a value of another shape) is no items, as SMD derefs it; both without items stay a leaf
    const la = Array.isArray(lhs) ? lhs : [];
    const ra = Array.isArray(rhs) ? rhs : [];
    if (list.atomic || (la.length === 0 && ra.length === 0)) return rhs;
    const out = mergeLists(list, la, ra);
    return out.length > 0 ? out : undefined;
  }
  const map = atom.map!;
  const lm = isPlainObject(lhs) ? lhs : {};
  const rm = isPlainObject(rhs) ? rhs : {};
  if (map.atomic || (isEmpty(lm) && isEmpty(rm))) return rhs;
  const out: JsonMap = {};
  for (const k of Object.keys(lm)) {
    const v = Object.hasOwn(rm, k) ? merge(lm[k], rm[k], fieldAtom(map, k)) : lm[k];
    if (v !== undefined) out[k] = v;
  }
  for (const k of Object.keys(rm)) if (!Object.hasOwn(lm, k)) out[k] = rm[k];
  return isEmpty(out) ? undefined : out;
}

/** SMD mergingWalker.visitListItems: the merged items, in the order SMD gives them. */
function mergeLists(list: ListAtom, lhs: Json[], rhs: Json[]): Json[] {
  const elem = list.elem();
  const rPEs: string[] = [];
  const observedR = new Map<string, Json>();
  for (const item of rhs) {
    const pe = tryElement(list, item);
    if (pe === undefined || observedR.has(pe)) continue;
    observedR.set(pe, item);
    rPEs.push(pe);
  }
  const lPEs: string[] = [];
  const lItems: Json[] = [];
  const observedL = new Map<string, Json>();
  for (const item of lhs) {
    const pe = tryElement(list, item);
    if (pe === undefined) continue;
    // a duplicated live item is merged as null, as SMD does
    observedL.set(pe, observedL.has(pe) ? null : item);
    lPEs.push(pe);
    lItems.push(item);
  }
  const shared = rPEs.filter((pe) => observedL.has(pe));
  let s = 0;
  let nextShared: string | undefined = shared[s++];
  const mergedR = new Set<string>();
  const out: Json[] = [];
  const push = (v: Json): void => {
    if (v !== undefined) out.push(v);
  };
  let lI = 0;
  let rI = 0;
  while (lI < lPEs.length || rI < rPEs.length) {
    if (lI < lPEs.length && rI < rPEs.length) {
      const pe = lPEs[lI]!;
      if (pe === rPEs[rI]) {
        mergedR.add(pe);
        push(merge(observedL.get(pe), observedR.get(pe), elem));
        lI++;
        rI++;
        nextShared = shared[s++];
        continue;
      }
      if (observedR.has(pe) && nextShared !== undefined && nextShared !== pe) {
        lI++;
        continue;
      }
    }
    if (lI < lPEs.length) {
      const pe = lPEs[lI]!;
      if (!observedR.has(pe)) {
        push(lItems[lI]);
        lI++;
        continue;
      } else if (mergedR.has(pe)) {
        lI++;
      }
    }
    if (rI < rPEs.length) {
      const pe = rPEs[rI]!;
      mergedR.add(pe);
      push(observedL.has(pe) ? merge(observedL.get(pe), observedR.get(pe), elem) : observedR.get(pe));
      rI++;
      if (nextShared !== undefined && nextShared === pe) nextShared = shared[s++];
    }
  }
  return out;
}

/**
 * `v` without the fields of `set` (SMD TypedValue.RemoveItems, its removing walker); undefined
 * when nothing is left, and for an empty or atomic list or map walked into (the walker then
 * keeps nothing of it). A list item or map field that loses everything stays, as null.
 */
export function removeItems(v: Json, set: FieldSet, atom: Atom): Json {
  if (set.empty()) return v;
  const h = handlerOf(atom, v);
  if (h === 'list') {
    const list = atom.list!;
    if (!Array.isArray(v)) return v;
    if (v.length === 0 || list.atomic) return undefined;
    const out: Json[] = [];
    for (const item of v) {
      const pe = tryElement(list, item);
      if (pe === undefined) {
        out.push(item);
        continue;
      }
      if (set.members.has(pe)) continue;
      const sub = set.children.get(pe);
      const kept = sub === undefined ? item : removeItems(item, sub, list.elem());
      out.push(kept === undefined ? null : kept);
    }
    return out.length > 0 ? out : undefined;
  }
  if (h === 'map') {
    const map = atom.map!;
    if (!isPlainObject(v)) return v;
    if (isEmpty(v) || map.atomic) return undefined;
    const out: JsonMap = {};
    for (const k of Object.keys(v)) {
      const pe = fieldElement(k);
      if (set.members.has(pe)) continue;
      const sub = set.children.get(pe);
      if (sub === undefined) {
        out[k] = v[k];
        continue;
      }
      // a field whose value loses everything stays, null (SMD's removing walker leaves it so)
      out[k] = removeItems(v[k], sub, fieldAtom(map, k)) ?? null;
    }
    return isEmpty(out) ? undefined : out;
  }
  return v;
}

/**
 * `set` with every declared struct field that has children also a member (SMD
 * Set.EnsureNamedFieldsAreMembers), so that removing the set removes such fields too.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, atom: Atom | undefined): FieldSet {
  if (set.children.size === 0) return set;
  const out = new FieldSet();
  for (const m of set.members) out.members.add(m);
  for (const [pe, child] of set.children) {
    let childAtom: Atom | undefined;
    if (pe.startsWith('f:') && atom?.map !== undefined) {
      const name = pe.slice(2);
      const declared = atom.map.field(name);
      if (declared !== undefined) out.members.add(pe);
      childAtom = declared ?? atom.map.elem();
    } else if (pe.startsWith('k:') && atom?.list !== undefined) {
      childAtom = atom.list.elem();
    }
    out.children.set(pe, ensureNamedFieldsAreMembers(child, childAtom));
  }
  return out;
}
