/**
 * The registry is live: a CustomResourceDefinition created through REST on one gateway makes
 * its kind appear, within seconds and without a restart, in discovery, REST, watch and the
 * typed gRPC API of every gateway and watch replica (two of each here); deleting it makes the
 * kind disappear from all of them again (404), and open watches of it end.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { StatusError } from '../../lib/errors.ts';
import { clientSettings, unary } from '../../lib/grpc/client.ts';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { ResourcesClient } from '../../lib/gen/apiserver/v1/Resources.ts';
import { WatchClient } from '../../services/watch/grpc/client.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

let dir: string;
let plane: ControlPlane;
let rests: RestClient[] = [];
let grpcs: ResourcesClient[] = [];
let watchers: WatchClient[] = [];
const auth = new Metadata();

const GROUP = 'stable.example.com';
const CRD_NAME = `widgets.${GROUP}`;
/** kube's OpenAPI name of a custom kind's schema: the group reversed, the version, the kind. */
const WIDGET_SCHEMA = 'com.example.stable.v1.Widget';
const WIDGETS = `/apis/${GROUP}/v1/namespaces/default/widgets`;

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: CRD_NAME },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'widgets', kind: 'Widget', shortNames: ['wdg'], categories: ['all'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } },
        additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
      },
    ],
  },
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-custom-kinds-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs'), watchReplicas: 2, gatewayReplicas: 2 });
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  auth.set('authorization', `Bearer ${token}`);
  const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });
  const { credentials, channelOptions } = clientSettings({ telemetry });
  rests = plane.gatewayReplicas.map((g) => createRestClient(`https://${g.https}`, ca, token));
  grpcs = plane.gatewayReplicas.map((g) => new (loadApiProto().apiserver.v1.Resources)(g.grpc, credentials, channelOptions));
  watchers = plane.watchReplicas.map((w) => new WatchClient(w.address, { telemetry }));
});

after(async () => {
  for (const c of grpcs) c.close();
  for (const w of watchers) w.close();
  await plane?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Retries `check` until it passes, for at most `ms` (the followers are eventually consistent). */
async function eventually(what: string, check: () => Promise<void>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms: ${(err as Error).message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

const gvr = { group: GROUP, version: 'v1', resource: 'widgets', namespace: 'default' };

/** A typed Get: the object, or the reason of the StatusError it failed with. */
async function grpcGet(client: ResourcesClient, name: string): Promise<{ reason: string; object?: Record<string, unknown> }> {
  try {
    const res = await unary(client, 'get', { ref: { ...gvr, name } }, { metadata: auth });
    return { reason: '', object: JSON.parse(Buffer.from(res.object).toString()) as Record<string, unknown> };
  } catch (err) {
    if (!(err instanceof StatusError)) throw err;
    return { reason: err.reason };
  }
}

/** The first event of a typed watch straight on one watch replica, with a bound. */
async function firstEvent(watcher: WatchClient, resourceVersion: string): Promise<{ type: string; object: Record<string, unknown> }> {
  const signal = AbortSignal.timeout(10_000);
  for await (const e of watcher.watch(gvr, { resourceVersion }, signal)) {
    return { type: e.type, object: JSON.parse(e.object.toString()) as Record<string, unknown> };
  }
  throw new Error('the watch ended without an event');
}

test('a kind defined at run time appears on every replica of every service, and disappears with its definition', async () => {
  const [rest0, rest1] = rests as [RestClient, RestClient];
  assert.equal(rests.length, 2);
  assert.equal(watchers.length, 2);
  assert.equal((await rest1.request('GET', WIDGETS)).status, 404);

  // A definition naming its kind as a built-in schema (ObjectMeta): refused without kube's API
  // approval in a protected group; stored with it, but never served nor published.
  const impostorGroup = 'meta.apis.pkg.apimachinery.k8s.io';
  const impostor = {
    ...CRD,
    metadata: { name: `objectmetas.${impostorGroup}` },
    spec: { ...CRD.spec, group: impostorGroup, names: { plural: 'objectmetas', kind: 'ObjectMeta' } },
  };
  const unapproved = await rest0.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: impostor });
  assert.equal(unapproved.status, 422, unapproved.body.toString());
  assert.match(String(unapproved.json().message), /metadata\.annotations\[api-approved\.kubernetes\.io\]: Required value: protected groups must have approval annotation/);
  const approved = { ...impostor, metadata: { ...impostor.metadata, annotations: { 'api-approved.kubernetes.io': 'unapproved, testing' } } };
  const stored = await rest0.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: approved });
  assert.equal(stored.status, 201, stored.body.toString());

  const created = await rest0.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: CRD });
  assert.equal(created.status, 201, created.body.toString());
  const status = created.json().status as { conditions: { type: string; status: string }[]; acceptedNames: Record<string, unknown> };
  assert.deepEqual(
    status.conditions.map((c) => `${c.type}=${c.status}`),
    ['NamesAccepted=True', 'Established=True'],
  );
  assert.equal(status.acceptedNames.listKind, 'WidgetList');

  // Discovery on both gateways.
  for (const rest of rests) {
    await eventually('discovery', async () => {
      const groups = (await rest.request('GET', '/apis')).json().groups as { name: string }[];
      assert.ok(groups.some((g) => g.name === GROUP));
      const list = await rest.request('GET', `/apis/${GROUP}/v1`);
      assert.equal(list.status, 200);
      const resources = list.json().resources as { name: string; shortNames: string[]; categories?: string[]; namespaced: boolean }[];
      assert.deepEqual(resources.map((r) => [r.name, r.shortNames, r.categories, r.namespaced]), [['widgets', ['wdg'], ['all'], true]]);
      const aggregated = await rest.request('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } });
      const items = aggregated.json().items as { metadata: { name: string } }[];
      assert.ok(items.some((i) => i.metadata.name === GROUP));
    });
  }

  // OpenAPI on both gateways: the v3 index names the group-version, its document has the kind's
  // schema (with the metadata every custom object has), and v2 has it too.
  for (const rest of rests) {
    await eventually('OpenAPI', async () => {
      const index = (await rest.request('GET', '/openapi/v3')).json().paths as Record<string, { serverRelativeURL: string }>;
      const url = index[`apis/${GROUP}/v1`]?.serverRelativeURL;
      assert.ok(url !== undefined, Object.keys(index).join(' '));
      const doc = await rest.request('GET', url);
      assert.equal(doc.status, 200);
      const schemas = (doc.json().components as { schemas: Record<string, { properties?: Record<string, unknown> }> }).schemas;
      const widget = schemas[WIDGET_SCHEMA];
      assert.ok(widget?.properties?.spec !== undefined && widget.properties.metadata !== undefined, Object.keys(schemas).join(' '));
      const v2 = (await rest.request('GET', '/openapi/v2', { headers: { Accept: 'application/json' } })).json().definitions as Record<string, unknown>;
      assert.ok(WIDGET_SCHEMA in v2);
    });
  }

  // The impostor (written before the widgets, so followed before them) is served nowhere, and
  // ObjectMeta is published as the built-in schema.
  for (const rest of rests) {
    assert.equal((await rest.request('GET', `/apis/${impostorGroup}/v1`)).status, 404);
    const v2 = await rest.request('GET', '/openapi/v2', { headers: { Accept: 'application/json' } });
    assert.equal(v2.status, 200);
    const objectMeta = (v2.json().definitions as Record<string, { properties: Record<string, unknown> }>)['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'];
    assert.ok(objectMeta?.properties.creationTimestamp !== undefined && objectMeta.properties.spec === undefined, JSON.stringify(objectMeta));
  }

  // REST: created through one gateway (once admission follows too), read through the other.
  let widget: Record<string, unknown> = {};
  await eventually('create through REST', async () => {
    const res = await rest0.request('POST', WIDGETS, { body: { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } } });
    assert.equal(res.status, 201, res.body.toString());
    widget = res.json();
  });
  const resourceVersion = String((widget.metadata as { resourceVersion: string }).resourceVersion);
  const got = await rest1.request('GET', `${WIDGETS}/w1`);
  assert.equal(got.status, 200, got.body.toString());
  assert.deepEqual(got.json().spec, { size: 3 });
  assert.equal(got.json().kind, 'Widget');
  const listed = await rest1.request('GET', WIDGETS);
  assert.deepEqual((listed.json().items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['w1']);
  // Unlike a typed list, a custom resource list's items keep their kind and apiVersion.
  const item = (listed.json().items as Record<string, unknown>[])[0];
  assert.deepEqual([item?.kind, item?.apiVersion], ['Widget', `${GROUP}/v1`]);
  const table = await rest1.request('GET', WIDGETS, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  const t = table.json() as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
  assert.deepEqual(t.columnDefinitions.map((c) => c.name), ['Name', 'Size']);
  assert.deepEqual(t.rows.map((r) => r.cells), [['w1', 3]]);

  // Typed gRPC API on both gateways.
  for (const client of grpcs) {
    await eventually('gRPC get', async () => {
      const res = await grpcGet(client, 'w1');
      assert.equal(res.reason, '');
      assert.deepEqual(res.object?.spec, { size: 3 });
    });
  }

  // Watch: on each watch replica directly, and through each gateway (from before the create).
  const before = String(Number(resourceVersion) - 1);
  for (const watcher of watchers) {
    await eventually('watch on a watch replica', async () => {
      const e = await firstEvent(watcher, before);
      assert.equal(e.type, 'ADDED');
      assert.equal((e.object.metadata as { name: string }).name, 'w1');
    });
  }
  for (const rest of rests) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    try {
      for await (const e of rest.watch(`${WIDGETS}?watch=1&resourceVersion=${before}`, controller.signal)) {
        assert.equal(e.type, 'ADDED');
        assert.equal(((e.object as { metadata: { name: string } }).metadata).name, 'w1');
        break;
      }
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  // A watch open while the definition goes ends.
  const open = new AbortController();
  const openTimer = setTimeout(() => open.abort(), 20_000);
  const ended = (async () => {
    const seen: string[] = [];
    for await (const e of rest1.watch(`${WIDGETS}?watch=1&resourceVersion=${resourceVersion}`, open.signal)) seen.push(String(e.type));
    return { aborted: open.signal.aborted, seen };
  })();

  const deleted = await rest1.request('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`);
  assert.equal(deleted.status, 200, deleted.body.toString());

  for (const rest of rests) {
    await eventually('gone from REST and discovery', async () => {
      assert.equal((await rest.request('GET', `${WIDGETS}/w1`)).status, 404);
      assert.equal((await rest.request('GET', `/apis/${GROUP}/v1`)).status, 404);
      const groups = (await rest.request('GET', '/apis')).json().groups as { name: string }[];
      assert.ok(!groups.some((g) => g.name === GROUP));
      const index = (await rest.request('GET', '/openapi/v3')).json().paths as Record<string, unknown>;
      assert.ok(!(`apis/${GROUP}/v1` in index));
      const v2 = (await rest.request('GET', '/openapi/v2', { headers: { Accept: 'application/json' } })).json().definitions as Record<string, unknown>;
      assert.ok(!(WIDGET_SCHEMA in v2));
    });
  }
  for (const client of grpcs) {
    await eventually('gone from gRPC', async () => assert.equal((await grpcGet(client, 'w1')).reason, 'NotFound'));
  }
  for (const watcher of watchers) {
    await eventually('gone from the watch replicas', async () => {
      await assert.rejects(firstEvent(watcher, before), (err: unknown) => err instanceof StatusError && err.reason === 'NotFound');
    });
  }
  const result = await ended;
  clearTimeout(openTimer);
  assert.equal(result.aborted, false, 'the open watch ended when its kind went');
});
