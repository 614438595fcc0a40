import * as grpc from '@grpc/grpc-js';
import { fairwayCodeOf } from '@fairway/grpc';
import type { JobState } from '@fairway/jobs';
import { runWithTenant, tenantContext } from '@fairway/tenant-context';
import { extractTraceHeaders, inSpan, type Logger } from '@fairway/telemetry';
import type { ClaimedJob, JobStore } from './job-store';
import type { WorkerPool } from './worker-pool';

/** Options of the {@link Dispatcher}. */
export interface DispatcherOptions {
  slots: number;
  jobTimeoutMs: number;
  leaseMarginMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  onStateChange?: (job: ClaimedJob, state: JobState, error?: string) => void;
}

/**
 * Takes jobs from the durable queues and runs them on the workers, never more than `slots` at once.
 * Each running job holds a lease whose fencing token is its attempt number; a result that comes
 * back after the lease moved on is refused by the store.
 */
export class Dispatcher {
  private running = 0;
  private pumping = false;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: JobStore,
    private readonly workers: WorkerPool,
    private readonly log: Logger,
    private readonly options: DispatcherOptions,
  ) {}

  /** Jobs running now. */
  get active(): number {
    return this.running;
  }

  /** Fills free slots with runnable jobs. Cheap to call often: concurrent calls coalesce. */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump()
      .catch((err: unknown) => this.log.error({ err }, 'dispatch failed; will retry on the next wake-up'))
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops dispatching and waits for the jobs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private async pump(): Promise<void> {
    while (!this.stopped && this.running < this.options.slots) {
      const job = await this.store.claimNext(this.options.jobTimeoutMs + this.options.leaseMarginMs);
      if (!job) return;
      this.running += 1;
      this.options.onStateChange?.(job, 'running');
      const run = this.run(job).finally(() => {
        this.running -= 1;
        this.inFlight.delete(run);
        this.wake();
      });
      this.inFlight.add(run);
    }
  }

  private async run(job: ClaimedJob): Promise<void> {
    // Continue the trace the edge started; the tenant comes from the job row, passed explicitly.
    const parent = extractTraceHeaders(job.traceHeaders);
    await runWithTenant(tenantContext(job.tenantId, 'job', job.id), () =>
      inSpan(
        'scheduler.dispatch',
        { 'tenant.id': job.tenantId, 'job.id': job.id, 'job.type': job.type, 'job.attempt': job.attempt },
        async () => {
          try {
            const response = await this.workers.execute(
              { jobId: job.id, type: job.type, paramsJson: JSON.stringify(job.params), attempt: job.attempt },
              this.options.jobTimeoutMs,
            );
            const result = JSON.parse(response.resultJson || '{}') as unknown;
            if (await this.store.succeed(job.id, job.attempt, result)) {
              this.options.onStateChange?.(job, 'succeeded');
            } else {
              this.log.warn({ jobId: job.id, attempt: job.attempt }, 'result of a stale attempt refused');
            }
          } catch (err) {
            await this.recordFailure(job, err as grpc.ServiceError);
          }
        },
        parent,
      ),
    );
  }

  private async recordFailure(job: ClaimedJob, err: grpc.ServiceError): Promise<void> {
    const fairway = fairwayCodeOf(err);
    // A worker that could not be reached or timed out may succeed on another try; a Fairway error
    // says itself whether it is retriable.
    const retriable =
      fairway.retriable ?? [grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED].includes(err.code);
    const delay = Math.min(this.options.retryMaxDelayMs, this.options.retryBaseDelayMs * 2 ** (job.attempt - 1));
    const message = `${fairway.code ?? grpc.status[err.code] ?? 'ERROR'}: ${err.details || err.message}`;
    const state = await this.store.fail(job.id, job.attempt, message, retriable, delay);
    if (state === undefined) {
      this.log.warn({ jobId: job.id, attempt: job.attempt }, 'failure of a stale attempt ignored');
      return;
    }
    this.log.warn({ jobId: job.id, attempt: job.attempt, state, error: message }, 'job attempt failed');
    this.options.onStateChange?.(job, state, message);
    if (state === 'queued') setTimeout(() => this.wake(), delay).unref();
  }
}
