/**
 * The validation kube adds for Events written through events.k8s.io/v1 (and newer), on top of
 * the core Event's own: on create an eventTime, a type of Normal or Warning, a series of at
 * least 2 with its lastObservedTime, and none of the deprecated fields; on update, nothing but
 * the series may change. Objects are in the stored (core/v1) form, so the field names in the
 * errors are the core ones, as kube's are.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { isDeepStrictEqual } from 'node:util';

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function seriesErrors(event: Record<string, unknown>): FieldError[] {
  const series = event.series;
  if (!isPlainObject(series)) return [];
  const errors: FieldError[] = [];
  if (typeof series.count !== 'number' || series.count < 2) errors.push({ type: 'FieldValueInvalid', field: 'series.count', value: '', detail: 'should be at least 2' });
  if (!present(series.lastObservedTime)) errors.push({ type: 'FieldValueRequired', field: 'series.lastObservedTime', detail: '' });
  return errors;
}

/** ValidateEventCreate's strict part for events.k8s.io/v1. */
export function strictEventCreateErrors(object: KubeObject): FieldError[] {
  const event: Record<string, unknown> = object;
  const errors = seriesErrors(event);
  if (!present(event.eventTime)) errors.push({ type: 'FieldValueRequired', field: 'eventTime', detail: '' });
  if (event.type !== 'Normal' && event.type !== 'Warning') {
    errors.push({ type: 'FieldValueInvalid', field: 'type', value: '', detail: `has invalid value: ${typeof event.type === 'string' ? event.type : ''}` });
  }
  for (const field of ['firstTimestamp', 'lastTimestamp'] as const) {
    if (present(event[field])) errors.push({ type: 'FieldValueInvalid', field, value: '', detail: 'needs to be unset' });
  }
  if (typeof event.count === 'number' && event.count !== 0) errors.push({ type: 'FieldValueInvalid', field: 'count', value: '', detail: 'needs to be unset' });
  const source = isPlainObject(event.source) ? event.source : {};
  if (present(source.component) || present(source.host)) errors.push({ type: 'FieldValueInvalid', field: 'source', value: '', detail: 'needs to be unset' });
  return errors;
}

/** The fields an events.k8s.io/v1 update may not change, in kube's order of checking. */
const IMMUTABLE = [
  'involvedObject',
  'reason',
  'message',
  'source',
  'firstTimestamp',
  'lastTimestamp',
  'count',
  'reason',
  'type',
  'eventTime',
  'action',
  'related',
  'reportingComponent',
  'reportingInstance',
] as const;

/** The path kube names for each (its internal field names: reportingController for reportingComponent). */
const PATH: Readonly<Record<string, string>> = { reportingComponent: 'reportingController' };

/** ValidateEventUpdate's strict part for events.k8s.io/v1. */
export function strictEventUpdateErrors(object: KubeObject, old: KubeObject): FieldError[] {
  const now: Record<string, unknown> = object;
  const before: Record<string, unknown> = old;
  const errors = isDeepStrictEqual(now.series, before.series) ? [] : seriesErrors(now);
  for (const field of IMMUTABLE) {
    if (!isDeepStrictEqual(now[field] ?? null, before[field] ?? null)) {
      errors.push({ type: 'FieldValueInvalid', field: PATH[field] ?? field, value: now[field] ?? null, detail: 'field is immutable' });
    }
  }
  return errors;
}
