/**
 * The gateway's authorization and authentication caches follow the RBAC objects and the
 * ServiceAccounts through the watch service: a change of a binding makes the next request be
 * decided anew (not answered from the cache for its TTL), and a deleted ServiceAccount makes its
 * users be authenticated anew.
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
});
