/**
 * The Kubernetes REST API over node:http(s): routing, authentication of each request, content
 * negotiation, Table output, watch streams, and Status errors. Every resource request goes
 * through the Pipeline, so REST and gRPC clients get the same answers.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { StatusError } from '../../../lib/errors.ts';
import { parseObjectBytes, type KubeObject } from '../../../lib/kube.ts';
import type { Logger } from '../../../lib/log.ts';
import { apiVersionOf, withTypeMeta, type KindRegistry } from '../../../lib/kinds/index.ts';
import type { UserInfo } from '../../auth/api.ts';
import { SlowWatcherError, type WatchEvent, type WatchOptions } from '../../watch/api.ts';
import { bearerToken } from '../core/credentials.ts';
import type { Pipeline, Target } from '../core/pipeline.ts';
import { toTable } from '../../../lib/kinds/printing.ts';
import { BodyAbandoned, type BodyReader, type EdgeRequest, type EdgeResponse } from './body.ts';
import { includeObjectPolicy, parseRestQuery, restVerb, type RestQuery } from './query.ts';
import { aggregatedDiscovery, apiGroupList, apiResourceList, apiVersions, KUBE_VERSION, versionInfo } from './discovery.ts';
import { routeOf, splitRequestTarget, type PathRoute, type RequestTarget, type ResourceRoute, type Route } from './request-info.ts';
import { SchemaSet } from '../../../lib/kinds/schemas.ts';
import type { SchemaLookup } from '../../../lib/kinds/openapi.ts';
import { OpenApiEndpoints } from './openapi.ts';
import { AGGREGATED_DISCOVERY_CONTENT_TYPE, negotiateResource, wantsAggregatedDiscovery, type ResourceRepresentation } from './negotiation.ts';

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
  clock?: () => Date;
}



export class RestHandler {
  private readonly o: RestHandlerOptions;
  private readonly clock: () => Date;
  /** Aborted by shutdown(): ends every open watch stream cleanly. */
  private readonly stopping = new AbortController();
  private readonly openapi: OpenApiEndpoints;

  constructor(options: RestHandlerOptions) {
    this.o = options;
    this.clock = options.clock ?? (() => new Date());
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
    res.on('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => {
      this.serve(req, res, url, route, span).catch((err: unknown) => {
        if (err instanceof BodyAbandoned || (!(err instanceof StatusError) && clientGone(req, res))) {
          // The client went away (or was cut off as too slow): nothing to answer, nothing wrong here.
          this.o.logger.debug('request ended without an answer', { path: url.path, why: err instanceof Error ? err.message : String(err) });
          span.addEvent('client gone');
          if (!res.writableEnded) res.end();
          return;
        }
        const status = StatusError.from(err);
        if (!(err instanceof StatusError)) this.o.logger.error('unexpected error serving a request', { path: url.path, error: err });
        span.setAttribute('k8s.status.reason', status.reason);
        this.writeError(res, status);
      });
    });
  };

  private async serve(req: EdgeRequest, res: EdgeResponse, url: RequestTarget, route: Route | undefined, span: Span): Promise<void> {
    if (route?.kind === 'path' && route.handler === 'healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    const user = await this.o.pipeline.authenticate(bearerToken(req.headers.authorization));
    span.setAttribute('enduser.id', user.username);
    if (route === undefined) {
      await this.o.pipeline.authorizePath(user, verbOfMethod(req.method), url.path);
      throw new StatusError('NotFound', 'the server could not find the requested resource');
    }
    if (route.kind === 'invalid') throw route.error;
    if (route.kind === 'path') {
      await this.o.pipeline.authorizePath(user, 'get', url.path);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
      this.servePath(req, res, route, url);
      return;
    }
    await this.serveResource(req, res, url, route, user);
  }

  private servePath(req: EdgeRequest, res: EdgeResponse, route: PathRoute, url: RequestTarget): void {
    const { registry } = this.o;
    switch (route.handler) {
      case 'version':
        this.writeJson(res, 200, versionInfo());
        return;
      case 'api':
        if (wantsAggregatedDiscovery(req.headers.accept)) {
          this.writeJson(res, 200, aggregatedDiscovery(registry, true), AGGREGATED_DISCOVERY_CONTENT_TYPE);
        } else {
          this.writeJson(res, 200, apiVersions(this.o.serverAddress));
        }
        return;
      case 'apis':
        if (wantsAggregatedDiscovery(req.headers.accept)) {
          this.writeJson(res, 200, aggregatedDiscovery(registry, false), AGGREGATED_DISCOVERY_CONTENT_TYPE);
        } else {
          this.writeJson(res, 200, apiGroupList(registry));
        }
        return;
      case 'groupVersion': {
        const list = apiResourceList(registry, route.group ?? '', route.version ?? '');
        if (list === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource');
        this.writeJson(res, 200, list);
        return;
      }
      case 'openapi':
        this.openapi.serve(req, res, route.openapi ?? '', url.query);
        return;
      case 'healthz':
        return;
    }
  }

  private async serveResource(req: EdgeRequest, res: EdgeResponse, url: RequestTarget, route: ResourceRoute, user: UserInfo): Promise<void> {
    const { pipeline } = this.o;
    const q = url.query;
    const target: Target = { info: route.info, namespace: route.namespace, name: route.name };
    if (route.subresource !== '') throw new StatusError('NotFound', 'the server could not find the requested resource');
    const verb = restVerb(req.method, route.name !== '', route.watchPrefix, q);
    const query = parseRestQuery(q, verb);
    const closed = abortOnClose(res);
    // Non-watch requests end after ?timeout= (kubectl sends one) or 60 s, as kube-apiserver's
    // request timeout; a watch lives until its client, its timeoutSeconds or shutdown ends it.
    const signal = AbortSignal.any([closed, AbortSignal.timeout(query.timeoutMs)]);
    const dryRun = query.dryRun;
    switch (req.method) {
      case 'GET':
      case 'HEAD': {
        const representation = negotiateResource(req.headers.accept);
        if (verb === 'watch') {
          // Only watches end on shutdown; other requests in flight are left to finish.
          await this.serveWatch(res, route, target, user, query, representation, AbortSignal.any([closed, this.stopping.signal]));
          return;
        }
        if (route.name !== '') {
          const object = await pipeline.get(user, target, { resourceVersion: query.resourceVersion }, signal);
          this.writeObjectOrTable(res, 200, route, [object], representation, query, undefined, object);
          return;
        }
        const list = await pipeline.list(user, target, query.list, signal);
        const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: list.resourceVersion };
        if (list.continue !== '') listMeta.continue = list.continue;
        if (list.remainingItemCount !== undefined) listMeta.remainingItemCount = list.remainingItemCount;
        if (representation === 'table') {
          this.writeObjectOrTable(res, 200, route, list.items, representation, query, listMeta);
        } else {
          // kube omits kind/apiVersion on the items of a typed list.
          const items = list.items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
          this.writeJson(res, 200, { kind: route.info.listKind, apiVersion: apiVersionOf(route.info), metadata: listMeta, items });
        }
        return;
      }
      case 'POST': {
        if (route.name !== '') throw methodNotAllowed();
        const representation = negotiateResource(req.headers.accept);
        const { object: body, source } = await this.o.bodies.readObjectAndSource(req, res);
        const warnings: string[] = [];
        const created = await pipeline.create(user, target, body, { dryRun, fieldValidation: query.fieldValidation, source, warnings }, signal);
        setWarnings(res, warnings);
        this.writeObjectOrTable(res, 201, route, [created], representation, query, undefined, created);
        return;
      }
      case 'PUT': {
        if (route.name === '') throw methodNotAllowed();
        const representation = negotiateResource(req.headers.accept);
        const { object: body, source } = await this.o.bodies.readObjectAndSource(req, res);
        const warnings: string[] = [];
        const updated = await pipeline.update(user, target, body, { dryRun, fieldValidation: query.fieldValidation, source, warnings }, signal);
        setWarnings(res, warnings);
        this.writeObjectOrTable(res, 200, route, [updated], representation, query, undefined, updated);
        return;
      }
      case 'DELETE': {
        if (route.name === '') throw methodNotAllowed();
        const options = await this.o.bodies.readDeleteOptions(req, res);
        const deleted = await pipeline.delete(user, target, { preconditions: options.preconditions, dryRun: dryRun || options.dryRun }, signal);
        if (deleted.pending) {
          // Waiting for finalizers: kube answers the object, marked for deletion.
          this.writeJson(res, 200, deleted.object);
          return;
        }
        // Deleted at once: kube answers a Success Status naming what went (details.kind is the
        // resource, as in kube's Store.finalizeDelete; group is omitted when empty).
        const details: Record<string, string> = { name: route.name };
        if (route.info.group !== '') details.group = route.info.group;
        details.kind = route.info.resource;
        const uid: unknown = deleted.object.metadata?.uid;
        details.uid = typeof uid === 'string' ? uid : '';
        this.writeJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }

  private async serveWatch(
    res: EdgeResponse,
    route: ResourceRoute,
    target: Target,
    user: UserInfo,
    query: RestQuery,
    representation: ResourceRepresentation,
    signal: AbortSignal,
  ): Promise<void> {
    let fieldSelector = query.watch.fieldSelector ?? '';
    if (route.name !== '') {
      // GET .../watch/{resource}/{name}: a watch of one object.
      fieldSelector = [fieldSelector, `metadata.name=${route.name}`].filter((s) => s !== '').join(',');
    }
    const options: WatchOptions = { ...query.watch, fieldSelector };
    const includeObject = representation === 'table' ? includeObjectPolicy(query) : 'Metadata';
    const events = await this.o.pipeline.watch(user, { ...target, name: '' }, options, signal);
    // HTTP/1.1 streams it chunked (no Content-Length); HTTP/2 forbids naming the encoding.
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders?.();
    try {
      for await (const event of events) {
        let line: Buffer;
        if (representation === 'table' && (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED')) {
          line = encodedOnce(event, `table/${route.info.resource}/${includeObject}`, () => {
            const object = parseObjectBytes(event.object);
            const table = toTable(route.info.printer, [withTypeMeta(object, route.info)], { now: this.clock(), includeObject });
            return Buffer.from(`${JSON.stringify({ type: event.type, object: table })}\n`);
          });
        } else {
          line = encodedOnce(event, 'json', () => Buffer.concat([Buffer.from(`{"type":"${event.type}","object":`), event.object, Buffer.from('}\n')]));
        }
        if (!res.write(line)) {
          // Both listeners go once either fires: a long watch waits for drain many times.
          await new Promise<void>((resolve) => {
            const done = (): void => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.once('drain', done);
            res.once('close', done);
          });
        }
        if (signal.aborted) break;
      }
    } catch (err) {
      if (!(err instanceof SlowWatcherError)) throw err;
      // The client read too slowly and its watch was dropped. kube-apiserver's cacher closes
      // such a watcher and its response simply ends, without an ERROR event: client-go's
      // reflector watches again from its last resourceVersion, `kubectl get -w` ends. (The
      // typed gRPC API reports the same drop as 429 TooManyRequests.)
      trace.getActiveSpan()?.addEvent('watch dropped: the client did not keep up');
      this.o.logger.warn('watch stream ended: its client did not keep up with its events', {
        group: route.info.group,
        resource: route.info.resource,
        namespace: target.namespace,
        user: user.username,
        error: err,
      });
    }
    res.end();
  }

  private writeObjectOrTable(
    res: EdgeResponse,
    code: number,
    route: ResourceRoute,
    objects: KubeObject[],
    representation: ResourceRepresentation,
    query: RestQuery,
    listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
    single?: KubeObject,
  ): void {
    if (representation === 'table') {
      const table = toTable(
        route.info.printer,
        objects.map((o) => withTypeMeta(o, route.info)),
        { now: this.clock(), includeObject: includeObjectPolicy(query), listMeta: listMeta ?? {} },
      );
      this.writeJson(res, code, table);
      return;
    }
    this.writeJson(res, code, single ?? objects[0]);
  }

  private writeJson(res: EdgeResponse, code: number, body: unknown, contentType = 'application/json', extraHeaders: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': data.length, 'Cache-Control': 'no-cache, private', ...extraHeaders });
    res.end(data);
  }

  /** Writes a Status; inside a started watch stream, as a final ERROR event. */
  private writeError(res: EdgeResponse, err: StatusError): void {
    if (res.headersSent) {
      if (!res.writableEnded) res.end(`${JSON.stringify({ type: 'ERROR', object: err.toStatus() })}\n`);
      return;
    }
    // As kube does, a Status that says when to retry says it in Retry-After too.
    const retryAfter = err.details?.retryAfterSeconds;
    this.writeJson(res, err.code, err.toStatus(), 'application/json', retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) });
  }
}


/**
 * The watch stream lines of each event, by output format. The watch client hands every
 * watcher of one multiplexed message the same WatchEvent object, so all HTTP watchers that
 * receive it share one encoding per format (a Table's age column is computed once for them,
 * within milliseconds of each other); entries go with the event.
 */
const watchLines = new WeakMap<WatchEvent, Map<string, Buffer>>();

export function encodedOnce(event: WatchEvent, format: string, encode: () => Buffer): Buffer {
  let lines = watchLines.get(event);
  if (lines === undefined) watchLines.set(event, (lines = new Map()));
  let line = lines.get(format);
  if (line === undefined) lines.set(format, (line = encode()));
  return line;
}

/**
 * The `Warning` headers of a response (RFC 7234's form, as kube sends them: code 299, agent
 * "-", the text quoted), which kubectl prints as `Warning: <text>`.
 */
export function warningHeaders(warnings: readonly string[]): string[] {
  // Header values are ASCII: anything else is escaped, as are the quote and the backslash.
  const quote = (text: string): string =>
    `"${text.replace(/[\\"]|[^\x20-\x7e]/gu, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`))}"`;
  return warnings.map((w) => `299 - ${quote(w)}`);
}

function setWarnings(res: EdgeResponse, warnings: readonly string[]): void {
  if (warnings.length > 0 && !res.headersSent) res.setHeader('Warning', warningHeaders(warnings));
}

function verbOfMethod(method: string | undefined): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}

function methodNotAllowed(): StatusError {
  return new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/** Whether the client is gone: its connection (or stream) closed before the answer was done. */
function clientGone(req: EdgeRequest, res: EdgeResponse): boolean {
  return req.destroyed && !res.writableEnded;
}

/** An AbortSignal that fires when the client goes away (the response's 'close', not the request's). */
function abortOnClose(res: EdgeResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  return controller.signal;
}
