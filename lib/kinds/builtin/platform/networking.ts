/**
 * networking.k8s.io/v1: Ingress (namespaced, status subresource), IngressClass (cluster-scoped)
 * and NetworkPolicy (namespaced), with kube's defaults (networking/v1 defaults.go), validation
 * (networking/validation) and print handlers.
 *
 * Left out: the Ingress update options that exist for objects stored by older versions beyond
 * the three kube keeps (invalid secret names, wildcard-host rules, relaxed service names), and
 * kube's warnings on write.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../../../validation/names.ts';
import { AGE_COLUMN, ageOf, column, compareCodePoints, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { isDNS1035Label } from '../customresourcedefinition.ts';
import {
  cidrContains,
  cidrErrors,
  ipErrors,
  isIP,
  isSet,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  list,
  nameErrors,
  num,
  obj,
  parseCIDRSloppy,
  pathSegmentErrors,
  str,
  supported,
} from './validation.ts';
import { formatLabelSelector, validateLabelSelector } from '../../../label-selector.ts';

const GROUP = 'networking.k8s.io';

// ---------------------------------------------------------------------------------------------
// Ingress

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The checks kube relaxes on update for what older versions let in (IngressValidationOptions). */
interface IngressOptions {
  allowInvalidSecretName: boolean;
  allowInvalidWildcardHostRule: boolean;
  allowRelaxedServiceNameValidation: boolean;
}

const STRICT: IngressOptions = { allowInvalidSecretName: false, allowInvalidWildcardHostRule: false, allowRelaxedServiceNameValidation: false };

/** validateIngressTypedLocalObjectReference (a backend's `resource`). */
function typedLocalObjectReferenceErrors(ref: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof ref.apiGroup === 'string') errors.push(...nameErrors(isDNS1123Subdomain, ref.apiGroup, `${at}.apiGroup`));
  for (const key of ['kind', 'name']) {
    const value = str(ref[key]);
    if (value === '') errors.push({ type: 'FieldValueRequired', field: `${at}.${key}`, detail: '' });
    else errors.push(...pathSegmentErrors(value, `${at}.${key}`));
  }
  return errors;
}

/** validateIngressBackend: a resource or a service (by name, with a port name or number), never both. */
function backendErrors(backend: Record<string, unknown>, at: string, opts: IngressOptions): FieldError[] {
  const hasResource = isSet(backend.resource);
  const hasService = isSet(backend.service);
  if (hasResource && hasService) return [{ type: 'FieldValueInvalid', field: at, value: '', detail: 'cannot set both resource and service backends' }];
  if (hasResource) return typedLocalObjectReferenceErrors(obj(backend.resource), `${at}.resource`);
  if (!hasService) return [{ type: 'FieldValueInvalid', field: at, value: '', detail: 'resource or service backend is required' }];
  const errors: FieldError[] = [];
  const service = obj(backend.service);
  const name = str(service.name);
  if (name === '') errors.push({ type: 'FieldValueRequired', field: `${at}.service.name`, detail: '' });
  else errors.push(...nameErrors(opts.allowRelaxedServiceNameValidation ? isDNS1123Label : isDNS1035Label, name, `${at}.service.name`));
  const port = obj(service.port);
  const portName = str(port.name);
  const portNumber = num(port.number);
  if (portName !== '' && portNumber !== 0) {
    errors.push({ type: 'FieldValueInvalid', field: at, value: '', detail: 'cannot set both port name & port number' });
  } else if (portName !== '') {
    errors.push(...nameErrors(isValidPortName, portName, `${at}.service.port.name`));
  } else if (portNumber !== 0) {
    for (const detail of isValidPortNum(portNumber)) errors.push({ type: 'FieldValueInvalid', field: `${at}.service.port.number`, value: portNumber, detail });
  } else {
    errors.push({ type: 'FieldValueRequired', field: at, detail: 'port name or number is required' });
  }
  return errors;
}

/** validateHTTPIngressPath: a pathType (without one nothing else is checked), an absolute path, a backend. */
function httpPathErrors(path: Record<string, unknown>, at: string, opts: IngressOptions): FieldError[] {
  if (!isSet(path.pathType)) return [{ type: 'FieldValueRequired', field: `${at}.pathType`, detail: 'pathType must be specified' }];
  const errors: FieldError[] = [];
  const pathType = str(path.pathType);
  const value = str(path.path);
  const where = `${at}.path`;
  if (pathType === 'Exact' || pathType === 'Prefix') {
    if (!value.startsWith('/')) errors.push({ type: 'FieldValueInvalid', field: where, value, detail: 'must be an absolute path' });
    if (value !== '') {
      for (const sequence of INVALID_PATH_SEQUENCES) {
        if (value.includes(sequence)) errors.push({ type: 'FieldValueInvalid', field: where, value, detail: `must not contain '${sequence}'` });
      }
      for (const suffix of INVALID_PATH_SUFFIXES) {
        if (value.endsWith(suffix)) errors.push({ type: 'FieldValueInvalid', field: where, value, detail: `cannot end with '${suffix}'` });
      }
    }
  } else if (pathType === 'ImplementationSpecific') {
    if (value !== '' && !value.startsWith('/')) errors.push({ type: 'FieldValueInvalid', field: where, value, detail: 'must be an absolute path' });
  } else {
    errors.push({ type: 'FieldValueNotSupported', field: `${at}.pathType`, value: pathType, detail: supported(PATH_TYPES) });
  }
  errors.push(...backendErrors(obj(path.backend), `${at}.backend`, opts));
  return errors;
}

/** validateIngressRuleValue: an `http` rule needs paths, each valid. */
function ruleValueErrors(rule: Record<string, unknown>, at: string, opts: IngressOptions): FieldError[] {
  if (!isSet(rule.http)) return [];
  const paths = list(obj(rule.http).paths);
  const errors: FieldError[] = [];
  if (paths.length === 0) errors.push({ type: 'FieldValueRequired', field: `${at}.http.paths`, detail: '' });
  paths.forEach((p, i) => errors.push(...httpPathErrors(obj(p), `${at}.http.paths[${i}]`, opts)));
  return errors;
}

/** validateIngressRules: hosts are DNS names (a leading "*." allowed), not IP addresses. */
function rulesErrors(rules: unknown[], opts: IngressOptions): FieldError[] {
  const errors: FieldError[] = [];
  rules.forEach((raw, i) => {
    const rule = obj(raw);
    const at = `spec.rules[${i}]`;
    const host = str(rule.host);
    let wildcard = false;
    if (host !== '') {
      if (isIP(host)) errors.push({ type: 'FieldValueInvalid', field: `${at}.host`, value: host, detail: 'must be a DNS name, not an IP address' });
      wildcard = host.includes('*');
      errors.push(...nameErrors(wildcard ? isWildcardDNS1123Subdomain : isDNS1123Subdomain, host, `${at}.host`));
    }
    if (!wildcard || !opts.allowInvalidWildcardHostRule) errors.push(...ruleValueErrors(rule, at, opts));
  });
  return errors;
}

/** validateIngressTLS: hosts as rules' hosts, secret names as Secret names. */
function tlsErrors(tls: unknown[], opts: IngressOptions): FieldError[] {
  const errors: FieldError[] = [];
  tls.forEach((raw, i) => {
    const entry = obj(raw);
    list(entry.hosts).forEach((h, j) => {
      const host = str(h);
      errors.push(...nameErrors(host.includes('*') ? isWildcardDNS1123Subdomain : isDNS1123Subdomain, host, `spec.tls[${i}].hosts[${j}]`));
    });
    const secretName = str(entry.secretName);
    if (!opts.allowInvalidSecretName && secretName !== '') errors.push(...nameErrors(isDNS1123Subdomain, secretName, `spec.tls[${i}].secretName`));
  });
  return errors;
}

/** ValidateIngressSpec. */
function ingressSpecErrors(spec: Record<string, unknown>, opts: IngressOptions): FieldError[] {
  const errors: FieldError[] = [];
  const rules = list(spec.rules);
  if (rules.length === 0 && !isSet(spec.defaultBackend)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec', value: Array.isArray(spec.rules) ? spec.rules : null, detail: 'either `defaultBackend` or `rules` must be specified' });
  }
  if (isSet(spec.defaultBackend)) errors.push(...backendErrors(obj(spec.defaultBackend), 'spec.defaultBackend', opts));
  if (rules.length > 0) errors.push(...rulesErrors(rules, opts));
  const tls = list(spec.tls);
  if (tls.length > 0) errors.push(...tlsErrors(tls, opts));
  if (typeof spec.ingressClassName === 'string') errors.push(...nameErrors(isDNS1123Subdomain, spec.ingressClassName, 'spec.ingressClassName'));
  return errors;
}

/** A backend service name kube once let in: a DNS label that is no DNS-1035 label (e.g. "1abc"). */
function relaxedServiceName(backend: unknown): boolean {
  const service = obj(obj(backend).service);
  if (!isSet(obj(backend).service)) return false;
  const name = str(service.name);
  return isDNS1123Label(name).length === 0 && isDNS1035Label(name).length > 0;
}

/** The options of an update, from what the stored Ingress already holds (allowInvalid... of kube). */
function ingressUpdateOptions(old: KubeObject): IngressOptions {
  const spec = obj(old.spec);
  const allowInvalidSecretName = list(spec.tls).some((t) => {
    const name = str(obj(t).secretName);
    return name !== '' && isDNS1123Subdomain(name).length > 0;
  });
  const allowInvalidWildcardHostRule = list(spec.rules).some((r) => str(obj(r).host).includes('*') && ruleValueErrors(obj(r), '', STRICT).length > 0);
  const allowRelaxedServiceNameValidation =
    relaxedServiceName(spec.defaultBackend) || list(spec.rules).some((r) => list(obj(obj(r).http).paths).some((p) => relaxedServiceName(obj(p).backend)));
  return { allowInvalidSecretName, allowInvalidWildcardHostRule, allowRelaxedServiceNameValidation };
}

/** ValidateIngressCreate / ValidateIngressUpdate (metadata is admission's). */
function validateIngress(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj(object.spec);
  if (old !== undefined) return ingressSpecErrors(spec, ingressUpdateOptions(old));
  const errors = ingressSpecErrors(spec, STRICT);
  const annotations = obj(object.metadata?.annotations);
  const annotation = annotations[INGRESS_CLASS_ANNOTATION];
  if (typeof annotation === 'string' && typeof spec.ingressClassName === 'string' && annotation !== spec.ingressClassName) {
    // kube names the field with Child(), hence the dots around the annotation key.
    errors.push({ type: 'FieldValueInvalid', field: `annotations.${INGRESS_CLASS_ANNOTATION}`, value: annotation, detail: 'must match `ingressClassName` when both are specified' });
  }
  return errors;
}

/** ValidateIngressStatusUpdate: load-balancer IPs (those already stored pass) and hostnames. */
function validateIngressStatus(object: KubeObject, old: KubeObject): FieldError[] {
  const existing = list(obj(obj(old.status).loadBalancer).ingress)
    .map((i) => str(obj(i).ip))
    .filter((ip) => ip !== '');
  const errors: FieldError[] = [];
  list(obj(obj(object.status).loadBalancer).ingress).forEach((raw, i) => {
    const entry = obj(raw);
    const at = `status.loadBalancer.ingress[${i}]`;
    const ip = str(entry.ip);
    if (ip !== '') errors.push(...ipErrors(ip, `${at}.ip`, existing));
    const hostname = str(entry.hostname);
    if (hostname !== '') {
      errors.push(...nameErrors(isDNS1123Subdomain, hostname, `${at}.hostname`));
      if (isIP(hostname)) errors.push({ type: 'FieldValueInvalid', field: `${at}.hostname`, value: hostname, detail: 'must be a DNS name, not an IP address' });
    }
  });
  return errors;
}

/** formatHosts: the first three hosts, "*" when none, "+ N more..." past three rules. */
function formatHosts(rules: unknown[]): string {
  const hosts: string[] = [];
  const max = 3;
  let more = false;
  for (const rule of rules) {
    if (hosts.length === max) more = true;
    const host = str(obj(rule).host);
    if (!more && host !== '') hosts.push(host);
  }
  if (hosts.length === 0) return '*';
  const text = hosts.join(',');
  return more ? `${text} + ${rules.length - max} more...` : text;
}

/** ingressLoadBalancerStatusStringer (wide, as the server prints): the sorted, distinct IPs or else hostnames. */
function loadBalancerAddresses(status: unknown): string {
  const addresses = new Set<string>();
  for (const raw of list(obj(obj(status).loadBalancer).ingress)) {
    const entry = obj(raw);
    const address = str(entry.ip) !== '' ? str(entry.ip) : str(entry.hostname);
    if (address !== '') addresses.add(address);
  }
  return [...addresses].sort(compareCodePoints).join(',');
}

/** printIngress: NAME, CLASS, HOSTS, ADDRESS, PORTS ("80", or "80, 443" with TLS), AGE. */
function ingressCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = obj(object.spec);
  const className = typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>';
  const ports = list(spec.tls).length > 0 ? '80, 443' : '80';
  return [nameOf(object), className, formatHosts(list(spec.rules)), loadBalancerAddresses(object.status), ports, ageOf(object, now)];
}

export const INGRESS: KindDefinition = {
  source: 'builtin',
  group: GROUP,
  version: 'v1',
  resource: 'ingresses',
  singular: 'ingress',
  kind: 'Ingress',
  listKind: 'IngressList',
  namespaced: true,
  shortNames: ['ing'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { validate: validateIngress, generation: 'spec' },
  statusStrategy: { validate: validateIngressStatus },
  printer: {
    columns: Object.freeze([
      NAME_COLUMN,
      column('Class', 'string', 'The IngressClass that configures this ingress'),
      column('Hosts', 'string', 'The hosts the ingress rules match requests against'),
      column('Address', 'string', 'The load balancer addresses the ingress is reachable at'),
      column('Ports', 'string', 'The ports open for this ingress (443 when it has TLS configurations)'),
      AGE_COLUMN,
    ]),
    cells: ingressCells,
  },
  schema: 'io.k8s.api.networking.v1.Ingress',
};

// ---------------------------------------------------------------------------------------------
// IngressClass

const MAX_CONTROLLER_LENGTH = 250;
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH = new RegExp(`^${HTTP_PATH_FMT}$`);

/** validation.IsDomainPrefixedPath: "<subdomain>/<http path>". */
function domainPrefixedPathErrors(value: string, field: string): FieldError[] {
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const path = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || host === '' || path === '') {
    return [{ type: 'FieldValueInvalid', field, value, detail: 'must be a domain-prefixed path (such as "acme.io/foo")' }];
  }
  const errors = nameErrors(isDNS1123Subdomain, host, field);
  if (!HTTP_PATH.test(path)) errors.push({ type: 'FieldValueInvalid', field, value: path, detail: `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')` });
  return errors;
}

const PARAMETER_SCOPES = ['Cluster', 'Namespace'];

/** validateIngressClassParametersReference. */
function parametersErrors(params: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof params.apiGroup === 'string') errors.push(...nameErrors(isDNS1123Subdomain, params.apiGroup, `${at}.apiGroup`));
  for (const key of ['kind', 'name']) {
    const value = str(params[key]);
    if (value === '') errors.push({ type: 'FieldValueRequired', field: `${at}.${key}`, detail: '' });
    else errors.push(...pathSegmentErrors(value, `${at}.${key}`));
  }
  if (!isSet(params.scope)) {
    errors.push({ type: 'FieldValueRequired', field: `${at}.scope`, detail: '' });
    return errors;
  }
  const scope = str(params.scope);
  if (!PARAMETER_SCOPES.includes(scope)) {
    errors.push({ type: 'FieldValueNotSupported', field: `${at}.scope`, value: scope, detail: supported(PARAMETER_SCOPES) });
  } else if (scope === 'Namespace') {
    if (typeof params.namespace !== 'string') errors.push({ type: 'FieldValueRequired', field: `${at}.namespace`, detail: "`parameters.scope` is set to 'Namespace'" });
    else errors.push(...nameErrors(isDNS1123Label, params.namespace, `${at}.namespace`));
  } else if (isSet(params.namespace)) {
    errors.push({ type: 'FieldValueForbidden', field: `${at}.namespace`, detail: "`parameters.scope` is set to 'Cluster'" });
  }
  return errors;
}

/** ValidateIngressClass, and on update first the controller's immutability (ValidateIngressClassUpdate). */
function validateIngressClass(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj(object.spec);
  const errors: FieldError[] = [];
  const controller = str(spec.controller);
  if (old !== undefined) {
    const was = str(obj(old.spec).controller);
    if (controller !== was) errors.push({ type: 'FieldValueInvalid', field: 'spec.controller', value: controller, detail: 'field is immutable' });
  }
  if (controller === '') {
    errors.push({ type: 'FieldValueRequired', field: 'spec.controller', detail: '' });
  } else {
    if (Buffer.byteLength(controller, 'utf8') > MAX_CONTROLLER_LENGTH) {
      errors.push({ type: 'FieldValueTooLong', field: 'spec.controller', detail: `may not be more than ${MAX_CONTROLLER_LENGTH} bytes` });
    }
    errors.push(...domainPrefixedPathErrors(controller, 'spec.controller'));
  }
  if (isSet(spec.parameters)) errors.push(...parametersErrors(obj(spec.parameters), 'spec.parameters'));
  return errors;
}

/** SetDefaults_IngressClass: parameters' scope is Cluster when unset. */
function defaultIngressClass(object: KubeObject): KubeObject {
  const parameters = obj(object.spec).parameters;
  if (isPlainObject(parameters) && !isSet(parameters.scope)) parameters.scope = 'Cluster';
  return object;
}

/** printIngressClass: NAME, CONTROLLER, PARAMETERS ("Kind[.apiGroup]/name", "<none>"), AGE. */
function ingressClassCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = obj(object.spec);
  let parameters = '<none>';
  if (isSet(spec.parameters)) {
    const p = obj(spec.parameters);
    parameters = `${str(p.kind)}${typeof p.apiGroup === 'string' ? `.${p.apiGroup}` : ''}/${str(p.name)}`;
  }
  return [nameOf(object), str(spec.controller), parameters, ageOf(object, now)];
}

export const INGRESS_CLASS: KindDefinition = {
  source: 'builtin',
  group: GROUP,
  version: 'v1',
  resource: 'ingressclasses',
  singular: 'ingressclass',
  kind: 'IngressClass',
  listKind: 'IngressClassList',
  namespaced: false,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults: defaultIngressClass, validate: validateIngressClass, generation: 'spec' },
  printer: {
    columns: Object.freeze([
      NAME_COLUMN,
      column('Controller', 'string', 'The controller that implements this class'),
      column('Parameters', 'string', 'The resource holding further configuration for this class'),
      AGE_COLUMN,
    ]),
    cells: ingressClassCells,
  },
  schema: 'io.k8s.api.networking.v1.IngressClass',
};

// ---------------------------------------------------------------------------------------------
// NetworkPolicy

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const POLICY_TYPES = ['Ingress', 'Egress'];

/** SetDefaults_NetworkPolicy (policyTypes: Ingress, and Egress when there are egress rules) and of its ports (protocol TCP). */
function defaultNetworkPolicy(object: KubeObject): KubeObject {
  const spec = object.spec;
  if (!isPlainObject(spec)) return object;
  const types = spec.policyTypes;
  if (types === undefined || types === null || (Array.isArray(types) && types.length === 0)) {
    spec.policyTypes = list(spec.egress).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  for (const rule of [...list(spec.ingress), ...list(spec.egress)]) {
    for (const port of list(obj(rule).ports)) {
      if (isPlainObject(port) && !isSet(port.protocol)) port.protocol = 'TCP';
    }
  }
  return object;
}

/** ValidateNetworkPolicyPort. */
function portErrors(port: Record<string, unknown>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (isSet(port.protocol) && !PROTOCOLS.includes(str(port.protocol))) {
    errors.push({ type: 'FieldValueNotSupported', field: `${at}.protocol`, value: str(port.protocol), detail: supported(PROTOCOLS) });
  }
  const hasEndPort = isSet(port.endPort);
  const endPort = num(port.endPort);
  if (typeof port.port === 'number') {
    for (const detail of isValidPortNum(port.port)) errors.push({ type: 'FieldValueInvalid', field: `${at}.port`, value: port.port, detail });
    if (hasEndPort) {
      if (endPort < port.port) errors.push({ type: 'FieldValueInvalid', field: `${at}.endPort`, value: endPort, detail: 'must be greater than or equal to `port`' });
      for (const detail of isValidPortNum(endPort)) errors.push({ type: 'FieldValueInvalid', field: `${at}.endPort`, value: endPort, detail });
    }
  } else if (typeof port.port === 'string') {
    if (hasEndPort) errors.push({ type: 'FieldValueInvalid', field: `${at}.endPort`, value: endPort, detail: 'may not be specified when `port` is non-numeric' });
    errors.push(...nameErrors(isValidPortName, port.port, `${at}.port`));
  } else if (hasEndPort) {
    errors.push({ type: 'FieldValueInvalid', field: `${at}.endPort`, value: endPort, detail: 'may not be specified when `port` is not specified' });
  }
  return errors;
}

/** ValidateIPBlock: a CIDR, and exceptions strictly inside it (CIDRs of the stored policy pass as they are). */
function ipBlockErrors(block: Record<string, unknown>, at: string, allowedCIDRs: readonly string[]): FieldError[] {
  const cidr = str(block.cidr);
  if (cidr === '') return [{ type: 'FieldValueRequired', field: `${at}.cidr`, detail: '' }];
  const errors = cidrErrors(cidr, `${at}.cidr`, allowedCIDRs);
  const network = parseCIDRSloppy(cidr);
  if (network === undefined) return errors;
  list(block.except).forEach((raw, i) => {
    const except = str(raw);
    const where = `${at}.except[${i}]`;
    errors.push(...cidrErrors(except, where, allowedCIDRs));
    const inner = parseCIDRSloppy(except);
    if (inner === undefined) return;
    if (!cidrContains(network, inner) || network.bits >= inner.bits) {
      errors.push({ type: 'FieldValueInvalid', field: where, value: except, detail: 'must be a strict subset of `cidr`' });
    }
  });
  return errors;
}

interface NetworkPolicyOptions {
  allowInvalidLabelValueInSelector: boolean;
  allowedCIDRs: readonly string[];
}

/** ValidateNetworkPolicyPeer: one of the selectors, or an ipBlock alone. */
function peerErrors(peer: Record<string, unknown>, at: string, opts: NetworkPolicyOptions): FieldError[] {
  const errors: FieldError[] = [];
  let peers = 0;
  for (const key of ['podSelector', 'namespaceSelector']) {
    if (!isSet(peer[key])) continue;
    peers++;
    errors.push(...validateLabelSelector(peer[key], `${at}.${key}`, opts.allowInvalidLabelValueInSelector));
  }
  if (isSet(peer.ipBlock)) {
    peers++;
    errors.push(...ipBlockErrors(obj(peer.ipBlock), `${at}.ipBlock`, opts.allowedCIDRs));
  }
  if (peers === 0) errors.push({ type: 'FieldValueRequired', field: at, detail: 'must specify a peer' });
  else if (peers > 1 && isSet(peer.ipBlock)) errors.push({ type: 'FieldValueForbidden', field: at, detail: 'may not specify both ipBlock and another peer' });
  return errors;
}

/** ValidateNetworkPolicySpec. */
function networkPolicySpecErrors(spec: Record<string, unknown>, opts: NetworkPolicyOptions): FieldError[] {
  const errors = validateLabelSelector(spec.podSelector, 'spec.podSelector', opts.allowInvalidLabelValueInSelector);
  for (const [direction, peersKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    list(spec[direction]).forEach((raw, i) => {
      const rule = obj(raw);
      const at = `spec.${direction}[${i}]`;
      list(rule.ports).forEach((port, j) => errors.push(...portErrors(obj(port), `${at}.ports[${j}]`)));
      list(rule[peersKey]).forEach((peer, j) => errors.push(...peerErrors(obj(peer), `${at}.${peersKey}[${j}]`, opts)));
    });
  }
  const policyTypes = list(spec.policyTypes);
  if (policyTypes.length > POLICY_TYPES.length) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.policyTypes', value: policyTypes, detail: 'may not specify more than two policyTypes' });
    return errors;
  }
  policyTypes.forEach((t, i) => {
    if (!POLICY_TYPES.includes(str(t))) errors.push({ type: 'FieldValueNotSupported', field: `spec.policyTypes[${i}]`, value: str(t), detail: supported(POLICY_TYPES) });
  });
  return errors;
}

/** The CIDRs of a stored policy's ipBlocks (cidr and except), which an update may keep even if invalid. */
function storedCIDRs(old: KubeObject): string[] {
  const spec = obj(old.spec);
  const cidrs: string[] = [];
  for (const [direction, peersKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    for (const rule of list(spec[direction])) {
      for (const peer of list(obj(rule)[peersKey])) {
        if (!isSet(obj(peer).ipBlock)) continue;
        const block = obj(obj(peer).ipBlock);
        cidrs.push(str(block.cidr), ...list(block.except).map(str));
      }
    }
  }
  return cidrs;
}

/**
 * The strategy's Validate / ValidateUpdate. An update is validated twice as kube does it (the
 * spec as on create, then again with the stored CIDRs allowed), so a spec error is named twice.
 */
function validateNetworkPolicy(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj(object.spec);
  const allowInvalidLabelValueInSelector = old !== undefined && validateLabelSelector(obj(old.spec).podSelector, '').length > 0;
  const errors = networkPolicySpecErrors(spec, { allowInvalidLabelValueInSelector, allowedCIDRs: [] });
  if (old !== undefined) errors.push(...networkPolicySpecErrors(spec, { allowInvalidLabelValueInSelector, allowedCIDRs: storedCIDRs(old) }));
  return errors;
}

/** printNetworkPolicy: NAME, POD-SELECTOR, AGE. */
function networkPolicyCells(object: Record<string, unknown>, now: Date): unknown[] {
  // podSelector is a struct, never nil: absent prints as the empty selector.
  return [nameOf(object), formatLabelSelector(obj(obj(object.spec).podSelector)), ageOf(object, now)];
}

export const NETWORK_POLICY: KindDefinition = {
  source: 'builtin',
  group: GROUP,
  version: 'v1',
  resource: 'networkpolicies',
  singular: 'networkpolicy',
  kind: 'NetworkPolicy',
  listKind: 'NetworkPolicyList',
  namespaced: true,
  shortNames: ['netpol'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults: defaultNetworkPolicy, validate: validateNetworkPolicy, generation: 'spec' },
  printer: {
    columns: Object.freeze([NAME_COLUMN, column('Pod-Selector', 'string', 'The pods this policy applies to'), AGE_COLUMN]),
    cells: networkPolicyCells,
  },
  schema: 'io.k8s.api.networking.v1.NetworkPolicy',
};
