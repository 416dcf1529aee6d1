/**
 * Event (core/v1, namespaced, short name "ev"): validated as kube validates a core/v1 event
 * (the legacy rules: the involved object's namespace against the event's, and for events with
 * an eventTime the reporting controller, instance, action and reason); selectable by the
 * involved object, reason, reporting component, source and type; printed as kube's printEvent.
 * Its name is only checked as a path segment, as kube checks core events' names.
 */
import type { FieldError } from '../../../errors.ts';
import { parseRFC3339 } from '../../../go-time.ts';
import { type KubeObject } from '../../../kube.ts';
import { goField, goStruct } from '../../../object-meta.ts';
import { metadataString } from '../../../selectors.ts';
import { isDNS1123Subdomain, isQualifiedName } from '../../../validation/names.ts';
import { age, column, field, nameOf, NAME_COLUMN, stringField } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { obj, str } from './common.ts';

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/** Whether a metav1.Time / MicroTime field is Go's zero time (absent, null, or the zero instant). */
function isZeroTime(value: unknown): boolean {
  if (typeof value !== 'string') return true;
  const parsed = parseRFC3339(value);
  return 'error' in parsed || parsed.zero;
}

function bytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * legacyValidateEvent, which is all kube checks of events written through core/v1 (create and
 * update alike). The field paths are kube's, which names the reporting component by its Go
 * field (reportingController).
 */
function validate(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const namespace = metadataString(object, 'namespace');
  const involved = obj(object.involvedObject);
  const involvedNamespace = str(involved.namespace);
  const mismatch: FieldError = { type: 'FieldValueInvalid', field: 'involvedObject.namespace', value: involvedNamespace, detail: 'does not match event.namespace' };
  const tooLong = (path: string, limit: number): FieldError => ({ type: 'FieldValueInvalid', field: path, value: '', detail: `can have at most ${limit} characters` });
  if (isZeroTime(object.eventTime)) {
    // An old-style event: its namespace and its object's agree ("default" also for cluster-scoped objects).
    if (involvedNamespace === '') {
      if (namespace !== '' && namespace !== 'default') errors.push(mismatch);
    } else if (namespace !== involvedNamespace) {
      errors.push(mismatch);
    }
  } else {
    if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') errors.push(mismatch);
    const controller = str(object.reportingComponent);
    if (controller === '') errors.push({ type: 'FieldValueRequired', field: 'reportingController', detail: '' });
    for (const detail of isQualifiedName(controller)) errors.push({ type: 'FieldValueInvalid', field: 'reportingController', value: controller, detail });
    const instance = str(object.reportingInstance);
    if (instance === '') errors.push({ type: 'FieldValueRequired', field: 'reportingInstance', detail: '' });
    if (bytes(instance) > REPORTING_INSTANCE_LIMIT) errors.push(tooLong('reportingInstance', REPORTING_INSTANCE_LIMIT));
    const action = str(object.action);
    if (action === '') errors.push({ type: 'FieldValueRequired', field: 'action', detail: '' });
    if (bytes(action) > ACTION_LIMIT) errors.push(tooLong('action', ACTION_LIMIT));
    const reason = str(object.reason);
    if (reason === '') errors.push({ type: 'FieldValueRequired', field: 'reason', detail: '' });
    if (bytes(reason) > REASON_LIMIT) errors.push(tooLong('reason', REASON_LIMIT));
    if (bytes(str(object.message)) > NOTE_LIMIT) errors.push(tooLong('message', NOTE_LIMIT));
  }
  for (const detail of isDNS1123Subdomain(namespace)) errors.push({ type: 'FieldValueInvalid', field: 'namespace', value: namespace, detail });
  return errors;
}

/** translateTimestampSince for a Time or MicroTime field: "<unknown>" when zero. */
function since(value: unknown, now: Date): string {
  return isZeroTime(value) ? '<unknown>' : age(value as string, now);
}

/** formatEventSource: the component (else the reporting controller), then ", host" (else ", instance") when there is one. */
function eventSource(object: Record<string, unknown>): string {
  const source = field(object, 'source');
  const component = stringField(source, 'component') || stringField(object, 'reportingComponent');
  const host = stringField(source, 'host') || stringField(object, 'reportingInstance');
  return host === '' ? component : `${component}, ${host}`;
}

/**
 * printEvent with Wide set: LAST SEEN (the series' last observation, the last timestamp, or
 * else the first), TYPE, REASON, OBJECT ("kind/name" with the kind lower-cased), SUBOBJECT,
 * SOURCE, MESSAGE (trimmed), FIRST SEEN (the first timestamp, else the eventTime), COUNT (the
 * series' count, else count, and 1 for a singleton without one), NAME.
 */
function eventCells(object: Record<string, unknown>, now: Date): unknown[] {
  const firstSeen = isZeroTime(object['firstTimestamp']) ? since(object['eventTime'], now) : since(object['firstTimestamp'], now);
  let lastSeen = isZeroTime(object['lastTimestamp']) ? firstSeen : since(object['lastTimestamp'], now);
  let count = typeof object['count'] === 'number' ? object['count'] : 0;
  const series = object['series'];
  if (series !== undefined && series !== null) {
    const s = obj(series);
    lastSeen = since(s['lastObservedTime'], now);
    count = typeof s['count'] === 'number' ? s['count'] : 0;
  } else if (count === 0) {
    count = 1;
  }
  const involved = field(object, 'involvedObject');
  const kind = stringField(involved, 'kind').toLowerCase();
  const name = stringField(involved, 'name');
  return [
    lastSeen,
    stringField(object, 'type'),
    stringField(object, 'reason'),
    name === '' ? kind : `${kind}/${name}`,
    stringField(involved, 'fieldPath'),
    eventSource(object),
    stringField(object, 'message').trim(),
    firstSeen,
    count,
    nameOf(object),
  ];
}

const EVENT_COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
  column('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  column('Object', 'string', 'The object that this event is about.'),
  column(
    'Subobject',
    'string',
    'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
    1,
  ),
  column('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
  column('Message', 'string', 'A human-readable description of the status of this operation.'),
  column('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
  column('Count', 'string', 'The number of times this event has occurred.', 1),
  Object.freeze({ ...NAME_COLUMN, priority: 1 }),
]);

const OBJECT_REFERENCE = goStruct('ObjectReference', 'v1.ObjectReference', {
  kind: goField.string(),
  namespace: goField.string(),
  name: goField.string(),
  uid: goField.string('types.UID'),
  apiVersion: goField.string(),
  resourceVersion: goField.string(),
  fieldPath: goField.string(),
});

/** ToSelectableFields of kube's event strategy. */
function eventFields(object: KubeObject): Record<string, string> {
  const involved = obj(object.involvedObject);
  const component = str(obj(object.source).component);
  return {
    'metadata.name': metadataString(object, 'name'),
    'metadata.namespace': metadataString(object, 'namespace'),
    'involvedObject.kind': str(involved.kind),
    'involvedObject.namespace': str(involved.namespace),
    'involvedObject.name': str(involved.name),
    'involvedObject.uid': str(involved.uid),
    'involvedObject.apiVersion': str(involved.apiVersion),
    'involvedObject.resourceVersion': str(involved.resourceVersion),
    'involvedObject.fieldPath': str(involved.fieldPath),
    reason: str(object.reason),
    reportingComponent: str(object.reportingComponent),
    // The source's component, else the reporting controller (events written through events.k8s.io).
    source: component === '' ? str(object.reportingComponent) : component,
    type: str(object.type),
  };
}

export const EVENT: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'pathSegmentName',
  selectableFields: {
    supported: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
      'metadata.namespace',
      'metadata.name',
    ],
    values: eventFields,
    shape: goStruct('Event', 'v1.Event', {
      involvedObject: goField.struct(OBJECT_REFERENCE),
      reason: goField.string(),
      source: goField.struct(goStruct('EventSource', 'v1.EventSource', { component: goField.string(), host: goField.string() })),
      type: goField.string(),
      reportingComponent: goField.string(),
    }),
  },
  strategy: { validate, generation: 'none' },
  // kube's event strategy: a delete never gives an event the garbage collector's finalizers.
  deletion: { garbageCollectionPolicy: 'Unsupported' },
  printer: { columns: EVENT_COLUMNS, cells: eventCells },
  schema: 'io.k8s.api.core.v1.Event',
};
