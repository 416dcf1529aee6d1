/**
 * The workspace package @apiserver/client, imported by its name as a component would: typed
 * services of built-in kinds and the JSON Resources API against a control plane, Status errors
 * as ApiError, warnings, a watch from a resourceVersion, and the same object over both APIs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient, ApiError } from '@apiserver/client';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';

let dir: string;
let plane: ControlPlane;
let client: ApiClient;
const warnings: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-client-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  client = new ApiClient({ address: plane.addresses.gateway, token, onWarning: (w) => warnings.push(w) });
});

after(async () => {
  client?.close();
  await plane?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    return err;
  }
  assert.fail('expected an ApiError');
}

test('typed services: create, get, list, update, patch, delete with typed objects', async () => {
  const namespaces = client.kinds.core.v1.Namespaces;
  const ns = await namespaces.create({ object: { metadata: { name: 'pkg' } } });
  assert.equal(ns.metadata?.name, 'pkg');
  assert.equal(ns.status?.phase, 'Active');

  const configMaps = client.kinds.core.v1.ConfigMaps;
  const created = await configMaps.create({ namespace: 'pkg', object: { metadata: { name: 'settings', labels: { tier: 'web' } }, data: { mode: 'fast' } } });
  assert.equal(created.metadata?.namespace, 'pkg');
  assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(typeof created.metadata?.creationTimestamp?.seconds, 'string', 'int64 as a string');

  const got = await configMaps.get({ namespace: 'pkg', name: 'settings' });
  assert.deepEqual(got.data, { mode: 'fast' });
  const list = await configMaps.list({ namespace: 'pkg', options: { labelSelector: 'tier=web' } });
  assert.deepEqual(list.items?.map((i) => i.metadata?.name), ['settings']);

  const updated = await configMaps.update({ namespace: 'pkg', object: { ...got, data: { mode: 'safe' } } });
  assert.deepEqual(updated.data, { mode: 'safe' });
  const patched = await configMaps.patch({ namespace: 'pkg', name: 'settings', type: 'PATCH_TYPE_MERGE', patch: Buffer.from('{"data":{"extra":"1"}}') });
  assert.deepEqual(patched.data, { mode: 'safe', extra: '1' });

  // the JSON Resources API sees the same object
  const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'pkg', name: 'settings' };
  const json = JSON.parse((await client.resources.get({ ref })).object!.toString()) as { metadata: { uid: string; resourceVersion: string }; data: unknown };
  assert.equal(json.metadata.uid, created.metadata?.uid);
  assert.equal(json.metadata.resourceVersion, patched.metadata?.resourceVersion);
  assert.deepEqual(json.data, { mode: 'safe', extra: '1' });

  await configMaps.delete({ namespace: 'pkg', name: 'settings' });
  const missing = await refusal(configMaps.get({ namespace: 'pkg', name: 'settings' }));
  assert.deepEqual([missing.reason, missing.code, missing.message], ['NotFound', 404, 'configmaps "settings" not found']);
});

test('refusals are ApiErrors with the Kubernetes Status; warnings reach onWarning', async () => {
  const invalid = await refusal(client.kinds.core.v1.ConfigMaps.create({ namespace: 'pkg', object: { metadata: { name: 'Not_Valid' } } }));
  assert.equal(invalid.reason, 'Invalid');
  assert.equal(invalid.code, 422);
  assert.equal(invalid.details?.causes?.[0]?.field, 'metadata.name');
  const anonymous = new ApiClient({ address: plane.addresses.gateway });
  try {
    assert.equal((await refusal(anonymous.kinds.core.v1.ConfigMaps.list({ namespace: 'pkg' }))).reason, 'Unauthorized');
  } finally {
    anonymous.close();
  }
  await client.kinds.core.v1.ConfigMaps.create({ namespace: 'pkg', object: { metadata: { name: 'warned' } } });
  warnings.length = 0;
  await client.kinds.core.v1.ConfigMaps.patch({ namespace: 'pkg', name: 'warned', type: 'PATCH_TYPE_MERGE', patch: Buffer.from('{"bogus":1}'), fieldValidation: 'Warn' });
  assert.deepEqual(warnings, ['unknown field "bogus"']);
});

test('a watch from a resourceVersion sees a later change; aborting it ends the iteration', async () => {
  const configMaps = client.kinds.core.v1.ConfigMaps;
  const start = await configMaps.create({ namespace: 'pkg', object: { metadata: { name: 'watched' }, data: { v: '1' } } });
  const controller = new AbortController();
  const seen: [string | undefined, string | undefined][] = [];
  const watching = (async () => {
    for await (const event of configMaps.watch({ namespace: 'pkg', options: { resourceVersion: start.metadata?.resourceVersion } }, { signal: controller.signal })) {
      seen.push([event.type, event.object?.data?.v]);
      if (seen.length === 1) controller.abort();
    }
  })();
  await configMaps.update({ namespace: 'pkg', object: { metadata: { name: 'watched' }, data: { v: '2' } } });
  await Promise.race([watching, new Promise((_, reject) => setTimeout(() => reject(new Error('no event within 30 s')), 30_000).unref())]);
  assert.deepEqual(seen, [['MODIFIED', '2']]);
});
