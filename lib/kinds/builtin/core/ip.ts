/**
 * IP addresses as kube reads them (k8s.io/utils/net ParseIPSloppy, Go's net.IP predicates):
 * dotted IPv4 (leading zeros taken, as decimal) and IPv6 (with "::" and an embedded IPv4
 * tail; no zone). An IPv4-mapped IPv6 address counts as IPv4, as Go's To4 does.
 */

/** What kube's validation asks of a parsed address. */
export interface ParsedIP {
  /** To4() != nil: an IPv4 address, or an IPv4-mapped IPv6 one. */
  readonly v4: boolean;
  readonly unspecified: boolean;
  readonly loopback: boolean;
  readonly linkLocalUnicast: boolean;
  readonly linkLocalMulticast: boolean;
}

/** The four bytes of a dotted IPv4 address, or undefined. */
function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^[0-9]{1,10}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

/** The sixteen bytes of an IPv6 address, or undefined. */
function parseIPv6(text: string): number[] | undefined {
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (lastColon >= 0 && body.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = v4;
    // The colon before the IPv4 part goes, unless it closes a "::".
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    for (const g of half.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      const n = Number.parseInt(g, 16);
      out.push(n >> 8, n & 0xff);
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  if (head === undefined) return undefined;
  if (halves.length === 1) {
    const bytes = [...head, ...tail];
    return bytes.length === 16 ? bytes : undefined;
  }
  const rest = groups(halves[1] ?? '');
  if (rest === undefined) return undefined;
  const missing = 16 - head.length - rest.length - tail.length;
  // "::" stands for at least one group of zeros.
  if (missing < 2) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
}

/** The address `text` stands for, as ParseIPSloppy takes it; undefined when it is none. */
export function isIP(text: string): ParsedIP | undefined {
  const v4 = parseIPv4(text);
  let bytes: number[];
  if (v4 !== undefined) {
    bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4];
  } else if (text.includes(':')) {
    const v6 = parseIPv6(text);
    if (v6 === undefined) return undefined;
    bytes = v6;
  } else {
    return undefined;
  }
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) {
    const [a = 0, b = 0, c = 0, d = 0] = bytes.slice(12);
    return {
      v4: true,
      unspecified: a === 0 && b === 0 && c === 0 && d === 0,
      loopback: a === 127,
      linkLocalUnicast: a === 169 && b === 254,
      linkLocalMulticast: a === 224 && b === 0 && c === 0,
    };
  }
  const allZero = bytes.every((b) => b === 0);
  return {
    v4: false,
    unspecified: allZero,
    loopback: bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1,
    linkLocalUnicast: bytes[0] === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80,
    linkLocalMulticast: bytes[0] === 0xff && ((bytes[1] ?? 0) & 0x0f) === 0x02,
  };
}
