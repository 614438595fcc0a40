import { propagation, type Baggage, type Context } from '@opentelemetry/api';
import { parseTenantId, type TenantId } from '../tenant-id';
import type { TenantContext } from '../tenant-context';

/** The W3C baggage entry that names the tenant, so every OpenTelemetry span can be tagged with it. */
export const TENANT_BAGGAGE_KEY = 'tenant.id';

/** `context` with the tenant added to its baggage (other entries kept). */
export function withTenantBaggage(ctx: TenantContext, context: Context): Context {
  const baggage = propagation.getBaggage(context) ?? propagation.createBaggage();
  return propagation.setBaggage(context, baggage.setEntry(TENANT_BAGGAGE_KEY, { value: ctx.tenantId }));
}

/** The tenant in a baggage, or undefined when absent or malformed. Never throws. */
export function extractBaggage(baggage: Baggage | undefined): TenantId | undefined {
  return parseTenantId(baggage?.getEntry(TENANT_BAGGAGE_KEY)?.value);
}

/** The tenant in a context's baggage, or undefined. */
export function tenantFromContextBaggage(context: Context): TenantId | undefined {
  return extractBaggage(propagation.getBaggage(context));
}
