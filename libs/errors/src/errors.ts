import { FairwayError } from './fairway-error';
import type { ErrorCode } from './catalog';

/** A request or message that fails its schema. `issues` name each bad field. */
export class ValidationError extends FairwayError {
  readonly code = 'VALIDATION_FAILED';
  readonly retriable = false;
  constructor(
    message: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
  override details(): Record<string, unknown> {
    return { errors: this.issues };
  }
}

/** The job type is not one the platform runs. */
export class UnknownJobTypeError extends FairwayError {
  readonly code = 'UNKNOWN_JOB_TYPE';
  readonly retriable = false;
  constructor(
    readonly jobType: string,
    readonly known: readonly string[],
  ) {
    super(`job type '${jobType}' is not known; use one of: ${known.join(', ')}`);
  }
  override details(): Record<string, unknown> {
    return { jobType: this.jobType, knownTypes: this.known };
  }
}

/** No credential, or one that does not verify. The message never says which tenant exists. */
export class UnauthenticatedError extends FairwayError {
  readonly code = 'UNAUTHENTICATED';
  readonly retriable = false;
}

/** A subdomain or header names a tenant other than the one the credential belongs to. */
export class TenantMismatchError extends FairwayError {
  readonly code = 'TENANT_MISMATCH';
  readonly retriable = false;
  constructor(
    readonly claimed: string,
    readonly credential: string,
    readonly source: string,
  ) {
    super(`${source} names tenant '${claimed}' but the credential belongs to '${credential}'`);
  }
}

/** The tenant exists but is suspended: the edge refuses it and the scheduler holds its jobs. */
export class TenantSuspendedError extends FairwayError {
  readonly code = 'TENANT_SUSPENDED';
  readonly retriable = false;
  constructor(readonly tenantId: string) {
    super(`tenant '${tenantId}' is suspended; an operator can resume it`);
  }
}

/** Code that needs a tenant ran outside any tenant context. */
export class TenantRequiredError extends FairwayError {
  readonly code = 'TENANT_REQUIRED';
  readonly retriable = false;
  constructor(what: string) {
    super(`${what} needs a tenant context and none is set; run it inside runWithTenant()`);
  }
}

/** The resource does not exist, or belongs to another tenant (the two are not told apart). */
export class NotFoundError extends FairwayError {
  readonly code = 'NOT_FOUND';
  readonly retriable = false;
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} '${id}' not found`);
  }
}

/** The same Idempotency-Key came back with a different body. */
export class IdempotencyKeyReusedError extends FairwayError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly retriable = false;
  constructor(readonly key: string) {
    super(`Idempotency-Key '${key}' was already used with a different body; use a new key for a new command`);
  }
}

/** The broker could not acknowledge the write; nothing was stored. */
export class BrokerUnavailableError extends FairwayError {
  readonly code = 'BROKER_UNAVAILABLE';
  readonly retriable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Too many requests for one tenant. */
export class RateLimitedError extends FairwayError {
  readonly code = 'RATE_LIMITED';
  readonly retriable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * One client (an IP address) failed authentication too often: further requests that would need a
 * credential lookup are refused until `retryAfterSeconds` have passed. Not a tenant's limit: the
 * client is not known to belong to any tenant.
 */
export class AuthenticationThrottledError extends FairwayError {
  readonly code = 'AUTHENTICATION_THROTTLED';
  readonly retriable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A late result from an attempt that no longer holds the job's lease (fencing). */
export class StaleAttemptError extends FairwayError {
  readonly code = 'STALE_ATTEMPT';
  readonly retriable = false;
  constructor(
    readonly jobId: string,
    readonly attempt: number,
    readonly current: number,
  ) {
    super(`job '${jobId}' attempt ${attempt} is stale: attempt ${current} holds the lease`);
  }
}

/** A job ran and failed. `retriable` is decided by the job. */
export class JobFailedError extends FairwayError {
  readonly code = 'JOB_FAILED';
  constructor(
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A configuration value is missing or wrong; the process stops with this message. */
export class ConfigInvalidError extends FairwayError {
  readonly code = 'CONFIG_INVALID';
  readonly retriable = false;
}

/** Anything not raised on purpose, wrapped so its details never reach a client. */
export class InternalError extends FairwayError {
  readonly code = 'INTERNAL';
  readonly retriable = false;
}

/** Errors the HTTP layer raises for malformed requests. */
export class HttpRequestError extends FairwayError {
  readonly retriable = false;
  constructor(
    readonly code: 'MALFORMED_JSON' | 'UNSUPPORTED_MEDIA_TYPE' | 'PAYLOAD_TOO_LARGE' | 'ROUTE_NOT_FOUND' | 'METHOD_NOT_ALLOWED',
    message: string,
  ) {
    super(message);
  }
}

/** The credential is valid but not for this API: a tenant token on the admin API, an operator token on the tenant API. */
export class ForbiddenError extends FairwayError {
  readonly code = 'FORBIDDEN';
  readonly retriable = false;
}

/** A browser's state-changing request to the operator console without its session's CSRF token, or from another site. */
export class CsrfTokenInvalidError extends FairwayError {
  readonly code = 'CSRF_TOKEN_INVALID';
  readonly retriable = false;
}

/** Too many requests of one tenant are in progress at once. */
export class ConcurrencyLimitedError extends FairwayError {
  readonly code = 'CONCURRENCY_LIMITED';
  readonly retriable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly limit: number,
  ) {
    super(message);
  }
  override details(): Record<string, unknown> {
    return { limit: this.limit };
  }
}

/** A cancel asked for a job that is no longer queued. */
export class JobNotCancellableError extends FairwayError {
  readonly code = 'JOB_NOT_CANCELLABLE';
  readonly retriable = false;
  constructor(
    readonly jobId: string,
    readonly state: string,
  ) {
    super(`job '${jobId}' is ${state}; only a queued job can be cancelled`);
  }
  override details(): Record<string, unknown> {
    return { jobId: this.jobId, state: this.state };
  }
}

/** A service the request depends on (Redis, the control plane, the scheduler) did not answer. */
export class UpstreamUnavailableError extends FairwayError {
  readonly code = 'UPSTREAM_UNAVAILABLE';
  readonly retriable = true;
  constructor(
    readonly upstream: string,
    message: string,
    readonly retryAfterSeconds = 5,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override details(): Record<string, unknown> {
    return { upstream: this.upstream };
  }
}

/**
 * PostgreSQL cannot be reached right now: connections refused or timing out, the server shutting
 * down or starting up. Nothing was done; the request may be retried as it was.
 */
export class DatabaseUnavailableError extends FairwayError {
  readonly code = 'DATABASE_UNAVAILABLE';
  readonly retriable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds = 2,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Which of a tenant's database time limits ended a transaction. */
export type QueryTimeoutKind = 'statement' | 'lock' | 'idle_in_transaction';

/**
 * PostgreSQL cancelled a statement of a tenant's transaction at one of the tenant's query time
 * limits (statement_timeout, lock_timeout, idle_in_transaction_session_timeout); the transaction
 * was rolled back. A lock timeout is retriable (the lock holder moves on); a statement that ran
 * past its limit will do so again until the query or the limit changes.
 */
export class QueryTimeoutError extends FairwayError {
  readonly code = 'QUERY_TIMEOUT';
  readonly retriable: boolean;
  constructor(
    readonly tenantId: string,
    readonly kind: QueryTimeoutKind,
    readonly limitMs: number | null,
    readonly workload: string,
    options?: { cause?: unknown },
  ) {
    super(
      `a ${workload} transaction of tenant '${tenantId}' ran past its ${kind.replace(/_/g, ' ')} limit${limitMs === null ? '' : ` of ${limitMs} ms`} and was rolled back; ` +
        (kind === 'lock' ? 'retry shortly' : 'narrow the query, or ask an operator to raise the limit'),
      options,
    );
    this.retriable = kind === 'lock';
  }
  override details(): Record<string, unknown> {
    return { timeout: this.kind, limitMs: this.limitMs, workload: this.workload };
  }
}

/**
 * An error another Fairway service returned (over gRPC, with its code in metadata), re-raised
 * under the same stable code so the caller's client sees what the service said.
 */
export class RemoteError extends FairwayError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
