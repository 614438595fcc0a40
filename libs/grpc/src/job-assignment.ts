import { ROOT_CONTEXT, propagation, type Context } from '@opentelemetry/api';
import { extractBaggage, parseTenantId, tenantContext, withTenantBaggage, type TenantContext } from '@fairway/tenant-context';
import type { CallTenant } from './tenant-interceptors';

/**
 * The carrier of a job on the worker stream: the stream carries many tenants' jobs, so each
 * assignment names its tenant, W3C trace context and baggage, as call metadata does for a unary call.
 */
export interface AssignmentCarrier {
  tenantId: string;
  traceparent: string;
  tracestate: string;
  baggage: string;
}

/**
 * Injects `tenant` and the trace of `parent` into an assignment's carrier fields: the tenant id,
 * traceparent/tracestate, and baggage with `tenant.id` (through the global W3C propagator).
 */
export function injectAssignment(tenant: TenantContext, parent: Context): AssignmentCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(withTenantBaggage(tenant, parent), carrier);
  return { tenantId: tenant.tenantId, traceparent: carrier['traceparent'] ?? '', tracestate: carrier['tracestate'] ?? '', baggage: carrier['baggage'] ?? '' };
}

/**
 * The tenant and trace context of an assignment. The tenant field decides (the stream's caller is
 * authorised to act for any tenant); baggage is read for tracing and checks. Undefined when the
 * tenant id is missing or malformed: the caller refuses the job. Never throws.
 */
export function extractAssignment(carrier: AssignmentCarrier): { tenant: CallTenant; parent: Context } | undefined {
  const tenantId = parseTenantId(carrier.tenantId);
  if (!tenantId) return undefined;
  const fields: Record<string, string> = {};
  if (carrier.traceparent) fields['traceparent'] = carrier.traceparent;
  if (carrier.tracestate) fields['tracestate'] = carrier.tracestate;
  if (carrier.baggage) fields['baggage'] = carrier.baggage;
  const parent = propagation.extract(ROOT_CONTEXT, fields);
  const baggageTenant = extractBaggage(propagation.getBaggage(parent));
  return { tenant: { context: tenantContext(tenantId, 'grpc'), ...(baggageTenant ? { baggageTenant } : {}) }, parent };
}
