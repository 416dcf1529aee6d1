/**
 * The built-in admission plugins.
 */
import { randomUUID, randomInt } from 'node:crypto';
import { invalid, notFound, StatusError, type FieldError, type StatusCause, type StatusDetails } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { isPlainObject, rfc3339 } from '../../../lib/kube.ts';
import type { KindDefinition, KindRegistry, NameValidation, UpdateSubresource } from '../../../lib/kinds/index.ts';
import type { GoShapes } from '../../../lib/kinds/go-json.ts';
import { keepStoredStatus, prepareStatusWrite, resetStatusForCreate } from '../../../lib/kinds/status.ts';
import { servesStatus } from '../../../lib/kinds/subresources.ts';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, validateAnnotations, validateLabels } from '../../../lib/validation/names.ts';
import { NAME_MAY_NOT_CONTAIN, pathSegmentNameErrors } from '../../../lib/validation/path.ts';
import type { SchemaValidator } from '../../../lib/kinds/validate.ts';
import type { Storage } from '../../storage/api.ts';
import type { AdmissionRequest, MutatingPlugin, ValidatingPlugin } from '../api.ts';
import { ExpiringNames, isTerminating, namespaceState, type NamespaceLister, type NamespaceState } from './namespaces.ts';
import { abortableSleep } from '../../../lib/sleep.ts';

/** kube's alphabet for generated name suffixes: no vowels (no words), no look-alikes (0/1/3). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATED_NAME_LENGTH = 63 - 5;

/** names.SimpleNameGenerator: the prefix (cut to 58 characters) and 5 random characters. */
export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return prefix.slice(0, MAX_GENERATED_NAME_LENGTH) + suffix;
}

/**
 * Whether the request's object is of the resource's kind: a write to the object itself, to its
 * status, or to its scale (admitted as the object with its new replicas, the object kube's
 * store runs the kind's strategy on). A POST subresource's body is another kind (a Binding, an
 * Eviction), which the kind's strategy and checks do not apply to.
 */
export function writesResourceObject(request: AdmissionRequest, registry?: KindRegistry): boolean {
  const subresource = request.subresource ?? '';
  if (subresource === '' || subresource === 'status' || subresource === 'scale') return true;
  // A PUT subresource with a strategy of its own (namespaces/finalize) writes the object too.
  return registry !== undefined && updateSubresourceOf(registry.get(request.group, request.version, request.resource), subresource) !== undefined;
}

/** The strategy of the PUT subresource `name` of `info` (namespaces/finalize), when it has one. */
function updateSubresourceOf(info: KindDefinition | undefined, name: string): UpdateSubresource | undefined {
  const table = info?.updateSubresources;
  return name !== '' && table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Whether the request writes the status subresource. */
function writesStatus(request: AdmissionRequest): boolean {
  return request.subresource === 'status';
}

/**
 * System fields on create, as the registry's BeforeCreate and FillObjectMetaSystemFields:
 * name from generateName, uid, creationTimestamp, generation 1; no deletion fields; the status
 * rules of kinds with a status subresource (lib/kinds/status.ts: a create resets status, a
 * write to the object keeps the stored one, a write to /status keeps all but status); and the
 * kind-specific parts of PrepareForCreate / PrepareForUpdate (a Namespace starts Active), of
 * the status strategy for writes to /status.
 */
export class SystemFieldsPlugin implements MutatingPlugin {
  readonly name = 'SystemFields';
  private readonly registry: KindRegistry;
  private readonly clock: () => Date;

  constructor(registry: KindRegistry, clock: () => Date = () => new Date()) {
    this.registry = registry;
    this.clock = clock;
  }

  handles(request: AdmissionRequest): boolean {
    if (!writesResourceObject(request, this.registry)) return false;
    if (request.operation === 'CREATE') return true;
    if (request.operation !== 'UPDATE') return false;
    // On update only the status rules and the kind's PrepareForUpdate, for kinds that have them.
    const info = this.registry.get(request.group, request.version, request.resource);
    if (info === undefined) return false;
    if (writesStatus(request) || updateSubresourceOf(info, request.subresource ?? '') !== undefined) return true;
    return servesStatus(info) || info.strategy.prepareForUpdate !== undefined;
  }

  async admit(request: AdmissionRequest, object: KubeObject): Promise<KubeObject> {
    if (request.operation === 'UPDATE') {
      const info = this.registry.get(request.group, request.version, request.resource);
      const old = request.oldObject;
      return info === undefined || old === undefined ? object : prepareUpdate(info, request.subresource ?? '', object, old);
    }
    const metadata = { ...(object.metadata ?? {}) };
    if ((metadata.name ?? '') === '' && typeof metadata.generateName === 'string' && metadata.generateName !== '') {
      metadata.name = generateName(metadata.generateName);
    }
    metadata.uid = randomUUID();
    metadata.creationTimestamp = rfc3339(this.clock());
    delete metadata.deletionTimestamp;
    delete metadata.deletionGracePeriodSeconds;
    const info = this.registry.get(request.group, request.version, request.resource);
    // Kinds whose strategy keeps a generation start at 1 (kube's PrepareForCreate of those
    // kinds); the others (a ConfigMap, Secret, Namespace, ...) have none, as in kube.
    if (info === undefined || info.strategy.generation !== 'none') metadata.generation = 1;
    let result: KubeObject = { ...object, metadata };
    if (info !== undefined && servesStatus(info)) result = resetStatusForCreate(info, result);
    const prepare = info?.strategy.prepareForCreate;
    return prepare === undefined ? result : prepare(result);
  }
}

/**
 * PrepareForUpdate of the object's strategy, or for a write to /status of its status strategy,
 * after the status rules; for a PUT subresource with a strategy of its own, that strategy's.
 */
function prepareUpdate(info: KindDefinition, subresource: string, object: KubeObject, old: KubeObject): KubeObject {
  const own = updateSubresourceOf(info, subresource);
  if (own !== undefined) return own.prepareForUpdate(object, old);
  if (subresource === 'status') {
    const prepared = prepareStatusWrite(info, object, old);
    const prepare = info.statusStrategy?.prepareForUpdate;
    return prepare === undefined ? prepared : prepare(prepared, old);
  }
  const kept = servesStatus(info) ? keepStoredStatus(object, old) : object;
  const prepare = info.strategy.prepareForUpdate;
  return prepare === undefined ? kept : prepare(kept, old);
}

/**
 * kube's maskTrailingDash for a generateName prefix, which may end with "-" since characters
 * follow it (its quirk kept: the last two characters become one "a").
 */
function maskTrailingDash(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('-') ? `${prefix.slice(0, -2)}a` : prefix;
}

/** The name checks of NameValidation (kube's name validation functions). */
const NAME_CHECKS: Readonly<Record<NameValidation, (name: string) => string[]>> = {
  dns1123Subdomain: isDNS1123Subdomain,
  dns1123Label: isDNS1123Label,
  dns1035Label: isDNS1035Label,
  pathSegmentName: pathSegmentNameErrors,
};

/** path.IsValidPathSegmentPrefix: what a generateName of a path-segment-named kind may not contain. */
function pathSegmentPrefixErrors(prefix: string): string[] {
  return NAME_MAY_NOT_CONTAIN.filter((c) => prefix.includes(c)).map((c) => `may not contain '${c}'`);
}

/**
 * ValidateObjectMeta of kube: a valid name (or generateName), a namespace exactly when the
 * resource is namespaced, label keys and values (metadata.labels) and annotation keys and
 * their total size (metadata.annotations) as kube checks them, on create and update alike.
 * Labels or annotations that are not maps of strings are the object's shape check's to refuse.
 * Then the kind's own validation, when its strategy has one (its status strategy's, for a
 * write to /status). A POST subresource's body (another kind) is not checked here.
 */
export class ObjectMetaValidation implements ValidatingPlugin {
  readonly name = 'ObjectMetaValidation';
  private readonly registry: KindRegistry;

  constructor(registry: KindRegistry) {
    this.registry = registry;
  }

  handles(request: AdmissionRequest): boolean {
    return (request.operation === 'CREATE' || request.operation === 'UPDATE') && writesResourceObject(request, this.registry);
  }

  async validate(request: AdmissionRequest, object: KubeObject | undefined): Promise<void> {
    const info = this.registry.get(request.group, request.version, request.resource);
    if (info === undefined || object === undefined) return;
    const metadata = object.metadata ?? {};
    const errors: FieldError[] = [];
    const validateName = NAME_CHECKS[info.nameValidation];
    const generate = metadata.generateName ?? '';
    if (typeof generate === 'string' && generate !== '') {
      // A path segment prefix may be "." or ".." (characters follow); only its contents are checked.
      const prefixErrors = info.nameValidation === 'pathSegmentName' ? pathSegmentPrefixErrors : validateName;
      for (const detail of prefixErrors(maskTrailingDash(generate))) {
        errors.push({ type: 'FieldValueInvalid', field: 'metadata.generateName', value: generate, detail });
      }
    }
    const name = metadata.name ?? '';
    if (typeof name !== 'string' || name === '') {
      errors.push({ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
    } else {
      for (const detail of validateName(name)) errors.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: name, detail });
    }
    const namespace = metadata.namespace ?? '';
    if (info.namespaced) {
      if (namespace === '') {
        errors.push({ type: 'FieldValueRequired', field: 'metadata.namespace', detail: '' });
      } else {
        for (const detail of isDNS1123Label(namespace)) {
          errors.push({ type: 'FieldValueInvalid', field: 'metadata.namespace', value: namespace, detail });
        }
      }
    } else if (namespace !== '') {
      errors.push({ type: 'FieldValueForbidden', field: 'metadata.namespace', detail: 'not allowed on this type' });
    }
    if (isPlainObject(metadata.labels)) errors.push(...validateLabels(metadata.labels, 'metadata.labels'));
    if (isPlainObject(metadata.annotations)) errors.push(...validateAnnotations(metadata.annotations, 'metadata.annotations'));
    if (request.operation === 'UPDATE' && request.oldObject !== undefined) errors.push(...noNewFinalizersErrors(object, request.oldObject));
    // The kind's own validation: Validate / ValidateUpdate of its strategy, or for a write to
    // /status the ValidateUpdate of its status strategy.
    const own = updateSubresourceOf(info, request.subresource ?? '');
    if (own !== undefined) {
      if (request.oldObject !== undefined) errors.push(...(own.validate?.(object, request.oldObject) ?? []));
    } else if (writesStatus(request)) {
      if (request.oldObject !== undefined) errors.push(...(info.statusStrategy?.validate?.(object, request.oldObject) ?? []));
    } else {
      errors.push(...(info.strategy.validate?.(object, request.operation === 'UPDATE' ? request.oldObject : undefined) ?? []));
    }
    if (errors.length > 0) throw invalid(info.kind, info.group, typeof name === 'string' ? name : '', errors);
  }
}

/**
 * kube's ValidateNoNewFinalizers (from ValidateObjectMetaUpdate): once an object is being
 * deleted no finalizer may be added, so that nothing keeps it (or its namespace) from going
 * by adding finalizers after the delete.
 */
function noNewFinalizersErrors(object: KubeObject, old: KubeObject): FieldError[] {
  const deletion: unknown = old.metadata?.deletionTimestamp;
  if (deletion === undefined || deletion === null) return [];
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((f): f is string => typeof f === 'string') : []);
  const before = new Set(strings(old.metadata?.finalizers));
  const extra = [...new Set(strings(object.metadata?.finalizers))].filter((f) => !before.has(f)).sort();
  if (extra.length === 0) return [];
  // Go's %#v of the sorted []string
  const listed = `[]string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`;
  return [{ type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers ${listed}` }];
}

/**
 * Schema validation of created and updated objects, after mutation as kube's strategy
 * validation: required fields and enum values of the kind's schema (lib/kinds/validate.ts),
 * 422 Invalid with a cause per field. (Types, unknown and duplicate fields were decoding's, at
 * the front door.)
 */
export class SchemaValidation implements ValidatingPlugin {
  readonly name = 'SchemaValidation';
  private readonly registry: KindRegistry;
  private readonly schemas: SchemaValidator;

  constructor(registry: KindRegistry, schemas: SchemaValidator) {
    this.registry = registry;
    this.schemas = schemas;
  }

  handles(request: AdmissionRequest): boolean {
    return (request.operation === 'CREATE' || request.operation === 'UPDATE') && writesResourceObject(request, this.registry);
  }

  async validate(request: AdmissionRequest, object: KubeObject | undefined): Promise<void> {
    const info = this.registry.get(request.group, request.version, request.resource);
    if (info === undefined || object === undefined) return;
    const errors = this.schemas.validate(object, info);
    if (errors.length === 0) return;
    const name = object.metadata?.name;
    throw invalid(info.kind, info.group, typeof name === 'string' ? name : '', errors);
  }
}

/** The namespaces NamespaceLifecycle never lets go (kube's immortal namespaces). */
const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

/**
 * kube's NamespaceLifecycle timings: how long a create into a namespace the cache does not
 * know waits for the cache to see it (missingNamespaceWait: a namespace created a moment ago
 * may still be on its way) before reading it live; how long after a namespace delete creates
 * into it read the namespace live (forceLiveLookupTTL), and for how many namespaces at most;
 * and how long a request waits for the cache's first list (the admission handler's
 * timeToWaitForReady).
 */
export const NAMESPACE_LIFECYCLE_TIMINGS = Object.freeze({
  missingNamespaceWaitMs: 50,
  forceLiveLookupTtlMs: 30_000,
  forceLiveLookupCapacity: 100,
  readyWaitMs: 10_000,
});

export interface NamespaceLifecycleOptions {
  /**
   * The namespaces as a cache fed by the watch service holds them (core/namespaces.ts). Without
   * one, every create reads its namespace live from storage (in-process test pipelines).
   */
  namespaces?: NamespaceLister | undefined;
  /** kube's timings by default (NAMESPACE_LIFECYCLE_TIMINGS); tests shorten them. */
  missingNamespaceWaitMs?: number;
  forceLiveLookupTtlMs?: number;
  readyWaitMs?: number;
  /** The clock of the force-live-lookup set (Date.now by default). */
  now?: () => number;
}

/** The resources whose creates NamespaceLifecycle lets through: saying whether a namespace exists would leak it (kube's accessReviewResources). */
const ACCESS_REVIEW_RESOURCES: readonly string[] = ['localsubjectaccessreviews.authorization.k8s.io'];

/**
 * NamespaceLifecycle: objects are created only in namespaces that exist and are not being
 * deleted (404 NotFound / 403 Forbidden with kube's messages), and the immortal namespaces
 * (default, kube-system, kube-public) cannot be deleted (403, kube's words).
 *
 * As kube's plugin, it reads namespaces from a cache (`namespaces`) and reads storage only
 * when the cache cannot be trusted: a namespace the cache does not know, after a short wait
 * for it to arrive (it may have been created a moment ago); and one deleted through this
 * plugin in the last 30 s that the cache still shows active. Until the cache's first list is
 * in, a create waits for it (10 s at most, then 403 "not yet ready to handle request").
 */
export class NamespaceLifecycle implements ValidatingPlugin {
  readonly name = 'NamespaceLifecycle';
  private readonly storage: Pick<Storage, 'get'>;
  private readonly registry: KindRegistry;
  private readonly namespaces: NamespaceLister | undefined;
  private readonly missingNamespaceWaitMs: number;
  private readonly readyWaitMs: number;
  /** Namespaces deleted a moment ago, read live while the cache may still show them active. */
  private readonly forceLiveLookup: ExpiringNames;

  constructor(storage: Pick<Storage, 'get'>, registry: KindRegistry, options: NamespaceLifecycleOptions = {}) {
    this.storage = storage;
    this.registry = registry;
    this.namespaces = options.namespaces;
    this.missingNamespaceWaitMs = options.missingNamespaceWaitMs ?? NAMESPACE_LIFECYCLE_TIMINGS.missingNamespaceWaitMs;
    this.readyWaitMs = options.readyWaitMs ?? NAMESPACE_LIFECYCLE_TIMINGS.readyWaitMs;
    this.forceLiveLookup = new ExpiringNames(
      NAMESPACE_LIFECYCLE_TIMINGS.forceLiveLookupCapacity,
      options.forceLiveLookupTtlMs ?? NAMESPACE_LIFECYCLE_TIMINGS.forceLiveLookupTtlMs,
      options.now,
    );
  }

  handles(request: AdmissionRequest): boolean {
    if (isNamespaceDelete(request)) return true;
    if (request.operation !== 'CREATE' || request.namespace === '') return false;
    if (ACCESS_REVIEW_RESOURCES.includes(`${request.resource}.${request.group}`)) return false;
    return this.registry.get(request.group, request.version, request.resource)?.namespaced === true;
  }

  async validate(request: AdmissionRequest, object: KubeObject | undefined, signal?: AbortSignal): Promise<void> {
    if (isNamespaceDelete(request)) {
      if (IMMORTAL_NAMESPACES.includes(request.name)) {
        throw new StatusError('Forbidden', `namespaces "${request.name}" is forbidden: this namespace may not be deleted`, { name: request.name, group: '', kind: 'namespaces' });
      }
      // The cache may show the namespace active for a moment yet: creates into it read it live.
      this.forceLiveLookup.add(request.name);
      return;
    }
    const namespace = await this.lookup(request, object, signal);
    if (isTerminating(namespace)) {
      throw admissionForbidden(request, object, `unable to create new content in namespace ${request.namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', message: `namespace ${request.namespace} is being terminated`, field: 'metadata.namespace' },
      ]);
    }
  }

  /** The request's namespace: from the cache when it can be trusted, else read live. */
  private async lookup(request: AdmissionRequest, object: KubeObject | undefined, signal: AbortSignal | undefined): Promise<NamespaceState> {
    const cache = this.namespaces;
    if (cache === undefined) return this.readLive(request.namespace, signal);
    if (!cache.synced() && !(await cache.waitForSync(this.readyWaitMs, signal))) {
      throwIfAborted(signal);
      throw admissionForbidden(request, object, 'not yet ready to handle request');
    }
    let cached = cache.get(request.namespace);
    if (cached === undefined) {
      // Give the cache time to see a namespace created a moment ago before reading it live.
      await abortableSleep(this.missingNamespaceWaitMs, signal);
      throwIfAborted(signal);
      cached = cache.get(request.namespace);
    }
    // Deleted a moment ago through this plugin, while the cache still says otherwise.
    const stale = cached !== undefined && !isTerminating(cached) && this.forceLiveLookup.has(request.namespace);
    return cached === undefined || stale ? this.readLive(request.namespace, signal) : cached;
  }

  /** The namespace as storage has it now: 404 with kube's words when there is none. */
  private async readLive(name: string, signal: AbortSignal | undefined): Promise<NamespaceState> {
    try {
      return namespaceState(await this.storage.get({ group: '', resource: 'namespaces', namespace: '', name }, {}, signal));
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'NotFound') throw notFound({ group: '', resource: 'namespaces' }, name);
      throw err;
    }
  }
}

/**
 * kube's admission.NewForbidden: 403 naming the resource and the object. The name is the
 * request's, or while it is not known yet (a create by generateName, which kube's mutating
 * admission sees before the name is generated) the generateName, or "Unknown".
 */
function admissionForbidden(request: AdmissionRequest, object: KubeObject | undefined, reason: string, causes?: StatusCause[]): StatusError {
  const generateName: unknown = object?.metadata?.generateName;
  const name = request.name !== '' ? request.name : typeof generateName === 'string' && generateName !== '' ? generateName : 'Unknown';
  const resource = request.group === '' ? request.resource : `${request.resource}.${request.group}`;
  const details: StatusDetails = { name, group: request.group, kind: request.resource };
  if (causes !== undefined) details.causes = causes;
  return new StatusError('Forbidden', `${resource} ${JSON.stringify(name)} is forbidden: ${reason}`, details);
}

/** The error of a request whose caller went away while it waited. */
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return;
  throw signal.reason instanceof StatusError ? signal.reason : new StatusError('Timeout', 'request did not complete within requested timeout');
}


/** A delete of a namespace itself. */
function isNamespaceDelete(request: AdmissionRequest): boolean {
  return request.operation === 'DELETE' && request.group === '' && request.resource === 'namespaces' && (request.subresource ?? '') === '';
}

/**
 * The object of a built-in kind as kube's typed struct holds it (lib/kinds/go-json.ts): every
 * field kube always writes is there (a Node's status.nodeInfo.architecture is "" when not
 * sent), empty omitempty fields are gone, quantities and times are in Go's written form.
 * kube-apiserver decodes a body into the struct, defaults it and lets admission mutate it, then
 * validates and stores it: so this runs last of the mutating plugins (after every mutation,
 * before every validation), on creates and updates of built-in kinds; custom kinds keep their
 * open shape.
 */
export class GoRoundTrip implements MutatingPlugin {
  readonly name = 'GoRoundTrip';
  private readonly registry: KindRegistry;
  private readonly shapes: GoShapes;

  constructor(registry: KindRegistry, shapes: GoShapes) {
    this.registry = registry;
    this.shapes = shapes;
  }

  handles(request: AdmissionRequest): boolean {
    if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return false;
    // The object itself, its status or its scale; a POST subresource's body is another kind.
    if (!writesResourceObject(request, this.registry)) return false;
    return this.registry.get(request.group, request.version, request.resource)?.source === 'builtin';
  }

  async admit(request: AdmissionRequest, object: KubeObject): Promise<KubeObject> {
    const info = this.registry.get(request.group, request.version, request.resource);
    return info === undefined ? object : this.shapes.shape(object, info.schema);
  }
}

/**
 * kube's forbidCreateAdmission of custom resources: while a kind's CustomResourceDefinition is
 * being deleted (the kind is `terminating`), creates of its objects are refused (403, kube's
 * words; by create or by a patch that would create), before any other plugin sees them;
 * everything else passes.
 */
export class TerminatingDefinitionCreates implements MutatingPlugin {
  readonly name = 'TerminatingDefinitionCreates';
  private readonly registry: KindRegistry;

  constructor(registry: KindRegistry) {
    this.registry = registry;
  }

  handles(request: AdmissionRequest): boolean {
    return request.operation === 'CREATE' && (request.subresource ?? '') === '' && this.registry.get(request.group, request.version, request.resource)?.terminating === true;
  }

  async admit(request: AdmissionRequest): Promise<KubeObject> {
    const resource = request.group === '' ? request.resource : `${request.resource}.${request.group}`;
    // errors.NewForbidden leaves the name out when it is not known yet (generateName).
    const subject = request.name === '' ? resource : `${resource} ${JSON.stringify(request.name)}`;
    throw new StatusError('Forbidden', `${subject} is forbidden: create not allowed while custom resource definition is terminating`, {
      name: request.name,
      group: request.group,
      kind: request.resource,
    });
  }
}
