/**
 * Metrics: one prom-client Registry per process (never prom-client's global one), created by
 * the service runtime and handed to whatever counts something. Instruments are made through
 * Metrics so that two components asking for the same metric share it, and rendered in the
 * Prometheus text format or, when the scraper asks for it, in OpenMetrics with exemplars
 * (the trace id of a request a histogram bucket last saw).
 *
 * Paths run per request bind their label values once (`counter.labels(...)`) and keep the
 * child, which saves building a label object per call; prom-client still validates and hashes
 * the child's labels on every inc/observe (a new string each time, a few hundred ns). Paths run
 * far more often (per event per watcher) keep plain numbers and add them to their counter when
 * it is scraped (`collect`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';
import { StatusError } from './errors.ts';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** prometheus/client_golang's DefBuckets, which go-grpc-prometheus's histograms use. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsOptions {
  /**
   * Register prom-client's process and Node.js metrics (process_cpu_seconds_total,
   * process_resident_memory_bytes, nodejs_eventloop_lag_seconds, ...). Default true; tests
   * that build many registries in one process turn it off (each set watches the event loop).
   */
  processMetrics?: boolean;
}

interface Named {
  name: string;
  help: string;
}

/** A histogram that may carry an exemplar: observe with the trace id of the request measured. */
export interface ExemplarHistogram<L extends string> {
  readonly histogram: Histogram<L>;
  /** A child with its label values bound, for observe without an exemplar. */
  labels(...values: string[]): Histogram.Internal<L>;
  /** Observes `value` under `labels`; `traceId` ('' for none) becomes the bucket's exemplar. */
  observe(labels: Partial<Record<L, string | number>>, value: number, traceId: string): void;
}

/**
 * A process's metrics. The registry is an OpenMetrics one (prom-client allows exemplars only
 * there) and renders Prometheus text by switching its content type for one rendering at a
 * time (renderings are serialized: the switch is registry-wide).
 */
export class Metrics {
  readonly registry: Registry<typeof OPENMETRICS_CONTENT_TYPE>;
  /** The rendering in progress: the next waits for it. */
  private rendering: Promise<unknown> = Promise.resolve();

  constructor(options: MetricsOptions = {}) {
    // prom-client's typings omit the constructor's content type argument.
    const OpenMetricsRegistry = Registry as unknown as new (contentType: string) => Registry<typeof OPENMETRICS_CONTENT_TYPE>;
    this.registry = new OpenMetricsRegistry(OPENMETRICS_CONTENT_TYPE);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The counter named `config.name` (ending in _total, as the text format shows it), made on
   * first use; `collect` (optional) runs when it is scraped, e.g. to add counts kept elsewhere.
   */
  counter<L extends string>(config: Named & { labelNames?: readonly L[]; collect?: (this: Counter<L>) => void }): Counter<L> {
    return this.existing(config.name, 'counter') ?? new Counter<L>({ ...config, registers: [this.registry] } as CounterConfiguration<L>);
  }

  /** The gauge named `config.name`; `collect` (optional) sets its value when scraped. */
  gauge<L extends string>(config: Named & { labelNames?: readonly L[]; collect?: (this: Gauge<L>) => void }): Gauge<L> {
    return this.existing(config.name, 'gauge') ?? new Gauge<L>({ ...config, registers: [this.registry] } as GaugeConfiguration<L>);
  }

  /** The histogram named `config.name` (buckets: DEFAULT_BUCKETS unless given). */
  histogram<L extends string>(config: Named & { labelNames?: readonly L[]; buckets?: readonly number[] }): Histogram<L> {
    return (
      this.existing(config.name, 'histogram') ??
      new Histogram<L>({ ...config, buckets: [...(config.buckets ?? DEFAULT_BUCKETS)], registers: [this.registry] } as HistogramConfiguration<L>)
    );
  }

  /** A histogram whose buckets keep the trace id of the last request they counted (OpenMetrics exemplars). */
  exemplarHistogram<L extends string>(config: Named & { labelNames?: readonly L[]; buckets?: readonly number[] }): ExemplarHistogram<L> {
    const histogram =
      this.existing<Histogram<L>>(config.name, 'histogram') ??
      new Histogram<L>({
        ...config,
        buckets: [...(config.buckets ?? DEFAULT_BUCKETS)],
        registers: [this.registry],
        enableExemplars: true,
      } as HistogramConfiguration<L>);
    // prom-client types exemplar labels as the metric's own labels; trace_id is not one.
    type ExemplarLabels = Partial<Record<L, string | number>>;
    const none: ExemplarLabels = {};
    return {
      histogram,
      labels: (...values) => histogram.labels(...values),
      observe: (labels, value, traceId) => {
        // With exemplars on, prom-client's observe takes one object; an empty exemplar set keeps none.
        histogram.observe({ labels, value, exemplarLabels: traceId === '' ? none : ({ trace_id: traceId } as ExemplarLabels) });
      },
    };
  }

  /**
   * The metrics as text: OpenMetrics (with exemplars) when `accept` names
   * application/openmetrics-text with a non-zero weight, as Prometheus does when exemplar
   * storage is on; otherwise the Prometheus text format 0.0.4.
   */
  render(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const openMetrics = acceptsOpenMetrics(accept);
    const next = this.rendering.then(() => this.renderNow(openMetrics));
    this.rendering = next.catch(() => {});
    return next;
  }

  private async renderNow(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    const contentType = openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE;
    // prom-client's OpenMetrics rendering renames every counter to its family name (no _total)
    // in place; the names are put back so that the next Prometheus rendering shows them whole.
    const counterNames = new Map<{ name: string }, string>();
    for (const metric of this.registry.getMetricsAsArray() as unknown as { name: string; type?: string }[]) {
      if (metric instanceof Counter) counterNames.set(metric, metric.name);
    }
    this.registry.setContentType(contentType as typeof OPENMETRICS_CONTENT_TYPE);
    try {
      return { contentType, body: await this.registry.metrics() };
    } catch (err) {
      throw new StatusError('InternalError', `rendering metrics: ${(err as Error).message}`);
    } finally {
      this.registry.setContentType(OPENMETRICS_CONTENT_TYPE);
      for (const [metric, name] of counterNames) metric.name = name;
    }
  }

  private existing<M>(name: string, type: 'counter' | 'gauge' | 'histogram'): M | undefined {
    const found = this.registry.getSingleMetric(name) as unknown as { type?: string } | undefined;
    if (found === undefined) return undefined;
    const kind = found instanceof Counter ? 'counter' : found instanceof Gauge ? 'gauge' : found instanceof Histogram ? 'histogram' : 'other';
    if (kind !== type) throw new StatusError('InternalError', `metric ${name} is already registered as a ${kind}`);
    return found as M;
  }
}

/** Whether an Accept header asks for OpenMetrics (a weight above 0). */
export function acceptsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    if (type !== 'application/openmetrics-text') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}
