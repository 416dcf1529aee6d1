/**
 * resource.Quantity as kube reads and writes it (k8s.io/apimachinery/pkg/api/resource): the
 * syntax ParseQuantity accepts, with its errors, the value it makes of a text, and the text
 * Quantity.String() (and so its JSON) writes back.
 *
 * - Syntax: `<sign><digits>[.<digits>]<suffix>`, the suffix one of `n u m "" k M G T P E`
 *   (DecimalSI), `Ki Mi Gi Ti Pi Ei` (BinarySI) or `e<int>` / `E<int>` (DecimalExponent).
 * - Value: exact, except that a non-zero value finer than 1n is rounded up (away from zero) to
 *   a whole number of nano units, and a BinarySI value is capped at 2^63-1 in magnitude.
 * - Written form, from the value and the format the suffix gave: 0 is "0"; BinarySI writes
 *   its integer with the largest binary suffix that divides it exactly (no suffix below 1Ki),
 *   unless it is smaller than 1024 in magnitude or not a whole number, when it is written as
 *   DecimalSI; DecimalSI and DecimalExponent strip the mantissa's trailing zeros into the
 *   exponent and then lower the exponent to a multiple of 3 (`1.5` -> `1500m`, `1000m` -> `1`,
 *   `1.5Gi` -> `1536Mi`, `1e2` -> `100`). DecimalSI has suffixes from n to E only: past them
 *   kube writes the mantissa without a suffix, and so does this module.
 * - Except that ParseQuantity keeps the text it was given, and writes it back unchanged, when
 *   a quick look says it is canonical already: a whole number of its unit with no "000" at the
 *   end of its digits (`100m`, `1Gi`, `129e6`, but also `+1` and `01`, which the quick look does
 *   not see through). {@link Quantity.text} is that text.
 *
 * Digits are kept as strings (only BinarySI needs arithmetic, and its values are bounded), so a
 * quantity of a million digits costs what reading it costs.
 */
import { parseInt64 } from '../go-strconv.ts';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** A parsed quantity: the value `digits` x 10^`scale`, negative when `negative`. */
export interface Quantity {
  readonly negative: boolean;
  /** The magnitude's digits, without leading zeros ("0" for zero). */
  readonly digits: string;
  readonly scale: number;
  readonly format: QuantityFormat;
  /** The text written back as it was given (ParseQuantity's canonical-already case), if any. */
  readonly text?: string;
}

/** resource.ErrFormatWrong */
export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** resource.ErrSuffix */
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

const SUFFIXES: ReadonlyMap<string, { base: 10 | 2; exponent: number; format: QuantityFormat }> = new Map([
  ['', { base: 10, exponent: 0, format: 'DecimalSI' }],
  ['n', { base: 10, exponent: -9, format: 'DecimalSI' }],
  ['u', { base: 10, exponent: -6, format: 'DecimalSI' }],
  ['m', { base: 10, exponent: -3, format: 'DecimalSI' }],
  ['k', { base: 10, exponent: 3, format: 'DecimalSI' }],
  ['M', { base: 10, exponent: 6, format: 'DecimalSI' }],
  ['G', { base: 10, exponent: 9, format: 'DecimalSI' }],
  ['T', { base: 10, exponent: 12, format: 'DecimalSI' }],
  ['P', { base: 10, exponent: 15, format: 'DecimalSI' }],
  ['E', { base: 10, exponent: 18, format: 'DecimalSI' }],
  ['Ki', { base: 2, exponent: 10, format: 'BinarySI' }],
  ['Mi', { base: 2, exponent: 20, format: 'BinarySI' }],
  ['Gi', { base: 2, exponent: 30, format: 'BinarySI' }],
  ['Ti', { base: 2, exponent: 40, format: 'BinarySI' }],
  ['Pi', { base: 2, exponent: 50, format: 'BinarySI' }],
  ['Ei', { base: 2, exponent: 60, format: 'BinarySI' }],
]);

/** The DecimalSI suffix of each exponent that has one. */
const DECIMAL_SUFFIX: ReadonlyMap<number, string> = new Map([
  [-9, 'n'],
  [-6, 'u'],
  [-3, 'm'],
  [0, ''],
  [3, 'k'],
  [6, 'M'],
  [9, 'G'],
  [12, 'T'],
  [15, 'P'],
  [18, 'E'],
]);
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const INT64_MAX = 2n ** 63n - 1n;
/** The most digits an int64 always holds (maxInt64Factors). */
const MAX_INT64_DIGITS = 18;
/** Nano: the finest scale a quantity keeps. */
const NANO = -9;
/**
 * Fraction digits of a BinarySI number that can matter: the suffix multiplies by at most 2^60
 * (< 10^19), so what lies past 9 + 19 digits moves the value by less than 1n, and only whether
 * it is zero counts (for rounding up).
 */
const BINARY_FRACTION_DIGITS = 28;

/** Go's int32 conversion of an integer (ToInt32 wraps as Go's conversion does). */
function int32(n: number): number {
  return n | 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

interface Parts {
  positive: boolean;
  /** The numerator without leading zeros ("0" when none are left). */
  num: string;
  denom: string;
  suffix: string;
}

/** parseQuantityString: sign, numerator, denominator and suffix; undefined for ErrFormatWrong. */
function split(str: string): Parts | undefined {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') {
    pos++;
  }
  while (str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (isDigit(str[i])) i++;
  const num = i === pos ? '0' : str.slice(pos, i);
  if (i >= end) return { positive, num, denom: '', suffix: '' };
  pos = i;
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, num, denom, suffix: '' };
    pos = i;
  }
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos]!)) pos++;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (isDigit(str[pos])) pos++;
  return pos >= end ? { positive, num, denom, suffix: str.slice(suffixStart) } : undefined;
}

/** The suffix's base, exponent and format (quantitySuffixer.interpret); undefined for ErrSuffix. */
function interpret(suffix: string): { base: 10 | 2; exponent: number; format: QuantityFormat } | undefined {
  const known = SUFFIXES.get(suffix);
  if (known !== undefined) return known;
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const parsed = parseInt64(suffix.slice(1));
    if ('error' in parsed) return undefined;
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed.value)), format: 'DecimalExponent' };
  }
  return undefined;
}

/** A decimal digit string plus one. */
function increment(digits: string): string {
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === '9') i--;
  if (i < 0) return `1${'0'.repeat(digits.length)}`;
  return `${digits.slice(0, i)}${String.fromCharCode(digits.charCodeAt(i) + 1)}${'0'.repeat(digits.length - i - 1)}`;
}

/** `digits` x 10^`scale` rounded up to a whole number of nano units. */
function roundUpToNano(digits: string, scale: number): { digits: string; scale: number } {
  if (digits === '0' || scale >= NANO) return { digits, scale };
  const drop = NANO - scale;
  if (drop >= digits.length) return { digits: '1', scale: NANO };
  const kept = digits.slice(0, digits.length - drop);
  return { digits: /[1-9]/.test(digits.slice(digits.length - drop)) ? increment(kept) : kept, scale: NANO };
}

function withoutLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits[i] === '0') i++;
  return digits.slice(i);
}

/**
 * Whether ParseQuantity keeps `str` as the text to write back: its fast path (a value that
 * fits an int64 at a scale of at least nano) found it canonical at a glance.
 */
function keepsText(parts: Parts, exponent: number, format: QuantityFormat): boolean {
  const { num, denom } = parts;
  let precision: number;
  let scale = 0;
  let mantissa = 1n;
  if (format !== 'BinarySI') {
    scale = exponent;
    precision = MAX_INT64_DIGITS - (num.length + denom.length);
  } else if (exponent >= 0 && denom === '') {
    mantissa = 1n << BigInt(exponent);
    // float32(exponent)*3/10, truncated: exact for the binary exponents (10 to 60)
    precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
  } else {
    precision = -1;
  }
  if (precision < 0) return false;
  scale = int32(scale - denom.length);
  if (scale < NANO) return false;
  const shifted = num + denom;
  const value = BigInt(shifted);
  if (value * mantissa > INT64_MAX) return false;
  if (format === 'BinarySI') return exponent % 10 === 0 && (value & 7n) !== 0n;
  return scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
}

/**
 * resource.ParseQuantity: the quantity `str` says (no surrounding space allowed: the JSON
 * decoding trims it first, see {@link canonicalQuantity}), or kube's error text.
 */
export function parseQuantity(str: string): Quantity | { error: string } {
  if (str === '') return { error: QUANTITY_FORMAT_ERROR };
  if (str === '0') return { negative: false, digits: '0', scale: 0, format: 'DecimalSI', text: str };
  const parts = split(str);
  if (parts === undefined) return { error: QUANTITY_FORMAT_ERROR };
  const suffix = interpret(parts.suffix);
  if (suffix === undefined) return { error: QUANTITY_SUFFIX_ERROR };
  const { base, exponent } = suffix;
  let format = suffix.format;
  const text = keepsText(parts, exponent, format) ? str : undefined;
  let digits: string;
  let scale: number;
  if (base === 10) {
    ({ digits, scale } = roundUpToNano(withoutLeadingZeros(parts.num + parts.denom), int32(exponent - parts.denom.length)));
  } else if (parts.num !== '0' && parts.num.length > 19) {
    // at least 10^19 before the suffix multiplies it: past the cap whatever the rest
    digits = INT64_MAX.toString();
    scale = 0;
  } else {
    const fraction = parts.denom.slice(0, BINARY_FRACTION_DIGITS);
    const sticky = /[1-9]/.test(parts.denom.slice(BINARY_FRACTION_DIGITS));
    let value = BigInt(parts.num + fraction) << BigInt(exponent);
    scale = -fraction.length;
    if (scale < NANO && value !== 0n) {
      const unit = 10n ** BigInt(NANO - scale);
      value = value % unit !== 0n || sticky ? value / unit + 1n : value / unit;
      scale = NANO;
    }
    if (value > INT64_MAX * 10n ** BigInt(-scale)) {
      value = INT64_MAX;
      scale = 0;
    }
    // Between 0 and 1: written as DecimalSI (ParseQuantity's own rule, which String's covers too).
    if (value !== 0n && value < 10n ** BigInt(-scale)) format = 'DecimalSI';
    digits = value.toString();
  }
  const quantity: Quantity = { negative: !parts.positive && digits !== '0', digits, scale, format };
  return text === undefined ? quantity : { ...quantity, text };
}

/** Quantity.String(): the text kube writes for `q` (see the top of this file). */
export function formatQuantity(q: Quantity): string {
  if (q.text !== undefined) return q.text;
  if (q.digits === '0') return '0';
  const sign = q.negative ? '-' : '';
  if (q.format === 'BinarySI') {
    // BinarySI values are bounded (at most 2^63-1, nano scale at the finest): BigInt is cheap.
    const unit = 10n ** BigInt(Math.max(0, -q.scale));
    const value = BigInt(q.digits) * 10n ** BigInt(Math.max(0, q.scale));
    if (value >= 1024n * unit && value % unit === 0n) {
      let n = value / unit;
      let times = 0;
      while (n % 1024n === 0n) {
        n /= 1024n;
        times++;
      }
      return `${sign}${n}${BINARY_SUFFIX[times] ?? ''}`;
    }
    // smaller than 1024, or not a whole number: DecimalSI
  }
  let end = q.digits.length;
  while (q.digits[end - 1] === '0') end--;
  let exponent = int32(q.scale + (q.digits.length - end));
  const lower = ((exponent % 3) + 3) % 3;
  const mantissa = q.digits.slice(0, end) + '0'.repeat(lower);
  exponent -= lower;
  const suffix = q.format === 'DecimalExponent' ? (exponent === 0 ? '' : `e${exponent}`) : (DECIMAL_SUFFIX.get(exponent) ?? '');
  return `${sign}${mantissa}${suffix}`;
}

/**
 * A Quantity's JSON value (a string, or a number as its text) as kube writes it back after
 * decoding it: the value trimmed, parsed and formatted; undefined when it does not parse (or is
 * neither a string nor a number).
 */
export function canonicalQuantity(value: unknown): string | undefined {
  const q = quantityOf(value);
  return q === undefined ? undefined : formatQuantity(q);
}

/**
 * The quantity a JSON value of a Quantity field denotes: a string (trimmed, as kube's
 * UnmarshalJSON does) or a finite number (its JSON text); undefined for anything else and for
 * text that does not parse (the decode step refuses such text; callers leave it alone).
 */
export function quantityOf(value: unknown): Quantity | undefined {
  const text = typeof value === 'string' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
  if (text === undefined) return undefined;
  const parsed = parseQuantity(text);
  return 'error' in parsed ? undefined : parsed;
}

/** The error kube's JSON decoding of a Quantity gives for `text` (trimmed first), or undefined when it parses. */
export function quantityError(text: string): string | undefined {
  const parsed = parseQuantity(text.trim());
  return 'error' in parsed ? parsed.error : undefined;
}

// ---- Arithmetic (Sign, Cmp, Add, RoundUp, Value, MilliValue) ----
//
// On the digit strings, so that a quantity with a huge exponent ("1e2000000000" parses, as in
// kube) costs what its text costs: nothing here raises 10 to a power an input chose.

/** Quantity.Sign(): -1, 0 or 1. */
export function quantitySign(q: Quantity): -1 | 0 | 1 {
  if (q.digits === '0') return 0;
  return q.negative ? -1 : 1;
}

/** Quantity.IsZero(). */
export function isZeroQuantity(q: Quantity): boolean {
  return q.digits === '0';
}

/** Compares two magnitudes given as digits (no leading zeros, not "0") x 10^scale. */
function compareMagnitudes(a: string, aScale: number, b: string, bScale: number): -1 | 0 | 1 {
  // The power of ten of the leading digit decides, then the digits from the left.
  const aOrder = a.length + aScale;
  const bOrder = b.length + bScale;
  if (aOrder !== bOrder) return aOrder < bOrder ? -1 : 1;
  const length = Math.max(a.length, b.length);
  const left = a.padEnd(length, '0');
  const right = b.padEnd(length, '0');
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Quantity.Cmp: -1, 0 or 1. */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const aSign = quantitySign(a);
  const bSign = quantitySign(b);
  if (aSign !== bSign) return aSign < bSign ? -1 : 1;
  if (aSign === 0) return 0;
  const magnitude = compareMagnitudes(a.digits, a.scale, b.digits, b.scale);
  return aSign < 0 ? ((-magnitude) as -1 | 0 | 1) : magnitude;
}

/**
 * The most powers of ten apart two terms of a sum may be and still be added exactly: further
 * apart, the exact sum would have that many digits, and the smaller term is dropped.
 */
const MAX_SUM_SPREAD = 4096;

/** Sum of two equally long digit strings. */
function addDigits(a: string, b: string): string {
  let out = '';
  let carry = 0;
  for (let i = a.length - 1; i >= 0; i--) {
    const d = a.charCodeAt(i) + b.charCodeAt(i) - 96 + carry;
    out = String(d % 10) + out;
    carry = d >= 10 ? 1 : 0;
  }
  return carry === 1 ? `1${out}` : out;
}

/** Difference of two equally long digit strings, the first not smaller. */
function subtractDigits(a: string, b: string): string {
  let out = '';
  let borrow = 0;
  for (let i = a.length - 1; i >= 0; i--) {
    let d = a.charCodeAt(i) - b.charCodeAt(i) - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 10;
    out = String(d) + out;
  }
  return withoutLeadingZeros(out);
}

/**
 * Quantity.Add: the exact sum, in the format of `a` (its text computed anew); except that a
 * term more than {@link MAX_SUM_SPREAD} powers of ten below the other is dropped, where kube
 * would build a number of that many digits.
 */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  if (isZeroQuantity(b)) return { negative: a.negative, digits: a.digits, scale: a.scale, format: a.format };
  if (isZeroQuantity(a)) return { negative: b.negative, digits: b.digits, scale: b.scale, format: a.format };
  const aOrder = a.digits.length + a.scale;
  const bOrder = b.digits.length + b.scale;
  if (Math.abs(aOrder - bOrder) > MAX_SUM_SPREAD) {
    const larger = aOrder > bOrder ? a : b;
    return { negative: larger.negative, digits: larger.digits, scale: larger.scale, format: a.format };
  }
  const scale = Math.min(a.scale, b.scale);
  const aDigits = a.digits + '0'.repeat(a.scale - scale);
  const bDigits = b.digits + '0'.repeat(b.scale - scale);
  const length = Math.max(aDigits.length, bDigits.length);
  const left = aDigits.padStart(length, '0');
  const right = bDigits.padStart(length, '0');
  if (a.negative === b.negative) return { negative: a.negative, digits: addDigits(left, right), scale, format: a.format };
  const order = left < right ? -1 : left > right ? 1 : 0;
  if (order === 0) return { negative: false, digits: '0', scale: 0, format: a.format };
  const digits = order > 0 ? subtractDigits(left, right) : subtractDigits(right, left);
  return { negative: order > 0 ? a.negative : b.negative, digits, scale, format: a.format };
}

/**
 * Quantity.RoundUp(scale): at most `places` decimal places, rounding away from zero. Keeps the
 * written text when nothing had to change, as kube does.
 */
export function roundUpQuantity(q: Quantity, places: number): Quantity {
  const target = -places;
  if (q.digits === '0' || q.scale >= target) return q;
  const drop = target - q.scale;
  const kept = drop >= q.digits.length ? '0' : q.digits.slice(0, q.digits.length - drop);
  const rest = drop >= q.digits.length ? q.digits : q.digits.slice(q.digits.length - drop);
  const digits = /[1-9]/.test(rest) ? increment(kept) : kept;
  return { negative: q.negative, digits: withoutLeadingZeros(digits), scale: target, format: q.format };
}

/**
 * The most digits {@link quantityValue} and {@link quantityMilliValue} give exactly; larger
 * values are given as +-10^400 - 1 (kube's int64 result there means nothing, and callers turning
 * them into a float get Infinity either way).
 */
const MAX_VALUE_DIGITS = 400;

/** Quantity.ScaledValue(-places): the value in 10^-places units, rounded away from zero. */
function scaledValue(q: Quantity, places: number): bigint {
  if (q.digits === '0') return 0n;
  const shift = q.scale + places;
  let digits: string;
  if (shift >= 0) {
    digits = q.digits.length + shift > MAX_VALUE_DIGITS ? '9'.repeat(MAX_VALUE_DIGITS) : q.digits + '0'.repeat(shift);
  } else {
    const keep = q.digits.length + shift;
    const kept = keep <= 0 ? '0' : q.digits.slice(0, keep);
    const rest = keep <= 0 ? q.digits : q.digits.slice(keep);
    digits = kept.length > MAX_VALUE_DIGITS ? '9'.repeat(MAX_VALUE_DIGITS) : /[1-9]/.test(rest) ? increment(kept) : kept;
  }
  const value = BigInt(digits);
  return q.negative ? -value : value;
}

/** Quantity.Value(): rounded up (away from zero) to a whole number. */
export function quantityValue(q: Quantity): bigint {
  return scaledValue(q, 0);
}

/** Quantity.MilliValue(): in thousandths, rounded up (away from zero). */
export function quantityMilliValue(q: Quantity): bigint {
  return scaledValue(q, 3);
}
