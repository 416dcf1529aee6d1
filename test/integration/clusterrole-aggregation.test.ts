/**
 * The clusterrole-aggregation controller over a pipeline with working watches: an aggregated
 * ClusterRole's rules follow the labelled ClusterRoles as they are created, changed and deleted,
 * also when one is deleted while its watch is down (ended by a 410, as the watch service ends a
 * watch whose revision it no longer has).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import { parseObjectBytes, type KubeObject } from '../../lib/kube.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { statusEvent, type Watcher, type WatchEvent, type WatchOptions, type WatchTarget } from '../../services/watch/api.ts';
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

/**
 * The watch service, with a way to end its open watches as it does when their revision is gone
 * (an ERROR event with a 410 Expired) and to hold new ones back meanwhile: a watch gap during
 * which changes happen that no watch delivers.
 */
class GapWatcher implements Watcher {
  private readonly inner: Watcher;
  private readonly cuts = new Set<() => void>();
  private gate: Promise<void> = Promise.resolve();
  private open: (() => void) | undefined;

  constructor(inner: Watcher) {
    this.inner = inner;
  }

  /** Ends every open watch with a 410 ERROR event; new watches wait until `resume()`. */
  cut(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
    for (const cut of this.cuts) cut();
  }

  resume(): void {
    this.open?.();
  }

  async *watch(target: WatchTarget, options: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> {
    await this.gate;
    const inner = new AbortController();
    const stop = (): void => inner.abort();
    signal.addEventListener('abort', stop, { once: true });
    let cut = false;
    const cutter = (): void => {
      cut = true;
      inner.abort();
    };
    this.cuts.add(cutter);
    try {
      try {
        for await (const event of this.inner.watch(target, options, inner.signal)) yield event;
      } catch (err) {
        if (!cut) throw err;
      }
      if (cut) yield statusEvent(new StatusError('Expired', 'too old resource version: 1 (2)'));
    } finally {
      this.cuts.delete(cutter);
      signal.removeEventListener('abort', stop);
    }
  }
}

describe('clusterrole-aggregation controller across a watch gap', () => {
  let plane: WatchedPipeline;
  let gaps: GapWatcher;
  const abort = new AbortController();
  let done: Promise<void>;
  const selector = { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate-to-gap': 'true' } }] };
  const labelled = (name: string, resources: string[]) => ({
    apiVersion: `${GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { 'example.com/aggregate-to-gap': 'true' } },
    rules: [rule(['get'], resources)],
  });

  before(async () => {
    plane = await watchedPipeline();
    gaps = new GapWatcher(plane.watcher);
    const schemas = generatedSchemaValidator();
    // The controller's pipeline watches through the gaps; the test's own (plane.pipeline) does not.
    const pipeline = new Pipeline({
      authenticator: new TokenFileAuthenticator([]),
      authorizer: new PrivilegedGroupAuthorizer(),
      admission: buildAdmissionChain({ registry: plane.registry, storage: plane.storage, schemas }),
      kinds: plane.registry,
      storage: plane.storage,
      watcher: gaps,
      schemas,
      logger: plane.logger,
    });
    done = new ClusterRoleAggregationController({ retryMs: 10, maxRetryMs: 200 }).run({ pipeline, registry: plane.registry, logger: plane.logger, user: admin }, abort.signal);
  });

  after(async () => {
    gaps.resume();
    abort.abort();
    await done;
    await plane.close();
  });

  /** Resolves once `ok` holds of the rules of `name`; fails after 10 s. */
  async function rulesBecome(name: string, ok: (resources: string[]) => boolean): Promise<string[]> {
    const deadline = performance.now() + 10_000;
    const target = { ...plane.target(GROUP, 'v1', 'clusterroles'), name };
    for (;;) {
      const resources = rulesOf(await plane.pipeline.get(admin, target)).flatMap((r) => r.resources);
      if (ok(resources)) return resources;
      if (performance.now() > deadline) assert.fail(`the rules of ${name} did not become as expected: ${resources.join(',')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('forgets a role deleted while no watch ran: the new list replaces what it knew', async () => {
    const target = plane.target(GROUP, 'v1', 'clusterroles');
    await plane.pipeline.create(admin, target, labelled('gap-pods', ['pods']));
    await plane.pipeline.create(admin, target, labelled('gap-secrets', ['secrets']));
    await plane.pipeline.create(admin, target, { apiVersion: `${GROUP}/v1`, kind: 'ClusterRole', metadata: { name: 'gap-reader' }, aggregationRule: selector });
    assert.deepEqual(await rulesBecome('gap-reader', (r) => r.length === 2), ['pods', 'secrets']);

    gaps.cut();
    await plane.pipeline.delete(admin, { ...target, name: 'gap-secrets' });
    gaps.resume();
    assert.deepEqual(await rulesBecome('gap-reader', (r) => r.length === 1), ['pods']);
  });
});
