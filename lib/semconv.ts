/**
 * The OpenTelemetry semantic-convention attribute names the project's spans use. Stable names
 * come from @opentelemetry/semantic-conventions; names still marked incubating there are
 * copied here, as that package advises (its incubating entry point may change between minor
 * versions), with the value they have in semantic-conventions 1.45.
 */
export {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';

/** Incubating: the RPC system, "grpc" here. */
export const ATTR_RPC_SYSTEM = 'rpc.system';
/** Incubating: the full name of the RPC service, e.g. "apiserver.v1.Storage". */
export const ATTR_RPC_SERVICE = 'rpc.service';
/** Incubating: the RPC method, e.g. "Create". */
export const ATTR_RPC_METHOD = 'rpc.method';
/** Incubating: the numeric gRPC status code of the call. */
export const ATTR_RPC_GRPC_STATUS_CODE = 'rpc.grpc.status_code';
/** Deprecated in favour of db.system.name, still what Jaeger and many back ends filter on. */
export const ATTR_DB_SYSTEM = 'db.system';
/** Incubating: the messaging system, "redis" for the changefeed. */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
/** Incubating: the channel a message is published to or received from. */
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
/** Incubating: "send", "receive", "process", "create" or "settle". */
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
/** Incubating: the system's name of the operation, e.g. "publish". */
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
/** Incubating: how many messages one batch operation carried. */
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
