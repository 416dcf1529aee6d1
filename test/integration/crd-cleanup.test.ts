/**
 * Deleting a CustomResourceDefinition as kube does, over the real admission chain and the
 * memory storage: the first delete marks it (deletionTimestamp, the cleanup finalizer, the
 * Terminating condition) and answers it; while it is terminating its custom resources are
 * read, updated and deleted but not created; the crd-cleanup controller deletes them in every
 * namespace (one held by a finalizer waits for it, reported as kube reports it), survives a
 * restart mid-way, and takes its finalizer away, so the definition goes and a new one of the
 * same name starts empty.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseObjectBytes, type KubeObject } from '../../lib/kube.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import type { Target } from '../../services/gateway/core/pipeline.ts';
import { CrdCleanupController } from '../../services/gateway/controllers/crd-cleanup.ts';
import { controllerUser } from '../../services/gateway/controllers/types.ts';
import { createLogger } from '../../lib/log.ts';
import { refusal } from '../support/pipeline.ts';
import { watchedPipeline, type WatchedPipeline } from '../support/watched-pipeline.ts';

const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
const NAME = 'widgets.example.com';

function definition(plural = 'widgets', kind = 'Widget', scope = 'Namespaced', finalizers?: string[]): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.example.com`, ...(finalizers ? { finalizers } : {}) },
    spec: {
      group: 'example.com',
      scope,
      names: { plural, singular: plural.slice(0, -1), kind, listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
}

const terminatingOf = (crd: KubeObject) => ((crd.status as { conditions?: Record<string, unknown>[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Terminating');

/** Resolves when `check` holds for the registry (checked now and on every change); fails after `ms`. */
async function registryState(plane: WatchedPipeline, check: () => boolean, what: string, ms = 10_000): Promise<void> {
  if (check()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`${what}: not within ${ms} ms`));
    }, ms);
    const unsubscribe = plane.registry.subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

/** Resolves with the first watch event of `target` that `match` accepts; fails after `ms`. */
async function eventOf(plane: WatchedPipeline, target: Target, match: (type: string, object: KubeObject) => boolean, what: string, resourceVersion = '', ms = 20_000): Promise<KubeObject> {
  const signal = AbortSignal.timeout(ms);
  try {
    const events = await plane.pipeline.watch(admin, target, { resourceVersion }, signal);
    for await (const event of events) {
      const object = parseObjectBytes(event.object);
      if (match(event.type, object)) return object;
    }
  } catch (err) {
    if (signal.aborted) assert.fail(`${what}: no matching event within ${ms} ms`);
    throw err;
  }
  assert.fail(`${what}: the watch ended without a matching event`);
}

describe('CustomResourceDefinition deletion and the crd-cleanup controller', () => {
  let plane: WatchedPipeline;
  const logger = createLogger({ service: 'test', level: 'error' });
  const crds = (): Target => plane.target('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
  const widgets = (namespace: string, name = ''): Target => plane.target('example.com', 'v1', 'widgets', namespace, name);
  /** Starts a controller as a leading replica runs it; the returned function stops it and waits for it. */
  const start = (): (() => Promise<void>) => {
    const stop = new AbortController();
    const controller = new CrdCleanupController({ pollMs: 50, pollTimeoutMs: 1000, retryMs: 100, maxRetryMs: 400 });
    const running = controller.run({ pipeline: plane.pipeline, registry: plane.registry, logger, user: controllerUser() }, stop.signal);
    return async () => {
      stop.abort();
      await running;
    };
  };

  before(async () => {
    plane = await watchedPipeline();
    await plane.pipeline.create(admin, plane.target('', 'v1', 'namespaces'), { metadata: { name: 'other' } });
  });
  after(async () => {
    await plane.close();
  });

  test('marked on delete, creates refused while terminating, instances deleted across a restart, then the definition goes', async () => {
    await plane.pipeline.create(admin, crds(), definition());
    await registryState(plane, () => plane.registry.get('example.com', 'v1', 'widgets') !== undefined, 'the custom kind served');
    await plane.pipeline.create(admin, widgets('default'), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' } });
    await plane.pipeline.create(admin, widgets('other'), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w2' } });
    await plane.pipeline.create(admin, widgets('other'), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'held', finalizers: ['example.com/hold'] } });

    // The first delete marks the definition and answers it (kube's CRD REST Delete).
    const deleted = await plane.pipeline.delete(admin, { ...crds(), name: NAME });
    assert.equal(deleted.pending, true);
    const marked = deleted.object;
    assert.equal(typeof marked.metadata?.deletionTimestamp, 'string');
    assert.equal(marked.metadata?.deletionGracePeriodSeconds, undefined, 'only deletionTimestamp, as kube');
    assert.deepEqual(marked.metadata?.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
    const pending = terminatingOf(marked);
    assert.equal(pending?.status, 'True');
    assert.equal(pending?.reason, 'InstanceDeletionPending');
    assert.equal(pending?.message, 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon');
    // A second delete is the generic store's: it stays marked (kube's markAsDeleting sets a grace period of 0).
    const again = await plane.pipeline.delete(admin, { ...crds(), name: NAME });
    assert.equal(again.pending, true);
    assert.equal(again.object.metadata?.deletionTimestamp, marked.metadata?.deletionTimestamp);
    assert.equal(again.object.metadata?.deletionGracePeriodSeconds, 0);
    assert.deepEqual(again.object.metadata?.finalizers, marked.metadata?.finalizers);

    // Terminating: no creates (kube's forbidCreateAdmission); reads, updates and deletes work.
    await registryState(plane, () => plane.registry.get('example.com', 'v1', 'widgets')?.terminating === true, 'the custom kind terminating');
    const refused = await refusal(plane.pipeline.create(admin, widgets('default'), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w3' } }), 'Forbidden');
    assert.equal(refused.message, 'widgets.example.com "w3" is forbidden: create not allowed while custom resource definition is terminating');
    const generated = await refusal(plane.pipeline.create(admin, widgets('default'), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { generateName: 'w-' } }), 'Forbidden');
    assert.equal(generated.message, 'widgets.example.com is forbidden: create not allowed while custom resource definition is terminating');
    // A server-side apply that would create is refused alike (kube's forbidCreateAdmission on patch).
    const applied = await refusal(
      plane.pipeline.apply(admin, widgets('default', 'w4'), { object: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w4', namespace: 'default' } }, strictErrors: [] }, { fieldManager: 'test' }),
      'Forbidden',
    );
    assert.equal(applied.message, 'widgets.example.com "w4" is forbidden: create not allowed while custom resource definition is terminating');
    const w1 = await plane.pipeline.get(admin, widgets('default', 'w1'));
    await plane.pipeline.update(admin, widgets('default', 'w1'), { ...w1, metadata: { ...w1.metadata, labels: { touched: 'yes' } } });

    // The controller starts: in progress, the unheld instances go, the held one waits and is reported.
    const from = (await plane.pipeline.list(admin, widgets(''), {})).resourceVersion;
    let stop = start();
    try {
      await eventOf(plane, widgets(''), (type, o) => type === 'DELETED' && o.metadata?.name === 'w2', 'w2 deleted', from);
      await eventOf(plane, widgets(''), (type, o) => type === 'DELETED' && o.metadata?.name === 'w1', 'w1 deleted', from);
      const held = await plane.pipeline.get(admin, widgets('other', 'held'));
      assert.equal(typeof held.metadata?.deletionTimestamp, 'string', 'the held instance is marked and stays');
      const check = await eventOf(plane, crds(), (_t, o) => terminatingOf(o)?.reason === 'InstanceDeletionCheck', 'the wait for the held instance reported');
      assert.equal(terminatingOf(check)?.status, 'True');
      assert.equal(terminatingOf(check)?.message, 'could not confirm zero CustomResources remaining: context deadline exceeded');
    } finally {
      // A restart mid-way: the state is the definition itself.
      await stop();
    }
    assert.ok((await plane.pipeline.get(admin, { ...crds(), name: NAME })).metadata?.finalizers?.includes('customresourcecleanup.apiextensions.k8s.io'), 'still held while an instance remains');
    stop = start();
    try {
      const inProgress = await eventOf(plane, crds(), (_t, o) => terminatingOf(o)?.reason === 'InstanceDeletionInProgress', 'a new pass in progress');
      assert.equal(terminatingOf(inProgress)?.message, 'CustomResource deletion is in progress');
      const held = await plane.pipeline.get(admin, widgets('other', 'held'));
      await plane.pipeline.update(admin, widgets('other', 'held'), { ...held, metadata: { ...held.metadata, finalizers: [] } });
      const last = await eventOf(plane, crds(), (type, o) => type === 'DELETED' && o.metadata?.name === NAME, 'the definition gone');
      assert.equal(terminatingOf(last)?.status, 'False');
      assert.equal(terminatingOf(last)?.reason, 'InstanceDeletionCompleted');
      assert.equal(terminatingOf(last)?.message, 'removed all instances');
    } finally {
      await stop();
    }
    const storedLeft = await plane.storage.list({ group: 'example.com', resource: 'widgets', namespace: '', name: '' }, {});
    assert.deepEqual(storedLeft.items, [], 'nothing of the definition is left in storage');

    // The same definition again: it starts empty.
    await plane.pipeline.create(admin, crds(), definition());
    await registryState(plane, () => {
      const kind = plane.registry.get('example.com', 'v1', 'widgets');
      return kind !== undefined && kind.terminating !== true;
    }, 'the new custom kind served');
    assert.deepEqual((await plane.pipeline.list(admin, widgets(''), {})).items, []);
    await plane.pipeline.create(admin, widgets('default'), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' } });
  });

  test('a dry run changes nothing; a definition with a finalizer of its own keeps it; cluster-scoped instances go too', async () => {
    const name = 'gears.example.com';
    const gears = (n = ''): Target => plane.target('example.com', 'v1', 'gears', '', n);
    await plane.pipeline.create(admin, crds(), definition('gears', 'Gear', 'Cluster', ['example.com/keep']));
    await registryState(plane, () => plane.registry.get('example.com', 'v1', 'gears') !== undefined, 'the cluster-scoped kind served');
    for (const n of ['g1', 'g2']) await plane.pipeline.create(admin, gears(), { apiVersion: 'example.com/v1', kind: 'Gear', metadata: { name: n } });

    const dry = await plane.pipeline.delete(admin, { ...crds(), name }, { dryRun: true });
    assert.equal(dry.pending, true);
    assert.deepEqual(dry.object.metadata?.finalizers, ['example.com/keep', 'customresourcecleanup.apiextensions.k8s.io']);
    assert.equal(terminatingOf(dry.object)?.reason, 'InstanceDeletionPending');
    const untouched = await plane.pipeline.get(admin, { ...crds(), name });
    assert.equal(untouched.metadata?.deletionTimestamp, undefined);
    assert.deepEqual(untouched.metadata?.finalizers, ['example.com/keep']);
    assert.equal(terminatingOf(untouched), undefined);

    // Its own finalizer: the delete marks it through the update of a delete, the cleanup finalizer added all the same.
    const deleted = await plane.pipeline.delete(admin, { ...crds(), name });
    assert.deepEqual(deleted.object.metadata?.finalizers, ['example.com/keep', 'customresourcecleanup.apiextensions.k8s.io']);
    assert.equal(terminatingOf(deleted.object)?.reason, 'InstanceDeletionPending');
    const stop = start();
    try {
      const done = await eventOf(plane, crds(), (_t, o) => o.metadata?.name === name && terminatingOf(o)?.reason === 'InstanceDeletionCompleted' && !(o.metadata?.finalizers ?? []).includes('customresourcecleanup.apiextensions.k8s.io'), 'cleaned up');
      assert.deepEqual(done.metadata?.finalizers, ['example.com/keep'], 'its own finalizer stays');
      assert.equal(terminatingOf(done)?.status, 'False');
    } finally {
      await stop();
    }
    assert.deepEqual((await plane.storage.list({ group: 'example.com', resource: 'gears', namespace: '', name: '' }, {})).items, []);
    const held = await plane.pipeline.get(admin, { ...crds(), name });
    await plane.pipeline.update(admin, { ...crds(), name }, { ...held, metadata: { ...held.metadata, finalizers: [] } });
    await refusal(plane.pipeline.get(admin, { ...crds(), name }), 'NotFound');
  });
});
