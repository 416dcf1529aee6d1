/** The built-in kinds of this area, in discovery order: core/v1 kinds beside Pods and Services (Secret, ServiceAccount, Endpoints, Event, LimitRange, ResourceQuota, PersistentVolume, PersistentVolumeClaim), Lease and EndpointSlice. */
import type { KindDefinition } from '../../types.ts';

export const CORE_KINDS: readonly KindDefinition[] = Object.freeze([]);
