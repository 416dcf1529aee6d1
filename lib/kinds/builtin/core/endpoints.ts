/**
 * Endpoints (core/v1, namespaced, short name "ep"): ports default to TCP; subsets, addresses
 * and ports validated with kube's texts; printed as kube's printEndpoints (up to three
 * "ip:port" pairs, then "+ N more...").
 *
 * Left out: kube's repacking of subsets (Canonicalize sorts and merges them) and the
 * deprecation warning kube 1.33 adds to every Endpoints request.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import {
  child,
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  index,
  INVALID_IP,
  isIP,
  list,
  nonSpecialIPErrors,
  obj,
  PORT_PROTOCOLS,
  PORT_RANGE,
  qualifiedNameErrors,
  str,
  supportedValues,
} from './common.ts';

/** SetDefaults_Endpoints: a port without a protocol is TCP. */
function defaults(object: KubeObject): KubeObject {
  for (const subset of list(object.subsets)) {
    if (!isPlainObject(subset)) continue;
    for (const port of list(subset.ports)) {
      if (isPlainObject(port) && (port.protocol === undefined || port.protocol === null || port.protocol === '')) port.protocol = 'TCP';
    }
  }
  return object;
}

/** validateEndpointAddress: the IP (valid, not special), hostname and nodeName. */
function addressErrors(address: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const ip = str(address.ip);
  if (isIP(ip) === undefined) errors.push({ type: 'FieldValueInvalid', field: child(path, 'ip'), value: ip, detail: INVALID_IP });
  const hostname = str(address.hostname);
  if (hostname !== '') errors.push(...dns1123LabelErrors(hostname, child(path, 'hostname')));
  if (typeof address.nodeName === 'string') errors.push(...dns1123SubdomainErrors(address.nodeName, child(path, 'nodeName')));
  errors.push(...nonSpecialIPErrors(ip, child(path, 'ip')));
  return errors;
}

/** validateEndpointPort: a name when there are several, the number, the protocol and appProtocol. */
export function endpointPortErrors(port: Record<string, unknown>, requireName: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = str(port.name);
  if (requireName && name === '') errors.push({ type: 'FieldValueRequired', field: child(path, 'name'), detail: '' });
  else if (name !== '') errors.push(...dns1123LabelErrors(name, child(path, 'name')));
  const number = typeof port.port === 'number' ? port.port : 0;
  if (number < 1 || number > 65535) errors.push({ type: 'FieldValueInvalid', field: child(path, 'port'), value: number, detail: PORT_RANGE });
  const protocol = str(port.protocol);
  if (protocol === '') errors.push({ type: 'FieldValueRequired', field: child(path, 'protocol'), detail: '' });
  else if (!(PORT_PROTOCOLS as readonly string[]).includes(protocol)) {
    errors.push({ type: 'FieldValueNotSupported', field: child(path, 'protocol'), value: protocol, detail: supportedValues(PORT_PROTOCOLS) });
  }
  if (typeof port.appProtocol === 'string') errors.push(...qualifiedNameErrors(port.appProtocol, child(path, 'appProtocol')));
  return errors;
}

/** ValidateEndpoints (metadata is admission's): each subset has addresses, each address and port valid. */
function validate(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  list(object.subsets).forEach((raw, i) => {
    const subset = obj(raw);
    const path = index('subsets', i);
    const addresses = list(subset.addresses);
    const notReady = list(subset.notReadyAddresses);
    // Headless services may have no ports, but every subset needs an address.
    if (addresses.length === 0 && notReady.length === 0) {
      errors.push({ type: 'FieldValueRequired', field: path, detail: 'must specify `addresses` or `notReadyAddresses`' });
    }
    addresses.forEach((a, j) => errors.push(...addressErrors(obj(a), index(child(path, 'addresses'), j))));
    notReady.forEach((a, j) => errors.push(...addressErrors(obj(a), index(child(path, 'notReadyAddresses'), j))));
    const ports = list(subset.ports);
    ports.forEach((p, j) => errors.push(...endpointPortErrors(obj(p), ports.length > 1, index(child(path, 'ports'), j))));
  });
  return errors;
}

/** net.JoinHostPort: IPv6 addresses in brackets. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * formatEndpoints: the first three addresses ("ip:port" for each port of a subset with ports,
 * the bare IP for a subset without), then " + N more..." for the rest; "<none>" without
 * subsets. Only ready addresses are listed.
 */
export function formatEndpoints(subsets: unknown): string {
  const all = list(subsets);
  if (all.length === 0) return '<none>';
  const shown: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const raw of all) {
    const subset = obj(raw);
    const addresses = list(subset.addresses).map((a) => str(obj(a).ip));
    const ports = list(subset.ports);
    if (ports.length === 0) {
      count += addresses.length;
      for (const ip of addresses) {
        if (shown.length === max) {
          more = true;
          break;
        }
        shown.push(ip);
      }
      continue;
    }
    for (const rawPort of ports) {
      const port = obj(rawPort);
      count += addresses.length;
      for (const ip of addresses) {
        if (shown.length === max) {
          more = true;
          break;
        }
        shown.push(joinHostPort(ip, typeof port.port === 'number' ? port.port : 0));
      }
    }
  }
  const joined = shown.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

const SUBSETS_DESCRIPTION =
  'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.';

export const ENDPOINTS: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'endpoints',
  singular: 'endpoints',
  kind: 'Endpoints',
  listKind: 'EndpointsList',
  namespaced: true,
  shortNames: ['ep'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, validate, generation: 'none' },
  printer: {
    columns: Object.freeze([NAME_COLUMN, column('Endpoints', 'string', SUBSETS_DESCRIPTION), AGE_COLUMN]),
    cells: (object, now) => [nameOf(object), formatEndpoints(object['subsets']), ageOf(object, now)],
  },
  schema: 'io.k8s.api.core.v1.Endpoints',
};
