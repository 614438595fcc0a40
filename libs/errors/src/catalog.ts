/**
 * The error catalog: every stable code, its HTTP status, its gRPC status and what it means.
 * docs/errors.md documents each code and a unit test keeps the two in step.
 */
export const errorCatalog = {
  VALIDATION_FAILED: { http: 400, grpc: 'INVALID_ARGUMENT', title: 'The request is not valid' },
  MALFORMED_JSON: { http: 400, grpc: 'INVALID_ARGUMENT', title: 'The body is not valid JSON' },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, grpc: 'INVALID_ARGUMENT', title: 'The body must be application/json' },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: 'RESOURCE_EXHAUSTED', title: 'The body is too large' },
  UNKNOWN_JOB_TYPE: { http: 422, grpc: 'INVALID_ARGUMENT', title: 'The job type is not known' },
  UNAUTHENTICATED: { http: 401, grpc: 'UNAUTHENTICATED', title: 'No valid credential' },
  TENANT_MISMATCH: { http: 403, grpc: 'PERMISSION_DENIED', title: 'The request names a tenant its credential does not belong to' },
  TENANT_SUSPENDED: { http: 403, grpc: 'PERMISSION_DENIED', title: 'The tenant is suspended' },
  FORBIDDEN: { http: 403, grpc: 'PERMISSION_DENIED', title: 'The credential is not allowed to do this' },
  CSRF_TOKEN_INVALID: { http: 403, grpc: 'PERMISSION_DENIED', title: 'The change did not come from a page of this session' },
  TENANT_REQUIRED: { http: 400, grpc: 'FAILED_PRECONDITION', title: 'No tenant in context' },
  NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', title: 'No such resource' },
  ROUTE_NOT_FOUND: { http: 404, grpc: 'UNIMPLEMENTED', title: 'No such route' },
  METHOD_NOT_ALLOWED: { http: 405, grpc: 'UNIMPLEMENTED', title: 'Method not allowed on this route' },
  IDEMPOTENCY_KEY_REUSED: { http: 422, grpc: 'ALREADY_EXISTS', title: 'The Idempotency-Key was used with a different body' },
  RATE_LIMITED: { http: 429, grpc: 'RESOURCE_EXHAUSTED', title: 'Too many requests for this tenant' },
  CONCURRENCY_LIMITED: { http: 429, grpc: 'RESOURCE_EXHAUSTED', title: 'Too many concurrent requests for this tenant' },
  AUTHENTICATION_THROTTLED: { http: 429, grpc: 'RESOURCE_EXHAUSTED', title: 'Too many failed authentications from this client' },
  JOB_NOT_CANCELLABLE: { http: 409, grpc: 'FAILED_PRECONDITION', title: 'The job has already started or finished' },
  REENCRYPTION_IN_PROGRESS: { http: 409, grpc: 'FAILED_PRECONDITION', title: "A re-encryption of the tenant's data is still running" },
  TENANT_KEYS_DESTROYED: { http: 410, grpc: 'NOT_FOUND', title: "The tenant's data keys were destroyed" },
  TENANT_EXISTS: { http: 409, grpc: 'ALREADY_EXISTS', title: 'A tenant with this id already exists' },
  TENANT_MOVE_CONFLICT: { http: 409, grpc: 'FAILED_PRECONDITION', title: "The tenant's state does not allow this move" },
  BACKUP_INVALID: { http: 422, grpc: 'INVALID_ARGUMENT', title: 'The backup archive cannot be restored' },
  BROKER_UNAVAILABLE: { http: 503, grpc: 'UNAVAILABLE', title: 'Commands cannot be stored right now' },
  UPSTREAM_UNAVAILABLE: { http: 503, grpc: 'UNAVAILABLE', title: 'A service this request needs cannot be reached right now' },
  DATABASE_UNAVAILABLE: { http: 503, grpc: 'UNAVAILABLE', title: 'The database cannot be reached right now' },
  QUERY_TIMEOUT: { http: 504, grpc: 'DEADLINE_EXCEEDED', title: "A database statement ran past the tenant's query time limit" },
  JOB_FAILED: { http: 500, grpc: 'INTERNAL', title: 'The job failed' },
  STALE_ATTEMPT: { http: 409, grpc: 'ABORTED', title: 'A newer attempt of this job holds its lease' },
  CONFIG_INVALID: { http: 500, grpc: 'INTERNAL', title: 'The service configuration is not valid' },
  DECRYPTION_FAILED: { http: 500, grpc: 'INTERNAL', title: 'A stored value could not be decrypted' },
  INTERNAL: { http: 500, grpc: 'INTERNAL', title: 'Internal error' },
} as const satisfies Record<string, { http: number; grpc: GrpcStatusName; title: string }>;

/** A stable error code from the catalog. */
export type ErrorCode = keyof typeof errorCatalog;

/** gRPC status names (the numeric values live in libs/grpc, which owns the grpc-js dependency). */
export type GrpcStatusName =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'FAILED_PRECONDITION'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'ABORTED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

/** True when `value` is a code of the catalog (for codes that arrive over the wire). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(errorCatalog, value);
}
