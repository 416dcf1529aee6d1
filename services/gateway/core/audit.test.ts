import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AuditEvent } from '../../../lib/audit/event.ts';
import { parsePolicy } from '../../../lib/audit/policy.ts';
import type { AuditSink } from '../../../lib/audit/writer.ts';
import { ConfigError } from '../../../lib/config.ts';
import { createLogger } from '../../../lib/log.ts';
import { AuditObserver } from './audit.ts';
import { newApiRequest, RequestObservers, type ApiRequest } from './observe.ts';
import { REQUEST_LOG_FLAGS, requestLogsFrom } from './request-logs.ts';

const logger = createLogger({ service: 'test', level: 'error' });

/** The policy `make up` ships (examples/audit-policy.yaml). */
const SHIPPED = new URL('../../../examples/audit-policy.yaml', import.meta.url);

function collecting(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, write: (e) => void events.push(e), close: async () => {} };
}

const alice = { username: 'alice', uid: 'a-1', groups: ['dev', 'system:authenticated'] };

function resourceRequest(verb: string, fields: Partial<ApiRequest> = {}): ApiRequest {
  const r = newApiRequest({ protocol: 'rest', method: 'POST', requestUri: '/api/v1/namespaces/default/configmaps', sourceIps: ['127.0.0.1'], userAgent: 'kubectl/v1.33.0' });
  return Object.assign(r, { verb, resourceRequest: true, version: 'v1', resource: 'configmaps', namespace: 'default', scope: 'namespace', user: alice, authorizationDecision: 'allow', code: 200 }, fields);
}

const METADATA_ALL = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata}]\n');

describe('AuditObserver', () => {
  test('each stage as kube writes it: RequestReceived stamped with the arrival, then ResponseComplete', () => {
    const sink = collecting();
    const observers = new RequestObservers([new AuditObserver({ policy: METADATA_ALL, sink })], logger);
    const r = resourceRequest('create', { code: 201 });
    observers.received(r);
    assert.equal(observers.wantsBodies(r), 'request', 'a create is read for the name of its object');
    r.requestObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { k: 'v' } };
    observers.finished(r);
    assert.deepEqual(
      sink.events.map((e) => e.stage),
      ['RequestReceived', 'ResponseComplete'],
    );
    const [received, complete] = sink.events;
    assert.equal(received!.stageTimestamp, received!.requestReceivedTimestamp);
    assert.equal(received!.auditID, complete!.auditID);
    assert.equal(complete!.level, 'Metadata');
    assert.deepEqual(complete!.objectRef, { resource: 'configmaps', namespace: 'default', name: 'cm', apiVersion: 'v1' });
    assert.deepEqual(complete!.responseStatus, { metadata: {}, code: 201 });
    assert.equal(complete!.requestObject, undefined);
    assert.equal(complete!.user.username, 'alice');
  });

  test('a watch has ResponseStarted and ResponseComplete; omitted stages are not written', () => {
    const sink = collecting();
    const policy = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules: [{level: Request}]\n');
    const observer = new AuditObserver({ policy, sink });
    const r = resourceRequest('watch', { longRunning: true });
    assert.equal(observer.wantsBodies(r), 'request');
    observer.responseStarted(r);
    observer.finished(r);
    assert.deepEqual(
      sink.events.map((e) => [e.stage, e.level]),
      [
        ['ResponseStarted', 'Request'],
        ['ResponseComplete', 'Request'],
      ],
    );
  });

  test('None records nothing and keeps no bodies; a failed authentication is recorded without a user', () => {
    const sink = collecting();
    const policy = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    verbs: [get, list, watch]
  - level: None
    users: [alice]
    resources: [{group: "", resources: [events]}]
  - level: Metadata
`);
    const observer = new AuditObserver({ policy, sink });
    const get = resourceRequest('get');
    assert.equal(observer.wantsBodies(get), 'none');
    observer.finished(get);
    const events = resourceRequest('create', { resource: 'events' });
    observer.finished(events);
    assert.equal(sink.events.length, 0);
    const anonymous = newApiRequest({ protocol: 'rest', method: 'DELETE', requestUri: '/api/v1/namespaces/default/configmaps/x', sourceIps: ['10.1.1.1'], userAgent: 'curl' });
    Object.assign(anonymous, { code: 401, statusReason: 'Unauthorized', statusMessage: 'Unauthorized' });
    observer.finished(anonymous);
    assert.deepEqual(
      sink.events.map((e) => [e.stage, e.user, e.responseStatus?.code]),
      [
        ['RequestReceived', {}, undefined],
        ['ResponseComplete', {}, 401],
      ],
    );
  });

  test('RequestResponse keeps both bodies, but never a Secret\'s, a TokenReview\'s or a TokenRequest\'s', () => {
    const sink = collecting();
    const policy = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules: [{level: RequestResponse}]\n');
    const observer = new AuditObserver({ policy, sink });
    const cm = resourceRequest('update', { name: 'cm' });
    assert.equal(observer.wantsBodies(cm), 'requestResponse');
    cm.requestObject = { metadata: { name: 'cm' }, data: { a: '1' } };
    cm.responseObject = { metadata: { name: 'cm', resourceVersion: '9' }, data: { a: '1' } };
    observer.finished(cm);
    assert.deepEqual(sink.events[0]!.responseObject, cm.responseObject);
    const secret = resourceRequest('create', { resource: 'secrets', code: 201 });
    assert.equal(observer.wantsBodies(secret), 'request', 'read for its name only');
    secret.requestObject = { metadata: { name: 's' }, stringData: { password: 'p4ssw0rd' } };
    secret.responseObject = { metadata: { name: 's' }, data: { password: 'cDRzc3cwcmQ=' } };
    observer.finished(secret);
    const token = resourceRequest('create', { resource: 'serviceaccounts', subresource: 'token', name: 'default', code: 201 });
    assert.equal(observer.wantsBodies(token), 'request');
    token.responseObject = { status: { token: 'eyJhbGciOi.secret.sig' } };
    observer.finished(token);
    const review = resourceRequest('create', { group: 'authentication.k8s.io', resource: 'tokenreviews', namespace: '', code: 201 });
    review.requestObject = { spec: { token: 'eyJhbGciOi.secret.sig' } };
    observer.finished(review);
    const text = JSON.stringify(sink.events);
    assert.ok(!text.includes('p4ssw0rd') && !text.includes('cDRzc3cwcmQ=') && !text.includes('secret.sig'), text);
    assert.deepEqual(
      sink.events.slice(1).map((e) => [e.level, e.objectRef?.resource, e.objectRef?.name]),
      [
        ['Metadata', 'secrets', 's'],
        ['Metadata', 'serviceaccounts', 'default'],
        ['Metadata', 'tokenreviews', undefined],
      ],
    );
  });

  test('a request decided before its user was known is decided again once it is (gRPC authenticates in its handler)', () => {
    const sink = collecting();
    const policy = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules: [{level: None, userGroups: [dev]}, {level: Metadata}]\n');
    const observer = new AuditObserver({ policy, sink });
    const r = newApiRequest({ protocol: 'grpc', method: 'Create', requestUri: '/apiserver.v1.Resources/Create', sourceIps: [], userAgent: '' });
    Object.assign(r, { verb: 'create', resourceRequest: true, version: 'v1', resource: 'configmaps', namespace: 'default' });
    assert.equal(observer.wantsBodies(r), 'request');
    r.user = alice;
    r.code = 201;
    observer.finished(r);
    assert.equal(sink.events.length, 0, 'alice is in group dev: not audited');
  });

  test('the shipped policy: mutating requests at Metadata, reads and health checks not recorded, RequestReceived omitted', async () => {
    const policy = parsePolicy(await readFile(SHIPPED, 'utf8'), 'examples/audit-policy.yaml');
    const sink = collecting();
    const observer = new AuditObserver({ policy, sink });
    for (const verb of ['get', 'list', 'watch']) observer.finished(resourceRequest(verb));
    const health = newApiRequest({ protocol: 'rest', method: 'GET', requestUri: '/readyz', sourceIps: [], userAgent: '' });
    Object.assign(health, { verb: 'get', code: 200 });
    observer.finished(health);
    assert.equal(sink.events.length, 0);
    for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection']) observer.finished(resourceRequest(verb));
    assert.deepEqual(
      sink.events.map((e) => [e.verb, e.level, e.stage]),
      ['create', 'update', 'patch', 'delete', 'deletecollection'].map((v) => [v, 'Metadata', 'ResponseComplete']),
    );
  });
});

describe('requestLogsFrom', () => {
  const defaults = Object.fromEntries(REQUEST_LOG_FLAGS.map((f) => [f.flag, f.default])) as Parameters<typeof requestLogsFrom>[0];

  test('by default: the access log only, no audit (as kube without a policy file)', () => {
    const logs = requestLogsFrom(defaults, logger);
    assert.equal(logs.observers.length, 1);
    assert.equal(requestLogsFrom({ ...defaults, 'access-log': 'false' }, logger).observers.length, 0);
  });

  test('a policy file and a path make an audit log written as the requests finish', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'request-logs-'));
    try {
      const path = join(dir, 'logs', 'audit.log');
      const logs = requestLogsFrom({ ...defaults, 'access-log': 'false', 'audit-policy-file': SHIPPED.pathname, 'audit-log-path': path }, logger);
      assert.equal(logs.observers.length, 1);
      const r = resourceRequest('delete', { name: 'cm' });
      for (const o of logs.observers) o.finished(r);
      await logs.close();
      const events = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
      assert.deepEqual(
        events.map((e) => [e.verb, e.objectRef?.name, e.responseStatus?.code, e.user.username]),
        [['delete', 'cm', 200, 'alice']],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('bad flags and bad policies are configuration errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'request-logs-'));
    try {
      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n');
      assert.throws(() => requestLogsFrom({ ...defaults, 'audit-policy-file': bad, 'audit-log-path': '-' }, logger), /loaded illegal policy with 0 rules/);
      assert.throws(() => requestLogsFrom({ ...defaults, 'audit-policy-file': join(dir, 'missing.yaml'), 'audit-log-path': '-' }, logger), ConfigError);
      assert.throws(() => requestLogsFrom({ ...defaults, 'access-log': 'yes' }, logger), /--access-log must be "true" or "false"/);
      assert.throws(() => requestLogsFrom({ ...defaults, 'audit-log-maxbackup': '-1' }, logger), /--audit-log-maxbackup must be a whole number/);
      assert.throws(() => requestLogsFrom({ ...defaults, 'audit-log-maxsize': '' }, logger), ConfigError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
