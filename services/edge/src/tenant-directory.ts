import type { Pool } from 'pg';
import { findTenant, type TenantRecord } from '@fairway/db';
import { TENANT_CATALOG_ENTRY, TENANT_CATALOG_ENTRY_ID, type TenantCache } from '@fairway/tenant-cache';
import { parseTenantId, runWithTenant, tenantContext } from '@fairway/tenant-context';

/** Reads tenants by id and by slug; a PostgreSQL catalog in production, a Map in unit tests. */
export interface TenantLookup {
  get(id: string): Promise<TenantRecord | undefined>;
  /** The id of the tenant whose slug is `slug`, or undefined. */
  idBySlug(slug: string): Promise<string | undefined>;
  /** A fresh cached answer of get(id), without waiting: `{ tenant }` on a hit, undefined on a miss. */
  peek?(id: string): { tenant: TenantRecord | undefined } | undefined;
}

/**
 * The catalog as the edge sees it: tenant lookups cached for a short TTL, so a hot path does not
 * query PostgreSQL on every request, while a suspension takes effect within the TTL. With a
 * `shared` tenant cache, a replica's miss is answered from Redis before PostgreSQL (the control
 * plane invalidates the entry after every status change it commits).
 */
export class TenantDirectory implements TenantLookup {
  private readonly cache = new Map<string, { tenant: TenantRecord | undefined; expires: number }>();
  private readonly slugs = new Map<string, { id: string | undefined; expires: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly ttlMs: number,
    private readonly shared?: TenantCache,
  ) {}

  /** The catalog entry of `id`: from the shared cache in the scope of that tenant, else from PostgreSQL. */
  private load(id: string): Promise<TenantRecord | undefined> {
    const tenantId = parseTenantId(id);
    const shared = this.shared;
    // Not a tenant id: no such tenant, and nothing to name a cache scope with.
    if (!shared || !tenantId) return findTenant(this.pool, id);
    return runWithTenant(tenantContext(tenantId, 'system'), () =>
      shared.read(TENANT_CATALOG_ENTRY, TENANT_CATALOG_ENTRY_ID, (scoped) => findTenant(this.pool, scoped.tenantId)),
    );
  }

  peek(id: string): { tenant: TenantRecord | undefined } | undefined {
    const hit = this.cache.get(id);
    return hit && hit.expires > Date.now() ? hit : undefined;
  }

  async get(id: string): Promise<TenantRecord | undefined> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.expires > now) return hit.tenant;
    const tenant = await this.load(id);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(id, { tenant, expires: now + this.ttlMs });
    return tenant;
  }

  async idBySlug(slug: string): Promise<string | undefined> {
    const now = Date.now();
    const hit = this.slugs.get(slug);
    if (hit && hit.expires > now) return hit.id;
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug]);
    if (this.slugs.size > 100_000) this.slugs.clear();
    this.slugs.set(slug, { id: rows[0]?.id, expires: now + this.ttlMs });
    return rows[0]?.id;
  }
}
