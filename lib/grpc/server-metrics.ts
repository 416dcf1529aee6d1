/**
 * The gRPC server's metrics, with go-grpc-prometheus's names and labels (the ones kube's own
 * gRPC servers and most Prometheus dashboards use):
 *
 * - grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}: calls completed,
 *   by their status code's name ('OK', 'NotFound', ...);
 * - grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}: how long they took.
 *
 * A call multiplexed over a service's Exchange stream counts as a unary call of its own
 * method, so the counts per method are the same whichever way a client calls.
 */
import { status as GrpcCode } from '@grpc/grpc-js';
import type { Counter, Histogram } from 'prom-client';
import { DEFAULT_BUCKETS, type Metrics } from '../metrics.ts';

export type RpcType = 'unary' | 'server_stream' | 'bidi_stream';

/** The names Go's codes.Code.String() gives, which go-grpc-prometheus puts in grpc_code. */
const CODE_NAMES: Readonly<Record<number, string>> = {
  [GrpcCode.OK]: 'OK',
  [GrpcCode.CANCELLED]: 'Canceled',
  [GrpcCode.UNKNOWN]: 'Unknown',
  [GrpcCode.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcCode.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [GrpcCode.NOT_FOUND]: 'NotFound',
  [GrpcCode.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcCode.PERMISSION_DENIED]: 'PermissionDenied',
  [GrpcCode.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [GrpcCode.FAILED_PRECONDITION]: 'FailedPrecondition',
  [GrpcCode.ABORTED]: 'Aborted',
  [GrpcCode.OUT_OF_RANGE]: 'OutOfRange',
  [GrpcCode.UNIMPLEMENTED]: 'Unimplemented',
  [GrpcCode.INTERNAL]: 'Internal',
  [GrpcCode.UNAVAILABLE]: 'Unavailable',
  [GrpcCode.DATA_LOSS]: 'DataLoss',
  [GrpcCode.UNAUTHENTICATED]: 'Unauthenticated',
};

/** The grpc_code label value of a status code. */
export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? `Code(${code})`;
}

/**
 * One method's instruments, label values bound: done() builds no label object once a code was
 * seen (prom-client still validates and hashes the bound labels on each inc and observe).
 */
export class MethodMetrics {
  private readonly handled: Counter<string>;
  private readonly labels: readonly [string, string, string];
  private readonly byCode = new Map<number, Counter.Internal>();
  private readonly seconds: Histogram.Internal<string>;

  constructor(handled: Counter<string>, handling: Histogram<string>, type: RpcType, service: string, method: string) {
    this.handled = handled;
    this.labels = [type, service, method];
    this.seconds = handling.labels(type, service, method);
    // Every method shows up at 0 from the start, as go-grpc-prometheus's InitializeMetrics does.
    this.counter(GrpcCode.OK).inc(0);
  }

  /** Starts timing a call: process.hrtime.bigint() now. */
  start(): bigint {
    return process.hrtime.bigint();
  }

  /** Counts a call started at `startNs` that ended with `code`. */
  done(startNs: bigint, code: number): void {
    this.counter(code).inc();
    this.seconds.observe(Number(process.hrtime.bigint() - startNs) / 1e9);
  }

  private counter(code: number): Counter.Internal {
    let child = this.byCode.get(code);
    if (child === undefined) {
      child = this.handled.labels(...this.labels, grpcCodeName(code));
      this.byCode.set(code, child);
    }
    return child;
  }
}

/** The instruments of one gRPC server; methods get theirs once, when added. */
export class RpcMetrics {
  private readonly handled: Counter<string>;
  private readonly handling: Histogram<string>;

  constructor(metrics: Metrics) {
    const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
    this.handled = metrics.counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...labelNames, 'grpc_code'],
    });
    this.handling = metrics.histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames,
      buckets: DEFAULT_BUCKETS,
    });
  }

  /** The instruments of `rpcName` ('apiserver.v1.Storage/Get'). */
  method(rpcName: string, type: RpcType): MethodMetrics {
    const slash = rpcName.lastIndexOf('/');
    return new MethodMetrics(this.handled, this.handling, type, rpcName.slice(0, slash), rpcName.slice(slash + 1));
  }
}
