import { parseTenantId, type TenantId } from '../tenant-id';
import type { TenantContext } from '../tenant-context';

/** The header that names the tenant on internal HTTP hops (the edge decides it from the credential). */
export const TENANT_HTTP_HEADER = 'x-tenant-id';

/** Incoming HTTP headers as Node gives them: lower-case names, string or string[] values. */
export type HttpHeaders = Record<string, string | string[] | undefined>;

/** Writes the tenant into outgoing HTTP headers. */
export function injectHttpHeaders(ctx: TenantContext, headers: Record<string, string>): void {
  headers[TENANT_HTTP_HEADER] = ctx.tenantId;
}

/**
 * The tenant named by the `X-Tenant-ID` header, or undefined when it is absent, repeated or
 * malformed. Never throws: the boundary that needs a tenant decides to reject.
 */
export function extractHttpHeaders(headers: HttpHeaders): TenantId | undefined {
  const value = headers[TENANT_HTTP_HEADER];
  return typeof value === 'string' ? parseTenantId(value.trim()) : undefined;
}
