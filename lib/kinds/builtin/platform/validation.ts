/**
 * What the platform kinds' strategies share: reading open JSON the way Go decodes it into typed
 * structs (a missing field or JSON null is the zero value or a nil pointer; a value of the wrong
 * type never gets this far, the schema's decoding refuses it), and the checks of
 * k8s.io/apimachinery's util/validation and meta/v1/validation these kinds use, with kube's words.
 */
import { isDeepStrictEqual } from 'node:util';
import type { FieldError } from '../../../errors.ts';
import { isPlainObject } from '../../../kube.ts';
import { pathSegmentNameErrors } from '../../../validation/path.ts';

/** A string field's value; "" (Go's zero value) when absent or not a string. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A struct field's value; an empty object when absent, null or not an object. */
export function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

/** A slice field's value; empty when absent, null or not a list. */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A number field's value; 0 when absent or not a number. */
export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Whether a pointer (or slice, map) field is set: present and not JSON null (Go's nil). */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** A map or slice field with at least one entry (Go's len(x) > 0). */
export function hasEntries(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return isPlainObject(value) && Object.keys(value).length > 0;
}

/**
 * apiequality.Semantic.DeepEqual for JSON values: nil and empty maps and slices are equal, as
 * are an absent field and a null one.
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => semanticEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!semanticEqual(a[key], b[key])) return false;
    return true;
  }
  return isDeepStrictEqual(a, b);
}

/** ValidateImmutableField: `field is immutable`, with the new value, when it changed. */
export function immutable(value: unknown, old: unknown, field: string): FieldError[] {
  return semanticEqual(value, old) ? [] : [{ type: 'FieldValueInvalid', field, value: value ?? null, detail: 'field is immutable' }];
}

/** ValidateNonnegativeField. */
export function nonnegative(value: unknown, field: string): FieldError[] {
  const n = num(value);
  return n < 0 ? [{ type: 'FieldValueInvalid', field, value: n, detail: 'must be greater than or equal to 0' }] : [];
}

/** field.NotSupported's detail: the supported values, each quoted. */
export function supported(values: readonly string[]): string {
  return `supported values: ${values.map((v) => JSON.stringify(v)).join(', ')}`;
}

/** validation.InclusiveRangeError. */
function inclusiveRange(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** validation.IsValidPortNum. */
export function isValidPortNum(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [inclusiveRange(1, 65535)];
}

/** validation.IsValidPortName (an IANA service name). */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(port, 'utf8') > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.startsWith('-') || port.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const WILDCARD_DNS1123_SUBDOMAIN_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`;
const WILDCARD_DNS1123_SUBDOMAIN = new RegExp(`^${WILDCARD_DNS1123_SUBDOMAIN_FMT}$`);

/** validation.IsWildcardDNS1123Subdomain: "*." and a subdomain. */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(value, 'utf8') > 253) errs.push('must be no more than 253 characters');
  if (!WILDCARD_DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '" +
        WILDCARD_DNS1123_SUBDOMAIN_FMT +
        "')",
    );
  }
  return errs;
}

const PERCENT_FMT = '[0-9]+%';

/** validation.IsValidPercent. */
export function isValidPercent(value: string): string[] {
  if (new RegExp(`^${PERCENT_FMT}$`).test(value)) return [];
  return [`a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '${PERCENT_FMT}')`];
}

/**
 * apps' ValidatePositiveIntOrPercent and IsNotMoreThan100Percent of an intstr.IntOrString: a
 * percentage string of at most 100%, or a non-negative integer.
 */
export function positiveIntOrPercent(value: unknown, field: string): FieldError[] {
  if (typeof value === 'string') {
    const errs = isValidPercent(value);
    if (errs.length > 0) return errs.map((detail) => ({ type: 'FieldValueInvalid', field, value, detail }));
    return Number(value.slice(0, -1)) > 100 ? [{ type: 'FieldValueInvalid', field, value, detail: 'must not be greater than 100%' }] : [];
  }
  return nonnegative(value, field);
}

/** path.IsValidPathSegmentName, as an Invalid error per problem. */
export function pathSegmentErrors(value: string, field: string): FieldError[] {
  return pathSegmentNameErrors(value).map((detail) => ({ type: 'FieldValueInvalid', field, value, detail }));
}

/** A name check (isDNS1123Subdomain, ...) as an Invalid error per problem. */
export function nameErrors(check: (value: string) => string[], value: string, field: string): FieldError[] {
  return check(value).map((detail) => ({ type: 'FieldValueInvalid', field, value, detail }));
}

/** An IPv4 address as netutils.ParseIPSloppy reads it (leading zeros allowed, read as decimal), or undefined. */
function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

/** An IPv6 address as Go's net.ParseIP reads it (with an embedded IPv4 tail allowed), as 16 bytes, or undefined. */
function parseIPv6(text: string): number[] | undefined {
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = v4;
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4": keep the "::"; "a::b:1.2.3.4": drop the separator before the IPv4 part.
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      const n = parseInt(group, 16);
      out.push(n >> 8, n & 0xff);
    }
    return out;
  };
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const wanted = 16 - tail.length;
  if (halves.length === 1) {
    const all = groups(halves[0] ?? '');
    if (all === undefined || all.length !== wanted) return undefined;
    return [...all, ...tail];
  }
  const left = groups(halves[0] ?? '');
  const right = groups(halves[1] ?? '');
  if (left === undefined || right === undefined || left.length + right.length >= wanted) return undefined;
  return [...left, ...new Array<number>(wanted - left.length - right.length).fill(0), ...right, ...tail];
}

/** A CIDR as netutils.ParseCIDRSloppy reads it: the address bytes and the prefix length, or undefined. */
export function parseCIDRSloppy(text: string): { ip: number[]; bits: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefix)) return undefined;
  const bits = Number(prefix);
  const ip = address.includes(':') ? parseIPv6(address) : parseIPv4(address);
  if (ip === undefined || bits > ip.length * 8) return undefined;
  return { ip, bits };
}

/** Whether `inner`'s address lies in `outer` (same family), as net.IPNet.Contains. */
export function cidrContains(outer: { ip: number[]; bits: number }, inner: { ip: number[] }): boolean {
  if (outer.ip.length !== inner.ip.length) return false;
  for (let bit = 0; bit < outer.bits; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((outer.ip[byte] ?? 0) & mask) !== ((inner.ip[byte] ?? 0) & mask)) return false;
  }
  return true;
}

/** IsValidCIDRForLegacyField without strict validation (kube's StrictIPCIDRValidation is off). */
export function cidrErrors(value: string, field: string, allowed: readonly string[] = []): FieldError[] {
  if (allowed.includes(value) || parseCIDRSloppy(value) !== undefined) return [];
  return [{ type: 'FieldValueInvalid', field, value, detail: 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)' }];
}

/** IsValidIPForLegacyField without strict validation. */
export function ipErrors(value: string, field: string, allowed: readonly string[] = []): FieldError[] {
  if (allowed.includes(value) || isIP(value)) return [];
  return [{ type: 'FieldValueInvalid', field, value, detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' }];
}

/** Whether netutils.ParseIPSloppy reads `value` as an IP address. */
export function isIP(value: string): boolean {
  return (value.includes(':') ? parseIPv6(value) : parseIPv4(value)) !== undefined;
}

/** The IntOrString's String(): its string, or its number in decimal. */
export function intOrStringText(value: unknown): string {
  if (typeof value === 'string') return value;
  return String(Math.trunc(num(value)));
}
