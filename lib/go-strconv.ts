/**
 * Go's strconv as kube-apiserver's messages show it: a value quoted as strconv.Quote (and %q)
 * prints it, and the integer parsers with their exact errors. Kubernetes clients compare some
 * of these messages, and people search for them.
 */

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

/** strconv.Quote: a double-quoted Go string literal, non-printable characters escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"' || ch === '\\') {
      out += `\\${ch}`;
      continue;
    }
    if (PRINTABLE.test(ch)) {
      out += ch;
      continue;
    }
    const short = SHORT_ESCAPES[ch];
    const code = ch.codePointAt(0) ?? 0;
    if (short !== undefined) out += short;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** The result of a Go integer parse: the value, or Go's error text. */
export type GoParsed = { value: bigint } | { error: string };

/** strconv.ParseUint(s, 10, 64): digits only, no sign; the error text Go gives. */
export function parseUint64(s: string): GoParsed {
  if (!/^[0-9]+$/.test(s)) return { error: `strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax` };
  const value = BigInt(s);
  if (value > UINT64_MAX) return { error: `strconv.ParseUint: parsing ${goQuote(s)}: value out of range` };
  return { value };
}

/** strconv.ParseInt(s, 10, 64): an optional sign, then digits; the error text Go gives. */
export function parseInt64(s: string): GoParsed {
  if (!/^[+-]?[0-9]+$/.test(s)) return { error: `strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax` };
  const value = BigInt(s);
  if (value > INT64_MAX || value < -INT64_MAX - 1n) return { error: `strconv.ParseInt: parsing ${goQuote(s)}: value out of range` };
  return { value };
}
