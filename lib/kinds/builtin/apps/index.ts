/** The built-in kinds of this area, in discovery order: apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet. */
import type { KindDefinition } from '../../types.ts';
import { DAEMON_SET } from './daemonset.ts';
import { DEPLOYMENT } from './deployment.ts';
import { REPLICA_SET } from './replicaset.ts';
import { STATEFUL_SET } from './statefulset.ts';

export const APPS_KINDS: readonly KindDefinition[] = Object.freeze([DEPLOYMENT, REPLICA_SET, STATEFUL_SET, DAEMON_SET]);
