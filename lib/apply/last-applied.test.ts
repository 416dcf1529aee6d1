/**
 * kube's lastAppliedManager and lastAppliedUpdater tests (k8s.io/apimachinery
 * pkg/util/managedfields/internal/lastappliedmanager_test.go and lastappliedupdater_test.go) as
 * facts about LastAppliedFieldManager on the built-in schemas; each case names its source (the
 * tables' cases by their index, as kube's t.Run names them: "test 0", ...). Also the exact
 * encoding of the annotation kube writes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../kube.ts';
import { readGoFacts, SchemaSet } from '../kinds/schemas.ts';
import { FieldSet, goJson, keyElement } from './fieldpath.ts';
import { applyTypesOf, conflictError, FieldManager, LAST_APPLIED_ANNOTATION, LastAppliedFieldManager, lastAppliedOf, lastAppliedValue, type ApplyTypes } from './index.ts';
import { statusOf } from '../../test/support/status.ts';

const definitions = new SchemaSet();
const goFacts = readGoFacts();
const typesOf = (name: string): ApplyTypes => applyTypesOf((n) => definitions.get(n), name, (n) => goFacts.get(n));
const KINDS = {
  Deployment: { apiVersion: 'apps/v1', types: typesOf('io.k8s.api.apps.v1.Deployment') },
  Service: { apiVersion: 'v1', types: typesOf('io.k8s.api.core.v1.Service') },
  ReplicationController: { apiVersion: 'v1', types: typesOf('io.k8s.api.core.v1.ReplicationController') },
  Pod: { apiVersion: 'v1', types: typesOf('io.k8s.api.core.v1.Pod') },
  ConfigMap: { apiVersion: 'v1', types: typesOf('io.k8s.api.core.v1.ConfigMap') },
} as const;
type Kind = keyof typeof KINDS;

function manager(kind: Kind): LastAppliedFieldManager {
  const { apiVersion, types } = KINDS[kind];
  let tick = 0;
  const inner = new FieldManager({ types, apiVersion, kind, subresource: '', resetFields: [['status']], now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) });
  return new LastAppliedFieldManager(inner, { types, apiVersion, kind });
}

function yaml(text: string): KubeObject {
  return (parse(text) ?? {}) as KubeObject;
}

function withAnnotation(o: KubeObject, value: string): KubeObject {
  return { ...o, metadata: { ...o.metadata, annotations: { ...(o.metadata?.annotations as Record<string, string> | undefined), [LAST_APPLIED_ANNOTATION]: value } } };
}

/** apimachinery's Semantic.DeepDerivative: everything `a` sets (empty and null values aside) is so in `b`. */
function derivative(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || a === '') return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => derivative(x, b[i]));
  if (typeof a === 'object') {
    if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
    return Object.entries(a).every(([k, v]) => (v === null || v === undefined || (typeof v === 'object' && Object.keys(v).length === 0) ? true : Object.hasOwn(b, k) && derivative(v, (b as Record<string, unknown>)[k])));
  }
  return a === b;
}

interface Case {
  name: string;
  fieldManager: string;
  /** The last-applied configuration; the original when absent (as kube's table). */
  lastApplied?: string;
  original: string;
  applied: string;
  /** Expected conflicts with the client-side applier (paths as path elements); none: the apply succeeds. */
  conflicts?: string[][];
}

/** kube's testConflicts: the original, with its last-applied annotation, written by an Update of "test_client_side_apply"; then the apply. */
function testConflicts(kind: Kind, source: string, cases: Case[]): void {
  describe(`${source}`, () => {
    cases.forEach((c, i) => {
      test(`test ${i}: ${c.name}`, () => {
        const f = manager(kind);
        // as kube's setLastAppliedFromEncoded: the YAML as compact JSON (sorted keys, no newline)
        const original = withAnnotation(yaml(c.original), goJson(yaml(c.lastApplied ?? c.original)));
        const live = f.update(undefined, original, 'test_client_side_apply');
        const applied = yaml(c.applied);
        if (c.conflicts === undefined) {
          const out = f.apply(live, applied, c.fieldManager, false);
          assert.ok(derivative(applied, out), JSON.stringify(out));
          return;
        }
        const err = statusOf(() => f.apply(live, applied, c.fieldManager, false));
        const expected: { manager: string; path: readonly string[] }[] = [];
        FieldSet.of(...c.conflicts).iterate((path) => expected.push({ manager: `{"manager":"test_client_side_apply","operation":"Update","apiVersion":"${KINDS[kind].apiVersion}"}`, path }));
        const want = conflictError(expected);
        assert.equal(err.code, 409);
        assert.equal(err.message, want.message);
        assert.deepEqual(err.details, want.details);
        // force resolves them all
        const forced = f.apply(live, applied, c.fieldManager, true);
        assert.ok(derivative(applied, forced), JSON.stringify(forced));
      });
    });
  });
}

const containerMyC = keyElement([['name', 'my-c']]);

testConflicts('Deployment', 'lastappliedmanager_test.go TestApplyUsingLastAppliedAnnotation', [
  {
    name: 'only fields the live object still holds as last applied are allowed',
    fieldManager: 'kubectl',
    lastApplied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment}
spec:
  replicas: 3
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image-v1}, {name: my-c2, image: my-image2}]
`,
    original: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 100
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image-v2}]
`,
    applied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-new-label}}
spec:
  replicas: 333
  selector: {matchLabels: {app: my-new-label}}
  template:
    metadata: {labels: {app: my-new-label}}
    spec:
      containers: [{name: my-c, image: my-image-new}]
`,
    conflicts: [
      ['f:metadata', 'f:labels', 'f:app'],
      ['f:spec', 'f:replicas'],
      ['f:spec', 'f:template', 'f:spec', 'f:containers', containerMyC, 'f:image'],
    ],
  },
  {
    name: 'a field changed since last applied conflicts',
    fieldManager: 'kubectl',
    lastApplied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 3
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
    original: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 100
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
    applied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-new-label}}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
    conflicts: [['f:spec', 'f:replicas']],
  },
  {
    name: 'applied object matches original',
    fieldManager: 'kubectl',
    original: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 100
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
    applied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 100
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
  },
  {
    name: 'allowed update with no conflicts',
    fieldManager: 'kubectl',
    original: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 3
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
    applied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-new-label}}
spec:
  replicas: 333
  selector: {matchLabels: {app: my-new-label}}
  template:
    metadata: {labels: {app: my-new-label}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
  },
  {
    name: 'conflicts because the field manager is not kubectl',
    fieldManager: 'not_kubectl',
    lastApplied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 3
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image-v1}]
`,
    original: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 100
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image-v2}]
`,
    applied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-new-label}}
spec:
  replicas: 333
  selector: {matchLabels: {app: my-new-label}}
  template:
    metadata: {labels: {app: my-new-label}}
    spec:
      containers: [{name: my-c, image: my-image-new}]
`,
    conflicts: [
      ['f:metadata', 'f:labels', 'f:app'],
      ['f:spec', 'f:replicas'],
      ['f:spec', 'f:selector'],
      ['f:spec', 'f:template', 'f:metadata', 'f:labels', 'f:app'],
      ['f:spec', 'f:template', 'f:spec', 'f:containers', containerMyC, 'f:image'],
    ],
  },
  {
    name: 'allowed update of the image',
    fieldManager: 'kubectl',
    original: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 3
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
    applied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-new-label}}
spec:
  replicas: 3
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-new-image}]
`,
  },
  {
    name: 'changes fail because the field manager is not kubectl',
    fieldManager: 'not_kubectl',
    original: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-app}}
spec:
  replicas: 100
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`,
    applied: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-deployment, labels: {app: my-new-label}}
spec:
  replicas: 3
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-new-image}]
`,
    conflicts: [
      ['f:metadata', 'f:labels', 'f:app'],
      ['f:spec', 'f:replicas'],
      ['f:spec', 'f:template', 'f:spec', 'f:containers', containerMyC, 'f:image'],
    ],
  },
  {
    name: 'update of replicas',
    fieldManager: 'kubectl',
    original: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 3}\n',
    applied: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 100}\n',
  },
  {
    name: 'a last-applied of another apiVersion allows nothing',
    fieldManager: 'kubectl',
    lastApplied: 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 3}\n',
    original: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 3}\n',
    applied: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 100}\n',
    conflicts: [['f:spec', 'f:replicas']],
  },
  {
    name: 'an invalid last-applied object allows nothing',
    fieldManager: 'kubectl',
    lastApplied: 'apiVerison: foo\nkind: bar\nspec: expect conflict due to invalid object\n',
    original: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 3}\n',
    applied: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 100}\n',
    conflicts: [['f:spec', 'f:replicas']],
  },
  {
    name: 'an empty last-applied ({}) allows nothing',
    fieldManager: 'kubectl',
    lastApplied: '',
    original: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 3}\n',
    applied: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-deployment}\nspec: {replicas: 100}\n',
    conflicts: [['f:spec', 'f:replicas']],
  },
]);

const serviceOriginal = `
apiVersion: v1
kind: Service
metadata: {name: test}
spec:
  ports: [{name: https, port: 443, protocol: TCP, targetPort: 8443}]
  selector: {old: test}
`;
testConflicts('Service', 'lastappliedmanager_test.go TestServiceApply', [
  {
    name: 'all accepted while using the same field manager',
    fieldManager: 'kubectl',
    original: serviceOriginal,
    applied: 'apiVersion: v1\nkind: Service\nmetadata: {name: test}\nspec:\n  ports: [{name: https, port: 443, protocol: TCP, targetPort: 8444}]\n  selector: {new: test}\n',
  },
  {
    name: 'allowed to remove selectors while using the same field manager',
    fieldManager: 'kubectl',
    original: serviceOriginal,
    applied: 'apiVersion: v1\nkind: Service\nmetadata: {name: test}\nspec:\n  ports: [{name: https, port: 443, protocol: TCP, targetPort: 8444}]\n  selector: {}\n',
  },
  {
    name: 'selector update not allowed by last-applied',
    fieldManager: 'not_kubectl',
    original: serviceOriginal,
    applied: 'apiVersion: v1\nkind: Service\nmetadata: {name: test}\nspec:\n  ports: [{name: https, port: 443, protocol: TCP, targetPort: 8444}]\n  selector: {new: test}\n',
    conflicts: [
      ['f:spec', 'f:selector'],
      ['f:spec', 'f:ports', keyElement([['port', 443], ['protocol', 'TCP']]), 'f:targetPort'],
    ],
  },
]);

const rcOriginal = 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: test}\nspec: {replicas: 0, selector: {old: test}}\n';
testConflicts('ReplicationController', 'lastappliedmanager_test.go TestReplicationControllerApply', [
  {
    name: 'all accepted while using the same field manager',
    fieldManager: 'kubectl',
    original: rcOriginal,
    applied: 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: test}\nspec: {replicas: 3, selector: {new: test}}\n',
  },
  {
    name: 'selector update not allowed by last-applied',
    fieldManager: 'not_kubectl',
    original: rcOriginal,
    applied: 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: test}\nspec: {replicas: 3, selector: {new: test}}\n',
    conflicts: [
      ['f:spec', 'f:selector'],
      ['f:spec', 'f:replicas'],
    ],
  },
]);

const podOriginal = `
apiVersion: v1
kind: Pod
metadata: {name: test, namespace: test}
spec:
  containers: [{args: [-v=2], command: [controller], image: 'some.registry/app:latest', name: doJob}]
  nodeName: definetlyControlPlane
  nodeSelector: {node-role.kubernetes.io/master: ""}
`;
const pod = (spec: string): string => `apiVersion: v1\nkind: Pod\nmetadata: {name: test, namespace: test}\nspec:\n  containers: [{args: [-v=2], command: [controller], image: 'some.registry/app:latest', name: doJob}]\n${spec}`;
testConflicts('Pod', 'lastappliedmanager_test.go TestPodApply', [
  {
    name: 'all accepted while using the same field manager',
    fieldManager: 'kubectl',
    original: podOriginal,
    applied: pod('  nodeSelector: {node-role.kubernetes.io/worker: ""}\n'),
  },
  {
    name: 'selector update not allowed by last-applied',
    fieldManager: 'not_kubectl',
    original: podOriginal,
    applied: pod('  nodeName: definetlyControlPlane\n  nodeSelector: {node-role.kubernetes.io/master: "", otherNodeType: ""}\n'),
    conflicts: [['f:spec', 'f:nodeSelector']],
  },
  {
    name: 'purging selector not allowed for different manager',
    fieldManager: 'not_kubectl',
    original: podOriginal,
    applied: pod('  nodeName: another\n  nodeSelector: {}\n'),
    conflicts: [
      ['f:spec', 'f:nodeSelector'],
      ['f:spec', 'f:nodeName'],
    ],
  },
  {
    name: 'same manager could purge nodeSelector',
    fieldManager: 'kubectl',
    original: podOriginal,
    applied: pod('  nodeName: another\n  nodeSelector: {}\n'),
  },
]);

describe('lastappliedmanager: what the allowed set is', () => {
  test('a conflict on a field the last-applied configuration does not set stays, and only it is named', () => {
    const f = manager('ConfigMap');
    const original = withAnnotation(yaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1", b: "2"}\n'), goJson(yaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1"}\n')));
    const live = f.update(undefined, original, 'kubectl-client-side-apply');
    const err = statusOf(() => f.apply(live, yaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "10", b: "20"}\n'), 'kubectl', false));
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.b');
  });
  test('a last-applied of another kind (same apiVersion), or not JSON, allows nothing', () => {
    const f = manager('ConfigMap');
    const base = yaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1"}\n');
    for (const annotation of [goJson({ ...base, kind: 'Secret' }), '{"apiVersion":"v1",', 'null', goJson({ ...base, kind: undefined })]) {
      const live = f.update(undefined, withAnnotation(base, annotation), 'kubectl-client-side-apply');
      assert.equal(f.allowedConflicts(live), undefined, annotation);
      assert.equal(statusOf(() => f.apply(live, yaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "2"}\n'), 'kubectl', false)).code, 409);
    }
    assert.deepEqual(f.allowedConflicts(withAnnotation(base, goJson(base)))?.paths(), ['.apiVersion', '.kind', '.data.a', '.metadata.name']);
  });
});

describe('lastappliedupdater_test.go', () => {
  const appliedDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-deployment
  annotations: {"kubectl.kubernetes.io/last-applied-configuration": "nonempty"}
  labels: {app: my-app}
spec:
  replicas: 20
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers: [{name: my-c, image: my-image}]
`;
  test('TestLastAppliedUpdater: only "kubectl" updates the annotation, to the configuration', () => {
    const f = manager('Deployment');
    const applied = yaml(appliedDeployment);
    let live = f.apply(undefined, applied, 'NOT-KUBECTL', false);
    assert.equal(lastAppliedOf(live), 'nonempty');
    live = f.apply(live, applied, 'kubectl', false);
    const value = lastAppliedOf(live);
    assert.notEqual(value, 'nonempty');
    assert.match(value ?? '', /my-app/);
    assert.match(value ?? '', /my-image/);
    // the configuration without the annotation itself, as kube encodes it
    assert.equal(
      value,
      '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"labels":{"app":"my-app"},"name":"my-deployment"},' +
        '"spec":{"replicas":20,"selector":{"matchLabels":{"app":"my-app"}},"template":{"metadata":{"labels":{"app":"my-app"}},"spec":{"containers":[{"image":"my-image","name":"my-c"}]}}}}\n',
    );
  });

  const configMap = (data: Record<string, string>, annotations: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'large-update-test-cm', namespace: 'default', annotations: { [LAST_APPLIED_ANNOTATION]: 'nonempty', ...annotations } },
    data: { k: 'v', ...data },
  });
  const keys = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`this-key-is-very-long-so-as-to-create-a-very-large-serialized-fieldset-${i}`, 'A']));

  test('TestLargeLastApplied "old object + new object last-applied annotation is too big": the annotation is dropped', () => {
    const f = manager('ConfigMap');
    let live = f.apply(undefined, configMap({}), 'kubectl', false);
    const first = lastAppliedOf(live);
    assert.ok(first !== undefined && first !== 'nonempty', first);
    live = f.apply(live, configMap(keys(9999)), 'kubectl', false);
    assert.ok(live.metadata?.annotations !== undefined);
    assert.equal(Object.hasOwn(live.metadata.annotations as object, LAST_APPLIED_ANNOTATION), false);
  });

  test('TestLargeLastApplied "old object + new object annotations + new object last-applied annotation is too big": the annotation is dropped, the others stay', () => {
    const f = manager('ConfigMap');
    let live = f.apply(undefined, configMap(keys(2000)), 'kubectl', false);
    const first = lastAppliedOf(live);
    assert.ok(first !== undefined && first !== 'nonempty');
    live = f.apply(live, configMap(keys(2000), keys(2000)), 'kubectl', false);
    const annotations = live.metadata?.annotations as Record<string, string>;
    assert.equal(Object.hasOwn(annotations, LAST_APPLIED_ANNOTATION), false);
    assert.equal(Object.keys(annotations).length, 2000);
  });
});

describe('the annotation value (buildLastApplied: Unstructured read, encoded by Go encoding/json)', () => {
  test('keys sorted, HTML characters escaped, a trailing newline, numbers as Go writes float64', () => {
    const v = lastAppliedValue({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', labels: { b: '1', a: '2' } }, data: { z: '<&>', y: 'é\u2028' }, n: [1, 1.5, 1e21, 1e-7] } as KubeObject);
    assert.equal(v, '{"apiVersion":"v1","data":{"y":"é\\u2028","z":"\\u003c\\u0026\\u003e"},"kind":"ConfigMap","metadata":{"labels":{"a":"2","b":"1"},"name":"x"},"n":[1,1.5,1e+21,1e-7]}\n');
  });
  test('annotations: the last-applied one removed (an empty map stays), null values read as "", null annotations dropped', () => {
    assert.equal(lastAppliedValue({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: 'x' } } }), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"annotations":{}}}\n');
    assert.equal(lastAppliedValue({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { annotations: { a: null } } } as unknown as KubeObject), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"annotations":{"a":""}}}\n');
    assert.equal(lastAppliedValue({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n', annotations: null } } as unknown as KubeObject), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"n"}}\n');
    assert.equal(lastAppliedValue({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n' } }), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"n"}}\n');
  });
  test('an object without the annotation (or with an empty one) does not get it', () => {
    const f = manager('ConfigMap');
    const created = f.apply(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, 'kubectl', false);
    assert.equal(created.metadata?.annotations, undefined);
    const empty = f.update(undefined, withAnnotation({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, ''), 'x');
    const applied = f.apply(empty, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, 'kubectl', false);
    assert.equal((applied.metadata?.annotations as Record<string, string>)[LAST_APPLIED_ANNOTATION], '');
  });
});
