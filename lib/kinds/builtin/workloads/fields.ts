/**
 * Small readers and FieldError constructors shared by the workload kinds: objects are open JSON
 * (they may not have passed typed decoding), so every read is guarded, and every error is built
 * as k8s.io/apimachinery's field package builds it.
 */
import type { FieldError } from '../../../errors.ts';
import { goQuote } from '../../../go-strconv.ts';
import { isPlainObject } from '../../../kube.ts';

/** A nested object, or undefined when absent or not an object. */
export function objectAt(value: unknown): Record<string, unknown> | undefined {
  return isPlainObject(value) ? value : undefined;
}

/** An object, or an empty one (Go's zero struct) when absent or not an object. */
export function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

/** A list, or an empty one when absent or not an array. */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A string, or "" (Go's zero value). */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A number, or 0 (Go's zero value). */
export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Whether a pointer field is set (present and not null). */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Whether a value is the Go zero value of its field (absent, null, "", 0, false, empty list or map). */
export function isZero(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === 0 || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

/** The string entries of a map field (label maps and the like). */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isPlainObject(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** field.Path.Child. */
export function child(path: string, ...names: string[]): string {
  return [path, ...names].filter((p) => p !== '').join('.');
}

/** field.Path.Index. */
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** field.Path.Key. */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, detail };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, value, detail };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, value, detail: '' };
}

export function notFound(field: string, value: unknown): FieldError {
  return { type: 'FieldValueNotFound', field, value, detail: '' };
}

/** field.NotSupported: the supported values quoted (strconv.Quote), in the order given. */
export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, value, detail: supported.length === 0 ? '' : `supported values: ${supported.map(goQuote).join(', ')}` };
}

/** apimachinery's IsNegativeErrorMsg. */
export const IS_NEGATIVE_ERROR_MSG = 'must be greater than or equal to 0';
/** apimachinery's FieldImmutableErrorMsg. */
export const FIELD_IMMUTABLE_ERROR_MSG = 'field is immutable';

/** ValidateNonnegativeField. */
export function nonNegative(value: unknown, field: string): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(field, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

/** validation.InclusiveRangeError. */
export function inclusiveRange(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** Go's sort.Strings order (bytes of UTF-8, which is code-point order). */
export function sortStrings(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => {
    const left = Buffer.from(a, 'utf8');
    const right = Buffer.from(b, 'utf8');
    return Buffer.compare(left, right);
  });
}
