/** The status rules every kind with a status subresource follows (built-in and custom alike). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../kube.ts';
import { keepStoredStatus, prepareStatusWrite, resetStatusForCreate } from './status.ts';
import type { KindDefinition } from './types.ts';

const builtin = { source: 'builtin' } as KindDefinition;
const custom = { source: 'custom' } as KindDefinition;

test('a create cannot set status: {} for built-in kinds (a struct), none for custom resources', () => {
  const body: KubeObject = { kind: 'X', metadata: { name: 'a' }, spec: { a: 1 }, status: { phase: 'Done' } };
  assert.deepEqual(resetStatusForCreate(builtin, body), { kind: 'X', metadata: { name: 'a' }, spec: { a: 1 }, status: {} });
  assert.deepEqual(resetStatusForCreate(custom, body), { kind: 'X', metadata: { name: 'a' }, spec: { a: 1 } });
});

test('a write to the object keeps the stored status, whatever the body says', () => {
  const old: KubeObject = { metadata: { name: 'a' }, spec: { a: 1 }, status: { ready: 1 } };
  assert.deepEqual(keepStoredStatus({ metadata: { name: 'a' }, spec: { a: 2 }, status: { ready: 9 } }, old), { metadata: { name: 'a' }, spec: { a: 2 }, status: { ready: 1 } });
  assert.deepEqual(keepStoredStatus({ metadata: { name: 'a' }, spec: { a: 2 } }, old).status, { ready: 1 });
  assert.equal('status' in keepStoredStatus({ metadata: { name: 'a' }, status: { ready: 9 } }, { metadata: { name: 'a' } }), false);
});

test('a write to /status keeps all but status, and of metadata what ResetObjectMetaForStatus keeps', () => {
  const old: KubeObject = {
    kind: 'X',
    metadata: { name: 'a', uid: 'u', resourceVersion: '5', generation: 2, labels: { l: '1' }, annotations: { n: '1' }, finalizers: ['f'], ownerReferences: [{ uid: 'o' }] },
    spec: { a: 1 },
    status: { ready: 1 },
  };
  const body: KubeObject = {
    kind: 'X',
    metadata: { name: 'a', uid: 'u', resourceVersion: '5', generation: 9, labels: { l: '2' }, deletionTimestamp: '2026-01-01T00:00:00Z' },
    spec: { a: 2 },
    other: 'x',
    status: { ready: 3 },
  };
  assert.deepEqual(prepareStatusWrite(builtin, body, old), {
    kind: 'X',
    metadata: { name: 'a', uid: 'u', resourceVersion: '5', generation: 2, labels: { l: '1' }, annotations: { n: '1' }, finalizers: ['f'], ownerReferences: [{ uid: 'o' }] },
    spec: { a: 1 },
    status: { ready: 3 },
  });
  // A body without status clears it, as each kind's zero value.
  assert.deepEqual(prepareStatusWrite(builtin, { metadata: { name: 'a' } }, old).status, {});
  assert.equal('status' in prepareStatusWrite(custom, { metadata: { name: 'a' } }, old), false);
});
