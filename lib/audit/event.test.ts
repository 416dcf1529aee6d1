import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildEvent, effectiveLevel, microTime, type AuditRequest } from './event.ts';

function request(fields: Partial<AuditRequest> = {}): AuditRequest {
  return {
    received: new Date('2026-12-07T05:40:56.123Z'),
    startNs: process.hrtime.bigint(),
    auditId: '5b5b8a4e-1a4f-4a43-9d1c-6f8f1c3f3a11',
    requestUri: '/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create',
    sourceIps: ['127.0.0.1'],
    userAgent: 'kubectl/v1.33.0',
    verb: 'create',
    resourceRequest: true,
    group: '',
    version: 'v1',
    resource: 'configmaps',
    subresource: '',
    namespace: 'default',
    name: '',
    user: { username: 'alice', uid: '1', groups: ['dev', 'system:authenticated'] },
    impersonatedUser: undefined,
    authorizationDecision: 'allow',
    authorizationReason: 'RBAC: allowed by ClusterRoleBinding "dev"',
    code: 201,
    statusReason: '',
    statusMessage: '',
    requestObject: undefined,
    responseObject: undefined,
    ...fields,
  };
}

const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', uid: 'u-1', resourceVersion: '7', managedFields: [{ manager: 'kubectl' }] }, data: { a: '1' } };

describe('buildEvent', () => {
  test('a Metadata event: who, what, when, the answer and the authorizer decision; no objects', () => {
    const e = buildEvent(request({ requestObject: configMap, responseObject: configMap }), { level: 'Metadata', stage: 'ResponseComplete', omitManagedFields: false });
    assert.deepEqual(Object.keys(e), [
      'kind',
      'apiVersion',
      'level',
      'auditID',
      'stage',
      'requestURI',
      'verb',
      'user',
      'sourceIPs',
      'userAgent',
      'objectRef',
      'responseStatus',
      'requestReceivedTimestamp',
      'stageTimestamp',
      'annotations',
    ]);
    assert.equal(e.kind, 'Event');
    assert.equal(e.apiVersion, 'audit.k8s.io/v1');
    assert.equal(e.level, 'Metadata');
    assert.equal(e.stage, 'ResponseComplete');
    assert.equal(e.verb, 'create');
    assert.deepEqual(e.user, { username: 'alice', uid: '1', groups: ['dev', 'system:authenticated'] });
    // The create's name, uid and resourceVersion come from the object, as kube fills them.
    assert.deepEqual(e.objectRef, { resource: 'configmaps', namespace: 'default', name: 'cm', uid: 'u-1', apiVersion: 'v1', resourceVersion: '7' });
    assert.deepEqual(e.responseStatus, { metadata: {}, code: 201 });
    assert.equal(e.requestReceivedTimestamp, '2026-12-07T05:40:56.123000Z');
    assert.match(e.stageTimestamp, /^2026-12-07T05:40:56\.\d{6}Z$/);
    assert.ok(e.stageTimestamp >= e.requestReceivedTimestamp);
    assert.deepEqual(e.annotations, { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "dev"' });
  });

  test('a failure carries its Status reason and message; impersonation names both users', () => {
    const e = buildEvent(
      request({
        verb: 'delete',
        name: 'cm',
        code: 404,
        statusReason: 'NotFound',
        statusMessage: 'configmaps "cm" not found',
        impersonatedUser: { username: 'bob', uid: '', groups: [] },
        authorizationDecision: undefined,
      }),
      { level: 'Metadata', stage: 'ResponseComplete', omitManagedFields: false },
    );
    assert.deepEqual(e.responseStatus, { metadata: {}, status: 'Failure', message: 'configmaps "cm" not found', reason: 'NotFound', code: 404 });
    assert.deepEqual(e.impersonatedUser, { username: 'bob' });
    assert.equal(e.annotations, undefined);
  });

  test('Request carries the request object, RequestResponse the response object too, at ResponseComplete only', () => {
    const r = request({ requestObject: configMap, responseObject: configMap });
    const req = buildEvent(r, { level: 'Request', stage: 'ResponseComplete', omitManagedFields: false });
    assert.deepEqual(req.requestObject, configMap);
    assert.equal(req.responseObject, undefined);
    const full = buildEvent(r, { level: 'RequestResponse', stage: 'ResponseComplete', omitManagedFields: true });
    assert.deepEqual(full.responseObject, { ...configMap, metadata: { name: 'cm', uid: 'u-1', resourceVersion: '7' } });
    assert.deepEqual((full.requestObject as typeof configMap).metadata.managedFields, undefined);
    // The original is left as it was.
    assert.equal(configMap.metadata.managedFields.length, 1);
    const started = buildEvent(r, { level: 'RequestResponse', stage: 'ResponseStarted', omitManagedFields: false });
    assert.equal(started.responseObject, undefined);
    const received = buildEvent(r, { level: 'RequestResponse', stage: 'RequestReceived', omitManagedFields: false });
    assert.equal(received.responseStatus, undefined);
    assert.equal(received.requestObject, undefined);
    assert.equal(received.annotations, undefined);
    // A list's items lose their managed fields too; JSON bytes are read as JSON.
    const list = { kind: 'ConfigMapList', items: [configMap] };
    const listed = buildEvent(request({ verb: 'list', responseObject: Buffer.from(JSON.stringify(list)) }), { level: 'RequestResponse', stage: 'ResponseComplete', omitManagedFields: true });
    assert.deepEqual((listed.responseObject as typeof list).items[0]!.metadata, { name: 'cm', uid: 'u-1', resourceVersion: '7' });
  });

  test('a patch is recorded as sent: a JSON patch\'s operations, a merge patch whole; neither completes the objectRef', () => {
    const operations = [{ op: 'replace', path: '/data/a', value: '2' }];
    const patched = request({ verb: 'patch', name: 'cm', code: 200, requestObject: operations });
    assert.deepEqual(buildEvent(patched, { level: 'Request', stage: 'ResponseComplete', omitManagedFields: true }).requestObject, operations);
    const merge = { metadata: { uid: 'u-2', resourceVersion: '3', managedFields: [] }, data: { a: '2' } };
    const e = buildEvent(request({ verb: 'patch', name: 'cm', code: 200, requestObject: merge }), { level: 'Request', stage: 'ResponseComplete', omitManagedFields: true });
    assert.deepEqual(e.requestObject, merge);
    assert.deepEqual(e.objectRef, { resource: 'configmaps', namespace: 'default', name: 'cm', apiVersion: 'v1' });
  });

  test('Secrets, TokenReviews, TokenRequests and SubjectAccessReviews never carry bodies, whatever the level', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'c2VjcmV0' } };
    const cases: Partial<AuditRequest>[] = [
      { resource: 'secrets' },
      { group: 'authentication.k8s.io', resource: 'tokenreviews', namespace: '' },
      { resource: 'serviceaccounts', subresource: 'token', name: 'default' },
      { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', namespace: '' },
      { group: 'authorization.k8s.io', resource: 'localsubjectaccessreviews' },
      { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', namespace: '' },
    ];
    for (const c of cases) {
      const e = buildEvent(request({ ...c, requestObject: secret, responseObject: secret }), { level: 'RequestResponse', stage: 'ResponseComplete', omitManagedFields: false });
      assert.equal(e.level, 'Metadata', JSON.stringify(c));
      assert.equal(e.requestObject, undefined);
      assert.equal(e.responseObject, undefined);
      assert.ok(!JSON.stringify(e).includes('c2VjcmV0'));
    }
    // A service account itself is not capped; None stays None.
    assert.equal(effectiveLevel('RequestResponse', { resourceRequest: true, group: '', resource: 'serviceaccounts', subresource: '' }), 'RequestResponse');
    assert.equal(effectiveLevel('None', { resourceRequest: true, group: '', resource: 'secrets', subresource: '' }), 'None');
  });

  test('a non-resource request has no objectRef and no objects; a failed authentication has an empty user', () => {
    const e = buildEvent(
      request({ verb: 'get', resourceRequest: false, resource: '', version: '', namespace: '', requestUri: '/version', user: undefined, code: 401, statusReason: 'Unauthorized', requestObject: configMap }),
      { level: 'RequestResponse', stage: 'ResponseComplete', omitManagedFields: false },
    );
    assert.equal(e.objectRef, undefined);
    assert.equal(e.requestObject, undefined);
    assert.deepEqual(e.user, {});
  });
});

describe('microTime', () => {
  test('writes microseconds as kube MicroTime', () => {
    assert.equal(microTime(1_796_622_056_123_456n), '2026-12-07T05:40:56.123456Z');
    assert.equal(microTime(1_796_622_056_000_001n), '2026-12-07T05:40:56.000001Z');
  });
});
