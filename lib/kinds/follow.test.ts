import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../errors.ts';
import type { KubeObject } from '../kube.ts';
import { createLogger } from '../log.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { CUSTOM_RESOURCE_DEFINITION } from './builtin/customresourcedefinition.ts';
import { DEFINITIONS_REF, DefinitionFollower, storedDefinitions, type DefinitionEvent, type DefinitionSource } from './follow.ts';
import { builtinRegistry, type KindRegistry } from './index.ts';

const logger = createLogger({ service: 'test', level: 'error' });

function crd(plural: string, versions: string[] = ['v1'], resourceVersion?: string): KubeObject {
  const kind = plural[0]?.toUpperCase() + plural.slice(1, -1);
  const object: KubeObject = {
    metadata: { name: `${plural}.example.com`, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural, kind },
      versions: versions.map((name, i) => ({ name, served: true, storage: i === 0, schema: { openAPIV3Schema: { type: 'object' } } })),
    },
  };
  return CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(object) ?? object;
}

/** Resolves when `registry` serves exactly `resources` (custom ones, as "resource/version"); bounded. */
function serving(registry: KindRegistry, resources: string[], ms = 5_000): Promise<void> {
  const now = () => registry.all.filter((k) => k.source === 'custom').map((k) => `${k.resource}/${k.version}`).sort();
  const wanted = [...resources].sort();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (JSON.stringify(now()) !== JSON.stringify(wanted)) return false;
      unsubscribe();
      clearTimeout(timer);
      resolve();
      return true;
    };
    const unsubscribe = registry.subscribe(() => void check());
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`registry serves ${JSON.stringify(now())}, not ${JSON.stringify(wanted)}`));
    }, ms);
    check();
  });
}

test('follows a store: listed definitions, then created, changed and deleted ones', async () => {
  const storage = new MemoryStorage();
  const ref = (name: string) => ({ ...DEFINITIONS_REF, name });
  await storage.create(ref('gadgets.example.com'), crd('gadgets'));
  const registry = builtinRegistry();
  const follower = new DefinitionFollower({ registry, source: storedDefinitions(storage, (from, on, err) => storage.watchChanges(from, on, err)), logger });
  try {
    await follower.ready;
    assert.deepEqual(registry.all.filter((k) => k.source === 'custom').map((k) => k.resource), ['gadgets']);

    await storage.create(ref('widgets.example.com'), crd('widgets', ['v1', 'v2']));
    await serving(registry, ['gadgets/v1', 'widgets/v1', 'widgets/v2']);

    const current = await storage.get(ref('widgets.example.com'));
    await storage.update(ref('widgets.example.com'), { ...crd('widgets', ['v2']), metadata: current.metadata });
    await serving(registry, ['gadgets/v1', 'widgets/v2']);

    // A delete marks a definition (its cleanup finalizer): its kinds stay, terminating, until it goes.
    const marked = await storage.delete(ref('gadgets.example.com'));
    assert.equal(marked.pending, true);
    await new Promise<void>((resolve) => {
      const check = () => registry.get('example.com', 'v1', 'gadgets')?.terminating === true;
      if (check()) return resolve();
      const unsubscribe = registry.subscribe(() => check() && (unsubscribe(), resolve()));
    });
    await storage.update(ref('gadgets.example.com'), { ...marked.object, metadata: { ...marked.object.metadata, finalizers: [] } });
    await serving(registry, ['widgets/v2']);
    assert.ok(registry.get('', 'v1', 'configmaps') !== undefined, 'built-in kinds stay');
  } finally {
    await follower.stop();
  }
});

/** A source whose list answers from `items` and whose watches the test feeds and ends. */
class ScriptedSource implements DefinitionSource {
  items: KubeObject[] = [];
  lists = 0;
  failLists = 0;
  private feed: { push(e: DefinitionEvent): void; end(err?: Error): void } | undefined;
  private watching: (() => void) | undefined;

  async list(): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    this.lists++;
    if (this.failLists > 0) {
      this.failLists--;
      throw new StatusError('ServiceUnavailable', 'storage is away');
    }
    return { items: [...this.items], resourceVersion: '1' };
  }

  async *watch(_rv: string, signal: AbortSignal): AsyncGenerator<DefinitionEvent> {
    const queue: DefinitionEvent[] = [];
    let ended: { err?: Error } | undefined;
    let wake: (() => void) | undefined;
    this.feed = {
      push: (e) => {
        queue.push(e);
        wake?.();
      },
      end: (err) => {
        ended = { err };
        wake?.();
      },
    };
    signal.addEventListener('abort', () => this.feed?.end(), { once: true });
    this.watching?.();
    for (;;) {
      while (queue.length > 0) yield queue.shift() as DefinitionEvent;
      if (ended !== undefined) {
        if (ended.err !== undefined) throw ended.err;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  /** Resolves when a watch is open (the one open now, or the next). */
  watchOpen(): Promise<void> {
    if (this.feed !== undefined) return Promise.resolve();
    return new Promise((resolve) => (this.watching = resolve));
  }

  push(e: DefinitionEvent): void {
    this.feed?.push(e);
  }

  end(err?: Error): void {
    const feed = this.feed;
    this.feed = undefined;
    feed?.end(err);
  }
}

test('after a watch fails it lists again (with backoff) and removes what vanished meanwhile', async () => {
  const source = new ScriptedSource();
  source.items = [crd('gadgets', ['v1'], '5'), crd('widgets', ['v1'], '6')];
  const registry = builtinRegistry();
  const follower = new DefinitionFollower({ registry, source, logger, initialBackoffMs: 5, maxBackoffMs: 20 });
  try {
    await follower.ready;
    await source.watchOpen();
    assert.equal(source.lists, 1);
    await serving(registry, ['gadgets/v1', 'widgets/v1']);

    // An ADDED event puts; an unchanged resourceVersion is not put again.
    let changes = 0;
    const unsubscribe = registry.subscribe(() => changes++);
    source.push({ type: 'MODIFIED', object: crd('widgets', ['v1'], '6') });
    source.push({ type: 'ADDED', object: crd('sprockets', ['v1'], '7') });
    await serving(registry, ['gadgets/v1', 'sprockets/v1', 'widgets/v1']);
    assert.equal(changes, 1);
    unsubscribe();

    // The watch fails; meanwhile widgets went (its DELETED lost), and two lists fail too.
    source.items = [crd('gadgets', ['v1'], '5'), crd('sprockets', ['v1'], '7')];
    source.failLists = 2;
    source.end(new StatusError('ServiceUnavailable', 'the watch replica went away'));
    await serving(registry, ['gadgets/v1', 'sprockets/v1']);
    assert.equal(source.lists, 4, 'two failed lists, then one that answered');

    // A watch that ends cleanly is followed by a list too; an ERROR event ends a watch.
    await source.watchOpen();
    source.items = [crd('gadgets', ['v1'], '5')];
    source.push({ type: 'ERROR', object: { message: 'too old resource version' } });
    await serving(registry, ['gadgets/v1']);
    await source.watchOpen();
    source.push({ type: 'DELETED', object: crd('gadgets', ['v1'], '9') });
    await serving(registry, []);
  } finally {
    await follower.stop();
  }
});

test('a definition that would replace a built-in kind is skipped; the follower carries on', async () => {
  const source = new ScriptedSource();
  const clash = crd('customresourcedefinitions');
  (clash.spec as { group: string }).group = 'apiextensions.k8s.io';
  source.items = [clash, crd('widgets')];
  const registry = builtinRegistry();
  const follower = new DefinitionFollower({ registry, source, logger });
  try {
    await follower.ready;
    assert.equal(registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')?.source, 'builtin');
    await serving(registry, ['widgets/v1']);
  } finally {
    await follower.stop();
  }
});

test('a definition that would take a built-in schema name, or share a built-in resource in another version, is skipped', async () => {
  const source = new ScriptedSource();
  const objectMeta = crd('objectmetas');
  Object.assign(objectMeta.spec as object, { group: 'meta.apis.pkg.apimachinery.k8s.io', names: { plural: 'objectmetas', kind: 'ObjectMeta' } });
  const crdV2 = crd('customresourcedefinitions', ['v2']);
  Object.assign(crdV2.spec as object, { group: 'apiextensions.k8s.io', names: { plural: 'customresourcedefinitions', kind: 'Definition' } });
  source.items = [objectMeta, crdV2, crd('widgets')];
  const registry = builtinRegistry();
  const follower = new DefinitionFollower({ registry, source, logger });
  try {
    await follower.ready;
    await serving(registry, ['widgets/v1']);
    assert.equal(registry.get('apiextensions.k8s.io', 'v2', 'customresourcedefinitions'), undefined);
  } finally {
    await follower.stop();
  }
});

test('a definition refused for a clash with another is served once that other goes', async () => {
  const source = new ScriptedSource();
  // Same group, version and kind under two plurals: both would publish com.example.v1.Widget.
  const first = crd('widgets', ['v1'], '5');
  const second = crd('gizmos', ['v1'], '6');
  Object.assign(second.spec as object, { names: { plural: 'gizmos', kind: 'Widget' } });
  source.items = [first, second];
  const registry = builtinRegistry();
  const follower = new DefinitionFollower({ registry, source, logger });
  try {
    await follower.ready;
    await source.watchOpen();
    await serving(registry, ['widgets/v1']);
    source.push({ type: 'DELETED', object: crd('widgets', ['v1'], '7') });
    await serving(registry, ['gizmos/v1']);
  } finally {
    await follower.stop();
  }
});

test('a definition written again serving the same (labels, annotations changed) changes nothing in the registry', async () => {
  const source = new ScriptedSource();
  source.items = [crd('widgets', ['v1', 'v2'], '5')];
  const registry = builtinRegistry();
  const follower = new DefinitionFollower({ registry, source, logger });
  try {
    await follower.ready;
    await source.watchOpen();
    await serving(registry, ['widgets/v1', 'widgets/v2']);
    const changes: string[] = [];
    const unsubscribe = registry.subscribe((c) => changes.push(`${c.type} ${c.kind.resource}/${c.kind.version}`));
    const before = registry.generation;
    const labelled = crd('widgets', ['v1', 'v2'], '6');
    labelled.metadata = { ...labelled.metadata, labels: { team: 'a' }, annotations: { note: 'x' } };
    source.push({ type: 'MODIFIED', object: labelled });
    // A real change of v2 follows: once it is seen, the label change before it was seen too.
    const columns = crd('widgets', ['v1', 'v2'], '7');
    const versions = (columns.spec as { versions: Record<string, unknown>[] }).versions;
    versions[1] = { ...versions[1], additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }] };
    source.push({ type: 'MODIFIED', object: columns });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no change of the registry within 5 s')), 5_000);
      const off = registry.subscribe(() => {
        off();
        clearTimeout(timer);
        resolve();
      });
    });
    unsubscribe();
    assert.deepEqual(changes, ['modified widgets/v2']);
    assert.equal(registry.generation, before + 1);
  } finally {
    await follower.stop();
  }
});
