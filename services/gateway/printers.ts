/**
 * Server-side Table printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), the way
 * kube-apiserver answers `kubectl get`: kubectl prints the cells it is given and upper-cases the
 * column names, so the column set, cell values and absent-value placeholders here decide what
 * users see.
 *
 * Follows kube-apiserver's print handlers (pkg/printers/internalversion/printers.go) for
 * Namespace, Node and ConfigMap, its TableConvertor (which always generates the wide columns:
 * the server sends priority-1 columns and kubectl hides them unless `-o wide`), the
 * includeObject handling of the endpoint handlers (asTable), and
 * k8s.io/apimachinery/pkg/util/duration.HumanDuration for ages.
 *
 * Objects are open JSON that may not have passed kube's typed decoding, so every field read is
 * guarded: a missing or mistyped field prints exactly what kube prints for the field's Go zero
 * value ("" for strings, false for bools, no entries for maps and slices).
 */
import { parseRFC3339 } from '../../lib/go-time.ts';
import { isPlainObject, type KubeObject } from '../../lib/kube.ts';

/** metav1.TableColumnDefinition: one column of a Table, in the order the cells appear. */
export interface TableColumnDefinition {
  /** Human-readable column name; kubectl upper-cases it for the header. */
  name: string;
  /** OpenAPI type of the cells: "string", "integer", "number", "boolean" or "date". */
  type: string;
  /** OpenAPI format hint; "name" marks the column holding the object's name, else "". */
  format: string;
  /** What the column shows; kube takes most from the OpenAPI docs of the underlying field. */
  description: string;
  /** 0 for default columns; higher-priority columns are shown only by `kubectl get -o wide`. */
  priority: number;
}

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
const NODE_ADDRESSES_DESCRIPTION =
  "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";
const CONFIGMAP_DATA_DESCRIPTION =
  "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.";

function column(name: string, type: string, description: string, priority = 0, format = ''): TableColumnDefinition {
  return Object.freeze({ name, type, format, description, priority });
}

const NAME_COLUMN = column('Name', 'string', NAME_DESCRIPTION, 0, 'name');
const AGE_COLUMN = column('Age', 'string', CREATION_TIMESTAMP_DESCRIPTION);

// printNode's columns; the last five are the `-o wide` ones (priority 1).
const NODE_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Status', 'string', 'The status of the node'),
  column('Roles', 'string', 'The roles of the node'),
  AGE_COLUMN,
  column('Version', 'string', 'Kubelet Version reported by the node.'),
  column('Internal-IP', 'string', NODE_ADDRESSES_DESCRIPTION, 1),
  column('External-IP', 'string', NODE_ADDRESSES_DESCRIPTION, 1),
  column('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
  column('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
  column(
    'Container-Runtime',
    'string',
    'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
    1,
  ),
]);

// A Map, not an object literal, so a resource named like an Object.prototype member ("constructor")
// cannot be mistaken for a table entry.
const COLUMNS: ReadonlyMap<string, readonly TableColumnDefinition[]> = new Map([
  ['namespaces', Object.freeze([NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN])],
  ['nodes', NODE_COLUMNS],
  // kube declares DATA as type "string" although its cells are integers; kept as kube serves it.
  ['configmaps', Object.freeze([NAME_COLUMN, column('Data', 'string', CONFIGMAP_DATA_DESCRIPTION), AGE_COLUMN])],
]);

const GENERIC_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([NAME_COLUMN, AGE_COLUMN]);

/**
 * The column definitions kube-apiserver serves for a resource: "namespaces", "nodes" or
 * "configmaps" (plural resource names, as in the request path); a generic Name/Age pair for
 * any other resource. Node's wide columns are included with priority 1, as the server sends them.
 * Returns fresh objects, so callers may mutate the result.
 */
export function columnDefinitions(resource: string): TableColumnDefinition[] {
  return (COLUMNS.get(resource) ?? GENERIC_COLUMNS).map((c) => ({ ...c }));
}

/**
 * One Table row per object, with the cells kube's print handler for `resource` produces and
 * `object` set per includeObject: 'Metadata' (the default) gives
 * `{kind:'PartialObjectMetadata', apiVersion:'meta.k8s.io/v1', metadata}`, 'Object' the object
 * itself, 'None' null (kube serialises the emptied row object as `"object": null`). Any other
 * includeObject value is treated as 'Metadata'; kube rejects it with 400, which is the caller's
 * request validation to do. Never throws on malformed objects.
 */
export function rowsFor(resource: string, objects: KubeObject[], options: RowOptions): TableRow[] {
  if (!Array.isArray(objects)) return [];
  const cellsOf = CELL_PRINTERS.get(resource) ?? genericCells;
  // Optional chaining so even missing options degrade to "<invalid>" ages, not a throw.
  const now = options?.now;
  const includeObject = options?.includeObject;
  return objects.map((raw) => {
    const object: Record<string, unknown> = isPlainObject(raw) ? raw : {};
    return { cells: cellsOf(object, now), object: rowObject(raw, object, includeObject) };
  });
}

/**
 * A whole metav1.Table for `objects` of `resource`: kind/apiVersion, the list metadata given in
 * `listMeta` (only resourceVersion, continue and remainingItemCount, as kube copies), the
 * column definitions (an empty array when `noHeaders`) and the rows of {@link rowsFor}.
 */
export function toTable(resource: string, objects: KubeObject[], options: TableOptions): Table {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: tableMetadata(options?.listMeta),
    columnDefinitions: options?.noHeaders === true ? [] : columnDefinitions(resource),
    rows: rowsFor(resource, objects, options),
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

// ---------------------------------------------------------------------------------------------
// Rows

type CellPrinter = (object: Record<string, unknown>, now: Date) => unknown[];

const CELL_PRINTERS: ReadonlyMap<string, CellPrinter> = new Map([
  ['namespaces', namespaceCells],
  ['nodes', nodeCells],
  ['configmaps', configMapCells],
]);

/** printNamespace: NAME, STATUS (status.phase verbatim, "" when unset), AGE. */
function namespaceCells(object: Record<string, unknown>, now: Date): unknown[] {
  return [nameOf(object), stringField(field(object, 'status'), 'phase'), ageOf(object, now)];
}

/** printConfigMap: NAME, DATA (keys in data plus keys in binaryData), AGE. */
function configMapCells(object: Record<string, unknown>, now: Date): unknown[] {
  return [nameOf(object), keyCount(object['data']) + keyCount(object['binaryData']), ageOf(object, now)];
}

/** printNode with Wide set, as the server's TableConvertor always does. */
function nodeCells(object: Record<string, unknown>, now: Date): unknown[] {
  const status = field(object, 'status');
  const nodeInfo = field(status, 'nodeInfo');
  return [
    nameOf(object),
    nodeStatus(object),
    nodeRoles(object),
    ageOf(object, now),
    stringField(nodeInfo, 'kubeletVersion'),
    nodeAddress(status, 'InternalIP'),
    nodeAddress(status, 'ExternalIP'),
    orUnknown(stringField(nodeInfo, 'osImage')),
    orUnknown(stringField(nodeInfo, 'kernelVersion')),
    orUnknown(stringField(nodeInfo, 'containerRuntimeVersion')),
  ];
}

/** The generic columns: NAME, AGE. */
function genericCells(object: Record<string, unknown>, now: Date): unknown[] {
  return [nameOf(object), ageOf(object, now)];
}

/**
 * Node STATUS. kube indexes conditions by type, so with several Ready conditions the last one
 * wins; Ready is "Ready" only for status "True" (so "False" and "Unknown" both print NotReady);
 * no Ready condition prints "Unknown"; spec.unschedulable appends ",SchedulingDisabled".
 */
function nodeStatus(object: Record<string, unknown>): string {
  const conditions = field(object, 'status')['conditions'];
  let ready: Record<string, unknown> | undefined;
  if (Array.isArray(conditions)) {
    for (const condition of conditions) {
      if (isPlainObject(condition) && condition['type'] === 'Ready') ready = condition;
    }
  }
  const parts = [ready === undefined ? 'Unknown' : ready['status'] === 'True' ? 'Ready' : 'NotReady'];
  if (field(object, 'spec')['unschedulable'] === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/**
 * Node ROLES: the suffix of every `node-role.kubernetes.io/<role>` label (whatever its value)
 * and the non-empty value of a `kubernetes.io/role` label, de-duplicated, sorted, joined by
 * ","; "<none>" when there are none.
 */
function nodeRoles(object: Record<string, unknown>): string {
  const labels = field(object, 'metadata')['labels'];
  const roles = new Set<string>();
  if (isPlainObject(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      if (key.startsWith(NODE_ROLE_PREFIX)) {
        const role = key.slice(NODE_ROLE_PREFIX.length);
        if (role.length > 0) roles.add(role);
      } else if (key === NODE_ROLE_LABEL && typeof value === 'string' && value !== '') {
        roles.add(value);
      }
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort(compareCodePoints).join(',');
}

/**
 * The address of the first status.addresses entry of `type`, even if that address is empty,
 * as kube returns it; "<none>" when no entry has the type.
 */
function nodeAddress(status: Record<string, unknown>, type: string): string {
  const addresses = status['addresses'];
  if (Array.isArray(addresses)) {
    for (const address of addresses) {
      if (isPlainObject(address) && address['type'] === type) return stringField(address, 'address');
    }
  }
  return '<none>';
}

/** kube prints "<unknown>" for an empty OS image, kernel or runtime version. */
function orUnknown(value: string): string {
  return value === '' ? '<unknown>' : value;
}

/**
 * Go's sets.String.List() sorts by byte order of the UTF-8 encoding, which is code-point
 * order; JS's default sort compares UTF-16 code units, which differs above U+FFFF.
 */
function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const difference = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

function nameOf(object: Record<string, unknown>): string {
  return stringField(field(object, 'metadata'), 'name');
}

function ageOf(object: Record<string, unknown>, now: Date): string {
  const timestamp = field(object, 'metadata')['creationTimestamp'];
  return age(typeof timestamp === 'string' ? timestamp : undefined, now);
}

/** A nested object field, or an empty object when it is absent or not an object. */
function field(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = object[key];
  return isPlainObject(value) ? value : {};
}

/** A string field, or "" (Go's zero value) when it is absent or not a string. */
function stringField(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  return typeof value === 'string' ? value : '';
}

function keyCount(value: unknown): number {
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
