/**
 * What a kind that hands out cluster-wide resources declares (kube's REST storage hooks
 * BeginCreate/BeginUpdate/AfterDelete of Services, and the repair controllers behind them): an
 * allocator the request pipeline calls around its write, over allocation state kept in the
 * store, never in one process, so that every replica of every service sees the same claims.
 *
 * The pipeline knows nothing of what is allocated; the kind's allocator does (Service: cluster
 * IPs and node ports, lib/kinds/builtin/service/allocator.ts).
 */
import type { KubeObject } from '../kube.ts';

/** Which stored object a call is about (the storage service's StorageRef, which lib/ may not import). */
export interface RecordRef {
  group: string;
  resource: string;
  /** "" for cluster-scoped objects, or a list across all namespaces. */
  namespace: string;
  /** "" for a collection. */
  name: string;
}

/**
 * The part of the storage service allocators use: a create that fails with AlreadyExists when the
 * name is taken (the claim: etcd's create-if-absent), reads, lists and conditional deletes. The
 * storage service's API (and its gRPC client) is one.
 */
export interface AllocationStore {
  create(ref: RecordRef, object: KubeObject, signal?: AbortSignal): Promise<KubeObject>;
  get(ref: RecordRef, options?: { resourceVersion?: string }, signal?: AbortSignal): Promise<KubeObject>;
  list(ref: RecordRef, options?: { limit?: number; continue?: string }, signal?: AbortSignal): Promise<{ items: KubeObject[]; continue: string }>;
  delete(ref: RecordRef, preconditions?: { uid?: string; resourceVersion?: string }, signal?: AbortSignal): Promise<{ object: KubeObject; pending: boolean }>;
}

/**
 * What the cluster hands out and where the API server is, as kube-apiserver's flags configure
 * them (the gateway's flags of the same names, docs/configuration.md).
 */
export interface ClusterConfig {
  /** --service-cluster-ip-range: the CIDR cluster IPs come from (one IPv4 or IPv6 range). */
  readonly serviceClusterIPRange: string;
  /** --service-node-port-range: node ports, "30000-32767" (also "30000+2767" or one port). */
  readonly serviceNodePortRange: string;
  /** The API server's secure port: what the `kubernetes` Service forwards its port 443 to. */
  readonly apiServerPort: number;
  /**
   * --advertise-address: the address the `kubernetes` Service's endpoints name; "" when the API
   * server has none that clients in the cluster could reach (then no endpoints are written).
   */
  readonly advertiseAddress: string;
}

/** kube-apiserver's defaults. */
export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = Object.freeze({
  serviceClusterIPRange: '10.96.0.0/12',
  serviceNodePortRange: '30000-32767',
  apiServerPort: 6443,
  advertiseAddress: '',
});

/** What every allocator call gets. */
export interface AllocationContext {
  readonly store: AllocationStore;
  readonly cluster: ClusterConfig;
  /** A dry run checks what it would claim but claims nothing (kube's dry-run allocators). */
  readonly dryRun: boolean;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The claims made for one write, as kube's allocation transaction: `object` carries the allocated
 * values; once the write is done the pipeline calls exactly one of `commit` (it was stored:
 * release what the change gave up) or `revert` (it was not: release what was claimed for it).
 * Neither throws: a release that fails leaves a record the repair finds.
 */
export interface Allocation {
  readonly object: KubeObject;
  commit(): Promise<void>;
  revert(): Promise<void>;
}

/** What one repair pass did. */
export interface RepairReport {
  /** Records claimed again for stored objects that hold a value without one. */
  restored: number;
  /** Records of values no stored object holds (left by a crash between claim and write, or a failed release), released. */
  released: number;
  /** Values two stored objects hold at once (seen, not resolved: kube's repair reports them too). */
  conflicts: string[];
}

/**
 * A kind's allocator. Called by the pipeline after admission (so on an object that is valid and
 * has its final name and uid) and before storage; see docs/decisions.md.
 */
export interface KindAllocator {
  /**
   * Claims what a new object needs (the values it asks for when free and in range, else 422
   * Invalid; the others picked) and fills them in. Nothing stays claimed when it throws.
   */
  allocateCreate(object: KubeObject, context: AllocationContext): Promise<Allocation>;
  /**
   * Claims what an update adds and defers releasing what it gives up to `commit`. Nothing stays
   * claimed when it throws.
   */
  allocateUpdate(object: KubeObject, old: KubeObject, context: AllocationContext): Promise<Allocation>;
  /** Releases everything a removed object held (its records that still name it). Never throws. */
  release(object: KubeObject, context: AllocationContext): Promise<void>;
  /**
   * Brings the records in line with the stored objects: claims again what stored objects hold
   * without a record, and releases records no stored object holds once they are older than
   * `graceMs` (a record younger than that may belong to a write still under way).
   */
  repair(context: AllocationContext, options: { graceMs: number; now?: Date }): Promise<RepairReport>;
}
