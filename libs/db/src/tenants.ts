import type { Pool } from 'pg';
import type { TenantId } from '@fairway/tenant-context';

/** A tenant's lifecycle state. */
export type TenantStatus = 'provisioning' | 'active' | 'suspended' | 'offboarding' | 'deleted';

/** Where and how a tenant's data is isolated. */
export type IsolationModel = 'pooled' | 'schema' | 'database';

/** A tenant as the catalog holds it. */
export interface TenantRecord {
  id: TenantId;
  slug: string;
  displayName: string;
  status: TenantStatus;
  isolationModel: IsolationModel;
  plan: string;
  createdAt: Date;
}

interface TenantRow {
  id: string;
  slug: string;
  display_name: string;
  status: TenantStatus;
  isolation_model: IsolationModel;
  plan: string;
  created_at: Date;
}

function toTenant(row: TenantRow): TenantRecord {
  return {
    id: row.id as TenantId,
    slug: row.slug,
    displayName: row.display_name,
    status: row.status,
    isolationModel: row.isolation_model,
    plan: row.plan,
    createdAt: row.created_at,
  };
}

const COLUMNS = 'id, slug, display_name, status, isolation_model, plan, created_at';

/** The tenant with `id`, or undefined. */
export async function findTenant(pool: Pool, id: string): Promise<TenantRecord | undefined> {
  const { rows } = await pool.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
  return rows[0] && toTenant(rows[0]);
}

/** Every tenant, ordered by id. */
export async function listTenants(pool: Pool): Promise<TenantRecord[]> {
  const { rows } = await pool.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants ORDER BY id`);
  return rows.map(toTenant);
}

/** Inserts a tenant, or returns the existing one with the same id (idempotent onboarding). */
export async function upsertTenant(
  pool: Pool,
  tenant: { id: TenantId; slug?: string; displayName?: string; plan?: string; status?: TenantStatus },
): Promise<TenantRecord> {
  const { rows } = await pool.query<TenantRow>(
    `INSERT INTO tenants (id, slug, display_name, plan, status)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET updated_at = tenants.updated_at
     RETURNING ${COLUMNS}`,
    [tenant.id, tenant.slug ?? tenant.id, tenant.displayName ?? tenant.id, tenant.plan ?? 'standard', tenant.status ?? 'active'],
  );
  return toTenant(rows[0] as TenantRow);
}

/** Changes a tenant's status; returns the updated tenant, or undefined if it does not exist. */
export async function setTenantStatus(pool: Pool, id: string, status: TenantStatus): Promise<TenantRecord | undefined> {
  const { rows } = await pool.query<TenantRow>(
    `UPDATE tenants SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, status],
  );
  return rows[0] && toTenant(rows[0]);
}
