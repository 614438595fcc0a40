import * as grpc from '@grpc/grpc-js';
import { context, propagation } from '@opentelemetry/api';
import { TenantRequiredError } from '@fairway/errors';
import {
  currentTenant,
  extractBaggage,
  extractGrpcMetadata,
  injectGrpcMetadata,
  runWithTenant,
  tenantContext,
  withTenantBaggage,
  type TenantContext,
  type TenantId,
} from '@fairway/tenant-context';
import { toGrpcError } from './status';

/**
 * Client interceptor: every outgoing call carries the tenant of the current context in metadata,
 * and traceparent plus baggage (with `tenant.id`) through the global W3C propagator.
 */
export const tenantClientInterceptor: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      const tenant = currentTenant();
      let ctx = context.active();
      if (tenant) {
        injectGrpcMetadata(tenant, metadata);
        ctx = withTenantBaggage(tenant, ctx);
      }
      propagation.inject(ctx, metadata, {
        set: (carrier, key, value) => carrier.set(key, value),
      });
      next(metadata, listener);
    },
  });

/** What a server handler learns of the tenant of a call. */
export interface CallTenant {
  context: TenantContext;
  /** The tenant named in W3C baggage, if any: recorded, never trusted on its own. */
  baggageTenant?: TenantId;
}

/** The tenant of an incoming call: metadata decides; baggage is read for tracing and checks. */
export function callTenant(metadata: grpc.Metadata): CallTenant | undefined {
  const tenantId = extractGrpcMetadata(metadata);
  if (!tenantId) return undefined;
  const baggageHeader = metadata.get('baggage').map(String).join(',');
  const baggage = baggageHeader ? propagation.getBaggage(propagation.extract(context.active(), { baggage: baggageHeader })) : undefined;
  const baggageTenant = extractBaggage(baggage);
  return { context: tenantContext(tenantId, 'grpc'), ...(baggageTenant ? { baggageTenant } : {}) };
}

/**
 * Server-side interceptor for a unary handler: extracts the tenant from the call's metadata,
 * continues the caller's trace, runs the handler inside the tenant context, and maps any thrown
 * error to a gRPC status through the one mapping. A call with no valid tenant is refused with
 * FAILED_PRECONDITION and never reaches the handler.
 */
export function tenantUnaryHandler<Req, Res>(
  handler: (request: Req, tenant: CallTenant, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const tenant = callTenant(call.metadata);
    if (!tenant) {
      callback(toGrpcError(new TenantRequiredError('this call')) as grpc.ServerErrorResponse);
      return;
    }
    const carrier: Record<string, string> = {};
    for (const key of ['traceparent', 'tracestate', 'baggage']) {
      const value = call.metadata.get(key)[0];
      if (value !== undefined) carrier[key] = String(value);
    }
    const parent = propagation.extract(context.active(), carrier);
    context.with(parent, () =>
      runWithTenant(tenant.context, () =>
        handler(call.request, tenant, call).then(
          (response) => callback(null, response),
          (err: unknown) => callback(toGrpcError(err) as grpc.ServerErrorResponse),
        ),
      ),
    );
  };
}

/** A unary handler without a tenant (catalog and admin calls), with the same error mapping. */
export function unaryHandler<Req, Res>(handler: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call.request, call).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toGrpcError(err) as grpc.ServerErrorResponse),
    );
  };
}
