/**
 * Reading a Service's fields as kube's typed struct holds them: objects are open JSON, so a field
 * that is absent or of another type reads as Go's zero value ("" , 0, nil list), and nothing here
 * throws. Writes go through the plain objects these return.
 */
import { isPlainObject, type KubeObject } from '../../../kube.ts';

export const TYPE_CLUSTER_IP = 'ClusterIP';
export const TYPE_NODE_PORT = 'NodePort';
export const TYPE_LOAD_BALANCER = 'LoadBalancer';
export const TYPE_EXTERNAL_NAME = 'ExternalName';
export const CLUSTER_IP_NONE = 'None';

/** The spec object when there is one (undefined when absent or not an object). */
export function specOf(object: KubeObject): Record<string, unknown> | undefined {
  const spec: unknown = object.spec;
  return isPlainObject(spec) ? spec : undefined;
}

/** A string field, "" when absent or not a string. */
export function str(record: Record<string, unknown> | undefined, key: string): string {
  const value = record?.[key];
  return typeof value === 'string' ? value : '';
}

/** A number field, 0 when absent or not a number. */
export function num(record: Record<string, unknown> | undefined, key: string): number {
  const value = record?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** A list of strings (entries of another type are left out), [] when absent. */
export function strings(record: Record<string, unknown> | undefined, key: string): string[] {
  const value = record?.[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The ports that are objects, [] when there are none. */
export function portsOf(spec: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const value = spec?.['ports'];
  return Array.isArray(value) ? value.filter(isPlainObject) : [];
}

/** A map of strings, undefined when absent (nil) or not an object. */
export function stringMap(record: Record<string, unknown> | undefined, key: string): Record<string, unknown> | undefined {
  const value = record?.[key];
  return isPlainObject(value) ? value : undefined;
}

/** Whether a field holds a value (a Go pointer that is not nil). */
export function isSet(record: Record<string, unknown> | undefined, key: string): boolean {
  const value = record?.[key];
  return value !== undefined && value !== null;
}

/** kube's isHeadlessService: exactly one cluster IP, "None". */
export function isHeadless(spec: Record<string, unknown> | undefined): boolean {
  const ips = strings(spec, 'clusterIPs');
  return ips.length === 1 && ips[0] === CLUSTER_IP_NONE;
}

/** Every type but ExternalName has cluster IPs (even "None" counts). */
export function needsClusterIP(spec: Record<string, unknown> | undefined): boolean {
  return str(spec, 'type') !== TYPE_EXTERNAL_NAME;
}

/** NodePort and LoadBalancer services have node ports. */
export function needsNodePort(spec: Record<string, unknown> | undefined): boolean {
  const type = str(spec, 'type');
  return type === TYPE_NODE_PORT || type === TYPE_LOAD_BALANCER;
}

/** kube's NeedsHealthCheck: a LoadBalancer with externalTrafficPolicy Local gets a health check node port. */
export function needsHealthCheck(spec: Record<string, unknown> | undefined): boolean {
  return str(spec, 'type') === TYPE_LOAD_BALANCER && str(spec, 'externalTrafficPolicy') === 'Local';
}

/** kube's ExternallyAccessible: NodePort, LoadBalancer, or ClusterIP with external IPs. */
export function externallyAccessible(spec: Record<string, unknown> | undefined): boolean {
  const type = str(spec, 'type');
  return type === TYPE_LOAD_BALANCER || type === TYPE_NODE_PORT || (type === TYPE_CLUSTER_IP && strings(spec, 'externalIPs').length > 0);
}

/**
 * Whether node ports are allocated for ports that ask for none: always, except for a
 * LoadBalancer with allocateLoadBalancerNodePorts false (kube's shouldAllocateNodePorts).
 */
export function shouldAllocateNodePorts(spec: Record<string, unknown> | undefined): boolean {
  const type = str(spec, 'type');
  if (type === TYPE_NODE_PORT) return true;
  if (type === TYPE_LOAD_BALANCER) return spec?.['allocateLoadBalancerNodePorts'] !== false;
  return false;
}

/** The node ports a Service holds (non-zero), each once, in port order. */
export function nodePortsOf(spec: Record<string, unknown> | undefined): number[] {
  const out: number[] = [];
  for (const port of portsOf(spec)) {
    const nodePort = num(port, 'nodePort');
    if (nodePort !== 0 && !out.includes(nodePort)) out.push(nodePort);
  }
  return out;
}

/** Two lists of strings with the same entries in the same order. */
export function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
