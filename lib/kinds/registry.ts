/**
 * The live registry of kinds: built-in kinds at start, custom kinds added, changed and removed
 * while running. Consumers read it at request time (never copy it at start) and those that hold
 * per-kind state (watch subscriptions and caches, OpenAPI documents) follow its changes through
 * {@link KindRegistry.subscribe}.
 */
import { StatusError } from '../errors.ts';
import { DEFAULT_FIELDS, type SelectableFields } from '../selectors.ts';
import { apiVersionOf, resourceKey, type GenerationRule, type KindDefinition } from './types.ts';

/** One change of the registry, as listeners see it. */
export type KindChange =
  | { type: 'added'; kind: KindDefinition }
  | { type: 'modified'; kind: KindDefinition; previous: KindDefinition }
  | { type: 'removed'; kind: KindDefinition };

export type KindListener = (change: KindChange) => void;

export class KindRegistry {
  private readonly byKey = new Map<string, KindDefinition>();
  private readonly listeners = new Set<KindListener>();
  private changes = 0;

  constructor(kinds: readonly KindDefinition[] = []) {
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
   * Adds a kind. A resource already served is a Conflict (replace changes a kind); a custom
   * kind may not take the place of a built-in one.
   */
  add(kind: KindDefinition): void {
    const key = resourceKey(kind);
    if (this.byKey.has(key)) throw new StatusError('Conflict', `${kind.resource}.${kind.group || 'core'}/${kind.version} is already served`);
    this.byKey.set(key, kind);
    this.emit({ type: 'added', kind });
  }

  /** Adds the kind, or changes the one served under its group/version/resource. Built-in kinds stay as they are. */
  put(kind: KindDefinition): void {
    const key = resourceKey(kind);
    const previous = this.byKey.get(key);
    if (previous === undefined) {
      this.add(kind);
      return;
    }
    if (previous.source === 'builtin' && kind.source !== 'builtin') {
      throw new StatusError('Conflict', `${kind.resource}.${kind.group || 'core'}/${kind.version} is a built-in resource`);
    }
    if (previous === kind) return;
    this.byKey.set(key, kind);
    this.emit({ type: 'modified', kind, previous });
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
