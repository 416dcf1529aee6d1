/**
 * The platform kinds' Table columns and cells, as kube's print handlers compute them (the
 * server prints the wide columns too; kubectl hides priority-1 ones without -o wide).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../../kube.ts';
import { toTable } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { HORIZONTAL_POD_AUTOSCALER } from './autoscaling.ts';
import { INGRESS, INGRESS_CLASS, NETWORK_POLICY } from './networking.ts';
import { POD_DISRUPTION_BUDGET } from './policy.ts';
import { CLUSTER_ROLE, CLUSTER_ROLE_BINDING, ROLE, ROLE_BINDING } from './rbac.ts';
import { PRIORITY_CLASS } from './scheduling.ts';
import { STORAGE_CLASS } from './storage.ts';
import { formatLabelSelector } from '../../../label-selector.ts';

const NOW = new Date('2024-05-01T12:00:00Z');
/** Created 5 minutes before NOW: AGE "5m". */
const CREATED = '2024-05-01T11:55:00Z';

function object(name: string, fields: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name, creationTimestamp: CREATED, ...metadata }, ...fields };
}

/** The column names as kubectl shows them (upper-cased), wide ones marked with "*". */
function headers(kind: KindDefinition): string[] {
  return toTable(kind.printer, [], { now: NOW }).columnDefinitions.map((c) => `${c.name.toUpperCase()}${c.priority > 0 ? '*' : ''}`);
}

function cells(kind: KindDefinition, ...objects: KubeObject[]): unknown[][] {
  return toTable(kind.printer, objects, { now: NOW }).rows.map((r) => r.cells);
}

describe('platform kinds: columns', () => {
  test('each kind has kube\'s columns', () => {
    assert.deepEqual(headers(INGRESS), ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
    assert.deepEqual(headers(INGRESS_CLASS), ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']);
    assert.deepEqual(headers(NETWORK_POLICY), ['NAME', 'POD-SELECTOR', 'AGE']);
    assert.deepEqual(headers(POD_DISRUPTION_BUDGET), ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    assert.deepEqual(headers(HORIZONTAL_POD_AUTOSCALER), ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    assert.deepEqual(headers(ROLE), ['NAME', 'CREATED AT']);
    assert.deepEqual(headers(CLUSTER_ROLE), ['NAME', 'CREATED AT']);
    assert.deepEqual(headers(ROLE_BINDING), ['NAME', 'ROLE', 'AGE', 'USERS*', 'GROUPS*', 'SERVICEACCOUNTS*']);
    assert.deepEqual(headers(CLUSTER_ROLE_BINDING), ['NAME', 'ROLE', 'AGE', 'USERS*', 'GROUPS*', 'SERVICEACCOUNTS*']);
    assert.deepEqual(headers(STORAGE_CLASS), ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    assert.deepEqual(headers(PRIORITY_CLASS), ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
  });

  test('types as kube declares them (the name column formatted "name", CREATED AT a date)', () => {
    const types = (kind: KindDefinition) => (kind.printer?.columns ?? []).map((c) => c.type);
    assert.deepEqual(types(PRIORITY_CLASS), ['string', 'integer', 'boolean', 'string', 'string']);
    assert.deepEqual(types(POD_DISRUPTION_BUDGET), ['string', 'string', 'string', 'integer', 'string']);
    assert.deepEqual(types(ROLE), ['string', 'date']);
    for (const kind of [INGRESS, ROLE_BINDING, STORAGE_CLASS]) assert.equal(kind.printer?.columns[0]?.format, 'name');
  });
});

describe('platform kinds: cells', () => {
  test('Ingress: class, hosts (three at most), sorted distinct addresses, TLS ports', () => {
    const rules = (...hosts: string[]) => hosts.map((host) => ({ host, http: { paths: [] } }));
    assert.deepEqual(
      cells(
        INGRESS,
        object('plain', { spec: { defaultBackend: {} } }),
        object('web', {
          spec: { ingressClassName: 'nginx', rules: rules('a.example.com', 'b.example.com'), tls: [{ hosts: ['a.example.com'] }] },
          status: { loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { hostname: 'lb.example.com' }, { ip: '10.0.0.10' }, { ip: '10.0.0.2' }] } },
        }),
        object('many', { spec: { rules: rules('a.com', '', 'b.com', 'c.com', 'd.com') } }),
        object('wildcard', { spec: { rules: rules('') } }),
      ),
      [
        ['plain', '<none>', '*', '', '80', '5m'],
        ['web', 'nginx', 'a.example.com,b.example.com', '10.0.0.10,10.0.0.2,lb.example.com', '80, 443', '5m'],
        ['many', '<none>', 'a.com,b.com,c.com + 2 more...', '', '80', '5m'],
        ['wildcard', '<none>', '*', '', '80', '5m'],
      ],
    );
  });

  test('IngressClass: parameters as Kind[.apiGroup]/name', () => {
    assert.deepEqual(
      cells(
        INGRESS_CLASS,
        object('nginx', { spec: { controller: 'k8s.io/ingress-nginx' } }),
        object('custom', { spec: { controller: 'example.com/ingress', parameters: { apiGroup: 'example.com', kind: 'Params', name: 'p', scope: 'Cluster' } } }),
        object('core', { spec: { controller: 'example.com/ingress', parameters: { kind: 'ConfigMap', name: 'cfg', scope: 'Namespace', namespace: 'x' } } }),
      ),
      [
        ['nginx', 'k8s.io/ingress-nginx', '<none>', '5m'],
        ['custom', 'example.com/ingress', 'Params.example.com/p', '5m'],
        ['core', 'example.com/ingress', 'ConfigMap/cfg', '5m'],
      ],
    );
  });

  test('NetworkPolicy: the pod selector as kube formats it (requirements sorted by key)', () => {
    assert.deepEqual(
      cells(
        NETWORK_POLICY,
        object('all', { spec: { podSelector: {} } }),
        object('some', { spec: { podSelector: { matchLabels: { tier: 'db', app: 'x' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'beta', operator: 'DoesNotExist' }] } } }),
      ),
      [
        ['all', '<none>', '5m'],
        ['some', 'app=x,!beta,env in (dev,prod),tier=db', '5m'],
      ],
    );
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }, { key: 'b', operator: 'Exists' }] }), 'a notin (x),b');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] }), '<error>');
    assert.equal(formatLabelSelector(undefined), '<none>');
  });

  test('PodDisruptionBudget: N/A for the unset bound, allowed disruptions from status', () => {
    assert.deepEqual(
      cells(POD_DISRUPTION_BUDGET, object('a', { spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } }), object('b', { spec: { maxUnavailable: '25%' } })),
      [
        ['a', '2', 'N/A', 1, '5m'],
        ['b', 'N/A', '25%', 0, '5m'],
      ],
    );
  });

  test('HorizontalPodAutoscaler: reference, targets (two at most, <unknown> until reported, quantities in kube\'s form), bounds, replicas', () => {
    const spec = { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10 };
    assert.deepEqual(
      cells(
        HORIZONTAL_POD_AUTOSCALER,
        object('cpu', { spec: { ...spec, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] } }),
        object('seen', {
          spec: {
            ...spec,
            metrics: [
              { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '0.5Gi' } } },
              { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } } },
              { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
            ],
          },
          status: {
            currentReplicas: 3,
            currentMetrics: [
              { type: 'Resource', resource: { name: 'memory', current: { averageValue: '200Mi' } } },
              { type: 'Pods', pods: { metric: { name: 'rps' }, current: { averageValue: '7' } } },
            ],
          },
        }),
        object('bare', { spec: { scaleTargetRef: { kind: 'ReplicaSet', name: 'rs' }, maxReplicas: 2 } }),
        object('mix', {
          spec: {
            ...spec,
            metrics: [
              { type: 'Object', object: { describedObject: { kind: 'Ingress', name: 'web' }, metric: { name: 'hits' }, target: { type: 'Value', value: '100' } } },
              { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization' } } },
            ],
          },
          status: { currentMetrics: [{ type: 'Object', object: { current: { value: '42' } } }, { type: 'ContainerResource', containerResource: { current: { averageUtilization: 55 } } }] },
        }),
      ),
      [
        ['cpu', 'Deployment/web', 'cpu: <unknown>/80%', '1', 10, 0, '5m'],
        ['seen', 'Deployment/web', 'memory: 200Mi/512Mi, 7/10 + 1 more...', '1', 10, 3, '5m'],
        ['bare', 'ReplicaSet/rs', '<none>', '<unset>', 2, 0, '5m'],
        ['mix', 'Deployment/web', '42/100, cpu: 55%/<auto>', '1', 10, 0, '5m'],
      ],
    );
  });

  test('Role and ClusterRole: NAME and CREATED AT (kube\'s default table), in UTC', () => {
    assert.deepEqual(cells(ROLE, object('reader', {}, { creationTimestamp: '2024-05-01T13:55:00+02:00' })), [['reader', '2024-05-01T11:55:00Z']]);
    assert.deepEqual(cells(CLUSTER_ROLE, { metadata: { name: 'system:view' } }), [['system:view', '0001-01-01T00:00:00Z']]);
  });

  test('RoleBinding and ClusterRoleBinding: Kind/name of the role; users, groups, service accounts', () => {
    const binding = object('b', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'ServiceAccount', name: 'bot', namespace: 'ci' },
        { kind: 'Group', name: 'devs' },
        { kind: 'User', name: 'bob' },
        { kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' },
      ],
    });
    for (const kind of [ROLE_BINDING, CLUSTER_ROLE_BINDING]) {
      assert.deepEqual(cells(kind, binding, object('empty', { roleRef: { kind: 'Role', name: 'r' } })), [
        ['b', 'ClusterRole/edit', '5m', 'alice, bob', 'devs', 'ci/bot, ci/deployer'],
        ['empty', 'Role/r', '5m', '', '', ''],
      ]);
    }
  });

  test('StorageClass: "(default)" for the default class; unset fields print their defaults', () => {
    assert.deepEqual(
      cells(
        STORAGE_CLASS,
        object('standard', { provisioner: 'example.com/disk', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true }, { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }),
        object('old', { provisioner: 'example.com/nfs' }, { annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'true' } }),
        object('slow', { provisioner: 'example.com/hdd', reclaimPolicy: 'Retain' }, { annotations: { 'storageclass.kubernetes.io/is-default-class': 'false' } }),
      ),
      [
        ['standard (default)', 'example.com/disk', 'Delete', 'WaitForFirstConsumer', true, '5m'],
        ['old (default)', 'example.com/nfs', 'Delete', 'Immediate', false, '5m'],
        ['slow', 'example.com/hdd', 'Retain', 'Immediate', false, '5m'],
      ],
    );
  });

  test('PriorityClass: value, global default, age, preemption policy', () => {
    assert.deepEqual(
      cells(PRIORITY_CLASS, object('high', { value: 1000, globalDefault: true, preemptionPolicy: 'Never' }), object('system-node-critical', { value: 2000001000 })),
      [
        ['high', 1000, true, '5m', 'Never'],
        ['system-node-critical', 2000001000, false, '5m', ''],
      ],
    );
  });

  test('malformed objects print what kube prints for zero values, without throwing', () => {
    const junk: KubeObject = { metadata: { name: 'junk' }, spec: 'x', status: 7, rules: 'y', subjects: {}, roleRef: [] } as unknown as KubeObject;
    for (const kind of [INGRESS, INGRESS_CLASS, NETWORK_POLICY, POD_DISRUPTION_BUDGET, HORIZONTAL_POD_AUTOSCALER, ROLE, ROLE_BINDING, STORAGE_CLASS, PRIORITY_CLASS]) {
      const row = cells(kind, junk)[0];
      assert.equal(row?.[0], 'junk');
      assert.equal(row?.length, kind.printer?.columns.length);
    }
  });
});

describe('platform kinds: malformed input', () => {
  /** JSON values of every shape, with the field names these kinds read, nested a few levels. */
  const FIELD_NAMES = [
    'spec', 'status', 'rules', 'http', 'paths', 'backend', 'service', 'port', 'resource', 'tls', 'hosts', 'host', 'parameters', 'ingress', 'egress', 'from', 'to',
    'ports', 'ipBlock', 'except', 'podSelector', 'matchLabels', 'matchExpressions', 'values', 'policyTypes', 'minAvailable', 'maxUnavailable', 'selector',
    'metrics', 'currentMetrics', 'target', 'current', 'behavior', 'scaleUp', 'scaleDown', 'policies', 'scaleTargetRef', 'roleRef', 'subjects', 'aggregationRule',
    'clusterRoleSelectors', 'allowedTopologies', 'matchLabelExpressions', 'value', 'averageValue', 'loadBalancer', 'conditions', 'metadata', 'annotations',
  ];
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.array(tie('value'), { maxLength: 3 }), tie('object')),
    object: fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string()), tie('value'), { maxKeys: 5 }),
  }));

  test('defaults, validation (create, update, status) and printing never throw', () => {
    const kinds = [INGRESS, INGRESS_CLASS, NETWORK_POLICY, POD_DISRUPTION_BUDGET, HORIZONTAL_POD_AUTOSCALER, ROLE, CLUSTER_ROLE, ROLE_BINDING, CLUSTER_ROLE_BINDING, STORAGE_CLASS, PRIORITY_CLASS];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), json.object, json.object, (kind, a, b) => {
        const object = structuredClone(a) as KubeObject;
        const old = structuredClone(b) as KubeObject;
        kind.strategy.defaults?.(object);
        kind.strategy.validate?.(object, undefined);
        kind.strategy.validate?.(object, old);
        kind.statusStrategy?.validate?.(object, old);
        kind.printer?.cells(object, NOW);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});
