/**
 * W3C trace context across gRPC: in a call's metadata, or in the fields of a message that
 * carries one of many calls or watches multiplexed on a shared stream; and the span of an RPC.
 */
import * as grpc from '@grpc/grpc-js';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import {
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_RPC_GRPC_STATUS_CODE,
  ATTR_RPC_METHOD,
  ATTR_RPC_SERVICE,
  ATTR_RPC_SYSTEM,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '../semconv.ts';
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
  return telemetry.tracer.startSpan(rpcName, { kind, attributes: { [ATTR_RPC_SYSTEM]: 'grpc', [ATTR_RPC_SERVICE]: service, [ATTR_RPC_METHOD]: method } }, parent);
}

/**
 * gRPC codes that are errors on the server side, after the gRPC semantic conventions: the
 * others (NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, ...) are the caller's mistake, an
 * answer the server gave correctly.
 */
const SERVER_ERROR_CODES: ReadonlySet<number> = new Set([
  grpc.status.UNKNOWN,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.UNIMPLEMENTED,
  grpc.status.INTERNAL,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);

/**
 * Records how an RPC ended on its span: rpc.grpc.status_code always, and the span's status
 * ERROR as the gRPC semantic conventions set it: any code but OK on a CLIENT span, only the
 * server's failures (SERVER_ERROR_CODES) on a SERVER span. The description is the code's
 * name, never the message (which may quote a request).
 */
export function endRpcSpan(span: Span, kind: SpanKind.CLIENT | SpanKind.SERVER, code: grpc.status): void {
  span.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, code);
  if (code !== grpc.status.OK && (kind === SpanKind.CLIENT || SERVER_ERROR_CODES.has(code))) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: grpc.status[code] });
  }
  span.end();
}

/** Splits a grpc-js peer ("1.2.3.4:5", "[::1]:5", "unix:/path") into address and port. */
export function splitPeer(peer: string): { address: string; port: number | undefined } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(peer);
  if (m === null) return { address: peer, port: undefined };
  return { address: m[1] as string, port: Number(m[2]) };
}

/**
 * Sets the peer of a CLIENT span: server.address/server.port (the address the channel
 * connected to: what grpc-js knows of the server once the call ran) and network.peer.*.
 */
export function setClientPeer(span: Span, peer: string | undefined): void {
  if (peer === undefined || peer === '' || !span.isRecording()) return;
  const { address, port } = splitPeer(peer);
  span.setAttribute(ATTR_SERVER_ADDRESS, address);
  span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, address);
  if (port !== undefined) {
    span.setAttribute(ATTR_SERVER_PORT, port);
    span.setAttribute(ATTR_NETWORK_PEER_PORT, port);
  }
}

/** Sets the peer of a SERVER span: network.peer.* (the client) and server.port (this server's). */
export function setServerPeer(span: Span, peer: string | undefined, serverPort: number | undefined): void {
  if (!span.isRecording()) return;
  if (peer !== undefined && peer !== '') {
    const { address, port } = splitPeer(peer);
    span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, address);
    if (port !== undefined) span.setAttribute(ATTR_NETWORK_PEER_PORT, port);
  }
  if (serverPort !== undefined) span.setAttribute(ATTR_SERVER_PORT, serverPort);
}
