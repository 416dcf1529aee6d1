/** The built-in kinds of this area, in discovery order: networking, policy, autoscaling, RBAC, storage and scheduling kinds. */
import type { KindDefinition } from '../../types.ts';

export const PLATFORM_KINDS: readonly KindDefinition[] = Object.freeze([]);
