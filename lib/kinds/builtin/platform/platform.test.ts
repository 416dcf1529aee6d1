/**
 * The platform kinds through the pipeline as the server runs it (decoding, defaults, admission,
 * the memory storage): for each kind, what a create stores (kube's defaults), and the exact 422
 * causes kube answers for invalid creates and updates (type, field path and message, in kube's
 * order).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { KubeObject } from '../../../kube.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../../../services/auth/api.ts';
import type { Pipeline, Target } from '../../../../services/gateway/core/pipeline.ts';
import { MemoryStorage } from '../../../../services/storage/backends/memory.ts';
import { inProcessPipeline, refusal } from '../../../../test/support/pipeline.ts';
import { builtinRegistry } from '../../index.ts';
import { HORIZONTAL_POD_AUTOSCALER } from './autoscaling.ts';
import { INGRESS } from './networking.ts';
import { POD_DISRUPTION_BUDGET } from './policy.ts';

const registry = builtinRegistry();
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
let pipeline: Pipeline;

before(async () => {
  ({ pipeline } = await inProcessPipeline(new MemoryStorage(), registry));
});

type Resource = 'ingresses' | 'ingressclasses' | 'networkpolicies' | 'poddisruptionbudgets' | 'horizontalpodautoscalers' | 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings' | 'storageclasses' | 'priorityclasses';

const GROUP_VERSION: Record<Resource, [string, string]> = {
  ingresses: ['networking.k8s.io', 'v1'],
  ingressclasses: ['networking.k8s.io', 'v1'],
  networkpolicies: ['networking.k8s.io', 'v1'],
  poddisruptionbudgets: ['policy', 'v1'],
  horizontalpodautoscalers: ['autoscaling', 'v2'],
  roles: ['rbac.authorization.k8s.io', 'v1'],
  clusterroles: ['rbac.authorization.k8s.io', 'v1'],
  rolebindings: ['rbac.authorization.k8s.io', 'v1'],
  clusterrolebindings: ['rbac.authorization.k8s.io', 'v1'],
  storageclasses: ['storage.k8s.io', 'v1'],
  priorityclasses: ['scheduling.k8s.io', 'v1'],
};

let serial = 0;

/** The target of `resource` (in "default" when namespaced), and a fresh object name. */
function target(resource: Resource, name = ''): Target {
  const [group, version] = GROUP_VERSION[resource];
  const info = registry.get(group, version, resource);
  assert.ok(info !== undefined, resource);
  return { info, namespace: info.namespaced ? 'default' : '', name };
}

function fresh(): string {
  serial++;
  return `obj-${serial}`;
}

/** The body of an object named `name` with `fields` (spec, rules, ...). */
function body(name: string, fields: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name, ...metadata }, ...fields };
}

/** What a stored object holds beyond its type and metadata (a kind with a status subresource starts with status {}). */
function content(object: KubeObject): Record<string, unknown> {
  const { metadata: _m, kind: _k, apiVersion: _a, ...rest } = object;
  return rest;
}

/** The causes of a refusal as [type, field, message]. */
async function causes(promise: Promise<unknown>): Promise<[string, string, string][]> {
  const err = await refusal(promise, 'Invalid');
  assert.equal(err.code, 422);
  return (err.details?.causes ?? []).map((c) => [c.reason ?? '', c.field ?? '', c.message ?? '']);
}

const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const backend = { service: { name: 'web', port: { number: 80 } } };
const path = (fields: Record<string, unknown> = {}) => ({ path: '/', pathType: 'Prefix', backend, ...fields });
const rule = (fields: Record<string, unknown> = {}) => ({ host: 'example.com', http: { paths: [path()] }, ...fields });
const hpaSpec = (fields: Record<string, unknown> = {}) => ({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...fields });
const cpu = (target: Record<string, unknown>) => ({ type: 'Resource', resource: { name: 'cpu', target } });

/** A new HorizontalPodAutoscaler's status as Go writes it: currentMetrics and desiredReplicas have no omitempty. */
const HPA_STATUS = { currentMetrics: null, desiredReplicas: 0 };

interface DefaultsCase {
  name: string;
  resource: Resource;
  fields: Record<string, unknown>;
  /** What the created object holds beyond its type and metadata. */
  stored: Record<string, unknown>;
}

const DEFAULTS: DefaultsCase[] = [
  {
    name: 'Ingress: no defaults (pathType is required, not defaulted)',
    resource: 'ingresses',
    fields: { spec: { ingressClassName: 'nginx', rules: [rule()] } },
    // the status, a struct value holding one, is written as Go writes an empty one
    stored: { spec: { ingressClassName: 'nginx', rules: [rule()] }, status: { loadBalancer: {} } },
  },
  {
    name: 'IngressClass: parameters get the Cluster scope',
    resource: 'ingressclasses',
    fields: { spec: { controller: 'example.com/ingress', parameters: { apiGroup: 'example.com', kind: 'Params', name: 'p' } } },
    stored: { spec: { controller: 'example.com/ingress', parameters: { apiGroup: 'example.com', kind: 'Params', name: 'p', scope: 'Cluster' } } },
  },
  {
    name: 'NetworkPolicy: policyTypes Ingress, ports TCP',
    resource: 'networkpolicies',
    fields: { spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }] } },
    stored: { spec: { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }], policyTypes: ['Ingress'] } },
  },
  {
    name: 'NetworkPolicy: egress rules add Egress',
    resource: 'networkpolicies',
    fields: { spec: { podSelector: { matchLabels: { app: 'db' } }, egress: [{ ports: [{ port: 'dns' }] }] } },
    stored: { spec: { podSelector: { matchLabels: { app: 'db' } }, egress: [{ ports: [{ port: 'dns', protocol: 'TCP' }] }], policyTypes: ['Ingress', 'Egress'] } },
  },
  {
    name: 'NetworkPolicy: policyTypes given are kept',
    resource: 'networkpolicies',
    fields: { spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } },
    stored: { spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } },
  },
  {
    name: 'PodDisruptionBudget: no defaults',
    resource: 'poddisruptionbudgets',
    fields: { spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } } },
    // the status counts have no omitempty: written 0
    stored: { spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } }, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } },
  },
  {
    name: 'HorizontalPodAutoscaler: minReplicas 1, 80% CPU',
    resource: 'horizontalpodautoscalers',
    fields: { spec: hpaSpec() },
    stored: { spec: hpaSpec({ minReplicas: 1, metrics: [cpu({ type: 'Utilization', averageUtilization: 80 })] }), status: HPA_STATUS },
  },
  {
    name: 'HorizontalPodAutoscaler: metrics and minReplicas given are kept; a behavior gets both rules, filled in',
    resource: 'horizontalpodautoscalers',
    fields: {
      spec: hpaSpec({
        minReplicas: 2,
        metrics: [cpu({ type: 'AverageValue', averageValue: '500m' })],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      }),
    },
    stored: {
      spec: hpaSpec({
        minReplicas: 2,
        metrics: [cpu({ type: 'AverageValue', averageValue: '500m' })],
        behavior: {
          scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Max',
            policies: [
              { type: 'Pods', value: 4, periodSeconds: 15 },
              { type: 'Percent', value: 100, periodSeconds: 15 },
            ],
          },
        },
      }),
      status: HPA_STATUS,
    },
  },
  {
    name: 'HorizontalPodAutoscaler: an empty behavior gets the default rules; scale-down keeps no stabilization window',
    resource: 'horizontalpodautoscalers',
    fields: { spec: hpaSpec({ minReplicas: 1, metrics: [cpu({ type: 'Utilization', averageUtilization: 60 })], behavior: { scaleUp: { selectPolicy: 'Disabled' } } }) },
    stored: {
      spec: hpaSpec({
        minReplicas: 1,
        metrics: [cpu({ type: 'Utilization', averageUtilization: 60 })],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Disabled',
            policies: [
              { type: 'Pods', value: 4, periodSeconds: 15 },
              { type: 'Percent', value: 100, periodSeconds: 15 },
            ],
          },
          scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
        },
      }),
      status: HPA_STATUS,
    },
  },
  {
    name: 'HorizontalPodAutoscaler: quantities are written back as kube writes them',
    resource: 'horizontalpodautoscalers',
    fields: {
      spec: hpaSpec({
        minReplicas: 1,
        metrics: [
          cpu({ type: 'AverageValue', averageValue: '0.5' }),
          { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '1000m' } } },
        ],
      }),
    },
    stored: {
      spec: hpaSpec({
        minReplicas: 1,
        metrics: [cpu({ type: 'AverageValue', averageValue: '500m' }), { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '1' } } }],
      }),
      status: HPA_STATUS,
    },
  },
  {
    name: 'Role: stored as sent',
    resource: 'roles',
    fields: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
    stored: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  },
  {
    name: 'ClusterRole: an aggregationRule is stored as sent',
    resource: 'clusterroles',
    fields: { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate': 'true' } }] } },
    // rules has no omitempty: written null when none
    stored: { rules: null, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate': 'true' } }] } },
  },
  {
    name: 'RoleBinding: roleRef and User/Group subjects get the RBAC group; a ServiceAccount none',
    resource: 'rolebindings',
    fields: {
      roleRef: { kind: 'Role', name: 'reader' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'bot', namespace: 'default' },
      ],
    },
    stored: {
      roleRef: { kind: 'Role', name: 'reader', apiGroup: 'rbac.authorization.k8s.io' },
      subjects: [
        { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
        { kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' },
        { kind: 'ServiceAccount', name: 'bot', namespace: 'default' },
      ],
    },
  },
  {
    name: 'ClusterRoleBinding: the same defaults',
    resource: 'clusterrolebindings',
    fields: { roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'viewers' }] },
    stored: {
      roleRef: { kind: 'ClusterRole', name: 'view', apiGroup: 'rbac.authorization.k8s.io' },
      subjects: [{ kind: 'Group', name: 'viewers', apiGroup: 'rbac.authorization.k8s.io' }],
    },
  },
  {
    name: 'StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate',
    resource: 'storageclasses',
    fields: { provisioner: 'example.com/disk', parameters: { type: 'ssd' } },
    stored: { provisioner: 'example.com/disk', parameters: { type: 'ssd' }, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' },
  },
  {
    name: 'StorageClass: given values are kept',
    resource: 'storageclasses',
    fields: { provisioner: 'example.com/disk', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true },
    stored: { provisioner: 'example.com/disk', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true },
  },
  {
    name: 'PriorityClass: preemptionPolicy PreemptLowerPriority',
    resource: 'priorityclasses',
    fields: { value: 1000 },
    stored: { value: 1000, preemptionPolicy: 'PreemptLowerPriority' },
  },
];

describe('platform kinds: defaults', () => {
  for (const c of DEFAULTS) {
    test(c.name, async () => {
      const name = fresh();
      const created = await pipeline.create(admin, target(c.resource), body(name, structuredClone(c.fields)));
      // A create resets the status: Go's empty one, with the fields it always writes (the case's own)
      const stored = target(c.resource).info.subresources.includes('status') ? { ...c.stored, status: c.stored.status ?? {} } : c.stored;
      assert.deepEqual(content(created), stored);
      assert.deepEqual(content(await pipeline.get(admin, target(c.resource, name))), stored);
    });
  }

  test('the system priority classes exist from the start, as kube creates them', async () => {
    // What the gateway does at start (with the kubernetes Service, the other bootstrap object).
    await pipeline.ensureBootstrapObjects(registry);
    const list = await pipeline.list(admin, target('priorityclasses'), {});
    const system = list.items.filter((pc) => (pc.metadata?.name ?? '').startsWith('system-'));
    assert.deepEqual(
      system.map((pc) => [pc.metadata?.name, pc.value, pc.preemptionPolicy, pc.globalDefault]).sort(),
      [
        ['system-cluster-critical', 2000000000, 'PreemptLowerPriority', undefined],
        ['system-node-critical', 2000001000, 'PreemptLowerPriority', undefined],
      ],
    );
    // Creating them again at the next start leaves them alone.
    const before = system.map((pc) => pc.metadata?.resourceVersion);
    await pipeline.ensureBootstrapObjects(registry);
    const again = await pipeline.list(admin, target('priorityclasses'), {});
    assert.deepEqual(
      again.items.filter((pc) => (pc.metadata?.name ?? '').startsWith('system-')).map((pc) => pc.metadata?.resourceVersion),
      before,
    );
  });
});

interface InvalidCase {
  name: string;
  resource: Resource;
  /** The object to store first, for an update (omitted for a create). */
  old?: Record<string, unknown>;
  fields: Record<string, unknown>;
  /** Metadata besides the (fresh) name, or the whole name. */
  metadata?: Record<string, unknown>;
  causes: [string, string, string][];
}

const INVALID: InvalidCase[] = [
  // Ingress
  {
    name: 'Ingress: neither rules nor a default backend',
    resource: 'ingresses',
    fields: { spec: {} },
    causes: [['FieldValueInvalid', 'spec', 'Invalid value: null: either `defaultBackend` or `rules` must be specified']],
  },
  {
    // kube shows `[]` here (its validation sees the empty list it decoded); this server validates
    // objects in the shape kube writes them (docs/decisions.md), where an empty omitempty list is none
    name: 'Ingress: empty rules are no rules',
    resource: 'ingresses',
    fields: { spec: { rules: [] } },
    causes: [['FieldValueInvalid', 'spec', 'Invalid value: null: either `defaultBackend` or `rules` must be specified']],
  },
  {
    name: 'Ingress: an IP host, a relative path, a service name that is no DNS-1035 label, no port',
    resource: 'ingresses',
    fields: { spec: { rules: [rule({ host: '10.0.0.1', http: { paths: [path({ path: 'api', backend: { service: { name: 'Web', port: {} } } })] } })] } },
    causes: [
      ['FieldValueInvalid', 'spec.rules[0].host', 'Invalid value: "10.0.0.1": must be a DNS name, not an IP address'],
      ['FieldValueInvalid', 'spec.rules[0].http.paths[0].path', 'Invalid value: "api": must be an absolute path'],
      ['FieldValueInvalid', 'spec.rules[0].http.paths[0].backend.service.name', `Invalid value: "Web": ${DNS1035}`],
      ['FieldValueRequired', 'spec.rules[0].http.paths[0].backend', 'Required value: port name or number is required'],
    ],
  },
  {
    name: 'Ingress: pathType is required (and nothing else of the path is checked then)',
    resource: 'ingresses',
    fields: { spec: { rules: [rule({ http: { paths: [{ path: 'x', backend: {} }] } })] } },
    causes: [['FieldValueRequired', 'spec.rules[0].http.paths[0].pathType', 'Required value: pathType must be specified']],
  },
  {
    name: 'Ingress: an unknown pathType',
    resource: 'ingresses',
    fields: { spec: { rules: [rule({ http: { paths: [path({ pathType: 'Regex' })] } })] } },
    causes: [['FieldValueNotSupported', 'spec.rules[0].http.paths[0].pathType', 'Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"']],
  },
  {
    name: 'Ingress: path sequences and suffixes; ImplementationSpecific paths need only be absolute',
    resource: 'ingresses',
    fields: { spec: { rules: [rule({ http: { paths: [path({ path: '/a//b/..', pathType: 'Exact' }), path({ path: '/a/%2F/.', pathType: 'ImplementationSpecific' })] } })] } },
    causes: [
      ['FieldValueInvalid', 'spec.rules[0].http.paths[0].path', `Invalid value: "/a//b/..": must not contain '//'`],
      ['FieldValueInvalid', 'spec.rules[0].http.paths[0].path', `Invalid value: "/a//b/..": cannot end with '/..'`],
    ],
  },
  {
    name: 'Ingress: backends with both or neither target, or both port forms; a resource needs kind and name',
    resource: 'ingresses',
    fields: {
      spec: {
        defaultBackend: { service: { name: 'web', port: { number: 80 } }, resource: { kind: 'Bucket', name: 'b' } },
        rules: [rule({ http: { paths: [path({ backend: {} }), path({ backend: { service: { name: 'web', port: { name: 'http', number: 80 } } } }), path({ backend: { resource: { apiGroup: 'Example.com' } } })] } })],
      },
    },
    causes: [
      ['FieldValueInvalid', 'spec.defaultBackend', 'Invalid value: "": cannot set both resource and service backends'],
      ['FieldValueInvalid', 'spec.rules[0].http.paths[0].backend', 'Invalid value: "": resource or service backend is required'],
      ['FieldValueInvalid', 'spec.rules[0].http.paths[1].backend', 'Invalid value: "": cannot set both port name & port number'],
      ['FieldValueInvalid', 'spec.rules[0].http.paths[2].backend.resource.apiGroup', `Invalid value: "Example.com": ${DNS1123_SUBDOMAIN}`],
      ['FieldValueRequired', 'spec.rules[0].http.paths[2].backend.resource.kind', 'Required value'],
      ['FieldValueRequired', 'spec.rules[0].http.paths[2].backend.resource.name', 'Required value'],
    ],
  },
  {
    name: 'Ingress: port numbers and names as kube checks them; http without paths',
    resource: 'ingresses',
    fields: {
      spec: {
        rules: [
          rule({ http: { paths: [path({ backend: { service: { name: 'web', port: { number: 70000 } } } }), path({ backend: { service: { name: 'web', port: { name: 'HTTP' } } } })] } }),
          rule({ host: 'b.example.com', http: { paths: [] } }),
        ],
      },
    },
    causes: [
      ['FieldValueInvalid', 'spec.rules[0].http.paths[0].backend.service.port.number', 'Invalid value: 70000: must be between 1 and 65535, inclusive'],
      ['FieldValueInvalid', 'spec.rules[0].http.paths[1].backend.service.port.name', 'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
      ['FieldValueInvalid', 'spec.rules[0].http.paths[1].backend.service.port.name', 'Invalid value: "HTTP": must contain at least one letter (a-z)'],
      ['FieldValueRequired', 'spec.rules[1].http.paths', 'Required value'],
    ],
  },
  {
    name: 'Ingress: wildcard hosts ("*." only in front), TLS hosts and secret names',
    resource: 'ingresses',
    fields: { spec: { rules: [rule({ host: '*.example.com' }), rule({ host: 'a.*.com' })], tls: [{ hosts: ['*.example.com', 'Bad.com'], secretName: 'tls_secret' }] } },
    causes: [
      [
        'FieldValueInvalid',
        'spec.rules[1].host',
        "Invalid value: \"a.*.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
      ['FieldValueInvalid', 'spec.tls[0].hosts[1]', `Invalid value: "Bad.com": ${DNS1123_SUBDOMAIN}`],
      ['FieldValueInvalid', 'spec.tls[0].secretName', `Invalid value: "tls_secret": ${DNS1123_SUBDOMAIN}`],
    ],
  },
  {
    name: 'Ingress: the class annotation must match ingressClassName on create',
    resource: 'ingresses',
    metadata: { annotations: { 'kubernetes.io/ingress.class': 'traefik' } },
    fields: { spec: { ingressClassName: 'nginx', rules: [rule()] } },
    causes: [['FieldValueInvalid', 'annotations.kubernetes.io/ingress.class', 'Invalid value: "traefik": must match `ingressClassName` when both are specified']],
  },
  {
    name: 'Ingress: an update keeps a wildcard-host rule the stored object already had wrong',
    resource: 'ingresses',
    old: { spec: { rules: [rule()] } },
    fields: { spec: { rules: [rule({ http: { paths: [path({ path: 'x' })] } })] } },
    causes: [['FieldValueInvalid', 'spec.rules[0].http.paths[0].path', 'Invalid value: "x": must be an absolute path']],
  },
  // IngressClass
  {
    name: 'IngressClass: a controller is required',
    resource: 'ingressclasses',
    fields: { spec: {} },
    causes: [['FieldValueRequired', 'spec.controller', 'Required value']],
  },
  {
    name: 'IngressClass: the controller is a domain-prefixed path',
    resource: 'ingressclasses',
    fields: { spec: { controller: 'nginx' } },
    causes: [['FieldValueInvalid', 'spec.controller', 'Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']],
  },
  {
    name: 'IngressClass: parameters scope and namespace go together',
    resource: 'ingressclasses',
    fields: { spec: { controller: 'example.com/ingress', parameters: { kind: 'Params', name: 'p', scope: 'Namespace' } } },
    causes: [['FieldValueRequired', 'spec.parameters.namespace', "Required value: `parameters.scope` is set to 'Namespace'"]],
  },
  {
    name: 'IngressClass: a cluster-scoped reference has no namespace; scopes are Cluster or Namespace',
    resource: 'ingressclasses',
    fields: { spec: { controller: 'example.com/ingress', parameters: { kind: 'Params', name: 'p', scope: 'Cluster', namespace: 'x' } } },
    causes: [['FieldValueForbidden', 'spec.parameters.namespace', "Forbidden: `parameters.scope` is set to 'Cluster'"]],
  },
  {
    name: 'IngressClass: an unknown scope',
    resource: 'ingressclasses',
    fields: { spec: { controller: 'example.com/ingress', parameters: { kind: 'Params', name: 'p', scope: 'Global' } } },
    causes: [['FieldValueNotSupported', 'spec.parameters.scope', 'Unsupported value: "Global": supported values: "Cluster", "Namespace"']],
  },
  {
    name: 'IngressClass: the controller is immutable',
    resource: 'ingressclasses',
    old: { spec: { controller: 'example.com/ingress' } },
    fields: { spec: { controller: 'example.com/other' } },
    causes: [['FieldValueInvalid', 'spec.controller', 'Invalid value: "example.com/other": field is immutable']],
  },
  // NetworkPolicy
  {
    name: 'NetworkPolicy: ports: numbers, ranges, names and protocols',
    resource: 'networkpolicies',
    fields: {
      spec: {
        podSelector: {},
        ingress: [{ ports: [{ port: 0 }, { port: 8080, endPort: 80 }, { port: 'http', endPort: 90 }, { endPort: 90 }, { protocol: 'ICMP' }] }],
      },
    },
    causes: [
      ['FieldValueInvalid', 'spec.ingress[0].ports[0].port', 'Invalid value: 0: must be between 1 and 65535, inclusive'],
      ['FieldValueInvalid', 'spec.ingress[0].ports[1].endPort', 'Invalid value: 80: must be greater than or equal to `port`'],
      ['FieldValueInvalid', 'spec.ingress[0].ports[2].endPort', 'Invalid value: 90: may not be specified when `port` is non-numeric'],
      ['FieldValueInvalid', 'spec.ingress[0].ports[3].endPort', 'Invalid value: 90: may not be specified when `port` is not specified'],
      ['FieldValueNotSupported', 'spec.ingress[0].ports[4].protocol', 'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'],
    ],
  },
  {
    name: 'NetworkPolicy: peers: one of them, an ipBlock alone, CIDRs and strict-subset exceptions',
    resource: 'networkpolicies',
    fields: {
      spec: {
        podSelector: {},
        egress: [
          {
            to: [
              {},
              { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} },
              { ipBlock: { cidr: '10.0.0.0/33' } },
              { ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24', '10.0.0.0/16', '10.0.1.0/24', 'x'] } },
              { ipBlock: { cidr: '' } },
            ],
          },
        ],
      },
    },
    causes: [
      ['FieldValueRequired', 'spec.egress[0].to[0]', 'Required value: must specify a peer'],
      ['FieldValueForbidden', 'spec.egress[0].to[1]', 'Forbidden: may not specify both ipBlock and another peer'],
      ['FieldValueInvalid', 'spec.egress[0].to[2].ipBlock.cidr', 'Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
      ['FieldValueInvalid', 'spec.egress[0].to[3].ipBlock.except[0]', 'Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`'],
      ['FieldValueInvalid', 'spec.egress[0].to[3].ipBlock.except[1]', 'Invalid value: "10.0.0.0/16": must be a strict subset of `cidr`'],
      ['FieldValueInvalid', 'spec.egress[0].to[3].ipBlock.except[3]', 'Invalid value: "x": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
      ['FieldValueRequired', 'spec.egress[0].to[4].ipBlock.cidr', 'Required value'],
    ],
  },
  {
    name: 'NetworkPolicy: selectors and policyTypes',
    resource: 'networkpolicies',
    fields: {
      spec: {
        podSelector: { matchLabels: { app: 'a b' }, matchExpressions: [{ key: 'tier', operator: 'Equals', values: ['x'] }, { key: 'env', operator: 'In' }] },
        ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists', values: ['a'] }] } }] }],
        policyTypes: ['Ingress', 'Sideways'],
      },
    },
    causes: [
      ['FieldValueInvalid', 'spec.podSelector.matchLabels', `Invalid value: "a b": ${LABEL_VALUE}`],
      ['FieldValueInvalid', 'spec.podSelector.matchExpressions[0].operator', 'Invalid value: "Equals": not a valid selector operator'],
      ['FieldValueRequired', 'spec.podSelector.matchExpressions[1].values', "Required value: must be specified when `operator` is 'In' or 'NotIn'"],
      ['FieldValueForbidden', 'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values', "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"],
      ['FieldValueNotSupported', 'spec.policyTypes[1]', 'Unsupported value: "Sideways": supported values: "Ingress", "Egress"'],
    ],
  },
  {
    name: 'NetworkPolicy: at most two policyTypes',
    resource: 'networkpolicies',
    fields: { spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress', 'Ingress'] } },
    causes: [['FieldValueInvalid', 'spec.policyTypes', 'Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two policyTypes']],
  },
  {
    name: 'NetworkPolicy: an update is validated twice, as kube does it',
    resource: 'networkpolicies',
    old: { spec: { podSelector: {} } },
    fields: { spec: { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] } },
    causes: [
      ['FieldValueInvalid', 'spec.ingress[0].ports[0].port', 'Invalid value: 0: must be between 1 and 65535, inclusive'],
      ['FieldValueInvalid', 'spec.ingress[0].ports[0].port', 'Invalid value: 0: must be between 1 and 65535, inclusive'],
    ],
  },
  // PodDisruptionBudget
  {
    name: 'PodDisruptionBudget: minAvailable and maxUnavailable together (shown as kube\'s internal spec)',
    resource: 'poddisruptionbudgets',
    fields: { spec: { minAvailable: 1, maxUnavailable: '50%', selector: { matchLabels: { app: 'web' } } } },
    causes: [
      [
        'FieldValueInvalid',
        'spec',
        'Invalid value: {"MinAvailable":1,"Selector":{"matchLabels":{"app":"web"}},"MaxUnavailable":"50%","UnhealthyPodEvictionPolicy":null}: minAvailable and maxUnavailable cannot be both set',
      ],
    ],
  },
  {
    name: 'PodDisruptionBudget: percentages up to 100%, integers not negative, a known eviction policy',
    resource: 'poddisruptionbudgets',
    fields: { spec: { minAvailable: '150%', unhealthyPodEvictionPolicy: 'Never' } },
    causes: [
      ['FieldValueInvalid', 'spec.minAvailable', 'Invalid value: "150%": must not be greater than 100%'],
      ['FieldValueNotSupported', 'spec.unhealthyPodEvictionPolicy', 'Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"'],
    ],
  },
  {
    name: 'PodDisruptionBudget: a percentage must look like one',
    resource: 'poddisruptionbudgets',
    fields: { spec: { maxUnavailable: 'half' } },
    causes: [
      [
        'FieldValueInvalid',
        'spec.maxUnavailable',
        "Invalid value: \"half\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ],
    ],
  },
  {
    name: 'PodDisruptionBudget: a negative count',
    resource: 'poddisruptionbudgets',
    fields: { spec: { minAvailable: -1 } },
    causes: [['FieldValueInvalid', 'spec.minAvailable', 'Invalid value: -1: must be greater than or equal to 0']],
  },
  // HorizontalPodAutoscaler
  {
    name: 'HorizontalPodAutoscaler: replica bounds, and scale-to-zero needs an Object or External metric',
    resource: 'horizontalpodautoscalers',
    fields: { spec: hpaSpec({ minReplicas: 0, maxReplicas: 0 }) },
    causes: [
      ['FieldValueInvalid', 'spec.minReplicas', 'Invalid value: 0: must be greater than or equal to 1'],
      ['FieldValueInvalid', 'spec.maxReplicas', 'Invalid value: 0: must be greater than 0'],
      ['FieldValueForbidden', 'spec.metrics', 'Forbidden: must specify at least one Object or External metric to support scaling to zero replicas'],
    ],
  },
  {
    name: 'HorizontalPodAutoscaler: maxReplicas below minReplicas; the target needs a kind and a name',
    resource: 'horizontalpodautoscalers',
    fields: { spec: { scaleTargetRef: { name: 'a/b' }, minReplicas: 3, maxReplicas: 2 } },
    causes: [
      ['FieldValueInvalid', 'spec.maxReplicas', 'Invalid value: 2: must be greater than or equal to `minReplicas`'],
      ['FieldValueRequired', 'spec.scaleTargetRef.kind', 'Required value'],
      ['FieldValueInvalid', 'spec.scaleTargetRef.name', "Invalid value: \"a/b\": may not contain '/'"],
    ],
  },
  {
    name: 'HorizontalPodAutoscaler: a metric has exactly the source of its type',
    resource: 'horizontalpodautoscalers',
    fields: {
      spec: hpaSpec({
        metrics: [
          { type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
          { ...cpu({ type: 'Utilization', averageUtilization: 50 }), pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '1' } } },
          { type: 'Bogus' },
        ],
      }),
    },
    causes: [
      ['FieldValueRequired', 'spec.metrics[0].pods', 'Required value: must populate information for the given metric source'],
      ['FieldValueForbidden', 'spec.metrics[1].pods', 'Forbidden: must populate the given metric source only'],
      ['FieldValueNotSupported', 'spec.metrics[2].type', 'Unsupported value: "Bogus": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"'],
      ['FieldValueNotSupported', 'spec.metrics[2].type', 'Unsupported value: "Bogus": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"'],
    ],
  },
  {
    name: 'HorizontalPodAutoscaler: metric targets',
    resource: 'horizontalpodautoscalers',
    fields: {
      spec: hpaSpec({
        metrics: [
          cpu({ type: 'Percent', averageUtilization: 0 }),
          cpu({ type: 'AverageValue', averageUtilization: 50, averageValue: '100m' }),
          { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '0' } } },
          { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '10', averageValue: '1' } } },
          { type: 'Object', object: { describedObject: { kind: 'Ingress', name: 'web' }, metric: { name: '' }, target: { type: 'Value' } } },
        ],
      }),
    },
    causes: [
      ['FieldValueInvalid', 'spec.metrics[0].resource.target.type', 'Invalid value: "Percent": must be either Utilization, Value, or AverageValue'],
      ['FieldValueInvalid', 'spec.metrics[0].resource.target.averageUtilization', 'Invalid value: 0: must be greater than 0'],
      ['FieldValueForbidden', 'spec.metrics[1].resource.target.averageValue', 'Forbidden: may not set both a target raw value and a target utilization'],
      ['FieldValueInvalid', 'spec.metrics[2].pods.target.averageValue', 'Invalid value: "0": must be positive'],
      ['FieldValueForbidden', 'spec.metrics[3].external.target.value', 'Forbidden: may not set both a target value for metric and a per-pod target'],
      ['FieldValueRequired', 'spec.metrics[4].object.metric.name', 'Required value: must specify a metric name'],
      ['FieldValueRequired', 'spec.metrics[4].object.target.averageValue', 'Required value: must set either a target value or averageValue'],
    ],
  },
  {
    name: 'HorizontalPodAutoscaler: behavior rules',
    resource: 'horizontalpodautoscalers',
    fields: {
      spec: hpaSpec({
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 4000, selectPolicy: 'Avg', policies: [] },
          scaleDown: { policies: [{ type: 'Nodes', value: 0, periodSeconds: 2000 }] },
        },
      }),
    },
    causes: [
      ['FieldValueInvalid', 'spec.behavior.scaleUp.stabilizationWindowSeconds', 'Invalid value: 4000: must be less than or equal to 3600'],
      ['FieldValueNotSupported', 'spec.behavior.scaleUp.selectPolicy', 'Unsupported value: "Avg": supported values: "Disabled", "Max", "Min"'],
      ['FieldValueRequired', 'spec.behavior.scaleUp.policies', 'Required value: must specify at least one Policy'],
      ['FieldValueNotSupported', 'spec.behavior.scaleDown.policies[0].type', 'Unsupported value: "Nodes": supported values: "Percent", "Pods"'],
      ['FieldValueInvalid', 'spec.behavior.scaleDown.policies[0].value', 'Invalid value: 0: must be greater than zero'],
      ['FieldValueInvalid', 'spec.behavior.scaleDown.policies[0].periodSeconds', 'Invalid value: 2000: must be less than or equal to 1800'],
    ],
  },
  // RBAC
  {
    name: 'Role: rules need verbs; a namespaced rule has no non-resource URLs',
    resource: 'roles',
    fields: { rules: [{ apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }] },
    causes: [
      ['FieldValueRequired', 'rules[0].verbs', 'Required value: verbs must contain at least one value'],
      ['FieldValueInvalid', 'rules[1].nonResourceURLs', 'Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs'],
    ],
  },
  {
    name: 'ClusterRole: resource rules need groups and resources, and never mix with URLs',
    resource: 'clusterroles',
    fields: { rules: [{ verbs: ['get'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'], resources: ['pods'] }] },
    causes: [
      ['FieldValueRequired', 'rules[0].apiGroups', 'Required value: resource rules must supply at least one api group'],
      ['FieldValueRequired', 'rules[0].resources', 'Required value: resource rules must supply at least one resource'],
      ['FieldValueInvalid', 'rules[1].nonResourceURLs', 'Invalid value: ["/metrics"]: rules cannot apply to both regular resources and non-resource URLs'],
    ],
  },
  {
    name: 'ClusterRole: an aggregationRule needs valid selectors',
    resource: 'clusterroles',
    fields: { aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'x', operator: 'Near' }] }] } },
    causes: [
      ['FieldValueInvalid', 'aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator', 'Invalid value: "Near": not a valid selector operator'],
      ['FieldValueInvalid', 'aggregationRule.clusterRoleSelectors[0]', 'Invalid value: null: invalid label selector.'],
    ],
  },
  {
    name: 'ClusterRole: an empty aggregationRule',
    resource: 'clusterroles',
    fields: { aggregationRule: {} },
    causes: [['FieldValueRequired', 'aggregationRule.clusterRoleSelectors', 'Required value: at least one clusterRoleSelector required if aggregationRule is non-nil']],
  },
  {
    name: 'ClusterRole: names are path segments',
    resource: 'clusterroles',
    metadata: { name: 'system:a/b' },
    fields: {},
    causes: [['FieldValueInvalid', 'metadata.name', "Invalid value: \"system:a/b\": may not contain '/'"]],
  },
  {
    name: 'RoleBinding: roleRef and subjects',
    resource: 'rolebindings',
    fields: {
      roleRef: { apiGroup: 'example.com', kind: 'Pod', name: '' },
      subjects: [{ kind: 'Robot', name: 'r2' }, { kind: 'ServiceAccount', name: 'bot', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'User' }],
    },
    causes: [
      ['FieldValueNotSupported', 'roleRef.apiGroup', 'Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"'],
      ['FieldValueNotSupported', 'roleRef.kind', 'Unsupported value: "Pod": supported values: "Role", "ClusterRole"'],
      ['FieldValueRequired', 'roleRef.name', 'Required value'],
      ['FieldValueNotSupported', 'subjects[0].kind', 'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"'],
      ['FieldValueNotSupported', 'subjects[1].apiGroup', 'Unsupported value: "rbac.authorization.k8s.io": supported values: ""'],
      ['FieldValueRequired', 'subjects[2].name', 'Required value'],
    ],
  },
  {
    name: 'RoleBinding: a roleRef is required',
    resource: 'rolebindings',
    fields: {},
    causes: [
      ['FieldValueNotSupported', 'roleRef.kind', 'Unsupported value: "": supported values: "Role", "ClusterRole"'],
      ['FieldValueRequired', 'roleRef.name', 'Required value'],
    ],
  },
  {
    name: 'ClusterRoleBinding: only ClusterRoles; service accounts need a namespace',
    resource: 'clusterrolebindings',
    fields: { roleRef: { kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] },
    causes: [
      ['FieldValueNotSupported', 'roleRef.kind', 'Unsupported value: "Role": supported values: "ClusterRole"'],
      ['FieldValueRequired', 'subjects[0].namespace', 'Required value'],
    ],
  },
  {
    name: 'RoleBinding: roleRef cannot change',
    resource: 'rolebindings',
    old: { roleRef: { kind: 'Role', name: 'reader' } },
    fields: { roleRef: { kind: 'ClusterRole', name: 'view' } },
    causes: [['FieldValueInvalid', 'roleRef', 'Invalid value: {"APIGroup":"rbac.authorization.k8s.io","Kind":"ClusterRole","Name":"view"}: cannot change roleRef']],
  },
  {
    name: 'ClusterRoleBinding: roleRef cannot change',
    resource: 'clusterrolebindings',
    old: { roleRef: { kind: 'ClusterRole', name: 'view' } },
    fields: { roleRef: { kind: 'ClusterRole', name: 'edit' } },
    causes: [['FieldValueInvalid', 'roleRef', 'Invalid value: {"APIGroup":"rbac.authorization.k8s.io","Kind":"ClusterRole","Name":"edit"}: cannot change roleRef']],
  },
  // StorageClass
  {
    name: 'StorageClass: a provisioner is required',
    resource: 'storageclasses',
    fields: {},
    causes: [['FieldValueRequired', 'provisioner', 'Required value']],
  },
  {
    name: 'StorageClass: provisioner, parameters, policies and topologies',
    resource: 'storageclasses',
    fields: {
      provisioner: 'example.com/fast disk',
      parameters: { '': 'x' },
      reclaimPolicy: 'Recycle',
      volumeBindingMode: 'Later',
      allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: [] }] }],
    },
    causes: [
      [
        'FieldValueInvalid',
        'provisioner',
        "Invalid value: \"example.com/fast disk\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      ],
      ['FieldValueInvalid', 'parameters', 'Invalid value: "": field can not be empty.'],
      ['FieldValueNotSupported', 'reclaimPolicy', 'Unsupported value: "Recycle": supported values: "Delete", "Retain"'],
      ['FieldValueNotSupported', 'volumeBindingMode', 'Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"'],
      ['FieldValueRequired', 'allowedTopologies[0].matchLabelExpressions[0].values', 'Required value'],
    ],
  },
  {
    name: 'StorageClass: no repeated values, keys or terms in allowedTopologies (an empty term counts as repeated, as in kube)',
    resource: 'storageclasses',
    fields: {
      provisioner: 'example.com/disk',
      allowedTopologies: [
        { matchLabelExpressions: [{ key: 'zone', values: ['a', 'b', 'a'] }, { key: 'zone', values: ['c'] }] },
        { matchLabelExpressions: [{ key: 'zone', values: ['c'] }] },
        { matchLabelExpressions: [] },
      ],
    },
    causes: [
      ['FieldValueDuplicate', 'allowedTopologies[0].matchLabelExpressions[0].values[2]', 'Duplicate value: "a"'],
      ['FieldValueDuplicate', 'allowedTopologies[0].matchLabelExpressions[1].key', 'Duplicate value: "zone"'],
      ['FieldValueDuplicate', 'allowedTopologies[1].matchLabelExpressions', 'Duplicate value: ""'],
      ['FieldValueDuplicate', 'allowedTopologies[2].matchLabelExpressions', 'Duplicate value: ""'],
    ],
  },
  {
    name: 'StorageClass: provisioner, parameters and reclaimPolicy are forbidden to change; volumeBindingMode is immutable',
    resource: 'storageclasses',
    old: { provisioner: 'example.com/disk', parameters: { type: 'ssd' }, reclaimPolicy: 'Retain' },
    fields: { provisioner: 'example.com/other', parameters: { type: 'hdd' }, volumeBindingMode: 'WaitForFirstConsumer' },
    causes: [
      ['FieldValueForbidden', 'parameters', 'Forbidden: updates to parameters are forbidden.'],
      ['FieldValueForbidden', 'provisioner', 'Forbidden: updates to provisioner are forbidden.'],
      ['FieldValueForbidden', 'reclaimPolicy', 'Forbidden: updates to reclaimPolicy are forbidden.'],
      ['FieldValueInvalid', 'volumeBindingMode', 'Invalid value: "WaitForFirstConsumer": field is immutable'],
    ],
  },
  // PriorityClass
  {
    name: 'PriorityClass: values above one billion are for system classes',
    resource: 'priorityclasses',
    fields: { value: 1000000001 },
    causes: [['FieldValueForbidden', 'value', 'Forbidden: maximum allowed value of a user defined priority is 1000000000']],
  },
  {
    name: 'PriorityClass: the "system-" prefix is reserved',
    resource: 'priorityclasses',
    metadata: { name: 'system-batch' },
    fields: { value: 10 },
    causes: [['FieldValueForbidden', 'metadata.name', "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-batch is not a known system priority class"]],
  },
  {
    name: 'PriorityClass: a system class has its value',
    resource: 'priorityclasses',
    metadata: { name: 'system-node-critical' },
    fields: { value: 10, preemptionPolicy: 'Sometimes' },
    causes: [
      ['FieldValueForbidden', 'metadata.name', "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000"],
      ['FieldValueNotSupported', 'preemptionPolicy', 'Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"'],
    ],
  },
  {
    name: 'PriorityClass: value and preemptionPolicy do not change',
    resource: 'priorityclasses',
    old: { value: 100 },
    fields: { value: 200, preemptionPolicy: 'Never' },
    causes: [
      ['FieldValueForbidden', 'value', 'Forbidden: may not be changed in an update.'],
      ['FieldValueInvalid', 'preemptionPolicy', 'Invalid value: "Never": field is immutable'],
    ],
  },
];

describe('platform kinds: validation (422 causes)', () => {
  for (const c of INVALID) {
    test(c.name, async () => {
      const named = typeof c.metadata?.name === 'string';
      const name = named ? String(c.metadata?.name) : fresh();
      const metadata = { ...c.metadata, name };
      if (c.old === undefined) {
        assert.deepEqual(await causes(pipeline.create(admin, target(c.resource), body(name, structuredClone(c.fields), metadata))), c.causes);
        if (!named) await refusal(pipeline.get(admin, target(c.resource, name)), 'NotFound');
        return;
      }
      const stored = await pipeline.create(admin, target(c.resource), body(name, structuredClone(c.old), metadata));
      assert.deepEqual(await causes(pipeline.update(admin, target(c.resource, name), body(name, structuredClone(c.fields), metadata))), c.causes);
      assert.deepEqual(await pipeline.get(admin, target(c.resource, name)), stored);
    });
  }

  test('RBAC names may hold colons, as kube\'s system roles do; PodDisruptionBudget names are path segments', async () => {
    const role = await pipeline.create(admin, target('clusterroles'), body('system:aggregate-to-view', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }));
    assert.equal(role.metadata?.name, 'system:aggregate-to-view');
    const generated = await pipeline.create(admin, target('roles'), body('', {}, { generateName: 'pod:reader.' }));
    assert.match(generated.metadata?.name ?? '', /^pod:reader\.[a-z0-9]{5}$/);
    const pdb = await pipeline.create(admin, target('poddisruptionbudgets'), body('Web_PDB', { spec: { maxUnavailable: 1 } }));
    assert.equal(pdb.metadata?.name, 'Web_PDB');
    assert.deepEqual(await causes(pipeline.create(admin, target('ingresses'), body('Web_Ingress', { spec: { defaultBackend: backend } }))), [
      ['FieldValueInvalid', 'metadata.name', `Invalid value: "Web_Ingress": ${DNS1123_SUBDOMAIN}`],
    ]);
  });
});

describe('platform kinds: writes to status', () => {
  test('Ingress: load-balancer IPs (those already stored pass) and hostnames', () => {
    const validate = INGRESS.statusStrategy?.validate;
    assert.ok(validate !== undefined);
    const old: KubeObject = { status: { loadBalancer: { ingress: [{ ip: '010.0.0.1' }] } } };
    const object: KubeObject = { status: { loadBalancer: { ingress: [{ ip: '010.0.0.1' }, { ip: 'nope' }, { hostname: '10.0.0.2' }, { hostname: 'lb.example.com' }] } } };
    assert.deepEqual(validate(object, old), [
      { type: 'FieldValueInvalid', field: 'status.loadBalancer.ingress[1].ip', value: 'nope', detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' },
      { type: 'FieldValueInvalid', field: 'status.loadBalancer.ingress[2].hostname', value: '10.0.0.2', detail: 'must be a DNS name, not an IP address' },
    ]);
  });

  test('PodDisruptionBudget: conditions and non-negative counts', () => {
    const validate = POD_DISRUPTION_BUDGET.statusStrategy?.validate;
    assert.ok(validate !== undefined);
    const condition = { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', lastTransitionTime: '2024-01-01T00:00:00Z' };
    const object: KubeObject = {
      status: { disruptionsAllowed: -1, expectedPods: 2, conditions: [{ ...condition, status: 'Maybe' }, { ...condition, reason: 'Not:ok!' }, { type: 'Other', status: 'False' }] },
    };
    assert.deepEqual(validate(object, {}), [
      { type: 'FieldValueNotSupported', field: 'status.conditions[0].status', value: 'Maybe', detail: 'supported values: "False", "True", "Unknown"' },
      { type: 'FieldValueDuplicate', field: 'status.conditions[1].type', value: 'DisruptionAllowed', detail: '' },
      {
        type: 'FieldValueInvalid',
        field: 'status.conditions[1].reason',
        value: 'Not:ok!',
        detail:
          "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')",
      },
      { type: 'FieldValueRequired', field: 'status.conditions[2].lastTransitionTime', detail: '' },
      { type: 'FieldValueRequired', field: 'status.conditions[2].reason', detail: '' },
      { type: 'FieldValueInvalid', field: 'status.disruptionsAllowed', value: -1, detail: 'must be greater than or equal to 0' },
    ]);
  });

  test('HorizontalPodAutoscaler: non-negative replica counts', () => {
    const validate = HORIZONTAL_POD_AUTOSCALER.statusStrategy?.validate;
    assert.ok(validate !== undefined);
    assert.deepEqual(validate({ status: { currentReplicas: -2, desiredReplicas: 3 } }, {}), [
      { type: 'FieldValueInvalid', field: 'status.currentReplicas', value: -2, detail: 'must be greater than or equal to 0' },
    ]);
  });
});
