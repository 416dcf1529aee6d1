/**
 * The built-in kinds, in discovery order. Adding one: its module in its area's directory
 * (identity, strategy, printing; its schema comes from the generated data), one line in that
 * area's index.ts, and its tests.
 */
import type { KindDefinition } from '../types.ts';
import { APPS_KINDS } from './apps/index.ts';
import { CONFIG_MAP } from './configmap.ts';
import { CORE_KINDS } from './core/index.ts';
import { CUSTOM_RESOURCE_DEFINITION } from './customresourcedefinition.ts';
import { NAMESPACE } from './namespace.ts';
import { NODE } from './node.ts';
import { PLATFORM_KINDS } from './platform/index.ts';
import { SERVICE_KINDS } from './service/index.ts';
import { VIEW_KINDS } from './views/index.ts';
import { WORKLOAD_KINDS } from './workloads/index.ts';

export const BUILTIN_KINDS: readonly KindDefinition[] = Object.freeze([
  NAMESPACE,
  NODE,
  CONFIG_MAP,
  ...CORE_KINDS,
  ...SERVICE_KINDS,
  ...WORKLOAD_KINDS,
  ...APPS_KINDS,
  ...PLATFORM_KINDS,
  ...VIEW_KINDS,
  CUSTOM_RESOURCE_DEFINITION,
]);
