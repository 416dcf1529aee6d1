/**
 * The OpenAPI endpoints over HTTP: negotiation of JSON and gnostic protobuf, ETags and 304,
 * the v3 hash (immutable when current, 301 to the current one when stale), and a kind
 * registered while serving showing up in the next answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StatusError } from '../../../lib/errors.ts';
import { createLogger } from '../../../lib/log.ts';
import { builtinRegistry, type KindDefinition, type KindRegistry } from '../../../lib/kinds/index.ts';
import { SchemaSet } from '../../../lib/kinds/schemas.ts';
import { OpenApiV2Protobuf } from '../../../lib/kinds/openapi-proto.ts';
import { splitRequestTarget } from './request-info.ts';
import { negotiateOffer, OPENAPI_V2_PROTOBUF, OpenApiEndpoints } from './openapi.ts';

let server: Server;
let base: string;
let registry: KindRegistry;

const WIDGETS: KindDefinition = {
  ...(builtinRegistry().get('', 'v1', 'configmaps') as KindDefinition),
  source: 'custom',
  group: 'example.com',
  resource: 'widgets',
  singular: 'widget',
  kind: 'Widget',
  listKind: 'WidgetList',
  shortNames: [],
  schema: 'com.example.v1.Widget',
  definitions: { 'com.example.v1.Widget': { type: 'object', properties: { spec: { type: 'object' } } } },
};

before(async () => {
  registry = builtinRegistry();
  const endpoints = new OpenApiEndpoints({ registry, schemas: new SchemaSet(), logger: createLogger({ service: 'test', level: 'error' }), version: 'v1.32.0' });
  server = createServer((req, res) => {
    const url = splitRequestTarget(req.url ?? '/');
    try {
      endpoints.serve(req, res, url.path.replace(/^\/openapi\//, ''), url.query);
    } catch (err) {
      const status = StatusError.from(err);
      res.writeHead(status.code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(status.toStatus()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers, signal: AbortSignal.timeout(10_000) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/openapi/v2', () => {
  test('JSON by default and for application/json, with an ETag a matching If-None-Match turns into 304', async () => {
    const plain = await get('/openapi/v2');
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-type'], 'application/json');
    const doc = JSON.parse(plain.body.toString()) as { swagger: string; paths: Record<string, unknown> };
    assert.equal(doc.swagger, '2.0');
    assert.ok('/api/v1/namespaces/{namespace}/configmaps' in doc.paths);
    const etag = plain.headers.etag ?? '';
    assert.match(etag, /^"[0-9A-F]{128}"$/);
    assert.equal(plain.headers.vary, 'Accept');

    const again = await get('/openapi/v2', { Accept: 'application/json', 'If-None-Match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, etag);
    const other = await get('/openapi/v2', { Accept: 'application/json', 'If-None-Match': '"0"' });
    assert.equal(other.status, 200);
  });

  test("gnostic protobuf for kubectl's Accept, with the same ETag as the JSON", async () => {
    const json = await get('/openapi/v2', { Accept: 'application/json' });
    const pb = await get('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    assert.equal(pb.status, 200);
    assert.equal(pb.headers['content-type'], OPENAPI_V2_PROTOBUF);
    assert.equal(pb.headers.etag, json.headers.etag);
    const decoded = new OpenApiV2Protobuf().decode(pb.body) as { swagger: string; paths: { path: { name: string }[] } };
    assert.equal(decoded.swagger, '2.0');
    assert.ok(decoded.paths.path.some((p) => p.name === '/api/v1/namespaces/{name}'));
    const current = await get('/openapi/v2', { Accept: OPENAPI_V2_PROTOBUF });
    assert.equal(current.headers['content-type'], OPENAPI_V2_PROTOBUF);
    assert.deepEqual(current.body, pb.body);
  });

  test('a custom kind with a schema 60 levels deep does not break the protobuf form for anyone', async () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 60; i++) schema = { type: 'object', properties: { p: schema } };
    registry.add({ ...WIDGETS, definitions: { 'com.example.v1.Widget': schema } });
    try {
      const pb = await get('/openapi/v2', { Accept: OPENAPI_V2_PROTOBUF });
      assert.equal(pb.status, 200, pb.body.toString());
      const decoded = new OpenApiV2Protobuf().decode(pb.body) as { paths: { path: { name: string }[] } };
      assert.ok(decoded.paths.path.some((p) => p.name === '/apis/example.com/v1/namespaces/{namespace}/widgets'));
    } finally {
      registry.remove('example.com', 'v1', 'widgets');
    }
  });

  test('an Accept with nothing it serves is 406', async () => {
    const r = await get('/openapi/v2', { Accept: 'text/html' });
    assert.equal(r.status, 406);
    assert.equal((JSON.parse(r.body.toString()) as { reason: string }).reason, 'NotAcceptable');
  });
});

/** The index's paths for the served group versions, in its (sorted) order. */
function groupVersionPaths(): string[] {
  return registry
    .groupVersions()
    .map((gv) => (gv.group === '' ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`))
    .sort();
}

describe('/openapi/v3', () => {
  test('the index names each group-version with the hash of its document; that URL is immutable', async () => {
    const index = await get('/openapi/v3');
    assert.equal(index.status, 200);
    assert.match(index.headers.etag ?? '', /^"[0-9A-F]{128}"$/);
    const paths = (JSON.parse(index.body.toString()) as { paths: Record<string, { serverRelativeURL: string }> }).paths;
    assert.deepEqual(Object.keys(paths), groupVersionPaths());
    const url = paths['api/v1']?.serverRelativeURL ?? '';
    const hash = /^\/openapi\/v3\/api\/v1\?hash=([0-9A-F]{128})$/.exec(url)?.[1];
    assert.ok(hash !== undefined, url);

    const doc = await get(url, { Accept: 'application/json' });
    assert.equal(doc.status, 200);
    assert.equal(doc.headers['cache-control'], 'public, immutable');
    assert.ok(doc.headers.expires !== undefined);
    assert.equal(doc.headers.etag, `"${hash}"`);
    const spec = JSON.parse(doc.body.toString()) as { openapi: string; components: { schemas: Record<string, unknown> } };
    assert.equal(spec.openapi, '3.0.0');
    assert.ok('io.k8s.api.core.v1.ConfigMap' in spec.components.schemas);

    const unhashed = await get('/openapi/v3/api/v1');
    assert.equal(unhashed.headers['cache-control'], 'no-cache, private');
    assert.deepEqual(unhashed.body, doc.body);
    const notModified = await get('/openapi/v3/api/v1', { 'If-None-Match': `"${hash}"` });
    assert.equal(notModified.status, 304);
  });

  test('a stale hash is redirected (301) to the current document; an unknown group-version is 404', async () => {
    const stale = await get('/openapi/v3/api/v1?hash=0123');
    assert.equal(stale.status, 301);
    assert.match(stale.headers.location ?? '', /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    assert.equal((await get('/openapi/v3/apis/nothing.example.com/v1')).status, 404);
    assert.equal((await get('/openapi/v4')).status, 404);
  });

  test('a kind registered while serving is in the next answers, and gone after its removal', async () => {
    const before = await get('/openapi/v2', { Accept: 'application/json' });
    const indexBefore = await get('/openapi/v3');
    registry.add(WIDGETS);
    try {
      const index = JSON.parse((await get('/openapi/v3')).body.toString()) as { paths: Record<string, { serverRelativeURL: string }> };
      assert.deepEqual(Object.keys(index.paths), groupVersionPaths());
      assert.ok(Object.hasOwn(index.paths, 'apis/example.com/v1'));
      const widgets = await get(index.paths['apis/example.com/v1']?.serverRelativeURL ?? '');
      assert.equal(widgets.status, 200);
      const spec = JSON.parse(widgets.body.toString()) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
      assert.ok('/apis/example.com/v1/namespaces/{namespace}/widgets' in spec.paths);
      assert.ok('com.example.v1.Widget' in spec.components.schemas);
      // The v2 document changed: the old ETag no longer matches.
      const v2 = await get('/openapi/v2', { Accept: 'application/json', 'If-None-Match': before.headers.etag ?? '' });
      assert.equal(v2.status, 200);
      assert.ok('/apis/example.com/v1/widgets' in (JSON.parse(v2.body.toString()) as { paths: Record<string, unknown> }).paths);
    } finally {
      registry.remove('example.com', 'v1', 'widgets');
    }
    assert.equal((await get('/openapi/v3/apis/example.com/v1')).status, 404);
    const indexAfter = await get('/openapi/v3');
    assert.equal(indexAfter.headers.etag, indexBefore.headers.etag);
  });
});

describe('negotiateOffer', () => {
  const offers = [
    { mediaType: 'application/json', contentType: 'application/json' },
    { mediaType: 'application/x-pb', contentType: 'application/x-pb' },
  ];
  test('by quality, then specific before wildcard, then as written', () => {
    assert.equal(negotiateOffer(undefined, offers)?.mediaType, 'application/json');
    assert.equal(negotiateOffer('*/*', offers)?.mediaType, 'application/json');
    assert.equal(negotiateOffer('application/x-pb, application/json', offers)?.mediaType, 'application/x-pb');
    assert.equal(negotiateOffer('application/json;q=0.5, application/x-pb', offers)?.mediaType, 'application/x-pb');
    assert.equal(negotiateOffer('*/*, application/x-pb', offers)?.mediaType, 'application/x-pb');
    assert.equal(negotiateOffer('application/x-pb;q=0, text/plain', offers), undefined);
  });
});
