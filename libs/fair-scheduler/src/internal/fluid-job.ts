import type { JobRecord, Lane } from './scheduler-state';

/**
 * One job in a dense tier's per-job fluid reference (see `TierState`): what the water-filled GPS
 * system still has to do of it. It outlives its real job when the real system is ahead of the
 * reference (the job completed, GPS has not finished it: `record` is then `null`), and it is gone
 * as soon as GPS finishes it (the record keeps that instant as `fluidFinish`). Pooled per tier.
 */
export class FluidJob {
  /** Neighbours in the lane's reference order (priority, then arrival). */
  prev: FluidJob | null = null;
  next: FluidJob | null = null;
  /** Work GPS has still to do (slot-ms), as of the tier's `fluidAt` while `rate > 0`. */
  remaining = 0;
  /** Slots GPS gives the job now: 1, a fraction (the lane's last served job) or 0 (not served now). */
  rate = 0;
  /** Whether GPS has begun serving the job (WF2Q's eligibility: its GPS start has passed). */
  started = false;
  /** The queued or running job, `null` once it left the real system (or for a cost correction). */
  record: JobRecord | null = null;
  /** Minus the job's priority (as `JobRecord.heapKey`); phantoms take their place at the front. */
  order = 0;
  lane: Lane | null = null;
}
