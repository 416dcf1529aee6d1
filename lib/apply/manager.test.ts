/**
 * kube's managedfields tests (k8s.io/apimachinery/pkg/util/managedfields, v0.36.3) as facts
 * about this field manager, on the built-in Deployment and Pod schemas; each case names its
 * source. Also the kube-specific shapes of managedFields on create and update, and hostile
 * managedFields from clients.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../kube.ts';
import { readGoFacts, SchemaSet } from '../kinds/schemas.ts';
import { decodeFieldsV1 } from './fieldpath.ts';
import { applyTypesOf, capManagedFields, conflictError, FieldManager, type ManagedFieldsEntry } from './index.ts';
import { statusOf } from '../../test/support/status.ts';

const definitions = new SchemaSet();
const goFacts = readGoFacts();
const DEPLOYMENT = applyTypesOf((n) => definitions.get(n), 'io.k8s.api.apps.v1.Deployment', (n) => goFacts.get(n));
const POD = applyTypesOf((n) => definitions.get(n), 'io.k8s.api.core.v1.Pod', (n) => goFacts.get(n));

/** A field manager whose clock ticks one second per reading, from 2026-01-01T00:00:00Z. */
function manager(kind: 'Deployment' | 'Pod', o: { subresource?: string; resetFields?: string[][]; maxUpdateManagers?: number } = {}): FieldManager {
  let tick = 0;
  return new FieldManager({
    types: kind === 'Deployment' ? DEPLOYMENT : POD,
    apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
    kind,
    subresource: o.subresource ?? '',
    resetFields: o.resetFields ?? (o.subresource === 'status' ? [['spec'], ['metadata']] : [['status']]),
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)),
    ...(o.maxUpdateManagers === undefined ? {} : { maxUpdateManagers: o.maxUpdateManagers }),
  });
}

function entries(o: KubeObject | undefined): ManagedFieldsEntry[] {
  return (o?.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
}

function owned(o: KubeObject | undefined, name: string): string[] {
  const e = entries(o).find((x) => x.manager === name);
  return e === undefined ? [] : decodeFieldsV1(e.fieldsV1).paths();
}

const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'deployment', labels: { app: 'nginx' } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'nginx' } },
    template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest' }] } },
  },
});

describe('conflicts (internal/conflict_test.go TestNewConflictError)', () => {
  test('one conflict', () => {
    const err = conflictError([{ manager: '{"manager":"foo","operation":"Update","apiVersion":"v1","time":"2001-02-03T04:05:06Z"}', path: ['f:spec', 'f:replicas'] }]);
    assert.equal(err.reason, 'Conflict');
    assert.equal(err.code, 409);
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "foo" using v1 at 2001-02-03T04:05:06Z: .spec.replicas');
    assert.deepEqual(err.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "foo" using v1 at 2001-02-03T04:05:06Z', field: '.spec.replicas' }]);
  });
  test('two conflicts, grouped by manager in identifier order', () => {
    const err = conflictError([
      { manager: '{"manager":"foo","operation":"Update","apiVersion":"v1","time":"2001-02-03T04:05:06Z"}', path: ['f:spec', 'f:replicas'] },
      { manager: '{"manager":"bar","operation":"Apply"}', path: ['f:metadata', 'f:labels', 'f:app'] },
    ]);
    assert.equal(err.message, 'Apply failed with 2 conflicts: conflicts with "bar":\n- .metadata.labels.app\nconflicts with "foo" using v1 at 2001-02-03T04:05:06Z:\n- .spec.replicas');
    assert.deepEqual(err.details?.causes, [
      { reason: 'FieldManagerConflict', message: 'conflict with "foo" using v1 at 2001-02-03T04:05:06Z', field: '.spec.replicas' },
      { reason: 'FieldManagerConflict', message: 'conflict with "bar"', field: '.metadata.labels.app' },
    ]);
  });
  test('a subresource manager', () => {
    const err = conflictError([{ manager: '{"manager":"foo","operation":"Update","subresource":"scale","apiVersion":"v1","time":"2001-02-03T04:05:06Z"}', path: ['f:spec', 'f:replicas'] }]);
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "foo" with subresource "scale" using v1 at 2001-02-03T04:05:06Z: .spec.replicas');
  });
});

describe('field manager (fieldmanager_test.go)', () => {
  test('TestUpdateApplyConflict: an apply changing a field an updater owns is a 409', () => {
    const f = manager('Deployment');
    const live = f.update(undefined, deployment(), 'fieldmanager_test');
    const err = statusOf(() => f.apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'deployment' }, spec: { replicas: 101 } }, 'fieldmanager_conflict', false));
    assert.equal(err.code, 409);
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "fieldmanager_test" using apps/v1: .spec.replicas');
    assert.deepEqual(err.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "fieldmanager_test" using apps/v1', field: '.spec.replicas' }]);
    // force takes the field over
    const forced = f.apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'deployment' }, spec: { replicas: 101 } }, 'fieldmanager_conflict', true);
    assert.equal((forced.spec as { replicas: number }).replicas, 101);
    assert.deepEqual(owned(forced, 'fieldmanager_conflict'), ['.spec.replicas']);
    assert.ok(!owned(forced, 'fieldmanager_test').includes('.spec.replicas'));
  });

  test('TestApplyStripsFields: metadata kube strips is owned by nobody', () => {
    const f = manager('Deployment');
    const out = f.update(
      undefined,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'b', namespace: 'b', uid: 'b', generation: 0, resourceVersion: 'b', creationTimestamp: '2026-01-01T00:00:00Z', managedFields: [{ manager: 'update', operation: 'Apply', apiVersion: 'apps/v1' }] },
      },
      'fieldmanager_test',
    );
    assert.deepEqual(entries(out), []);
    assert.equal(out.metadata?.managedFields, undefined);
  });

  test('TestVersionCheck: an apply configuration of another version is a 400', () => {
    const f = manager('Deployment');
    f.apply(undefined, { apiVersion: 'apps/v1', kind: 'Deployment' }, 'fieldmanager_test', false);
    const err = statusOf(() => f.apply(undefined, { apiVersion: 'apps/v1beta1', kind: 'Deployment' }, 'fieldmanager_test', false));
    assert.equal(err.code, 400);
    assert.equal(err.message, 'invalid object type: apps/v1beta1, Kind=Deployment');
  });

  test('TestApplyFailsWithManagedFields: an apply configuration may not set managedFields', () => {
    const f = manager('Pod');
    const err = statusOf(() => f.apply(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { managedFields: [{}] } }, 'fieldmanager_test', false));
    assert.equal(err.code, 400);
    assert.equal(err.message, 'metadata.managedFields must be nil');
  });

  test('TestApplySuccessWithNoManagedFields / TestApplyNewObject', () => {
    const f = manager('Pod');
    const out = f.apply(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', namespace: 'b' } }, 'fieldmanager_test', false);
    assert.deepEqual(entries(out), []);
    const labelled = f.apply(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', labels: { a: 'b' } } }, 'fieldmanager_test', false);
    assert.deepEqual(owned(labelled, 'fieldmanager_test'), ['.metadata.labels.a']);
  });

  test('TestNoOpChanges: no-op applies and updates leave managedFields (and their times) alone', () => {
    const f = manager('Pod');
    const obj = (): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { labels: { a: 'b' } } });
    let live = f.apply(undefined, obj(), 'fieldmanager_test_apply', false);
    let before = structuredClone(live);
    live = f.apply(live, obj(), 'fieldmanager_test_apply_other', false);
    assert.notDeepEqual(live, before);
    before = structuredClone(live);
    live = f.update(live, obj(), 'fieldmanager_test_update');
    assert.deepEqual(live, before);
    live = f.apply(live, obj(), 'fieldmanager_test_apply', true);
    assert.deepEqual(live, before);
  });

  test('TestResetManagedFieldsEmptyList and EmptyItem: [] and [{}] clear managedFields', () => {
    for (const reset of [[], [{}]]) {
      const f = manager('Pod');
      const live = f.apply(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { a: 'b' } } }, 'fieldmanager_test_apply', false);
      assert.equal(entries(live).length, 1);
      const out = f.update({ ...live, metadata: { ...live.metadata, uid: 'u' } }, { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { a: 'b' }, managedFields: reset } }, 'update_manager');
      assert.equal(out.metadata?.managedFields, undefined);
    }
  });

  test('TestApplyDoesNotChangeManagedFields: re-applying the same configuration changes nothing', () => {
    const f = manager('Deployment');
    const config = deployment();
    delete (config.spec as Record<string, unknown>).replicas;
    let live = f.apply(undefined, structuredClone(config), 'fieldmanager_z', false);
    live = f.apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'deployment' }, spec: { replicas: 101 } }, 'fieldmanager_b', false);
    const original = structuredClone(entries(live));
    live = f.apply(live, structuredClone(config), 'fieldmanager_z', false);
    assert.deepEqual(entries(live), original);
  });

  test('TestLiveObjectManagedFieldsNotRemoved / user-set managedFields are honoured on update', () => {
    const f = manager('Pod');
    const live = f.update(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } } }, 'creator');
    // a client sends managedFields it edited: they are taken as the starting point
    const edited = entries(live).map((e) => ({ ...e, manager: 'renamed' }));
    const out = f.update(live, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b', c: 'd' }, managedFields: edited } }, 'second');
    assert.deepEqual(
      entries(out).map((e) => e.manager),
      ['renamed', 'second'],
    );
    assert.deepEqual(owned(out, 'second'), ['.metadata.labels.c']);
    // a client that leaves managedFields out keeps the live ones
    const kept = f.update(out, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b', c: 'd' } } }, 'third');
    assert.deepEqual(entries(kept), entries(out));
  });
});

describe('before-first-apply (internal/skipnonapplied_test.go)', () => {
  test('TestNoUpdateBeforeFirstApply: a new object applied has only its applier', () => {
    const f = manager('Pod');
    const out = f.apply(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod', labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest' }] } }, 'fieldmanager_test_apply', false);
    assert.deepEqual(
      entries(out).map((e) => e.manager),
      ['fieldmanager_test_apply'],
    );
  });
  test('TestUpdateBeforeFirstApply: an untracked object\'s fields go to "before-first-apply" on the first apply', () => {
    const f = manager('Pod');
    const untracked = f.update({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod', uid: 'u' } }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod', uid: 'u', labels: { app: 'my-nginx' } } }, 'fieldmanager_test_update');
    assert.equal(untracked.metadata?.managedFields, undefined, 'updates of an untracked object are not tracked');
    const config = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod', labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest' }] } };
    const err = statusOf(() => f.apply(untracked, structuredClone(config), 'fieldmanager_test_apply', false));
    assert.equal(err.details?.causes?.length, 1);
    assert.equal(err.details?.causes?.[0]?.field, '.metadata.labels.app');
    assert.match(err.details?.causes?.[0]?.message ?? '', /before-first-apply/);
    const out = f.apply(untracked, structuredClone(config), 'fieldmanager_test_apply', true);
    assert.deepEqual(
      entries(out).map((e) => e.manager),
      ['fieldmanager_test_apply', 'before-first-apply'],
    );
  });
});

describe('cap of Update managers (internal/capmanagers_test.go)', () => {
  const entry = (name: string, version: string, hour: number, fields: string[]): ManagedFieldsEntry => ({
    manager: name,
    operation: 'Update',
    apiVersion: version,
    time: `0001-01-01T${String(hour).padStart(2, '0')}:00:00Z`,
    fieldsType: 'FieldsV1',
    fieldsV1: Object.fromEntries(fields.map((f) => [`f:${f}`, {}])),
  });
  const cases: [string, ManagedFieldsEntry[], ManagedFieldsEntry[]][] = [
    [
      'one version, no ancient changes',
      [entry('update-manager1', 'v1', 1, ['a']), entry('update-manager2', 'v1', 2, ['b']), entry('update-manager3', 'v1', 3, ['c']), entry('update-manager4', 'v1', 4, ['d'])],
      [entry('ancient-changes', 'v1', 2, ['a', 'b']), entry('update-manager3', 'v1', 3, ['c']), entry('update-manager4', 'v1', 4, ['d'])],
    ],
    [
      'one version, one ancient changes',
      [entry('ancient-changes', 'v1', 2, ['a', 'b']), entry('update-manager3', 'v1', 3, ['c']), entry('update-manager4', 'v1', 4, ['d']), entry('update-manager5', 'v1', 5, ['e'])],
      [entry('ancient-changes', 'v1', 3, ['a', 'b', 'c']), entry('update-manager4', 'v1', 4, ['d']), entry('update-manager5', 'v1', 5, ['e'])],
    ],
    [
      'two versions, no ancient changes',
      [entry('update-manager1', 'v1', 1, ['a']), entry('update-manager2', 'v2', 2, ['b']), entry('update-manager3', 'v1', 3, ['c']), entry('update-manager4', 'v1', 4, ['d']), entry('update-manager5', 'v1', 5, ['e'])],
      [entry('update-manager2', 'v2', 2, ['b']), entry('ancient-changes', 'v1', 4, ['a', 'c', 'd']), entry('update-manager5', 'v1', 5, ['e'])],
    ],
    [
      'three versions, one ancient changes',
      [entry('update-manager2', 'v2', 2, ['b']), entry('ancient-changes', 'v1', 4, ['a', 'c', 'd']), entry('update-manager5', 'v1', 5, ['e']), entry('update-manager6', 'v3', 6, ['f']), entry('update-manager7', 'v2', 7, ['g'])],
      [entry('ancient-changes', 'v1', 5, ['a', 'c', 'd', 'e']), entry('update-manager6', 'v3', 6, ['f']), entry('ancient-changes', 'v2', 7, ['b', 'g'])],
    ],
  ];
  for (const [name, input, expected] of cases) {
    test(`TestCapUpdateManagers: ${name}`, () => {
      assert.deepEqual(capManagedFields(input, 3), expected);
    });
  }
  test('TestCapManagersManagerMergesEntries', () => {
    const f = manager('Pod', { maxUpdateManagers: 3 });
    const pod = (...labels: string[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { labels: Object.fromEntries(labels.map((l) => [l, 'true'])) } });
    let live = f.update(undefined, pod('one'), 'fieldmanager_test_update_1');
    live = f.update(live, pod('one', 'two'), 'fieldmanager_test_update_2');
    live = f.update(live, pod('one', 'two', 'three'), 'fieldmanager_test_update_3');
    live = f.update(live, pod('one', 'two', 'three', 'four'), 'fieldmanager_test_update_4');
    assert.deepEqual(
      entries(live).map((e) => e.manager),
      ['ancient-changes', 'fieldmanager_test_update_3', 'fieldmanager_test_update_4'],
    );
    assert.deepEqual(owned(live, 'ancient-changes'), ['.metadata.labels', '.metadata.labels.one', '.metadata.labels.two']);
    assert.deepEqual(owned(live, 'fieldmanager_test_update_4'), ['.metadata.labels.four']);
  });
});

describe('managedFields as kube writes them', () => {
  test('a created Deployment: struct fields without ".", maps, pointers and list items with it', () => {
    const f = manager('Deployment');
    const out = f.update(undefined, deployment(), 'kubectl-create');
    const [e] = entries(out);
    assert.deepEqual({ ...e, fieldsV1: undefined }, { manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: undefined });
    assert.equal(
      JSON.stringify(e?.fieldsV1),
      '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{}}}}}}}',
    );
  });
  test('status is reset on the main resource and owned on /status', () => {
    const main = manager('Deployment');
    const created = main.update(undefined, { ...deployment(), status: { replicas: 1 } }, 'creator');
    assert.ok(!owned(created, 'creator').some((p) => p.startsWith('.status')));
    const status = manager('Deployment', { subresource: 'status' });
    const updated = status.update(created, { ...created, status: { replicas: 2 } }, 'controller');
    const e = entries(updated).find((x) => x.manager === 'controller');
    assert.equal(e?.subresource, 'status');
    assert.deepEqual(owned(updated, 'controller'), ['.status.replicas']);
  });
  test('removed fields leave every manager; changed fields leave other managers', () => {
    const f = manager('Pod');
    let live = f.update(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { a: '1', b: '2' } } }, 'one');
    live = f.update(live, { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { a: 'changed' } } }, 'two');
    assert.deepEqual(owned(live, 'one'), ['.metadata.labels']);
    assert.deepEqual(owned(live, 'two'), ['.metadata.labels.a']);
  });
  test('entries are sorted: Apply before Update, then by time, manager, apiVersion, subresource', () => {
    const f = manager('Pod');
    let live = f.update(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { z: '1' } } }, 'zeta');
    live = f.update(live, { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { z: '1', a: '1' } } }, 'alpha');
    live = f.apply(live, { apiVersion: 'v1', kind: 'Pod', metadata: { annotations: { x: 'y' } } }, 'applier', false);
    assert.deepEqual(
      entries(live).map((e) => `${e.operation}/${e.manager}`),
      ['Apply/applier', 'Update/zeta', 'Update/alpha'],
    );
  });
});

describe('hostile managedFields', () => {
  const f = manager('Pod');
  const live = f.update(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } } }, 'creator');
  const bad: unknown[] = [
    'not a list',
    [1],
    [{ manager: 'x', operation: 'Delete', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} }],
    [{ manager: 'x', operation: 'Update', apiVersion: '', fieldsType: 'FieldsV1', fieldsV1: {} }],
    [{ manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV2', fieldsV1: {} }],
    [{ manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'x': {} } }],
    [{ manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:a': 7 } }],
    [{ manager: 7, operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} }],
  ];
  for (const [i, managedFields] of bad.entries()) {
    test(`malformed managedFields ${i} on update fall back to the live ones`, () => {
      const out = f.update(live, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' }, managedFields: managedFields as ManagedFieldsEntry[] } }, 'other');
      assert.deepEqual(entries(out), entries(live));
    });
    test(`malformed managedFields ${i} in a stored object: apply answers 500, update drops them`, () => {
      const stored = { ...live, metadata: { ...live.metadata, managedFields: managedFields as ManagedFieldsEntry[] } };
      const err = statusOf(() => f.apply(stored, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, 'a', false));
      assert.equal(err.code, 500);
      assert.match(err.message, /^failed to decode managed fields: /);
    });
  }
  // internal/fieldmanager_test.go TestFieldManagerUpdateNoErrors: an update whose managedFields
  // cannot be worked out keeps the live object's entries (kube injects the failure; here an
  // object too deep to walk makes it fail).
  test('TestFieldManagerUpdateNoErrors: a failed update keeps the live managedFields', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const out = f.update(live, { ...live, metadata: { ...live.metadata, labels: { a: 'c' } }, spec: { extra: deep } } as KubeObject, 'other');
    assert.deepEqual(entries(out), entries(live));
    assert.deepEqual(out.metadata?.labels, { a: 'c' });
  });
  test('an apply configuration with list items missing their keys is refused with the path', () => {
    const err = statusOf(() => f.apply(live, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ image: 'x' }] } }, 'a', false));
    assert.equal(err.code, 500);
    assert.match(err.message, /\.spec\.containers: element 0: associative list with keys has an element that omits all key fields \["name"\]/);
  });
  test('duplicate items in an apply configuration are refused', () => {
    const err = statusOf(() => f.apply(live, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', finalizers: ['a', 'a'] } }, 'a', false));
    assert.match(err.message, /\.metadata\.finalizers: duplicate entries for key \[="a"\]/);
  });
  test('deep objects are walked within the depth bound', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 900; i++) deep = { a: deep };
    const out = f.update(live, { ...live, metadata: { ...live.metadata, annotations: { x: 'y' } }, spec: { overhead: {}, containers: [], extra: deep } } as KubeObject, 'deep');
    assert.ok(entries(out).length >= 1);
  });
});

describe('list keys kube defaults in OpenAPI v3 (KEY_FIELD_DEFAULTS)', () => {
  test('a container port without protocol is the live port with protocol TCP', () => {
    const f = manager('Deployment');
    const live = f.update(undefined, { ...deployment(), spec: { ...(deployment().spec as object), template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } } } }, 'creator');
    const config = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'deployment' }, spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 80, name: 'http' }] }] } } } };
    const out = f.apply(live, config, 'applier', false);
    const ports = ((out.spec as { template: { spec: { containers: { ports: unknown[] }[] } } }).template.spec.containers[0]?.ports ?? []) as unknown[];
    assert.deepEqual(ports, [{ containerPort: 80, protocol: 'TCP', name: 'http' }]);
    assert.deepEqual(owned(out, 'applier'), [
      '.spec.template.spec.containers[name="nginx"]',
      '.spec.template.spec.containers[name="nginx"].name',
      '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]',
      '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].containerPort',
      '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].name',
    ]);
  });
});
