import type { Pool } from 'pg';
import { findTenant, type TenantRecord } from '@fairway/db';

/**
 * The catalog as the edge sees it: tenant lookups cached for a short TTL, so a hot path does not
 * query PostgreSQL on every request, while a suspension takes effect within the TTL.
 */
export class TenantDirectory {
  private readonly cache = new Map<string, { tenant: TenantRecord | undefined; expires: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly ttlMs: number,
  ) {}

  async get(id: string): Promise<TenantRecord | undefined> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.expires > now) return hit.tenant;
    const tenant = await findTenant(this.pool, id);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(id, { tenant, expires: now + this.ttlMs });
    return tenant;
  }
}
