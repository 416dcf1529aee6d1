/** The items of a list response: typed lists drop kind/apiVersion, custom resource lists keep them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../../lib/kinds/index.ts';
import { CUSTOM_RESOURCE_DEFINITION } from '../../../../lib/kinds/builtin/customresourcedefinition.ts';
import { kindsOfDefinition } from '../../../../lib/kinds/custom.ts';
import { listItems } from './list.ts';

test('a built-in list omits kind and apiVersion on its items, as kube types them', () => {
  const configmaps = builtinRegistry().get('', 'v1', 'configmaps');
  assert.ok(configmaps !== undefined);
  const items = listItems([{ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'a' }, data: { k: 'v' } }], configmaps);
  assert.deepEqual(items, [{ metadata: { name: 'a' }, data: { k: 'v' } }]);
});

test('a custom resource list keeps kind and apiVersion on its items, of the version served', () => {
  const crd = {
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        { name: 'v2', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
      ],
    },
  };
  const [, v2] = kindsOfDefinition(CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(crd) ?? crd);
  assert.ok(v2 !== undefined);
  const items = listItems([{ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { name: 'w' } }, { metadata: { name: 'x' } }], v2);
  assert.deepEqual(items, [
    { kind: 'Widget', apiVersion: 'example.com/v2', metadata: { name: 'w' } },
    { kind: 'Widget', apiVersion: 'example.com/v2', metadata: { name: 'x' } },
  ]);
});
