/**
 * ChangeSource.watchChanges for etcd: one etcd watch over every object key, with previous
 * values, from a given revision; each watch response becomes one batch of CommittedChanges.
 * With several etcd members, a watch whose member stops continues on another one.
 */
import type { Etcd3, IWatchResponse, WatchBuilder, Watcher } from 'etcd3';
import { StatusError } from '../../../lib/errors.ts';
import type { ChangeSubscription, CommittedChange } from '../api.ts';
import { storedChange } from '../core/history.ts';
import { REGISTRY_PREFIX } from '../core/keys.ts';
import { rawChange } from './etcd.ts';

/**
 * Creates the watch `builder` describes, resuming after a broken connection right after the
 * last event it delivered. etcd3 by itself resumes after the revision in the header of the last
 * response, which can be ahead of what was delivered: a "created" response names the member's
 * current revision while the changes from the start revision are still to come, and etcd sends
 * a watch that starts behind at most 1,000 revisions per response, each naming the current
 * revision. A connection that breaks then (a member stopping) would skip changes for good. A
 * response without events is a progress notification, which etcd sends only to a watch that
 * has caught up: its revision is a safe place to resume after.
 */
export async function createResumingWatch(builder: WatchBuilder): Promise<Watcher> {
  const watcher = builder.watcher();
  const request = watcher.request;
  let resumeAt = request.start_revision;
  // Added after etcd3's own listeners (the constructor's), so these have the last word.
  watcher.on('connected', () => {
    request.start_revision = resumeAt;
  });
  watcher.on('data', (response: IWatchResponse) => {
    const last = response.events[response.events.length - 1];
    resumeAt = String(Number(last === undefined ? response.header.revision : last.kv.mod_revision) + 1);
    request.start_revision = resumeAt;
  });
  // As WatchBuilder.create(): resolves once etcd has created it, rejects if it refused.
  await new Promise<void>((resolve, reject) => {
    const created = (): void => {
      watcher.off('error', refused);
      resolve();
    };
    const refused = (err: Error): void => {
      watcher.off('connected', created);
      reject(err);
    };
    watcher.once('connected', created);
    watcher.once('error', refused);
  });
  return watcher;
}

/**
 * Delivers every committed change under /registry/ after `fromRevision`, in revision order.
 * etcd3 reconnects a broken watch stream by itself (to any member) and resumes after the last
 * revision it delivered (createResumingWatch), so an outage shows as ServiceUnavailable followed by the missing changes; a start
 * revision that etcd has compacted ends the subscription with Expired.
 */
export async function watchEtcdChanges(
  client: Etcd3,
  fromRevision: string,
  onChanges: (changes: CommittedChange[]) => void,
  onError: (err: StatusError) => void,
): Promise<ChangeSubscription> {
  const watcher = await createResumingWatch(
    client
      .watch()
      .prefix(REGISTRY_PREFIX)
      .withPreviousKV()
      .startRevision(String(Number(fromRevision) + 1)),
  );
  watcher.on('data', (response: IWatchResponse) => {
    const changes: CommittedChange[] = [];
    for (const event of response.events) {
      const change = storedChange(rawChange(event));
      if (change !== undefined) changes.push(change);
    }
    if (changes.length > 0) onChanges(changes);
  });
  watcher.on('error', (err: Error) => {
    // etcd3 reports a compacted start as a cancelled watcher without the revision.
    if (/compact|cancel/i.test(err.message)) onError(new StatusError('Expired', `too old resource version: ${fromRevision}`));
    else onError(new StatusError('ServiceUnavailable', 'storage is unavailable: the etcd watch broke'));
  });
  watcher.on('disconnected', () => onError(new StatusError('ServiceUnavailable', 'storage is unavailable: the etcd watch is reconnecting')));
  return { close: () => watcher.cancel() };
}
