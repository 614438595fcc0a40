import { FairwayError, ForbiddenError, TenantMismatchError, TenantSuspendedError, UnauthenticatedError } from '@fairway/errors';
import { parseTenantId, type TenantId, type TenantSource } from '@fairway/tenant-context';
import { verifyApiKey, type ApiKeyLookup } from './api-keys';
import type { TenantRecord } from '@fairway/db';
import type { TenantLookup } from './tenant-directory';
import type { TokenVerifier, VerifiedClaims } from '@fairway/auth';

/** What of a request decides its tenant. */
export interface TenantClaims {
  authorization: string | undefined;
  /** The Host header (may carry a port). */
  host: string | undefined;
  /** The X-Tenant-ID header, as Node gives it. */
  tenantHeader: string | string[] | undefined;
}

/** A request's resolved tenant. */
export interface ResolvedTenant {
  tenantId: TenantId;
  source: TenantSource;
  subject?: string;
  /** The tenant's plan (which request limits apply). */
  plan?: string;
}

/** A refused request: the error the client gets, and a short reason for logs and metrics. */
export class TenantRefusal extends Error {
  constructor(
    readonly reason: string,
    readonly error: FairwayError,
    readonly tenantId?: string,
  ) {
    super(`${reason}: ${error.message}`);
  }
}

/** What tenant resolution needs. */
export interface TenantResolverDeps {
  tokens: TokenVerifier;
  apiKeys: ApiKeyLookup;
  tenants: TenantLookup;
  /** `<slug>.<baseDomain>` names a tenant; unset disables subdomain resolution. */
  baseDomain?: string;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,8192})$/;
const API_KEY = /^ApiKey (\S{1,200})$/;
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The subdomain label of `host` under `baseDomain`; undefined when the host is not under it. */
export function subdomainOf(host: string | undefined, baseDomain: string | undefined): string | undefined {
  if (!host || !baseDomain) return undefined;
  const name = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const suffix = `.${baseDomain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return undefined;
  return name.slice(0, -suffix.length);
}

/**
 * Decides a request's tenant. The credential decides (a verified JWT's tenant_id claim, or an API
 * key); a subdomain or X-Tenant-ID header may only agree with it. The order of checks is what the
 * client may learn: no credential or a bad one is 401; a credential of an unknown (or deleted)
 * tenant is 401 too, so a probe cannot tell which tenants exist; a name that disagrees with the
 * credential is 403 TENANT_MISMATCH; a suspended tenant is 403 TENANT_SUSPENDED.
 */
export async function resolveTenant(claims: TenantClaims, deps: TenantResolverDeps): Promise<ResolvedTenant> {
  const credential = await fromCredential(claims.authorization, deps);
  const tenant = await deps.tenants.get(credential.tenantId);
  const label = subdomainOf(claims.host, deps.baseDomain);
  const named = label !== undefined && label !== '' && SLUG.test(label) ? await deps.tenants.idBySlug(label) : undefined;
  return checkTenant(claims, credential, tenant, label, named);
}

/**
 * resolveTenant without waiting, for the common request whose bearer token and tenant are both in
 * the caches: the same decision (refusals included) or undefined when something is not cached (or
 * the credential is not a bearer token, or a subdomain is involved), and the caller goes async.
 */
export function resolveTenantFromCache(claims: TenantClaims, deps: TenantResolverDeps): ResolvedTenant | undefined {
  if (!claims.authorization || !deps.tenants.peek || subdomainOf(claims.host, deps.baseDomain) !== undefined) return undefined;
  const bearer = BEARER.exec(claims.authorization);
  const verified = bearer?.[1] ? deps.tokens.cached(bearer[1]) : undefined;
  if (!verified) return undefined;
  const credential = fromVerifiedToken(verified);
  const hit = deps.tenants.peek(credential.tenantId);
  return hit && checkTenant(claims, credential, hit.tenant, undefined, undefined);
}

/** The checks after the credential, in the order whose refusals a client may learn (see resolveTenant). */
function checkTenant(
  claims: TenantClaims,
  credential: ResolvedTenant,
  tenant: TenantRecord | undefined,
  label: string | undefined,
  named: string | undefined,
): ResolvedTenant {
  const tenantId = credential.tenantId;
  if (!tenant || tenant.status === 'deleted' || tenant.status === 'offboarding' || tenant.status === 'provisioning') {
    throw new TenantRefusal('unknown-tenant', new UnauthenticatedError('the credential does not belong to an active tenant'), tenantId);
  }

  if (claims.tenantHeader !== undefined) {
    const header = typeof claims.tenantHeader === 'string' ? parseTenantId(claims.tenantHeader.trim()) : undefined;
    if (header !== tenantId) {
      const shown = typeof claims.tenantHeader === 'string' ? claims.tenantHeader.slice(0, 64) : '(repeated header)';
      throw new TenantRefusal('header-mismatch', new TenantMismatchError(shown, tenantId, 'the X-Tenant-ID header'), tenantId);
    }
  }

  if (label !== undefined && label !== '' && named !== tenantId) {
    throw new TenantRefusal('subdomain-mismatch', new TenantMismatchError(label.slice(0, 64), tenantId, 'the subdomain'), tenantId);
  }

  if (tenant.status === 'suspended') throw new TenantRefusal('suspended', new TenantSuspendedError(tenantId), tenantId);
  return { ...credential, plan: tenant.plan };
}

/** The tenant credential of a verified token's claims. */
function fromVerifiedToken(verified: VerifiedClaims): ResolvedTenant {
  if (verified.role === 'operator' && verified.tenantId === undefined) {
    throw new TenantRefusal('operator-token', new ForbiddenError('an operator token is for the admin API; use a tenant credential here'));
  }
  const tenantId = verified.tenantId === undefined ? undefined : parseTenantId(verified.tenantId);
  if (!tenantId) throw new TenantRefusal('no-tenant-claim', new UnauthenticatedError('the token has no valid tenant_id claim'));
  return { tenantId, source: 'jwt', ...(verified.subject === undefined ? {} : { subject: verified.subject }) };
}

async function fromCredential(authorization: string | undefined, deps: TenantResolverDeps): Promise<ResolvedTenant> {
  if (!authorization) {
    throw new TenantRefusal('no-credential', new UnauthenticatedError('send a credential: Authorization: Bearer <jwt> or Authorization: ApiKey <key>'));
  }
  const bearer = BEARER.exec(authorization);
  if (bearer?.[1]) {
    let verified;
    try {
      verified = await deps.tokens.verify(bearer[1]);
    } catch (err) {
      if (err instanceof FairwayError) throw new TenantRefusal('bad-token', err);
      throw err;
    }
    return fromVerifiedToken(verified);
  }
  const apiKey = API_KEY.exec(authorization);
  if (apiKey?.[1]) {
    const stored = await verifyApiKey(deps.apiKeys, apiKey[1]);
    const tenantId = stored && parseTenantId(stored.tenantId);
    if (!stored || !tenantId) throw new TenantRefusal('bad-api-key', new UnauthenticatedError('the API key is not valid or was revoked'));
    return { tenantId, source: 'api-key', subject: `api-key:${stored.id}` };
  }
  throw new TenantRefusal('bad-scheme', new UnauthenticatedError('use Authorization: Bearer <jwt> or Authorization: ApiKey <key>'));
}
