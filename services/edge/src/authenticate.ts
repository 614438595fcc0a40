import type { NextFunction, Request, Response } from 'express';
import { errors as joseErrors, jwtVerify } from 'jose';
import { TenantMismatchError, TenantSuspendedError, UnauthenticatedError } from '@fairway/errors';
import { extractHttpHeaders, parseTenantId, runWithTenant, tenantContext, type TenantContext } from '@fairway/tenant-context';
import type { TenantDirectory } from './tenant-directory';

/** Options of the authentication middleware. */
export interface AuthOptions {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  tenants: TenantDirectory;
}

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

async function verifiedTenantClaim(authorization: string | undefined, options: AuthOptions): Promise<string> {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
  if (!match?.[1]) throw new UnauthenticatedError('send a bearer token: Authorization: Bearer <jwt>');
  try {
    // algorithms pins HS256: a token saying alg "none", or an asymmetric alg whose public key is
    // replayed as the HMAC secret (key confusion), fails verification.
    const { payload } = await jwtVerify(match[1], options.secret, {
      algorithms: ['HS256'],
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: ['exp', 'tenant_id'],
    });
    const claim = payload['tenant_id'];
    if (typeof claim !== 'string') throw new UnauthenticatedError('the token has no tenant_id claim');
    return claim;
  } catch (err) {
    if (err instanceof UnauthenticatedError) throw err;
    const reason = err instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid';
    throw new UnauthenticatedError(`${reason}; get a new one`);
  }
}

/**
 * Decides the tenant of a request from its verified credential. A header that names another
 * tenant is refused (TENANT_MISMATCH); an unknown tenant is 401 without saying it does not exist;
 * a suspended tenant is 403. The rest of the request runs inside the tenant's context.
 */
export function authenticate(options: AuthOptions, onRefusal?: (reason: string, tenant?: string) => void) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    verifiedTenantClaim(req.headers.authorization, options)
      .then(async (claim) => {
        const tenantId = parseTenantId(claim);
        const tenant = tenantId && (await options.tenants.get(tenantId));
        if (!tenantId || !tenant || tenant.status === 'deleted' || tenant.status === 'offboarding') {
          throw new UnauthenticatedError('the credential does not belong to an active tenant');
        }
        const named = req.headers['x-tenant-id'];
        if (named !== undefined) {
          const header = extractHttpHeaders(req.headers);
          if (header !== tenantId) throw new TenantMismatchError(String(named).slice(0, 64), tenantId, 'X-Tenant-ID header');
        }
        if (tenant.status === 'suspended') throw new TenantSuspendedError(tenantId);
        const ctx = tenantContext(tenantId, 'jwt', req.get('x-request-id'));
        req.tenant = ctx;
        runWithTenant(ctx, () => next());
      })
      .catch((err: unknown) => {
        onRefusal?.((err as { code?: string }).code ?? 'UNAUTHENTICATED', req.tenant?.tenantId);
        next(err);
      });
  };
}
