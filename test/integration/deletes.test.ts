/**
 * Deletes through the pipeline as kube's generic store does them, over the real admission chain
 * and the memory storage backend: preconditions, a pod's graceful deletion, the garbage
 * collector's finalizers from the propagation policy (and a kind's default policy), finalizers
 * of an object already being deleted, dry runs, and deletecollection.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../lib/kube.ts';
import { builtinRegistry, type KindDefinition } from '../../lib/kinds/index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import type { Target } from '../../services/gateway/core/pipeline.ts';
import { DELETE_COLLECTION_PAGE_SIZE } from '../../services/gateway/core/deletion.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { inProcessPipeline, refusal } from '../support/pipeline.ts';
import { watchedPipeline } from '../support/watched-pipeline.ts';

const registry = builtinRegistry();
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };

function kind(group: string, version: string, resource: string): KindDefinition {
  const info = registry.get(group, version, resource);
  assert.ok(info !== undefined, resource);
  return info;
}

const CONFIGMAPS = kind('', 'v1', 'configmaps');
const PODS = kind('', 'v1', 'pods');
const JOBS = kind('batch', 'v1', 'jobs');
const EVENTS = kind('', 'v1', 'events');
const EVENTS_V1 = kind('events.k8s.io', 'v1', 'events');

async function setup() {
  const storage = new MemoryStorage();
  const { pipeline } = await inProcessPipeline(storage, registry);
  const at = (info: KindDefinition, name = ''): Target => ({ info, namespace: 'default', name });
  const get = (info: KindDefinition, name: string) => pipeline.get(admin, at(info, name));
  const absent = async (info: KindDefinition, name: string) => {
    await refusal(get(info, name), 'NotFound');
  };
  const configMap = (name: string, metadata: Record<string, unknown> = {}) =>
    pipeline.create(admin, at(CONFIGMAPS), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...metadata }, data: { a: '1' } });
  const pod = (name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
    pipeline.create(admin, at(PODS), { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...metadata }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec } });
  return { storage, pipeline, at, get, absent, configMap, pod };
}

const finalizers = (o: KubeObject) => o.metadata?.finalizers ?? [];
const seconds = (iso: unknown) => Date.parse(String(iso)) / 1000;

describe('delete: preconditions', () => {
  test('a wrong uid or resourceVersion is a Conflict in kube\'s words, and nothing is deleted', async () => {
    const { pipeline, at, get, configMap } = await setup();
    const created = await configMap('pre');
    const uidErr = await refusal(pipeline.delete(admin, at(CONFIGMAPS, 'pre'), { preconditions: { uid: 'other' } }), 'Conflict');
    assert.equal(
      uidErr.message,
      `Operation cannot be fulfilled on ConfigMap "pre": the UID in the precondition (other) does not match the UID in record (${String(created.metadata?.uid)}). The object might have been deleted and then recreated`,
    );
    const rvErr = await refusal(pipeline.delete(admin, at(CONFIGMAPS, 'pre'), { preconditions: { resourceVersion: '1' } }), 'Conflict');
    assert.equal(
      rvErr.message,
      `Operation cannot be fulfilled on ConfigMap "pre": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${String(created.metadata?.resourceVersion)}). The object might have been modified`,
    );
    assert.equal((await get(CONFIGMAPS, 'pre')).metadata?.uid, created.metadata?.uid);
    const deleted = await pipeline.delete(admin, at(CONFIGMAPS, 'pre'), { preconditions: { uid: created.metadata?.uid, resourceVersion: created.metadata?.resourceVersion } });
    assert.equal(deleted.pending, false);
  });
});

describe('delete: propagation policy and the garbage collector\'s finalizers', () => {
  test('Orphan and the deprecated orphanDependents=true add `orphan`; Foreground adds `foregroundDeletion`; the object stays, marked', async () => {
    const { pipeline, at, get, configMap } = await setup();
    for (const [name, options, expected] of [
      ['orphan', { propagationPolicy: 'Orphan' }, ['orphan']],
      ['orphan-deprecated', { orphanDependents: true }, ['orphan']],
      ['foreground', { propagationPolicy: 'Foreground' }, ['foregroundDeletion']],
    ] as const) {
      await configMap(name, { finalizers: ['example.com/keep'] });
      const result = await pipeline.delete(admin, at(CONFIGMAPS, name), options);
      assert.equal(result.pending, true, name);
      const stored = await get(CONFIGMAPS, name);
      assert.deepEqual(finalizers(stored), ['example.com/keep', ...expected], name);
      assert.equal(typeof stored.metadata?.deletionTimestamp, 'string', name);
      assert.equal(stored.metadata?.deletionGracePeriodSeconds, 0, name);
      assert.deepEqual(result.object.metadata?.finalizers, stored.metadata?.finalizers, name);
    }
  });

  test('Background, or no policy, on an object without finalizers removes it; orphanDependents=false also adds nothing', async () => {
    const { pipeline, at, absent, configMap } = await setup();
    for (const [name, options] of [['bg', { propagationPolicy: 'Background' }], ['none', {}], ['not-orphan', { orphanDependents: false }]] as const) {
      await configMap(name);
      const result = await pipeline.delete(admin, at(CONFIGMAPS, name), options);
      assert.equal(result.pending, false, name);
      await absent(CONFIGMAPS, name);
    }
  });

  test('a batch/v1 Job orphans by default (kube\'s job strategy), not with Background', async () => {
    const { pipeline, at, get, absent } = await setup();
    const job = (name: string) =>
      pipeline.create(admin, at(JOBS), {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
      });
    await job('default-policy');
    assert.equal((await pipeline.delete(admin, at(JOBS, 'default-policy'))).pending, true);
    assert.deepEqual(finalizers(await get(JOBS, 'default-policy')), ['orphan']);
    await job('background');
    assert.equal((await pipeline.delete(admin, at(JOBS, 'background'), { propagationPolicy: 'Background' })).pending, false);
    await absent(JOBS, 'background');
  });

  test('an Event never gets the garbage collector\'s finalizers (kube\'s event strategy: GC Unsupported), through core/v1 or events.k8s.io/v1', async () => {
    const { pipeline, at, absent } = await setup();
    const event = (name: string) =>
      pipeline.create(admin, at(EVENTS), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name },
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-0' },
        reason: 'Pulled',
        message: 'image pulled',
        type: 'Normal',
      } as KubeObject);
    for (const info of [EVENTS, EVENTS_V1]) {
      for (const [suffix, options] of [
        ['orphan', { propagationPolicy: 'Orphan' }],
        ['foreground', { propagationPolicy: 'Foreground' }],
        ['deprecated', { orphanDependents: true }],
      ] as const) {
        const name = `${info.group === '' ? 'core' : 'events'}-${suffix}`;
        await event(name);
        const result = await pipeline.delete(admin, at(info, name), options);
        assert.equal(result.pending, false, name);
        await absent(EVENTS, name);
      }
    }
  });

  test('an object being deleted gets its finalizers changed by a later delete; taking away the last one removes it', async () => {
    const { pipeline, at, get, absent, configMap } = await setup();
    await configMap('again', { finalizers: ['example.com/keep'] });
    const first = await pipeline.delete(admin, at(CONFIGMAPS, 'again'), { propagationPolicy: 'Orphan' });
    const second = await pipeline.delete(admin, at(CONFIGMAPS, 'again'), { propagationPolicy: 'Foreground' });
    assert.equal(second.pending, true);
    const stored = await get(CONFIGMAPS, 'again');
    assert.deepEqual(finalizers(stored), ['example.com/keep', 'foregroundDeletion']);
    assert.equal(stored.metadata?.deletionTimestamp, first.object.metadata?.deletionTimestamp, 'the first deletionTimestamp is kept');
    const third = await pipeline.delete(admin, at(CONFIGMAPS, 'again'), { propagationPolicy: 'Foreground' });
    assert.equal(third.object.metadata?.resourceVersion, stored.metadata?.resourceVersion, 'a delete that changes nothing writes nothing');

    await configMap('only-orphan');
    await pipeline.delete(admin, at(CONFIGMAPS, 'only-orphan'), { propagationPolicy: 'Orphan' });
    const removed = await pipeline.delete(admin, at(CONFIGMAPS, 'only-orphan'), { propagationPolicy: 'Background' });
    assert.equal(removed.pending, false);
    await absent(CONFIGMAPS, 'only-orphan');
  });

  test('an object with only `orphan` that is not being deleted yet: Background takes it away and removes the object', async () => {
    const { pipeline, at, absent, configMap } = await setup();
    await configMap('preset', { finalizers: ['orphan'] });
    const result = await pipeline.delete(admin, at(CONFIGMAPS, 'preset'), { propagationPolicy: 'Background' });
    assert.equal(result.pending, false);
    await absent(CONFIGMAPS, 'preset');
  });
});

/**
 * The cases of kube's TestStoreDeletionPropagation (apiserver registry/generic/registry/store_test.go):
 * existing finalizers x propagation policy x the kind's default policy (a ConfigMap: none; a
 * batch/v1 Job: OrphanDependents) -> the object's finalizers after the delete, or removed. Where
 * the object stays it is marked (deletionTimestamp, grace period 0, generation raised).
 */
describe('delete: kube\'s deletion propagation table', () => {
  const ORPHAN = 'orphan';
  const FOREGROUND = 'foregroundDeletion';
  const cases: { existing: string[]; policy: string | undefined; defaults: 'default' | 'orphan'; expected: string[] | 'removed' }[] = [];
  const row = (existing: string[], policy: string | undefined, byDefault: string[] | 'removed', byOrphanDefault: string[] | 'removed') => {
    cases.push({ existing, policy, defaults: 'default', expected: byDefault }, { existing, policy, defaults: 'orphan', expected: byOrphanDefault });
  };
  row([], 'Foreground', [FOREGROUND], [FOREGROUND]);
  row([], 'Background', 'removed', 'removed');
  row([], 'Orphan', [ORPHAN], [ORPHAN]);
  row([], undefined, 'removed', [ORPHAN]);
  row([ORPHAN], 'Foreground', [FOREGROUND], [FOREGROUND]);
  row([ORPHAN], 'Background', 'removed', 'removed');
  row([ORPHAN], 'Orphan', [ORPHAN], [ORPHAN]);
  row([ORPHAN], undefined, [ORPHAN], [ORPHAN]);
  row([FOREGROUND], 'Foreground', [FOREGROUND], [FOREGROUND]);
  row([FOREGROUND], 'Background', 'removed', 'removed');
  row([FOREGROUND], 'Orphan', [ORPHAN], [ORPHAN]);
  row([FOREGROUND], undefined, [FOREGROUND], [FOREGROUND]);

  test('every case', async () => {
    const { pipeline, at, get, absent } = await setup();
    let i = 0;
    for (const c of cases) {
      const name = `case-${++i}`;
      const info = c.defaults === 'orphan' ? JOBS : CONFIGMAPS;
      const metadata = { name, finalizers: c.existing, generation: 1 };
      const body =
        info === JOBS
          ? { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }
          : { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { a: '1' } };
      const created = await pipeline.create(admin, at(info), body);
      const title = `${c.existing.join(',') || 'no finalizers'} / ${c.policy ?? 'default'} / ${c.defaults} strategy`;
      await pipeline.delete(admin, at(info, name), c.policy === undefined ? {} : { propagationPolicy: c.policy });
      if (c.expected === 'removed') {
        await absent(info, name);
        continue;
      }
      const stored = await get(info, name);
      assert.deepEqual(stored.metadata?.finalizers, c.expected, title);
      assert.equal(typeof stored.metadata?.deletionTimestamp, 'string', title);
      assert.equal(stored.metadata?.deletionGracePeriodSeconds, 0, title);
      assert.ok((stored.metadata?.generation ?? 0) > (created.metadata?.generation ?? 0), `${title}: generation raised`);
    }
  });
});

describe('delete: a pod\'s graceful deletion', () => {
  test('an unscheduled pod goes at once, whatever the grace period asked', async () => {
    const { pipeline, at, absent, pod } = await setup();
    await pod('unscheduled');
    const result = await pipeline.delete(admin, at(PODS, 'unscheduled'), { gracePeriodSeconds: 60 });
    assert.equal(result.pending, false);
    assert.equal(result.object.metadata?.deletionGracePeriodSeconds, 0, 'the last state is the one marked with grace 0');
    await absent(PODS, 'unscheduled');
  });

  test('a scheduled pod stays with deletionTimestamp = now + grace; a shorter grace shortens it, a longer one changes nothing; 0 removes it', async () => {
    const { pipeline, at, get, absent, pod } = await setup();
    const created = await pod('scheduled', { nodeName: 'node-1' });
    assert.equal((created.spec as { terminationGracePeriodSeconds: number }).terminationGracePeriodSeconds, 30);
    const before = Date.now() / 1000;
    const first = await pipeline.delete(admin, at(PODS, 'scheduled'));
    assert.equal(first.pending, true);
    let stored = await get(PODS, 'scheduled');
    assert.equal(stored.metadata?.deletionGracePeriodSeconds, 30);
    const deadline = seconds(stored.metadata?.deletionTimestamp);
    assert.ok(deadline >= Math.floor(before) + 30 && deadline <= Math.ceil(Date.now() / 1000) + 30, `deletionTimestamp ${String(stored.metadata?.deletionTimestamp)}`);

    const longer = await pipeline.delete(admin, at(PODS, 'scheduled'), { gracePeriodSeconds: 100 });
    assert.equal(longer.pending, true);
    assert.equal(longer.object.metadata?.resourceVersion, stored.metadata?.resourceVersion, 'a longer grace period writes nothing');

    const shorter = await pipeline.delete(admin, at(PODS, 'scheduled'), { gracePeriodSeconds: 10 });
    assert.equal(shorter.pending, true);
    stored = await get(PODS, 'scheduled');
    assert.equal(stored.metadata?.deletionGracePeriodSeconds, 10);
    assert.equal(seconds(stored.metadata?.deletionTimestamp), deadline - 20);

    const forced = await pipeline.delete(admin, at(PODS, 'scheduled'), { gracePeriodSeconds: 0 });
    assert.equal(forced.pending, false);
    await absent(PODS, 'scheduled');
  });

  test('a negative grace period counts as 1 s (kube\'s BeforeDelete)', async () => {
    const { pipeline, at, get, pod } = await setup();
    await pod('negative', { nodeName: 'node-1' });
    const result = await pipeline.delete(admin, at(PODS, 'negative'), { gracePeriodSeconds: -5 });
    assert.equal(result.pending, true);
    assert.equal((await get(PODS, 'negative')).metadata?.deletionGracePeriodSeconds, 1);
  });

  test('a finished pod (Succeeded) goes at once', async () => {
    const { pipeline, at, absent, pod } = await setup();
    const created = await pod('done', { nodeName: 'node-1' });
    await pipeline.update(admin, { ...at(PODS, 'done'), subresource: 'status' }, { ...created, status: { phase: 'Succeeded' } });
    assert.equal((await pipeline.delete(admin, at(PODS, 'done'))).pending, false);
    await absent(PODS, 'done');
  });

  test('a scheduled pod with a finalizer and grace 0: marked, held by its finalizer', async () => {
    const { pipeline, at, get, pod } = await setup();
    await pod('held', { nodeName: 'node-1' }, { finalizers: ['example.com/keep'] });
    const result = await pipeline.delete(admin, at(PODS, 'held'), { gracePeriodSeconds: 0 });
    assert.equal(result.pending, true);
    const stored = await get(PODS, 'held');
    assert.equal(stored.metadata?.deletionGracePeriodSeconds, 0);
    assert.deepEqual(finalizers(stored), ['example.com/keep']);
  });
});

/**
 * kube's Store.Delete (registry/generic/registry/store.go): updateForGracefulDeletionAndFinalizers
 * answers errDeleteNow, storing nothing, when the delete leaves the object no finalizer and no
 * grace period; the object is then deleted on the state read, and watchers see one DELETED.
 */
describe('delete: what a watcher sees', () => {
  test('taking away the last finalizers is one DELETED, with no MODIFIED before it; a delete that leaves one is one MODIFIED', async (t) => {
    const watched = await watchedPipeline();
    t.after(() => watched.close());
    const { pipeline } = watched;
    const at = (name = ''): Target => ({ info: CONFIGMAPS, namespace: 'default', name });
    const configMap = (name: string, finalizers: string[] = []) =>
      pipeline.create(admin, at(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, finalizers }, data: { a: '1' } });
    await configMap('preset', ['orphan']);
    await configMap('marked');
    await configMap('kept', ['example.com/keep', 'orphan']);
    const marked = await pipeline.delete(admin, at('marked'), { propagationPolicy: 'Orphan' });
    assert.deepEqual([marked.pending, finalizers(marked.object)], [true, ['orphan']]);
    const signal = AbortSignal.timeout(20_000);
    const watch = await pipeline.watch(admin, at(), { resourceVersion: String(marked.object.metadata?.resourceVersion) }, signal);

    // A dry run answers the object as stored, and writes nothing.
    const dry = await pipeline.delete(admin, at('preset'), { propagationPolicy: 'Background', dryRun: true });
    assert.deepEqual([dry.pending, finalizers(dry.object)], [false, ['orphan']]);
    // Not being deleted yet, only `orphan`: Background takes it away.
    assert.equal((await pipeline.delete(admin, at('preset'), { propagationPolicy: 'Background' })).pending, false);
    // Being deleted already, held by `orphan` alone.
    assert.equal((await pipeline.delete(admin, at('marked'), { propagationPolicy: 'Background' })).pending, false);
    // Another finalizer stays: the delete's change is stored.
    assert.equal((await pipeline.delete(admin, at('kept'), { propagationPolicy: 'Background' })).pending, true);
    // An update taking the last one away is not stored either (kube's Store.Update, errEmptiedFinalizers).
    const patched = await pipeline.patch(admin, at('kept'), { contentType: 'application/merge-patch+json', body: Buffer.from('{"metadata":{"finalizers":null}}') });
    assert.equal(patched.metadata?.finalizers, undefined);
    await refusal(pipeline.get(admin, at('kept')), 'NotFound');
    await configMap('end');

    const seen: [string, string, unknown][] = [];
    for await (const event of watch) {
      const object = JSON.parse(event.object.toString()) as KubeObject;
      seen.push([event.type, String(object.metadata?.name), object.metadata?.finalizers]);
      if (object.metadata?.name === 'end') break;
    }
    assert.deepEqual(seen, [
      ['DELETED', 'preset', ['orphan']],
      ['DELETED', 'marked', ['orphan']],
      ['MODIFIED', 'kept', ['example.com/keep']],
      ['DELETED', 'kept', ['example.com/keep']],
      ['ADDED', 'end', undefined],
    ]);
  });
});

describe('delete: dryRun', () => {
  test('answers what the delete would do and writes nothing', async () => {
    const { pipeline, at, get, configMap, pod } = await setup();
    const created = await configMap('dry');
    const plain = await pipeline.delete(admin, at(CONFIGMAPS, 'dry'), { dryRun: true });
    assert.equal(plain.pending, false);
    const orphaned = await pipeline.delete(admin, at(CONFIGMAPS, 'dry'), { dryRun: true, propagationPolicy: 'Orphan' });
    assert.equal(orphaned.pending, true);
    assert.deepEqual(orphaned.object.metadata?.finalizers, ['orphan']);
    const stored = await get(CONFIGMAPS, 'dry');
    assert.equal(stored.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(stored.metadata?.deletionTimestamp, undefined);

    const scheduled = await pod('dry-pod', { nodeName: 'node-1' });
    const graceful = await pipeline.delete(admin, at(PODS, 'dry-pod'), { dryRun: true, gracePeriodSeconds: 5 });
    assert.equal(graceful.pending, true);
    assert.equal(graceful.object.metadata?.deletionGracePeriodSeconds, 5);
    assert.equal((await get(PODS, 'dry-pod')).metadata?.resourceVersion, scheduled.metadata?.resourceVersion);
  });
});

describe('deletecollection', () => {
  test('deletes what the label or field selector matches, answers the objects listed, and honours finalizers', async () => {
    const { pipeline, at, get, absent, configMap } = await setup();
    await configMap('a1', { labels: { app: 'a' } });
    await configMap('a2', { labels: { app: 'a' }, finalizers: ['example.com/keep'] });
    await configMap('b1', { labels: { app: 'b' } });
    const result = await pipeline.deleteCollection(admin, at(CONFIGMAPS), { labelSelector: 'app=a' });
    assert.deepEqual(result.items.map((o) => o.metadata?.name), ['a1', 'a2']);
    assert.equal(result.items[0]?.metadata?.deletionTimestamp, undefined, 'the items as listed, before their delete');
    await absent(CONFIGMAPS, 'a1');
    assert.equal(typeof (await get(CONFIGMAPS, 'a2')).metadata?.deletionTimestamp, 'string');
    assert.equal((await get(CONFIGMAPS, 'b1')).metadata?.name, 'b1');

    const byField = await pipeline.deleteCollection(admin, at(CONFIGMAPS), { fieldSelector: 'metadata.name=b1' });
    assert.deepEqual(byField.items.map((o) => o.metadata?.name), ['b1']);
    await absent(CONFIGMAPS, 'b1');
    await refusal(pipeline.deleteCollection(admin, at(CONFIGMAPS), { fieldSelector: 'data.a=1' }), 'BadRequest');
  });

  test('dryRun deletes nothing; a limit deletes one page; the propagation policy applies to each item', async () => {
    const { pipeline, at, get, configMap } = await setup();
    for (const n of ['c1', 'c2', 'c3']) await configMap(n, { labels: { set: 'c' } });
    const dry = await pipeline.deleteCollection(admin, at(CONFIGMAPS), { labelSelector: 'set=c' }, { dryRun: true });
    assert.equal(dry.items.length, 3);
    for (const n of ['c1', 'c2', 'c3']) assert.equal((await get(CONFIGMAPS, n)).metadata?.deletionTimestamp, undefined);
    const page = await pipeline.deleteCollection(admin, at(CONFIGMAPS), { labelSelector: 'set=c', limit: 2 }, { propagationPolicy: 'Orphan' });
    assert.deepEqual(page.items.map((o) => o.metadata?.name), ['c1', 'c2']);
    assert.notEqual(page.continue, '');
    assert.deepEqual(finalizers(await get(CONFIGMAPS, 'c1')), ['orphan']);
    assert.deepEqual(finalizers(await get(CONFIGMAPS, 'c2')), ['orphan']);
    assert.equal((await get(CONFIGMAPS, 'c3')).metadata?.deletionTimestamp, undefined);
  });

  // kube's Store.DeleteCollection clears resourceVersion and resourceVersionMatch for the pages
  // after the first (a continue token already pins the list's revision).
  test('a collection of more than one page with resourceVersion and resourceVersionMatch: every page listed and deleted', async () => {
    const { storage, pipeline, at, configMap } = await setup();
    const marker = await configMap('page-0');
    // Straight into storage: a page is DELETE_COLLECTION_PAGE_SIZE objects, too many to create one by one through admission.
    const ref = { group: '', resource: 'configmaps', namespace: 'default', name: '' };
    for (let i = 1; i <= DELETE_COLLECTION_PAGE_SIZE; i++) {
      const name = `page-${i}`;
      await storage.create({ ...ref, name }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid: `uid-${i}`, creationTimestamp: '2026-01-01T00:00:00Z' } });
    }
    const rv = String(marker.metadata?.resourceVersion);
    const result = await pipeline.deleteCollection(admin, at(CONFIGMAPS), { resourceVersion: rv, resourceVersionMatch: 'NotOlderThan' });
    assert.equal(result.items.length, DELETE_COLLECTION_PAGE_SIZE + 1);
    assert.equal((await pipeline.list(admin, at(CONFIGMAPS), {})).items.length, 0);
  });

  test('authorized as the verb deletecollection, before anything is listed', async () => {
    const { pipeline, at, get, configMap } = await setup();
    await configMap('kept');
    const bob: UserInfo = { username: 'bob', uid: '2', groups: [] };
    const refused = await refusal(pipeline.deleteCollection(bob, at(CONFIGMAPS), {}), 'Forbidden');
    assert.equal(refused.message, 'configmaps is forbidden: User "bob" cannot deletecollection resource "configmaps" in API group "" in the namespace "default"');
    assert.equal((await get(CONFIGMAPS, 'kept')).metadata?.name, 'kept');
  });

  test('a namespaced collection across all namespaces is refused (kube serves no such route)', async () => {
    const { pipeline } = await setup();
    await refusal(pipeline.deleteCollection(admin, { info: CONFIGMAPS, namespace: '', name: '' }, {}), 'MethodNotAllowed');
  });
});
