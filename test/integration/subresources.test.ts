/**
 * Subresources through the pipeline, over the real admission chain and the memory storage:
 * the status rules of a built-in kind and of a custom resource, scale get/put/patch, and the
 * POST subresources of pods (binding; eviction with and without a blocking
 * PodDisruptionBudget).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../lib/kube.ts';
import { builtinRegistry, type KindDefinition } from '../../lib/kinds/index.ts';
import { PATCH_MEDIA_TYPES } from '../../lib/patch/index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import type { Target } from '../../services/gateway/core/pipeline.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { inProcessPipeline, refusal } from '../support/pipeline.ts';
import { POD } from '../../lib/kinds/builtin/workloads/pod.ts';
import { REPLICATORS, widgetKind } from '../support/subresource-kinds.ts';

const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };

async function setup(kinds: KindDefinition[] = [REPLICATORS, widgetKind()]) {
  const registry = builtinRegistry();
  for (const kind of kinds) if (registry.get(kind.group, kind.version, kind.resource) === undefined) registry.add(kind);
  const storage = new MemoryStorage({ kinds: registry });
  const { pipeline } = await inProcessPipeline(storage, registry);
  const target = (info: KindDefinition, name = '', subresource = ''): Target => ({ info, namespace: 'default', name, subresource });
  const patch = (type: keyof typeof PATCH_MEDIA_TYPES, body: unknown) => ({ contentType: PATCH_MEDIA_TYPES[type], body: Buffer.from(JSON.stringify(body)) });
  return { registry, storage, pipeline, target, patch };
}

function replicator(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'example.test/v1',
    kind: 'Replicator',
    metadata: { name, labels: { app: name } },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } } } },
    ...extra,
  };
}

function widget(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'widgets.example.com/v1', kind: 'Widget', metadata: { name }, spec: { size: 1, color: 'red' }, ...extra };
}

const spec = (o: KubeObject) => o.spec as Record<string, unknown>;

describe('status: a built-in kind with the status subresource', () => {
  test('a create cannot set status; a write to the object keeps the stored status', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target(REPLICATORS), replicator('a', { status: { replicas: 5 } }));
    assert.deepEqual(created.status, {});
    assert.equal(created.metadata?.generation, 1);
    const updated = await pipeline.update(admin, target(REPLICATORS, 'a'), { ...created, spec: { ...spec(created), replicas: 3 }, status: { replicas: 9 } });
    assert.deepEqual(updated.status, {});
    assert.equal(spec(updated).replicas, 3);
    assert.equal(updated.metadata?.generation, 2);
  });

  test('GET /status is the object; PUT /status changes status alone, never the generation', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target(REPLICATORS), replicator('a'));
    assert.deepEqual(await pipeline.get(admin, target(REPLICATORS, 'a', 'status')), await pipeline.get(admin, target(REPLICATORS, 'a')));
    const written = await pipeline.update(admin, target(REPLICATORS, 'a', 'status'), {
      ...created,
      metadata: { ...created.metadata, labels: { app: 'other' }, annotations: { note: 'x' }, finalizers: ['example.test/keep'] },
      spec: { ...spec(created), replicas: 7 },
      status: { replicas: 2, readyReplicas: 2 },
    });
    assert.deepEqual(written.status, { replicas: 2, readyReplicas: 2 });
    assert.equal(spec(written).replicas, 2, 'spec kept');
    assert.deepEqual(written.metadata?.labels, { app: 'a' }, 'labels kept');
    assert.equal(written.metadata?.annotations, undefined, 'annotations kept');
    assert.equal(written.metadata?.finalizers, undefined, 'finalizers kept');
    assert.equal(written.metadata?.generation, 1);
    assert.notEqual(written.metadata?.resourceVersion, created.metadata?.resourceVersion);
    // The body's resourceVersion is the write's precondition.
    const stale = await refusal(pipeline.update(admin, target(REPLICATORS, 'a', 'status'), { ...created, status: { replicas: 1 } }), 'Conflict');
    assert.match(stale.message, /the object has been modified/);
  });

  test('PATCH /status with every patch type; a patch of spec through /status changes nothing', async () => {
    const { pipeline, target, patch } = await setup();
    await pipeline.create(admin, target(REPLICATORS), replicator('a'));
    const status = target(REPLICATORS, 'a', 'status');
    let object = await pipeline.patch(admin, status, patch('merge', { status: { replicas: 1 } }));
    assert.deepEqual(object.status, { replicas: 1 });
    object = await pipeline.patch(admin, status, patch('json', [{ op: 'add', path: '/status/readyReplicas', value: 1 }]));
    assert.deepEqual(object.status, { replicas: 1, readyReplicas: 1 });
    object = await pipeline.patch(admin, status, patch('strategic', { status: { conditions: [{ type: 'Available', status: 'True' }] } }));
    // a DeploymentCondition's times are struct values: written null when not set
    assert.deepEqual(object.status, { replicas: 1, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True', lastUpdateTime: null, lastTransitionTime: null }] });
    const before = object.metadata?.resourceVersion;
    object = await pipeline.patch(admin, status, patch('merge', { spec: { replicas: 9 }, metadata: { labels: { app: 'x' } } }));
    assert.equal(spec(object).replicas, 2);
    assert.deepEqual(object.metadata?.labels, { app: 'a' });
    // Nothing changed: nothing written (kube's GuaranteedUpdate writes nothing for no change).
    assert.equal(object.metadata?.resourceVersion, before);
    // A patch of status through the object itself changes nothing of status.
    object = await pipeline.patch(admin, target(REPLICATORS, 'a'), patch('merge', { spec: { replicas: 4 }, status: { replicas: 0 } }));
    assert.deepEqual([spec(object).replicas, (object.status as Record<string, unknown>).replicas, object.metadata?.generation], [4, 1, 2]);
  });

  test('the kind\'s status strategy validates writes to /status (and only those)', async () => {
    const { pipeline, target, patch } = await setup();
    await pipeline.create(admin, target(REPLICATORS), replicator('a'));
    const refused = await refusal(pipeline.patch(admin, target(REPLICATORS, 'a', 'status'), patch('merge', { status: { replicas: -1 } })), 'Invalid');
    assert.equal(refused.message, 'Replicator.example.test "a" is invalid: status.replicas: Invalid value: -1: must be greater than or equal to 0');
  });

  test('status takes get, update and patch only; a kind without it has no /status', async () => {
    const { pipeline, target, registry } = await setup();
    await pipeline.create(admin, target(REPLICATORS), replicator('a'));
    await refusal(pipeline.delete(admin, target(REPLICATORS, 'a', 'status')), 'MethodNotAllowed');
    await refusal(pipeline.create(admin, target(REPLICATORS, 'a', 'status'), replicator('a')), 'MethodNotAllowed');
    const configmaps = registry.get('', 'v1', 'configmaps');
    assert.ok(configmaps !== undefined);
    await pipeline.create(admin, target(configmaps), { metadata: { name: 'c' } });
    await refusal(pipeline.get(admin, target(configmaps, 'c', 'status')), 'NotFound');
    await refusal(pipeline.get(admin, target(REPLICATORS, 'a', 'nothing')), 'NotFound');
  });
});

describe('status: Pods (a built-in kind with its own status strategy)', () => {
  test('create: status from the kind\'s PrepareForCreate only; the object keeps it; /status writes it alone', async () => {
    const { pipeline, target, patch } = await setup();
    const created = await pipeline.create(admin, target(POD), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { app: 'p' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
      status: { phase: 'Running', podIP: '10.0.0.9' },
    });
    assert.deepEqual(created.status, { phase: 'Pending', qosClass: 'BestEffort' });
    const labelled = await pipeline.update(admin, target(POD, 'p'), { ...created, metadata: { ...created.metadata, labels: { app: 'q' } }, status: { phase: 'Failed' } });
    assert.deepEqual([labelled.metadata?.labels, labelled.status], [{ app: 'q' }, { phase: 'Pending', qosClass: 'BestEffort' }]);
    const running = await pipeline.patch(admin, target(POD, 'p', 'status'), patch('strategic', { status: { phase: 'Running', podIP: '10.0.0.9' }, metadata: { labels: { app: 'r' } } }));
    assert.deepEqual(running.status, { phase: 'Running', qosClass: 'BestEffort', podIP: '10.0.0.9' });
    assert.deepEqual([running.metadata?.labels, running.metadata?.generation], [{ app: 'q' }, 1]);
    // spec comes from the stored pod: a nodeName in the body is not written.
    const unbound = await pipeline.update(admin, target(POD, 'p', 'status'), { ...running, spec: { ...spec(running), nodeName: 'n1' } });
    assert.equal(spec(unbound).nodeName, undefined);
    // The status strategy's own checks run.
    const refused = await refusal(pipeline.patch(admin, target(POD, 'p', 'status'), patch('merge', { status: { nominatedNodeName: 'Not A Node' } })), 'Invalid');
    assert.match(refused.message, /^Pod "p" is invalid: status.nominatedNodeName: Invalid value: "Not A Node"/);
  });
});

describe('status: a custom resource', () => {
  test('with the status subresource: create drops status, the object keeps it, /status writes only it', async () => {
    const widgets = widgetKind();
    const { pipeline, target, patch } = await setup();
    const created = await pipeline.create(admin, target(widgets), widget('w', { status: { ready: 3 } }));
    assert.equal('status' in created, false);
    const written = await pipeline.update(admin, target(widgets, 'w', 'status'), { ...created, spec: { size: 9, color: 'blue' }, status: { ready: 1 } });
    assert.deepEqual([written.spec, written.status, written.metadata?.generation], [{ size: 1, color: 'red' }, { ready: 1 }, 1]);
    const updated = await pipeline.update(admin, target(widgets, 'w'), { ...written, spec: { size: 2, color: 'red' }, status: { ready: 7 } });
    assert.deepEqual([updated.spec, updated.status, updated.metadata?.generation], [{ size: 2, color: 'red' }, { ready: 1 }, 2]);
    const patched = await pipeline.patch(admin, target(widgets, 'w', 'status'), patch('merge', { status: { ready: 2 }, spec: { size: 5 } }));
    assert.deepEqual([patched.spec, patched.status, patched.metadata?.generation], [{ size: 2, color: 'red' }, { ready: 2 }, 2]);
    // A /status write without status clears it, as apiextensions does.
    const cleared = await pipeline.update(admin, target(widgets, 'w', 'status'), { ...patched, status: undefined });
    assert.equal('status' in cleared, false);
  });

  test('without it: status is part of the object, and there is no /status', async () => {
    const plain = widgetKind(false);
    const { pipeline, target } = await setup([plain]);
    const created = await pipeline.create(admin, target(plain), widget('w', { status: { ready: 3 } }));
    assert.deepEqual(created.status, { ready: 3 });
    await refusal(pipeline.get(admin, target(plain, 'w', 'status')), 'NotFound');
    await refusal(pipeline.get(admin, target(plain, 'w', 'scale')), 'NotFound');
  });
});

describe('scale', () => {
  test('GET, PUT and PATCH of a built-in kind\'s Scale change spec.replicas alone', async () => {
    const { pipeline, target, patch } = await setup();
    const created = await pipeline.create(admin, target(REPLICATORS), replicator('a'));
    const scale = target(REPLICATORS, 'a', 'scale');
    const got = await pipeline.get(admin, scale);
    assert.deepEqual(got, {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'a', namespace: 'default', uid: created.metadata?.uid, resourceVersion: created.metadata?.resourceVersion, creationTimestamp: created.metadata?.creationTimestamp },
      spec: { replicas: 2 },
      status: { replicas: 0, selector: 'app=a' },
    });
    const put = await pipeline.update(admin, scale, { ...got, spec: { replicas: 5 } });
    assert.equal(spec(put).replicas, 5);
    let object = await pipeline.get(admin, target(REPLICATORS, 'a'));
    assert.deepEqual([spec(object).replicas, object.metadata?.generation, object.metadata?.resourceVersion], [5, 2, put.metadata?.resourceVersion]);
    assert.deepEqual(spec(object).selector, { matchLabels: { app: 'a' } });
    // The Scale's resourceVersion is a precondition: the one read before is stale now.
    await refusal(pipeline.update(admin, scale, { ...got, spec: { replicas: 6 } }), 'Conflict');
    // Without one, the write applies to what is stored.
    await pipeline.update(admin, scale, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'a' }, spec: { replicas: 6 } });
    for (const [type, body, replicas] of [
      ['merge', { spec: { replicas: 1 } }, 1],
      ['json', [{ op: 'replace', path: '/spec/replicas', value: 3 }], 3],
      ['strategic', { spec: { replicas: 4 } }, 4],
    ] as const) {
      const patched = await pipeline.patch(admin, scale, patch(type, body));
      assert.deepEqual([patched.kind, spec(patched).replicas], ['Scale', replicas], type);
    }
    object = await pipeline.get(admin, target(REPLICATORS, 'a'));
    assert.deepEqual([spec(object).replicas, object.status], [4, {}]);
  });

  test('a built-in kind\'s Scale is checked as kube\'s ValidateScale; the Scale\'s own fields are checked against the URL', async () => {
    const { pipeline, target, patch } = await setup();
    await pipeline.create(admin, target(REPLICATORS), replicator('a'));
    const scale = target(REPLICATORS, 'a', 'scale');
    const negative = await refusal(pipeline.patch(admin, scale, patch('merge', { spec: { replicas: -1 } })), 'Invalid');
    assert.equal(negative.message, 'Scale.autoscaling "a" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    const renamed = await refusal(pipeline.update(admin, scale, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'b' }, spec: { replicas: 1 } }), 'BadRequest');
    assert.equal(renamed.message, 'the name of the object (b) does not match the name on the URL (a)');
    const wrongKind = await refusal(pipeline.update(admin, scale, { apiVersion: 'example.test/v1', kind: 'Replicator', metadata: { name: 'a' } }), 'BadRequest');
    assert.equal(wrongKind.message, 'the kind of the provided object ("Replicator") does not match the kind of the request ("Scale")');
    const typed = await refusal(pipeline.patch(admin, scale, patch('merge', { spec: { replicas: 'x' } })), 'Invalid');
    assert.match(typed.message, /cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32/);
    await refusal(pipeline.delete(admin, scale), 'MethodNotAllowed');
  });

  test('a custom resource\'s Scale reads and writes the definition\'s paths', async () => {
    const widgets = widgetKind();
    const { pipeline, target, patch } = await setup();
    await pipeline.create(admin, target(widgets), widget('w'));
    await pipeline.update(admin, target(widgets, 'w', 'status'), { ...(await pipeline.get(admin, target(widgets, 'w'))), status: { ready: 1, selector: 'app=w' } });
    const scale = target(widgets, 'w', 'scale');
    const got = await pipeline.get(admin, scale);
    assert.deepEqual([got.spec, got.status], [{ replicas: 1 }, { replicas: 1, selector: 'app=w' }]);
    const patched = await pipeline.patch(admin, scale, patch('merge', { spec: { replicas: 3 } }));
    assert.deepEqual(patched.spec, { replicas: 3 });
    const object = await pipeline.get(admin, target(widgets, 'w'));
    assert.deepEqual([object.spec, object.metadata?.generation], [{ size: 3, color: 'red' }, 2]);
  });

  test('a custom resource without its desired replicas: GET is a 500, a write must set them', async () => {
    const widgets = widgetKind();
    const { pipeline, target, patch } = await setup();
    await pipeline.create(admin, target(widgets), widget('w', { spec: { color: 'red' } }));
    const scale = target(widgets, 'w', 'scale');
    const read = await refusal(pipeline.get(admin, scale), 'InternalError');
    assert.equal(read.message, 'Internal error occurred: the spec replicas field ".spec.size" does not exist');
    const unset = await refusal(pipeline.patch(admin, scale, patch('merge', { metadata: { labels: { a: 'b' } } })), 'BadRequest');
    assert.equal(unset.message, 'the spec replicas field ".spec.size" cannot be empty');
    const set = await pipeline.patch(admin, scale, patch('merge', { spec: { replicas: 2 } }));
    assert.deepEqual(set.spec, { replicas: 2 });
  });
});

describe('scale and status: Deployments', () => {
  test('a Deployment\'s Scale; writes to it and to /status change what they own, generation follows spec', async () => {
    const { pipeline, target, patch, registry } = await setup();
    const deployments = registry.get('apps', 'v1', 'deployments');
    assert.ok(deployments !== undefined);
    const created = await pipeline.create(admin, target(deployments), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db', 'cache'] }] },
        template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
      status: { replicas: 3 },
    });
    assert.deepEqual(created.status, {});
    const scale = target(deployments, 'web', 'scale');
    const got = await pipeline.get(admin, scale);
    assert.deepEqual([got.spec, got.status], [{ replicas: 1 }, { replicas: 0, selector: 'app=web,tier notin (cache,db)' }]);
    const scaled = await pipeline.patch(admin, scale, patch('merge', { spec: { replicas: 4 } }));
    assert.deepEqual(scaled.spec, { replicas: 4 });
    const status = await pipeline.patch(admin, target(deployments, 'web', 'status'), patch('merge', { status: { replicas: 4, readyReplicas: 2, observedGeneration: 2 } }));
    assert.deepEqual([spec(status).replicas, status.metadata?.generation, (status.status as Record<string, unknown>).readyReplicas], [4, 2, 2]);
    assert.deepEqual((await pipeline.get(admin, scale)).status, { replicas: 4, selector: 'app=web,tier notin (cache,db)' });
  });
});

/** A pod in `default`, made Running (and Ready when asked) through /status, as a kubelet would. */
async function runningPod(s: Awaited<ReturnType<typeof setup>>, name: string, labels: Record<string, string>, ready = true): Promise<KubeObject> {
  const created = await s.pipeline.create(admin, s.target(POD), { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const conditions = ready ? [{ type: 'Ready', status: 'True' }] : [{ type: 'Ready', status: 'False' }];
  return s.pipeline.update(admin, s.target(POD, name, 'status'), { ...created, status: { phase: 'Running', conditions } });
}

/** A PodDisruptionBudget as its controller would have left it, written straight to storage. */
async function budget(s: Awaited<ReturnType<typeof setup>>, name: string, app: string, status: Record<string, unknown>, generation = 1): Promise<void> {
  await s.storage.create(
    { group: 'policy', resource: 'poddisruptionbudgets', namespace: 'default', name },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name, namespace: 'default', uid: `uid-${name}`, generation },
      spec: { minAvailable: 1, selector: { matchLabels: { app } } },
      status: { observedGeneration: 1, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, ...status },
    },
  );
}

const getBudget = async (s: Awaited<ReturnType<typeof setup>>, name: string): Promise<{ status: Record<string, unknown> }> =>
  (await s.storage.get({ group: 'policy', resource: 'poddisruptionbudgets', namespace: 'default', name })) as { status: Record<string, unknown> };

function eviction(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, ...extra };
}

const SUCCESS = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

describe('pods/binding', () => {
  test('binds an unbound pod once: nodeName, annotations, PodScheduled; then 409', async () => {
    const s = await setup();
    const { pipeline, target } = s;
    await pipeline.create(admin, target(POD), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const binding = (node: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', annotations: { b: '2' } }, target: { kind: 'Node', name: node }, ...extra });
    const dry = await pipeline.create(admin, target(POD, 'p', 'binding'), binding('n1'), { dryRun: true });
    assert.deepEqual(dry, SUCCESS);
    assert.equal(spec(await pipeline.get(admin, target(POD, 'p'))).nodeName, undefined, 'a dry run binds nothing');
    assert.deepEqual(await pipeline.create(admin, target(POD, 'p', 'binding'), binding('n1')), SUCCESS);
    const pod = await pipeline.get(admin, target(POD, 'p'));
    assert.equal(spec(pod).nodeName, 'n1');
    assert.deepEqual(pod.metadata?.annotations, { a: '1', b: '2' });
    const conditions = (pod.status as { conditions: Record<string, unknown>[] }).conditions;
    assert.deepEqual(conditions.map((c) => [c.type, c.status, c.lastProbeTime, typeof c.lastTransitionTime]), [['PodScheduled', 'True', null, 'string']]);
    const again = await refusal(pipeline.create(admin, target(POD, 'p', 'binding'), binding('n2')), 'Conflict');
    assert.equal(again.message, 'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n1"');
  });

  test('a Binding is checked: its name, its target, its preconditions, the pod', async () => {
    const s = await setup();
    const { pipeline, target } = s;
    const created = await pipeline.create(admin, target(POD), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const post = (body: Record<string, unknown>, name = 'p') => pipeline.create(admin, target(POD, name, 'binding'), { apiVersion: 'v1', kind: 'Binding', ...body });
    assert.equal((await refusal(post({ metadata: { name: 'q' }, target: { name: 'n' } }), 'BadRequest')).message, 'name in URL does not match name in Binding object');
    assert.equal((await refusal(post({ metadata: { name: 'p' }, target: {} }), 'InternalError')).message, 'target.name: Required value');
    assert.equal(
      (await refusal(post({ metadata: { name: 'p' }, target: { kind: 'Pod', name: 'n' } }), 'InternalError')).message,
      'target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"',
    );
    const uid = await refusal(post({ metadata: { name: 'p', uid: 'other' }, target: { name: 'n' } }), 'Conflict');
    assert.equal(uid.message, `Operation cannot be fulfilled on pods "p": Precondition failed: UID in precondition: other, UID in object meta: ${String(created.metadata?.uid)}`);
    assert.equal((await refusal(post({ metadata: { name: 'x' }, target: { name: 'n' } }, 'x'), 'NotFound')).message, 'pods "x" not found');
    await refusal(pipeline.get(admin, target(POD, 'p', 'binding')), 'MethodNotAllowed');
    assert.equal(spec(await pipeline.get(admin, target(POD, 'p'))).nodeName, undefined);
  });
});

describe('pods/eviction', () => {
  test('without a budget, or for a pod that is not running, the pod is deleted', async () => {
    const s = await setup();
    const { pipeline, target } = s;
    await runningPod(s, 'free', { app: 'free' });
    assert.deepEqual(await pipeline.create(admin, target(POD, 'free', 'eviction'), eviction('free')), SUCCESS);
    await refusal(pipeline.get(admin, target(POD, 'free')), 'NotFound');
    // A pending pod is deleted whatever its budget says.
    await budget(s, 'blocking', 'pending', { disruptionsAllowed: 0 });
    await pipeline.create(admin, target(POD), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending', labels: { app: 'pending' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    assert.deepEqual(await pipeline.create(admin, target(POD, 'pending', 'eviction'), eviction('pending')), SUCCESS);
    await refusal(pipeline.get(admin, target(POD, 'pending')), 'NotFound');
    assert.equal((await refusal(pipeline.create(admin, target(POD, 'gone', 'eviction'), eviction('gone')), 'NotFound')).message, 'pods "gone" not found');
  });

  test('a budget that allows no disruption refuses with 429; the pod stays', async () => {
    const s = await setup();
    const { pipeline, target } = s;
    await runningPod(s, 'web-1', { app: 'web' });
    await budget(s, 'web', 'web', { disruptionsAllowed: 0 });
    const refused = await refusal(pipeline.create(admin, target(POD, 'web-1', 'eviction'), eviction('web-1')), 'TooManyRequests');
    assert.equal(refused.code, 429);
    assert.equal(refused.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(refused.details, { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 1 currently' }] });
    const pod = await pipeline.get(admin, target(POD, 'web-1'));
    assert.equal((pod.status as Record<string, unknown>).phase, 'Running');
    // A budget whose status is behind its spec: still being processed, retry in 10 s.
    await budget(s, 'stale', 'stale', { disruptionsAllowed: 5 }, 2);
    await runningPod(s, 'stale-1', { app: 'stale' });
    const behind = await refusal(pipeline.create(admin, target(POD, 'stale-1', 'eviction'), eviction('stale-1')), 'TooManyRequests');
    assert.deepEqual(behind.details, { retryAfterSeconds: 10, causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget stale is still being processed by the server.' }] });
  });

  test('a budget that allows one takes it: the pod is marked and deleted, the budget records it', async () => {
    const s = await setup();
    const { pipeline, target } = s;
    await runningPod(s, 'api-1', { app: 'api' });
    await runningPod(s, 'api-2', { app: 'api' });
    await budget(s, 'api', 'api', { disruptionsAllowed: 1, currentHealthy: 2 });
    // A dry run checks and changes nothing.
    assert.deepEqual(await pipeline.create(admin, target(POD, 'api-1', 'eviction'), eviction('api-1'), { dryRun: true }), SUCCESS);
    assert.equal((await getBudget(s, 'api')).status.disruptionsAllowed, 1);
    await pipeline.get(admin, target(POD, 'api-1'));
    // policy/v1beta1 Evictions are read alike.
    assert.deepEqual(await pipeline.create(admin, target(POD, 'api-1', 'eviction'), eviction('api-1', { apiVersion: 'policy/v1beta1' })), SUCCESS);
    await refusal(pipeline.get(admin, target(POD, 'api-1')), 'NotFound');
    const { status } = await getBudget(s, 'api');
    assert.equal(status.disruptionsAllowed, 0);
    assert.deepEqual(Object.keys(status.disruptedPods as object), ['api-1']);
    assert.deepEqual(
      (status.conditions as Record<string, unknown>[]).map((c) => [c.type, c.status, c.reason, c.observedGeneration]),
      [['DisruptionAllowed', 'False', 'InsufficientPods', 1]],
    );
    // The budget is spent: the next eviction is refused.
    await refusal(pipeline.create(admin, target(POD, 'api-2', 'eviction'), eviction('api-2')), 'TooManyRequests');
  });

  test('an unready pod of a budget that is met anyway goes without taking a disruption', async () => {
    const s = await setup();
    const { pipeline, target } = s;
    await runningPod(s, 'db-1', { app: 'db' }, false);
    await budget(s, 'db', 'db', { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 });
    assert.deepEqual(await pipeline.create(admin, target(POD, 'db-1', 'eviction'), eviction('db-1')), SUCCESS);
    await refusal(pipeline.get(admin, target(POD, 'db-1')), 'NotFound');
    assert.equal((await getBudget(s, 'db')).status.disruptionsAllowed, 0);
  });

  test('two budgets are a Failure Status; the delete options\' preconditions hold', async () => {
    const s = await setup();
    const { pipeline, target } = s;
    const pod = await runningPod(s, 'both-1', { app: 'both' });
    await budget(s, 'one', 'both', { disruptionsAllowed: 1 });
    await budget(s, 'two', 'both', { disruptionsAllowed: 1 });
    const answer = await pipeline.create(admin, target(POD, 'both-1', 'eviction'), eviction('both-1'));
    assert.deepEqual(answer, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      code: 500,
    });
    await pipeline.get(admin, target(POD, 'both-1'));
    await runningPod(s, 'solo', { app: 'solo' });
    const stale = await refusal(
      pipeline.create(admin, target(POD, 'solo', 'eviction'), eviction('solo', { deleteOptions: { preconditions: { uid: String(pod.metadata?.uid) } } })),
      'Conflict',
    );
    assert.match(stale.message, /^Operation cannot be fulfilled on Pod "solo": the UID in the precondition \(.+\) does not match the UID in record \(.+\)\. The object might have been deleted and then recreated$/);
    await pipeline.get(admin, target(POD, 'solo'));
    const wrongName = await refusal(pipeline.create(admin, target(POD, 'solo', 'eviction'), eviction('other')), 'BadRequest');
    assert.equal(wrongName.message, 'name in URL does not match name in Eviction object');
  });

  test('the delete is a DELETE of the pod with the Eviction\'s deleteOptions: dryRun, preconditions, grace period, propagation', async () => {
    const s = await setup();
    const { pipeline, target } = s;
    const evict = (deleteOptions: Record<string, unknown>, options: { dryRun?: boolean } = {}, apiVersion = 'policy/v1') =>
      pipeline.create(admin, target(POD, 'bound', 'eviction'), eviction('bound', { apiVersion, deleteOptions }), options);
    // Bound to a node: a delete leaves it Terminating for its grace period (no kubelet ends it here).
    const created = await pipeline.create(admin, target(POD), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } });
    const conditionTypes = (pod: KubeObject) => ((pod.status as { conditions?: { type: string }[] }).conditions ?? []).map((c) => c.type);

    // A dry run, the request's or the body's, marks and deletes nothing.
    assert.deepEqual(await evict({ dryRun: ['All'] }), SUCCESS);
    assert.deepEqual(await evict({ gracePeriodSeconds: 0 }, { dryRun: true }), SUCCESS);
    let pod = await pipeline.get(admin, target(POD, 'bound'));
    assert.equal(pod.metadata?.resourceVersion, created.metadata?.resourceVersion);
    // Both given, they must be the same (kube's propagateDryRun; kube answers 500, see pod-subresources.ts).
    const mismatch = await refusal(evict({ dryRun: ['Other'] }, { dryRun: true }), 'BadRequest');
    assert.equal(mismatch.message, 'Non-matching dry-run options in request and content: [All] and [Other]');
    // Preconditions in rest.BeforeDelete's words, in a dry run too.
    const stale = await refusal(evict({ preconditions: { resourceVersion: '1' }, dryRun: ['All'] }), 'Conflict');
    assert.equal(stale.message, `Operation cannot be fulfilled on Pod "bound": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${String(created.metadata?.resourceVersion)}). The object might have been modified`);

    // gracePeriodSeconds and propagationPolicy as a DELETE takes them (policy/v1beta1 read alike).
    assert.deepEqual(await evict({ gracePeriodSeconds: 45, propagationPolicy: 'Orphan', preconditions: { uid: created.metadata?.uid } }, {}, 'policy/v1beta1'), SUCCESS);
    pod = await pipeline.get(admin, target(POD, 'bound'));
    assert.equal(pod.metadata?.deletionGracePeriodSeconds, 45);
    assert.ok(Math.abs(Date.parse(String(pod.metadata?.deletionTimestamp)) - Date.now() - 45_000) < 5_000, String(pod.metadata?.deletionTimestamp));
    assert.deepEqual(pod.metadata?.finalizers, ['orphan']);
    assert.deepEqual(conditionTypes(pod), ['DisruptionTarget']);
    // Being deleted, it is evicted whatever a budget says; a longer grace period changes nothing.
    assert.deepEqual(await evict({ gracePeriodSeconds: 60 }), SUCCESS);
    assert.equal((await pipeline.get(admin, target(POD, 'bound'))).metadata?.deletionGracePeriodSeconds, 45);
    // Grace 0 and Background (taking `orphan` away): gone.
    assert.deepEqual(await evict({ gracePeriodSeconds: 0, propagationPolicy: 'Background' }), SUCCESS);
    await refusal(pipeline.get(admin, target(POD, 'bound')), 'NotFound');
  });
});
