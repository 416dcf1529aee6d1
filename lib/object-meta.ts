/**
 * The shape of an object's TypeMeta and ObjectMeta as kube's JSON decoding into its typed Go
 * structs sees it, written once as a table of field -> Go type (OBJECT_META below). Two readers:
 *
 * - {@link decodeObjectMeta}, for every write: checks the types of kind, apiVersion and
 *   metadata and normalises them as decoding into the typed struct and encoding it again does
 *   (JSON null is Go's zero value, so `labels: null` is no labels; zero values of omitempty
 *   fields, and fields ObjectMeta does not have, are dropped; times take metav1.Time's form).
 *   A wrong type is a 400 BadRequest in kube-apiserver's words.
 * - {@link objectShapeProblem}, for the read path: why an object already stored could not have
 *   been decoded, without quoting any of its values. Selectors match no such object (lib/
 *   selectors.ts), and {@link MalformedObjectLog} reports each one once.
 *
 * The decoding follows Go's encoding/json as kube uses it (sigs.k8s.io/json, case-sensitive): a
 * value of the wrong type is skipped and the first such error, in document order, is reported
 * at the end, except that metav1.Time's own decoding stops at its first error, which then wins.
 */
import { badRequest, type StatusError } from './errors.ts';
import { formatRFC3339, parseRFC3339 } from './go-time.ts';
import { isPlainObject, type KubeObject } from './kube.ts';
import type { Logger } from './log.ts';

/** A Go type a JSON value is decoded into. */
export type GoType =
  /** A string kind; `name` is the Go type (string, types.UID, ...). */
  | { readonly kind: 'string'; readonly name: string }
  | { readonly kind: 'int64' }
  | { readonly kind: 'bool' }
  /** metav1.Time: a string in RFC 3339, decoded by its own UnmarshalJSON. */
  | { readonly kind: 'time' }
  /** Any JSON kept as it is (v1.FieldsV1). */
  | { readonly kind: 'raw' }
  | { readonly kind: 'map'; readonly name: string; readonly value: GoType }
  | { readonly kind: 'slice'; readonly name: string; readonly element: GoType }
  | GoStruct;

/** A Go struct: its name in messages (`ObjectMeta`), its type (`v1.ObjectMeta`) and its JSON fields. */
export interface GoStruct {
  readonly kind: 'struct';
  readonly struct: string;
  readonly name: string;
  readonly fields: ReadonlyMap<string, GoField>;
}

/** A struct field: its type, and how encoding/json writes it back. */
export interface GoField {
  readonly type: GoType;
  /** `json:",omitempty"`: left out when zero ("", 0, false, nil or empty map and slice). */
  readonly omitEmpty: boolean;
  /** A pointer (`*int64`, `*bool`, `*Time`): null is nil and left out; any other value, zero or not, is kept. */
  readonly pointer: boolean;
}

const STRING: GoType = { kind: 'string', name: 'string' };
const UID: GoType = { kind: 'string', name: 'types.UID' };
const INT64: GoType = { kind: 'int64' };
const BOOL: GoType = { kind: 'bool' };
const TIME: GoType = { kind: 'time' };
const RAW: GoType = { kind: 'raw' };
const STRING_MAP: GoType = { kind: 'map', name: 'map[string]string', value: STRING };
const STRING_SLICE: GoType = { kind: 'slice', name: '[]string', element: STRING };

/** A field with omitempty (every ObjectMeta field has it). */
function optional(type: GoType, pointer = false): GoField {
  return { type, omitEmpty: true, pointer };
}

/** A field without omitempty: always written, "" when absent. */
function required(type: GoType): GoField {
  return { type, omitEmpty: false, pointer: false };
}

/** A struct type for the table (and for lib/selectors.ts, which describes the fields it selects by). */
export function goStruct(struct: string, name: string, fields: Record<string, GoField>): GoStruct {
  return { kind: 'struct', struct, name, fields: new Map(Object.entries(fields)) };
}

/** A field of a struct given to {@link goStruct}. */
export const goField = {
  string: (name = 'string'): GoField => optional(name === 'string' ? STRING : { kind: 'string', name }),
  bool: (): GoField => optional(BOOL),
  struct: (type: GoStruct): GoField => optional(type),
};

/** metav1.OwnerReference. */
const OWNER_REFERENCE = goStruct('OwnerReference', 'v1.OwnerReference', {
  apiVersion: required(STRING),
  kind: required(STRING),
  name: required(STRING),
  uid: required(UID),
  controller: optional(BOOL, true),
  blockOwnerDeletion: optional(BOOL, true),
});

/** metav1.ManagedFieldsEntry. */
const MANAGED_FIELDS_ENTRY = goStruct('ManagedFieldsEntry', 'v1.ManagedFieldsEntry', {
  manager: optional(STRING),
  operation: optional({ kind: 'string', name: 'v1.ManagedFieldsOperationType' }),
  apiVersion: optional(STRING),
  time: optional(TIME, true),
  fieldsType: optional(STRING),
  fieldsV1: optional(RAW, true),
  subresource: optional(STRING),
});

/** metav1.ObjectMeta, field by field, in the order kube writes them. */
export const OBJECT_META: GoStruct = goStruct('ObjectMeta', 'v1.ObjectMeta', {
  name: optional(STRING),
  generateName: optional(STRING),
  namespace: optional(STRING),
  selfLink: optional(STRING),
  uid: optional(UID),
  resourceVersion: optional(STRING),
  generation: optional(INT64),
  creationTimestamp: optional(TIME),
  deletionTimestamp: optional(TIME, true),
  deletionGracePeriodSeconds: optional(INT64, true),
  labels: optional(STRING_MAP),
  annotations: optional(STRING_MAP),
  ownerReferences: optional({ kind: 'slice', name: '[]v1.OwnerReference', element: OWNER_REFERENCE }),
  finalizers: optional(STRING_SLICE),
  managedFields: optional({ kind: 'slice', name: '[]v1.ManagedFieldsEntry', element: MANAGED_FIELDS_ENTRY }),
});

/** metav1.TypeMeta's fields, which kube reads first, on their own (the serializer's meta factory). */
const TYPE_META_FIELDS = ['apiVersion', 'kind'] as const;

/** Where a value sits: the struct that holds the field, and the field's path from the object (no indexes or map keys, as Go's). */
export interface Place {
  struct: string;
  path: string;
}

/** How encoding/json names a JSON value that does not fit. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'object';
  }
}

/** json.UnmarshalTypeError's text: `what` (a JSON kind) into `type`, the field at `at`. */
export function unmarshalTypeError(what: string, type: string, at: Place): string {
  return `json: cannot unmarshal ${what} into Go struct field ${at.struct}.${at.path} of type ${type}`;
}

/** An int64 as strconv.ParseInt takes it (a JSON number with a fraction or out of range is refused). */
function isInt64(value: number): boolean {
  return Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63;
}

/** metav1.Time's decoding stops the whole decoding at its first error. */
class FatalDecodeError extends Error {}

/** One decoding: the first type error, in document order. */
class Decoding {
  firstError: string | undefined;

  save(error: string): undefined {
    this.firstError ??= error;
    return undefined;
  }

  /**
   * Decodes `value` into `type` at `at`: the JSON encoding/json would write for the Go value,
   * with undefined for nil (and for a value that did not fit, after saving the error).
   */
  value(value: unknown, type: GoType, at: Place): unknown {
    switch (type.kind) {
      case 'string':
        if (value === null) return '';
        return typeof value === 'string' ? value : this.save(unmarshalTypeError(jsonKind(value), type.name, at));
      case 'bool':
        if (value === null) return false;
        return typeof value === 'boolean' ? value : this.save(unmarshalTypeError(jsonKind(value), 'bool', at));
      case 'int64':
        if (value === null) return 0;
        if (typeof value === 'number') return isInt64(value) ? value : this.save(unmarshalTypeError(`number ${String(value)}`, 'int64', at));
        return this.save(unmarshalTypeError(jsonKind(value), 'int64', at));
      case 'time': {
        if (value === null) return undefined;
        // Time.UnmarshalJSON decodes a string first; its error gets the field's context.
        if (typeof value !== 'string') throw new FatalDecodeError(unmarshalTypeError(jsonKind(value), 'string', at));
        const parsed = parseRFC3339(value);
        if ('error' in parsed) throw new FatalDecodeError(parsed.error);
        return parsed.zero ? undefined : formatRFC3339(parsed.ms);
      }
      case 'raw':
        return value === null ? undefined : value;
      case 'map': {
        if (value === null) return undefined;
        if (!isPlainObject(value)) return this.save(unmarshalTypeError(jsonKind(value), type.name, at));
        const entries: [string, unknown][] = [];
        for (const key of Object.keys(value)) entries.push([key, this.value(value[key], type.value, at) ?? zero(type.value)]);
        // fromEntries defines each key as an own property, "__proto__" included.
        return Object.fromEntries(entries);
      }
      case 'slice': {
        if (value === null) return undefined;
        if (!Array.isArray(value)) return this.save(unmarshalTypeError(jsonKind(value), type.name, at));
        return value.map((element) => this.value(element, type.element, at) ?? zero(type.element));
      }
      case 'struct':
        if (value === null) return this.struct({}, type);
        if (!isPlainObject(value)) return this.save(unmarshalTypeError(jsonKind(value), type.name, at));
        return this.struct(value, type, at.path);
    }
  }

  /** A struct's fields in the table's order; fields it does not have are dropped, as Go drops them. */
  struct(value: Record<string, unknown>, type: GoStruct, path = ''): Record<string, unknown> {
    const decoded = new Map<string, unknown>();
    for (const key of Object.keys(value)) {
      const field = type.fields.get(key);
      if (field === undefined) continue;
      // null sets a pointer to nil (left out), where it leaves a value its zero.
      if (field.pointer && value[key] === null) {
        decoded.delete(key);
        continue;
      }
      decoded.set(key, this.value(value[key], field.type, { struct: type.struct, path: path === '' ? key : `${path}.${key}` }));
    }
    const out: Record<string, unknown> = {};
    for (const [key, field] of type.fields) {
      const v = decoded.get(key);
      if (field.pointer ? v !== undefined : !(field.omitEmpty && isZero(v))) out[key] = v ?? zero(field.type);
    }
    return out;
  }
}

/** The Go zero value of `type` as encoding/json writes it (undefined: null, i.e. left out). */
function zero(type: GoType): unknown {
  switch (type.kind) {
    case 'string':
      return '';
    case 'int64':
      return 0;
    case 'bool':
      return false;
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const [key, field] of type.fields) if (!field.omitEmpty) out[key] = zero(field.type);
      return out;
    }
    default:
      return undefined;
  }
}

function isZero(value: unknown): boolean {
  if (value === undefined || value === '' || value === 0 || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

/** What a body's kind and apiVersion say, for the words of a decoding error. */
function bodyKind(body: Record<string, unknown>, kind: string, version: string): { kind: string; version: string } {
  const k = typeof body.kind === 'string' && body.kind !== '' ? body.kind : kind;
  const apiVersion = typeof body.apiVersion === 'string' ? body.apiVersion : '';
  return { kind: k, version: apiVersion === '' ? version : apiVersion.slice(apiVersion.lastIndexOf('/') + 1) };
}

/**
 * The body of a create or update of a `kind` in API `version`, with kind, apiVersion and
 * metadata checked and normalised as kube's decoding into the typed object does (see the top of
 * this file); every other field is left as it is. Throws BadRequest with kube-apiserver's words:
 * `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into
 * Go struct field ObjectMeta.metadata.labels of type string`. (For a kind or apiVersion of the
 * wrong type kube appends the first 30 bytes of the body; no body is ever echoed here.)
 */
export function decodeObjectMeta(body: KubeObject, target: { kind: string; version: string }): KubeObject {
  const out: Record<string, unknown> = { ...body };
  for (const key of Object.keys(body)) {
    if (!(TYPE_META_FIELDS as readonly string[]).includes(key)) continue;
    const value = body[key];
    if (value === null) delete out[key];
    else if (typeof value !== 'string') {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${target.kind}): couldn't get version/kind; json parse error: ` +
          unmarshalTypeError(jsonKind(value), 'string', { struct: '', path: key }),
      );
    }
  }
  const decoding = new Decoding();
  let error: string | undefined;
  try {
    const metadata = decoding.value(body.metadata ?? null, OBJECT_META, { struct: target.kind, path: 'metadata' });
    out.metadata = metadata ?? {};
    error = decoding.firstError;
  } catch (err) {
    if (!(err instanceof FatalDecodeError)) throw err;
    error = err.message;
  }
  if (error !== undefined) {
    const from = bodyKind(body, target.kind, target.version);
    throw cannotBeHandled(from, target.kind, error);
  }
  return out as KubeObject;
}

function cannotBeHandled(from: { kind: string; version: string }, kind: string, error: string): StatusError {
  return badRequest(`${from.kind} in version ${JSON.stringify(from.version)} cannot be handled as a ${kind}: ${error}`);
}

/** A field's path below `parent` ("" at the object). */
function pathOf(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function mismatch(what: string, goType: string, struct: string, parent: string, key: string): string {
  return unmarshalTypeError(what, goType, { struct, path: pathOf(parent, key) });
}

/**
 * Why `value` could not be decoded into `type` — field `key` of the Go struct `struct`, at
 * `parent` — without quoting it; undefined when it can. The read path's check, run on every
 * object a selector reads: nothing is built unless there is a problem.
 */
function typeProblem(value: unknown, type: GoType, struct: string, parent: string, key: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (type.kind) {
    case 'string':
      return typeof value === 'string' ? undefined : mismatch(jsonKind(value), type.name, struct, parent, key);
    case 'bool':
      return typeof value === 'boolean' ? undefined : mismatch(jsonKind(value), 'bool', struct, parent, key);
    case 'int64':
      if (typeof value === 'number') return isInt64(value) ? undefined : mismatch('number', 'int64', struct, parent, key);
      return mismatch(jsonKind(value), 'int64', struct, parent, key);
    case 'time':
      if (typeof value !== 'string') return mismatch(jsonKind(value), 'string', struct, parent, key);
      return 'error' in parseRFC3339(value) ? `${struct}.${pathOf(parent, key)} is not an RFC 3339 time` : undefined;
    case 'raw':
      return undefined;
    case 'map':
      if (!isPlainObject(value)) return mismatch(jsonKind(value), type.name, struct, parent, key);
      for (const k in value) {
        if (!Object.hasOwn(value, k)) continue;
        const found = typeProblem(value[k], type.value, struct, parent, key);
        if (found !== undefined) return found;
      }
      return undefined;
    case 'slice':
      if (!Array.isArray(value)) return mismatch(jsonKind(value), type.name, struct, parent, key);
      for (const element of value) {
        const found = typeProblem(element, type.element, struct, parent, key);
        if (found !== undefined) return found;
      }
      return undefined;
    case 'struct': {
      if (!isPlainObject(value)) return mismatch(jsonKind(value), type.name, struct, parent, key);
      const path = key === '' ? parent : pathOf(parent, key);
      // The object's own keys (fewer than the struct's fields, mostly); fields Go does not have are not read.
      for (const name in value) {
        const field = type.fields.get(name);
        if (field === undefined || !Object.hasOwn(value, name)) continue;
        const found = typeProblem(value[name], field.type, type.struct, path, name);
        if (found !== undefined) return found;
      }
      return undefined;
    }
  }
}

/**
 * Why kube could not decode a stored object's kind, apiVersion or metadata — or the fields of
 * `kind` (a partial struct of the object's top-level fields: lib/selectors.ts gives the ones it
 * selects by) — in words that quote no value; undefined when it could. Never throws.
 */
export function objectShapeProblem(object: unknown, kind?: GoStruct): string | undefined {
  if (!isPlainObject(object)) return `the object is ${jsonKind(object)}, not an object`;
  // The Go struct the message names: the kind's (its own kind, for a stored object of any resource).
  const struct = kind?.struct ?? (typeof object.kind === 'string' && object.kind !== '' ? object.kind : 'Object');
  for (const key of TYPE_META_FIELDS) {
    const value = object[key];
    if (value !== undefined && value !== null && typeof value !== 'string') return unmarshalTypeError(jsonKind(value), 'string', { struct, path: key });
  }
  return typeProblem(object.metadata, OBJECT_META, struct, '', 'metadata') ?? (kind === undefined ? undefined : typeProblem(object, kind, struct, '', ''));
}

/**
 * Logs each malformed stored object once, by its key, rather than on every request that skips
 * it. The last `capacity` keys are remembered (the oldest is forgotten first), so the memory it
 * takes is bounded however many objects are malformed.
 */
export class MalformedObjectLog {
  private readonly logger: Logger;
  private readonly capacity: number;
  private readonly seen = new Set<string>();

  constructor(logger: Logger, capacity = 1024) {
    this.logger = logger;
    this.capacity = capacity;
  }

  /** Logs that the object stored at `key` is malformed (`problem` quotes none of its values), unless it was logged already. */
  report(key: string, problem: string): void {
    if (this.seen.has(key)) return;
    if (this.seen.size >= this.capacity) {
      const oldest = this.seen.values().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
    this.seen.add(key);
    this.logger.warn('a stored object is malformed: selectors match it no more until it is replaced or deleted', { key, problem });
  }
}
