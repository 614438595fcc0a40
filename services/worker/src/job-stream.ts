import type * as grpc from '@grpc/grpc-js';
import { context, type Context } from '@opentelemetry/api';
import { JobFailedError, TenantRequiredError, toFairwayError } from '@fairway/errors';
import { extractAssignment, type CallTenant, type JobAssignment__Output, type JobOutcome, type RunRequest__Output, type RunResponse } from '@fairway/grpc';
import { runWithTenant } from '@fairway/tenant-context';
import type { AttemptOutcome, JobAttempt, JobExecution } from './executor';
import { WorkerSlots } from './worker-slots';

/** What the stream reports of each attempt, for metrics and logs. */
export interface AttemptReport {
  job: JobAttempt;
  tenantId: string;
  outcome?: AttemptOutcome;
  error?: { code: string; message: string; retriable: boolean };
  durationMs: number;
}

/** Options of {@link jobStreamHandler}. */
export interface JobStreamOptions {
  /** Jobs this worker runs at once, over all its streams. */
  capacity: number;
  workerId: string;
  /** The worker's slots, when the unary path shares them (default: `capacity` slots of its own). */
  slots?: WorkerSlots;
  /**
   * Runs one attempt for its tenant, inside the tenant context and the job's trace, bounded by
   * `execution`: its deadline (the assignment's timeoutMs) and a signal aborted at that deadline or
   * when the stream goes away.
   */
  execute: (job: JobAttempt, tenant: CallTenant, parent: Context, execution: JobExecution) => Promise<AttemptOutcome>;
  onAttempt?: (report: AttemptReport) => void;
}

/**
 * The handler of `Worker/Run`: the scheduler's long-lived stream. The worker's first message
 * advertises its capacity and grants that many slots; each later message carries the outcomes of
 * the jobs that finished in one turn and grants back the slots they freed. A job sent beyond the
 * stream's credit is refused (JOB_FAILED, retriable), never queued without bound.
 *
 * Each job runs in its own tenant context (from its assignment, never from the stream) and continues
 * its own trace; its deadline is its `timeoutMs`, after which the scheduler is told the attempt failed (retriable)
 * and the attempt is cancelled (its statements are timed out by the deadline, its transaction rolled
 * back), while the slot stays taken until the attempt really ends. A stream that goes away cancels
 * the attempts it started.
 */
export function jobStreamHandler(options: JobStreamOptions): grpc.handleBidiStreamingCall<RunRequest__Output, RunResponse> {
  const slots = options.slots ?? new WorkerSlots(options.capacity);
  return (call) => {
    const cancels = new Set<AbortController>();
    let credit = options.capacity;
    let open = true;
    let outbox: JobOutcome[] = [];
    let granted = 0;
    let flushScheduled = false;
    let running = 0;
    let ended = false;

    const flush = () => {
      flushScheduled = false;
      if (!open || (outbox.length === 0 && granted === 0)) return;
      const outcomes = outbox;
      const grant = granted;
      outbox = [];
      granted = 0;
      call.write({ outcomes, grant });
      if (ended && running === 0) call.end();
    };
    const send = (outcome: JobOutcome | undefined, freesCredit: boolean) => {
      if (outcome) outbox.push(outcome);
      if (freesCredit) granted += 1;
      if (!flushScheduled) {
        flushScheduled = true;
        // Everything that finishes in this turn travels in one message.
        setImmediate(flush);
      }
    };

    const start = (job: JobAssignment__Output) => {
      const attempt: JobAttempt = { jobId: job.jobId, type: job.type, paramsJson: job.paramsJson, attempt: job.attempt };
      const carried = extractAssignment(job);
      if (!carried) {
        // Refused before it took a slot: the stream's credit comes back with the grant.
        credit += 1;
        const error = toFairwayError(new TenantRequiredError(`job ${job.jobId}`));
        send({ jobId: job.jobId, attempt: job.attempt, error: { code: error.code, message: error.message, retriable: false } }, true);
        return;
      }
      running += 1;
      // The deadline counts from the assignment's arrival, as timeout_ms says, not from a free slot.
      const deadline = job.timeoutMs > 0 ? Date.now() + job.timeoutMs : undefined;
      slots.run(() => {
        const started = performance.now();
        const cancel = new AbortController();
        cancels.add(cancel);
        let settled = false;
        const settle = (outcome: AttemptOutcome | undefined, err: unknown) => {
          if (settled) return;
          settled = true;
          const durationMs = performance.now() - started;
          if (outcome) {
            send(
              {
                jobId: job.jobId,
                attempt: job.attempt,
                resultJson: outcome.resultJson ?? JSON.stringify(outcome.result),
                applied: outcome.applied,
                completed: outcome.completed === true,
              },
              false,
            );
            options.onAttempt?.({ job: attempt, tenantId: carried.tenant.context.tenantId, outcome, durationMs });
          } else {
            const error = toFairwayError(err);
            const reported = { code: error.code, message: error.message, retriable: error.retriable };
            send({ jobId: job.jobId, attempt: job.attempt, error: reported }, false);
            options.onAttempt?.({ job: attempt, tenantId: carried.tenant.context.tenantId, error: reported, durationMs });
          }
        };
        const timer =
          deadline === undefined
            ? undefined
            : setTimeout(
                () => {
                  const late = new JobFailedError(`job ${job.jobId} ran past its ${job.timeoutMs} ms deadline`, true);
                  settle(undefined, late);
                  cancel.abort(late);
                },
                Math.max(0, deadline - Date.now()),
              );
        const execution: JobExecution = { signal: cancel.signal, ...(deadline === undefined ? {} : { deadline }) };
        context
          .with(carried.parent, () => runWithTenant(carried.tenant.context, () => options.execute(attempt, carried.tenant, carried.parent, execution)))
          .then(
            (outcome) => settle(outcome, undefined),
            (err: unknown) => settle(undefined, err),
          )
          .finally(() => {
            if (timer) clearTimeout(timer);
            cancels.delete(cancel);
            slots.release();
            running -= 1;
            credit += 1;
            // The slot is granted back only now, when the attempt really ended.
            if (open) send(undefined, true);
          });
      });
    };

    call.on('data', (request: RunRequest__Output) => {
      for (const job of request.jobs) {
        if (credit <= 0) {
          const error = new JobFailedError(
            `worker ${options.workerId} has no slot granted for job ${job.jobId}: the scheduler sent more than its credit`,
            true,
          );
          send({ jobId: job.jobId, attempt: job.attempt, error: { code: error.code, message: error.message, retriable: true } }, false);
          continue;
        }
        credit -= 1;
        start(job);
      }
    });
    call.on('end', () => {
      ended = true;
      if (running === 0) {
        flush();
        call.end();
      }
    });
    const close = () => {
      open = false;
      // Nobody is left to hear these attempts' outcomes: the scheduler retries them elsewhere.
      for (const cancel of cancels) cancel.abort(new JobFailedError(`the stream of worker ${options.workerId} closed before the job finished`, true));
    };
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
    call.write({ capacity: options.capacity, grant: options.capacity, workerId: options.workerId, outcomes: [] });
  };
}
