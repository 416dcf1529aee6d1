/**
 * Server-side Table printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), the way
 * kube-apiserver answers `kubectl get`: kubectl prints the cells it is given and upper-cases the
 * column names, so the column set, cell values and absent-value placeholders here decide what
 * users see.
 *
 * The mechanism is here; each kind's columns and cells (kube's print handlers,
 * pkg/printers/internalversion/printers.go) are in its definition (builtin/*.ts). Follows kube's
 * TableConvertor (which always generates the wide columns: the server sends priority-1 columns
 * and kubectl hides them unless `-o wide`), the
 * includeObject handling of the endpoint handlers (asTable), and
 * k8s.io/apimachinery/pkg/util/duration.HumanDuration for ages.
 *
 * Objects are open JSON that may not have passed kube's typed decoding, so every field read is
 * guarded: a missing or mistyped field prints exactly what kube prints for the field's Go zero
 * value ("" for strings, false for bools, no entries for maps and slices).
 */
import { parseRFC3339 } from '../go-time.ts';
import { isPlainObject, type KubeObject } from '../kube.ts';
import type { KindPrinter, TableColumnDefinition } from './types.ts';

export type { KindPrinter, TableColumnDefinition } from './types.ts';

/** metav1.TableRow: the cells of one object, plus the object (or its metadata) itself. */
export interface TableRow {
  /** One value per column definition, in the same order. */
  cells: unknown[];
  /** PartialObjectMetadata, the full object, or null, as includeObject asked. */
  object: unknown;
}

/** metav1.Table, the response body of a list or get requested `as=Table`. */
export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  /** The list metadata of the listed collection (empty for a single get). */
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** Empty when the request asked for `noHeaders` (kubectl's follow-up pages of a watch/list). */
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/**
 * metav1.IncludeObjectPolicy, the `includeObject` field of TableOptions: what each row carries
 * in `object`. kube defaults to 'Metadata'.
 */
export type IncludeObjectPolicy = 'None' | 'Metadata' | 'Object';

/** Options of {@link rowsFor}. */
export interface RowOptions {
  /** The instant ages are measured to; injected so output is deterministic. */
  now: Date;
  /** What each row's `object` holds; 'Metadata' when omitted. */
  includeObject?: IncludeObjectPolicy;
}

/** Options of {@link toTable}. */
export interface TableOptions extends RowOptions {
  /** TableOptions.noHeaders: leave out the column definitions. */
  noHeaders?: boolean;
  /** The list's metadata to copy onto the Table (resourceVersion, continue, remainingItemCount). */
  listMeta?: Table['metadata'];
}

// The descriptions kube serves are the OpenAPI docs of the Go fields the columns print
// (metav1.ObjectMeta{}.SwaggerDoc()["name"] and so on), copied from k8s.io/api and
// k8s.io/apimachinery so clients that show them (e.g. `kubectl explain`-style UIs) match.
const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';
/** A column definition (frozen: shared by every Table). */
export function column(name: string, type: string, description: string, priority = 0, format = ''): TableColumnDefinition {
  return Object.freeze({ name, type, format, description, priority });
}

export const NAME_COLUMN = column('Name', 'string', NAME_DESCRIPTION, 0, 'name');
export const AGE_COLUMN = column('Age', 'string', CREATION_TIMESTAMP_DESCRIPTION);

const GENERIC_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([NAME_COLUMN, AGE_COLUMN]);

/**
 * The column definitions of a kind's printer; the generic Name/Age pair for a kind without one
 * (kube's default TableConvertor). Wide columns are included with priority 1, as the server
 * sends them. Returns fresh objects, so callers may mutate the result.
 */
export function columnDefinitions(printer: KindPrinter | undefined): TableColumnDefinition[] {
  return (printer?.columns ?? GENERIC_COLUMNS).map((c) => ({ ...c }));
}

/**
 * One Table row per object, with the cells the kind's printer produces and `object` set per
 * includeObject: 'Metadata' (the default) gives
 * `{kind:'PartialObjectMetadata', apiVersion:'meta.k8s.io/v1', metadata}`, 'Object' the object
 * itself, 'None' null (kube serialises the emptied row object as `"object": null`). Any other
 * includeObject value is treated as 'Metadata'; kube rejects it with 400, which is the caller's
 * request validation to do. Never throws on malformed objects.
 */
export function rowsFor(printer: KindPrinter | undefined, objects: KubeObject[], options: RowOptions): TableRow[] {
  if (!Array.isArray(objects)) return [];
  const cellsOf = printer === undefined ? genericCells : (object: Record<string, unknown>, now: Date) => printer.cells(object, now);
  // Optional chaining so even missing options degrade to "<invalid>" ages, not a throw.
  const now = options?.now;
  const includeObject = options?.includeObject;
  return objects.map((raw) => {
    const object: Record<string, unknown> = isPlainObject(raw) ? raw : {};
    return { cells: cellsOf(object, now), object: rowObject(raw, object, includeObject) };
  });
}

/**
 * A whole metav1.Table for `objects` of one kind: kind/apiVersion, the list metadata given in
 * `listMeta` (only resourceVersion, continue and remainingItemCount, as kube copies), the
 * column definitions (an empty array when `noHeaders`) and the rows of {@link rowsFor}.
 */
export function toTable(printer: KindPrinter | undefined, objects: KubeObject[], options: TableOptions): Table {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: tableMetadata(options?.listMeta),
    columnDefinitions: options?.noHeaders === true ? [] : columnDefinitions(printer),
    rows: rowsFor(printer, objects, options),
  };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * k8s.io/apimachinery/pkg/util/duration.HumanDuration for a duration in milliseconds: about
 * two significant figures, e.g. "45s", "119s", "2m30s", "10m", "179m", "3h30m", "47h", "3d4h",
 * "729d", "2y1d", "8y". A duration of -2s or less is "<invalid>" and a smaller negative one is
 * "0s" (kube tolerates small clock skew); a non-finite input is "<invalid>".
 */
export function humanDuration(ms: number): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '<invalid>';
  // Go converts with int(), which truncates toward zero; Math.trunc matches for both signs.
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/**
 * translateTimestampSince: the AGE cell for a creationTimestamp, i.e. humanDuration(now - t).
 * "<unknown>" when the timestamp is absent, not a string, not RFC 3339 as Go's time.Parse
 * accepts it (kube could not have decoded such an object), or the Go zero time.
 */
export function age(creationTimestamp: string | undefined, now: Date): string {
  const instant = typeof creationTimestamp === 'string' ? parseRFC3339(creationTimestamp) : undefined;
  if (instant === undefined || 'error' in instant || instant.zero) return '<unknown>';
  const nowMs = now instanceof Date ? now.getTime() : Number.NaN;
  // Subtract the whole milliseconds first so a sub-millisecond fraction is not lost to float
  // rounding of epoch-sized numbers; it can decide which side of a second boundary we land on.
  return humanDuration(nowMs - instant.ms - instant.fraction);
}

/** The generic columns: NAME, AGE. */
function genericCells(object: Record<string, unknown>, now: Date): unknown[] {
  return [nameOf(object), ageOf(object, now)];
}

/**
 * Go's sets.String.List() sorts by byte order of the UTF-8 encoding, which is code-point
 * order; JS's default sort compares UTF-16 code units, which differs above U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const difference = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

export function nameOf(object: Record<string, unknown>): string {
  return stringField(field(object, 'metadata'), 'name');
}

export function ageOf(object: Record<string, unknown>, now: Date): string {
  const timestamp = field(object, 'metadata')['creationTimestamp'];
  return age(typeof timestamp === 'string' ? timestamp : undefined, now);
}

/** A nested object field, or an empty object when it is absent or not an object. */
export function field(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = object[key];
  return isPlainObject(value) ? value : {};
}

/** A string field, or "" (Go's zero value) when it is absent or not a string. */
export function stringField(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  return typeof value === 'string' ? value : '';
}

export function keyCount(value: unknown): number {
  return isPlainObject(value) ? Object.keys(value).length : 0;
}

function rowObject(raw: unknown, object: Record<string, unknown>, includeObject: IncludeObjectPolicy | undefined): unknown {
  if (includeObject === 'None') return null;
  if (includeObject === 'Object') return raw;
  // meta.AsPartialObjectMetadata copies the whole ObjectMeta; a shallow copy keeps later edits
  // to the row from reaching the stored object's metadata.
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { ...field(object, 'metadata') } };
}

/** Copies the ListMeta fields kube copies onto a Table, leaving out absent ones (omitempty). */
function tableMetadata(listMeta: Table['metadata'] | undefined): Table['metadata'] {
  const metadata: Table['metadata'] = {};
  if (!isPlainObject(listMeta)) return metadata;
  if (typeof listMeta.resourceVersion === 'string' && listMeta.resourceVersion !== '') {
    metadata.resourceVersion = listMeta.resourceVersion;
  }
  if (typeof listMeta.continue === 'string' && listMeta.continue !== '') metadata.continue = listMeta.continue;
  if (typeof listMeta.remainingItemCount === 'number' && Number.isFinite(listMeta.remainingItemCount)) {
    metadata.remainingItemCount = listMeta.remainingItemCount;
  }
  return metadata;
}
