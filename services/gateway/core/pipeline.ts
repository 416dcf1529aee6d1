/**
 * The request pipeline of the front door, shared by REST and the typed gRPC API:
 * authentication -> authorization -> admission (mutate, validate) -> storage, and watches
 * served by the watch service. It knows nothing of HTTP or gRPC.
 */
import { currentApiRequest, noteCreatedName, noteRequestObject, noteRequestObjectOf } from './observe.ts';
import type { Telemetry } from '../../../lib/tracing.ts';
import { relayedEvents, watchDelivery, type RelayedEvents } from './watch-delivery.ts';
import { badRequest, conflict, invalid, StatusError } from '../../../lib/errors.ts';
import { isPlainObject, parseObjectBytes, unchangedOr, type KubeObject } from '../../../lib/kube.ts';
import { applyPatch, decodePatch, mergeFactsOf, patchTypeOf, type DecodedPatch, type FactsSchema, type MergeSchema } from '../../../lib/patch/index.ts';
import { goFormat } from '../../../lib/patch/go-format.ts';
import { decodeObjectMeta } from '../../../lib/object-meta.ts';
import { checkListOptions, type ListOptions } from '../../../lib/list-options.ts';
import { apiVersionOf, REDACTED, redactSecretFields, withTypeMeta, type KindDefinition, type KindRegistry, type PostSubresource, type SubresourceStore } from '../../../lib/kinds/index.ts';
import { applyScale, scaleKindOf, scaleOf } from '../../../lib/kinds/scale.ts';
import { servedSubresource } from '../../../lib/kinds/subresources.ts';
import { DEFAULT_CLUSTER_CONFIG, type Allocation, type AllocationContext, type ClusterConfig, type RepairReport } from '../../../lib/kinds/allocation.ts';
import { GoShapes } from '../../../lib/kinds/go-json.ts';
import type { Logger } from '../../../lib/log.ts';
import { fieldValidationOf, type JsonSource, type SchemaValidator } from '../../../lib/kinds/validate.ts';
import { pathSegmentNameErrors } from '../../../lib/validation/path.ts';
import type { Admission, AdmissionRequest, Operation } from '../../admission/api.ts';
import type { Attributes, Authenticator, Authorizer, Credentials, IssuerDiscovery, RuleResolver, TokenIssuer, UserInfo } from '../../auth/api.ts';
import type { DeleteResult, ListResult, Storage } from '../../storage/api.ts';
import { validateWatch, type WatchEvent, type Watcher, type WatchOptions } from '../../watch/api.ts';
import { DEFAULT_DELETE_COLLECTION_WORKERS, deleteCollection, deleteObject, deleteOptionsObject, type DeletionOptions } from './deletion.ts';
import { TtlCache } from './ttl-cache.ts';
import { ANONYMOUS_USER, credentialsKey, presentsCredentials } from './credentials.ts';
import { impersonate, type Impersonation } from './impersonation.ts';
import { checkApplyConfiguration, ManagedFields, managerOrUserAgent } from './managed-fields.ts';
import { appliedObject, checkApplyStrictErrors, decodeApplyBody, isApplyPatch, type ApplyConfiguration } from './apply.ts';
import { checkDryRunCreate, dryRunUpdated } from './dry-run.ts';
import type { WarningRecorder } from './warnings.ts';
import { answerReview } from './reviews.ts';
import { confirmNoEscalation, type RbacGuardOptions } from './rbac-guard.ts';
import type { Counter } from 'prom-client';
import type { Metrics } from '../../../lib/metrics.ts';

export interface PipelineOptions {
  authenticator: Authenticator;
  authorizer: Authorizer;
  /**
   * The service-account token issuer: what serviceaccounts/token (TokenRequest) and the
   * issuer's discovery documents ask. Without it those answer ServiceUnavailable.
   */
  tokenIssuer?: TokenIssuer;
  /**
   * The rules a user holds (the auth service's RBAC rule resolver): what SelfSubjectRulesReview
   * answers and escalation checks compare with. Without one, a rules review answers incomplete.
   */
  ruleResolver?: RuleResolver;
  admission: Admission;
  storage: Storage;
  watcher: Watcher;
  /** How long authentication and authorization answers are reused (default 10 s; 0 disables). */
  authCacheTtlMs?: number;
  /**
   * Where the caches' hits and misses are counted (none when absent):
   * authentication_token_cache_request_total{status} (kube's name, from
   * k8s.io/apiserver/pkg/authentication/token/cache) and this project's
   * authorization_decision_cache_request_total{status}; status is "hit" or "miss".
   */
  metrics?: Metrics | undefined;
  /**
   * Decodes write bodies against their kind's schema (type errors, unknown and duplicate
   * fields; see lib/kinds/validate.ts). Without it only kind, apiVersion and metadata are.
   */
  schemas?: SchemaValidator;
  /**
   * The kinds served (a KindRegistry, read at request time): the versions managedFields entries
   * of another version are converted to (custom kinds' other served versions).
   */
  kinds: { get(group: string, version: string, resource: string): KindDefinition | undefined };
  /**
   * What the cluster hands out and where the API server is (kube-apiserver's
   * --service-cluster-ip-range, --service-node-port-range, ...): what kinds' allocators and
   * bootstrap objects read. kube's defaults when absent.
   */
  cluster?: ClusterConfig;
  /** Where failures nobody waits for are reported (a release after a delete). */
  logger?: Logger;
  /**
   * The Go shapes of built-in kinds (lib/kinds/go-json.ts): what get, list and delete answer is
   * shaped as kube's decoding and encoding of every object it reads shapes it (writes are
   * shaped by admission); the generated ones by default.
   */
  shapes?: GoShapes;
  /** How many objects of a deletecollection are deleted at once (kube's --delete-collection-workers; default 4). */
  deleteCollectionWorkers?: number;
  /** Makes the watch relays' bounded delivery spans (core/watch-delivery.ts); none without it. */
  telemetry?: Telemetry;
}

/** How a write is done, and how a create or update body is taken. */
export interface WriteOptions {
  dryRun?: boolean;
  /** `fieldValidation`: Strict, Warn or Ignore ("" or absent is Warn, as kube's). */
  fieldValidation?: string;
  /** The JSON bytes the body was parsed from (duplicate fields are seen only in them). */
  source?: JsonSource;
  /**
   * Where the write's warnings go (each unknown or duplicate field under Warn, in kube's
   * words; deprecations); the caller sends them with its answer (REST: `Warning` headers).
   */
  warnings?: WarningRecorder;
  /** `fieldManager`: who writes, for metadata.managedFields (else the User-Agent's prefix; required for apply). */
  fieldManager?: string;
  /** The request's User-Agent, whose prefix is the manager when no fieldManager is sent (kube's managerOrUserAgent). */
  userAgent?: string;
}

/** A patch as the request carries it. */
export interface PatchRequest {
  /** The request's Content-Type: it names the patch type (lib/patch). */
  contentType: string | undefined;
  /** The patch's bytes (JSON; checked and parsed by lib/patch; for apply YAML or JSON, see core/apply.ts). */
  body: Uint8Array;
  /** Server-side apply's `force`: take the fields other managers own. */
  force?: boolean;
}

/** Where a request points: a collection, or one object of it. */
export interface Target {
  info: KindDefinition;
  /** "" for cluster-scoped resources or all namespaces. */
  namespace: string;
  /** "" for the collection. */
  name: string;
  /**
   * The subresource of the object named ("status", "scale", or a POST subresource such as
   * "binding"); "" or absent for the object itself. Only what the kind serves is reached
   * (lib/kinds/subresources.ts): NotFound otherwise, MethodNotAllowed for another verb.
   */
  subresource?: string;
}

/**
 * kube-apiserver's Forbidden message (responsewriters.Forbidden): the resource qualified by its
 * group (without the subresource) and the name as errors.NewForbidden names them, then who may
 * not do what, then the authorizer's reason when it gave one.
 */
export function forbiddenMessage(a: Attributes, reason = ''): string {
  let message: string;
  if (!a.resourceRequest) {
    message = `forbidden: User "${a.user.username}" cannot ${a.verb} path "${a.path}"`;
  } else {
    const resource = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
    const qualified = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
    const subject = a.name === '' ? qualified : `${qualified} "${a.name}"`;
    const scope = a.namespace === '' ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
    message = `${subject} is forbidden: User "${a.user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
  }
  return reason === '' ? message : `${message}: ${reason}`;
}

/**
 * BadRequest, in kube's words, when the target's namespace or name cannot be one segment of
 * a path or a storage key ("." or "..", or containing "/" or "%"), as kube's key functions
 * refuse them after authorization.
 */
function checkTargetSegments(target: Target): void {
  for (const [what, value] of [['Namespace', target.namespace], ['Name', target.name]] as const) {
    if (value === '') continue;
    const errors = pathSegmentNameErrors(value);
    if (errors.length > 0) throw badRequest(`${what} parameter invalid: ${JSON.stringify(value)}: ${errors.join(';')}`);
  }
}

/** The namespaces kube-apiserver creates at start. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;


/**
 * Checks a request body as kube decodes it into the kind's typed object (against the kind's
 * schema when there is a validator: lib/kinds/validate.ts; the types of kind, apiVersion and
 * metadata, normalised: lib/object-meta.ts), then against the URL (kind, apiVersion,
 * namespace), and fills what it may omit.
 */
function normalizeBody(target: Target, raw: KubeObject, schemas: SchemaValidator | undefined, options: WriteOptions): KubeObject {
  const { info } = target;
  let decoded = raw;
  // A kind or apiVersion that is no string is refused first, in its own words (decodeObjectMeta's).
  if (schemas !== undefined && isTypeMetaString(raw.kind) && isTypeMetaString(raw.apiVersion)) {
    const result = schemas.decode(raw, info, { fieldValidation: fieldValidationOf(options.fieldValidation), source: options.source });
    decoded = result.object;
    for (const warning of result.warnings) options.warnings?.add(warning);
  }
  return checkAgainstTarget(target, withDefaults(info, decoded));
}

/**
 * applyPatch, whose refusals never show the values of the kind's secret fields: a strategic
 * merge patch that fails quotes part of the patch in its message (as kube's does), so for a
 * kind with secret fields the message is taken from the same patch applied with those values
 * redacted (it fails the same way, showing the marker where the values were).
 */
function applyPatchShowingNoSecret(info: KindDefinition, decoded: DecodedPatch, current: KubeObject, facts: MergeSchema | undefined): unknown {
  try {
    return applyPatch(decoded, current, facts);
  } catch (err) {
    if ((info.secretFields ?? []).length === 0 || decoded.document === undefined || !(err instanceof StatusError)) throw err;
    try {
      applyPatch({ ...decoded, document: redactSecretFields(info, decoded.document) }, redactSecretFields(info, current) as KubeObject, facts);
    } catch (redacted) {
      if (redacted instanceof StatusError && redacted.reason === err.reason) throw redacted;
    }
    // The redacted patch did not fail alike (its values mattered): say so, and show nothing of it.
    throw new StatusError(err.reason, `the patch could not be applied: ${REDACTED}`);
  }
}

/** The kind's scheme defaults, applied as kube applies them when it decodes a body. */
function withDefaults(info: KindDefinition, object: KubeObject): KubeObject {
  return info.strategy.defaults === undefined ? object : info.strategy.defaults(object);
}

/**
 * A patched or applied object keeps the stored uid: kube's patch handler sets no uid
 * precondition, BeforeUpdate fills an absent uid with the stored one, and ValidateObjectMetaUpdate
 * refuses another (422, on metadata.uid).
 */
function checkUidUnchanged(info: KindDefinition, object: KubeObject, current: KubeObject): void {
  const uid: unknown = object.metadata?.uid;
  if (typeof uid !== 'string' || uid === '' || uid === current.metadata?.uid) return;
  throw invalid(info.kind, info.group, String(object.metadata?.name ?? ''), [{ type: 'FieldValueInvalid', field: 'metadata.uid', value: uid, detail: 'field is immutable' }]);
}

/**
 * `object` (`sent` decoded or shaped) with the empty metadata.managedFields list `sent` has:
 * decoding and shaping drop it as Go's omitempty encoding would, but Go decodes it to an empty
 * list, which is how a client clears managedFields (kube's isResetManagedFields).
 */
function keepingEmptyManagedFields(object: KubeObject, sent: KubeObject): KubeObject {
  const entries: unknown = isPlainObject(sent.metadata) ? sent.metadata.managedFields : undefined;
  if (!Array.isArray(entries) || entries.length > 0 || object.metadata?.managedFields !== undefined) return object;
  return { ...object, metadata: { ...object.metadata, managedFields: [] } };
}

/**
 * Checks an object decoded against its schema as kube decodes it into the kind's typed object
 * (the types of kind, apiVersion and metadata, normalised: lib/object-meta.ts), then against
 * the URL (kind, apiVersion, namespace), and fills what it may omit.
 */
function checkAgainstTarget(target: Target, decoded: KubeObject): KubeObject {
  const { info } = target;
  const body = keepingEmptyManagedFields(decodeObjectMeta(decoded, info), decoded);
  const apiVersion = apiVersionOf(info);
  if (body.kind !== undefined && body.kind !== info.kind) {
    throw badRequest(`the kind of the provided object ("${String(body.kind)}") does not match the kind of the request ("${info.kind}")`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  const metadata = { ...(body.metadata ?? {}) };
  if (info.namespaced) {
    if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== target.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    metadata.namespace = target.namespace;
  }
  return { ...body, apiVersion, kind: info.kind, metadata };
}

function isTypeMetaString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}

/**
 * The admission request of an operation on `target` (its subresource included); `kind` is the
 * object's, the resource's own unless a POST subresource's body is admitted.
 */
function admissionRequest(
  operation: Operation,
  target: Target,
  name: string,
  user: UserInfo,
  dryRun: boolean | undefined,
  object?: KubeObject,
  oldObject?: KubeObject,
  kind: string = target.info.kind,
): AdmissionRequest {
  const { info } = target;
  return {
    operation,
    group: info.group,
    version: info.version,
    resource: info.resource,
    subresource: target.subresource ?? '',
    kind,
    namespace: target.namespace,
    name,
    object,
    oldObject,
    user,
    dryRun: dryRun === true,
  };
}

/**
 * Whether a failed write certainly stored nothing, so that what was allocated for it can be
 * released at once. After any other failure (storage unreachable, a deadline) the write may have
 * happened: its claims stay, and the allocator's repair releases them if the object never appears.
 */
function certainlyNotWritten(err: unknown): boolean {
  if (!(err instanceof StatusError)) return false;
  return ['AlreadyExists', 'Conflict', 'NotFound', 'Invalid', 'BadRequest', 'Forbidden', 'RequestEntityTooLarge', 'Gone', 'Expired'].includes(err.reason);
}

/** Whether a stored answer is an object the write removed (an update that emptied the finalizers of an object being deleted). */
function isRemoved(object: KubeObject): boolean {
  const deletion: unknown = object.metadata?.deletionTimestamp;
  const finalizers: unknown = object.metadata?.finalizers;
  return deletion !== undefined && deletion !== null && (!Array.isArray(finalizers) || finalizers.length === 0);
}

/**
 * What a read or write of a target sees of the stored object: the object itself (the object,
 * or its status: the admission chain applies the status rules), or for `scale` an
 * autoscaling/v1 Scale made from it, whose writes change only the replicas.
 */
interface ObjectView {
  /** The kind bodies and patches are decoded and checked as. */
  kind: KindDefinition;
  /** What the target shows of a stored object (for a write: what a patch applies to). */
  read(object: KubeObject, purpose: 'get' | 'write'): KubeObject;
  /** The object to admit and store, given the stored one and the view written. */
  write(current: KubeObject, written: KubeObject): KubeObject;
}

function viewOf(target: Target): ObjectView {
  const { info } = target;
  if (target.subresource === 'scale') {
    return { kind: scaleKindOf(info), read: (object, purpose) => scaleOf(info, object, purpose), write: (current, scale) => applyScale(info, current, scale) };
  }
  return { kind: info, read: (object) => object, write: (_current, written) => written };
}

/** The answer of a POST subresource: a Status without a code gets 201, as kube's create handler fills it in. */
function withCreatedCode(answer: KubeObject): KubeObject {
  if (answer.kind !== 'Status' || (typeof answer.code === 'number' && answer.code !== 0)) return answer;
  return { ...answer, code: 201 };
}

/** How long the issuer's discovery documents are reused. */
const DISCOVERY_CACHE_MS = 10_000;

/** The manager of the API server's own writes (kube-apiserver's User-Agent prefix). */
const APISERVER_MANAGER = 'kube-apiserver';

/** The user the API server acts as itself (bootstrap objects). */
export const APISERVER_USER: UserInfo = { username: 'system:apiserver', uid: '', groups: ['system:masters'] };

/** The auth caches' hit and miss counters, bound once. */
interface AuthCacheCounters {
  userHit: Counter.Internal;
  userMiss: Counter.Internal;
  decisionHit: Counter.Internal;
  decisionMiss: Counter.Internal;
}

function authCacheCounters(metrics: Metrics | undefined): AuthCacheCounters | undefined {
  if (metrics === undefined) return undefined;
  const users = metrics.counter({ name: 'authentication_token_cache_request_total', help: 'Authentications answered from the gateway\'s cache (hit) or by the auth service (miss).', labelNames: ['status'] });
  const decisions = metrics.counter({ name: 'authorization_decision_cache_request_total', help: 'Authorization decisions answered from the gateway\'s cache (hit) or by the auth service (miss).', labelNames: ['status'] });
  const counters = { userHit: users.labels('hit'), userMiss: users.labels('miss'), decisionHit: decisions.labels('hit'), decisionMiss: decisions.labels('miss') };
  for (const c of Object.values(counters)) c.inc(0);
  return counters;
}

export class Pipeline {
  private readonly o: PipelineOptions;
  private readonly shapes: GoShapes;
  /** credentialsKey (a SHA-256) -> user; credentials themselves are never kept. */
  private readonly users: TtlCache<UserInfo>;
  /** The authorizer's answers (allowed, and the reason a refusal shows), by the request's attributes. */
  private readonly decisions: TtlCache<{ allowed: boolean; reason: string }>;
  private readonly cacheCounts: AuthCacheCounters | undefined;
  private discovery: { documents: IssuerDiscovery; until: number } | undefined;
  /** Raised by every drop of the decisions, so that an answer that was on its way is not kept. */
  private decisionGeneration = 0;
  private userGeneration = 0;
  /** The kinds POST subresource bodies are decoded as, one per handler (so decoding caches its compiled schema). */
  private readonly bodyKinds = new WeakMap<PostSubresource, KindDefinition>();
  /** The field managers of metadata.managedFields, one per kind and endpoint. */
  private readonly managed: ManagedFields;

  constructor(options: PipelineOptions) {
    this.o = options;
    this.shapes = options.shapes ?? new GoShapes();
    const ttl = options.authCacheTtlMs ?? 10_000;
    this.users = new TtlCache(ttl, 10_000);
    this.decisions = new TtlCache(ttl, 50_000);
    this.cacheCounts = authCacheCounters(options.metrics);
    const schemas = options.schemas;
    // A create is compared with the kind's empty object in its Go shape, as kube's with New().
    const newObject = (info: KindDefinition): KubeObject | undefined => (info.source === 'builtin' ? this.shaped(withTypeMeta({ metadata: {} } as KubeObject, info), info) : undefined);
    const kinds = options.kinds;
    this.managed = new ManagedFields(schemas === undefined ? undefined : (info) => schemas.definitionsOf(info), { newObject, kinds: (g, v, r) => kinds.get(g, v, r) });
  }

  /**
   * Who presents `credentials` (a bearer token, a client certificate chain; kube's union: a
   * valid one of either wins). Unauthorized when they present nothing, unless `anonymous`
   * (the request's path is one anonymous requests may reach): then system:anonymous. Presented
   * but invalid credentials are Unauthorized even there, as kube's anonymous authenticator
   * only stands in for missing ones. Who credentials belong to is cached under a hash of
   * them; a refusal is not (kube caches only successes), so a token added to the token file
   * works at once.
   */
  async authenticate(credentials: Credentials, signal?: AbortSignal, options: { anonymous?: boolean } = {}): Promise<UserInfo> {
    if (!presentsCredentials(credentials)) {
      if (options.anonymous === true) return { ...ANONYMOUS_USER, groups: [...ANONYMOUS_USER.groups] };
      throw new StatusError('Unauthorized', 'Unauthorized');
    }
    const key = credentialsKey(credentials);
    let user = this.users.get(key);
    this.cacheCounts?.[user === undefined ? 'userMiss' : 'userHit'].inc();
    if (user === undefined) {
      const generation = this.userGeneration;
      user = (await this.o.authenticator.authenticate(credentials, signal)).user;
      if (user === undefined) throw new StatusError('Unauthorized', 'Unauthorized');
      if (generation === this.userGeneration) this.users.set(key, user);
    }
    return user;
  }

  /**
   * The user `requestor` acts as given what the request asks to impersonate (see
   * impersonation.ts): each part authorized with the `impersonate` verb, Forbidden in kube's
   * words otherwise.
   */
  impersonate(requestor: UserInfo, impersonation: Impersonation, signal?: AbortSignal): Promise<UserInfo> {
    return impersonate(requestor, impersonation, (attributes, s) => this.authorize(attributes, s), signal);
  }

  /**
   * The issuer's discovery documents (/.well-known/openid-configuration, /openid/v1/jwks), as
   * the token issuer answers them, reused for a short while: they change only when the
   * issuer's keys do, and anonymous clients may ask for them often.
   */
  async issuerDiscovery(signal?: AbortSignal): Promise<IssuerDiscovery> {
    const cached = this.discovery;
    if (cached !== undefined && cached.until > Date.now()) return cached.documents;
    const documents = await this.tokenIssuerOrUnavailable().issuerDiscovery(signal);
    this.discovery = { documents, until: Date.now() + DISCOVERY_CACHE_MS };
    return documents;
  }

  private tokenIssuerOrUnavailable(): TokenIssuer {
    if (this.o.tokenIssuer === undefined) throw new StatusError('ServiceUnavailable', 'service account tokens are not configured');
    return this.o.tokenIssuer;
  }

  /**
   * Forgets the authorizer's answers (an RBAC object changed: auth-cache-follower.ts), so that the
   * next requests are decided anew.
   */
  dropDecisions(): void {
    this.decisionGeneration++;
    this.decisions.clear();
  }

  /** Forgets who credentials belong to (a ServiceAccount was deleted, so its tokens must stop working). */
  dropUsers(): void {
    this.userGeneration++;
    this.users.clear();
  }

  /** Forbidden, with kube-apiserver's message, unless an authorizer allows. */
  async authorize(attributes: Attributes, signal?: AbortSignal): Promise<void> {
    const decided = await this.decide(attributes, signal);
    const request = currentApiRequest();
    if (request !== undefined) {
      request.authorizationDecision = decided.allowed ? 'allow' : 'forbid';
      request.authorizationReason = decided.reason;
    }
    if (!decided.allowed) {
      const a = attributes;
      // kube's StatusDetails omits empty fields (a list has no name, the core group none);
      // a non-resource path is refused with empty details.
      throw new StatusError('Forbidden', forbiddenMessage(a, decided.reason), {
        ...(a.name === '' ? {} : { name: a.name }),
        ...(a.apiGroup === '' ? {} : { group: a.apiGroup }),
        ...(a.resource === '' ? {} : { kind: a.resource }),
      });
    }
  }

  /** The authorizer's answer to `attributes`, reused for the cache's TTL. */
  private async decide(attributes: Attributes, signal?: AbortSignal): Promise<{ allowed: boolean; reason: string }> {
    const a = attributes;
    const key = JSON.stringify([a.user.username, a.user.uid, a.user.groups, a.verb, a.resourceRequest, a.apiGroup, a.resource, a.subresource, a.namespace, a.name, a.path]);
    let decided = this.decisions.get(key);
    this.cacheCounts?.[decided === undefined ? 'decisionMiss' : 'decisionHit'].inc();
    if (decided === undefined) {
      const generation = this.decisionGeneration;
      const result = await this.o.authorizer.authorize(attributes, signal);
      decided = { allowed: result.decision === 'Allow', reason: result.decision === 'Allow' ? '' : result.reason };
      // An answer asked for before the cache was dropped may predate the change: used, not kept.
      if (generation === this.decisionGeneration) this.decisions.set(key, decided);
    }
    return decided;
  }

  /**
   * Refuses a write of a role or binding that would escalate the writer's privileges
   * (rbac-guard.ts), before admission as kube's policy-based storage does.
   */
  private async confirmNoEscalation(user: UserInfo, target: Target, object: KubeObject, old: KubeObject | undefined, signal?: AbortSignal): Promise<void> {
    const guard: RbacGuardOptions = {
      allowed: async (attributes, s) => (await this.decide(attributes, s)).allowed,
      rules: this.o.ruleResolver,
      readRole: (resource, namespace, name, s) => this.o.storage.get({ group: target.info.group, resource, namespace, name }, {}, s),
    };
    await confirmNoEscalation(guard, user, { group: target.info.group, resource: target.info.resource, subresource: target.subresource, namespace: target.namespace }, object, old, signal);
  }

  async authorizeResource(user: UserInfo, verb: string, target: Target, signal?: AbortSignal): Promise<void> {
    await this.authorize(
      {
        user,
        verb,
        resourceRequest: true,
        apiGroup: target.info.group,
        apiVersion: target.info.version,
        resource: target.info.resource,
        subresource: target.subresource ?? '',
        namespace: target.namespace,
        name: target.name,
        path: '',
      },
      signal,
    );
    checkTargetSegments(target);
    const subresource = target.subresource ?? '';
    if (subresource !== '') {
      // As kube's routes: a subresource the kind does not serve does not exist; one it serves allows its own verbs.
      const served = servedSubresource(target.info, subresource);
      if (served === undefined || target.name === '') throw new StatusError('NotFound', 'the server could not find the requested resource');
      if (!served.verbs.includes(verb)) throw new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    // A review is only ever created (nothing is stored to read, change or delete).
    if (target.info.review === true && verb !== 'create') throw new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  async authorizePath(user: UserInfo, verb: string, path: string, signal?: AbortSignal): Promise<void> {
    await this.authorize(
      { user, verb, resourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path },
      signal,
    );
  }

  /**
   * An object read from storage as kube answers it: a built-in kind's in its Go shape (objects
   * written before writes were shaped, or by another writer, may lack fields kube always
   * writes); the same object when it is in shape already. `object` is in the version of
   * `info` (converted from its storage's when `info` is a view of another kind's storage).
   */
  private shaped<T extends KubeObject>(object: T, info: KindDefinition): T {
    return info.source === 'builtin' ? (this.shapes.shape(object, info.schema) as T) : object;
  }

  /** Where the target's objects are stored: its own resource, or the one it is a view of. */
  private ref(target: Target) {
    const stored = target.info.storedAs ?? target.info;
    return { group: stored.group, resource: stored.resource, namespace: target.namespace, name: target.name };
  }

  /**
   * Creates an object: checks kind, apiVersion and namespace against the URL, admits, stores.
   * With dryRun, everything but the write happens and the admitted object is returned.
   */
  async create(user: UserInfo, target: Target, body: KubeObject, options: WriteOptions = {}, signal?: AbortSignal): Promise<KubeObject> {
    // Kept for the audit log when its policy asks (and for the objectRef of a create's name).
    noteRequestObject(body);
    if ((target.subresource ?? '') !== '') return this.post(user, target, body, options, signal);
    if (target.info.review === true) return this.review(user, target, body, options, signal);
    const object = this.managed.update(target, undefined, this.shaped(normalizeBody(target, body, this.o.schemas, options), target.info), managerOrUserAgent(options.fieldManager, options.userAgent));
    const name = typeof object.metadata?.name === 'string' ? object.metadata.name : '';
    noteCreatedName(name);
    await this.authorizeResource(user, 'create', { ...target, name: '' }, signal);
    await this.confirmNoEscalation(user, target, object, undefined, signal);
    const admitted = await this.o.admission.admit(admissionRequest('CREATE', target, name, user, options.dryRun, object), signal);
    if (admitted === undefined) throw new StatusError('InternalError', 'admission returned no object');
    // A generateName is resolved by admission.
    noteCreatedName(admitted.metadata?.name);
    return this.createAdmitted(target, admitted, options.dryRun === true, signal);
  }

  /**
   * The create of a review kind, as kube's REST storage of reviews answers it: the body decoded
   * and checked against the URL, the create authorized, then answered by the kind's handler with
   * this API server's authenticator, authorizer and rule resolver. Nothing is admitted or stored
   * (admission's object checks are for stored objects; a review has no name).
   */
  private async review(user: UserInfo, target: Target, body: KubeObject, options: WriteOptions, signal?: AbortSignal): Promise<KubeObject> {
    const object = normalizeBody(target, body, this.o.schemas, options);
    await this.authorizeResource(user, 'create', { ...target, name: '' }, signal);
    const answer = await answerReview(target.info, object, {
      user,
      namespace: target.namespace,
      authenticator: this.o.authenticator,
      authorizer: this.o.authorizer,
      rules: this.o.ruleResolver,
      signal,
      now: () => new Date(),
    });
    return this.shaped(withTypeMeta(answer, target.info), target.info);
  }

  /**
   * Stores an admitted new object, with what its kind's allocator claims for it (claimed after
   * admission, so only for a valid object with its final name: docs/decisions.md), released
   * again when the write fails. A dry run claims nothing and answers the object.
   */
  private async createAdmitted(target: Target, admitted: KubeObject, dryRun: boolean, signal?: AbortSignal): Promise<KubeObject> {
    const allocator = target.info.allocator;
    const allocation = allocator === undefined ? undefined : await allocator.allocateCreate(admitted, this.allocationContext(dryRun, signal));
    const object = allocation?.object ?? admitted;
    const finalName = object.metadata?.name ?? '';
    if (dryRun) {
      if (finalName !== '') await checkDryRunCreate(target.info, finalName, () => this.o.storage.get({ ...this.ref(target), name: finalName }, {}, signal));
      return object;
    }
    return this.written(allocation, async () => fromStored(target.info, await this.o.storage.create({ ...this.ref(target), name: finalName }, toStored(target.info, object), signal)));
  }

  /** The answer to a dry-run update or patch of `current` to `admitted` (dry-run.ts). */
  private dryRunUpdated(target: Target, current: KubeObject, admitted: KubeObject): KubeObject {
    const next = dryRunUpdated(target.info, target.name, toStored(target.info, current), toStored(target.info, admitted), target.info.strategy.generation);
    return withTypeMeta(fromStored(target.info, next), target.info);
  }

  /** What allocators get for one request. */
  private allocationContext(dryRun: boolean, signal?: AbortSignal): AllocationContext {
    return { store: this.o.storage, cluster: this.o.cluster ?? DEFAULT_CLUSTER_CONFIG, dryRun, signal };
  }

  /** Runs a write and finishes its allocation: committed when stored, reverted when certainly not. */
  private async written<T>(allocation: Allocation | undefined, write: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await write();
    } catch (err) {
      if (allocation !== undefined && certainlyNotWritten(err)) await allocation.revert();
      throw err;
    }
    await allocation?.commit();
    return result;
  }

  /** Releases what a removed object held (kube's AfterDelete); a failure is logged and left to the allocator's repair. */
  private async released(info: KindDefinition, object: KubeObject): Promise<void> {
    if (info.allocator === undefined) return;
    try {
      await info.allocator.release(object, this.allocationContext(false));
    } catch (err) {
      this.o.logger?.warn('releasing what a removed object held failed; the repair will', { resource: info.resource, error: err });
    }
  }

  /**
   * The object an update or a (non-apply) patch of `target` writes, given the stored `current`
   * and what the request wrote through `view` (the object, or a Scale), with its managedFields
   * recorded for the request's manager (operation Update), as kube's handlers record them
   * before admission.
   */
  private recordUpdate(target: Target, current: KubeObject, view: ObjectView, object: KubeObject, options: WriteOptions): KubeObject {
    // Compared in the kind's Go shape, as kube's field manager compares typed objects: a field
    // the patch sets to what Go leaves out (an omitempty false) is no change.
    const unshaped = view.write(withTypeMeta(current, target.info), object);
    const written = keepingEmptyManagedFields(this.shaped(unshaped, target.info), unshaped);
    const manager = managerOrUserAgent(options.fieldManager, options.userAgent);
    const scale = target.subresource === 'scale' ? { live: view.read(current, 'write'), written: object } : undefined;
    return this.managed.update(target, current, written, manager, scale);
  }

  /** Allocation of an update: what the allocator claims for `admitted` given the stored `current`. */
  private async allocateUpdate(info: KindDefinition, admitted: KubeObject, current: KubeObject, dryRun: boolean, signal?: AbortSignal): Promise<Allocation | undefined> {
    return info.allocator?.allocateUpdate(admitted, current, this.allocationContext(dryRun, signal));
  }

  /**
   * Creates the objects every cluster has that come with the served kinds (KindDefinition
   * bootstrap: the `kubernetes` Service, the system priority classes), as kube-apiserver's bootstrap controllers and post-start hooks do: through
   * defaults, admission, allocation and storage as the API server itself, without
   * authorization. Existing ones are left alone; objects of kinds not served are skipped. Safe
   * to run from every replica at once.
   */
  async ensureBootstrapObjects(registry: KindRegistry, signal?: AbortSignal): Promise<void> {
    const cluster = this.o.cluster ?? DEFAULT_CLUSTER_CONFIG;
    for (const kind of registry.all) {
      for (const wanted of kind.bootstrap?.(cluster) ?? []) {
        const info = registry.byKind(String(wanted.apiVersion), String(wanted.kind));
        if (info === undefined) continue;
        const name = String(wanted.metadata?.name ?? '');
        const target: Target = { info, namespace: info.namespaced ? String(wanted.metadata?.namespace ?? '') : '', name: '' };
        const ref = { ...this.ref(target), name };
        try {
          await this.o.storage.get(ref, {}, signal);
          continue;
        } catch (err) {
          if (!(err instanceof StatusError) || err.reason !== 'NotFound') throw err;
        }
        // Recorded as kube-apiserver's own write, as its bootstrap controllers' writes are.
        const object = this.managed.update(target, undefined, checkAgainstTarget(target, withDefaults(info, structuredClone(wanted))), APISERVER_MANAGER);
        try {
          const admitted = await this.o.admission.admit(admissionRequest('CREATE', target, name, APISERVER_USER, false, object), signal);
          await this.createAdmitted(target, admitted ?? object, false, signal);
        } catch (err) {
          // Another replica was first (the object, or the values it claims, exist).
          if (await this.o.storage.get(ref, {}, signal).then(() => true, () => false)) continue;
          throw err;
        }
      }
    }
  }

  /**
   * One repair pass of every served kind's allocator (records left by a crash, values held
   * without a record); records younger than `graceMs` are left alone. Reports per resource.
   */
  async repairAllocations(kinds: readonly KindDefinition[], graceMs: number, signal?: AbortSignal): Promise<{ resource: string; report: RepairReport }[]> {
    const reports: { resource: string; report: RepairReport }[] = [];
    for (const kind of kinds) {
      if (kind.allocator === undefined) continue;
      reports.push({ resource: kind.resource, report: await kind.allocator.repair(this.allocationContext(false, signal), { graceMs }) });
    }
    return reports;
  }

  /**
   * Creates the namespaces every cluster has (default, kube-system, kube-public,
   * kube-node-lease), as kube-apiserver's bootstrap controller does: through admission and
   * storage as the apiserver itself, without authorization. Existing ones are left alone.
   */
  async ensureSystemNamespaces(info: KindDefinition, signal?: AbortSignal): Promise<void> {
    const user = APISERVER_USER;
    for (const name of SYSTEM_NAMESPACES) {
      const object = this.managed.update({ info }, undefined, withDefaults(info, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), APISERVER_MANAGER);
      try {
        await this.o.storage.get({ group: '', resource: 'namespaces', namespace: '', name }, {}, signal);
        continue;
      } catch (err) {
        if (!(err instanceof StatusError) || err.reason !== 'NotFound') throw err;
      }
      const admitted = await this.o.admission.admit(admissionRequest('CREATE', { info, namespace: '', name }, name, user, false, object), signal);
      try {
        await this.o.storage.create({ group: '', resource: 'namespaces', namespace: '', name }, admitted ?? object, signal);
      } catch (err) {
        // Another gateway replica was first.
        if (!(err instanceof StatusError) || err.reason !== 'AlreadyExists') throw err;
      }
    }
  }

  async get(user: UserInfo, target: Target, options: { resourceVersion?: string } = {}, signal?: AbortSignal): Promise<KubeObject> {
    await this.authorizeResource(user, 'get', target, signal);
    const stored = await this.o.storage.get(this.ref(target), options, signal);
    const answer = viewOf(target).read(this.shaped(withTypeMeta(fromStored(target.info, stored), target.info), target.info), 'get');
    // Nothing changed (the usual case): the object as read, which may keep the JSON storage sent.
    return unchangedOr(answer, stored);
  }

  /** Lists after authorization, with the options checked as every path checks them (lib/list-options.ts). */
  async list(user: UserInfo, target: Target, options: ListOptions, signal?: AbortSignal): Promise<ListResult> {
    await this.authorizeResource(user, 'list', target, signal);
    return this.listAuthorized(target, options, signal);
  }

  /** A list already authorized. */
  private async listAuthorized(target: Target, options: ListOptions, signal?: AbortSignal): Promise<ListResult> {
    // Refused here rather than by storage: its API has no sendInitialEvents to refuse.
    const { limit } = checkListOptions(target.info.selectableFields, options);
    const result = await this.o.storage.list(this.ref(target), { ...options, limit }, signal);
    const { storedAs } = target.info;
    if (storedAs === undefined && target.info.source !== 'builtin') return result;
    return { ...result, items: result.items.map((item) => this.shaped(storedAs === undefined ? item : storedAs.fromStored(item), target.info)) };
  }

  /**
   * Server-side apply (PATCH with application/apply-patch+yaml), as kube's apply patcher: the
   * apply configuration (decoded by the caller, checked here: kind and apiVersion of the
   * endpoint, no managedFields) is merged into the current object by its kind's FieldManager for
   * `options.fieldManager` (Conflict 409 unless `force`), decoded as a patched object is, and
   * admitted and stored as a patch is, retried on races as kube's GuaranteedUpdate does. When
   * the object does not exist, apply creates it (not through a subresource): the caller must
   * also be allowed to create, and it is admitted as a CREATE and allocated as a create is.
   * With dryRun everything runs and nothing is stored.
   */
  async apply(user: UserInfo, target: Target, applied: ApplyConfiguration, options: WriteOptions & { force?: boolean } = {}, signal?: AbortSignal): Promise<{ object: KubeObject; created: boolean }> {
    await this.authorizeResource(user, 'patch', target, signal);
    // Kept for the audit log: an apply patch as the object its body decodes to (YAML or JSON).
    noteRequestObject(applied.object);
    const view = viewOf(target);
    const info = view.kind;
    const manager = options.fieldManager ?? '';
    // As kube's ValidatePatchOptions (REST and gRPC check it before the body is read).
    if (manager === '') throw invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' }]);
    const force = options.force === true;
    const fieldValidation = fieldValidationOf(options.fieldValidation);
    checkApplyConfiguration(info, applied.object);
    // The apply configuration merged and decoded, then its strict decoding findings (400 under
    // Strict, warnings under Warn), in kube's order: a conflict (409) is answered before them.
    const decode = (merged: KubeObject): { object: KubeObject; warnings: string[] } => {
      const object = appliedObject({ ...target, info }, merged, applied.object, this.o.schemas, (o) => checkAgainstTarget({ ...target, info }, withDefaults(info, o)));
      return { object, warnings: checkApplyStrictErrors(applied.strictErrors, fieldValidation) };
    };
    const conditional = (applied.object.metadata?.resourceVersion ?? '') !== '';
    const dryRun = options.dryRun === true;
    for (let attempt = 0; ; attempt++) {
      let current: KubeObject | undefined;
      try {
        current = this.shaped(withTypeMeta(fromStored(target.info, await this.o.storage.get(this.ref(target), {}, signal)), target.info), target.info);
      } catch (err) {
        if (!(err instanceof StatusError) || err.reason !== 'NotFound' || (target.subresource ?? '') !== '') throw err;
      }
      if (current === undefined) {
        const { object, warnings } = decode(this.managed.apply(target, undefined, applied.object, manager, force));
        const uid: unknown = object.metadata?.uid;
        if (typeof uid === 'string' && uid !== '') {
          throw conflict({ group: target.info.group, resource: target.info.resource }, target.name, `uid mismatch: the provided object specified uid ${uid}, and no existing object was found`);
        }
        await this.authorizeResource(user, 'create', target, signal);
        await this.confirmNoEscalation(user, target, object, undefined, signal);
        const admitted = await this.o.admission.admit(admissionRequest('CREATE', target, target.name, user, options.dryRun, object), signal);
        if (admitted === undefined) throw new StatusError('InternalError', 'admission returned no object');
        try {
          const created = withTypeMeta(await this.createAdmitted(target, admitted, dryRun, signal), target.info);
          for (const w of warnings) options.warnings?.add(w);
          return { object: created, created: true };
        } catch (err) {
          // Created meanwhile by another writer: applied to it instead.
          if (attempt >= 4 || !(err instanceof StatusError) || err.reason !== 'AlreadyExists') throw err;
          continue;
        }
      }
      const { object, warnings } = decode(this.managed.apply(target, this.managed.liveView(target, current, view.read(current, 'write')), applied.object, manager, force));
      if (info === target.info) checkUidUnchanged(info, object, current);
      const written = this.managed.carried(target, current, view.write(current, object), object);
      await this.confirmNoEscalation(user, target, written, current, signal);
      const admittedObject = await this.o.admission.admit(admissionRequest('UPDATE', target, target.name, user, options.dryRun, written, current), signal);
      if (admittedObject === undefined) throw new StatusError('InternalError', 'admission returned no object');
      const allocation = await this.allocateUpdate(target.info, admittedObject, current, dryRun, signal);
      const admitted = allocation?.object ?? admittedObject;
      if (dryRun) {
        for (const w of warnings) options.warnings?.add(w);
        return { object: view.read(this.dryRunUpdated(target, current, admitted), 'get'), created: false };
      }
      const pinned = (admitted.metadata?.resourceVersion ?? '') === '' ? { ...admitted, metadata: { ...admitted.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' } } : admitted;
      try {
        const stored = withTypeMeta(fromStored(target.info, await this.written(allocation, () => this.o.storage.update(this.ref(target), toStored(target.info, pinned), signal))), target.info);
        if (isRemoved(stored)) await this.released(target.info, stored);
        for (const w of warnings) options.warnings?.add(w);
        return { object: view.read(stored, 'get'), created: false };
      } catch (err) {
        if (conditional || attempt >= 4 || !(err instanceof StatusError) || err.reason !== 'Conflict') throw err;
      }
    }
  }

  /**
   * Replaces an object. A body with metadata.resourceVersion is a conditional update (Conflict
   * when stale); without one, the update applies to whatever is current, retried on races as
   * kube's GuaranteedUpdate does. To /status the body is the object (admission keeps all but
   * its status); to /scale it is a Scale, whose replicas (and resourceVersion, as the
   * precondition) are written into the object, and the answer is the new Scale.
   */
  async update(user: UserInfo, target: Target, body: KubeObject, options: WriteOptions = {}, signal?: AbortSignal): Promise<KubeObject> {
    noteRequestObject(body);
    const view = viewOf(target);
    const object = normalizeBody({ ...target, info: view.kind }, body, this.o.schemas, options);
    const bodyName = object.metadata?.name ?? '';
    if (bodyName !== '' && bodyName !== target.name) {
      throw badRequest(`the name of the object (${String(bodyName)}) does not match the name on the URL (${target.name})`);
    }
    object.metadata = { ...object.metadata, name: target.name };
    await this.authorizeResource(user, 'update', target, signal);
    const conditional = (object.metadata.resourceVersion ?? '') !== '';
    for (let attempt = 0; ; attempt++) {
      // The old object as kube's strategies see it (decoded): in shape, so that an object stored
      // before writes were shaped does not differ from its update in fields nobody changed.
      const current = this.shaped(fromStored(target.info, await this.o.storage.get(this.ref(target), {}, signal)), target.info);
      const written = this.recordUpdate(target, current, view, object, options);
      await this.confirmNoEscalation(user, target, written, current, signal);
      const admittedObject = await this.o.admission.admit(admissionRequest('UPDATE', target, target.name, user, options.dryRun, written, current), signal);
      if (admittedObject === undefined) throw new StatusError('InternalError', 'admission returned no object');
      const allocation = await this.allocateUpdate(target.info, admittedObject, current, options.dryRun === true, signal);
      const admitted = allocation?.object ?? admittedObject;
      if (options.dryRun === true) return view.read(this.dryRunUpdated(target, current, admitted), 'get');
      const pinned = conditional ? admitted : { ...admitted, metadata: { ...admitted.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' } };
      try {
        const stored = withTypeMeta(fromStored(target.info, await this.written(allocation, () => this.o.storage.update(this.ref(target), toStored(target.info, pinned), signal))), target.info);
        if (isRemoved(stored)) await this.released(target.info, stored);
        return view.read(stored, 'get');
      } catch (err) {
        if (conditional || attempt >= 4 || !(err instanceof StatusError) || err.reason !== 'Conflict') throw err;
      }
    }
  }

  /**
   * Patches an object as kube's patch handler does: the patch (its Content-Type's type,
   * lib/patch) is decoded once, then applied to the current object (for /scale: to its Scale,
   * whose replicas are then written into the object, as for update); the result is decoded
   * against the kind's schema under `fieldValidation` with the patch handler's words (a type
   * error, or under Strict an unknown or duplicate field: 422 Invalid on the field `patch`;
   * under Warn: warnings), checked against the URL, admitted as an UPDATE and stored
   * conditionally on the resourceVersion read. On a conflict the patch is applied again to
   * the new current object, as kube's GuaranteedUpdate does; a patch that sets a stale
   * resourceVersion keeps conflicting and its Conflict is answered. NotFound when the object
   * does not exist (a patch never creates).
   */
  async patch(user: UserInfo, target: Target, patch: PatchRequest, options: WriteOptions = {}, signal?: AbortSignal): Promise<KubeObject> {
    if (isApplyPatch(patch.contentType)) {
      // The caller reserved what the body takes, as for any patch.
      const applied = decodeApplyBody(Buffer.from(patch.body.buffer, patch.body.byteOffset, patch.body.byteLength), () => {});
      return (await this.apply(user, target, applied, { ...options, force: patch.force }, signal)).object;
    }
    await this.authorizeResource(user, 'patch', target, signal);
    const view = viewOf(target);
    // What the patch applies to and is decoded as: the object, or its Scale.
    const info = view.kind;
    const type = patchTypeOf(patch.contentType, info);
    const fieldValidation = fieldValidationOf(options.fieldValidation);
    const schemas = this.o.schemas;
    const facts = type === 'strategic' && schemas !== undefined ? mergeFactsOf((name) => schemas.definitionsOf(info)(name) as FactsSchema | undefined, info.schema) : undefined;
    // Kept for the audit log as kube logs a patch as soon as it has read it (a 404 too): the patch
    // as sent; a body that is no JSON is refused by decodePatch and recorded as none.
    noteRequestObjectOf(() => {
      try {
        return JSON.parse(Buffer.from(patch.body.buffer, patch.body.byteOffset, patch.body.byteLength).toString('utf8')) as unknown;
      } catch {
        return undefined;
      }
    });
    let decodedOnce: DecodedPatch | undefined;
    for (let attempt = 0; ; attempt++) {
      // patched as kube patches the current object: decoded and encoded again, so in shape
      const current = this.shaped(withTypeMeta(fromStored(target.info, await this.o.storage.get(this.ref(target), {}, signal)), target.info), target.info);
      if (decodedOnce === undefined) {
        // Decoded once the object is found, as kube's store answers NotFound before it applies the patch.
        decodedOnce = decodePatch(type, patch.body, fieldValidation);
      }
      const decoded = decodedOnce;
      const patched = applyPatchShowingNoSecret(info, decoded, view.read(current, 'write'), facts);
      // What the patch handler shows of the patch in its errors: the patched JSON, or for a
      // strategic merge patch the patch as Go prints its map.
      // (The values of a kind's secret fields are redacted there, though kube shows them.)
      const shown = (): string => (type === 'strategic' ? goFormat(redactSecretFields(info, decoded.document)) : JSON.stringify(redactSecretFields(info, patched)));
      const refuse = (detail: string): StatusError => invalid('', '', '', [{ type: 'FieldValueInvalid', field: 'patch', value: shown(), detail }]);
      let object: KubeObject;
      const warnings: string[] = [];
      if (schemas !== undefined) {
        const result = schemas.decodePatched(patched, info, fieldValidation);
        if (result.typeError !== undefined) throw refuse(result.typeError);
        const strict = [...decoded.strictErrors, ...result.strict];
        if (strict.length > 0 && fieldValidation === 'Strict') throw refuse(`strict decoding error: ${strict.join(', ')}`);
        if (fieldValidation === 'Warn') warnings.push(...strict);
        object = withDefaults(info, result.object);
      } else {
        if (!isPlainObject(patched)) throw refuse(`json: cannot unmarshal ${Array.isArray(patched) ? 'array' : 'value'} into Go value of type ${info.kind}`);
        object = patched as KubeObject;
      }
      object = checkAgainstTarget({ ...target, info }, object);
      const name = object.metadata?.name ?? '';
      if (name !== target.name) {
        throw badRequest(`the name of the object (${String(name)}) does not match the name on the URL (${target.name})`);
      }
      // A Scale's uid is a precondition of the scale endpoint's own (lib/kinds/scale.ts).
      if (info === target.info) checkUidUnchanged(info, object, current);
      const written = this.recordUpdate(target, current, view, object, options);
      await this.confirmNoEscalation(user, target, written, current, signal);
      const admittedObject = await this.o.admission.admit(admissionRequest('UPDATE', target, target.name, user, options.dryRun, written, current), signal);
      if (admittedObject === undefined) throw new StatusError('InternalError', 'admission returned no object');
      const allocation = await this.allocateUpdate(target.info, admittedObject, current, options.dryRun === true, signal);
      const admitted = allocation?.object ?? admittedObject;
      if (options.dryRun === true) {
        for (const w of warnings) options.warnings?.add(w);
        return view.read(this.dryRunUpdated(target, current, admitted), 'get');
      }
      // The patched object carries the resourceVersion read (or the one the patch set): storage
      // refuses it if the object changed since. A patch that removed it applies to what was read.
      const pinned = (admitted.metadata?.resourceVersion ?? '') === '' ? { ...admitted, metadata: { ...admitted.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' } } : admitted;
      try {
        const stored = withTypeMeta(fromStored(target.info, await this.written(allocation, () => this.o.storage.update(this.ref(target), toStored(target.info, pinned), signal))), target.info);
        if (isRemoved(stored)) await this.released(target.info, stored);
        for (const w of warnings) options.warnings?.add(w);
        return view.read(stored, 'get');
      } catch (err) {
        if (attempt >= 4 || !(err instanceof StatusError) || err.reason !== 'Conflict') throw err;
      }
    }
  }

  /**
   * Deletes an object as kube's generic store does (deletion.ts): preconditions, the kind's
   * graceful deletion, the garbage collector's finalizers from the propagation policy, admission
   * of the DELETE with the object; an object held by finalizers or a grace period stays, marked
   * (`pending`). A dry run answers the same and writes nothing.
   */
  async delete(user: UserInfo, target: Target, options: WriteOptions & DeletionOptions = {}, signal?: AbortSignal): Promise<DeleteResult> {
    await this.authorizeResource(user, 'delete', target, signal);
    // Kept for the audit log: kube records a delete's DeleteOptions as its request object.
    noteRequestObjectOf(() => deleteOptionsObject(options));
    return this.deleteAuthorized(user, target, options, signal);
  }

  /** A delete already authorized (for itself, or as an item of a deletecollection). */
  private async deleteAuthorized(user: UserInfo, target: Target, options: DeletionOptions, signal?: AbortSignal): Promise<DeleteResult> {
    return this.deleteStored(target, options, async (current) => {
      await this.o.admission.admit(admissionRequest('DELETE', target, target.name, user, options.dryRun, undefined, current), signal);
    }, signal);
  }

  /** The registry's delete of one object (deletion.ts), `admit` its admission. */
  private async deleteStored(target: Target, options: DeletionOptions, admit: (current: KubeObject) => Promise<void>, signal?: AbortSignal): Promise<DeleteResult> {
    const { info } = target;
    const ref = this.ref(target);
    const result = await deleteObject(info, {
      read: async () => this.shaped(fromStored(info, await this.o.storage.get(ref, {}, signal)), info),
      admit,
      mark: async (object) => fromStored(info, await this.o.storage.update(ref, toStored(info, object), signal, { deletion: true })),
      remove: (preconditions, finalizersRemoved) => this.o.storage.delete(ref, preconditions, signal, { finalizersRemoved }),
      now: () => new Date(),
    }, options);
    if (!result.pending && options.dryRun !== true) await this.released(info, result.object);
    return { ...result, object: this.shaped(withTypeMeta(fromStored(info, result.object), info), info) };
  }

  /**
   * Deletes the objects of a collection that match the list options, as kube's DeleteCollection
   * does (deletion.ts): authorized as `deletecollection`, then each listed object deleted as a
   * delete of it (admission, preconditions, grace, finalizers) with the same options. Answers
   * the objects listed. A namespaced kind's collection is deleted one namespace at a time (kube
   * serves no such route across namespaces).
   */
  async deleteCollection(user: UserInfo, target: Target, listOptions: ListOptions, options: WriteOptions & DeletionOptions = {}, signal?: AbortSignal): Promise<ListResult> {
    const collection = { ...target, name: '' };
    if (!collection.info.verbs.includes('deletecollection') || (collection.info.namespaced && collection.namespace === '')) {
      throw new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    await this.authorizeResource(user, 'deletecollection', collection, signal);
    noteRequestObjectOf(() => deleteOptionsObject(options));
    const { limit } = checkListOptions(target.info.selectableFields, listOptions);
    return deleteCollection(
      {
        // The page's own resourceVersion and resourceVersionMatch: the request's for the first
        // page, none for a continued one (kube's DeleteCollection clears them).
        list: (page) => this.listAuthorized(collection, { ...listOptions, resourceVersion: page.resourceVersion, resourceVersionMatch: page.resourceVersionMatch, ...page }, signal),
        delete: async (object) => {
          const name = String(object.metadata?.name ?? '');
          await this.deleteAuthorized(user, { ...collection, name }, { ...options }, signal);
        },
      },
      { limit: limit ?? 0, continue: listOptions.continue ?? '', resourceVersion: listOptions.resourceVersion, resourceVersionMatch: listOptions.resourceVersionMatch },
      this.o.deleteCollectionWorkers ?? DEFAULT_DELETE_COLLECTION_WORKERS,
      signal,
    );
  }

  /**
   * Authorizes and validates a watch; the returned events start flowing when iterated. Errors
   * during iteration happen after a REST response has started, so callers stream them. A
   * front-door relay reports each event's hand-over to the events' `delivery`, when present.
   */
  async watch(user: UserInfo, target: Target, options: WatchOptions, signal: AbortSignal): Promise<RelayedEvents> {
    await this.authorizeResource(user, 'watch', target, signal);
    validateWatch({ namespace: target.namespace }, target.info.selectableFields, options);
    const { info } = target;
    const stored = info.storedAs ?? info;
    const watched = { group: stored.group, version: stored.version, resource: stored.resource, namespace: target.namespace };
    const delivery = watchDelivery(this.o.telemetry, watched);
    const events = this.o.watcher.watch(watched, options, signal);
    return relayedEvents(info.storedAs === undefined ? events : convertedEvents(events, info, (object) => this.shaped(object, info)), delivery);
  }

  /**
   * A POST to a subresource of an object (pods/binding, pods/eviction: the handlers of the
   * kind's definition), as kube's create handler serves a NamedCreater: the body is decoded
   * against the subresource's schema and checked against the URL, authorized as `create` of
   * the subresource, admitted as a CREATE of it (its kind the body's), then handed to the
   * handler with the pipeline's storage. Answers what the handler answers (a Status Success,
   * code 201 unless it says otherwise).
   */
  async post(user: UserInfo, target: Target, body: KubeObject, options: WriteOptions = {}, signal?: AbortSignal): Promise<KubeObject> {
    const handler = servedSubresource(target.info, target.subresource ?? '')?.post;
    const bodyKind = handler === undefined ? undefined : this.bodyKindOf(target.info, handler);
    if (handler === undefined || bodyKind === undefined) {
      await this.authorizeResource(user, 'create', target, signal);
      throw new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    // Another version the handler takes (kube's AcceptsGroupVersion) is read as its own.
    const accepted = typeof body.apiVersion === 'string' && (handler.acceptedApiVersions ?? []).includes(body.apiVersion);
    const raw = accepted ? { ...body, apiVersion: apiVersionOf(bodyKind) } : body;
    const object = normalizeBody({ ...target, info: bodyKind }, raw, this.o.schemas, options);
    await this.authorizeResource(user, 'create', target, signal);
    const admitted = await this.o.admission.admit(admissionRequest('CREATE', target, target.name, user, options.dryRun, object, undefined, handler.kind), signal);
    if (admitted === undefined) throw new StatusError('InternalError', 'admission returned no object');
    const answer = await handler.create({
      namespace: target.namespace,
      name: target.name,
      body: admitted,
      dryRun: options.dryRun === true,
      store: this.subresourceStore(target, signal),
      now: () => new Date(),
      tokens: this.o.tokenIssuer === undefined ? undefined : { issue: (request) => this.o.tokenIssuer!.issueServiceAccountToken(request, signal) },
      warn: (text) => options.warnings?.add(text),
    });
    return withCreatedCode(answer);
  }

  /** The kind a POST subresource's body is decoded and checked as (its scope the resource's). */
  private bodyKindOf(info: KindDefinition, handler: PostSubresource): KindDefinition {
    const known = this.bodyKinds.get(handler);
    if (known !== undefined && known.namespaced === info.namespaced) return known;
    const kind: KindDefinition = Object.freeze({
      source: 'builtin',
      group: handler.group,
      version: handler.version,
      resource: info.resource,
      singular: '',
      kind: handler.kind,
      listKind: `${handler.kind}List`,
      namespaced: info.namespaced,
      shortNames: [],
      categories: [],
      verbs: [],
      subresources: [],
      nameValidation: 'dns1123Subdomain',
      selectableFields: info.selectableFields,
      strategy: { generation: 'none' },
      schema: handler.schema,
    } satisfies KindDefinition);
    this.bodyKinds.set(handler, kind);
    return kind;
  }

  /**
   * What a POST subresource handler reads and writes: this pipeline's storage, as kube's
   * subresource stores use theirs; a delete is the registry's delete of the target's kind, not
   * admitted (kube's eviction calls its pod store's Delete with rest.ValidateAllObjectFunc).
   */
  private subresourceStore(target: Target, signal: AbortSignal | undefined): SubresourceStore {
    const storage = this.o.storage;
    return {
      get: (ref) => storage.get({ ...ref }, {}, signal),
      list: async (ref) => (await storage.list({ ...ref, name: '' }, {}, signal)).items,
      update: (ref, object) => storage.update({ ...ref }, object, signal),
      delete: async (ref, options) => {
        const { info } = target;
        if (ref.group !== info.group || ref.resource !== info.resource || ref.namespace !== target.namespace) {
          throw new StatusError('InternalError', `a ${info.resource} subresource cannot delete ${ref.resource}`);
        }
        const deleted = await this.deleteStored({ ...target, name: ref.name, subresource: '' }, options, async () => {}, signal);
        return { object: deleted.object, pending: deleted.pending };
      },
    };
  }
}

/** A stored object in the form of `info` (itself when `info` is not a view of another kind). */
function fromStored(info: KindDefinition, object: KubeObject): KubeObject {
  return info.storedAs === undefined ? object : info.storedAs.fromStored(object);
}

/** An object of `info` in the form its storage holds. */
function toStored(info: KindDefinition, object: KubeObject): KubeObject {
  return info.storedAs === undefined ? object : info.storedAs.toStored(object);
}

/**
 * The events of a watch of the stored kind, as watchers of the view `info` see them: objects
 * converted and shaped (each event's JSON is made once per watcher of the view, not shared as the watch
 * service shares it), bookmarks with the view's kind and apiVersion, errors as they are.
 */
async function* convertedEvents(events: AsyncIterable<WatchEvent>, info: KindDefinition, shaped: (object: KubeObject) => KubeObject): AsyncIterable<WatchEvent> {
  const apiVersion = apiVersionOf(info);
  for await (const event of events) {
    if (event.type === 'ERROR') {
      yield event;
      continue;
    }
    const object = parseObjectBytes(event.object);
    // a converted object in the view's Go shape, as kube encodes it in the version asked for
    const converted = event.type === 'BOOKMARK' ? { ...object, apiVersion, kind: info.kind } : shaped(fromStored(info, object));
    yield { ...event, object: Buffer.from(JSON.stringify(converted)) };
  }
}
