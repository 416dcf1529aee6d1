/**
 * The sizes of internal gRPC messages, and the channel options both sides of every connection
 * use.
 */
import type * as grpc from '@grpc/grpc-js';

/**
 * The largest message a client takes, and a server sends: answers such as list pages and
 * history hold many objects of up to 1.5 MiB, far above grpc's default 4 MiB. What a server
 * takes is its own, much smaller limit (GrpcServerOptions.maxReceiveMessageBytes).
 */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** Room in a request for what surrounds its objects: references, options, trace context. */
export const MESSAGE_FRAMING_BYTES = 64 * 1024;

/**
 * The largest object an internal request carries, as JSON: kube-apiserver's request body
 * limit (3 MiB), which the front door enforces. Storage refuses an object above its own,
 * smaller limit with kube's 413 before this one matters.
 */
export const MAX_OBJECT_BYTES_IN_REQUEST = 3 * 1024 * 1024;

/**
 * The largest request without an object (a token, authorization attributes, a watch's names
 * and selectors): generous, as kube-apiserver bounds such values only by its 1 MiB of URL
 * and headers.
 */
export const MAX_SMALL_REQUEST_BYTES = 1024 * 1024;

/** The channel options of every client and server (a server then sets its own receive limit). */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  // A peer that restarts (make up's supervisor, a pod) is used again at most this long after it
  // is back: grpc-js backs off reconnecting by 1.6x per failure up to 120 s by default, so a
  // 30 s outage could leave a client waiting another 40 s.
  'grpc.max_reconnect_backoff_ms': 5_000,
  // One connection carries many watch streams: with HTTP/2's 64 KiB default window a burst of
  // events to all of them stalls on window updates (bench: p99 159 ms -> 19 ms with 16 MiB).
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
};
