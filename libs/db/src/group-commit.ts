/** Options of a {@link GroupCommit}. */
export interface GroupCommitOptions {
  /** Most items one write carries; the rest wait for the next. */
  maxBatch?: number;
  /** Writes allowed at once (default 1: the next batch accumulates while one is written). */
  concurrency?: number;
}

interface Pending<In, Out> {
  item: In;
  resolve: (value: Out) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for a database write: every item added in one turn of the event loop, and every
 * item added while the previous write was in flight, goes out in ONE call of `write`, and each
 * caller's promise settles with its own result once that write finished.
 *
 * Why: a statement (and a commit) per item spends the time in round trips and fsyncs; the job path
 * measured ~40 ms per no-op job that way. With one write in flight, batches grow by themselves
 * under load and stay single items when idle, so nothing waits for a timer.
 *
 * `write` returns one result per item, in the order given; when it throws, every item of the batch
 * is rejected with that error.
 *
 *   const claims = new GroupCommit((ids: string[]) => store.claimMany(ids));
 *   const claimed = await claims.add(jobId);
 */
export class GroupCommit<In, Out> {
  private queue: Array<Pending<In, Out>> = [];
  private writing = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly concurrency: number;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly write: (items: In[]) => Promise<Out[]>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1_000;
    this.concurrency = options.concurrency ?? 1;
  }

  /** Items waiting for a write, and writes in flight. */
  get pending(): number {
    return this.queue.length + this.writing;
  }

  /** Adds `item` to the next write; resolves with its result. */
  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or being written. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.writing >= this.concurrency) return;
    this.scheduled = true;
    // setImmediate, not a microtask: everything the current turn adds (one wake of the dispatcher,
    // one batch of worker results) joins the same write.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.writing < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
      this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
      this.writing += 1;
      void this.run(batch);
    }
    if (this.pending === 0) this.settleIdle();
  }

  private async run(batch: Array<Pending<In, Out>>): Promise<void> {
    try {
      const results = await this.write(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`group commit: the write returned ${results.length} results for ${batch.length} items`);
      }
      for (let i = 0; i < batch.length; i += 1) (batch[i] as Pending<In, Out>).resolve(results[i] as Out);
    } catch (err) {
      for (const pending of batch) pending.reject(err);
    } finally {
      this.writing -= 1;
      if (this.queue.length > 0) this.schedule();
      else if (this.pending === 0) this.settleIdle();
    }
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
