/**
 * The last state this storage replica saw of recently written or read keys: a guess of the
 * current state that lets an update or a delete go straight to its compare-and-swap
 * transaction, without reading the key first (kube's GuaranteedUpdate uses its watch cache's
 * object the same way).
 *
 * A guess may be stale (another replica wrote the key, or a reply overtook another): the
 * transaction compares the mod revision, so a stale guess is never written over anything; it
 * costs one failed transaction, whose answer carries the current state. Callers never decide
 * an error (Conflict, a failed precondition, NotFound) on a guess alone.
 *
 * Bounded by entries and by characters of JSON, least recently used first out; a value above
 * MAX_ENTRY_CHARS is not kept. Touched only on the event loop.
 */
import type { KeyValue } from './kv.ts';

const MAX_ENTRY_CHARS = 64 * 1024;

export class RecentStates {
  private readonly entries = new Map<string, KeyValue>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(maxEntries = 10_000, maxChars = 32 * 1024 * 1024) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxChars;
  }

  get(key: string): KeyValue | undefined {
    const kv = this.entries.get(key);
    if (kv !== undefined) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, kv);
    }
    return kv;
  }

  /** Records a state read or written; never replaces a newer one with an older. */
  remember(kv: KeyValue): void {
    const known = this.entries.get(kv.key);
    if (known !== undefined) {
      if (known.modRevision > kv.modRevision) return;
      this.drop(kv.key, known);
    }
    if (kv.value.length > MAX_ENTRY_CHARS || this.maxEntries === 0) return;
    this.entries.set(kv.key, kv);
    this.bytes += kv.value.length;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.entries().next();
      if (oldest.done === true) break;
      this.drop(oldest.value[0], oldest.value[1]);
    }
  }

  /** Forgets a key deleted at `revision` (unless a newer state is known). */
  forget(key: string, revision: number): void {
    const known = this.entries.get(key);
    if (known !== undefined && known.modRevision <= revision) this.drop(key, known);
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(key: string, kv: KeyValue): void {
    this.entries.delete(key);
    this.bytes -= kv.value.length;
  }
}
