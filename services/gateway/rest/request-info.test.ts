/**
 * Request info: request targets are split as sent and each path segment decoded on its own.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtinRegistry } from '../../../lib/kinds/index.ts';
import { routeOf, splitRequestTarget } from './request-info.ts';

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
