/**
 * resource.Quantity of k8s.io/apimachinery as values: parsing (ParseQuantity), exact
 * comparison, kube's rounding (RoundUp, Value, MilliValue) and the canonical form kube writes
 * when it serializes a quantity ("1536Mi" for "1.5Gi", "500m" for "0.5", "1" for "1000m").
 *
 * A quantity is held exactly as unscaled × 10^exponent with a bigint, so there is no 64-bit
 * limit and no float rounding: every value ParseQuantity accepts (binary suffixes included,
 * since 2^k × 10^-n is always a finite decimal) is represented without loss.
 */

/** How kube formats a quantity: the family of the suffix it was written with. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact quantity: unscaled × 10^exponent, and the format of the suffix it was parsed from. */
export interface Quantity {
  readonly unscaled: bigint;
  readonly exponent: number;
  readonly format: QuantityFormat;
}

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([suffix, exponent]) => [exponent, suffix]));
const BINARY_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** The finest scale kube keeps (nano): finer parsed values are rounded up to it. */
const NANO = -9;
/**
 * Beyond these, a quantity is not taken (undefined, as if unparsable): exact arithmetic on a
 * thousand-digit number or a power of ten in the thousands is work no real quantity needs, and
 * no resource could hold such an amount.
 */
const MAX_QUANTITY_TEXT = 256;
const MAX_EXPONENT = 1000;

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/**
 * parseQuantityString: sign, numerator (leading zeros dropped), optional ".denominator", then
 * a suffix of the letters kube knows, optionally with a signed exponent. Undefined when the text
 * does not have that shape.
 */
function split(text: string): { negative: boolean; num: string; denom: string; suffix: string } | undefined {
  let pos = 0;
  const end = text.length;
  let negative = false;
  if (text[0] === '-') {
    negative = true;
    pos++;
  } else if (text[0] === '+') {
    pos++;
  }
  while (pos < end && text[pos] === '0') pos++;
  if (pos >= end) return { negative, num: '0', denom: '', suffix: '' };
  let start = pos;
  while (pos < end && isDigit(text[pos])) pos++;
  const num = text.slice(start, pos) === '' ? '0' : text.slice(start, pos);
  let denom = '';
  if (pos < end && text[pos] === '.') {
    pos++;
    start = pos;
    while (pos < end && isDigit(text[pos])) pos++;
    denom = text.slice(start, pos);
  }
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(text[pos] as string)) pos++;
  if (pos < end && (text[pos] === '-' || text[pos] === '+')) pos++;
  while (pos < end && isDigit(text[pos])) pos++;
  if (pos < end) return undefined;
  return { negative, num, denom, suffix: text.slice(suffixStart) };
}

/** The base (10 or 2), exponent and format a suffix stands for; undefined when kube knows no such suffix. */
function interpret(suffix: string): { base: 10 | 2; exponent: number; format: QuantityFormat } | undefined {
  const decimal = DECIMAL_SUFFIXES[suffix];
  if (decimal !== undefined && Object.hasOwn(DECIMAL_SUFFIXES, suffix)) return { base: 10, exponent: decimal, format: 'DecimalSI' };
  const binary = BINARY_SUFFIXES[suffix];
  if (binary !== undefined && Object.hasOwn(BINARY_SUFFIXES, suffix)) return { base: 2, exponent: binary, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    const exponent = Number(suffix.slice(1));
    if (Math.abs(exponent) <= MAX_EXPONENT) return { base: 10, exponent, format: 'DecimalExponent' };
  }
  return undefined;
}

/** Rounds |unscaled| × 10^exponent up (away from zero) to `scale` when it is finer than that. */
function roundUpTo(unscaled: bigint, exponent: number, scale: number): { unscaled: bigint; exponent: number } {
  if (exponent >= scale) return { unscaled, exponent };
  const divisor = 10n ** BigInt(scale - exponent);
  const negative = unscaled < 0n;
  const magnitude = negative ? -unscaled : unscaled;
  let rounded = magnitude / divisor;
  if (rounded * divisor !== magnitude) rounded += 1n;
  return { unscaled: negative ? -rounded : rounded, exponent: scale };
}

/** Moves trailing decimal zeros of the unscaled value into the exponent (zero is 0 × 10^0). */
function normalized(unscaled: bigint, exponent: number): { unscaled: bigint; exponent: number } {
  if (unscaled === 0n) return { unscaled, exponent: 0 };
  while (unscaled % 10n === 0n) {
    unscaled /= 10n;
    exponent++;
  }
  return { unscaled, exponent };
}

/**
 * resource.ParseQuantity: the quantity `text` (trimmed of surrounding spaces, as the JSON
 * decoder trims) stands for, rounded up to nano; undefined when kube refuses it.
 */
export function parseQuantity(text: string): Quantity | undefined {
  const s = text.trim();
  if (s === '' || s.length > MAX_QUANTITY_TEXT) return undefined;
  const parts = split(s);
  if (parts === undefined) return undefined;
  const unit = interpret(parts.suffix);
  if (unit === undefined) return undefined;
  let unscaled = BigInt(parts.num + parts.denom);
  let exponent = -parts.denom.length;
  if (unit.base === 10) exponent += unit.exponent;
  else unscaled *= 2n ** BigInt(unit.exponent);
  if (parts.negative) unscaled = -unscaled;
  const rounded = roundUpTo(unscaled, exponent, NANO);
  return { ...normalized(rounded.unscaled, rounded.exponent), format: unit.format };
}

/** a < b: negative; a = b: 0; a > b: positive (Quantity.Cmp). */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const exponent = Math.min(a.exponent, b.exponent);
  const left = a.unscaled * 10n ** BigInt(a.exponent - exponent);
  const right = b.unscaled * 10n ** BigInt(b.exponent - exponent);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Quantity.Sign(): -1, 0 or 1. */
export function quantitySign(q: Quantity): number {
  return q.unscaled < 0n ? -1 : q.unscaled > 0n ? 1 : 0;
}

/** Quantity.RoundUp(scale): rounded away from zero to 10^scale when finer (kube rounds resource lists to milli). */
export function roundUpQuantity(q: Quantity, scale: number): Quantity {
  const rounded = roundUpTo(q.unscaled, q.exponent, scale);
  return { ...normalized(rounded.unscaled, rounded.exponent), format: q.format };
}

/** The value scaled to 10^scale, rounded up away from zero (Quantity.ScaledValue). */
function scaledValue(q: Quantity, scale: number): bigint {
  const rounded = roundUpTo(q.unscaled, q.exponent, scale);
  return rounded.unscaled * 10n ** BigInt(rounded.exponent - scale);
}

/** Quantity.Value(): the value rounded up (away from zero) to an integer. */
export function quantityValue(q: Quantity): bigint {
  return scaledValue(q, 0);
}

/** Quantity.MilliValue(): the value in thousandths, rounded up (away from zero). */
export function quantityMilliValue(q: Quantity): bigint {
  return scaledValue(q, -3);
}

/** The decimal digits and exponent (a multiple of 3) kube writes: 1500 × 10^-3 is "1500m". */
function canonicalDecimal(q: Quantity): { digits: bigint; exponent: number } {
  let { unscaled: digits, exponent } = normalized(q.unscaled, q.exponent);
  const rest = ((exponent % 3) + 3) % 3;
  digits *= 10n ** BigInt(rest);
  exponent -= rest;
  return { digits, exponent };
}

/**
 * Quantity.String(): kube's canonical form. Binary quantities of at least 1024 that are whole
 * numbers keep a binary suffix (the largest power of 1024 that divides them); every other one
 * is written with a decimal suffix whose exponent is a multiple of 3 (DecimalExponent ones as
 * "e<n>"). Zero is "0".
 */
export function quantityString(q: Quantity): string {
  if (q.unscaled === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const small = compareQuantities(q, { unscaled: -1024n, exponent: 0, format }) > 0 && compareQuantities(q, { unscaled: 1024n, exponent: 0, format }) < 0;
    if (small || q.exponent < 0) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let whole = q.unscaled * 10n ** BigInt(q.exponent);
    let power = 0;
    while (power < BINARY_BY_POWER.length - 1 && whole % 1024n === 0n) {
      whole /= 1024n;
      power++;
    }
    return `${whole}${BINARY_BY_POWER[power] ?? ''}`;
  }
  const { digits, exponent } = canonicalDecimal(q);
  if (format === 'DecimalExponent') return exponent === 0 ? `${digits}` : `${digits}e${exponent}`;
  const suffix = DECIMAL_BY_EXPONENT.get(exponent);
  // Past "E" kube has no SI suffix; the exponent form keeps the value right.
  return suffix === undefined ? `${digits}e${exponent}` : `${digits}${suffix}`;
}

/**
 * The canonical form of a quantity given as JSON (a string, or a number the decoder took),
 * rounded up to `scale` when given; undefined when it is no quantity kube would accept.
 */
export function canonicalQuantity(value: unknown, scale?: number): string | undefined {
  const text = typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
  if (text === undefined) return undefined;
  const parsed = parseQuantity(text);
  if (parsed === undefined) return undefined;
  return quantityString(scale === undefined ? parsed : roundUpQuantity(parsed, scale));
}
