/**
 * Writes through the pipeline checked against their kind's schema: decoding at the front door
 * (fieldValidation Strict, Warn, Ignore; unknown fields dropped) and the SchemaValidation
 * admission plugin (422 with a cause per field, for a custom kind), over the real admission chain and the memory
 * storage backend.
 */
import { inProcessPipeline, refusal } from '../support/pipeline.ts';
import { WarningRecorder } from '../../services/gateway/core/warnings.ts';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scanJson, type KubeObject } from '../../lib/kube.ts';
import { builtinRegistry, type KindDefinition } from '../../lib/kinds/index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { type Target } from '../../services/gateway/core/pipeline.ts';

const registry = builtinRegistry();
const configMaps = registry.get('', 'v1', 'configmaps');
assert.ok(configMaps !== undefined);
/** A custom kind (as a CustomResourceDefinition will bring one): its schema is validated proper. */
const WIDGET: KindDefinition = {
  ...configMaps,
  source: 'custom',
  group: 'example.com',
  resource: 'widgets',
  singular: 'widget',
  kind: 'Widget',
  listKind: 'WidgetList',
  namespaced: false,
  shortNames: [],
  schema: 'com.example.v1.Widget',
  definitions: {
    'com.example.v1.Widget': {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
        spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer' }, colour: { type: 'string', enum: ['red', 'blue'] } } },
      },
    },
  },
};
registry.add(WIDGET);
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };

async function setup() {
  const storage = new MemoryStorage();
  const { pipeline, configmaps, nodes } = await inProcessPipeline(storage, registry);
  const cms: Target = { info: configmaps, namespace: 'default', name: '' };
  const nodeTarget: Target = { info: nodes, namespace: '', name: '' };
  return { storage, pipeline, cms, nodeTarget };
}

/** A body as the REST edge hands it on: parsed, with its bytes and their key count. */
function wire(text: string) {
  const bytes = Buffer.from(text);
  return { body: JSON.parse(text) as KubeObject, source: { bytes, keys: scanJson(bytes).keys } };
}


const CM_TEXT = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME","colour":"red"},"data":{"a":"1"},"spec":{"foo":1},"data":{"a":"2"}}';

describe('schema validation through the pipeline', () => {
  test('Strict: 400 naming each unknown and duplicate field; nothing stored', async () => {
    const { pipeline, cms, storage } = await setup();
    const { body, source } = wire(CM_TEXT.replace('NAME', 'strict'));
    const err = await refusal(pipeline.create(admin, cms, body, { fieldValidation: 'Strict', source }), 'BadRequest');
    assert.equal(err.code, 400);
    assert.equal(
      err.message,
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.colour", unknown field "spec", duplicate field "data"',
    );
    await refusal(storage.get({ group: '', resource: 'configmaps', namespace: 'default', name: 'strict' }), 'NotFound');
  });

  for (const fieldValidation of ['Warn', '', undefined]) {
    test(`${fieldValidation === undefined ? 'absent' : JSON.stringify(fieldValidation)}: Warn, the write succeeds with a warning each, unknown fields dropped`, async () => {
      const { pipeline, cms } = await setup();
      const { body, source } = wire(CM_TEXT.replace('NAME', 'warn'));
      const warnings = new WarningRecorder();
      const created = await pipeline.create(admin, cms, body, { fieldValidation, source, warnings });
      assert.deepEqual(warnings.warnings, ['unknown field "metadata.colour"', 'unknown field "spec"', 'duplicate field "data"']);
      assert.equal(created.spec, undefined);
      assert.equal(created.metadata?.colour, undefined);
      assert.deepEqual(created.data, { a: '2' });
    });
  }

  test('Ignore: no warnings, unknown fields dropped; update too', async () => {
    const { pipeline, cms } = await setup();
    const { body, source } = wire(CM_TEXT.replace('NAME', 'ignore'));
    const warnings = new WarningRecorder();
    const created = await pipeline.create(admin, cms, body, { fieldValidation: 'Ignore', source, warnings });
    assert.deepEqual(warnings.warnings, []);
    assert.equal(created.spec, undefined);
    const again = wire('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ignore"},"data":{"b":"1"},"extra":true}');
    const updated = await pipeline.update(admin, { ...cms, name: 'ignore' }, again.body, { fieldValidation: 'Ignore', source: again.source, warnings });
    assert.deepEqual(warnings.warnings, []);
    assert.equal(updated.extra, undefined);
    assert.deepEqual(updated.data, { b: '1' });
    const strict = wire('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ignore"},"extra":true}');
    const err = await refusal(pipeline.update(admin, { ...cms, name: 'ignore' }, strict.body, { fieldValidation: 'Strict', source: strict.source }), 'BadRequest');
    assert.match(err.message, /strict decoding error: unknown field "extra"$/);
  });

  test('a type error is 400 in Go\'s words, whatever fieldValidation says', async () => {
    const { pipeline, cms } = await setup();
    const { body, source } = wire('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"typed"},"data":5}');
    const err = await refusal(pipeline.create(admin, cms, body, { fieldValidation: 'Ignore', source }), 'BadRequest');
    assert.equal(err.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type map[string]string');
  });

  test('required fields and enums of a custom kind: 422 Invalid with a cause per field', async () => {
    const { pipeline } = await setup();
    const widgets: Target = { info: WIDGET, namespace: '', name: '' };
    const { body, source } = wire('{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"colour":"green"}}');
    const err = await refusal(pipeline.create(admin, widgets, body, { fieldValidation: 'Strict', source }), 'Invalid');
    assert.equal(err.code, 422);
    assert.equal(err.message, 'Widget.example.com "w1" is invalid: [spec.size: Required value, spec.colour: Unsupported value: "green": supported values: "red", "blue"]');
    assert.deepEqual(err.details?.causes, [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.size' },
      { reason: 'FieldValueNotSupported', message: 'Unsupported value: "green": supported values: "red", "blue"', field: 'spec.colour' },
    ]);
    const ok = wire('{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w2"},"spec":{"size":3,"colour":"red"}}');
    const created = await pipeline.create(admin, widgets, ok.body, { fieldValidation: 'Strict', source: ok.source });
    assert.deepEqual(created.spec, { size: 3, colour: 'red' });
  });

  test('valid objects of the three kinds are written as before', async () => {
    const { pipeline, cms, nodeTarget } = await setup();
    const cm = wire('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ok","labels":{"a":"b"}},"data":{"k":"v"},"binaryData":{"b":"aGk="},"immutable":false}');
    const warnings = new WarningRecorder();
    const created = await pipeline.create(admin, cms, cm.body, { fieldValidation: 'Strict', source: cm.source, warnings });
    assert.deepEqual(warnings.warnings, []);
    assert.deepEqual([created.data, created.binaryData, created.immutable], [{ k: 'v' }, { b: 'aGk=' }, false]);
    const node = wire('{"apiVersion":"v1","kind":"Node","metadata":{"name":"n2"},"spec":{"unschedulable":true,"taints":[{"key":"k","effect":"NoSchedule"}]},"status":{"capacity":{"cpu":"2"},"nodeInfo":{"kubeletVersion":"v1.33.0"}}}');
    const createdNode = await pipeline.create(admin, nodeTarget, node.body, { fieldValidation: 'Strict', source: node.source });
    assert.deepEqual(createdNode.spec, { unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] });
    // A Namespace's status is reset before validation, as kube's strategy does.
    const namespaces = registry.get('', 'v1', 'namespaces');
    assert.ok(namespaces !== undefined);
    const ns = wire('{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"},"status":{"phase":"Bogus"}}');
    const createdNs = await pipeline.create(admin, { info: namespaces, namespace: '', name: '' }, ns.body, { fieldValidation: 'Strict', source: ns.source });
    assert.deepEqual(createdNs.status, { phase: 'Active' });
  });
});
