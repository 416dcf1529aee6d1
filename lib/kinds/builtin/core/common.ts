/**
 * What the kinds of this area share: guarded reads of open JSON, kube's checks of resource
 * names, quantities, config keys and IP addresses (with kube's messages), and the defaulting
 * of resource lists. Objects reach these functions after decoding, so field types are right
 * where present, but every read is still guarded: they never throw on malformed input.
 */
import { isIP } from './ip.ts';
import type { FieldError } from '../../../errors.ts';
import { isPlainObject } from '../../../kube.ts';
import { formatQuantity, quantityMilliValue, quantityOf, quantitySign, roundUpQuantity, type Quantity } from '../../quantity.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../../../validation/names.ts';

export { isIP };

/** The object at `value`, or an empty one. */
export function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

/** The string at `value`, or "" (Go's zero value). */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The list at `value`, or an empty one. */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A child path: `spec` + `limits` = `spec.limits`. */
export function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** field.Path.Key: `spec.hard` + `cpu` = `spec.hard[cpu]`. */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** field.Path.Index. */
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** apimachinery's FieldImmutableErrorMsg. */
export const FIELD_IMMUTABLE = 'field is immutable';

/** ValidateImmutableField: Invalid with the new value when it differs from the old (deep, as JSON). */
export function immutable(next: unknown, old: unknown, path: string): FieldError[] {
  return sameValue(next, old) ? [] : [{ type: 'FieldValueInvalid', field: path, value: next ?? null, detail: FIELD_IMMUTABLE }];
}

/** Deep equality of JSON values, where an absent field and null are the same (Go's nil). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!sameValue(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

/** DNS-1123 label errors at `path` (ValidateDNS1123Label). */
export function dns1123LabelErrors(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((detail) => ({ type: 'FieldValueInvalid', field: path, value, detail }));
}

/** DNS-1123 subdomain errors at `path`. */
export function dns1123SubdomainErrors(value: string, path: string): FieldError[] {
  return isDNS1123Subdomain(value).map((detail) => ({ type: 'FieldValueInvalid', field: path, value, detail }));
}

/** Qualified-name errors at `path` (ValidateQualifiedName). */
export function qualifiedNameErrors(value: string, path: string): FieldError[] {
  return isQualifiedName(value).map((detail) => ({ type: 'FieldValueInvalid', field: path, value, detail }));
}

const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_KEY = new RegExp(`^${CONFIG_KEY_FMT}$`);
const CONFIG_KEY_MSG = `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${CONFIG_KEY_FMT}')`;

/** validation.IsConfigMapKey: a key of a Secret's or ConfigMap's data, with kube's messages. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(value, 'utf8') > 253) errs.push('must be no more than 253 characters');
  if (!CONFIG_KEY.test(value)) errs.push(CONFIG_KEY_MSG);
  if (value === '.') errs.push("must not be '.'");
  else if (value === '..') errs.push("must not be '..'");
  else if (value.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** validation.IsValidPortNum's message. */
export const PORT_RANGE = 'must be between 1 and 65535, inclusive';

/** The protocols a port may name. */
export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

/** `supported values: "A", "B"` as field.NotSupported writes the list. */
export function supportedValues(values: readonly string[]): string {
  return `supported values: ${values.map((v) => JSON.stringify(v)).join(', ')}`;
}

// ---- Resource names (pkg/apis/core/helper) ----

const STANDARD_QUOTA_RESOURCES = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'services.nodeports',
  'services.loadbalancers',
]);
const STANDARD_RESOURCES = new Set([...STANDARD_QUOTA_RESOURCES, 'storage']);
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const INTEGER_RESOURCES = new Set([
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);
const HUGEPAGES_PREFIX = 'hugepages-';
const REQUESTS_HUGEPAGES_PREFIX = 'requests.hugepages-';

/** IsNativeResource: unprefixed, or in a kubernetes.io domain. */
export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** IsHugePageResourceName. */
export function isHugePageResourceName(name: string): boolean {
  return name.startsWith(HUGEPAGES_PREFIX);
}

/** IsExtendedResourceName: not native, no "requests." prefix, and a qualified name with it. */
export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

/** IsOvercommitAllowed: native resources other than huge pages. */
export function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePageResourceName(name);
}

function isQuotaHugePageResourceName(name: string): boolean {
  return name.startsWith(HUGEPAGES_PREFIX) || name.startsWith(REQUESTS_HUGEPAGES_PREFIX);
}

/** IsStandardQuotaResourceName. */
export function isStandardQuotaResourceName(name: string): boolean {
  return STANDARD_QUOTA_RESOURCES.has(name) || isQuotaHugePageResourceName(name);
}

/** IsIntegerResourceName: object counts and extended resources. */
export function isIntegerResourceName(name: string): boolean {
  return INTEGER_RESOURCES.has(name) || isExtendedResourceName(name);
}

/** validateResourceName: a qualified name, and a standard resource unless fully qualified. */
export function resourceNameErrors(name: string, path: string): FieldError[] {
  const errors = qualifiedNameErrors(name, path);
  if (errors.length > 0) return errors;
  if (!name.includes('/') && !(STANDARD_RESOURCES.has(name) || isQuotaHugePageResourceName(name))) {
    errors.push({ type: 'FieldValueInvalid', field: path, value: name, detail: 'must be a standard resource type or fully qualified' });
  }
  return errors;
}

/** validateContainerResourceName: as validateResourceName, then a container resource or an extended one. */
export function containerResourceNameErrors(name: string, path: string): FieldError[] {
  const errors = resourceNameErrors(name, path);
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResourceName(name)) {
      errors.push({ type: 'FieldValueInvalid', field: path, value: name, detail: 'must be a standard resource for containers' });
    }
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errors.push({ type: 'FieldValueInvalid', field: path, value: name, detail: "doesn't follow extended resource name standard" });
  }
  return errors;
}

// ---- Quantities ----

/** The string form of a quantity as kube prints it (Quantity.String()); "0" for none. */
export function quantityText(value: unknown): string {
  const q = quantityOf(value);
  return q === undefined ? (typeof value === 'string' ? value : '0') : formatQuantity(q);
}

/** ValidateNonnegativeQuantity. */
export function nonNegativeQuantityErrors(q: Quantity, path: string): FieldError[] {
  return quantitySign(q) < 0 ? [{ type: 'FieldValueInvalid', field: path, value: formatQuantity(q), detail: 'must be greater than or equal to 0' }] : [];
}

/** ValidatePositiveQuantityValue. */
export function positiveQuantityErrors(q: Quantity, path: string): FieldError[] {
  return quantitySign(q) <= 0 ? [{ type: 'FieldValueInvalid', field: path, value: formatQuantity(q), detail: 'must be greater than zero' }] : [];
}

/** ValidateResourceQuantityValue: not negative, and whole for integer resources. */
export function resourceQuantityErrors(resource: string, q: Quantity, path: string): FieldError[] {
  const errors = nonNegativeQuantityErrors(q, path);
  if (isIntegerResourceName(resource) && quantityMilliValue(q) % 1000n !== 0n) {
    errors.push({ type: 'FieldValueInvalid', field: path, value: formatQuantity(q), detail: 'must be an integer' });
  }
  return errors;
}

/** validateBasicResource: Value() not negative (the value shown is Value(), an integer). */
export function basicResourceErrors(q: Quantity, path: string): FieldError[] {
  if (quantitySign(q) >= 0) return [];
  const milli = quantityMilliValue(q);
  // Value() rounds away from zero: -0.5 is -1.
  const value = milli % 1000n === 0n ? milli / 1000n : milli / 1000n - 1n;
  return [{ type: 'FieldValueInvalid', field: path, value: Number(value), detail: 'must be a valid resource quantity' }];
}

/**
 * SetDefaults_ResourceList, with the canonical form kube writes: every quantity rounded up to
 * milli and in kube's canonical string. Values that are not quantities are left alone.
 */
export function defaultResourceList(value: unknown): void {
  if (!isPlainObject(value)) return;
  for (const [name, raw] of Object.entries(value)) {
    const q = quantityOf(raw);
    if (q !== undefined) value[name] = formatQuantity(roundUpQuantity(q, 3));
  }
}

/** The entries of a resource list, in order, with their parsed quantities (undefined when unparsable). */
export function resourceEntries(value: unknown): Array<[string, Quantity | undefined]> {
  return Object.entries(obj(value)).map(([name, q]) => [name, quantityOf(q)]);
}

// ---- IP addresses (pkg/apis/core/validation ValidateNonSpecialIP and friends) ----

/** validation.IsValidIP's message for an address that does not parse. */
export const INVALID_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/**
 * ValidateNonSpecialIP: a valid address that is neither unspecified, loopback nor link-local
 * (unicast or multicast), each problem with kube's text.
 */
export function nonSpecialIPErrors(address: string, path: string): FieldError[] {
  const ip = isIP(address);
  if (ip === undefined) return [{ type: 'FieldValueInvalid', field: path, value: address, detail: 'must be a valid IP address' }];
  const errors: FieldError[] = [];
  if (ip.unspecified) errors.push({ type: 'FieldValueInvalid', field: path, value: address, detail: `may not be unspecified (${address})` });
  if (ip.loopback) errors.push({ type: 'FieldValueInvalid', field: path, value: address, detail: 'may not be in the loopback range (127.0.0.0/8, ::1/128)' });
  if (ip.linkLocalUnicast) errors.push({ type: 'FieldValueInvalid', field: path, value: address, detail: 'may not be in the link-local range (169.254.0.0/16, fe80::/10)' });
  if (ip.linkLocalMulticast) {
    errors.push({ type: 'FieldValueInvalid', field: path, value: address, detail: 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)' });
  }
  return errors;
}

/**
 * A short account of what differs between two objects, field by field ("- name: old" and
 * "+ name: new" lines, values as JSON), for the messages kube ends with a diff of the spec.
 * kube prints go-cmp's diff of its internal Go structs there, whose layout go-cmp
 * deliberately varies from run to run; this gives the same information in a stable form.
 */
export function fieldDiff(old: unknown, next: unknown): string {
  const before = obj(old);
  const after = obj(next);
  const lines: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (sameValue(before[name], after[name])) continue;
    if (before[name] !== undefined) lines.push(`- ${name}: ${JSON.stringify(before[name])}`);
    if (after[name] !== undefined) lines.push(`+ ${name}: ${JSON.stringify(after[name])}`);
  }
  return lines.join('\n');
}
