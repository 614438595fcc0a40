import type { Pool } from 'pg';
import {
  applyQuotaPatch,
  limitsOf,
  QUOTA_FIELDS,
  tenantQuotaSchema,
  type QuotaField,
  type QuotaLimits,
  type QuotaPatch,
  type TenantQuota,
} from '@fairway/quota';

/** A tenant's quota as the store holds it: @fairway/quota's {@link TenantQuota} (`null` is "no limit"). */
export type QuotaRow = TenantQuota;

/**
 * The column of each quota field in tenant_quotas. Typed by the field list, so a field added to
 * @fairway/quota does not compile here until it has a column (and a migration that adds it).
 */
const COLUMNS: Readonly<Record<QuotaField, string>> = {
  weight: 'weight',
  rate: 'rate',
  burst: 'burst',
  maxInFlight: 'max_in_flight',
  rateBasis: 'rate_basis',
  maxInFlightByClass: 'max_in_flight_by_class',
};

const SELECT = `tenant_id, ${QUOTA_FIELDS.map((f) => `${COLUMNS[f]} AS "${f}"`).join(', ')}, updated_at, updated_by`;

type QuotaDbRow = { tenant_id: string; updated_at: Date; updated_by: string } & Record<QuotaField, unknown>;

function toQuota(row: QuotaDbRow): QuotaRow {
  return tenantQuotaSchema.parse({
    tenantId: row.tenant_id,
    ...Object.fromEntries(QUOTA_FIELDS.map((f) => [f, row[f]])),
    updatedAt: row.updated_at.toISOString(),
    updatedBy: row.updated_by,
  });
}

/** A field's value as a query parameter: objects (per-key limits) are stored as jsonb. */
const param = (value: unknown) => (value !== null && typeof value === 'object' ? JSON.stringify(value) : value);

/** Tenants' live quotas (tenant_quotas), every change recorded with who made it (tenant_quota_history). */
export class QuotaStore {
  constructor(private readonly pool: Pool) {}

  /** Every quota row, or the tenant's. */
  async loadQuotas(tenantId?: string): Promise<QuotaRow[]> {
    const { rows } = await this.pool.query<QuotaDbRow>(`SELECT ${SELECT} FROM tenant_quotas WHERE $1::text IS NULL OR tenant_id = $1`, [tenantId ?? null]);
    return rows.map(toQuota);
  }

  /**
   * Applies a validated change to a tenant's quota (a tenant without a row starts from the defaults)
   * and records it (who, when, before, after) in one transaction. The table's trigger announces it
   * to every replica (NOTIFY fairway_quota).
   */
  async setQuota(tenantId: string, patch: QuotaPatch, actor: string): Promise<QuotaRow> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const before = await client.query<QuotaDbRow>(`SELECT ${SELECT} FROM tenant_quotas WHERE tenant_id = $1 FOR UPDATE`, [tenantId]);
      const current = before.rows[0] ? limitsOf(toQuota(before.rows[0])) : undefined;
      const next: QuotaLimits = applyQuotaPatch(current, patch);
      const columns = QUOTA_FIELDS.map((f) => COLUMNS[f]);
      const values = QUOTA_FIELDS.map((f) => param(next[f]));
      const placeholders = columns.map((_c, i) => `$${i + 2}`);
      const actorParam = `$${columns.length + 2}`;
      const { rows } = await client.query<QuotaDbRow>(
        `INSERT INTO tenant_quotas (tenant_id, ${columns.join(', ')}, updated_at, updated_by)
         VALUES ($1, ${placeholders.join(', ')}, now(), ${actorParam})
         ON CONFLICT (tenant_id) DO UPDATE SET ${columns.map((c, i) => `${c} = ${placeholders[i]}`).join(', ')}, updated_at = now(), updated_by = ${actorParam}
         RETURNING ${SELECT}`,
        [tenantId, ...values, actor],
      );
      await client.query('INSERT INTO tenant_quota_history (tenant_id, changed_by, before, after) VALUES ($1, $2, $3, $4)', [
        tenantId,
        actor,
        current ? JSON.stringify(current) : null,
        JSON.stringify(next),
      ]);
      await client.query('COMMIT');
      return toQuota(rows[0] as QuotaDbRow);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
