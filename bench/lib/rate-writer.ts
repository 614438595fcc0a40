/**
 * An open-loop writer of one tenant through a TenantDataRouter (bench:move, bench:move-interference):
 * `rate` INSERTs a second, each due every 1/rate s whether the last one finished or not, its latency
 * measured from when it was due to its commit, retried every 20 ms while refused retriably.
 */
import { randomUUID } from 'node:crypto';
import type { TenantDataRouter } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';

/** A record's checksum as the writer acknowledges it. */
export const RECORD_DIGEST = `md5(concat_ws('|', id::text, title, body, amount::text, tags::text, created_at::text, updated_at::text))`;
const DIGEST = RECORD_DIGEST;

/** A completed write: when it was due, its latency, how late it began, then its parts (ms). */
type Sample = [due: number, ms: number, late: number, before: number, insert: number, commit: number];

/** An open-loop writer of one tenant: `rate` INSERTs a second, each retried while refused retriably. */
export class RateWriter {
  readonly acked = new Map<string, string>();
  /**
   * [due time, latency ms, lateness ms, before ms, insert ms, after ms] of each acknowledged write:
   * the lateness is how long after it was due the write began (this process's event loop running
   * late); then the time to the INSERT (a connection, BEGIN and the tenant's scope), the INSERT, and
   * the time from it to the acknowledgement (the COMMIT: its WAL flush). They add up to the latency.
   */
  readonly samples: Sample[] = [];
  refusals = 0;
  duplicates = 0;
  failures: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private n = 0;

  constructor(
    private readonly data: TenantDataRouter,
    private readonly tenant: TenantId,
    private readonly rate: number,
  ) {}

  start(): void {
    const interval = 1000 / this.rate;
    const t0 = performance.now();
    const tick = () => {
      const due = t0 + this.n * interval;
      this.n += 1;
      const write = this.write(due).finally(() => this.inFlight.delete(write));
      this.inFlight.add(write);
      this.timer = setTimeout(tick, Math.max(0, t0 + this.n * interval - performance.now()));
    };
    tick();
  }

  private async write(due: number): Promise<void> {
    const late = performance.now() - due;
    const id = randomUUID();
    const n = this.n;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const begun = performance.now();
        let inserting = begun;
        let inserted = begun;
        const { rows } = await this.data.withTenant(this.tenant, async (tx) => {
          inserting = performance.now();
          const result = await tx.query<{ d: string }>(
            `INSERT INTO records (id, title, body, amount, tags) VALUES ($1, $2, $3, $4, $5) RETURNING ${DIGEST} AS d`,
            [id, `live ${n}`, `written during the move, number ${n} `.padEnd(200, '.'), n % 1000, ['live']],
          );
          inserted = performance.now();
          return result;
        });
        this.acked.set(id, rows[0]?.d ?? '');
        const now = performance.now();
        this.samples.push([due, now - due, late, inserting - begun, inserted - inserting, now - inserted]);
        return;
      } catch (err) {
        const e = err as { retriable?: boolean; code?: string; message?: string };
        if (e.code === '23505' && attempt > 1) {
          this.duplicates += 1;
          return;
        }
        if (e.retriable !== true || attempt > 500) {
          this.failures.push(e.message ?? String(err));
          return;
        }
        this.refusals += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  /**
   * Latencies (ms) of the writes due in [from, to). `since`: a `recorded` count read at or before
   * `from` (a write is recorded when it completes, after it was due), so that only the samples
   * after it are scanned.
   */
  latencies(from: number, to: number, since = 0): number[] {
    const out: number[] = [];
    for (let i = since; i < this.samples.length; i += 1) {
      const sample = this.samples[i] as Sample;
      if (sample[0] >= from && sample[0] < to) out.push(sample[1]);
    }
    return out;
  }

  /** How many writes have completed so far (see `latencies`). */
  get recorded(): number {
    return this.samples.length;
  }

  /**
   * Where the slowest writes due in [from, to) spent their time: the mean of each part over the
   * writes at or above the `q` quantile of latency (the tail a p99 is made of), ms.
   */
  tailParts(from: number, to: number, q = 0.98): { writes: number; lateMs: number; beforeMs: number; insertMs: number; commitMs: number } {
    const mine = this.samples.filter(([due]) => due >= from && due < to);
    if (mine.length === 0) return { writes: 0, lateMs: 0, beforeMs: 0, insertMs: 0, commitMs: 0 };
    const sorted = mine.map(([, ms]) => ms).sort((a, b) => a - b);
    const cut = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    const tail = mine.filter(([, ms]) => ms >= cut);
    const mean = (k: number) => +(tail.reduce((a, s) => a + (s[k] as number), 0) / tail.length).toFixed(2);
    return { writes: tail.length, lateMs: mean(2), beforeMs: mean(3), insertMs: mean(4), commitMs: mean(5) };
  }

  /** How late the writes due in [from, to) began, ms. */
  lateness(from: number, to: number): number[] {
    return this.samples.filter(([due]) => due >= from && due < to).map(([, , late]) => late);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await Promise.all(this.inFlight);
  }
}
