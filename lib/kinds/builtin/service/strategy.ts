/**
 * Service defaults and preparation, as kube does them before validation: SetDefaults_Service
 * (pkg/apis/core/v1/defaults.go), the strategy's PrepareForCreate/PrepareForUpdate
 * (pkg/registry/core/service/strategy.go: status reset or kept, fields of a type the Service left
 * dropped) and the parts of the REST storage's BeginCreate/BeginUpdate that need no cluster
 * configuration (pkg/registry/core/service/storage: clusterIP and clusterIPs kept in step, values
 * allocated before kept when an update leaves them out, ipFamilyPolicy and the families the
 * cluster IPs name). What needs the cluster's ranges (the default family, the allocation itself)
 * is the allocator's (allocator.ts), which the pipeline calls after admission.
 */
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import {
  CLUSTER_IP_NONE,
  externallyAccessible,
  isSet,
  needsClusterIP,
  needsHealthCheck,
  needsNodePort,
  num,
  portsOf,
  sameStrings,
  specOf,
  str,
  stringMap,
  strings,
  TYPE_CLUSTER_IP,
  TYPE_EXTERNAL_NAME,
  TYPE_LOAD_BALANCER,
  TYPE_NODE_PORT,
} from './fields.ts';
import { familyOf } from './ip.ts';

/** v1.DefaultClientIPServiceAffinitySeconds: three hours. */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

/**
 * SetDefaults_Service: sessionAffinity None (and no sessionAffinityConfig) or, for ClientIP, a
 * timeout of 10800 s; type ClusterIP; each port's protocol TCP and targetPort its port;
 * externalTrafficPolicy Cluster for externally accessible Services; internalTrafficPolicy
 * Cluster for every type but ExternalName; allocateLoadBalancerNodePorts true for LoadBalancers,
 * and ipMode VIP for their status addresses. A spec that is not an object is left alone.
 */
export function defaultService(object: KubeObject): KubeObject {
  if (object.spec === undefined || object.spec === null) object.spec = {};
  const spec = specOf(object);
  if (spec === undefined) return object;
  if (str(spec, 'sessionAffinity') === '' && !isBadType(spec, 'sessionAffinity')) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const config = spec.sessionAffinityConfig;
    const clientIP = isPlainObject(config) ? config.clientIP : undefined;
    const timeout = isPlainObject(clientIP) ? clientIP.timeoutSeconds : undefined;
    if (timeout === undefined || timeout === null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  if (str(spec, 'type') === '' && !isBadType(spec, 'type')) spec.type = TYPE_CLUSTER_IP;
  for (const port of portsOf(spec)) {
    if (str(port, 'protocol') === '' && !isBadType(port, 'protocol')) port.protocol = 'TCP';
    const target = port.targetPort;
    if (target === undefined || target === null || target === 0 || target === '') port.targetPort = num(port, 'port');
  }
  if (externallyAccessible(spec) && str(spec, 'externalTrafficPolicy') === '' && !isBadType(spec, 'externalTrafficPolicy')) {
    spec.externalTrafficPolicy = 'Cluster';
  }
  const type = spec.type;
  if (!isSet(spec, 'internalTrafficPolicy') && (type === TYPE_NODE_PORT || type === TYPE_LOAD_BALANCER || type === TYPE_CLUSTER_IP)) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (type === TYPE_LOAD_BALANCER) {
    if (!isSet(spec, 'allocateLoadBalancerNodePorts')) spec.allocateLoadBalancerNodePorts = true;
    const status = object.status;
    const loadBalancer = isPlainObject(status) ? status.loadBalancer : undefined;
    const ingress = isPlainObject(loadBalancer) ? loadBalancer.ingress : undefined;
    if (Array.isArray(ingress)) {
      for (const entry of ingress) {
        if (isPlainObject(entry) && str(entry, 'ip') !== '' && !isSet(entry, 'ipMode')) entry.ipMode = 'VIP';
      }
    }
  }
  return object;
}

/** A field present with a type Go would not have decoded: defaults leave it for decoding's errors. */
function isBadType(record: Record<string, unknown>, key: string): boolean {
  const value = record[key];
  return value !== undefined && value !== null && typeof value !== 'string';
}

/**
 * PrepareForCreate, with BeginCreate's normalizeClusterIPs and the part of initIPFamilyFields
 * that needs no cluster configuration: the status starts empty; a clusterIP without clusterIPs
 * becomes its one entry; ipFamilyPolicy defaults to SingleStack (RequireDualStack for a headless
 * Service without selector), and ipFamilies takes the family of each given cluster IP.
 */
export function prepareServiceForCreate(object: KubeObject): KubeObject {
  const result: KubeObject = { ...object, status: { loadBalancer: {} } };
  const spec = specOf(result);
  if (spec === undefined) return result;
  normalizeClusterIPs(spec, undefined);
  initIPFamilyFields(spec, undefined);
  dropExternalNameTrafficPolicy(spec);
  return result;
}

/**
 * kube drops internalTrafficPolicy of an ExternalName Service when it reads one (defaultOnRead:
 * it was once defaulted for every type); dropped here before it is stored, so that every answer
 * shows what kube's do.
 */
function dropExternalNameTrafficPolicy(spec: Record<string, unknown>): void {
  if (str(spec, 'type') === TYPE_EXTERNAL_NAME) delete spec.internalTrafficPolicy;
}

/**
 * PrepareForUpdate, with BeginUpdate's patchAllocatedValues, normalizeClusterIPs and the part of
 * initIPFamilyFields that needs no cluster configuration: the status is the stored one; cluster
 * IPs and node ports allocated before are kept when the update leaves them out (so a manifest
 * applied again is no change); fields of a type the Service leaves are dropped when the update
 * did not change them (they are released by the allocator).
 */
export function prepareServiceForUpdate(object: KubeObject, old: KubeObject): KubeObject {
  const result: KubeObject = { ...object, status: old.status };
  if (old.status === undefined) delete result.status;
  const spec = specOf(result);
  const oldSpec = specOf(old) ?? {};
  if (spec === undefined) return result;
  patchAllocatedValues(spec, oldSpec);
  normalizeClusterIPs(spec, oldSpec);
  initIPFamilyFields(spec, oldSpec);
  dropTypeDependentFields(result, spec, oldSpec);
  dropExternalNameTrafficPolicy(spec);
  return result;
}

/**
 * normalizeClusterIPs: clusterIP and clusterIPs say the same. On create a clusterIP alone becomes
 * clusterIPs' one entry; on update, clusterIPs left out by a client that only knows clusterIP are
 * kept, and a clusterIP cleared or changed with clusterIPs unchanged carries clusterIPs along.
 */
function normalizeClusterIPs(spec: Record<string, unknown>, oldSpec: Record<string, unknown> | undefined): void {
  const clusterIP = str(spec, 'clusterIP');
  if (oldSpec === undefined) {
    if (clusterIP !== '' && strings(spec, 'clusterIPs').length === 0) spec.clusterIPs = [clusterIP];
    return;
  }
  const oldClusterIP = str(oldSpec, 'clusterIP');
  const oldIPs = strings(oldSpec, 'clusterIPs');
  if (oldIPs.length > 0 && strings(spec, 'clusterIPs').length === 0 && oldClusterIP === clusterIP) spec.clusterIPs = [...oldIPs];
  if (oldClusterIP !== clusterIP) {
    const same = sameStrings(oldIPs, strings(spec, 'clusterIPs'));
    if (oldClusterIP !== '' && clusterIP === '') {
      if (same) delete spec.clusterIPs;
    } else if (same) {
      spec.clusterIPs = [clusterIP];
    }
  }
}

/**
 * patchAllocatedValues: what was allocated before and the update leaves out is kept — the cluster
 * IPs (while the Service keeps having them), node ports by port name (unless another port of the
 * update took the number), the health check node port.
 */
function patchAllocatedValues(spec: Record<string, unknown>, oldSpec: Record<string, unknown>): void {
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if (str(spec, 'clusterIP') === '' && str(oldSpec, 'clusterIP') !== '') spec.clusterIP = str(oldSpec, 'clusterIP');
    const oldIPs = strings(oldSpec, 'clusterIPs');
    if (strings(spec, 'clusterIPs').length === 0 && oldIPs.length > 0) spec.clusterIPs = [...oldIPs];
  }
  if (needsNodePort(oldSpec) && needsNodePort(spec)) {
    const newPorts = new Set(portsOf(spec).map((p) => num(p, 'nodePort')).filter((n) => n !== 0));
    const used = new Set(portsOf(oldSpec).map((p) => num(p, 'nodePort')).filter((n) => n !== 0 && newPorts.has(n)));
    const byName = new Map<string, number>();
    for (const port of portsOf(oldSpec)) byName.set(str(port, 'name'), num(port, 'nodePort'));
    for (const port of portsOf(spec)) {
      if (num(port, 'nodePort') !== 0) continue;
      const previous = byName.get(str(port, 'name')) ?? 0;
      if (previous !== 0 && !used.has(previous)) port.nodePort = previous;
    }
  }
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && num(spec, 'healthCheckNodePort') === 0 && num(oldSpec, 'healthCheckNodePort') !== 0) {
    spec.healthCheckNodePort = num(oldSpec, 'healthCheckNodePort');
  }
}

/**
 * The part of initIPFamilyFields that needs no cluster configuration (ExternalName Services
 * have none of it): an absent ipFamilyPolicy is the stored one on update, RequireDualStack for a
 * headless Service without selector, else SingleStack; each cluster IP without a family entry
 * adds its family. The cluster's default family, the second family of a dual-stack policy and the
 * check that the families are configured are the allocator's.
 */
function initIPFamilyFields(spec: Record<string, unknown>, oldSpec: Record<string, unknown> | undefined): void {
  if (str(spec, 'type') === TYPE_EXTERNAL_NAME) return;
  if (!isSet(spec, 'ipFamilyPolicy')) {
    const oldPolicy = oldSpec === undefined ? '' : str(oldSpec, 'ipFamilyPolicy');
    if (oldPolicy !== '') spec.ipFamilyPolicy = oldPolicy;
    else if (str(spec, 'clusterIP') === CLUSTER_IP_NONE && Object.keys(stringMap(spec, 'selector') ?? {}).length === 0) spec.ipFamilyPolicy = 'RequireDualStack';
    else spec.ipFamilyPolicy = 'SingleStack';
  }
  const ips = strings(spec, 'clusterIPs');
  const families = strings(spec, 'ipFamilies');
  for (let i = families.length; i < ips.length; i++) {
    const ip = ips[i] ?? '';
    if (ip === CLUSTER_IP_NONE) break;
    const family = familyOf(ip);
    // An address that is none is validation's to refuse.
    if (family === undefined) return;
    families.push(family);
  }
  if (families.length > 0) spec.ipFamilies = families;
}

/**
 * dropTypeDependentFields: an update to a type that no longer has cluster IPs, node ports, a
 * health check node port, allocateLoadBalancerNodePorts, loadBalancerClass or
 * externalTrafficPolicy drops them when the update left them as they were (a changed value is
 * validation's to refuse); a Service that is no LoadBalancer has no load balancer status.
 */
function dropTypeDependentFields(object: KubeObject, spec: Record<string, unknown>, oldSpec: Record<string, unknown>): void {
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (str(oldSpec, 'clusterIP') === str(spec, 'clusterIP') && sameStrings(strings(oldSpec, 'clusterIPs'), strings(spec, 'clusterIPs'))) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameStrings(strings(oldSpec, 'ipFamilies'), strings(spec, 'ipFamilies'))) delete spec.ipFamilies;
    if (str(oldSpec, 'ipFamilyPolicy') === str(spec, 'ipFamilyPolicy')) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(oldSpec) && !needsNodePort(spec)) {
    const oldPorts = new Set(portsOf(oldSpec).map((p) => num(p, 'nodePort')));
    if (portsOf(spec).every((p) => num(p, 'nodePort') === 0 || oldPorts.has(num(p, 'nodePort')))) {
      for (const port of portsOf(spec)) delete port.nodePort;
    }
  }
  if (needsHealthCheck(oldSpec) && !needsHealthCheck(spec) && num(oldSpec, 'healthCheckNodePort') === num(spec, 'healthCheckNodePort')) {
    delete spec.healthCheckNodePort;
  }
  if (str(oldSpec, 'type') === TYPE_LOAD_BALANCER && str(spec, 'type') !== TYPE_LOAD_BALANCER) {
    const before = oldSpec.allocateLoadBalancerNodePorts;
    const after = spec.allocateLoadBalancerNodePorts;
    if (typeof before === 'boolean' && before === after) delete spec.allocateLoadBalancerNodePorts;
    if (isSet(oldSpec, 'loadBalancerClass') === isSet(spec, 'loadBalancerClass') && oldSpec.loadBalancerClass === spec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  const hadPolicy = str(oldSpec, 'type') === TYPE_NODE_PORT || str(oldSpec, 'type') === TYPE_LOAD_BALANCER;
  const hasPolicy = str(spec, 'type') === TYPE_NODE_PORT || str(spec, 'type') === TYPE_LOAD_BALANCER;
  if (hadPolicy && !hasPolicy && str(oldSpec, 'externalTrafficPolicy') === str(spec, 'externalTrafficPolicy')) delete spec.externalTrafficPolicy;
  if (str(spec, 'type') !== TYPE_LOAD_BALANCER && isPlainObject(object.status)) object.status = { ...object.status, loadBalancer: {} };
}
