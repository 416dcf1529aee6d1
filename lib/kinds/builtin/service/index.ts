/** The built-in kinds of this area, in discovery order: Service (core/v1), with its cluster IP and node port allocation. */
import type { KindDefinition } from '../../types.ts';
import { SERVICE } from './service.ts';

export const SERVICE_KINDS: readonly KindDefinition[] = Object.freeze([SERVICE]);
