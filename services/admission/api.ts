/**
 * Admission: every write passes the mutating plugins, then the validating ones, as in
 * kube-apiserver. A refusal is a StatusError (Invalid, Forbidden, NotFound for a missing
 * namespace, ...); mutations are returned as the object to store.
 */
import type { KubeObject } from '../../lib/kube.ts';
import type { UserInfo } from '../auth/api.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  operation: Operation;
  group: string;
  version: string;
  /** Plural resource, e.g. "configmaps". */
  resource: string;
  /**
   * The subresource written ("status", "scale", "binding", ...); "" or absent for the object
   * itself. Writes to status and scale carry an object of the resource's kind; a POST
   * subresource carries its own kind (`kind`).
   */
  subresource?: string;
  /** The kind of `object`: the resource's own, or a POST subresource's body kind (e.g. Binding). */
  kind: string;
  /** The namespace of the request ("" for cluster-scoped). */
  namespace: string;
  /** The object name ("" when generated). */
  name: string;
  /** The incoming object (CREATE, UPDATE). */
  object?: KubeObject | undefined;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject | undefined;
  user: UserInfo;
  dryRun: boolean;
}

export interface Admission {
  /** Runs the chain; resolves with the object to store (undefined for DELETE). */
  admit(request: AdmissionRequest, signal?: AbortSignal): Promise<KubeObject | undefined>;
}

/** A mutating plugin may change the object; it returns the (possibly new) object. */
export interface MutatingPlugin {
  readonly name: string;
  handles(request: AdmissionRequest): boolean;
  admit(request: AdmissionRequest, object: KubeObject, signal?: AbortSignal): Promise<KubeObject>;
}

/** A validating plugin only accepts or refuses (by throwing StatusError). */
export interface ValidatingPlugin {
  readonly name: string;
  handles(request: AdmissionRequest): boolean;
  validate(request: AdmissionRequest, object: KubeObject | undefined, signal?: AbortSignal): Promise<void>;
}
