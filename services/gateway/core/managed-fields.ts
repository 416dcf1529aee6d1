/**
 * metadata.managedFields on every write, as kube-apiserver's handlers record them: a
 * FieldManager (lib/apply) per kind and endpoint, built once from the kind's schema and reused,
 * whose update() records the writer of a create, update or patch (operation Update) and whose
 * apply() merges a server-side apply configuration (operation Apply). The writer is the request's
 * fieldManager, else the prefix of its User-Agent (kube's managerOrUserAgent).
 *
 * Reset fields (kube's ResetFieldsStrategy): the main resource of a kind with a status
 * subresource does not own status; a write to /status owns status only (the kind's other
 * top-level fields and metadata.labels/annotations are reset, as kube's status strategies list
 * them). A write to /scale is recorded on the Scale (subresource "scale") and carried to the
 * object's entries as kube's ScaleHandler does: the Scale's spec.replicas is the object's
 * replicas path. An apply by "kubectl" honours and updates kubectl's last-applied annotation
 * (lib/apply/last-applied.ts).
 *
 * Versions: an entry's fields are in its apiVersion. Each FieldManager is given kube's version
 * converter for its kind (see converterOf): an entry of another version of the same storage
 * (the kind a view shows, a view of it, another served version of a custom kind's
 * CustomResourceDefinition, served or only listed) is compared in its version; an entry of a
 * version the server does not have (a built-in kind's old version) is dropped on the next write,
 * as kube drops a manager of a missing version; a custom kind's version its definition does not
 * list (as far as this server knows) is kept untouched.
 */
import { applyTypesOf, FieldManager, LastAppliedFieldManager, type ApplyTypes, type ManagedFieldsEntry } from '../../../lib/apply/index.ts';
import { UNKNOWN_VERSION, type VersionConverter } from '../../../lib/apply/manager.ts';
import { badRequest } from '../../../lib/errors.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import { apiVersionOf, type KindDefinition } from '../../../lib/kinds/index.ts';
import { scaleKindOf } from '../../../lib/kinds/scale.ts';
import { servesStatus } from '../../../lib/kinds/subresources.ts';

/** kube's FieldManagerMaxLength, in bytes. */
const FIELD_MANAGER_MAX_BYTES = 128;

/** unicode.IsPrint. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/**
 * The manager of a write (kube's managerOrUserAgent): the fieldManager sent, else what the
 * User-Agent says before its first "/", without unprintable characters, cut to 128 bytes
 * (kube's prefixFromUserAgent: "kubectl/v1.33.0 (linux/amd64) ..." is "kubectl").
 */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager !== undefined && fieldManager !== '') return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0] ?? '';
  let out = '';
  let bytes = 0;
  for (const ch of prefix) {
    if (!PRINTABLE.test(ch)) continue;
    const size = Buffer.byteLength(ch);
    if (bytes + size > FIELD_MANAGER_MAX_BYTES) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** GroupVersionKind.String() of an object's apiVersion and kind ("apps/v1, Kind=Deployment"; "/v1, Kind=ConfigMap"). */
function gvkString(object: KubeObject): string {
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const slash = apiVersion.indexOf('/');
  const [group, version] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  return `${group}/${version}, Kind=${kind}`;
}

/**
 * Refuses an apply configuration kube refuses before merging it (400, in its words): one of
 * another apiVersion or kind than the endpoint's (`invalid object type: ...`), and one that sets
 * metadata.managedFields (apply manages them; `null` is no value).
 */
export function checkApplyConfiguration(info: KindDefinition, applied: KubeObject): void {
  if (applied.apiVersion !== apiVersionOf(info) || applied.kind !== info.kind) throw badRequest(`invalid object type: ${gvkString(applied)}`);
  const metadata = applied.metadata;
  if (isPlainObject(metadata) && metadata.managedFields !== undefined && metadata.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
}

/** A path of field names as fieldsV1 spells it ("spec.replicas": f:spec, f:replicas). */
function fieldsPath(path: string): string[] {
  return (path.startsWith('.') ? path.slice(1) : path).split('.').map((s) => `f:${s}`);
}

function hasPath(fields: unknown, path: readonly string[]): boolean {
  let node = fields;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return true;
}

/** `fields` without the leaf `path` (and the parents it leaves empty, which were no members themselves); undefined when nothing is left. */
function withoutPath(fields: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | undefined {
  const [key, ...rest] = path;
  if (key === undefined || !Object.hasOwn(fields, key)) return fields;
  const copy = { ...fields };
  const child = copy[key];
  if (rest.length === 0 || !isPlainObject(child)) delete copy[key];
  else {
    const pruned = withoutPath(child, rest);
    if (pruned === undefined) delete copy[key];
    else copy[key] = pruned;
  }
  return Object.keys(copy).length === 0 ? undefined : copy;
}

/** A set of one leaf path, as fieldsV1. */
function pathSet(path: readonly string[]): Record<string, unknown> {
  let set: Record<string, unknown> = {};
  for (let i = path.length - 1; i >= 0; i--) set = { [path[i] as string]: set };
  return set;
}

/** kube's manager identifier of an entry: manager, operation, subresource, and for Update its apiVersion. */
function managerId(entry: ManagedFieldsEntry): string {
  return JSON.stringify([entry.manager, entry.operation, entry.subresource ?? '', entry.operation === 'Apply' ? '' : entry.apiVersion]);
}

/** The order kube encodes entries in: operation, time (seconds), manager, apiVersion, subresource. */
function sortEntries(entries: ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  const seconds = (e: ManagedFieldsEntry): number => (e.time === undefined ? 0 : Math.floor(Date.parse(e.time) / 1000));
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return entries.sort(
    (p, q) => cmp(p.operation, q.operation) || seconds(p) - seconds(q) || cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource ?? '', q.subresource ?? ''),
  );
}

function entriesOf(object: KubeObject | undefined): ManagedFieldsEntry[] {
  const entries: unknown = object?.metadata?.managedFields;
  return Array.isArray(entries) ? (entries.filter(isPlainObject) as unknown as ManagedFieldsEntry[]) : [];
}

function withEntries(object: KubeObject, entries: ManagedFieldsEntry[]): KubeObject {
  const metadata: Record<string, unknown> = { ...(object.metadata ?? {}) };
  if (entries.length === 0) delete metadata.managedFields;
  else metadata.managedFields = entries;
  return { ...object, metadata };
}

const SCALE_REPLICAS = fieldsPath('spec.replicas');

/** The kind served at a group, version and resource (a KindRegistry's get). */
export type KindLookup = (group: string, version: string, resource: string) => KindDefinition | undefined;

/** Where a kind's objects are stored: its own resource, or the one it is a view of. */
function storageOf(info: KindDefinition): string {
  const stored = info.storedAs ?? info;
  return `${stored.group}/${stored.resource}`;
}

/** What a target writes: the kind, and the endpoint ("", "status" or "scale"). */
export interface ManagedTarget {
  info: KindDefinition;
  subresource?: string;
}

/**
 * The field managers of one pipeline: one FieldManager per kind and endpoint, made on first use
 * and kept as long as the kind's definition (a custom kind changed by its CRD is a new one).
 */
export class ManagedFields {
  private readonly definitionsOf: ((info: KindDefinition) => (name: string) => unknown) | undefined;
  private readonly now: () => Date;
  private readonly types = new WeakMap<KindDefinition, ApplyTypes>();
  private readonly managers = new WeakMap<KindDefinition, Map<string, FieldManager>>();
  private readonly appliers = new WeakMap<FieldManager, LastAppliedFieldManager>();
  private readonly newObjectOf: ((info: KindDefinition) => KubeObject | undefined) | undefined;
  private readonly newObjects = new WeakMap<KindDefinition, KubeObject | undefined>();
  private readonly resets = new WeakMap<KindDefinition, Map<string, string[][]>>();
  private readonly kinds: KindLookup;

  /**
   * `newObject`: the object a create is compared with, as kube compares it with its kind's
   * empty typed object (scope.Creater.New: a built-in kind's struct fields are there, so a
   * create does not own `spec` itself, only what it set in it); undefined for none (custom kinds).
   * `kinds`: the kinds served now (the versions entries are converted to; a custom kind's other
   * versions are known only through it, so it is required).
   */
  constructor(
    definitionsOf: ((info: KindDefinition) => (name: string) => unknown) | undefined,
    options: { now?: () => Date; newObject?: (info: KindDefinition) => KubeObject | undefined; kinds: KindLookup },
  ) {
    this.definitionsOf = definitionsOf;
    this.now = options.now ?? (() => new Date());
    this.newObjectOf = options.newObject;
    this.kinds = options.kinds;
  }

  /** The empty object of a kind a create is compared with, made once per kind. */
  private newObject(info: KindDefinition): KubeObject | undefined {
    if (this.newObjectOf === undefined) return undefined;
    if (!this.newObjects.has(info)) this.newObjects.set(info, this.newObjectOf(info));
    return this.newObjects.get(info);
  }

  /** The schema facts of a kind, built once. */
  private typesOf(info: KindDefinition): ApplyTypes {
    let types = this.types.get(info);
    if (types === undefined) {
      types = applyTypesOf(this.definitionsOf?.(info) ?? (() => undefined), info.schema as string | object);
      this.types.set(info, types);
    }
    return types;
  }

  /** The FieldManager of writes to `info` at `subresource`. */
  fieldManager(info: KindDefinition, subresource: string): FieldManager {
    return perEndpoint(this.managers, info, subresource, () => {
      const kind = subresource === 'scale' ? scaleKindOf(info) : info;
      return new FieldManager({
        types: this.typesOf(kind),
        apiVersion: apiVersionOf(kind),
        subresource,
        resetFields: this.resetFieldsOf(info, subresource),
        now: this.now,
        // the Scale's entries are all autoscaling/v1 (liveView carries only the object's version)
        ...(subresource === 'scale' ? {} : { convert: this.converterOf(info, subresource) }),
      });
    });
  }

  /**
   * kube's version converter of an endpoint of `info` (apimachinery's versionConverter): an
   * object of one version of its storage to the stored form (a view's conversion, without
   * defaults as kube's scheme converts) and from it to the version asked; custom kinds convert
   * as kube's None strategy does (only apiVersion changes). The other version's schema and
   * reset fields come with it. See versionAt for the versions it knows, cannot tell (kept) and
   * does not have (dropped).
   */
  private converterOf(info: KindDefinition, subresource: string): VersionConverter {
    return (object, apiVersion) => {
      const from = this.versionAt(info, typeof object.apiVersion === 'string' ? object.apiVersion : '');
      const to = this.versionAt(info, apiVersion);
      if (from === undefined || to === undefined) return undefined;
      if (from === UNKNOWN_VERSION || to === UNKNOWN_VERSION) return UNKNOWN_VERSION;
      const stored = from.storedAs === undefined ? object : (from.storedAs.convertToStored ?? from.storedAs.toStored)(object);
      const converted = to.storedAs === undefined ? stored : to.storedAs.fromStored(stored);
      return { object: { ...converted, apiVersion }, types: this.typesOf(to), resetFields: this.resetFieldsOf(to, subresource) };
    };
  }

  /**
   * The kind whose schema reads `apiVersion` of the storage of `info`: itself at its own, the
   * kind served there; for a custom kind, a version its definition lists but does not serve is
   * read with `info`'s schema (the registry keeps only served versions' schemas, and kube's None
   * conversion changes nothing but apiVersion), and a version it does not list is
   * UNKNOWN_VERSION (this server may not have seen the definition's change yet; kube's
   * converter fails on it without a missing-version error). Undefined for a version the server
   * does not have (a built-in kind's, kube's missing version).
   */
  private versionAt(info: KindDefinition, apiVersion: string): KindDefinition | typeof UNKNOWN_VERSION | undefined {
    if (apiVersion === apiVersionOf(info)) return info;
    const slash = apiVersion.indexOf('/');
    const [group, version] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    if (info.source === 'custom') {
      if (group !== info.group || version === '') return UNKNOWN_VERSION;
      const kind = this.kinds(group, version, info.resource);
      if (kind !== undefined && kind.kind === info.kind && kind.origin === info.origin) return kind;
      return info.listedVersions !== undefined && Object.hasOwn(info.listedVersions, version) ? info : UNKNOWN_VERSION;
    }
    if (version === '') return undefined;
    const kind = this.kinds(group, version, info.resource);
    if (kind === undefined || kind.kind !== info.kind || kind.review === true || storageOf(kind) !== storageOf(info)) return undefined;
    return kind;
  }

  /** kube's reset fields of an endpoint (see the top of this file), made once per kind and endpoint (the same list each time). */
  private resetFieldsOf(info: KindDefinition, subresource: string): string[][] {
    return perEndpoint(this.resets, info, subresource, () => this.makeResetFieldsOf(info, subresource));
  }

  private makeResetFieldsOf(info: KindDefinition, subresource: string): string[][] {
    if (subresource === 'scale') return [['status']];
    if (subresource === 'status') {
      const reset = this.topLevelFields(info)
        .filter((f) => !['apiVersion', 'kind', 'metadata', 'status'].includes(f))
        .map((f) => [f]);
      return [...reset, ['metadata', 'labels'], ['metadata', 'annotations']];
    }
    return servesStatus(info) ? [['status']] : [];
  }

  /** The top-level fields of a kind's schema (`spec` when it says none). */
  private topLevelFields(info: KindDefinition): string[] {
    const definitions = this.definitionsOf?.(info);
    let schema: unknown = typeof info.schema === 'string' ? definitions?.(info.schema) : info.schema;
    for (let i = 0; i < 4 && isPlainObject(schema) && typeof schema.$ref === 'string'; i++) schema = definitions?.(schema.$ref.replace(/^#\/(definitions|components\/schemas)\//, ''));
    if (isPlainObject(schema) && Array.isArray(schema.allOf) && isPlainObject(schema.allOf[0]) && typeof schema.allOf[0].$ref === 'string') {
      schema = definitions?.(schema.allOf[0].$ref.replace(/^#\/(definitions|components\/schemas)\//, ''));
    }
    const properties = isPlainObject(schema) && isPlainObject(schema.properties) ? Object.keys(schema.properties) : [];
    return properties.length === 0 ? ['spec'] : properties;
  }

  /**
   * `written` (what a create, update or non-apply patch of `target` is about to admit) with its
   * managedFields updated for `manager` against `live` (undefined for a create: compared with
   * the kind's empty object). For /scale,
   * `written` is the object with its new replicas and `scale` the Scale read and written: the
   * Scale's entries are recorded, then carried to the object's.
   */
  update(target: ManagedTarget, live: KubeObject | undefined, written: KubeObject, manager: string, scale?: { live: KubeObject; written: KubeObject }): KubeObject {
    const subresource = target.subresource ?? '';
    if (subresource === 'scale' && scale !== undefined && live !== undefined) {
      const recorded = this.fieldManager(target.info, 'scale').update(this.liveView(target, live, scale.live), scale.written, manager);
      return this.carried(target, live, written, recorded);
    }
    return this.fieldManager(target.info, subresource).update(live ?? this.newObject(target.info), written, manager);
  }

  /**
   * The object an apply configuration makes of `live` (what the endpoint shows of the stored
   * object, see liveView; undefined: the object is created), with its managedFields; Conflict
   * (409) unless `force`.
   */
  apply(target: ManagedTarget, live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean): KubeObject {
    return this.applier(target.info, target.subresource ?? '').apply(live, applied, manager, force);
  }

  /** The FieldManager of applies to `info` at `subresource`, with kubectl's last-applied annotation kept as kube keeps it. */
  private applier(info: KindDefinition, subresource: string): LastAppliedFieldManager {
    const fieldManager = this.fieldManager(info, subresource);
    let applier = this.appliers.get(fieldManager);
    if (applier === undefined) {
      const kind = subresource === 'scale' ? scaleKindOf(info) : info;
      applier = new LastAppliedFieldManager(fieldManager, { types: this.typesOf(kind), apiVersion: apiVersionOf(kind), kind: kind.kind });
      this.appliers.set(fieldManager, applier);
    }
    return applier;
  }

  /**
   * kube's ScaleHandler mappings: the replicas path (as fieldsV1 spells it) of `apiVersion` of
   * the storage of `info`; null for a version without a scale subresource or one the server
   * cannot tell (its entries are kept as they are); undefined for a version the server does not
   * have (its entries are dropped).
   */
  private replicasPathAt(info: KindDefinition, apiVersion: string): string[] | null | undefined {
    const kind = this.versionAt(info, apiVersion);
    if (kind === undefined) return undefined;
    if (kind === UNKNOWN_VERSION) return null;
    if (kind === info && apiVersion !== apiVersionOf(info)) {
      // a listed version not served: its own scale subresource, as the definition lists it
      const slash = apiVersion.indexOf('/');
      const path = info.listedVersions?.[apiVersion.slice(slash + 1)] ?? '';
      return path === '' ? null : fieldsPath(path);
    }
    return replicasPathOf(kind) ?? null;
  }

  /**
   * What an endpoint's FieldManager sees of the stored object: itself, or for /scale its Scale
   * (`view`) with the entries owning their version's replicas path, of any version (kube's
   * ScaleHandler.ToSubresource).
   */
  liveView(target: ManagedTarget, stored: KubeObject, view: KubeObject): KubeObject {
    if (target.subresource !== 'scale') return view;
    if (replicasPathOf(target.info) === undefined) return view;
    const scaleApiVersion = apiVersionOf(scaleKindOf(target.info));
    const entries: ManagedFieldsEntry[] = [];
    for (const entry of entriesOf(stored)) {
      const replicas = this.replicasPathAt(target.info, entry.apiVersion);
      if (replicas === undefined || replicas === null || !hasPath(entry.fieldsV1, replicas)) continue;
      entries.push({ ...entry, apiVersion: scaleApiVersion, fieldsType: 'FieldsV1', fieldsV1: pathSet(SCALE_REPLICAS) });
    }
    return withEntries(view, sortEntries(entries));
  }

  /**
   * The object a write through an endpoint stores (`written`), with the managedFields of the
   * endpoint's object (`recorded`): itself, or for /scale carried from the Scale's as kube's
   * ScaleHandler.ToParent does: an entry of the stored object (of any version) owning its
   * version's replicas path keeps it only if the Scale still has that manager; an entry of a
   * version without one is kept as is, one of a version the server does not have is dropped;
   * each other Scale manager owning spec.replicas owns the object's replicas path (apiVersion
   * the object's; its time the stored entry's, if any).
   */
  carried(target: ManagedTarget, stored: KubeObject, written: KubeObject, recorded: KubeObject): KubeObject {
    if (target.subresource !== 'scale') return recorded;
    const own = replicasPathOf(target.info);
    if (own === undefined) return written;
    const apiVersion = apiVersionOf(target.info);
    const parent = entriesOf(stored);
    const scaleEntries = new Map(entriesOf(recorded).map((e) => [managerId(e), e]));
    const times = new Map(parent.map((e) => [managerId(e), e.time]));
    const out: ManagedFieldsEntry[] = [];
    for (const entry of parent) {
      const replicas = this.replicasPathAt(target.info, entry.apiVersion);
      if (replicas === undefined) continue;
      if (replicas === null || !hasPath(entry.fieldsV1, replicas)) {
        out.push(entry);
        continue;
      }
      const id = managerId(entry);
      if (scaleEntries.has(id)) {
        out.push(entry);
        scaleEntries.delete(id);
        continue;
      }
      const rest = isPlainObject(entry.fieldsV1) ? withoutPath(entry.fieldsV1, replicas) : undefined;
      if (rest !== undefined) out.push({ ...entry, fieldsV1: rest });
    }
    for (const [id, entry] of scaleEntries) {
      if (!hasPath(entry.fieldsV1, SCALE_REPLICAS)) continue;
      const { time: _time, ...rest } = entry;
      const time = times.get(id);
      out.push({ ...rest, apiVersion, fieldsType: 'FieldsV1', fieldsV1: pathSet(own), ...(time === undefined ? {} : { time }) });
    }
    return withEntries(written, sortEntries(out));
  }
}

/** What `make` gives for an endpoint (`info` at `subresource`), made once and kept in `cache` as long as the kind's definition. */
function perEndpoint<T>(cache: WeakMap<KindDefinition, Map<string, T>>, info: KindDefinition, subresource: string, make: () => T): T {
  let byEndpoint = cache.get(info);
  if (byEndpoint === undefined) {
    byEndpoint = new Map();
    cache.set(info, byEndpoint);
  }
  let value = byEndpoint.get(subresource);
  if (value === undefined) {
    value = make();
    byEndpoint.set(subresource, value);
  }
  return value;
}

/** The replicas path of a kind's scale subresource, as fieldsV1 spells it. */
function replicasPathOf(info: KindDefinition): string[] | undefined {
  const path = info.scale?.specReplicasPath;
  return path === undefined || path === '' ? undefined : fieldsPath(path);
}
