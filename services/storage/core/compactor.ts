/**
 * Periodic compaction of the store's history, coordinated between storage replicas as
 * kube-apiserver does: each interval, every replica tries to claim the compaction through one
 * compare-and-swap on a shared record; the one that wins compacts the revision it saw one
 * interval earlier (so watchers always keep at least one interval of history), the others
 * adopt the record's new version and try again next interval.
 */
import type { Logger } from '../../../lib/log.ts';

export interface ClaimResult {
  /** True when this replica's compare-and-swap succeeded. */
  won: boolean;
  /** The record's version after the attempt. */
  version: number;
  /** The store's newest revision at the attempt. */
  currentRevision: number;
}

export interface CompactorOptions {
  /** Records `revision` as the next compaction if the record's version is still `version`. */
  claim(version: number, revision: number): Promise<ClaimResult>;
  /** Discards history up to and including `revision`. */
  compact(revision: number): Promise<void>;
  intervalMs: number;
  logger: Logger;
}

export interface Compactor {
  stop(): void;
}

/** One round: claim, compact when won; returns the state for the next round. */
export async function compactionRound(
  o: Pick<CompactorOptions, 'claim' | 'compact'>,
  state: { version: number; revision: number },
): Promise<{ version: number; revision: number; compacted: number | undefined }> {
  const result = await o.claim(state.version, state.revision);
  let compacted: number | undefined;
  if (result.won && state.revision > 0) {
    await o.compact(state.revision);
    compacted = state.revision;
  }
  return { version: result.version, revision: result.currentRevision, compacted };
}

export function startCompactor(o: CompactorOptions): Compactor {
  let state = { version: 0, revision: 0 };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      const next = await compactionRound(o, state);
      state = { version: next.version, revision: next.revision };
      if (next.compacted !== undefined) o.logger.info('compacted history', { revision: next.compacted });
    } catch (err) {
      // The next round retries; a failed round keeps the previous state.
      o.logger.warn('compaction round failed', { error: err });
    }
    if (!stopped) timer = setTimeout(() => void tick(), o.intervalMs);
  };
  timer = setTimeout(() => void tick(), o.intervalMs);
  return {
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
