/** The informer loop over the watch service of an in-process control plane. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchedPipeline } from '../test/support/watched-pipeline.ts';
import { Informer } from './informer.ts';
import type { KubeObject } from './kube.ts';

const admin = { username: 'admin', uid: '', groups: ['system:masters'] };

function names(objects: KubeObject[]): string[] {
  return objects.map((o) => String((o.metadata as Record<string, unknown>).name)).sort();
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('informer: the list first (synced), then changes; a failing handler makes it list again', async () => {
  const plane = await watchedPipeline();
  const configmaps = (name = '') => plane.target('', 'v1', 'configmaps', 'default', name);
  await plane.pipeline.create(admin, configmaps(), { metadata: { name: 'a' } });
  await plane.pipeline.create(admin, configmaps(), { metadata: { name: 'b' } });
  const replaced: string[][] = [];
  const events: string[] = [];
  let failOnce = true;
  const informer = new Informer({
    source: plane.watcher,
    target: { group: '', version: 'v1', resource: 'configmaps', namespace: '' },
    logger: plane.logger,
    retryMs: 10,
    handlers: {
      replace: (objects) => replaced.push(names(objects)),
      event: (type, object) => {
        const name = String((object.metadata as Record<string, unknown>).name);
        if (name === 'boom' && failOnce) {
          failOnce = false;
          throw new Error('handler failed');
        }
        events.push(`${type} ${name}`);
      },
    },
  });
  try {
    assert.equal(informer.synced(), false);
    informer.start();
    await informer.whenSynced();
    assert.equal(informer.synced(), true);
    assert.deepEqual(replaced, [['a', 'b']]);
    await plane.pipeline.create(admin, configmaps(), { metadata: { name: 'c' } });
    await plane.pipeline.delete(admin, configmaps('a'));
    await until(() => events.length === 2, 5_000, 'two events');
    assert.deepEqual(events, ['ADDED c', 'DELETED a']);
    // The handler throws on this one: the informer lists again, and the list has it.
    await plane.pipeline.create(admin, configmaps(), { metadata: { name: 'boom' } });
    await until(() => replaced.length === 2, 5_000, 'a second list');
    assert.deepEqual(replaced[1], ['b', 'boom', 'c']);
    await plane.pipeline.create(admin, configmaps(), { metadata: { name: 'd' } });
    await until(() => events.includes('ADDED d'), 5_000, 'events after the relist');
  } finally {
    await informer.stop();
    await plane.close();
  }
});

test('informer: `project` is applied to every object before it is listed or handled', async () => {
  const plane = await watchedPipeline();
  const configmaps = (name = '') => plane.target('', 'v1', 'configmaps', 'default', name);
  await plane.pipeline.create(admin, configmaps(), { metadata: { name: 'a' }, data: { big: 'x'.repeat(1_000) } });
  const replaced: KubeObject[][] = [];
  const events: KubeObject[] = [];
  const informer = new Informer({
    source: plane.watcher,
    target: { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' },
    logger: plane.logger,
    project: (object) => ({ metadata: { name: object.metadata?.name } }),
    handlers: { replace: (objects) => replaced.push(objects), event: (_type, object) => events.push(object) },
  });
  try {
    informer.start();
    await informer.whenSynced();
    assert.deepEqual(replaced, [[{ metadata: { name: 'a' } }]]);
    await plane.pipeline.create(admin, configmaps(), { metadata: { name: 'b' }, data: { k: 'v' } });
    await until(() => events.length === 1, 5_000, 'an event');
    assert.deepEqual(events, [{ metadata: { name: 'b' } }]);
  } finally {
    await informer.stop();
    await plane.close();
  }
});
