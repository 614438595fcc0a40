import type * as grpc from '@grpc/grpc-js';
import { ConcurrencyLimitedError, JobFailedError } from '@fairway/errors';
import type { CallTenant, ExecuteRequest__Output, ExecuteResponse } from '@fairway/grpc';
import type { JobExecution } from './executor';
import type { WorkerSlots } from './worker-slots';

/** Runs one unary attempt, bounded by `execution` (the call's deadline and cancellation). */
export type UnaryAttempt = (request: ExecuteRequest__Output, tenant: CallTenant, execution: JobExecution) => Promise<ExecuteResponse>;

/**
 * The body of the unary `Worker/Execute` handler (wrapped by tenantUnaryHandler): the attempt takes
 * one of the worker's slots or is refused at once with CONCURRENCY_LIMITED (gRPC
 * RESOURCE_EXHAUSTED, retriable: the scheduler tries another worker or later), and it is bounded by
 * the call: its deadline times out every statement of the attempt, and a cancelled call (or its
 * deadline passing) aborts it. The slot is given back only when the attempt really ended.
 */
export function boundedExecute(slots: WorkerSlots, workerId: string, attempt: UnaryAttempt) {
  return async (
    request: ExecuteRequest__Output,
    tenant: CallTenant,
    call: grpc.ServerUnaryCall<ExecuteRequest__Output, ExecuteResponse>,
  ): Promise<ExecuteResponse> => {
    if (!slots.tryAcquire()) {
      throw new ConcurrencyLimitedError(
        `worker ${workerId} already runs ${slots.capacity} jobs (WORKER_CONCURRENCY); send job ${request.jobId} to another worker or retry later`,
        1,
        slots.capacity,
      );
    }
    const cancel = new AbortController();
    const deadline = deadlineOf(call);
    const onCancelled = () => cancel.abort(new JobFailedError(`the call for job ${request.jobId} was cancelled by its caller`, true));
    call.on('cancelled', onCancelled);
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(
            () => cancel.abort(new JobFailedError(`job ${request.jobId} ran past the deadline of its call`, true)),
            Math.max(0, deadline - Date.now()),
          );
    try {
      return await attempt(request, tenant, { signal: cancel.signal, ...(deadline === undefined ? {} : { deadline }) });
    } finally {
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancelled);
      slots.release();
    }
  };
}

/** The call's deadline in Date.now() milliseconds; undefined when it has none (Infinity). */
function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown>): number | undefined {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at : undefined;
}
