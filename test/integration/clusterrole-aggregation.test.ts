/**
 * The clusterrole-aggregation controller over a pipeline with working watches: an aggregated
 * ClusterRole's rules follow the labelled ClusterRoles as they are created, changed and deleted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseObjectBytes, type KubeObject } from '../../lib/kube.ts';
import { rulesOf, type PolicyRule } from '../../lib/rbac/rules.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import { ClusterRoleAggregationController } from '../../services/gateway/controllers/clusterrole-aggregation.ts';
import { watchedPipeline, type WatchedPipeline } from '../support/watched-pipeline.ts';

const GROUP = 'rbac.authorization.k8s.io';
const admin: UserInfo = { username: 'admin', uid: '', groups: [SYSTEM_MASTERS] };
const rule = (verbs: string[], resources: string[]) => ({ apiGroups: [''], resources, verbs });

describe('clusterrole-aggregation controller', () => {
  let plane: WatchedPipeline;
  const abort = new AbortController();
  let done: Promise<void>;

  before(async () => {
    plane = await watchedPipeline();
    const target = plane.target(GROUP, 'v1', 'clusterroles');
    // One labelled role exists before the controller starts: its first list sees it.
    await plane.pipeline.create(admin, target, { apiVersion: `${GROUP}/v1`, kind: 'ClusterRole', metadata: { name: 'pods-read', labels: { 'example.com/aggregate-to-reader': 'true' } }, rules: [rule(['get'], ['pods'])] });
    done = new ClusterRoleAggregationController({ retryMs: 10, maxRetryMs: 200 }).run({ pipeline: plane.pipeline, registry: plane.registry, logger: plane.logger, user: admin }, abort.signal);
  });

  after(async () => {
    abort.abort();
    await done;
    await plane.close();
  });

  /** Resolves with the role's rules once `ok` holds of them, watching its changes; fails after 10 s. */
  async function rulesBecome(name: string, ok: (rules: PolicyRule[]) => boolean): Promise<PolicyRule[]> {
    const signal = AbortSignal.timeout(10_000);
    const events = await plane.pipeline.watch(admin, plane.target(GROUP, 'v1', 'clusterroles'), { resourceVersion: '' }, signal);
    try {
      for await (const event of events) {
        if (event.type !== 'ADDED' && event.type !== 'MODIFIED') continue;
        const object = parseObjectBytes(event.object) as KubeObject;
        if (object.metadata?.name === name && ok(rulesOf(object))) return rulesOf(object);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
    assert.fail(`the rules of ${name} did not become as expected`);
  }

  const verbsOf = (rules: PolicyRule[]) => rules.map((r) => `${r.resources.join(',')}:${r.verbs.join(',')}`);

  it('keeps the union of the selected roles as they come, change and go', async () => {
    const target = plane.target(GROUP, 'v1', 'clusterroles');
    const selector = { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate-to-reader': 'true' } }] };
    await plane.pipeline.create(admin, target, { apiVersion: `${GROUP}/v1`, kind: 'ClusterRole', metadata: { name: 'reader' }, aggregationRule: selector });
    assert.deepEqual(verbsOf(await rulesBecome('reader', (r) => r.length === 1)), ['pods:get']);

    await plane.pipeline.create(admin, target, { apiVersion: `${GROUP}/v1`, kind: 'ClusterRole', metadata: { name: 'cm-read', labels: { 'example.com/aggregate-to-reader': 'true' } }, rules: [rule(['get', 'list'], ['configmaps'])] });
    // Not selected: its label differs.
    await plane.pipeline.create(admin, target, { apiVersion: `${GROUP}/v1`, kind: 'ClusterRole', metadata: { name: 'secrets-read', labels: { 'example.com/aggregate-to-writer': 'true' } }, rules: [rule(['get'], ['secrets'])] });
    // Roles in name order: cm-read before pods-read.
    assert.deepEqual(verbsOf(await rulesBecome('reader', (r) => r.length === 2)), ['configmaps:get,list', 'pods:get']);

    const podsRead = await plane.pipeline.get(admin, { ...target, name: 'pods-read' });
    await plane.pipeline.update(admin, { ...target, name: 'pods-read' }, { ...podsRead, rules: [rule(['get', 'watch'], ['pods'])] });
    assert.deepEqual(verbsOf(await rulesBecome('reader', (r) => verbsOf(r).includes('pods:get,watch'))), ['configmaps:get,list', 'pods:get,watch']);

    await plane.pipeline.delete(admin, { ...target, name: 'cm-read' });
    assert.deepEqual(verbsOf(await rulesBecome('reader', (r) => r.length === 1)), ['pods:get,watch']);
  });
});
