/**
 * Replicas of a service that share its load. A service address flag (--storage-address,
 * --auth-address, --admission-address, --watch-address) names one or more `host:port`,
 * comma-separated; a host that is an IP address is one replica, a host that is a DNS name is
 * looked up every `refreshMs` and stands for every address it resolves to (a Kubernetes
 * headless Service names every ready pod; one address family per name, see replicaAddresses), so replicas are followed as they come and go. Each
 * replica has its own client (one HTTP/2 connection), dialled at the resolved address while
 * TLS still checks the DNS name.
 *
 * Calls go to the ready replicas in turn (round-robin). Long-lived streams (the multiplexed
 * Exchange and WatchStream) are opened the same way, so they spread over replicas too, where
 * one connection to a Service's virtual IP would stick to one pod. A call refused before it
 * ran goes to another replica: a call that could not reach any connection (grpc-js fails it
 * with UNAVAILABLE before sending anything) and a multiplexed call a draining server answers
 * as not executed (lib/grpc/exchange.ts). Nothing that may have run is sent again.
 *
 * Everything runs on the event loop: the sets need no locking.
 */
import { lookup } from 'node:dns/promises';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../config.ts';
import { StatusError } from '../errors.ts';
import { clientSettings, DEFAULT_UNARY_TIMEOUT_MS, unary, type CallOptions, type ClientOptions, type UnaryRequest, type UnaryResponse } from './client.ts';

/** The flag every service with service addresses has: how often their DNS names are looked up. */
export const ADDRESS_FLAGS = [
  {
    flag: 'address-refresh-interval',
    env: 'ADDRESS_REFRESH_INTERVAL',
    default: '10',
    description:
      'seconds between DNS look-ups of service addresses given by name (a headless Service): calls spread over every address a name resolves to, followed as they come and go',
  },
] as const;

/** The look-up interval of --address-refresh-interval in milliseconds; ConfigError when it is not a positive number. */
export function refreshMsFrom(config: { 'address-refresh-interval': string }): number {
  const seconds = Number(config['address-refresh-interval']);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(`--address-refresh-interval must be a positive number of seconds, got "${config['address-refresh-interval']}"`);
  }
  return seconds * 1000;
}

/** The default look-up interval of a DNS name. */
export const DEFAULT_REFRESH_MS = 10_000;

/**
 * How long a replica the DNS no longer names keeps its connection, so that calls and streams in
 * flight on it finish (a pod leaves DNS when it stops being ready, before it stops).
 */
const RETIRE_GRACE_MS = DEFAULT_UNARY_TIMEOUT_MS;

/**
 * How long a replica that refused a call as draining, or whose stream ended, is left out of
 * picks while its connection still reports READY (a draining server closes its connection
 * soon after; a state change ends the hold earlier).
 */
const DRAIN_HOLD_MS = 5_000;

/** What a replica's readiness is read from: its client's channel. */
export type Connectivity = Pick<grpc.Channel, 'getConnectivityState' | 'watchConnectivityState'>;

/** One entry of an address list. */
export interface AddressEntry {
  host: string;
  port: number;
  /** The host is a DNS name (looked up), not an IP address. */
  named: boolean;
}

/** Parses a comma-separated list of `host:port` (IPv6 in brackets); throws ConfigError when malformed. */
export function parseAddressList(list: string): AddressEntry[] {
  const entries: AddressEntry[] = [];
  for (const raw of list.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(item);
    const port = Number(match?.[3]);
    if (match === null || port < 1 || port > 65535) throw new ConfigError(`"${item}" is not a host:port address`);
    const host = (match[1] ?? match[2]) as string;
    if (match[1] !== undefined && isIP(host) !== 6) throw new ConfigError(`"${item}" is not a host:port address`);
    entries.push({ host, port, named: isIP(host) === 0 });
  }
  if (entries.length === 0) throw new ConfigError('no service address');
  return entries;
}

/** Looks up every address of a DNS name. */
export type Resolver = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo, as curl or a Kubernetes pod resolves a Service name). */
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/**
 * The addresses of a name's answer that stand for its replicas: its IPv4 addresses when it has
 * any, else its IPv6 ones, each once. A name with both families (`localhost`: 127.0.0.1 and
 * ::1) is one server reachable two ways, not two replicas: dialling both would open two
 * connections to it, or keep one that never connects (a server listening on one family only).
 */
export function replicaAddresses(answer: readonly string[]): string[] {
  const v4 = answer.filter((ip) => isIPv4(ip));
  return [...new Set(v4.length > 0 ? v4 : answer.filter((ip) => isIPv6(ip)))];
}

/** Where a replica's client dials and how. */
export interface ReplicaTarget {
  /** `ip:port` (`[ip]:port` for IPv6), or the address as given for an IP address. */
  address: string;
  /**
   * Channel options to add to the client's: for an address resolved from a DNS name, that name
   * as the TLS server name and as the HTTP/2 authority, so certificates name the Service.
   */
  channelOptions: grpc.ChannelOptions;
}

/** One replica of a service and its client. */
export class Replica<T> {
  readonly address: string;
  readonly client: T;
  /** The DNS name it was resolved from; undefined for an address given as an IP. */
  readonly from: AddressEntry | undefined;
  /** Its position in the ready list, -1 when it is not ready. */
  index = -1;
  /** Left out of picks while its connection stays READY, until then (Date.now() ms); 0: not held. */
  holdUntil = 0;
  closed = false;

  constructor(address: string, client: T, from: AddressEntry | undefined) {
    this.address = address;
    this.client = client;
    this.from = from;
  }
}

export interface ReplicaSetOptions<T> {
  /** Comma-separated `host:port` list, as the address flags take it (none: see single()). */
  addresses?: string | undefined;
  /** Makes the client of one replica. */
  create: (target: ReplicaTarget) => T;
  /** The channel of a client, whose connectivity tells whether the replica is ready. */
  channelOf: (client: T) => Connectivity;
  /** Closes a client (a replica the DNS no longer names, after a grace; or the set closing). */
  close: (client: T) => void;
  /** Interval between look-ups of DNS names (default 10 s). */
  refreshMs?: number | undefined;
  /** Looks up a DNS name (default: the system resolver); tests inject their own. */
  resolve?: Resolver | undefined;
}

/**
 * The replicas of one service. pick() is O(1) and allocates nothing: it takes the next of the
 * ready replicas (kept in an array as their connections change state), or, when none is ready,
 * the next of all of them (a call then waits for its connection or fails fast, and a call
 * that never left goes on to another).
 */
export class ReplicaSet<T> {
  private readonly options: ReplicaSetOptions<T>;
  private readonly entries: AddressEntry[];
  /** Every replica by the address dialled. */
  private readonly byAddress = new Map<string, Replica<T>>();
  /** Every replica (picks fall back to it). */
  private all: Replica<T>[] = [];
  /** The replicas whose connection is READY or IDLE, and not held. */
  private readonly ready: Replica<T>[] = [];
  /** Round-robin position; wraps. */
  private next = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  /** Settles when the set first looked its names up (at once without names). */
  private readonly firstResolution: Promise<void>;
  private closed = false;
  /** Why the last look-up failed, for the error of a call with nowhere to go. */
  private lastError = '';

  constructor(options: ReplicaSetOptions<T>) {
    this.options = options;
    this.entries = options.addresses === undefined ? [] : parseAddressList(options.addresses);
    // IP addresses are dialled as given (their TLS checks the IP, as before replicas existed).
    for (const e of this.entries) if (!e.named) this.add(joinHostPort(e.host, e.port), {}, undefined);
    if (this.entries.some((e) => e.named)) {
      this.firstResolution = this.refresh();
      this.timer = setInterval(() => void this.refresh(), options.refreshMs ?? DEFAULT_REFRESH_MS);
      this.timer.unref();
    } else {
      this.firstResolution = Promise.resolve();
    }
  }

  /**
   * A set of one client made elsewhere (its owner closes it): `label` names it. Calls to it go
   * through the same code as to replicas, so a single server is served alike.
   */
  static single<T>(client: T, channelOf: (client: T) => Connectivity, label: string): ReplicaSet<T> {
    const set = new ReplicaSet<T>({ create: () => client, channelOf, close: () => {} });
    set.add(label, {}, undefined);
    return set;
  }

  /** Every replica, ready or not. */
  get replicas(): readonly Replica<T>[] {
    return this.all;
  }

  /** How many replicas there are. */
  get size(): number {
    return this.all.length;
  }

  /** How many replicas are ready. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** The next replica to send to; undefined when there is none (no name resolved yet). */
  pick(): Replica<T> | undefined {
    let list = this.ready;
    if (list.length === 0) list = this.all;
    if (list.length === 0) return undefined;
    if (this.next >= list.length) this.next = 0;
    return list[this.next++];
  }

  /**
   * The next replica, waiting for the first look-up of the DNS names when there is none yet;
   * ServiceUnavailable when there is still none then.
   */
  async pickAsync(): Promise<Replica<T>> {
    const now = this.pick();
    if (now !== undefined) return now;
    await this.firstResolution;
    const later = this.pick();
    if (later !== undefined) return later;
    throw new StatusError('ServiceUnavailable', `service unavailable: no replica${this.lastError === '' ? '' : ` (${this.lastError})`}`);
  }

  /**
   * Leaves a ready `replica` out of picks: it refused a call as draining, or a stream to it
   * ended. It comes back when its connection is READY again after another state (a draining
   * server closes it), or after a short hold (DRAIN_HOLD_MS) when it stays READY.
   */
  hold(replica: Replica<T>): void {
    if (replica.closed || replica.index < 0) return;
    replica.holdUntil = Date.now() + DRAIN_HOLD_MS;
    this.setReady(replica, false);
    const timer = setTimeout(() => {
      if (replica.holdUntil === 0) return;
      replica.holdUntil = 0;
      this.observe(replica, false);
    }, DRAIN_HOLD_MS);
    timer.unref();
  }

  /** Looks the DNS names up now and follows the answer (the timer does so every refreshMs). */
  refresh(): Promise<void> {
    this.refreshing ??= this.lookUp().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Closes every client; picks return undefined from here on. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const replica of this.all) this.retire(replica, 0);
    this.all = [];
    this.byAddress.clear();
  }

  private async lookUp(): Promise<void> {
    const wanted = new Map<string, AddressEntry>();
    for (const e of this.entries) {
      if (!e.named) continue;
      try {
        for (const ip of replicaAddresses(await (this.options.resolve ?? systemResolver)(e.host))) wanted.set(joinHostPort(ip, e.port), e);
        this.lastError = '';
      } catch (err) {
        // A failed look-up changes nothing: the replicas known stay until a look-up answers.
        this.lastError = `cannot resolve ${e.host}: ${(err as Error).message}`;
        for (const r of this.all) if (r.from === e) wanted.set(r.address, e);
      }
    }
    if (this.closed) return;
    for (const replica of this.all) {
      if (replica.from === undefined || wanted.get(replica.address) === replica.from) continue;
      this.byAddress.delete(replica.address);
      this.retire(replica, RETIRE_GRACE_MS);
    }
    this.all = this.all.filter((r) => !r.closed);
    for (const [address, e] of wanted) {
      if (this.byAddress.has(address)) continue;
      // Dialled at the address, but TLS checks, and the authority names, the Service.
      this.add(address, { 'grpc.ssl_target_name_override': e.host, 'grpc.default_authority': joinHostPort(e.host, e.port) }, e);
    }
  }

  private add(address: string, channelOptions: grpc.ChannelOptions, from: AddressEntry | undefined): void {
    if (this.byAddress.has(address)) return;
    const replica = new Replica(address, this.options.create({ address, channelOptions }), from);
    this.byAddress.set(address, replica);
    this.all.push(replica);
    this.observe(replica, true);
  }

  /** Leaves a replica out of picks and closes its client after `graceMs`. */
  private retire(replica: Replica<T>, graceMs: number): void {
    this.setReady(replica, false);
    replica.closed = true;
    if (graceMs === 0) {
      this.options.close(replica.client);
      return;
    }
    const timer = setTimeout(() => this.options.close(replica.client), graceMs);
    timer.unref();
  }

  /**
   * Follows a replica's connection: READY or IDLE (not connected yet, or closed by its server:
   * the next call connects) puts it in the ready list, CONNECTING or TRANSIENT_FAILURE takes it
   * out (grpc-js goes on reconnecting a failed connection with backoff, and READY brings it
   * back). Any state but READY ends a hold.
   */
  private observe(replica: Replica<T>, watch: boolean): void {
    if (replica.closed) return;
    const channel = this.options.channelOf(replica.client);
    const state = channel.getConnectivityState(false);
    if (state !== grpc.connectivityState.READY) replica.holdUntil = 0;
    const usable = state === grpc.connectivityState.READY || state === grpc.connectivityState.IDLE;
    this.setReady(replica, usable && replica.holdUntil === 0);
    if (!watch || state === grpc.connectivityState.SHUTDOWN) return;
    channel.watchConnectivityState(state, Infinity, () => this.observe(replica, true));
  }

  /** Moves a replica in or out of the ready list in O(1) (the last one takes its place). */
  private setReady(replica: Replica<T>, ready: boolean): void {
    if (ready === replica.index >= 0) return;
    if (ready) {
      replica.index = this.ready.length;
      this.ready.push(replica);
      return;
    }
    const last = this.ready.pop() as Replica<T>;
    if (last !== replica) {
      this.ready[replica.index] = last;
      last.index = replica.index;
    }
    replica.index = -1;
  }
}

/** A generated client's constructor. */
export type GeneratedClientConstructor<C extends grpc.Client> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => C;

/**
 * The replicas of a service at `addresses`, each a generated client of `Client` with the
 * credentials, limits and tracing of clientSettings (`channelOverrides` on top).
 */
export function generatedReplicas<C extends grpc.Client>(
  Client: GeneratedClientConstructor<C>,
  addresses: string,
  options: ClientOptions,
  channelOverrides: grpc.ClientOptions = {},
): ReplicaSet<C> {
  const { credentials, channelOptions } = clientSettings(options);
  return new ReplicaSet<C>({
    addresses,
    create: (target) => new Client(target.address, credentials, { ...channelOptions, ...channelOverrides, ...target.channelOptions }),
    channelOf: (client) => client.getChannel(),
    close: (client) => client.close(),
    refreshMs: options.refreshMs,
    resolve: options.resolve,
  });
}

/** `host:port`, with an IPv6 host in brackets. */
export function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Calls the unary method `method` of the client `clientOf` gives for the next replica, as
 * unary() does; a call that never left (see neverSent: its replica is down) is sent to the
 * next replica, each replica tried at most about once, within the caller's deadline.
 */
export async function replicaUnary<T, C extends grpc.Client, K extends keyof C & string>(
  set: ReplicaSet<T>,
  clientOf: (client: T) => C,
  method: K,
  request: UnaryRequest<C[K]>,
  opts?: CallOptions,
): Promise<UnaryResponse<C[K]>> {
  const deadline = Date.now() + (opts?.timeoutMs ?? DEFAULT_UNARY_TIMEOUT_MS);
  let callOpts = opts;
  let replica = set.pick() ?? (await set.pickAsync());
  for (let tried = 1; ; tried++) {
    let unsent = false;
    try {
      return await unary(clientOf(replica.client), method, request, callOpts, () => {
        unsent = true;
      });
    } catch (err) {
      if (!unsent || tried > set.size) throw err;
    }
    replica = await set.pickAsync();
    const left = deadline - Date.now();
    if (left <= 0) throw new StatusError('Timeout', 'request did not complete within requested timeout');
    callOpts = { ...opts, timeoutMs: left };
  }
}
