/**
 * JSON Patch (RFC 6902: add, remove, replace, move, copy, test) applied as kube-apiserver
 * applies it (gopkg.in/evanphx/json-patch.v4), with that library's quirks that clients can
 * see: negative array indices count from the end, `replace` of a missing object key adds
 * it, `test` of a missing key against null passes, `copy` from a missing key copies null,
 * and a path whose first segment is not empty is read as if it were. Pure: no I/O; the
 * document given is changed in place.
 *
 * Work is bounded: at most {@link MAX_JSON_PATCH_OPERATIONS} operations (kube's limit), and
 * the bytes `copy` may add, all copies together, at most {@link MAX_JSON_PATCH_COPY_BYTES}
 * (kube-apiserver's default --json-patch-max-copy-bytes); every other operation moves or
 * inserts values the patch itself holds, so a patch cannot grow the object past its own size
 * plus that.
 */
import { isPlainObject } from '../kube.ts';

/** kube-apiserver's maximum number of operations in one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/** kube-apiserver's default limit on the bytes `copy` operations may add (3 MiB). */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

/** Why an operation does not apply, in the library's words (kube answers all of them with one 422). */
export class JsonPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPatchError';
  }
}

/** One operation as decoded (fields absent when the patch omits them or sets them to null). */
export interface JsonPatchOperation {
  readonly op?: unknown;
  readonly path?: unknown;
  readonly from?: unknown;
  /** Present (possibly null) when the operation has a `value` field. */
  readonly value?: unknown;
  readonly hasValue: boolean;
}

const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

type Container = Record<string, unknown> | unknown[];

/** Go's strconv.Atoi: the integer, or the error text. */
function atoi(s: string): number | string {
  if (!/^[+-]?\d+$/.test(s)) return `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`;
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) return `strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`;
  return Number(n);
}

function decodeKey(k: string): string {
  return k.replace(/~1/g, '/').replace(/~0/g, '~');
}

function invalidIndex(idx: number): JsonPatchError {
  return new JsonPatchError(`Unable to access invalid index: ${idx}: ${INVALID_INDEX}`);
}

/** An array index `key` names, a negative one counted from the end; not checked against the end. */
function indexOf(con: unknown[], key: string): number {
  const parsed = atoi(key);
  if (typeof parsed === 'string') throw new JsonPatchError(parsed);
  if (parsed >= 0) return parsed;
  if (parsed < -con.length) throw invalidIndex(parsed);
  return parsed + con.length;
}

/** The value at `key` of a container; undefined for a missing object key; throws for an array index that cannot be. */
function get(con: Container, key: string): unknown {
  if (!Array.isArray(con)) return Object.hasOwn(con, key) ? con[key] : undefined;
  const idx = indexOf(con, key);
  if (idx >= con.length) throw invalidIndex(idx);
  return con[idx];
}

/** Replaces the value at an index known to exist (replace); objects just set. */
function set(con: Container, key: string, value: unknown): void {
  if (!Array.isArray(con)) {
    define(con, key, value);
    return;
  }
  con[indexOf(con, key)] = value;
}

function add(con: Container, key: string, value: unknown): void {
  if (!Array.isArray(con)) {
    define(con, key, value);
    return;
  }
  if (key === '-') {
    con.push(value);
    return;
  }
  const parsed = atoi(key);
  if (typeof parsed === 'string') throw new JsonPatchError(`value was not a proper array index: '${key}': ${parsed}`);
  let idx = parsed;
  const size = con.length + 1;
  if (idx >= size) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw invalidIndex(idx);
    idx += size;
  }
  con.splice(idx, 0, value);
}

function remove(con: Container, key: string): void {
  if (!Array.isArray(con)) {
    if (!Object.hasOwn(con, key)) throw new JsonPatchError(`Unable to remove nonexistent key: ${key}: ${MISSING}`);
    delete con[key];
    return;
  }
  const parsed = atoi(key);
  if (typeof parsed === 'string') throw new JsonPatchError(parsed);
  let idx = parsed;
  if (idx >= con.length) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -con.length) throw invalidIndex(idx);
    idx += con.length;
  }
  con.splice(idx, 1);
}

/** Sets an own property ("__proto__" included, as a plain key). */
function define(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The container holding the last segment of `path`, and that segment (the library's
 * findObject); undefined when a segment on the way is missing or not a container.
 */
function findObject(doc: Container, path: string): { con: Container; key: string } | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let con: Container = doc;
  for (const part of split.slice(1, -1)) {
    let next: unknown;
    try {
      next = get(con, decodeKey(part));
    } catch {
      return undefined;
    }
    if (!Array.isArray(next) && !isPlainObject(next)) return undefined;
    con = next;
  }
  return { con, key: decodeKey(split[split.length - 1] as string) };
}

/** Structural equality of JSON values (numbers by value). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (const k of keys) if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

function pathOf(op: JsonPatchOperation, field: 'path' | 'from', what: string): string {
  const value = op[field];
  if (value === undefined || value === null) {
    throw new JsonPatchError(field === 'path' ? `operation missing path field: ${MISSING}` : `operation, missing from field: ${MISSING}`);
  }
  if (typeof value !== 'string') throw new JsonPatchError(`${what}: json: cannot unmarshal ${typeof value === 'number' ? 'number' : Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : 'object'} into Go value of type string`);
  return value;
}

/** The operations of a decoded patch (an array of objects); the caller has checked its shape. */
export function operationsOf(patch: readonly unknown[]): JsonPatchOperation[] {
  return patch.map((element) => {
    const o = isPlainObject(element) ? element : {};
    const field = (k: string): unknown => (Object.hasOwn(o, k) && o[k] !== null ? o[k] : undefined);
    return { op: field('op'), path: field('path'), from: field('from'), value: Object.hasOwn(o, 'value') ? o.value : undefined, hasValue: Object.hasOwn(o, 'value') };
  });
}

/** `message: ` and the reason `err` gives (its message, or itself when it is a string). */
function wrap(message: string, err: unknown): JsonPatchError {
  return new JsonPatchError(`${message}: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * `fn()`, or, when it throws, a {@link JsonPatchError} of `message` wrapping the reason:
 * `reason` when given (where the library wraps its own ErrMissing rather than the cause),
 * else what was thrown.
 */
function attempt<T>(message: string, fn: () => T, reason?: string): T {
  try {
    return fn();
  } catch (err) {
    throw wrap(message, reason ?? err);
  }
}

/**
 * The operation's `path` or `from` (`field`); one it lacks or that is not a string fails as
 * `<kind> operation failed to decode <field>: <reason>`, the reason being "missing value"
 * where the library says only that (`hideReason`: add, remove, and copy's path).
 */
function decode(op: JsonPatchOperation, kind: string, field: 'path' | 'from', hideReason = false): string {
  return attempt(`${kind} operation failed to decode ${field}`, () => pathOf(op, field, kind), hideReason ? MISSING : undefined);
}

/** The container and key `path` names in `root`; a missing one fails as `<notFound>: missing value`. */
function locate(root: Container, path: string, notFound: string): { con: Container; key: string } {
  const found = findObject(root, path);
  if (found === undefined) throw new JsonPatchError(`${notFound}: ${MISSING}`);
  return found;
}

/**
 * Applies `operations` to `doc` (changed in place; the result may be another value when the
 * root is replaced) and returns the patched document. Throws {@link JsonPatchError} for an
 * operation that does not apply, with the library's words.
 */
export function applyJsonPatch(doc: Container, operations: readonly JsonPatchOperation[], copyLimit = MAX_JSON_PATCH_COPY_BYTES): Container {
  let root = doc;
  let copied = 0;
  for (const op of operations) {
    const kind = typeof op.op === 'string' ? op.op : 'unknown';
    switch (kind) {
      case 'add': {
        const path = decode(op, 'add', 'path', true);
        const found = locate(root, path, `add operation does not apply: doc is missing path: "${path}"`);
        attempt(`error in add for path: '${path}'`, () => add(found.con, found.key, op.value ?? null));
        break;
      }
      case 'remove': {
        const path = decode(op, 'remove', 'path', true);
        const found = locate(root, path, `remove operation does not apply: doc is missing path: "${path}"`);
        attempt(`error in remove for path: '${path}'`, () => remove(found.con, found.key));
        break;
      }
      case 'replace': {
        const path = decode(op, 'replace', 'path');
        if (path === '') {
          if (!Array.isArray(op.value) && !isPlainObject(op.value)) throw new JsonPatchError('replace operation value must be object or array: <nil>');
          root = op.value;
          break;
        }
        const found = locate(root, path, `replace operation does not apply: doc is missing path: ${path}`);
        attempt(`replace operation does not apply: doc is missing key: ${path}`, () => get(found.con, found.key), MISSING);
        // The library's own words for a replace, "remove" included.
        attempt(`error in remove for path: '${path}'`, () => set(found.con, found.key, op.value ?? null));
        break;
      }
      case 'move': {
        const from = decode(op, 'move', 'from');
        const source = locate(root, from, `move operation does not apply: doc is missing from path: ${from}`);
        const value = attempt(`error in move for path: '${source.key}'`, () => {
          const moved = get(source.con, source.key);
          remove(source.con, source.key);
          return moved;
        });
        const path = decode(op, 'move', 'path');
        const target = locate(root, path, `move operation does not apply: doc is missing destination path: ${path}`);
        attempt(`error in move for path: '${path}'`, () => add(target.con, target.key, value ?? null));
        break;
      }
      case 'test': {
        const path = decode(op, 'test', 'path');
        if (path === '') {
          if (!jsonEqual(root, op.value)) throw new JsonPatchError(`testing value ${path} failed: test failed`);
          break;
        }
        const found = locate(root, path, `test operation does not apply: is missing path: ${path}`);
        const value = attempt(`error in test for path: '${path}'`, () => get(found.con, found.key));
        const expected = op.value ?? null;
        if (value === undefined || value === null) {
          if (expected === null) break;
          throw new JsonPatchError(`testing value ${path} failed: test failed`);
        }
        if (!op.hasValue || !jsonEqual(value, expected)) throw new JsonPatchError(`testing value ${path} failed: test failed`);
        break;
      }
      case 'copy': {
        const from = decode(op, 'copy', 'from');
        const source = locate(root, from, `copy operation does not apply: doc is missing from path: ${from}`);
        const value = attempt(`error in copy for from: '${from}'`, () => get(source.con, source.key));
        const path = decode(op, 'copy', 'path', true);
        const target = locate(root, path, `copy operation does not apply: doc is missing destination path: ${path}`);
        // The copy is its JSON text parsed again: what it costs is that text's length.
        const text = value === undefined ? undefined : JSON.stringify(value);
        if (text !== undefined) {
          copied += Buffer.byteLength(text);
          if (copyLimit > 0 && copied > copyLimit) {
            throw new JsonPatchError(`Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${copyLimit}`);
          }
        }
        attempt('error while adding value during copy', () => add(target.con, target.key, text === undefined ? null : (JSON.parse(text) as unknown)));
        break;
      }
      default:
        throw new JsonPatchError(`Unexpected kind: ${kind}`);
    }
  }
  return root;
}
