/** The kinds of the control plane: definitions, the live registry, and the built-in kinds. */
import { BUILTIN_KINDS } from './builtin/index.ts';
import { KindRegistry } from './registry.ts';
import { SchemaSet } from './schemas.ts';

export { BUILTIN_KINDS } from './builtin/index.ts';
export { KindRegistry, type KindChange, type KindListener, type KindRegistryOptions } from './registry.ts';
export * from './types.ts';

/**
 * A registry holding the built-in kinds (each process has its own; custom kinds are added to it
 * as they appear), refusing custom kinds that would publish a generated schema's name.
 */
export function builtinRegistry(): KindRegistry {
  const schemas = new SchemaSet();
  return new KindRegistry(BUILTIN_KINDS, { isBuiltinDefinition: (name) => schemas.get(name) !== undefined });
}
