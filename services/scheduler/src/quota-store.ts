import type { Pool } from 'pg';

/** A tenant's quota row. Absent fields mean "no limit". */
export interface QuotaRow {
  tenantId: string;
  weight: number;
  rate: number | null;
  burst: number | null;
  maxInFlight: number | null;
  updatedAt: Date;
  updatedBy: string;
}

interface QuotaDbRow {
  tenant_id: string;
  weight: number;
  rate: number | null;
  burst: number | null;
  max_in_flight: number | null;
  updated_at: Date;
  updated_by: string;
}

function toQuota(row: QuotaDbRow): QuotaRow {
  return {
    tenantId: row.tenant_id,
    weight: row.weight,
    rate: row.rate,
    burst: row.burst,
    maxInFlight: row.max_in_flight,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** Tenants' live quotas (tenant_quotas), every change recorded with who made it (tenant_quota_history). */
export class QuotaStore {
  constructor(private readonly pool: Pool) {}

  /** Every quota row. */
  async loadQuotas(tenantId?: string): Promise<QuotaRow[]> {
    const { rows } = await this.pool.query<QuotaDbRow>(
      `SELECT tenant_id, weight, rate, burst, max_in_flight, updated_at, updated_by FROM tenant_quotas
       WHERE $1::text IS NULL OR tenant_id = $1`,
      [tenantId ?? null],
    );
    return rows.map(toQuota);
  }

  /**
   * Changes a tenant's quota and records the change (who, when, before, after) in one
   * transaction. The table's trigger announces it to every replica (NOTIFY fairway_quota).
   */
  async setQuota(
    tenantId: string,
    patch: { weight?: number; rate?: number | null; burst?: number | null; maxInFlight?: number | null },
    actor: string,
  ): Promise<QuotaRow> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const before = await client.query<QuotaDbRow>(
        'SELECT tenant_id, weight, rate, burst, max_in_flight, updated_at, updated_by FROM tenant_quotas WHERE tenant_id = $1 FOR UPDATE',
        [tenantId],
      );
      const current = before.rows[0];
      const next = {
        weight: patch.weight ?? current?.weight ?? 1,
        rate: patch.rate === undefined ? (current?.rate ?? null) : patch.rate,
        burst: patch.burst === undefined ? (current?.burst ?? null) : patch.burst,
        maxInFlight: patch.maxInFlight === undefined ? (current?.max_in_flight ?? null) : patch.maxInFlight,
      };
      const { rows } = await client.query<QuotaDbRow>(
        `INSERT INTO tenant_quotas (tenant_id, weight, rate, burst, max_in_flight, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, now(), $6)
         ON CONFLICT (tenant_id) DO UPDATE SET weight = $2, rate = $3, burst = $4, max_in_flight = $5, updated_at = now(), updated_by = $6
         RETURNING tenant_id, weight, rate, burst, max_in_flight, updated_at, updated_by`,
        [tenantId, next.weight, next.rate, next.burst, next.maxInFlight, actor],
      );
      await client.query('INSERT INTO tenant_quota_history (tenant_id, changed_by, before, after) VALUES ($1, $2, $3, $4)', [
        tenantId,
        actor,
        current ? JSON.stringify({ weight: current.weight, rate: current.rate, burst: current.burst, maxInFlight: current.max_in_flight }) : null,
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
