/**
 * flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration (cluster-scoped,
 * status subresource): the objects API Priority and Fairness reads (the gateway's
 * core/flowcontrol). kube's defaults (flowcontrol/v1 defaults.go), the checks of its validation
 * that decide whether the flow-control filter can use an object (enumerations, ranges, the
 * Limited / Exempt union, wildcards alone in their lists, the mandatory objects' type), and the
 * printers' columns.
 *
 * Left out of kube's validation: the checks of names inside rules (user and group names,
 * service-account names, namespaces as DNS labels), whose failures cannot confuse the filter.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { isSet, list, num, obj, str, supported } from './validation.ts';

const GROUP = 'flowcontrol.apiserver.k8s.io';
const VERBS = ['get', 'list', 'create', 'update', 'delete', 'deletecollection', 'patch', 'watch', 'proxy'];
const SUBJECT_KINDS = ['Group', 'ServiceAccount', 'User'];
const DISTINGUISHER_METHODS = ['ByNamespace', 'ByUser'];
const PRIORITY_LEVEL_TYPES = ['Exempt', 'Limited'];
const LIMIT_RESPONSE_TYPES = ['Queue', 'Reject'];
const CONDITION_STATUSES = ['True', 'False', 'Unknown'];
/** The highest matchingPrecedence; the mandatory catch-all FlowSchema has it. */
export const MAX_MATCHING_PRECEDENCE = 10_000;
/** shufflesharding.MaxHashBits: the entropy a queue hand may need from the flow's hash. */
const MAX_HASH_BITS = 60;
/** kube's priorityLevelConfigurationQueuingMaxQueues: the most queues a priority level may have. */
const MAX_QUEUES = 10_000_000;

/** SetDefaults_FlowSchemaSpec: matchingPrecedence 1000 when unset or 0. */
function defaultFlowSchema(object: KubeObject): KubeObject {
  const spec = obj(object.spec);
  if (num(spec.matchingPrecedence) === 0) object.spec = { ...spec, matchingPrecedence: 1000 };
  return object;
}

/**
 * SetDefaults of v1 PriorityLevelConfiguration: a Limited level's nominalConcurrencyShares 30
 * when unset (0 is kept: v1 allows it), lendablePercent 0, and a Queue response's queues 64,
 * handSize 8, queueLengthLimit 50 when 0; an Exempt level's shares and lendablePercent 0.
 */
function defaultPriorityLevel(object: KubeObject): KubeObject {
  const spec = obj(object.spec);
  const next = { ...spec };
  if (isSet(spec.limited)) {
    const limited = { ...obj(spec.limited) };
    if (!isSet(limited.nominalConcurrencyShares)) limited.nominalConcurrencyShares = 30;
    if (!isSet(limited.lendablePercent)) limited.lendablePercent = 0;
    const response = obj(limited.limitResponse);
    if (isSet(response.queuing)) {
      const queuing = { ...obj(response.queuing) };
      if (num(queuing.queues) === 0) queuing.queues = 64;
      if (num(queuing.handSize) === 0) queuing.handSize = 8;
      if (num(queuing.queueLengthLimit) === 0) queuing.queueLengthLimit = 50;
      limited.limitResponse = { ...response, queuing };
    }
    next.limited = limited;
  }
  if (isSet(spec.exempt)) {
    const exempt = { ...obj(spec.exempt) };
    if (!isSet(exempt.nominalConcurrencyShares)) exempt.nominalConcurrencyShares = 0;
    if (!isSet(exempt.lendablePercent)) exempt.lendablePercent = 0;
    next.exempt = exempt;
  }
  object.spec = next;
  return object;
}

/** A required list whose wildcard, when present, must be its only member. */
function wildcardList(values: unknown, wildcard: string, at: string, allowed?: readonly string[]): FieldError[] {
  const items = list(values).map(str);
  const errors: FieldError[] = [];
  if (items.length === 0) return [{ type: 'FieldValueRequired', field: at, detail: `${at.slice(at.lastIndexOf('.') + 1)} must contain at least one value` }];
  if (items.includes(wildcard) && items.length > 1) {
    errors.push({ type: 'FieldValueInvalid', field: at, value: items, detail: `if '${wildcard}' is present, must not specify other values` });
  }
  if (allowed !== undefined) {
    for (const item of items) if (item !== wildcard && !allowed.includes(item)) errors.push({ type: 'FieldValueNotSupported', field: at, value: item, detail: supported(allowed) });
  }
  return errors;
}

function validateSubject(raw: unknown, at: string): FieldError[] {
  const subject = obj(raw);
  const kind = str(subject.kind);
  const member = kind === 'User' ? 'user' : kind === 'Group' ? 'group' : kind === 'ServiceAccount' ? 'serviceAccount' : '';
  if (member === '') return [{ type: 'FieldValueNotSupported', field: `${at}.kind`, value: kind, detail: supported(SUBJECT_KINDS) }];
  const errors: FieldError[] = [];
  for (const other of ['user', 'group', 'serviceAccount']) {
    if (other !== member && isSet(subject[other])) errors.push({ type: 'FieldValueForbidden', field: `${at}.${other}`, detail: `${other} is forbidden when subject kind is not '${kind}'` });
  }
  const named = obj(subject[member]);
  if (!isSet(subject[member])) errors.push({ type: 'FieldValueRequired', field: `${at}.${member}`, detail: `${member} is required when subject kind is '${kind}'` });
  else if (str(named.name) === '') errors.push({ type: 'FieldValueRequired', field: `${at}.${member}.name`, detail: `${member} name is required` });
  if (member === 'serviceAccount' && isSet(subject[member]) && str(named.namespace) === '') {
    errors.push({ type: 'FieldValueRequired', field: `${at}.serviceAccount.namespace`, detail: 'must specify namespace for service account' });
  }
  return errors;
}

function validateRules(raw: unknown, at: string): FieldError[] {
  const rules = obj(raw);
  const errors: FieldError[] = [];
  const subjects = list(rules.subjects);
  if (subjects.length === 0) errors.push({ type: 'FieldValueRequired', field: `${at}.subjects`, detail: 'subjects must contain at least one value' });
  subjects.forEach((s, i) => errors.push(...validateSubject(s, `${at}.subjects[${i}]`)));
  const resourceRules = list(rules.resourceRules);
  const nonResourceRules = list(rules.nonResourceRules);
  if (resourceRules.length === 0 && nonResourceRules.length === 0) {
    errors.push({ type: 'FieldValueRequired', field: at, detail: 'at least one of resourceRules and nonResourceRules has to be non-empty' });
  }
  resourceRules.forEach((r, i) => {
    const rule = obj(r);
    const ruleAt = `${at}.resourceRules[${i}]`;
    errors.push(...wildcardList(rule.verbs, '*', `${ruleAt}.verbs`, VERBS));
    errors.push(...wildcardList(rule.apiGroups, '*', `${ruleAt}.apiGroups`));
    errors.push(...wildcardList(rule.resources, '*', `${ruleAt}.resources`));
    if (list(rule.namespaces).length === 0 && rule.clusterScope !== true) {
      errors.push({ type: 'FieldValueRequired', field: `${ruleAt}.namespaces`, detail: 'resource rules that are not cluster scoped must supply at least one namespace' });
    } else if (list(rule.namespaces).length > 0) {
      errors.push(...wildcardList(rule.namespaces, '*', `${ruleAt}.namespaces`));
    }
  });
  nonResourceRules.forEach((r, i) => {
    const rule = obj(r);
    const ruleAt = `${at}.nonResourceRules[${i}]`;
    errors.push(...wildcardList(rule.verbs, '*', `${ruleAt}.verbs`, VERBS));
    errors.push(...wildcardList(rule.nonResourceURLs, '*', `${ruleAt}.nonResourceURLs`));
    list(rule.nonResourceURLs).map(str).forEach((url, j) => {
      if (url !== '*' && !url.startsWith('/')) errors.push({ type: 'FieldValueInvalid', field: `${ruleAt}.nonResourceURLs[${j}]`, value: url, detail: 'must start with slash' });
    });
  });
  return errors;
}

/** ValidateFlowSchema: the priority level named, matchingPrecedence in [1, 10000] (1 only for "exempt"), the distinguisher, every rule. */
function validateFlowSchema(object: KubeObject): FieldError[] {
  const spec = obj(object.spec);
  const errors: FieldError[] = [];
  const precedence = num(spec.matchingPrecedence);
  if (precedence <= 0) errors.push({ type: 'FieldValueInvalid', field: 'spec.matchingPrecedence', value: precedence, detail: 'must be a positive value' });
  if (precedence > MAX_MATCHING_PRECEDENCE) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.matchingPrecedence', value: precedence, detail: `must not be greater than ${MAX_MATCHING_PRECEDENCE}` });
  }
  if (precedence === 1 && str(object.metadata?.name) !== 'exempt') {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.matchingPrecedence', value: precedence, detail: 'only the schema named \'exempt\' may have matchingPrecedence 1' });
  }
  if (str(obj(spec.priorityLevelConfiguration).name) === '') errors.push({ type: 'FieldValueRequired', field: 'spec.priorityLevelConfiguration.name', detail: 'must reference a priority level' });
  if (isSet(spec.distinguisherMethod)) {
    const type = str(obj(spec.distinguisherMethod).type);
    if (!DISTINGUISHER_METHODS.includes(type)) errors.push({ type: 'FieldValueNotSupported', field: 'spec.distinguisherMethod.type', value: type, detail: supported(DISTINGUISHER_METHODS) });
  }
  list(spec.rules).forEach((r, i) => errors.push(...validateRules(r, `spec.rules[${i}]`)));
  return errors;
}

/** A percentage field of a level: 0 to 100. */
function percent(value: unknown, at: string): FieldError[] {
  const n = num(value);
  return n < 0 || n > 100 ? [{ type: 'FieldValueInvalid', field: at, value: n, detail: 'must be between 0 and 100, inclusive' }] : [];
}

/**
 * ValidatePriorityLevelConfiguration: the type and its union member, shares not negative,
 * lendable and borrowing percentages, the response type, and the queuing parameters (positive,
 * handSize at most queues, and a hand that fits in the 60 bits of entropy of a flow's hash).
 * The mandatory levels keep their types: "exempt" is Exempt, "catch-all" Limited.
 */
function validatePriorityLevel(object: KubeObject): FieldError[] {
  const spec = obj(object.spec);
  const name = str(object.metadata?.name);
  const errors: FieldError[] = [];
  const type = str(spec.type);
  if (!PRIORITY_LEVEL_TYPES.includes(type)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.type', value: type, detail: supported(PRIORITY_LEVEL_TYPES) });
    return errors;
  }
  if (name === 'exempt' && type !== 'Exempt') errors.push({ type: 'FieldValueInvalid', field: 'spec.type', value: type, detail: 'type must be \'Exempt\' if and only if name is \'exempt\'' });
  if (name !== 'exempt' && type === 'Exempt') errors.push({ type: 'FieldValueInvalid', field: 'spec.type', value: type, detail: 'type must be \'Exempt\' if and only if name is \'exempt\'' });
  const own = type === 'Limited' ? 'limited' : 'exempt';
  const other = type === 'Limited' ? 'exempt' : 'limited';
  if (isSet(spec[other])) errors.push({ type: 'FieldValueForbidden', field: `spec.${other}`, detail: `must be nil if the type is ${type}` });
  if (!isSet(spec[own])) {
    if (type === 'Limited') errors.push({ type: 'FieldValueRequired', field: 'spec.limited', detail: 'must not be empty when type is Limited' });
    return errors;
  }
  const level = obj(spec[own]);
  if (num(level.nominalConcurrencyShares) < 0) {
    errors.push({ type: 'FieldValueInvalid', field: `spec.${own}.nominalConcurrencyShares`, value: num(level.nominalConcurrencyShares), detail: 'must be a non-negative integer' });
  }
  errors.push(...percent(level.lendablePercent, `spec.${own}.lendablePercent`));
  if (type !== 'Limited') return errors;
  if (isSet(level.borrowingLimitPercent) && num(level.borrowingLimitPercent) < 0) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.limited.borrowingLimitPercent', value: num(level.borrowingLimitPercent), detail: 'if specified, must be a non-negative integer' });
  }
  const response = obj(level.limitResponse);
  const responseType = str(response.type);
  if (!LIMIT_RESPONSE_TYPES.includes(responseType)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.limited.limitResponse.type', value: responseType, detail: supported(LIMIT_RESPONSE_TYPES) });
    return errors;
  }
  if (responseType === 'Reject') {
    if (isSet(response.queuing)) errors.push({ type: 'FieldValueForbidden', field: 'spec.limited.limitResponse.queuing', detail: 'must be nil if limited.limitResponse.type is not Limited' });
    return errors;
  }
  if (!isSet(response.queuing)) {
    errors.push({ type: 'FieldValueRequired', field: 'spec.limited.limitResponse.queuing', detail: 'must not be empty if limited.limitResponse.type is Limited' });
    return errors;
  }
  const queuing = obj(response.queuing);
  const at = 'spec.limited.limitResponse.queuing';
  const queues = num(queuing.queues);
  const handSize = num(queuing.handSize);
  if (num(queuing.queueLengthLimit) <= 0) errors.push({ type: 'FieldValueInvalid', field: `${at}.queueLengthLimit`, value: num(queuing.queueLengthLimit), detail: 'must be positive' });
  if (queues <= 0) errors.push({ type: 'FieldValueInvalid', field: `${at}.queues`, value: queues, detail: 'must be positive' });
  else if (queues > MAX_QUEUES) errors.push({ type: 'FieldValueInvalid', field: `${at}.queues`, value: queues, detail: `must not be greater than ${MAX_QUEUES}` });
  if (handSize <= 0) errors.push({ type: 'FieldValueInvalid', field: `${at}.handSize`, value: handSize, detail: 'must be positive' });
  else if (handSize > queues) {
    errors.push({ type: 'FieldValueInvalid', field: `${at}.handSize`, value: handSize, detail: `should not be greater than queues (${queues})` });
  } else if (Math.ceil(Math.log2(queues) * handSize) > MAX_HASH_BITS) {
    errors.push({
      type: 'FieldValueInvalid',
      field: `${at}.handSize`,
      value: handSize,
      detail: `required entropy bits of deckSize ${queues} and handSize ${handSize} should not be greater than ${MAX_HASH_BITS}`,
    });
  }
  return errors;
}

/** The status subresource: the conditions' statuses are kube's three, and each condition has a type. */
function validateConditions(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  list(obj(object.status).conditions).forEach((raw, i) => {
    const condition = obj(raw);
    if (str(condition.type) === '') errors.push({ type: 'FieldValueRequired', field: `status.conditions[${i}].type`, detail: 'must not be empty' });
    if (!CONDITION_STATUSES.includes(str(condition.status))) {
      errors.push({ type: 'FieldValueNotSupported', field: `status.conditions[${i}].status`, value: str(condition.status), detail: supported(CONDITION_STATUSES) });
    }
  });
  return errors;
}

/** The status of a FlowSchema's condition of `type` ("" when it has none). */
function conditionStatus(object: Record<string, unknown>, type: string): string {
  const found = list(field(object, 'status').conditions).map(obj).find((c) => str(c.type) === type);
  return found === undefined ? '' : str(found.status);
}

/** printFlowSchema: NAME, PRIORITYLEVEL, MATCHINGPRECEDENCE, DISTINGUISHERMETHOD ("<none>"), AGE, MISSINGPL ("?" without the condition). */
function flowSchemaCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = field(object, 'spec');
  const method = isSet(spec.distinguisherMethod) ? str(obj(spec.distinguisherMethod).type) : '<none>';
  const dangling = conditionStatus(object, 'Dangling');
  return [nameOf(object), str(obj(spec.priorityLevelConfiguration).name), Math.trunc(num(spec.matchingPrecedence)), method, ageOf(object, now), dangling === '' ? '?' : dangling];
}

/** printPriorityLevelConfiguration: NAME, TYPE, NOMINALCONCURRENCYSHARES, QUEUES, HANDSIZE, QUEUELENGTHLIMIT ("<none>" when not queuing), AGE. */
function priorityLevelCells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = field(object, 'spec');
  const limited = obj(spec.limited);
  const queuing = obj(obj(limited.limitResponse).queuing);
  const queued = isSet(obj(limited.limitResponse).queuing);
  const shares = isSet(spec.limited) ? String(Math.trunc(num(limited.nominalConcurrencyShares))) : '<none>';
  const q = (key: string) => (queued ? String(Math.trunc(num(queuing[key]))) : '<none>');
  return [nameOf(object), str(spec.type), shares, q('queues'), q('handSize'), q('queueLengthLimit'), ageOf(object, now)];
}

export const FLOW_SCHEMA: KindDefinition = {
  source: 'builtin',
  group: GROUP,
  version: 'v1',
  resource: 'flowschemas',
  singular: 'flowschema',
  kind: 'FlowSchema',
  listKind: 'FlowSchemaList',
  namespaced: false,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults: defaultFlowSchema, validate: validateFlowSchema, generation: 'spec' },
  statusStrategy: { validate: validateConditions },
  printer: {
    columns: Object.freeze([
      NAME_COLUMN,
      column('PriorityLevel', 'string', 'The priority level the requests of this schema go to'),
      column('MatchingPrecedence', 'string', 'The lower, the sooner this schema is matched'),
      column('DistinguisherMethod', 'string', 'How the requests of this schema are split into flows'),
      AGE_COLUMN,
      column('MissingPL', 'string', 'Whether the priority level named does not exist'),
    ]),
    cells: flowSchemaCells,
  },
  schema: 'io.k8s.api.flowcontrol.v1.FlowSchema',
};

export const PRIORITY_LEVEL_CONFIGURATION: KindDefinition = {
  source: 'builtin',
  group: GROUP,
  version: 'v1',
  resource: 'prioritylevelconfigurations',
  singular: 'prioritylevelconfiguration',
  kind: 'PriorityLevelConfiguration',
  listKind: 'PriorityLevelConfigurationList',
  namespaced: false,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults: defaultPriorityLevel, validate: validatePriorityLevel, generation: 'spec' },
  statusStrategy: { validate: validateConditions },
  printer: {
    columns: Object.freeze([
      NAME_COLUMN,
      column('Type', 'string', 'Exempt or Limited'),
      column('NominalConcurrencyShares', 'string', 'The share of the server\'s seats this level gets'),
      column('Queues', 'string', 'How many queues the level has'),
      column('HandSize', 'string', 'How many queues a flow may use'),
      column('QueueLengthLimit', 'string', 'How many requests a queue may hold'),
      AGE_COLUMN,
    ]),
    cells: priorityLevelCells,
  },
  schema: 'io.k8s.api.flowcontrol.v1.PriorityLevelConfiguration',
};
