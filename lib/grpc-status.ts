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

/**
 * The google.rpc.Status carrying the Kubernetes Status of this error, encoded: the value of
 * the grpc-status-details-bin trailer, and of a multiplexed call's error (CallResponse).
 */
export function encodeStatusDetails(err: StatusError): Buffer {
  const kube = KubeStatus.encode(
    KubeStatus.fromObject({
      status: 'Failure',
      message: err.message,
      reason: err.reason,
      code: err.code,
      details: err.details,
    }),
  ).finish();
  const rpc = RpcStatus.encode(
    RpcStatus.fromObject({
      code: err.grpcCode,
      message: err.message,
      details: [{ type_url: STATUS_TYPE_URL, value: kube }],
    }),
  ).finish();
  return Buffer.from(rpc);
}

/** The gRPC status object a server sends for this error. */
export function toGrpcStatus(err: StatusError): Partial<StatusObject> & { code: GrpcCode } {
  const metadata = new Metadata();
  metadata.set(DETAILS_KEY, encodeStatusDetails(err));
  return { code: err.grpcCode, details: err.message, metadata };
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
      code?: number;
      message?: string;
      details?: { type_url: string; value: Uint8Array }[];
    };
    const any = rpc.details?.find((d) => d.type_url === STATUS_TYPE_URL);
    if (any !== undefined) {
      const kube = KubeStatus.toObject(KubeStatus.decode(any.value), {
        defaults: false,
      }) as DecodedKubeStatus;
      if (kube.reason !== undefined && isStatusReason(kube.reason)) {
        return new StatusError(kube.reason, kube.message ?? '', kube.details);
      }
    }
  } catch {
    // Undecodable details: the caller falls back to the gRPC code.
  }
  return undefined;
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
