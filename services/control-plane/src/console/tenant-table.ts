import { z } from 'zod';

/** One tenant as the console's table shows it: the scheduler's live figures and its throttles by reason. */
export interface TenantRow {
  tenantId: string;
  queued: number;
  inFlight: number;
  /** null: no cap. */
  maxInFlight: number | null;
  waitP50Ms: number;
  waitP99Ms: number;
  /** Share of the service over the last minute, and what the weight entitles the tenant to (0..1). */
  share: number;
  entitlement: number;
  /** Times the scheduler found the tenant waiting with work queued, in total (the scheduler's count). */
  throttled: number;
  /** The same over the last 5 minutes by reason (rate, concurrency, tier), when Prometheus is there to ask. */
  throttledByReason?: Readonly<Record<string, number>>;
}

/** The columns the table sorts by, as they appear in the URL. */
export const SORT_KEYS = ['tenant', 'queued', 'inFlight', 'waitP50', 'waitP99', 'share', 'throttled'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** Rows a page of the table holds. */
export const TENANT_PAGE_SIZE = 50;

/** What the table shows: sort, direction, filter and page, from the query string. A bad value falls back to its default. */
export const tableQuerySchema = z.object({
  sort: z.enum(SORT_KEYS).catch('queued'),
  dir: z.enum(['asc', 'desc']).catch('desc'),
  q: z
    .string()
    .max(63)
    .transform((s) => s.trim().toLowerCase())
    .catch(''),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});

export type TableQuery = z.output<typeof tableQuerySchema>;

/** The query of `raw` (an Express req.query): never throws; a missing or bad field gets its default. */
export function parseTableQuery(raw: unknown): TableQuery {
  const input = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return tableQuerySchema.parse({ sort: input['sort'], dir: input['dir'], q: input['q'] ?? '', page: input['page'] ?? 1 });
}

const sortValue: Record<SortKey, (row: TenantRow) => number | string> = {
  tenant: (r) => r.tenantId,
  queued: (r) => r.queued,
  inFlight: (r) => r.inFlight,
  waitP50: (r) => r.waitP50Ms,
  waitP99: (r) => r.waitP99Ms,
  share: (r) => r.share,
  throttled: (r) => r.throttled,
};

/** One page of the table: its rows, which page it is of how many, and how many tenants matched the filter. */
export interface TablePage {
  rows: TenantRow[];
  page: number;
  pages: number;
  matched: number;
  total: number;
}

/**
 * Filters `rows` by tenant id (substring), sorts them (ties by tenant id, so a page is stable while
 * figures change) and cuts the page asked for (the last one when it asks past the end). A sort of
 * 50,000 rows takes milliseconds; the scheduler's stats are one answer, so paging them here is
 * cheaper than asking for them a page at a time.
 */
export function tablePage(rows: readonly TenantRow[], query: TableQuery, pageSize = TENANT_PAGE_SIZE): TablePage {
  const matched = query.q ? rows.filter((r) => r.tenantId.includes(query.q)) : [...rows];
  const value = sortValue[query.sort];
  const sign = query.dir === 'asc' ? 1 : -1;
  matched.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const order = x < y ? -1 : x > y ? 1 : 0;
    return order !== 0 ? sign * order : a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0;
  });
  const pages = Math.max(1, Math.ceil(matched.length / pageSize));
  const page = Math.min(query.page, pages);
  return { rows: matched.slice((page - 1) * pageSize, page * pageSize), page, pages, matched: matched.length, total: rows.length };
}

/** The query string of `query` with `change` applied (the links of headers and pager). */
export function tableHref(base: string, query: TableQuery, change: Partial<TableQuery> = {}): string {
  const next = { ...query, ...change };
  const params = new URLSearchParams({ sort: next.sort, dir: next.dir, page: String(next.page) });
  if (next.q) params.set('q', next.q);
  return `${base}?${params.toString()}`;
}
