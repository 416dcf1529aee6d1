/**
 * Secret (core/v1, namespaced): type defaults to Opaque; `stringData` is merged into `data`
 * and dropped when a body is decoded, as kube's conversion to its internal type does (so
 * admission, storage and every reader only ever see `data`); keys, total size and the rules
 * of the well-known types validated with kube's texts; `immutable` and `type` enforced on
 * update; selectable by `type`; printed as kube's printSecret.
 *
 * No error this kind produces carries a secret value: keys are quoted, sizes are counted,
 * and a docker config that is no JSON object is reported as "<secret contents redacted>" with
 * Go's decoding error (which, as kube's, names at most the one character it stopped at).
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { goField, goStruct } from '../../../object-meta.ts';
import { metadataString } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN, stringField } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { immutable, isConfigMapKey, key, obj, str } from './common.ts';
import { unmarshalObjectError } from './go-json.ts';

/** core.MaxSecretSize: the most bytes the values of a Secret's data may hold together (1 MiB). */
export const MAX_SECRET_SIZE = 1024 * 1024;

export const SECRET_TYPE_OPAQUE = 'Opaque';
const SERVICE_ACCOUNT_TOKEN = 'kubernetes.io/service-account-token';
const SERVICE_ACCOUNT_NAME_KEY = 'kubernetes.io/service-account.name';
const DOCKERCFG = 'kubernetes.io/dockercfg';
const DOCKERCFG_KEY = '.dockercfg';
const DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
const BASIC_AUTH = 'kubernetes.io/basic-auth';
const SSH_AUTH = 'kubernetes.io/ssh-auth';
const SSH_AUTH_PRIVATE_KEY = 'ssh-privatekey';
const TLS = 'kubernetes.io/tls';
const REDACTED = '<secret contents redacted>';
const IMMUTABLE_SET = 'field is immutable when `immutable` is set';

/**
 * The bytes of one data value as decoded: base64 text, or a JSON array of bytes (Go's decoder
 * takes both for a []byte). Anything else (never past decoding) is no bytes.
 */
function valueBytes(value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  if (Array.isArray(value) && value.every((b) => typeof b === 'number')) return Buffer.from(value as number[]);
  return Buffer.alloc(0);
}

/**
 * SetDefaults_Secret (type Opaque when empty) and Convert_v1_Secret_To_core_Secret: every
 * stringData entry is written into data (base64 of its UTF-8 bytes), replacing a data entry of
 * the same key, and stringData is dropped, since kube's internal type has no such field and
 * never writes it back.
 */
function defaults(object: KubeObject): KubeObject {
  if (object.type === undefined || object.type === null || object.type === '') object.type = SECRET_TYPE_OPAQUE;
  const stringData: unknown = object.stringData;
  if (stringData === undefined || stringData === null) return object;
  if (!isPlainObject(stringData)) return object;
  const entries = Object.entries(stringData).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  if (entries.length > 0) {
    const data: Record<string, unknown> = isPlainObject(object.data) ? object.data : {};
    for (const [k, v] of entries) data[k] = Buffer.from(v, 'utf8').toString('base64');
    // In key order, as kube writes a Go map.
    object.data = Object.fromEntries(Object.keys(data).sort().map((k) => [k, data[k]]));
  }
  delete object.stringData;
  return object;
}

/** A docker config entry: present, and a JSON object. */
function dockerConfigErrors(data: Record<string, unknown>, dataKey: string): FieldError[] {
  const path = key('data', dataKey);
  if (!Object.hasOwn(data, dataKey)) return [{ type: 'FieldValueRequired', field: path, detail: '' }];
  const error = unmarshalObjectError(valueBytes(data[dataKey]));
  return error === undefined ? [] : [{ type: 'FieldValueInvalid', field: path, value: REDACTED, detail: error }];
}

/** ValidateSecret (metadata is admission's): keys, total size, and the rules of the secret's type. */
function validateSecret(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const data = obj(object.data);
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const detail of isConfigMapKey(k)) errors.push({ type: 'FieldValueInvalid', field: key('data', k), value: k, detail });
    total += valueBytes(v).length;
  }
  if (total > MAX_SECRET_SIZE) errors.push({ type: 'FieldValueTooLong', field: 'data', detail: `may not be more than ${MAX_SECRET_SIZE} bytes` });
  const has = (k: string): boolean => Object.hasOwn(data, k);
  switch (str(object.type)) {
    case SERVICE_ACCOUNT_TOKEN: {
      // The token and uid are a controller's to add later; only the account's name is required.
      const annotations = obj(object.metadata?.annotations);
      if (str(annotations[SERVICE_ACCOUNT_NAME_KEY]) === '') {
        errors.push({ type: 'FieldValueRequired', field: key('metadata.annotations', SERVICE_ACCOUNT_NAME_KEY), detail: '' });
      }
      break;
    }
    case DOCKERCFG:
      errors.push(...dockerConfigErrors(data, DOCKERCFG_KEY));
      break;
    case DOCKER_CONFIG_JSON:
      errors.push(...dockerConfigErrors(data, DOCKER_CONFIG_JSON_KEY));
      break;
    case BASIC_AUTH:
      // Either may be empty, but one of the keys must be there.
      if (!has('username') && !has('password')) {
        errors.push({ type: 'FieldValueRequired', field: key('data', 'username'), detail: '' });
        errors.push({ type: 'FieldValueRequired', field: key('data', 'password'), detail: '' });
      }
      break;
    case SSH_AUTH:
      if (valueBytes(data[SSH_AUTH_PRIVATE_KEY]).length === 0) errors.push({ type: 'FieldValueRequired', field: key('data', SSH_AUTH_PRIVATE_KEY), detail: '' });
      break;
    case TLS:
      if (!has('tls.crt')) errors.push({ type: 'FieldValueRequired', field: key('data', 'tls.crt'), detail: '' });
      if (!has('tls.key')) errors.push({ type: 'FieldValueRequired', field: key('data', 'tls.key'), detail: '' });
      break;
    default:
      break;
  }
  return errors;
}

/** Whether two data maps hold the same keys and bytes (reflect.DeepEqual: absent and empty differ). */
function sameData(a: unknown, b: unknown): boolean {
  const absent = (v: unknown): boolean => v === undefined || v === null;
  if (absent(a) || absent(b)) return absent(a) && absent(b);
  const left = obj(a);
  const right = obj(b);
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((k) => Object.hasOwn(right, k) && valueBytes(left[k]).equals(valueBytes(right[k])));
}

/** ValidateSecretUpdate: type immutable, nothing of data changed once `immutable`, then ValidateSecret. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (old === undefined) return validateSecret(object);
  const errors = immutable(object.type, old.type, 'type');
  if (old.immutable === true) {
    if (object.immutable !== true) errors.push({ type: 'FieldValueForbidden', field: 'immutable', detail: IMMUTABLE_SET });
    // stringData was merged into data at decoding, so comparing data covers it.
    if (!sameData(object.data, old.data)) errors.push({ type: 'FieldValueForbidden', field: 'data', detail: IMMUTABLE_SET });
  }
  errors.push(...validateSecret(object));
  return errors;
}

const SECRET_TYPE_DESCRIPTION = 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types';
const SECRET_DATA_DESCRIPTION =
  "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4";

/** printSecret: NAME, TYPE, DATA (the number of data keys), AGE. */
function secretCells(object: Record<string, unknown>, now: Date): unknown[] {
  const data = field(object, 'data');
  return [nameOf(object), stringField(object, 'type'), Object.keys(data).length, ageOf(object, now)];
}

export const SECRET: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'secrets',
  singular: 'secret',
  kind: 'Secret',
  listKind: 'SecretList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  // kube's secret field label conversion: type, metadata.name and metadata.namespace.
  selectableFields: {
    supported: ['metadata.name', 'metadata.namespace', 'type'],
    values: (object: KubeObject) => ({
      'metadata.name': metadataString(object, 'name'),
      'metadata.namespace': metadataString(object, 'namespace'),
      type: str(object.type),
    }),
    shape: goStruct('Secret', 'v1.Secret', { type: goField.string('v1.SecretType') }),
  },
  strategy: { defaults, validate, generation: 'none' },
  printer: {
    // kube declares DATA as type "string" although its cells are integers; kept as kube serves it.
    columns: Object.freeze([NAME_COLUMN, column('Type', 'string', SECRET_TYPE_DESCRIPTION), column('Data', 'string', SECRET_DATA_DESCRIPTION), AGE_COLUMN]),
    cells: secretCells,
  },
  schema: 'io.k8s.api.core.v1.Secret',
  secretFields: ['data', 'stringData'],
};
