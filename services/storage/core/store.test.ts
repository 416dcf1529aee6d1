/**
 * KvStorage against an engine whose key is rewritten by someone else between every read and
 * every compare-and-swap: an unconditional update or delete gives up with Conflict instead of
 * spinning for ever.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import type { KeyValue, KeyValueEngine } from './kv.ts';
import { KvStorage, MAX_CAS_ATTEMPTS } from './store.ts';
import { MemoryEngine } from '../backends/memory.ts';

function contendedEngine(): { engine: KeyValueEngine; swaps: () => number } {
  let revision = 10;
  let swaps = 0;
  const current = (): KeyValue => ({
    key: '/registry/configmaps/ns/a',
    value: JSON.stringify({ metadata: { name: 'a', namespace: 'ns', uid: 'u' }, data: { n: String(revision) } }),
    modRevision: revision,
    version: revision,
  });
  const lost = async () => {
    swaps++;
    revision++; // another writer got there first
    return { succeeded: false, revision, current: current() };
  };
  const unused = () => Promise.reject(new Error('not used'));
  const engine: KeyValueEngine = {
    get: async () => ({ kv: current(), revision }),
    replace: lost,
    remove: lost,
    range: unused,
    create: unused,
    currentRevision: async () => revision,
    history: unused,
    compactedRevision: unused,
    compact: unused,
  };
  return { engine, swaps: () => swaps };
}

for (const op of ['update', 'delete'] as const) {
  test(`an unconditional ${op} under endless contention ends with Conflict after ${MAX_CAS_ATTEMPTS} attempts`, async () => {
    const { engine, swaps } = contendedEngine();
    const storage = new KvStorage(engine);
    const ref = { group: '', resource: 'configmaps', namespace: 'ns', name: 'a' };
    const call = op === 'update' ? storage.update(ref, { metadata: { name: 'a', namespace: 'ns' }, data: { n: 'mine' } }) : storage.delete(ref);
    await assert.rejects(call, (err: unknown) => err instanceof StatusError && err.reason === 'Conflict');
    assert.equal(swaps(), MAX_CAS_ATTEMPTS);
  });
}

// ---------------------------------------------------------------------------------------------
// Remembered states (recent-states.ts): two replicas over one store, each with its own guesses.

describe('an update or delete starts from the last state seen, and a stale guess never decides', () => {
  const ref = { group: '', resource: 'configmaps', namespace: 'ns', name: 'x' };
  const object = (data: Record<string, string>, metadata: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x', namespace: 'ns', ...metadata },
    data,
  });

  const n = (o: KubeObject): string | undefined => (o.data as Record<string, string> | undefined)?.n;

  /** Two replicas over one engine, and a count of the reads each store call made. */
  function replicas() {
    const engine = new MemoryEngine();
    let reads = 0;
    const counted = new Proxy(engine, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (property === 'get') reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { a: new KvStorage(counted), b: new KvStorage(engine), fresh: () => new KvStorage(engine), reads: () => reads };
  }

  test('an update right after a write of the same key does not read it first', async () => {
    const { a, reads } = replicas();
    const created = await a.create(ref, object({ n: '1' }, { uid: 'u1' }));
    const updated = await a.update(ref, { ...created, data: { n: '2' } });
    assert.equal(reads(), 0);
    assert.equal(n(updated), '2');
    assert.ok(Number(updated.metadata?.resourceVersion) > Number(created.metadata?.resourceVersion));
  });

  test('another replica\'s write: the resourceVersion the caller read wins over the guess', async () => {
    const { a, b } = replicas();
    const created = await a.create(ref, object({ n: '1' }, { uid: 'u1' }));
    const changed = await b.update(ref, { ...created, data: { n: '2' } });
    // The caller read the newest state: no Conflict although A last saw the older one.
    const updated = await a.update(ref, { ...changed, data: { n: '3' } });
    assert.equal(n(updated), '3');
    // A stale resourceVersion is still a Conflict, with kube's words.
    await assert.rejects(a.update(ref, { ...changed, data: { n: '4' } }), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.reason, 'Conflict');
      assert.match(err.message, /the object has been modified/);
      return true;
    });
  });

  test('an update that looks like a no-op against a stale guess is written', async () => {
    const { a, b } = replicas();
    const created = await a.create(ref, object({ n: '1' }));
    await b.update(ref, { ...created, data: { n: '2' } });
    const { resourceVersion: _rv, ...metadata } = created.metadata ?? {};
    const updated = await a.update(ref, { ...created, metadata, data: { n: '1' } });
    assert.equal(n(updated), '1');
    assert.equal(n(await b.get(ref)), '1');
  });

  test('uid preconditions are decided on the stored object, not on a guess', async () => {
    const { a, b } = replicas();
    await a.create(ref, object({ n: '1' }, { uid: 'old' }));
    await b.delete(ref);
    await b.create(ref, object({ n: '2' }, { uid: 'new' }));
    const updated = await a.update(ref, object({ n: '3' }, { uid: 'new' }));
    assert.equal(updated.metadata?.uid, 'new');
    await assert.rejects(a.update(ref, object({ n: '4' }, { uid: 'old' })), (err: unknown) => err instanceof StatusError && err.reason === 'Conflict');
    const deleted = await a.delete(ref, { uid: 'new' });
    assert.equal(deleted.pending, false);
    await assert.rejects(a.update(ref, object({ n: '5' })), (err: unknown) => err instanceof StatusError && err.reason === 'NotFound');
  });

  test('a delete whose preconditions held on the guess only fails with the words of a first check', async () => {
    const { a, b, fresh } = replicas();
    const created = await a.create(ref, object({ n: '1' }, { uid: 'u1' }));
    await b.update(ref, { ...created, data: { n: '2' } });
    const rv = created.metadata?.resourceVersion ?? '';
    const seen = await fresh().delete(ref, { resourceVersion: rv }).catch((err: unknown) => err);
    const guessed = await a.delete(ref, { resourceVersion: rv }).catch((err: unknown) => err);
    assert.ok(seen instanceof StatusError, String(seen));
    assert.ok(guessed instanceof StatusError, String(guessed));
    assert.equal(guessed.reason, seen.reason);
    assert.equal(guessed.message, seen.message);
    assert.equal(n(await b.get(ref)), '2');
  });
});
