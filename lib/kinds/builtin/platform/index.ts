/**
 * The built-in kinds of this area, in discovery order (groups as kube lists them: autoscaling,
 * networking, policy, RBAC, storage, scheduling, flowcontrol; resources by name within a group).
 */
import type { KindDefinition } from '../../types.ts';
import { HORIZONTAL_POD_AUTOSCALER } from './autoscaling.ts';
import { FLOW_SCHEMA, PRIORITY_LEVEL_CONFIGURATION } from './flowcontrol.ts';
import { INGRESS, INGRESS_CLASS, NETWORK_POLICY } from './networking.ts';
import { POD_DISRUPTION_BUDGET } from './policy.ts';
import { CLUSTER_ROLE, CLUSTER_ROLE_BINDING, ROLE, ROLE_BINDING } from './rbac.ts';
import { PRIORITY_CLASS } from './scheduling.ts';
import { STORAGE_CLASS } from './storage.ts';

export const PLATFORM_KINDS: readonly KindDefinition[] = Object.freeze([
  HORIZONTAL_POD_AUTOSCALER,
  INGRESS_CLASS,
  INGRESS,
  NETWORK_POLICY,
  POD_DISRUPTION_BUDGET,
  CLUSTER_ROLE_BINDING,
  CLUSTER_ROLE,
  ROLE_BINDING,
  ROLE,
  STORAGE_CLASS,
  PRIORITY_CLASS,
  FLOW_SCHEMA,
  PRIORITY_LEVEL_CONFIGURATION,
]);
