import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DEFAULT_FIELDS } from '../selectors.ts';
import { builtinRegistry, KindRegistry, type KindDefinition } from './index.ts';
import { SchemaSet } from './schemas.ts';
import { buildOpenApiV2, buildOpenApiV3, groupVersionPath, OpenApiDocuments, type SchemaLookup } from './openapi.ts';
import { OpenApiV2Protobuf } from './openapi-proto.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const INFO = { title: 'Kubernetes', version: 'v1.32.0' };

/** A few definitions in the generated format (OpenAPI v2 style, kube's names). */
const DEFINITIONS: Record<string, object> = {
  'io.k8s.api.core.v1.ConfigMap': {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { $ref: `#/definitions/${META}.ObjectMeta` },
      data: { type: 'object', additionalProperties: { type: 'string' } },
    },
    'x-kubernetes-group-version-kind': [{ group: '', kind: 'ConfigMap', version: 'v1' }],
  },
  'io.k8s.api.core.v1.ConfigMapList': {
    type: 'object',
    required: ['items'],
    properties: {
      items: { type: 'array', items: { $ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' } },
      metadata: { $ref: `#/definitions/${META}.ListMeta` },
    },
    'x-kubernetes-group-version-kind': [{ group: '', kind: 'ConfigMapList', version: 'v1' }],
  },
  'io.k8s.api.apps.v1.Deployment': {
    type: 'object',
    properties: {
      metadata: { $ref: `#/definitions/${META}.ObjectMeta` },
      spec: { $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentSpec' },
    },
    'x-kubernetes-group-version-kind': [{ group: 'apps', kind: 'Deployment', version: 'v1' }],
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    type: 'object',
    properties: {
      maxSurge: { $ref: '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString' },
      memory: { $ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity' },
      selector: { $ref: `#/definitions/${META}.LabelSelector`, 'x-kubernetes-map-type': 'atomic' },
    },
  },
  'io.k8s.api.apps.v1.DeploymentList': {
    type: 'object',
    properties: { items: { type: 'array', items: { $ref: '#/definitions/io.k8s.api.apps.v1.Deployment' } } },
    'x-kubernetes-group-version-kind': [{ group: 'apps', kind: 'DeploymentList', version: 'v1' }],
  },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
  [`${META}.LabelSelector`]: { type: 'object', properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } } },
  [`${META}.ObjectMeta`]: {
    type: 'object',
    properties: { name: { type: 'string' }, creationTimestamp: { $ref: `#/definitions/${META}.Time` } },
  },
  [`${META}.Time`]: { type: 'string', format: 'date-time' },
  [`${META}.ListMeta`]: { type: 'object', properties: { continue: { type: 'string' } } },
  [`${META}.Status`]: { type: 'object', properties: { code: { type: 'integer', format: 'int32' } } },
  [`${META}.DeleteOptions`]: {
    type: 'object',
    properties: { propagationPolicy: { type: 'string' } },
    'x-kubernetes-group-version-kind': [
      { group: '', kind: 'DeleteOptions', version: 'v1' },
      { group: 'batch', kind: 'DeleteOptions', version: 'v1' },
    ],
  },
  [`${META}.WatchEvent`]: {
    type: 'object',
    required: ['type', 'object'],
    properties: { type: { type: 'string' }, object: { $ref: '#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension' } },
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object' },
  [`${META}.Patch`]: { type: 'object' },
};

function lookup(defs: Record<string, object> = DEFINITIONS): SchemaLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get(name: string) {
      asked.push(name);
      return defs[name];
    },
  };
}

function kind(overrides: Partial<KindDefinition>): KindDefinition {
  return {
    source: 'builtin',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    listKind: 'ConfigMapList',
    namespaced: true,
    shortNames: ['cm'],
    categories: [],
    verbs: ['create', 'delete', 'get', 'list', 'update', 'watch'],
    subresources: [],
    nameValidation: 'dns1123Subdomain',
    selectableFields: DEFAULT_FIELDS,
    strategy: { generation: 'allButMetadataAndStatus' },
    schema: 'io.k8s.api.core.v1.ConfigMap',
    ...overrides,
  };
}

const CONFIGMAPS = kind({});
const DEPLOYMENTS = kind({
  group: 'apps',
  resource: 'deployments',
  singular: 'deployment',
  kind: 'Deployment',
  listKind: 'DeploymentList',
  shortNames: ['deploy'],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  schema: 'io.k8s.api.apps.v1.Deployment',
});
const WIDGETS = kind({
  source: 'custom',
  group: 'example.com',
  resource: 'widgets',
  singular: 'widget',
  kind: 'Widget',
  listKind: 'WidgetList',
  namespaced: false,
  shortNames: [],
  verbs: ['get', 'list', 'create'],
  schema: 'com.example.v1.Widget',
  definitions: {
    'com.example.v1.Widget': {
      type: 'object',
      properties: {
        metadata: { $ref: `#/definitions/${META}.ObjectMeta` },
        spec: { type: 'object', properties: { size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } } },
        gadget: { $ref: '#/definitions/com.example.v1.Gadget' },
      },
    },
  },
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the assertions walk deep into JSON documents
type Json = Record<string, any>;

/** Every `$ref` of a document, which must each name one of its definitions. */
function danglingRefs(doc: Json, prefix: string, definitions: Json): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    for (const [key, value] of Object.entries(v)) {
      if (key === '$ref' && typeof value === 'string') {
        if (!value.startsWith(prefix) || !(value.slice(prefix.length) in definitions)) out.push(value);
      } else walk(value);
    }
  };
  walk(doc);
  return out;
}

function queryNames(op: Json): string[] {
  return (op.parameters ?? []).filter((p: Json) => p.in === 'query').map((p: Json) => p.name);
}

test('v2: the paths and operations of a namespaced kind, as kube installs them, from its verbs', () => {
  const { document: doc, missing } = buildOpenApiV2([CONFIGMAPS], lookup(), INFO);
  assert.deepEqual(missing, []);
  assert.equal(doc.swagger, '2.0');
  assert.deepEqual(Object.keys(doc.paths as Json), [
    '/api/v1/configmaps',
    '/api/v1/namespaces/{namespace}/configmaps',
    '/api/v1/namespaces/{namespace}/configmaps/{name}',
    '/api/v1/watch/configmaps',
    '/api/v1/watch/namespaces/{namespace}/configmaps',
    '/api/v1/watch/namespaces/{namespace}/configmaps/{name}',
  ]);
  const paths = doc.paths as Json;
  const collection = paths['/api/v1/namespaces/{namespace}/configmaps'];
  assert.deepEqual(Object.keys(collection).sort(), ['get', 'parameters', 'post']);
  assert.equal(collection.get.operationId, 'listCoreV1NamespacedConfigMap');
  assert.equal(collection.get['x-kubernetes-action'], 'list');
  assert.deepEqual(collection.get['x-kubernetes-group-version-kind'], { group: '', kind: 'ConfigMap', version: 'v1' });
  assert.equal(collection.get.responses['200'].schema.$ref, '#/definitions/io.k8s.api.core.v1.ConfigMapList');
  assert.ok(queryNames(collection.get).includes('labelSelector'));
  assert.equal(collection.post.operationId, 'createCoreV1NamespacedConfigMap');
  assert.equal(collection.post['x-kubernetes-action'], 'post');
  assert.deepEqual(queryNames(collection.post), ['dryRun', 'fieldManager', 'fieldValidation']);
  assert.deepEqual(collection.post.parameters[0], { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' } });
  assert.deepEqual(
    collection.parameters.map((p: Json) => [p.in, p.name]),
    [
      ['path', 'namespace'],
      ['query', 'pretty'],
    ],
  );
  const item = paths['/api/v1/namespaces/{namespace}/configmaps/{name}'];
  // No patch: the kind does not serve it, so the document does not offer it.
  assert.deepEqual(Object.keys(item).sort(), ['delete', 'get', 'parameters', 'put']);
  assert.equal(item.get.operationId, 'readCoreV1NamespacedConfigMap');
  assert.equal(item.put['x-kubernetes-action'], 'put');
  assert.deepEqual(queryNames(item.put), ['dryRun', 'fieldManager', 'fieldValidation']);
  assert.equal(item.delete.responses['200'].schema.$ref, `#/definitions/${META}.Status`);
  assert.equal(paths['/api/v1/configmaps'].get.operationId, 'listCoreV1ConfigMapForAllNamespaces');
  assert.equal(paths['/api/v1/watch/namespaces/{namespace}/configmaps/{name}'].get['x-kubernetes-action'], 'watch');
  assert.equal(paths['/api/v1/watch/configmaps'].get.responses['200'].schema.$ref, `#/definitions/${META}.WatchEvent`);

  const definitions = doc.definitions as Json;
  for (const name of ['ObjectMeta', 'ListMeta', 'Status', 'DeleteOptions', 'WatchEvent', 'Patch', 'Time']) assert.ok(`${META}.${name}` in definitions, name);
  assert.ok('io.k8s.apimachinery.pkg.runtime.RawExtension' in definitions);
  assert.deepEqual(danglingRefs(doc, '#/definitions/', definitions), []);
  // Only what the served kinds reach.
  assert.ok(!('io.k8s.api.apps.v1.Deployment' in definitions));
  // DeleteOptions names the served group-versions only.
  assert.deepEqual(definitions[`${META}.DeleteOptions`]['x-kubernetes-group-version-kind'], [{ group: '', kind: 'DeleteOptions', version: 'v1' }]);
});

test('v2: a kind serving patch gets the patch operation kubectl reads to decide on server-side field validation', () => {
  const { document: doc } = buildOpenApiV2([DEPLOYMENTS], lookup(), INFO);
  const paths = doc.paths as Json;
  const item = paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
  assert.equal(item.patch.operationId, 'patchAppsV1NamespacedDeployment');
  assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
  assert.deepEqual(queryNames(item.patch), ['dryRun', 'fieldManager', 'fieldValidation', 'force']);
  assert.equal(item.patch.parameters[0].schema.$ref, `#/definitions/${META}.Patch`);
  assert.ok(item.patch.consumes.includes('application/strategic-merge-patch+json'));
  const collection = paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
  assert.equal(collection.delete.operationId, 'deleteAppsV1CollectionNamespacedDeployment');
  assert.equal(collection.delete['x-kubernetes-action'], 'deletecollection');
});

test('v2: a custom kind brings its own definitions; its list is made as for CRDs; a definition found nowhere is any object', () => {
  const { document: doc, missing } = buildOpenApiV2([WIDGETS], lookup(), INFO);
  const definitions = doc.definitions as Json;
  const paths = doc.paths as Json;
  assert.deepEqual(Object.keys(paths), ['/apis/example.com/v1/widgets', '/apis/example.com/v1/widgets/{name}']);
  assert.equal(paths['/apis/example.com/v1/widgets'].get.operationId, 'listExampleComV1Widget');
  assert.deepEqual(definitions['com.example.v1.Widget']['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Widget', version: 'v1' }]);
  const list = definitions['com.example.v1.WidgetList'];
  assert.equal(list.properties.items.items.$ref, '#/definitions/com.example.v1.Widget');
  assert.deepEqual(list['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'WidgetList', version: 'v1' }]);
  assert.deepEqual(missing, ['com.example.v1.Gadget']);
  assert.deepEqual(definitions['com.example.v1.Gadget'], { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  assert.deepEqual(danglingRefs(doc, '#/definitions/', definitions), []);
});

test('a custom kind cannot replace another schema: its definitions are read only for its own names, never for a generated one', () => {
  const hijack = { type: 'object', properties: { hijacked: { type: 'string' } } };
  // A kind bringing a definition of another name (ObjectMeta, and another kind's schema).
  const smuggler = kind({
    ...WIDGETS,
    group: 'example.org',
    resource: 'smugglers',
    kind: 'Smuggler',
    listKind: 'SmugglerList',
    schema: 'org.example.v1.Smuggler',
    definitions: { 'org.example.v1.Smuggler': { type: 'object' }, [`${META}.ObjectMeta`]: hijack, 'com.example.v1.Widget': hijack },
  });
  // A kind named as a generated definition (group meta.apis.pkg.apimachinery.k8s.io, v1, ObjectMeta).
  const objectMeta = kind({
    ...WIDGETS,
    group: 'meta.apis.pkg.apimachinery.k8s.io',
    resource: 'objectmetas',
    kind: 'ObjectMeta',
    listKind: 'ObjectMetaList',
    schema: `${META}.ObjectMeta`,
    definitions: { [`${META}.ObjectMeta`]: hijack },
  });
  for (const kinds of [[smuggler, WIDGETS, CONFIGMAPS], [objectMeta, WIDGETS, CONFIGMAPS]]) {
    const { document } = buildOpenApiV2(kinds, lookup(), INFO);
    const definitions = document.definitions as Json;
    assert.deepEqual(definitions[`${META}.ObjectMeta`].properties, (DEFINITIONS[`${META}.ObjectMeta`] as Json).properties);
    assert.ok('spec' in definitions['com.example.v1.Widget'].properties, 'the widget schema is its own');
    const { document: v3 } = buildOpenApiV3(kinds, { group: kinds[0]?.group ?? '', version: 'v1' }, lookup(), INFO);
    assert.deepEqual(Object.keys(((v3.components as Json).schemas as Json)[`${META}.ObjectMeta`].properties).sort(), ['creationTimestamp', 'name']);
  }
});

test('v3: one group-version per document, refs into components, int-or-string and Quantity as kube writes them', () => {
  const { document: doc } = buildOpenApiV3([CONFIGMAPS, DEPLOYMENTS], { group: 'apps', version: 'v1' }, lookup(), INFO);
  assert.equal(doc.openapi, '3.0.0');
  const paths = doc.paths as Json;
  assert.ok(Object.keys(paths).every((p) => p.startsWith('/apis/apps/v1/')), Object.keys(paths).join(' '));
  const schemas = (doc.components as Json).schemas as Json;
  assert.ok(!('io.k8s.api.core.v1.ConfigMap' in schemas));
  assert.deepEqual(danglingRefs(doc, '#/components/schemas/', schemas), []);
  assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment'].properties.spec, { $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec' });
  // A $ref with siblings is wrapped in allOf (v3 ignores a $ref's siblings).
  assert.deepEqual(schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.selector, {
    allOf: [{ $ref: `#/components/schemas/${META}.LabelSelector` }],
    'x-kubernetes-map-type': 'atomic',
  });
  assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] });
  assert.deepEqual(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'], { oneOf: [{ type: 'string' }, { type: 'number' }] });
  const patch = paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.ok(patch.parameters.some((p: Json) => p.in === 'query' && p.name === 'fieldValidation'));
  assert.equal(patch.requestBody.content['application/apply-patch+yaml'].schema.$ref, `#/components/schemas/${META}.Patch`);
  assert.equal(patch.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.apps.v1.Deployment');
  const create = paths['/apis/apps/v1/namespaces/{namespace}/deployments'].post;
  assert.deepEqual(
    create.parameters.map((p: Json) => p.name),
    ['dryRun', 'fieldManager', 'fieldValidation'],
  );
  assert.deepEqual(create['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
  assert.deepEqual(paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].parameters[0], {
    description: 'name of the Deployment',
    in: 'path',
    name: 'name',
    required: true,
    schema: { type: 'string', uniqueItems: true },
  });
});

test('v3: a custom kind keeps its CRD-style int-or-string', () => {
  const { document: doc } = buildOpenApiV3([WIDGETS], { group: 'example.com', version: 'v1' }, lookup(), INFO);
  const widget = ((doc.components as Json).schemas as Json)['com.example.v1.Widget'];
  assert.deepEqual(widget.properties.spec.properties.size, { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] });
});

test('documents are built once per registry generation; a kind added or removed shows in the next request', () => {
  const registry = new KindRegistry([CONFIGMAPS]);
  const schemas = lookup();
  const docs = new OpenApiDocuments({ registry, schemas, info: INFO });
  const first = docs.v2();
  const asked = schemas.asked.length;
  assert.ok(asked > 0);
  assert.equal(docs.v2(), first, 'the same document while the registry is unchanged');
  assert.equal(schemas.asked.length, asked, 'no schema looked up again');
  assert.equal(first.hash, createHash('sha512').update(first.json).digest('hex').toUpperCase());
  assert.deepEqual(Object.keys((JSON.parse(docs.v3Index().json.toString()) as Json).paths), ['api/v1']);

  registry.add(DEPLOYMENTS);
  const second = docs.v2();
  assert.notEqual(second.hash, first.hash);
  assert.ok('/apis/apps/v1/namespaces/{namespace}/deployments' in (second.document.paths as Json));
  const index = JSON.parse(docs.v3Index().json.toString()) as Json;
  assert.deepEqual(Object.keys(index.paths), ['api/v1', 'apis/apps/v1']);
  const apps = docs.v3('apis/apps/v1');
  assert.ok(apps !== undefined);
  assert.equal(index.paths['apis/apps/v1'].serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${apps.hash}`);
  assert.equal(apps.hash, createHash('sha512').update(apps.json).digest('hex').toUpperCase());

  registry.remove('apps', 'v1', 'deployments');
  assert.equal(docs.v3('apis/apps/v1'), undefined);
  assert.deepEqual(Object.keys((JSON.parse(docs.v3Index().json.toString()) as Json).paths), ['api/v1']);
  assert.equal(docs.v2().hash, first.hash, 'the same kinds give the same bytes again');
});

test('the same kinds registered in another order give the same bytes (replicas agree on ETags and hashes)', () => {
  const a = new OpenApiDocuments({ registry: new KindRegistry([CONFIGMAPS, DEPLOYMENTS, WIDGETS]), schemas: lookup(), info: INFO });
  const b = new OpenApiDocuments({ registry: new KindRegistry([WIDGETS, DEPLOYMENTS, CONFIGMAPS]), schemas: lookup(), info: INFO });
  assert.equal(a.v2().hash, b.v2().hash);
  assert.equal(a.v3Index().hash, b.v3Index().hash);
  assert.equal(groupVersionPath({ group: '', version: 'v1' }), 'api/v1');
});

test('v2 protobuf: the gnostic Document carries what kubectl reads (patch operations by kind, query parameters, schemas)', () => {
  const { document } = buildOpenApiV2([CONFIGMAPS, DEPLOYMENTS], lookup(), INFO);
  const codec = new OpenApiV2Protobuf();
  const decoded = codec.decode(codec.encode(document)) as Json;
  assert.equal(decoded.swagger, '2.0');
  assert.deepEqual(decoded.info, { title: 'Kubernetes', version: 'v1.32.0' });
  const path = decoded.paths.path.find((p: Json) => p.name === '/apis/apps/v1/namespaces/{namespace}/deployments/{name}');
  const patch = path.value.patch;
  const gvk = patch.vendor_extension.find((e: Json) => e.name === 'x-kubernetes-group-version-kind');
  assert.deepEqual(JSON.parse(gvk.value.yaml), { group: 'apps', kind: 'Deployment', version: 'v1' });
  const names = patch.parameters.map((p: Json) => p.parameter?.non_body_parameter?.query_parameter_sub_schema?.name).filter(Boolean);
  assert.deepEqual(names, ['dryRun', 'fieldManager', 'fieldValidation', 'force']);
  assert.equal(patch.parameters[0].parameter.body_parameter.schema._ref, `#/definitions/${META}.Patch`);
  assert.equal(path.value.parameters[0].parameter.non_body_parameter.path_parameter_sub_schema.name, 'name');
  const ok = patch.responses.response_code.find((r: Json) => r.name === '200');
  assert.equal(ok.value.response.schema.schema._ref, '#/definitions/io.k8s.api.apps.v1.Deployment');

  const definitions = new Map(decoded.definitions.additional_properties.map((d: Json) => [d.name, d.value]));
  const configMap = definitions.get('io.k8s.api.core.v1.ConfigMap') as Json;
  assert.deepEqual(configMap.type, { value: ['object'] });
  const data = configMap.properties.additional_properties.find((p: Json) => p.name === 'data').value;
  assert.deepEqual(data.additional_properties.schema.type, { value: ['string'] });
  const kinds = configMap.vendor_extension.find((e: Json) => e.name === 'x-kubernetes-group-version-kind');
  assert.deepEqual(JSON.parse(kinds.value.yaml), [{ group: '', kind: 'ConfigMap', version: 'v1' }]);
  const list = definitions.get('io.k8s.api.core.v1.ConfigMapList') as Json;
  assert.deepEqual(list.required, ['items']);
  assert.equal(list.properties.additional_properties.find((p: Json) => p.name === 'items').value.items.schema[0]._ref, '#/definitions/io.k8s.api.core.v1.ConfigMap');
  assert.equal((definitions.get('io.k8s.apimachinery.pkg.util.intstr.IntOrString') as Json).format, 'int-or-string');
  assert.equal(decoded.security_definitions.additional_properties[0].value.api_key_security.in, 'header');
  assert.deepEqual(decoded.security, [{ additional_properties: [{ name: 'BearerToken', value: {} }] }]);
});

test('the built-in kinds on the generated schemas: every definition found, every reference resolved', () => {
  const registry = builtinRegistry();
  const schemas = new SchemaSet();
  const v2 = buildOpenApiV2(registry.all, schemas, INFO);
  assert.deepEqual(v2.missing, []);
  const definitions = v2.document.definitions as Json;
  assert.deepEqual(danglingRefs(v2.document, '#/definitions/', definitions), []);
  for (const k of registry.all) {
    assert.ok(k.schema in definitions, k.schema);
    // A review kind has no list, as kube's.
    assert.equal(`${k.schema.slice(0, k.schema.lastIndexOf('.'))}.${k.listKind}` in definitions, k.review !== true, k.listKind);
  }
  const v3 = buildOpenApiV3(registry.all, { group: '', version: 'v1' }, schemas, INFO);
  assert.deepEqual(v3.missing, []);
  assert.deepEqual(danglingRefs(v3.document, '#/components/schemas/', (v3.document.components as Json).schemas), []);
});

/** A schema `levels` deep by `properties` (`{properties: {p: {properties: {p: ...}}}}`), innermost a string. */
function deepSchema(levels: number, via: 'properties' | 'items' | 'additionalProperties' = 'properties'): Json {
  let schema: Json = { type: 'string', description: 'bottom' };
  for (let i = 0; i < levels; i++) {
    if (via === 'properties') schema = { type: 'object', properties: { p: schema } };
    else if (via === 'items') schema = { type: 'array', items: schema };
    else schema = { type: 'object', additionalProperties: schema };
  }
  return schema;
}

/** How many schema levels the decoded gnostic schema goes down to its `bottom`, or -1 when it never gets there. */
function gnosticDepth(schema: Json): number {
  let levels = 0;
  for (let s = schema; s !== undefined; levels++) {
    if (s.description === 'bottom') return levels;
    s = s.properties?.additional_properties?.[0]?.value ?? s.items?.schema?.[0] ?? s.additional_properties?.schema;
  }
  return -1;
}

test('v2 protobuf: a custom kind with a deep schema is encoded whole (60 levels, and as deep as a CRD body may nest)', () => {
  const codec = new OpenApiV2Protobuf();
  // A CRD body nests at most MAX_JSON_DEPTH (1,000) levels: some 500 schema levels by
  // properties, nearly 1,000 by items or additionalProperties.
  for (const [levels, via] of [[60, 'properties'], [500, 'properties'], [1_000, 'items'], [1_000, 'additionalProperties']] as const) {
    const deep = kind({ ...WIDGETS, definitions: { 'com.example.v1.Widget': deepSchema(levels, via) } });
    const { document } = buildOpenApiV2([deep], lookup(), INFO);
    const decoded = codec.decode(codec.encode(document)) as Json;
    const definitions = new Map(decoded.definitions.additional_properties.map((d: Json) => [d.name, d.value]));
    assert.equal(gnosticDepth(definitions.get('com.example.v1.Widget') as Json), levels, `${levels} levels by ${via}`);
  }
});

test('v2 derived encodings: a failed encoding is kept for the generation, not redone on every request', () => {
  const registry = new KindRegistry([CONFIGMAPS]);
  const docs = new OpenApiDocuments({ registry, schemas: lookup(), info: INFO });
  let calls = 0;
  const failing = (): Buffer => {
    calls++;
    throw new Error('cannot encode');
  };
  assert.throws(() => docs.v2Derived('protobuf', failing), /cannot encode/);
  assert.throws(() => docs.v2Derived('protobuf', failing), /cannot encode/);
  assert.equal(calls, 1, 'the failure is remembered');
  registry.add(DEPLOYMENTS);
  assert.throws(() => docs.v2Derived('protobuf', failing), /cannot encode/);
  assert.equal(calls, 2, 'a new generation tries again');
  assert.deepEqual(docs.v2Derived('other', () => Buffer.from('ok')).bytes, Buffer.from('ok'), 'another encoding is its own');
});
