/**
 * Ids of the calls or watches multiplexed over one stream: uint32, never 0, unique among
 * those in flight on it (CallRequest in proto/apiserver/v1/meta.proto, WatchOpen in
 * watch.proto). Handed out in turn, wrapping around past 2^32-1, so an id is reused only
 * long after its call ended.
 */

/** The largest id: ids are uint32. */
export const MAX_STREAM_ID = 0xffff_ffff;

/** The ids in flight on a stream, e.g. the keys of a Map. */
export interface StreamIds {
  has(id: number): boolean;
  readonly size: number;
}

/**
 * The first id after `last` (0 before the first) that `inUse` does not hold, wrapping
 * around from MAX_STREAM_ID to 1. `inUse` holds only ids this returned. Throws when every
 * id is in use (a Map cannot hold that many entries).
 */
export function nextFreeId(last: number, inUse: StreamIds): number {
  if (inUse.size >= MAX_STREAM_ID) throw new RangeError('every stream id is in use');
  let id = last;
  do id = id >= MAX_STREAM_ID ? 1 : id + 1;
  while (inUse.has(id));
  return id;
}
