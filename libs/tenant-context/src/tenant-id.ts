/**
 * A tenant id: 1-63 characters of lowercase letters, digits and dashes, starting with a letter or
 * digit, so it is safe in a subdomain, a Kafka key, a schema name suffix and a metric label.
 */
export type TenantId = string & { readonly __brand: 'TenantId' };

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The tenant id if `value` is a well-formed one, else undefined. Never throws. */
export function parseTenantId(value: unknown): TenantId | undefined {
  if (typeof value !== 'string') return undefined;
  return TENANT_ID.test(value) ? (value as TenantId) : undefined;
}

/** True when `value` is a well-formed tenant id. */
export function isTenantId(value: unknown): value is TenantId {
  return parseTenantId(value) !== undefined;
}
