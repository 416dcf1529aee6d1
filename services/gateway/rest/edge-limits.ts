/**
 * The limits of the HTTPS front door, which keep one client from harming the others: how many
 * connections one address may hold, how long a request body may take to arrive, how many
 * streams one HTTP/2 connection may carry, and how many request-body bytes may be held in
 * memory at once across all requests.
 */
import type { Socket } from 'node:net';
import { positiveInt } from '../../../lib/config.ts';

export interface EdgeLimits {
  /** Open connections one client address may hold; more are closed at once. */
  maxConnectionsPerClient: number;
  /** Milliseconds a request's headers may take to arrive (kube: 32 s, just below kubectl's default timeout). */
  headersTimeoutMs: number;
  /** Milliseconds a request body may take to arrive, from the request's start; then 408 and the connection (or stream) closes. */
  bodyTimeoutMs: number;
  /** HTTP/2 streams one connection may have open at once (kube's --http2-max-streams-per-connection; Go's and kube's default is 100). */
  maxStreamsPerConnection: number;
  /**
   * Bytes request bodies in flight may take at once, counted as their bytes plus an estimate
   * of their parsed form (a body of many small values costs many times its size); a body
   * that would pass it gets 429.
   */
  maxBodyBytesInFlight: number;
  /** Milliseconds an idle keep-alive connection (HTTP/1.1, or HTTP/2 without streams) stays open (kube: 90 s, Go's http.DefaultTransport's keep-alive). */
  idleTimeoutMs: number;
}

export const DEFAULT_EDGE_LIMITS: EdgeLimits = {
  maxConnectionsPerClient: 256,
  headersTimeoutMs: 32_000,
  bodyTimeoutMs: 60_000,
  maxStreamsPerConnection: 100,
  maxBodyBytesInFlight: 64 * 1024 * 1024,
  idleTimeoutMs: 90_000,
};

/** The gateway's (and single-process mode's) flags for these limits. */
export const EDGE_LIMIT_FLAGS = [
  {
    flag: 'max-connections-per-client',
    env: 'GATEWAY_MAX_CONNECTIONS_PER_CLIENT',
    default: String(DEFAULT_EDGE_LIMITS.maxConnectionsPerClient),
    description: 'HTTPS connections one client address may hold open; further ones are closed at once',
  },
  {
    flag: 'request-body-timeout',
    env: 'GATEWAY_REQUEST_BODY_TIMEOUT_MS',
    default: String(DEFAULT_EDGE_LIMITS.bodyTimeoutMs),
    description: 'milliseconds a request body may take to arrive; a slower one gets 408 and its connection (HTTP/2: its stream) is closed',
  },
  {
    flag: 'http2-max-streams-per-connection',
    env: 'GATEWAY_HTTP2_MAX_STREAMS_PER_CONNECTION',
    default: String(DEFAULT_EDGE_LIMITS.maxStreamsPerConnection),
    description: 'HTTP/2 streams (requests and watches) one connection may have open at once, as kube-apiserver\'s flag of the same name',
  },
  {
    flag: 'max-body-bytes-in-flight',
    env: 'GATEWAY_MAX_BODY_BYTES_IN_FLIGHT',
    default: String(DEFAULT_EDGE_LIMITS.maxBodyBytesInFlight),
    description: 'bytes request bodies in flight may take at once, as received and as parsed (estimated); a body beyond it gets 429 (retry after 1 s)',
  },
] as const;

/** The limits from the flags of EDGE_LIMIT_FLAGS; ConfigError for a value that is no positive integer. */
export function edgeLimitsFrom(config: {
  'max-connections-per-client': string;
  'request-body-timeout': string;
  'http2-max-streams-per-connection': string;
  'max-body-bytes-in-flight': string;
}): EdgeLimits {
  return {
    ...DEFAULT_EDGE_LIMITS,
    maxConnectionsPerClient: positiveInt('--max-connections-per-client', config['max-connections-per-client']),
    bodyTimeoutMs: positiveInt('--request-body-timeout', config['request-body-timeout']),
    maxStreamsPerConnection: positiveInt('--http2-max-streams-per-connection', config['http2-max-streams-per-connection']),
    maxBodyBytesInFlight: positiveInt('--max-body-bytes-in-flight', config['max-body-bytes-in-flight']),
  };
}

/**
 * Counts open connections per client address and refuses those past the cap. Touched only on
 * the event loop.
 */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();
  private readonly max: number;

  constructor(maxPerClient: number) {
    this.max = maxPerClient;
  }

  /** Admits `socket` (counted until it closes), or answers false when its address is at the cap. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '';
    const count = this.open.get(address) ?? 0;
    if (count >= this.max) return false;
    this.open.set(address, count + 1);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left <= 0) this.open.delete(address);
      else this.open.set(address, left);
    });
    return true;
  }

  /** Open connections of one address (for tests and diagnostics). */
  count(address: string): number {
    return this.open.get(address) ?? 0;
  }
}

/**
 * A budget of request-body bytes held at once. A request reserves its body's bytes before (or
 * while) reading it and releases them when its response is done, so the parsed copies of
 * every body in flight are bounded too. Touched only on the event loop.
 */
export class BodyBudget {
  private used = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /**
   * Takes `bytes` from the budget, or answers false (taking nothing) when they do not fit. A
   * request larger than the whole budget may still go alone, when nothing else holds any.
   */
  tryReserve(bytes: number): boolean {
    if (this.used > 0 && this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  get inUse(): number {
    return this.used;
  }
}
