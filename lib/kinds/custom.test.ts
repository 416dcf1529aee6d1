import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invalid } from '../errors.ts';
import type { KubeObject } from '../kube.ts';
import { CUSTOM_RESOURCE_DEFINITION } from './builtin/customresourcedefinition.ts';
import { customDefinitionName, kindsOfDefinition } from './custom.ts';
import { toTable } from './printing.ts';

function crd(overrides: Record<string, unknown> = {}, version: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'], categories: ['all'] },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } }, ...version }],
      ...overrides,
    },
  };
}

/** A definition as stored: prepared on create as the strategy does (status established). */
function stored(object: KubeObject): KubeObject {
  return CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(object) ?? object;
}

test('a definition serves one kind per served version, with kube defaults and its own schema', () => {
  const kinds = kindsOfDefinition(
    stored(
      crd({
        versions: [
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } } },
          { name: 'v1beta1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
          { name: 'v2', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
        ],
      }),
    ),
  );
  assert.deepEqual(kinds.map((k) => k.version), ['v1', 'v2']);
  const v1 = kinds[0];
  assert.ok(v1 !== undefined);
  assert.equal(v1.source, 'custom');
  assert.equal(v1.singular, 'widget');
  assert.equal(v1.listKind, 'WidgetList');
  assert.equal(v1.namespaced, true);
  assert.deepEqual(v1.shortNames, ['wd']);
  assert.deepEqual(v1.categories, ['all']);
  assert.deepEqual(v1.verbs, ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch']);
  assert.deepEqual(v1.subresources, []);
  assert.equal(v1.strategy.generation, 'allButMetadata');
  assert.equal(v1.schema, 'com.example.v1.Widget');
  // apiVersion, kind and metadata are always fields of a custom object, named or not.
  assert.deepEqual(v1.definitions?.['com.example.v1.Widget'], {
    type: 'object',
    properties: {
      spec: { type: 'object' },
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
    },
  });
  assert.equal(customDefinitionName('stable.example.com', 'v1beta1', 'CronTab'), 'com.example.stable.v1beta1.CronTab');
});

test('the status and scale subresources, and the generation rule that goes with status', () => {
  const [kind] = kindsOfDefinition(stored(crd({}, { subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } } })));
  assert.deepEqual(kind?.subresources, ['status', 'scale']);
  assert.equal(kind?.strategy.generation, 'allButMetadataAndStatus');
  assert.deepEqual(kind?.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' });
  const [selecting] = kindsOfDefinition(
    stored(crd({}, { subresources: { scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size', labelSelectorPath: '.status.selector' } } })),
  );
  assert.deepEqual(selecting?.subresources, ['scale']);
  assert.deepEqual(selecting?.scale, { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size', labelSelectorPath: '.status.selector' });
  assert.equal(selecting?.strategy.generation, 'allButMetadata');
  const [plain] = kindsOfDefinition(stored(crd()));
  assert.equal(plain?.scale, undefined);
});

test('nothing is served for a definition not established or without names', () => {
  assert.deepEqual(kindsOfDefinition(crd()), [], 'never established');
  assert.deepEqual(kindsOfDefinition(stored(crd({ names: { plural: 'widgets' } }))), []);
  assert.deepEqual(kindsOfDefinition({}), []);
});

test('a definition being deleted serves its kinds terminating, with another fingerprint', () => {
  const live = stored(crd());
  const [served] = kindsOfDefinition(live);
  const [terminating] = kindsOfDefinition({ ...live, metadata: { ...live.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
  assert.equal(served?.terminating, undefined);
  assert.equal(terminating?.terminating, true);
  assert.equal(terminating?.resource, served?.resource);
  assert.notEqual(terminating?.fingerprint, served?.fingerprint);
  const [nullDeletion] = kindsOfDefinition({ ...live, metadata: { ...live.metadata, deletionTimestamp: null as unknown as string } });
  assert.equal(nullDeletion?.terminating, undefined, "null is Go's nil: not being deleted");
});

test('selectable fields: metadata.name, metadata.namespace and the declared paths, with their values', () => {
  const [kind] = kindsOfDefinition(stored(crd({}, { selectableFields: [{ jsonPath: '.spec.color' }, { jsonPath: '.spec.size' }, { jsonPath: '.spec.on' }] })));
  assert.ok(kind !== undefined);
  assert.deepEqual(kind.selectableFields.supported, ['metadata.name', 'metadata.namespace', 'spec.color', 'spec.size', 'spec.on']);
  assert.deepEqual(kind.selectableFields.values({ metadata: { name: 'a', namespace: 'ns' }, spec: { color: 'red', size: 3, on: true } }), {
    'metadata.name': 'a',
    'metadata.namespace': 'ns',
    'spec.color': 'red',
    'spec.size': '3',
    'spec.on': 'true',
  });
  assert.equal(kind.selectableFields.values({ metadata: { name: 'a' } })['spec.color'], '');
});

test('printing: NAME and the additionalPrinterColumns, typed as kube types them; else NAME and AGE', () => {
  const now = new Date('2026-01-01T01:00:00Z');
  const [kind] = kindsOfDefinition(
    stored(
      crd({}, {
        additionalPrinterColumns: [
          { name: 'Color', type: 'string', jsonPath: '.spec.color' },
          { name: 'Size', type: 'integer', jsonPath: '.spec.size', priority: 1 },
          { name: 'Ready', type: 'boolean', jsonPath: '.status.ready', description: 'ready or not' },
          { name: 'Started', type: 'date', jsonPath: '.status.started' },
          { name: 'Missing', type: 'string', jsonPath: '.spec.nothing.here' },
        ],
      }),
    ),
  );
  const object = { metadata: { name: 'w' }, spec: { color: 'red', size: 2.0 }, status: { ready: true, started: '2026-01-01T00:00:00Z' } };
  const table = toTable(kind?.printer, [object], { now });
  assert.deepEqual(
    table.columnDefinitions.map((c) => [c.name, c.type, c.priority]),
    [['Name', 'string', 0], ['Color', 'string', 0], ['Size', 'integer', 1], ['Ready', 'boolean', 0], ['Started', 'date', 0], ['Missing', 'string', 0]],
  );
  assert.equal(table.columnDefinitions[1]?.description, 'Custom resource definition column (in JSONPath format): .spec.color');
  assert.equal(table.columnDefinitions[3]?.description, 'ready or not');
  assert.deepEqual(table.rows[0]?.cells, ['w', 'red', 2, true, '60m', null]);

  const [plain] = kindsOfDefinition(stored(crd()));
  const generic = toTable(plain?.printer, [{ metadata: { name: 'w', creationTimestamp: '2026-01-01T00:59:00Z' } }], { now });
  assert.deepEqual(generic.columnDefinitions.map((c) => [c.name, c.type]), [['Name', 'string'], ['Age', 'date']]);
  assert.deepEqual(generic.rows[0]?.cells, ['w', '60s']);
});

test('the definition strategy: names defaulted, status as kube controllers settle it, kept across updates', () => {
  const created = stored(crd());
  const spec = created.spec as { names: Record<string, unknown>; conversion: unknown };
  assert.equal(spec.names.singular, 'widget');
  assert.equal(spec.names.listKind, 'WidgetList');
  assert.deepEqual(spec.conversion, { strategy: 'None' });
  const status = created.status as { conditions: Record<string, unknown>[]; acceptedNames: Record<string, unknown>; storedVersions: string[] };
  assert.deepEqual(
    status.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
    [
      ['NamesAccepted', 'True', 'NoConflicts', 'no conflicts found'],
      ['Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted'],
    ],
  );
  assert.deepEqual(status.acceptedNames, { plural: 'widgets', singular: 'widget', shortNames: ['wd'], kind: 'Widget', listKind: 'WidgetList', categories: ['all'] });
  assert.deepEqual(status.storedVersions, ['v1']);

  const next = crd({
    versions: [
      { name: 'v1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
      { name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
  });
  const updated = CUSTOM_RESOURCE_DEFINITION.strategy.prepareForUpdate?.({ ...next, status: { storedVersions: ['bogus'] } }, created);
  const after = updated?.status as { conditions: Record<string, unknown>[]; storedVersions: string[] };
  assert.deepEqual(after.storedVersions, ['v1', 'v2'], 'the old storage version stays stored; a status in the body is ignored');
  assert.equal(after.conditions[1]?.lastTransitionTime, status.conditions[1]?.lastTransitionTime);
});

test('the definition strategy refuses what the registry cannot serve, with kube texts', () => {
  const validate = CUSTOM_RESOURCE_DEFINITION.strategy.validate;
  assert.ok(validate !== undefined);
  assert.deepEqual(validate(crd(), undefined), []);
  const bad = crd({
    group: 'example',
    scope: 'Global',
    names: { plural: 'Widgets', kind: 'Widget', listKind: 'Widget' },
    versions: [
      { name: 'v1', served: true, storage: true },
      { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
  });
  const err = invalid('CustomResourceDefinition', 'apiextensions.k8s.io', 'widgets.example.com', validate(bad, undefined));
  const fields = err.details?.causes?.map((c) => `${c.field}: ${c.message}`) ?? [];
  assert.deepEqual(fields, [
    'metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group',
    'spec.group: Invalid value: "example": should be a domain with at least one dot',
    'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
    'spec.versions[0].schema.openAPIV3Schema: Required value',
    `spec.versions: Invalid value: ${JSON.stringify((bad.spec as { versions: unknown }).versions)}: must contain unique version names`,
    `spec.versions: Invalid value: ${JSON.stringify((bad.spec as { versions: unknown }).versions)}: must have exactly one version marked as storage version`,
    "spec.names.plural: Invalid value: \"Widgets\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    'spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same',
  ]);
  assert.equal(err.code, 422);

  const renamed = crd({ group: 'other.example.com' });
  const immutable = validate({ ...renamed, metadata: { name: 'widgets.other.example.com' } }, stored(crd())).map((e) => `${e.field}: ${e.detail}`);
  assert.deepEqual(immutable, ['spec.group: field is immutable']);
});

test('a definition in a Kubernetes community group needs the API approval annotation, with kube texts', () => {
  const validate = CUSTOM_RESOURCE_DEFINITION.strategy.validate;
  assert.ok(validate !== undefined);
  const inGroup = (group: string, annotation?: string): KubeObject => {
    const object = crd({ group });
    const annotations = annotation === undefined ? {} : { annotations: { 'api-approved.kubernetes.io': annotation } };
    return { ...object, metadata: { name: `widgets.${group}`, ...annotations } };
  };
  const texts = (object: KubeObject, old?: KubeObject) =>
    invalid('CustomResourceDefinition', 'apiextensions.k8s.io', 'x', validate(object, old)).details?.causes?.map((c) => `${c.field}: ${c.message}`) ?? [];
  const missing =
    'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111';
  for (const group of ['k8s.io', 'meta.apis.pkg.apimachinery.k8s.io', 'kubernetes.io', 'x.kubernetes.io']) {
    assert.deepEqual(texts(inGroup(group)), [missing], group);
  }
  assert.deepEqual(texts(inGroup('sigs.k8s.io', 'invalid')), [
    'metadata.annotations[api-approved.kubernetes.io]: Invalid value: "invalid": protected groups must have approval annotation "api-approved.kubernetes.io" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111',
  ]);
  assert.deepEqual(validate(inGroup('sigs.k8s.io', 'https://github.com/kubernetes/kubernetes/pull/1'), undefined), []);
  assert.deepEqual(validate(inGroup('sigs.k8s.io', 'unapproved, experimental'), undefined), []);
  // Not protected: a group that only looks like one.
  assert.deepEqual(validate(inGroup('notk8s.io'), undefined), []);
  assert.deepEqual(validate(inGroup('k8s.io.example.com'), undefined), []);
  // An update that leaves the approval state as it was is not refused; one that loses the approval is.
  const approved = inGroup('sigs.k8s.io', 'https://github.com/kubernetes/kubernetes/pull/1');
  assert.deepEqual(validate(inGroup('sigs.k8s.io'), inGroup('sigs.k8s.io')), []);
  assert.deepEqual(texts(inGroup('sigs.k8s.io'), approved), [missing]);
});

test('a kind\'s fingerprint follows what it serves, not the definition\'s metadata, status or key order', () => {
  const fingerprints = (object: KubeObject) => kindsOfDefinition(stored(object)).map((k) => k.fingerprint);
  const base = fingerprints(crd());
  assert.equal(base.length, 1);
  assert.match(base[0] ?? '', /^[0-9a-f]{64}$/);
  const labelled = crd();
  labelled.metadata = { ...labelled.metadata, labels: { a: 'b' }, resourceVersion: '9', generation: 3 };
  assert.deepEqual(fingerprints(labelled), base);
  const reordered = crd();
  reordered.spec = Object.fromEntries(Object.entries(reordered.spec as object).reverse());
  assert.deepEqual(fingerprints(reordered), base);
  assert.notDeepEqual(fingerprints(crd({}, { additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }] })), base);
  assert.notDeepEqual(fingerprints(crd({ scope: 'Cluster' })), base);
  assert.notDeepEqual(fingerprints(crd({ names: { plural: 'widgets', kind: 'Widget', shortNames: ['w'] } })), base);
});
