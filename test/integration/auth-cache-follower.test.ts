/**
 * The gateway's authorization and authentication caches follow the RBAC objects, and the
 * ServiceAccounts, Pods, Secrets and Nodes, through the watch service: a change of a binding
 * makes the next request be decided anew (not answered from the cache for its TTL), and a
 * deleted ServiceAccount, Pod, Secret or Node makes the users be authenticated anew; the second
 * drop comes after the last change of a burst.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { SYSTEM_MASTERS, type Attributes, type AuthenticationResult, type AuthorizationResult, type UserInfo } from '../../services/auth/api.ts';
import { followAuthChanges, type AuthCacheFollower } from '../../services/gateway/core/auth-cache-follower.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { watchedPipeline, type WatchedPipeline } from '../support/watched-pipeline.ts';

const GROUP = 'rbac.authorization.k8s.io';
const admin: UserInfo = { username: 'admin', uid: '', groups: [SYSTEM_MASTERS] };
const dev: UserInfo = { username: 'dev', uid: '', groups: [] };

describe('auth cache follower', () => {
  let plane: WatchedPipeline;
  let follower: AuthCacheFollower;
  let cached: Pipeline;
  const asked = { authorize: 0, authenticate: 0 };
  const listeners = new Set<(what: string) => void>();
  /** Resolves at the next drop of `what`; fails after 5 s. */
  const dropped = (what: 'decisions' | 'users') =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no drop of the ${what} within 5 s`)), 5000);
      const listener = (w: string): void => {
        if (w !== what) return;
        listeners.delete(listener);
        clearTimeout(timer);
        resolve();
      };
      listeners.add(listener);
    });

  before(async () => {
    plane = await watchedPipeline();
    const schemas = generatedSchemaValidator();
    // A pipeline whose answers are cached for a minute, counting what it asks.
    cached = new Pipeline({
      authenticator: { authenticate: async (): Promise<AuthenticationResult> => (asked.authenticate++, { user: dev, audiences: [] }) },
      authorizer: { authorize: async (_a: Attributes): Promise<AuthorizationResult> => (asked.authorize++, { decision: 'NoOpinion', reason: '' }) },
      admission: buildAdmissionChain({ registry: plane.registry, storage: plane.storage, schemas }),
      kinds: plane.registry,
      storage: plane.storage,
      watcher: plane.watcher,
      schemas,
      authCacheTtlMs: 60_000,
    });
    const synced = Promise.all([dropped('decisions'), dropped('users')]);
    follower = followAuthChanges({ source: plane.watcher, caches: cached, logger: plane.logger, settleMs: 0, onDrop: (what) => [...listeners].forEach((l) => l(what)) });
    await synced;
    await new Promise<void>((resolve) => { const wait = (): void => { if (follower.synced()) resolve(); else setImmediate(wait); }; wait(); });
    await synced;
  });

  after(async () => {
    await follower.stop();
    await plane.close();
  });

  it('a changed binding drops the decisions', async () => {
    const configmaps = plane.target('', 'v1', 'configmaps', 'default');
    await assert.rejects(cached.list(dev, configmaps, {}), /forbidden/);
    await assert.rejects(cached.list(dev, configmaps, {}), /forbidden/);
    assert.equal(asked.authorize, 1, 'the second answer comes from the cache');
    const drop = dropped('decisions');
    await plane.pipeline.create(admin, plane.target(GROUP, 'v1', 'rolebindings', 'default'), {
      apiVersion: `${GROUP}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'dev-view' },
      roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', apiGroup: GROUP, name: 'dev' }],
    });
    await drop;
    await assert.rejects(cached.list(dev, configmaps, {}), /forbidden/);
    assert.equal(asked.authorize, 2, 'decided anew after the change');
  });

  it('a deleted ServiceAccount drops the users', async () => {
    const accounts = plane.target('', 'v1', 'serviceaccounts', 'default');
    await plane.pipeline.create(admin, accounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } });
    await cached.authenticate({ token: 'token-1' });
    await cached.authenticate({ token: 'token-1' });
    assert.equal(asked.authenticate, 1);
    const drop = dropped('users');
    await plane.pipeline.delete(admin, { ...accounts, name: 'robot' });
    await drop;
    await cached.authenticate({ token: 'token-1' });
    assert.equal(asked.authenticate, 2, 'authenticated anew after the delete');
  });

  it('a deleted Pod, Secret or Node drops the users (the tokens bound to it end)', async () => {
    const pods = plane.target('', 'v1', 'pods', 'default');
    const secrets = plane.target('', 'v1', 'secrets', 'default');
    const nodes = plane.target('', 'v1', 'nodes');
    await plane.pipeline.create(admin, pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runner' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    await plane.pipeline.create(admin, secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bound' } });
    await plane.pipeline.create(admin, nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    for (const target of [pods, secrets, nodes]) {
      const name = target === pods ? 'runner' : target === secrets ? 'bound' : 'node-1';
      const before = asked.authenticate;
      await cached.authenticate({ token: `token-${name}` });
      await cached.authenticate({ token: `token-${name}` });
      assert.equal(asked.authenticate, before + 1, 'the second answer comes from the cache');
      const drop = dropped('users');
      await plane.pipeline.delete(admin, { ...target, name }, { gracePeriodSeconds: 0 });
      await drop;
      await cached.authenticate({ token: `token-${name}` });
      assert.equal(asked.authenticate, before + 2, `authenticated anew after the ${target.info.kind} was deleted`);
    }
  });
});

describe('auth cache follower: the second drop', () => {
  const SETTLE_MS = 300;
  let plane: WatchedPipeline;
  let follower: AuthCacheFollower;
  const drops: { what: 'decisions' | 'users'; at: number }[] = [];
  const caches = { dropDecisions: () => drops.push({ what: 'decisions', at: performance.now() }), dropUsers: () => drops.push({ what: 'users', at: performance.now() }) };
  /** Resolves with the time of the `n`th drop of `what` counted from `from`; fails after 5 s. */
  const nthDrop = async (what: 'decisions' | 'users', from: number, n: number): Promise<number> => {
    const deadline = performance.now() + 5_000;
    for (;;) {
      const seen = drops.slice(from).filter((d) => d.what === what);
      if (seen.length >= n) return (seen[n - 1] as { at: number }).at;
      if (performance.now() > deadline) throw new Error(`no drop ${n} of the ${what} within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  /** Resolves once no drop has come for twice the settle time (the drops of the first lists are over). */
  const quiet = async (): Promise<void> => {
    const deadline = performance.now() + 10_000;
    while (drops.length === 0 || performance.now() - (drops.at(-1) as { at: number }).at < 2 * SETTLE_MS) {
      if (performance.now() > deadline) throw new Error('the drops did not stop');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  before(async () => {
    plane = await watchedPipeline();
    follower = followAuthChanges({ source: plane.watcher, caches, logger: plane.logger, settleMs: SETTLE_MS });
    await quiet();
    assert.equal(follower.synced(), true);
  });

  after(async () => {
    await follower.stop();
    await plane.close();
  });

  /** Two changes half the settle time apart: the second drop comes a full settle time after the second. */
  async function burst(what: 'decisions' | 'users', change: (i: number) => Promise<unknown>): Promise<void> {
    await quiet();
    const from = drops.length;
    await change(1);
    await nthDrop(what, from, 1);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS / 2));
    await change(2);
    const second = await nthDrop(what, from, 2);
    const settled = await nthDrop(what, from, 3);
    assert.ok(settled - second >= SETTLE_MS - 1, `the settle drop came ${Math.round(settled - second)} ms after the last change`);
  }

  it('is armed again by every RBAC change of a burst', async () => {
    await burst('decisions', (i) =>
      plane.pipeline.create(admin, plane.target(GROUP, 'v1', 'rolebindings', 'default'), {
        apiVersion: `${GROUP}/v1`,
        kind: 'RoleBinding',
        metadata: { name: `burst-${i}` },
        roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'User', apiGroup: GROUP, name: 'dev' }],
      }),
    );
  });

  it('is armed again by every deletion of a burst, for the users too', async () => {
    const secrets = plane.target('', 'v1', 'secrets', 'default');
    for (const i of [1, 2]) await plane.pipeline.create(admin, secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `burst-${i}` } });
    await burst('users', (i) => plane.pipeline.delete(admin, { ...secrets, name: `burst-${i}` }));
  });
});
