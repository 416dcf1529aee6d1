/**
 * The Kubernetes REST API over node:http(s): the dispatcher. Each request is traced and
 * authenticated, its RequestInfo worked out once (request-info.ts), and it is handed to the
 * handler of its verb (verbs/); every answer goes through the one response writer
 * (response.ts), and every failure becomes a Status there. Every resource request goes
 * through the Pipeline, so REST and gRPC clients get the same answers.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { StatusError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/log.ts';
import type { KindRegistry } from '../../../lib/kinds/index.ts';
import { servedSubresource } from '../../../lib/kinds/subresources.ts';
import type { SchemaLookup } from '../../../lib/kinds/openapi.ts';
import { SchemaSet } from '../../../lib/kinds/schemas.ts';
import { bearerToken, DEFAULT_ANONYMOUS_PATHS, peerCertificateChain } from '../core/credentials.ts';
import { impersonationOf, rawHeaderPairs } from '../core/impersonation.ts';
import type { Pipeline } from '../core/pipeline.ts';
import { WarningRecorder } from '../core/warnings.ts';
import { k8sSpanAttributes, newApiRequest, noteSpan, RequestObservers, withApiRequest, type ApiRequest } from '../core/observe.ts';
import { BodyAbandoned, type BodyReader, type EdgeRequest, type EdgeResponse } from './body.ts';
import { sharedProtobufPlans } from './media/decoder.ts';
import { ProtobufAnswers } from './media/protobuf.ts';
import type { KubeProtobufDecoder } from './protobuf.ts';
import { aggregatedDiscovery, apiGroupList, apiResourceList, apiVersions, KUBE_VERSION, versionInfo } from './discovery.ts';
import { AGGREGATED_DISCOVERY_CONTENT_TYPE, wantsAggregatedDiscovery } from './negotiation.ts';
import { pathRequestInfo, requestInfoOf, routeOf, splitRequestTarget, type PathRoute, type RequestTarget, type Route } from './request-info.ts';
import { OpenApiEndpoints } from './openapi.ts';
import { ResponseWriter } from './response.ts';
import type { Metrics } from '../../../lib/metrics.ts';
import type { FlowControl } from '../core/flowcontrol/controller.ts';
import { FLOW_SCHEMA_UID_HEADER, passGate, PRIORITY_LEVEL_UID_HEADER, requestDigest, TOO_MANY_REQUESTS_MESSAGE } from '../core/flowcontrol/gate.ts';
import type { UserInfo } from '../../auth/api.ts';
import { handlerFor, methodNotAllowed } from './verbs/index.ts';

export interface RestHandlerOptions {
  pipeline: Pipeline;
  registry: KindRegistry;
  tracer: Tracer;
  /** Continues a client's trace when the request carries a W3C traceparent. */
  propagator: TextMapPropagator;
  logger: Logger;
  /** host:port clients use, for /api's serverAddressByClientCIDRs. */
  serverAddress: string;
  /** Reads request bodies within the front door's limits. */
  bodies: BodyReader;
  /** The schema definitions OpenAPI documents are built from (default: the generated ones). */
  schemas?: SchemaLookup;
  /**
   * The paths a request without credentials may reach as system:anonymous (then authorized
   * like any other); elsewhere it is Unauthorized. Default DEFAULT_ANONYMOUS_PATHS.
   */
  anonymousPaths?: readonly string[];
  /** The plans of the generated protobuf messages answers are encoded with (default: the body decoder's). */
  protobufPlans?: KubeProtobufDecoder;
  /** Who watches requests: metrics, access log, audit (none by default). */
  observers?: RequestObservers;
  /** The process's metrics, served at /metrics to users allowed `get` on it (404 without). */
  metrics?: Metrics;
  /**
   * API Priority and Fairness: every request that passed authentication (and impersonation)
   * is classified and holds a seat of its priority level while it runs (a watch only until its
   * stream starts), or is refused 429. None: no limit.
   */
  flowControl?: FlowControl;
  clock?: () => Date;
}



export class RestHandler {
  private readonly o: RestHandlerOptions;
  private readonly clock: () => Date;
  /** Aborted by shutdown(): ends every open watch stream cleanly. */
  private readonly stopping = new AbortController();
  private readonly openapi: OpenApiEndpoints;
  private readonly protobuf: ProtobufAnswers;
  private readonly anonymousPaths: ReadonlySet<string>;
  private readonly observers: RequestObservers;

  constructor(options: RestHandlerOptions) {
    this.o = options;
    this.observers = options.observers ?? new RequestObservers();
    this.anonymousPaths = new Set(options.anonymousPaths ?? DEFAULT_ANONYMOUS_PATHS);
    this.clock = options.clock ?? (() => new Date());
    this.protobuf = new ProtobufAnswers(options.protobufPlans ?? sharedProtobufPlans());
    this.openapi = new OpenApiEndpoints({
      registry: options.registry,
      schemas: options.schemas ?? new SchemaSet(),
      logger: options.logger,
      version: KUBE_VERSION.gitVersion,
    });
  }

  /** Ends every open watch stream (their clients resume elsewhere); new requests still work. */
  shutdown(): void {
    this.stopping.abort();
  }

  /** The node:http request listener. Never throws; every failure becomes a Status response. */
  readonly handle = (req: EdgeRequest, res: EdgeResponse): void => {
    // The request target is split as sent: never resolved as a URL (see request-info.ts).
    const url = splitRequestTarget(req.url ?? '/');
    const route = routeOf(url.path, this.o.registry);
    const template = route?.template ?? 'unknown';
    const parent = this.o.propagator.extract(ROOT_CONTEXT, req.headers, {
      keys: (h) => Object.keys(h),
      get: (h, key) => h[key],
    });
    const span = this.o.tracer.startSpan(
      `${req.method ?? 'GET'} ${template}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method ?? '',
          'url.path': url.path,
          'http.route': template,
          'network.protocol.name': 'http',
          'network.protocol.version': req.httpVersionMajor === 2 ? '2' : req.httpVersion,
          'user_agent.original': req.headers['user-agent'] ?? '',
        },
      },
      parent,
    );
    const record = newApiRequest({
      protocol: 'rest',
      method: req.method ?? 'GET',
      requestUri: req.url ?? '/',
      sourceIps: peerAddresses(req),
      userAgent: req.headers['user-agent'] ?? '',
      auditId: headerValue(req.headers['audit-id']),
    });
    noteSpan(record, span);
    // kube answers every request with its audit id.
    res.setHeader('Audit-Id', record.auditId);
    this.observers.received(record);
    /** The client went away before any answer (what is ended for it afterwards is no answer). */
    let gone = false;
    // Made before any await: a client that leaves during authentication must still be seen as
    // gone by flow control (a 'close' listener added later would never run).
    const closed = abortOnClose(res);
    res.on('close', () => {
      if (res.headersSent && !gone) {
        record.code = res.statusCode;
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: record.statusReason });
      } else {
        // Nothing was written: no code (res.statusCode is only the default 200). Kube's metrics
        // record such a request with the code of a response never written to, 0.
        record.code = 0;
        record.clientGone = true;
      }
      // Built only for a span that records: with tracing off this costs nothing per request.
      if (span.isRecording()) span.setAttributes(k8sSpanAttributes(record));
      this.observers.finished(record);
      span.end();
    });
    const warnings = new WarningRecorder();
    const started: Started = {};
    const writer = new ResponseWriter(res, warnings, this.protobuf, () => {
      started.seat?.();
      this.observers.responseStarted(record);
    });
    if (route?.kind === 'resource') writer.negotiateErrors(req.headers.accept);
    context.with(withApiRequest(trace.setSpan(parent, span), record), () => {
      this.serve(req, res, url, route, record, writer, warnings, started, closed).catch((err: unknown) => {
        if (err instanceof BodyAbandoned || (!(err instanceof StatusError) && clientGone(req, res))) {
          // The client went away (or was cut off as too slow): nothing to answer, nothing wrong here.
          this.o.logger.debug('request ended without an answer', { path: url.path, why: err instanceof Error ? err.message : String(err) });
          span.addEvent('client gone');
          if (!res.headersSent) gone = true;
          if (!res.writableEnded) res.end();
          return;
        }
        const status = StatusError.from(err);
        if (!(err instanceof StatusError)) this.o.logger.error('unexpected error serving a request', { path: url.path, error: err });
        record.statusReason = status.reason;
        record.statusMessage = status.message;
        writer.status(status);
      });
    });
  };

  private async serve(
    req: EdgeRequest,
    res: EdgeResponse,
    url: RequestTarget,
    route: Route | undefined,
    record: ApiRequest,
    writer: ResponseWriter,
    warnings: WarningRecorder,
    started: Started,
    closed: AbortSignal,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    // Until the route says otherwise, a request is a non-resource one: its verb is its method.
    record.verb = method.toLowerCase();
    // kube works out what a request is before it authenticates it: a refused login is still
    // recorded as the verb and resource it asked for.
    let early: ReturnType<typeof requestInfoOf> | undefined;
    if (route?.kind === 'resource') {
      try {
        early = requestInfoOf(req.method, route, url.query, req.headers['content-type']);
        describeResourceRequest(record, early);
      } catch {
        // Answered where the request is routed, after authentication, as before.
      }
    }
    if (route?.kind === 'path' && route.handler === 'healthz') {
      writer.text(200, 'ok');
      return;
    }
    // kube's filters: authentication (the client certificate, the bearer token; anonymous on
    // the paths that allow it), then impersonation, which may change who the request is from.
    const credentials = { token: bearerToken(req.headers.authorization), clientCertificates: peerCertificateChain(tlsSocketOf(req)) };
    const authenticated = await this.o.pipeline.authenticate(credentials, undefined, { anonymous: this.anonymousPaths.has(url.path) });
    record.user = authenticated;
    const user = await this.o.pipeline.impersonate(authenticated, impersonationOf(rawHeaderPairs(req.rawHeaders)));
    if (user !== authenticated) record.impersonatedUser = user;
    // kube's WithPriorityAndFairness: after impersonation, before authorization.
    if (this.o.flowControl !== undefined && !(await this.passFlowControl(req, res, url, route, early, user, writer, started, closed))) return;
    if (route === undefined) {
      // kube authorizes before it routes: a path it reads as a resource request is authorized as
      // one (a user allowed to create selfsubjectreviews gets 404 for an unserved version, not
      // 403); any other path as a non-resource request, whose verb is its method, lower-cased.
      const asResource = pathRequestInfo(req.method ?? 'GET', url.path, url.query);
      if (asResource === undefined) await this.o.pipeline.authorizePath(user, (req.method ?? 'GET').toLowerCase(), url.path);
      else {
        const { group, version, ...rest } = asResource;
        await this.o.pipeline.authorize({ user, resourceRequest: true, apiGroup: group, apiVersion: version, path: '', ...rest });
      }
      throw new StatusError('NotFound', 'the server could not find the requested resource');
    }
    if (route.kind === 'invalid') throw route.error;
    if (route.kind === 'path') {
      // A non-resource request's verb is its method, lower-cased (kube's RequestInfoFactory).
      await this.o.pipeline.authorizePath(user, (req.method ?? 'GET').toLowerCase(), url.path);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
      if (route.handler === 'metrics') {
        if (this.o.metrics === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource');
        const { contentType, body } = await this.o.metrics.render(req.headers.accept);
        writer.bytes(200, Buffer.from(body), contentType);
        return;
      }
      if (route.handler === 'openidConfiguration' || route.handler === 'jwks') {
        await this.serveIssuerDiscovery(res, writer, route.handler);
        return;
      }
      this.servePath(req, res, writer, route, url);
      return;
    }
    const info = early ?? requestInfoOf(req.method, route, url.query, req.headers['content-type']);
    let chosen: ReturnType<typeof handlerFor>;
    try {
      chosen = handlerFor(info);
    } catch (err) {
      // kube authorizes before it routes: a subresource or method the kind does not serve is 404
      // or 405 only for a user allowed to make the request, 403 for anyone else.
      if (info.verb !== undefined) {
        await this.o.pipeline.authorize({
          user,
          verb: info.verb,
          resourceRequest: true,
          apiGroup: info.group,
          apiVersion: info.version,
          resource: info.resource.resource,
          subresource: info.subresource,
          namespace: info.namespace,
          name: info.name,
          path: '',
        });
      }
      throw err;
    }
    const { handler, verb } = chosen;
    record.verb = verb;
    record.longRunning = verb === 'watch';
    record.bodies = this.observers.wantsBodies(record);
    await handler({
      req,
      res,
      info: { ...info, verb },
      user,
      pipeline: this.o.pipeline,
      bodies: this.o.bodies,
      writer,
      protobuf: this.protobuf,
      warnings,
      logger: this.o.logger,
      clock: this.clock,
      closed,
      stopping: this.stopping.signal,
    });
  }

  /**
   * Classifies the request and waits for its seat: false when it was refused (answered here:
   * 429, kube's plain-text message, Retry-After). Both answers name the matched FlowSchema and
   * PriorityLevelConfiguration by UID, as kube's do. The seat is given back when the response
   * closes, or for a watch once its stream has started (kube counts a watch only while it
   * initializes).
   */
  private async passFlowControl(
    req: EdgeRequest,
    res: EdgeResponse,
    url: RequestTarget,
    route: Route | undefined,
    early: ReturnType<typeof requestInfoOf> | undefined,
    user: UserInfo,
    writer: ResponseWriter,
    started: Started,
    closed: AbortSignal,
  ): Promise<boolean> {
    const method = (req.method ?? 'GET').toLowerCase();
    let digest;
    if (route?.kind === 'resource' && early?.verb !== undefined) {
      digest = requestDigest(user, { resourceRequest: true, verb: early.verb, apiGroup: early.group, resource: early.resource.resource, subresource: early.subresource, namespace: early.namespace });
    } else {
      const asResource = route === undefined ? pathRequestInfo(req.method ?? 'GET', url.path, url.query) : undefined;
      digest =
        asResource === undefined
          ? requestDigest(user, { resourceRequest: false, verb: method, path: url.path })
          : requestDigest(user, { resourceRequest: true, verb: asResource.verb, apiGroup: asResource.group, resource: asResource.resource, subresource: asResource.subresource, namespace: asResource.namespace });
    }
    const gate = await passGate(this.o.flowControl!, digest, closed);
    if (gate.admitted) {
      // The client may have gone while the request was classified or queued: its seat is given
      // back at once, else when it goes; registered before anything below can throw.
      if (closed.aborted) {
        gate.release();
        return false;
      }
      closed.addEventListener('abort', gate.release, { once: true });
    }
    res.setHeader(FLOW_SCHEMA_UID_HEADER, gate.classification.flowSchemaUid);
    res.setHeader(PRIORITY_LEVEL_UID_HEADER, gate.classification.priorityLevelUid);
    if (!gate.admitted) {
      res.setHeader('Retry-After', String(gate.retryAfterSeconds));
      writer.text(429, `${TOO_MANY_REQUESTS_MESSAGE}\n`);
      return false;
    }
    if (digest.verb === 'watch') started.seat = gate.release;
    return true;
  }

  /**
   * The service-account issuer's discovery documents, as kube-apiserver serves them: JSON
   * and a JWK set, cacheable for an hour by anyone (they are public).
   */
  private async serveIssuerDiscovery(res: EdgeResponse, writer: ResponseWriter, which: 'openidConfiguration' | 'jwks'): Promise<void> {
    const documents = await this.o.pipeline.issuerDiscovery();
    res.setHeader('Cache-Control', 'public, max-age=3600');
    if (which === 'openidConfiguration') writer.json(200, JSON.parse(documents.openidConfiguration), 'application/json');
    else writer.json(200, JSON.parse(documents.jwks), 'application/jwk-set+json');
  }

  private servePath(req: EdgeRequest, res: EdgeResponse, writer: ResponseWriter, route: PathRoute, url: RequestTarget): void {
    const { registry } = this.o;
    const json = 'application/json';
    switch (route.handler) {
      case 'version':
        writer.json(200, versionInfo(), json);
        return;
      case 'api':
        if (wantsAggregatedDiscovery(req.headers.accept)) writer.json(200, aggregatedDiscovery(registry, true), AGGREGATED_DISCOVERY_CONTENT_TYPE);
        else writer.json(200, apiVersions(this.o.serverAddress), json);
        return;
      case 'apis':
        if (wantsAggregatedDiscovery(req.headers.accept)) writer.json(200, aggregatedDiscovery(registry, false), AGGREGATED_DISCOVERY_CONTENT_TYPE);
        else writer.json(200, apiGroupList(registry), json);
        return;
      case 'groupVersion': {
        const list = apiResourceList(registry, route.group ?? '', route.version ?? '');
        if (list === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource');
        writer.json(200, list, json);
        return;
      }
      case 'openapi':
        this.openapi.serve(req, res, route.openapi ?? '', url.query);
        return;
      case 'healthz':
      case 'metrics':
      case 'openidConfiguration':
      case 'jwks':
        return;
    }
  }
}


/**
 * The record's resource fields from the request's RequestInfo (kube's scope label included).
 * The route serves the resource; a subresource the kind does not serve (any name a client
 * makes up: this runs before authentication) leaves group, version, resource and subresource
 * empty, as for a path no route serves, so that invented names never become label values of
 * the request metrics. Kube records only what its installed routes serve too.
 */
function describeResourceRequest(record: ApiRequest, info: ReturnType<typeof requestInfoOf>): void {
  record.resourceRequest = true;
  if (info.verb !== undefined) record.verb = info.verb;
  if (info.subresource === '' || servedSubresource(info.resource, info.subresource) !== undefined) {
    record.group = info.group;
    record.version = info.version;
    record.resource = info.resource.resource;
    record.subresource = info.subresource;
  }
  record.namespace = info.namespace;
  record.name = info.name;
  record.scope = info.name !== '' ? 'resource' : info.namespace !== '' ? 'namespace' : 'cluster';
  record.dryRun = info.query.getAll('dryRun').includes('All');
  record.contentType = info.contentType;
}

/** The client's address (X-Forwarded-For is not trusted: nothing in front of the gateway is known to set it honestly). */
function peerAddresses(req: EdgeRequest): string[] {
  const socket = 'stream' in req ? req.stream.session?.socket : req.socket;
  const address = (socket as { remoteAddress?: string } | undefined)?.remoteAddress;
  return address === undefined ? [] : [address.startsWith('::ffff:') ? address.slice(7) : address];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The TLS socket a request came over: its HTTP/2 session's, or its own over HTTP/1.1. */
function tlsSocketOf(req: EdgeRequest): unknown {
  return 'stream' in req ? req.stream.session?.socket : req.socket;
}

/** Whether the client is gone: its connection (or stream) closed before the answer was done. */
function clientGone(req: EdgeRequest, res: EdgeResponse): boolean {
  return req.destroyed && !res.writableEnded;
}

/** What runs when the response starts (a watch's seat is given back then). */
interface Started {
  seat?: () => void;
}

/** An AbortSignal that fires when the client goes away (the response's 'close', not the request's). */
function abortOnClose(res: EdgeResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  return controller.signal;
}
