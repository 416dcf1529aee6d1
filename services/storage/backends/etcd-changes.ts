/**
 * ChangeSource.watchChanges for etcd: one etcd watch over every object key, with previous
 * values, from a given revision; each watch response becomes one batch of CommittedChanges.
 */
import type { Etcd3, IWatchResponse } from 'etcd3';
import { StatusError } from '../../../lib/errors.ts';
import type { ChangeSubscription, CommittedChange } from '../api.ts';
import { storedChange } from '../core/history.ts';
import { REGISTRY_PREFIX } from '../core/keys.ts';
import { rawChange } from './etcd.ts';

/**
 * Delivers every committed change under /registry/ after `fromRevision`, in revision order.
 * etcd3 reconnects a broken watch stream by itself and resumes after the last revision it
 * delivered, so an outage shows as ServiceUnavailable followed by the missing changes; a start
 * revision that etcd has compacted ends the subscription with Expired.
 */
export async function watchEtcdChanges(
  client: Etcd3,
  fromRevision: string,
  onChanges: (changes: CommittedChange[]) => void,
  onError: (err: StatusError) => void,
): Promise<ChangeSubscription> {
  const watcher = await client
    .watch()
    .prefix(REGISTRY_PREFIX)
    .withPreviousKV()
    .startRevision(String(Number(fromRevision) + 1))
    .create();
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
