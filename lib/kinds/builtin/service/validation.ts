/**
 * kube's ValidateService / ValidateServiceUpdate (pkg/apis/core/validation), on a Service as the
 * strategy leaves it before allocation: each rule a FieldError with kube's type, path and words.
 *
 * Left to others or out: metadata (admission's ValidateObjectMeta, with the DNS-1035 name rule of
 * the kind's nameValidation); the allocator's own checks (cluster IP and node port in range and
 * free, families configured on the cluster) and what it fills in (a LoadBalancer with
 * externalTrafficPolicy Local gets its healthCheckNodePort there, so its absence is no error
 * here); the topology annotations and the load-balancer-source-ranges annotation; status writes
 * beyond the load balancer ingress shape.
 */
import type { FieldError } from '../../../errors.ts';
import { goQuote } from '../../../go-strconv.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateLabels } from '../../../validation/names.ts';
import {
  CLUSTER_IP_NONE,
  externallyAccessible,
  isHeadless,
  isSet,
  needsHealthCheck,
  num,
  portsOf,
  specOf,
  str,
  stringMap,
  strings,
  TYPE_CLUSTER_IP,
  TYPE_EXTERNAL_NAME,
  TYPE_LOAD_BALANCER,
  TYPE_NODE_PORT,
} from './fields.ts';
import { parseIP, validateLegacyIP, validateNonSpecialIP } from './ip.ts';

/** core.MaxClientIPServiceAffinitySeconds: one day. */
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const TRAFFIC_DISTRIBUTIONS = ['PreferClose', 'PreferSameZone', 'PreferSameNode'];

const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
const invalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
const duplicate = (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value, detail: '' });
const notSupported = (field: string, value: unknown, supported: readonly string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  value,
  detail: `supported values: ${supported.map(goQuote).join(', ')}`,
});

/** The kind's Validate (old undefined) or ValidateUpdate. */
export function validateService(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = specOf(object) ?? {};
  const errors: FieldError[] = [];
  if (old !== undefined) errors.push(...validateUpdate(spec, specOf(old) ?? {}));
  errors.push(...validateSpec(spec, old === undefined ? undefined : (specOf(old) ?? {})));
  return errors;
}

/** ValidateService's spec rules, in kube's order. */
function validateSpec(spec: Record<string, unknown>, oldSpec: Record<string, unknown> | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const type = str(spec, 'type');
  const headless = isHeadless(spec);
  const ports = portsOf(spec);
  if (ports.length === 0 && !headless && type !== TYPE_EXTERNAL_NAME) errors.push(required('spec.ports'));
  if (type === TYPE_LOAD_BALANCER && headless) {
    errors.push(invalid('spec.clusterIPs[0]', CLUSTER_IP_NONE, "may not be set to 'None' for LoadBalancer services"));
  } else if (type === TYPE_NODE_PORT && headless) {
    errors.push(invalid('spec.clusterIPs[0]', CLUSTER_IP_NONE, "may not be set to 'None' for NodePort services"));
  } else if (type === TYPE_EXTERNAL_NAME) {
    if (strings(spec, 'clusterIPs').length > 0) errors.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (strings(spec, 'ipFamilies').length > 0) errors.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (isSet(spec, 'ipFamilyPolicy')) errors.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    // A CNAME may end with a dot, marking it fully qualified.
    const cname = str(spec, 'externalName').replace(/\.$/, '');
    if (cname === '') errors.push(required('spec.externalName'));
    else for (const detail of isDNS1123Subdomain(cname)) errors.push(invalid('spec.externalName', cname, detail));
  }

  const names = new Set<string>();
  ports.forEach((port, i) => errors.push(...validatePort(port, ports.length > 1, names, `spec.ports[${i}]`)));

  const selector = stringMap(spec, 'selector');
  if (selector !== undefined) errors.push(...validateLabels(selector, 'spec.selector'));

  const affinity = str(spec, 'sessionAffinity');
  if (affinity === '') errors.push(required('spec.sessionAffinity'));
  else if (!AFFINITIES.includes(affinity)) errors.push(notSupported('spec.sessionAffinity', affinity, AFFINITIES));
  if (affinity === 'ClientIP') errors.push(...validateClientIPAffinity(spec.sessionAffinityConfig));
  else if (affinity === 'None' && isSet(spec, 'sessionAffinityConfig')) {
    errors.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  errors.push(...validateClusterIPsRelatedFields(spec, oldSpec));

  const oldExternalIPs = oldSpec === undefined ? [] : strings(oldSpec, 'externalIPs');
  strings(spec, 'externalIPs').forEach((ip, i) => {
    const ipErrors = validateLegacyIP(`spec.externalIPs[${i}]`, ip, oldExternalIPs);
    errors.push(...(ipErrors.length > 0 ? ipErrors : validateNonSpecialIP(`spec.externalIPs[${i}]`, ip)));
  });

  if (type === '') errors.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(type)) errors.push(notSupported('spec.type', type, SERVICE_TYPES));

  if (type === TYPE_CLUSTER_IP) {
    ports.forEach((port, i) => {
      if (num(port, 'nodePort') !== 0) errors.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }
  // Node ports and ports are unique per protocol.
  const nodePorts = new Set<string>();
  ports.forEach((port, i) => {
    const nodePort = num(port, 'nodePort');
    if (nodePort === 0) return;
    const key = `${str(port, 'protocol')}/${nodePort}`;
    if (nodePorts.has(key)) errors.push(duplicate(`spec.ports[${i}].nodePort`, nodePort));
    nodePorts.add(key);
  });
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const key = `${str(port, 'protocol')}/${num(port, 'port')}`;
    // kube reports the key it compares: a core.ServicePort holding only protocol and port.
    if (seen.has(key)) {
      errors.push(duplicate(`spec.ports[${i}]`, { Name: '', Protocol: str(port, 'protocol'), AppProtocol: null, Port: num(port, 'port'), TargetPort: 0, NodePort: 0 }));
    }
    seen.add(key);
  });

  const sourceRanges = strings(spec, 'loadBalancerSourceRanges');
  if (sourceRanges.length > 0) {
    // kube's path for this field is capitalised.
    if (type !== TYPE_LOAD_BALANCER) errors.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    sourceRanges.forEach((range, i) => {
      if (!isCIDR(range.trim())) {
        errors.push(invalid(`spec.LoadBalancerSourceRanges[${i}]`, range.trim(), 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
      }
    });
  }
  if (isSet(spec, 'allocateLoadBalancerNodePorts') && type !== TYPE_LOAD_BALANCER) {
    errors.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  // kube's path for this one has no "spec." (defaults make it unreachable but for an explicit null).
  if (type === TYPE_LOAD_BALANCER && !isSet(spec, 'allocateLoadBalancerNodePorts')) errors.push(required('allocateLoadBalancerNodePorts'));

  // kube checks the class again without the stored object (on update, its errors come twice).
  errors.push(...validateLoadBalancerClass(spec, undefined));
  errors.push(...validateExternalTrafficPolicy(spec));

  const internal = spec.internalTrafficPolicy;
  if (internal === undefined || internal === null) {
    if (type === TYPE_NODE_PORT || type === TYPE_LOAD_BALANCER || type === TYPE_CLUSTER_IP) errors.push(required('spec.internalTrafficPolicy'));
  } else if (typeof internal !== 'string' || !TRAFFIC_POLICIES.includes(internal)) {
    errors.push(notSupported('spec.internalTrafficPolicy', internal, TRAFFIC_POLICIES));
  }
  const distribution = spec.trafficDistribution;
  if (distribution !== undefined && distribution !== null && (typeof distribution !== 'string' || !TRAFFIC_DISTRIBUTIONS.includes(distribution))) {
    errors.push(notSupported('spec.trafficDistribution', distribution, TRAFFIC_DISTRIBUTIONS));
  }
  return errors;
}

/** validateServicePort: name (required when there are several, a DNS-1123 label, unique), port, protocol, targetPort, appProtocol. */
function validatePort(port: Record<string, unknown>, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = str(port, 'name');
  if (requireName && name === '') {
    errors.push(required(`${path}.name`));
  } else if (name !== '') {
    for (const detail of isDNS1123Label(name)) errors.push(invalid(`${path}.name`, name, detail));
    if (names.has(name)) errors.push(duplicate(`${path}.name`, name));
    else names.add(name);
  }
  const number = num(port, 'port');
  if (!validPortNumber(number)) errors.push(invalid(`${path}.port`, number, PORT_RANGE));
  const protocol = str(port, 'protocol');
  if (protocol === '') errors.push(required(`${path}.protocol`));
  else if (!PROTOCOLS.includes(protocol)) errors.push(notSupported(`${path}.protocol`, protocol, PROTOCOLS));
  const target = port.targetPort;
  if (typeof target === 'number') {
    if (!validPortNumber(target)) errors.push(invalid(`${path}.targetPort`, target, PORT_RANGE));
  } else if (typeof target === 'string') {
    for (const detail of portNameErrors(target)) errors.push(invalid(`${path}.targetPort`, target, detail));
  }
  if (typeof port.appProtocol === 'string') {
    for (const detail of isQualifiedName(port.appProtocol)) errors.push(invalid(`${path}.appProtocol`, port.appProtocol, detail));
  }
  return errors;
}

/** validation.InclusiveRangeError(1, 65535). */
const PORT_RANGE = 'must be between 1 and 65535, inclusive';

function validPortNumber(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** validation.IsValidPortName: an IANA service name (a named container port). */
export function portNameErrors(name: string): string[] {
  const errors: string[] = [];
  if (Buffer.byteLength(name, 'utf8') > 15) errors.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errors.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errors.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errors.push('must not contain consecutive hyphens');
  if (name.length > 0 && (name.startsWith('-') || name.endsWith('-'))) errors.push('must not begin or end with a hyphen');
  return errors;
}

/** validateClientIPAffinityConfig: a timeout of 1 s to one day. */
function validateClientIPAffinity(config: unknown): FieldError[] {
  const when = 'when session affinity type is ClientIP';
  if (!isPlainObject(config)) return [required('spec.sessionAffinityConfig', when)];
  const clientIP = config.clientIP;
  if (!isPlainObject(clientIP)) return [required('spec.sessionAffinityConfig.clientIP', when)];
  const timeout = clientIP.timeoutSeconds;
  if (timeout === undefined || timeout === null) return [required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', when)];
  if (typeof timeout !== 'number' || timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS) {
    return [invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`)];
  }
  return [];
}

/**
 * ValidateServiceClusterIPsRelatedFields: clusterIP and clusterIPs agree; families, policy and
 * addresses are well formed; at most two addresses, one of each family, each of the family its
 * ipFamilies entry names. Nothing for ExternalName (checked above).
 */
function validateClusterIPsRelatedFields(spec: Record<string, unknown>, oldSpec: Record<string, unknown> | undefined): FieldError[] {
  if (str(spec, 'type') === TYPE_EXTERNAL_NAME) return [];
  const errors: FieldError[] = [];
  const clusterIP = str(spec, 'clusterIP');
  const ips = strings(spec, 'clusterIPs');
  if (clusterIP !== '') {
    if (ips.length === 0) errors.push(required('spec.clusterIPs'));
    else if (ips[0] !== clusterIP) errors.push(invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errors.push(invalid('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  }
  const families = strings(spec, 'ipFamilies');
  const seenFamilies = new Set<string>();
  families.forEach((family, i) => {
    if (!IP_FAMILIES.includes(family)) errors.push(notSupported(`spec.ipFamilies[${i}]`, family, IP_FAMILIES));
    if (seenFamilies.has(family)) errors.push(duplicate(`spec.ipFamilies[${i}]`, family));
    seenFamilies.add(family);
  });
  const policy = spec.ipFamilyPolicy;
  if (policy !== undefined && policy !== null && (typeof policy !== 'string' || !IP_FAMILY_POLICIES.includes(policy))) {
    errors.push(notSupported('spec.ipFamilyPolicy', policy, IP_FAMILY_POLICIES));
  }
  let invalidIPs = false;
  const oldIPs = oldSpec === undefined ? [] : strings(oldSpec, 'clusterIPs');
  ips.forEach((ip, i) => {
    if (i === 0 && ip === CLUSTER_IP_NONE) {
      if (ips.length > 1) {
        invalidIPs = true;
        errors.push(invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
      }
      return;
    }
    const ipErrors = validateLegacyIP(`spec.clusterIPs[${i}]`, ip, oldIPs);
    if (ipErrors.length > 0) invalidIPs = true;
    errors.push(...ipErrors);
  });
  if (ips.length > 2) errors.push(invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (invalidIPs) return errors;
  if (ips.length > 1) {
    const parsed = ips.map((ip) => parseIP(ip));
    const dualStack = parsed.length === 2 && parsed[0] !== undefined && parsed[1] !== undefined && parsed[0].family !== parsed[1].family;
    if (!dualStack) errors.push(invalid('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(spec) && ips.length > 0 && families.length > 0) {
    ips.forEach((ip, i) => {
      if (i >= families.length) return;
      const isIPv6 = parseIP(ip)?.family === 'IPv6';
      if (families[i] === 'IPv4' && isIPv6) errors.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !isIPv6) errors.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errors;
}

/** validateLoadBalancerClassField: unchanged on a LoadBalancer, a qualified name, only on LoadBalancers. */
function validateLoadBalancerClass(spec: Record<string, unknown>, oldSpec: Record<string, unknown> | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const isLB = str(spec, 'type') === TYPE_LOAD_BALANCER;
  const value = spec.loadBalancerClass;
  const set = value !== undefined && value !== null;
  if (oldSpec !== undefined && isLB && str(oldSpec, 'type') === TYPE_LOAD_BALANCER) {
    const before = oldSpec.loadBalancerClass;
    if ((before ?? null) !== (value ?? null)) errors.push(invalid('spec.loadBalancerClass', value ?? null, 'may not change once set'));
  }
  if (isLB) {
    if (typeof value === 'string') for (const detail of isQualifiedName(value)) errors.push(invalid('spec.loadBalancerClass', value, detail));
  } else if (set) {
    errors.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return errors;
}

/** validateServiceExternalTrafficPolicy: only for externally accessible Services; the health check node port only where it is needed. */
function validateExternalTrafficPolicy(spec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const policy = str(spec, 'externalTrafficPolicy');
  if (!externallyAccessible(spec)) {
    if (policy !== '') errors.push(invalid('spec.externalTrafficPolicy', policy, 'may only be set for externally-accessible services'));
  } else if (policy === '') {
    errors.push(required('spec.externalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(policy)) {
    errors.push(notSupported('spec.externalTrafficPolicy', policy, TRAFFIC_POLICIES));
  }
  const healthCheckNodePort = num(spec, 'healthCheckNodePort');
  if (!needsHealthCheck(spec)) {
    if (healthCheckNodePort !== 0) {
      errors.push(invalid('spec.healthCheckNodePort', healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    }
  } else if (healthCheckNodePort !== 0 && !validPortNumber(healthCheckNodePort)) {
    errors.push(invalid('spec.healthCheckNodePort', healthCheckNodePort, PORT_RANGE));
  }
  return errors;
}

/**
 * ValidateServiceUpdate's own rules: cluster IPs and families may not change once set (but for
 * ExternalName and headless Services), a health check node port that stays needed stays.
 */
function validateUpdate(spec: Record<string, unknown>, oldSpec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const externalName = str(spec, 'type') === TYPE_EXTERNAL_NAME || str(oldSpec, 'type') === TYPE_EXTERNAL_NAME;
  const headless = isHeadless(spec);
  const oldHeadless = isHeadless(oldSpec);
  const ips = strings(spec, 'clusterIPs');
  const oldIPs = strings(oldSpec, 'clusterIPs');
  const singleStack = str(spec, 'ipFamilyPolicy') === 'SingleStack';
  const policy = isSet(spec, 'ipFamilyPolicy') ? spec.ipFamilyPolicy : null;
  if (!externalName && !(oldHeadless && headless)) {
    if (oldIPs.length === ips.length) {
      oldIPs.forEach((ip, i) => {
        if (ip !== ips[i]) errors.push(invalid(`spec.clusterIPs[${i}]`, ips, 'may not change once set'));
      });
    } else if (oldIPs.length > ips.length) {
      if (ips.length === 0) errors.push(invalid('spec.clusterIPs[0]', ips, 'primary clusterIP can not be unset'));
      if (oldIPs.length > 0 && ips.length > 0 && ips[0] !== oldIPs[0]) errors.push(invalid('spec.clusterIPs[0]', ips, 'may not change once set'));
      if (ips.length === 1 && !singleStack) errors.push(invalid('spec.ipFamilyPolicy', policy, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
      errors.push(invalid('spec.clusterIPs[0]', ips, 'may not change once set'));
    }
  }
  const families = strings(spec, 'ipFamilies');
  const oldFamilies = strings(oldSpec, 'ipFamilies');
  if (!externalName && headless === oldHeadless && !headless) {
    if (oldFamilies.length === families.length) {
      oldFamilies.forEach((family, i) => {
        if (family !== families[i]) errors.push(invalid('spec.ipFamilies[0]', families, 'may not change once set'));
      });
    } else if (oldFamilies.length > families.length) {
      if (ips.length === 0) errors.push(invalid('spec.ipFamilies[0]', families, 'primary ipFamily can not be unset'));
      if (families.length > 0 && families[0] !== oldFamilies[0]) errors.push(invalid('spec.ipFamilies[0]', ips, 'may not change once set'));
      if (families.length === 1 && !singleStack) errors.push(invalid('spec.ipFamilyPolicy', policy, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    } else if (oldFamilies.length > 0 && families.length > 0 && families[0] !== oldFamilies[0]) {
      errors.push(invalid('spec.ipFamilies[0]', ips, 'may not change once set'));
    }
  }
  errors.push(...validateLoadBalancerClass(spec, oldSpec));
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && num(spec, 'healthCheckNodePort') !== num(oldSpec, 'healthCheckNodePort')) {
    errors.push(forbidden('spec.healthCheckNodePort', 'field is immutable'));
  }
  return errors;
}

/** A CIDR as netutils.ParseCIDRSloppy reads it. */
function isCIDR(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const ip = parseIP(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (ip === undefined || !/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (ip.family === 'IPv4' ? 32 : 128);
}

const IP_MODES = ['Proxy', 'VIP'];

/**
 * ValidateServiceStatusUpdate's ValidateLoadBalancerStatus: ingress only on a LoadBalancer, each
 * with a valid IP (and then an ipMode, VIP or Proxy) or a DNS hostname that is no address.
 */
export function validateLoadBalancerStatus(object: KubeObject): FieldError[] {
  const status = object.status;
  const loadBalancer = isPlainObject(status) ? status.loadBalancer : undefined;
  const ingress = isPlainObject(loadBalancer) && Array.isArray(loadBalancer.ingress) ? loadBalancer.ingress : [];
  const path = 'status.loadBalancer.ingress';
  if (str(specOf(object), 'type') !== TYPE_LOAD_BALANCER && ingress.length > 0) {
    return [forbidden(path, "may only be used when `spec.type` is 'LoadBalancer'")];
  }
  const errors: FieldError[] = [];
  ingress.forEach((entry: unknown, i: number) => {
    if (!isPlainObject(entry)) return;
    const at = `${path}[${i}]`;
    const ip = str(entry, 'ip');
    if (ip !== '') errors.push(...validateLegacyIP(`${at}.ip`, ip));
    const mode = entry.ipMode;
    if (mode === undefined || mode === null) {
      if (ip !== '') errors.push(required(`${at}.ipMode`, 'must be specified when `ip` is set'));
    } else if (ip === '') {
      errors.push(forbidden(`${at}.ipMode`, 'may not be specified when `ip` is not set'));
    } else if (typeof mode !== 'string' || !IP_MODES.includes(mode)) {
      errors.push(notSupported(`${at}.ipMode`, mode, IP_MODES));
    }
    const hostname = str(entry, 'hostname');
    if (hostname !== '') {
      for (const detail of isDNS1123Subdomain(hostname)) errors.push(invalid(`${at}.hostname`, hostname, detail));
      if (parseIP(hostname) !== undefined) errors.push(invalid(`${at}.hostname`, hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errors;
}
