/**
 * Facts of the committed kind data (lib/kinds/generated/, proto/k8s/generated/), checked against
 * what kube publishes, and that regenerating it from the pinned upstream gives the same bytes.
 * Run: ./node_modules/.bin/node --test lib/kinds/generated.test.ts
 * The last test needs KUBE_API_GIT, KUBE_APIMACHINERY_GIT and KUBE_APIEXTENSIONS_GIT (see `make gen-kinds`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from './gen/generate.ts';
import { readGoFacts, SchemaSet, type Schema } from './schemas.ts';
import { gitDirsFromEnv, gitSource } from '../../scripts/gen-kinds.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORE = 'io.k8s.api.core.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const APIEXT = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';

function prop(set: SchemaSet, definition: string, field: string): Schema {
  const schema = set.get(definition)?.properties?.[field];
  assert.ok(schema !== undefined, `${definition}.${field}`);
  return schema;
}

test('schemas: facts kube publishes', () => {
  const set = new SchemaSet();
  const configMap = set.get(`${CORE}.ConfigMap`)!;
  assert.deepEqual(prop(set, `${CORE}.ConfigMap`, 'data'), { type: 'object', additionalProperties: { type: 'string' } });
  assert.deepEqual(prop(set, `${CORE}.ConfigMap`, 'binaryData'), { type: 'object', additionalProperties: { type: 'string', format: 'byte' } });
  assert.equal(configMap.required, undefined, 'ConfigMap requires nothing');
  assert.deepEqual(configMap['x-kubernetes-group-version-kind'], [{ group: '', kind: 'ConfigMap', version: 'v1' }]);
  assert.deepEqual(set.get(`${CORE}.ConfigMapList`)!['x-kubernetes-group-version-kind'], [{ group: '', kind: 'ConfigMapList', version: 'v1' }]);
  assert.deepEqual(set.get(`${CORE}.ConfigMapList`)!.required, ['items']);
  assert.deepEqual(set.get(`${CORE}.Container`)!.required, ['name']);
  assert.equal(set.get(`${META}.ObjectMeta`)!.required, undefined);

  const containers = prop(set, `${CORE}.PodSpec`, 'containers');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(SchemaSet.refName(containers.items!), `${CORE}.Container`);
  const ports = prop(set, `${CORE}.ServiceSpec`, 'ports');
  assert.equal(ports['x-kubernetes-list-type'], 'map');
  assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['port', 'protocol']);
  assert.deepEqual(prop(set, `${CORE}.ServicePort`, 'protocol').enum, ['SCTP', 'TCP', 'UDP']);

  const created = prop(set, `${META}.ObjectMeta`, 'creationTimestamp');
  assert.deepEqual(set.resolve(created), { type: 'string', format: 'date-time' });
  assert.deepEqual(set.resolve(prop(set, `${CORE}.ServicePort`, 'targetPort')), { type: 'string', format: 'int-or-string' });
  assert.deepEqual(set.get('io.k8s.apimachinery.pkg.api.resource.Quantity'), { type: 'string' });
  assert.deepEqual(set.get('io.k8s.apimachinery.pkg.runtime.RawExtension'), { type: 'object' });
  assert.equal(set.get(`${CORE}.LocalObjectReference`)!['x-kubernetes-map-type'], 'atomic');

  assert.deepEqual(set.get('io.k8s.api.apps.v1.Deployment')!['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  const kinds = set.kinds();
  assert.ok(kinds.some((k) => k.name === 'io.k8s.api.rbac.v1.ClusterRole' && k.group === 'rbac.authorization.k8s.io'));
  assert.ok(!kinds.some((k) => k.version.includes('alpha') || k.version.includes('beta')), 'stable group-versions only');
  assert.throws(() => set.resolve({ $ref: '#/definitions/io.k8s.api.core.v1.NoSuchThing' }), /unresolvable/);
});

test('go.json and the .proto files: protobuf numbers and Go facts', () => {
  const go = readGoFacts();
  const configMap = go.get(`${CORE}.ConfigMap`)!;
  assert.equal(configMap.protobufMessage, 'k8s.io.api.core.v1.ConfigMap');
  const numbers = Object.fromEntries(Object.entries(configMap.fields!).map(([name, f]) => [name, f.protobuf]));
  assert.deepEqual(numbers, { TypeMeta: undefined, metadata: 1, immutable: 4, data: 2, binaryData: 3 });
  assert.deepEqual(configMap.fields!.immutable, { go: '*bool', omitempty: true, pointer: true, inline: false, protobuf: 4 });
  assert.equal(go.get(`${META}.ObjectMeta`)!.fields!.creationTimestamp!.go, 'Time');
  assert.equal(go.get(`${META}.OwnerReference`)!.fields!.apiVersion!.protobuf, 5);

  const proto = readFileSync(`${ROOT}proto/k8s/generated/core.v1.proto`, 'utf8');
  const message = /\nmessage ConfigMap \{\n([^}]*)\}/.exec(proto)?.[1];
  assert.equal(
    message,
    [
      '  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;',
      '  optional bool immutable = 4;',
      '  map<string, string> data = 2;',
      '  map<string, bytes> binaryData = 3;',
      '',
    ].join('\n'),
  );
  assert.match(proto, /^package k8s\.io\.api\.core\.v1;$/m);
  assert.match(proto, /^import "k8s\/generated\/meta\.v1\.proto";$/m);
  assert.match(readFileSync(`${ROOT}proto/k8s/generated/meta.v1.proto`, 'utf8'), /\nmessage Time \{\n {2}optional int64 seconds = 1;\n {2}optional int32 nanos = 2;\n\}/);
});

test('CustomResourceDefinition (apiextensions.k8s.io/v1): facts kube publishes', () => {
  const set = new SchemaSet();
  const crd = set.get(`${APIEXT}.CustomResourceDefinition`)!;
  assert.deepEqual(crd['x-kubernetes-group-version-kind'], [{ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', version: 'v1' }]);
  assert.deepEqual(crd.required, ['spec']);
  assert.equal(SchemaSet.refName(prop(set, `${APIEXT}.CustomResourceDefinition`, 'metadata')), `${META}.ObjectMeta`);
  assert.deepEqual(set.get(`${APIEXT}.CustomResourceDefinitionList`)!['x-kubernetes-group-version-kind'], [
    { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinitionList', version: 'v1' },
  ]);
  assert.deepEqual(set.get(`${APIEXT}.CustomResourceDefinitionSpec`)!.required, ['group', 'names', 'scope', 'versions']);
  assert.deepEqual(set.get(`${APIEXT}.CustomResourceDefinitionNames`)!.required, ['plural', 'kind']);
  assert.deepEqual(prop(set, `${APIEXT}.CustomResourceDefinitionNames`, 'shortNames'), { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' });
  const versions = prop(set, `${APIEXT}.CustomResourceDefinitionSpec`, 'versions');
  assert.equal(versions.type, 'array');
  assert.equal(versions['x-kubernetes-list-type'], 'atomic');
  assert.equal(SchemaSet.refName(versions.items!), `${APIEXT}.CustomResourceDefinitionVersion`);
  assert.deepEqual(set.get(`${APIEXT}.CustomResourceDefinitionVersion`)!.required, ['name', 'served', 'storage']);
  assert.equal(SchemaSet.refName(prop(set, `${APIEXT}.CustomResourceValidation`, 'openAPIV3Schema')), `${APIEXT}.JSONSchemaProps`);
  assert.deepEqual(set.get(`${APIEXT}.CustomResourceDefinitionCondition`)!.required, ['type', 'status']);

  // JSONSchemaProps: kube's JSON names, and the custom-marshalled types published without a type
  const props = set.get(`${APIEXT}.JSONSchemaProps`)!.properties!;
  for (const name of ['$ref', '$schema', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource', 'x-kubernetes-list-type']) {
    assert.ok(props[name] !== undefined, name);
  }
  assert.ok(props.ref === undefined && props.schema === undefined && props.xKubernetesPreserveUnknownFields === undefined);
  assert.deepEqual(props.maximum, { type: 'number', format: 'double' });
  assert.equal(SchemaSet.refName(props.items!), `${APIEXT}.JSONSchemaPropsOrArray`);
  assert.equal(SchemaSet.refName(props.additionalProperties!), `${APIEXT}.JSONSchemaPropsOrBool`);
  assert.equal(SchemaSet.refName(props.default!), `${APIEXT}.JSON`);
  assert.equal(SchemaSet.refName(props.dependencies!.additionalProperties!), `${APIEXT}.JSONSchemaPropsOrStringArray`);
  assert.equal(SchemaSet.refName(props.properties!.additionalProperties!), `${APIEXT}.JSONSchemaProps`);
  const validations = props['x-kubernetes-validations']!;
  assert.equal(validations['x-kubernetes-list-type'], 'map');
  assert.deepEqual(validations['x-kubernetes-list-map-keys'], ['rule']);
  assert.equal(validations['x-kubernetes-patch-merge-key'], 'rule');
  for (const name of ['JSON', 'JSONSchemaPropsOrArray', 'JSONSchemaPropsOrBool', 'JSONSchemaPropsOrStringArray']) {
    assert.deepEqual(set.get(`${APIEXT}.${name}`), {}, `${name}: any JSON, no type`);
  }
  // DeleteOptions is registered in apiextensions.k8s.io/v1 too
  assert.ok(set.get(`${META}.DeleteOptions`)!['x-kubernetes-group-version-kind']!.some((g) => g.group === 'apiextensions.k8s.io' && g.version === 'v1'));

  const go = readGoFacts();
  const pkg = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1';
  assert.equal(go.get(`${APIEXT}.CustomResourceDefinition`)!.protobufMessage, `${pkg}.CustomResourceDefinition`);
  const jsonSchema = go.get(`${APIEXT}.JSONSchemaProps`)!.fields!;
  assert.deepEqual(jsonSchema.$ref, { go: '*string', omitempty: true, pointer: true, inline: false, protobuf: 3, protobufName: 'ref' });
  assert.equal(jsonSchema['x-kubernetes-preserve-unknown-fields']!.protobufName, 'xKubernetesPreserveUnknownFields');
  const proto = readFileSync(`${ROOT}proto/k8s/generated/apiextensions.v1.proto`, 'utf8');
  assert.match(proto, new RegExp(`^package ${pkg.replaceAll('.', '\\.')};$`, 'm'));
  assert.match(proto, /\nmessage CustomResourceDefinitionSpec \{\n {2}optional string group = 1;\n {2}optional CustomResourceDefinitionNames names = 3;\n {2}optional string scope = 4;\n {2}repeated CustomResourceDefinitionVersion versions = 7;\n/);
  assert.match(proto, /\n {2}optional double maximum = 9;\n/);
  assert.match(proto, /\n {2}map<string, JSONSchemaPropsOrStringArray> dependencies = 32;\n/);
  assert.match(proto, /\nmessage JSON \{\n {2}optional bytes raw = 1;\n\}/);
});

test('regenerating from the pinned upstream gives the committed files', (t) => {
  if (!process.env.KUBE_API_GIT || !process.env.KUBE_APIMACHINERY_GIT || !process.env.KUBE_APIEXTENSIONS_GIT) {
    t.skip('KUBE_API_GIT, KUBE_APIMACHINERY_GIT or KUBE_APIEXTENSIONS_GIT is not set (git directories of kubernetes/api, apimachinery, apiextensions-apiserver)');
    return;
  }
  const source = gitSource(gitDirsFromEnv());
  const first = generate(source).files;
  const second = generate(source).files;
  assert.deepEqual([...first.keys()].sort(), [...second.keys()].sort());
  for (const [path, content] of first) assert.equal(second.get(path), content, `${path}: two runs differ`);
  for (const [path, content] of first) assert.equal(readFileSync(`${ROOT}${path}`, 'utf8'), content, `${path} is stale: run make gen-kinds`);
  const committed = [
    ...readdirSync(`${ROOT}lib/kinds/generated/schemas`).map((f) => `lib/kinds/generated/schemas/${f}`),
    ...readdirSync(`${ROOT}proto/k8s/generated`).map((f) => `proto/k8s/generated/${f}`),
  ];
  for (const path of committed) assert.ok(first.has(path), `${path} is not generated any more`);
});
