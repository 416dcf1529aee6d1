/**
 * List and watch options as kube-apiserver checks them, in one place for every path that takes
 * them: the REST API (after services/gateway/rest/query.ts has read the query), the typed gRPC
 * API, storage's List and the watch service. So a request gets the same answer whichever way
 * it comes, in kube's words (apimachinery's ValidateListOptions, the selector parsers, the
 * storage's resourceVersion check), and in kube's order: values, selector syntax, the option
 * rules (422), the fields the resource can be selected by, the resourceVersion.
 *
 * The conversions to and from the gRPC messages (apiserver.v1.ListOptions and WatchOptions, which
 * storage, the watch service and the typed API share) live here too, so that every client and
 * server says the same thing on the wire.
 *
 * Two checks are this server's own, because kube lets the values through and misbehaves with
 * them: a negative limit and a negative timeoutSeconds are refused (400).
 */
import { badRequest, invalid, type FieldError } from './errors.ts';
import type { ListOptions as ListOptionsMessage, ListOptions__Output as ListOptionsReceived } from './gen/apiserver/v1/ListOptions.ts';
import type { WatchOptions as WatchOptionsMessage, WatchOptions__Output as WatchOptionsReceived } from './gen/apiserver/v1/WatchOptions.ts';
import { goQuote, parseUint64 } from './go-strconv.ts';
import {
  checkFieldsSupported,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
  type SelectableFields,
} from './selectors.ts';

/** The options of a list (metav1.ListOptions without watch). */
export interface ListOptions {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Objects per page; 0 or absent for all. */
  limit?: number | undefined;
  /** The continue token of the previous page. */
  continue?: string | undefined;
  /** "" (newest, quorum read), "0" (any), or a revision. */
  resourceVersion?: string | undefined;
  /** "", "NotOlderThan" or "Exact". */
  resourceVersionMatch?: string | undefined;
  /** Present only when the client sent it, which a list refuses. */
  sendInitialEvents?: boolean | undefined;
}

/** The options of a watch (metav1.ListOptions with watch). */
export interface WatchOptions {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  resourceVersion?: string | undefined;
  /** Only "NotOlderThan", and only with sendInitialEvents. */
  resourceVersionMatch?: string | undefined;
  allowWatchBookmarks?: boolean | undefined;
  /** Absent when the client did not send it (kube's rules tell absent from false). */
  sendInitialEvents?: boolean | undefined;
  /** Seconds until the server ends the watch; 0 or absent for its own choice. */
  timeoutSeconds?: number | undefined;
  /** A continue token: a watch ignores it, but refuses it with resourceVersionMatch. */
  continue?: string | undefined;
}

/** Parsed selectors of checked options. */
export interface CheckedSelectors {
  labels: LabelSelector;
  fields: FieldSelector;
  /** The resource's selectable fields (their values in an object). */
  selectable: SelectableFields;
  /** The resourceVersion as a number; 0 for "" and "0". */
  resourceVersion: bigint;
}

export interface CheckedListOptions extends CheckedSelectors {
  /** Objects per page, 0 for all; at most Number.MAX_SAFE_INTEGER (a larger page is the same). */
  limit: number;
}

const RESOURCE_VERSION_MATCH_EXACT = 'Exact';
const RESOURCE_VERSION_MATCH_NOT_OLDER_THAN = 'NotOlderThan';

/**
 * A resourceVersion argument of get, list or watch: "" and "0" are 0; anything else must be an
 * unsigned integer, otherwise BadRequest in the words of kube's list:
 * `invalid resource version: resourceVersion: Invalid value: "x": strconv.ParseUint: ...`.
 */
export function parseResourceVersion(rv: string | undefined): bigint {
  if (rv === undefined || rv === '' || rv === '0') return 0n;
  const parsed = parseUint64(rv);
  if ('error' in parsed) {
    throw badRequest(`invalid resource version: resourceVersion: Invalid value: ${goQuote(rv)}: ${parsed.error}`);
  }
  return parsed.value;
}

/** A count option: an integer, not negative (kube's words for a negative field). */
function nonNegativeInteger(field: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value)) throw badRequest(`${field}: Invalid value: ${value}: must be an integer`);
  if (value < 0) throw badRequest(`${field}: Invalid value: ${value}: must be greater than or equal to 0`);
  return Math.min(value, Number.MAX_SAFE_INTEGER);
}

/** The selectors parsed, the fields not yet checked against the resource (kube's order). */
function parseSelectors(o: { labelSelector?: string | undefined; fieldSelector?: string | undefined }): { labels: LabelSelector; fields: FieldSelector } {
  return { labels: parseLabelSelector(o.labelSelector ?? ''), fields: parseFieldSelector(o.fieldSelector ?? '', null) };
}

function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}

function notSupported(field: string, value: string, supported: string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, value, detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` };
}

/** 422 `ListOptions.meta.k8s.io "" is invalid: ...` when kube's rules refuse the combination. */
function refuse(errors: FieldError[]): void {
  if (errors.length > 0) throw invalid('ListOptions', 'meta.k8s.io', '', errors);
}

/** apimachinery's ValidateListOptions for a list. */
export function listOptionErrors(o: ListOptions): FieldError[] {
  const errors: FieldError[] = [];
  const match = o.resourceVersionMatch ?? '';
  const rv = o.resourceVersion ?? '';
  if (match !== '') {
    if (rv === '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if ((o.continue ?? '') !== '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== RESOURCE_VERSION_MATCH_EXACT && match !== RESOURCE_VERSION_MATCH_NOT_OLDER_THAN) {
      errors.push(notSupported('resourceVersionMatch', match, [RESOURCE_VERSION_MATCH_EXACT, RESOURCE_VERSION_MATCH_NOT_OLDER_THAN, '']));
    }
    if (match === RESOURCE_VERSION_MATCH_EXACT && rv === '0') {
      errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
    }
  }
  if (o.sendInitialEvents !== undefined) errors.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return errors;
}

/** apimachinery's ValidateListOptions for a watch, with the WatchList feature on (this server serves watch-lists). */
export function watchOptionErrors(o: WatchOptions): FieldError[] {
  const errors: FieldError[] = [];
  const match = o.resourceVersionMatch ?? '';
  if (o.sendInitialEvents !== undefined && match !== RESOURCE_VERSION_MATCH_NOT_OLDER_THAN) {
    errors.push(forbidden('resourceVersionMatch', `sendInitialEvents requires setting resourceVersionMatch to ${RESOURCE_VERSION_MATCH_NOT_OLDER_THAN}`));
  }
  if (match !== '') {
    if (o.sendInitialEvents === undefined) {
      errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
    }
    if (match !== RESOURCE_VERSION_MATCH_NOT_OLDER_THAN) errors.push(notSupported('resourceVersionMatch', match, [RESOURCE_VERSION_MATCH_NOT_OLDER_THAN]));
    if ((o.continue ?? '') !== '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
  }
  return errors;
}

/**
 * Checks the options of a list of a kind selectable by `selectable` and parses them. Throws BadRequest (a negative
 * limit, a malformed selector, a field the resource cannot be selected by, a malformed
 * resourceVersion) or Invalid (a combination ValidateListOptions refuses), in kube's order.
 * The continue token is storage's to decode.
 */
export function checkListOptions(selectable: SelectableFields, o: ListOptions): CheckedListOptions {
  const limit = nonNegativeInteger('limit', o.limit);
  const { labels, fields } = parseSelectors(o);
  refuse(listOptionErrors(o));
  checkFieldsSupported(fields, selectable.supported);
  return { labels, fields, selectable, limit, resourceVersion: parseResourceVersion(o.resourceVersion) };
}

/**
 * Checks the options of a watch of a kind selectable by `selectable` and parses them, as checkListOptions does a
 * list's (a negative timeoutSeconds is the BadRequest here).
 */
export function checkWatchOptions(selectable: SelectableFields, o: WatchOptions): CheckedSelectors {
  nonNegativeInteger('timeoutSeconds', o.timeoutSeconds);
  const { labels, fields } = parseSelectors(o);
  refuse(watchOptionErrors(o));
  checkFieldsSupported(fields, selectable.supported);
  return { labels, fields, selectable, resourceVersion: parseResourceVersion(o.resourceVersion) };
}

// ---- The wire form (apiserver.v1.ListOptions and WatchOptions) ----

/** The options of a list as a gRPC message; absent options are the message's zero values. */
export function listOptionsToProto(o: ListOptions): ListOptionsMessage {
  return {
    labelSelector: o.labelSelector ?? '',
    fieldSelector: o.fieldSelector ?? '',
    limit: o.limit ?? 0,
    continue: o.continue ?? '',
    resourceVersion: o.resourceVersion ?? '',
    resourceVersionMatch: o.resourceVersionMatch ?? '',
  };
}

/**
 * The options of a list as they came over gRPC, unchecked (checkListOptions is the receiver's
 * to call, as every other path's). No message is all zero values. The message has no
 * sendInitialEvents, so a list from the wire never carries one.
 */
export function listOptionsFromProto(o: ListOptionsReceived | null | undefined): ListOptions {
  return {
    limit: o === null || o === undefined ? 0 : Number(o.limit),
    continue: o?.continue ?? '',
    resourceVersion: o?.resourceVersion ?? '',
    resourceVersionMatch: o?.resourceVersionMatch ?? '',
    labelSelector: o?.labelSelector ?? '',
    fieldSelector: o?.fieldSelector ?? '',
  };
}

/**
 * The options of a watch as a gRPC message. A proto3 bool cannot say sendInitialEvents=false
 * (false is absent), and kube's rules need it for a resourceVersionMatch: without initial
 * events the match changes nothing, so it is left out. The continue token, which a watch
 * ignores, is not sent.
 */
export function watchOptionsToProto(o: WatchOptions): WatchOptionsMessage {
  return {
    labelSelector: o.labelSelector ?? '',
    fieldSelector: o.fieldSelector ?? '',
    resourceVersion: o.resourceVersion ?? '',
    resourceVersionMatch: o.sendInitialEvents === true ? (o.resourceVersionMatch ?? '') : '',
    allowWatchBookmarks: o.allowWatchBookmarks ?? false,
    sendInitialEvents: o.sendInitialEvents ?? false,
    timeoutSeconds: o.timeoutSeconds ?? 0,
  };
}

/**
 * The options of a watch as they came over gRPC, unchecked (checkWatchOptions is the
 * receiver's to call, so a value REST refuses is refused here too). sendInitialEvents=false
 * cannot be told from absent on the wire: false is absent.
 */
export function watchOptionsFromProto(o: WatchOptionsReceived | null | undefined): WatchOptions {
  if (o === null || o === undefined) return {};
  return {
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    allowWatchBookmarks: o.allowWatchBookmarks,
    sendInitialEvents: o.sendInitialEvents ? true : undefined,
    timeoutSeconds: Number(o.timeoutSeconds),
  };
}
