/**
 * Timestamps as kube reads and writes them: Go's time.Parse(time.RFC3339, s), which
 * metav1.Time's JSON decoding calls, with Go's error messages; and metav1.Time's JSON form.
 *
 * Go tries a strict RFC 3339 parser first and, when it fails, its general layout parser, which
 * also accepts a one-digit hour, a fraction after "," and offsets up to 24:60, and which words
 * the errors. The general parser accepts everything the strict one does, with the same result,
 * so following its steps over the layout alone decides both what parses and what the error says.
 */

/** time.RFC3339, the layout Go's messages name. */
export const RFC3339_LAYOUT = '2006-01-02T15:04:05Z07:00';

/** The instant of Go's zero time.Time (0001-01-01T00:00:00Z), which metav1.Time writes as null. */
const GO_ZERO_TIME_MS = -62135596800000;

/** A parsed time: whole epoch milliseconds, the sub-millisecond rest, and whether it is Go's zero time. */
export interface GoTime {
  ms: number;
  /** Nanoseconds below the millisecond, as a fraction of a millisecond (0 <= fraction < 1). */
  fraction: number;
  /** metav1.Time.IsZero: kube writes such a time as null. */
  zero: boolean;
}

/**
 * Go's time.quote of a byte string (one character per byte, see parseRFC3339): `"`-quoted,
 * `"` and `\` escaped, and every byte of a non-ASCII or control character as \xNN.
 */
function goQuote(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.charCodeAt(i);
    if (b >= 0x80 || b < 0x20) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += b === 0x22 || b === 0x5c ? `\\${bytes[i]}` : bytes[i];
  }
  return `${out}"`;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** Go's getnum: one or two leading digits (exactly two when `fixed`). */
function getnum(s: string, fixed: boolean): { n: number; rest: string } | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : { n: Number(s[0]), rest: s.slice(1) };
  return { n: Number(s.slice(0, 2)), rest: s.slice(2) };
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

class ParseFailure extends Error {}

/**
 * Parses `text` as time.Parse(time.RFC3339, text) does. Returns the instant, or Go's error
 * text (which quotes the text, as Go's does): `parsing time "x" as "2006-01-02T15:04:05Z07:00":
 * cannot parse "x" as "2006"`, `parsing time "...": month out of range`, `... extra text: ...`.
 */
export function parseRFC3339(text: string): GoTime | { error: string } {
  // Go indexes bytes: the steps below read the UTF-8 bytes, one character each.
  const value = Buffer.from(text, 'utf8').toString('latin1');
  const cannotParse = (rest: string, element: string) =>
    new ParseFailure(`parsing time ${goQuote(value)} as ${goQuote(RFC3339_LAYOUT)}: cannot parse ${goQuote(rest)} as ${goQuote(element)}`);
  const outOfRange = (what: string) => new ParseFailure(`parsing time ${goQuote(value)}: ${what} out of range`);
  let rest = value;
  const literal = (ch: string) => {
    if (rest[0] !== ch) throw cannotParse(rest, ch);
    rest = rest.slice(1);
  };
  /** A number element: `fixed` two digits (else one or two), below `limit` (else out of range). */
  const number = (element: string, fixed: boolean, range?: { min: number; max: number; what: string }): number => {
    const got = getnum(rest, fixed);
    if (got === undefined) throw cannotParse(rest, element);
    if (range !== undefined && (got.n < range.min || got.n > range.max)) throw outOfRange(range.what);
    rest = got.rest;
    return got.n;
  };
  try {
    if (rest.length < 4 || !/^\d{4}/.test(rest)) throw cannotParse(rest, '2006');
    const year = Number(rest.slice(0, 4));
    rest = rest.slice(4);
    literal('-');
    const month = number('01', true, { min: 1, max: 12, what: 'month' });
    literal('-');
    // Any two digits: the day is checked against the month at the end, as Go does.
    const day = number('02', true);
    literal('T');
    const hour = number('15', false, { min: 0, max: 23, what: 'hour' });
    literal(':');
    const minute = number('04', true, { min: 0, max: 59, what: 'minute' });
    literal(':');
    const second = number('05', true, { min: 0, max: 59, what: 'second' });
    // A fraction after the seconds, though the layout has none: Go reads up to nine digits.
    let nanos = 0;
    if (rest.length >= 2 && (rest[0] === '.' || rest[0] === ',') && isDigit(rest, 1)) {
      let n = 2;
      while (n < rest.length && isDigit(rest, n)) n++;
      nanos = Number(rest.slice(1, Math.min(n, 10)).padEnd(9, '0'));
      rest = rest.slice(n);
    }
    let offsetMinutes = 0;
    if (rest[0] === 'Z') {
      rest = rest.slice(1);
    } else {
      const hold = rest;
      if (rest.length < 6 || rest[3] !== ':') throw cannotParse(hold, 'Z07:00');
      const sign = rest[0];
      const hh = getnum(rest.slice(1, 3), true);
      const mm = hh === undefined ? undefined : getnum(rest.slice(4, 6), true);
      rest = rest.slice(6);
      // Go checks the ranges (">" not ">=": offsets of 24 hours or 60 minutes exist) before the sign.
      if ((hh?.n ?? 0) > 24) throw outOfRange('time zone offset hour');
      if ((mm?.n ?? 0) > 60) throw outOfRange('time zone offset minute');
      if (hh === undefined || mm === undefined || (sign !== '+' && sign !== '-')) throw cannotParse(hold, 'Z07:00');
      offsetMinutes = (sign === '-' ? -1 : 1) * (hh.n * 60 + mm.n);
    }
    if (rest.length > 0) throw new ParseFailure(`parsing time ${goQuote(value)}: extra text: ${goQuote(rest)}`);
    if (day < 1 || day > daysIn(year, month)) throw outOfRange('day');
    // Date.UTC maps years 0-99 to 1900-1999, so the full year is set explicitly.
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, 0);
    const wholeMs = Math.trunc(nanos / 1e6);
    const ms = date.getTime() - offsetMinutes * 60_000 + wholeMs;
    const fraction = (nanos - wholeMs * 1e6) / 1e6;
    return { ms, fraction, zero: ms === GO_ZERO_TIME_MS && fraction === 0 };
  } catch (err) {
    if (err instanceof ParseFailure) return { error: err.message };
    throw err;
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * metav1.Time's JSON form of an instant: UTC, whole seconds (the fraction is cut, not
 * rounded), the year in at least four digits as Go's formatter writes it.
 */
export function formatRFC3339(ms: number): string {
  const date = new Date(Math.floor(ms / 1000) * 1000);
  const year = date.getUTCFullYear();
  const y = year < 0 ? `-${pad(-year, 4)}` : pad(year, 4);
  return `${y}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}T${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}Z`;
}
