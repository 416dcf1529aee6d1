/** The built-in kinds of this area, in discovery order: core/v1 kinds beside Pods and Services (Secret, ServiceAccount, Endpoints, Event, LimitRange, ResourceQuota, PersistentVolume, PersistentVolumeClaim), Lease and EndpointSlice. */
import type { KindDefinition } from '../../types.ts';
import { ENDPOINTS } from './endpoints.ts';
import { ENDPOINT_SLICE } from './endpointslice.ts';
import { EVENT } from './event.ts';
import { LEASE } from './lease.ts';
import { LIMIT_RANGE } from './limitrange.ts';
import { PERSISTENT_VOLUME } from './persistentvolume.ts';
import { PERSISTENT_VOLUME_CLAIM } from './persistentvolumeclaim.ts';
import { RESOURCE_QUOTA } from './resourcequota.ts';
import { SECRET } from './secret.ts';
import { SERVICE_ACCOUNT } from './serviceaccount.ts';

export const CORE_KINDS: readonly KindDefinition[] = Object.freeze([
  SECRET,
  SERVICE_ACCOUNT,
  ENDPOINTS,
  EVENT,
  LIMIT_RANGE,
  RESOURCE_QUOTA,
  PERSISTENT_VOLUME,
  PERSISTENT_VOLUME_CLAIM,
  LEASE,
  ENDPOINT_SLICE,
]);
