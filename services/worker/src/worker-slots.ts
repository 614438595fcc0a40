/**
 * The worker's job slots (WORKER_CONCURRENCY), shared by the unary `Execute` path and every
 * `Run` stream: however a job arrives, no more than `capacity` attempts run at once.
 *
 * The stream waits for a slot ({@link run}): the scheduler's credit on a stream never exceeds the
 * capacity, so nothing waits with one scheduler, and several schedulers share the slots first come,
 * first served. The unary path has no credit, so it takes a slot only if one is free
 * ({@link tryAcquire}) and is refused otherwise (RESOURCE_EXHAUSTED).
 */
export class WorkerSlots {
  private waiting: Array<() => void> = [];
  private free: number;

  constructor(readonly capacity: number) {
    this.free = capacity;
  }

  /** Slots taken now. */
  get inUse(): number {
    return this.capacity - this.free;
  }

  /** Takes a slot if one is free; the caller must {@link release} it. */
  tryAcquire(): boolean {
    if (this.free <= 0) return false;
    this.free -= 1;
    return true;
  }

  /** Runs `fn` once a slot is free (at once if one is); `fn`'s attempt must {@link release} it. */
  run(fn: () => void): void {
    if (this.tryAcquire()) fn();
    else this.waiting.push(fn);
  }

  /** Gives a slot back: to the first waiting job if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}
