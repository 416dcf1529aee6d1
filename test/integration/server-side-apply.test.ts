/**
 * Server-side apply and metadata.managedFields through the pipeline (the real admission chain,
 * the generated schemas, the memory storage backend): apply creating an object, re-applied,
 * conflicting with another manager, forced, dropping a field, dry runs, /status and /scale
 * writes, and the Update entries every create, update and patch records, as kube-apiserver
 * records them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../lib/kube.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { CUSTOM_RESOURCE_DEFINITION } from '../../lib/kinds/builtin/customresourcedefinition.ts';
import { kindsOfDefinition } from '../../lib/kinds/custom.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import type { Target } from '../../services/gateway/core/pipeline.ts';
import { decodeApplyBody } from '../../services/gateway/core/apply.ts';
import { WarningRecorder } from '../../services/gateway/core/warnings.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import type { StorageRef } from '../../services/storage/api.ts';
import { inProcessPipeline, refusal } from '../support/pipeline.ts';

const registry = builtinRegistry();
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

function entries(object: KubeObject): Entry[] {
  const managed = object.metadata?.managedFields;
  return Array.isArray(managed) ? (managed as Entry[]) : [];
}

/** The entries as (manager, operation, subresource, fieldsV1), the parts a test can know. */
function owners(object: KubeObject): [string, string, string, unknown][] {
  return entries(object).map((e) => [e.manager, e.operation, e.subresource ?? '', e.fieldsV1]);
}

/** An apply configuration of a ConfigMap as YAML text, decoded as REST decodes an apply body. */
function configMapApply(name: string, data: Record<string, string>, extra = ''): { object: KubeObject; strictErrors: string[] } {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`);
  const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n${lines.join('\n')}\n`;
  const decoded = decodeApplyBody(Buffer.from(yaml), () => {});
  return { object: decoded.object, strictErrors: [...decoded.strictErrors] };
}

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
  const plane = await inProcessPipeline(storage, registry);
  const cm = (name: string): Target => ({ info: plane.configmaps, namespace: 'default', name });
  return { ...plane, storage, cm };
}

describe('server-side apply through the pipeline', () => {
  test('apply creates the object (201) with one Apply entry; applied again unchanged it stays one entry', async () => {
    const { pipeline, cm } = await setup();
    const first = await pipeline.apply(admin, cm('a'), configMapApply('a', { x: '1', w: '2' }), { fieldManager: 'one' });
    assert.equal(first.created, true);
    assert.deepEqual(first.object.data, { x: '1', w: '2' });
    assert.equal(typeof first.object.metadata?.uid, 'string');
    assert.deepEqual(owners(first.object), [['one', 'Apply', '', { 'f:data': { 'f:w': {}, 'f:x': {} } }]]);
    const [entry] = entries(first.object);
    assert.equal(entry?.apiVersion, 'v1');
    assert.equal(entry?.fieldsType, 'FieldsV1');
    assert.match(entry?.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // What is stored is what was answered.
    const stored = await pipeline.get(admin, cm('a'));
    assert.deepEqual(stored.metadata?.managedFields, first.object.metadata?.managedFields);

    const again = await pipeline.apply(admin, cm('a'), configMapApply('a', { x: '1', w: '2' }), { fieldManager: 'one' });
    assert.equal(again.created, false);
    assert.deepEqual(again.object.data, { x: '1', w: '2' });
    assert.deepEqual(owners(again.object), owners(first.object));
    assert.equal(again.object.metadata?.uid, first.object.metadata?.uid);
  });

  test('a second manager changing an owned field conflicts (409, kube words); force takes it; a shared value is co-owned', async () => {
    const { pipeline, cm } = await setup();
    await pipeline.apply(admin, cm('b'), configMapApply('b', { x: '1', w: '2' }), { fieldManager: 'one' });
    const conflict = await refusal(pipeline.apply(admin, cm('b'), configMapApply('b', { x: 'changed' }), { fieldManager: 'two' }), 'Conflict');
    assert.equal(conflict.code, 409);
    assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "one": .data.x');
    assert.deepEqual(conflict.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "one"', field: '.data.x' }]);
    assert.deepEqual((await pipeline.get(admin, cm('b'))).data, { x: '1', w: '2' }, 'a conflict changes nothing');

    // The same value is no conflict: both own it.
    const shared = await pipeline.apply(admin, cm('b'), configMapApply('b', { w: '2' }), { fieldManager: 'two' });
    assert.deepEqual(owners(shared.object).map(([m]) => m).sort(), ['one', 'two']);

    const forced = await pipeline.apply(admin, cm('b'), configMapApply('b', { x: 'changed', w: '2' }), { fieldManager: 'two', force: true });
    assert.deepEqual(forced.object.data, { x: 'changed', w: '2' });
    const byManager = new Map(entries(forced.object).map((e) => [e.manager, e.fieldsV1]));
    assert.deepEqual(byManager.get('two'), { 'f:data': { 'f:w': {}, 'f:x': {} } });
    assert.deepEqual(byManager.get('one'), { 'f:data': { 'f:w': {} } }, 'the first manager lost x only');
  });

  test('a field the last applier drops is removed; one another manager still owns stays', async () => {
    const { pipeline, cm } = await setup();
    await pipeline.apply(admin, cm('c'), configMapApply('c', { x: '1', w: '2', z: '3' }), { fieldManager: 'one' });
    await pipeline.apply(admin, cm('c'), configMapApply('c', { z: '3' }), { fieldManager: 'two' });
    const dropped = await pipeline.apply(admin, cm('c'), configMapApply('c', { x: '1' }), { fieldManager: 'one' });
    assert.deepEqual(dropped.object.data, { x: '1', z: '3' }, 'w is gone (only one applied it); z stays (two owns it)');
    assert.deepEqual((await pipeline.get(admin, cm('c'))).data, { x: '1', z: '3' });
  });

  test('kubectl\'s last-applied annotation: an apply by "kubectl" takes over what it last applied, and the annotation follows (lastappliedmanager.go, lastappliedupdater.go)', async () => {
    const { pipeline, cm } = await setup();
    const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
    // as a client-side `kubectl apply` leaves it: z was added since, not by kubectl
    const lastApplied = '{"apiVersion":"v1","data":{"w":"2","x":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"la","namespace":"default"}}\n';
    await pipeline.create(admin, cm(''), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'la', annotations: { [LAST_APPLIED]: lastApplied } }, data: { x: '1', w: '2', z: '3' } }, { fieldManager: 'kubectl-client-side-apply' });

    // x is allowed (last applied, unchanged), z is not: the 409 names z only
    const conflict = await refusal(pipeline.apply(admin, cm('la'), configMapApply('la', { x: '10', z: '30' }), { fieldManager: 'kubectl' }), 'Conflict');
    assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.z');
    // another manager gets no such allowance
    const other = await refusal(pipeline.apply(admin, cm('la'), configMapApply('la', { x: '10' }), { fieldManager: 'other' }), 'Conflict');
    assert.equal(other.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.x');

    const applied = await pipeline.apply(admin, cm('la'), configMapApply('la', { x: '10', w: '2' }), { fieldManager: 'kubectl' });
    assert.deepEqual(applied.object.data, { x: '10', w: '2', z: '3' });
    const stored = await pipeline.get(admin, cm('la'));
    assert.equal(stored.metadata?.annotations?.[LAST_APPLIED], '{"apiVersion":"v1","data":{"w":"2","x":"10"},"kind":"ConfigMap","metadata":{"name":"la"}}\n');
    const byManager = new Map(entries(stored).map((e) => [e.manager, e.fieldsV1]));
    assert.deepEqual(byManager.get('kubectl'), { 'f:data': { 'f:x': {}, 'f:w': {} } });
    // the annotation stays the client-side applier's: kube updates it after the ownership is worked out
    assert.deepEqual(byManager.get('kubectl-client-side-apply'), { 'f:data': { '.': {}, 'f:w': {}, 'f:z': {} }, 'f:metadata': { 'f:annotations': { '.': {}, [`f:${LAST_APPLIED}`]: {} } } });

    // an apply by another manager leaves the annotation alone
    await pipeline.apply(admin, cm('la'), configMapApply('la', { v: '4' }), { fieldManager: 'other' });
    assert.equal((await pipeline.get(admin, cm('la'))).metadata?.annotations?.[LAST_APPLIED], stored.metadata?.annotations?.[LAST_APPLIED]);
  });

  test('dryRun runs apply, admission and its checks, and stores nothing', async () => {
    const { pipeline, cm } = await setup();
    const created = await pipeline.apply(admin, cm('d'), configMapApply('d', { x: '1' }), { fieldManager: 'one', dryRun: true });
    assert.equal(created.created, true);
    assert.deepEqual(created.object.data, { x: '1' });
    assert.equal(entries(created.object).length, 1);
    await refusal(pipeline.get(admin, cm('d')), 'NotFound');

    const real = await pipeline.apply(admin, cm('d'), configMapApply('d', { x: '1' }), { fieldManager: 'one' });
    const changed = await pipeline.apply(admin, cm('d'), configMapApply('d', { x: '2' }), { fieldManager: 'one', dryRun: true });
    assert.deepEqual(changed.object.data, { x: '2' });
    const stored = await pipeline.get(admin, cm('d'));
    assert.deepEqual(stored.data, { x: '1' });
    assert.equal(stored.metadata?.resourceVersion, real.object.metadata?.resourceVersion);
    // A dry run conflicts as the real apply would.
    await refusal(pipeline.apply(admin, cm('d'), configMapApply('d', { x: '3' }), { fieldManager: 'two', dryRun: true }), 'Conflict');
  });

  test('apply is refused as kube refuses it: no fieldManager, another kind or version, managedFields set, a name that is not the URL\'s', async () => {
    const { pipeline, cm } = await setup();
    const noManager = await refusal(pipeline.apply(admin, cm('e'), configMapApply('e', { x: '1' }), {}), 'Invalid');
    assert.equal(noManager.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const wrongKind = { object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'e' } }, strictErrors: [] };
    assert.equal((await refusal(pipeline.apply(admin, cm('e'), wrongKind, { fieldManager: 'm' }), 'BadRequest')).message, 'invalid object type: apps/v1, Kind=Deployment');
    const noType = { object: { metadata: { name: 'e' } }, strictErrors: [] };
    assert.equal((await refusal(pipeline.apply(admin, cm('e'), noType, { fieldManager: 'm' }), 'BadRequest')).message, 'invalid object type: /, Kind=');
    const managed = configMapApply('e', { x: '1' }, '  managedFields: []\n');
    assert.equal((await refusal(pipeline.apply(admin, cm('e'), managed, { fieldManager: 'm' }), 'BadRequest')).message, 'metadata.managedFields must be nil');
    const otherName = await refusal(pipeline.apply(admin, cm('e'), configMapApply('f', { x: '1' }), { fieldManager: 'm' }), 'BadRequest');
    assert.equal(otherName.message, 'the name of the object (f) does not match the name on the URL (e)');
    // A field the schema does not declare, or a value of another type: the typed conversion fails (400 here; see core/apply.ts).
    const unknown = { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'e' }, data: { x: '1' }, bogus: 1 }, strictErrors: [] };
    assert.equal((await refusal(pipeline.apply(admin, cm('e'), unknown, { fieldManager: 'm' }), 'BadRequest')).message, 'failed to create typed patch object (/e; /v1, Kind=ConfigMap): .bogus: field not declared in schema');
    const mistyped = { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'e' }, data: 'x' }, strictErrors: [] };
    assert.match((await refusal(pipeline.apply(admin, cm('e'), mistyped, { fieldManager: 'm' }), 'BadRequest')).message, /^failed to create typed patch object \(\/e; \/v1, Kind=ConfigMap\): /);
    await refusal(pipeline.get(admin, cm('e')), 'NotFound');
  });

  // kube's patcher.applyPatch (handlers/patch.go): an apply that would create the object but
  // carries a uid is a Conflict; one changing an existing object's uid fails its validation.
  test('a uid in an apply configuration: creating, 409 uid mismatch; on an existing object, 422 unless it is the object\'s', async () => {
    const { pipeline, cm } = await setup();
    const withUid = (name: string, uid: string) => configMapApply(name, { a: '1' }, `  uid: ${uid}\n`);
    const missing = await refusal(pipeline.apply(admin, cm('ghost'), withUid('ghost', 'u-1'), { fieldManager: 'm' }), 'Conflict');
    assert.equal(missing.message, 'Operation cannot be fulfilled on configmaps "ghost": uid mismatch: the provided object specified uid u-1, and no existing object was found');
    await refusal(pipeline.get(admin, cm('ghost')), 'NotFound');
    const created = (await pipeline.apply(admin, cm('real'), configMapApply('real', { a: '1' }), { fieldManager: 'm' })).object;
    const changed = await refusal(pipeline.apply(admin, cm('real'), withUid('real', 'u-2'), { fieldManager: 'm' }), 'Invalid');
    assert.equal(changed.message, 'ConfigMap "real" is invalid: metadata.uid: Invalid value: "u-2": field is immutable');
    const same = await pipeline.apply(admin, cm('real'), withUid('real', String(created.metadata?.uid)), { fieldManager: 'm' });
    assert.equal(same.object.metadata?.uid, created.metadata?.uid);
  });

  test('keys given twice: Strict refuses them in kube words, Warn warns', async () => {
    const { pipeline, cm } = await setup();
    const twice = decodeApplyBody(Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: g\ndata:\n  x: "1"\n  x: "2"\n'), () => {});
    const strict = await refusal(pipeline.apply(admin, cm('g'), twice, { fieldManager: 'm', fieldValidation: 'Strict' }), 'BadRequest');
    assert.equal(strict.message, 'error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key "x" already set in map');
    const warnings = new WarningRecorder();
    const warned = await pipeline.apply(admin, cm('g'), twice, { fieldManager: 'm', warnings });
    assert.deepEqual(warned.object.data, { x: '2' });
    assert.deepEqual(warnings.warnings, ['line 7: key "x" already set in map']);
  });

  // kube's applyPatcher.applyPatchToCurrentObject runs the field manager's Apply, then the strict
  // YAML decoding: a conflict wins over keys given twice, and a refused apply warns of nothing.
  test('a conflicting apply with keys given twice: the 409 conflict, under Strict and Warn alike', async () => {
    const { pipeline, cm } = await setup();
    await pipeline.apply(admin, cm('k'), configMapApply('k', { x: '1' }), { fieldManager: 'one' });
    const twice = decodeApplyBody(Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\ndata:\n  x: "2"\n  x: "3"\n'), () => {});
    const strict = await refusal(pipeline.apply(admin, cm('k'), twice, { fieldManager: 'two', fieldValidation: 'Strict' }), 'Conflict');
    assert.equal(strict.message, 'Apply failed with 1 conflict: conflict with "one": .data.x');
    const warnings = new WarningRecorder();
    await refusal(pipeline.apply(admin, cm('k'), twice, { fieldManager: 'two', warnings }), 'Conflict');
    assert.deepEqual(warnings.warnings, []);
  });

  test('keys given twice in a JSON body (kubectl sends JSON) are what they are in YAML: refused, warned or ignored per fieldValidation', async () => {
    const { pipeline, cm } = await setup();
    const text = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j' }, data: { x: '1' } }, null, 2).replace('"x": "1"', '"x": "1",\n    "x": "2"');
    assert.equal(text.split('\n')[8], '    "x": "2"');
    const twice = () => decodeApplyBody(Buffer.from(text), () => {});
    const strict = await refusal(pipeline.apply(admin, cm('j'), twice(), { fieldManager: 'm', fieldValidation: 'Strict' }), 'BadRequest');
    assert.equal(strict.message, 'error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 9: key "x" already set in map');
    await refusal(pipeline.get(admin, cm('j')), 'NotFound');
    const warnings = new WarningRecorder();
    const warned = await pipeline.apply(admin, cm('j'), twice(), { fieldManager: 'm', fieldValidation: 'Warn', warnings });
    assert.deepEqual(warned.object.data, { x: '2' });
    assert.deepEqual(warnings.warnings, ['line 9: key "x" already set in map']);
    const quiet = new WarningRecorder();
    const ignored = await pipeline.apply(admin, cm('j'), twice(), { fieldManager: 'm', fieldValidation: 'Ignore', warnings: quiet });
    assert.deepEqual([ignored.object.data, quiet.warnings], [{ x: '2' }, []]);
  });

  test('a write racing the apply makes it apply again to the new object', async () => {
    const { pipeline, cm, storage } = await setup();
    await pipeline.apply(admin, cm('h'), configMapApply('h', { x: '1' }), { fieldManager: 'one' });
    storage.interfere = async () => {
      await pipeline.patch(admin, cm('h'), { contentType: 'application/merge-patch+json', body: Buffer.from('{"data":{"other":"v"}}') }, { fieldManager: 'racer' });
    };
    const out = await pipeline.apply(admin, cm('h'), configMapApply('h', { x: '2' }), { fieldManager: 'one' });
    assert.deepEqual(out.object.data, { x: '2', other: 'v' });
    assert.deepEqual(owners(out.object).map(([m, op]) => `${m}/${op}`).sort(), ['one/Apply', 'racer/Update']);
  });
});

describe('managedFields of creates, updates and patches', () => {
  test('create, update and each patch record their manager (operation Update); no fieldManager is the User-Agent prefix', async () => {
    const { pipeline, cm } = await setup();
    const created = await pipeline.create(admin, cm(''), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'u' }, data: { a: '1' } }, { fieldManager: 'creator' });
    assert.deepEqual(owners(created), [['creator', 'Update', '', { 'f:data': { '.': {}, 'f:a': {} } }]]);
    assert.equal(entries(created)[0]?.apiVersion, 'v1');

    const updated = await pipeline.update(admin, cm('u'), { ...created, data: { a: '1', b: '2' } }, { userAgent: 'kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef' });
    assert.deepEqual(owners(updated).map(([m]) => m).sort(), ['creator', 'kubectl']);
    assert.deepEqual(entries(updated).find((e) => e.manager === 'kubectl')?.fieldsV1, { 'f:data': { 'f:b': {} } });

    const patched = await pipeline.patch(admin, cm('u'), { contentType: 'application/strategic-merge-patch+json', body: Buffer.from('{"metadata":{"labels":{"l":"v"}}}') }, { fieldManager: 'labeller' });
    assert.deepEqual(entries(patched).find((e) => e.manager === 'labeller')?.fieldsV1, { 'f:metadata': { 'f:labels': { '.': {}, 'f:l': {} } } });
    assert.equal(entries(patched).length, 3);
    // A dry run answers the entries it would record, and stores none.
    const dry = await pipeline.patch(admin, cm('u'), { contentType: 'application/merge-patch+json', body: Buffer.from('{"data":{"c":"3"}}') }, { fieldManager: 'dry', dryRun: true });
    assert.ok(entries(dry).some((e) => e.manager === 'dry'));
    assert.ok(!entries(await pipeline.get(admin, cm('u'))).some((e) => e.manager === 'dry'));
  });

  test('managedFields sent as [{}] clear them; other values sent are kept, as kube honours them', async () => {
    const { pipeline, cm } = await setup();
    const created = await pipeline.create(admin, cm(''), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'v' }, data: { a: '1' } }, { fieldManager: 'creator' });
    const cleared = await pipeline.update(admin, cm('v'), { ...created, metadata: { ...created.metadata, managedFields: [{}] } }, { fieldManager: 'creator' });
    assert.deepEqual(entries(cleared), []);
  });

  // kube's TestResetManagedFieldsEmptyList and TestResetManagedFieldsEmptyItem
  // (test/integration/apiserver/apply/apply_test.go): a write setting managedFields to [] or
  // [{}] leaves the object with none, whether an update or a patch of any type.
  test('managedFields [] or [{}] in an update, a merge patch, a JSON patch or a strategic merge patch clear them', async () => {
    const { pipeline, cm } = await setup();
    for (const reset of [[], [{}]]) {
      const writes: [string, (name: string, current: KubeObject) => Promise<KubeObject>][] = [
        ['update', (name, current) => pipeline.update(admin, cm(name), { ...current, metadata: { ...current.metadata, managedFields: reset } })],
        ['merge', (name) => pipeline.patch(admin, cm(name), { contentType: 'application/merge-patch+json', body: Buffer.from(JSON.stringify({ metadata: { managedFields: reset } })) })],
        ['json', (name) => pipeline.patch(admin, cm(name), { contentType: 'application/json-patch+json', body: Buffer.from(JSON.stringify([{ op: 'replace', path: '/metadata/managedFields', value: reset }])) })],
        ['strategic', (name) => pipeline.patch(admin, cm(name), { contentType: 'application/strategic-merge-patch+json', body: Buffer.from(JSON.stringify({ metadata: { managedFields: reset } })) })],
      ];
      for (const [how, write] of writes) {
        const name = `reset-${how}-${reset.length}`;
        const created = await pipeline.create(admin, cm(''), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } }, { fieldManager: 'creator' });
        assert.equal(entries(created).length, 1, name);
        const written = await write(name, created);
        assert.deepEqual(entries(written), [], name);
        assert.deepEqual(entries(await pipeline.get(admin, cm(name))), [], name);
      }
    }
  });
});

describe('managedFields of /status and /scale', () => {
  test('apply to /status records the status manager with subresource "status"; the main resource does not own status', async () => {
    const { pipeline } = await setup();
    const deployments = registry.get('apps', 'v1', 'deployments');
    assert.ok(deployments !== undefined);
    const target = (subresource = '', name = 'st'): Target => ({ info: deployments, namespace: 'default', name, subresource });
    const labels = { app: 'st' };
    const applied = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'st' },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      status: { replicas: 7 },
    };
    const created = await pipeline.apply(admin, target(), { object: applied, strictErrors: [] }, { fieldManager: 'admin' });
    assert.equal(created.created, true);
    assert.deepEqual(entries(created.object).map((e) => e.manager), ['admin']);
    assert.ok(!('f:status' in (entries(created.object)[0]?.fieldsV1 ?? {})), 'status is reset on the main resource, and not owned');
    assert.equal((created.object.status as Record<string, unknown>).replicas, undefined, 'nor set by a create');

    const status = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'st' }, status: { replicas: 2, readyReplicas: 1 } };
    const out = await pipeline.apply(admin, target('status'), { object: status, strictErrors: [] }, { fieldManager: 'controller' });
    assert.equal(out.created, false);
    assert.equal((out.object.status as Record<string, unknown>).readyReplicas, 1);
    const controller = entries(out.object).find((e) => e.manager === 'controller');
    assert.equal(controller?.subresource, 'status');
    assert.equal(controller?.operation, 'Apply');
    assert.deepEqual(controller?.fieldsV1, { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } });
    const stored = await pipeline.get(admin, target());
    assert.equal((stored.spec as Record<string, unknown>).replicas, 2);
    assert.deepEqual(stored.metadata?.managedFields, out.object.metadata?.managedFields);
    // /status of an object that does not exist: NotFound, never a create.
    await refusal(pipeline.apply(admin, target('status', 'st2'), { object: { ...status, metadata: { name: 'st2' } }, strictErrors: [] }, { fieldManager: 'controller' }), 'NotFound');
  });

  test('an update of /scale is recorded on the Scale (subresource "scale") and carried to the object as kube\'s ScaleHandler does', async () => {
    const { pipeline } = await setup();
    const deployments = registry.get('apps', 'v1', 'deployments');
    assert.ok(deployments !== undefined);
    const deployment = (subresource = ''): Target => ({ info: deployments, namespace: 'default', name: 'web', subresource });
    const labels = { app: 'web' };
    const body = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    };
    const created = await pipeline.create(admin, { ...deployment(), name: '' }, body, { fieldManager: 'creator' });
    const creatorFields = entries(created).find((e) => e.manager === 'creator')?.fieldsV1 as Record<string, Record<string, unknown>>;
    assert.ok('f:replicas' in (creatorFields['f:spec'] ?? {}));

    const scale = await pipeline.get(admin, deployment('scale'));
    const scaled = await pipeline.update(admin, deployment('scale'), { ...scale, spec: { replicas: 3 } }, { fieldManager: 'scaler' });
    assert.deepEqual(scaled.spec, { replicas: 3 });
    const stored = await pipeline.get(admin, deployment());
    assert.equal((stored.spec as Record<string, unknown>).replicas, 3);
    const scaler = entries(stored).find((e) => e.manager === 'scaler');
    assert.deepEqual(scaler, { manager: 'scaler', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } }, subresource: 'scale' });
    const creator = entries(stored).find((e) => e.manager === 'creator')?.fieldsV1 as Record<string, Record<string, unknown>>;
    assert.ok(!('f:replicas' in (creator['f:spec'] ?? {})), 'the creator no longer owns the replicas');
    assert.ok('f:template' in (creator['f:spec'] ?? {}), 'and keeps the rest');
  });
});

describe('server-side apply of a custom kind', () => {
  test('its schema merges: a set list unioned by two managers, preserved fields owned, a conflict, /status by its own manager', async () => {
    const crd = {
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
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    properties: {
                      size: { type: 'integer' },
                      tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                      free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                    },
                  },
                  status: { type: 'object', properties: { ready: { type: 'boolean' } } },
                },
              },
            },
          },
        ],
      },
    };
    const [widgets] = kindsOfDefinition(CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(crd) ?? crd);
    assert.ok(widgets !== undefined);
    const local = builtinRegistry();
    local.add(widgets);
    const { pipeline } = await inProcessPipeline(new MemoryStorage({ kinds: local }), local);
    const target = (subresource = ''): Target => ({ info: widgets, namespace: 'default', name: 'w', subresource });
    const widget = (fields: Record<string, unknown>): { object: KubeObject; strictErrors: string[] } => ({ object: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, ...fields }, strictErrors: [] });

    const created = await pipeline.apply(admin, target(), widget({ spec: { size: 1, tags: ['a', 'b'], free: { x: { y: 1 } } } }), { fieldManager: 'one' });
    assert.equal(created.created, true);
    assert.deepEqual(owners(created.object), [['one', 'Apply', '', { 'f:spec': { 'f:free': { 'f:x': { '.': {}, 'f:y': {} } }, 'f:size': {}, 'f:tags': { 'v:"a"': {}, 'v:"b"': {} } } }]]);
    const second = await pipeline.apply(admin, target(), widget({ spec: { tags: ['c'] } }), { fieldManager: 'two' });
    assert.deepEqual((second.object.spec as Record<string, unknown>).tags, ['a', 'b', 'c']);
    const conflict = await refusal(pipeline.apply(admin, target(), widget({ spec: { size: 3 } }), { fieldManager: 'two' }), 'Conflict');
    assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "one": .spec.size');
    const status = await pipeline.apply(admin, target('status'), widget({ status: { ready: true } }), { fieldManager: 'controller' });
    assert.deepEqual(status.object.status, { ready: true });
    assert.deepEqual(owners(status.object).map(([m, op, sub]) => `${m}/${op}/${sub}`).sort(), ['controller/Apply/status', 'one/Apply/', 'two/Apply/']);
  });
});

/**
 * managedFields across API versions, as kube's field manager compares them (SMD merge/update.go
 * update(): the live and new objects converted to each manager's apiVersion; apimachinery
 * managedfields/internal/versionconverter.go): a conflict is found in the owner's version and
 * named by its path there; force takes it from that set; entries keep their own apiVersion.
 */
describe('managedFields across API versions', () => {
  const scaleTargetRef = { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' };
  const hpa = (apiVersion: string, spec: Record<string, unknown>): { object: KubeObject; strictErrors: string[] } => ({
    object: { apiVersion, kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef, maxReplicas: 5, ...spec } },
    strictErrors: [],
  });
  const cpu = (utilization: number): unknown[] => [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } } }];
  const byManager = (object: KubeObject): Map<string, Entry> => new Map(entries(object).map((e) => [e.manager, e]));

  async function hpaTargets() {
    const plane = await inProcessPipeline(new MemoryStorage({ kinds: registry }), registry);
    const info = (version: string) => {
      const k = registry.get('autoscaling', version, 'horizontalpodautoscalers');
      assert.ok(k !== undefined);
      return k;
    };
    return { pipeline: plane.pipeline, v1: { info: info('v1'), namespace: 'default', name: 'web' } as Target, v2: { info: info('v2'), namespace: 'default', name: 'web' } as Target };
  }

  test('an HPA applied through autoscaling/v2; an autoscaling/v1 apply changing the CPU target conflicts on the v2 manager\'s .spec.metrics; force takes it', async () => {
    const { pipeline, v1, v2 } = await hpaTargets();
    await pipeline.apply(admin, v2, hpa('autoscaling/v2', { minReplicas: 1, metrics: cpu(50) }), { fieldManager: 'v2-owner' });

    // The same target through v1 changes nothing in v2: no conflict, both own what they applied.
    const same = await pipeline.apply(admin, v1, hpa('autoscaling/v1', { targetCPUUtilizationPercentage: 50 }), { fieldManager: 'v1-applier' });
    assert.equal(same.object.apiVersion, 'autoscaling/v1');
    assert.equal(byManager(same.object).get('v2-owner')?.apiVersion, 'autoscaling/v2');
    assert.deepEqual(byManager(same.object).get('v1-applier')?.fieldsV1, { 'f:spec': { 'f:maxReplicas': {}, 'f:scaleTargetRef': {}, 'f:targetCPUUtilizationPercentage': {} } });

    const conflict = await refusal(pipeline.apply(admin, v1, hpa('autoscaling/v1', { targetCPUUtilizationPercentage: 70 }), { fieldManager: 'v1-applier' }), 'Conflict');
    assert.equal(conflict.code, 409);
    assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "v2-owner": .spec.metrics');
    assert.deepEqual(conflict.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "v2-owner"', field: '.spec.metrics' }]);
    assert.deepEqual((await pipeline.get(admin, v2)).spec, { scaleTargetRef, minReplicas: 1, maxReplicas: 5, metrics: cpu(50) }, 'a conflict changes nothing');

    const forced = await pipeline.apply(admin, v1, hpa('autoscaling/v1', { targetCPUUtilizationPercentage: 70 }), { fieldManager: 'v1-applier', force: true });
    assert.equal((forced.object.spec as Record<string, unknown>).targetCPUUtilizationPercentage, 70);
    const owners = byManager(forced.object);
    assert.deepEqual(
      [...owners.values()].map((e) => [e.manager, e.operation, e.apiVersion]).sort(),
      [
        ['v1-applier', 'Apply', 'autoscaling/v1'],
        ['v2-owner', 'Apply', 'autoscaling/v2'],
      ],
    );
    // (v2's scaleTargetRef is granular; v1's is an atomic struct)
    const ref = { 'f:apiVersion': {}, 'f:kind': {}, 'f:name': {} };
    assert.deepEqual(owners.get('v2-owner')?.fieldsV1, { 'f:spec': { 'f:maxReplicas': {}, 'f:minReplicas': {}, 'f:scaleTargetRef': ref } }, 'the v2 manager lost .spec.metrics only');
    assert.deepEqual(((await pipeline.get(admin, v2)).spec as Record<string, unknown>).metrics, cpu(70));
  });

  test('an HPA created through autoscaling/v2 (an Update manager): the v1 apply names it with its version', async () => {
    const { pipeline, v1, v2 } = await hpaTargets();
    await pipeline.create(admin, { ...v2, name: '' }, hpa('autoscaling/v2', { metrics: cpu(50) }).object, { fieldManager: 'creator' });
    const conflict = await refusal(pipeline.apply(admin, v1, hpa('autoscaling/v1', { targetCPUUtilizationPercentage: 70 }), { fieldManager: 'v1-applier' }), 'Conflict');
    assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "creator" using autoscaling/v2: .spec.metrics');
    const forced = await pipeline.apply(admin, v1, hpa('autoscaling/v1', { targetCPUUtilizationPercentage: 70 }), { fieldManager: 'v1-applier', force: true });
    const creator = byManager(forced.object).get('creator');
    assert.equal(creator?.apiVersion, 'autoscaling/v2');
    assert.ok(!JSON.stringify(creator?.fieldsV1).includes('f:metrics'), JSON.stringify(creator?.fieldsV1));
  });

  test('an entry of a version kube no longer serves (autoscaling/v2beta2) is dropped by the next write, as SMD drops a manager of a missing version', async () => {
    const { pipeline, v2 } = await hpaTargets();
    const created = await pipeline.create(admin, { ...v2, name: '' }, hpa('autoscaling/v2', { metrics: cpu(50) }).object, { fieldManager: 'creator' });
    const obsolete = { manager: 'old', operation: 'Update', apiVersion: 'autoscaling/v2beta2', time: '2020-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:scaleTargetRef': { 'f:name': {} } } } };
    const body = { ...created, metadata: { ...created.metadata, managedFields: [...entries(created), obsolete] }, spec: { ...(created.spec as Record<string, unknown>), maxReplicas: 6 } };
    const updated = await pipeline.update(admin, v2, body, { fieldManager: 'editor' });
    assert.deepEqual(entries(updated).map((e) => [e.manager, e.apiVersion]).sort(), [
      ['creator', 'autoscaling/v2'],
      ['editor', 'autoscaling/v2'],
    ]);
  });

  test('a custom kind\'s entry of a version its CRD lists but does not serve is compared in it; one of a version the CRD does not list is kept untouched', async () => {
    // kube's CRD converter converts to every listed version (None: only apiVersion changes), and
    // a version it does not know is no missing-version error: neither entry is dropped.
    const version = (name: string, served: boolean, storage: boolean) => ({
      name,
      served,
      storage,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' }, color: { type: 'string' } } } } } },
    });
    const crd = { metadata: { name: 'gizmos.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'gizmos', kind: 'Gizmo' }, versions: [version('v1', true, true), version('v2', false, false)] } };
    const kinds = kindsOfDefinition(CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(crd) ?? crd);
    assert.deepEqual(kinds.map((k) => k.version), ['v1']);
    const local = builtinRegistry();
    for (const k of kinds) local.add(k);
    const { pipeline } = await inProcessPipeline(new MemoryStorage({ kinds: local }), local);
    const target: Target = { info: kinds[0]!, namespace: 'default', name: 'g' };
    const created = await pipeline.create(admin, { ...target, name: '' }, { apiVersion: 'example.com/v1', kind: 'Gizmo', metadata: { name: 'g' }, spec: { size: 1, color: 'red' } }, { fieldManager: 'creator' });
    const entry = (manager: string, apiVersion: string) => ({ manager, operation: 'Update', apiVersion, time: '2020-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:color': {}, 'f:size': {} } } });
    const body = { ...created, metadata: { ...created.metadata, managedFields: [entry('listed', 'example.com/v2'), entry('unlisted', 'example.com/v9')] }, spec: { size: 2, color: 'red' } };
    const updated = await pipeline.update(admin, target, body, { fieldManager: 'editor' });
    assert.deepEqual(entries(updated).map((e) => [e.manager, e.apiVersion, e.fieldsV1]), [
      ['listed', 'example.com/v2', { 'f:spec': { 'f:color': {} } }],
      ['unlisted', 'example.com/v9', { 'f:spec': { 'f:color': {}, 'f:size': {} } }],
      ['editor', 'example.com/v1', { 'f:spec': { 'f:size': {} } }],
    ]);
  });

  test('a core/v1 Event\'s manager conflicts with an events.k8s.io/v1 apply on its own field name (.message for note)', async () => {
    const plane = await inProcessPipeline(new MemoryStorage({ kinds: registry }), registry);
    const core = registry.get('', 'v1', 'events');
    const events = registry.get('events.k8s.io', 'v1', 'events');
    assert.ok(core !== undefined && events !== undefined);
    const involvedObject = { kind: 'Pod', namespace: 'default', name: 'p', apiVersion: 'v1' };
    await plane.pipeline.create(
      admin,
      { info: core, namespace: 'default', name: '' },
      { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'default' }, involvedObject, reason: 'Started', message: 'a', type: 'Normal', source: { component: 'kubelet' } },
      { fieldManager: 'recorder' },
    );
    const applied = { object: { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e', namespace: 'default' }, note: 'b' }, strictErrors: [] };
    const conflict = await refusal(plane.pipeline.apply(admin, { info: events, namespace: 'default', name: 'e' }, applied, { fieldManager: 'applier' }), 'Conflict');
    assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "recorder" using v1: .message');
  });

  test('a custom kind served at two versions: a manager\'s set is read with its version\'s schema', async () => {
    // v1 has spec.tags as a set, v2 as an atomic list (conversion None: only apiVersion changes).
    const version = (name: string, listType: string, storage: boolean) => ({
      name,
      served: true,
      storage,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': listType } } } } } },
    });
    const crd = { metadata: { name: 'gadgets.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'gadgets', kind: 'Gadget' }, versions: [version('v1', 'set', true), version('v2', 'atomic', false)] } };
    const kinds = kindsOfDefinition(CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(crd) ?? crd);
    assert.deepEqual(kinds.map((k) => k.version), ['v1', 'v2']);
    const local = builtinRegistry();
    for (const k of kinds) local.add(k);
    const { pipeline } = await inProcessPipeline(new MemoryStorage({ kinds: local }), local);
    const at = (v: number): Target => ({ info: kinds[v - 1]!, namespace: 'default', name: 'g' });
    const gadget = (apiVersion: string, spec: Record<string, unknown>) => ({ object: { apiVersion, kind: 'Gadget', metadata: { name: 'g' }, spec }, strictErrors: [] });

    // "atomic" owns .spec.tags whole through v2; a v1 apply adding an item to the set changes that list in v2.
    await pipeline.apply(admin, at(2), gadget('example.com/v2', { size: 1, tags: ['a'] }), { fieldManager: 'atomic' });
    const conflict = await refusal(pipeline.apply(admin, at(1), gadget('example.com/v1', { tags: ['b'] }), { fieldManager: 'set' }), 'Conflict');
    assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "atomic": .spec.tags');
    const forced = await pipeline.apply(admin, at(1), gadget('example.com/v1', { tags: ['b'] }), { fieldManager: 'set', force: true });
    assert.deepEqual((forced.object.spec as Record<string, unknown>).tags, ['a', 'b']);
    const owners = byManager(forced.object);
    assert.deepEqual([owners.get('atomic')?.apiVersion, owners.get('atomic')?.fieldsV1], ['example.com/v2', { 'f:spec': { 'f:size': {} } }]);
    assert.deepEqual([owners.get('set')?.apiVersion, owners.get('set')?.fieldsV1], ['example.com/v1', { 'f:spec': { 'f:tags': { 'v:"b"': {} } } }]);

    // The other way round, an item added through v1's set is no change to what the v2 set manager owns.
    const added = await pipeline.apply(admin, at(1), gadget('example.com/v1', { tags: ['c'] }), { fieldManager: 'other' });
    assert.deepEqual((added.object.spec as Record<string, unknown>).tags, ['a', 'b', 'c']);
  });
});

/**
 * /scale of a custom kind served at two versions, as kube's ScaleHandler carries the Scale's
 * entries (apimachinery pkg/util/managedfields/scalehandler.go ToSubresource/ToParent): an entry
 * of any version with a replicas path mapping is kept, losing only that version's replicas path.
 */
describe('/scale of a custom kind served at two versions', () => {
  test('a /scale update through v1 keeps a v2 applier\'s entry (less spec.replicas) and records the scaler on replicas', async () => {
    const version = (name: string, storage: boolean) => ({
      name,
      served: true,
      storage,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' }, replicas: { type: 'integer' } } }, status: { type: 'object', properties: { replicas: { type: 'integer' } } } } } },
      subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
    });
    const crd = { metadata: { name: 'pools.example.com' }, spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'pools', kind: 'Pool' }, versions: [version('v1', true), version('v2', false)] } };
    const kinds = kindsOfDefinition(CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(crd) ?? crd);
    assert.deepEqual(kinds.map((k) => k.version), ['v1', 'v2']);
    const local = builtinRegistry();
    for (const k of kinds) local.add(k);
    const { pipeline } = await inProcessPipeline(new MemoryStorage({ kinds: local }), local);
    const at = (v: number, subresource?: string): Target => ({ info: kinds[v - 1]!, namespace: 'default', name: 'p', ...(subresource === undefined ? {} : { subresource }) });
    await pipeline.apply(admin, at(2), { object: { apiVersion: 'example.com/v2', kind: 'Pool', metadata: { name: 'p' }, spec: { size: 1, replicas: 2 } }, strictErrors: [] }, { fieldManager: 'v2-applier' });

    const scale = await pipeline.get(admin, at(1, 'scale'));
    await pipeline.update(admin, at(1, 'scale'), { ...scale, spec: { replicas: 5 } }, { fieldManager: 'scaler' });
    const stored = await pipeline.get(admin, at(2));
    assert.equal((stored.spec as Record<string, unknown>).replicas, 5);
    assert.deepEqual(
      entries(stored).map((e) => [e.manager, e.operation, e.apiVersion, e.subresource ?? '', e.fieldsV1]),
      [
        ['v2-applier', 'Apply', 'example.com/v2', '', { 'f:spec': { 'f:size': {} } }],
        ['scaler', 'Update', 'example.com/v1', 'scale', { 'f:spec': { 'f:replicas': {} } }],
      ],
    );
  });
});
