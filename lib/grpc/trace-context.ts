/**
 * W3C trace context across gRPC: in a call's metadata, or in the fields of a message that
 * carries one of many calls or watches multiplexed on a shared stream; and the span of an RPC.
 */
import type * as grpc from '@grpc/grpc-js';
import { context, ROOT_CONTEXT, type Context, type Span, type SpanKind, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import type { Telemetry } from '../tracing.ts';

/** Reads a trace context from a call's metadata (the server side). */
export const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key);
    if (values.length === 0) return undefined;
    return values.map(String);
  },
};

/** Writes a trace context into a call's metadata (the client side). */
export const metadataSetter: TextMapSetter<grpc.Metadata> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** W3C trace context carried in a message: a call or a watch multiplexed on a shared stream. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const carrierGetter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => (['traceparent', 'tracestate'] as const).filter((k) => (carrier[k] ?? '') !== ''),
  get: (carrier, key) => {
    const value = carrier[key as keyof TraceCarrier];
    return value === '' ? undefined : value;
  },
};

const carrierSetter: TextMapSetter<TraceCarrier> = {
  set: (carrier, key, value) => {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

/** The trace context of `ctx` as message fields ('' when there is none). */
export function traceCarrier(telemetry: Telemetry, ctx: Context): Required<TraceCarrier> {
  const carrier: TraceCarrier = {};
  telemetry.propagator.inject(ctx, carrier, carrierSetter);
  return { traceparent: carrier.traceparent ?? '', tracestate: carrier.tracestate ?? '' };
}

/** The context a message's trace context names: its span's parent on the receiving side. */
export function contextFromCarrier(telemetry: Telemetry, carrier: TraceCarrier): Context {
  return telemetry.propagator.extract(ROOT_CONTEXT, carrier, carrierGetter);
}

/**
 * The span of one RPC, named "<service>/<method>" with the rpc.* attributes: CLIENT on the
 * caller's side (child of the active context), SERVER on the callee's (child of `parent`).
 */
export function startRpcSpan(telemetry: Telemetry, rpcName: string, kind: SpanKind, parent: Context = context.active()): Span {
  const [service = '', method = ''] = rpcName.split('/');
  return telemetry.tracer.startSpan(rpcName, { kind, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } }, parent);
}
