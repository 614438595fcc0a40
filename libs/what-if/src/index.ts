/**
 * @fairway/what-if: what-if on recorded traffic (issue #18 part 4).
 *
 * The jobs table's recorded workload as a trace ({@link traceJobLine}, {@link traceEndLine},
 * {@link readRecordedTrace}: JSON lines with an end line that makes a cut trace detectable),
 * operators' proposed quota changes checked by @fairway/quota ({@link parseQuotaAssignments} for
 * `--set acme:weight=3`, {@link parseQuotaChanges} for a JSON body), and {@link whatIfOnRecordedTrace},
 * which replays a trace through the fair core's simulator with the recorded and the proposed quotas,
 * beside the recorded waits and the fluid ideal. tenantctl and the admin API both use it.
 *
 * @packageDocumentation
 */
export { parseQuotaAssignments, parseQuotaChanges, type QuotaChanges } from './quota-changes';
export { readRecordedTrace, traceEndLine, traceJobLine, TRACE_FORMAT, type RecordedTrace, type RecordedTraceJob, type TraceEnd } from './trace-format';
export { estimateDispatchOverhead, whatIfOnRecordedTrace, type TenantWhatIf, type WaitFigures, type WhatIfReport } from './recorded-what-if';
