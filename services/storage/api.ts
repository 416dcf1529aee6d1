/**
 * The Storage interface: what every other service may ask of the state in etcd.
 *
 * resourceVersion strings are opaque outside storage (they are etcd revisions here).
 * Every method rejects with StatusError only:
 * NotFound, AlreadyExists, Conflict, BadRequest, Expired/Gone, RequestEntityTooLarge,
 * ServiceUnavailable (etcd unreachable), InternalError.
 */
import type { ChangeType, StoredChange } from '../../lib/change-event.ts';
import type { StatusError } from '../../lib/errors.ts';
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

/** How an update is done. */
export interface UpdateOptions {
  /**
   * The update is the first step of a delete (kube's updateForGracefulDeletionAndFinalizers):
   * it may set metadata.deletionTimestamp and deletionGracePeriodSeconds (never clear them),
   * as the caller computed them from the state it read; it must carry that state's
   * resourceVersion, so that it is written only on that state.
   */
  deletion?: boolean;
}

/** How a delete is done. */
export interface DeleteOptions {
  /**
   * The delete takes the object's last finalizers away (the garbage collector's, which a
   * delete's propagation policy decides; kube's deletionFinalizersForGarbageCollection): it is
   * removed though the stored state has finalizers, writing no state without them first, so
   * watchers see one DELETED (kube's errDeleteNow). The caller computed that from one state:
   * the preconditions must carry its resourceVersion, so that only that state is removed.
   */
  finalizersRemoved?: boolean;
}

export interface DeleteResult {
  /** The last state; when pending, the stored state with deletionTimestamp set. */
  object: KubeObject;
  /** True when the object has finalizers and stays until they are removed. */
  pending: boolean;
}

/** One committed change from the store's history. */
export interface HistoryEvent {
  type: ChangeType;
  revision: number;
  namespace: string;
  name: string;
  /** The new state; for DELETED the last state with resourceVersion = revision. */
  object: KubeObject;
  /** The state before the change (absent for ADDED). */
  prevObject?: KubeObject | undefined;
}

export interface EventsResult {
  events: HistoryEvent[];
  /** The revision the answer is complete up to. */
  resourceVersion: string;
  /** True when `limit` cut the answer short. */
  more: boolean;
}

export interface EventsOptions {
  /** Exclusive lower bound. */
  fromRevision: string;
  /** Inclusive upper bound; the newest revision when absent. */
  toRevision?: string;
  /** At most this many events. */
  limit?: number;
}

export interface Storage {
  /** Stores a new object; AlreadyExists when the name is taken. Returns it with its resourceVersion. */
  create(ref: StorageRef, object: KubeObject, signal?: AbortSignal): Promise<KubeObject>;
  /** Reads one object; NotFound when absent. */
  get(ref: StorageRef, options?: GetOptions, signal?: AbortSignal): Promise<KubeObject>;
  /** Lists a collection at one revision, paginated. */
  list(ref: StorageRef, options?: ListOptions, signal?: AbortSignal): Promise<ListResult>;
  /**
   * Replaces an object. With `object.metadata.resourceVersion` set, only if that is still the
   * stored revision (Conflict: "the object has been modified; ..."); with `metadata.uid` set,
   * only if it matches. NotFound when absent. metadata.generation rises when anything but
   * metadata and status changed. An update that leaves an object being deleted without
   * finalizers removes it (and returns its last state). With `options.deletion` the update may
   * mark the object for deletion (see UpdateOptions).
   */
  update(ref: StorageRef, object: KubeObject, signal?: AbortSignal, options?: UpdateOptions): Promise<KubeObject>;
  /**
   * Deletes an object if `preconditions` hold (Conflict otherwise); NotFound when absent.
   * An object with metadata.finalizers is not removed: it gets deletionTimestamp and
   * deletionGracePeriodSeconds 0 (once) and the result is pending, unless
   * `options.finalizersRemoved` (see DeleteOptions).
   */
  delete(ref: StorageRef, preconditions?: Preconditions, signal?: AbortSignal, options?: DeleteOptions): Promise<DeleteResult>;
  /**
   * The committed changes of one resource (all namespaces, `ref.namespace` and `ref.name`
   * ignored) after `fromRevision`, in revision order. Expired when that revision has been
   * compacted.
   */
  events(ref: Pick<StorageRef, 'group' | 'resource'>, options: EventsOptions, signal?: AbortSignal): Promise<EventsResult>;
  /** The newest revision of the store. */
  currentRevision(signal?: AbortSignal): Promise<string>;
}

/**
 * A committed change of any resource, as a backend's change stream reports it: objects as
 * stored JSON, which the changefeed forwards without parsing (storedChangeEvent parses them),
 * and the key that changed.
 */
export type CommittedChange = StoredChange & { key: string };

/** A running subscription to a backend's changes. */
export interface ChangeSubscription {
  /** Stops delivery; resolves when no more calls of the handler will happen. */
  close(): Promise<void>;
}

/**
 * What the changefeed needs of a backend: every committed change in revision order, and
 * compaction of old history. Both backends implement it (etcd: its watch and compaction;
 * memory: its own log), so the changefeed and the compactor run against either.
 */
export interface ChangeSource {
  /**
   * Calls `onChanges` with every committed change of every resource after `fromRevision`, in
   * revision order, batches in order, until closed. `onError` gets Expired when
   * `fromRevision` has been compacted (the subscription is then over), or ServiceUnavailable
   * while the store cannot be reached (delivery resumes where it stopped).
   */
  watchChanges(fromRevision: string, onChanges: (changes: CommittedChange[]) => void, onError: (err: StatusError) => void): Promise<ChangeSubscription>;
  /** Discards history up to and including `revision`; reads and watches at it get Expired. */
  compact(revision: string): Promise<void>;
}
