import type { Pool } from 'pg';

/** One tenant's line of the fleet statistics. */
export interface TenantFleetStats {
  tenantId: string;
  queued: number;
  running: number;
  waitP50Ms: number;
  waitP99Ms: number;
  serviceMs: number;
  dispatched: number;
}

/** The fleet-wide sums a tenant's share and entitlement are fractions of. */
export interface FleetTotals {
  /** Job milliseconds finished in the window, over every active or suspended tenant. */
  serviceMs: number;
  /** Tenants with a job queued or running, or service finished in the window. */
  busyTenants: string[];
}

/** Every tenant with something to show, and how many tenants there are: one reading of the fleet. */
export interface FleetReading {
  /** Active and suspended tenants, idle ones included. */
  tenants: number;
  /** The tenants with a job queued or running, or started in the window; every other tenant's line is all zeros. */
  busy: TenantFleetStats[];
}

/** Fleet-wide statistics per tenant, read from the durable queues so that every replica answers the same. */
export class FleetStats {
  constructor(private readonly pool: Pool) {}

  /**
   * Fleet-wide statistics per tenant, from the durable queues (so every replica answers the same):
   * queued, running, wait p50/p99 of the jobs started in the last `windowSeconds`, and each
   * tenant's share of the service (job seconds) finished in that window. With `page`, only the
   * tenants after `page.after` by id, at most `page.limit` of them (a keyset page: the jobs read
   * are those of the page's tenants, so a page costs the same however many tenants follow it).
   */
  async tenantStats(windowSeconds = 300, page: { after?: string | undefined; limit?: number | undefined } = {}): Promise<TenantFleetStats[]> {
    const { rows } = await this.pool.query<{
      tenant_id: string;
      queued: string;
      running: string;
      wait_p50_ms: number | null;
      wait_p99_ms: number | null;
      /** numeric (sum of extract(epoch ...)), which pg hands over as text. */
      service_ms: string | null;
      dispatched: string;
    }>(
      `WITH page AS (
         SELECT id FROM tenants
         WHERE status IN ('active', 'suspended') AND ($2::text IS NULL OR id > $2)
         ORDER BY id LIMIT $3),
       ${statsCtes(' AND tenant_id IN (SELECT id FROM page)')}
       SELECT t.id AS tenant_id,
              coalesce(p.queued, 0) AS queued,
              coalesce(p.running, 0) AS running,
              s.wait_p50_ms, s.wait_p99_ms, s.service_ms,
              coalesce(s.dispatched, 0) AS dispatched
       FROM page t
       LEFT JOIN pending p ON p.tenant_id = t.id
       LEFT JOIN served s ON s.tenant_id = t.id
       ORDER BY t.id`,
      // LIMIT NULL is LIMIT ALL: without a page, every tenant.
      [windowSeconds, page.after ?? null, page.limit ?? null],
    );
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      queued: Number(row.queued),
      running: Number(row.running),
      waitP50Ms: row.wait_p50_ms ?? 0,
      waitP99Ms: row.wait_p99_ms ?? 0,
      serviceMs: row.service_ms === null ? 0 : Number(row.service_ms),
      dispatched: Number(row.dispatched),
    }));
  }

  /**
   * What a tenant's share and entitlement are fractions of, over the whole fleet (active and
   * suspended tenants), so that every page of {@link tenantStats} states them alike: the service
   * (job milliseconds) finished in the last `windowSeconds`, and the tenants that count as busy
   * (a job queued or running, or service finished in the window).
   */
  async fleetTotals(windowSeconds = 300): Promise<FleetTotals> {
    const { rows } = await this.pool.query<{ service_ms: string | null; busy: string[] }>(
      `WITH recent AS (
         SELECT tenant_id, extract(epoch FROM finished_at - started_at) * 1000 AS service_ms
         FROM jobs WHERE started_at > now() - $1 * interval '1 second' AND finished_at IS NOT NULL),
       busy AS (
         SELECT tenant_id FROM jobs WHERE state IN ('queued', 'running')
         UNION
         SELECT tenant_id FROM recent WHERE service_ms > 0)
       SELECT (SELECT sum(r.service_ms) FROM recent r JOIN tenants t ON t.id = r.tenant_id AND t.status IN ('active', 'suspended')) AS service_ms,
              array(SELECT b.tenant_id FROM busy b JOIN tenants t ON t.id = b.tenant_id AND t.status IN ('active', 'suspended')) AS busy`,
      [windowSeconds],
    );
    const row = rows[0];
    return { serviceMs: row?.service_ms ? Number(row.service_ms) : 0, busyTenants: row?.busy ?? [] };
  }

  /**
   * One reading of the whole fleet (#18): the line of every tenant with work (a job queued or
   * running, or started in the last `windowSeconds`), and the count of active and suspended
   * tenants. The lines are those of {@link tenantStats}; idle tenants, whose lines are all zeros,
   * are counted, not listed, so the reading grows with the busy tenants (5,000 of 50,000 in
   * bench:scale), not with the catalog. The scheduler reads it at most once a second and answers
   * every page and top-N from it.
   */
  async reading(windowSeconds = 300): Promise<FleetReading> {
    const [busy, count] = await Promise.all([
      this.pool.query<{
        tenant_id: string;
        queued: string | null;
        running: string | null;
        wait_p50_ms: number | null;
        wait_p99_ms: number | null;
        service_ms: string | null;
        dispatched: string | null;
      }>(
        `WITH ${statsCtes()}
         SELECT coalesce(p.tenant_id, s.tenant_id) AS tenant_id, p.queued, p.running, s.wait_p50_ms, s.wait_p99_ms, s.service_ms, s.dispatched
         FROM pending p FULL JOIN served s ON s.tenant_id = p.tenant_id
         JOIN tenants t ON t.id = coalesce(p.tenant_id, s.tenant_id) AND t.status IN ('active', 'suspended')`,
        [windowSeconds],
      ),
      this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM tenants WHERE status IN ('active', 'suspended')`),
    ]);
    return {
      tenants: Number(count.rows[0]?.n ?? 0),
      busy: busy.rows.map((row) => ({
        tenantId: row.tenant_id,
        queued: Number(row.queued ?? 0),
        running: Number(row.running ?? 0),
        waitP50Ms: row.wait_p50_ms ?? 0,
        waitP99Ms: row.wait_p99_ms ?? 0,
        serviceMs: row.service_ms === null ? 0 : Number(row.service_ms),
        dispatched: Number(row.dispatched ?? 0),
      })),
    };
  }

  /**
   * The ids of active and suspended tenants after `after`, at most `limit` of them, in order: a
   * keyset page of the catalog (its primary key), a few milliseconds at any size.
   */
  async tenantIds(after: string | undefined, limit: number | undefined): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM tenants WHERE status IN ('active', 'suspended') AND ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [after ?? null, limit ?? null],
    );
    return rows.map((row) => row.id);
  }
}

/**
 * The per-tenant figures both readings share: `recent` (jobs started in the last $1 seconds: wait and
 * service), `pending` (queued and running counts in one pass over their partial indexes, not a count
 * per tenant) and `served` (wait percentiles and service of `recent`). `scope` narrows both job scans
 * (a page's tenants).
 */
function statsCtes(scope = ''): string {
  return `recent AS (
         SELECT tenant_id,
                extract(epoch FROM started_at - accepted_at) * 1000 AS wait_ms,
                CASE WHEN finished_at IS NOT NULL THEN extract(epoch FROM finished_at - started_at) * 1000 END AS service_ms
         FROM jobs WHERE started_at > now() - $1 * interval '1 second'${scope}),
       pending AS (
         SELECT tenant_id, count(*) FILTER (WHERE state = 'queued') AS queued, count(*) FILTER (WHERE state = 'running') AS running
         FROM jobs WHERE state IN ('queued', 'running')${scope} GROUP BY tenant_id),
       served AS (
         SELECT tenant_id,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_ms) AS wait_p50_ms,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY wait_ms) AS wait_p99_ms,
                sum(service_ms) AS service_ms,
                count(*) AS dispatched
         FROM recent GROUP BY tenant_id)`;
}
