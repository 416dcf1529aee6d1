/**
 * The Service allocator: cluster IPs from --service-cluster-ip-range and node ports from
 * --service-node-port-range, as kube-apiserver's Service REST storage allocates them
 * (pkg/registry/core/service/storage/alloc.go), with the claims kept in the store so that every
 * gateway replica sees them:
 *
 * - each cluster IP is a networking.k8s.io/v1 IPAddress named by the address, whose
 *   spec.parentRef names the Service (as kube 1.33+ keeps them);
 * - each node port is a record named by the port number under `servicenodeports` (kube keeps a
 *   bitmap; a record per port lets a claim be one create);
 *
 * and a claim is the store's create-if-absent: of two replicas claiming the same value at once,
 * etcd lets one create win and the other gets AlreadyExists and picks another (or, for a value
 * the client asked for, answers that it is taken). Nothing about the pools is held in a process.
 *
 * Releases delete a record only while it still names the Service. A record can outlive its
 * Service when a gateway dies between its claim and its write (or a release fails); repair()
 * releases such records once they are older than a grace period, and claims again what stored
 * Services hold without a record.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { invalid, StatusError, type FieldError } from '../../../errors.ts';
import { isPlainObject, rfc3339, type KubeObject } from '../../../kube.ts';
import type { Allocation, AllocationContext, ClusterConfig, KindAllocator, RecordRef, RepairReport } from '../../allocation.ts';
import {
  CLUSTER_IP_NONE,
  needsHealthCheck,
  needsNodePort,
  nodePortsOf,
  num,
  portsOf,
  shouldAllocateNodePorts,
  specOf,
  str,
  stringMap,
  strings,
  TYPE_CLUSTER_IP,
  TYPE_EXTERNAL_NAME,
} from './fields.ts';
import { formatIP, inServiceRange, parseIP, parsePortRange, parseServiceIPRange, type IPFamily, type PortRange, type ServiceIPRange } from './ip.ts';

/** Where cluster IP claims live: IPAddress objects, named by the address. */
export const IP_ADDRESSES = { group: 'networking.k8s.io', resource: 'ipaddresses' } as const;
/** Where node port claims live: one record per port, named by the number. */
export const NODE_PORTS = { group: '', resource: 'servicenodeports' } as const;
const SERVICES = { group: '', resource: 'services' } as const;

/** The labels kube's allocator puts on the IPAddress objects it manages. */
export const IP_FAMILY_LABEL = 'ipaddress.kubernetes.io/ip-family';
export const MANAGED_BY_LABEL = 'ipaddress.kubernetes.io/managed-by';
export const IP_ALLOCATOR = 'ipallocator.k8s.io';
/** The manager of node port records. */
export const NODE_PORT_ALLOCATOR = 'nodeportallocator.k8s.io';

/** Random picks tried before the allocator reads every claim to find a free value. */
const RANDOM_PROBES = 4;

/** The pools of a cluster configuration, parsed (Errors name the flag at fault). */
export interface ServiceNetwork {
  readonly ips: ServiceIPRange;
  readonly ports: PortRange;
}

/** Parses the pools of `cluster`; throws an Error naming the flag when one is not usable (the gateway checks at start). */
export function serviceNetwork(cluster: ClusterConfig): ServiceNetwork {
  return { ips: parseServiceIPRange(cluster.serviceClusterIPRange), ports: parsePortRange(cluster.serviceNodePortRange) };
}

/** Who holds a claim: the Service, as an IPAddress's parentRef names it. */
interface Parent {
  namespace: string;
  name: string;
}

function parentOf(object: KubeObject): Parent {
  return { namespace: String(object.metadata?.namespace ?? ''), name: String(object.metadata?.name ?? '') };
}

function parentRefOf(record: KubeObject): Parent | undefined {
  const spec = specOf(record);
  const ref = spec?.['parentRef'];
  if (!isPlainObject(ref) || str(ref, 'resource') !== 'services' || str(ref, 'group') !== '') return undefined;
  return { namespace: str(ref, 'namespace'), name: str(ref, 'name') };
}

function sameParent(a: Parent | undefined, b: Parent): boolean {
  return a !== undefined && a.namespace === b.namespace && a.name === b.name;
}

function ipRef(name: string): RecordRef {
  return { ...IP_ADDRESSES, namespace: '', name };
}

function portRef(port: number): RecordRef {
  return { ...NODE_PORTS, namespace: '', name: String(port) };
}

/** A claim record: an IPAddress as kube's allocator writes it, or a node port record of the same shape. */
function claimRecord(ref: RecordRef, parent: Parent, family: IPFamily | undefined): KubeObject {
  const ip = ref.resource === IP_ADDRESSES.resource;
  return {
    apiVersion: ip ? 'networking.k8s.io/v1' : 'v1',
    kind: ip ? 'IPAddress' : 'ServiceNodePort',
    metadata: {
      name: ref.name,
      uid: randomUUID(),
      creationTimestamp: rfc3339(new Date()),
      labels: ip ? { [IP_FAMILY_LABEL]: family ?? 'IPv4', [MANAGED_BY_LABEL]: IP_ALLOCATOR } : { [MANAGED_BY_LABEL]: NODE_PORT_ALLOCATOR },
    },
    spec: { parentRef: { group: '', resource: 'services', namespace: parent.namespace, name: parent.name } },
  };
}

function isReason(err: unknown, reason: string): boolean {
  return err instanceof StatusError && err.reason === reason;
}

/** kube's errors.NewInternalError: 500 with the cause's text. */
function internalError(message: string): StatusError {
  return new StatusError('InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/**
 * The claims of one write (kube's allocation transaction): what was claimed is released by
 * revert(); what the write gives up is released by commit().
 */
class Claims {
  private readonly claimed: { ref: RecordRef; uid: string }[] = [];
  private readonly released: RecordRef[] = [];
  readonly context: AllocationContext;
  readonly parent: Parent;

  constructor(context: AllocationContext, parent: Parent) {
    this.context = context;
    this.parent = parent;
  }

  /** Claims `ref` for the Service: true when it was free (and is now this write's), false when taken. */
  async claim(ref: RecordRef, family?: IPFamily): Promise<boolean> {
    const record = claimRecord(ref, this.parent, family);
    try {
      await this.context.store.create(ref, record, this.context.signal);
    } catch (err) {
      if (isReason(err, 'AlreadyExists')) return false;
      throw err;
    }
    this.claimed.push({ ref, uid: String(record.metadata?.uid) });
    return true;
  }

  /** Whether `ref` is claimed by anyone (dry runs look without claiming). */
  async taken(ref: RecordRef): Promise<boolean> {
    try {
      await this.context.store.get(ref, {}, this.context.signal);
      return true;
    } catch (err) {
      if (isReason(err, 'NotFound')) return false;
      throw err;
    }
  }

  /** Releases `ref` once the write is stored. */
  releaseOnCommit(ref: RecordRef): void {
    this.released.push(ref);
  }

  async commit(): Promise<void> {
    if (this.context.dryRun) return;
    for (const ref of this.released) await releaseRecord(this.context, ref, this.parent);
  }

  async revert(): Promise<void> {
    for (const { ref, uid } of this.claimed.splice(0)) {
      // The request may be cancelled; its releases go on without its signal.
      await this.context.store.delete(ref, { uid }).catch(() => undefined);
    }
  }

  allocation(object: KubeObject): Allocation {
    return { object, commit: () => this.commit(), revert: () => this.revert() };
  }
}

/** Deletes a claim record while it still names `parent`; anything else (gone, another's, the store down) is left for repair. */
async function releaseRecord(context: Pick<AllocationContext, 'store'>, ref: RecordRef, parent: Parent): Promise<boolean> {
  try {
    const record = await context.store.get(ref, {});
    if (!sameParent(parentRefOf(record), parent)) return false;
    const uid = record.metadata?.uid;
    await context.store.delete(ref, typeof uid === 'string' && uid !== '' ? { uid } : {});
    return true;
  } catch {
    return false;
  }
}

/**
 * The part of kube's initIPFamilyFields that needs the cluster's configuration: every family must
 * be the cluster's (it is single-stack), a dual-stack policy can only be preferred, and a Service
 * without families gets the cluster's. Throws 422 Invalid with kube's words.
 */
function completeIPFamilies(object: KubeObject, spec: Record<string, unknown>, network: ServiceNetwork): void {
  if (str(spec, 'type') === TYPE_EXTERNAL_NAME) return;
  const family = network.ips.family;
  const other: IPFamily = family === 'IPv4' ? 'IPv6' : 'IPv4';
  if (str(spec, 'ipFamilyPolicy') === '') spec.ipFamilyPolicy = 'SingleStack';
  const policy = str(spec, 'ipFamilyPolicy');
  const ips = strings(spec, 'clusterIPs');
  const families = strings(spec, 'ipFamilies');
  const errors: FieldError[] = [];
  if (policy === 'SingleStack') {
    if (ips.length === 2) errors.push({ type: 'FieldValueInvalid', field: 'spec.ipFamilyPolicy', value: policy, detail: "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified" });
    if (families.length === 2) errors.push({ type: 'FieldValueInvalid', field: 'spec.ipFamilyPolicy', value: policy, detail: "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified" });
  }
  for (let i = families.length; i < ips.length; i++) {
    const ip = ips[i] ?? '';
    if (ip === CLUSTER_IP_NONE) break;
    const ipFamily = parseIP(ip)?.family;
    if (ipFamily === undefined) break;
    if (ipFamily !== family) errors.push({ type: 'FieldValueInvalid', field: `spec.clusterIPs[${i}]`, value: ips, detail: `${ipFamily} is not configured on this cluster` });
    else families.push(ipFamily);
  }
  const name = String(object.metadata?.name ?? '');
  if (errors.length > 0) throw invalid('Service', '', name, errors);
  const selectorless = Object.keys(stringMap(spec, 'selector') ?? {}).length === 0;
  if (str(spec, 'clusterIP') === CLUSTER_IP_NONE && selectorless) {
    // A headless Service without selector may name endpoints of any family.
    if (families.length === 0) families.push(family);
    if (families.length < 2 && policy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    spec.ipFamilies = families;
    return;
  }
  if (policy === 'RequireDualStack') errors.push({ type: 'FieldValueInvalid', field: 'spec.ipFamilyPolicy', value: policy, detail: 'this cluster is not configured for dual-stack services' });
  families.forEach((f, i) => {
    if (f === other) errors.push({ type: 'FieldValueInvalid', field: `spec.ipFamilies[${i}]`, value: f, detail: 'not configured on this cluster' });
  });
  if (errors.length > 0) throw invalid('Service', '', name, errors);
  if (families.length === 0) families.push(family);
  spec.ipFamilies = families;
}

/** A random whole number in [0, size). */
function randomBelow(size: bigint): bigint {
  return size <= 1n ? 0n : BigInt(randomInt(Number(size)));
}

/**
 * The dynamic bands of a pool, in the order kube tries them: the upper addresses first, the lower
 * `staticBand` (meant for values asked for by name) last.
 */
function bands(first: bigint, last: bigint, staticBand: bigint): [bigint, bigint][] {
  const split = first + staticBand;
  const out: [bigint, bigint][] = [];
  if (split <= last) out.push([split, last]);
  if (staticBand > 0n) out.push([first, split - 1n < last ? split - 1n : last]);
  return out;
}

/**
 * Claims a free value of a pool: a few random picks (one create each; in a pool mostly free the
 * first wins), then, when they all hit taken values, a read of every claim and a walk from a
 * random start through the values it did not show (values claimed since are skipped as they come).
 * undefined when the pool is full.
 */
async function claimNext(
  poolBands: [bigint, bigint][],
  tryClaim: (value: bigint) => Promise<boolean>,
  listTaken: () => Promise<Set<bigint>>,
): Promise<bigint | undefined> {
  for (const [start, end] of poolBands) {
    for (let i = 0; i < RANDOM_PROBES; i++) {
      const value = start + randomBelow(end - start + 1n);
      if (await tryClaim(value)) return value;
    }
  }
  const taken = await listTaken();
  for (const [start, end] of poolBands) {
    const size = end - start + 1n;
    const offset = randomBelow(size);
    for (let i = 0n; i < size; i++) {
      const value = start + ((offset + i) % size);
      if (taken.has(value)) continue;
      if (await tryClaim(value)) return value;
    }
  }
  return undefined;
}

/** Every claim record of a collection (all pages). */
async function listRecords(context: Pick<AllocationContext, 'store' | 'signal'>, collection: { group: string; resource: string }): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let token = '';
  do {
    const page = await context.store.list({ ...collection, namespace: '', name: '' }, { limit: 5000, continue: token }, context.signal);
    items.push(...page.items);
    token = page.continue;
  } while (token !== '');
  return items;
}

/** The cluster IP part of an allocation: one address of the cluster's family (kube's allocClusterIPs on a single-stack cluster). */
async function allocateClusterIPs(claims: Claims, spec: Record<string, unknown>, network: ServiceNetwork, name: string): Promise<void> {
  const ips = strings(spec, 'clusterIPs');
  if (ips[0] === CLUSTER_IP_NONE) return;
  const range = network.ips;
  const requested = ips[0] ?? '';
  let allocated: string;
  if (requested !== '') {
    const ip = parseIP(requested);
    const fail = (why: string): StatusError =>
      invalid('Service', '', name, [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: ips, detail: `failed to allocate IP ${requested}: ${why}` }]);
    if (ip === undefined || !inServiceRange(range, ip)) {
      const shown = ip === undefined ? requested : formatIP(ip);
      throw fail(`the provided IP (${shown}) is not in the valid range. The range of valid IPs is ${range.cidr}`);
    }
    // As kube's dry-run allocator, a dry run checks the range only.
    if (!claims.context.dryRun && !(await claims.claim(ipRef(formatIP(ip)), ip.family))) throw fail('provided IP is already allocated');
    allocated = requested;
  } else if (claims.context.dryRun) {
    // kube's dry-run allocator answers the network address rather than look for a free one.
    allocated = formatIP({ family: range.family, value: range.network });
  } else {
    const value = await claimNext(
      bands(range.first, range.last, range.staticBand),
      (v) => claims.claim(ipRef(formatIP({ family: range.family, value: v })), range.family),
      async () => {
        const taken = new Set<bigint>();
        for (const record of await listRecords(claims.context, IP_ADDRESSES)) {
          const ip = parseIP(String(record.metadata?.name ?? ''));
          if (ip !== undefined && ip.family === range.family) taken.add(ip.value);
        }
        return taken;
      },
    );
    if (value === undefined) throw internalError('failed to allocate a serviceIP: range is full');
    allocated = formatIP({ family: range.family, value });
  }
  spec.clusterIP = allocated;
  spec.clusterIPs = [allocated, ...ips.slice(1)];
}

/** Node port allocation of one write: claims, and kube's dry-run stand-ins. */
class NodePortClaims {
  private readonly claims: Claims;
  private readonly range: PortRange;
  private readonly name: string;
  /** Ports a dry run handed out, for its stand-ins. */
  private readonly dryRunPorts: number[] = [];
  /**
   * The ports known taken, read once per write when the random picks first miss and kept up to
   * date with what this write claims: a Service of thousands of ports reads the claims once,
   * not once per port (which made one request take seconds).
   */
  private taken: Set<bigint> | undefined;

  constructor(claims: Claims, range: PortRange, name: string) {
    this.claims = claims;
    this.range = range;
    this.name = name;
  }

  /** The problem with claiming `port`, or undefined once it is this write's (kube's portallocator errors). */
  async claim(port: number): Promise<string | undefined> {
    if (port < this.range.base || port >= this.range.base + this.range.size) {
      return `provided port is not in the valid range. The range of valid ports is ${this.range.text}`;
    }
    if (this.claims.context.dryRun) {
      this.dryRunPorts.push(port);
      return (await this.claims.taken(portRef(port))) ? 'provided port is already allocated' : undefined;
    }
    return (await this.claims.claim(portRef(port))) ? undefined : 'provided port is already allocated';
  }

  /** Claims `port` for spec.ports[index].nodePort: 422 Invalid on that field when it cannot be. */
  async claimFor(port: number, index: number): Promise<void> {
    const problem = await this.claim(port);
    if (problem !== undefined) {
      throw invalid('Service', '', this.name, [{ type: 'FieldValueInvalid', field: `spec.ports[${index}].nodePort`, value: port, detail: problem }]);
    }
  }

  /** A free port, claimed; undefined when the range is full. */
  async next(): Promise<number | undefined> {
    if (this.claims.context.dryRun) {
      // kube's dry-run operation hands out numbers above the last it gave (from 32769) without looking.
      const port = Math.max(32768, ...this.dryRunPorts) + 1;
      this.dryRunPorts.push(port);
      return port;
    }
    const value = await claimNext(
      bands(BigInt(this.range.base), BigInt(this.range.base + this.range.size - 1), BigInt(this.range.staticBand)),
      (v) => this.claims.claim(portRef(Number(v))),
      async () => {
        if (this.taken !== undefined) return this.taken;
        const taken = new Set<bigint>();
        for (const record of await listRecords(this.claims.context, NODE_PORTS)) {
          const port = Number(record.metadata?.name);
          if (Number.isInteger(port)) taken.add(BigInt(port));
        }
        this.taken = taken;
        return taken;
      },
    );
    if (value !== undefined) this.taken?.add(value);
    return value === undefined ? undefined : Number(value);
  }

  /** Releases `port` once the write is stored. */
  releaseOnCommit(port: number): void {
    this.claims.releaseOnCommit(portRef(port));
  }

  /** A free port for spec.ports[].nodePort: 500 as kube's when the range is full. */
  async nextNodePort(): Promise<number> {
    const port = await this.next();
    if (port === undefined) throw internalError('failed to allocate a nodePort: range is full');
    return port;
  }
}

/**
 * initNodePorts: each port gets a node port (for a LoadBalancer with allocateLoadBalancerNodePorts
 * false, only those that ask for one); ports of one number share theirs (TCP and UDP of port 53).
 */
async function allocateNodePorts(ports: NodePortClaims, spec: Record<string, unknown>): Promise<void> {
  const list = portsOf(spec);
  const byPort = new Map<number, number>();
  for (let i = 0; i < list.length; i++) {
    const port = list[i] as Record<string, unknown>;
    const nodePort = num(port, 'nodePort');
    if (nodePort === 0 && !shouldAllocateNodePorts(spec)) continue;
    const number = num(port, 'port');
    const shared = byPort.get(number) ?? 0;
    if (shared === 0) {
      // A node port asked for by any port of the same number.
      const requested = num(list.find((p) => num(p, 'port') === number && num(p, 'nodePort') !== 0), 'nodePort');
      if (requested !== 0) {
        await ports.claimFor(requested, i);
        port.nodePort = requested;
        byPort.set(number, requested);
      } else {
        const next = await ports.nextNodePort();
        port.nodePort = next;
        byPort.set(number, next);
      }
    } else if (nodePort !== shared) {
      if (nodePort === 0) port.nodePort = shared;
      else await ports.claimFor(nodePort, i);
    }
  }
}

/** allocHealthCheckNodePort: the one asked for, or any; 500 as kube's when it cannot be had. */
async function allocateHealthCheckNodePort(ports: NodePortClaims, spec: Record<string, unknown>): Promise<void> {
  const requested = num(spec, 'healthCheckNodePort');
  if (requested !== 0) {
    const problem = await ports.claim(requested);
    if (problem !== undefined) throw internalError(`failed to allocate requested HealthCheck NodePort ${requested}: ${problem}`);
    return;
  }
  const port = await ports.next();
  if (port === undefined) throw internalError('failed to allocate a HealthCheck NodePort 0: range is full');
  spec.healthCheckNodePort = port;
}

/** What a Service holds of the pools: its cluster IPs (canonical, "None" left out) and node ports (health check's included). */
function heldBy(spec: Record<string, unknown> | undefined): { ips: string[]; ports: number[] } {
  const ips = strings(spec, 'clusterIPs')
    .filter((ip) => ip !== CLUSTER_IP_NONE)
    .map((ip) => parseIP(ip))
    .filter((ip) => ip !== undefined)
    .map(formatIP);
  const ports = nodePortsOf(spec);
  const healthCheck = num(spec, 'healthCheckNodePort');
  if (healthCheck !== 0 && !ports.includes(healthCheck)) ports.push(healthCheck);
  return { ips, ports };
}

export class ServiceAllocator implements KindAllocator {
  async allocateCreate(object: KubeObject, context: AllocationContext): Promise<Allocation> {
    const claims = new Claims(context, parentOf(object));
    const spec = specOf(object);
    if (spec === undefined || str(spec, 'type') === TYPE_EXTERNAL_NAME) return claims.allocation(object);
    const network = serviceNetwork(context.cluster);
    const name = parentOf(object).name;
    completeIPFamilies(object, spec, network);
    try {
      await allocateClusterIPs(claims, spec, network, name);
      const ports = new NodePortClaims(claims, network.ports, name);
      if (needsNodePort(spec)) await allocateNodePorts(ports, spec);
      if (needsHealthCheck(spec)) await allocateHealthCheckNodePort(ports, spec);
    } catch (err) {
      await claims.revert();
      throw err;
    }
    return claims.allocation(object);
  }

  async allocateUpdate(object: KubeObject, old: KubeObject, context: AllocationContext): Promise<Allocation> {
    const claims = new Claims(context, parentOf(object));
    const spec = specOf(object);
    const oldSpec = specOf(old) ?? {};
    if (spec === undefined) return claims.allocation(object);
    const network = serviceNetwork(context.cluster);
    const name = parentOf(object).name;
    completeIPFamilies(object, spec, network);
    const type = str(spec, 'type');
    const oldType = str(oldSpec, 'type');
    try {
      // Cluster IPs: allocated when the Service stops being an ExternalName, released when it becomes one.
      if (oldType === TYPE_EXTERNAL_NAME && type !== TYPE_EXTERNAL_NAME) {
        await allocateClusterIPs(claims, spec, network, name);
      } else if (oldType !== TYPE_EXTERNAL_NAME && type === TYPE_EXTERNAL_NAME && strings(oldSpec, 'clusterIPs')[0] !== CLUSTER_IP_NONE) {
        for (const ip of heldBy(oldSpec).ips) claims.releaseOnCommit(ipRef(ip));
      }
      // Node ports: released when the Service no longer has them, else those added claimed and those dropped released.
      const ports = new NodePortClaims(claims, network.ports, name);
      if (needsNodePort(oldSpec) && (type === TYPE_EXTERNAL_NAME || type === TYPE_CLUSTER_IP)) {
        for (const port of nodePortsOf(oldSpec)) claims.releaseOnCommit(portRef(port));
      }
      if (needsNodePort(spec)) await this.updateNodePorts(ports, spec, oldSpec);
      // The health check node port follows whether the Service needs one.
      const needed = needsHealthCheck(oldSpec);
      if (!needed && needsHealthCheck(spec)) await allocateHealthCheckNodePort(ports, spec);
      else if (needed && !needsHealthCheck(spec) && num(oldSpec, 'healthCheckNodePort') !== 0) {
        const port = num(oldSpec, 'healthCheckNodePort');
        if (!nodePortsOf(spec).includes(port)) claims.releaseOnCommit(portRef(port));
      }
    } catch (err) {
      await claims.revert();
      throw err;
    }
    return claims.allocation(object);
  }

  /** updateNodePorts: ports asked for that the Service did not hold are claimed, missing ones picked, dropped ones released. */
  private async updateNodePorts(ports: NodePortClaims, spec: Record<string, unknown>, oldSpec: Record<string, unknown>): Promise<void> {
    const held = needsNodePort(oldSpec) ? nodePortsOf(oldSpec) : [];
    const claimed = new Set<number>();
    const list = portsOf(spec);
    for (let i = 0; i < list.length; i++) {
      const port = list[i] as Record<string, unknown>;
      const nodePort = num(port, 'nodePort');
      if (nodePort === 0 && !shouldAllocateNodePorts(spec)) continue;
      if (nodePort !== 0) {
        if (!held.includes(nodePort) && !claimed.has(nodePort)) {
          await ports.claimFor(nodePort, i);
          claimed.add(nodePort);
        }
      } else {
        port.nodePort = await ports.nextNodePort();
      }
    }
    const kept = nodePortsOf(spec);
    for (const port of held) if (!kept.includes(port)) ports.releaseOnCommit(port);
  }

  async release(object: KubeObject, context: AllocationContext): Promise<void> {
    if (context.dryRun) return;
    const parent = parentOf(object);
    const { ips, ports } = heldBy(specOf(object));
    for (const ip of ips) await releaseRecord(context, ipRef(ip), parent);
    for (const port of ports) await releaseRecord(context, portRef(port), parent);
  }

  async repair(context: AllocationContext, options: { graceMs: number; now?: Date }): Promise<RepairReport> {
    const now = (options.now ?? new Date()).getTime();
    const report: RepairReport = { restored: 0, released: 0, conflicts: [] };
    const network = serviceNetwork(context.cluster);
    // Records first, Services second: a record claimed after the first read is not judged, and a
    // Service stored after its claim is seen with it.
    const ipRecords = (await listRecords(context, IP_ADDRESSES)).filter((r) => stringMap(r.metadata as Record<string, unknown>, 'labels')?.[MANAGED_BY_LABEL] === IP_ALLOCATOR);
    const portRecords = await listRecords(context, NODE_PORTS);
    const services = await listRecords(context, SERVICES);
    const ipHolders = new Map<string, Parent[]>();
    const portHolders = new Map<number, Parent[]>();
    for (const service of services) {
      const spec = specOf(service);
      if (str(spec, 'type') === TYPE_EXTERNAL_NAME) continue;
      const parent = parentOf(service);
      const held = heldBy(spec);
      for (const ip of held.ips) ipHolders.set(ip, [...(ipHolders.get(ip) ?? []), parent]);
      for (const port of held.ports) portHolders.set(port, [...(portHolders.get(port) ?? []), parent]);
    }
    // Values outside today's ranges (the flags changed) keep their records, but are not claimed again.
    const inIPRange = (ip: string) => {
      const parsed = parseIP(ip);
      return parsed !== undefined && inServiceRange(network.ips, parsed);
    };
    const inPortRange = (port: number) => port >= network.ports.base && port < network.ports.base + network.ports.size;
    const recorded = (records: KubeObject[]) => new Map(records.map((r) => [String(r.metadata?.name ?? ''), r]));
    const ipRecordByName = recorded(ipRecords);
    const portRecordByName = recorded(portRecords);
    const conflicts = (resource: string, holders: Map<string | number, Parent[]>) => {
      for (const [value, parents] of holders) {
        if (parents.length > 1) report.conflicts.push(`${resource}/${value}: ${parents.map((h) => `${h.namespace}/${h.name}`).join(', ')}`);
      }
    };
    conflicts(IP_ADDRESSES.resource, ipHolders);
    conflicts(NODE_PORTS.resource, portHolders);
    const restore = async (ref: RecordRef, holders: Parent[], family?: IPFamily) => {
      const claims = new Claims({ ...context, dryRun: false }, holders[0] as Parent);
      if (await claims.claim(ref, family)) report.restored++;
    };
    for (const [ip, holders] of ipHolders) if (inIPRange(ip) && !ipRecordByName.has(ip)) await restore(ipRef(ip), holders, network.ips.family);
    for (const [port, holders] of portHolders) if (inPortRange(port) && !portRecordByName.has(String(port))) await restore(portRef(port), holders);
    const releaseIfOrphan = async (ref: RecordRef, record: KubeObject, holders: Parent[] | undefined) => {
      const parent = parentRefOf(record);
      if (parent !== undefined && holders?.some((h) => sameParent(parent, h)) === true) return;
      const created = Date.parse(String(record.metadata?.creationTimestamp ?? ''));
      if (Number.isFinite(created) && now - created < options.graceMs) return;
      // Read the parent again: it may have been written since the list.
      if (parent !== undefined && (await this.holds(context, parent, ref))) return;
      const uid = record.metadata?.uid;
      try {
        await context.store.delete(ref, typeof uid === 'string' && uid !== '' ? { uid } : {}, context.signal);
        report.released++;
      } catch (err) {
        if (!isReason(err, 'NotFound') && !isReason(err, 'Conflict')) throw err;
      }
    };
    for (const [name, record] of ipRecordByName) await releaseIfOrphan(ipRef(name), record, ipHolders.get(name));
    for (const [name, record] of portRecordByName) await releaseIfOrphan(portRef(Number(name)), record, portHolders.get(Number(name)));
    return report;
  }

  /** Whether the stored Service `parent` holds the value `ref` names. */
  private async holds(context: AllocationContext, parent: Parent, ref: RecordRef): Promise<boolean> {
    let service: KubeObject;
    try {
      service = await context.store.get({ ...SERVICES, namespace: parent.namespace, name: parent.name }, {}, context.signal);
    } catch (err) {
      if (isReason(err, 'NotFound')) return false;
      throw err;
    }
    const held = heldBy(specOf(service));
    return ref.resource === IP_ADDRESSES.resource ? held.ips.includes(ref.name) : held.ports.includes(Number(ref.name));
  }
}
