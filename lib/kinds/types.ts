/**
 * What a kind is: the one definition every part of the control plane reads (discovery,
 * routing, storage keys, admission, printing, selectors, watch caches, OpenAPI), held by the
 * live {@link KindRegistry} in registry.ts.
 */
import type { FieldError } from '../errors.ts';
import type { ClusterConfig, KindAllocator } from './allocation.ts';
import type { KubeObject } from '../kube.ts';
import type { SelectableFields } from '../selectors.ts';

/** How names are validated, as kube's ValidateObjectMeta name functions. */
export type NameValidation = 'dns1123Subdomain' | 'dns1123Label' | 'pathSegmentName' | 'dns1035Label';

/** The identity of a served resource: enough to route, key, discover and label it. */
export interface ResourceInfo {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural, lower-case: the URL segment and the storage key segment. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Discovery categories (e.g. "all"). */
  readonly categories: readonly string[];
  /** Verbs the resource serves, as discovery lists them. */
  readonly verbs: readonly string[];
  /** Subresources served under `<resource>/<name>/<subresource>` (e.g. "status"). */
  readonly subresources: readonly string[];
  readonly nameValidation: NameValidation;
}

/** metav1.TableColumnDefinition: one column of a Table, in the order the cells appear. */
export interface TableColumnDefinition {
  /** Human-readable column name; kubectl upper-cases it for the header. */
  name: string;
  /** OpenAPI type of the cells: "string", "integer", "number", "boolean" or "date". */
  type: string;
  /** OpenAPI format hint; "name" marks the column holding the object's name, else "". */
  format: string;
  /** What the column shows. */
  description: string;
  /** 0 for default columns; higher-priority columns are shown only by `kubectl get -o wide`. */
  priority: number;
}

/**
 * A kind's server-side printing (kube's print handlers): the columns, and the cells of one
 * object. `cells` gets any JSON object (it may not have passed typed decoding) and never throws:
 * a missing or mistyped field prints what kube prints for the Go zero value.
 */
export interface KindPrinter {
  readonly columns: readonly TableColumnDefinition[];
  cells(object: Record<string, unknown>, now: Date): unknown[];
}

/**
 * Which change of an object is a change of its desired state, raising metadata.generation:
 * 'allButMetadataAndStatus' (custom resources with a status subresource), 'allButMetadata'
 * (custom resources without one: their status is part of the object like any field; an
 * EndpointSlice), 'spec' (built-in kinds whose strategy compares spec), 'none' (kinds whose
 * kube strategy keeps no generation: a create sets none, and an update never raises one).
 */
export type GenerationRule = 'allButMetadataAndStatus' | 'allButMetadata' | 'spec' | 'none';

/**
 * A kind's strategy: what kube's registry strategy does beyond what every kind shares. Every
 * function takes and returns plain JSON objects and never throws on malformed input.
 */
export interface KindStrategy {
  /**
   * SetDefaults: kube's defaulting functions of the kind's version (scheme defaults), applied
   * when a body is decoded (create, update, the result of a patch, status and scale writes),
   * before admission. May change `object` in place; returns the defaulted object.
   */
  defaults?(object: KubeObject): KubeObject;
  /** PrepareForCreate: kind-specific changes to a new object (status reset, defaults). */
  prepareForCreate?(object: KubeObject): KubeObject;
  /** PrepareForUpdate: kind-specific changes given the stored object (e.g. status kept). */
  prepareForUpdate?(object: KubeObject, old: KubeObject): KubeObject;
  /**
   * Validate / ValidateUpdate: the kind's own field errors (metadata is checked by admission
   * for every kind); `old` is the stored object on update. Empty when valid.
   */
  validate?(object: KubeObject, old: KubeObject | undefined): FieldError[];
  readonly generation: GenerationRule;
}

/**
 * The strategy of writes to the `status` subresource (kube's statusStrategy), beyond what every
 * status write shares (everything but status and a few metadata fields is kept from the stored
 * object).
 */
export interface StatusStrategy {
  /** PrepareForUpdate of the status strategy: kind-specific changes given the stored object. */
  prepareForUpdate?(object: KubeObject, old: KubeObject): KubeObject;
  /** ValidateUpdate of the status strategy: the kind's field errors for a status write. */
  validate?(object: KubeObject, old: KubeObject): FieldError[];
}

/**
 * Where the `scale` subresource (autoscaling/v1 Scale) reads and writes an object, as a
 * CustomResourceDefinition's `subresources.scale` says it: dotted JSON paths starting with ".".
 */
export interface ScaleSubresource {
  /** The desired replicas (Scale spec.replicas), e.g. ".spec.replicas". */
  readonly specReplicasPath: string;
  /** The observed replicas (Scale status.replicas), e.g. ".status.replicas". */
  readonly statusReplicasPath: string;
  /** A string field holding the label selector in its serialized form (custom kinds' labelSelectorPath). */
  readonly labelSelectorPath?: string;
  /**
   * A metav1.LabelSelector field (built-in kinds: ".spec.selector"), serialized into Scale's
   * status.selector as kube's LabelSelectorAsSelector(...).String() does.
   */
  readonly selectorPath?: string;
}

/** An object a subresource handler reads or writes: its resource and where it is. */
export interface SubresourceObjectRef {
  /** API group; "" for the core group. */
  readonly group: string;
  /** Plural resource, e.g. "pods". */
  readonly resource: string;
  /** "" for cluster-scoped resources. */
  readonly namespace: string;
  readonly name: string;
}

/**
 * What a POST subresource's handler reads and writes, as kube's subresource storage does: the
 * stored objects directly, without authorization, admission or the kinds' strategies (the
 * request itself was authorized and admitted). Errors are StatusErrors as storage's.
 */
export interface SubresourceStore {
  get(ref: SubresourceObjectRef): Promise<KubeObject>;
  /** Every object of a resource in a namespace ("" for all), in key order. */
  list(ref: Omit<SubresourceObjectRef, 'name'>): Promise<KubeObject[]>;
  /** Replaces an object, only if `object.metadata.resourceVersion` is still the stored one (Conflict otherwise). */
  update(ref: SubresourceObjectRef, object: KubeObject): Promise<KubeObject>;
  /**
   * Deletes an object of the resource whose subresource was asked for, as its registry's delete
   * does (kube's Store.Delete; the delete itself is not admitted): the preconditions (409 in
   * rest.BeforeDelete's words), the kind's graceful deletion, the garbage collector's
   * finalizers, dryRun. An object held by finalizers or a grace period stays, marked (`pending`).
   */
  delete(ref: SubresourceObjectRef, options: SubresourceDeleteOptions): Promise<{ object: KubeObject; pending: boolean }>;
}

/** metav1.DeleteOptions of a subresource's delete (an Eviction's deleteOptions). */
export interface SubresourceDeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  /** undefined: the kind's default (for pods, spec.terminationGracePeriodSeconds). */
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  dryRun?: boolean;
}

/** One POST to a subresource, as its handler gets it. */
export interface SubresourceCall {
  /** The object the request names: `<resource>/<name>/<subresource>` in `namespace`. */
  readonly namespace: string;
  readonly name: string;
  /** The body: decoded against the subresource's schema, checked against the URL and admitted. */
  readonly body: KubeObject;
  /** The request's dryRun: everything is checked, nothing is written. */
  readonly dryRun: boolean;
  readonly store: SubresourceStore;
  /** The time written into what the handler changes (conditions' transition times). */
  now(): Date;
  /**
   * The service-account token issuer, for the handlers that issue tokens (serviceaccounts/token);
   * absent where the pipeline has none.
   */
  readonly tokens?: SubresourceTokenIssuer;
  /** Adds a warning to the answer (kube's warning.AddWarning); absent where nobody receives them. */
  readonly warn?: (text: string) => void;
}

/** A token TokenRequest asks for (the auth service's ServiceAccountTokenRequest, by shape). */
export interface SubresourceTokenRequest {
  namespace: string;
  /** The ServiceAccount's name and uid, as read. */
  name: string;
  uid: string;
  /** Empty: the API server's own audiences. */
  audiences: string[];
  expirationSeconds: number;
  /** The Pod, Secret or Node the token is bound to, as read. */
  boundObject?: { kind: string; apiVersion: string; name: string; uid: string };
}

/** What a POST subresource handler may ask of the token issuer. */
export interface SubresourceTokenIssuer {
  /** Signs a token for a ServiceAccount (and bound object) the handler has checked exist. */
  issue(request: SubresourceTokenRequest): Promise<{ token: string; expirationTimestamp: Date }>;
}

/**
 * A subresource that takes POSTs (kube's NamedCreater subresources, e.g. pods/binding,
 * pods/eviction): the kind of its body, and its handler. Discovery lists it with the verb
 * "create" and its kind as responseKind.
 */
export interface PostSubresource {
  /** The group, version and kind of the body (and of discovery's responseKind). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The OpenAPI definition name of the body's schema, which bodies are decoded against. */
  readonly schema: string;
  /**
   * Other API versions a body may name, read with the same schema (kube's AcceptsGroupVersion:
   * eviction takes policy/v1beta1 bodies too).
   */
  readonly acceptedApiVersions?: readonly string[];
  /**
   * Does what the POST asks; resolves with the answer (kube's handlers answer a Status with
   * status Success; the code is filled in as 201 when absent, as kube's create handler does),
   * or rejects with a StatusError.
   */
  create(call: SubresourceCall): Promise<KubeObject>;
}

/**
 * The kind whose storage a view kind's objects live in, and the conversions between them (kube's
 * conversion functions). Both take and return plain JSON objects and never throw on malformed
 * input; each sets the apiVersion and kind of its target. The view's selectable fields must be
 * selectable, under the same names, on the stored kind.
 */
export interface StoredAs {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** This kind's object in the stored kind's form. */
  toStored(object: KubeObject): KubeObject;
  /** A stored object in this kind's form. */
  fromStored(object: KubeObject): KubeObject;
  /**
   * The conversion of toStored alone, without the stored version's defaults (kube's scheme
   * conversion, as its field manager converts objects to compare them); toStored when absent.
   */
  convertToStored?(object: KubeObject): KubeObject;
}

/**
 * A subresource written with PUT whose body is the object itself, with a strategy of its own
 * (kube's namespaces/finalize): what a write to it keeps of the stored object, and its
 * validation. Discovery lists it with the verb "update" and the kind as responseKind.
 */
export interface UpdateSubresource {
  /** PrepareForUpdate of the subresource's strategy, given the stored object (instead of the kind's). */
  prepareForUpdate(object: KubeObject, old: KubeObject): KubeObject;
  /** ValidateUpdate of the subresource's strategy: field errors, empty when valid (instead of the kind's). */
  validate?(object: KubeObject, old: KubeObject): FieldError[];
}

/**
 * The kinds that hold storage of their own: every kind but the views of another ({@link StoredAs})
 * and the review kinds ({@link KindDefinition.review}), which are never stored.
 */
export function storedKinds<K extends { storedAs?: StoredAs; review?: boolean }>(kinds: readonly K[]): K[] {
  return kinds.filter((k) => k.storedAs === undefined && k.review !== true);
}

/** Where a kind comes from: built in, or registered at run time (a CustomResourceDefinition). */
export type KindSource = 'builtin' | 'custom';

/** One kind, as every consumer sees it. */
export interface KindDefinition extends ResourceInfo {
  readonly source: KindSource;
  /** The fields it can be selected by, and their values in an object. */
  readonly selectableFields: SelectableFields;
  readonly strategy: KindStrategy;
  /** Writes to its `status` subresource, when it has one (see `subresources`). */
  readonly statusStrategy?: StatusStrategy;
  /** Its `scale` subresource, when it has one (see `subresources`). */
  readonly scale?: ScaleSubresource;
  /**
   * Set when the kind is a view of another kind's stored objects, as kube serves one storage
   * at several group-versions (events.k8s.io/v1 Event over core/v1 Event, autoscaling/v1 over
   * autoscaling/v2 HorizontalPodAutoscaler): its objects are converted on the way to and from
   * storage, and it has no storage, changefeed channel or watch cache of its own.
   */
  readonly storedAs?: StoredAs;
  /**
   * Set on a review kind (kube's SubjectAccessReview, TokenReview, ...): created and answered by
   * the API server itself (services/gateway/core/reviews.ts), never stored. Its only verb is
   * create; it has no storage, changefeed channel, watch cache, list or typed gRPC service.
   */
  readonly review?: boolean;
  /** Its Table printing; the generic NAME/AGE columns when absent. */
  readonly printer?: KindPrinter;
  /**
   * The OpenAPI definition name of the kind's schema (e.g. `io.k8s.api.core.v1.ConfigMap`),
   * looked up in the generated schemas or in `definitions`.
   */
  readonly schema: string;
  /**
   * Schemas the kind brings itself (custom kinds), by definition name. Only the kind's own
   * `schema` and its list ({@link listDefinitionName}) are ever looked up here: a kind cannot
   * bring the schema of another name.
   */
  readonly definitions?: Readonly<Record<string, unknown>>;
  /**
   * The name of the CustomResourceDefinition a custom kind is served from: the versions of one
   * definition share their resource (and storage); another definition may not serve it.
   */
  readonly origin?: string;
  /**
   * A custom kind's definition's versions, served or not, by name: each one's scale
   * specReplicasPath ('' without a scale subresource). What managedFields entries of another
   * version of the definition are read against (kube converts to every version a definition
   * lists).
   */
  readonly listedVersions?: Readonly<Record<string, string>>;
  /**
   * A stable digest of everything the kind serves (custom kinds: what of its definition the
   * kind is made from). Two kinds with the same fingerprint serve the same: the registry keeps
   * the one it has rather than announce a change (a definition's label or status change must
   * not make every consumer rebuild).
   */
  readonly fingerprint?: string;
  /**
   * Top-level fields whose values are secret (a Secret's data and stringData). Where kube would
   * show a whole object in an error (the patch handler's refusals), each value of these fields
   * is shown as "<secret contents redacted>" instead; nothing else ever shows them.
   */
  readonly secretFields?: readonly string[];
  /**
   * What the kind hands out from cluster-wide pools (Service: cluster IPs and node ports): the
   * pipeline calls it around each write (lib/kinds/allocation.ts).
   */
  readonly allocator?: KindAllocator;
  /**
   * Objects every cluster has that come with the kind (Service: `kubernetes` in `default`;
   * PriorityClass: the system priority classes), with their apiVersion and kind,
   * created by the API server at start when absent, as kube's bootstrap controllers do; objects
   * of kinds not served are left out.
   */
  bootstrap?(cluster: ClusterConfig): KubeObject[];
  /**
   * Its POST subresources by name (each also listed in `subresources`): what serves
   * `POST <resource>/<name>/<subresource>`.
   */
  readonly postSubresources?: Readonly<Record<string, PostSubresource>>;
  /**
   * Its PUT subresources with a strategy of their own by name (each also listed in
   * `subresources`): what serves `PUT <resource>/<name>/<subresource>` (namespaces/finalize).
   */
  readonly updateSubresources?: Readonly<Record<string, UpdateSubresource>>;
  /** How its objects are deleted, beyond what every kind shares (kube's delete strategy); see KindDeletion. */
  readonly deletion?: KindDeletion;
  /**
   * Set on a custom kind while its CustomResourceDefinition is being deleted: its objects are
   * still read, updated and deleted, but no new one is created (kube's crdHandler while the
   * definition is terminating).
   */
  readonly terminating?: boolean;
}

/**
 * kube's rest.GarbageCollectionPolicy: what a delete that says nothing of dependents does.
 * DeleteDependents (and no policy) adds no finalizer; OrphanDependents adds `orphan`;
 * Unsupported never sets the deletion finalizers.
 */
export type GarbageCollectionPolicy = 'DeleteDependents' | 'OrphanDependents' | 'Unsupported';

/** What a kind's deletes do beyond what every kind shares (kube's delete strategy and store). */
export interface KindDeletion {
  /**
   * Graceful deletion (kube's RESTGracefulDeleteStrategy.CheckGracefulDelete): the grace period
   * of a delete of `object` given the one asked for (undefined: none asked), or undefined when
   * the kind does not delete this object gracefully. Never throws on malformed input.
   */
  gracePeriodSeconds?(object: KubeObject, requested: number | undefined): number | undefined;
  /** The default garbage collection policy of the kind's served version (kube's DefaultGarbageCollectionPolicy). */
  readonly garbageCollectionPolicy?: GarbageCollectionPolicy;
  /** A delete that removes the object answers the object, not a Status (kube's Store.ReturnDeletedObject). */
  readonly returnDeletedObject?: boolean;
  /**
   * What holds an object being deleted beyond metadata.finalizers (kube's custom REST Delete and
   * ShouldDeleteDuringUpdate of a kind: the Namespace's spec.finalizers and Terminating phase),
   * read by storage so that marking and removing stay one compare-and-swap each. Both take any
   * stored JSON object and never throw. `markForDeletion`: the object a delete that marks it
   * (first delete, or the update of a delete that sets deletionTimestamp) stores, beyond
   * deletionTimestamp (Namespace: status.phase Terminating; CustomResourceDefinition: its
   * cleanup finalizer and Terminating condition); of its metadata only finalizers are taken; a
   * delete of an object nothing else holds marks it too when this gives an object, instead of
   * removing it.
   */
  markForDeletion?(object: KubeObject): KubeObject | undefined;
  /**
   * Whether something beside metadata.finalizers still holds an object being deleted: a delete
   * then leaves it as it is (answering it), and the update that takes away the last hold,
   * finalizers included, removes it.
   */
  held?(object: KubeObject): boolean;
}

/** The redaction marker of {@link KindDefinition.secretFields}, kube's words for a secret it will not show. */
export const REDACTED = '<secret contents redacted>';

/**
 * `value` (an object or a patch document of `kind`) with the values of the kind's secret fields
 * replaced by {@link REDACTED}: each entry of a map field (but a patch's "$" directives), or the
 * whole field. A copy when anything is replaced; `value` itself is never changed.
 */
export function redactSecretFields(kind: Pick<KindDefinition, 'secretFields'>, value: unknown): unknown {
  const fields = kind.secretFields;
  if (fields === undefined || fields.length === 0 || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const name of fields) {
    const field = copy[name];
    if (field === undefined || field === null) continue;
    // Keys starting with "$" are a strategic merge patch's directives, not data.
    copy[name] =
      typeof field === 'object' && !Array.isArray(field)
        ? Object.fromEntries(Object.entries(field).map(([k, v]) => [k, k.startsWith('$') ? v : REDACTED]))
        : REDACTED;
  }
  return copy;
}

/** The OpenAPI definition name of a kind's list: its schema's name with the list kind as the last element. */
export function listDefinitionName(kind: { schema: string; listKind: string }): string {
  const dot = kind.schema.lastIndexOf('.');
  return `${kind.schema.slice(0, dot + 1)}${kind.listKind}`;
}

/** "v1" for the core group, "group/version" otherwise. */
export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The object with the kind and apiVersion of `info` (storage keeps objects without relying on them). */
export function withTypeMeta<T extends { kind?: unknown; apiVersion?: unknown }>(object: T, info: ResourceInfo): T & { kind: string; apiVersion: string } {
  return { ...object, kind: info.kind, apiVersion: apiVersionOf(info) };
}

/** The registry key of a resource: `group/version/resource`. */
export function resourceKey(r: { group: string; version: string; resource: string }): string {
  return `${r.group}/${r.version}/${r.resource}`;
}
