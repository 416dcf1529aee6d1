/**
 * IP addresses and ranges as the Service code needs them: parsing as Go's net package and
 * k8s.io/utils/net read them, numbers for range arithmetic (BigInt: IPv6 addresses are 128-bit),
 * the canonical text (RFC 5952 for IPv6, as Go's IP.String()), and kube's IP validation with its
 * messages (k8s.io/apimachinery util/validation IsValidIPForLegacyField, strict).
 */
import type { FieldError } from '../../../errors.ts';

export type IPFamily = 'IPv4' | 'IPv6';

/** An address: its family and its value as an unsigned 32- or 128-bit number. */
export interface ParsedIP {
  readonly family: IPFamily;
  readonly value: bigint;
}

const IPV4_MAX = (1n << 32n) - 1n;

/** Bits of an address of `family`. */
export function familyBits(family: IPFamily): bigint {
  return family === 'IPv4' ? 32n : 128n;
}

/**
 * An IPv4 address in dotted decimal. `sloppy` accepts leading zeros in a part (read as decimal,
 * as netutils.ParseIPSloppy does); strict parsing (netip.ParseAddr) refuses them.
 */
function parseIPv4(text: string, sloppy: boolean): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^[0-9]+$/.test(part)) return undefined;
    if (!sloppy && part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255 || part.length > 8) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** An IPv6 address (with "::" and an IPv4 tail allowed; no zone). */
function parseIPv6(text: string, sloppy: boolean): bigint | undefined {
  if (text.includes('%') || text.split('::').length > 2) return undefined;
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const groupsOf = (part: string, allowIPv4: boolean): bigint[] | undefined => {
    if (part === '') return [];
    const pieces = part.split(':');
    const groups: bigint[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? '';
      if (allowIPv4 && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIPv4(piece, sloppy);
        if (v4 === undefined) return undefined;
        groups.push(v4 >> 16n, v4 & 0xffffn);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
      groups.push(BigInt(`0x${piece}`));
    }
    return groups;
  };
  const left = groupsOf(head, tail === undefined);
  const right = tail === undefined ? [] : groupsOf(tail, true);
  if (left === undefined || right === undefined) return undefined;
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  let value = 0n;
  for (const group of [...left, ...new Array<bigint>(tail === undefined ? 0 : missing).fill(0n), ...right]) value = (value << 16n) | group;
  return value;
}

/**
 * `text` as an address, as netutils.ParseIPSloppy reads it (leading zeros in IPv4 parts allowed,
 * read as decimal), or undefined. With `strict`, as netip.ParseAddr reads it (no leading zeros).
 */
export function parseIP(text: string, strict = false): ParsedIP | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  if (!text.includes(':')) {
    const value = parseIPv4(text, !strict);
    return value === undefined ? undefined : { family: 'IPv4', value };
  }
  const value = parseIPv6(text, !strict);
  return value === undefined ? undefined : { family: 'IPv6', value };
}

/** Whether an IPv6 address is an IPv4-mapped one (::ffff:a.b.c.d). */
function isIPv4Mapped(ip: ParsedIP): boolean {
  return ip.family === 'IPv6' && ip.value >> 32n === 0xffffn;
}

/** The canonical text of an address: dotted decimal, or RFC 5952 (Go's IP.String()). */
export function formatIP(ip: ParsedIP): string {
  if (ip.family === 'IPv4') {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((ip.value >> shift) & 0xffffn));
  // The longest run of two or more zero groups (the first of equal runs) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** The canonical text of `text` when it is an address, else `text` itself. */
export function canonicalIP(text: string): string {
  const ip = parseIP(text);
  return ip === undefined ? text : formatIP(ip);
}

/** The family of an address (IPv6 when it is no IPv4 address, as kube's netutils.IsIPv6String splits them), undefined when it is none. */
export function familyOf(text: string): IPFamily | undefined {
  return parseIP(text)?.family;
}

const INVALID_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/**
 * kube's IsValidIPForLegacyField with strict validation (the fields that predate strict IP
 * checks: clusterIPs, externalIPs): errors on `field`, none for a value of `validOld` (an update
 * keeps what was stored).
 */
export function validateLegacyIP(field: string, value: string, validOld: readonly string[] = []): FieldError[] {
  if (validOld.includes(value)) return [];
  const sloppy = parseIP(value);
  if (sloppy === undefined) return [{ type: 'FieldValueInvalid', field, value, detail: INVALID_IP }];
  const errors: FieldError[] = [];
  if (parseIP(value, true) === undefined) errors.push({ type: 'FieldValueInvalid', field, value, detail: 'must not have leading 0s' });
  if (isIPv4Mapped(sloppy)) errors.push({ type: 'FieldValueInvalid', field, value, detail: 'must not be an IPv4-mapped IPv6 address' });
  return errors;
}

/**
 * kube's ValidateNonSpecialIP (externalIPs): an address that is not unspecified, loopback,
 * link-local or link-local multicast. `value` was checked to be an address.
 */
export function validateNonSpecialIP(field: string, value: string): FieldError[] {
  const ip = parseIP(value);
  if (ip === undefined) return [];
  const v4 = ip.family === 'IPv4' ? ip.value : isIPv4Mapped(ip) ? ip.value & IPV4_MAX : undefined;
  const invalid = (detail: string): FieldError[] => [{ type: 'FieldValueInvalid', field, value, detail }];
  if (v4 !== undefined) {
    if (v4 === 0n) return invalid(`may not be unspecified (${value})`);
    if (v4 >> 24n === 127n) return invalid('may not be in the loopback range (127.0.0.0/8, ::1/128)');
    if (v4 >> 16n === 0xa9fen) return invalid('may not be in the link-local range (169.254.0.0/16, fe80::/10)');
    if (v4 >> 8n === 0xe00000n) return invalid('may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
    return [];
  }
  if (ip.value === 0n) return invalid(`may not be unspecified (${value})`);
  if (ip.value === 1n) return invalid('may not be in the loopback range (127.0.0.0/8, ::1/128)');
  if (ip.value >> 118n === 0x3fan) return invalid('may not be in the link-local range (169.254.0.0/16, fe80::/10)');
  if (((ip.value >> 112n) & 0xff0fn) === 0xff02n) return invalid('may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  return [];
}

/**
 * The addresses cluster IPs are handed out from, as kube's IPAddress allocator lays out a
 * service CIDR: the network address is never used, nor the broadcast address of an IPv4 range;
 * the lowest `staticBand` addresses are where dynamic allocation goes last (KEP-3070: they are
 * meant for addresses asked for by name).
 */
export interface ServiceIPRange {
  readonly family: IPFamily;
  /** The CIDR in canonical form, as messages name it. */
  readonly cidr: string;
  /** The network address. */
  readonly network: bigint;
  /** The first and last usable addresses. */
  readonly first: bigint;
  readonly last: bigint;
  /** How many of the lowest usable addresses dynamic allocation leaves for last. */
  readonly staticBand: bigint;
}

/** kube's limit on the service CIDR: at most 2^20 addresses. */
const MAX_RANGE_BITS = 20n;

/**
 * Parses --service-cluster-ip-range (one CIDR; the address is masked to its prefix, as kube's
 * ParseCIDRSloppy does). Throws an Error naming the flag when it is not a usable range.
 */
export function parseServiceIPRange(text: string, flag = '--service-cluster-ip-range'): ServiceIPRange {
  if (text.includes(',')) throw new Error(`${flag} "${text}": dual-stack ranges are not supported; give one IPv4 or IPv6 CIDR`);
  const slash = text.indexOf('/');
  const ip = slash < 0 ? undefined : parseIP(text.slice(0, slash));
  const prefixText = slash < 0 ? '' : text.slice(slash + 1);
  if (ip === undefined || !/^[0-9]{1,3}$/.test(prefixText)) throw new Error(`${flag} "${text}" is not a CIDR (e.g. 10.96.0.0/12)`);
  const bits = familyBits(ip.family);
  const prefix = BigInt(prefixText);
  if (prefix > bits) throw new Error(`${flag} "${text}" is not a CIDR (e.g. 10.96.0.0/12)`);
  const hostBits = bits - prefix;
  if (hostBits > MAX_RANGE_BITS) {
    throw new Error(`specified ${flag} is too large; for ${bits}-bit addresses, the mask must be >= ${bits - MAX_RANGE_BITS}`);
  }
  const size = 1n << hostBits;
  const network = (ip.value >> hostBits) << hostBits;
  const first = network + 1n;
  // IPv6 has no broadcast address: its last address is usable.
  const last = ip.family === 'IPv4' ? network + size - 2n : network + size - 1n;
  if (last < first) throw new Error(`${flag} "${text}" has no usable address`);
  return {
    family: ip.family,
    cidr: `${formatIP({ family: ip.family, value: network })}/${prefix}`,
    network,
    first,
    last,
    staticBand: rangeOffset(size, 16n, 256n, 16n),
  };
}

/** kube's calculateRangeOffset: min(max(min, size/step), max), or 0 for a range of `min` or fewer. */
export function rangeOffset(size: bigint, min: bigint, max: bigint, step: bigint): bigint {
  if (size <= min) return 0n;
  const offset = size / step;
  if (offset < min) return min;
  if (offset > max) return max;
  return offset;
}

/** Whether `ip` is one of the range's usable addresses. */
export function inServiceRange(range: ServiceIPRange, ip: ParsedIP): boolean {
  return ip.family === range.family && ip.value >= range.first && ip.value <= range.last;
}

/** The range's n-th address from its network address (1: the `kubernetes` Service's). */
export function indexedIP(range: ServiceIPRange, n: bigint): string {
  return formatIP({ family: range.family, value: range.network + n });
}

/** Node ports, as kube's net.PortRange: `base` and `size` ports from it. */
export interface PortRange {
  readonly base: number;
  readonly size: number;
  /** "30000-32767", as messages name it. */
  readonly text: string;
  /** How many of the lowest ports dynamic allocation leaves for last (KEP-3668). */
  readonly staticBand: number;
}

/**
 * Parses --service-node-port-range as net.ParsePortRange: "30000-32767", "30000+2767" or one
 * port. Throws an Error naming the flag when it is none of these or leaves 1-65535.
 */
export function parsePortRange(text: string, flag = '--service-node-port-range'): PortRange {
  const fail = (): never => {
    throw new Error(`${flag} "${text}" is not a port range (e.g. 30000-32767)`);
  };
  const match = /^([0-9]{1,5})(?:([-+])([0-9]{1,5}))?$/.exec(text.trim());
  if (match === null) return fail();
  const low = Number(match[1]);
  let high = low;
  if (match[2] === '-') high = Number(match[3]);
  if (match[2] === '+') high = low + Number(match[3]);
  if (low < 1 || high > 65535 || high < low) return fail();
  const size = high - low + 1;
  return { base: low, size, text: `${low}-${high}`, staticBand: Number(rangeOffset(BigInt(size), 16n, 128n, 32n)) };
}
