import * as grpc from '@grpc/grpc-js';
import { grpcStatusNameOf, toFairwayError, type GrpcStatusName } from '@fairway/errors';

const STATUS: Record<GrpcStatusName, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
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
