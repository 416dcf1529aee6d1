/**
 * The built-in kinds served as views of another kind's storage, in discovery order after the
 * kinds they view (so that the stored version is the group's preferred one).
 */
import type { KindDefinition } from '../../types.ts';
import { HORIZONTAL_POD_AUTOSCALER_V1 } from './autoscaling-v1.ts';
import { EVENTS_V1_EVENT } from './events-v1.ts';

export const VIEW_KINDS: readonly KindDefinition[] = Object.freeze([HORIZONTAL_POD_AUTOSCALER_V1, EVENTS_V1_EVENT]);
