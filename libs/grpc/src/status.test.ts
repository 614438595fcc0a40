import * as grpc from '@grpc/grpc-js';
import { QueryTimeoutError, RemoteError, UpstreamUnavailableError } from '@fairway/errors';
import { fromGrpcError, toGrpcError } from './status';

/** A client-side ServiceError as grpc-js raises it from a status object. */
function serviceError(status: Partial<grpc.StatusObject>): grpc.ServiceError {
  return Object.assign(new Error(status.details ?? ''), {
    code: status.code ?? grpc.status.UNKNOWN,
    details: status.details ?? '',
    metadata: status.metadata ?? new grpc.Metadata(),
  });
}

describe('QUERY_TIMEOUT over gRPC', () => {
  it('is DEADLINE_EXCEEDED with the Fairway code and retriability in metadata', () => {
    const status = toGrpcError(new QueryTimeoutError('acme', 'lock', 200, 'heavy'));
    expect(status.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(status.metadata?.get('x-fairway-error-code')).toEqual(['QUERY_TIMEOUT']);
    expect(status.metadata?.get('x-fairway-retriable')).toEqual(['true']);
  });

  it("comes back to the caller as QUERY_TIMEOUT, while a call's own DEADLINE_EXCEEDED stays an unreachable upstream", () => {
    const back = fromGrpcError('worker', serviceError(toGrpcError(new QueryTimeoutError('acme', 'statement', 300, 'heavy'))));
    expect(back).toBeInstanceOf(RemoteError);
    expect(back).toMatchObject({ code: 'QUERY_TIMEOUT', retriable: false });
    const own = fromGrpcError('worker', serviceError({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }));
    expect(own).toBeInstanceOf(UpstreamUnavailableError);
  });
});
