import type { NextFunction, Request, Response } from 'express';
import { AuthenticationThrottledError, ConcurrencyLimitedError, RateLimitedError, UnauthenticatedError } from '@fairway/errors';
import { runWithTenant, tenantContext, type TenantContext } from '@fairway/tenant-context';
import { TENANT_SPAN_ATTRIBUTE, type Logger } from '@fairway/telemetry';
import { trace } from '@opentelemetry/api';
import { setRateLimitHeaders, type AdmissionController } from './admission';
import type { FailedAuthLimiter } from './failed-auth-limiter';
import { resolveTenant, resolveTenantFromCache, TenantRefusal, type ResolvedTenant, type TenantResolverDeps } from './tenant-resolver';
import type { TenantLimits } from './tenant-limits';

declare module 'express-serve-static-core' {
  interface Request {
    /** The tenant the credential decided. Set by authenticate(); never from a client header. */
    tenant?: TenantContext;
  }
}

/** The tenant an authenticated request belongs to. */
export function requestTenant(req: Request): TenantContext {
  if (!req.tenant) throw new UnauthenticatedError('authentication is required');
  return req.tenant;
}

/** Called for every refused request: the reason (for logs and metrics) and the tenant if known. */
/** A refused request: why, the tenant it named (if any, not necessarily one that exists), its error code and the client's address. */
export type RefusalListener = (reason: string, tenantId: string | undefined, code: string, client: string) => void;

/** What the authentication and admission middleware needs. */
export interface AuthOptions extends TenantResolverDeps {
  admission: AdmissionController;
  limits: TenantLimits;
  log: Logger;
  onRefusal?: RefusalListener;
  /** Refuses (429) a client address that failed authentication too often; unset, nothing is throttled. */
  failedAuth?: FailedAuthLimiter;
}

/** The address a request came from: Express's req.ip (which honours 'trust proxy'), else the socket's. */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * Resolves the request's tenant (see resolveTenant), then admits it against the tenant's rate and
 * concurrency limits. The rest of the request runs inside the tenant's context. Every refusal is
 * logged with its reason and reported to `onRefusal` (a per-tenant counter).
 */
export function authenticate(options: AuthOptions) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const client = clientAddress(req);
    const refuse = (reason: string, tenantId: string | undefined, err: Error & { code?: string }): void => {
      const code = err.code ?? 'UNAUTHENTICATED';
      // Only a failed authentication counts: a 403 or a tenant's 429 come from a valid credential.
      if (code === 'UNAUTHENTICATED') options.failedAuth?.recordFailure(client);
      options.log.info({ reason, tenant: tenantId, code, method: req.method, path: req.path }, 'request refused');
      options.onRefusal?.(reason, tenantId, code, client);
      next(err);
    };
    const admit = async (resolved: ResolvedTenant): Promise<void> => {
      const limits = options.limits.for(resolved.tenantId, resolved.plan ?? 'standard');
      const admission = await options.admission.admit(resolved.tenantId, limits);
      setRateLimitHeaders(res, admission);
      if (!admission.admitted) {
        const error =
          admission.refusedFor === 'concurrency'
            ? new ConcurrencyLimitedError(
                `tenant '${resolved.tenantId}' has ${limits.maxInFlight} requests in progress, its limit; retry when one finished`,
                admission.retryAfterSeconds,
                limits.maxInFlight,
              )
            : new RateLimitedError(
                `tenant '${resolved.tenantId}' is over its rate of ${limits.rate} requests/s (burst ${limits.burst}); retry in ${admission.retryAfterSeconds} s`,
                admission.retryAfterSeconds,
              );
        refuse(admission.refusedFor === 'concurrency' ? 'concurrency-limit' : 'rate-limit', resolved.tenantId, error);
        return;
      }
      res.once('close', admission.release);
      // The request's server span learns its tenant here: it began before anyone knew it.
      trace.getActiveSpan()?.setAttribute(TENANT_SPAN_ATTRIBUTE, resolved.tenantId);
      const ctx = tenantContext(resolved.tenantId, resolved.source, req.get('x-request-id'));
      req.tenant = ctx;
      runWithTenant(ctx, () => next());
    };
    const failed = (err: unknown): void => {
      if (err instanceof TenantRefusal) refuse(err.reason, err.tenantId, err.error);
      else next(err);
    };
    const claims = { authorization: req.headers.authorization, host: req.headers.host, tenantHeader: req.headers['x-tenant-id'] };
    // A token and tenant seen moments ago are decided without waiting (the same decision); anything
    // else goes through the caches' loaders.
    let cached: ResolvedTenant | undefined;
    try {
      cached = resolveTenantFromCache(claims, options);
    } catch (err) {
      failed(err);
      return;
    }
    if (cached) {
      admit(cached).catch(failed);
      return;
    }
    // What is not decided from the caches costs a lookup (a query for an API key or a tenant): a
    // client that failed too often is refused first, at no cost.
    const retryAfter = options.failedAuth?.retryAfterSeconds(client);
    if (retryAfter !== undefined) {
      refuse(
        'auth-throttled',
        undefined,
        new AuthenticationThrottledError(`too many failed authentications from this address; retry in ${retryAfter} s with a valid credential`, retryAfter),
      );
      return;
    }
    resolveTenant(claims, options).then(admit).catch(failed);
  };
}
