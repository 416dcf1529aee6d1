/**
 * The garbage collector (services/gateway/controllers/garbage-collector.ts) against the
 * in-process pipeline with working watches (test/support/watched-pipeline.ts): orphaning,
 * foreground deletion through a blockOwnerDeletion chain, background collection of dependents
 * whose owners are gone (namespace rules included), dependents with an owner left, references to
 * owners that never existed, and a collector stopped half-way and started again. Every wait
 * awaits a watch event or storage's history, bounded in time.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import type { Pipeline, Target } from '../../services/gateway/core/pipeline.ts';
import { GarbageCollector } from '../../services/gateway/controllers/garbage-collector.ts';
import { ControllerHost } from '../../services/gateway/controllers/host.ts';
import { controllerUser } from '../../services/gateway/controllers/types.ts';
import { watchedPipeline, type WatchedPipeline, type WatchedPipelineOptions } from '../support/watched-pipeline.ts';

const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
const gcUser: UserInfo = { username: 'system:serviceaccount:kube-system:generic-garbage-collector', uid: 'gc', groups: [SYSTEM_MASTERS] };
const logger = createLogger({ service: 'test', level: 'error' });
const WAIT_MS = 20_000;

async function setup(t: TestContext, options: WatchedPipelineOptions = {}): Promise<WatchedPipeline> {
  const plane = await watchedPipeline(options);
  t.after(() => plane.close());
  return plane;
}

/** Runs a collector over `pipeline` until stopped (stopped at the end of the test in any case). */
function startCollector(t: TestContext, plane: WatchedPipeline, pipeline: Pipeline = plane.pipeline, abort = new AbortController(), log: Logger = logger) {
  const done = new GarbageCollector({ initialBackoffMs: 5, maxBackoffMs: 500, initialRelistBackoffMs: 20 }).run({ pipeline, registry: plane.registry, logger: log, user: gcUser }, abort.signal);
  const stop = async () => {
    abort.abort();
    await done;
  };
  t.after(stop);
  return { stop, done };
}

const name = (o: KubeObject): string => String(o.metadata?.name);
const uid = (o: KubeObject): string => String(o.metadata?.uid);
const ownerNames = (o: KubeObject | undefined): string[] => ((o?.metadata?.ownerReferences ?? []) as { name: string }[]).map((r) => r.name);

/** An ownerReference to `owner`. */
function ref(owner: KubeObject, blockOwnerDeletion?: boolean): Record<string, unknown> {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: name(owner), uid: uid(owner), ...(blockOwnerDeletion === undefined ? {} : { blockOwnerDeletion }) };
}

function configMap(objectName: string, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: objectName, ...metadata }, data: { a: 'b' } };
}

const POD_SPEC = { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] };
const TEMPLATE = { metadata: { labels: { app: 'web' } }, spec: POD_SPEC };

/**
 * Resolves with the object named by `target` once `check` holds for it (undefined: absent),
 * reading it, then following a watch of it; fails the test after WAIT_MS.
 */
async function until(plane: WatchedPipeline, target: Target, check: (o: KubeObject | undefined) => boolean, what: string): Promise<KubeObject | undefined> {
  const signal = AbortSignal.timeout(WAIT_MS);
  const collection: Target = { ...target, name: '' };
  const fieldSelector = `metadata.name=${target.name}`;
  while (!signal.aborted) {
    const listed = await plane.pipeline.list(admin, collection, { fieldSelector });
    let current: KubeObject | undefined = listed.items[0];
    if (check(current)) return current;
    try {
      for await (const event of await plane.pipeline.watch(admin, collection, { resourceVersion: listed.resourceVersion, fieldSelector }, signal)) {
        if (event.type === 'BOOKMARK' || event.type === 'ERROR') continue;
        current = event.type === 'DELETED' ? undefined : (JSON.parse(event.object.toString('utf8')) as KubeObject);
        if (check(current)) return current;
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** `promise`, or a failure of the test after WAIT_MS. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new assert.AssertionError({ message: `timed out waiting for ${what}` })), WAIT_MS)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const gone = (plane: WatchedPipeline, target: Target, what = `${target.info.resource} ${target.name} to be deleted`) => until(plane, target, (o) => o === undefined, what);

async function exists(plane: WatchedPipeline, target: Target): Promise<KubeObject | undefined> {
  try {
    return await plane.pipeline.get(admin, target);
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

describe('garbage collector', () => {
  test('orphan: the owner\'s references leave every dependent, then the orphan finalizer leaves the owner', async (t) => {
    const plane = await setup(t);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const owner = await plane.pipeline.create(admin, cms(), configMap('owner', { finalizers: ['orphan'] }));
    const other = await plane.pipeline.create(admin, cms(), configMap('other'));
    for (const n of ['d1', 'd2', 'd3']) await plane.pipeline.create(admin, cms(), configMap(n, { ownerReferences: [ref(owner, true)] }));
    await plane.pipeline.create(admin, cms(), configMap('d4', { ownerReferences: [ref(owner), ref(other)] }));
    const pods = (n = '') => plane.target('', 'v1', 'pods', 'default', n);
    await plane.pipeline.create(admin, pods(), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'd-pod', ownerReferences: [{ ...ref(owner, true), controller: true }] }, spec: POD_SPEC });
    startCollector(t, plane);
    await plane.pipeline.delete(admin, cms('owner'));
    await gone(plane, cms('owner'), 'the owner to go once its dependents are orphaned');
    assert.equal((await exists(plane, pods('d-pod')))?.metadata?.ownerReferences, undefined, 'a dependent of another kind is orphaned too');
    for (const n of ['d1', 'd2', 'd3']) {
      const dependent = await exists(plane, cms(n));
      assert.ok(dependent !== undefined, `${n} was orphaned, not deleted`);
      assert.equal(dependent.metadata?.ownerReferences, undefined);
    }
    assert.deepEqual(ownerNames(await exists(plane, cms('d4'))), ['other']);
  });

  test('foreground: a Deployment -> ReplicaSet -> Pod chain goes bottom-up, the ReplicaSet in the foreground too', async (t) => {
    const plane = await setup(t);
    const deployments = (n = '') => plane.target('apps', 'v1', 'deployments', 'default', n);
    const replicasets = (n = '') => plane.target('apps', 'v1', 'replicasets', 'default', n);
    const pods = (n = '') => plane.target('', 'v1', 'pods', 'default', n);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const deployment = await plane.pipeline.create(admin, deployments(), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', finalizers: ['foregroundDeletion'] },
      spec: { selector: { matchLabels: { app: 'web' } }, template: TEMPLATE },
    });
    const replicaset = await plane.pipeline.create(admin, replicasets(), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-1', ownerReferences: [{ ...ref(deployment, true), controller: true }] },
      spec: { selector: { matchLabels: { app: 'web' } }, template: TEMPLATE },
    });
    for (const n of ['web-1-a', 'web-1-b']) {
      await plane.pipeline.create(admin, pods(), { apiVersion: 'v1', kind: 'Pod', metadata: { name: n, labels: { app: 'web' }, ownerReferences: [{ ...ref(replicaset, true), controller: true }] }, spec: POD_SPEC });
    }
    // A dependent that does not block its owner's deletion goes too, but is not waited for.
    await plane.pipeline.create(admin, cms(), configMap('web-notes', { ownerReferences: [ref(deployment)] }));
    // A blocking dependent with another owner stays, without its reference to the Deployment.
    const keeper = await plane.pipeline.create(admin, cms(), configMap('keeper'));
    await plane.pipeline.create(admin, cms(), configMap('web-shared', { ownerReferences: [ref(deployment, true), ref(keeper)] }));
    startCollector(t, plane);
    const start = Number(await plane.storage.currentRevision());
    const deleted = await plane.pipeline.delete(admin, deployments('web'));
    assert.equal(deleted.pending, true);
    await gone(plane, deployments('web'), 'the Deployment to go after its dependents');
    await gone(plane, cms('web-notes'), 'the non-blocking dependent to go');
    assert.equal(await exists(plane, replicasets('web-1')), undefined);
    assert.deepEqual(ownerNames(await exists(plane, cms('web-shared'))), ['keeper']);
    const history = async (group: string, resource: string) => (await plane.storage.events({ group, resource }, { fromRevision: String(start) })).events;
    const deletedAt = (events: Awaited<ReturnType<typeof history>>, n: string) => events.find((e) => e.type === 'DELETED' && e.name === n)?.revision ?? Infinity;
    const podEvents = await history('', 'pods');
    const rsEvents = await history('apps', 'replicasets');
    const deploymentEvents = await history('apps', 'deployments');
    const rsGone = deletedAt(rsEvents, 'web-1');
    const deploymentGone = deletedAt(deploymentEvents, 'web');
    for (const pod of ['web-1-a', 'web-1-b']) assert.ok(deletedAt(podEvents, pod) < rsGone, `${pod} went before its ReplicaSet`);
    assert.ok(rsGone < deploymentGone, 'the ReplicaSet went before its Deployment');
    // The ReplicaSet has dependents and its owner waited for it: it was deleted in the foreground.
    const rsMarked = rsEvents.find((e) => e.type === 'MODIFIED' && e.object.metadata?.deletionTimestamp !== undefined);
    assert.ok(rsMarked !== undefined, 'the ReplicaSet was marked for deletion before it went');
    assert.deepEqual(rsMarked.object.metadata?.finalizers, ['foregroundDeletion']);
    // The Deployment waited with its finalizer until the ReplicaSet was gone.
    const lastDeploymentState = deploymentEvents.filter((e) => e.type !== 'DELETED' && e.revision < rsGone).at(-1);
    assert.deepEqual(lastDeploymentState?.object.metadata?.finalizers, ['foregroundDeletion']);
  });

  test('foreground through an ownership cycle: the references of the middle object stop blocking, and both go', async (t) => {
    const plane = await setup(t);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const a = await plane.pipeline.create(admin, cms(), configMap('cycle-a', { finalizers: ['foregroundDeletion'] }));
    const b = await plane.pipeline.create(admin, cms(), configMap('cycle-b', { ownerReferences: [ref(a, true)] }));
    await plane.pipeline.patch(admin, cms('cycle-a'), { contentType: 'application/merge-patch+json', body: Buffer.from(JSON.stringify({ metadata: { ownerReferences: [ref(b, true)] } })) });
    startCollector(t, plane);
    const start = Number(await plane.storage.currentRevision());
    await plane.pipeline.delete(admin, cms('cycle-a'));
    await gone(plane, cms('cycle-a'), 'the owner of the cycle to go');
    await gone(plane, cms('cycle-b'), 'the middle object of the cycle to go');
    // The middle object's reference to the owner was made non-blocking before it was deleted in the foreground.
    const { events } = await plane.storage.events({ group: '', resource: 'configmaps' }, { fromRevision: String(start) });
    const unblocked = events.find((e) => e.name === 'cycle-b' && e.type === 'MODIFIED' && (e.object.metadata?.ownerReferences as { blockOwnerDeletion?: boolean }[] | undefined)?.[0]?.blockOwnerDeletion === false);
    assert.ok(unblocked !== undefined, 'cycle-b was unblocked');
  });

  test('background: dependents of a deleted owner go; a namespaced dependent\'s owner is looked for in its own namespace', async (t) => {
    const plane = await setup(t);
    const cms = (ns: string, n = '') => plane.target('', 'v1', 'configmaps', ns, n);
    const clusterRoles = (n = '') => plane.target('rbac.authorization.k8s.io', 'v1', 'clusterroles', '', n);
    await plane.pipeline.create(admin, plane.target('', 'v1', 'namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    const owner = await plane.pipeline.create(admin, cms('default'), configMap('owner'));
    const clusterOwner = await plane.pipeline.create(admin, clusterRoles(), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'gc-owner' }, rules: [] });
    await plane.pipeline.create(admin, cms('default'), configMap('child', { ownerReferences: [ref(owner)] }));
    // Owned by a cluster-scoped object from any namespace.
    await plane.pipeline.create(admin, cms('other'), configMap('of-cluster', { ownerReferences: [ref(clusterOwner)] }));
    // Names the owner's uid, but from another namespace: a namespaced owner is not found there.
    await plane.pipeline.create(admin, cms('other'), configMap('cross-namespace', { ownerReferences: [ref(owner)] }));
    // A cluster-scoped object cannot have a namespaced owner: never collected (kube's rule).
    await plane.pipeline.create(admin, clusterRoles(), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'gc-invalid', ownerReferences: [ref(owner)] }, rules: [] });
    let sawInvalid!: () => void;
    const invalidSeen = new Promise<void>((resolve) => (sawInvalid = resolve));
    const watchingLog = createLogger({
      service: 'test',
      level: 'info',
      write: (line) => {
        if (line.includes('names a namespaced owner') && line.includes('gc-invalid')) sawInvalid();
      },
    });
    startCollector(t, plane, plane.pipeline, new AbortController(), watchingLog);
    await within(invalidSeen, 'the collector to look at the cluster-scoped dependent');
    await gone(plane, cms('other', 'cross-namespace'), 'a dependent naming an owner of another namespace to be collected');
    assert.ok(await exists(plane, cms('default', 'child')), 'a dependent whose owner exists stays');
    assert.ok(await exists(plane, cms('other', 'of-cluster')), 'a dependent of an existing cluster-scoped owner stays');
    await plane.pipeline.delete(admin, cms('default', 'owner'));
    await gone(plane, cms('default', 'child'), 'the dependent of a deleted owner to be collected');
    await plane.pipeline.delete(admin, clusterRoles('gc-owner'));
    await gone(plane, cms('other', 'of-cluster'), 'the dependent of a deleted cluster-scoped owner to be collected');
    assert.ok(await exists(plane, clusterRoles('gc-invalid')), 'a cluster-scoped dependent of a namespaced owner stays');
  });

  test('a dependent with two owners loses only the reference to the one that goes', async (t) => {
    const plane = await setup(t);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const first = await plane.pipeline.create(admin, cms(), configMap('first'));
    const second = await plane.pipeline.create(admin, cms(), configMap('second'));
    await plane.pipeline.create(admin, cms(), configMap('shared', { ownerReferences: [ref(first, true), ref(second)] }));
    startCollector(t, plane);
    await plane.pipeline.delete(admin, cms('first'));
    const shared = await until(plane, cms('shared'), (o) => o !== undefined && ownerNames(o).length === 1, 'the dangling reference to be removed');
    assert.deepEqual(ownerNames(shared), ['second']);
    await plane.pipeline.delete(admin, cms('second'));
    await gone(plane, cms('shared'), 'the dependent to go with its last owner');
  });

  test('an ownerReference to an object that never existed counts as absent', async (t) => {
    const plane = await setup(t);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const ghost = { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '6d1b2f1c-0000-4000-8000-000000000000' };
    const real = await plane.pipeline.create(admin, cms(), configMap('real'));
    await plane.pipeline.create(admin, cms(), configMap('orphan-of-ghost', { ownerReferences: [ghost] }));
    await plane.pipeline.create(admin, cms(), configMap('half-ghost', { ownerReferences: [ghost, ref(real)] }));
    // An object named as the owner exists, but with another uid: still absent.
    await plane.pipeline.create(admin, cms(), configMap('ghost'));
    startCollector(t, plane);
    await gone(plane, cms('orphan-of-ghost'), 'the dependent of a never-existing owner to be collected');
    const half = await until(plane, cms('half-ghost'), (o) => o !== undefined && ownerNames(o).length === 1, 'the reference to the never-existing owner to be removed');
    assert.deepEqual(ownerNames(half), ['real']);
    // Created while the collector runs: collected as well.
    await plane.pipeline.create(admin, cms(), configMap('late', { ownerReferences: [{ ...ghost, uid: '6d1b2f1c-0000-4000-8000-000000000001' }] }));
    await gone(plane, cms('late'), 'a dependent of a never-existing owner created later to be collected');
    assert.ok(await exists(plane, cms('ghost')), 'the object of the same name is left alone');
  });

  test('a collector stopped half-way through orphaning is resumed by the next one from what is stored', async (t) => {
    const plane = await setup(t);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const owner = await plane.pipeline.create(admin, cms(), configMap('owner', { finalizers: ['orphan'] }));
    for (const n of ['d1', 'd2', 'd3']) await plane.pipeline.create(admin, cms(), configMap(n, { ownerReferences: [ref(owner)] }));
    // The first collector's second patch never lands: it is stopped while waiting for it.
    const firstRun = new AbortController();
    let patches = 0;
    let stalled!: () => void;
    const isStalled = new Promise<void>((resolve) => (stalled = resolve));
    const real = plane.pipeline;
    const stalling = new Proxy(real, {
      get(target, property) {
        if (property === 'patch') {
          return async (...args: Parameters<Pipeline['patch']>) => {
            if (++patches === 1) return target.patch(...args);
            stalled();
            await new Promise((resolve) => firstRun.signal.addEventListener('abort', resolve, { once: true }));
            throw new StatusError('ServiceUnavailable', 'the first collector stopped before this write');
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const first = startCollector(t, plane, stalling, firstRun);
    await plane.pipeline.delete(admin, cms('owner'));
    await within(isStalled, 'the first collector to stall');
    await first.stop();
    const marked = await exists(plane, cms('owner'));
    assert.deepEqual(marked?.metadata?.finalizers, ['orphan'], 'the owner still waits');
    const remaining = [];
    for (const n of ['d1', 'd2', 'd3']) if (ownerNames(await exists(plane, cms(n))).length > 0) remaining.push(n);
    assert.equal(remaining.length, 2, 'one dependent was orphaned before the stop');

    startCollector(t, plane);
    await gone(plane, cms('owner'), 'the next collector to finish the orphaning');
    for (const n of ['d1', 'd2', 'd3']) assert.deepEqual(ownerNames(await exists(plane, cms(n))), []);
  });

  test('a foreground deletion begun while no collector ran is finished by the next one', async (t) => {
    const plane = await setup(t);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const first = startCollector(t, plane);
    const owner = await plane.pipeline.create(admin, cms(), configMap('owner', { finalizers: ['foregroundDeletion'] }));
    await plane.pipeline.create(admin, cms(), configMap('child', { ownerReferences: [ref(owner, true)] }));
    await first.stop();
    await plane.pipeline.delete(admin, cms('owner'));
    assert.ok(await exists(plane, cms('child')), 'nothing collects while no collector runs');
    startCollector(t, plane);
    await gone(plane, cms('owner'), 'the owner to go after its dependent');
    assert.equal(await exists(plane, cms('child')), undefined);
  });

  test('a watch that ends behind a compacted history is followed by a fresh list, which finds what went meanwhile', async (t) => {
    const plane = await setup(t, { cacheCapacity: 3 });
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const owner = await plane.pipeline.create(admin, cms(), configMap('owner'));
    await plane.pipeline.create(admin, cms(), configMap('child', { ownerReferences: [ref(owner)] }));
    // The collector's first watch of configmaps ends when the test says (as a dropped watcher's
    // stream ends); its next one waits until the test has moved history past it.
    const real = plane.pipeline;
    const firstWatch = new AbortController();
    let watches = 0;
    let listsAfterGap = 0;
    let watching!: () => void;
    const isWatching = new Promise<void>((resolve) => (watching = resolve));
    let reopen!: () => void;
    const reopened = new Promise<void>((resolve) => (reopen = resolve));
    // The collector has looked the child's owner up (and found it) before the gap.
    let checked!: () => void;
    const ownerChecked = new Promise<void>((resolve) => (checked = resolve));
    const gapped = new Proxy(real, {
      get(target, property) {
        if (property === 'get') {
          return (...args: Parameters<Pipeline['get']>) => {
            const answer = target.get(...args);
            if (args[1].name === 'owner') answer.then(() => setImmediate(checked), () => {});
            return answer;
          };
        }
        if (property === 'watch') {
          return async (...[user, watched, options, signal]: Parameters<Pipeline['watch']>) => {
            if (watched.info.resource !== 'configmaps') return target.watch(user, watched, options, signal);
            if (++watches === 1) {
              signal.addEventListener('abort', () => firstWatch.abort(), { once: true });
              const events = await target.watch(user, watched, options, firstWatch.signal);
              watching();
              return events;
            }
            await reopened;
            return target.watch(user, watched, options, signal);
          };
        }
        if (property === 'list') {
          return (...args: Parameters<Pipeline['list']>) => {
            if (args[1].info.resource === 'configmaps' && watches > 1) listsAfterGap++;
            return target.list(...args);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    startCollector(t, plane, gapped);
    await within(Promise.all([isWatching, ownerChecked]), 'the collector to watch and check the owner');
    firstWatch.abort();
    await plane.pipeline.delete(admin, cms('owner'));
    for (let i = 0; i < 5; i++) await plane.pipeline.create(admin, cms(), configMap(`filler-${i}`));
    await plane.storage.compact(await plane.storage.currentRevision());
    reopen();
    await gone(plane, cms('child'), 'the dependent of the owner deleted while no watch ran to be collected');
    assert.ok(watches >= 2 && listsAfterGap >= 1, `the collector listed again after its watch expired (watches ${watches}, lists ${listsAfterGap})`);
  });

  test('custom kinds are followed as their definitions appear: owners and dependents of either side', async (t) => {
    const plane = await setup(t);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    startCollector(t, plane);
    const served = new Promise<void>((resolve) => {
      const unsubscribe = plane.registry.subscribe((change) => {
        if (change.type === 'added' && change.kind.resource === 'widgets') {
          unsubscribe();
          resolve();
        }
      });
    });
    await plane.pipeline.create(admin, plane.target('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'), {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    await within(served, 'the custom kind to be served');
    const widgets = (n = '') => plane.target('example.com', 'v1', 'widgets', 'default', n);
    const widgetOwner = await plane.pipeline.create(admin, widgets(), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w-owner' } });
    const cmOwner = await plane.pipeline.create(admin, cms(), configMap('cm-owner'));
    await plane.pipeline.create(admin, cms(), configMap('cm-child', { ownerReferences: [ref(widgetOwner)] }));
    await plane.pipeline.create(admin, widgets(), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w-child', ownerReferences: [ref(cmOwner)] } });
    await plane.pipeline.delete(admin, cms('cm-owner'));
    await gone(plane, widgets('w-child'), 'the custom dependent of a deleted ConfigMap to be collected');
    assert.ok(await exists(plane, cms('cm-child')), 'the dependent of an existing custom owner stays');
    await plane.pipeline.delete(admin, widgets('w-owner'));
    await gone(plane, cms('cm-child'), 'the dependent of a deleted custom owner to be collected');
  });

  test('run by the controller host: the replica that leads collects, and the next leader takes over', async (t) => {
    const plane = await setup(t);
    const cms = (n = '') => plane.target('', 'v1', 'configmaps', 'default', n);
    const host = (identity: string) =>
      new ControllerHost({
        context: { pipeline: plane.pipeline, registry: plane.registry, logger, user: controllerUser() },
        controllers: [new GarbageCollector({ initialBackoffMs: 5, maxBackoffMs: 500 })],
        identity,
        timing: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 },
      });
    const leading = (h: ControllerHost) => new Promise<void>((resolve) => h.onLeadershipChange((now) => now && resolve()));
    const first = host('gc-a');
    t.after(() => first.stop());
    const firstLeads = leading(first);
    first.start();
    await within(firstLeads, 'the first host to lead');
    const a = await plane.pipeline.create(admin, cms(), configMap('owner-a'));
    await plane.pipeline.create(admin, cms(), configMap('child-a', { ownerReferences: [ref(a)] }));
    await plane.pipeline.delete(admin, cms('owner-a'));
    await gone(plane, cms('child-a'), 'the leader\'s collector to collect');
    await first.stop();
    // Deleted while nobody leads: the next leader's collector finds it from a fresh list.
    const b = await plane.pipeline.create(admin, cms(), configMap('owner-b'));
    await plane.pipeline.create(admin, cms(), configMap('child-b', { ownerReferences: [ref(b)] }));
    await plane.pipeline.delete(admin, cms('owner-b'));
    assert.ok(await exists(plane, cms('child-b')), 'nothing collects while nobody leads');
    const second = host('gc-b');
    t.after(() => second.stop());
    second.start();
    await gone(plane, cms('child-b'), 'the next leader\'s collector to collect');
  });
});
