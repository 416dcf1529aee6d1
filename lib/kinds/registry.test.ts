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

test('the built-in registry serves the built-in kinds, each once, in discovery order', () => {
  const registry = builtinRegistry();
  assert.deepEqual(registry.all.map((k) => k.resource), BUILTIN_KINDS.map((k) => k.resource));
  assert.deepEqual(registry.groupVersions(), [{ group: '', version: 'v1' }, { group: 'apiextensions.k8s.io', version: 'v1' }]);
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
  assert.deepEqual(registry.groupVersions(), [
    { group: '', version: 'v1' },
    { group: 'apiextensions.k8s.io', version: 'v1' },
    { group: 'example.com', version: 'v1' },
  ]);
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
  assert.equal(registry.generationRule('', 'configmaps'), 'allButMetadataAndStatus');
});
