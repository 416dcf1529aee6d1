/**
 * CronJob (batch/v1, namespaced): kube's SetDefaults_CronJob and its job template's pod
 * defaults, ValidateCronJobCreate / ValidateCronJobUpdate (a schedule robfig/cron's
 * ParseStandard accepts, the time zone, the concurrency policy, the job template with no
 * selector of its own, names of at most 52 characters), the status subresource, and
 * printCronJob's columns.
 */
import type { FieldError } from '../../../errors.ts';
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { metadataString, DEFAULT_FIELDS } from '../../../selectors.ts';
import { age, AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, TableColumnDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { cronScheduleError, isKnownTimeZone } from './cron.ts';
import { child, invalid, isSet, list, nonNegative, notSupported, obj, objectAt, required, str } from './fields.ts';
import { CONTAINERS_COLUMN, defaultJobSpecParts, IMAGES_COLUMN, JOB_SELECTOR_COLUMN, validateJobSpecParts } from './job.ts';
import { formatLabelSelector } from '../../../label-selector.ts';
import { containerCells } from './pod-spec.ts';

/**
 * SetDefaults_CronJob: concurrencyPolicy Allow, suspend false, successfulJobsHistoryLimit 3,
 * failedJobsHistoryLimit 1; then the job template's pod template defaults (a job template's
 * JobSpec gets no SetDefaults_Job). In place; never throws.
 */
function defaults(object: KubeObject): KubeObject {
  const spec = objectAt(object.spec);
  if (spec === undefined) return object;
  if (spec['concurrencyPolicy'] === undefined || spec['concurrencyPolicy'] === null || spec['concurrencyPolicy'] === '') spec['concurrencyPolicy'] = 'Allow';
  for (const [field, value] of [['suspend', false], ['successfulJobsHistoryLimit', 3], ['failedJobsHistoryLimit', 1]] as const) {
    if (spec[field] === undefined || spec[field] === null) spec[field] = value;
  }
  const jobSpec = obj(spec['jobTemplate'])['spec'];
  if (isPlainObject(jobSpec)) defaultJobSpecParts(jobSpec);
  return object;
}

/** cronJobStrategy.PrepareForCreate: an empty status. */
function prepareForCreate(object: KubeObject): KubeObject {
  return { ...object, status: {} };
}

const TIME_ZONE_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** validateTimeZone. */
function validateTimeZone(timeZone: unknown, path: string): FieldError[] {
  if (typeof timeZone !== 'string') return [];
  if (timeZone === '') return [invalid(path, timeZone, 'timeZone must be nil or non-empty string')];
  for (const part of timeZone.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TIME_ZONE_PART.test(part)) return [invalid(path, timeZone, `unknown time zone ${timeZone}`)];
  }
  const errors: FieldError[] = [];
  if (timeZone.toLowerCase() === 'local') errors.push(invalid(path, timeZone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  else if (!isKnownTimeZone(timeZone)) errors.push(invalid(path, timeZone, `unknown time zone ${timeZone}`));
  return errors;
}

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];

/** validateCronJobSpec. */
function validateCronJobSpec(spec: Record<string, unknown>, oldSpec: Record<string, unknown> | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const schedule = str(spec['schedule']);
  if (schedule === '') errors.push(required('spec.schedule'));
  else {
    const error = cronScheduleError(schedule);
    if (error !== undefined) errors.push(invalid('spec.schedule', schedule, error));
    const allowTZ = oldSpec !== undefined && str(oldSpec['schedule']).includes('TZ');
    if (allowTZ && schedule.includes('TZ') && isSet(spec['timeZone'])) {
      errors.push(invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    } else if (!allowTZ && schedule.includes('TZ')) {
      errors.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
  }
  errors.push(...nonNegative(spec['startingDeadlineSeconds'], 'spec.startingDeadlineSeconds'));
  if (oldSpec === undefined || (oldSpec['timeZone'] ?? null) !== (spec['timeZone'] ?? null)) errors.push(...validateTimeZone(spec['timeZone'], 'spec.timeZone'));
  const policy = str(spec['concurrencyPolicy']);
  if (policy === '') errors.push(required('spec.concurrencyPolicy'));
  else if (!CONCURRENCY_POLICIES.includes(policy)) errors.push(notSupported('spec.concurrencyPolicy', policy, CONCURRENCY_POLICIES));
  // ValidateJobTemplateSpec: the selector is generated for each Job, never given.
  const jobSpec = obj(obj(spec['jobTemplate'])['spec']);
  const templatePath = child('spec', 'jobTemplate');
  errors.push(...validateJobSpecParts(jobSpec, child(templatePath, 'spec')));
  if (isSet(jobSpec['selector'])) errors.push(invalid(child(templatePath, 'spec', 'selector'), jobSpec['selector'], '`selector` will be auto-generated'));
  if (jobSpec['manualSelector'] === true) errors.push(notSupported(child(templatePath, 'spec', 'manualSelector'), true, ['nil', 'false']));
  errors.push(...nonNegative(spec['successfulJobsHistoryLimit'], 'spec.successfulJobsHistoryLimit'));
  errors.push(...nonNegative(spec['failedJobsHistoryLimit'], 'spec.failedJobsHistoryLimit'));
  return errors;
}

/** cronJobStrategy.Validate / ValidateUpdate. */
function validate(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors = validateCronJobSpec(obj(object.spec), old === undefined ? undefined : obj(old.spec));
  // The controller names each Job <cronjob>-<11 characters>; Job names are DNS labels.
  const name = metadataString(object, 'name');
  if (old === undefined && name.length > 52) errors.push(invalid('metadata.name', name, 'must be no more than 52 characters'));
  return errors;
}

const COLUMNS: readonly TableColumnDefinition[] = Object.freeze([
  NAME_COLUMN,
  column('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
  column(
    'Timezone',
    'string',
    'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones',
  ),
  column('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
  column('Active', 'integer', 'A list of pointers to currently running jobs.'),
  column('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
  AGE_COLUMN,
  CONTAINERS_COLUMN,
  IMAGES_COLUMN,
  JOB_SELECTOR_COLUMN,
]);

/** printBoolPtr: "True" or "False", "<unset>" for a nil pointer (the column is declared boolean; its cells are strings). */
function printBoolPtr(value: unknown): string {
  if (typeof value !== 'boolean') return '<unset>';
  return value ? 'True' : 'False';
}

/** printCronJob with Wide set. */
function cells(object: Record<string, unknown>, now: Date): unknown[] {
  const spec = obj(object['spec']);
  const status = obj(object['status']);
  const last = status['lastScheduleTime'];
  const timeZone = spec['timeZone'];
  const jobSpec = obj(obj(spec['jobTemplate'])['spec']);
  const [names, images] = containerCells(obj(jobSpec['template'])['spec']);
  return [
    nameOf(object),
    str(spec['schedule']),
    typeof timeZone === 'string' ? timeZone : '<none>',
    printBoolPtr(spec['suspend']),
    list(status['active']).length,
    typeof last === 'string' ? age(last, now) : '<none>',
    ageOf(object, now),
    names,
    images,
    formatLabelSelector(jobSpec['selector']),
  ];
}

export const CRON_JOB: KindDefinition = {
  source: 'builtin',
  group: 'batch',
  version: 'v1',
  resource: 'cronjobs',
  singular: 'cronjob',
  kind: 'CronJob',
  listKind: 'CronJobList',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { defaults, prepareForCreate, validate, generation: 'spec' },
  statusStrategy: {},
  printer: { columns: COLUMNS, cells },
  schema: 'io.k8s.api.batch.v1.CronJob',
};
