/** Discovery of subresources, legacy and aggregated, as kube lists them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../../../lib/kinds/index.ts';
import { REPLICATORS, widgetKind } from '../../../test/support/subresource-kinds.ts';
import { aggregatedDiscovery, apiResourceList } from './discovery.ts';

const registry = builtinRegistry();
for (const kind of [REPLICATORS, widgetKind()]) if (registry.get(kind.group, kind.version, kind.resource) === undefined) registry.add(kind);

type Entry = Record<string, unknown>;

test('legacy: each served subresource is an entry after its resource, with its kind\'s group and version when they differ', () => {
  const pods = (apiResourceList(registry, '', 'v1')?.resources as Entry[]).filter((r) => String(r.name).startsWith('pods'));
  assert.deepEqual(pods.slice(1), [
    { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] },
    { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
    { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  ]);
  assert.equal(pods[0]?.name, 'pods');
  const replicators = (apiResourceList(registry, 'example.test', 'v1')?.resources as Entry[]).map((r) => [r.name, r.group, r.version, r.kind, r.verbs]);
  assert.deepEqual(replicators, [
    ['replicators', undefined, undefined, 'Replicator', REPLICATORS.verbs],
    ['replicators/scale', 'autoscaling', 'v1', 'Scale', ['get', 'patch', 'update']],
    ['replicators/status', undefined, undefined, 'Replicator', ['get', 'patch', 'update']],
  ]);
  const widgets = (apiResourceList(registry, 'widgets.example.com', 'v1')?.resources as Entry[]).map((r) => r.name);
  assert.deepEqual(widgets, ['widgets', 'widgets/status', 'widgets/scale']);
  // A resource without subresources has no more entries.
  assert.deepEqual((apiResourceList(registry, '', 'v1')?.resources as Entry[]).filter((r) => String(r.name).startsWith('configmaps')).map((r) => r.name), ['configmaps']);
});

test('aggregated: subresources with their responseKind and verbs, none for a resource without', () => {
  const resources = (doc: Record<string, unknown>, group: string): Entry[] => {
    const item = (doc.items as Entry[]).find((i) => ((i.metadata as Entry).name ?? '') === group);
    return ((item?.versions as Entry[])[0]?.resources as Entry[]) ?? [];
  };
  const core = resources(aggregatedDiscovery(registry, true), '');
  assert.deepEqual(core.find((r) => r.resource === 'pods')?.subresources, [
    { subresource: 'binding', responseKind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] },
    { subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
    { subresource: 'status', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get', 'patch', 'update'] },
  ]);
  assert.equal('subresources' in (core.find((r) => r.resource === 'configmaps') ?? {}), false);
  const named = aggregatedDiscovery(registry, false);
  assert.deepEqual(resources(named, 'example.test')[0]?.subresources, [
    { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
    { subresource: 'status', responseKind: { group: 'example.test', version: 'v1', kind: 'Replicator' }, verbs: ['get', 'patch', 'update'] },
  ]);
  // A custom kind's: status, then scale, as apiextensions lists them.
  assert.deepEqual(
    (resources(named, 'widgets.example.com')[0]?.subresources as Entry[]).map((s) => s.subresource),
    ['status', 'scale'],
  );
});
