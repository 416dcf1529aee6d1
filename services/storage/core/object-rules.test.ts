import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../../lib/kube.ts';
import { encodeForStorage, prepareDelete, prepareUpdate } from './object-rules.ts';

const stored: KubeObject = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', namespace: 'ns', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z', generation: 3, resourceVersion: '10', labels: { a: '1' } },
  spec: { size: 1 },
  status: { ready: false },
};
const copy = (): KubeObject => structuredClone(stored);

describe('prepareUpdate', () => {
  test('an update that would store what is stored is unchanged, whatever resourceVersion or selfLink it carries', () => {
    assert.equal(prepareUpdate(stored, copy()).unchanged, true);
    const next = copy();
    next.metadata = { ...next.metadata, resourceVersion: '7', selfLink: '/apis/example.com/v1/namespaces/ns/widgets/w' };
    assert.equal(prepareUpdate(stored, next).unchanged, true);
    const { metadata, ...withoutSystemFields } = copy();
    const { uid: _u, creationTimestamp: _c, ...rest } = metadata ?? {};
    assert.equal(prepareUpdate(stored, { ...withoutSystemFields, metadata: rest }).unchanged, true, 'uid and creationTimestamp are kept from the stored object');
  });

  test('any change of desired state, metadata, status, kind or apiVersion is a change; generation rises for the desired state only', () => {
    const cases: Array<[string, (o: KubeObject) => void, number]> = [
      ['spec', (o) => ((o.spec as { size: number }).size = 2), 4],
      ['a new top-level field', (o) => (o.data = { k: 'v' }), 4],
      ['a removed top-level field', (o) => delete o.spec, 4],
      ['labels', (o) => ((o.metadata as { labels: Record<string, string> }).labels.b = '2'), 3],
      ['status', (o) => ((o.status as { ready: boolean }).ready = true), 3],
      ['no status', (o) => delete o.status, 3],
      ['kind', (o) => (o.kind = 'Gadget'), 3],
      ['apiVersion', (o) => (o.apiVersion = 'example.com/v2'), 3],
    ];
    for (const [what, change, generation] of cases) {
      const next = copy();
      change(next);
      const prepared = prepareUpdate(stored, next);
      assert.equal(prepared.unchanged, false, what);
      assert.equal(prepared.object.metadata?.generation, generation, what);
    }
  });

  test('under the "spec" and "none" rules a change outside the spec is still a change, with no new generation', () => {
    for (const rule of ['spec', 'none'] as const) {
      const next = copy();
      next.data = { k: 'v' };
      const prepared = prepareUpdate(stored, next, rule);
      assert.equal(prepared.unchanged, false, rule);
      assert.equal(prepared.object.metadata?.generation, 3, rule);
      assert.equal(prepareUpdate(stored, copy(), rule).unchanged, true, rule);
    }
  });

  test('the object to store has neither resourceVersion nor selfLink', () => {
    const next = copy();
    next.metadata = { ...next.metadata, selfLink: '/x' };
    const prepared = prepareUpdate(stored, next);
    assert.equal('resourceVersion' in (prepared.object.metadata ?? {}), false);
    assert.equal('selfLink' in (prepared.object.metadata ?? {}), false);
    assert.deepEqual(JSON.parse(encodeForStorage(next).data).metadata, { name: 'w', namespace: 'ns', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z', generation: 3, labels: { a: '1' } });
  });
});

describe('a stored deletionTimestamp of null (another writer\'s) is no deletion, as Go decodes it', () => {
  const nulled = { metadata: { name: 'w', namespace: 'ns', finalizers: ['f'], deletionTimestamp: null, deletionGracePeriodSeconds: null } } as unknown as KubeObject;

  test('an update that removes the last finalizer stores the object, and does not delete it', () => {
    const prepared = prepareUpdate(nulled, { metadata: { name: 'w', namespace: 'ns' } });
    assert.equal(prepared.remove, false);
    assert.equal('deletionTimestamp' in (prepared.object.metadata ?? {}), false);
  });

  test('a delete marks it, rather than waiting for ever', () => {
    const prepared = prepareDelete(nulled, new Date('2026-01-02T00:00:00Z'));
    assert.equal(prepared.action, 'mark');
    assert.equal(prepared.action === 'mark' ? prepared.object.metadata?.deletionTimestamp : undefined, '2026-01-02T00:00:00Z');
  });
});

describe('which update of an object being deleted removes it (kube\'s ShouldDeleteDuringUpdate)', () => {
  const marked = (metadata: Record<string, unknown>): KubeObject =>
    ({ metadata: { name: 'w', namespace: 'ns', deletionTimestamp: '2026-01-02T00:00:00Z', deletionGracePeriodSeconds: 0, ...metadata } }) as KubeObject;

  test('the last finalizer taken away removes it', () => {
    assert.equal(prepareUpdate(marked({ finalizers: ['f'] }), { metadata: { name: 'w', namespace: 'ns' } }).remove, true);
  });

  test('an object marked and left behind with no finalizer (its remover stopped) goes on any update', () => {
    assert.equal(prepareUpdate(marked({}), { metadata: { name: 'w', namespace: 'ns', labels: { a: '1' } } }).remove, true);
  });

  test('an update that keeps a finalizer, or a grace period still running, keeps it', () => {
    assert.equal(prepareUpdate(marked({ finalizers: ['f'] }), { metadata: { name: 'w', namespace: 'ns', finalizers: ['f'], labels: { a: '1' } } }).remove, false);
    assert.equal(prepareUpdate(marked({ deletionGracePeriodSeconds: 30 }), { metadata: { name: 'w', namespace: 'ns', labels: { a: '1' } } }).remove, false);
  });
});
