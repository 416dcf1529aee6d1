/**
 * The one error type of the control plane: a Kubernetes `Status`, and the one table that maps
 * each StatusReason to its HTTP status and gRPC code.
 *
 * Everything thrown across a service boundary is a {@link StatusError}. On the wire it travels
 * as a gRPC status whose details hold the Status (see grpc-status.ts) and comes back as the same
 * error on the client; at the REST edge it becomes a `kind: Status` body with the same code.
 */
import { status as GrpcCode } from '@grpc/grpc-js';
import { goQuote } from './go-strconv.ts';

/** metav1.StatusReason values the control plane produces. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

interface ReasonMapping {
  readonly http: number;
  readonly grpc: GrpcCode;
}

/**
 * Reason -> HTTP status and gRPC code. `satisfies Record<StatusReason, ...>` makes the compiler
 * refuse a reason without a row.
 */
export const REASONS = {
  BadRequest: { http: 400, grpc: GrpcCode.INVALID_ARGUMENT },
  Unauthorized: { http: 401, grpc: GrpcCode.UNAUTHENTICATED },
  Forbidden: { http: 403, grpc: GrpcCode.PERMISSION_DENIED },
  NotFound: { http: 404, grpc: GrpcCode.NOT_FOUND },
  MethodNotAllowed: { http: 405, grpc: GrpcCode.UNIMPLEMENTED },
  NotAcceptable: { http: 406, grpc: GrpcCode.INVALID_ARGUMENT },
  AlreadyExists: { http: 409, grpc: GrpcCode.ALREADY_EXISTS },
  Conflict: { http: 409, grpc: GrpcCode.ABORTED },
  Gone: { http: 410, grpc: GrpcCode.OUT_OF_RANGE },
  Expired: { http: 410, grpc: GrpcCode.OUT_OF_RANGE },
  RequestEntityTooLarge: { http: 413, grpc: GrpcCode.RESOURCE_EXHAUSTED },
  UnsupportedMediaType: { http: 415, grpc: GrpcCode.INVALID_ARGUMENT },
  Invalid: { http: 422, grpc: GrpcCode.INVALID_ARGUMENT },
  TooManyRequests: { http: 429, grpc: GrpcCode.RESOURCE_EXHAUSTED },
  InternalError: { http: 500, grpc: GrpcCode.INTERNAL },
  ServiceUnavailable: { http: 503, grpc: GrpcCode.UNAVAILABLE },
  Timeout: { http: 504, grpc: GrpcCode.DEADLINE_EXCEEDED },
} as const satisfies Record<StatusReason, ReasonMapping>;

export function isStatusReason(value: string): value is StatusReason {
  return Object.hasOwn(REASONS, value);
}

/** metav1.StatusCause */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.StatusDetails */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status as it appears in JSON. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/**
 * StatusDetails as kube writes them in JSON: every field is omitempty, so an empty name (a
 * list, a create without one) or group (the core group) is left out rather than written "".
 */
function withoutEmpty(details: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (details.name !== undefined && details.name !== '') out.name = details.name;
  if (details.group !== undefined && details.group !== '') out.group = details.group;
  if (details.kind !== undefined && details.kind !== '') out.kind = details.kind;
  if (details.uid !== undefined && details.uid !== '') out.uid = details.uid;
  if (details.causes !== undefined && details.causes.length > 0) out.causes = details.causes;
  if (details.retryAfterSeconds !== undefined && details.retryAfterSeconds !== 0) out.retryAfterSeconds = details.retryAfterSeconds;
  return out;
}

/** An error that is a Kubernetes Status with status Failure. */
export class StatusError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: StatusDetails | undefined;

  constructor(reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.reason = reason;
    this.code = REASONS[reason].http;
    this.details = details;
  }

  /** The gRPC code of this error's reason. */
  get grpcCode(): GrpcCode {
    return REASONS[this.reason].grpc;
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details !== undefined) status.details = withoutEmpty(this.details);
    return status;
  }

  /**
   * Normalises anything thrown into a StatusError. A StatusError passes through; anything
   * else becomes an InternalError whose message does not echo the original (it may hold
   * internals or secrets): callers log the original themselves.
   */
  static from(err: unknown): StatusError {
    if (err instanceof StatusError) return err;
    return new StatusError('InternalError', 'an internal error occurred');
  }
}

/** Identifies the object an error is about, as kube-apiserver's errors do. */
export interface Qualified {
  /** The resource, e.g. "configmaps". */
  resource: string;
  /** The API group; "" for core. */
  group: string;
}

/** A name as Go's %q prints it (kube's messages quote names that way). */
function quote(name: string): string {
  return JSON.stringify(name);
}

function qualifiedName(q: Qualified): string {
  return q.group === '' ? q.resource : `${q.resource}.${q.group}`;
}

/** `configmaps "x" not found` */
export function notFound(q: Qualified, name: string): StatusError {
  return new StatusError('NotFound', `${qualifiedName(q)} ${quote(name)} not found`, {
    name,
    group: q.group,
    kind: q.resource,
  });
}

/** `configmaps "x" already exists` */
export function alreadyExists(q: Qualified, name: string): StatusError {
  return new StatusError('AlreadyExists', `${qualifiedName(q)} ${quote(name)} already exists`, {
    name,
    group: q.group,
    kind: q.resource,
  });
}

/** `Operation cannot be fulfilled on configmaps "x": <why>` */
export function conflict(q: Qualified, name: string, why: string): StatusError {
  return new StatusError(
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(q)} ${quote(name)}: ${why}`,
    { name, group: q.group, kind: q.resource },
  );
}

/** A field error, as field.Error of k8s.io/apimachinery. */
export interface FieldError {
  /** FieldValueInvalid, FieldValueRequired, ... */
  type:
    | 'FieldValueInvalid'
    | 'FieldValueRequired'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueDuplicate'
    | 'FieldValueNotFound'
    | 'FieldValueTooMany';
  field: string;
  /** The text after the type's words, e.g. the validation message. */
  detail: string;
  /** The offending value, for the types that show one (Invalid, NotSupported, Duplicate, NotFound, TooMany). */
  value?: unknown;
}

/** The offending value as field.Error prints it: strings as %q, nil as null, others as JSON. */
function badValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return goQuote(value);
  return JSON.stringify(value) ?? String(value);
}

/** field.Error.ErrorBody(): the type's words, the value where the type shows one, then ": detail". */
function fieldErrorMessage(e: FieldError): string {
  let body: string;
  switch (e.type) {
    case 'FieldValueInvalid':
      body = `Invalid value: ${badValue(e.value)}`;
      break;
    case 'FieldValueRequired':
      body = 'Required value';
      break;
    case 'FieldValueNotSupported':
      body = `Unsupported value: ${badValue(e.value)}`;
      break;
    case 'FieldValueForbidden':
      body = 'Forbidden';
      break;
    case 'FieldValueTooLong':
      body = 'Too long';
      break;
    case 'FieldValueDuplicate':
      body = `Duplicate value: ${badValue(e.value)}`;
      break;
    case 'FieldValueNotFound':
      body = `Not found: ${badValue(e.value)}`;
      break;
    case 'FieldValueTooMany':
      body = `Too many: ${badValue(e.value)}`;
      break;
  }
  return e.detail === '' ? body : `${body}: ${e.detail}`;
}

/**
 * 422 Invalid in kube-apiserver's shape (errors.NewInvalid):
 * `ConfigMap "Bad" is invalid: metadata.name: Invalid value: "Bad": a lowercase RFC 1123 ...`;
 * the kind is qualified by its group (`Deployment.apps "x" is invalid: ...`), several errors are
 * listed in brackets, and repeated messages are shown once (field.ErrorList.ToAggregate).
 */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  const causes = errors.map((e) => ({ reason: e.type, message: fieldErrorMessage(e), field: e.field }));
  const list = [...new Set(causes.map((c) => `${c.field}: ${c.message}`))];
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  const message =
    list.length === 0
      ? `${qualifiedKind} ${quote(name)} is invalid`
      : `${qualifiedKind} ${quote(name)} is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
  return new StatusError('Invalid', message, {
    name,
    group,
    kind,
    causes,
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError('BadRequest', message);
}
