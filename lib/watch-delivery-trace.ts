/**
 * Bounded delivery spans of one watch stream. A watch stream may carry thousands of events to
 * thousands of watchers; a span per event per watcher would cost more than the delivery itself
 * and flood the trace store. So each stream (a watch service WatchStream, a gateway REST or
 * typed gRPC watch) makes a span for its first live event that came from a sampled write, and
 * then at most one per interval (OTEL_TRACES_WATCH_DELIVERY_INTERVAL, default 10 s). The span
 * is a child of the watch's own request span, is linked to the write's trace (the traceparent
 * the change event carries), and counts the events it stands for: every live event of the
 * stream since the previous span, itself included (k8s.watch.events).
 *
 * Callers create one only when telemetry is enabled, so a process without tracing does nothing
 * per event; with tracing on, an event that makes no span costs a counter and a clock read.
 */
import { context, SpanKind, TraceFlags, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import type { Telemetry } from './tracing.ts';

/** Attribute: how many live events of the stream the delivery span stands for. */
export const ATTR_WATCH_EVENTS = 'k8s.watch.events';

export class WatchDeliverySpans {
  private readonly telemetry: Telemetry;
  private readonly name: string;
  private readonly attributes: Attributes;
  private readonly parent: Context;
  private readonly intervalMs: number;
  /** Live events since the last span (event loop only). */
  private counted = 0;
  /** When the last span started (ms since the epoch); undefined before the first. */
  private last: number | undefined;

  /**
   * `name`: the spans' name; `attributes`: what every span of the stream carries (resource,
   * namespace); `parent`: the watch request's context (default: the active one), unless a
   * call of event() names another.
   */
  constructor(telemetry: Telemetry, name: string, attributes: Attributes, parent: Context = context.active()) {
    this.telemetry = telemetry;
    this.name = name;
    this.attributes = attributes;
    this.parent = parent;
    this.intervalMs = telemetry.watchDeliveryIntervalMs;
  }

  /**
   * Counts one live event (or `count` of them, one message for many watches) and returns a
   * span for its delivery when it is due: the caller sets what it knows and ends it once the
   * event is handed on. `traceparent`: the write's, from the change event ('' or undefined:
   * none, e.g. a write of another replica or outside any trace).
   */
  event(traceparent: string | undefined, count = 1, parent?: () => Context): Span | undefined {
    this.counted += count;
    if (traceparent === undefined || traceparent === '') return undefined;
    const now = Date.now();
    if (this.last !== undefined && now - this.last < this.intervalMs) return undefined;
    const linked = parseTraceParent(traceparent);
    // An unsampled write has no trace to link to; a later event may.
    if (linked === null || (linked.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
    this.last = now;
    const span = this.telemetry.tracer.startSpan(
      this.name,
      { kind: SpanKind.PRODUCER, attributes: { ...this.attributes, [ATTR_WATCH_EVENTS]: this.counted }, links: [{ context: { ...linked, isRemote: true } }] },
      parent === undefined ? this.parent : parent(),
    );
    this.counted = 0;
    return span;
  }

  /** Counts live events that make no span of their own (e.g. joined to a message that has one). */
  count(n = 1): void {
    this.counted += n;
  }
}
