/**
 * Kinds served as views of another kind's storage (autoscaling/v1 over autoscaling/v2
 * HorizontalPodAutoscalers, events.k8s.io/v1 over core/v1 Events): one stored object, read and
 * written, listed and watched through either version, each seeing it in its own form.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../lib/kube.ts';
import { createLogger } from '../../lib/log.ts';
import { builtinRegistry, storedKinds, type KindDefinition } from '../../lib/kinds/index.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { Pipeline, type Target } from '../../services/gateway/core/pipeline.ts';
import { refusal } from '../support/pipeline.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';
import { feedCachesLocally } from '../../services/watch/local-feed.ts';
import type { WatchEvent } from '../../services/watch/api.ts';

const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
const registry = builtinRegistry();
const logger = createLogger({ service: 'test', level: 'error' });
let pipeline: Pipeline;
let stop: () => Promise<void>;

function kind(group: string, version: string, resource: string): KindDefinition {
  const info = registry.get(group, version, resource);
  assert.ok(info !== undefined, `${group}/${version}/${resource} is served`);
  return info;
}

before(async () => {
  const storage = new MemoryStorage();
  const { caches, subscription } = await feedCachesLocally({ source: storage, storage, resources: storedKinds(registry.all), logger, cacheCapacity: 1000 });
  const watcher = new WatchService({ caches, storage, registry, logger });
  const schemas = generatedSchemaValidator();
  const admission = buildAdmissionChain({ registry, storage, schemas });
  pipeline = new Pipeline({ authenticator: new TokenFileAuthenticator([]), authorizer: new PrivilegedGroupAuthorizer(), admission, storage, watcher, kinds: registry, schemas });
  await pipeline.ensureSystemNamespaces(kind('', 'v1', 'namespaces'));
  stop = async () => {
    await subscription.close();
    for (const cache of caches.values()) cache.close();
  };
});

after(async () => stop());

/** The first event of `events` that satisfies `predicate`. */
async function eventWhere(events: AsyncIterable<WatchEvent>, predicate: (type: string, object: KubeObject) => boolean): Promise<KubeObject> {
  for await (const event of events) {
    const object = JSON.parse(event.object.toString()) as KubeObject;
    if (predicate(event.type, object)) return object;
  }
  assert.fail('the watch ended');
}

const scaleTargetRef = { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' };

test('an HPA written through autoscaling/v1 is one stored v2 object, and v1 keeps what only v2 can say', async () => {
  const v1: Target = { info: kind('autoscaling', 'v1', 'horizontalpodautoscalers'), namespace: 'default', name: '' };
  const v2: Target = { info: kind('autoscaling', 'v2', 'horizontalpodautoscalers'), namespace: 'default', name: '' };
  assert.deepEqual(v1.info.storedAs && [v1.info.storedAs.group, v1.info.storedAs.version], ['autoscaling', 'v2']);
  const created = await pipeline.create(admin, v1, {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web' },
    spec: { scaleTargetRef, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
  });
  assert.equal(created.apiVersion, 'autoscaling/v1');
  assert.deepEqual(created.spec, { scaleTargetRef, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 });

  const asV2 = await pipeline.get(admin, { ...v2, name: 'web' });
  assert.equal(asV2.apiVersion, 'autoscaling/v2');
  const spec = asV2.spec as Record<string, unknown>;
  assert.deepEqual(spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  assert.equal(spec.minReplicas, 1);

  // A v2 client adds a memory metric; v1 shows it in the annotation, and a v1 read-modify-write keeps it.
  const watch = await pipeline.watch(admin, v1, { resourceVersion: String(asV2.metadata?.resourceVersion) }, AbortSignal.timeout(20_000));
  const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } };
  await pipeline.update(admin, { ...v2, name: 'web' }, { ...asV2, spec: { ...spec, metrics: [...(spec.metrics as unknown[]), memory] } });
  const seen = await eventWhere(watch, (type) => type === 'MODIFIED');
  assert.equal(seen.apiVersion, 'autoscaling/v1');
  const annotations = seen.metadata?.annotations as Record<string, string>;
  assert.deepEqual(JSON.parse(annotations['autoscaling.alpha.kubernetes.io/metrics'] as string), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } }]);

  const read = await pipeline.get(admin, { ...v1, name: 'web' });
  await pipeline.update(admin, { ...v1, name: 'web' }, { ...read, spec: { ...(read.spec as object), maxReplicas: 7 } });
  const after = await pipeline.get(admin, { ...v2, name: 'web' });
  assert.deepEqual((after.spec as Record<string, unknown>).metrics, [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
    memory,
  ]);
  assert.equal((after.spec as Record<string, unknown>).maxReplicas, 7);
  assert.equal((after.metadata?.annotations as Record<string, string> | undefined)?.['autoscaling.alpha.kubernetes.io/metrics'], undefined, 'the round-trip annotation is not stored');

  const listed = await pipeline.list(admin, v1, {});
  assert.deepEqual(
    listed.items.map((i) => [i.apiVersion, (i.spec as Record<string, unknown>).targetCPUUtilizationPercentage]),
    [['autoscaling/v1', 60]],
  );
  const deleted = await pipeline.delete(admin, { ...v1, name: 'web' });
  assert.equal(deleted.object.apiVersion, 'autoscaling/v1');
});

test('an Event written through events.k8s.io/v1 is a core/v1 Event, and core Events read through events.k8s.io/v1', async () => {
  const events: Target = { info: kind('events.k8s.io', 'v1', 'events'), namespace: 'default', name: '' };
  const core: Target = { info: kind('', 'v1', 'events'), namespace: 'default', name: '' };
  const regarding = { kind: 'Pod', namespace: 'default', name: 'web-0', apiVersion: 'v1' };
  const valid = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'web-0.1' },
    eventTime: '2026-12-06T10:00:00.000000Z',
    reportingController: 'example.com/scheduler',
    reportingInstance: 'scheduler-1',
    action: 'Binding',
    reason: 'Scheduled',
    regarding,
    note: 'assigned to node-1',
    type: 'Normal',
  };

  // The strict rules of the events API, with kube's (core) field names.
  const refused = await refusal(pipeline.create(admin, events, { ...valid, eventTime: undefined, type: 'Odd', deprecatedCount: 3 } as KubeObject), 'Invalid');
  assert.deepEqual(
    refused.details?.causes?.map((c) => [c.field, c.message]),
    [
      ['eventTime', 'Required value'],
      ['type', 'Invalid value: "": has invalid value: Odd'],
      ['count', 'Invalid value: "": needs to be unset'],
    ],
  );

  const watch = await pipeline.watch(admin, events, { resourceVersion: '0' }, AbortSignal.timeout(20_000));
  const created = await pipeline.create(admin, events, valid as KubeObject);
  assert.equal(created.apiVersion, 'events.k8s.io/v1');
  assert.equal(created.note, 'assigned to node-1');
  const asCore = await pipeline.get(admin, { ...core, name: 'web-0.1' });
  assert.equal(asCore.apiVersion, 'v1');
  assert.equal(asCore.message, 'assigned to node-1');
  assert.deepEqual(asCore.involvedObject, regarding);
  assert.equal(asCore.reportingComponent, 'example.com/scheduler');

  // A core Event (old style, no eventTime) shows through the events API too.
  await pipeline.create(admin, core, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-0.2' },
    involvedObject: regarding,
    reason: 'Pulled',
    message: 'image pulled',
    source: { component: 'kubelet' },
    count: 2,
    type: 'Normal',
  } as KubeObject);
  const seen = await eventWhere(watch, (_type, object) => object.metadata?.name === 'web-0.2');
  assert.equal(seen.apiVersion, 'events.k8s.io/v1');
  assert.deepEqual([seen.note, seen.deprecatedCount, seen.deprecatedSource], ['image pulled', 2, { component: 'kubelet' }]);

  const listed = await pipeline.list(admin, events, {});
  assert.deepEqual(listed.items.map((e) => [e.metadata?.name, e.note]).sort(), [
    ['web-0.1', 'assigned to node-1'],
    ['web-0.2', 'image pulled'],
  ]);
  // Updating through the events API may change only the series.
  const current = await pipeline.get(admin, { ...events, name: 'web-0.1' });
  const changed = await refusal(pipeline.update(admin, { ...events, name: 'web-0.1' }, { ...current, note: 'changed' }), 'Invalid');
  assert.deepEqual(changed.details?.causes?.map((c) => c.field), ['message']);
  await pipeline.update(admin, { ...events, name: 'web-0.1' }, { ...current, series: { count: 2, lastObservedTime: '2026-12-06T10:05:00.000000Z' } });
  assert.equal((await pipeline.get(admin, { ...core, name: 'web-0.1' })).series !== undefined, true);
});
