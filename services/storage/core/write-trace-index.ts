/**
 * Which trace is writing which key, so the changefeed can stamp each published event with the
 * traceparent of the write that caused it (a watch delivery links back to its request).
 *
 * Entries are made before the etcd call, because etcd's watch may deliver the event before the
 * writer sees its own reply; the changefeed takes the entry when the key's event arrives. The
 * map is bounded (oldest first out): a key whose entry was dropped, or that another replica
 * wrote, is published without a traceparent.
 */
import { isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';

const noop = (): void => {};

export class WriteTraceIndex {
  /** key -> traceparent of the write in flight; guarded by the event loop. */
  private readonly entries = new Map<string, string>();
  private readonly capacity: number;

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  /** Records the active span as the writer of `key`; returns a function that forgets it. */
  begin(key: string): () => void {
    const sc = trace.getActiveSpan()?.spanContext();
    // A write outside any trace has nothing to link to.
    if (sc === undefined || !isSpanContextValid(sc)) return noop;
    const flags = (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00';
    const value = `00-${sc.traceId}-${sc.spanId}-${flags}`;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return () => {
      if (this.entries.get(key) === value) this.entries.delete(key);
    };
  }

  /** The traceparent of the write of `key` in flight, removing it (each change is published once). */
  take(key: string): string | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) this.entries.delete(key);
    return value;
  }
}
