/**
 * What the front door knows about each API request, gathered once and handed to whoever
 * watches requests: the metrics (apiserver_request_total, ...), the access log and the audit
 * log. The REST handler and the typed gRPC front door fill one ApiRequest per request as they
 * learn its parts (who, which verb and resource, the answer's code) and call the observers at
 * kube's audit stages: received, response started (long-running requests such as watches),
 * finished.
 *
 * Observers run on the request's path: they must be cheap and must never throw (an observer
 * that throws is caught and reported, never failing the request).
 */
import { context, createContextKey, trace, TraceFlags, type Span } from '@opentelemetry/api';
import type { Logger } from '../../../lib/log.ts';
import type { UserInfo } from '../../auth/api.ts';

/** kube's scope label of apiserver_request_total: '' for a non-resource request. */
export type RequestScope = '' | 'cluster' | 'namespace' | 'resource';

export interface ApiRequest {
  /** 'rest' (HTTPS) or 'grpc' (the typed Resources API). */
  readonly protocol: 'rest' | 'grpc';
  /** When the request arrived. */
  readonly received: Date;
  /** process.hrtime.bigint() when it arrived: for durations. */
  readonly startNs: bigint;
  /** A unique id of the request (kube's auditID): a random UUID, or the client's Audit-ID header. */
  readonly auditId: string;
  /** HTTP method (REST) or the gRPC method name ('Create', 'Watch', ...). */
  readonly method: string;
  /** The request URI as sent (REST) or the gRPC path ('/apiserver.v1.Resources/Create'). */
  readonly requestUri: string;
  /** The client's address(es): the peer's IP (kube's sourceIPs also lists X-Forwarded-For hops; this front door does not trust them). */
  readonly sourceIps: readonly string[];
  readonly userAgent: string;

  /** kube's verb: get, list, watch, create, update, patch, delete, deletecollection, or a non-resource request's method lower-cased. '' until known. */
  verb: string;
  /** A request for a resource (true) or a path such as /version (false). */
  resourceRequest: boolean;
  group: string;
  version: string;
  /** Plural resource name, '' when not a resource request. */
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  scope: RequestScope;
  /** A watch (or other long-running request): its duration is not a latency. */
  longRunning: boolean;
  /** dryRun=All was asked for. */
  dryRun: boolean;
  /** The body's media type ('' when none): a patch with application/apply-patch+yaml is kube's APPLY. */
  contentType: string;

  /** Who made the request, once authenticated. */
  user: UserInfo | undefined;
  /** The user the request acts as when impersonating (then `user` is the impersonator). */
  impersonatedUser: UserInfo | undefined;
  /** The authorizer's answer, once asked: 'allow' or 'forbid', and its reason. */
  authorizationDecision: 'allow' | 'forbid' | undefined;
  authorizationReason: string;

  /**
   * The HTTP status code of the answer (gRPC calls: the code its Status would have over REST).
   * 0 until answered, and 0 for good when the client went away before any answer was sent:
   * kube's metrics record the code nothing was written with as 0 too.
   */
  code: number;
  /** The client went away before any answer was sent (a REST request; `code` is then 0). */
  clientGone: boolean;
  /** The Status reason of a failure ('NotFound', 'Forbidden', ...), '' on success. */
  statusReason: string;
  /** The Status message of a failure, '' on success. Never carries credentials (Status messages never do). */
  statusMessage: string;

  /**
   * The request's trace and span (hex), '' when it has no span context. Kept for correlation
   * even when the sampler left the request out: then no trace with this id is stored.
   */
  traceId: string;
  spanId: string;
  /** Whether the request's trace is sampled (recorded and exported): only then does `traceId` name a stored trace. */
  traceSampled: boolean;

  /** Which objects to keep, as the observers asked through `wantsBodies` once the request was known. */
  bodies: 'none' | 'request' | 'requestResponse';
  /**
   * The decoded request object, kept only when an observer asked for bodies through
   * `wantsBodies` (audit at Request level or above). Never logged by the access log.
   */
  requestObject: unknown;
  /** The response object, kept only when an observer asked for it (audit RequestResponse). */
  responseObject: unknown;
}

export interface RequestObserver {
  /** The request arrived (kube's RequestReceived stage); `verb` and the resource may be unknown yet. */
  received?(request: ApiRequest): void;
  /** A long-running request (a watch) sent its response headers (kube's ResponseStarted stage). */
  responseStarted?(request: ApiRequest): void;
  /** The answer is complete (kube's ResponseComplete stage), or the client went away. */
  finished(request: ApiRequest): void;
  /**
   * Whether the request and response objects of this request should be kept (asked once the
   * user, verb and resource are known). Absent: never.
   */
  wantsBodies?(request: ApiRequest): 'none' | 'request' | 'requestResponse';
}

/** Creates the record of a request that just arrived. */
export function newApiRequest(fields: {
  protocol: 'rest' | 'grpc';
  method: string;
  requestUri: string;
  sourceIps: readonly string[];
  userAgent: string;
  auditId?: string | undefined;
}): ApiRequest {
  return {
    protocol: fields.protocol,
    received: new Date(),
    startNs: process.hrtime.bigint(),
    auditId: fields.auditId !== undefined && isAuditId(fields.auditId) ? fields.auditId : crypto.randomUUID(),
    method: fields.method,
    requestUri: fields.requestUri,
    sourceIps: fields.sourceIps,
    userAgent: fields.userAgent,
    verb: '',
    resourceRequest: false,
    group: '',
    version: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    scope: '',
    longRunning: false,
    dryRun: false,
    contentType: '',
    user: undefined,
    impersonatedUser: undefined,
    authorizationDecision: undefined,
    authorizationReason: '',
    code: 0,
    clientGone: false,
    statusReason: '',
    statusMessage: '',
    traceId: '',
    spanId: '',
    traceSampled: false,
    bodies: 'none',
    requestObject: undefined,
    responseObject: undefined,
  };
}

/** A client-sent Audit-ID kube would keep: short, printable, no spaces. */
function isAuditId(value: string): boolean {
  return value.length > 0 && value.length <= 128 && /^[\x21-\x7e]+$/.test(value);
}

/** Seconds since the request arrived. */
export function elapsedSeconds(request: ApiRequest): number {
  return Number(process.hrtime.bigint() - request.startNs) / 1e9;
}

/** Hands each stage to every observer; an observer that throws is logged and skipped. */
export class RequestObservers implements RequestObserver {
  private readonly observers: RequestObserver[];
  private readonly logger: Logger | undefined;

  constructor(observers: readonly RequestObserver[] = [], logger?: Logger) {
    this.observers = [...observers];
    this.logger = logger;
  }

  add(observer: RequestObserver): void {
    this.observers.push(observer);
  }

  received(request: ApiRequest): void {
    for (const o of this.observers) if (o.received !== undefined) this.safely(() => o.received?.(request));
  }

  responseStarted(request: ApiRequest): void {
    for (const o of this.observers) if (o.responseStarted !== undefined) this.safely(() => o.responseStarted?.(request));
  }

  finished(request: ApiRequest): void {
    for (const o of this.observers) this.safely(() => o.finished(request));
  }

  wantsBodies(request: ApiRequest): 'none' | 'request' | 'requestResponse' {
    let wanted: 'none' | 'request' | 'requestResponse' = 'none';
    for (const o of this.observers) {
      const w = o.wantsBodies?.(request) ?? 'none';
      if (w === 'requestResponse') return w;
      if (w === 'request') wanted = w;
    }
    return wanted;
  }

  private safely(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.logger?.error('request observer failed', { error: err });
    }
  }
}

const API_REQUEST = createContextKey('kube-grpc-apiserver api request');

/** `parent` with `request` in it: code running within it finds the record with currentApiRequest(). */
export function withApiRequest(parent: ReturnType<typeof context.active>, request: ApiRequest): ReturnType<typeof context.active> {
  return parent.setValue(API_REQUEST, request);
}

/** The record of the front-door request the running code serves, if any. */
export function currentApiRequest(): ApiRequest | undefined {
  return context.active().getValue(API_REQUEST) as ApiRequest | undefined;
}

/** Keeps the request's object when an observer asked for it (cheap otherwise: one lookup). */
export function noteRequestObject(object: unknown): void {
  const request = currentApiRequest();
  if (request !== undefined && request.bodies !== 'none') request.requestObject = object;
}

/**
 * Keeps the request object `make` returns when an observer asked for it; `make` runs only then
 * (for a request object built or parsed for the audit log alone: a patch, DeleteOptions).
 */
export function noteRequestObjectOf(make: () => unknown): void {
  const request = currentApiRequest();
  if (request !== undefined && request.bodies !== 'none') request.requestObject = make();
}

/**
 * A create's object name once the pipeline knows it (from the body, or generated by admission):
 * the record's name when it has none, so the request's span (k8s.object.name) and access line
 * name the object, as the audit objectRef does. kube's RequestInfo has no name for a create; the
 * record's scope and the metrics' scope label do not follow from it (they stay as computed).
 */
export function noteCreatedName(name: unknown): void {
  const request = currentApiRequest();
  if (request !== undefined && request.verb === 'create' && request.name === '' && typeof name === 'string') request.name = name;
}

/** Keeps the response's object when an observer asked for it. */
export function noteResponseObject(object: unknown): void {
  const request = currentApiRequest();
  if (request !== undefined && request.bodies === 'requestResponse') request.responseObject = object;
}

/**
 * The trace and span ids of `span` into the record ('' when the span carries no valid
 * context), and whether its trace is sampled: with ratio sampling most requests have ids that
 * name no stored trace, which is worth knowing before looking one up.
 */
export function noteSpan(request: ApiRequest, span: Span | undefined): void {
  const sc = span?.spanContext();
  if (sc === undefined || !trace.isSpanContextValid(sc)) return;
  request.traceId = sc.traceId;
  request.spanId = sc.spanId;
  request.traceSampled = (sc.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/** The span attributes platform teams filter on, from what the record knows (never credentials). */
export function k8sSpanAttributes(request: ApiRequest): Record<string, string | number | boolean> {
  const a: Record<string, string | number | boolean> = { 'k8s.verb': request.verb };
  if (request.resourceRequest) {
    a['k8s.group'] = request.group;
    a['k8s.version'] = request.version;
    a['k8s.resource'] = request.resource;
    if (request.subresource !== '') a['k8s.subresource'] = request.subresource;
    if (request.namespace !== '') a['k8s.namespace.name'] = request.namespace;
    if (request.name !== '') a['k8s.object.name'] = request.name;
    if (request.dryRun) a['k8s.dry_run'] = true;
  }
  if (request.user !== undefined) a['k8s.user.name'] = request.user.username;
  if (request.impersonatedUser !== undefined) a['k8s.impersonated_user.name'] = request.impersonatedUser.username;
  if (request.code !== 0) a['k8s.response.code'] = request.code;
  if (request.statusReason !== '') a['k8s.status.reason'] = request.statusReason;
  a['k8s.audit_id'] = request.auditId;
  return a;
}
