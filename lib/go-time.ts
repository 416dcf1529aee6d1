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

/** The two-digit number at `i`, or -1 when there are not two digits there. */
function twoDigits(s: string, i: number): number {
  return isDigit(s, i) && isDigit(s, i + 1) ? (s.charCodeAt(i) - 0x30) * 10 + (s.charCodeAt(i + 1) - 0x30) : -1;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Go's words for a failed parse of `value` (a byte string). */
function cannotParse(value: string, at: number, element: string): { error: string } {
  return { error: `parsing time ${goQuote(value)} as ${goQuote(RFC3339_LAYOUT)}: cannot parse ${goQuote(value.slice(at))} as ${goQuote(element)}` };
}

function outOfRange(value: string, what: string): { error: string } {
  return { error: `parsing time ${goQuote(value)}: ${what} out of range` };
}

/**
 * Parses `text` as time.Parse(time.RFC3339, text) does. Returns the instant, or Go's error
 * text (which quotes the text, as Go's does): `parsing time "x" as "2006-01-02T15:04:05Z07:00":
 * cannot parse "x" as "2006"`, `parsing time "...": month out of range`, `... extra text: ...`.
 * The steps are Go's, element by element over the layout; it runs on every stored time a
 * selector's shape check reads, so it walks the text by index and allocates nothing on success.
 */
export function parseRFC3339(text: string): GoTime | { error: string } {
  // Go indexes bytes: the steps below read the UTF-8 bytes, one character each.
  const value = isAscii(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
  const length = value.length;
  if (length < 4 || !isDigit(value, 0) || !isDigit(value, 1) || !isDigit(value, 2) || !isDigit(value, 3)) return cannotParse(value, 0, '2006');
  const year = Number(value.slice(0, 4));
  let i = 4;
  if (value[i] !== '-') return cannotParse(value, i, '-');
  i++;
  const month = twoDigits(value, i);
  if (month < 0) return cannotParse(value, i, '01');
  if (month < 1 || month > 12) return outOfRange(value, 'month');
  i += 2;
  if (value[i] !== '-') return cannotParse(value, i, '-');
  i++;
  // Any two digits: the day is checked against the month at the end, as Go does.
  const day = twoDigits(value, i);
  if (day < 0) return cannotParse(value, i, '02');
  i += 2;
  if (value[i] !== 'T') return cannotParse(value, i, 'T');
  i++;
  // One or two digits.
  if (!isDigit(value, i)) return cannotParse(value, i, '15');
  const hour = isDigit(value, i + 1) ? twoDigits(value, i) : value.charCodeAt(i) - 0x30;
  if (hour > 23) return outOfRange(value, 'hour');
  i += hour > 9 || isDigit(value, i + 1) ? 2 : 1;
  if (value[i] !== ':') return cannotParse(value, i, ':');
  i++;
  const minute = twoDigits(value, i);
  if (minute < 0) return cannotParse(value, i, '04');
  if (minute > 59) return outOfRange(value, 'minute');
  i += 2;
  if (value[i] !== ':') return cannotParse(value, i, ':');
  i++;
  const second = twoDigits(value, i);
  if (second < 0) return cannotParse(value, i, '05');
  if (second > 59) return outOfRange(value, 'second');
  i += 2;
  // A fraction after the seconds, though the layout has none: Go reads up to nine digits.
  let nanos = 0;
  if ((value[i] === '.' || value[i] === ',') && isDigit(value, i + 1)) {
    let n = i + 2;
    while (n < length && isDigit(value, n)) n++;
    nanos = Number(value.slice(i + 1, Math.min(n, i + 10)).padEnd(9, '0'));
    i = n;
  }
  let offsetMinutes = 0;
  if (value[i] === 'Z') {
    i++;
  } else {
    const hold = i;
    if (length - i < 6 || value[i + 3] !== ':') return cannotParse(value, hold, 'Z07:00');
    const sign = value[i];
    const hh = twoDigits(value, i + 1);
    const mm = hh < 0 ? -1 : twoDigits(value, i + 4);
    i += 6;
    // Go checks the ranges (">" not ">=": offsets of 24 hours or 60 minutes exist) before the sign.
    if (hh > 24) return outOfRange(value, 'time zone offset hour');
    if (mm > 60) return outOfRange(value, 'time zone offset minute');
    if (hh < 0 || mm < 0 || (sign !== '+' && sign !== '-')) return cannotParse(value, hold, 'Z07:00');
    offsetMinutes = (sign === '-' ? -1 : 1) * (hh * 60 + mm);
  }
  if (i < length) return { error: `parsing time ${goQuote(value)}: extra text: ${goQuote(value.slice(i))}` };
  if (day < 1 || day > daysIn(year, month)) return outOfRange(value, 'day');
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year < 100) {
    // Date.UTC maps years 0-99 to 1900-1999 (whose leap years differ), so set the full year.
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, 0);
    ms = date.getTime();
  }
  const wholeMs = Math.trunc(nanos / 1e6);
  ms += wholeMs - offsetMinutes * 60_000;
  const fraction = (nanos - wholeMs * 1e6) / 1e6;
  return { ms, fraction, zero: ms === GO_ZERO_TIME_MS && fraction === 0 };
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

/**
 * metav1.MicroTime's JSON form of an instant (`fraction`: the sub-millisecond rest, as
 * {@link GoTime} has it): UTC with exactly six fraction digits, the finer ones cut.
 */
export function formatRFC3339Micro(ms: number, fraction = 0): string {
  const withinSecond = ms - Math.floor(ms / 1000) * 1000;
  const micros = withinSecond * 1000 + Math.floor(Math.round(fraction * 1e6) / 1000);
  return `${formatRFC3339(ms).slice(0, -1)}.${pad(micros, 6)}Z`;
}
