/**
 * Node (core/v1, cluster-scoped): selectable by spec.unschedulable, printed as kube's printNode.
 */
import { isPlainObject, type KubeObject } from '../../kube.ts';
import { goField, goStruct } from '../../object-meta.ts';
import { metadataString } from '../../selectors.ts';
import { AGE_COLUMN, ageOf, column, compareCodePoints, field, nameOf, NAME_COLUMN, stringField } from '../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../types.ts';
import { STANDARD_VERBS } from './common.ts';

const NODE_ADDRESSES_DESCRIPTION =
  "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

// printNode's columns; the last five are the `-o wide` ones (priority 1).
const NODE_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Status', 'string', 'The status of the node'),
  column('Roles', 'string', 'The roles of the node'),
  AGE_COLUMN,
  column('Version', 'string', 'Kubelet Version reported by the node.'),
  column('Internal-IP', 'string', NODE_ADDRESSES_DESCRIPTION, 1),
  column('External-IP', 'string', NODE_ADDRESSES_DESCRIPTION, 1),
  column('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
  column('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
  column(
    'Container-Runtime',
    'string',
    'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
    1,
  ),
]);

/** printNode with Wide set, as the server's TableConvertor always does. */
function nodeCells(object: Record<string, unknown>, now: Date): unknown[] {
  const status = field(object, 'status');
  const nodeInfo = field(status, 'nodeInfo');
  return [
    nameOf(object),
    nodeStatus(object),
    nodeRoles(object),
    ageOf(object, now),
    stringField(nodeInfo, 'kubeletVersion'),
    nodeAddress(status, 'InternalIP'),
    nodeAddress(status, 'ExternalIP'),
    orUnknown(stringField(nodeInfo, 'osImage')),
    orUnknown(stringField(nodeInfo, 'kernelVersion')),
    orUnknown(stringField(nodeInfo, 'containerRuntimeVersion')),
  ];
}

/**
 * Node STATUS. kube indexes conditions by type, so with several Ready conditions the last one
 * wins; Ready is "Ready" only for status "True" (so "False" and "Unknown" both print NotReady);
 * no Ready condition prints "Unknown"; spec.unschedulable appends ",SchedulingDisabled".
 */
function nodeStatus(object: Record<string, unknown>): string {
  const conditions = field(object, 'status')['conditions'];
  let ready: Record<string, unknown> | undefined;
  if (Array.isArray(conditions)) {
    for (const condition of conditions) {
      if (isPlainObject(condition) && condition['type'] === 'Ready') ready = condition;
    }
  }
  const parts = [ready === undefined ? 'Unknown' : ready['status'] === 'True' ? 'Ready' : 'NotReady'];
  if (field(object, 'spec')['unschedulable'] === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/**
 * Node ROLES: the suffix of every `node-role.kubernetes.io/<role>` label (whatever its value)
 * and the non-empty value of a `kubernetes.io/role` label, de-duplicated, sorted, joined by
 * ","; "<none>" when there are none.
 */
function nodeRoles(object: Record<string, unknown>): string {
  const labels = field(object, 'metadata')['labels'];
  const roles = new Set<string>();
  if (isPlainObject(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      if (key.startsWith(NODE_ROLE_PREFIX)) {
        const role = key.slice(NODE_ROLE_PREFIX.length);
        if (role.length > 0) roles.add(role);
      } else if (key === NODE_ROLE_LABEL && typeof value === 'string' && value !== '') {
        roles.add(value);
      }
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort(compareCodePoints).join(',');
}

/**
 * The address of the first status.addresses entry of `type`, even if that address is empty,
 * as kube returns it; "<none>" when no entry has the type.
 */
function nodeAddress(status: Record<string, unknown>, type: string): string {
  const addresses = status['addresses'];
  if (Array.isArray(addresses)) {
    for (const address of addresses) {
      if (isPlainObject(address) && address['type'] === type) return stringField(address, 'address');
    }
  }
  return '<none>';
}

/** kube prints "<unknown>" for an empty OS image, kernel or runtime version. */
function orUnknown(value: string): string {
  return value === '' ? '<unknown>' : value;
}

export const NODE: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'nodes',
  singular: 'node',
  kind: 'Node',
  listKind: 'NodeList',
  namespaced: false,
  shortNames: ['no'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  // kube's node field label conversion: metadata.name and spec.unschedulable (not metadata.namespace).
  selectableFields: {
    supported: ['metadata.name', 'spec.unschedulable'],
    values: (object: KubeObject) => {
      const spec: unknown = object.spec;
      // fmt.Sprint of a bool: "true" or "false" (absent is false).
      return { 'metadata.name': metadataString(object, 'name'), 'spec.unschedulable': String(isPlainObject(spec) && spec.unschedulable === true) };
    },
    shape: goStruct('Node', 'v1.Node', { spec: goField.struct(goStruct('NodeSpec', 'v1.NodeSpec', { unschedulable: goField.bool() })) }),
  },
  strategy: { generation: 'none' },
  printer: { columns: NODE_COLUMNS, cells: nodeCells },
  schema: 'io.k8s.api.core.v1.Node',
};
