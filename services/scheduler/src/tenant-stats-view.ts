import type { FleetReading, TenantFleetStats } from '@fairway/job-store';
import type { TenantStatsSortKey } from '@fairway/grpc';
import { QUOTA_DEFAULTS } from '@fairway/quota';
import type { QuotaRow } from './job-store';
import { selectTop } from './top-tenants';

/** One tenant's line of ListTenantStats, before it becomes a message. */
export interface TenantStatsLine {
  tenantId: string;
  queued: number;
  inFlight: number;
  weight: number;
  maxInFlight?: number;
  waitP50Ms: number;
  waitP99Ms: number;
  share: number;
  entitlement: number;
  dispatched: number;
  throttled: number;
}

/** Counts over every active or suspended tenant. */
export interface FleetCounts {
  tenants: number;
  queued: number;
  inFlight: number;
  busy: number;
}

/** Where the view reads the fleet: FleetStats and the quotas table (the scheduler's JobStore). */
export interface FleetSource {
  reading(windowSeconds: number): Promise<FleetReading>;
  tenantIds(after: string | undefined, limit: number | undefined): Promise<string[]>;
  loadQuotas(): Promise<QuotaRow[]>;
}

const byId = (a: TenantStatsLine, b: TenantStatsLine) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0);

/**
 * How each sort key ranks two lines, highest first, as `tenantctl top` shows them (queued, then in
 * flight; in flight, then queued), the tenant id last so that every answer has one order.
 */
export const STATS_ORDER: Readonly<Record<TenantStatsSortKey, (a: TenantStatsLine, b: TenantStatsLine) => number>> = {
  queued: (a, b) => b.queued - a.queued || b.inFlight - a.inFlight || byId(a, b),
  'in-flight': (a, b) => b.inFlight - a.inFlight || b.queued - a.queued || byId(a, b),
  'wait-p99': (a, b) => b.waitP99Ms - a.waitP99Ms || byId(a, b),
  share: (a, b) => b.share - a.share || byId(a, b),
  tenant: byId,
};

/** One reading of the fleet, ready to answer from: the busy tenants' lines and what an idle line needs. */
interface Snapshot {
  at: Date;
  totals: FleetCounts;
  /** The line of every busy tenant (work queued or running, or started in the window). */
  busy: Map<string, TenantStatsLine>;
  quotas: Map<string, QuotaRow>;
}

/** The view's timing: how old a reading may be served as it is, and up to when while a new one is read. */
export interface FleetStatsViewOptions {
  /** The window of wait percentiles, share and dispatched (seconds). */
  windowSeconds?: number;
  /** A reading younger than this is served as it is (ms). */
  freshMs?: number;
  /** A reading up to this old is still served while the next is read; older, the caller waits for the next (ms). */
  staleMs?: number;
  now?: () => number;
}

/**
 * ListTenantStats answered from memory (#18): one reading of the fleet (FleetStats.reading: the
 * busy tenants' lines and the tenant count, one statement, plus the quotas) at most once a second,
 * shared by every page, top-N and caller. A keyset page reads only the ids of its tenants (the
 * catalog's primary key) and fills them from the reading; a top-N reads nothing but selects from
 * the busy tenants with a bounded heap. Before, each page re-ran the window's aggregation for its
 * tenants and, once a second, a page waited for the fleet's totals as well: that wait was the
 * p99 of a page (467 ms at 50,000 tenants). Now a reading that has aged past `freshMs` is served
 * while the next is read in the background, so no page waits for one unless the view has been
 * idle past `staleMs`.
 *
 * The reading is of the durable queues, not of the fair core's memory: the core holds a window of
 * each tenant's jobs and only this replica's partitions, and every replica must answer the same.
 */
export class FleetStatsView {
  private latest: Snapshot | undefined;
  private pending: Promise<Snapshot> | undefined;
  private readonly windowSeconds: number;
  private readonly freshMs: number;
  private readonly staleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly source: FleetSource,
    options: FleetStatsViewOptions = {},
  ) {
    this.windowSeconds = options.windowSeconds ?? 60;
    this.freshMs = options.freshMs ?? 1_000;
    this.staleMs = options.staleMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** A keyset page: the tenants after `after` by id, at most `limit` (every tenant without one), and whether more follow. */
  async page(after: string | undefined, limit: number | undefined): Promise<{ lines: TenantStatsLine[]; more: boolean; snapshot: Snapshot }> {
    const [ids, snapshot] = await Promise.all([this.source.tenantIds(after, limit === undefined ? undefined : limit + 1), this.snapshot()]);
    const more = limit !== undefined && ids.length > limit;
    const lines = (more ? ids.slice(0, limit) : ids).map((id) => this.lineOf(snapshot, id));
    return { lines, more, snapshot };
  }

  /** The `n` first tenants by `sort`, ties by id: one selection over the busy tenants, topped up with idle ones if they are fewer than `n`. */
  async top(sort: TenantStatsSortKey, n: number): Promise<{ lines: TenantStatsLine[]; snapshot: Snapshot }> {
    if (sort === 'tenant') {
      const { lines, snapshot } = await this.page(undefined, n);
      return { lines, snapshot };
    }
    const snapshot = await this.snapshot();
    const order = STATS_ORDER[sort];
    const best = selectTop(snapshot.busy.values(), n, order);
    if (best.length === n) return { lines: best, snapshot };
    // Fewer busy tenants than rows asked: the idle ones (all zeros, so they rank by id among
    // themselves) fill the rest, merged by the same order with busy lines that may also be zero.
    const idle: TenantStatsLine[] = [];
    for (let after: string | undefined; idle.length < n;) {
      const ids = await this.source.tenantIds(after, n + snapshot.busy.size);
      for (const id of ids) if (!snapshot.busy.has(id) && idle.length < n) idle.push(this.lineOf(snapshot, id));
      if (ids.length < n + snapshot.busy.size) break;
      after = ids[ids.length - 1];
    }
    return { lines: [...best, ...idle].sort(order).slice(0, n), snapshot };
  }

  /** The current reading, read again when it is too old (one read at a time, joined by every caller). */
  snapshot(): Promise<Snapshot> {
    const latest = this.latest;
    const age = latest ? this.now() - latest.at.getTime() : Infinity;
    if (latest && age < this.freshMs) return Promise.resolve(latest);
    const next = this.pending ?? this.read();
    return latest && age < this.staleMs ? Promise.resolve(latest) : next;
  }

  private read(): Promise<Snapshot> {
    const at = new Date(this.now());
    const pending = Promise.all([this.source.reading(this.windowSeconds), this.source.loadQuotas()]).then(([reading, quotas]) => {
      const snapshot = this.build(at, reading, quotas);
      this.latest = snapshot;
      return snapshot;
    });
    this.pending = pending;
    const clear = () => {
      if (this.pending === pending) this.pending = undefined;
    };
    // A failed read is not kept: the next caller tries again (and a background read's failure is
    // not an unhandled rejection: whoever waits on it sees it).
    pending.then(clear, clear);
    return pending;
  }

  private build(at: Date, reading: FleetReading, quotaRows: readonly QuotaRow[]): Snapshot {
    const quotas = new Map(quotaRows.map((q) => [q.tenantId, q]));
    const weightOf = (id: string) => quotas.get(id)?.weight ?? QUOTA_DEFAULTS.weight;
    // Share and entitlement are fractions of the whole fleet: of the service finished in the
    // window, and of the weights of the tenants that count as busy (queued, running or served).
    const counts = (s: TenantFleetStats) => s.queued > 0 || s.running > 0 || s.serviceMs > 0;
    let totalService = 0;
    let totalWeight = 0;
    const totals: FleetCounts = { tenants: reading.tenants, queued: 0, inFlight: 0, busy: 0 };
    for (const s of reading.busy) {
      totalService += s.serviceMs;
      totals.queued += s.queued;
      totals.inFlight += s.running;
      if (counts(s)) {
        totals.busy += 1;
        totalWeight += weightOf(s.tenantId);
      }
    }
    totalService ||= 1;
    totalWeight ||= 1;
    const busy = new Map<string, TenantStatsLine>();
    for (const s of reading.busy) {
      const quota = quotas.get(s.tenantId);
      const weight = weightOf(s.tenantId);
      busy.set(s.tenantId, {
        tenantId: s.tenantId,
        queued: s.queued,
        inFlight: s.running,
        weight,
        ...(quota?.maxInFlight ? { maxInFlight: quota.maxInFlight } : {}),
        waitP50Ms: s.waitP50Ms,
        waitP99Ms: s.waitP99Ms,
        share: s.serviceMs / totalService,
        entitlement: counts(s) ? weight / totalWeight : 0,
        dispatched: s.dispatched,
        throttled: 0,
      });
    }
    return { at, totals, busy, quotas };
  }

  private lineOf(snapshot: Snapshot, id: string): TenantStatsLine {
    const line = snapshot.busy.get(id);
    if (line) return line;
    const quota = snapshot.quotas.get(id);
    return {
      tenantId: id,
      queued: 0,
      inFlight: 0,
      weight: quota?.weight ?? QUOTA_DEFAULTS.weight,
      ...(quota?.maxInFlight ? { maxInFlight: quota.maxInFlight } : {}),
      waitP50Ms: 0,
      waitP99Ms: 0,
      share: 0,
      entitlement: 0,
      dispatched: 0,
      throttled: 0,
    };
  }
}
