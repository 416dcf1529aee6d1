import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../../lib/log.ts';
import { accessLog } from './access-log.ts';
import { newApiRequest, RequestObservers } from './observe.ts';

function logged() {
  const lines: string[] = [];
  const logger = createLogger({ service: 'gateway', level: 'info', write: (l) => lines.push(l) });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('accessLog', () => {
  test('one info line per finished request with what, who, the answer, the latency and the ids', () => {
    const { logger, lines, parsed } = logged();
    const observers = new RequestObservers([accessLog(logger)], logger);
    const r = newApiRequest({ protocol: 'rest', method: 'POST', requestUri: '/apis/apps/v1/namespaces/dev/deployments?fieldManager=kubectl', sourceIps: ['10.0.0.7'], userAgent: 'kubectl/v1.33.0' });
    Object.assign(r, {
      verb: 'create',
      resourceRequest: true,
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      namespace: 'dev',
      name: 'web',
      scope: 'namespace',
      user: { username: 'alice', uid: '1', groups: ['dev'] },
      code: 201,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceSampled: true,
      requestObject: { kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ env: [{ name: 'PASSWORD', value: 'hunter2' }] }] } } } },
    });
    observers.received(r);
    assert.equal(lines.length, 0, 'nothing until the request is finished');
    observers.finished(r);
    assert.equal(lines.length, 1);
    const [line] = parsed();
    assert.equal(line!.level, 'info');
    assert.equal(line!.service, 'gateway');
    assert.equal(line!.msg, 'request');
    assert.equal(line!.component, 'access');
    const { time: _t, level: _l, service: _s, msg: _m, component: _c, latency_ms: latency, ...rest } = line!;
    assert.equal(typeof latency, 'number');
    assert.ok((latency as number) >= 0 && (latency as number) < 60_000);
    assert.deepEqual(rest, {
      protocol: 'rest',
      verb: 'create',
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      namespace: 'dev',
      name: 'web',
      user: 'alice',
      code: 201,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      trace_sampled: true,
      span_id: '00f067aa0ba902b7',
      audit_id: r.auditId,
      source_ip: '10.0.0.7',
      user_agent: 'kubectl/v1.33.0',
    });
    assert.ok(!lines[0]!.includes('hunter2'), 'no body');
    assert.ok(!lines[0]!.includes('fieldManager'), 'no query string');
  });

  test('a failure names its reason; a watch is marked long-running; a non-resource request names its path without the query; a client gone is said to be', () => {
    const { logger, parsed } = logged();
    const observer = accessLog(logger);
    const denied = newApiRequest({ protocol: 'grpc', method: 'Get', requestUri: '/apiserver.v1.Resources/Get', sourceIps: ['::1'], userAgent: 'grpc-node-js/1.14' });
    Object.assign(denied, {
      verb: 'get',
      resourceRequest: true,
      version: 'v1',
      resource: 'secrets',
      namespace: 'kube-system',
      name: 'root',
      user: { username: 'mallory', uid: '', groups: [] },
      impersonatedUser: { username: 'system:admin', uid: '', groups: [] },
      code: 403,
      statusReason: 'Forbidden',
    });
    observer.finished(denied);
    const watch = newApiRequest({ protocol: 'rest', method: 'GET', requestUri: '/api/v1/pods?watch=1', sourceIps: [], userAgent: '' });
    Object.assign(watch, {
      verb: 'watch',
      resourceRequest: true,
      version: 'v1',
      resource: 'pods',
      longRunning: true,
      code: 200,
      user: { username: 'bob', uid: '', groups: [] },
      traceId: '5bf92f3577b34da6a3ce929d0e0e4737',
      spanId: '10f067aa0ba902b8',
    });
    observer.finished(watch);
    const version = newApiRequest({ protocol: 'rest', method: 'GET', requestUri: '/version?timeout=32s', sourceIps: ['127.0.0.1'], userAgent: 'curl/8' });
    Object.assign(version, { code: 401, statusReason: 'Unauthorized' });
    observer.finished(version);
    const left = newApiRequest({ protocol: 'rest', method: 'POST', requestUri: '/api/v1/namespaces/ns/configmaps', sourceIps: [], userAgent: '' });
    Object.assign(left, { verb: 'create', resourceRequest: true, version: 'v1', resource: 'configmaps', namespace: 'ns', clientGone: true });
    observer.finished(left);
    const [a, b, c, d] = parsed();
    assert.equal(a!.protocol, 'grpc');
    assert.equal(a!.code, 403);
    assert.equal(a!.reason, 'Forbidden');
    assert.equal(a!.user, 'mallory');
    assert.equal(a!.impersonated_user, 'system:admin');
    assert.equal(a!.trace_id, undefined);
    assert.equal(a!.trace_sampled, undefined);
    assert.equal(b!.long_running, true);
    assert.equal(b!.trace_id, '5bf92f3577b34da6a3ce929d0e0e4737');
    assert.equal(b!.trace_sampled, false, 'a trace id the sampler left out is said to be one');
    assert.equal(b!.namespace, undefined);
    assert.equal(c!.uri, '/version');
    assert.equal(c!.verb, 'get', 'a request that never got its verb is named by its method');
    assert.equal(c!.user, undefined);
    assert.equal(c!.code, 401);
    assert.equal(c!.client_gone, undefined);
    assert.equal(d!.code, 0);
    assert.equal(d!.client_gone, true, 'a client that went away before any answer is said to have');
  });
});
