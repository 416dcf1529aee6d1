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
