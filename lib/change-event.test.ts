import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeChangeEvent, encodeChangeEvent, storedChangeEvent, type StoredChange } from './change-event.ts';

const identity = { group: '', resource: 'configmaps', namespace: 'ns', name: 'cm' };
const v1 = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', uid: 'u' }, data: { k: 'a "quoted" \u00e9 value' } });
const v2 = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns', uid: 'u' }, data: { k: 'b' } });

const changes: StoredChange[] = [
  { type: 'ADDED', revision: 5, ...identity, object: v1 },
  { type: 'MODIFIED', revision: 7, ...identity, object: v2, prevObject: { json: v1, revision: 5 } },
  { type: 'DELETED', revision: 9, ...identity, prevObject: { json: v2, revision: 7 } },
];

describe('change events', () => {
  test('a message decodes to the event its stored change stands for, resourceVersions stamped', () => {
    for (const change of changes) {
      const decoded = decodeChangeEvent(encodeChangeEvent(change, 3, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'));
      assert.deepEqual(decoded, storedChangeEvent(change, 3, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'));
      assert.equal(decoded.prevRevision, 3);
      assert.equal(decoded.object.metadata?.resourceVersion, String(change.revision), 'the object is at the change\'s revision');
      assert.equal(decoded.prevObject?.metadata?.resourceVersion, change.prevObject === undefined ? undefined : String(change.prevObject.revision));
    }
  });

  test('DELETED: the object is the last state at the deletion\'s revision; ADDED has no prevObject', () => {
    const deleted = decodeChangeEvent(encodeChangeEvent(changes[2] as StoredChange, 7));
    assert.deepEqual(deleted.object.data, { k: 'b' });
    assert.equal(deleted.object.metadata?.resourceVersion, '9');
    const added = decodeChangeEvent(encodeChangeEvent(changes[0] as StoredChange, 0));
    assert.equal(added.prevObject, undefined);
    assert.equal(added.traceparent, undefined);
    assert.deepEqual(added.object.data, { k: 'a "quoted" \u00e9 value' });
  });

  test('malformed messages are refused, never half-read', () => {
    const good = JSON.parse(encodeChangeEvent(changes[1] as StoredChange, 5)) as Record<string, unknown>;
    for (const [what, message] of [
      ['not JSON', '{"type":'],
      ['no object on ADDED', JSON.stringify({ ...good, type: 'ADDED', object: undefined })],
      ['no prevObject on DELETED', JSON.stringify({ ...good, type: 'DELETED', prevObject: undefined })],
      ['prevObject without its revision', JSON.stringify({ ...good, prevObjectRevision: undefined })],
      ['an array as object', JSON.stringify({ ...good, object: [] })],
      ['a bad revision', JSON.stringify({ ...good, revision: -1 })],
    ] as const) {
      assert.throws(() => decodeChangeEvent(message), Error, what);
    }
  });
});
