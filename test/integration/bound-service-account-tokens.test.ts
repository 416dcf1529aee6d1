/**
 * Service-account tokens bound to a Pod, Secret or Node, end to end in one process: requested
 * through the pipeline's serviceaccounts/token (kube's TokenREST: its refusals, and the answer
 * and warning when the issuer's maximum shortens the lifetime), signed by the auth service's
 * issuer, and verified against the policy index that follows the objects through the watch
 * service: the token stops working when its object is deleted, re-created, or marked for
 * deletion over a minute ago, as kube's validator decides.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { startPolicyIndex, type PolicyIndex } from '../../services/auth/core/policy-index.ts';
import { loadSigningKey, ServiceAccountTokens } from '../../services/auth/core/service-account-token.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { Pipeline, type Target } from '../../services/gateway/core/pipeline.ts';
import { WarningRecorder } from '../../services/gateway/core/warnings.ts';
import { refusal } from '../support/pipeline.ts';
import { watchedPipeline, type WatchedPipeline } from '../support/watched-pipeline.ts';

const API = ['https://kubernetes.default.svc.cluster.local'];
const MAX_SECONDS = 1800;
const admin: UserInfo = { username: 'admin', uid: '', groups: [SYSTEM_MASTERS] };
const uidOf = (object: KubeObject): string => String(object.metadata?.uid);

/** Resolves once `condition()` holds; fails after 5 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`not within 5 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('bound service-account tokens', () => {
  let dir: string;
  let plane: WatchedPipeline;
  let index: PolicyIndex;
  let pipeline: Pipeline;
  let tokens: ServiceAccountTokens;
  /** How far the issuer's clock is ahead of the real one. */
  let skewMs = 0;
  const target = (resource: string, namespace: string, name = ''): Target => plane.target('', 'v1', resource, namespace, name);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bound-tokens-'));
    plane = await watchedPipeline();
    index = startPolicyIndex({ watcher: plane.watcher, logger: plane.logger });
    assert.equal(await index.readyWithin(20_000), true);
    tokens = new ServiceAccountTokens({
      signingKey: await loadSigningKey(join(dir, 'sa.key'), true),
      issuers: API,
      apiAudiences: API,
      maxExpirationSeconds: MAX_SECONDS,
      jwksUri: 'https://127.0.0.1:6443/openid/v1/jwks',
      objects: index.objects,
      now: () => Date.now() + skewMs,
    });
    const schemas = generatedSchemaValidator();
    pipeline = new Pipeline({
      authenticator: new TokenFileAuthenticator([]),
      authorizer: new PrivilegedGroupAuthorizer(),
      admission: buildAdmissionChain({ registry: plane.registry, storage: plane.storage, schemas }),
      kinds: plane.registry,
      storage: plane.storage,
      watcher: plane.watcher,
      schemas,
      tokenIssuer: tokens,
    });
    await pipeline.create(admin, target('serviceaccounts', 'default'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder' } });
  });

  after(async () => {
    await index.stop();
    await plane.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** serviceaccounts/builder/token with `spec`, and the warnings of the answer. */
  async function requestToken(spec: Record<string, unknown>): Promise<{ answer: KubeObject; warnings: string[] }> {
    const warnings = new WarningRecorder();
    const answer = await pipeline.post(
      admin,
      { ...target('serviceaccounts', 'default', 'builder'), subresource: 'token' },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec },
      { warnings },
    );
    return { answer, warnings: warnings.warnings };
  }

  async function outcome(token: string): Promise<string> {
    const result = await tokens.authenticateToken(token, API);
    assert.ok(result !== undefined);
    return 'error' in result ? result.error : `user ${result.user.username}`;
  }

  const pod = (name: string, serviceAccountName: string, nodeName?: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { serviceAccountName, ...(nodeName === undefined ? {} : { nodeName }), containers: [{ name: 'c', image: 'nginx' }] },
  });

  it('a pod running as another service account is refused in kube\'s words', async () => {
    await pipeline.create(admin, target('serviceaccounts', 'default'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'other' } });
    await pipeline.create(admin, target('pods', 'default'), pod('elsewhere', 'other'));
    const refused = await refusal(requestToken({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'elsewhere' } }), 'BadRequest');
    assert.equal(refused.message, 'cannot bind token for serviceaccount "builder" to pod running with different serviceaccount name.');
  });

  it('a lifetime beyond the maximum is shortened: the answer says so and warns, as kube\'s', async () => {
    const before = Date.now();
    const { answer, warnings } = await requestToken({ expirationSeconds: 7200 });
    assert.deepEqual(warnings, [`requested expiration of 7200 seconds shortened to ${MAX_SECONDS} seconds`]);
    assert.equal((answer.spec as { expirationSeconds: number }).expirationSeconds, MAX_SECONDS);
    const expires = Date.parse(String((answer.status as { expirationTimestamp: string }).expirationTimestamp));
    assert.ok(expires >= Math.floor(before / 1000) * 1000 + MAX_SECONDS * 1000 && expires <= Date.now() + MAX_SECONDS * 1000, String(expires));

    const within = await requestToken({ expirationSeconds: 900 });
    assert.deepEqual(within.warnings, []);
    assert.equal((within.answer.spec as { expirationSeconds: number }).expirationSeconds, 900);
  });

  it('a pod-bound token ends when the pod is deleted, and does not serve a pod re-created with its name', async () => {
    const created = await pipeline.create(admin, target('pods', 'default'), pod('runner', 'builder'));
    const { answer } = await requestToken({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'runner' } });
    const token = String((answer.status as { token: string }).token);
    await until(() => index.objects.bound('Pod', 'default', 'runner') !== undefined, 'the index has the pod');
    assert.equal(await outcome(token), 'user system:serviceaccount:default:builder');

    await pipeline.delete(admin, target('pods', 'default', 'runner'), { gracePeriodSeconds: 0 });
    await until(() => index.objects.bound('Pod', 'default', 'runner') === undefined, 'the index forgets the pod');
    assert.equal(await outcome(token), 'service account token has been invalidated');

    const again = await pipeline.create(admin, target('pods', 'default'), pod('runner', 'builder'));
    await until(() => index.objects.bound('Pod', 'default', 'runner') !== undefined, 'the index has the new pod');
    assert.equal(await outcome(token), `pod UID (${uidOf(again)}) does not match service account pod ref claim (${uidOf(created)})`);
  });

  it('a pod marked for deletion keeps its tokens for a minute past its deletionTimestamp', async () => {
    // Scheduled: a graceful delete marks it (deletionTimestamp = now + 30 s) and keeps it.
    await pipeline.create(admin, target('pods', 'default'), pod('leaving', 'builder', 'node-1'));
    const { answer } = await requestToken({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'leaving' } });
    const token = String((answer.status as { token: string }).token);
    await pipeline.delete(admin, target('pods', 'default', 'leaving'), { gracePeriodSeconds: 30 });
    await until(() => index.objects.bound('Pod', 'default', 'leaving')?.deletionTimestamp !== undefined, 'the index has the deletion time');
    assert.equal(await outcome(token), 'user system:serviceaccount:default:builder');
    skewMs = 92_000;
    try {
      assert.equal(await outcome(token), 'service account token has been invalidated');
    } finally {
      skewMs = 0;
    }
  });

  it('Secret- and Node-bound tokens end with their object', async () => {
    await pipeline.create(admin, target('secrets', 'default'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bound' } });
    await pipeline.create(admin, target('nodes', ''), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-7' } });
    const secretToken = String(((await requestToken({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'bound' } })).answer.status as { token: string }).token);
    const nodeToken = String(((await requestToken({ boundObjectRef: { kind: 'Node', apiVersion: 'v1', name: 'node-7' } })).answer.status as { token: string }).token);
    await until(() => index.objects.bound('Secret', 'default', 'bound') !== undefined && index.objects.bound('Node', '', 'node-7') !== undefined, 'the index has both');
    assert.equal(await outcome(secretToken), 'user system:serviceaccount:default:builder');
    assert.equal(await outcome(nodeToken), 'user system:serviceaccount:default:builder');

    await pipeline.delete(admin, target('secrets', 'default', 'bound'));
    await pipeline.delete(admin, target('nodes', '', 'node-7'));
    await until(() => index.objects.bound('Secret', 'default', 'bound') === undefined && index.objects.bound('Node', '', 'node-7') === undefined, 'the index forgets both');
    assert.equal(await outcome(secretToken), 'service account token has been invalidated');
    assert.equal(await outcome(nodeToken), 'service account token has been invalidated');
  });
});
