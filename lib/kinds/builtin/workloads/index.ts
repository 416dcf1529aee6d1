/** The built-in kinds of this area, in discovery order: Pod, Job and CronJob (core/v1, batch/v1), with the PodSpec they share. */
import type { KindDefinition } from '../../types.ts';
import { CRON_JOB } from './cronjob.ts';
import { JOB } from './job.ts';
import { POD } from './pod.ts';

export const WORKLOAD_KINDS: readonly KindDefinition[] = Object.freeze([POD, JOB, CRON_JOB]);
