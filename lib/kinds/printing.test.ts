import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rfc3339, type KubeObject } from '../../lib/kube.ts';
import { BUILTIN_KINDS } from './builtin/index.ts';
import { age, columnDefinitions, humanDuration, rowsFor, toTable, type KindPrinter } from './printing.ts';

/** The printer of a built-in resource; undefined (the generic columns) for any other name. */
function printerOf(resource: string): KindPrinter | undefined {
  return BUILTIN_KINDS.find((k) => k.resource === resource)?.printer;
}

const NOW = new Date('2024-09-18T09:34:31Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

/** An ISO timestamp `ms` before NOW, at second precision as kube stores them. */
function ago(ms: number): string {
  return rfc3339(new Date(NOW.getTime() - ms));
}

/** The cells of a single object's row. */
function cells(resource: string, object: unknown): unknown[] {
  const [row] = rowsFor(printerOf(resource), [object as KubeObject], { now: NOW });
  assert.ok(row);
  return row.cells;
}

function node(fields: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', creationTimestamp: ago(5 * D) }, ...fields };
}

// The exact column definitions a kube-apiserver (v1.29-era, these docs unchanged since) served
// for `kubectl get ns`, captured from `kubectl get ns -v=9`.
const KUBE_NAMESPACE_COLUMNS = [
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description:
      'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
    priority: 0,
  },
  { name: 'Status', type: 'string', format: '', description: 'The status of the namespace', priority: 0 },
  {
    name: 'Age',
    type: 'string',
    format: '',
    description:
      'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
    priority: 0,
  },
];

// ---------------------------------------------------------------------------------------------
// humanDuration

test('humanDuration: seconds up to 119s, with up to 2s of clock skew read as 0s', () => {
  assert.equal(humanDuration(0), '0s');
  assert.equal(humanDuration(999), '0s');
  assert.equal(humanDuration(45 * S), '45s');
  assert.equal(humanDuration(119 * S + 999), '119s');
  // Negative durations: Go truncates toward zero, so anything above -2s is "0s".
  assert.equal(humanDuration(-1), '0s');
  assert.equal(humanDuration(-1999), '0s');
  assert.equal(humanDuration(-2 * S), '<invalid>');
  assert.equal(humanDuration(-5 * M), '<invalid>');
});

test('humanDuration: minutes with seconds below 10m, whole minutes below 3h', () => {
  assert.equal(humanDuration(120 * S), '2m');
  assert.equal(humanDuration(150 * S), '2m30s');
  assert.equal(humanDuration(9 * M + 59 * S), '9m59s');
  assert.equal(humanDuration(10 * M), '10m');
  assert.equal(humanDuration(10 * M + 59 * S), '10m');
  assert.equal(humanDuration(179 * M + 59 * S), '179m');
});

test('humanDuration: hours with minutes below 8h, whole hours below 48h', () => {
  assert.equal(humanDuration(3 * H), '3h');
  assert.equal(humanDuration(3 * H + 30 * M), '3h30m');
  assert.equal(humanDuration(5 * H), '5h');
  assert.equal(humanDuration(7 * H + 59 * M + 59 * S), '7h59m');
  assert.equal(humanDuration(8 * H), '8h');
  assert.equal(humanDuration(8 * H + 30 * M), '8h');
  assert.equal(humanDuration(47 * H + 59 * M), '47h');
});

test('humanDuration: days with hours below 8d, whole days below 2y', () => {
  assert.equal(humanDuration(48 * H), '2d');
  assert.equal(humanDuration(3 * D + 4 * H), '3d4h');
  assert.equal(humanDuration(3 * D + 4 * H + 59 * M), '3d4h');
  assert.equal(humanDuration(7 * D + 23 * H), '7d23h');
  assert.equal(humanDuration(8 * D), '8d');
  assert.equal(humanDuration(8 * D + 23 * H), '8d');
  assert.equal(humanDuration(729 * D + 23 * H), '729d');
});

test('humanDuration: years with days below 8y, whole years after', () => {
  assert.equal(humanDuration(2 * Y), '2y');
  assert.equal(humanDuration(2 * Y + D), '2y1d');
  assert.equal(humanDuration(7 * Y + 364 * D), '7y364d');
  assert.equal(humanDuration(8 * Y), '8y');
  assert.equal(humanDuration(8 * Y + 200 * D), '8y');
  assert.equal(humanDuration(25 * Y), '25y');
});

test('humanDuration: non-finite input is <invalid> rather than a throw', () => {
  assert.equal(humanDuration(Number.NaN), '<invalid>');
  assert.equal(humanDuration(Number.POSITIVE_INFINITY), '<invalid>');
  assert.equal(humanDuration('5' as unknown as number), '<invalid>');
});

// ---------------------------------------------------------------------------------------------
// age

test('age: time since the creation timestamp', () => {
  assert.equal(age('2024-09-17T11:57:54Z', NOW), '21h');
  assert.equal(age(ago(150 * S), NOW), '2m30s');
  assert.equal(age(ago(3 * D + 4 * H), NOW), '3d4h');
  assert.equal(age(ago(2 * Y), NOW), '2y');
});

test('age: <unknown> for absent, mistyped and unparseable timestamps', () => {
  assert.equal(age(undefined, NOW), '<unknown>');
  assert.equal(age('', NOW), '<unknown>');
  assert.equal(age(null as unknown as string, NOW), '<unknown>');
  assert.equal(age(1726565874000 as unknown as string, NOW), '<unknown>');
  assert.equal(age('yesterday', NOW), '<unknown>');
  // Forms JS's Date.parse takes but Go's RFC 3339 parser does not.
  assert.equal(age('2024-09-17', NOW), '<unknown>');
  assert.equal(age('2024-09-17T11:57:54', NOW), '<unknown>');
  assert.equal(age('2024-09-17 11:57:54Z', NOW), '<unknown>');
  assert.equal(age('2024-09-17t11:57:54z', NOW), '<unknown>');
  assert.equal(age('Tue, 17 Sep 2024 11:57:54 GMT', NOW), '<unknown>');
  // Out-of-range fields Go rejects.
  assert.equal(age('2024-13-01T00:00:00Z', NOW), '<unknown>');
  assert.equal(age('2023-02-29T00:00:00Z', NOW), '<unknown>');
  assert.equal(age('2024-09-31T00:00:00Z', NOW), '<unknown>');
  assert.equal(age('2024-09-17T24:00:00Z', NOW), '<unknown>');
  assert.equal(age('2024-09-17T11:60:00Z', NOW), '<unknown>');
  assert.equal(age('2024-09-17T11:57:60Z', NOW), '<unknown>');
  assert.equal(age('2024-09-17T11:57:54+25:00', NOW), '<unknown>');
});

test('age: the Go zero time (metav1.Time IsZero) is <unknown>', () => {
  assert.equal(age('0001-01-01T00:00:00Z', NOW), '<unknown>');
  assert.equal(age('0001-01-01T01:00:00+01:00', NOW), '<unknown>');
  // A moment later is a real (if odd) timestamp; kube's years are 365 days, hence not 2023y.
  assert.equal(age('0001-01-01T00:00:01Z', NOW), '2025y');
});

test('age: accepts what Go accepts: offsets, fractions, leap days, one-digit hours', () => {
  assert.equal(age('2024-09-18T10:34:01+01:00', NOW), '30s');
  assert.equal(age('2024-09-18T08:34:01-01:00', NOW), '30s');
  assert.equal(age('2024-02-29T09:34:31Z', NOW), '202d');
  assert.equal(age('2024-09-18T9:34:01Z', NOW), '30s');
  // Fractional seconds count: 119.5s ago is still "119s", 120.5s ago is "2m".
  assert.equal(age('2024-09-18T09:32:31.5Z', NOW), '119s');
  assert.equal(age('2024-09-18T09:32:30.5Z', NOW), '2m');
  assert.equal(age('2024-09-18T09:32:30,5Z', NOW), '2m');
  // A nanosecond past the 120s boundary stays below it, even at epoch magnitudes.
  assert.equal(age('2024-09-18T09:32:31.000000001Z', NOW), '119s');
  assert.equal(age('2024-09-18T09:32:31.000000000Z', NOW), '2m');
});

test('age: creation in the future is 0s within the 2s skew allowance, <invalid> past it', () => {
  assert.equal(age('2024-09-18T09:34:32Z', NOW), '0s');
  assert.equal(age('2024-09-18T09:34:32.999Z', NOW), '0s');
  assert.equal(age('2024-09-18T09:34:33Z', NOW), '<invalid>');
});

test('age: an invalid `now` does not throw', () => {
  assert.equal(age('2024-09-18T09:34:31Z', new Date(Number.NaN)), '<invalid>');
  assert.equal(age('2024-09-18T09:34:31Z', undefined as unknown as Date), '<invalid>');
});

// ---------------------------------------------------------------------------------------------
// Column definitions

test('columnDefinitions: namespaces match what kube-apiserver serves, byte for byte', () => {
  assert.deepEqual(columnDefinitions(printerOf('namespaces')), KUBE_NAMESPACE_COLUMNS);
});

test('columnDefinitions: nodes, with the five wide columns at priority 1', () => {
  const columns = columnDefinitions(printerOf('nodes'));
  assert.deepEqual(
    columns.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Status', 'string', '', 0],
      ['Roles', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Version', 'string', '', 0],
      ['Internal-IP', 'string', '', 1],
      ['External-IP', 'string', '', 1],
      ['OS-Image', 'string', '', 1],
      ['Kernel-Version', 'string', '', 1],
      ['Container-Runtime', 'string', '', 1],
    ],
  );
  const description = Object.fromEntries(columns.map((c) => [c.name, c.description]));
  assert.equal(description['Name'], KUBE_NAMESPACE_COLUMNS[0]?.description);
  assert.equal(description['Age'], KUBE_NAMESPACE_COLUMNS[2]?.description);
  assert.equal(description['Status'], 'The status of the node');
  assert.equal(description['Roles'], 'The roles of the node');
  assert.equal(description['Version'], 'Kubelet Version reported by the node.');
  assert.match(description['Internal-IP'] ?? '', /^List of addresses reachable to the node\. /);
  assert.equal(description['External-IP'], description['Internal-IP']);
  assert.equal(
    description['OS-Image'],
    'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
  );
  assert.equal(description['Kernel-Version'], "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).");
  assert.equal(
    description['Container-Runtime'],
    'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
  );
});

test('columnDefinitions: configmaps, DATA typed "string" as kube declares it', () => {
  const columns = columnDefinitions(printerOf('configmaps'));
  assert.deepEqual(
    columns.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Data', 'string', '', 0],
      ['Age', 'string', '', 0],
    ],
  );
  assert.match(columns[1]?.description ?? '', /^Data contains the configuration data\. Each key must consist/);
});

test('columnDefinitions: any other resource gets the generic Name and Age', () => {
  const generic = [KUBE_NAMESPACE_COLUMNS[0], KUBE_NAMESPACE_COLUMNS[2]];
  assert.deepEqual(columnDefinitions(printerOf('podtemplates')), generic);
  assert.deepEqual(columnDefinitions(printerOf('')), generic);
  assert.deepEqual(columnDefinitions(printerOf('Nodes')), generic);
  // Names of Object.prototype members are not table entries.
  assert.deepEqual(columnDefinitions(printerOf('constructor')), generic);
  assert.deepEqual(columnDefinitions(printerOf('__proto__')), generic);
});

test('columnDefinitions: returns fresh objects that callers may change', () => {
  const first = columnDefinitions(printerOf('nodes'));
  first[0]!.name = 'changed';
  first.pop();
  const second = columnDefinitions(printerOf('nodes'));
  assert.equal(second[0]?.name, 'Name');
  assert.equal(second.length, 10);
});

// ---------------------------------------------------------------------------------------------
// Namespace rows

test('namespaces: NAME, STATUS from status.phase, AGE', () => {
  const ns = { metadata: { name: 'default', creationTimestamp: '2024-09-17T11:57:54Z' }, status: { phase: 'Active' } };
  assert.deepEqual(cells('namespaces', ns), ['default', 'Active', '21h']);
  const terminating = { metadata: { name: 'old', creationTimestamp: ago(3 * D) }, status: { phase: 'Terminating' } };
  assert.deepEqual(cells('namespaces', terminating), ['old', 'Terminating', '3d']);
});

test('namespaces: absent or mistyped fields print as kube prints their zero values', () => {
  assert.deepEqual(cells('namespaces', {}), ['', '', '<unknown>']);
  assert.deepEqual(cells('namespaces', { metadata: { name: 'x' }, status: {} }), ['x', '', '<unknown>']);
  assert.deepEqual(cells('namespaces', { metadata: { name: 7 }, status: { phase: 1 } }), ['', '', '<unknown>']);
  assert.deepEqual(cells('namespaces', { metadata: 'x', status: ['Active'] }), ['', '', '<unknown>']);
});

// ---------------------------------------------------------------------------------------------
// ConfigMap rows

test('configmaps: DATA counts the keys of data plus binaryData, as a number', () => {
  const cm = {
    metadata: { name: 'cfg', creationTimestamp: ago(150 * S) },
    data: { a: '1', b: '', c: 'x' },
    binaryData: { blob: 'AAEC' },
  };
  assert.deepEqual(cells('configmaps', cm), ['cfg', 4, '2m30s']);
  assert.deepEqual(cells('configmaps', { metadata: { name: 'd' }, data: { a: '1' } }), ['d', 1, '<unknown>']);
  assert.deepEqual(cells('configmaps', { metadata: { name: 'b' }, binaryData: { a: 'AA==' } }), ['b', 1, '<unknown>']);
});

test('configmaps: no data, null data and mistyped data count as 0', () => {
  assert.deepEqual(cells('configmaps', { metadata: { name: 'e' } }), ['e', 0, '<unknown>']);
  assert.deepEqual(cells('configmaps', { metadata: { name: 'e' }, data: null, binaryData: null }), ['e', 0, '<unknown>']);
  assert.deepEqual(cells('configmaps', { metadata: { name: 'e' }, data: ['a', 'b'], binaryData: 'xyz' }), ['e', 0, '<unknown>']);
  assert.deepEqual(cells('configmaps', { metadata: { name: 'e' }, data: {} }), ['e', 0, '<unknown>']);
});

// ---------------------------------------------------------------------------------------------
// Node rows

test('nodes: a full node prints all ten columns', () => {
  const full = node({
    metadata: {
      name: 'worker-1',
      creationTimestamp: ago(3 * D + 4 * H),
      labels: { 'node-role.kubernetes.io/worker': '', 'kubernetes.io/hostname': 'worker-1' },
    },
    spec: {},
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
      addresses: [
        { type: 'Hostname', address: 'worker-1' },
        { type: 'InternalIP', address: '10.0.0.4' },
        { type: 'ExternalIP', address: '203.0.113.9' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.31.2',
        osImage: 'Ubuntu 22.04.4 LTS',
        kernelVersion: '5.15.0-1064-azure',
        containerRuntimeVersion: 'containerd://1.7.15',
      },
    },
  });
  assert.deepEqual(cells('nodes', full), [
    'worker-1',
    'Ready',
    'worker',
    '3d4h',
    'v1.31.2',
    '10.0.0.4',
    '203.0.113.9',
    'Ubuntu 22.04.4 LTS',
    '5.15.0-1064-azure',
    'containerd://1.7.15',
  ]);
});

test('nodes: STATUS from the Ready condition', () => {
  const status = (conditions: unknown, spec: unknown = {}) => cells('nodes', node({ spec, status: { conditions } }))[1];
  assert.equal(status([{ type: 'Ready', status: 'True' }]), 'Ready');
  assert.equal(status([{ type: 'Ready', status: 'False' }]), 'NotReady');
  // Anything but "True" is NotReady, including Unknown (a node that stopped reporting).
  assert.equal(status([{ type: 'Ready', status: 'Unknown' }]), 'NotReady');
  assert.equal(status([{ type: 'Ready' }]), 'NotReady');
  assert.equal(status([{ type: 'Ready', status: 'true' }]), 'NotReady');
  // Without a Ready condition the status is Unknown, whatever else is reported.
  assert.equal(status([]), 'Unknown');
  assert.equal(status(undefined), 'Unknown');
  assert.equal(status([{ type: 'DiskPressure', status: 'True' }]), 'Unknown');
  assert.equal(status([{ type: 'ready', status: 'True' }]), 'Unknown');
});

test('nodes: STATUS with several Ready conditions takes the last, as kube indexes them by type', () => {
  const status = (conditions: unknown) => cells('nodes', node({ status: { conditions } }))[1];
  assert.equal(status([{ type: 'Ready', status: 'True' }, { type: 'Ready', status: 'False' }]), 'NotReady');
  assert.equal(status([{ type: 'Ready', status: 'False' }, { type: 'Ready', status: 'True' }]), 'Ready');
  assert.equal(status([{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'True' }]), 'Ready');
});

test('nodes: STATUS appends SchedulingDisabled when spec.unschedulable', () => {
  const status = (conditions: unknown, spec: unknown) => cells('nodes', node({ spec, status: { conditions } }))[1];
  assert.equal(status([{ type: 'Ready', status: 'True' }], { unschedulable: true }), 'Ready,SchedulingDisabled');
  assert.equal(status([{ type: 'Ready', status: 'False' }], { unschedulable: true }), 'NotReady,SchedulingDisabled');
  assert.equal(status([], { unschedulable: true }), 'Unknown,SchedulingDisabled');
  assert.equal(status([{ type: 'Ready', status: 'True' }], { unschedulable: false }), 'Ready');
  // Only a real boolean true counts; kube would never have decoded anything else.
  assert.equal(status([{ type: 'Ready', status: 'True' }], { unschedulable: 'true' }), 'Ready');
  assert.equal(status([{ type: 'Ready', status: 'True' }], 'unschedulable'), 'Ready');
});

test('nodes: ROLES from node-role.kubernetes.io/<role> and kubernetes.io/role labels, sorted', () => {
  const roles = (labels: unknown) => cells('nodes', node({ metadata: { name: 'n', labels } }))[2];
  assert.equal(roles({ 'node-role.kubernetes.io/control-plane': '' }), 'control-plane');
  // The prefix label's value does not matter; the role is the key's suffix.
  assert.equal(roles({ 'node-role.kubernetes.io/worker': 'false' }), 'worker');
  assert.equal(roles({ 'kubernetes.io/role': 'master' }), 'master');
  assert.equal(
    roles({
      'node-role.kubernetes.io/worker': '',
      'node-role.kubernetes.io/control-plane': '',
      'kubernetes.io/role': 'etcd',
      'node-role.kubernetes.io/ingress': '',
    }),
    'control-plane,etcd,ingress,worker',
  );
  // The same role from both label forms appears once.
  assert.equal(roles({ 'node-role.kubernetes.io/master': '', 'kubernetes.io/role': 'master' }), 'master');
  // Sorted by byte order as Go does: upper case before lower case.
  assert.equal(roles({ 'node-role.kubernetes.io/b': '', 'node-role.kubernetes.io/B': '', 'node-role.kubernetes.io/a': '' }), 'B,a,b');
});

test('nodes: ROLES is <none> when no label names a role', () => {
  const roles = (labels: unknown) => cells('nodes', node({ metadata: { name: 'n', labels } }))[2];
  assert.equal(roles(undefined), '<none>');
  assert.equal(roles({}), '<none>');
  assert.equal(roles({ 'kubernetes.io/hostname': 'n', 'node.kubernetes.io/instance-type': 'm5.large' }), '<none>');
  // An empty role suffix and an empty kubernetes.io/role value name no role.
  assert.equal(roles({ 'node-role.kubernetes.io/': '' }), '<none>');
  assert.equal(roles({ 'kubernetes.io/role': '' }), '<none>');
  assert.equal(roles({ 'kubernetes.io/role': 42 }), '<none>');
  assert.equal(roles(['node-role.kubernetes.io/worker']), '<none>');
  assert.equal(roles('node-role.kubernetes.io/worker'), '<none>');
});

test('nodes: VERSION is status.nodeInfo.kubeletVersion, empty when absent', () => {
  const version = (status: unknown) => cells('nodes', node({ status }))[4];
  assert.equal(version({ nodeInfo: { kubeletVersion: 'v1.30.1' } }), 'v1.30.1');
  assert.equal(version({ nodeInfo: {} }), '');
  assert.equal(version({}), '');
  assert.equal(version({ nodeInfo: { kubeletVersion: 130 } }), '');
});

test('nodes: INTERNAL-IP and EXTERNAL-IP are the first address of each type, else <none>', () => {
  const ips = (addresses: unknown) => cells('nodes', node({ status: { addresses } })).slice(5, 7);
  assert.deepEqual(
    ips([
      { type: 'InternalIP', address: '10.0.0.1' },
      { type: 'InternalIP', address: 'fd00::1' },
      { type: 'ExternalIP', address: '198.51.100.1' },
      { type: 'ExternalIP', address: '198.51.100.2' },
    ]),
    ['10.0.0.1', '198.51.100.1'],
  );
  assert.deepEqual(ips([{ type: 'InternalIP', address: '10.0.0.1' }]), ['10.0.0.1', '<none>']);
  assert.deepEqual(ips([{ type: 'Hostname', address: 'n1' }]), ['<none>', '<none>']);
  assert.deepEqual(ips(undefined), ['<none>', '<none>']);
  assert.deepEqual(ips({ InternalIP: '10.0.0.1' }), ['<none>', '<none>']);
  // kube returns the first matching entry's address even when it is empty.
  assert.deepEqual(ips([{ type: 'InternalIP' }, { type: 'InternalIP', address: '10.0.0.2' }]), ['', '<none>']);
  assert.deepEqual(ips([null, 'x', { type: 'ExternalIP', address: '1.2.3.4' }]), ['<none>', '1.2.3.4']);
});

test('nodes: OS-IMAGE, KERNEL-VERSION and CONTAINER-RUNTIME are <unknown> when empty', () => {
  const wide = (nodeInfo: unknown) => cells('nodes', node({ status: { nodeInfo } })).slice(7);
  assert.deepEqual(wide({}), ['<unknown>', '<unknown>', '<unknown>']);
  assert.deepEqual(wide({ osImage: '', kernelVersion: '', containerRuntimeVersion: '' }), ['<unknown>', '<unknown>', '<unknown>']);
  assert.deepEqual(wide({ osImage: 'Talos', kernelVersion: 6, containerRuntimeVersion: 'cri-o://1.30' }), [
    'Talos',
    '<unknown>',
    'cri-o://1.30',
  ]);
});

test('nodes: an empty object prints every absent value, without throwing', () => {
  assert.deepEqual(cells('nodes', {}), [
    '',
    'Unknown',
    '<none>',
    '<unknown>',
    '',
    '<none>',
    '<none>',
    '<unknown>',
    '<unknown>',
    '<unknown>',
  ]);
  const garbage = { metadata: [], spec: null, status: { conditions: 'Ready', addresses: 5, nodeInfo: [] } };
  assert.deepEqual(cells('nodes', garbage), cells('nodes', {}));
});

// ---------------------------------------------------------------------------------------------
// Other resources, malformed input

test('stored objects of the wrong shape (past the write checks) print their zero values, row by row', () => {
  const good = node();
  const poisoned = [
    { metadata: { name: 'p', labels: null } },
    { metadata: { name: 'p', labels: 'node-role.kubernetes.io/x' } },
    { metadata: { name: { p: 1 }, creationTimestamp: 1726565874, annotations: { n: 1 } } },
    { metadata: 'p' },
    { status: { conditions: 'Ready' } },
  ];
  const rows = rowsFor(printerOf('nodes'), [good, ...poisoned] as unknown as KubeObject[], { now: NOW });
  assert.deepEqual(rows[0]?.cells.slice(0, 4), ['n1', 'Unknown', '<none>', '5d']);
  assert.deepEqual(rows[1]?.cells.slice(0, 4), ['p', 'Unknown', '<none>', '<unknown>']);
  assert.deepEqual(rows[2]?.cells.slice(0, 4), ['p', 'Unknown', '<none>', '<unknown>']);
  for (const row of rows.slice(3)) assert.deepEqual(row.cells, cells('nodes', {}));
  for (const resource of ['configmaps', 'namespaces', 'secrets']) {
    assert.equal(toTable(printerOf(resource), poisoned as unknown as KubeObject[], { now: NOW }).rows.length, poisoned.length, resource);
  }
});

test('other resources: NAME and AGE', () => {
  const template = { kind: 'PodTemplate', metadata: { name: 's', creationTimestamp: ago(10 * M) }, template: {} };
  assert.deepEqual(cells('podtemplates', template), ['s', '10m']);
  assert.deepEqual(cells('podtemplates', {}), ['', '<unknown>']);
  assert.deepEqual(cells('constructor', template), ['s', '10m']);
});

test('rowsFor: non-object entries print as empty objects, and a non-array gives no rows', () => {
  const rows = rowsFor(printerOf('configmaps'), [null, 'x', 3, []] as unknown as KubeObject[], { now: NOW });
  assert.equal(rows.length, 4);
  for (const row of rows) assert.deepEqual(row.cells, ['', 0, '<unknown>']);
  assert.deepEqual(rowsFor(printerOf('nodes'), undefined as unknown as KubeObject[], { now: NOW }), []);
  assert.deepEqual(rowsFor(printerOf('nodes'), {} as unknown as KubeObject[], { now: NOW }), []);
  assert.deepEqual(rowsFor(printerOf('nodes'), [], { now: NOW }), []);
});

test('rowsFor: one row per object, in order', () => {
  const objects = ['a', 'b', 'c'].map((name) => ({ metadata: { name } }));
  assert.deepEqual(
    rowsFor(printerOf('namespaces'), objects, { now: NOW }).map((row) => row.cells[0]),
    ['a', 'b', 'c'],
  );
});

// ---------------------------------------------------------------------------------------------
// includeObject

const CM: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cfg', namespace: 'default', uid: 'u1', resourceVersion: '42', labels: { app: 'x' } },
  data: { a: '1' },
};

test('includeObject: Metadata (the default) gives PartialObjectMetadata with the whole metadata', () => {
  const expected = {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { name: 'cfg', namespace: 'default', uid: 'u1', resourceVersion: '42', labels: { app: 'x' } },
  };
  assert.deepEqual(rowsFor(printerOf('configmaps'), [CM], { now: NOW })[0]?.object, expected);
  assert.deepEqual(rowsFor(printerOf('configmaps'), [CM], { now: NOW, includeObject: 'Metadata' })[0]?.object, expected);
});

test('includeObject: Metadata copies the metadata, so editing the row leaves the object alone', () => {
  const row = rowsFor(printerOf('configmaps'), [CM], { now: NOW })[0];
  const partial = row?.object as { metadata: Record<string, unknown> };
  partial.metadata['name'] = 'changed';
  assert.equal(CM.metadata?.name, 'cfg');
});

test('includeObject: Metadata of an object without metadata is an empty metadata', () => {
  const rows = rowsFor(printerOf('configmaps'), [{}, null as unknown as KubeObject, { metadata: 'x' } as unknown as KubeObject], { now: NOW });
  for (const row of rows) {
    assert.deepEqual(row.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: {} });
  }
});

test('includeObject: Object gives the object itself', () => {
  const [row] = rowsFor(printerOf('configmaps'), [CM], { now: NOW, includeObject: 'Object' });
  assert.equal(row?.object, CM);
});

test('includeObject: None gives null, as kube serialises the emptied row object', () => {
  const [row] = rowsFor(printerOf('configmaps'), [CM], { now: NOW, includeObject: 'None' });
  assert.equal(row?.object, null);
  assert.equal(JSON.stringify(row), '{"cells":["cfg",1,"<unknown>"],"object":null}');
});

test('includeObject: an unrecognised value falls back to Metadata', () => {
  const [row] = rowsFor(printerOf('configmaps'), [CM], { now: NOW, includeObject: 'Everything' as 'Object' });
  assert.equal((row?.object as { kind: string }).kind, 'PartialObjectMetadata');
});

// ---------------------------------------------------------------------------------------------
// toTable

test('toTable: the namespace Table kube-apiserver serves for `kubectl get ns`', () => {
  const namespaces = ['default', 'kube-node-lease'].map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '38', creationTimestamp: '2024-09-17T11:57:54Z' },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  }));
  const table = toTable(printerOf('namespaces'), namespaces, { now: NOW, listMeta: { resourceVersion: '165263' } });
  assert.deepEqual(table, {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '165263' },
    columnDefinitions: KUBE_NAMESPACE_COLUMNS,
    rows: namespaces.map((ns) => ({
      cells: [ns.metadata.name, 'Active', '21h'],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: ns.metadata },
    })),
  });
});

test('toTable: noHeaders leaves the column definitions empty but keeps the rows', () => {
  const table = toTable(printerOf('nodes'), [node()], { now: NOW, noHeaders: true });
  assert.deepEqual(table.columnDefinitions, []);
  assert.equal(table.rows.length, 1);
  assert.equal(table.rows[0]?.cells.length, 10);
  assert.equal(toTable(printerOf('nodes'), [], { now: NOW, noHeaders: false }).columnDefinitions.length, 10);
});

test('toTable: copies only resourceVersion, continue and remainingItemCount from listMeta', () => {
  const listMeta = { resourceVersion: '7', continue: 'tok', remainingItemCount: 12, selfLink: '/x' };
  assert.deepEqual(toTable(printerOf('configmaps'), [], { now: NOW, listMeta }).metadata, {
    resourceVersion: '7',
    continue: 'tok',
    remainingItemCount: 12,
  });
  // Empty values are left out, as kube's omitempty does; so is anything mistyped.
  assert.deepEqual(toTable(printerOf('configmaps'), [], { now: NOW, listMeta: { resourceVersion: '', continue: '' } }).metadata, {});
  assert.deepEqual(toTable(printerOf('configmaps'), [], { now: NOW, listMeta: { remainingItemCount: 0 } }).metadata, {
    remainingItemCount: 0,
  });
  const mistyped = { resourceVersion: 7, continue: null, remainingItemCount: '3' } as unknown as { resourceVersion: string };
  assert.deepEqual(toTable(printerOf('configmaps'), [], { now: NOW, listMeta: mistyped }).metadata, {});
  assert.deepEqual(toTable(printerOf('configmaps'), [], { now: NOW }).metadata, {});
});

test('toTable: an empty list is a Table with headers and no rows', () => {
  const table = toTable(printerOf('configmaps'), [], { now: NOW });
  assert.deepEqual(table.rows, []);
  assert.deepEqual(
    table.columnDefinitions.map((c) => c.name),
    ['Name', 'Data', 'Age'],
  );
});

test('toTable: includeObject reaches the rows', () => {
  assert.equal(toTable(printerOf('configmaps'), [CM], { now: NOW, includeObject: 'None' }).rows[0]?.object, null);
  assert.equal(toTable(printerOf('configmaps'), [CM], { now: NOW, includeObject: 'Object' }).rows[0]?.object, CM);
});

test('rowsFor and toTable: missing options do not throw', () => {
  const missing = undefined as unknown as { now: Date };
  const ns = { metadata: { name: 'a', creationTimestamp: '2024-09-17T11:57:54Z' }, status: { phase: 'Active' } };
  assert.deepEqual(rowsFor(printerOf('namespaces'), [ns], missing)[0]?.cells, ['a', 'Active', '<invalid>']);
  assert.equal(toTable(printerOf('namespaces'), [ns], missing).columnDefinitions.length, 3);
});
