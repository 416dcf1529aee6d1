/**
 * kube's field manager (k8s.io/apimachinery/pkg/util/managedfields) over this library's
 * structured-merge-diff walks: who owns which field of an object, recorded in
 * `metadata.managedFields`, kept up to date on every write (Update) and used to merge and
 * check server-side apply requests (Apply).
 *
 * The layers kube stacks are followed in their order: version check, the "before-first-apply"
 * manager for an object with no managedFields, the cap of 10 Update managers
 * ("ancient-changes"), manager identifiers per (manager, operation, apiVersion, subresource),
 * times, the stripping of metadata fields nobody owns, then SMD's Updater. kubectl's
 * last-applied-configuration interplay (lastAppliedManager/Updater) is last-applied.ts, around
 * this class.
 *
 * Versions (SMD's Converter): a manager's set is in the apiVersion of its entry. Given a
 * {@link VersionConverter}, the live and new objects are compared in each manager's version
 * when it differs from the endpoint's (that manager's conflicts, and the fields it loses), and
 * an applier's dropped fields are pruned in the version it applied them in; a manager of a
 * version the server does not have is dropped, as SMD drops it (kube's IsMissingVersionError);
 * one of a version the converter cannot tell (see {@link UNKNOWN_VERSION}) is kept as it is.
 * Without a converter every set is taken as of the endpoint's version.
 */
import { StatusError, type StatusCause } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../kube.ts';
import { decodeFieldsV1, FieldSet, FieldsV1Error, pathString } from './fieldpath.ts';
import { compare, ensureNamedFieldsAreMembers, jsonEqual, merge, removeItems, toFieldSet, TypedError, type Comparison } from './typed.ts';
import type { ApplyTypes, Atom } from './types.ts';

/** An object in another version of the endpoint's kind (SMD's TypedValue): the object and that version's schema facts. */
export interface VersionedObject {
  readonly object: KubeObject;
  readonly types: ApplyTypes;
  /** That version's reset fields (see {@link FieldManagerOptions.resetFields}); none when absent. */
  readonly resetFields?: readonly (readonly string[])[];
}

/**
 * What a converter answers for a version it cannot tell (e.g. a custom kind's version its
 * definition, as this server knows it, does not list): not a missing version, so the manager of
 * that version is kept untouched (not compared), as kube keeps it when its converter fails
 * otherwise than with a missing-version error.
 */
export const UNKNOWN_VERSION = 'unknown';

/**
 * kube's version converter (SMD merge.Converter): `object`, whose apiVersion says its version,
 * as `apiVersion` shows it; undefined when the server has no such version of the kind (the
 * manager of that version is then dropped); {@link UNKNOWN_VERSION} when it cannot tell. Must
 * not change `object`.
 */
export type VersionConverter = (object: KubeObject, apiVersion: string) => VersionedObject | typeof UNKNOWN_VERSION | undefined;

/** metav1.ManagedFieldsEntry */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface FieldManagerOptions {
  types: ApplyTypes;
  apiVersion: string;
  subresource: string;
  /**
   * Paths this endpoint resets (kube's ResetFieldsStrategy): ['status'] for the main resource of
   * a kind with a status subresource; for /status everything but status is reset.
   */
  resetFields: readonly (readonly string[])[];
  now: () => Date;
  /** kube's cap of Update managers (10); the oldest merge into "ancient-changes". */
  maxUpdateManagers?: number;
  /** The kind, for the version check of apply configurations (kube's versionCheckManager). */
  kind?: string;
  /** Conversion to the other versions managers' entries name (see the module comment). */
  convert?: VersionConverter;
}

/** A value in one version with that version's schema and reset fields (SMD's TypedValue plus its IgnoreFilter). */
interface Typed {
  readonly value: unknown;
  readonly apiVersion: string;
  readonly root: Atom;
  readonly reset: FieldSet;
}

/** One manager's fields (SMD VersionedSet). */
interface Owned {
  readonly set: FieldSet;
  readonly apiVersion: string;
  readonly applied: boolean;
}

/** Manager identifier -> owned fields, and the identifiers' times (kube's Managed). */
interface Managed {
  readonly fields: Map<string, Owned>;
  readonly times: Map<string, string | undefined>;
  /** The stored FieldsV1 a set was decoded from, written again as is while the set is unchanged. */
  readonly encoded: WeakMap<FieldSet, Record<string, unknown>>;
}

const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';
const BEFORE_FIRST_APPLY = 'before-first-apply';
const CURRENT_OPERATION = 'current-operation';

/** kube's stripMetaManager set: fields no manager is recorded as owning. */
const STRIP = FieldSet.of(
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ['f:metadata', 'f:name'],
  ['f:metadata', 'f:namespace'],
  ['f:metadata', 'f:creationTimestamp'],
  ['f:metadata', 'f:selfLink'],
  ['f:metadata', 'f:uid'],
  ['f:metadata', 'f:clusterName'],
  ['f:metadata', 'f:generation'],
  ['f:metadata', 'f:managedFields'],
  ['f:metadata', 'f:resourceVersion'],
);

/** SMD Conflict: a field another manager owns. */
export interface Conflict {
  readonly manager: string;
  readonly path: readonly string[];
}

class Conflicts extends Error {
  readonly conflicts: readonly Conflict[];
  constructor(conflicts: readonly Conflict[]) {
    super('conflicts');
    this.conflicts = conflicts;
  }
}

/** kube's BuildManagerIdentifier: the entry without time and fields (and apiVersion for Apply), as JSON. */
function managerIdentifier(e: { manager: string; operation: string; apiVersion?: string; subresource?: string }): string {
  const id: Record<string, string> = {};
  if (e.manager !== '') id.manager = e.manager;
  if (e.operation !== '') id.operation = e.operation;
  if (e.operation !== 'Apply' && e.apiVersion !== undefined && e.apiVersion !== '') id.apiVersion = e.apiVersion;
  if (e.subresource !== undefined && e.subresource !== '') id.subresource = e.subresource;
  return JSON.stringify(id);
}

interface Identity {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  subresource?: string;
}

function parseIdentifier(id: string): Identity | undefined {
  try {
    const v = JSON.parse(id) as unknown;
    return isPlainObject(v) ? (v as Identity) : undefined;
  } catch {
    return undefined;
  }
}

/** kube's printManager (internal/conflict.go). */
function printManager(id: string): string {
  const e = parseIdentifier(id);
  if (e === undefined) return JSON.stringify(id);
  let s = JSON.stringify(e.manager ?? '');
  if (e.subresource !== undefined && e.subresource !== '') s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation !== 'Update') return s;
  const t = e.time === undefined ? Number.NaN : Date.parse(e.time);
  return Number.isNaN(t) ? `${s} using ${e.apiVersion ?? ''}` : `${s} using ${e.apiVersion ?? ''} at ${rfc3339(new Date(t))}`;
}

/** The 409 of an apply's conflicts, carrying them (kube's merge.Conflicts behind its NewConflictError). */
export class ApplyConflictError extends StatusError {
  readonly conflicts: readonly Conflict[];
  constructor(message: string, causes: StatusCause[], conflicts: readonly Conflict[]) {
    super('Conflict', message, { causes });
    this.conflicts = conflicts;
  }
}

/**
 * kube's NewConflictError: 409 Conflict with one FieldManagerConflict cause per field; each
 * conflict names the manager by its identifier (the JSON of its entry without fields).
 */
export function conflictError(conflicts: readonly Conflict[]): ApplyConflictError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const list = byManager.get(c.manager) ?? [];
      list.push(pathString(c.path));
      byManager.set(c.manager, list);
    }
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${printManager(m)}:`);
      for (const p of byManager.get(m)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApplyConflictError(message, causes, conflicts);
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function seconds(time: string | undefined): number {
  if (time === undefined) return 0;
  const t = Date.parse(time);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/**
 * kube's DecodeManagedFields: the managers of `entries` (an object's metadata.managedFields).
 * Throws a StatusError BadRequest with kube's words when an entry is malformed. `stored`:
 * the entries were written by this library (their FieldsV1 is written back as is while unchanged).
 */
export function decodeManagedFields(entries: unknown, stored = false): Managed {
  const managed: Managed = emptyManaged();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new StatusError('BadRequest', 'managedFields must be a list');
  entries.forEach((e: unknown, i) => {
    if (!isPlainObject(e)) throw new StatusError('BadRequest', `managed fields entry ${i} is not an object`);
    const operation = e.operation;
    if (operation !== 'Apply' && operation !== 'Update') throw new StatusError('BadRequest', 'operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion === '') throw new StatusError('BadRequest', 'apiVersion must not be empty');
    if (e.fieldsType === undefined || e.fieldsType === '') throw new StatusError('BadRequest', `missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new StatusError('BadRequest', `invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    for (const k of ['manager', 'subresource', 'time'] as const) {
      if (e[k] !== undefined && e[k] !== null && typeof e[k] !== 'string') throw new StatusError('BadRequest', `${k} of managed fields entry ${i} must be a string`);
    }
    const id = managerIdentifier({ manager: (e.manager as string | undefined) ?? '', operation, apiVersion: e.apiVersion, subresource: (e.subresource as string | undefined) ?? '' });
    let set: FieldSet;
    try {
      set = decodeFieldsV1(e.fieldsV1);
    } catch (err) {
      if (err instanceof FieldsV1Error) throw new StatusError('BadRequest', `error decoding versioned set from entry ${i}: error decoding set: ${err.message}`);
      throw err;
    }
    // a stored object's FieldsV1 was written by this library: canonical, so reusable as is
    if (stored && isPlainObject(e.fieldsV1)) managed.encoded.set(set, e.fieldsV1);
    managed.fields.set(id, { set, apiVersion: e.apiVersion, applied: operation === 'Apply' });
    managed.times.set(id, (e.time as string | undefined) ?? undefined);
  });
  return managed;
}

/** kube's encodeManagedFields: the entries, sorted as kube sorts them; undefined when none. */
function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.fields.size === 0) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const [id, owned] of managed.fields) {
    const e = parseIdentifier(id) ?? {};
    const entry: ManagedFieldsEntry = { manager: e.manager ?? '', operation: owned.applied ? 'Apply' : ((e.operation as 'Update' | undefined) ?? 'Update'), apiVersion: owned.apiVersion };
    const time = managed.times.get(id);
    if (time !== undefined) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = managed.encoded.get(owned.set) ?? owned.set.toFieldsV1();
    if (e.subresource !== undefined && e.subresource !== '') entry.subresource = e.subresource;
    out.push(entry);
  }
  return out.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const ps = seconds(p.time);
    const qs = seconds(q.time);
    if (ps !== qs) return ps - qs;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    const pr = p.subresource ?? '';
    const qr = q.subresource ?? '';
    return pr < qr ? -1 : pr > qr ? 1 : 0;
  });
}

/** kube's isResetManagedFields: `[]` or `[{}]` set by the client clears managedFields. */
function isReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isPlainObject(entries[0]) && Object.values(entries[0]).every((v) => v === undefined || v === null || v === '');
}

/** `object` without metadata.managedFields (a shallow copy). */
function withoutManagedFields(object: KubeObject): KubeObject {
  if (!isPlainObject(object.metadata) || !Object.hasOwn(object.metadata, 'managedFields')) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

function withManagedFields(object: KubeObject, entries: ManagedFieldsEntry[] | undefined): KubeObject {
  const base = withoutManagedFields(object);
  if (entries === undefined) return base;
  const metadata = isPlainObject(base.metadata) ? base.metadata : {};
  return { ...base, metadata: { ...metadata, managedFields: entries } };
}

function cloneManaged(m: Managed): Managed {
  return { fields: new Map(m.fields), times: new Map(m.times), encoded: m.encoded };
}

function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map(), encoded: new WeakMap() };
}

/** `<namespace>/<name>; <group/version>, Kind=<kind>` (kube's objectGVKNN) for messages. */
function objectGVKNN(o: KubeObject): string {
  const meta = isPlainObject(o.metadata) ? o.metadata : {};
  const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
  const name = typeof meta.name === 'string' ? meta.name : '';
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const gv = apiVersion.includes('/') ? apiVersion : `/${apiVersion}`;
  return `${ns}/${name}; ${gv}, Kind=${typeof o.kind === 'string' ? o.kind : ''}`;
}

/**
 * The field manager of one endpoint (kind, version, subresource); see the module comment. Pure
 * (the time comes from `now`); inputs are not changed.
 */
export class FieldManager {
  readonly #o: FieldManagerOptions;
  readonly #root: Atom;
  readonly #reset: FieldSet;
  /** The reset sets of other versions, by the list the converter answers (made once per list). */
  readonly #resets = new WeakMap<readonly (readonly string[])[], FieldSet>();

  constructor(o: FieldManagerOptions) {
    this.#o = o;
    this.#root = o.types.root;
    this.#reset = FieldSet.of(...o.resetFields.map((p) => p.map((f) => `f:${f}`)));
  }

  /**
   * create/update/patch: newObject with metadata.managedFields updated for `manager` (operation
   * Update), as kube's FieldManager.UpdateNoErrors (live undefined for create; a user-set
   * managedFields is honoured, `[]` or `[{}]` clears them; at most 10 Update managers, the oldest
   * merged into "ancient-changes"). Never throws for content: on failure the result has the
   * live object's managedFields (none on create), as kube's UpdateNoErrors keeps them.
   */
  update(live: KubeObject | undefined, newObject: KubeObject, manager: string): KubeObject {
    try {
      return this.#update(live, newObject, manager);
    } catch (err) {
      if (err instanceof StatusError || err instanceof Error) {
        const liveEntries: unknown = live?.metadata?.managedFields;
        return withManagedFields(newObject, Array.isArray(liveEntries) && liveEntries.length > 0 ? (liveEntries as ManagedFieldsEntry[]) : undefined);
      }
      throw err;
    }
  }

  #update(live: KubeObject | undefined, newObject: KubeObject, manager: string): KubeObject {
    const liveEntries = live?.metadata?.managedFields;
    const newEntries = newObject.metadata?.managedFields;
    let managed: Managed;
    const fromLive = (): Managed => {
      try {
        return decodeManagedFields(liveEntries, true);
      } catch {
        return emptyManaged();
      }
    };
    if (this.#o.subresource !== '') managed = fromLive();
    else if (isReset(newEntries)) managed = emptyManaged();
    else {
      let decoded: Managed | undefined;
      try {
        // the live entries sent back unchanged (the usual update and patch) are as trusted as the live ones
        decoded = decodeManagedFields(newEntries, newEntries === liveEntries || jsonEqual(newEntries, liveEntries));
      } catch {
        decoded = undefined;
      }
      managed = decoded === undefined || decoded.fields.size === 0 ? fromLive() : decoded;
    }
    const next = withoutManagedFields(newObject);
    // skipNonAppliedManager: an existing object nobody tracks stays untracked until its first apply
    const uid = live?.metadata?.uid;
    if (managed.fields.size === 0 && typeof uid === 'string' && uid !== '') return next;
    const updated = this.#updateManaged(live === undefined ? {} : withoutManagedFields(live), next, managed, manager);
    return withManagedFields(next, encodeManagedFields(updated));
  }

  /** capManagers(buildManagerInfo(managedFieldsUpdater(stripMeta(structured Update)))). */
  #updateManaged(live: KubeObject, next: KubeObject, managed: Managed, manager: string): Managed {
    const id = managerIdentifier({ manager: manager === '' ? 'unknown' : manager, operation: 'Update', apiVersion: this.#o.apiVersion, subresource: this.#o.subresource });
    const m = cloneManaged(managed);
    this.#structuredUpdate(live, next, m, CURRENT_OPERATION);
    strip(m, CURRENT_OPERATION);
    const current = m.fields.get(CURRENT_OPERATION);
    if (current !== undefined) {
      m.fields.delete(CURRENT_OPERATION);
      const previous = m.fields.get(id);
      m.fields.set(id, { set: previous === undefined ? current.set : current.set.union(previous.set), apiVersion: current.apiVersion, applied: current.applied });
      m.times.set(id, rfc3339(this.#o.now()));
    }
    m.times.delete(CURRENT_OPERATION);
    capUpdateManagers(m, this.#o.maxUpdateManagers ?? MAX_UPDATE_MANAGERS);
    return m;
  }

  /** `value` (of the endpoint's version) as a typed value. */
  #typed(value: unknown): Typed {
    return { value, apiVersion: this.#o.apiVersion, root: this.#root, reset: this.#reset };
  }

  /**
   * SMD's Converter.Convert: `from` in `apiVersion`; itself when it is of that version;
   * undefined when the server has no such version, UNKNOWN_VERSION when the converter cannot
   * tell. Without a converter, the value as is (every version's set taken as of the endpoint's).
   */
  #convert(from: Typed, apiVersion: string): Typed | typeof UNKNOWN_VERSION | undefined {
    if (from.apiVersion === apiVersion) return from;
    const convert = this.#o.convert;
    if (convert === undefined) return { ...from, apiVersion };
    const source = isPlainObject(from.value) ? from.value : {};
    const converted = convert({ ...source, apiVersion: from.apiVersion }, apiVersion);
    if (converted === undefined || converted === UNKNOWN_VERSION) return converted;
    return { value: converted.object, apiVersion, root: converted.types.root, reset: this.#resetOf(converted.resetFields) };
  }

  /** The FieldSet of a version's reset fields, made once per list the converter answers. */
  #resetOf(paths: readonly (readonly string[])[] | undefined): FieldSet {
    if (paths === undefined) return new FieldSet();
    let set = this.#resets.get(paths);
    if (set === undefined) {
      set = FieldSet.of(...paths.map((p) => p.map((f) => `f:${f}`)));
      this.#resets.set(paths, set);
    }
    return set;
  }

  /** `value` (of the endpoint's version) in each version asked, each conversion made once. */
  #versions(value: unknown): (apiVersion: string) => Typed | typeof UNKNOWN_VERSION | undefined {
    const typed = this.#typed(value);
    const made = new Map<string, Typed | typeof UNKNOWN_VERSION | undefined>([[typed.apiVersion, typed]]);
    return (apiVersion) => {
      if (!made.has(apiVersion)) made.set(apiVersion, this.#convert(typed, apiVersion));
      return made.get(apiVersion);
    };
  }

  /**
   * The first step of SMD's Update and Apply (reconcileManagedFieldsWithSchemaChanges): a
   * manager of a version the server does not have is dropped (kube: "obsolete versions will be
   * deleted automatically"); one of a version the converter cannot tell is kept.
   */
  #dropUnknownVersions(liveAt: (apiVersion: string) => Typed | typeof UNKNOWN_VERSION | undefined, m: Managed): void {
    for (const [id, owned] of m.fields) {
      if (liveAt(owned.apiVersion) !== undefined) continue;
      m.fields.delete(id);
      m.times.delete(id);
    }
  }

  /** SMD Updater.Update. */
  #structuredUpdate(live: KubeObject, next: KubeObject, m: Managed, workflow: string): void {
    const liveAt = this.#versions(live);
    this.#dropUnknownVersions(liveAt, m);
    const cmp = this.#updateOthers(liveAt, this.#versions(next), m, workflow, true);
    const prev = m.fields.get(workflow)?.set ?? new FieldSet();
    const set = prev.difference(cmp.removed).union(cmp.modified).union(cmp.added).recursiveDifference(this.#reset);
    if (set.empty()) m.fields.delete(workflow);
    else m.fields.set(workflow, { set, apiVersion: this.#o.apiVersion, applied: false });
  }

  /**
   * SMD Updater.update: the live and new objects compared in each manager's version (each
   * version once); other managers lose the fields changed and removed in theirs (or their
   * conflicts are thrown, paths in their version); a manager of a version the server does not
   * have is dropped, one of a version the converter cannot tell is left as it is. Answers the
   * comparison in the endpoint's version.
   */
  #updateOthers(
    liveAt: (apiVersion: string) => Typed | typeof UNKNOWN_VERSION | undefined,
    nextAt: (apiVersion: string) => Typed | typeof UNKNOWN_VERSION | undefined,
    m: Managed,
    workflow: string,
    force: boolean,
  ): Comparison {
    // each version's comparison, and what it changed (modified or added), made once
    type Compared = Comparison & { readonly changed: FieldSet };
    const versions = new Map<string, Compared | typeof UNKNOWN_VERSION | undefined>();
    const comparisonAt = (apiVersion: string): Compared | typeof UNKNOWN_VERSION | undefined => {
      if (versions.has(apiVersion)) return versions.get(apiVersion);
      const old = liveAt(apiVersion);
      const next = nextAt(apiVersion);
      let cmp: Compared | typeof UNKNOWN_VERSION | undefined;
      if (old === UNKNOWN_VERSION || next === UNKNOWN_VERSION) cmp = UNKNOWN_VERSION;
      else if (old !== undefined && next !== undefined) {
        const raw = compare(old.value, next.value, old.root);
        const added = raw.added.recursiveDifference(old.reset);
        const modified = raw.modified.recursiveDifference(old.reset);
        cmp = { added, modified, removed: raw.removed.recursiveDifference(old.reset), changed: modified.union(added) };
      }
      versions.set(apiVersion, cmp);
      return cmp;
    };
    const cmp = comparisonAt(this.#o.apiVersion) as Compared;
    const conflicts = new Map<string, FieldSet>();
    const removed = new Map<string, FieldSet>();
    for (const [id, owned] of m.fields) {
      if (id === workflow) continue;
      const c = comparisonAt(owned.apiVersion);
      if (c === undefined) {
        m.fields.delete(id);
        m.times.delete(id);
        continue;
      }
      if (c === UNKNOWN_VERSION) continue;
      const conflict = owned.set.intersection(c.changed);
      if (!conflict.empty()) conflicts.set(id, conflict);
      if (!c.removed.empty()) removed.set(id, c.removed);
    }
    if (!force && conflicts.size > 0) {
      const list: Conflict[] = [];
      for (const id of [...conflicts.keys()].sort()) conflicts.get(id)!.iterate((path) => list.push({ manager: id, path }));
      throw new Conflicts(list);
    }
    for (const [id, c] of conflicts) {
      const owned = m.fields.get(id)!;
      m.fields.set(id, { ...owned, set: owned.set.difference(c) });
    }
    for (const [id, r] of removed) {
      const owned = m.fields.get(id)!;
      m.fields.set(id, { ...owned, set: owned.set.difference(r) });
    }
    for (const [id, owned] of m.fields) {
      if (owned.set.empty()) {
        m.fields.delete(id);
        m.times.delete(id);
      }
    }
    return { added: cmp.added, modified: cmp.modified, removed: cmp.removed };
  }

  /**
   * apply: `applied` (the apply configuration, already decoded from YAML/JSON) merged into live
   * (undefined = create), managedFields updated (operation Apply). Throws StatusError Conflict
   * (409) with kube's message and causes (reason FieldManagerConflict) unless `force`; fields the
   * manager applied before and no longer applies are removed when nobody else owns them.
   * BadRequest for a configuration of another version/kind or one that sets managedFields;
   * InternalError (kube's words) for one whose lists do not fit the schema. The result is a
   * new object (nothing shared with `live` or `applied`).
   */
  apply(live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean): KubeObject {
    let managed: Managed;
    try {
      managed = decodeManagedFields(live?.metadata?.managedFields, true);
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      throw new StatusError('InternalError', `failed to decode managed fields: ${err.message}`);
    }
    if (this.#o.kind !== undefined && (applied.apiVersion !== this.#o.apiVersion || applied.kind !== this.#o.kind)) {
      throw new StatusError('BadRequest', `invalid object type: ${gvkString(applied)}`);
    }
    const liveObject = live === undefined ? {} : withoutManagedFields(live);
    let m = managed;
    if (m.fields.size === 0) {
      // skipNonAppliedManager: what the object holds so far goes to "before-first-apply"
      m = this.#updateManaged({}, liveObject, m, BEFORE_FIRST_APPLY);
    } else m = cloneManaged(m);
    const id = managerIdentifier({ manager: manager === '' ? 'unknown' : manager, operation: 'Apply', subresource: this.#o.subresource });
    const merged = this.#structuredApply(liveObject, applied, m, id, force);
    strip(m, id);
    // the result shares no value with live or the configuration: callers may change it in place
    if (merged === undefined) return withManagedFields(structuredClone(liveObject), encodeManagedFields(m));
    m.times.set(id, rfc3339(this.#o.now()));
    return withManagedFields(structuredClone(merged), encodeManagedFields(m));
  }

  /** structuredMergeManager.Apply + SMD Updater.Apply: the merged object, or undefined when unchanged. */
  #structuredApply(live: KubeObject, applied: KubeObject, m: Managed, id: string, force: boolean): KubeObject | undefined {
    if (applied.apiVersion !== this.#o.apiVersion) {
      throw new StatusError('BadRequest', `Incorrect version specified in apply patch. Specified patch version: ${String(applied.apiVersion ?? '')}, expected: ${this.#o.apiVersion}`);
    }
    if (isPlainObject(applied.metadata) && applied.metadata.managedFields !== undefined && applied.metadata.managedFields !== null) {
      throw new StatusError('BadRequest', 'metadata.managedFields must be nil');
    }
    let configSet: FieldSet;
    try {
      configSet = toFieldSet(applied, this.#root, true);
    } catch (err) {
      if (err instanceof TypedError) throw new StatusError('InternalError', `failed to create typed patch object (${objectGVKNN(applied)}): ${err.message}`);
      throw err;
    }
    const liveAt = this.#versions(live);
    this.#dropUnknownVersions(liveAt, m);
    let merged: unknown = merge(live, applied, this.#root) ?? {};
    const last = m.fields.get(id);
    m.fields.set(id, { set: configSet.recursiveDifference(this.#reset), apiVersion: this.#o.apiVersion, applied: true });
    merged = this.#prune(merged, m, last);
    try {
      this.#updateOthers(liveAt, this.#versions(merged), m, id, force);
    } catch (err) {
      if (err instanceof Conflicts) throw conflictError(err.conflicts);
      throw err;
    }
    if (jsonEqual(live, merged)) return undefined;
    return merged as KubeObject;
  }

  /**
   * SMD Updater.prune: the fields the applier applied last time (`last`, in the version it
   * applied them in) and no longer applies are removed from `merged`, unless a manager owns
   * them (each manager's set read in its version) or they were not the applier's. Done in the
   * last applied version; the result in the endpoint's. An unknown last version prunes nothing.
   */
  #prune(merged: unknown, m: Managed, last: Owned | undefined): unknown {
    if (last === undefined || last.set.empty()) return merged;
    const lastMerged = this.#convert(this.#typed(merged), last.apiVersion);
    if (lastMerged === undefined || lastMerged === UNKNOWN_VERSION) return merged;
    // each value's field set made once (the merged object's is read twice)
    const sets = new Map<Typed, FieldSet>();
    const fieldsOf = (t: Typed): FieldSet => {
      let set = sets.get(t);
      if (set === undefined) {
        set = ensureNamedFieldsAreMembers(toFieldSet(t.value, t.root), t.root);
        sets.set(t, set);
      }
      return set;
    };
    const lastSet = ensureNamedFieldsAreMembers(last.set, lastMerged.root);
    let pruned: Typed = { ...lastMerged, value: removeItems(lastMerged.value, lastSet, lastMerged.root) ?? {} };
    // addBackOwnedItems: what any manager owns stays, read version by version (the pruned version first)
    const ownedAt = new Map<string, FieldSet>([[last.apiVersion, new FieldSet()]]);
    for (const o of m.fields.values()) ownedAt.set(o.apiVersion, (ownedAt.get(o.apiVersion) ?? new FieldSet()).union(o.set));
    let mergedAt: Typed = lastMerged;
    for (const [apiVersion, owned] of ownedAt) {
      const mv = this.#convert(mergedAt, apiVersion);
      const pv = this.#convert(pruned, apiVersion);
      if (mv === undefined || pv === undefined || mv === UNKNOWN_VERSION || pv === UNKNOWN_VERSION) continue;
      mergedAt = mv;
      const keep = fieldsOf(pv).union(ensureNamedFieldsAreMembers(owned, mv.root));
      pruned = { ...mv, value: removeItems(mv.value, fieldsOf(mv).difference(keep), mv.root) ?? {} };
    }
    // addBackDanglingItems: only what the applier applied last time is removed
    let result = lastMerged;
    const lastPruned = this.#convert(pruned, last.apiVersion);
    if (lastPruned !== undefined && lastPruned !== UNKNOWN_VERSION) {
      const removed = fieldsOf(lastMerged).difference(fieldsOf(lastPruned)).intersection(lastSet);
      result = { ...lastMerged, value: removeItems(lastMerged.value, removed, lastMerged.root) ?? {} };
    }
    const back = this.#convert(result, this.#o.apiVersion);
    if (back === undefined || back === UNKNOWN_VERSION) throw new StatusError('InternalError', `failed to prune fields: cannot convert to ${this.#o.apiVersion}`);
    return back.value;
  }
}

function gvkString(o: KubeObject): string {
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const gv = apiVersion.includes('/') ? apiVersion : `/${apiVersion}`;
  return `${gv}, Kind=${typeof o.kind === 'string' ? o.kind : ''}`;
}

/** kube's stripMetaManager.stripFields. */
function strip(m: Managed, id: string): void {
  const owned = m.fields.get(id);
  if (owned === undefined) return;
  const set = owned.set.difference(STRIP);
  if (set.empty()) {
    m.fields.delete(id);
  } else m.fields.set(id, { ...owned, set });
}


/** kube's capManagersManager: past 10 Update managers, the oldest merge into "ancient-changes" per version. */
function capUpdateManagers(m: Managed, max: number): void {
  const updaters = [...m.fields].filter(([, o]) => !o.applied).map(([id]) => id);
  if (updaters.length <= max) return;
  updaters.sort((a, b) => {
    const sa = seconds(m.times.get(a));
    const sb = seconds(m.times.get(b));
    if (sa !== sb) return sa - sb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i]!;
    const owned = m.fields.get(id)!;
    const time = m.times.get(id);
    const version = owned.apiVersion;
    const bucket = managerIdentifier({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: version });
    const first = firstOfVersion.get(version);
    if (first === undefined) {
      firstOfVersion.set(version, id);
      continue;
    }
    if (!m.fields.has(bucket)) {
      const s = m.fields.get(first)!;
      m.fields.delete(first);
      m.fields.set(bucket, s);
    }
    m.fields.set(bucket, { set: owned.set.union(m.fields.get(bucket)!.set), apiVersion: owned.apiVersion, applied: owned.applied });
    m.fields.delete(id);
    m.times.delete(id);
    length--;
    m.times.set(bucket, time);
  }
}

/** `entries` with kube's cap of `max` Update managers applied (capManagersManager.capUpdateManagers). */
export function capManagedFields(entries: readonly ManagedFieldsEntry[], max: number): ManagedFieldsEntry[] | undefined {
  const m = decodeManagedFields(entries);
  capUpdateManagers(m, max);
  return encodeManagedFields(m);
}
