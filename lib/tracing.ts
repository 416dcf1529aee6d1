/**
 * OpenTelemetry set-up for one service process, configured by the standard OTEL_* variables:
 *
 * - OTEL_TRACES_EXPORTER: `otlp` or `none`; when unset, spans are exported over OTLP only if
 *   OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (so a machine
 *   without a collector logs no export errors).
 * - OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL: `http/protobuf` (default) or `http/json`.
 * - OTEL_EXPORTER_OTLP_* endpoint, headers, timeout: read by the exporter itself.
 * - OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES: the resource.
 * - OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
 *   OTEL_BSP_EXPORT_TIMEOUT: the batch span processor.
 * - OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG: the sampler, as the specification names them
 *   (`always_on`, `always_off`, `traceidratio`, `parentbased_always_on` (default),
 *   `parentbased_always_off`, `parentbased_traceidratio`; the argument is the ratio, 0..1,
 *   default 1). Parent-based samplers follow the decision of the caller's traceparent, so a
 *   request is traced in every service or in none.
 * - OTEL_TRACES_WATCH_DELIVERY_INTERVAL: seconds between two delivery spans of one watch
 *   stream (see WatchDeliveryTracer; default 10, 0 for a span per live event).
 *
 * The tracer is handed to whoever needs it (no global tracer provider); only the context
 * manager is global, because the OpenTelemetry API keeps the active context there.
 */
import { context, diag, DiagLogLevel, trace, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { Logger } from './log.ts';

export interface Telemetry {
  readonly tracer: Tracer;
  readonly propagator: TextMapPropagator;
  /**
   * Whether spans are recorded at all (false: the API's no-op tracer). Code that would do work
   * only to make spans (parse a traceparent, read a clock per event) skips it when false.
   */
  readonly enabled: boolean;
  /** Milliseconds between two delivery spans of one watch stream (OTEL_TRACES_WATCH_DELIVERY_INTERVAL). */
  readonly watchDeliveryIntervalMs: number;
  /** Flushes buffered spans and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** The default service.name (OTEL_SERVICE_NAME overrides it). */
  serviceName: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Extra processors, e.g. an in-memory exporter's in tests. */
  spanProcessors?: SpanProcessor[];
}

let contextManagerInstalled = false;

/** Installs the AsyncLocalStorage context manager once per process. */
export function installContextManager(): void {
  if (contextManagerInstalled) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerInstalled = true;
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function createExporter(env: NodeJS.ProcessEnv, logger?: Logger): SpanExporter | undefined {
  const selected = env.OTEL_TRACES_EXPORTER?.trim();
  const endpointSet =
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '') !== '' ||
    (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '') !== '';
  if (selected === 'none') return undefined;
  if (selected === undefined || selected === '') {
    if (!endpointSet) return undefined;
  } else if (selected !== 'otlp') {
    logger?.warn('unsupported OTEL_TRACES_EXPORTER; traces are not exported', { exporter: selected });
    return undefined;
  }
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocol === 'http/json') return new OTLPJsonTraceExporter();
  if (protocol !== 'http/protobuf') {
    logger?.warn('unsupported OTLP protocol; using http/protobuf', { protocol });
  }
  return new OTLPProtoTraceExporter();
}

/**
 * The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name (the specification's values;
 * default parentbased_always_on). An unknown name or a ratio outside 0..1 is reported and the
 * default used, as the SDKs do.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv, logger?: Logger): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase() || 'parentbased_always_on';
  const rawArg = (env.OTEL_TRACES_SAMPLER_ARG ?? '').trim();
  let ratio = 1;
  if (rawArg !== '') {
    const n = Number(rawArg);
    if (Number.isFinite(n) && n >= 0 && n <= 1) ratio = n;
    else logger?.warn('OTEL_TRACES_SAMPLER_ARG is not a ratio between 0 and 1; using 1', { value: rawArg });
  }
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      logger?.warn('unsupported OTEL_TRACES_SAMPLER; using parentbased_always_on', { sampler: name });
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Default seconds between two delivery spans of one watch stream. */
export const DEFAULT_WATCH_DELIVERY_INTERVAL_SECONDS = 10;

function watchDeliveryIntervalMs(env: NodeJS.ProcessEnv, logger?: Logger): number {
  const raw = (env.OTEL_TRACES_WATCH_DELIVERY_INTERVAL ?? '').trim();
  if (raw === '') return DEFAULT_WATCH_DELIVERY_INTERVAL_SECONDS * 1000;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= 0) return n * 1000;
  logger?.warn('OTEL_TRACES_WATCH_DELIVERY_INTERVAL is not a number of seconds; using the default', { value: raw });
  return DEFAULT_WATCH_DELIVERY_INTERVAL_SECONDS * 1000;
}

export function createTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  installContextManager();
  diag.setLogger(
    {
      error: (message) => options.logger?.error('opentelemetry', { message }),
      warn: (message) => options.logger?.warn('opentelemetry', { message }),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  const exporter = createExporter(env, options.logger);
  if (exporter !== undefined) {
    processors.push(
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: envInt(env, 'OTEL_BSP_SCHEDULE_DELAY'),
        maxQueueSize: envInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE'),
        maxExportBatchSize: envInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
        exportTimeoutMillis: envInt(env, 'OTEL_BSP_EXPORT_TIMEOUT'),
      }),
    );
  }
  const resource = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME ?? options.serviceName,
  }).merge(detectResources({ detectors: [envDetector] }));
  const propagator = new W3CTraceContextPropagator();
  const intervalMs = watchDeliveryIntervalMs(env, options.logger);
  if (processors.length === 0) {
    // Nothing would receive the spans: the API's no-op tracer costs nothing per call and still
    // carries an incoming trace context through (its spans keep the parent's ids).
    return { tracer: trace.getTracer('kube-grpc-apiserver'), propagator, enabled: false, watchDeliveryIntervalMs: intervalMs, shutdown: async () => {} };
  }
  const provider = new TracerProvider({ resource, spanProcessors: processors, sampler: samplerFromEnv(env, options.logger) });
  return {
    tracer: provider.getTracer('kube-grpc-apiserver'),
    propagator,
    enabled: true,
    watchDeliveryIntervalMs: intervalMs,
    shutdown: () => provider.shutdown(),
  };
}
