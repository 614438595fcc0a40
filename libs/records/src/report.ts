import type { TenantTx } from '@fairway/db';

/** Aggregates over a tenant's records. Sums and averages are decimal strings (numeric, not float). */
export interface RecordsReport {
  count: number;
  sumAmount: string;
  avgAmount: string | null;
  byTag: Array<{ tag: string; count: number; sumAmount: string }>;
}

/** Counts and sums the records of the transaction's tenant, in total and per tag, in the database. */
export async function reportRecords(tx: TenantTx): Promise<RecordsReport> {
  const totals = await tx.query<{ count: string; sum: string; avg: string | null }>(
    'SELECT count(*) AS count, COALESCE(sum(amount), 0)::text AS sum, round(avg(amount), 2)::text AS avg FROM records',
  );
  const tags = await tx.query<{ tag: string; count: string; sum: string }>(
    'SELECT tag, count(*) AS count, sum(amount)::text AS sum FROM records, unnest(tags) AS tag GROUP BY tag ORDER BY tag',
  );
  const row = totals.rows[0];
  return {
    count: Number(row?.count ?? 0),
    sumAmount: row?.sum ?? '0',
    avgAmount: row?.avg ?? null,
    byTag: tags.rows.map((t) => ({ tag: t.tag, count: Number(t.count), sumAmount: t.sum })),
  };
}
