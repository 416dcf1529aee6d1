import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../kube.ts';
import { goJsonRule, GoShapes } from './go-json.ts';
import { readGoFacts, SchemaSet } from './schemas.ts';

const shapes = new GoShapes();
const shape = (object: Record<string, unknown>, definition: string): Record<string, unknown> => {
  const before = structuredClone(object);
  const shaped = shapes.shape(object as KubeObject, definition) as Record<string, unknown>;
  assert.deepEqual(object, before, 'the argument is never changed');
  return shaped;
};
const CORE = 'io.k8s.api.core.v1';

test("encoding/json's rule for a field, from its facts", () => {
  const f = (omitempty: boolean, pointer = false, inline = false) => ({ omitempty, pointer, inline });
  assert.equal(goJsonRule(f(true), false), 'omitempty');
  assert.equal(goJsonRule(f(false), false), 'always');
  // omitempty never omits a struct
  assert.equal(goJsonRule(f(true), true), 'always');
  assert.equal(goJsonRule(f(true, true), true), 'pointer');
  assert.equal(goJsonRule(f(false, true), false), 'pointer');
  assert.equal(goJsonRule(f(false, false, true), true), 'inline');
});

// Facts from kube's types (k8s.io/api v0.36.3, core/v1/types.go): NodeSystemInfo's fields have
// no omitempty, NodeStatus' nodeInfo and daemonEndpoints are struct values, DaemonEndpoint.Port
// is `json:"Port"`, NodeSpec has only omitempty fields.
test('a Node without nodeInfo: every field kube always writes is written', () => {
  const node = shape({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', creationTimestamp: '2024-05-01T10:00:00Z' } }, `${CORE}.Node`);
  assert.deepEqual(node, {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: { name: 'n1', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec: {},
    status: {
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '',
        osImage: '',
        containerRuntimeVersion: '',
        kubeletVersion: '',
        kubeProxyVersion: '',
        operatingSystem: '',
        architecture: '',
      },
    },
  });
  // written in Go's field order (TypeMeta's kind first)
  assert.deepEqual(Object.keys(node), ['kind', 'apiVersion', 'metadata', 'spec', 'status']);
});

test('an object in shape is returned as it is (no copy); shaping twice changes nothing', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd', uid: 'u', creationTimestamp: '2024-05-01T10:00:00Z', labels: { a: 'b' } }, data: { k: 'v' } };
  assert.equal(shapes.shape(cm, `${CORE}.ConfigMap`), cm);
  const node = shapes.shape({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } }, `${CORE}.Node`);
  assert.equal(shapes.shape(node, `${CORE}.Node`), node);
});

test('omitempty zero values and fields the struct does not have are dropped; pointers are kept when set, zero or not', () => {
  const cm = shape(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', generation: 0, labels: {}, finalizers: null, ownerReferences: [] }, data: {}, binaryData: null, immutable: false, extra: 1 },
    `${CORE}.ConfigMap`,
  );
  assert.deepEqual(cm, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c' }, immutable: false });
});

test('a Time value is written null when zero, unless the field has omitzero (ObjectMeta.creationTimestamp since 1.35)', () => {
  // core/v1 NodeCondition.lastHeartbeatTime: `metav1.Time json:",omitempty"` -> null
  const node = shape({ metadata: { name: 'n', creationTimestamp: null }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, `${CORE}.Node`);
  assert.deepEqual((node.status as Record<string, unknown>).conditions, [{ type: 'Ready', status: 'True', lastHeartbeatTime: null, lastTransitionTime: null }]);
  // metav1.ObjectMeta.creationTimestamp: `json:",omitempty,omitzero"` -> left out
  assert.deepEqual(node.metadata, { name: 'n' });
  const template = shape({ metadata: { name: 'd' }, spec: { template: { metadata: { creationTimestamp: '0001-01-01T00:00:00Z' } } } }, 'io.k8s.api.apps.v1.Deployment');
  assert.deepEqual((template.spec as Record<string, Record<string, unknown>>).template!.metadata, {});
  // and so when the struct holding it is written as a whole zero value
  const none = shape({ metadata: { name: 'd' }, spec: {} }, 'io.k8s.api.apps.v1.Deployment');
  assert.deepEqual((none.spec as Record<string, Record<string, unknown>>).template, { metadata: {}, spec: { containers: null } });
});

test("a nil slice, map or pointer without omitempty is null; an empty one is kept; null is a value's zero", () => {
  // rbac/v1 ClusterRole.Rules: `json:"rules"`; apps/v1 DeploymentSpec.Selector: `*metav1.LabelSelector json:"selector"`
  const role = shape({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' } }, 'io.k8s.api.rbac.v1.ClusterRole');
  assert.equal(role.rules, null);
  assert.deepEqual(shape({ metadata: { name: 'r' }, rules: [] }, 'io.k8s.api.rbac.v1.ClusterRole').rules, []);
  const deployment = shape({ metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } }, 'io.k8s.api.apps.v1.Deployment');
  const spec = deployment.spec as Record<string, unknown>;
  assert.equal(spec.selector, null);
  assert.deepEqual(spec.strategy, {});
  // a PolicyRule's verbs: `json:"verbs"`; its elements null -> ""
  const rules = shape({ metadata: { name: 'r' }, rules: [{ verbs: ['get', null], resources: null }] }, 'io.k8s.api.rbac.v1.ClusterRole').rules;
  assert.deepEqual(rules, [{ verbs: ['get', ''] }]);
});

test('times as metav1.Time and MicroTime write them: UTC, whole seconds or microseconds; the zero time is null', () => {
  const event = shape(
    {
      metadata: { name: 'e', creationTimestamp: '2024-05-01T12:00:00.75+02:00' },
      involvedObject: {},
      firstTimestamp: '0001-01-01T00:00:00Z',
      lastTimestamp: 'not a time',
      eventTime: '2024-05-01T12:00:00.123456789+02:00',
    },
    `${CORE}.Event`,
  );
  assert.equal((event.metadata as Record<string, unknown>).creationTimestamp, '2024-05-01T10:00:00Z');
  assert.equal(event.firstTimestamp, null);
  assert.equal(event.lastTimestamp, 'not a time', 'a value that does not decode is left to validation');
  assert.equal(event.eventTime, '2024-05-01T10:00:00.123456Z');
  // core/v1 Event: reportingComponent and reportingInstance have no omitempty; source is a struct
  assert.equal(event.reportingComponent, '');
  assert.deepEqual(event.source, {});
  const lease = shape({ metadata: { name: 'l' }, spec: { renewTime: '2024-05-01T10:00:00Z', acquireTime: null } }, 'io.k8s.api.coordination.v1.Lease');
  assert.deepEqual(lease.spec, { renewTime: '2024-05-01T10:00:00.000000Z' });
});

test('quantities in their canonical text; IntOrString as sent, 0 when none; []byte in standard base64', () => {
  const node = shape({ metadata: { name: 'n' }, status: { capacity: { cpu: '1000m', memory: '1024Mi', pods: 110, storage: '1.5Gi', bad: 'x', none: null } } }, `${CORE}.Node`);
  assert.deepEqual((node.status as Record<string, unknown>).capacity, { cpu: '1', memory: '1Gi', pods: '110', storage: '1536Mi', bad: 'x', none: '0' });
  const service = shape({ metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8081 }, { port: 82 }] } }, `${CORE}.Service`);
  assert.deepEqual(((service.spec as Record<string, unknown>).ports as Record<string, unknown>[]).map((p) => p.targetPort), ['http', 8081, 0]);
  const secret = shape({ metadata: { name: 's' }, data: { a: 'aGVs\nbG8=', b: 'QR==', c: [104, 105], d: 'not base64!' } }, `${CORE}.Secret`);
  assert.deepEqual(secret.data, { a: 'aGVsbG8=', b: 'QQ==', c: 'aGk=', d: 'not base64!' });
});

test("an embedded struct's fields are the parent's (Probe's ProbeHandler, Volume's VolumeSource)", () => {
  const pod = shape(
    {
      metadata: { name: 'p' },
      spec: {
        containers: [{ name: 'c', image: 'i', livenessProbe: { httpGet: { port: 8080 }, periodSeconds: 0 } }],
        volumes: [{ name: 'v', configMap: { name: 'cm', items: null } }],
      },
    },
    `${CORE}.Pod`,
  );
  const spec = pod.spec as Record<string, Record<string, unknown>[]>;
  assert.deepEqual(spec.containers![0]!.livenessProbe, { httpGet: { port: 8080 } });
  // ConfigMapVolumeSource embeds LocalObjectReference (name, `json:"name,omitempty"`)
  assert.deepEqual(spec.volumes, [{ name: 'v', configMap: { name: 'cm' } }]);
  // a value of the wrong type is left as it is
  assert.deepEqual(shape({ metadata: { name: 'p' }, spec: 'x' }, `${CORE}.Pod`).spec, 'x');
});

test('raw JSON is kept as sent; none is null for a value field', () => {
  const revision = shape({ metadata: { name: 'r' }, revision: 1 }, 'io.k8s.api.apps.v1.ControllerRevision');
  assert.equal(revision.data, null);
  const kept = { spec: { template: { metadata: { labels: { a: 'b' } } } }, extra: [1, { x: null }] };
  assert.deepEqual(shape({ metadata: { name: 'r' }, revision: 1, data: kept }, 'io.k8s.api.apps.v1.ControllerRevision').data, kept);
});

test('a CustomResourceDefinition: its schemas walked as JSONSchemaProps, the JSON-or-schema types kept', () => {
  const schema = { type: 'object', properties: { spec: { type: 'object', nullable: false, 'x-kubernetes-preserve-unknown-fields': true, items: { type: 'string' } } } };
  const crd = shape(
    { metadata: { name: 'a.b.c' }, spec: { group: 'b.c', names: { plural: 'a', kind: 'A' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] } },
    'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
  );
  const version = ((crd.spec as Record<string, unknown>).versions as Record<string, unknown>[])[0]!;
  assert.deepEqual((version.schema as Record<string, unknown>).openAPIV3Schema, {
    type: 'object',
    properties: { spec: { type: 'object', items: { type: 'string' }, 'x-kubernetes-preserve-unknown-fields': true } },
  });
  // CustomResourceDefinitionStatus: conditions, acceptedNames (a struct: kind and plural always written), storedVersions
  assert.deepEqual(crd.status, { conditions: null, acceptedNames: { plural: '', kind: '' }, storedVersions: null });
});

test('an object nested deeper than any body may be is shaped down to the bound and kept below it, without running out of stack', () => {
  let deep: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < 3000; i++) deep = { type: 'object', properties: { a: deep } };
  const crd = { metadata: { name: 'a.b.c' }, spec: { group: 'b.c', names: { plural: 'a', kind: 'A' }, versions: [{ name: 'v1', schema: { openAPIV3Schema: deep } }] } };
  const shaped = shapes.shape(crd, 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition');
  assert.equal(typeof shaped, 'object');
});

test("every struct of every built-in kind's schema has Go facts for each of its fields", () => {
  // The shapes take field types from the schemas and the rules from the facts: a field with
  // no facts would be taken for an omitempty one. Only TypeMeta's fields (embedded) are
  // expected to come from elsewhere, and they are found through the embedded struct's facts.
  const schemas = new SchemaSet();
  const facts = readGoFacts();
  const missing = new Set<string>();
  const seen = new Set<string>();
  /** The JSON names of a definition's fields, those of the structs it embeds (at any depth) included. */
  const names = (definition: string, into: Set<string>): Set<string> => {
    for (const [go, f] of Object.entries(facts.get(definition)?.fields ?? {})) {
      if (!f.inline) into.add(go);
      else if (!f.go.startsWith('time.') && f.go !== 'Format') {
        const meta = `io.k8s.apimachinery.pkg.apis.meta.v1.${f.go.slice(f.go.indexOf('.') + 1)}`;
        const local = `${definition.slice(0, definition.lastIndexOf('.'))}.${f.go}`;
        names(!f.go.includes('.') && facts.has(local) ? local : meta, into);
      }
    }
    return into;
  };
  for (const { name } of schemas.kinds()) {
    const visit = (definition: string): void => {
      if (seen.has(definition)) return;
      seen.add(definition);
      const schema = schemas.get(definition);
      const named = names(definition, new Set());
      for (const [field, s] of Object.entries(schema?.properties ?? {})) {
        if (!named.has(field)) missing.add(`${definition}.${field}`);
        const refs = [s, s.items, s.additionalProperties].map((x) => (x === undefined ? undefined : SchemaSet.refName(x)));
        for (const ref of refs) if (ref !== undefined) visit(ref);
      }
    };
    visit(name);
  }
  assert.deepEqual([...missing], []);
});
