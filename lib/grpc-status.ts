/**
 * A StatusError on the gRPC wire: the gRPC code from the reason table, and the Kubernetes
 * Status inside a google.rpc.Status in the `grpc-status-details-bin` trailer, so the client
 * decodes the same error, never parsing message text.
 */
import { Metadata, status as GrpcCode, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { isStatusReason, StatusError, type StatusDetails } from './errors.ts';
import { loadProtoRoot } from './proto.ts';

const DETAILS_KEY = 'grpc-status-details-bin';
const STATUS_TYPE_URL = 'type.googleapis.com/apiserver.v1.Status';

const root = loadProtoRoot();
const RpcStatus = root.lookupType('google.rpc.Status');
const KubeStatus = root.lookupType('apiserver.v1.Status');

/** A google.rpc.Status as proto-loader's objects hold it (also inside other messages). */
export interface RpcStatusMessage {
  code: number;
  message: string;
  details: { type_url: string; value: Buffer | Uint8Array }[];
}

/** The google.rpc.Status of `err`: its gRPC code and message, the Kubernetes Status in details. */
export function toRpcStatus(err: StatusError): RpcStatusMessage {
  const kube = KubeStatus.encode(
    KubeStatus.fromObject({
      status: 'Failure',
      message: err.message,
      reason: err.reason,
      code: err.code,
      details: err.details,
    }),
  ).finish();
  return { code: err.grpcCode, message: err.message, details: [{ type_url: STATUS_TYPE_URL, value: Buffer.from(kube) }] };
}

/**
 * toRpcStatus encoded: the value of the grpc-status-details-bin trailer, and of a multiplexed
 * call's error (CallResponse).
 */
export function encodeStatusDetails(err: StatusError): Buffer {
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject(toRpcStatus(err))).finish());
}

/**
 * A status travels in HTTP/2 trailers, which peers limit (grpc-js refuses more than 8 KiB of
 * them and fails the call with INTERNAL): past this size its texts are shortened.
 */
export const MAX_STATUS_TRAILER_BYTES = 4 * 1024;

/** `text` cut to `max` characters, saying how much was left out. */
function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;
}

/** The bytes of trailers a status takes: its message percent-encoded, its details in base64. */
function trailerBytes(message: string, details: Buffer): number {
  const bytes = Buffer.from(message);
  let nonAscii = 0;
  for (const b of bytes) if (b >= 0x80) nonAscii++;
  return bytes.length + 2 * nonAscii + Math.ceil((details.length * 4) / 3);
}

/** `err` with `fix` applied to each of its texts (message, name, the causes' message and field), and its causes limited. */
function mapTexts(err: StatusError, fix: (text: string, max: number) => string, maxMessage: number, maxCauses: number): StatusError {
  const d = err.details;
  const details = d === undefined
    ? undefined
    : {
        ...d,
        ...(d.name === undefined ? {} : { name: fix(d.name, 253) }),
        ...(d.causes === undefined || maxCauses === 0
          ? {}
          : {
              causes: d.causes.slice(0, maxCauses).map((c) => ({
                ...c,
                ...(c.message === undefined ? {} : { message: fix(c.message, 200) }),
                ...(c.field === undefined ? {} : { field: fix(c.field, 100) }),
              })),
            }),
      };
  if (details !== undefined && maxCauses === 0) delete details.causes;
  return new StatusError(err.reason, fix(err.message, maxMessage), details);
}

/**
 * `err` with its texts shortened so that its trailers fit MAX_STATUS_TRAILER_BYTES (an
 * Invalid Status quotes the values it refuses, which a client may make arbitrarily long):
 * first the message, the name and the first causes are cut short, then the causes go.
 */
export function fitForTrailers(err: StatusError): StatusError {
  const fits = (e: StatusError) => trailerBytes(e.message, encodeStatusDetails(e)) <= MAX_STATUS_TRAILER_BYTES;
  if (fits(err)) return err;
  const shortened = mapTexts(err, shorten, 512, 4);
  return fits(shortened) ? shortened : mapTexts(err, shorten, 128, 0);
}

/**
 * The gRPC status object a server sends for this error: its texts shortened to fit trailers,
 * and well-formed (a message may quote a client's string holding a lone UTF-16 surrogate,
 * which grpc-js cannot percent-encode: it would throw and take the process down). The common
 * case, a short and well-formed Status, is encoded once.
 */
export function toGrpcStatus(error: StatusError): Partial<StatusObject> & { code: GrpcCode } {
  let err = error;
  let details = encodeStatusDetails(err);
  if (trailerBytes(err.message, details) > MAX_STATUS_TRAILER_BYTES || !textsWellFormed(err)) {
    err = mapTexts(fitForTrailers(err), (t) => t.toWellFormed(), Infinity, Infinity);
    details = encodeStatusDetails(err);
  }
  const metadata = new Metadata();
  metadata.set(DETAILS_KEY, details);
  return { code: err.grpcCode, details: err.message, metadata };
}

/** Whether every text of `err` is well-formed UTF-16. */
function textsWellFormed(err: StatusError): boolean {
  const texts = [err.message, err.details?.name, ...(err.details?.causes ?? []).flatMap((c) => [c.message, c.field, c.reason])];
  return texts.every((t) => t === undefined || t.isWellFormed());
}

/**
 * apiserver.v1.Status as protobufjs decodes it. protobufjs reads .proto field names in camelCase
 * (retry_after_seconds is retryAfterSeconds), so StatusDetails maps onto the message as it is.
 */
interface DecodedKubeStatus {
  message?: string;
  reason?: string;
  details?: StatusDetails;
}

/** The StatusError inside a google.rpc.Status's details, if it holds one. */
function kubeStatusOf(details: { type_url: string; value: Uint8Array }[] | undefined): StatusError | undefined {
  const any = details?.find((d) => d.type_url === STATUS_TYPE_URL);
  if (any === undefined) return undefined;
  const kube = KubeStatus.toObject(KubeStatus.decode(any.value), { defaults: false }) as DecodedKubeStatus;
  if (kube.reason === undefined || !isStatusReason(kube.reason)) return undefined;
  return new StatusError(kube.reason, kube.message ?? '', kube.details);
}

/**
 * The error a google.rpc.Status carried in a message stands for: undefined for OK (or no
 * status), the Kubernetes Status from its details, or one derived from its code.
 */
export function fromRpcStatus(status: RpcStatusMessage | null | undefined): StatusError | undefined {
  if (status === null || status === undefined || status.code === GrpcCode.OK) return undefined;
  try {
    const err = kubeStatusOf(status.details);
    if (err !== undefined) return err;
  } catch {
    // Undecodable details: fall through to the code.
  }
  return fromGrpcCode(status.code, status.message);
}

/**
 * The StatusError a client sees for a failed call: the Status from the details when the
 * server sent one, otherwise a Status derived from the gRPC code (a transport failure).
 */
export function fromGrpcError(err: Partial<ServiceError> & { code?: number }): StatusError {
  const raw = err.metadata?.get(DETAILS_KEY)[0];
  const decoded = raw instanceof Buffer ? decodeStatusDetails(raw) : undefined;
  return decoded ?? fromGrpcCode(err.code ?? GrpcCode.UNKNOWN, err.details ?? 'unknown error');
}

/** The StatusError in encoded status details (encodeStatusDetails); undefined when there is none. */
export function decodeStatusDetails(raw: Uint8Array): StatusError | undefined {
  try {
    const rpc = RpcStatus.toObject(RpcStatus.decode(raw), { defaults: false }) as {
      details?: { type_url: string; value: Uint8Array }[];
    };
    return kubeStatusOf(rpc.details);
  } catch {
    // Undecodable details: the caller falls back to the gRPC code.
    return undefined;
  }
}

function fromGrpcCode(code: number, message: string): StatusError {
  switch (code) {
    case GrpcCode.UNAVAILABLE:
      // The transport's detail names internal addresses: not for API clients (callers log it).
      return new StatusError('ServiceUnavailable', 'service unavailable: a control plane service did not answer');
    case GrpcCode.DEADLINE_EXCEEDED:
    case GrpcCode.CANCELLED:
      // The transport's words (e.g. "Cancelled on client") say nothing to an API client.
      return new StatusError('Timeout', 'request did not complete within requested timeout');
    case GrpcCode.RESOURCE_EXHAUSTED:
      return new StatusError('RequestEntityTooLarge', message);
    case GrpcCode.UNAUTHENTICATED:
      return new StatusError('Unauthorized', 'Unauthorized');
    case GrpcCode.PERMISSION_DENIED:
      return new StatusError('Forbidden', message);
    case GrpcCode.UNIMPLEMENTED:
      return new StatusError('MethodNotAllowed', message);
    default:
      return new StatusError('InternalError', 'an internal error occurred');
  }
}
