import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { tenantContext } from '@fairway/tenant-context';
import { injectAssignment, storedAssignmentCarrier } from './job-assignment';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** What the long way gives for stored headers: parse them into a context, inject the tenant and the context. */
const injected = (tenantId: string, headers: Record<string, string>) =>
  injectAssignment(tenantContext(tenantId as never, 'job'), propagation.extract(ROOT_CONTEXT, headers));

describe('storedAssignmentCarrier', () => {
  beforeAll(() => {
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  });
  afterAll(() => propagation.disable());

  it.each([
    ['sampled', { traceparent: TRACEPARENT, baggage: 'tenant.id=acme' }],
    ['not sampled', { traceparent: TRACEPARENT.replace(/-01$/, '-00'), baggage: 'tenant.id=acme' }],
  ])('passes canonical headers (%s) on exactly as injection would write them', (_, headers) => {
    const carrier = storedAssignmentCarrier('acme', headers);
    expect(carrier).toBeDefined();
    expect(carrier).toEqual(injected('acme', headers));
  });

  it.each([
    ['a tracestate', { traceparent: TRACEPARENT, tracestate: 'vendor=1', baggage: 'tenant.id=acme' }],
    ['an upper-case traceparent', { traceparent: TRACEPARENT.toUpperCase(), baggage: 'tenant.id=acme' }],
    ['another version', { traceparent: TRACEPARENT.replace(/^00/, '01'), baggage: 'tenant.id=acme' }],
    ['flags other than 00/01', { traceparent: TRACEPARENT.replace(/-01$/, '-03'), baggage: 'tenant.id=acme' }],
    ['an all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, baggage: 'tenant.id=acme' }],
    ['an all-zero span id', { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, baggage: 'tenant.id=acme' }],
    ['no traceparent', { baggage: 'tenant.id=acme' }],
    ['another tenant in the baggage', { traceparent: TRACEPARENT, baggage: 'tenant.id=other' }],
    ['more baggage than the tenant', { traceparent: TRACEPARENT, baggage: 'tenant.id=acme,user=1' }],
    ['no baggage', { traceparent: TRACEPARENT }],
  ])('leaves headers with %s to the long way (undefined)', (_, headers: Record<string, string>) => {
    expect(storedAssignmentCarrier('acme', headers)).toBeUndefined();
    // The long way still yields the tenant's own baggage, whatever was stored.
    expect(injected('acme', headers).baggage).toContain('tenant.id=acme');
  });
});
