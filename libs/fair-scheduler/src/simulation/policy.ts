import type { TraceJob } from './trace';

/**
 * A scheduling policy the discrete-event simulator can drive. Fairway's scheduler and the
 * baselines (FIFO, round-robin, a Bottleneck.Group model) all implement it, so they run the same
 * trace through the same event loop.
 */
export interface SchedulingPolicy {
  readonly name: string;
  enqueue(job: TraceJob, now: number): void;
  /** One decision: a job and the tier whose slot it takes, or `undefined`. */
  dispatchNext(now: number): { readonly job: TraceJob; readonly tier: string } | undefined;
  complete(job: TraceJob, now: number): void;
  /** Earliest time something changes without an arrival or completion (token refill). */
  nextWakeAt(now: number): number | undefined;
}
