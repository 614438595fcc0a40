/**
 * The Fairway error catalog: one base class, stable codes, and the single mapping of each code to
 * HTTP (RFC 9457 problem+json) and to gRPC status.
 */
export { FairwayError } from './fairway-error';
export { errorCatalog, isErrorCode, type ErrorCode, type GrpcStatusName } from './catalog';
export * from './errors';
export { toProblem, toFairwayError, grpcStatusNameOf, PROBLEM_TYPE_BASE, type ProblemDetails } from './problem';
