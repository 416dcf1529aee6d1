/** The items of a list response: typed lists drop kind/apiVersion, custom resource lists keep them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../../lib/kinds/index.ts';
import { CUSTOM_RESOURCE_DEFINITION } from '../../../../lib/kinds/builtin/customresourcedefinition.ts';
import { kindsOfDefinition } from '../../../../lib/kinds/custom.ts';
import { encodedJsonOf, objectBytes, parseEncodedObject } from '../../../../lib/kube.ts';
import { apiVersionOf } from '../../../../lib/kinds/index.ts';
import { encodedList, listItems } from './list.ts';

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

test('a list put together from the JSON storage encoded is what encoding the answer gives', () => {
  const configmaps = builtinRegistry().get('', 'v1', 'configmaps');
  assert.ok(configmaps !== undefined);
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
  const [v1, v2] = kindsOfDefinition(CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(crd) ?? crd);
  assert.ok(v1 !== undefined && v2 !== undefined);
  const stored = (o: object) => parseEncodedObject(objectBytes(o));
  const typedItems = [
    stored({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } }),
    stored({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'b' } }),
    stored({ kind: 'ConfigMap', metadata: { name: 'c' } }),
    stored({ apiVersion: 'v1', metadata: { name: 'd' } }),
    stored({ metadata: { name: 'e' }, kind: 'ConfigMap', apiVersion: 'v1' }),
    stored({ '1': 'integer keys come first', apiVersion: 'v1', kind: 'ConfigMap' }),
    stored({ apiVersion: 'v1', kind: 'ConfigMap' }),
    stored({ apiVersion: 'v1,"kind":"x"', kind: 'ConfigMap', metadata: {} }),
    stored({ metadata: { name: 'f' } }),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'copied, no bytes' } },
  ];
  const customItems = [
    stored({ apiVersion: 'example.com/v2', kind: 'Widget', metadata: { name: 'w' } }),
    stored({ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { name: 'x' } }),
    stored({ metadata: { name: 'y' } }),
  ];
  const cases = [
    { info: configmaps, items: typedItems },
    { info: configmaps, items: [] },
    { info: v2, items: customItems },
    { info: v1, items: customItems },
  ];
  for (const { info, items } of cases) {
    for (const listMeta of [{ resourceVersion: '12' }, { resourceVersion: '7', continue: 'token', remainingItemCount: 3 }]) {
      const expected = JSON.stringify({ kind: info.listKind, apiVersion: apiVersionOf(info), metadata: listMeta, items: listItems(items, info) });
      assert.equal(Buffer.concat(encodedList(info, listMeta, items)).toString('utf8'), expected);
    }
  }
  // The stored JSON is used, not encoded again: the item's part is a view of its bytes.
  const [first] = typedItems;
  assert.ok(first !== undefined);
  const parts = encodedList(configmaps, { resourceVersion: '1' }, [first]);
  const json = encodedJsonOf(first);
  assert.ok(json !== undefined);
  const skipped = '{"apiVersion":"v1","kind":"ConfigMap",'.length;
  assert.ok(parts.some((part) => part.buffer === json.buffer && part.byteOffset === json.byteOffset + skipped && part.length === json.length - skipped));
});
