/**
 * kube's rules for names, label keys and values, and annotations (k8s.io/apimachinery's
 * util/validation and the metadata checks of api/validation), with its exact messages: the
 * one home of these rules for every service (object names on write, label selectors, label
 * and annotation maps).
 *
 * The texts are those of the Kubernetes version this server reports (1.32): later versions
 * say "a valid label key" and count "bytes" in some of them.
 *
 * Lengths are Go's len(): bytes of the UTF-8 encoding, not characters.
 */
import type { FieldError } from '../errors.ts';

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_LABEL = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);

/** The longest RFC 1123 label (namespace names, ...). */
export const DNS1123_LABEL_MAX = 63;
/** The longest RFC 1123 subdomain (most object names, label key prefixes). */
export const DNS1123_SUBDOMAIN_MAX = 253;
/** The longest name part of a qualified name (a label key without its prefix). */
export const QUALIFIED_NAME_MAX = 63;
/** The longest label value. */
export const LABEL_VALUE_MAX = 63;
/** The most bytes all of an object's annotation keys and values may hold together (256 KiB). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** Go's len(): limits count bytes of the UTF-8 encoding. */
function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** validation.MaxLenError. */
function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/**
 * validation.RegexError: the message, the examples and the pattern. kube puts ", " after every
 * example and " or " before all but the first, hence the double space.
 */
function regexError(message: string, pattern: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${pattern}')`;
  return `${message} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${pattern}')`;
}

const DNS1123_LABEL_MSG = regexError(
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  DNS1123_LABEL_FMT,
  'my-name',
  '123-abc',
);
const DNS1035_LABEL_MSG = regexError(
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  DNS1035_LABEL_FMT,
  'my-name',
  'abc-123',
);
const DNS1123_SUBDOMAIN_MSG = regexError(
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  DNS1123_SUBDOMAIN_FMT,
  'example.com',
);
const QUALIFIED_NAME_MSG = regexError(
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
  QUALIFIED_NAME_FMT,
  'MyName',
  'my.name',
  '123-abc',
);
const LABEL_VALUE_MSG = regexError(
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
  LABEL_VALUE_FMT,
  'MyValue',
  'my_value',
  '12345',
);

/** Problems with `value` as an RFC 1123 subdomain (validation.IsDNS1123Subdomain); empty when valid. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!DNS1123_SUBDOMAIN.test(value)) errs.push(DNS1123_SUBDOMAIN_MSG);
  return errs;
}

/**
 * Problems with `value` as an RFC 1123 label (validation.IsDNS1123Label); empty when valid. A
 * valid subdomain that is no label can only have dots, and kube says just that.
 */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (DNS1123_LABEL.test(value)) return errs;
  errs.push(DNS1123_SUBDOMAIN.test(value) ? 'must not contain dots' : DNS1123_LABEL_MSG);
  return errs;
}

/** Problems with `value` as an RFC 1035 label (validation.IsDNS1035Label: Service names); empty when valid. */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!DNS1035_LABEL.test(value)) errs.push(DNS1035_LABEL_MSG);
  return errs;
}

/**
 * Problems with `value` as a qualified name (validation.IsQualifiedName): a label key, an
 * annotation key (lower-cased first), a finalizer. An optional RFC 1123 subdomain prefix and
 * "/", then a name of at most 63 bytes. Empty when valid.
 */
export function isQualifiedName(value: string): string[] {
  const parts = value.split('/');
  const errs: string[] = [];
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix === '') errs.push('prefix part must be non-empty');
    else for (const msg of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${msg}`);
  } else {
    return [`a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (byteLength(name) > QUALIFIED_NAME_MAX) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX)}`);
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${QUALIFIED_NAME_MSG}`);
  return errs;
}

/** Problems with `value` as a label value (validation.IsValidLabelValue); empty when valid. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX) errs.push(maxLenError(LABEL_VALUE_MAX));
  if (!LABEL_VALUE.test(value)) errs.push(LABEL_VALUE_MSG);
  return errs;
}

/**
 * kube's ValidateLabels: every key a qualified name, every value a label value, each problem
 * an Invalid error on `field` itself (kube names the map, not the key) with the offending key
 * or value. Entries that are not strings are left to the object's shape check.
 */
export function validateLabels(labels: Readonly<Record<string, unknown>>, field: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    for (const detail of isQualifiedName(key)) errors.push({ type: 'FieldValueInvalid', field, value: key, detail });
    if (typeof value !== 'string') continue;
    for (const detail of isValidLabelValue(value)) errors.push({ type: 'FieldValueInvalid', field, value, detail });
  }
  return errors;
}

/**
 * kube's ValidateAnnotations: every key a qualified name regardless of case (an Invalid error
 * on `field` with the key as sent), and all keys and values together at most 256 KiB (one
 * TooLong error on `field`). Values that are not strings are left to the shape check and not
 * counted.
 */
export function validateAnnotations(annotations: Readonly<Record<string, unknown>>, field: string): FieldError[] {
  const errors: FieldError[] = [];
  let total = 0;
  for (const [key, value] of Object.entries(annotations)) {
    for (const detail of isQualifiedName(key.toLowerCase())) errors.push({ type: 'FieldValueInvalid', field, value: key, detail });
    total += byteLength(key) + (typeof value === 'string' ? byteLength(value) : 0);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) {
    errors.push({ type: 'FieldValueTooLong', field, detail: `may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  }
  return errors;
}
