/**
 * The request metrics observer, fed records as the front doors fill them: kube's verb and
 * scope label values, counts by code, durations with exemplars, in-flight peaks and the
 * long-running and watcher gauges.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../../lib/metrics.ts';
import { newApiRequest, type ApiRequest } from './observe.ts';
import { RequestMetrics, reportedScope, reportedVerb } from './request-metrics.ts';

function request(method: string, fields: Partial<ApiRequest>): ApiRequest {
  const r = newApiRequest({ protocol: 'rest', method, requestUri: '/', sourceIps: ['127.0.0.1'], userAgent: 'test' });
  Object.assign(r, { resourceRequest: true, version: 'v1', ...fields });
  return r;
}

function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('reportedVerb and reportedScope (kube metrics.go cleanVerb, CanonicalVerb, CleanScope)', () => {
  const cases: [string, Partial<ApiRequest>, string, string][] = [
    ['GET', { verb: 'get', resource: 'pods', namespace: 'ns', name: 'a' }, 'GET', 'resource'],
    ['GET', { verb: 'list', resource: 'pods', namespace: 'ns' }, 'LIST', 'namespace'],
    ['GET', { verb: 'list', resource: 'nodes' }, 'LIST', 'cluster'],
    ['GET', { verb: 'watch', resource: 'pods' }, 'WATCH', 'cluster'],
    ['POST', { verb: 'create', resource: 'pods', namespace: 'ns' }, 'POST', 'resource'],
    ['PUT', { verb: 'update', resource: 'pods', namespace: 'ns', name: 'a' }, 'PUT', 'resource'],
    ['PATCH', { verb: 'patch', resource: 'pods', namespace: 'ns', name: 'a', contentType: 'application/merge-patch+json' }, 'PATCH', 'resource'],
    ['PATCH', { verb: 'patch', resource: 'pods', namespace: 'ns', name: 'a', contentType: 'application/apply-patch+yaml' }, 'APPLY', 'resource'],
    ['DELETE', { verb: 'deletecollection', resource: 'pods', namespace: 'ns' }, 'DELETECOLLECTION', 'namespace'],
    ['GET', { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'ns', name: 'a' }, 'CONNECT', 'resource'],
    ['HEAD', { verb: 'head', resourceRequest: false }, 'GET', ''],
    ['BREW', { verb: 'brew', resourceRequest: false }, 'other', ''],
  ];
  for (const [method, fields, verb, scope] of cases) {
    test(`${method} ${fields.verb ?? ''} ${fields.subresource ?? ''} is ${verb}, scope "${scope}"`, () => {
      const r = request(method, fields);
      assert.equal(reportedVerb(r), verb);
      assert.equal(reportedScope(r), scope);
    });
  }
});

describe('RequestMetrics', () => {
  test('counts by code, times with exemplars, and follows in-flight, long-running and watchers', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const observer = new RequestMetrics(metrics, (_g, _v, resource) => (resource === 'configmaps' ? 'ConfigMap' : ''));

    const create = request('POST', { verb: 'create', resource: 'configmaps', namespace: 'default', code: 201, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', traceSampled: true });
    // Traced but left out by the sampler: its trace id names no stored trace.
    const get = request('GET', { verb: 'get', resource: 'configmaps', namespace: 'default', name: 'a', code: 404, traceId: '5bf92f3577b34da6a3ce929d0e0e4737' });
    const watch = request('GET', { verb: 'watch', resource: 'configmaps', namespace: 'default', longRunning: true, code: 200 });
    observer.received(create);
    observer.received(get);
    observer.received(watch);
    observer.responseStarted(watch);
    observer.finished(create);
    observer.finished(get);

    let { body } = await metrics.render(undefined);
    const base = { group: '', version: 'v1', resource: 'configmaps', subresource: '', component: 'apiserver', dry_run: '' };
    assert.equal(sample(body, 'apiserver_request_total', { ...base, verb: 'POST', scope: 'resource', code: '201' }), 1);
    assert.equal(sample(body, 'apiserver_request_total', { ...base, verb: 'GET', scope: 'resource', code: '404' }), 1);
    assert.equal(sample(body, 'apiserver_request_duration_seconds_count', { ...base, verb: 'POST', scope: 'resource' }), 1);
    assert.equal(sample(body, 'apiserver_request_duration_seconds_bucket', { ...base, verb: 'POST', scope: 'resource', le: '60' }), 1);
    // Three requests arrived at once, one of them (the watch) became long-running.
    assert.equal(sample(body, 'apiserver_current_inflight_requests', { request_kind: 'readOnly' }), 2);
    assert.equal(sample(body, 'apiserver_current_inflight_requests', { request_kind: 'mutating' }), 1);
    assert.equal(sample(body, 'apiserver_longrunning_requests', { verb: 'WATCH', resource: 'configmaps', scope: 'namespace', component: 'apiserver' }), 1);
    assert.equal(sample(body, 'apiserver_registered_watchers', { group: '', version: 'v1', kind: 'ConfigMap' }), 1);

    const om = await metrics.render('application/openmetrics-text');
    assert.match(om.body, /apiserver_request_duration_seconds_bucket\{[^}]*verb="POST"[^}]*\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"\}/);
    assert.doesNotMatch(om.body, /5bf92f3577b34da6a3ce929d0e0e4737/, 'no exemplar of an unsampled trace');
    assert.match(om.body, /apiserver_request_duration_seconds_bucket\{[^}]*verb="GET"[^}]*\} 1\n/);

    observer.finished(watch);
    ({ body } = await metrics.render(undefined));
    // The peak since the last scrape is what is left in flight now: none.
    assert.equal(sample(body, 'apiserver_current_inflight_requests', { request_kind: 'readOnly' }), 0);
    assert.equal(sample(body, 'apiserver_longrunning_requests', { verb: 'WATCH', resource: 'configmaps' }), 0);
    assert.equal(sample(body, 'apiserver_registered_watchers', { kind: 'ConfigMap' }), 0);
    assert.equal(sample(body, 'apiserver_request_total', { ...base, verb: 'WATCH', scope: 'namespace', code: '200' }), 1);
  });
});
