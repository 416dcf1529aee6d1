/**
 * Objects of built-in kinds answer in the shape kube's typed structs give them: for each kind,
 * the object created from a minimal body, as create, get, list and a watch answer it, equals the
 * object kube-apiserver answers for that body (facts from kube's types, k8s.io/api v0.36.3:
 * which fields have no omitempty, which are struct values; and from its defaults and
 * strategies). The system fields (uid, resourceVersion, creationTimestamp) are the server's own
 * and compared by form. Over the real admission chain and the memory storage backend.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../lib/kube.ts';
import { builtinRegistry, type KindDefinition } from '../../lib/kinds/index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import type { Target } from '../../services/gateway/core/pipeline.ts';
import { cacheKey, WatchService } from '../../services/watch/core/watch-service.ts';
import { WatchCache } from '../../services/watch/core/watch-cache.ts';
import { createLogger } from '../../lib/log.ts';
import { inProcessPipeline } from '../support/pipeline.ts';

const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
const logger = createLogger({ service: 'test', level: 'error' });

interface Case {
  /** The registry key of the kind: group, version, resource. */
  resource: [string, string, string];
  namespace: string;
  body: KubeObject;
  /** What kube answers, without the system fields (metadata.uid, resourceVersion, creationTimestamp). */
  expected: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    // core/v1 Node: NodeSpec has only omitempty fields; NodeStatus.daemonEndpoints and nodeInfo
    // are struct values; NodeSystemInfo's fields and DaemonEndpoint.Port have no omitempty.
    resource: ['', 'v1', 'nodes'],
    namespace: '',
    body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } },
    expected: {
      kind: 'Node',
      apiVersion: 'v1',
      metadata: { name: 'node-1' },
      spec: {},
      status: {
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
        nodeInfo: {
          machineID: '',
          systemUUID: '',
          bootID: '',
          kernelVersion: '',
          osImage: '',
          containerRuntimeVersion: '',
          kubeletVersion: '',
          kubeProxyVersion: '',
          operatingSystem: '',
          architecture: '',
        },
      },
    },
  },
  {
    // core/v1 Namespace: SetDefaults_Namespace (the kubernetes.io/metadata.name label),
    // namespaceStrategy.PrepareForCreate (phase Active, the "kubernetes" finalizer);
    // NamespaceSpec and NamespaceStatus have only omitempty fields.
    resource: ['', 'v1', 'namespaces'],
    namespace: '',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } },
    expected: {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    },
  },
  {
    // core/v1 ConfigMap: every field omitempty (immutable a pointer, data and binaryData maps).
    resource: ['', 'v1', 'configmaps'],
    namespace: 'default',
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'fast' }, binaryData: {} },
    expected: {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'settings', namespace: 'default' },
      data: { mode: 'fast' },
    },
  },
  {
    // apps/v1 Deployment: SetDefaults_Deployment (one replica, RollingUpdate 25%/25%, ten
    // revisions, 600 s), the pod template's defaults (SetDefaults_PodSpec, the container's pull
    // policy for an untagged image and termination message); the container's resources and the
    // status are struct values, written `{}`; the template's creationTimestamp is omitzero.
    resource: ['apps', 'v1', 'deployments'],
    namespace: 'default',
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
    },
    expected: {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'web', image: 'nginx', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' },
            ],
            restartPolicy: 'Always',
            terminationGracePeriodSeconds: 30,
            dnsPolicy: 'ClusterFirst',
            securityContext: {},
            schedulerName: 'default-scheduler',
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: {},
    },
  },
  {
    // core/v1 Pod: SetDefaults_Pod and SetDefaults_PodSpec, podStrategy.PrepareForCreate (phase
    // Pending, the QoS class). kube-apiserver's default admission plugins add more, which this
    // server does not run: ServiceAccount (serviceAccountName, the API token volume and its
    // mounts), Priority (priority, preemptionPolicy), DefaultTolerationSeconds (tolerations).
    resource: ['', 'v1', 'pods'],
    namespace: 'default',
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    expected: {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        containers: [{ name: 'web', image: 'nginx', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' }],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        securityContext: {},
        schedulerName: 'default-scheduler',
        enableServiceLinks: true,
      },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    },
  },
];

/**
 * `object` with its system fields checked for form and taken out, to compare the rest (the
 * managedFields kube records for the creating manager among them: one Update entry of
 * kubectl-create, in the kind's apiVersion, at the creation time). Also
 * taken out: metadata.generation, which kube's strategies for these kinds never set and the
 * admission chain's SystemFields sets to 1 on every create (the generation rule of each kind is
 * its strategy's business, not the shape's).
 */
function withoutSystemFields(object: Record<string, unknown>, owned = true): Record<string, unknown> {
  const { uid, resourceVersion, creationTimestamp, generation: _generation, managedFields, ...metadata } = object.metadata as Record<string, unknown>;
  if (owned) {
    assert.ok(Array.isArray(managedFields) && managedFields.length === 1, JSON.stringify(managedFields));
    const { fieldsV1, time, ...entry } = managedFields[0] as Record<string, unknown>;
    assert.deepEqual(entry, { manager: 'kubectl-create', operation: 'Update', apiVersion: object.apiVersion, fieldsType: 'FieldsV1' });
    // Recorded before admission stamps the creation: the same second, or the one before.
    assert.ok(Date.parse(String(creationTimestamp)) - Date.parse(String(time)) <= 1000, `${String(time)} / ${String(creationTimestamp)}`);
    assert.ok(typeof fieldsV1 === 'object' && fieldsV1 !== null && Object.keys(fieldsV1).length > 0);
  } else {
    assert.equal(managedFields, undefined, 'a manager that set no field has no entry');
  }
  assert.match(String(uid), /^[0-9a-f-]{36}$/);
  assert.match(String(resourceVersion), /^\d+$/);
  assert.match(String(creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  return { ...object, metadata };
}

describe('built-in objects answer in the shape kube gives them', () => {
  const registry = builtinRegistry();
  const kindOf = (c: Case): KindDefinition => {
    const kind = registry.get(...c.resource);
    assert.ok(kind !== undefined, c.resource.join('/'));
    return kind;
  };

  for (const c of CASES) {
    test(`${c.expected.kind as string}: created from a minimal body, as kube answers it`, async () => {
      const storage = new MemoryStorage();
      const { pipeline } = await inProcessPipeline(storage, registry);
      const info = kindOf(c);
      const collection: Target = { info, namespace: c.namespace, name: '' };
      const name = String(c.body.metadata?.name);
      const dryRun = await pipeline.create(admin, collection, structuredClone(c.body), { dryRun: true, fieldManager: 'kubectl-create' });
      const created = await pipeline.create(admin, collection, structuredClone(c.body), { fieldManager: 'kubectl-create' });
      // A Node of a name only: its creator set no field (status is not the main resource's), so owns none.
      const owned = c.expected.kind !== 'Node';
      assert.deepEqual(withoutSystemFields({ ...dryRun, metadata: { ...dryRun.metadata, resourceVersion: '0' } }, owned), c.expected);
      assert.deepEqual(withoutSystemFields(created, owned), c.expected);
      const read = await pipeline.get(admin, { ...collection, name }, {});
      assert.deepEqual(read, created);
      const listed = await pipeline.list(admin, collection, {});
      const item = listed.items.find((o) => o.metadata?.name === name);
      assert.deepEqual(item, created);
    });
  }

  test('an object stored before writes were shaped can be updated and patched: its strategy compares it in shape', async () => {
    const storage = new MemoryStorage();
    const { pipeline } = await inProcessPipeline(storage, registry);
    const pods = registry.get('', 'v1', 'pods');
    assert.ok(pods !== undefined);
    // Defaulted as kube defaults a Pod, but without the struct values Go writes (resources: {}):
    // most of a Pod's spec is immutable, so a comparison with the unshaped old spec would refuse
    // any update of it.
    const spec = {
      containers: [{ name: 'web', image: 'nginx', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
    };
    await storage.create(
      { group: '', resource: 'pods', namespace: 'default', name: 'old' },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'old', namespace: 'default', uid: '00000000-0000-0000-0000-000000000002', creationTimestamp: '2024-05-01T10:00:00Z' }, spec, status: { phase: 'Pending' } },
    );
    const pod: Target = { info: pods, namespace: 'default', name: 'old' };
    const read = await pipeline.get(admin, pod, {});
    const updated = await pipeline.update(admin, pod, { ...read, metadata: { ...read.metadata, labels: { tier: 'web' } } });
    assert.deepEqual(updated.metadata?.labels, { tier: 'web' });
    assert.deepEqual((updated.spec as { containers: Record<string, unknown>[] }).containers[0]!.resources, {});
    // a patch applies to the object as kube reads it
    await storage.update({ group: '', resource: 'pods', namespace: 'default', name: 'old' }, { ...(await storage.get({ group: '', resource: 'pods', namespace: 'default', name: 'old' }, {})), spec });
    const patched = await pipeline.patch(admin, pod, { contentType: 'application/merge-patch+json', body: Buffer.from('{"metadata":{"labels":{"tier":"db"}}}') });
    assert.deepEqual(patched.metadata?.labels, { tier: 'db' });
  });

  test('an empty list sent to an omitempty field is no change: a Job re-applied with tolerations: [] keeps its immutable template', async () => {
    // kube's strategies compare with a semantic equality for which nil and empty are the same;
    // here both sides are compared in the shape kube writes, where an empty omitempty list is none.
    const { pipeline } = await inProcessPipeline(new MemoryStorage(), registry);
    const jobs = registry.get('batch', 'v1', 'jobs');
    assert.ok(jobs !== undefined);
    const collection: Target = { info: jobs, namespace: 'default', name: '' };
    const created = await pipeline.create(admin, collection, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const again = structuredClone(created) as KubeObject & { spec: { template: { spec: Record<string, unknown> } } };
    again.spec.template.spec.tolerations = [];
    again.metadata = { ...again.metadata, labels: { ...(again.metadata?.labels ?? {}), run: 'again' } };
    const updated = await pipeline.update(admin, { ...collection, name: 'once' }, again);
    assert.equal(updated.metadata?.labels?.run, 'again');
    assert.deepEqual(updated.spec, created.spec);
  });

  test('an object stored before writes were shaped is answered in shape by get, list and a watch', async () => {
    const storage = new MemoryStorage();
    const { pipeline, nodes } = await inProcessPipeline(storage, registry);
    // Written around admission, as an earlier version stored it: no nodeInfo, a quantity as sent.
    const stored = await storage.create(
      { group: '', resource: 'nodes', namespace: '', name: 'old' },
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'old', uid: '00000000-0000-0000-0000-000000000001', creationTimestamp: '2024-05-01T10:00:00Z' }, status: { capacity: { cpu: '4000m' } } },
    );
    const collection: Target = { info: nodes, namespace: '', name: '' };
    const read = await pipeline.get(admin, { ...collection, name: 'old' }, {});
    const status = read.status as Record<string, Record<string, unknown>>;
    assert.equal(status.nodeInfo!.architecture, '');
    assert.deepEqual(status.capacity, { cpu: '4' });
    assert.deepEqual(read.spec, {});
    const listed = await pipeline.list(admin, collection, {});
    assert.deepEqual(listed.items.find((o) => o.metadata?.name === 'old'), read);
    // A watch from the start lists what exists: its ADDED event carries the shaped object.
    const start = Number(await storage.currentRevision());
    const watcher = new WatchService({ caches: new Map([[cacheKey('', 'nodes'), new WatchCache(start, { capacity: 10 })]]), storage, registry, logger });
    const abort = new AbortController();
    try {
      const events = watcher.watch({ group: '', version: 'v1', resource: 'nodes', namespace: '' }, { resourceVersion: '' }, abort.signal);
      for await (const event of events) {
        const object = JSON.parse(event.object.toString()) as KubeObject;
        if (object.metadata?.name !== 'old') continue;
        assert.equal(event.type, 'ADDED');
        assert.deepEqual(object, read);
        assert.equal(object.metadata?.resourceVersion, stored.metadata?.resourceVersion);
        break;
      }
    } finally {
      abort.abort();
    }
  });
});
