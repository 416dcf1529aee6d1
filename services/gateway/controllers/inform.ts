/**
 * The informer loop of the controllers that follow one cluster-scoped resource (a reduced
 * client-go reflector): a watch from resourceVersion "" whose initial events are the list,
 * watched again from the last resourceVersion seen when it ends, from "" again after an ERROR
 * event (the revision was compacted, 410), and after a pause when it failed.
 */
import type { InformerEvent, WatchSource } from '../../../lib/informer.ts';
import { parseObjectBytes, type KubeObject } from '../../../lib/kube.ts';
import type { KindDefinition } from '../../../lib/kinds/index.ts';
import { sleep, type ControllerContext } from './types.ts';

export interface InformOptions {
  /** What is watched, as the warning of a failed watch names it ("namespace"). */
  what: string;
  /** Wait before watching again after a watch failed. */
  retryMs: number;
}

/**
 * Calls `handle` with every ADDED, MODIFIED and DELETED event of `info`'s objects (bookmarks
 * only move the resourceVersion on) until `signal` aborts; resolves then. A handler that throws
 * ends the watch as a failure would.
 */
export async function inform(ctx: ControllerContext, info: KindDefinition, options: InformOptions, signal: AbortSignal, handle: (type: string, object: KubeObject) => void): Promise<void> {
  let resourceVersion = '';
  while (!signal.aborted) {
    try {
      // From "" the watch starts with every object (ADDED), as an informer's list.
      const events = await ctx.pipeline.watch(ctx.user, { info, namespace: '', name: '' }, { resourceVersion, allowWatchBookmarks: true }, signal);
      for await (const event of events) {
        if (event.type === 'ERROR') {
          // Too old a revision (410): start again from a full list.
          resourceVersion = '';
          break;
        }
        if (event.resourceVersion !== '') resourceVersion = event.resourceVersion;
        if (event.type === 'BOOKMARK') continue;
        handle(event.type, parseObjectBytes(event.object));
      }
    } catch (err) {
      if (signal.aborted) break;
      ctx.logger.warn(`${options.what} watch ended; watching again`, { error: err });
      await sleep(options.retryMs, signal);
    }
  }
}

/**
 * `info`'s objects as lib/informer.ts watches them, through the pipeline as the controller's
 * user (authorized as any client's watch): for the controllers that keep what they follow and
 * so need the informer's whole lists after a 410 (its `replace`).
 */
export function pipelineWatchSource(ctx: ControllerContext, info: KindDefinition): WatchSource {
  return {
    async *watch(target, options, signal): AsyncIterable<InformerEvent> {
      yield* await ctx.pipeline.watch(ctx.user, { info, namespace: target.namespace, name: '' }, options, signal);
    },
  };
}
