/**
 * The RBAC bootstrap reconciliation through the pipeline: a new cluster gets every object of
 * the bootstrap policy, a second pass changes nothing, a damaged object is completed, one
 * annotated autoupdate "false" is left alone, and replicas reconciling at once all succeed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { bootstrapPolicy } from '../../lib/rbac/bootstrap-policy.ts';
import { AUTO_UPDATE_ANNOTATION } from '../../lib/rbac/reconcile.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { inProcessPipeline } from '../support/pipeline.ts';
import { APISERVER_USER } from '../../services/gateway/core/pipeline.ts';
import { reconcileRbacBootstrap } from '../../services/gateway/core/rbac-bootstrap.ts';

const GROUP = 'rbac.authorization.k8s.io';

describe('RBAC bootstrap', () => {
  it('creates the policy, then keeps it complete without touching protected objects', async () => {
    const registry = builtinRegistry();
    const { pipeline } = await inProcessPipeline(new MemoryStorage(), registry);
    const policy = bootstrapPolicy();
    const total = policy.clusterRoles.length + policy.clusterRoleBindings.length + policy.roles.length + policy.roleBindings.length;

    const first = await reconcileRbacBootstrap(pipeline, registry);
    assert.equal(first.created.length, total);
    assert.deepEqual(first.updated, []);
    assert.ok(first.created.includes('clusterroles/cluster-admin'));
    assert.ok(first.created.includes('clusterrolebindings/system:controller:namespace-controller'));
    assert.ok(first.created.includes('roles/kube-system/system:controller:bootstrap-signer'));

    const again = await reconcileRbacBootstrap(pipeline, registry);
    assert.deepEqual(again, { created: [], updated: [] });

    const clusterroles = { info: registry.get(GROUP, 'v1', 'clusterroles')!, namespace: '', name: 'view' };
    const bindings = { info: registry.get(GROUP, 'v1', 'clusterrolebindings')!, namespace: '', name: 'system:basic-user' };
    // A binding that lost its subjects is given them again.
    const basic = await pipeline.get(APISERVER_USER, bindings);
    await pipeline.update(APISERVER_USER, bindings, { ...basic, subjects: [] });
    // A role its owner protects stays as it is, even without its rules.
    const discovery = { ...clusterroles, name: 'system:discovery' };
    const protectedRole = await pipeline.get(APISERVER_USER, discovery);
    await pipeline.update(APISERVER_USER, discovery, { ...protectedRole, rules: [], metadata: { ...protectedRole.metadata, annotations: { [AUTO_UPDATE_ANNOTATION]: 'false' } } });
    // A deleted role is created again.
    await pipeline.delete(APISERVER_USER, { ...clusterroles, name: 'system:public-info-viewer' });

    const repair = await reconcileRbacBootstrap(pipeline, registry);
    assert.deepEqual(repair, { created: ['clusterroles/system:public-info-viewer'], updated: ['clusterrolebindings/system:basic-user'] });
    assert.deepEqual((await pipeline.get(APISERVER_USER, bindings)).subjects, [{ apiGroup: GROUP, kind: 'Group', name: 'system:authenticated' }]);
    assert.deepEqual((await pipeline.get(APISERVER_USER, discovery)).rules, []);
  });

  it('replicas reconciling at once all succeed, and create each object once', async () => {
    const registry = builtinRegistry();
    const storage = new MemoryStorage();
    const a = await inProcessPipeline(storage, registry);
    const b = await inProcessPipeline(storage, registry);
    const [ra, rb] = await Promise.all([reconcileRbacBootstrap(a.pipeline, registry), reconcileRbacBootstrap(b.pipeline, registry)]);
    const policy = bootstrapPolicy();
    const total = policy.clusterRoles.length + policy.clusterRoleBindings.length + policy.roles.length + policy.roleBindings.length;
    assert.equal(ra.created.length + rb.created.length, total);
    assert.deepEqual(await reconcileRbacBootstrap(a.pipeline, registry), { created: [], updated: [] });
  });
});
