/**
 * JSON values as Go's fmt prints them with %v once decoded into interface{} (kube quotes patches
 * and list items that way in its messages): `map[a:1 b:[x y]]` with sorted keys, strings
 * bare, nil as `<nil>`, integers in full and other numbers as strconv 'g' shortest.
 */
import { isPlainObject } from '../kube.ts';

/** A float64 as Go's %v prints it (strconv.FormatFloat(f, 'g', -1, 64)). */
export function goFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) return BigInt(f).toString();
  const [mantissa = '0', exp = '0'] = f.toExponential().split('e');
  const exponent = Number(exp);
  // %e when the exponent is below -4 or at least 21 (the shortest form's precision rule).
  if (exponent < -4 || exponent >= 21) {
    const e = Math.abs(exponent);
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${e < 10 ? `0${e}` : String(e)}`;
  }
  return String(f);
}

/** `value` as %v prints it. */
export function goFormat(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goFloat(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goFormat).join(' ')}]`;
  if (isPlainObject(value)) {
    // Go sorts string keys by their bytes.
    const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return `map[${keys.map((k) => `${k}:${goFormat(value[k])}`).join(' ')}]`;
  }
  return String(value);
}

/** The Go type name of a JSON value decoded into interface{} (reflect.TypeOf(v).String()). */
export function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return '%!s(<nil>)';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int64' : 'float64';
  if (Array.isArray(value)) return '[]interface {}';
  return 'map[string]interface {}';
}
