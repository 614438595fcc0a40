import * as grpc from '@grpc/grpc-js';
import { grpcStatusNameOf, isErrorCode, RemoteError, toFairwayError, UpstreamUnavailableError, type ErrorCode, type GrpcStatusName } from '@fairway/errors';

const STATUS: Record<GrpcStatusName, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  ABORTED: grpc.status.ABORTED,
  UNIMPLEMENTED: grpc.status.UNIMPLEMENTED,
  INTERNAL: grpc.status.INTERNAL,
};

/** Metadata keys that carry a Fairway error's code and retriability to the caller. */
export const ERROR_CODE_METADATA_KEY = 'x-fairway-error-code';
export const ERROR_RETRIABLE_METADATA_KEY = 'x-fairway-retriable';

/** The one mapping from an error to a gRPC status object (code, message, Fairway code in metadata). */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
  const error = toFairwayError(err);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, error.code);
  metadata.set(ERROR_RETRIABLE_METADATA_KEY, String(error.retriable));
  return { code: STATUS[grpcStatusNameOf(error)], details: error.message, metadata };
}

/** The Fairway error code and retriability a failed call carried, when the server was Fairway. */
export function fairwayCodeOf(err: grpc.ServiceError): { code?: string; retriable?: boolean } {
  const code = err.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  const retriable = err.metadata?.get(ERROR_RETRIABLE_METADATA_KEY)[0];
  return {
    ...(code === undefined ? {} : { code: String(code) }),
    ...(retriable === undefined ? {} : { retriable: String(retriable) === 'true' }),
  };
}

/** The catalog code a caller should see for a gRPC status, when the server sent none. */
const STATUS_CODES: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'VALIDATION_FAILED',
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.PERMISSION_DENIED]: 'FORBIDDEN',
  [grpc.status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [grpc.status.FAILED_PRECONDITION]: 'TENANT_REQUIRED',
};

/**
 * A failed call to `upstream` as a Fairway error, the inverse of toGrpcError: unreachable (or
 * UNIMPLEMENTED) becomes UPSTREAM_UNAVAILABLE, anything else the server's own code when it sent one.
 */
export function fromGrpcError(upstream: string, err: grpc.ServiceError): Error {
  // DEADLINE_EXCEEDED is the call's own deadline unless the server said otherwise: a server's
  // QUERY_TIMEOUT (a tenant's statement cancelled by PostgreSQL) travels with its Fairway code.
  const sentByServer = err.code === grpc.status.DEADLINE_EXCEEDED && isErrorCode(fairwayCodeOf(err).code);
  if (!sentByServer && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.CANCELLED)) {
    return new UpstreamUnavailableError(upstream, `${upstream} cannot be reached (${grpc.status[err.code]}): ${err.details}; retry later`, 5, { cause: err });
  }
  if (err.code === grpc.status.UNIMPLEMENTED) {
    return new UpstreamUnavailableError(upstream, `${upstream} does not implement this call yet (${err.details})`, 30, { cause: err });
  }
  const remote = fairwayCodeOf(err);
  const code = isErrorCode(remote.code) ? remote.code : (STATUS_CODES[err.code] ?? 'INTERNAL');
  return new RemoteError(code, err.details || err.message, remote.retriable ?? false, { cause: err });
}
