import { SpanKind, type Attributes, type Context } from '@opentelemetry/api';
import type { tracing } from '@opentelemetry/sdk-node';
import { currentTenant, tenantFromContextBaggage } from '@fairway/tenant-context';

/** The span attribute that names the tenant (the same key as the baggage entry). */
export const TENANT_SPAN_ATTRIBUTE = 'tenant.id';

/**
 * Whether `span` is the entry of an inbound HTTP request: a server span with an HTTP method (the
 * http instrumentation's `http.method`, or `http.request.method` of the current conventions).
 */
function isInboundHttp(span: tracing.Span): boolean {
  return span.kind === SpanKind.SERVER && (span.attributes['http.request.method'] !== undefined || span.attributes['http.method'] !== undefined);
}

/** Bounds against leaks: spans that never end. */
const MAX_OPEN_SPANS = 10_000;
const MAX_HELD_PER_TRACE = 1_000;

/**
 * Puts `tenant.id` on every span, then hands the span to the exporting processors (`downstream`).
 *
 * The tenant comes from the AsyncLocalStorage tenant context active where the span starts, else
 * from the `tenant.id` W3C baggage entry of its parent context (a call from another service).
 * Baggage is trusted only from Fairway's own carriers (Kafka, gRPC between services): a trace that
 * entered this process as an inbound HTTP request carries the client's baggage, so its spans never
 * take a tenant from it; they get the tenant that authentication decided (the tenant context, or
 * the attribute authenticate sets on the request's span).
 *
 * A request's first spans start before authentication has found its tenant: the edge's HTTP
 * server span, the tenant lookup's query. So the tenant is learnt per trace while the trace has
 * spans open in this process: when any span of it starts with a tenant, its open spans are tagged
 * at once, and its spans that already ended untagged are held back and tagged when its last open
 * span here ends, before they reach the exporter. A trace that never learns a tenant here (a
 * refused request) is exported as it is. One request is one tenant, so one trace is too; a span
 * started in a tenant context keeps that tenant whatever the trace learnt.
 */
export class TenantSpanProcessor implements tracing.SpanProcessor {
  private readonly open = new Map<string, tracing.Span>();
  private readonly openByTrace = new Map<string, Set<string>>();
  private readonly traceTenant = new Map<string, string>();
  private readonly held = new Map<string, tracing.ReadableSpan[]>();
  /** Traces whose baggage came from an HTTP client here: not trusted to name a tenant. */
  private readonly clientBaggage = new Set<string>();

  constructor(private readonly downstream: readonly tracing.SpanProcessor[] = []) {}

  onStart(span: tracing.Span, parentContext: Context): void {
    const { spanId, traceId } = span.spanContext();
    if (this.open.size >= MAX_OPEN_SPANS) this.evictOldest();
    this.open.set(spanId, span);
    const siblings = this.openByTrace.get(traceId) ?? new Set<string>();
    siblings.add(spanId);
    this.openByTrace.set(traceId, siblings);

    if (isInboundHttp(span)) this.clientBaggage.add(traceId);
    const fromBaggage = this.clientBaggage.has(traceId) ? undefined : tenantFromContextBaggage(parentContext);
    const tenant = currentTenant()?.tenantId ?? fromBaggage ?? this.traceTenant.get(traceId);
    if (tenant) {
      if (span.attributes[TENANT_SPAN_ATTRIBUTE] === undefined) span.setAttribute(TENANT_SPAN_ATTRIBUTE, tenant);
      if (!this.traceTenant.has(traceId)) this.learn(traceId, tenant);
    }
    for (const processor of this.downstream) processor.onStart(span, parentContext);
  }

  onEnd(span: tracing.ReadableSpan): void {
    const { spanId, traceId } = span.spanContext();
    // A span that was given its tenant while it ran (the edge's request span learns it when
    // authentication decided) teaches its trace too, even if no span started inside the tenant.
    const own = span.attributes[TENANT_SPAN_ATTRIBUTE];
    if (typeof own === 'string' && !this.traceTenant.has(traceId) && this.openByTrace.has(traceId)) this.learn(traceId, own);
    this.open.delete(spanId);
    const siblings = this.openByTrace.get(traceId);
    siblings?.delete(spanId);
    const stillOpen = siblings !== undefined && siblings.size > 0;
    const tenant = this.traceTenant.get(traceId);
    if (span.attributes[TENANT_SPAN_ATTRIBUTE] === undefined && tenant === undefined && stillOpen) {
      const held = this.held.get(traceId) ?? [];
      held.push(span);
      this.held.set(traceId, held);
      if (held.length >= MAX_HELD_PER_TRACE) this.releaseHeld(traceId);
      return;
    }
    if (tenant !== undefined) tagEnded(span, tenant);
    this.forward(span);
    if (!stillOpen) this.closeTrace(traceId);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.downstream.map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    for (const traceId of [...this.held.keys()]) this.releaseHeld(traceId);
    this.open.clear();
    this.openByTrace.clear();
    this.traceTenant.clear();
    this.clientBaggage.clear();
    await Promise.all(this.downstream.map((p) => p.shutdown()));
  }

  /** The trace's tenant is known: its open spans here are tagged now, its held ones when they go on. */
  private learn(traceId: string, tenant: string): void {
    this.traceTenant.set(traceId, tenant);
    for (const id of this.openByTrace.get(traceId) ?? []) {
      const other = this.open.get(id);
      if (other && other.attributes[TENANT_SPAN_ATTRIBUTE] === undefined) other.setAttribute(TENANT_SPAN_ATTRIBUTE, tenant);
    }
  }

  /** The trace has no span open here any more: what it held goes on, and it is forgotten. */
  private closeTrace(traceId: string): void {
    this.releaseHeld(traceId);
    this.openByTrace.delete(traceId);
    this.traceTenant.delete(traceId);
    this.clientBaggage.delete(traceId);
  }

  private releaseHeld(traceId: string): void {
    const held = this.held.get(traceId);
    this.held.delete(traceId);
    if (!held) return;
    const tenant = this.traceTenant.get(traceId);
    for (const span of held) {
      if (tenant !== undefined) tagEnded(span, tenant);
      this.forward(span);
    }
  }

  /** Forgets the oldest open span (one that never ended), so the bookkeeping stays bounded. */
  private evictOldest(): void {
    const [spanId, span] = this.open.entries().next().value ?? [];
    if (spanId === undefined || span === undefined) return;
    this.open.delete(spanId);
    const { traceId } = span.spanContext();
    const siblings = this.openByTrace.get(traceId);
    siblings?.delete(spanId);
    if (!siblings || siblings.size === 0) this.closeTrace(traceId);
  }

  private forward(span: tracing.ReadableSpan): void {
    for (const processor of this.downstream) processor.onEnd(span);
  }
}

/**
 * Tags a span that has ended. The SDK refuses setAttribute after end(), but until the span is
 * handed to the exporting processors its attribute record is still ours to complete; this is the
 * one place that writes to it.
 */
function tagEnded(span: tracing.ReadableSpan, tenant: string): void {
  if (span.attributes[TENANT_SPAN_ATTRIBUTE] === undefined) (span.attributes as Attributes)[TENANT_SPAN_ATTRIBUTE] = tenant;
}
