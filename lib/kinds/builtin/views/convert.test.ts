import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../kube.ts';
import { autoscalingV1ToV2, autoscalingV2ToV1, BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, CURRENT_METRICS_ANNOTATION, METRICS_ANNOTATION } from './convert-autoscaling.ts';
import { coreToEventsV1, eventsV1ToCore } from './convert-events.ts';

const metadata = { name: 'e', namespace: 'default', uid: 'u', resourceVersion: '7' };

test('an events.k8s.io/v1 Event is stored as the core/v1 Event of the same fields, and reads back unchanged', () => {
  const v1: KubeObject = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata,
    eventTime: '2026-12-06T10:00:00.000000Z',
    series: { count: 2, lastObservedTime: '2026-12-06T10:01:00.000000Z' },
    reportingController: 'example.com/controller',
    reportingInstance: 'controller-1',
    action: 'Scale',
    reason: 'Scaled',
    regarding: { kind: 'Deployment', namespace: 'default', name: 'web' },
    related: { kind: 'ReplicaSet', namespace: 'default', name: 'web-1' },
    note: 'scaled up',
    type: 'Normal',
    deprecatedSource: { component: 'old' },
    deprecatedFirstTimestamp: '2026-12-06T09:00:00Z',
    deprecatedLastTimestamp: '2026-12-06T09:30:00Z',
    deprecatedCount: 3,
  };
  const core = eventsV1ToCore(v1);
  assert.deepEqual(core, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata,
    eventTime: '2026-12-06T10:00:00.000000Z',
    series: { count: 2, lastObservedTime: '2026-12-06T10:01:00.000000Z' },
    reportingInstance: 'controller-1',
    action: 'Scale',
    reason: 'Scaled',
    related: { kind: 'ReplicaSet', namespace: 'default', name: 'web-1' },
    type: 'Normal',
    involvedObject: { kind: 'Deployment', namespace: 'default', name: 'web' },
    message: 'scaled up',
    reportingComponent: 'example.com/controller',
    source: { component: 'old' },
    firstTimestamp: '2026-12-06T09:00:00Z',
    lastTimestamp: '2026-12-06T09:30:00Z',
    count: 3,
  });
  assert.deepEqual(coreToEventsV1(core), v1);
});

test('a core Event without the new fields reads through events.k8s.io/v1 with only the fields it has', () => {
  const core: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata, involvedObject: { kind: 'Pod', name: 'p' }, reason: 'Started', message: 'started', count: 1, source: { component: 'kubelet' } };
  assert.deepEqual(coreToEventsV1(core), {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata,
    reason: 'Started',
    regarding: { kind: 'Pod', name: 'p' },
    note: 'started',
    deprecatedSource: { component: 'kubelet' },
    deprecatedCount: 1,
  });
});

const scaleTargetRef = { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' };

test('an autoscaling/v1 HPA is stored as v2 with its CPU target as a Utilization metric', () => {
  const v1: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata, spec: { scaleTargetRef, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 } };
  const v2 = autoscalingV1ToV2(v1);
  assert.deepEqual(v2, {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: { scaleTargetRef, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }] },
  });
  assert.deepEqual(autoscalingV2ToV1(v2), v1);
});

test('what v1 cannot say travels in annotations and comes back to v2 unchanged', () => {
  const metrics = [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
    { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
    { type: 'Object', object: { describedObject: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' }, metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } },
    { type: 'External', external: { metric: { name: 'queue', selector: { matchLabels: { q: 'a' } } }, target: { type: 'AverageValue', averageValue: '30' } } },
    { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 50 } } },
  ];
  const behavior = { scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } };
  const conditions = [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-12-06T10:00:00Z', reason: 'ReadyForNewScale', message: 'ok' }];
  const currentMetrics = [
    { type: 'Resource', resource: { name: 'cpu', current: { averageValue: '120m', averageUtilization: 40 } } },
    { type: 'Pods', pods: { metric: { name: 'qps' }, current: { averageValue: '4' } } },
  ];
  const v2: KubeObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...metadata, annotations: { team: 'a' } },
    spec: { scaleTargetRef, minReplicas: 2, maxReplicas: 9, metrics, behavior },
    status: { observedGeneration: 3, currentReplicas: 2, desiredReplicas: 3, currentMetrics, conditions },
  };
  const v1 = autoscalingV2ToV1(v2);
  const annotations = v1.metadata?.annotations as Record<string, string>;
  assert.equal(annotations.team, 'a');
  assert.deepEqual(JSON.parse(annotations[METRICS_ANNOTATION] as string), [
    { type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } },
    { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10' } },
    { type: 'Object', object: { target: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' }, metricName: 'rps', targetValue: '2k' } },
    { type: 'External', external: { metricName: 'queue', metricSelector: { matchLabels: { q: 'a' } }, targetAverageValue: '30' } },
    { type: 'ContainerResource', containerResource: { name: 'cpu', targetAverageUtilization: 50, container: 'app' } },
  ]);
  assert.deepEqual(JSON.parse(annotations[BEHAVIOR_ANNOTATION] as string), behavior);
  assert.deepEqual(JSON.parse(annotations[CONDITIONS_ANNOTATION] as string), conditions);
  assert.deepEqual(JSON.parse(annotations[CURRENT_METRICS_ANNOTATION] as string), [
    { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 40, currentAverageValue: '120m' } },
    { type: 'Pods', pods: { metricName: 'qps', currentAverageValue: '4' } },
  ]);
  assert.deepEqual(v1.spec, { scaleTargetRef, minReplicas: 2, maxReplicas: 9, targetCPUUtilizationPercentage: 70 });
  assert.deepEqual(v1.status, { observedGeneration: 3, currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 40 });
  // A v1 client's read-modify-write keeps all of it.
  assert.deepEqual(autoscalingV1ToV2(v1), v2);
});

test('annotations that are no JSON of the right shape are dropped, never thrown on', () => {
  const v1: KubeObject = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'h', annotations: { [METRICS_ANNOTATION]: '{not json', [BEHAVIOR_ANNOTATION]: '[1]' } },
    spec: { scaleTargetRef, maxReplicas: 3 },
  };
  assert.deepEqual(autoscalingV1ToV2(v1), { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { scaleTargetRef, maxReplicas: 3 } });
  assert.doesNotThrow(() => autoscalingV1ToV2({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', spec: 'x', status: 3 } as unknown as KubeObject));
  assert.doesNotThrow(() => autoscalingV2ToV1({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', spec: { metrics: [1, null, 'x'] } } as unknown as KubeObject));
});
