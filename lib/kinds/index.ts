/** The kinds of the control plane: definitions, the live registry, and the built-in kinds. */
import { BUILTIN_KINDS } from './builtin/index.ts';
import { KindRegistry } from './registry.ts';

export { BUILTIN_KINDS } from './builtin/index.ts';
export { KindRegistry, type KindChange, type KindListener } from './registry.ts';
export * from './types.ts';

/** A registry holding the built-in kinds (each process has its own; custom kinds are added to it as they appear). */
export function builtinRegistry(): KindRegistry {
  return new KindRegistry(BUILTIN_KINDS);
}
