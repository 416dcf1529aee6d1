/** The scale subresource's Scale of built-in and custom kinds, and what a Scale write changes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../kube.ts';
import { DEFAULT_FIELDS } from '../selectors.ts';
import { CUSTOM_RESOURCE_DEFINITION } from './builtin/customresourcedefinition.ts';
import { kindsOfDefinition } from './custom.ts';
import { applyScale, scaleKindOf, scaleOf } from './scale.ts';
import type { KindDefinition } from './types.ts';
import { statusOf } from '../../test/support/status.ts';

/** A built-in kind with kube's Deployment scale facts (test-only: replicas and a metav1.LabelSelector). */
const REPLICATED: KindDefinition = {
  source: 'builtin',
  group: 'example.test',
  version: 'v1',
  resource: 'replicators',
  singular: 'replicator',
  kind: 'Replicator',
  listKind: 'ReplicatorList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: [],
  subresources: ['status', 'scale'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { generation: 'spec' },
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selectorPath: '.spec.selector' },
  schema: 'io.k8s.api.apps.v1.Deployment',
};

const [WIDGET] = kindsOfDefinition(
  CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object' } },
          subresources: { scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.ready', labelSelectorPath: '.status.selector' } },
        },
      ],
    },
  }) ?? {},
);
assert.ok(WIDGET !== undefined);

const META = { name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z', labels: { x: 'y' }, generation: 3 };
const SCALE_META = { name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' };

function replicator(spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'example.test/v1', kind: 'Replicator', metadata: META, spec, status };
}

test('built-in: the object\'s identity, spec and status replicas, the selector as kube prints it', () => {
  const object = replicator({ replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] } }, { replicas: 2 });
  assert.deepEqual(scaleOf(REPLICATED, object), {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: SCALE_META,
    spec: { replicas: 3 },
    status: { replicas: 2, selector: 'app=web,tier in (a,b)' },
  });
  // Zero replicas are left out of spec (omitempty), never out of status; no selector, none printed.
  assert.deepEqual(scaleOf(REPLICATED, replicator({ replicas: 0 })), { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: SCALE_META, spec: {}, status: { replicas: 0 } });
});

test('built-in: a write changes only the replicas, pinned to the Scale\'s resourceVersion when it has one', () => {
  const current = replicator({ replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { x: 1 } }, { replicas: 3 });
  const written = applyScale(REPLICATED, current, { metadata: { name: 'a', resourceVersion: '5' }, spec: { replicas: 5 }, status: { replicas: 99 } });
  assert.deepEqual(written, { ...current, metadata: { ...META, resourceVersion: '5' }, spec: { replicas: 5, selector: { matchLabels: { app: 'web' } }, template: { x: 1 } } });
  // Without a resourceVersion the stored one stays (the pipeline retries a lost race).
  assert.equal(applyScale(REPLICATED, current, { metadata: { name: 'a' }, spec: {} }).metadata?.resourceVersion, '7');
  assert.deepEqual((applyScale(REPLICATED, current, { metadata: { name: 'a' }, spec: {} }).spec as Record<string, unknown>).replicas, 0);
  // Writing replicas where there were none makes the objects on the way.
  assert.deepEqual(applyScale(REPLICATED, { metadata: META }, { metadata: { name: 'a' }, spec: { replicas: 2 } }).spec, { replicas: 2 });
});

test('built-in: ValidateScale (422 Scale.autoscaling) and the uid precondition (409 on <resource>/scale)', () => {
  const current = replicator({ replicas: 3 });
  const negative = statusOf(() => applyScale(REPLICATED, current, { metadata: { name: 'a' }, spec: { replicas: -1 } }));
  assert.equal(negative.reason, 'Invalid');
  assert.equal(negative.message, 'Scale.autoscaling "a" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
  const nameless = statusOf(() => applyScale(REPLICATED, current, { metadata: {}, spec: { replicas: 1 } }));
  assert.equal(nameless.message, 'Scale.autoscaling "a" is invalid: metadata.name: Required value: name or generateName is required');
  const uid = statusOf(() => applyScale(REPLICATED, current, { metadata: { name: 'a', uid: 'other' }, spec: { replicas: 1 } }));
  assert.equal(uid.reason, 'Conflict');
  assert.equal(uid.message, 'Operation cannot be fulfilled on replicators/scale.example.test "a": Precondition failed: UID in precondition: other, UID in object meta: u1');
});

test('custom: replicas read as int64 at the definition\'s paths, the selector a string', () => {
  const object: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: META, spec: { size: 4 }, status: { ready: 1, selector: 'app=w' } };
  assert.deepEqual(scaleOf(WIDGET, object), { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: SCALE_META, spec: { replicas: 4 }, status: { replicas: 1, selector: 'app=w' } });
  assert.deepEqual(scaleOf(WIDGET, { ...object, status: {} }).status, { replicas: 0 });
  const wrongType = statusOf(() => scaleOf(WIDGET, { ...object, spec: { size: 'four' } }));
  assert.deepEqual([wrongType.reason, wrongType.message], ['InternalError', '.spec.size accessor error: four is of the type string, expected int64']);
});

test('custom: missing desired replicas are a 500 on read, and a write must set them (400)', () => {
  const object: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: META, spec: {} };
  const read = statusOf(() => scaleOf(WIDGET, object));
  assert.deepEqual([read.reason, read.message], ['InternalError', 'Internal error occurred: the spec replicas field ".spec.size" does not exist']);
  const forWrite = scaleOf(WIDGET, object, 'write');
  const unset = statusOf(() => applyScale(WIDGET, object, forWrite));
  assert.deepEqual([unset.reason, unset.message], ['BadRequest', 'the spec replicas field ".spec.size" cannot be empty']);
  assert.deepEqual(applyScale(WIDGET, object, { ...forWrite, spec: { replicas: 2 } }).spec, { size: 2 });
  // apiextensions does not validate the Scale: its schema's rules (if any) judge the object.
  assert.deepEqual(applyScale(WIDGET, object, { ...forWrite, spec: { replicas: -1 } }).spec, { size: -1 });
});

test('the Scale kind follows the scope of the object, and prints kube\'s Scale columns', () => {
  assert.equal(scaleKindOf(REPLICATED).namespaced, true);
  assert.equal(scaleKindOf({ ...REPLICATED, namespaced: false }).namespaced, false);
  const printer = scaleKindOf(REPLICATED).printer;
  assert.deepEqual(printer?.columns.map((c) => [c.name, c.type]), [['Name', 'string'], ['Desired', 'integer'], ['Available', 'integer'], ['Age', 'string']]);
  const scale = scaleOf(REPLICATED, replicator({ replicas: 3 }, { replicas: 1 }));
  assert.deepEqual(printer?.cells(scale, new Date('2026-01-01T00:05:00Z')), ['a', 3, 1, '5m']);
});
