/**
 * resource.Quantity as k8s.io/apimachinery computes it: parsing (ParseQuantity), its canonical
 * text (String(), what kube writes back in every object), comparison, addition and the milli
 * round-up of SetDefaults_ResourceList. Values are exact: a decimal with a bigint mantissa.
 *
 * The decode step (lib/kinds/validate.ts) already refuses text that is no quantity; here a
 * value that does not parse is `undefined`, and callers leave it alone.
 */

/** How a quantity was written, and so how kube writes it back. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** A parsed quantity: `unscaled * 10^-scale`, signed, with the format its suffix implies. */
export interface Quantity {
  /** Signed mantissa. */
  readonly unscaled: bigint;
  /** Digits after the decimal point (negative for multiples of a power of ten). */
  readonly scale: number;
  readonly format: QuantityFormat;
  /**
   * The text as written, when kube keeps it as the quantity's String() (its parse fast path,
   * for text already in canonical form); undefined when String() is computed.
   */
  readonly cached?: string;
}

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([suffix, exponent]) => [exponent, suffix]));
const BINARY_BY_EXPONENT = new Map(Object.entries(BINARY_SUFFIXES).map(([suffix, exponent]) => [exponent, suffix]));

/** The largest value a quantity holds (kube caps at 2^63-1 in its general path). */
const MAX_ALLOWED = (1n << 63n) - 1n;
/** kube keeps at most nano precision, rounding anything finer up. */
const NANO_SCALE = 9;
/** Decimal digits an int64 always holds (kube's maxInt64Factors). */
const MAX_INT64_FACTORS = 18;
const MAX_INT64 = (1n << 63n) - 1n;
/** The largest scale difference {@link addQuantities} adds exactly (see there). */
const MAX_EXACT_SCALE_GAP = 4096;

const DIGITS = /^[0-9]$/;

interface Pieces {
  positive: boolean;
  /** Sign, digits and fraction as written (what inf.Dec parses). */
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

/** parseQuantityString: splits sign, numerator, fraction and suffix; undefined on a bad format. */
function splitQuantity(str: string): Pieces | undefined {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') pos++;
  // Leading zeros are dropped; all zeros is "0".
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && DIGITS.test(str[i] as string)) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { positive, value: str, num, denom: '', suffix: '' };
  pos = i;
  if (num === '') num = '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    let j = pos;
    while (j < end && DIGITS.test(str[j] as string)) j++;
    denom = str.slice(pos, j);
    if (j >= end) return { positive, value: str, num, denom, suffix: '' };
    pos = j;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos] as string)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && DIGITS.test(str[pos] as string)) pos++;
  if (pos < end) return undefined;
  return { positive, value, num, denom, suffix: str.slice(suffixStart) };
}

/** suffixer.interpret: base, exponent and format of a suffix; undefined when it is none. */
function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  const decimal = DECIMAL_SUFFIXES[suffix];
  if (decimal !== undefined && Object.hasOwn(DECIMAL_SUFFIXES, suffix)) return { base: 10, exponent: decimal, format: 'DecimalSI' };
  const binary = BINARY_SUFFIXES[suffix];
  if (binary !== undefined && Object.hasOwn(BINARY_SUFFIXES, suffix)) return { base: 2, exponent: binary, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    const exponent = Number(suffix.slice(1));
    // Go parses the exponent as an int64; beyond what a scale can hold nothing is representable.
    if (!Number.isSafeInteger(exponent)) return undefined;
    return { base: 10, exponent, format: 'DecimalExponent' };
  }
  return undefined;
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** The number of decimal digits of a non-negative magnitude. */
function digitCount(magnitude: bigint): number {
  return magnitude === 0n ? 0 : magnitude.toString().length;
}

/**
 * A magnitude divided by 10^n, rounding away from zero. An exponent may be anything up to 2^53
 * (quantities such as "1e-9999999999" parse): a divisor with more digits than the magnitude
 * leaves 1 (or 0), computed without building 10^n.
 */
function divideUpPow10(magnitude: bigint, n: number): bigint {
  if (magnitude === 0n) return 0n;
  if (n > digitCount(magnitude)) return 1n;
  return divideUp(magnitude, pow10(n));
}

/** Divides rounding away from zero (inf.RoundUp on a magnitude). */
function divideUp(value: bigint, divisor: bigint): bigint {
  const q = value / divisor;
  return value % divisor === 0n ? q : q + 1n;
}

/**
 * resource.ParseQuantity: the quantity `text` denotes (surrounding spaces are not allowed
 * here; the JSON decoding trims them), or undefined when kube refuses it.
 */
export function parseQuantity(text: string): Quantity | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  if (text === '0') return { unscaled: 0n, scale: 0, format: 'DecimalSI', cached: text };
  const pieces = splitQuantity(text);
  if (pieces === undefined) return undefined;
  const suffix = interpretSuffix(pieces.suffix);
  if (suffix === undefined) return undefined;
  const { num, denom, positive } = pieces;
  let { format } = suffix;
  const { base, exponent } = suffix;

  // kube's int64 fast path: it keeps the text when it is already canonical.
  let precision: number;
  let scale = 0;
  let mantissa = 1n;
  if (base === 10) {
    scale = exponent;
    precision = MAX_INT64_FACTORS - (num.length + denom.length);
  } else if (exponent >= 0 && denom.length === 0) {
    mantissa = 1n << BigInt(exponent);
    precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
  } else precision = -1;
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= -NANO_SCALE) {
      const shifted = num + denom;
      const value = BigInt(shifted);
      const product = value * mantissa;
      if (value <= MAX_INT64 && product <= MAX_INT64) {
        const unscaled = positive ? product : -product;
        let canonical: boolean;
        if (format === 'BinarySI') canonical = exponent % 10 === 0 && (value & 7n) !== 0n;
        else canonical = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
        // The int64 amount is value * 10^scale: kube's scale is our negated one.
        return canonical ? { unscaled, scale: -scale, format, cached: text } : { unscaled, scale: -scale, format };
      }
    }
  }

  // The general path: an exact decimal, rounded up to nano precision and capped.
  const digits = (pieces.num + pieces.denom).replace(/^0+(?=.)/, '');
  let magnitude = BigInt(digits === '' ? '0' : digits);
  let decScale = pieces.denom.length;
  if (base === 10) decScale -= exponent;
  else magnitude *= 1n << BigInt(exponent);
  if (magnitude !== 0n && decScale > NANO_SCALE) {
    magnitude = divideUpPow10(magnitude, decScale - NANO_SCALE);
    decScale = NANO_SCALE;
  }
  if (compareMagnitudes(magnitude, decScale, MAX_ALLOWED, 0) > 0) {
    magnitude = MAX_ALLOWED;
    decScale = 0;
  }
  if (format === 'BinarySI' && magnitude !== 0n && compareMagnitudes(magnitude, decScale, 1n, 0) < 0) format = 'DecimalSI';
  return { unscaled: positive ? magnitude : -magnitude, scale: decScale, format };
}

/**
 * Compares a*10^-sa with b*10^-sb. Values of different signs or orders of magnitude are told
 * apart without scaling (scales can be as far apart as exponents a client writes); only values
 * of the same order, whose scales differ by at most their digit counts, are scaled to compare.
 */
function compareMagnitudes(a: bigint, sa: number, b: bigint, sb: number): number {
  const signA = a < 0n ? -1 : a > 0n ? 1 : 0;
  const signB = b < 0n ? -1 : b > 0n ? 1 : 0;
  if (signA !== signB || signA === 0) return Math.sign(signA - signB);
  const orderA = digitCount(a < 0n ? -a : a) - sa;
  const orderB = digitCount(b < 0n ? -b : b) - sb;
  if (orderA !== orderB) return orderA > orderB ? signA : -signA;
  const scale = Math.max(sa, sb);
  const left = a * pow10(scale - sa);
  const right = b * pow10(scale - sb);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Quantity.Cmp: -1, 0 or 1. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  return compareMagnitudes(a.unscaled, a.scale, b.unscaled, b.scale);
}

/** Quantity.Add: the sum, in the format of `a` (its text computed anew). */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  // Terms whose scales are further apart than MAX_EXACT_SCALE_GAP would need a sum of as many
  // digits (up to billions): the term of the lower order of magnitude is then dropped, a
  // relative difference below 10^-MAX_EXACT_SCALE_GAP (in its own format: a binary one is
  // written out in full, which the dropped term's exponent may make too long to write).
  if (Math.abs(a.scale - b.scale) > MAX_EXACT_SCALE_GAP) {
    const larger = compareMagnitudes(a.unscaled < 0n ? -a.unscaled : a.unscaled, a.scale, b.unscaled < 0n ? -b.unscaled : b.unscaled, b.scale) >= 0 ? a : b;
    return { unscaled: larger.unscaled, scale: larger.scale, format: larger.format };
  }
  const scale = Math.max(a.scale, b.scale);
  const unscaled = a.unscaled * pow10(scale - a.scale) + b.unscaled * pow10(scale - b.scale);
  return { unscaled, scale, format: a.format };
}

/** Removes the factors of `base` from a non-zero magnitude: the rest and how many were removed. */
function removeFactors(value: bigint, base: bigint): [bigint, number] {
  let times = 0;
  while (value >= base && value % base === 0n) {
    value /= base;
    times++;
  }
  return [value, times];
}

/** Quantity.String(): kube's canonical text of a quantity. */
export function quantityString(q: Quantity): string {
  if (q.cached !== undefined) return q.cached;
  if (q.unscaled === 0n) return '0';
  const negative = q.unscaled < 0n;
  const magnitude = negative ? -q.unscaled : q.unscaled;
  const sign = negative ? '-' : '';
  let format = q.format;
  if (format === 'BinarySI') {
    // Small values, and values that are no whole number, are written in decimal.
    const small = compareMagnitudes(magnitude, q.scale, 1024n, 0) < 0;
    const whole = q.scale <= 0 || magnitude % pow10(q.scale) === 0n;
    if (small || !whole) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    const integer = q.scale <= 0 ? magnitude * pow10(-q.scale) : magnitude / pow10(q.scale);
    const [rest, times] = removeFactors(integer, 1024n);
    return `${sign}${rest}${BINARY_BY_EXPONENT.get(times * 10) ?? ''}`;
  }
  const [stripped, times] = removeFactors(magnitude, 10n);
  let mantissa = stripped;
  let exponent = -q.scale + times;
  while (((exponent % 3) + 3) % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  if (format === 'DecimalExponent') return `${sign}${mantissa}${exponent === 0 ? '' : `e${exponent}`}`;
  return `${sign}${mantissa}${DECIMAL_BY_EXPONENT.get(exponent) ?? ''}`;
}

/**
 * Quantity.RoundUp(scale): at most `digits` decimal places, rounding away from zero. Keeps the
 * written text when nothing had to change, as kube does.
 */
export function roundUpQuantity(q: Quantity, digits: number): Quantity {
  if (q.scale <= digits) return q;
  const magnitude = q.unscaled < 0n ? -q.unscaled : q.unscaled;
  const rounded = divideUpPow10(magnitude, q.scale - digits);
  return { unscaled: q.unscaled < 0n ? -rounded : rounded, scale: digits, format: q.format };
}

/**
 * The quantity a JSON value of a Quantity field denotes: a string (trimmed, as kube's
 * UnmarshalJSON does) or a number (its JSON text); undefined for anything else.
 */
export function quantityOf(value: unknown): Quantity | undefined {
  if (typeof value === 'string') return parseQuantity(value.trim());
  if (typeof value === 'number' && Number.isFinite(value)) return parseQuantity(String(value));
  return undefined;
}

/** Quantity.IsZero. */
export function isZeroQuantity(q: Quantity): boolean {
  return q.unscaled === 0n;
}
