/**
 * The Statuses storage answers with, word for word as kube-apiserver's etcd3 store and generic
 * registry produce them (k8s.io/apiserver/pkg/storage/errors.go, storage/etcd3/errors.go,
 * registry/rest/delete.go, apimachinery api/errors). Both backends build their errors here, so
 * a client cannot tell them apart.
 */
import { conflict, StatusError, type Qualified } from '../../../lib/errors.ts';

/** etcd3/errors.go `expired`: a list at a revision that has been compacted. */
export const LIST_EXPIRED_MESSAGE = 'The resourceVersion for the provided list is too old.';

/**
 * etcd3/errors.go `inconsistentContinue`: a continue token whose revision has been compacted.
 * (kube also puts a fresh token into the Status's ListMeta; a StatusError cannot carry one.)
 */
export const CONTINUE_EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** The error create() gives an object that carries a resourceVersion (etcd3 store.Create). */
export const RESOURCE_VERSION_ON_CREATE_MESSAGE = 'resourceVersion should not be set on objects to be created';

/** 410 Expired for a list at a compacted revision (resourceVersionMatch=Exact, or legacy exact). */
export function listExpired(): StatusError {
  return new StatusError('Expired', LIST_EXPIRED_MESSAGE);
}

/** 410 Expired for a continue token whose revision has been compacted. */
export function continueExpired(): StatusError {
  return new StatusError('Expired', CONTINUE_EXPIRED_MESSAGE);
}

/**
 * 410 Expired for history (or a change stream) that starts before the compacted revision, in
 * the words of kube's watch cache: "too old resource version: <asked> (<oldest available>)".
 */
export function historyExpired(from: number, compacted: number): StatusError {
  return new StatusError('Expired', `too old resource version: ${from} (${compacted})`);
}

/**
 * 504 Timeout for a resourceVersion newer than the store
 * (storage.NewTooLargeResourceVersionError): "Timeout: Too large resource version: N, current: M",
 * with the ResourceVersionTooLarge cause clients look for, and a retry hint of one second as
 * the watch cache gives after waiting.
 */
export function tooLargeResourceVersion(minimum: number | bigint, current: number): StatusError {
  return new StatusError('Timeout', `Timeout: Too large resource version: ${minimum}, current: ${current}`, {
    retryAfterSeconds: 1,
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
  });
}

/** 413 for an object over etcd's request limit, instead of etcd's error text. */
export function entityTooLarge(): StatusError {
  return new StatusError('RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
}

/**
 * 409 for a precondition that failed inside the storage layer (storage.Preconditions.Check, then
 * the registry's NewConflict around the StorageError):
 * `Operation cannot be fulfilled on configmaps "x": StorageError: invalid object, Code: 4,
 * Key: /registry/configmaps/ns/x, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ...`.
 */
export function storagePreconditionFailed(q: Qualified, name: string, key: string, why: string): StatusError {
  return conflict(q, name, `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${why}`);
}

/** storage.Preconditions.Check's words for a UID mismatch. */
export function uidPreconditionWords(wanted: string, actual: string): string {
  return `UID in precondition: ${wanted}, UID in object meta: ${actual}`;
}

/** storage.Preconditions.Check's words for a resourceVersion mismatch. */
export function resourceVersionPreconditionWords(wanted: string, actual: string): string {
  return `ResourceVersion in precondition: ${wanted}, ResourceVersion in object meta: ${actual}`;
}

/**
 * 409 from rest.BeforeDelete, which checks a delete's preconditions against the stored object
 * before anything is written. kube names the object by its Kind there (not its resource):
 * `Operation cannot be fulfilled on ConfigMap "x": the UID in the precondition (a) does not
 * match the UID in record (b). The object might have been deleted and then recreated`.
 */
export function deletePreconditionFailed(
  kind: Qualified,
  name: string,
  which: 'uid' | 'resourceVersion',
  wanted: string,
  actual: string,
): StatusError {
  const why =
    which === 'uid'
      ? `the UID in the precondition (${wanted}) does not match the UID in record (${actual}). The object might have been deleted and then recreated`
      : `the ResourceVersion in the precondition (${wanted}) does not match the ResourceVersion in record (${actual}). The object might have been modified`;
  return conflict(kind, name, why);
}
