/**
 * Leader election among storage replicas on an etcd lease: exactly one replica at a time runs
 * the changefeed. A replica that dies loses its lease after the TTL and another is elected; a
 * replica whose lease cannot be kept alive (etcd unreachable) stops leading at once.
 */
import type { Campaign, Etcd3 } from 'etcd3';
import type { Logger } from '../../lib/log.ts';

export interface LeaderElectionOptions {
  etcd: Etcd3;
  /** The election's name (its etcd key prefix). */
  name: string;
  /** Lease TTL in seconds: how long a dead leader blocks a new one. */
  ttlSeconds: number;
  /** This replica's identity, announced as the leader value. */
  identity: string;
  logger: Logger;
  /** Called when this replica becomes the leader. */
  lead: () => Promise<void>;
  /** Called when it stops being the leader (lease lost, or stopping). */
  abdicate: () => Promise<void>;
}

export interface LeaderElection {
  /** Asks to be elected again (e.g. after the led task stopped by itself). */
  recampaign(): void;
  /** Resigns (if leading) and stops campaigning. */
  stop(): Promise<void>;
}

export function startLeaderElection(o: LeaderElectionOptions): LeaderElection {
  const election = o.etcd.election(o.name, o.ttlSeconds);
  let campaign: Campaign | undefined;
  let leading = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const stepDown = async (): Promise<void> => {
    if (!leading) return;
    leading = false;
    await o.abdicate().catch((err: unknown) => o.logger.error('stepping down failed', { error: err }));
  };

  const run = (): void => {
    if (stopped) return;
    const c = election.campaign(o.identity);
    campaign = c;
    c.on('elected', () => {
      if (stopped || campaign !== c) return;
      leading = true;
      o.logger.info('elected changefeed leader', { identity: o.identity });
      o.lead().catch((err: unknown) => {
        o.logger.error('leading failed; resigning', { error: err });
        void restart();
      });
    });
    c.on('error', (err: Error) => {
      if (campaign !== c) return;
      o.logger.warn('leader election lease lost; campaigning again', { error: err });
      void restart();
    });
  };

  const restart = async (): Promise<void> => {
    const c = campaign;
    campaign = undefined;
    await stepDown();
    await c?.resign().catch(() => {});
    if (stopped) return;
    retry = setTimeout(run, 1_000);
  };

  run();
  return {
    recampaign: () => void restart(),
    stop: async () => {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      const c = campaign;
      campaign = undefined;
      await stepDown();
      await c?.resign().catch(() => {});
    },
  };
}
