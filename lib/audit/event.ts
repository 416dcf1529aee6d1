/**
 * audit.k8s.io/v1 Event: one JSON line per request and stage, shaped as kube-apiserver's
 * (k8s.io/apiserver/pkg/apis/audit/v1 types.go; filled as k8s.io/apiserver/pkg/audit
 * request.go fills it): who (user, impersonatedUser, sourceIPs, userAgent), what (verb,
 * requestURI, objectRef), the answer (responseStatus) and when (requestReceivedTimestamp,
 * stageTimestamp, both with microseconds), and the authorizer's decision in annotations.
 * Request and response objects are written at the levels that carry them (Request,
 * RequestResponse) and only for resource requests, and never for the resources whose bodies
 * are credentials (see SENSITIVE_RESOURCES).
 */
import { levelLess, type Level, type Stage } from './policy.ts';

export interface AuditUserInfo {
  username: string;
  uid: string;
  groups: readonly string[];
  extra?: Record<string, readonly string[]> | undefined;
}

/** What an event is made from: the gateway's ApiRequest (services/gateway/core/observe.ts) has all of it. */
export interface AuditRequest {
  readonly received: Date;
  readonly startNs: bigint;
  readonly auditId: string;
  readonly requestUri: string;
  readonly sourceIps: readonly string[];
  readonly userAgent: string;
  readonly verb: string;
  readonly resourceRequest: boolean;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  readonly user: AuditUserInfo | undefined;
  readonly impersonatedUser: AuditUserInfo | undefined;
  readonly authorizationDecision: 'allow' | 'forbid' | undefined;
  readonly authorizationReason: string;
  readonly code: number;
  readonly statusReason: string;
  readonly statusMessage: string;
  readonly requestObject: unknown;
  readonly responseObject: unknown;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: Level;
  auditID: string;
  stage: Stage;
  requestURI: string;
  verb: string;
  user: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  impersonatedUser?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    uid?: string;
    apiGroup?: string;
    apiVersion?: string;
    resourceVersion?: string;
    subresource?: string;
  };
  responseStatus?: { metadata: Record<string, never>; status?: 'Failure'; message?: string; reason?: string; code: number };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/**
 * Resources whose request or response bodies hold credentials or what proves them: Secrets,
 * TokenReviews (the token reviewed), TokenRequests (serviceaccounts/token: the token issued)
 * and the SubjectAccessReview family (who may do what, asked on behalf of others). Their events
 * are capped at Metadata whatever the policy says: their bodies are never written.
 */
export const SENSITIVE_RESOURCES: readonly { group: string; resource: string; subresource?: string }[] = [
  { group: '', resource: 'secrets' },
  { group: 'authentication.k8s.io', resource: 'tokenreviews' },
  { group: '', resource: 'serviceaccounts', subresource: 'token' },
  { group: 'authorization.k8s.io', resource: 'subjectaccessreviews' },
  { group: 'authorization.k8s.io', resource: 'localsubjectaccessreviews' },
  { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' },
];

/** Whether a request's bodies must never be written (see SENSITIVE_RESOURCES). */
export function isSensitive(request: Pick<AuditRequest, 'resourceRequest' | 'group' | 'resource' | 'subresource'>): boolean {
  if (!request.resourceRequest) return false;
  return SENSITIVE_RESOURCES.some(
    (s) => s.group === request.group && s.resource === request.resource && (s.subresource === undefined || s.subresource === request.subresource),
  );
}

/** The level a request is recorded at: the policy's, at most Metadata for sensitive resources. */
export function effectiveLevel(level: Level, request: Pick<AuditRequest, 'resourceRequest' | 'group' | 'resource' | 'subresource'>): Level {
  return isSensitive(request) && levelLess('Metadata', level) ? 'Metadata' : level;
}

/** Microseconds since the epoch as kube's MicroTime writes them: 2006-01-02T15:04:05.000000Z. */
export function microTime(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const iso = new Date(ms).toISOString(); // ...ss.mmmZ
  const fraction = String(micros % 1_000_000n).padStart(6, '0');
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

/** When the request arrived, in microseconds since the epoch. */
function receivedMicros(request: AuditRequest): bigint {
  return BigInt(request.received.getTime()) * 1000n;
}

/** Now, in microseconds, measured from the request's arrival so stage times never go backwards. */
function nowMicros(request: AuditRequest): bigint {
  return receivedMicros(request) + (process.hrtime.bigint() - request.startNs) / 1000n;
}

function userInfo(user: AuditUserInfo): NonNullable<AuditEvent['impersonatedUser']> {
  const out: NonNullable<AuditEvent['impersonatedUser']> = {};
  if (user.username !== '') out.username = user.username;
  if (user.uid !== '') out.uid = user.uid;
  if (user.groups.length > 0) out.groups = [...user.groups];
  if (user.extra !== undefined && Object.keys(user.extra).length > 0) {
    out.extra = Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]]));
  }
  return out;
}

/** An object as JSON data: a decoded object as it is, JSON text or bytes parsed; else undefined. */
function asObject(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Uint8Array || typeof value === 'string') {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    if (!text.trimStart().startsWith('{')) return undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A decoded JSON array as it is (never bytes or text: those are objects or nothing). */
function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function metadataOf(obj: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const m = obj?.metadata;
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : undefined;
}

/** A copy of an object (or a list's items) without metadata.managedFields. */
function withoutManagedFields(obj: Record<string, unknown>): Record<string, unknown> {
  const strip = (o: unknown): unknown => {
    const meta = metadataOf(asObject(o));
    if (meta === undefined || !('managedFields' in meta)) return o;
    const { managedFields: _dropped, ...rest } = meta;
    return { ...(o as Record<string, unknown>), metadata: rest };
  };
  const top = strip(obj) as Record<string, unknown>;
  if (Array.isArray(top.items)) return { ...top, items: top.items.map(strip) };
  return top;
}

export interface EventOptions {
  level: Level;
  stage: Stage;
  omitManagedFields: boolean;
  /** The stage's time in microseconds since the epoch; now by default. */
  stageMicros?: bigint;
}

/**
 * The event of one stage of a request. `level` must not be None. The request's objects are
 * written only at Request (request object) and RequestResponse (both), only for resource
 * requests, and never for SENSITIVE_RESOURCES (the level is capped first).
 */
export function buildEvent(request: AuditRequest, options: EventOptions): AuditEvent {
  const level = effectiveLevel(options.level, request);
  const event: AuditEvent = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level,
    auditID: request.auditId,
    stage: options.stage,
    requestURI: request.requestUri,
    verb: request.verb,
    user: request.user === undefined ? {} : userInfo(request.user),
    requestReceivedTimestamp: microTime(receivedMicros(request)),
    stageTimestamp: microTime(options.stageMicros ?? nowMicros(request)),
  };
  if (request.impersonatedUser !== undefined) event.impersonatedUser = userInfo(request.impersonatedUser);
  if (request.sourceIps.length > 0) event.sourceIPs = [...request.sourceIps];
  if (request.userAgent !== '') event.userAgent = request.userAgent;

  // The RequestReceived stage comes before the body is read and the request authorized (kube
  // writes it as the request arrives): no object, no status, no decision.
  const receivedStage = options.stage === 'RequestReceived';
  // A JSON patch is an array of operations: the request object may be one.
  const requestObject = receivedStage ? undefined : asObject(request.requestObject) ?? asArray(request.requestObject);
  // A patch is recorded as it came (kube's LogRequestPatch): no object of the reference, no managedFields taken out.
  const patch = request.verb === 'patch' || Array.isArray(requestObject);
  if (request.resourceRequest) {
    const ref: NonNullable<AuditEvent['objectRef']> = {};
    if (request.resource !== '') ref.resource = request.resource;
    // As kube, the object's own namespace and name complete the reference (a create names its
    // object in the body); a patch's metadata is no object's.
    const meta = patch || Array.isArray(requestObject) ? undefined : metadataOf(requestObject);
    const namespace = request.namespace !== '' ? request.namespace : typeof meta?.namespace === 'string' ? meta.namespace : '';
    const name = request.name !== '' ? request.name : typeof meta?.name === 'string' ? meta.name : '';
    if (namespace !== '') ref.namespace = namespace;
    if (name !== '') ref.name = name;
    if (typeof meta?.uid === 'string' && meta.uid !== '') ref.uid = meta.uid;
    if (request.group !== '') ref.apiGroup = request.group;
    if (request.version !== '') ref.apiVersion = request.version;
    if (typeof meta?.resourceVersion === 'string' && meta.resourceVersion !== '') ref.resourceVersion = meta.resourceVersion;
    if (request.subresource !== '') ref.subresource = request.subresource;
    event.objectRef = ref;
  }
  // A ResponseStarted or ResponseComplete event carries the answer's status, as kube's: the
  // code alone on success, and the Status's reason and message on failure.
  if (request.code !== 0 && !receivedStage) {
    const failed = request.code >= 400 || request.statusReason !== '';
    // Keys in the order kube writes a Status.
    event.responseStatus = {
      metadata: {},
      ...(failed && { status: 'Failure' as const }),
      ...(failed && request.statusMessage !== '' && { message: request.statusMessage }),
      ...(failed && request.statusReason !== '' && { reason: request.statusReason }),
      code: request.code,
    };
  }
  if (request.resourceRequest && !levelLess(level, 'Request') && requestObject !== undefined) {
    event.requestObject = options.omitManagedFields && !patch && !Array.isArray(requestObject) ? withoutManagedFields(requestObject) : requestObject;
  }
  const responseObject = asObject(request.responseObject);
  if (request.resourceRequest && level === 'RequestResponse' && options.stage === 'ResponseComplete' && responseObject !== undefined) {
    event.responseObject = options.omitManagedFields ? withoutManagedFields(responseObject) : responseObject;
  }
  if (request.authorizationDecision !== undefined && !receivedStage) {
    event.annotations = { 'authorization.k8s.io/decision': request.authorizationDecision, 'authorization.k8s.io/reason': request.authorizationReason };
  }
  return inKubeOrder(event);
}

/** audit.k8s.io/v1 Event's fields in the order kube writes them. */
const FIELD_ORDER: readonly (keyof AuditEvent)[] = [
  'kind',
  'apiVersion',
  'level',
  'auditID',
  'stage',
  'requestURI',
  'verb',
  'user',
  'impersonatedUser',
  'sourceIPs',
  'userAgent',
  'objectRef',
  'responseStatus',
  'requestObject',
  'responseObject',
  'requestReceivedTimestamp',
  'stageTimestamp',
  'annotations',
];

function inKubeOrder(event: AuditEvent): AuditEvent {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if (event[k] !== undefined) out[k] = event[k];
  return out as unknown as AuditEvent;
}
