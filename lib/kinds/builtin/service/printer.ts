/**
 * printService of kube's printers: NAME, TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), AGE, and SELECTOR
 * for `-o wide`, with cells as kube computes them (the server always prints the wide form).
 */
import { isPlainObject } from '../../../kube.ts';
import { AGE_COLUMN, ageOf, column, compareCodePoints, field, nameOf, NAME_COLUMN, stringField } from '../../printing.ts';
import type { KindPrinter, TableColumnDefinition } from '../../types.ts';
import { num, portsOf, str, strings, TYPE_CLUSTER_IP, TYPE_EXTERNAL_NAME, TYPE_LOAD_BALANCER, TYPE_NODE_PORT } from './fields.ts';

const SERVICE_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Type', 'string', 'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
  column('Cluster-IP', 'string', 'The IP address the service is reached at inside the cluster; None for a headless service.'),
  column('External-IP', 'string', 'The addresses the service is reached at from outside the cluster: its external IPs, its load balancer ingress, or its external name.'),
  column('Port(s)', 'string', 'The ports the service exposes, with their node ports and protocols.'),
  AGE_COLUMN,
  column('Selector', 'string', 'The labels of the pods the service sends traffic to.', 1),
]);

/** printService with Wide set. */
function serviceCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = field(object, 'spec');
  const clusterIPs = strings(spec, 'clusterIPs');
  const ports = portString(spec);
  return [
    nameOf(object),
    stringField(spec, 'type'),
    clusterIPs[0] ?? '<none>',
    externalIP(spec, field(object, 'status')),
    ports === '' ? '<none>' : ports,
    ageOf(object, now),
    formatLabels(spec['selector']),
  ];
}

/** makePortString: "80/TCP", or "80:30080/TCP" with a node port, comma-separated. */
function portString(spec: Record<string, unknown>): string {
  return portsOf(spec)
    .map((port) => {
      const nodePort = num(port, 'nodePort');
      return nodePort > 0 ? `${num(port, 'port')}:${nodePort}/${str(port, 'protocol')}` : `${num(port, 'port')}/${str(port, 'protocol')}`;
    })
    .join(',');
}

/**
 * getServiceExternalIP: external IPs for ClusterIP and NodePort ("<none>" without); for a
 * LoadBalancer its ingress addresses and external IPs ("<pending>" when it has none); the external
 * name for ExternalName; "<unknown>" for another type.
 */
function externalIP(spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const externalIPs = strings(spec, 'externalIPs');
  switch (str(spec, 'type')) {
    case TYPE_CLUSTER_IP:
    case TYPE_NODE_PORT:
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case TYPE_LOAD_BALANCER: {
      const ingress = loadBalancerAddresses(field(status, 'loadBalancer'));
      if (externalIPs.length > 0) return [...(ingress === '' ? [] : ingress.split(',')), ...externalIPs].join(',');
      return ingress === '' ? '<pending>' : ingress;
    }
    case TYPE_EXTERNAL_NAME:
      return str(spec, 'externalName');
  }
  return '<unknown>';
}

/** loadBalancerStatusStringer (wide): each ingress's IP, else its hostname, sorted and unique. */
function loadBalancerAddresses(loadBalancer: Record<string, unknown>): string {
  const ingress = loadBalancer['ingress'];
  const addresses = new Set<string>();
  if (Array.isArray(ingress)) {
    for (const entry of ingress) {
      if (!isPlainObject(entry)) continue;
      const address = str(entry, 'ip') !== '' ? str(entry, 'ip') : str(entry, 'hostname');
      if (address !== '') addresses.add(address);
    }
  }
  return [...addresses].sort(compareCodePoints).join(',');
}

/** labels.FormatLabels: "k=v" pairs sorted by key, comma-separated; "<none>" when there are none. */
export function formatLabels(labels: unknown): string {
  if (!isPlainObject(labels)) return '<none>';
  const keys = Object.keys(labels).sort(compareCodePoints);
  if (keys.length === 0) return '<none>';
  return keys.map((key) => `${key}=${typeof labels[key] === 'string' ? labels[key] : ''}`).join(',');
}

export const SERVICE_PRINTER: KindPrinter = { columns: SERVICE_COLUMNS, cells: serviceCells };
