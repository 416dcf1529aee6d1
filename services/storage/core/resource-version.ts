/**
 * resourceVersion arguments as kube-apiserver's storage reads them: an object's own
 * (APIObjectVersioner) and the "not older than" wait. Request arguments (get, list, watch) are
 * parsed by lib/list-options.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StatusError } from '../../../lib/errors.ts';
import { parseUint64 } from '../../../lib/go-strconv.ts';
import { tooLargeResourceVersion } from './storage-errors.ts';

/**
 * The resourceVersion of an object being updated (APIObjectVersioner.ObjectResourceVersion):
 * 0 when unset. kube returns the parse error unwrapped, which its handler serves as a 500.
 */
export function objectResourceVersion(rv: string | undefined): bigint {
  if (rv === undefined || rv === '') return 0n;
  const parsed = parseUint64(rv);
  if ('error' in parsed) throw new StatusError('InternalError', parsed.error);
  return parsed.value;
}

/** Default wait for a resourceVersion the store has not reached yet: kube's watch cache waits 3 s. */
export const DEFAULT_TOO_LARGE_RESOURCE_VERSION_WAIT_MS = 3_000;

const POLL_MS = 25;

/**
 * Resolves with the store's revision once it is at least `minimum`. A store that does not get
 * there within `timeoutMs` is answered as kube does: 504 "Too large resource version". Waiting
 * briefly, as kube's watch cache does, lets a client that read a revision from a faster path
 * (another replica, the watch stream) use it right away.
 */
export async function waitForRevision(
  minimum: bigint,
  current: () => Promise<number>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const revision = await current();
    if (BigInt(revision) >= minimum) return revision;
    const left = deadline - Date.now();
    if (left <= 0) throw tooLargeResourceVersion(minimum, revision);
    try {
      await sleep(Math.min(POLL_MS, left), undefined, signal === undefined ? undefined : { signal });
    } catch {
      // The caller gave up (its deadline passed or it went away), as the gRPC layer words it.
      throw new StatusError('Timeout', 'request did not complete within requested timeout');
    }
  }
}
