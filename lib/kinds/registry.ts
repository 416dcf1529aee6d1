/**
 * The live registry of kinds: built-in kinds at start, custom kinds added, changed and removed
 * while running. Consumers read it at request time (never copy it at start) and those that hold
 * per-kind state (watch subscriptions and caches, OpenAPI documents) follow its changes through
 * {@link KindRegistry.subscribe}.
 */
import { StatusError } from '../errors.ts';
import { DEFAULT_FIELDS, type SelectableFields } from '../selectors.ts';
import { apiVersionOf, listDefinitionName, resourceKey, type GenerationRule, type KindDefinition, type KindDeletion } from './types.ts';

/** One change of the registry, as listeners see it. */
export type KindChange =
  | { type: 'added'; kind: KindDefinition }
  | { type: 'modified'; kind: KindDefinition; previous: KindDefinition }
  | { type: 'removed'; kind: KindDefinition };

export type KindListener = (change: KindChange) => void;

export interface KindRegistryOptions {
  /**
   * Whether an OpenAPI definition of that name is one of the generated (built-in) schemas: a
   * custom kind whose schema or list would take such a name is refused. Every replica must
   * answer alike (they read the same committed schemas), so that all serve the same kinds.
   */
  isBuiltinDefinition?: (name: string) => boolean;
}

/** `resource.group/version` as messages name a resource. */
function qualified(kind: KindDefinition): string {
  return `${kind.resource}.${kind.group || 'core'}/${kind.version}`;
}

/** The OpenAPI definition names a kind publishes: its schema and its list. */
function definitionNames(kind: KindDefinition): string[] {
  return [kind.schema, listDefinitionName(kind)];
}

export class KindRegistry {
  private readonly byKey = new Map<string, KindDefinition>();
  private readonly listeners = new Set<KindListener>();
  private readonly isBuiltinDefinition: (name: string) => boolean;
  private changes = 0;

  constructor(kinds: readonly KindDefinition[] = [], options: KindRegistryOptions = {}) {
    this.isBuiltinDefinition = options.isBuiltinDefinition ?? (() => false);
    for (const kind of kinds) this.add(kind);
    this.changes = 0;
  }

  /** Every kind served now, in registration order (built-in kinds first). */
  get all(): readonly KindDefinition[] {
    return [...this.byKey.values()];
  }

  /**
   * A number that changes with every change of the registry (never repeats within a process):
   * what documents derived from the registry (discovery, OpenAPI) key their caches and ETags on.
   */
  get generation(): number {
    return this.changes;
  }

  get(group: string, version: string, resource: string): KindDefinition | undefined {
    return this.byKey.get(`${group}/${version}/${resource}`);
  }

  /** The kind of `apiVersion` and `kind` (e.g. "apps/v1", "Deployment"). */
  byKind(apiVersion: string, kind: string): KindDefinition | undefined {
    for (const k of this.byKey.values()) if (k.kind === kind && apiVersionOf(k) === apiVersion) return k;
    return undefined;
  }

  /** Whether any version of `group`/`resource` is served (storage keys and watch channels carry no version). */
  hasResource(group: string, resource: string): boolean {
    for (const k of this.byKey.values()) if (k.group === group && k.resource === resource) return true;
    return false;
  }

  /**
   * The fields `group`/`resource` can be selected by (storage and watch caches hold resources
   * without a version): its kind's, or metadata.name and metadata.namespace for a resource no
   * kind serves.
   */
  selectableFields(group: string, resource: string): SelectableFields {
    for (const k of this.byKey.values()) if (k.group === group && k.resource === resource) return k.selectableFields;
    return DEFAULT_FIELDS;
  }

  /**
   * How `group`/`resource` raises metadata.generation (see GenerationRule): its kind's rule, or
   * 'allButMetadataAndStatus' for a resource no kind serves.
   */
  generationRule(group: string, resource: string): GenerationRule {
    for (const k of this.byKey.values()) if (k.group === group && k.resource === resource) return k.strategy.generation;
    return 'allButMetadataAndStatus';
  }

  /** What a delete of `group`/`resource` does beyond what every kind shares (its kind's KindDeletion), if anything. */
  deletionStrategy(group: string, resource: string): KindDeletion | undefined {
    for (const k of this.byKey.values()) if (k.group === group && k.resource === resource) return k.deletion;
    return undefined;
  }

  /** Group versions served, in discovery order (the order their first kind was added). */
  groupVersions(): { group: string; version: string }[] {
    const seen = new Map<string, { group: string; version: string }>();
    for (const r of this.byKey.values()) {
      const key = `${r.group}/${r.version}`;
      if (!seen.has(key)) seen.set(key, { group: r.group, version: r.version });
    }
    return [...seen.values()];
  }

  /**
   * Adds a kind. A resource already served is a Conflict (replace changes a kind); so is a
   * custom kind that would share what another kind has (see {@link KindRegistry.put}).
   */
  add(kind: KindDefinition): void {
    const key = resourceKey(kind);
    if (this.byKey.has(key)) throw new StatusError('Conflict', `${qualified(kind)} is already served`);
    this.refuseClash(kind);
    this.byKey.set(key, kind);
    this.emit({ type: 'added', kind });
  }

  /**
   * Adds the kind, or changes the one served under its group/version/resource; a kind with the
   * fingerprint of the one served is no change (nothing is announced). Built-in kinds stay as
   * they are. A custom kind is a Conflict when a built-in kind serves its group and
   * resource in any version (storage keys carry no version: it would share their objects),
   * when a kind of another definition serves them, or when its schema or list would publish an
   * OpenAPI definition name that is a built-in one or another kind's.
   */
  put(kind: KindDefinition): void {
    const key = resourceKey(kind);
    const previous = this.byKey.get(key);
    if (previous === undefined) {
      this.add(kind);
      return;
    }
    if (previous.source === 'builtin' && kind.source !== 'builtin') {
      throw new StatusError('Conflict', `${qualified(kind)} is a built-in resource`);
    }
    // The same kind, or one serving the same (a definition's label or status changed): no change.
    if (previous === kind || (kind.fingerprint !== undefined && kind.fingerprint === previous.fingerprint)) return;
    this.refuseClash(kind);
    this.byKey.set(key, kind);
    this.emit({ type: 'modified', kind, previous });
  }

  /** Throws Conflict when custom `kind` would share a resource or an OpenAPI definition name with another kind. */
  private refuseClash(kind: KindDefinition): void {
    if (kind.source === 'builtin') return;
    const key = resourceKey(kind);
    const names = definitionNames(kind);
    for (const name of names) {
      if (this.isBuiltinDefinition(name)) throw new StatusError('Conflict', `${qualified(kind)} would publish the built-in OpenAPI definition ${name}`);
    }
    for (const other of this.byKey.values()) {
      // The kind it replaces (put) shares everything with it by right.
      if (resourceKey(other) === key) continue;
      if (other.group === kind.group && other.resource === kind.resource) {
        if (other.source === 'builtin') throw new StatusError('Conflict', `${kind.resource}.${kind.group || 'core'} is a built-in resource (served as ${qualified(other)})`);
        if (other.origin !== kind.origin) {
          throw new StatusError('Conflict', `${kind.resource}.${kind.group} is served by another definition (${other.origin ?? qualified(other)})`);
        }
      }
      const theirs = definitionNames(other);
      const shared = names.find((name) => theirs.includes(name));
      if (shared !== undefined) throw new StatusError('Conflict', `${qualified(kind)} would publish the OpenAPI definition ${shared} of ${qualified(other)}`);
    }
  }

  /** Removes a kind; false when it was not served. */
  remove(group: string, version: string, resource: string): boolean {
    const key = `${group}/${version}/${resource}`;
    const kind = this.byKey.get(key);
    if (kind === undefined) return false;
    this.byKey.delete(key);
    this.emit({ type: 'removed', kind });
    return true;
  }

  /** Calls `listener` on every change from now on; returns the unsubscribe function. */
  subscribe(listener: KindListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: KindChange): void {
    this.changes++;
    // A listener that throws must not stop the others, nor the change itself.
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // Listeners log their own failures; the registry has no logger of its own.
      }
    }
  }
}
