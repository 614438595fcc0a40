import { duration, percent, table } from './render';

/** One tenant's row of GET /admin/v1/stats. */
export interface TenantStatsRow {
  tenantId: string;
  queued: number;
  inFlight: number;
  weight?: number;
  maxInFlight?: number | null;
  waitP50Ms?: number | null;
  waitP99Ms?: number | null;
  share?: number | null;
  entitlement?: number | null;
  dispatched?: number;
  throttled?: number;
}

/** The answering scheduler replica's capacity, as GET /admin/v1/stats reports it. */
export interface CapacityView {
  total: number;
  inUse: number;
  tiers: Array<{ name: string; slots: number; inUse: number; ahead?: number; share?: number | null }>;
  workers: Array<{ workerId: string; address: string; capacity: number; inUse: number }>;
}

/**
 * One line: the workers' slots in use, then each tier's (`standard 12/16 (50%)`; a tier claiming
 * jobs ahead of its free slots says how many it may: `standard 30/24 +8 ahead (50%)`).
 */
export function capacityLine(capacity: CapacityView): string {
  const workers = capacity.workers.length;
  const tiers = capacity.tiers
    .map((t) => `${t.name} ${t.inUse}/${t.slots}${t.ahead ? ` +${t.ahead} ahead` : ''}${typeof t.share === 'number' ? ` (${t.share}%)` : ''}`)
    .join('  ');
  return `capacity ${capacity.inUse}/${capacity.total} slots in use on ${workers} worker${workers === 1 ? '' : 's'}  tiers: ${tiers}`;
}

/** What `top` can sort by. */
export const TOP_SORT_KEYS = ['queued', 'in-flight', 'wait-p99', 'share', 'tenant'] as const;
/** One of {@link TOP_SORT_KEYS}. */
export type TopSortKey = (typeof TOP_SORT_KEYS)[number];

const sorters: Record<TopSortKey, (a: TenantStatsRow, b: TenantStatsRow) => number> = {
  queued: (a, b) => b.queued - a.queued || b.inFlight - a.inFlight,
  'in-flight': (a, b) => b.inFlight - a.inFlight || b.queued - a.queued,
  'wait-p99': (a, b) => (b.waitP99Ms ?? -1) - (a.waitP99Ms ?? -1),
  share: (a, b) => (b.share ?? -1) - (a.share ?? -1),
  tenant: (a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0),
};

/**
 * Share against entitlement as one word an operator can scan: "under" when the tenant got less
 * than 90% of what weighted fairness promises it (while it had work), "over" above 110%.
 */
export function fairnessVerdict(row: TenantStatsRow): string {
  if (typeof row.share !== 'number' || typeof row.entitlement !== 'number' || row.entitlement <= 0) return '';
  const ratio = row.share / row.entitlement;
  if (ratio < 0.9 && row.queued > 0) return 'under';
  if (ratio > 1.1) return 'over';
  return 'fair';
}

/** Counts over every tenant of the fleet, not only the rows shown (the answer's `totals`). */
export interface TopTotals {
  tenants: number;
  queued: number;
  inFlight: number;
}

/** One frame of `tenantctl top`: tenants by the sort key, at most `limit` of them; `totals` when `rows` are a selection of more. */
export function renderTopFrame(
  rows: readonly TenantStatsRow[],
  options: { sort: TopSortKey; limit: number; at: Date; capacity?: CapacityView | undefined; totals?: TopTotals | undefined },
): string {
  const sorted = [...rows].sort(sorters[options.sort]).slice(0, options.limit);
  const totals =
    options.totals ??
    rows.reduce((t, r) => ({ tenants: t.tenants + 1, queued: t.queued + r.queued, inFlight: t.inFlight + r.inFlight }), { tenants: 0, queued: 0, inFlight: 0 });
  const header = `fairway top - ${options.at.toISOString().slice(11, 19)}  tenants ${totals.tenants}  queued ${totals.queued}  in flight ${totals.inFlight}  (sorted by ${options.sort})`;
  const body = table(sorted, [
    { header: 'TENANT', value: (r) => r.tenantId },
    { header: 'QUEUED', value: (r) => String(r.queued), align: 'right' },
    { header: 'IN-FLIGHT', value: (r) => `${r.inFlight}/${r.maxInFlight ?? '-'}`, align: 'right' },
    { header: 'WEIGHT', value: (r) => String(r.weight ?? '-'), align: 'right' },
    { header: 'WAIT-P50', value: (r) => duration(r.waitP50Ms), align: 'right' },
    { header: 'WAIT-P99', value: (r) => duration(r.waitP99Ms), align: 'right' },
    { header: 'SHARE', value: (r) => percent(r.share), align: 'right' },
    { header: 'ENTITLED', value: (r) => percent(r.entitlement), align: 'right' },
    { header: 'FAIR', value: fairnessVerdict },
    { header: 'THROTTLED', value: (r) => String(r.throttled ?? 0), align: 'right' },
  ]);
  return options.capacity ? `${header}\n${capacityLine(options.capacity)}\n\n${body}` : `${header}\n\n${body}`;
}
