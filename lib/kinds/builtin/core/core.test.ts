/**
 * The core kinds through the gateway's pipeline, as the server runs them (decoding with the
 * kind's defaults, the admission chain, storage): for each kind, what a created object holds
 * after kube's defaults, and the exact 422 causes kube gives for invalid objects and updates.
 * The texts are kube's (pkg/apis/core/validation, pkg/apis/coordination/validation,
 * pkg/apis/discovery/validation at 1.36).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { StatusCause } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { builtinRegistry, type KindDefinition } from '../../index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../../../services/auth/api.ts';
import type { Pipeline, Target } from '../../../../services/gateway/core/pipeline.ts';
import { MemoryStorage } from '../../../../services/storage/backends/memory.ts';
import { inProcessPipeline, refusal } from '../../../../test/support/pipeline.ts';

const registry = builtinRegistry();
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };
let pipeline: Pipeline;

before(async () => {
  ({ pipeline } = await inProcessPipeline(new MemoryStorage(), registry));
});

function kind(resource: string): KindDefinition {
  const found = registry.all.find((k) => k.resource === resource && k.source === 'builtin');
  assert.ok(found, resource);
  return found;
}

function target(resource: string, name = ''): Target {
  const info = kind(resource);
  return { info, namespace: info.namespaced ? 'default' : '', name };
}

/** A body of `resource` named `name`, with its kind and apiVersion. */
function body(resource: string, name: string, fields: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  const info = kind(resource);
  return {
    apiVersion: info.group === '' ? info.version : `${info.group}/${info.version}`,
    kind: info.kind,
    metadata: { name, ...metadata },
    ...structuredClone(fields),
  };
}

/** The object as the tables state it: metadata down to what the client sent, system fields left out. */
function comparable(object: KubeObject): Record<string, unknown> {
  const { metadata, apiVersion: _a, kind: _k, ...rest } = object;
  // managedFields: the creator's entry, as kube records it (test/integration/server-side-apply.test.ts covers them).
  const { uid: _u, creationTimestamp: _c, resourceVersion: _r, generation: _g, namespace: _n, managedFields, ...meta } = metadata ?? {};
  assert.ok(managedFields === undefined || (Array.isArray(managedFields) && managedFields.every((e: { operation?: string }) => e.operation === 'Update')));
  return { metadata: meta, ...rest };
}

/** The causes of a 422, as [field, message] pairs (the message holds the reason's words). */
function causesOf(causes: StatusCause[] | undefined): Array<[string, string]> {
  return (causes ?? []).map((c) => [c.field ?? '', c.message ?? '']);
}

const NOW_STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
let unique = 0;

interface DefaultCase {
  what: string;
  resource: string;
  fields: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** Everything but kind, apiVersion and the system fields of metadata. */
  expected: Record<string, unknown>;
}

const PV_SOURCE = { hostPath: { path: '/data' } };

const DEFAULTS: DefaultCase[] = [
  {
    what: 'Secret: type Opaque; stringData merged into data as base64 (replacing a key of the same name) and dropped',
    resource: 'secrets',
    fields: { data: { b: 'eA==', a: 'b2xk' }, stringData: { a: 'new', c: 'hello' } },
    expected: { data: { a: 'bmV3', b: 'eA==', c: 'aGVsbG8=' }, type: 'Opaque' },
  },
  {
    what: 'Secret: a given type is kept, an empty stringData dropped',
    resource: 'secrets',
    fields: { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' }, stringData: {} },
    expected: { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' } },
  },
  {
    what: 'ServiceAccount: secret references kept by name only',
    resource: 'serviceaccounts',
    fields: { secrets: [{ name: 'token', kind: 'Secret', namespace: 'elsewhere', uid: 'u' }, { uid: 'only' }], automountServiceAccountToken: false },
    expected: { secrets: [{ name: 'token' }, {}], automountServiceAccountToken: false },
  },
  {
    what: 'Endpoints: a port without a protocol is TCP',
    resource: 'endpoints',
    fields: { subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }] },
    expected: {
      subsets: [
        {
          addresses: [{ ip: '10.0.0.1' }],
          ports: [
            { name: 'http', port: 80, protocol: 'TCP' },
            { name: 'dns', port: 53, protocol: 'UDP' },
          ],
        },
      ],
    },
  },
  {
    what: 'Event: stored as sent',
    resource: 'events',
    fields: { involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' }, reason: 'Started', message: 'started', type: 'Normal', count: 2 },
    // what Go writes for the fields not sent: struct values (source, the times) and the
    // reporting fields without omitempty
    expected: {
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' },
      reason: 'Started',
      message: 'started',
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      type: 'Normal',
      count: 2,
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    },
  },
  {
    what: 'LimitRange: a Container item gets its default from max and its default request from the default, else the min; quantities canonical',
    resource: 'limitranges',
    fields: {
      spec: {
        limits: [
          { type: 'Container', max: { cpu: '2000m', memory: '1Gi' }, min: { cpu: '0.1', 'ephemeral-storage': '1k' }, default: { memory: '512Mi' } },
          { type: 'Pod', max: { cpu: 4 } },
          { type: 'PersistentVolumeClaim', min: { storage: '1.5Gi' } },
        ],
      },
    },
    expected: {
      spec: {
        limits: [
          {
            type: 'Container',
            max: { cpu: '2', memory: '1Gi' },
            min: { cpu: '100m', 'ephemeral-storage': '1k' },
            default: { memory: '512Mi', cpu: '2' },
            defaultRequest: { memory: '512Mi', cpu: '2', 'ephemeral-storage': '1k' },
          },
          { type: 'Pod', max: { cpu: '4' } },
          { type: 'PersistentVolumeClaim', min: { storage: '1536Mi' } },
        ],
      },
    },
  },
  {
    what: 'ResourceQuota: hard limits canonical (rounded up to milli); the status the client sent is dropped',
    resource: 'resourcequotas',
    fields: { spec: { hard: { 'requests.cpu': '1000m', 'limits.memory': '2048Mi', pods: 10, 'requests.storage': '0.0001' } }, status: { hard: { pods: '1' } } },
    expected: { spec: { hard: { 'requests.cpu': '1', 'limits.memory': '2Gi', pods: '10', 'requests.storage': '1m' } }, status: {} },
  },
  {
    what: 'PersistentVolume: reclaim policy Retain, volume mode Filesystem, hostPath type "", capacity canonical, Pending since now',
    resource: 'persistentvolumes',
    fields: { spec: { capacity: { storage: '1.5Gi' }, accessModes: ['ReadWriteOnce'], ...PV_SOURCE }, status: { phase: 'Bound' } },
    expected: {
      spec: { capacity: { storage: '1536Mi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data', type: '' }, persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' },
      status: { phase: 'Pending', lastPhaseTransitionTime: NOW_STAMP },
    },
  },
  {
    what: 'PersistentVolume: the defaults of rbd and a given reclaim policy',
    resource: 'persistentvolumes',
    fields: { spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Delete', rbd: { monitors: ['m'], image: 'i' } } },
    expected: {
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadOnlyMany'],
        persistentVolumeReclaimPolicy: 'Delete',
        rbd: { monitors: ['m'], image: 'i', pool: 'rbd', user: 'admin', keyring: '/etc/ceph/keyring' },
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Pending', lastPhaseTransitionTime: NOW_STAMP },
    },
  },
  {
    what: 'PersistentVolumeClaim: volume mode Filesystem, phase Pending, requests canonical, dataSourceRef mirrored from dataSource',
    resource: 'persistentvolumeclaims',
    fields: {
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: 1000 } }, dataSource: { kind: 'PersistentVolumeClaim', name: 'src' } },
      status: { phase: 'Bound' },
    },
    expected: {
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1k' } },
        // apiGroup: a pointer without omitempty, written null when nil
        dataSource: { apiGroup: null, kind: 'PersistentVolumeClaim', name: 'src' },
        dataSourceRef: { apiGroup: null, kind: 'PersistentVolumeClaim', name: 'src' },
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Pending' },
    },
  },
  {
    what: 'Lease: stored as sent',
    resource: 'leases',
    fields: { spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } },
    expected: { spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } },
  },
  {
    what: 'EndpointSlice: a port without a name is named "", without a protocol TCP',
    resource: 'endpointslices',
    fields: { addressType: 'IPv4', endpoints: [{ addresses: ['10.1.2.3'] }], ports: [{ port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }] },
    metadata: { labels: { 'kubernetes.io/service-name': 'web' } },
    expected: {
      addressType: 'IPv4',
      // conditions: a struct value, written {} when not sent
      endpoints: [{ addresses: ['10.1.2.3'], conditions: {} }],
      ports: [
        { port: 8080, name: '', protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    },
  },
];

/** deepEqual, where a RegExp in `expected` matches a string. */
function assertMatches(actual: unknown, expected: unknown, path = ''): void {
  if (expected instanceof RegExp) {
    assert.ok(typeof actual === 'string' && expected.test(actual), `${path}: ${String(actual)} does not match ${String(expected)}`);
    return;
  }
  if (typeof expected === 'object' && expected !== null && !Array.isArray(expected)) {
    assert.ok(typeof actual === 'object' && actual !== null && !Array.isArray(actual), `${path}: not an object`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${path}: keys`);
    for (const [k, v] of Object.entries(expected)) assertMatches((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: not an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((v, i) => assertMatches(actual[i], v, `${path}[${i}]`));
    return;
  }
  assert.deepEqual(actual, expected, path);
}

describe('defaults of the core kinds, as a created object shows them', () => {
  for (const c of DEFAULTS) {
    test(c.what, async () => {
      const name = `d${++unique}`;
      const created = await pipeline.create(admin, target(c.resource), body(c.resource, name, c.fields, c.metadata));
      assertMatches(comparable(created), { metadata: { name, ...(c.metadata ?? {}) }, ...c.expected });
      // What is read back is what the create answered.
      const read = await pipeline.get(admin, target(c.resource, name));
      assert.deepEqual(comparable(read), comparable(created));
    });
  }
});

interface InvalidCase {
  what: string;
  resource: string;
  fields: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  causes: Array<[string, string]>;
}

const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const b64 = (s: string): string => Buffer.from(s).toString('base64');

const INVALID: InvalidCase[] = [
  {
    what: 'Secret: a key that is no config key',
    resource: 'secrets',
    fields: { data: { 'a b': 'eA==', '..x': 'eA==' } },
    causes: [
      ['data[a b]', `Invalid value: "a b": ${CONFIG_KEY_MSG}`],
      ['data[..x]', "Invalid value: \"..x\": must not start with '..'"],
    ],
  },
  {
    what: 'Secret: more than 1 MiB of data (stringData counted once merged)',
    resource: 'secrets',
    fields: { data: { a: Buffer.alloc(600 * 1024).toString('base64') }, stringData: { b: 'x'.repeat(500 * 1024) } },
    causes: [['data', 'Too long: may not be more than 1048576 bytes']],
  },
  {
    what: 'Secret: a service account token without the account name annotation',
    resource: 'secrets',
    fields: { type: 'kubernetes.io/service-account-token' },
    causes: [['metadata.annotations[kubernetes.io/service-account.name]', 'Required value']],
  },
  {
    what: 'Secret: a docker config JSON without its key',
    resource: 'secrets',
    fields: { type: 'kubernetes.io/dockerconfigjson', data: { other: 'eA==' } },
    causes: [['data[.dockerconfigjson]', 'Required value']],
  },
  {
    what: 'Secret: a docker config that is no JSON object (its contents redacted)',
    resource: 'secrets',
    fields: { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths": ' } },
    causes: [['data[.dockerconfigjson]', 'Invalid value: "<secret contents redacted>": unexpected end of JSON input']],
  },
  {
    what: 'Secret: a legacy docker config that is a JSON array',
    resource: 'secrets',
    fields: { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64('[1]') } },
    causes: [['data[.dockercfg]', 'Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}']],
  },
  {
    what: 'Secret: TLS without its certificate and key',
    resource: 'secrets',
    fields: { type: 'kubernetes.io/tls', data: {} },
    causes: [
      ['data[tls.crt]', 'Required value'],
      ['data[tls.key]', 'Required value'],
    ],
  },
  {
    what: 'Secret: basic auth with neither username nor password',
    resource: 'secrets',
    fields: { type: 'kubernetes.io/basic-auth', stringData: { user: 'x' } },
    causes: [
      ['data[username]', 'Required value'],
      ['data[password]', 'Required value'],
    ],
  },
  {
    what: 'Secret: SSH auth with an empty private key',
    resource: 'secrets',
    fields: { type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': '' } },
    causes: [['data[ssh-privatekey]', 'Required value']],
  },
  {
    what: 'Endpoints: a subset without addresses, a bad IP, a loopback IP, ports without names',
    resource: 'endpoints',
    fields: {
      subsets: [
        { ports: [{ port: 80 }] },
        { addresses: [{ ip: '10.0.0.300' }, { ip: '127.0.0.1', hostname: 'Bad_Host' }], ports: [{ port: 80 }, { name: 'b', port: 0, protocol: 'HTTP' }] },
      ],
    },
    causes: [
      ['subsets[0]', 'Required value: must specify `addresses` or `notReadyAddresses`'],
      ['subsets[1].addresses[0].ip', 'Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
      ['subsets[1].addresses[0].ip', 'Invalid value: "10.0.0.300": must be a valid IP address'],
      [
        'subsets[1].addresses[1].hostname',
        "Invalid value: \"Bad_Host\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
      ['subsets[1].addresses[1].ip', 'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
      ['subsets[1].ports[0].name', 'Required value'],
      ['subsets[1].ports[1].port', 'Invalid value: 0: must be between 1 and 65535, inclusive'],
      ['subsets[1].ports[1].protocol', 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
    ],
  },
  {
    what: 'Event: an old-style event whose namespace is not its object\'s',
    resource: 'events',
    fields: { involvedObject: { kind: 'Pod', namespace: 'other', name: 'p' } },
    causes: [['involvedObject.namespace', 'Invalid value: "other": does not match event.namespace']],
  },
  {
    what: 'Event: a new-style event needs its reporting controller, instance, action and reason',
    resource: 'events',
    fields: { involvedObject: { kind: 'Node', name: 'n' }, eventTime: '2024-05-01T10:00:00.000000Z', reportingInstance: 'x'.repeat(129), message: 'm'.repeat(1025) },
    causes: [
      ['reportingController', 'Required value'],
      ['reportingController', 'Invalid value: "": name part must be non-empty'],
      [
        'reportingController',
        "Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      ],
      ['reportingInstance', 'Invalid value: "": can have at most 128 characters'],
      ['action', 'Required value'],
      ['reason', 'Required value'],
      ['message', 'Invalid value: "": can have at most 1024 characters'],
    ],
  },
  {
    what: 'LimitRange: min above max, defaults outside the range, a ratio below 1, an unknown type twice',
    resource: 'limitranges',
    fields: {
      spec: {
        limits: [
          { type: 'Container', max: { cpu: '1' }, min: { cpu: '2' }, maxLimitRequestRatio: { memory: '0.5' } },
          { type: 'Pod', default: { cpu: '1' } },
          { type: 'Widget' },
          { type: 'Widget' },
        ],
      },
    },
    causes: [
      ['spec.limits[0].min[cpu]', 'Invalid value: "2": min value 2 is greater than max value 1'],
      ['spec.limits[0].defaultRequest[cpu]', 'Invalid value: "1": min value 2 is greater than default request value 1'],
      ['spec.limits[0].default[cpu]', 'Invalid value: "2": min value 2 is greater than default value 1'],
      ['spec.limits[0].maxLimitRequestRatio[memory]', 'Invalid value: "500m": ratio 500m is less than 1'],
      ['spec.limits[1].default', "Forbidden: may not be specified when `type` is 'Pod'"],
      ['spec.limits[2].type', 'Invalid value: "Widget": must be a standard limit type or fully qualified'],
      ['spec.limits[3].type', 'Invalid value: "Widget": must be a standard limit type or fully qualified'],
      ['spec.limits[3].type', 'Duplicate value: "Widget"'],
    ],
  },
  {
    what: 'LimitRange: a ratio above max/min, a PVC item without storage bounds, a resource containers cannot ask for',
    resource: 'limitranges',
    fields: {
      spec: {
        limits: [
          { type: 'Container', max: { cpu: '1', pods: '1' }, min: { cpu: '500m' }, maxLimitRequestRatio: { cpu: '3' } },
          { type: 'PersistentVolumeClaim', max: { cpu: '1' } },
        ],
      },
    },
    causes: [
      ['spec.limits[0].max[pods]', 'Invalid value: "pods": must be a standard resource for containers'],
      // The defaults copied from max carry the name along.
      ['spec.limits[0].default[pods]', 'Invalid value: "pods": must be a standard resource for containers'],
      ['spec.limits[0].defaultRequest[pods]', 'Invalid value: "pods": must be a standard resource for containers'],
      ['spec.limits[0].maxLimitRequestRatio[cpu]', 'Invalid value: "3": ratio 3 is greater than max/min = 2.000000'],
      ['spec.limits[1].limits', 'Required value: either minimum or maximum storage value is required, but neither was provided'],
    ],
  },
  {
    what: 'ResourceQuota: unknown resources, a fractional count, a negative amount, conflicting and misapplied scopes',
    resource: 'resourcequotas',
    fields: { spec: { hard: { pods: '1.5', 'requests.cpu': '-1', foo: '1', 'count/deployments.apps': '2' }, scopes: ['BestEffort', 'NotBestEffort'] } },
    causes: [
      ['spec.hard[pods]', 'Invalid value: "1500m": must be an integer'],
      ['spec.hard[requests.cpu]', 'Invalid value: "-1": must be greater than or equal to 0'],
      ['spec.hard[foo]', 'Invalid value: "foo": must be a standard resource type or fully qualified'],
      ['spec.hard[foo]', 'Invalid value: "foo": must be a standard resource for quota'],
      ['spec.scopes', 'Invalid value: ["BestEffort","NotBestEffort"]: unsupported scope applied to resource'],
      ['spec.scopes', 'Invalid value: ["BestEffort","NotBestEffort"]: conflicting scopes'],
    ],
  },
  {
    what: 'PersistentVolume: no access modes, capacity or source',
    resource: 'persistentvolumes',
    fields: { spec: {} },
    causes: [
      ['spec.accessModes', 'Required value'],
      ['spec.capacity', 'Required value'],
      ['spec.capacity', 'Unsupported value: null: supported values: "storage"'],
      ['spec', 'Required value: must specify a volume type'],
    ],
  },
  {
    what: 'PersistentVolume: two sources, a capacity beside storage, a bad mode, ReadWriteOncePod mixed',
    resource: 'persistentvolumes',
    fields: {
      spec: {
        capacity: { storage: '0', cpu: '1' },
        accessModes: ['ReadWriteOncePod', 'ReadWriteOnce', 'Sometimes'],
        persistentVolumeReclaimPolicy: 'Keep',
        volumeMode: 'Tape',
        nfs: { server: 'nfs', path: 'relative' },
        hostPath: { path: '/a/../b', type: 'Pipe' },
        storageClassName: 'Fast',
      },
    },
    causes: [
      ['spec.accessModes', 'Unsupported value: "Sometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'],
      ['spec.accessModes', 'Forbidden: may not use ReadWriteOncePod with other access modes'],
      ['spec.capacity', 'Unsupported value: {"cpu":"1","storage":"0"}: supported values: "storage"'],
      ['spec.capacity[storage]', 'Invalid value: "0": must be greater than zero'],
      ['spec.persistentVolumeReclaimPolicy', 'Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"'],
      ['spec.hostPath.path', 'Invalid value: "/a/../b": must not contain \'..\''],
      ['spec.hostPath.type', 'Unsupported value: "Pipe": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"'],
      ['spec.nfs', 'Forbidden: may not specify more than 1 volume type'],
      [
        'spec.storageClassName',
        "Invalid value: \"Fast\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
      ['spec.volumeMode', 'Unsupported value: "Tape": supported values: "Block", "Filesystem"'],
    ],
  },
  {
    what: 'PersistentVolume: a local volume needs node affinity; csi needs a driver and handle',
    resource: 'persistentvolumes',
    fields: { spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], local: { path: '/mnt/disk' }, volumeAttributesClassName: '' } },
    causes: [
      ['spec.nodeAffinity', 'Required value: Local volume requires node affinity'],
      ['spec.volumeAttributesClassName', 'Required value: an empty string is disallowed'],
      ['spec.csi', 'Required value: has to be specified when using volumeAttributesClassName'],
    ],
  },
  {
    what: 'PersistentVolumeClaim: no access modes, no storage request',
    resource: 'persistentvolumeclaims',
    fields: { spec: { resources: { requests: { cpu: '1' } } } },
    causes: [
      ['spec.accessModes', 'Required value: at least 1 access mode is required'],
      ['spec.resources[storage]', 'Required value'],
    ],
  },
  {
    what: 'PersistentVolumeClaim: a zero request, a data source of an unknown kind, a bad volume mode',
    resource: 'persistentvolumeclaims',
    fields: { spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '0' } }, volumeMode: 'Tape', dataSource: { kind: 'Snapshot', name: 's' } } },
    causes: [
      ['spec.resources[storage]', 'Invalid value: "0": must be greater than zero'],
      ['spec.volumeMode', 'Unsupported value: "Tape": supported values: "Block", "Filesystem"'],
      ['spec.dataSource', "Invalid value: \"Snapshot\": must be 'PersistentVolumeClaim' when referencing the default apiGroup"],
      ['spec.dataSourceRef', "Invalid value: \"Snapshot\": must be 'PersistentVolumeClaim' when referencing the default apiGroup"],
    ],
  },
  {
    what: 'Lease: a duration that is not positive, negative transitions, an unknown strategy, a preferred holder without one',
    resource: 'leases',
    fields: { spec: { leaseDurationSeconds: 0, leaseTransitions: -1, preferredHolder: 'a' } },
    causes: [
      ['spec.leaseDurationSeconds', 'Invalid value: 0: must be greater than 0'],
      ['spec.leaseTransitions', 'Invalid value: -1: must be greater than or equal to 0'],
      ['spec.preferredHolder', 'Forbidden: may only be specified if `strategy` is defined'],
    ],
  },
  {
    what: 'Lease: a strategy kube does not know',
    resource: 'leases',
    fields: { spec: { strategy: 'Youngest' } },
    causes: [['spec.strategy.strategy', 'Unsupported value: "Youngest": supported values: "OldestEmulationVersion"']],
  },
  {
    what: 'EndpointSlice: no address type',
    resource: 'endpointslices',
    fields: { endpoints: [] },
    causes: [['addressType', 'Required value']],
  },
  {
    what: 'EndpointSlice: addresses not of the slice\'s type, special ones, duplicate port names, an unknown protocol',
    resource: 'endpointslices',
    fields: {
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1', '2001:db8::1', '169.254.1.1'] }, { addresses: [] }],
      ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81, protocol: 'QUIC' }],
    },
    causes: [
      ['endpoints[0].addresses[1]', 'Invalid value: "2001:db8::1": must be a valid IPv4 address'],
      ['endpoints[0].addresses[2]', 'Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
      ['endpoints[1].addresses', 'Required value: must contain at least 1 address'],
      ['ports[1].name', 'Duplicate value: "http"'],
      ['ports[1].protocol', 'Unsupported value: "QUIC": supported values: "SCTP", "TCP", "UDP"'],
    ],
  },
  {
    what: 'EndpointSlice: FQDN addresses and an unknown address type',
    resource: 'endpointslices',
    fields: { addressType: 'FQDN', endpoints: [{ addresses: ['example.com', 'localhost', 'Bad_Name.example'] }] },
    causes: [
      ['endpoints[0].addresses[1]', 'Invalid value: "localhost": should be a domain with at least two segments separated by dots'],
      [
        'endpoints[0].addresses[2]',
        "Invalid value: \"Bad_Name.example\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
  },
];

describe('validation of the core kinds: 422 with kube\'s causes', () => {
  for (const c of INVALID) {
    test(c.what, async () => {
      const name = `i${++unique}`;
      const err = await refusal(pipeline.create(admin, target(c.resource), body(c.resource, name, c.fields, c.metadata)), 'Invalid');
      assert.equal(err.code, 422);
      assert.deepEqual(causesOf(err.details?.causes), c.causes);
      const info = kind(c.resource);
      const qualified = info.group === '' ? info.kind : `${info.kind}.${info.group}`;
      assert.ok(err.message.startsWith(`${qualified} "${name}" is invalid: `), err.message);
      await refusal(pipeline.get(admin, target(c.resource, name)), 'NotFound');
    });
  }

  test('an Event name is only checked as a path segment; a Secret name as a DNS subdomain', async () => {
    const created = await pipeline.create(admin, target('events'), body('events', 'Pod.web:1', { involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' } }));
    assert.equal(created.metadata?.name, 'Pod.web:1');
    const err = await refusal(pipeline.create(admin, target('events'), body('events', 'a%b', { involvedObject: {} })), 'Invalid');
    assert.deepEqual(causesOf(err.details?.causes), [['metadata.name', "Invalid value: \"a%b\": may not contain '%'"]]);
    const secret = await refusal(pipeline.create(admin, target('secrets'), body('secrets', 'Pod.web:1', {})), 'Invalid');
    assert.equal(secret.details?.causes?.[0]?.field, 'metadata.name');
  });
});

interface UpdateCase {
  what: string;
  resource: string;
  fields: Record<string, unknown>;
  /** Changes the stored object into the update's body. */
  change: (object: KubeObject) => void;
  /** The causes of the refusal; none: the update succeeds. */
  causes?: Array<[string, string]>;
  /** Checks of the stored object after a successful update. */
  then?: (object: KubeObject) => void;
}

const spec = (o: KubeObject): Record<string, unknown> => o.spec as Record<string, unknown>;

const UPDATES: UpdateCase[] = [
  {
    what: 'Secret: the type is immutable',
    resource: 'secrets',
    fields: { data: { a: 'eA==' } },
    change: (o) => (o.type = 'kubernetes.io/basic-auth'),
    // The new object is validated as a whole as well: as basic auth, it lacks its keys.
    causes: [
      ['type', 'Invalid value: "kubernetes.io/basic-auth": field is immutable'],
      ['data[username]', 'Required value'],
      ['data[password]', 'Required value'],
    ],
  },
  {
    what: 'Secret: immutable keeps data and itself (stringData merged counts as a data change)',
    resource: 'secrets',
    fields: { data: { a: 'eA==' }, immutable: true },
    change: (o) => {
      o.immutable = false;
      o.stringData = { a: 'changed' };
    },
    causes: [
      ['immutable', 'Forbidden: field is immutable when `immutable` is set'],
      ['data', 'Forbidden: field is immutable when `immutable` is set'],
    ],
  },
  {
    what: 'Secret: an immutable secret takes metadata changes',
    resource: 'secrets',
    fields: { data: { a: 'eA==' }, immutable: true },
    change: (o) => (o.metadata = { ...o.metadata, labels: { tier: 'db' } }),
    then: (o) => assert.deepEqual(o.metadata?.labels, { tier: 'db' }),
  },
  {
    what: 'Secret: stringData on update is merged into data and not stored',
    resource: 'secrets',
    fields: { data: { a: 'eA==' } },
    change: (o) => (o.stringData = { b: 'two' }),
    then: (o) => {
      assert.deepEqual(o.data, { a: 'eA==', b: 'dHdv' });
      assert.equal(o.stringData, undefined);
    },
  },
  {
    what: 'ResourceQuota: scopes are immutable',
    resource: 'resourcequotas',
    fields: { spec: { hard: { pods: '2' }, scopes: ['NotBestEffort'] } },
    change: (o) => (spec(o).scopes = ['NotTerminating']),
    causes: [['spec.scopes', 'Invalid value: ["NotTerminating"]: field is immutable']],
  },
  {
    what: 'ResourceQuota: hard limits may change',
    resource: 'resourcequotas',
    fields: { spec: { hard: { pods: '2' } } },
    change: (o) => (spec(o).hard = { pods: '3', 'requests.memory': '1Gi' }),
    then: (o) => assert.deepEqual(spec(o).hard, { pods: '3', 'requests.memory': '1Gi' }),
  },
  {
    what: 'PersistentVolume: the source is immutable, and the volume mode',
    resource: 'persistentvolumes',
    fields: { spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' } } },
    change: (o) => {
      spec(o).hostPath = { path: '/b' };
      spec(o).volumeMode = 'Block';
    },
    causes: [
      ['spec.persistentvolumesource', 'Forbidden: spec.persistentvolumesource is immutable after creation\n- hostPath: {"path":"/a","type":""}\n+ hostPath: {"path":"/b","type":""}'],
      ['volumeMode', 'Invalid value: "Block": field is immutable'],
    ],
  },
  {
    what: 'PersistentVolume: capacity and reclaim policy may change',
    resource: 'persistentvolumes',
    fields: { spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' } } },
    change: (o) => {
      spec(o).capacity = { storage: '2Gi' };
      spec(o).persistentVolumeReclaimPolicy = 'Delete';
    },
    then: (o) => assert.deepEqual(spec(o).capacity, { storage: '2Gi' }),
  },
  {
    what: 'PersistentVolumeClaim: the spec of an unbound claim is immutable',
    resource: 'persistentvolumeclaims',
    fields: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    change: (o) => (spec(o).resources = { requests: { storage: '2Gi' } }),
    causes: [
      [
        'spec',
        'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n- resources: {"requests":{"storage":"1Gi"}}\n+ resources: {"requests":{"storage":"2Gi"}}',
      ],
    ],
  },
  {
    what: 'PersistentVolumeClaim: a first volumeName and a storage class where there was none are taken',
    resource: 'persistentvolumeclaims',
    fields: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    change: (o) => {
      spec(o).volumeName = 'pv-1';
      spec(o).storageClassName = 'fast';
    },
    then: (o) => {
      assert.equal(spec(o).volumeName, 'pv-1');
      assert.equal(spec(o).storageClassName, 'fast');
    },
  },
  {
    what: 'PersistentVolumeClaim: the volume mode is immutable',
    resource: 'persistentvolumeclaims',
    fields: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    change: (o) => (spec(o).volumeMode = 'Block'),
    causes: [
      ['spec', 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n- volumeMode: "Filesystem"\n+ volumeMode: "Block"'],
      ['volumeMode', 'Invalid value: "Block": field is immutable'],
    ],
  },
  {
    what: 'EndpointSlice: the address type is immutable; the deprecated "IP" is refused on create only',
    resource: 'endpointslices',
    fields: { addressType: 'IPv4', endpoints: [] },
    change: (o) => (o.addressType = 'IP'),
    causes: [['addressType', 'Invalid value: "IP": field is immutable']],
  },
  {
    what: 'Lease: renewals go through',
    resource: 'leases',
    fields: { spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    change: (o) => (spec(o).renewTime = '2024-05-01T10:00:00.000000Z'),
    then: (o) => assert.equal(spec(o).renewTime, '2024-05-01T10:00:00.000000Z'),
  },
];

describe('updates of the core kinds', () => {
  for (const c of UPDATES) {
    test(c.what, async () => {
      const name = `u${++unique}`;
      const created = await pipeline.create(admin, target(c.resource), body(c.resource, name, c.fields));
      const next = structuredClone(created);
      c.change(next);
      if (c.causes !== undefined) {
        const err = await refusal(pipeline.update(admin, target(c.resource, name), next), 'Invalid');
        assert.deepEqual(causesOf(err.details?.causes), c.causes);
        assert.deepEqual(comparable(await pipeline.get(admin, target(c.resource, name))), comparable(created));
      } else {
        const updated = await pipeline.update(admin, target(c.resource, name), next);
        c.then?.(updated);
      }
    });
  }

  test('PersistentVolumeClaim: once bound, the storage request may grow but not shrink to the status capacity', async () => {
    const info = kind('persistentvolumeclaims');
    const strategy = info.strategy;
    const old: KubeObject = body('persistentvolumeclaims', 'bound', {
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, volumeName: 'pv', volumeMode: 'Filesystem' },
      status: { phase: 'Bound', capacity: { storage: '2Gi' } },
    });
    const grown = structuredClone(old);
    spec(grown).resources = { requests: { storage: '3Gi' } };
    assert.deepEqual(strategy.validate?.(grown, old), []);
    const shrunk = structuredClone(old);
    spec(shrunk).resources = { requests: { storage: '1Gi' } };
    assert.deepEqual(
      strategy.validate?.(shrunk, old).map((e) => [e.field, e.detail]),
      [['spec.resources.requests.storage', 'field can not be less than status.capacity']],
    );
  });

  test('Secret: stringData in a merge patch is merged into data', async () => {
    await pipeline.create(admin, target('secrets'), body('secrets', 'patched', { data: { a: 'eA==' } }));
    const patched = await pipeline.patch(admin, target('secrets', 'patched'), {
      contentType: 'application/merge-patch+json',
      body: Buffer.from(JSON.stringify({ stringData: { b: 'bee' } })),
    });
    assert.deepEqual(patched.data, { a: 'eA==', b: 'YmVl' });
    assert.equal(patched.stringData, undefined);
  });
});

describe('no secret value in what a refused Secret answers', () => {
  const SECRET = 'hunter2-TOPSECRET-value';
  const refusedWith = async (fields: Record<string, unknown>, update?: (o: KubeObject) => void): Promise<string> => {
    const name = `leak${++unique}`;
    let err;
    if (update === undefined) {
      err = await refusal(pipeline.create(admin, target('secrets'), body('secrets', name, fields)), 'Invalid');
    } else {
      const created = await pipeline.create(admin, target('secrets'), body('secrets', name, fields));
      const next = structuredClone(created);
      update(next);
      err = await refusal(pipeline.update(admin, target('secrets', name), next), 'Invalid');
    }
    return JSON.stringify(err.toStatus());
  };
  const assertClean = (status: string): void => {
    for (const form of [SECRET, b64(SECRET), 'TOPSECRET']) assert.ok(!status.includes(form), `${form} in ${status}`);
  };

  test('a docker config that is not JSON', async () => {
    assertClean(await refusedWith({ type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': `${SECRET}{` } }));
  });
  test('too much data', async () => {
    assertClean(await refusedWith({ stringData: { big: SECRET.repeat(50_000) } }));
  });
  test('data changed while immutable, and a key that is no config key beside it', async () => {
    assertClean(await refusedWith({ stringData: { a: SECRET }, immutable: true }, (o) => (o.stringData = { a: `${SECRET}2`, 'bad key': SECRET })));
  });
  test('the type changed', async () => {
    assertClean(await refusedWith({ stringData: { a: SECRET } }, (o) => (o.type = 'kubernetes.io/tls')));
  });

  test('patches refused: the patched object and the patch are shown with the secret values redacted', async () => {
    const name = `leak${++unique}`;
    await pipeline.create(admin, target('secrets'), body('secrets', name, { stringData: { a: SECRET } }));
    const patch = async (contentType: string, document: unknown, reason: string): Promise<string> => {
      const err = await refusal(
        pipeline.patch(admin, target('secrets', name), { contentType, body: Buffer.from(JSON.stringify(document)) }, { fieldValidation: 'Strict' }),
        reason,
      );
      const status = JSON.stringify(err.toStatus());
      assertClean(status);
      // The object is quoted inside the message: read it unescaped.
      return err.message.replaceAll('\\"', '"');
    };
    // A type error and an unknown field: kube shows the whole patched object.
    assert.match(await patch('application/merge-patch+json', { data: { b: 5 } }, 'Invalid'), /"data":\{"a":"<secret contents redacted>","b":"<secret contents redacted>"\}/);
    assert.match(await patch('application/merge-patch+json', { bogus: 1, stringData: { c: SECRET } }, 'Invalid'), /"stringData":\{"c":"<secret contents redacted>"\}.*unknown field "bogus"/);
    assert.match(await patch('application/strategic-merge-patch+json', { bogus: 1, stringData: { c: SECRET } }, 'Invalid'), /map\[bogus:1 stringData:map\[c:<secret contents redacted>\]\]/);
    // A strategic merge patch that cannot be applied quotes its map: the directive stays, the values go.
    assert.equal(
      await patch('application/strategic-merge-patch+json', { data: { $patch: 'bogus', a: b64(SECRET) } }, 'BadRequest'),
      'unknown patch type: bogus in map: map[$patch:bogus a:<secret contents redacted>]',
    );
    // Other kinds are shown as kube shows them.
    await pipeline.create(admin, target('serviceaccounts'), body('serviceaccounts', name, {}));
    const err = await refusal(
      pipeline.patch(admin, target('serviceaccounts', name), { contentType: 'application/merge-patch+json', body: Buffer.from('{"automountServiceAccountToken":"yes"}') }),
      'Invalid',
    );
    assert.match(err.message.replaceAll('\\"', '"'), /"automountServiceAccountToken":"yes"/);
  });
});

describe('field selectors of the core kinds', () => {
  test('secrets by type', async () => {
    await pipeline.create(admin, target('secrets'), body('secrets', 'sel-tls', { type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c', 'tls.key': 'k' } }));
    const list = await pipeline.list(admin, target('secrets'), { fieldSelector: 'type=kubernetes.io/tls' });
    assert.ok(list.items.length > 0);
    for (const item of list.items) assert.equal(item.type, 'kubernetes.io/tls');
    assert.ok(list.items.some((i) => i.metadata?.name === 'sel-tls'));
    const opaque = await pipeline.list(admin, target('secrets'), { fieldSelector: 'type!=kubernetes.io/tls,metadata.name=sel-tls' });
    assert.deepEqual(opaque.items, []);
  });

  test('events by involved object, reason, type, reporting component and source', async () => {
    await pipeline.create(admin, target('events'), body('events', 'sel-ev1', { involvedObject: { kind: 'Pod', namespace: 'default', name: 'api', uid: 'u-1' }, reason: 'Pulled', type: 'Normal', source: { component: 'kubelet' } }));
    await pipeline.create(
      admin,
      target('events'),
      body('events', 'sel-ev2', {
        involvedObject: { kind: 'Deployment', namespace: 'default', name: 'api' },
        reason: 'ScalingReplicaSet',
        type: 'Normal',
        eventTime: '2024-05-01T10:00:00.000000Z',
        reportingComponent: 'deployment-controller',
        reportingInstance: 'cm-1',
        action: 'Scale',
      }),
    );
    const names = async (fieldSelector: string): Promise<string[]> =>
      (await pipeline.list(admin, target('events'), { fieldSelector })).items.map((i) => i.metadata?.name ?? '').filter((n) => n.startsWith('sel-'));
    assert.deepEqual(await names('involvedObject.name=api'), ['sel-ev1', 'sel-ev2']);
    assert.deepEqual(await names('involvedObject.kind=Pod,involvedObject.uid=u-1'), ['sel-ev1']);
    assert.deepEqual(await names('reason=ScalingReplicaSet'), ['sel-ev2']);
    assert.deepEqual(await names('reportingComponent=deployment-controller'), ['sel-ev2']);
    // source: the source's component, else the reporting controller.
    assert.deepEqual(await names('source=kubelet'), ['sel-ev1']);
    assert.deepEqual(await names('source=deployment-controller'), ['sel-ev2']);
    assert.deepEqual(await names('type=Normal,involvedObject.namespace=default'), ['sel-ev1', 'sel-ev2']);
    await refusal(pipeline.list(admin, target('events'), { fieldSelector: 'message=x' }), 'BadRequest');
  });

  test('endpoint slices by their service-name label', async () => {
    await pipeline.create(admin, target('endpointslices'), body('endpointslices', 'web-abc', { addressType: 'IPv4', endpoints: [] }, { labels: { 'kubernetes.io/service-name': 'selected' } }));
    const list = await pipeline.list(admin, target('endpointslices'), { labelSelector: 'kubernetes.io/service-name=selected' });
    assert.deepEqual(
      list.items.map((i) => i.metadata?.name),
      ['web-abc'],
    );
  });
});

describe('status strategies of the core kinds', () => {
  test('PersistentVolume: the phase transition time moves with the phase only', () => {
    const prepare = kind('persistentvolumes').statusStrategy?.prepareForUpdate;
    assert.ok(prepare);
    const old: KubeObject = { status: { phase: 'Pending', lastPhaseTransitionTime: '2024-01-01T00:00:00Z' } };
    assert.deepEqual(prepare({ status: { phase: 'Pending' } }, old).status, { phase: 'Pending', lastPhaseTransitionTime: '2024-01-01T00:00:00Z' });
    const moved = prepare({ status: { phase: 'Bound', lastPhaseTransitionTime: '2024-01-01T00:00:00Z' } }, old).status as Record<string, unknown>;
    assert.equal(moved.phase, 'Bound');
    assert.notEqual(moved.lastPhaseTransitionTime, '2024-01-01T00:00:00Z');
    assert.match(String(moved.lastPhaseTransitionTime), NOW_STAMP);
    // A time the writer sets is kept.
    assert.deepEqual(prepare({ status: { phase: 'Bound', lastPhaseTransitionTime: '2024-02-02T00:00:00Z' } }, old).status, {
      phase: 'Bound',
      lastPhaseTransitionTime: '2024-02-02T00:00:00Z',
    });
  });

  test('ResourceQuota: the status written is checked as kube checks it', () => {
    const validate = kind('resourcequotas').statusStrategy?.validate;
    assert.ok(validate);
    const quota: KubeObject = { spec: { hard: { pods: '2' } }, status: { hard: { pods: '2' }, used: { pods: '0.5', bogus: '1' } } };
    assert.deepEqual(
      validate(quota, quota).map((e) => [e.field, e.detail]),
      [
        ['status.used[pods]', 'must be an integer'],
        ['status.used[bogus]', 'must be a standard resource type or fully qualified'],
        ['status.used[bogus]', 'must be a standard resource for quota'],
      ],
    );
  });

  test('PersistentVolumeClaim: access modes and quantities of the status written', () => {
    const validate = kind('persistentvolumeclaims').statusStrategy?.validate;
    assert.ok(validate);
    const claim: KubeObject = { spec: {}, status: { capacity: { storage: '-1Gi' } } };
    assert.deepEqual(
      validate(claim, claim).map((e) => [e.field, e.type, e.value]),
      [
        ['Spec.accessModes', 'FieldValueRequired', undefined],
        ['status.capacity[storage]', 'FieldValueInvalid', -1073741824],
      ],
    );
  });
});

describe('identity of the core kinds, as kube discovery lists them', () => {
  const IDENTITY: Array<[string, string, boolean, string[], string[]]> = [
    ['secrets', '', true, [], []],
    ['serviceaccounts', '', true, ['sa'], ['token']],
    ['endpoints', '', true, ['ep'], []],
    ['events', '', true, ['ev'], []],
    ['limitranges', '', true, ['limits'], []],
    ['resourcequotas', '', true, ['quota'], ['status']],
    ['persistentvolumes', '', false, ['pv'], ['status']],
    ['persistentvolumeclaims', '', true, ['pvc'], ['status']],
    ['leases', 'coordination.k8s.io', true, [], []],
    ['endpointslices', 'discovery.k8s.io', true, [], []],
  ];
  for (const [resource, group, namespaced, shortNames, subresources] of IDENTITY) {
    test(resource, () => {
      const info = kind(resource);
      assert.equal(info.group, group);
      assert.equal(info.version, 'v1');
      assert.equal(info.namespaced, namespaced);
      assert.deepEqual(info.shortNames, shortNames);
      assert.deepEqual(info.subresources, subresources);
      assert.deepEqual(info.categories, []);
      assert.equal(registry.get(group, 'v1', resource), info);
      assert.equal(info.schema.endsWith(`.${info.kind}`), true);
    });
  }
});
