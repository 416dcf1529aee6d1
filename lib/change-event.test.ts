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

  test('stored text cannot add or change a field of the message: each object is parsed on its own', () => {
    const forged = '{"metadata":{}},"namespace":"kube-system","name":"x","revision":999,"object":{"metadata":{}}';
    assert.throws(() => decodeChangeEvent(encodeChangeEvent({ type: 'ADDED', revision: 5, ...identity, object: `{${forged.slice(1)}}` }, 0)), SyntaxError);
    assert.throws(() => decodeChangeEvent(encodeChangeEvent({ type: 'ADDED', revision: 5, ...identity, object: '{not json}' }, 0)), SyntaxError);
    // Newlines inside stored text (pretty-printed JSON) are only text.
    const pretty = JSON.stringify({ metadata: { name: 'cm' }, data: { k: 'v' } }, null, 2);
    assert.deepEqual(decodeChangeEvent(encodeChangeEvent({ type: 'ADDED', revision: 5, ...identity, object: pretty }, 0)).object.data, { k: 'v' });
  });

  test('malformed messages are refused, never half-read', () => {
    const message = encodeChangeEvent(changes[1] as StoredChange, 5);
    const newline = message.indexOf('\n');
    const head = JSON.parse(message.slice(0, newline)) as Record<string, unknown>;
    const body = message.slice(newline + 1);
    const withHead = (change: Record<string, unknown>, rest = body) => `${JSON.stringify({ ...head, ...change })}\n${rest}`;
    for (const [what, bad] of [
      ['not JSON', '{"type":'],
      ['objects shorter than the head says', message.slice(0, -1)],
      ['objects longer than the head says', `${message} `],
      ['no object on ADDED', withHead({ type: 'ADDED', objectLength: 0 }, body.slice(v2.length))],
      ['no prevObject on DELETED', withHead({ type: 'DELETED', prevObjectLength: 0 }, v2)],
      ['prevObject without its revision', withHead({ prevObjectRevision: undefined })],
      ['an array as object', withHead({ objectLength: 2, prevObjectLength: 0 }, '[]')],
      ['a bad revision', withHead({ revision: -1 })],
      ['an unknown format version', withHead({ v: 3 })],
    ] as const) {
      assert.throws(() => decodeChangeEvent(bad), Error, what);
    }
  });

  test('messages of the earlier single-document format are read (a watch service upgraded before storage)', () => {
    const object = { metadata: { name: 'cm', namespace: 'ns', resourceVersion: '7' }, data: { k: 'b' } };
    const prevObject = { metadata: { name: 'cm', namespace: 'ns', resourceVersion: '5' }, data: { k: 'a' } };
    const decoded = decodeChangeEvent(JSON.stringify({ type: 'MODIFIED', revision: 7, prevRevision: 5, ...identity, object, prevObject }));
    assert.deepEqual(decoded, { type: 'MODIFIED', revision: 7, prevRevision: 5, ...identity, object, prevObject, traceparent: undefined });
    assert.throws(() => decodeChangeEvent(JSON.stringify({ type: 'ADDED', revision: 7, prevRevision: 5, ...identity })), Error);
    // Its later form: objects as stored, the previous one's revision beside them, DELETED without object.
    const stored = { metadata: { name: 'cm', namespace: 'ns' }, data: { k: 'b' } };
    const modified = decodeChangeEvent(JSON.stringify({ type: 'MODIFIED', revision: 7, prevRevision: 5, ...identity, prevObjectRevision: 5, object: stored, prevObject: stored }));
    assert.equal(modified.object.metadata?.resourceVersion, '7');
    assert.equal(modified.prevObject?.metadata?.resourceVersion, '5');
    const deleted = decodeChangeEvent(JSON.stringify({ type: 'DELETED', revision: 9, prevRevision: 7, ...identity, prevObjectRevision: 7, prevObject: stored }));
    assert.deepEqual([deleted.object.metadata?.resourceVersion, deleted.prevObject?.metadata?.resourceVersion, deleted.object.data], ['9', '7', { k: 'b' }]);
  });

  test('a previous object that does not parse: MODIFIED comes without it, DELETED (made of it) is refused', () => {
    const modified = decodeChangeEvent(encodeChangeEvent({ type: 'MODIFIED', revision: 7, ...identity, object: v2, prevObject: { json: '{broken', revision: 5 } }, 5));
    assert.equal(modified.prevObject, undefined);
    assert.deepEqual(modified.object.data, { k: 'b' });
    assert.throws(() => decodeChangeEvent(encodeChangeEvent({ type: 'DELETED', revision: 9, ...identity, prevObject: { json: '{broken', revision: 7 } }, 7)), SyntaxError);
  });
});
