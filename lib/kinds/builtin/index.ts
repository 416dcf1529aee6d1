/**
 * The built-in kinds, in discovery order. Adding one: its module here (identity, strategy,
 * printing; its schema comes from the generated data) and its tests.
 */
import type { KindDefinition } from '../types.ts';
import { CONFIG_MAP } from './configmap.ts';
import { CUSTOM_RESOURCE_DEFINITION } from './customresourcedefinition.ts';
import { NAMESPACE } from './namespace.ts';
import { NODE } from './node.ts';

export const BUILTIN_KINDS: readonly KindDefinition[] = Object.freeze([NAMESPACE, NODE, CONFIG_MAP, CUSTOM_RESOURCE_DEFINITION]);
