/**
 * The review kinds through the pipeline: created and answered as kube's REST storage answers
 * them (SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview,
 * SelfSubjectRulesReview, SelfSubjectReview, TokenReview), never stored, and only created.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinRegistry, storedKinds, type KindDefinition } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { createLogger } from '../../lib/log.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import type { Attributes, AuthenticationResult, AuthorizationResult, Authorizer, Credentials, RuleResolver, RulesResult, UserInfo } from '../../services/auth/api.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';
import { refusal } from '../support/pipeline.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';

const alice: UserInfo = { username: 'alice', uid: 'u-1', groups: ['team', 'system:authenticated'], extra: { scopes: ['a'] } };

/** Allows what its table lists ("user verb resource namespace" or "user verb path"), denies "mallory", else no opinion. */
class TableAuthorizer implements Authorizer {
  readonly asked: Attributes[] = [];
  async authorize(a: Attributes): Promise<AuthorizationResult> {
    this.asked.push(a);
    if (a.user.username === 'mallory') return { decision: 'Deny', reason: 'mallory is denied' };
    const key = a.resourceRequest ? `${a.user.username} ${a.verb} ${a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`} ${a.namespace}` : `${a.user.username} ${a.verb} ${a.path}`;
    const allowed = ['alice create selfsubjectaccessreviews ', 'alice create subjectaccessreviews ', 'alice create localsubjectaccessreviews demo', 'alice create selfsubjectrulesreviews ', 'alice create selfsubjectreviews ', 'alice create tokenreviews ', 'alice get pods demo', 'bob list secrets demo', 'alice get /healthz', 'alice list selfsubjectaccessreviews ', 'alice get selfsubjectaccessreviews '].includes(key);
    return allowed ? { decision: 'Allow', reason: `allowed ${key}` } : { decision: 'NoOpinion', reason: '' };
  }
}

const rules: RuleResolver = {
  async rulesFor(user: UserInfo, namespace: string): Promise<RulesResult> {
    if (user.username !== 'alice') return { rules: [], errors: [] };
    return {
      rules: [
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: [], nonResourceURLs: [] },
        { verbs: ['get'], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: ['/healthz', '/version'] },
      ],
      errors: namespace === 'broken' ? ['role.rbac.authorization.k8s.io "gone" not found', 'clusterrole.rbac.authorization.k8s.io "lost" not found'] : [],
    };
  },
};

const authenticator = {
  async authenticate(credentials: Credentials): Promise<AuthenticationResult> {
    if (credentials.token === 'good' && (credentials.audiences === undefined || credentials.audiences.includes('api'))) return { user: alice, audiences: ['api'] };
    return { audiences: [], error: 'invalid bearer token' };
  },
};

function setup(ruleResolver?: RuleResolver) {
  const registry = builtinRegistry();
  const logger = createLogger({ service: 'test', level: 'error' });
  const storage = new MemoryStorage({ logger, kinds: registry });
  const schemas = generatedSchemaValidator();
  const watcher = new WatchService({ caches: new Map(), storage, registry, logger });
  const authorizer = new TableAuthorizer();
  const pipeline = new Pipeline({ authenticator, authorizer, ruleResolver, admission: buildAdmissionChain({ registry, storage, schemas }), storage, watcher, kinds: registry, schemas, authCacheTtlMs: 0 });
  const kind = (group: string, resource: string): KindDefinition => {
    const k = registry.get(group, 'v1', resource);
    assert.ok(k !== undefined, resource);
    return k;
  };
  return { pipeline, authorizer, kind, registry };
}

const AUTHZ = 'authorization.k8s.io';
const AUTHN = 'authentication.k8s.io';

describe('review kinds', () => {
  it('are served with the create verb only, and never stored', () => {
    const { registry } = setup();
    const reviews = registry.all.filter((k) => k.review === true).map((k) => `${k.group}/${k.resource}${k.namespaced ? ' (namespaced)' : ''}`);
    assert.deepEqual(reviews.sort(), [
      'authentication.k8s.io/selfsubjectreviews',
      'authentication.k8s.io/tokenreviews',
      'authorization.k8s.io/localsubjectaccessreviews (namespaced)',
      'authorization.k8s.io/selfsubjectaccessreviews',
      'authorization.k8s.io/selfsubjectrulesreviews',
      'authorization.k8s.io/subjectaccessreviews',
    ]);
    for (const k of registry.all.filter((k) => k.review === true)) assert.deepEqual(k.verbs, ['create']);
    assert.equal(storedKinds(registry.all).some((k) => k.review === true), false);
  });

  it('SelfSubjectAccessReview asks about the requester (kubectl auth can-i)', async () => {
    const { pipeline, kind, authorizer } = setup();
    const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: 'demo', verb: 'get', resource: 'pods' } } };
    const answer = await pipeline.create(alice, { info: kind(AUTHZ, 'selfsubjectaccessreviews'), namespace: '', name: '' }, body);
    assert.deepEqual(answer.status, { allowed: true, reason: 'allowed alice get pods demo' });
    assert.deepEqual(answer.spec, { resourceAttributes: { namespace: 'demo', verb: 'get', resource: 'pods' } });
    assert.equal(answer.kind, 'SelfSubjectAccessReview');
    assert.deepEqual(authorizer.asked.at(-1)?.user, alice);
    const denied = await pipeline.create(alice, { info: kind(AUTHZ, 'selfsubjectaccessreviews'), namespace: '', name: '' }, { ...body, spec: { resourceAttributes: { namespace: 'demo', verb: 'delete', resource: 'pods' } } });
    assert.deepEqual(denied.status, { allowed: false });
    const path = await pipeline.create(alice, { info: kind(AUTHZ, 'selfsubjectaccessreviews'), namespace: '', name: '' }, { ...body, spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } } });
    assert.equal((path.status as { allowed: boolean }).allowed, true);
  });

  it('SubjectAccessReview asks about the user of its spec; a Deny is reported as denied', async () => {
    const { pipeline, kind, authorizer } = setup();
    const target = { info: kind(AUTHZ, 'subjectaccessreviews'), namespace: '', name: '' };
    const base = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview' };
    const bob = await pipeline.create(alice, target, { ...base, spec: { user: 'bob', groups: ['g'], uid: 'b', extra: { x: ['1'] }, resourceAttributes: { namespace: 'demo', verb: 'list', resource: 'secrets' } } });
    assert.equal((bob.status as { allowed: boolean }).allowed, true);
    assert.deepEqual(authorizer.asked.at(-1)?.user, { username: 'bob', uid: 'b', groups: ['g'], extra: { x: ['1'] } });
    const mallory = await pipeline.create(alice, target, { ...base, spec: { user: 'mallory', resourceAttributes: { verb: 'get', resource: 'pods' } } });
    assert.deepEqual(mallory.status, { allowed: false, denied: true, reason: 'mallory is denied' });
    const none = await refusal(pipeline.create(alice, target, { ...base, spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } }), 'Invalid');
    assert.equal(none.message, 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified');
    const neither = await refusal(pipeline.create(alice, target, { ...base, spec: { user: 'bob' } }), 'Invalid');
    assert.equal(neither.message, 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified');
    const named = await refusal(pipeline.create(alice, target, { ...base, metadata: { name: 'x' }, spec: { user: 'bob', nonResourceAttributes: { path: '/', verb: 'get' } } }), 'Invalid');
    assert.match(named.message, /metadata: Invalid value: .*: must be empty$/);
  });

  it('LocalSubjectAccessReview must name its own namespace', async () => {
    const { pipeline, kind } = setup();
    const target = { info: kind(AUTHZ, 'localsubjectaccessreviews'), namespace: 'demo', name: '' };
    const base = { apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview' };
    const ok = await pipeline.create(alice, target, { ...base, spec: { user: 'bob', resourceAttributes: { namespace: 'demo', verb: 'list', resource: 'secrets' } } });
    assert.equal((ok.status as { allowed: boolean }).allowed, true);
    assert.equal(ok.metadata?.namespace, 'demo');
    const other = await refusal(pipeline.create(alice, target, { ...base, spec: { user: 'bob', resourceAttributes: { namespace: 'other', verb: 'list', resource: 'secrets' } } }), 'Invalid');
    assert.equal(other.message, 'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace');
    const urls = await refusal(pipeline.create(alice, target, { ...base, spec: { user: 'bob', nonResourceAttributes: { path: '/', verb: 'get' } } }), 'Invalid');
    assert.match(urls.message, /spec.nonResourceAttributes: Invalid value: .*: disallowed on this kind of request/);
  });

  it('SelfSubjectRulesReview lists the rules of the requester in a namespace (kubectl auth can-i --list)', async () => {
    const { pipeline, kind } = setup(rules);
    const target = { info: kind(AUTHZ, 'selfsubjectrulesreviews'), namespace: '', name: '' };
    const base = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview' };
    const answer = await pipeline.create(alice, target, { ...base, spec: { namespace: 'demo' } });
    assert.deepEqual(answer.status, {
      resourceRules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/version'] }],
      incomplete: false,
    });
    const broken = await pipeline.create(alice, target, { ...base, spec: { namespace: 'broken' } });
    assert.equal((broken.status as { evaluationError: string }).evaluationError, '[role.rbac.authorization.k8s.io "gone" not found, clusterrole.rbac.authorization.k8s.io "lost" not found]');
    const none = await refusal(pipeline.create(alice, target, { ...base, spec: {} }), 'BadRequest');
    assert.equal(none.message, 'no namespace on request');
    const unresolved = await setup().pipeline.create(alice, target, { ...base, spec: { namespace: 'demo' } });
    assert.equal((unresolved.status as { incomplete: boolean }).incomplete, true);
  });

  it('SelfSubjectReview tells who asks (kubectl auth whoami)', async () => {
    const { pipeline, kind } = setup();
    const answer = await pipeline.create(alice, { info: kind(AUTHN, 'selfsubjectreviews'), namespace: '', name: '' }, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.deepEqual(answer.status, { userInfo: { username: 'alice', uid: 'u-1', groups: ['team', 'system:authenticated'], extra: { scopes: ['a'] } } });
    assert.match(String(answer.metadata?.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('TokenReview authenticates the token of its spec for the audiences asked, and never shows it', async () => {
    const { pipeline, kind } = setup();
    const target = { info: kind(AUTHN, 'tokenreviews'), namespace: '', name: '' };
    const base = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview' };
    const good = await pipeline.create(alice, target, { ...base, spec: { token: 'good' } });
    assert.deepEqual(good.status, { authenticated: true, user: { username: 'alice', uid: 'u-1', groups: ['team', 'system:authenticated'], extra: { scopes: ['a'] } }, audiences: ['api'] });
    const wrong = await pipeline.create(alice, target, { ...base, spec: { token: 'good', audiences: ['other'] } });
    // Go leaves out a false authenticated and always writes the user struct.
    assert.deepEqual(wrong.status, { user: {}, error: 'invalid bearer token' });
    const empty = await refusal(pipeline.create(alice, target, { ...base, spec: {} }), 'BadRequest');
    assert.equal(empty.message, 'token is required for TokenReview in authentication');
  });

  it('are authorized as create, and refuse every other verb', async () => {
    const { pipeline, kind } = setup();
    const bob: UserInfo = { username: 'bob', uid: '', groups: [] };
    const target = { info: kind(AUTHZ, 'selfsubjectaccessreviews'), namespace: '', name: '' };
    const body: KubeObject = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { nonResourceAttributes: { path: '/', verb: 'get' } } };
    const forbidden = await refusal(pipeline.create(bob, target, body), 'Forbidden');
    assert.equal(forbidden.message, 'selfsubjectaccessreviews.authorization.k8s.io is forbidden: User "bob" cannot create resource "selfsubjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope');
    await refusal(pipeline.list(alice, target, {}), 'MethodNotAllowed');
    await refusal(pipeline.get(alice, { ...target, name: 'x' }), 'MethodNotAllowed');
  });
});
