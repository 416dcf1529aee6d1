/**
 * Strategic merge patch as kube-apiserver applies it (k8s.io/apimachinery's
 * strategicpatch.StrategicMergeMapPatch, server side: parallel lists merged, unmatched nulls
 * ignored), driven by the merge facts of the kind's schema (`x-kubernetes-patch-strategy`,
 * `x-kubernetes-patch-merge-key` of lib/kinds/generated):
 *
 * - objects merge key by key, null deletes; a field with strategy `replace` is replaced;
 * - lists with strategy `merge` merge: lists of objects by their merge key, lists of scalars
 *   as a set (`$deleteFromPrimitiveList/<field>` removes items); other lists are replaced;
 * - directives: `$patch: replace` and `$patch: delete` in an object or a list item,
 *   `$retainKeys` (the keys an object keeps), `$setElementOrder/<field>` (the order of a merged
 *   list). `$patch: merge` is refused, as kube refuses it.
 *
 * Errors carry kube's words; kube answers its malformed-format errors with 400, lists of lists
 * with 422, and the rest (bad directive values, items without their merge key) with a 500 of
 * the same words, which here are 400: they come from the patch. Pure; both inputs may be
 * changed in place. Work is linear in the sizes of the object and patch, except list merges,
 * which are quadratic in the list's length (as kube's are), bounded by the body size.
 */
import { isPlainObject } from '../kube.ts';
import { goFormat, goTypeName } from './go-format.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

/** Why a strategic merge patch does not apply: `status` 400 or 422, in kube's words. */
export class StrategicMergeError extends Error {
  readonly status: 400 | 422;
  constructor(message: string, status: 400 | 422 = 400) {
    super(message);
    this.name = 'StrategicMergeError';
    this.status = status;
  }
}

const ERR_NO_LIST_OF_LISTS = (): StrategicMergeError => new StrategicMergeError('lists of lists are not supported', 422);
const ERR_PRIMITIVE_LIST = (): StrategicMergeError => new StrategicMergeError('invalid patch format of primitive list');
const ERR_RETAIN_KEYS = (): StrategicMergeError => new StrategicMergeError('invalid patch format of retainKeys');
const ERR_SET_ELEMENT_ORDER = (): StrategicMergeError => new StrategicMergeError('invalid patch format of setElementOrder list');

function errBadArgType(expected: string, actual: unknown): StrategicMergeError {
  return new StrategicMergeError(`expected a ${expected}, but received a ${goTypeName(actual)}`);
}

function errNoMergeKey(m: Record<string, unknown>, key: string): StrategicMergeError {
  return new StrategicMergeError(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
}

function errBadPatchType(t: unknown, m: Record<string, unknown>): StrategicMergeError {
  return new StrategicMergeError(`unknown patch type: ${goFormat(t)} in map: ${goFormat(m)}`);
}

/** The merge facts of one field: its strategies (`merge`, `replace`, `retainKeys`) and merge key. */
export interface PatchMeta {
  readonly strategies: readonly string[];
  readonly mergeKey: string;
}

/** Where the merge facts of a value's fields are found (kube's LookupPatchMeta). */
export interface MergeSchema {
  /** The type's name, for messages. */
  readonly name: string;
  /** Field `key`'s facts and the schema of its value (`slice`: of its items). */
  lookup(key: string, slice: boolean): { schema: MergeSchema; meta: PatchMeta };
}

const NO_META: PatchMeta = { strategies: [], mergeKey: '' };

/** No facts: objects merge, lists are replaced (what kube does for a field it knows nothing of). */
export const NO_MERGE_FACTS: MergeSchema = {
  name: '',
  lookup: () => ({ schema: NO_MERGE_FACTS, meta: NO_META }),
};

/** An OpenAPI v2 schema, the parts merge facts are read from. */
export interface FactsSchema {
  readonly $ref?: string;
  readonly properties?: Readonly<Record<string, FactsSchema>>;
  readonly items?: FactsSchema;
  readonly additionalProperties?: FactsSchema | boolean;
  readonly 'x-kubernetes-patch-strategy'?: string;
  readonly 'x-kubernetes-patch-merge-key'?: string;
}

/**
 * The merge facts of definition `name` (a kind's schema) from OpenAPI definitions found by
 * `lookup`: each field's facts are on its property schema; references are followed lazily.
 */
export function mergeFactsOf(lookup: (name: string) => FactsSchema | undefined, name: string): MergeSchema {
  const resolve = (schema: FactsSchema | undefined, hops = 0): FactsSchema | undefined => {
    if (schema?.$ref === undefined || hops > 16) return schema;
    return resolve(lookup(schema.$ref.replace(/^#\/definitions\//, '')), hops + 1);
  };
  const of = (schema: FactsSchema | undefined, typeName: string): MergeSchema => {
    const resolved = resolve(schema);
    if (resolved === undefined) return NO_MERGE_FACTS;
    return {
      name: typeName,
      lookup(key, slice) {
        let field: FactsSchema | undefined;
        let meta = NO_META;
        if (resolved.properties !== undefined && Object.hasOwn(resolved.properties, key)) {
          field = resolved.properties[key];
          const strategy = field?.['x-kubernetes-patch-strategy'];
          meta = { strategies: strategy === undefined || strategy === '' ? [] : strategy.split(','), mergeKey: field?.['x-kubernetes-patch-merge-key'] ?? '' };
        } else if (typeof resolved.additionalProperties === 'object') {
          field = resolved.additionalProperties;
        } else {
          return { schema: NO_MERGE_FACTS, meta: NO_META };
        }
        // A list field's items (kube's sliceItem): an array's items, or for a reference (a
        // field declared as one object that a patch gives as a list) the referenced type.
        const value = slice && field?.$ref === undefined ? resolve(field)?.items : field;
        const ref = resolve(field)?.items?.$ref ?? field?.$ref;
        return { schema: of(value, ref?.split('.').pop() ?? key), meta };
      },
    };
  };
  return of({ $ref: `#/definitions/${name}` }, name.split('.').pop() ?? name);
}

type Json = unknown;
type JsonMap = Record<string, Json>;

/** The Go type of a decoded JSON value, for "same type" checks (reflect.TypeOf). */
function typeOf(v: Json): string {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (isPlainObject(v)) return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return typeof v;
}

function setKey(m: JsonMap, k: string, v: Json): void {
  Object.defineProperty(m, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/**
 * Applies strategic merge patch `patch` to `original` (both objects; the result is built from
 * them, so neither should be used afterwards) with the facts of `schema`.
 */
export function applyStrategicMergePatch(original: JsonMap, patch: JsonMap, schema: MergeSchema): JsonMap {
  return mergeMap(original, patch, schema);
}

function mergeMap(original: JsonMap | undefined, patch: JsonMap, schema: MergeSchema): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return patch;
    }
    if (directive === 'delete') return {};
    throw errBadPatchType(directive, patch);
  }
  const out = original ?? {};
  applyRetainKeys(out, patch);
  mergePatchIntoOriginal(out, patch, schema);
  for (const key of Object.keys(patch)) {
    const patchV = patch[key];
    let k = key;
    let isDeleteList = false;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      k = extractKey(key, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete out[k];
      continue;
    }
    const present = Object.hasOwn(out, k);
    if (!present || typeOf(out[k]) !== typeOf(patchV)) {
      if (!isDeleteList) {
        discardNulls(patchV);
        const [v, keep] = removeDirectives(patchV);
        if (keep) setKey(out, k, v);
        else delete out[k];
      }
      continue;
    }
    const current = out[k];
    if (isPlainObject(current)) {
      const { schema: sub, meta } = schema.lookup(k, false);
      const strategy = patchStrategy(meta.strategies);
      setKey(out, k, strategy === 'replace' ? patchV : mergeMap(current, patchV as JsonMap, sub));
    } else if (Array.isArray(current)) {
      const { schema: sub, meta } = schema.lookup(k, true);
      const strategy = patchStrategy(meta.strategies);
      setKey(out, k, strategy === 'merge' || isDeleteList ? mergeSlice(current, patchV as Json[], sub, meta.mergeKey, isDeleteList) : patchV);
    } else {
      const [v, keep] = removeDirectives(patchV);
      if (keep) setKey(out, k, v);
      else delete out[k];
    }
  }
  return out;
}

/** The strategy other than retainKeys (kube's extractRetainKeysPatchStrategy). */
function patchStrategy(strategies: readonly string[]): string {
  if (strategies.length === 0) return '';
  if (strategies.length === 1) return strategies[0] === 'retainKeys' ? '' : (strategies[0] as string);
  if (strategies.length === 2) {
    if (strategies[0] === 'retainKeys') return strategies[1] as string;
    if (strategies[1] === 'retainKeys') return strategies[0] as string;
  }
  throw new StrategicMergeError(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    throw prefix === DELETE_FROM_PRIMITIVE_LIST ? ERR_PRIMITIVE_LIST() : ERR_SET_ELEMENT_ORDER();
  }
  return s.slice(slash + 1);
}

function discardNulls(v: Json): void {
  if (Array.isArray(v)) {
    for (const e of v) discardNulls(e);
  } else if (isPlainObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNulls(v[k]);
    }
  }
}

/** The value without directives; false when the value itself is one (an object with `$patch`). */
function removeDirectives(v: Json): [Json, boolean] {
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const e of v) {
      const [x, keep] = removeDirectives(e);
      if (keep) out.push(x);
    }
    return [out, true];
  }
  if (isPlainObject(v)) {
    if (Object.hasOwn(v, DIRECTIVE)) return [null, false];
    for (const k of Object.keys(v)) {
      const [x, keep] = removeDirectives(v[k]);
      if (keep) setKey(v, k, x);
      else delete v[k];
    }
  }
  return [v, true];
}

function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw ERR_RETAIN_KEYS();
  const keep = new Set<unknown>(list);
  for (const k of Object.keys(patch)) {
    if (patch[k] === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw ERR_RETAIN_KEYS();
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** Every `$setElementOrder/<field>` of `patch`: that list merged and put in the order given. */
function mergePatchIntoOriginal(original: JsonMap, patch: JsonMap, schema: MergeSchema): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType('[]interface {}', order);
    const field = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = Object.hasOwn(original, field);
    const foundPatch = Object.hasOwn(patch, field);
    const originalList = original[field];
    const patchList = patch[field];
    if (foundOriginal && !Array.isArray(originalList)) throw errBadArgType('[]interface {}', originalList);
    if (foundPatch && !Array.isArray(patchList)) throw errBadArgType('[]interface {}', patchList);
    const originalItems = foundOriginal ? (originalList as Json[]) : [];
    const patchItemsIn = foundPatch ? (patchList as Json[]) : [];
    const { schema: sub, meta } = schema.lookup(field, true);
    const strategy = patchStrategy(meta.strategies);
    validateWithSetOrderList(patchItemsIn, order, meta.mergeKey);
    let merged: Json[];
    if (foundOriginal && !foundPatch) merged = originalItems;
    else if (!foundOriginal && foundPatch) merged = removeDirectives(patchItemsIn)[0] as Json[];
    else if (foundOriginal && foundPatch) {
      merged = strategy === 'merge' ? mergeSlice(originalItems.slice(), patchItemsIn, sub, meta.mergeKey, false) : patchItemsIn;
    } else continue;
    const [patchItems, serverOnly] = meta.mergeKey === '' ? partitionPrimitives(merged, order) : partitionMaps(merged, order, meta.mergeKey);
    const kind = sliceElementKind(originalItems, patchItemsIn);
    const serverOrder = foundOriginal && foundPatch && strategy === 'merge' && kind === 'map' ? mergedInPlaceView(originalItems, patchItemsIn, meta.mergeKey) : originalItems;
    setKey(original, field, normalizeElementOrder(patchItems, serverOnly, order, serverOrder, meta.mergeKey, kind));
    delete patch[field];
  }
}

/**
 * The server order kube's `$setElementOrder` merge interleaves by: not the original list but
 * what its memory holds after the merge, seen at the original length. kube deletes items by
 * shifting the rest left in place and appends the patch's new items into the room freed, so
 * the order is the surviving items, then the new ones, cut at the original length (what else
 * the memory holds is never looked up first). kube's own test tables expect the order this
 * gives ("add map and delete map from merging list"). Not followed: a list that both has
 * `$patch: replace` and deletes items, where the memory's leftovers could be looked up.
 */
function mergedInPlaceView(original: Json[], patch: Json[], mergeKey: string): Json[] {
  const deleted = new Set<Json>();
  let replace = false;
  for (const v of patch) {
    if (!isPlainObject(v) || !Object.hasOwn(v, DIRECTIVE)) continue;
    if (v[DIRECTIVE] === 'replace') replace = true;
    else if (v[DIRECTIVE] === 'delete') deleted.add(v[mergeKey]);
  }
  const keyOf = (e: Json): Json => (isPlainObject(e) && Object.hasOwn(e, mergeKey) ? e[mergeKey] : undefined);
  const view = original.filter((e) => !deleted.has(keyOf(e)) || keyOf(e) === undefined);
  if (!replace) {
    const present = new Set(view.map(keyOf));
    for (const v of patch) {
      if (!isPlainObject(v) || Object.hasOwn(v, DIRECTIVE) || present.has(v[mergeKey])) continue;
      present.add(v[mergeKey]);
      view.push(v);
    }
  }
  return view.slice(0, original.length);
}

function mergeKeyValueEqual(left: Json, right: Json, mergeKey: string): boolean {
  if (mergeKey === '') return left === right;
  if (!isPlainObject(left)) throw errBadArgType('map[string]interface {}', left);
  if (!isPlainObject(right)) throw errBadArgType('map[string]interface {}', right);
  if (!Object.hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function validateWithSetOrderList(patchList: Json[], order: Json[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey === '' ? patchList : extractToDeleteItems(patchList)[0];
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < order.length) {
    const item = nonDelete[p];
    if (isPlainObject(item) && Object.hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(item, order[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= order.length) {
    throw new StrategicMergeError(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`);
  }
}

/** The kind of the items of the lists ('map' or a scalar type); an error for lists of lists or mixed items. */
function sliceElementKind(...lists: Json[][]): string {
  let prev: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const t = typeOf(v);
      if (prev === undefined) {
        prev = t;
        if (t === 'slice') throw ERR_NO_LIST_OF_LISTS();
      } else if (prev !== t) {
        throw new StrategicMergeError(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  if (prev === undefined) throw new StrategicMergeError('no elements in any of the given slices');
  return prev;
}

function mergeSlice(original: Json[], patch: Json[], schema: MergeSchema, mergeKey: string, isDeleteList: boolean): Json[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  let merged: Json[];
  let server = original;
  let items = patch;
  if (kind !== 'map') {
    if (isDeleteList) {
      const drop = new Set(patch);
      return original.filter((v) => !drop.has(v));
    }
    merged = [...new Set([...original, ...patch])];
  } else {
    if (mergeKey === '') throw new StrategicMergeError(`cannot merge lists without merge key for ${schema.name}`);
    [server, items] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = server.slice();
    // Where each merge key value is in the list (its first item), kept as items are appended.
    const at = new Map<Json, number>();
    merged.forEach((v, i) => {
      const value = (v as JsonMap)[mergeKey];
      if (Object.hasOwn(v as JsonMap, mergeKey) && !at.has(value)) at.set(value, i);
    });
    for (const v of items) {
      const item = v as JsonMap;
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      const i = at.get(item[mergeKey]);
      if (i !== undefined) merged[i] = mergeMap(merged[i] as JsonMap, item, schema);
      else {
        at.set(item[mergeKey], merged.length);
        merged.push(item);
      }
    }
  }
  const [patchItems, serverOnly] = mergeKey === '' ? partitionPrimitives(merged, items) : partitionMaps(merged, items, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, items, server, mergeKey, kind);
}

/** `$patch` items of a list of objects: delete removes the matching items, replace keeps only the patch's. */
function mergeSliceWithSpecialElements(original: Json[], patch: Json[], mergeKey: string): [Json[], Json[]] {
  const plain: Json[] = [];
  let replace = false;
  const deleted = new Set<Json>();
  for (const v of patch) {
    const item = v as JsonMap;
    if (!Object.hasOwn(item, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      deleted.add(item[mergeKey]);
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new StrategicMergeError('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, item);
    }
  }
  if (replace) return [plain, []];
  if (deleted.size === 0) return [original, plain];
  // Deletions only remove: one pass with all of them is the same as one pass each.
  const server = original.filter((e) => !(Object.hasOwn(e as JsonMap, mergeKey) && deleted.has((e as JsonMap)[mergeKey])));
  return [server, plain];
}

/** Where each item's merge key value (or, for scalars, the item) first is in `list`. */
function positionsIn(list: Json[], mergeKey: string, kind: string): Map<Json, number> {
  const positions = new Map<Json, number>();
  list.forEach((v, i) => {
    const value = kind === 'map' ? (isPlainObject(v) && Object.hasOwn(v, mergeKey) ? v[mergeKey] : undefined) : v;
    if (value !== undefined && !positions.has(value)) positions.set(value, i);
  });
  return positions;
}

function positionOf(positions: Map<Json, number>, item: Json, mergeKey: string, kind: string): number {
  const value = kind === 'map' ? (isPlainObject(item) ? item[mergeKey] : undefined) : item;
  return positions.get(value) ?? -1;
}

function partitionPrimitives(list: Json[], by: Json[]): [Json[], Json[]] {
  const inPatch = new Set(by);
  return [list.filter((v) => inPatch.has(v)), list.filter((v) => !inPatch.has(v))];
}

function partitionMaps(list: Json[], by: Json[], mergeKey: string): [Json[], Json[]] {
  const keys = new Set<Json>();
  by.forEach((v, i) => {
    if (!isPlainObject(v)) throw new StrategicMergeError(`value for key ${i} is not a map`);
    if (Object.hasOwn(v, mergeKey)) keys.add(v[mergeKey]);
  });
  const inPatch: Json[] = [];
  const serverOnly: Json[] = [];
  for (const v of list) {
    if (!isPlainObject(v)) throw errBadArgType('map[string]interface {}', v);
    if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (keys.has(v[mergeKey]) ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

function extractToDeleteItems(list: Json[]): [Json[], Json[]] {
  const keep: Json[] = [];
  const drop: Json[] = [];
  for (const v of list) {
    if (!isPlainObject(v)) throw errBadArgType('map[string]interface {}', v);
    (v[DIRECTIVE] === 'delete' ? drop : keep).push(v);
  }
  return [keep, drop];
}

function normalizeSliceOrder(toSort: Json[], order: Json[], mergeKey: string, kind: string): Json[] {
  let items = toSort;
  let drop: Json[] = [];
  if (kind === 'map') {
    for (const list of [toSort, order]) {
      for (const v of list) {
        if (!isPlainObject(v)) throw errBadArgType('map[string]interface {}', v);
        if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
      }
    }
    [items, drop] = extractToDeleteItems(toSort);
  }
  const positions = positionsIn(order, mergeKey, kind);
  const sorted = items
    .map((v, i) => ({ v, i, at: positionOf(positions, v, mergeKey, kind) }))
    .sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i))
    .map((e) => e.v);
  return [...sorted, ...drop];
}

/** The patch's items in the patch's order and the server's in its own, interleaved by the server's order. */
function normalizeElementOrder(patch: Json[], serverOnly: Json[], patchOrder: Json[], serverOrder: Json[], mergeKey: string, kind: string): Json[] {
  const right = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const left = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  const positions = positionsIn(serverOrder, mergeKey, kind);
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = positionOf(positions, left[i], mergeKey, kind);
      const ri = positionOf(positions, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}
