/**
 * Namespace deletion as a cluster does it, over the real admission chain and the memory storage:
 * a delete marks the namespace Terminating (kube's namespace storage), /finalize and /status
 * follow kube's strategies, and the namespace controller, run by a controller host, empties the
 * namespace (objects held by a finalizer stay, reported in the conditions, until it is removed),
 * finalizes it and the namespace goes; a host stopped mid-way and started again finishes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import { parseObjectBytes, type KubeObject } from '../../lib/kube.ts';
import type { KindDefinition } from '../../lib/kinds/index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import type { Pipeline, Target } from '../../services/gateway/core/pipeline.ts';
import { ControllerHost } from '../../services/gateway/controllers/host.ts';
import { CONTROLLER_FLAGS, controllerHostFrom } from '../../services/gateway/controllers/index.ts';
import { NamespaceController } from '../../services/gateway/controllers/namespace.ts';
import { controllerPlane, SeveredStorage, type ControllerPlane } from '../support/controller-plane.ts';
import { refusal } from '../support/pipeline.ts';

const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
const TIMING = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

function kind(plane: ControllerPlane, group: string, version: string, resource: string): KindDefinition {
  const info = plane.registry.get(group, version, resource);
  assert.ok(info !== undefined, resource);
  return info;
}

/** Resolves with the first watch event of `target` that `match` accepts; fails after `ms`. */
async function eventOf(pipeline: Pipeline, target: Target, match: (type: string, object: KubeObject) => boolean, ms = 20_000): Promise<KubeObject> {
  const signal = AbortSignal.timeout(ms);
  const events = await pipeline.watch(admin, target, { resourceVersion: '' }, signal);
  try {
    for await (const event of events) {
      const object = parseObjectBytes(event.object);
      if (match(event.type, object)) return object;
    }
  } catch (err) {
    if (signal.aborted) assert.fail(`no matching event within ${ms} ms`);
    throw err;
  }
  assert.fail('watch ended without a matching event');
}

const conditionsOf = (ns: KubeObject) => ((ns.status as { conditions?: Record<string, unknown>[] }).conditions ?? []);

describe('namespace lifecycle through the pipeline', () => {
  let plane: ControllerPlane;
  let pipeline: Pipeline;
  let ns: KindDefinition;
  let cm: KindDefinition;
  before(async () => {
    plane = await controllerPlane();
    pipeline = plane.pipelineFor();
    ns = kind(plane, '', 'v1', 'namespaces');
    cm = kind(plane, '', 'v1', 'configmaps');
  });
  after(async () => {
    await plane.close();
  });

  test('a delete marks the namespace Terminating; creates in it are refused; finalize removes it', async () => {
    const created = await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'marked' } });
    assert.deepEqual(created.spec, { finalizers: ['kubernetes'] });
    // A uid precondition that does not hold.
    const stale = await refusal(pipeline.delete(admin, { info: ns, namespace: '', name: 'marked' }, { preconditions: { uid: 'other' } }), 'Conflict');
    assert.match(stale.message, /the UID in the precondition \(other\) does not match the UID in record/);
    const deleted = await pipeline.delete(admin, { info: ns, namespace: '', name: 'marked' });
    assert.equal(deleted.pending, true);
    assert.equal((deleted.object.status as Record<string, unknown>).phase, 'Terminating');
    assert.equal(typeof deleted.object.metadata?.deletionTimestamp, 'string');
    assert.deepEqual(deleted.object.spec, { finalizers: ['kubernetes'] });
    // Deleting again changes nothing and answers the namespace.
    const again = await pipeline.delete(admin, { info: ns, namespace: '', name: 'marked' });
    assert.equal(again.pending, true);
    assert.equal(again.object.metadata?.resourceVersion, deleted.object.metadata?.resourceVersion);
    const refused = await refusal(pipeline.create(admin, { info: cm, namespace: 'marked', name: '' }, { metadata: { name: 'late' } }), 'Forbidden');
    assert.equal(refused.message, 'configmaps "late" is forbidden: unable to create new content in namespace marked because it is being terminated');
    // A plain update cannot change spec.finalizers; /status cannot claim Active while deleting.
    const current = await pipeline.get(admin, { info: ns, namespace: '', name: 'marked' });
    const updated = await pipeline.update(admin, { info: ns, namespace: '', name: 'marked' }, { ...current, spec: { finalizers: [] }, metadata: { ...current.metadata, labels: { team: 'a' } } });
    assert.deepEqual(updated.spec, { finalizers: ['kubernetes'] });
    assert.equal((updated.metadata?.labels as Record<string, string>).team, 'a');
    const phase = await refusal(pipeline.update(admin, { info: ns, namespace: '', name: 'marked', subresource: 'status' }, { ...updated, status: { phase: 'Active' } }), 'Invalid');
    assert.match(phase.message, /status.Phase: Invalid value: "Active": may only be 'Terminating' if `deletionTimestamp` is not empty/);
    const badName = await refusal(pipeline.update(admin, { info: ns, namespace: '', name: 'marked', subresource: 'finalize' }, { ...updated, spec: { finalizers: ['custom'] } }), 'Invalid');
    assert.match(badName.message, /spec.finalizers\[0\]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified/);
    // /finalize writes spec.finalizers (not status); emptying them removes the namespace.
    const kept = await pipeline.update(admin, { info: ns, namespace: '', name: 'marked', subresource: 'finalize' }, { ...updated, spec: { finalizers: ['example.com/hold'] }, status: { phase: 'Active' } });
    assert.deepEqual(kept.spec, { finalizers: ['example.com/hold'] });
    assert.equal((kept.status as Record<string, unknown>).phase, 'Terminating');
    await pipeline.update(admin, { info: ns, namespace: '', name: 'marked', subresource: 'finalize' }, { ...kept, spec: { finalizers: [] } });
    await refusal(pipeline.get(admin, { info: ns, namespace: '', name: 'marked' }), 'NotFound');
    // finalize is update only.
    await refusal(pipeline.patch(admin, { info: ns, namespace: '', name: 'default', subresource: 'finalize' }, { contentType: 'application/merge-patch+json', body: Buffer.from('{}') }), 'MethodNotAllowed');
  });

  test('default, kube-system and kube-public may not be deleted (NamespaceLifecycle)', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      const err = await refusal(pipeline.delete(admin, { info: ns, namespace: '', name }), 'Forbidden');
      assert.equal(err.message, `namespaces "${name}" is forbidden: this namespace may not be deleted`);
      assert.equal((await pipeline.get(admin, { info: ns, namespace: '', name })).metadata?.deletionTimestamp, undefined);
    }
  });

  test('propagationPolicy Orphan on a namespace: marked Terminating with the orphan finalizer, as kube\'s namespace storage', async () => {
    await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'orphaning' } });
    const marked = await pipeline.delete(admin, { info: ns, namespace: '', name: 'orphaning' }, { propagationPolicy: 'Orphan' });
    assert.equal(marked.pending, true);
    assert.deepEqual(marked.object.metadata?.finalizers, ['orphan']);
    assert.equal((marked.object.status as Record<string, unknown>).phase, 'Terminating');
    // The garbage collector taking `orphan` away does not remove it while spec.finalizers hold it.
    const current = await pipeline.get(admin, { info: ns, namespace: '', name: 'orphaning' });
    const released = await pipeline.update(admin, { info: ns, namespace: '', name: 'orphaning' }, { ...current, metadata: { ...current.metadata, finalizers: [] } });
    assert.equal(released.metadata?.finalizers, undefined);
    assert.ok((await pipeline.get(admin, { info: ns, namespace: '', name: 'orphaning' })).metadata?.deletionTimestamp);
  });

  test('a dry-run delete answers the namespace as the delete would leave it (Terminating) and changes nothing', async () => {
    await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'dry' } });
    const dry = await pipeline.delete(admin, { info: ns, namespace: '', name: 'dry' }, { dryRun: true });
    assert.equal(dry.pending, true);
    assert.equal((dry.object.status as Record<string, unknown>).phase, 'Terminating');
    assert.equal(typeof dry.object.metadata?.deletionTimestamp, 'string');
    const stored = await pipeline.get(admin, { info: ns, namespace: '', name: 'dry' });
    assert.equal((stored.status as Record<string, unknown>).phase, 'Active');
    assert.equal(stored.metadata?.deletionTimestamp, undefined);
    // Being deleted and held by spec.finalizers: it stays.
    await pipeline.delete(admin, { info: ns, namespace: '', name: 'dry' });
    const held = await pipeline.delete(admin, { info: ns, namespace: '', name: 'dry' }, { dryRun: true });
    assert.equal(held.pending, true);
  });

  test('a later delete that takes `orphan` away answers the namespace as still held by spec.finalizers', async () => {
    await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'orphan-then-background' } });
    await pipeline.delete(admin, { info: ns, namespace: '', name: 'orphan-then-background' }, { propagationPolicy: 'Orphan' });
    const again = await pipeline.delete(admin, { info: ns, namespace: '', name: 'orphan-then-background' }, { propagationPolicy: 'Background' });
    assert.equal(again.object.metadata?.finalizers, undefined);
    assert.equal(again.pending, true, 'the namespace stays until the namespace controller finalizes it');
    assert.equal((await pipeline.get(admin, { info: ns, namespace: '', name: 'orphan-then-background' })).metadata?.name, 'orphan-then-background');
  });

  test('a Terminating namespace without finalizers left goes on the next delete', async () => {
    // Something else (metadata.finalizers) holds it too; none may be added once it is deleted.
    await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'twice', finalizers: ['example.com/meta'] } });
    const marked = await pipeline.delete(admin, { info: ns, namespace: '', name: 'twice' });
    await refusal(pipeline.update(admin, { info: ns, namespace: '', name: 'twice' }, { ...marked.object, metadata: { ...marked.object.metadata, finalizers: ['example.com/meta', 'example.com/late'] } }), 'Invalid');
    // Emptied through finalize while metadata.finalizers hold it.
    const held = await pipeline.get(admin, { info: ns, namespace: '', name: 'twice' });
    const finalized = await pipeline.update(admin, { info: ns, namespace: '', name: 'twice', subresource: 'finalize' }, { ...held, spec: { finalizers: [] } });
    assert.deepEqual(finalized.metadata?.finalizers, ['example.com/meta']);
    const current = await pipeline.get(admin, { info: ns, namespace: '', name: 'twice' });
    // Removing the last metadata finalizer removes it.
    await pipeline.update(admin, { info: ns, namespace: '', name: 'twice' }, { ...current, metadata: { ...current.metadata, finalizers: [] } });
    await refusal(pipeline.get(admin, { info: ns, namespace: '', name: 'twice' }), 'NotFound');
  });
});

describe('the namespace controller', () => {
  let plane: ControllerPlane;
  before(async () => {
    plane = await controllerPlane();
  });
  after(async () => {
    await plane.close();
  });

  function host(identity: string, pipeline = plane.pipelineFor(), deleteParallelism = 32): ControllerHost {
    return new ControllerHost({ context: plane.contextFor(pipeline), controllers: [new NamespaceController({ startDelayMs: 0, retryMs: 100, deleteParallelism })], identity, timing: TIMING });
  }

  test('empties a namespace, waits for an object held by a finalizer, then the namespace goes', async () => {
    const pipeline = plane.pipelineFor();
    const ns = kind(plane, '', 'v1', 'namespaces');
    const cm = kind(plane, '', 'v1', 'configmaps');
    const secret = kind(plane, '', 'v1', 'secrets');
    const deploy = kind(plane, 'apps', 'v1', 'deployments');
    const sa = kind(plane, '', 'v1', 'serviceaccounts');
    await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'full' } });
    for (let i = 0; i < 20; i++) await pipeline.create(admin, { info: cm, namespace: 'full', name: '' }, { metadata: { name: `cm-${i}` }, data: { i: String(i) } });
    await pipeline.create(admin, { info: secret, namespace: 'full', name: '' }, { metadata: { name: 's' }, stringData: { a: 'b' } });
    await pipeline.create(admin, { info: cm, namespace: 'full', name: '' }, { metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    await pipeline.create(
      admin,
      { info: deploy, namespace: 'full', name: '' },
      { metadata: { name: 'd' }, spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } },
    );
    await pipeline.create(admin, { info: sa, namespace: 'full', name: '' }, { metadata: { name: 'robot' } });
    const h = host('ns-a');
    h.start();
    try {
      await pipeline.delete(admin, { info: ns, namespace: '', name: 'full' });
      // The held object stays, and the conditions say so in kube's words.
      const waiting = await eventOf(pipeline, { info: ns, namespace: '', name: '' }, (type, o) =>
        type !== 'DELETED' && o.metadata?.name === 'full' && conditionsOf(o).some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True'),
      );
      const byType = Object.fromEntries(conditionsOf(waiting).map((c) => [c.type, c]));
      assert.deepEqual(Object.keys(byType), ['NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure', 'NamespaceContentRemaining', 'NamespaceFinalizersRemaining']);
      assert.deepEqual(byType.NamespaceFinalizersRemaining, { ...byType.NamespaceFinalizersRemaining, status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances' });
      assert.deepEqual(byType.NamespaceContentRemaining, { ...byType.NamespaceContentRemaining, status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps. has 1 resource instances' });
      assert.deepEqual(byType.NamespaceDeletionDiscoveryFailure, { ...byType.NamespaceDeletionDiscoveryFailure, status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' });
      assert.deepEqual(byType.NamespaceDeletionContentFailure, { ...byType.NamespaceDeletionContentFailure, status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' });
      const left = await pipeline.list(admin, { info: cm, namespace: 'full', name: '' }, {});
      assert.deepEqual(left.items.map((o) => o.metadata?.name), ['held']);
      assert.equal((await pipeline.list(admin, { info: secret, namespace: 'full', name: '' }, {})).items.length, 0);
      assert.equal((await pipeline.list(admin, { info: deploy, namespace: 'full', name: '' }, {})).items.length, 0);
      assert.equal((await pipeline.list(admin, { info: sa, namespace: 'full', name: '' }, {})).items.length, 0);
      assert.ok((await pipeline.get(admin, { info: ns, namespace: '', name: 'full' })).metadata?.deletionTimestamp);
      // The finalizer's owner lets go: the namespace goes.
      const gone = eventOf(pipeline, { info: ns, namespace: '', name: '' }, (type, o) => type === 'DELETED' && o.metadata?.name === 'full');
      const held = left.items[0] as KubeObject;
      await pipeline.update(admin, { info: cm, namespace: 'full', name: 'held' }, { ...held, metadata: { ...held.metadata, finalizers: [] } });
      await gone;
      // Recreated, it is empty.
      await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'full' } });
      assert.equal((await pipeline.list(admin, { info: cm, namespace: 'full', name: '' }, {})).items.length, 0);
    } finally {
      await h.stop();
    }
  });

  // kube's OrderedNamespaceDeletion (KEP-5080; on in 1.33, locked on in 1.34) as its conformance
  // test "namespace deletion should delete pod first" (test/e2e/apimachinery/namespace.go) checks it.
  test('deletes Pods first: while a Pod held by a finalizer remains, nothing else in the namespace is deleted', async () => {
    const pipeline = plane.pipelineFor();
    const ns = kind(plane, '', 'v1', 'namespaces');
    const cm = kind(plane, '', 'v1', 'configmaps');
    const pods = kind(plane, '', 'v1', 'pods');
    await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'ordered' } });
    await pipeline.create(admin, { info: pods, namespace: 'ordered', name: '' }, { metadata: { name: 'test-pod', finalizers: ['e2e.example.com/finalizer'] }, spec: { containers: [{ name: 'c', image: 'pause' }] } });
    await pipeline.create(admin, { info: cm, namespace: 'ordered', name: '' }, { metadata: { name: 'test-configmap' }, data: { key: 'value' } });
    const h = host('ns-ordered');
    h.start();
    try {
      // The pass that finds the Pod still there writes the conditions and stops (kube's words:
      // without the content totals, so nothing says content remains).
      const passed = eventOf(pipeline, { info: ns, namespace: '', name: '' }, (type, o) => type !== 'DELETED' && o.metadata?.name === 'ordered' && conditionsOf(o).length > 0);
      await pipeline.delete(admin, { info: ns, namespace: '', name: 'ordered' });
      const waiting = await passed;
      const byType = Object.fromEntries(conditionsOf(waiting).map((c) => [c.type, c]));
      assert.deepEqual([byType.NamespaceContentRemaining?.status, byType.NamespaceContentRemaining?.reason], ['False', 'ContentRemoved']);
      assert.deepEqual([byType.NamespaceDeletionContentFailure?.status, byType.NamespaceDeletionContentFailure?.reason], ['False', 'ContentDeleted']);
      const pod = await pipeline.get(admin, { info: pods, namespace: 'ordered', name: 'test-pod' });
      assert.equal(typeof pod.metadata?.deletionTimestamp, 'string');
      const configMap = await pipeline.get(admin, { info: cm, namespace: 'ordered', name: 'test-configmap' });
      assert.equal(configMap.metadata?.deletionTimestamp, undefined);
      // The Pod's finalizer goes: the Pod, then the ConfigMap, then the namespace go.
      const configMapGone = eventOf(pipeline, { info: cm, namespace: 'ordered', name: '' }, (type, o) => type === 'DELETED' && o.metadata?.name === 'test-configmap');
      const gone = eventOf(pipeline, { info: ns, namespace: '', name: '' }, (type, o) => type === 'DELETED' && o.metadata?.name === 'ordered');
      await pipeline.update(admin, { info: pods, namespace: 'ordered', name: 'test-pod' }, { ...pod, metadata: { ...pod.metadata, finalizers: [] } });
      await configMapGone;
      await gone;
    } finally {
      await h.stop();
    }
  });

  test('as the gateway runs it (its flags\' defaults), it waits kube\'s namespaceDeletionGracePeriod, 5 s, before it empties a namespace', async () => {
    const pipeline = plane.pipelineFor();
    const ns = kind(plane, '', 'v1', 'namespaces');
    const cm = kind(plane, '', 'v1', 'configmaps');
    const flags = Object.fromEntries(CONTROLLER_FLAGS.map((f) => [f.flag, f.default])) as Record<(typeof CONTROLLER_FLAGS)[number]['flag'], string>;
    assert.throws(() => controllerHostFrom({ ...flags, 'namespace-deletion-grace-period': 'soon' }, plane.contextFor(pipeline)), /--namespace-deletion-grace-period must be a duration/);
    // As a member of system:masters: this plane has no bootstrap RBAC for the controllers' own accounts.
    const h = controllerHostFrom({ ...flags, controllers: 'namespace', 'use-service-account-credentials': 'false' }, plane.contextFor(pipeline));
    assert.ok(h !== undefined);
    await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'graceful' } });
    await pipeline.create(admin, { info: cm, namespace: 'graceful', name: '' }, { metadata: { name: 'c' } });
    h.start();
    try {
      const emptied = eventOf(pipeline, { info: cm, namespace: 'graceful', name: '' }, (type) => type === 'DELETED');
      const started = Date.now();
      await pipeline.delete(admin, { info: ns, namespace: '', name: 'graceful' });
      await emptied;
      const waited = Date.now() - started;
      assert.ok(waited >= 5000, `emptied after ${waited} ms`);
    } finally {
      await h.stop();
    }
  });

  test('a host stopped mid-way leaves the namespace Terminating; a host started again finishes it', async () => {
    const pipeline = plane.pipelineFor();
    const ns = kind(plane, '', 'v1', 'namespaces');
    const cm = kind(plane, '', 'v1', 'configmaps');
    await pipeline.create(admin, { info: ns, namespace: '', name: '' }, { metadata: { name: 'restart' } });
    const count = 400;
    for (let i = 0; i < count; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => pipeline.create(admin, { info: cm, namespace: 'restart', name: '' }, { metadata: { name: `cm-${i + j}` } })));
    }
    // The first replica deletes slowly, so that it is stopped mid-way.
    const slow = new SeveredStorage(plane.storage);
    slow.deleteDelayMs = 5;
    const first = host('restart-a', plane.pipelineFor(slow), 1);
    // Stop the first host once it has deleted some of the objects.
    const someDeleted = (async () => {
      const signal = AbortSignal.timeout(20_000);
      let deleted = 0;
      for await (const event of await pipeline.watch(admin, { info: cm, namespace: 'restart', name: '' }, { resourceVersion: '' }, signal)) {
        if (event.type === 'DELETED' && ++deleted >= 20) return;
      }
    })();
    first.start();
    await pipeline.delete(admin, { info: ns, namespace: '', name: 'restart' });
    await someDeleted;
    await first.stop();
    const remaining = (await pipeline.list(admin, { info: cm, namespace: 'restart', name: '' }, {})).items.length;
    assert.ok(remaining > 0 && remaining < count, `stopped mid-way: ${remaining} of ${count} left`);
    const namespace = await pipeline.get(admin, { info: ns, namespace: '', name: 'restart' });
    assert.equal((namespace.status as Record<string, unknown>).phase, 'Terminating');
    // Another replica (a new identity) takes the released Lease and finishes from the stored state.
    const second = host('restart-b');
    const gone = eventOf(pipeline, { info: ns, namespace: '', name: '' }, (type, o) => type === 'DELETED' && o.metadata?.name === 'restart');
    second.start();
    try {
      await gone;
      assert.equal((await pipeline.list(admin, { info: cm, namespace: 'restart', name: '' }, {})).items.length, 0);
    } finally {
      await second.stop();
    }
  });

  test('objects created in a namespace already deleted are refused, not left behind', async () => {
    const pipeline = plane.pipelineFor();
    const ns = kind(plane, '', 'v1', 'namespaces');
    const cm = kind(plane, '', 'v1', 'configmaps');
    const err = await pipeline.create(admin, { info: cm, namespace: 'never', name: '' }, { metadata: { name: 'x' } }).catch((e: unknown) => e);
    assert.ok(err instanceof StatusError && err.reason === 'NotFound');
    assert.ok(ns !== undefined);
  });
});
