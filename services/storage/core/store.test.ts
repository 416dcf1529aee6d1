/**
 * KvStorage against an engine whose key is rewritten by someone else between every read and
 * every compare-and-swap: an unconditional update or delete gives up with Conflict instead of
 * spinning for ever.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError } from '../../../lib/errors.ts';
import type { KeyValue, KeyValueEngine } from './kv.ts';
import { KvStorage, MAX_CAS_ATTEMPTS } from './store.ts';

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
