import { errorCatalog, type ErrorCode } from './catalog';
import { FairwayError } from './fairway-error';
import { InternalError } from './errors';

/** An RFC 9457 problem details document, with Fairway's stable `code`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  retriable: boolean;
  [extension: string]: unknown;
}

/** Base of the `type` URIs; each code documents itself at docs/errors.md#<code>. */
export const PROBLEM_TYPE_BASE = 'https://fairway.dev/errors/';

/** Any thrown value as a FairwayError; unknown errors become INTERNAL and keep their cause. */
export function toFairwayError(err: unknown): FairwayError {
  if (err instanceof FairwayError) return err;
  return new InternalError('an unexpected error occurred; it has been logged', { cause: err });
}

/** The one mapping from an error to an RFC 9457 document (HTTP). */
export function toProblem(err: unknown, instance?: string): ProblemDetails {
  const error = toFairwayError(err);
  const entry = errorCatalog[error.code];
  return {
    ...error.details(),
    type: `${PROBLEM_TYPE_BASE}${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: entry.title,
    status: entry.http,
    detail: error.message,
    code: error.code,
    retriable: error.retriable,
    ...(instance === undefined ? {} : { instance }),
  };
}

/** The gRPC status name for an error (the one mapping; libs/grpc turns it into a number). */
export function grpcStatusNameOf(err: unknown): (typeof errorCatalog)[ErrorCode]['grpc'] {
  return errorCatalog[toFairwayError(err).code].grpc;
}
