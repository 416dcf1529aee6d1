/**
 * EndpointSlice (discovery.k8s.io/v1, namespaced): ports default to the name "" and TCP;
 * validated as kube's ValidateEndpointSlice (the address type, required and then fixed; each
 * endpoint's addresses of that type; topology labels, hostname and node name; unique port
 * names and known protocols); generation raised on every change but to metadata, as kube's
 * strategy does; printed as kube's printEndpointSlice. The service an EndpointSlice belongs to
 * is named by its kubernetes.io/service-name label, which label selectors find as any label.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { isDNS1123Label, isDNS1123Subdomain, validateLabels } from '../../../validation/names.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN, stringField } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import {
  child,
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  immutable,
  index,
  isIP,
  list,
  nonSpecialIPErrors,
  obj,
  PORT_PROTOCOLS,
  qualifiedNameErrors,
  str,
  supportedValues,
} from './common.ts';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'] as const;
/** The address type kube still accepts on update of a slice written before it was deprecated. */
const DEPRECATED_ADDRESS_TYPES = ['IP'] as const;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 100;
const MAX_ENDPOINTS = 1000;

/** SetDefaults_EndpointPort: a port without a name is named "", without a protocol is TCP. */
function defaults(object: KubeObject): KubeObject {
  for (const port of list(object.ports)) {
    if (!isPlainObject(port)) continue;
    if (port.name === undefined || port.name === null) port.name = '';
    if (port.protocol === undefined || port.protocol === null) port.protocol = 'TCP';
  }
  return object;
}

/** validation.IsFullyQualifiedDomainName. */
function fqdnErrors(name: string, at: string): FieldError[] {
  if (name === '') return [{ type: 'FieldValueRequired', field: at, detail: '' }];
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const subdomain = isDNS1123Subdomain(trimmed);
  if (subdomain.length > 0) return [{ type: 'FieldValueInvalid', field: at, value: trimmed, detail: subdomain.join(',') }];
  const labels = trimmed.split('.');
  if (labels.length < 2) return [{ type: 'FieldValueInvalid', field: at, value: trimmed, detail: 'should be a domain with at least two segments separated by dots' }];
  for (const label of labels) {
    const errs = isDNS1123Label(label);
    if (errs.length > 0) return [{ type: 'FieldValueInvalid', field: at, value: label, detail: errs.join(',') }];
  }
  return [];
}

/** An address of the slice's type: an IPv4 or IPv6 address that is not special, or a domain name. */
function addressErrors(address: string, addressType: string, at: string): FieldError[] {
  switch (addressType) {
    case 'IP':
      return isIP(address) === undefined ? [{ type: 'FieldValueInvalid', field: at, value: address, detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' }] : [];
    case 'IPv4':
    case 'IPv6': {
      const ip = isIP(address);
      const v4 = addressType === 'IPv4';
      const errors: FieldError[] = [];
      if (ip === undefined || ip.v4 !== v4) errors.push({ type: 'FieldValueInvalid', field: at, value: address, detail: `must be a valid ${addressType} address` });
      errors.push(...nonSpecialIPErrors(address, at));
      return errors;
    }
    case 'FQDN':
      return fqdnErrors(address, at);
    default:
      // Unknown types are refused by the address type's own check.
      return [];
  }
}

function endpointsErrors(endpoints: unknown[], addressType: string): FieldError[] {
  if (endpoints.length > MAX_ENDPOINTS) return [{ type: 'FieldValueTooMany', field: 'endpoints', value: endpoints.length, detail: `must have at most ${MAX_ENDPOINTS} items` }];
  const errors: FieldError[] = [];
  endpoints.forEach((raw, i) => {
    const endpoint = obj(raw);
    const path = index('endpoints', i);
    const addressPath = child(path, 'addresses');
    const addresses = list(endpoint.addresses);
    if (addresses.length === 0) errors.push({ type: 'FieldValueRequired', field: addressPath, detail: 'must contain at least 1 address' });
    else if (addresses.length > MAX_ADDRESSES) {
      errors.push({ type: 'FieldValueTooMany', field: addressPath, value: addresses.length, detail: `must have at most ${MAX_ADDRESSES} items` });
    }
    addresses.forEach((address, j) => errors.push(...addressErrors(str(address), addressType, index(addressPath, j))));
    // v1 calls the field deprecatedTopology; kube's messages use its internal name.
    const topology = obj(endpoint.deprecatedTopology);
    const topologyPath = child(path, 'topology');
    if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) {
      errors.push({ type: 'FieldValueTooMany', field: topologyPath, value: Object.keys(topology).length, detail: `must have at most ${MAX_TOPOLOGY_LABELS} items` });
    }
    errors.push(...validateLabels(topology, topologyPath));
    if (typeof endpoint.hostname === 'string') errors.push(...dns1123LabelErrors(endpoint.hostname, child(path, 'hostname')));
    if (typeof endpoint.nodeName === 'string') errors.push(...dns1123SubdomainErrors(endpoint.nodeName, child(path, 'nodeName')));
  });
  return errors;
}

function portsErrors(ports: unknown[]): FieldError[] {
  if (ports.length > MAX_PORTS) return [{ type: 'FieldValueTooMany', field: 'ports', value: ports.length, detail: `must have at most ${MAX_PORTS} items` }];
  const errors: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((raw, i) => {
    const port = obj(raw);
    const path = index('ports', i);
    const name = str(port.name);
    if (name !== '') errors.push(...dns1123LabelErrors(name, child(path, 'name')));
    if (names.has(name)) errors.push({ type: 'FieldValueDuplicate', field: child(path, 'name'), value: name, detail: '' });
    else names.add(name);
    const protocol = port.protocol;
    if (protocol === undefined || protocol === null) errors.push({ type: 'FieldValueRequired', field: child(path, 'protocol'), detail: '' });
    else if (!(PORT_PROTOCOLS as readonly string[]).includes(str(protocol))) {
      errors.push({ type: 'FieldValueNotSupported', field: child(path, 'protocol'), value: str(protocol), detail: supportedValues(PORT_PROTOCOLS) });
    }
    if (typeof port.appProtocol === 'string') errors.push(...qualifiedNameErrors(port.appProtocol, child(path, 'appProtocol')));
  });
  return errors;
}

/** ValidateEndpointSlice(Create/Update): on update the deprecated "IP" type is still taken, and the type may not change. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const addressType = str(object.addressType);
  const valid: readonly string[] = old === undefined ? ADDRESS_TYPES : [...DEPRECATED_ADDRESS_TYPES, ...ADDRESS_TYPES].sort();
  if (addressType === '') errors.push({ type: 'FieldValueRequired', field: 'addressType', detail: '' });
  else if (!valid.includes(addressType)) errors.push({ type: 'FieldValueNotSupported', field: 'addressType', value: addressType, detail: supportedValues(valid) });
  errors.push(...endpointsErrors(list(object.endpoints), addressType));
  errors.push(...portsErrors(list(object.ports)));
  if (old !== undefined) errors.push(...immutable(object.addressType, old.addressType, 'addressType'));
  return errors;
}

/** listWithMoreString: the first three, " + N more..." for the rest, "<unset>" for none. */
function listWithMore(items: string[]): string {
  const max = 3;
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length === 0 ? '<unset>' : items.join(',');
}

/** formatDiscoveryPorts: each port's number, else its name (even ""), else "*". */
export function formatDiscoveryPorts(ports: unknown): string {
  return listWithMore(
    list(ports).map((raw) => {
      const port = obj(raw);
      if (typeof port.port === 'number') return String(port.port);
      if (typeof port.name === 'string') return port.name;
      return '*';
    }),
  );
}

/** formatDiscoveryEndpoints: every address of every endpoint. */
export function formatDiscoveryEndpoints(endpoints: unknown): string {
  return listWithMore(list(endpoints).flatMap((e) => list(obj(e).addresses).map(str)));
}

const ENDPOINT_SLICE_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column(
    'AddressType',
    'string',
    'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.',
  ),
  column(
    'Ports',
    'string',
    'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.',
  ),
  column('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
  AGE_COLUMN,
]);

export const ENDPOINT_SLICE: KindDefinition = {
  source: 'builtin',
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
  singular: 'endpointslice',
  kind: 'EndpointSlice',
  listKind: 'EndpointSliceList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, validate, generation: 'allButMetadata' },
  printer: {
    columns: ENDPOINT_SLICE_COLUMNS,
    cells: (object, now) => [nameOf(object), stringField(object, 'addressType'), formatDiscoveryPorts(object['ports']), formatDiscoveryEndpoints(object['endpoints']), ageOf(object, now)],
  },
  schema: 'io.k8s.api.discovery.v1.EndpointSlice',
};
