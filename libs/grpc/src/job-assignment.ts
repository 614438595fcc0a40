import { ROOT_CONTEXT, propagation, type Context } from '@opentelemetry/api';
import { extractBaggage, parseTenantId, TENANT_BAGGAGE_KEY, tenantContext, withTenantBaggage, type TenantContext } from '@fairway/tenant-context';
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

/** A W3C traceparent exactly as the W3C propagator writes one: version 00, flags 00 or 01, ids not all zero. */
const CANONICAL_TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-0[01]$/;

/**
 * The carrier {@link injectAssignment} would write for a job whose trace headers were stored by the
 * edge, when the stored headers are already in that form: a canonical traceparent, no tracestate, and
 * a baggage of the tenant alone. Then the headers pass on as they are, without parsing them into a
 * context and serialising it again (per job, that was ~3% of the scheduler's CPU on no-op jobs).
 * Undefined for any other headers: the caller then injects them the long way.
 */
export function storedAssignmentCarrier(tenantId: string, headers: Readonly<Record<string, string>>): AssignmentCarrier | undefined {
  const { traceparent, baggage } = headers;
  if (headers['tracestate'] !== undefined || traceparent === undefined || !CANONICAL_TRACEPARENT.test(traceparent)) return undefined;
  if (baggage !== `${TENANT_BAGGAGE_KEY}=${encodeURIComponent(tenantId)}`) return undefined;
  return { tenantId, traceparent, tracestate: '', baggage };
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
