/**
 * What a REST request addresses, worked out once from its request target, as kube-apiserver's
 * RequestInfoFactory does: the path is split on "/" as sent and each segment decoded on its
 * own, so neither dot-segments ("..", "%2E%2E") nor an encoded slash ("%2F") can change which
 * resource, namespace or name a request reaches. Nothing here resolves or normalizes a path.
 */
import { badRequest, type StatusError } from '../../../lib/errors.ts';
import type { KindDefinition, KindRegistry } from '../../../lib/kinds/index.ts';
import { bodyDecoderFor, type BodyDecoder } from './media/decoder.ts';
import { queryBool } from './query.ts';

/** A request target split into its path (still percent-encoded) and its query. */
export interface RequestTarget {
  /** The path as sent, without query or fragment. */
  path: string;
  query: URLSearchParams;
}

/**
 * Splits a request target (origin form "/path?query", or absolute form
 * "https://host/path?query" as proxies send it) without resolving anything in it.
 */
export function splitRequestTarget(raw: string): RequestTarget {
  let target = raw;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (absolute !== null) target = target.slice(absolute[0].length);
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  return { path: path === '' ? '/' : path, query: new URLSearchParams(q >= 0 ? target.slice(q + 1) : '') };
}

/** A request for a resource: a collection, or one object of it. */
export interface ResourceRoute {
  kind: 'resource';
  info: KindDefinition;
  namespace: string;
  name: string;
  subresource: string;
  /** The legacy /watch/ path prefix was used. */
  watchPrefix: boolean;
  /** The route template, for span names (no object names in span names). */
  template: string;
}

/** A request for one of the server's own paths. */
export interface PathRoute {
  kind: 'path';
  handler: 'version' | 'api' | 'apis' | 'groupVersion' | 'healthz' | 'openapi' | 'openidConfiguration' | 'jwks' | 'metrics';
  group?: string;
  version?: string;
  /** For `/openapi/...`: the rest of the path (`v2`, `v3`, `v3/apis/apps/v1`). */
  openapi?: string;
  template: string;
}

/** A path that cannot be read at all (not validly percent-encoded): answered after authentication. */
export interface InvalidRoute {
  kind: 'invalid';
  error: StatusError;
  template: string;
}

export type Route = ResourceRoute | PathRoute | InvalidRoute;

/**
 * The decoded segments of a path. One leading and one trailing "/" are ignored, as kube trims
 * them; an empty segment anywhere else is kept (and so matches no route).
 */
function pathSegments(path: string): string[] {
  const trimmed = path.replace(/^\//, '').replace(/\/$/, '');
  if (trimmed === '') return [];
  return trimmed.split('/').map((segment) => decodeURIComponent(segment));
}

/** The subresources of namespaces, which /namespaces/{name}/... names rather than a namespaced resource (kube's namespaceSubresources). */
const NAMESPACE_SUBRESOURCES: readonly string[] = ['status', 'finalize'];

/**
 * The route of a path; undefined when no route matches (404 after authentication and an
 * authorization check of the path, as kube answers unknown paths).
 */
export function routeOf(path: string, registry: KindRegistry): Route | undefined {
  let segments: string[];
  try {
    segments = pathSegments(path);
  } catch {
    return { kind: 'invalid', error: badRequest('the request path is not validly percent-encoded'), template: 'invalid' };
  }
  if (segments.length === 1 && segments[0] === 'version') return { kind: 'path', handler: 'version', template: '/version' };
  if (segments.length === 1 && segments[0] === 'metrics') return { kind: 'path', handler: 'metrics', template: '/metrics' };
  if (segments.length === 1 && (segments[0] === 'healthz' || segments[0] === 'livez' || segments[0] === 'readyz')) {
    return { kind: 'path', handler: 'healthz', template: `/${segments[0]}` };
  }
  // The service-account issuer's discovery documents (kube's serviceaccount OpenID metadata server).
  if (segments.length === 2 && segments[0] === '.well-known' && segments[1] === 'openid-configuration') {
    return { kind: 'path', handler: 'openidConfiguration', template: '/.well-known/openid-configuration' };
  }
  if (segments.length === 3 && segments[0] === 'openid' && segments[1] === 'v1' && segments[2] === 'jwks') return { kind: 'path', handler: 'jwks', template: '/openid/v1/jwks' };
  if (segments[0] === 'openapi' && (segments[1] === 'v2' || segments[1] === 'v3')) {
    const rest = segments.slice(1).join('/');
    return { kind: 'path', handler: 'openapi', openapi: rest, template: segments.length > 2 ? '/openapi/v3/{groupVersion}' : `/openapi/${rest}` };
  }
  let group: string;
  let version: string;
  let rest: string[];
  let prefix: string;
  if (segments[0] === 'api') {
    if (segments.length === 1) return { kind: 'path', handler: 'api', template: '/api' };
    group = '';
    version = segments[1] ?? '';
    rest = segments.slice(2);
    prefix = `/api/${version}`;
  } else if (segments[0] === 'apis') {
    if (segments.length === 1) return { kind: 'path', handler: 'apis', template: '/apis' };
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    if (version === '') return undefined;
    rest = segments.slice(3);
    prefix = `/apis/${group}/${version}`;
  } else {
    return undefined;
  }
  if (rest.length === 0) return { kind: 'path', handler: 'groupVersion', group, version, template: prefix };
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
    prefix += '/watch';
  }
  let namespace = '';
  // /namespaces/{ns}/{resource}... addresses a namespaced resource; /namespaces[/{name}] the
  // namespaces themselves, and, as kube's namespaceSubresources, /namespaces/{name}/status and
  // /namespaces/{name}/finalize their subresources.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.includes(rest[2] ?? '')) {
    namespace = rest[1] ?? '';
    rest = rest.slice(2);
    prefix += '/namespaces/{namespace}';
    if (namespace === '') return undefined;
  }
  const [resource = '', name = '', subresource = '', ...extra] = rest;
  if (extra.length > 0) return undefined;
  // An empty segment in the middle of the path ("configmaps//status") addresses nothing.
  if (rest.length >= 2 && name === '') return undefined;
  if (rest.length === 3 && subresource === '') return undefined;
  const info = registry.get(group, version, resource);
  if (info === undefined) return undefined;
  if (namespace !== '' && !info.namespaced) return undefined;
  const template = `${prefix}/${resource}${name === '' ? '' : '/{name}'}${subresource === '' ? '' : `/${subresource}`}`;
  return { kind: 'resource', info, namespace, name, subresource, watchPrefix, template };
}

/** What kube's RequestInfoFactory reads from a path alone: the attributes a request is authorized with. */
export interface PathRequestInfo {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/**
 * The resource request a path is to kube's RequestInfoFactory, whether or not anything serves
 * it (kube authorizes before it routes): /api/{version}/... and /apis/{group}/{version}/...
 * with at least a resource, the special verb watch (or proxy) after the version,
 * /namespaces/{ns}/ before a resource that is no namespace subresource, then
 * resource/name/subresource. Undefined for a non-resource path (and for one kube cannot read,
 * such as /api/v1/watch, which is then authorized as a path). Used for paths no route serves, so
 * that a refusal names the resource as kube's does and an allowed request is 404.
 */
export function pathRequestInfo(method: string, path: string, query: URLSearchParams): PathRequestInfo | undefined {
  let parts: string[];
  try {
    parts = pathSegments(path);
  } catch {
    return undefined;
  }
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return undefined;
  let rest = parts.slice(1);
  let group = '';
  if (parts[0] === 'apis') {
    if (rest.length < 3) return undefined;
    group = rest[0] ?? '';
    rest = rest.slice(1);
  }
  const version = rest[0] ?? '';
  rest = rest.slice(1);
  let verb: string;
  if (rest[0] === 'watch' || rest[0] === 'proxy') {
    if (rest.length < 2) return undefined;
    verb = rest[0];
    rest = rest.slice(1);
  } else {
    const byMethod: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
    verb = byMethod[method] ?? '';
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] ?? '';
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.includes(rest[2] ?? '')) rest = rest.slice(2);
  }
  const [resource = '', name = '', subresource = ''] = rest;
  const info = { verb, group, version, resource, subresource: verb === 'proxy' ? '' : subresource, namespace, name };
  if (name === '' && verb === 'get') info.verb = queryBool(query, 'watch') === true ? 'watch' : 'list';
  if (name === '' && verb === 'delete') info.verb = 'deletecollection';
  return info;
}

/** kube's request verbs (RequestInfo.Verb) for resource requests. */
export type RequestVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/**
 * What a resource request asks, worked out once, as kube's RequestInfoFactory does, and carried
 * through the handler of its verb.
 */
export interface RequestInfo {
  /** The verb; undefined for a method no verb has (CONNECT, OPTIONS, ...): 405. */
  verb: RequestVerb | undefined;
  /** The request's method, as sent. */
  method: string;
  route: ResourceRoute;
  /** The resource's definition (route.info). */
  resource: KindDefinition;
  group: string;
  version: string;
  namespace: string;
  name: string;
  /** "" when the request addresses the resource itself. */
  subresource: string;
  query: URLSearchParams;
  /** The body's media type (Content-Type without parameters, lower-cased; "" when absent). */
  contentType: string;
  /** The decoder of the body's media type; undefined when none reads it (415 once a body is to be read). */
  decoder: BodyDecoder | undefined;
}

/**
 * The verb of a request, as kube's RequestInfoFactory names it: GET (and HEAD) is get, or for a
 * collection list, or watch with ?watch (a boolean as kube reads one: see queryBool) or on the
 * /watch/ path; POST create; PUT update; PATCH patch; DELETE delete, or for a collection
 * deletecollection.
 */
export function verbOf(method: string, route: Pick<ResourceRoute, 'name' | 'watchPrefix'>, query: URLSearchParams): RequestVerb | undefined {
  const named = route.name !== '';
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (route.watchPrefix) return 'watch';
      if (named) return 'get';
      return queryBool(query, 'watch') === true ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

/** The RequestInfo of a request to a resource route. */
export function requestInfoOf(method: string | undefined, route: ResourceRoute, query: URLSearchParams, contentType: string | undefined): RequestInfo {
  const verb = verbOf(method ?? 'GET', route, query);
  return {
    verb,
    method: method ?? 'GET',
    route,
    resource: route.info,
    group: route.info.group,
    version: route.info.version,
    namespace: route.namespace,
    name: route.name,
    subresource: route.subresource,
    query,
    contentType: (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '',
    decoder: bodyDecoderFor(contentType, { patch: verb === 'patch' }),
  };
}
