/**
 * A token bucket that is refilled lazily from the caller's clock: nothing ticks, the level is
 * brought up to date whenever it is read. Rate and size are passed on every call rather than
 * stored, so a live quota change takes effect at the next decision with no rebuild.
 *
 * Rates are per second, times are milliseconds (the unit every caller of the core uses).
 */
export class TokenBucket {
  constructor(
    /** Level at `updatedAt`. Negative means debt (a job cost more than its estimate). */
    public tokens: number,
    /** Time (ms) of the last refill. */
    public updatedAt: number,
  ) {}

  /** Brings the level up to `now` at `rate` tokens/s, capped at `burst`. */
  refill(now: number, rate: number, burst: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(burst, this.tokens + ((now - this.updatedAt) * rate) / 1000);
      this.updatedAt = now;
    } else if (this.tokens > burst) {
      // A live cut of the burst takes effect at once instead of after the surplus is spent.
      this.tokens = burst;
    }
  }

  /**
   * Whether `needed` tokens are there. The small tolerance absorbs floating-point error in the
   * refill arithmetic, so that a tenant woken exactly at {@link TokenBucket.readyAt} is eligible.
   */
  has(needed: number): boolean {
    return this.tokens >= needed - 1e-9 * Math.max(1, needed);
  }

  /** Earliest time (ms) at which `needed` tokens will be there, assuming no spending meanwhile. */
  readyAt(needed: number, rate: number): number {
    if (this.has(needed)) return this.updatedAt;
    return this.updatedAt + ((needed - this.tokens) * 1000) / rate;
  }

  /** Takes `amount` tokens (may go negative: that is how actual-cost overruns are charged). */
  take(amount: number): void {
    this.tokens -= amount;
  }
}
