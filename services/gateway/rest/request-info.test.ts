/**
 * Request info: request targets are split as sent and each path segment decoded on its own.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtinRegistry } from '../../../lib/kinds/index.ts';
import { pathRequestInfo, requestInfoOf, routeOf, splitRequestTarget, verbOf, type ResourceRoute } from './request-info.ts';
import { handlerFor } from './verbs/index.ts';
import { StatusError } from '../../../lib/errors.ts';
import { REPLICATORS } from '../../../test/support/subresource-kinds.ts';

const registry = builtinRegistry();

describe('splitRequestTarget', () => {
  test('keeps the path as sent: no dot-segment is resolved, no percent-encoding decoded', () => {
    assert.deepEqual(splitRequestTarget('/api/v1/namespaces/demo/configmaps/%2E%2E?watch=1').path, '/api/v1/namespaces/demo/configmaps/%2E%2E');
    assert.equal(splitRequestTarget('/api/v1/../v1/namespaces').path, '/api/v1/../v1/namespaces');
    assert.equal(splitRequestTarget('/a?b=1&c=%2F').query.get('c'), '/');
    assert.equal(splitRequestTarget('https://example.com:6443/api?x=1#frag').path, '/api');
    assert.equal(splitRequestTarget('').path, '/');
  });
});

describe('routeOf', () => {
  test('a name that decodes to ".." stays a name: it never climbs to the namespace', () => {
    const route = routeOf('/api/v1/namespaces/demo/configmaps/%2E%2E', registry);
    assert.equal(route?.kind, 'resource');
    assert.ok(route?.kind === 'resource');
    assert.equal(route.info.resource, 'configmaps');
    assert.equal(route.namespace, 'demo');
    assert.equal(route.name, '..');
  });

  test('an encoded slash stays inside its segment', () => {
    const route = routeOf('/api/v1/namespaces/demo%2Fconfigmaps/configmaps/x', registry);
    assert.ok(route?.kind === 'resource');
    assert.equal(route.namespace, 'demo/configmaps');
    assert.equal(route.name, 'x');
  });

  test('empty segments inside the path match nothing; one trailing slash is ignored', () => {
    assert.equal(routeOf('/api/v1/namespaces//configmaps', registry), undefined);
    assert.equal(routeOf('/api/v1/namespaces/demo/configmaps//status', registry), undefined);
    assert.equal(routeOf('/api/v1//namespaces', registry), undefined);
    assert.equal(routeOf('/api/v1/namespaces/', registry)?.kind, 'resource');
  });

  test('a segment that is not validly percent-encoded is an invalid route (answered after authentication)', () => {
    const route = routeOf('/api/v1/namespaces/%zz/configmaps', registry);
    assert.equal(route?.kind, 'invalid');
  });

  test('server paths', () => {
    assert.equal(routeOf('/version', registry)?.kind, 'path');
    assert.equal(routeOf('/livez', registry)?.kind, 'path');
    assert.equal(routeOf('/apis', registry)?.kind, 'path');
    assert.equal(routeOf('/unknown', registry), undefined);
  });
});

describe("pathRequestInfo (paths no route serves, read as kube's RequestInfoFactory reads them)", () => {
  const q = (s = '') => new URLSearchParams(s);
  const cases: [method: string, path: string, query: string, expected: ReturnType<typeof pathRequestInfo>][] = [
    ['POST', '/apis/authentication.k8s.io/v1beta1/selfsubjectreviews', '', { verb: 'create', group: 'authentication.k8s.io', version: 'v1beta1', resource: 'selfsubjectreviews', subresource: '', namespace: '', name: '' }],
    ['GET', '/apis/example.com/v1/namespaces/a/widgets', '', { verb: 'list', group: 'example.com', version: 'v1', resource: 'widgets', subresource: '', namespace: 'a', name: '' }],
    ['GET', '/apis/example.com/v1/widgets', 'watch=true', { verb: 'watch', group: 'example.com', version: 'v1', resource: 'widgets', subresource: '', namespace: '', name: '' }],
    ['GET', '/apis/example.com/v1/watch/namespaces/a/widgets', '', { verb: 'watch', group: 'example.com', version: 'v1', resource: 'widgets', subresource: '', namespace: 'a', name: '' }],
    ['PUT', '/api/v2/namespaces/a/pods/p/status', '', { verb: 'update', group: '', version: 'v2', resource: 'pods', subresource: 'status', namespace: 'a', name: 'p' }],
    ['DELETE', '/api/v2/namespaces/a/pods', '', { verb: 'deletecollection', group: '', version: 'v2', resource: 'pods', subresource: '', namespace: 'a', name: '' }],
    // /namespaces/{name}/status is the namespace's own subresource
    ['GET', '/api/v2/namespaces/a/status', '', { verb: 'get', group: '', version: 'v2', resource: 'namespaces', subresource: 'status', namespace: 'a', name: 'a' }],
    ['OPTIONS', '/api/v2/nodes/n', '', { verb: '', group: '', version: 'v2', resource: 'nodes', subresource: '', namespace: '', name: 'n' }],
    // non-resource paths: too short, another prefix, a special verb with nothing after it
    ['GET', '/api/v1', '', undefined],
    ['GET', '/apis/apps/v1', '', undefined],
    ['GET', '/metrics/x/y', '', undefined],
    ['GET', '/api/v1/watch', '', undefined],
  ];
  for (const [method, path, query, expected] of cases) {
    test(`${method} ${path}${query === '' ? '' : `?${query}`}`, () => assert.deepEqual(pathRequestInfo(method, path, q(query)), expected));
  }
});

describe('verbOf', () => {
  const q = (s: string) => new URLSearchParams(s);
  const collection = { name: '', watchPrefix: false };
  const object = { name: 'a', watchPrefix: false };
  test('a GET of a collection is a watch with ?watch as kube reads a boolean (the Python client sends True; maybe is true too)', () => {
    for (const query of ['watch', 'watch=', 'watch=true', 'watch=1', 'watch=yes', 'watch=True', 'watch=maybe', 'watch=true&watch=false']) {
      assert.equal(verbOf('GET', collection, q(query)), 'watch', query);
    }
    for (const query of ['', 'watch=false', 'watch=FALSE', 'watch=0', 'watch=false&watch=true']) {
      assert.equal(verbOf('GET', collection, q(query)), 'list', query);
      assert.equal(verbOf('HEAD', object, q(query)), 'get', query);
    }
    assert.equal(verbOf('GET', { name: 'a', watchPrefix: true }, q('watch=false')), 'watch');
    assert.equal(verbOf('GET', { name: '', watchPrefix: true }, q('')), 'watch');
  });

  test('each method its kube verb; a method no verb has is none', () => {
    assert.equal(verbOf('POST', collection, q('')), 'create');
    assert.equal(verbOf('PUT', object, q('')), 'update');
    assert.equal(verbOf('PATCH', object, q('')), 'patch');
    assert.equal(verbOf('DELETE', object, q('')), 'delete');
    assert.equal(verbOf('DELETE', collection, q('')), 'deletecollection');
    assert.equal(verbOf('OPTIONS', object, q('')), undefined);
  });
});

describe('requestInfoOf and handlerFor', () => {
  const route = (path: string) => routeOf(path, registry) as ResourceRoute;
  const refused = (method: string, path: string, contentType?: string): string => {
    try {
      handlerFor(requestInfoOf(method, route(path), new URLSearchParams(), contentType));
      return 'served';
    } catch (err) {
      assert.ok(err instanceof StatusError);
      return `${err.code} ${err.reason}`;
    }
  };

  test('worked out once: resource, names, group and version, the body decoder', () => {
    const info = requestInfoOf('POST', route('/api/v1/namespaces/demo/configmaps'), new URLSearchParams(), 'application/yaml; charset=utf-8');
    assert.equal(info.verb, 'create');
    assert.deepEqual([info.group, info.version, info.resource.resource, info.namespace, info.name, info.subresource], ['', 'v1', 'configmaps', 'demo', '', '']);
    assert.equal(info.contentType, 'application/yaml');
    assert.equal(info.decoder?.mediaType, 'application/yaml');
    assert.equal(requestInfoOf('POST', route('/api/v1/namespaces'), new URLSearchParams(), 'text/plain').decoder, undefined);
  });

  test('the verbs served today are served', () => {
    assert.equal(refused('GET', '/api/v1/namespaces/demo/configmaps'), 'served');
    assert.equal(refused('GET', '/api/v1/namespaces/demo/configmaps/a'), 'served');
    assert.equal(refused('POST', '/api/v1/namespaces/demo/configmaps'), 'served');
    assert.equal(refused('PUT', '/api/v1/namespaces/demo/configmaps/a'), 'served');
    assert.equal(refused('DELETE', '/api/v1/namespaces/demo/configmaps/a'), 'served');
    assert.equal(refused('PATCH', '/api/v1/namespaces/demo/configmaps/a'), 'served');
  });

  test('/namespaces/{name}/status and /finalize are the namespace\'s subresources (kube\'s namespaceSubresources)', () => {
    for (const sub of ['status', 'finalize']) {
      const r = routeOf(`/api/v1/namespaces/demo/${sub}`, registry);
      assert.ok(r?.kind === 'resource');
      assert.equal(r.info.resource, 'namespaces');
      assert.equal(r.name, 'demo');
      assert.equal(r.subresource, sub);
      assert.equal(r.namespace, '');
    }
    assert.equal(refused('PUT', '/api/v1/namespaces/demo/finalize'), 'served');
    assert.equal(refused('PATCH', '/api/v1/namespaces/demo/finalize'), '405 MethodNotAllowed');
    assert.equal(refused('GET', '/api/v1/namespaces/demo/status'), 'served');
  });

  test('a verb the resource does not allow is 405, an unknown subresource 404, from one place', () => {
    assert.equal(refused('PATCH', '/api/v1/namespaces/demo/configmaps'), '405 MethodNotAllowed');
    assert.equal(refused('DELETE', '/api/v1/namespaces/demo/configmaps'), 'served', 'deletecollection');
    // kube serves no deletecollection across namespaces, nor of namespaces
    assert.equal(refused('DELETE', '/api/v1/configmaps'), '405 MethodNotAllowed');
    assert.equal(refused('DELETE', '/api/v1/namespaces'), '405 MethodNotAllowed');
    assert.equal(refused('DELETE', '/api/v1/nodes'), 'served');
    // the /watch/ paths serve GET only
    assert.equal(refused('DELETE', '/api/v1/watch/namespaces/demo/configmaps'), '405 MethodNotAllowed');
    assert.equal(refused('DELETE', '/api/v1/watch/namespaces/demo/configmaps/a'), '405 MethodNotAllowed');
    assert.equal(refused('PUT', '/api/v1/watch/namespaces/demo/configmaps/a'), '405 MethodNotAllowed');
    assert.equal(refused('GET', '/api/v1/watch/namespaces/demo/configmaps'), 'served');
    assert.equal(refused('POST', '/api/v1/namespaces/demo/configmaps/a'), '405 MethodNotAllowed');
    assert.equal(refused('PUT', '/api/v1/namespaces/demo/configmaps'), '405 MethodNotAllowed');
    assert.equal(refused('OPTIONS', '/api/v1/namespaces/demo/configmaps'), '405 MethodNotAllowed');
    assert.equal(refused('GET', '/api/v1/namespaces/demo/configmaps/a/status'), '404 NotFound');
    assert.equal(refused('PUT', '/api/v1/nodes/n/status'), '404 NotFound');
  });
});

describe('subresources: routed from the kind\'s definition, 404 and 405 from one place', () => {
  const withSubresources = builtinRegistry();
  for (const kind of [REPLICATORS]) if (withSubresources.get(kind.group, kind.version, kind.resource) === undefined) withSubresources.add(kind);
  const handled = (method: string, path: string): string => {
    const route = routeOf(path, withSubresources);
    assert.ok(route?.kind === 'resource', path);
    try {
      const { handler, verb } = handlerFor(requestInfoOf(method, route, new URLSearchParams(), undefined));
      return `${verb} by ${handler.name}`;
    } catch (err) {
      assert.ok(err instanceof StatusError);
      return `${err.code} ${err.reason}`;
    }
  };
  const scale = '/apis/example.test/v1/namespaces/demo/replicators/a/scale';
  const status = '/apis/example.test/v1/namespaces/demo/replicators/a/status';

  test('status and scale: get, update and patch by the object\'s handlers; other verbs 405', () => {
    for (const path of [status, scale]) {
      assert.equal(handled('GET', path), 'get by get');
      assert.equal(handled('HEAD', path), 'get by get');
      assert.equal(handled('PUT', path), 'update by update');
      assert.equal(handled('PATCH', path), 'patch by patch');
      assert.equal(handled('POST', path), '405 MethodNotAllowed');
      assert.equal(handled('DELETE', path), '405 MethodNotAllowed');
      assert.equal(handled('OPTIONS', path), '405 MethodNotAllowed');
    }
  });

  test('POST subresources: create by the post handler, nothing else', () => {
    for (const sub of ['binding', 'eviction']) {
      const path = `/api/v1/namespaces/demo/pods/p/${sub}`;
      assert.equal(handled('POST', path), 'create by post');
      assert.equal(handled('GET', path), '405 MethodNotAllowed');
      assert.equal(handled('PUT', path), '405 MethodNotAllowed');
      assert.equal(handled('PATCH', path), '405 MethodNotAllowed');
      assert.equal(handled('DELETE', path), '405 MethodNotAllowed');
    }
  });

  test('a subresource the kind does not serve is 404, whatever the verb', () => {
    assert.equal(handled('GET', '/apis/example.test/v1/namespaces/demo/replicators/a/binding'), '404 NotFound');
    assert.equal(handled('POST', '/apis/example.test/v1/namespaces/demo/replicators/a/eviction'), '404 NotFound');
    assert.equal(handled('GET', '/api/v1/namespaces/demo/pods/p/scale'), '404 NotFound');
    assert.equal(handled('PUT', '/api/v1/namespaces/demo/pods/p/log'), '404 NotFound');
    assert.equal(handled('GET', '/api/v1/namespaces/demo/configmaps/c/status'), '404 NotFound');
  });
});
