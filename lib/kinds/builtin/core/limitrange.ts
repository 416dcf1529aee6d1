/**
 * LimitRange (core/v1, namespaced, short name "limits"): a Container item's default limits
 * come from its max and its default requests from its defaults, else its min (kube's
 * SetDefaults_LimitRangeItem), every quantity rounded up to milli; validated as kube's
 * ValidateLimitRange (types, resource names, min <= default request <= default <= max, the
 * ratio). kube has no printer for it: its default columns, NAME and CREATED AT.
 */
import type { FieldError } from '../../../errors.ts';
import { formatRFC3339, parseRFC3339 } from '../../../go-time.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { compareQuantities, formatQuantity, quantityMilliValue, quantityOf, quantityValue, type Quantity } from '../../quantity.ts';
import { isQualifiedName } from '../../../validation/names.ts';
import { column, field, nameOf, NAME_COLUMN, stringField } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import {
  child,
  containerResourceNameErrors,
  defaultResourceList,
  index,
  isOvercommitAllowed,
  key,
  list,
  obj,
  resourceNameErrors,
  str,
} from './common.ts';

const RESOURCE_LISTS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const;
const STANDARD_LIMIT_TYPES = new Set(['Pod', 'Container', 'PersistentVolumeClaim']);
/** resource.MaxMilliValue: past it, kube compares the ratio in whole units rather than milli. */
const MAX_MILLI_VALUE = 9223372036854775807n / 1000n;
const ONE: Quantity = { negative: false, digits: '1', scale: 0, format: 'DecimalSI' };

/** Copies the entries of `from` missing in `to` (SetDefaults_LimitRangeItem's three steps). */
function fillMissing(to: Record<string, unknown>, from: unknown): void {
  if (!isPlainObject(from)) return;
  for (const [name, q] of Object.entries(from)) if (!Object.hasOwn(to, name)) to[name] = q;
}

/** SetDefaults_LimitRangeItem for every item, then SetDefaults_ResourceList for its five lists. */
function defaults(object: KubeObject): KubeObject {
  const spec = object.spec;
  if (!isPlainObject(spec)) return object;
  for (const item of list(spec.limits)) {
    if (!isPlainObject(item)) continue;
    if (item.type === 'Container') {
      const limits: Record<string, unknown> = isPlainObject(item.default) ? item.default : {};
      const requests: Record<string, unknown> = isPlainObject(item.defaultRequest) ? item.defaultRequest : {};
      fillMissing(limits, item.max);
      fillMissing(requests, limits);
      fillMissing(requests, item.min);
      // Empty maps are left out, as omitempty writes them.
      if (Object.keys(limits).length > 0) item.default = limits;
      if (Object.keys(requests).length > 0) item.defaultRequest = requests;
    }
    for (const name of RESOURCE_LISTS) defaultResourceList(item[name]);
  }
  return object;
}

/** validateLimitRangeTypeName: a qualified name, and a standard type unless fully qualified. */
function typeNameErrors(type: string, path: string): FieldError[] {
  const errors: FieldError[] = isQualifiedName(type).map((detail) => ({ type: 'FieldValueInvalid', field: path, value: type, detail }));
  if (errors.length > 0) return errors;
  if (!type.includes('/') && !STANDARD_LIMIT_TYPES.has(type)) {
    errors.push({ type: 'FieldValueInvalid', field: path, value: type, detail: 'must be a standard limit type or fully qualified' });
  }
  return errors;
}

/** %f of Go: six decimals. */
function goFloat(n: number): string {
  if (n === Infinity) return '+Inf';
  if (Number.isNaN(n)) return 'NaN';
  return n.toFixed(6);
}

/** ValidateLimitRange's checks of one item (its type, names, and the order of its quantities). */
function itemErrors(item: Record<string, unknown>, path: string, seenTypes: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  const type = str(item.type);
  errors.push(...typeNameErrors(type, child(path, 'type')));
  if (seenTypes.has(type)) errors.push({ type: 'FieldValueDuplicate', field: child(path, 'type'), value: type, detail: '' });
  seenTypes.add(type);
  const nameErrors = type === 'Pod' || type === 'Container' ? containerResourceNameErrors : resourceNameErrors;
  const keys: string[] = [];
  const lists: Record<string, Map<string, Quantity | undefined>> = {};
  const take = (listName: (typeof RESOURCE_LISTS)[number]): void => {
    const values = new Map<string, Quantity | undefined>();
    for (const [name, raw] of Object.entries(obj(item[listName]))) {
      errors.push(...nameErrors(name, key(child(path, listName), name)));
      if (!keys.includes(name)) keys.push(name);
      values.set(name, quantityOf(raw));
    }
    lists[listName] = values;
  };
  take('max');
  take('min');
  if (type === 'Pod') {
    lists['default'] = new Map();
    lists['defaultRequest'] = new Map();
    if (Object.keys(obj(item.default)).length > 0) {
      errors.push({ type: 'FieldValueForbidden', field: child(path, 'default'), detail: "may not be specified when `type` is 'Pod'" });
    }
    if (Object.keys(obj(item.defaultRequest)).length > 0) {
      errors.push({ type: 'FieldValueForbidden', field: child(path, 'defaultRequest'), detail: "may not be specified when `type` is 'Pod'" });
    }
  } else {
    take('default');
    take('defaultRequest');
  }
  if (type === 'PersistentVolumeClaim' && !Object.hasOwn(obj(item.min), 'storage') && !Object.hasOwn(obj(item.max), 'storage')) {
    errors.push({ type: 'FieldValueRequired', field: child(path, 'limits'), detail: 'either minimum or maximum storage value is required, but neither was provided' });
  }
  take('maxLimitRequestRatio');
  for (const name of keys) {
    const min = lists['min']?.get(name);
    const max = lists['max']?.get(name);
    const def = lists['default']?.get(name);
    const request = lists['defaultRequest']?.get(name);
    const ratio = lists['maxLimitRequestRatio']?.get(name);
    const at = (listName: string): string => key(child(path, listName), name);
    const invalid = (listName: string, value: Quantity, detail: string): void => {
      errors.push({ type: 'FieldValueInvalid', field: at(listName), value: formatQuantity(value), detail });
    };
    const s = formatQuantity;
    if (min !== undefined && max !== undefined && compareQuantities(min, max) > 0) invalid('min', min, `min value ${s(min)} is greater than max value ${s(max)}`);
    if (request !== undefined && min !== undefined && compareQuantities(min, request) > 0) {
      invalid('defaultRequest', request, `min value ${s(min)} is greater than default request value ${s(request)}`);
    }
    if (request !== undefined && max !== undefined && compareQuantities(request, max) > 0) {
      invalid('defaultRequest', request, `default request value ${s(request)} is greater than max value ${s(max)}`);
    }
    if (request !== undefined && def !== undefined && compareQuantities(request, def) > 0) {
      invalid('defaultRequest', request, `default request value ${s(request)} is greater than default limit value ${s(def)}`);
    }
    if (def !== undefined && min !== undefined && compareQuantities(min, def) > 0) invalid('default', min, `min value ${s(min)} is greater than default value ${s(def)}`);
    if (def !== undefined && max !== undefined && compareQuantities(def, max) > 0) invalid('default', max, `default value ${s(def)} is greater than max value ${s(max)}`);
    if (ratio !== undefined && compareQuantities(ratio, ONE) < 0) {
      invalid('maxLimitRequestRatio', ratio, `ratio ${s(ratio)} is less than 1`);
    }
    if (ratio !== undefined && min !== undefined && max !== undefined) {
      let ratioValue = Number(quantityValue(ratio));
      let minValue = Number(quantityValue(min));
      let maxValue = Number(quantityValue(max));
      // In milli when every value fits, as kube compares them.
      if (quantityValue(ratio) < MAX_MILLI_VALUE && quantityValue(min) < MAX_MILLI_VALUE && quantityValue(max) < MAX_MILLI_VALUE) {
        ratioValue = Number(quantityMilliValue(ratio)) / 1000;
        minValue = Number(quantityMilliValue(min));
        maxValue = Number(quantityMilliValue(max));
      }
      const limit = maxValue / minValue;
      if (ratioValue > limit) invalid('maxLimitRequestRatio', ratio, `ratio ${s(ratio)} is greater than max/min = ${goFloat(limit)}`);
    }
    // Resources that may not be overcommitted (huge pages, extended ones) need default = default request.
    if (!isOvercommitAllowed(name) && def !== undefined && request !== undefined && compareQuantities(def, request) !== 0) {
      invalid('defaultRequest', request, `default value ${s(def)} must equal to defaultRequest value ${s(request)} in ${name}`);
    }
  }
  return errors;
}

/** ValidateLimitRange (metadata is admission's), the same on update. */
function validate(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  list(obj(object.spec).limits).forEach((item, i) => errors.push(...itemErrors(obj(item), index('spec.limits', i), seen)));
  return errors;
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/**
 * kube's default table (rest.NewDefaultTableConvertor): NAME and CREATED AT, the creation
 * timestamp in RFC 3339 (Go's zero time when there is none).
 */
function limitRangeCells(object: Record<string, unknown>): unknown[] {
  const parsed = parseRFC3339(stringField(field(object, 'metadata'), 'creationTimestamp'));
  return [nameOf(object), 'error' in parsed || parsed.zero ? GO_ZERO_TIME : formatRFC3339(parsed.ms)];
}

export const LIMIT_RANGE: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'limitranges',
  singular: 'limitrange',
  kind: 'LimitRange',
  listKind: 'LimitRangeList',
  namespaced: true,
  shortNames: ['limits'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, validate, generation: 'none' },
  printer: { columns: Object.freeze([NAME_COLUMN, column('Created At', 'date', CREATION_TIMESTAMP_DESCRIPTION)]), cells: limitRangeCells },
  schema: 'io.k8s.api.core.v1.LimitRange',
};
