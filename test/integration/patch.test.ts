/**
 * The PATCH verb through the pipeline (over the real admission chain and the memory storage
 * backend): the three patch types, the patched object decoded with the patch handler's words
 * under fieldValidation, dryRun, 404, 415, and optimistic concurrency with retries.
 */
import { inProcessPipeline, refusal } from '../support/pipeline.ts';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../lib/kube.ts';
import { builtinRegistry, type KindDefinition } from '../../lib/kinds/index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import { type PatchRequest, type Target } from '../../services/gateway/core/pipeline.ts';
import { WarningRecorder } from '../../services/gateway/core/warnings.ts';
import type { StorageRef } from '../../services/storage/api.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';

const registry = builtinRegistry();
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
const JSON_PATCH = 'application/json-patch+json';
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';

/** Storage whose next update first lets `interfere` write the object (a concurrent writer). */
class RacingStorage extends MemoryStorage {
  interfere: (() => Promise<void>) | undefined;
  updates = 0;
  override async update(ref: StorageRef, object: KubeObject): Promise<KubeObject> {
    this.updates++;
    const first = this.interfere;
    this.interfere = undefined;
    if (first !== undefined) await first();
    return super.update(ref, object);
  }
}

async function setup() {
  const storage = new RacingStorage();
  const { pipeline, configmaps, nodes } = await inProcessPipeline(storage, registry);
  const cm: Target = { info: configmaps, namespace: 'default', name: 'c' };
  await pipeline.create(admin, { ...cm, name: '' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: '1' } }, data: { x: '1' } });
  return { storage, pipeline, cm, nodes };
}

const patch = (contentType: string, body: unknown): PatchRequest => ({ contentType, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) });


describe('PATCH through the pipeline', () => {
  test('JSON patch, merge patch and strategic merge patch each change the stored object', async () => {
    const { pipeline, cm } = await setup();
    let out = await pipeline.patch(admin, cm, patch(JSON_PATCH, [{ op: 'add', path: '/data/y', value: '2' }]));
    assert.deepEqual(out.data, { x: '1', y: '2' });
    out = await pipeline.patch(admin, cm, patch(MERGE, { data: { x: null }, metadata: { labels: { b: '2' } } }));
    assert.deepEqual(out.data, { y: '2' });
    assert.deepEqual(out.metadata?.labels, { a: '1', b: '2' });
    out = await pipeline.patch(admin, cm, patch(STRATEGIC, { metadata: { annotations: { n: 'v' } } }));
    assert.deepEqual(out.metadata?.annotations, { n: 'v' });
    const stored = await pipeline.get(admin, cm);
    assert.equal(stored.metadata?.resourceVersion, out.metadata?.resourceVersion);
    assert.deepEqual(stored.data, { y: '2' });
  });

  test('strategic merge patch follows the merge facts: a set-like list merges, an atomic one is replaced', async () => {
    const { pipeline, nodes } = await setup();
    const node: Target = { info: nodes, namespace: '', name: 'n1' };
    await pipeline.create(admin, { ...node, name: '' }, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'a', effect: 'NoSchedule' }] } });
    const out = await pipeline.patch(admin, node, patch(STRATEGIC, { spec: { podCIDRs: ['10.0.1.0/24'], taints: [{ key: 'b', effect: 'NoSchedule' }] } }));
    assert.deepEqual((out.spec as { podCIDRs: string[] }).podCIDRs, ['10.0.1.0/24', '10.0.0.0/24']);
    assert.deepEqual((out.spec as { taints: unknown[] }).taints, [{ key: 'b', effect: 'NoSchedule' }]);
  });

  test('dryRun answers the patched object and stores nothing', async () => {
    const { pipeline, cm } = await setup();
    const out = await pipeline.patch(admin, cm, patch(MERGE, { data: { z: '9' } }), { dryRun: true });
    assert.deepEqual(out.data, { x: '1', z: '9' });
    assert.deepEqual((await pipeline.get(admin, cm)).data, { x: '1' });
  });

  test('404 for an object that does not exist; 415 for an unknown type and for strategic merge patch on a custom kind', async () => {
    const { pipeline, cm } = await setup();
    const missing = await refusal(pipeline.patch(admin, { ...cm, name: 'nope' }, patch(MERGE, {})), 'NotFound');
    assert.equal(missing.message, 'configmaps "nope" not found');
    // The object is looked for before the patch is decoded (kube's store answers NotFound first).
    for (const [type, body] of [[MERGE, '{not json'], [JSON_PATCH, '{"op":"add"}'], [STRATEGIC, '[1]']] as const) {
      const first = await refusal(pipeline.patch(admin, { ...cm, name: 'nope' }, patch(type, body)), 'NotFound');
      assert.equal(first.message, 'configmaps "nope" not found', type);
    }
    const other = await refusal(pipeline.patch(admin, cm, patch('application/x-www-form-urlencoded', 'data=1')), 'UnsupportedMediaType');
    assert.equal(other.code, 415);
    assert.equal(
      other.message,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
    );
    const custom: KindDefinition = { ...cm.info, source: 'custom' };
    const err = await refusal(pipeline.patch(admin, { ...cm, info: custom }, patch(STRATEGIC, {})), 'UnsupportedMediaType');
    assert.equal(err.message, 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
  });

  test('unknown fields in the patched object: 422 on the field patch under Strict, warnings under Warn, silence under Ignore', async () => {
    const { pipeline, cm } = await setup();
    const strict = await refusal(pipeline.patch(admin, cm, patch(MERGE, { spec: { a: 1 } }), { fieldValidation: 'Strict' }), 'Invalid');
    assert.equal(strict.code, 422);
    assert.match(strict.message, /^ "" is invalid: patch: Invalid value: "\{.*\}": strict decoding error: unknown field "spec"$/);
    assert.equal(strict.details?.causes?.[0]?.field, 'patch');
    const smp = await refusal(pipeline.patch(admin, cm, patch(STRATEGIC, { spec: { a: 1 } }), { fieldValidation: 'Strict' }), 'Invalid');
    assert.equal(smp.message, ' "" is invalid: patch: Invalid value: "map[spec:map[a:1]]": strict decoding error: unknown field "spec"');
    const dup = await refusal(pipeline.patch(admin, cm, patch(MERGE, '{"data":{"q":"1","q":"2"}}'), { fieldValidation: 'Strict' }), 'Invalid');
    assert.match(dup.message, /strict decoding error: duplicate field "data.q"$/);
    const warnings = new WarningRecorder();
    const out = await pipeline.patch(admin, cm, patch(MERGE, { spec: { a: 1 }, data: { w: '1' } }), { fieldValidation: 'Warn', warnings });
    assert.deepEqual(warnings.warnings, ['unknown field "spec"']);
    assert.equal(out.spec, undefined);
    assert.deepEqual(out.data, { x: '1', w: '1' });
    const quiet = new WarningRecorder();
    await pipeline.patch(admin, cm, patch(MERGE, { spec: { a: 1 } }), { fieldValidation: 'Ignore', warnings: quiet });
    assert.deepEqual(quiet.warnings, []);
  });

  test('a patched value of the wrong type: 422 with the decoding error', async () => {
    const { pipeline, cm } = await setup();
    const err = await refusal(pipeline.patch(admin, cm, patch(MERGE, { data: { x: 5 } })), 'Invalid');
    assert.match(err.message, /^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal number into Go struct field ConfigMap\.data of type string$/);
  });

  test('a failed JSON patch test: 422, nothing stored', async () => {
    const { pipeline, cm } = await setup();
    const err = await refusal(pipeline.patch(admin, cm, patch(JSON_PATCH, [{ op: 'test', path: '/data/x', value: '2' }, { op: 'remove', path: '/data/x' }])), 'Invalid');
    assert.equal(err.message, 'the server rejected our request due to an error in our request');
    assert.deepEqual((await pipeline.get(admin, cm)).data, { x: '1' });
  });

  test('a concurrent write: the patch is applied again to the new object (no resourceVersion in the patch)', async () => {
    const { pipeline, cm, storage } = await setup();
    storage.interfere = async () => {
      await pipeline.patch(admin, cm, patch(MERGE, { data: { other: 'writer' } }));
    };
    const before = storage.updates;
    const out = await pipeline.patch(admin, cm, patch(MERGE, { data: { mine: 'yes' } }));
    assert.deepEqual(out.data, { x: '1', other: 'writer', mine: 'yes' });
    assert.equal(storage.updates - before, 3); // ours, the other writer's, ours again
  });

  test('a patch carrying a stale resourceVersion: Conflict', async () => {
    const { pipeline, cm } = await setup();
    const current = await pipeline.get(admin, cm);
    await pipeline.patch(admin, cm, patch(MERGE, { data: { bump: '1' } }));
    const err = await refusal(pipeline.patch(admin, cm, patch(MERGE, { metadata: { resourceVersion: current.metadata?.resourceVersion }, data: { late: '1' } })), 'Conflict');
    assert.equal(err.code, 409);
  });

  test('a patch that renames the object or moves its namespace is refused', async () => {
    const { pipeline, cm } = await setup();
    const renamed = await refusal(pipeline.patch(admin, cm, patch(MERGE, { metadata: { name: 'd' } })), 'BadRequest');
    assert.equal(renamed.message, 'the name of the object (d) does not match the name on the URL (c)');
    const moved = await refusal(pipeline.patch(admin, cm, patch(MERGE, { metadata: { namespace: 'kube-system' } })), 'BadRequest');
    assert.equal(moved.message, 'the namespace of the provided object does not match the namespace sent on the request');
  });

  // kube's patch handler sets no uid precondition: the patched object's uid meets
  // ValidateObjectMetaUpdate (422); one left out is the stored one (BeforeUpdate).
  test('a patch that changes metadata.uid: 422 field is immutable; the same uid or none is fine', async () => {
    const { pipeline, cm } = await setup();
    const current = await pipeline.get(admin, cm);
    for (const body of [patch(MERGE, { metadata: { uid: 'other' } }), patch(JSON_PATCH, [{ op: 'replace', path: '/metadata/uid', value: 'other' }]), patch(STRATEGIC, { metadata: { uid: 'other' } })]) {
      const err = await refusal(pipeline.patch(admin, cm, body), 'Invalid');
      assert.equal(err.message, 'ConfigMap "c" is invalid: metadata.uid: Invalid value: "other": field is immutable');
      assert.deepEqual(err.details?.causes?.map((c) => [c.reason, c.field]), [['FieldValueInvalid', 'metadata.uid']]);
    }
    assert.equal((await pipeline.get(admin, cm)).metadata?.resourceVersion, current.metadata?.resourceVersion);
    const same = await pipeline.patch(admin, cm, patch(MERGE, { metadata: { uid: current.metadata?.uid }, data: { same: '1' } }));
    assert.equal((same.data as Record<string, unknown>).same, '1');
    const none = await pipeline.patch(admin, cm, patch(JSON_PATCH, [{ op: 'remove', path: '/metadata/uid' }, { op: 'add', path: '/data/none', value: '1' }]));
    assert.equal(none.metadata?.uid, current.metadata?.uid);
  });
});
