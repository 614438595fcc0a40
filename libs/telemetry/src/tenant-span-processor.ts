import type { Context } from '@opentelemetry/api';
import type { tracing } from '@opentelemetry/sdk-node';
import { currentTenant, tenantFromContextBaggage } from '@fairway/tenant-context';

/** The span attribute that names the tenant (the same key as the baggage entry). */
export const TENANT_SPAN_ATTRIBUTE = 'tenant.id';

/** Open spans remembered so a tenant learnt late can reach them; a bound against leaks. */
const MAX_OPEN_SPANS = 10_000;

/**
 * Puts `tenant.id` on every span: from the AsyncLocalStorage tenant context active where the span
 * starts, else from the `tenant.id` W3C baggage entry of its parent context (a gRPC or HTTP call
 * from another service).
 *
 * A server span starts before authentication has found the tenant (the edge's HTTP span). So
 * when a span starts with a tenant, its open ancestors in this process that have none yet get it
 * too: the request span is still open while its handler runs, and is tagged before it ends.
 */
export class TenantSpanProcessor implements tracing.SpanProcessor {
  private readonly open = new Map<string, tracing.Span>();

  onStart(span: tracing.Span, parentContext: Context): void {
    const tenant = currentTenant()?.tenantId ?? tenantFromContextBaggage(parentContext);
    const spanId = span.spanContext().spanId;
    if (this.open.size >= MAX_OPEN_SPANS) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
    this.open.set(spanId, span);
    if (!tenant) return;
    if (span.attributes[TENANT_SPAN_ATTRIBUTE] === undefined) span.setAttribute(TENANT_SPAN_ATTRIBUTE, tenant);
    let parentId = span.parentSpanContext?.spanId;
    // The walk stops at the first ancestor that already has a tenant (its own ancestors were
    // handled when it got one) or that is not open in this process.
    for (let depth = 0; parentId !== undefined && depth < 64; depth += 1) {
      const parent = this.open.get(parentId);
      if (!parent || parent.attributes[TENANT_SPAN_ATTRIBUTE] !== undefined) break;
      parent.setAttribute(TENANT_SPAN_ATTRIBUTE, tenant);
      parentId = parent.parentSpanContext?.spanId;
    }
  }

  onEnd(span: tracing.ReadableSpan): void {
    this.open.delete(span.spanContext().spanId);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.open.clear();
    return Promise.resolve();
  }
}
