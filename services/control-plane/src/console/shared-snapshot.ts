/**
 * One answer shared by every caller for a while: the console's table, every operator's copy of it
 * and every tenant page ask the scheduler for the same fleet-wide figures every 2 s, so they share
 * one ListTenantStats call (and one Prometheus query) instead of making one each. A load in flight
 * is joined, never repeated; a failed load is not kept.
 */
export class SharedSnapshot<T> {
  private latest: { at: number; value: T } | undefined;
  private pending: Promise<T> | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The latest answer if younger than maxAgeMs, else the one being loaded (started if none is). */
  get(): Promise<T> {
    if (this.pending) return this.pending;
    if (this.latest && this.now() - this.latest.at < this.maxAgeMs) return Promise.resolve(this.latest.value);
    const pending = this.load().then((value) => {
      this.latest = { at: this.now(), value };
      return value;
    });
    this.pending = pending;
    const clear = () => {
      if (this.pending === pending) this.pending = undefined;
    };
    pending.then(clear, clear);
    return pending;
  }
}
