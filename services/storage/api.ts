/**
 * The Storage interface: what every other service may ask of the state in etcd.
 *
 * resourceVersion strings are opaque outside storage (they are etcd revisions here).
 * Every method rejects with StatusError only:
 * NotFound, AlreadyExists, Conflict, BadRequest, Expired/Gone, RequestEntityTooLarge,
 * ServiceUnavailable (etcd unreachable), InternalError.
 */
import type { KubeObject } from '../../lib/kube.ts';

/** Which object (or collection) a call is about. Storage owns how this maps to etcd keys. */
export interface StorageRef {
  /** API group; "" for core. */
  group: string;
  /** Plural resource, e.g. "configmaps". */
  resource: string;
  /** "" for cluster-scoped resources, or for a list across all namespaces. */
  namespace: string;
  /** "" for a collection. */
  name: string;
}

export interface GetOptions {
  /** "" (or absent): the newest state, read with quorum; "0": any state (serializable read). */
  resourceVersion?: string;
}

export interface ListOptions {
  /** Maximum items per page; 0 for all. */
  limit?: number;
  /** Continue token of a previous page. */
  continue?: string;
  /** "": newest (quorum); "0": any; N: see resourceVersionMatch. */
  resourceVersion?: string;
  /** "" | "NotOlderThan" | "Exact". */
  resourceVersionMatch?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ListResult {
  /** Objects with metadata.resourceVersion set, in key order. */
  items: KubeObject[];
  /** The revision the whole list (every page) was read at. */
  resourceVersion: string;
  /** Token for the next page; "" on the last page. */
  continue: string;
  /** Items after this page, when known. */
  remainingItemCount?: number;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface Storage {
  /** Stores a new object; AlreadyExists when the name is taken. Returns it with its resourceVersion. */
  create(ref: StorageRef, object: KubeObject, signal?: AbortSignal): Promise<KubeObject>;
  /** Reads one object; NotFound when absent. */
  get(ref: StorageRef, options?: GetOptions, signal?: AbortSignal): Promise<KubeObject>;
  /** Lists a collection at one revision, paginated. */
  list(ref: StorageRef, options?: ListOptions, signal?: AbortSignal): Promise<ListResult>;
  /**
   * Deletes an object if `preconditions` hold (Conflict otherwise); NotFound when absent.
   * Returns the object's last state.
   */
  delete(ref: StorageRef, preconditions?: Preconditions, signal?: AbortSignal): Promise<KubeObject>;
  /** The newest revision of the store. */
  currentRevision(signal?: AbortSignal): Promise<string>;
}
