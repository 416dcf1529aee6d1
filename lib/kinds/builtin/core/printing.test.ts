/**
 * The Table columns and cells of the core kinds, as kube-apiserver's print handlers give them
 * (pkg/printers/internalversion/printers.go at 1.36), for typical objects and the zero values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../../kube.ts';
import { columnDefinitions, rowsFor } from '../../printing.ts';
import { BUILTIN_KINDS } from '../index.ts';

const NOW = new Date('2024-09-18T09:34:31Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const M = 60_000;
const H = 60 * M;

function printerOf(resource: string) {
  const printer = BUILTIN_KINDS.find((k) => k.resource === resource)?.printer;
  assert.ok(printer, resource);
  return printer;
}

function cells(resource: string, object: Record<string, unknown>): unknown[] {
  const [row] = rowsFor(printerOf(resource), [object as KubeObject], { now: NOW });
  assert.ok(row);
  return row.cells;
}

/** The header kubectl shows (names upper-cased) and the -o wide ones. */
function header(resource: string): { columns: string[]; wide: string[] } {
  const columns = columnDefinitions(printerOf(resource));
  return {
    columns: columns.filter((c) => c.priority === 0).map((c) => c.name.toUpperCase()),
    wide: columns.filter((c) => c.priority > 0).map((c) => c.name.toUpperCase()),
  };
}

const meta = (name: string, age = 5 * M, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, creationTimestamp: ago(age), ...extra });

describe('columns of the core kinds', () => {
  const COLUMNS: Array<[string, string[], string[]]> = [
    ['secrets', ['NAME', 'TYPE', 'DATA', 'AGE'], []],
    ['serviceaccounts', ['NAME', 'SECRETS', 'AGE'], []],
    ['endpoints', ['NAME', 'ENDPOINTS', 'AGE'], []],
    ['events', ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'], ['SUBOBJECT', 'SOURCE', 'FIRST SEEN', 'COUNT', 'NAME']],
    ['limitranges', ['NAME', 'CREATED AT'], []],
    ['resourcequotas', ['NAME', 'REQUEST', 'LIMIT', 'AGE'], []],
    ['persistentvolumes', ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE'], ['VOLUMEMODE']],
    ['persistentvolumeclaims', ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE'], ['VOLUMEMODE']],
    ['leases', ['NAME', 'HOLDER', 'AGE'], []],
    ['endpointslices', ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'], []],
  ];
  for (const [resource, columns, wide] of COLUMNS) {
    test(resource, () => {
      assert.deepEqual(header(resource), { columns, wide });
      const defs = columnDefinitions(printerOf(resource));
      // Every cell row has one value per column, also for an empty object.
      assert.equal(cells(resource, {}).length, defs.length);
      for (const c of defs) assert.ok(c.description.length > 0, `${resource} ${c.name} has a description`);
      assert.equal(defs.filter((c) => c.format === 'name').length, 1);
    });
  }
  test('the limit range date column is typed "date", as kube\'s default table', () => {
    assert.equal(columnDefinitions(printerOf('limitranges'))[1]?.type, 'date');
  });
});

describe('cells of the core kinds', () => {
  test('Secret: type and the number of data keys', () => {
    assert.deepEqual(cells('secrets', { metadata: meta('db'), type: 'Opaque', data: { user: 'YQ==', password: 'Yg==' } }), ['db', 'Opaque', 2, '5m']);
    assert.deepEqual(cells('secrets', { metadata: meta('empty') }), ['empty', '', 0, '5m']);
  });

  test('ServiceAccount: the number of secrets listed', () => {
    assert.deepEqual(cells('serviceaccounts', { metadata: meta('default', 2 * H), secrets: [{ name: 'a' }, { name: 'b' }] }), ['default', 2, '120m']);
    assert.deepEqual(cells('serviceaccounts', { metadata: meta('bare') }), ['bare', 0, '5m']);
  });

  test('Endpoints: ip:port for each port, bare IPs without ports, IPv6 in brackets, "+ N more..." past three, "<none>" without subsets', () => {
    const three = { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }] }, { addresses: [{ ip: 'fd00::1' }], ports: [{ port: 443 }] }] };
    assert.deepEqual(cells('endpoints', { metadata: meta('web'), ...three }), ['web', '10.0.0.1:80,10.0.0.2:80,[fd00::1]:443', '5m']);
    const many = { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }], ports: [{ port: 80 }, { port: 8080 }] }] };
    assert.deepEqual(cells('endpoints', { metadata: meta('many'), ...many }), ['many', '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...', '5m']);
    const headless = { subsets: [{ addresses: [{ ip: '10.0.0.9' }] }] };
    assert.deepEqual(cells('endpoints', { metadata: meta('headless'), ...headless }), ['headless', '10.0.0.9', '5m']);
    assert.deepEqual(cells('endpoints', { metadata: meta('none') }), ['none', '<none>', '5m']);
    // Only ready addresses count.
    const notReady = { subsets: [{ notReadyAddresses: [{ ip: '10.0.0.5' }], ports: [{ port: 80 }] }] };
    assert.deepEqual(cells('endpoints', { metadata: meta('starting'), ...notReady }), ['starting', '', '5m']);
  });

  test('Event: an old-style event (timestamps and count)', () => {
    const event = {
      metadata: meta('web.17a'),
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{app}' },
      reason: 'BackOff',
      message: '  Back-off restarting failed container  ',
      type: 'Warning',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: ago(30 * M),
      lastTimestamp: ago(2 * M),
      count: 7,
    };
    assert.deepEqual(cells('events', event), ['2m', 'Warning', 'BackOff', 'pod/web', 'spec.containers{app}', 'kubelet, node-1', 'Back-off restarting failed container', '30m', 7, 'web.17a']);
  });

  test('Event: a new-style event (eventTime, series, the reporting controller as source)', () => {
    const event = {
      metadata: meta('api.17b'),
      involvedObject: { kind: 'Deployment', name: 'api' },
      reason: 'ScalingReplicaSet',
      message: 'Scaled up',
      type: 'Normal',
      eventTime: '2024-09-18T09:00:31.000000Z',
      reportingComponent: 'deployment-controller',
      reportingInstance: '',
      series: { count: 3, lastObservedTime: '2024-09-18T09:33:31.000000Z' },
    };
    assert.deepEqual(cells('events', event), ['60s', 'Normal', 'ScalingReplicaSet', 'deployment/api', '', 'deployment-controller', 'Scaled up', '34m', 3, 'api.17b']);
    // No timestamps at all, no count: unknown, and a singleton counts 1; no name: the kind alone.
    assert.deepEqual(cells('events', { metadata: meta('bare'), involvedObject: { kind: 'Node' } }), ['<unknown>', '', '', 'node', '', '', '', '<unknown>', 1, 'bare']);
  });

  test('LimitRange: the creation timestamp as RFC 3339, Go\'s zero time without one', () => {
    assert.deepEqual(cells('limitranges', { metadata: { name: 'limits', creationTimestamp: '2024-09-18T09:00:00Z' } }), ['limits', '2024-09-18T09:00:00Z']);
    assert.deepEqual(cells('limitranges', { metadata: { name: 'limits' } }), ['limits', '0001-01-01T00:00:00Z']);
  });

  test('ResourceQuota: used/hard of the status, limits.* under LIMIT, in name order', () => {
    const quota = {
      metadata: meta('compute'),
      spec: { hard: { 'requests.cpu': '1' } },
      status: {
        hard: { 'requests.memory': '1Gi', 'limits.cpu': '2', 'requests.cpu': '1', pods: '10', 'limits.memory': '2Gi' },
        used: { 'requests.cpu': '500m', pods: '3', 'limits.memory': '1024Mi' },
      },
    };
    assert.deepEqual(cells('resourcequotas', quota), ['compute', 'pods: 3/10, requests.cpu: 500m/1, requests.memory: 0/1Gi', 'limits.cpu: 0/2, limits.memory: 1Gi/2Gi', '5m']);
    // Before the quota controller has written a status: empty columns.
    assert.deepEqual(cells('resourcequotas', { metadata: meta('new'), spec: { hard: { pods: '1' } } }), ['new', '', '', '5m']);
  });

  test('PersistentVolume: capacity, modes, claim, class (the beta annotation first), Terminating, wide volume mode', () => {
    const pv = {
      metadata: meta('pv-1', 3 * H),
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace: 'default', name: 'data' },
        storageClassName: 'fast',
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Bound' },
    };
    assert.deepEqual(cells('persistentvolumes', pv), ['pv-1', '10Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'fast', '<unset>', '', '3h', 'Filesystem']);
    const deleting = {
      metadata: meta('pv-2', 3 * H, { deletionTimestamp: ago(M), annotations: { 'volume.beta.kubernetes.io/storage-class': 'legacy' } }),
      spec: { capacity: { storage: '1.5Gi' }, accessModes: ['ReadWriteOncePod'], storageClassName: 'fast', volumeAttributesClassName: 'gold' },
      status: { phase: 'Released', reason: 'Reclaiming' },
    };
    assert.deepEqual(cells('persistentvolumes', deleting), ['pv-2', '1536Mi', 'RWOP', '', 'Terminating', '', 'legacy', 'gold', 'Reclaiming', '3h', '<unset>']);
  });

  test('PersistentVolumeClaim: capacity and modes from the status once it names a volume', () => {
    const pending = { metadata: meta('data'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' }, status: { phase: 'Pending' } };
    assert.deepEqual(cells('persistentvolumeclaims', pending), ['data', 'Pending', '', '', '', '', '<unset>', '5m', 'Filesystem']);
    const bound = {
      metadata: meta('logs'),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'pv-1', storageClassName: 'standard', volumeMode: 'Block' },
      status: { phase: 'Bound', capacity: { storage: '2048Mi' }, accessModes: ['ReadOnlyMany', 'ReadWriteOnce'] },
    };
    assert.deepEqual(cells('persistentvolumeclaims', bound), ['logs', 'Bound', 'pv-1', '2Gi', 'RWO,ROX', 'standard', '<unset>', '5m', 'Block']);
  });

  test('Lease: the holder identity, "" without one', () => {
    assert.deepEqual(cells('leases', { metadata: meta('kube-scheduler', 10 * 24 * H), spec: { holderIdentity: 'node-1_abc' } }), ['kube-scheduler', 'node-1_abc', '10d']);
    assert.deepEqual(cells('leases', { metadata: meta('free') }), ['free', '', '5m']);
  });

  test('EndpointSlice: ports (number, else name, else *) and addresses, three at most, "<unset>" for none', () => {
    const slice = {
      metadata: meta('web-x2k'),
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80 }, { name: 'metrics' }, {}, { port: 9000 }],
      endpoints: [{ addresses: ['10.0.0.1', '10.0.0.2'] }, { addresses: ['10.0.0.3'] }, { addresses: ['10.0.0.4'] }],
    };
    assert.deepEqual(cells('endpointslices', slice), ['web-x2k', 'IPv4', '80,metrics,* + 1 more...', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...', '5m']);
    assert.deepEqual(cells('endpointslices', { metadata: meta('empty'), addressType: 'FQDN' }), ['empty', 'FQDN', '<unset>', '<unset>', '5m']);
  });
});
