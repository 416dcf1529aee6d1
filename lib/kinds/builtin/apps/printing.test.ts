/**
 * The apps kinds' server-side printing: their columns (names, types, the `-o wide` ones at
 * priority 1) and the cells kube's printDeployment, printReplicaSet, printStatefulSet and
 * printDaemonSet compute for typical objects and for objects missing fields.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rfc3339, type KubeObject } from '../../../kube.ts';
import { columnDefinitions, rowsFor } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { DAEMON_SET } from './daemonset.ts';
import { DEPLOYMENT } from './deployment.ts';
import { REPLICA_SET } from './replicaset.ts';
import { STATEFUL_SET } from './statefulset.ts';

const NOW = new Date('2024-09-18T09:34:31Z');
const CREATED = rfc3339(new Date(NOW.getTime() - 3 * 60 * 1000 - 5 * 1000));

function cells(kind: KindDefinition, object: unknown): unknown[] {
  const [row] = rowsFor(kind.printer, [object as KubeObject], { now: NOW });
  assert.ok(row);
  return row.cells;
}

/** The column names, the wide ones marked with a trailing "*". */
function header(kind: KindDefinition): string[] {
  return columnDefinitions(kind.printer).map((c) => `${c.name}${c.priority === 1 ? '*' : ''}`);
}

const TEMPLATE = {
  metadata: { labels: { app: 'web', tier: 'front' } },
  spec: {
    containers: [
      { name: 'nginx', image: 'nginx:1.27' },
      { name: 'sidecar', image: 'busybox' },
    ],
  },
};

describe('apps printers: columns', () => {
  test('deployments: NAME READY UP-TO-DATE AVAILABLE AGE, wide CONTAINERS IMAGES SELECTOR', () => {
    assert.deepEqual(header(DEPLOYMENT), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']);
    assert.deepEqual(
      columnDefinitions(DEPLOYMENT.printer).map((c) => c.type),
      ['string', 'string', 'string', 'string', 'string', 'string', 'string', 'string'],
    );
  });

  test('replicasets: NAME DESIRED CURRENT READY AGE, wide CONTAINERS IMAGES SELECTOR; the counts typed integer', () => {
    assert.deepEqual(header(REPLICA_SET), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers*', 'Images*', 'Selector*']);
    assert.deepEqual(
      columnDefinitions(REPLICA_SET.printer).map((c) => c.type),
      ['string', 'integer', 'integer', 'integer', 'string', 'string', 'string', 'string'],
    );
  });

  test('statefulsets: NAME READY AGE, wide CONTAINERS IMAGES', () => {
    assert.deepEqual(header(STATEFUL_SET), ['Name', 'Ready', 'Age', 'Containers*', 'Images*']);
  });

  test('daemonsets: NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE, wide CONTAINERS IMAGES SELECTOR', () => {
    assert.deepEqual(header(DAEMON_SET), [
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Up-to-date',
      'Available',
      'Node Selector',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
  });
});

describe('apps printers: cells', () => {
  test('deployment: READY is ready/desired, counters as numbers, selector requirements sorted by key', () => {
    const deployment = {
      metadata: { name: 'web', creationTimestamp: CREATED },
      spec: {
        replicas: 3,
        selector: { matchLabels: { tier: 'front', app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'canary'] }] },
        template: TEMPLATE,
      },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 1 },
    };
    assert.deepEqual(cells(DEPLOYMENT, deployment), ['web', '2/3', 3, 1, '3m5s', 'nginx,sidecar', 'nginx:1.27,busybox', 'app=web,env in (canary,prod),tier=front']);
  });

  test('deployment: no status prints zeros; an absent selector prints empty; one that does not convert prints <invalid>', () => {
    assert.deepEqual(cells(DEPLOYMENT, { metadata: { name: 'new' }, spec: { replicas: 2 } }), ['new', '0/2', 0, 0, '<unknown>', '', '', '']);
    const bad = { metadata: { name: 'bad', creationTimestamp: CREATED }, spec: { replicas: 1, selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } } };
    assert.equal(cells(DEPLOYMENT, bad)[7], '<invalid>');
  });

  test('replicaset: DESIRED from spec, CURRENT and READY from status; SELECTOR as FormatLabelSelector', () => {
    const rs = {
      metadata: { name: 'web-5d8f', creationTimestamp: CREATED },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, template: TEMPLATE },
      status: { replicas: 4, readyReplicas: 3 },
    };
    assert.deepEqual(cells(REPLICA_SET, rs), ['web-5d8f', 4, 4, 3, '3m5s', 'nginx,sidecar', 'nginx:1.27,busybox', 'app=web,!canary']);
  });

  test('replicaset: an absent or empty selector is <none>, one that does not convert is <error>', () => {
    assert.equal(cells(REPLICA_SET, { metadata: { name: 'a' }, spec: {} })[7], '<none>');
    assert.equal(cells(REPLICA_SET, { metadata: { name: 'a' }, spec: { selector: {} } })[7], '<none>');
    assert.equal(cells(REPLICA_SET, { metadata: { name: 'a' }, spec: { selector: { matchLabels: { 'bad key!': 'x' } } } })[7], '<error>');
  });

  test('statefulset: READY is ready/desired replicas', () => {
    const sts = { metadata: { name: 'db', creationTimestamp: CREATED }, spec: { replicas: 3, template: TEMPLATE }, status: { replicas: 3, readyReplicas: 1 } };
    assert.deepEqual(cells(STATEFUL_SET, sts), ['db', '1/3', '3m5s', 'nginx,sidecar', 'nginx:1.27,busybox']);
    assert.deepEqual(cells(STATEFUL_SET, { metadata: { name: 'empty' } }), ['empty', '0/0', '<unknown>', '', '']);
  });

  test('daemonset: the five counters, the node selector sorted (or <none>), then the wide cells', () => {
    const ds = {
      metadata: { name: 'agent', creationTimestamp: CREATED },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { 'kubernetes.io/os': 'linux', disk: 'ssd' }, containers: [{ name: 'agent', image: 'agent:2' }] } },
      },
      status: { desiredNumberScheduled: 5, currentNumberScheduled: 4, numberReady: 3, updatedNumberScheduled: 2, numberAvailable: 1 },
    };
    assert.deepEqual(cells(DAEMON_SET, ds), ['agent', 5, 4, 3, 2, 1, 'disk=ssd,kubernetes.io/os=linux', '3m5s', 'agent', 'agent:2', 'app=agent']);
    assert.deepEqual(cells(DAEMON_SET, { metadata: { name: 'bare' }, spec: {} }), ['bare', 0, 0, 0, 0, 0, '<none>', '<unknown>', '', '', '<none>']);
  });

  test('mistyped fields print as their Go zero values, never throw', () => {
    const odd = { metadata: { name: 'odd' }, spec: { replicas: 'three', selector: 'x', template: { spec: { containers: 'none', nodeSelector: [1] } } }, status: 7 };
    assert.deepEqual(cells(DEPLOYMENT, odd), ['odd', '0/0', 0, 0, '<unknown>', '', '', '']);
    assert.deepEqual(cells(REPLICA_SET, odd), ['odd', 0, 0, 0, '<unknown>', '', '', '<none>']);
    assert.deepEqual(cells(STATEFUL_SET, odd), ['odd', '0/0', '<unknown>', '', '']);
    assert.deepEqual(cells(DAEMON_SET, odd), ['odd', 0, 0, 0, 0, 0, '<none>', '<unknown>', '', '', '<none>']);
  });
});
