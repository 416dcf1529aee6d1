import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../errors.ts';
import { DEFAULT_FIELDS } from '../selectors.ts';
import { BUILTIN_KINDS, builtinRegistry, KindRegistry, type KindChange, type KindDefinition } from './index.ts';

function widget(overrides: Partial<KindDefinition> = {}): KindDefinition {
  return {
    source: 'custom',
    group: 'example.com',
    version: 'v1',
    resource: 'widgets',
    singular: 'widget',
    kind: 'Widget',
    listKind: 'WidgetList',
    namespaced: true,
    shortNames: ['wd'],
    categories: ['all'],
    verbs: ['get', 'list'],
    subresources: [],
    nameValidation: 'dns1123Subdomain',
    selectableFields: DEFAULT_FIELDS,
    strategy: { generation: 'allButMetadataAndStatus' },
    schema: 'com.example.v1.Widget',
    ...overrides,
  };
}

/** The group versions of the built-in kinds, each once, in the order of their first kind. */
function builtinGroupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of BUILTIN_KINDS) if (!seen.has(`${k.group}/${k.version}`)) seen.set(`${k.group}/${k.version}`, { group: k.group, version: k.version });
  return [...seen.values()];
}

test('the built-in registry serves the built-in kinds, each once, in discovery order', () => {
  const registry = builtinRegistry();
  assert.deepEqual(registry.all.map((k) => k.resource), BUILTIN_KINDS.map((k) => k.resource));
  assert.deepEqual(registry.groupVersions(), builtinGroupVersions());
  assert.equal(registry.get('', 'v1', 'configmaps')?.kind, 'ConfigMap');
  assert.equal(registry.byKind('v1', 'Namespace')?.resource, 'namespaces');
  assert.equal(registry.byKind('apps/v1', 'Namespace'), undefined);
  assert.equal(registry.generation, 0);
});

test('kinds come and go while running; listeners see each change, and the generation moves', () => {
  const registry = builtinRegistry();
  const seen: KindChange['type'][] = [];
  const unsubscribe = registry.subscribe((change) => seen.push(change.type));
  registry.add(widget());
  assert.equal(registry.get('example.com', 'v1', 'widgets')?.kind, 'Widget');
  assert.deepEqual(registry.groupVersions(), [...builtinGroupVersions(), { group: 'example.com', version: 'v1' }]);
  assert.equal(registry.hasResource('example.com', 'widgets'), true);
  registry.put(widget({ shortNames: ['w'] }));
  assert.deepEqual(registry.get('example.com', 'v1', 'widgets')?.shortNames, ['w']);
  assert.equal(registry.remove('example.com', 'v1', 'widgets'), true);
  assert.equal(registry.remove('example.com', 'v1', 'widgets'), false);
  assert.equal(registry.get('example.com', 'v1', 'widgets'), undefined);
  assert.deepEqual(seen, ['added', 'modified', 'removed']);
  assert.equal(registry.generation, 3);
  unsubscribe();
  registry.add(widget());
  assert.equal(seen.length, 3, 'no calls after unsubscribing');
});

test('a served resource cannot be added twice, and a custom kind cannot replace a built-in one', () => {
  const registry = builtinRegistry();
  registry.add(widget());
  assert.throws(() => registry.add(widget()), (err: unknown) => err instanceof StatusError && err.reason === 'Conflict');
  const impostor = widget({ group: '', resource: 'configmaps', kind: 'ConfigMap' });
  assert.throws(() => registry.put(impostor), (err: unknown) => err instanceof StatusError && err.reason === 'Conflict');
  assert.equal(registry.get('', 'v1', 'configmaps')?.source, 'builtin');
});

test('a listener that throws stops neither the change nor the other listeners', () => {
  const registry = new KindRegistry();
  let calls = 0;
  registry.subscribe(() => {
    throw new Error('boom');
  });
  registry.subscribe(() => calls++);
  registry.add(widget());
  assert.equal(calls, 1);
  assert.equal(registry.all.length, 1);
});

test('selectable fields and the generation rule are looked up by group and resource (storage keys carry no version)', () => {
  const registry = builtinRegistry();
  assert.deepEqual(registry.selectableFields('', 'namespaces').supported, ['metadata.name', 'status.phase']);
  assert.equal(registry.selectableFields('example.com', 'widgets'), DEFAULT_FIELDS);
  registry.add(widget({ strategy: { generation: 'spec' } }));
  assert.equal(registry.generationRule('example.com', 'widgets'), 'spec');
  assert.equal(registry.generationRule('apps', 'deployments'), 'spec');
  assert.equal(registry.generationRule('', 'configmaps'), 'none');
});

/** The reason of the StatusError `fn` throws ("" when it does not throw). */
function refusal(fn: () => void): string {
  try {
    fn();
    return '';
  } catch (err) {
    return err instanceof StatusError ? err.reason : String(err);
  }
}

test('a custom kind may not serve a built-in resource in another version (storage keys carry no version)', () => {
  const registry = builtinRegistry();
  const v2 = widget({ group: 'apiextensions.k8s.io', version: 'v2', resource: 'customresourcedefinitions', kind: 'Crd', schema: 'io.k8s.apiextensions.v2.Crd' });
  assert.equal(refusal(() => registry.put(v2)), 'Conflict');
  assert.equal(refusal(() => registry.add({ ...v2, version: 'v1beta1', schema: 'io.k8s.apiextensions.v1beta1.Crd' })), 'Conflict');
  assert.equal(registry.get('apiextensions.k8s.io', 'v2', 'customresourcedefinitions'), undefined);
  assert.equal(registry.generation, 0, 'nothing changed');
});

test('a custom resource is served by one definition: its versions share it, another definition may not', () => {
  const registry = builtinRegistry();
  registry.put(widget({ origin: 'widgets.example.com' }));
  registry.put(widget({ origin: 'widgets.example.com', version: 'v2', schema: 'com.example.v2.Widget' }));
  const other = widget({ origin: 'other.example.com', version: 'v3', schema: 'com.example.v3.Widget' });
  assert.equal(refusal(() => registry.put(other)), 'Conflict');
  assert.deepEqual(registry.all.filter((k) => k.resource === 'widgets').map((k) => k.version), ['v1', 'v2']);
  // Replacing a version of the same definition is a change, not a clash.
  registry.put(widget({ origin: 'widgets.example.com', shortNames: ['w'] }));
  assert.deepEqual(registry.get('example.com', 'v1', 'widgets')?.shortNames, ['w']);
});

test('a custom kind may not publish a built-in OpenAPI definition name, nor another kind\'s', () => {
  const registry = builtinRegistry();
  // group meta.apis.pkg.apimachinery.k8s.io, v1, ObjectMeta: the name of every object's metadata schema.
  const objectMeta = widget({ group: 'meta.apis.pkg.apimachinery.k8s.io', resource: 'objectmetas', kind: 'ObjectMeta', listKind: 'ObjectMetaList', schema: `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` });
  assert.equal(refusal(() => registry.put(objectMeta)), 'Conflict');
  // Its list would be a built-in definition (io.k8s.api.core.v1.ConfigMap).
  const listClash = widget({ group: 'core.api.k8s.io', resource: 'things', kind: 'Thing', listKind: 'ConfigMap', schema: 'io.k8s.api.core.v1.Thing' });
  assert.equal(refusal(() => registry.put(listClash)), 'Conflict');
  // A protected group whose names are not built in is served.
  registry.put(widget({ group: 'gateway.networking.k8s.io', resource: 'gateways', kind: 'Gateway', listKind: 'GatewayList', schema: 'io.k8s.networking.gateway.v1.Gateway' }));

  registry.put(widget({ origin: 'widgets.example.com' }));
  // Another definition of the same group, version and kind: the same schema name.
  const sameKind = widget({ origin: 'gizmos.example.com', resource: 'gizmos', schema: 'com.example.v1.Widget' });
  assert.equal(refusal(() => registry.put(sameKind)), 'Conflict');
  // A kind named as another's list.
  const listNamed = widget({ origin: 'widgetlists.example.com', resource: 'widgetlists', kind: 'WidgetList', listKind: 'WidgetListList', schema: 'com.example.v1.WidgetList' });
  assert.equal(refusal(() => registry.put(listNamed)), 'Conflict');
  assert.deepEqual(registry.all.filter((k) => k.source === 'custom').map((k) => k.resource), ['gateways', 'widgets']);
});

test('a kind with the fingerprint of the one served is no change: nothing is announced', () => {
  const registry = builtinRegistry();
  registry.put(widget({ fingerprint: 'a' }));
  const seen: KindChange['type'][] = [];
  registry.subscribe((change) => seen.push(change.type));
  const generation = registry.generation;
  const served = registry.get('example.com', 'v1', 'widgets');
  registry.put(widget({ fingerprint: 'a' }));
  assert.equal(registry.get('example.com', 'v1', 'widgets'), served, 'the kind served stays');
  assert.deepEqual(seen, []);
  assert.equal(registry.generation, generation);
  registry.put(widget({ fingerprint: 'b', shortNames: ['w'] }));
  assert.deepEqual(seen, ['modified']);
});
