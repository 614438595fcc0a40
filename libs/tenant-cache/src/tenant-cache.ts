import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { requireTenant, type TenantContext, type TenantId } from '@fairway/tenant-context';
import { tenantLabeller, TenantLabeller } from '@fairway/telemetry';
import type { CacheKind } from './cache-kind';
import { tenantKeys, type TenantKeys } from './internal/keys';
import { ABANDON, FILL, INVALIDATE, LOOKUP, PURGE } from './internal/scripts';

/** How a read was answered, the `outcome` label of `fairway_tenant_cache_reads_total`. */
export type CacheReadOutcome = 'hit' | 'miss' | 'bypass' | 'error';

/** What a TenantCache is wired to and bounded by. */
export interface TenantCacheOptions {
  /** Prepended to every key: `[A-Za-z0-9:_-]*`, e.g. `fairway:cache:`. */
  prefix: string;
  /** Entry lifetime (ms) unless the kind says otherwise: the bound on staleness if an invalidation is lost. */
  ttlMs: number;
  /** Entries one tenant may hold; filling past it evicts the tenant's own oldest entries. */
  maxKeysPerTenant: number;
  /** Bytes (keys plus values) one tenant may hold; filling past it evicts the tenant's own oldest entries. */
  maxBytesPerTenant: number;
  /** Where the hit/miss/eviction counters are registered; none when omitted. */
  registry?: Registry;
  /** After a Redis error, reads and fills skip Redis for this long (ms) instead of paying its timeout again; default 1000. */
  retryAfterMs?: number;
  /** Invalidations not pending for a tenant past this many ids become one purge of the tenant; default 1000. */
  maxPendingPerTenant?: number;
  /** Told of every Redis error the cache absorbed (reads and invalidations fail open). */
  onError?: (err: Error, operation: 'read' | 'fill' | 'invalidate') => void;
}

/** A tenant's current use of its budget. */
export interface TenantCacheUsage {
  keys: number;
  bytes: number;
}

const PREFIX = /^[A-Za-z0-9:_-]*$/;

/** A fresh fill generation: random, so a generation never comes back (no ABA between a read and its fill). */
const newGeneration = (): string => randomBytes(12).toString('base64url');

/** Invalidations that could not reach Redis, per tenant: entry ids by kind, or the whole tenant. */
interface PendingInvalidation {
  tenant: TenantContext;
  entries: Map<string, Set<string>>;
  size: number;
  purge: boolean;
  /** Bumped by every invalidation added, so a retry removes the tenant only if nothing came meanwhile. */
  version: number;
}

/**
 * A Redis cache of one tenant's hot reads at a time. Its API never takes a tenant: every method
 * reads the tenant from the tenant context (`requireTenant()`) and builds the keys itself, so no
 * code path can name a key without a tenant, or another tenant's key. Ids may collide across
 * tenants (the key holds the tenant).
 *
 * - `read(kind, id, load)`: a hit is one Redis round trip; on a miss `load` runs with the very
 *   tenant context the key was built from, and its value is stored unless a write or a purge of the
 *   tenant happened since the miss (a generation token, checked atomically by the fill script).
 * - `invalidate(kind, ids)`: call it after the write committed. An invalidation that cannot reach
 *   Redis is retried in the background, and until it went through this process reads the tenant
 *   from the database.
 * - `purgeTenant()`: deletes every key of the tenant (offboarding, crypto-shredding).
 * - Per-tenant bounds (keys and bytes): a tenant that fills past its budget evicts its own
 *   entries, closest to expiry first; it can never push out another tenant's.
 * - Fails open: with Redis down or slow, reads go to the database; never to another tenant's data.
 */
export class TenantCache {
  private readonly retryAfterMs: number;
  private readonly maxPendingPerTenant: number;
  private readonly metaTtlMs: number;
  private readonly labeller: TenantLabeller;
  private readonly reads?: Counter;
  private readonly fills?: Counter;
  private readonly evictions?: Counter;
  private readonly invalidationFailures?: Counter;
  private readonly pending = new Map<TenantId, PendingInvalidation>();
  private unavailableUntil = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: TenantCacheOptions,
  ) {
    if (!PREFIX.test(options.prefix)) throw new RangeError(`the tenant cache prefix must match ${PREFIX} (got '${options.prefix}')`);
    for (const name of ['ttlMs', 'maxKeysPerTenant', 'maxBytesPerTenant'] as const) {
      const value = options[name];
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`tenant cache ${name} must be an integer >= 1 (got ${value})`);
    }
    this.retryAfterMs = options.retryAfterMs ?? 1_000;
    this.maxPendingPerTenant = options.maxPendingPerTenant ?? 1_000;
    // The accounting keys outlive the longest entry, so an entry is never unaccounted for.
    this.metaTtlMs = options.ttlMs * 2 + 60_000;
    this.labeller = options.registry ? tenantLabeller(options.registry) : new TenantLabeller();
    const registry = options.registry;
    if (registry) {
      // One set of counters per registry, shared by every TenantCache on it (as the labeller is).
      const counter = <L extends string>(config: { name: string; help: string; labelNames?: readonly L[] }): Counter<L> =>
        (registry.getSingleMetric(config.name) as Counter<L> | undefined) ?? new Counter({ ...config, registers: [registry] });
      this.reads = counter({
        name: 'fairway_tenant_cache_reads_total',
        help: 'Tenant cache reads by kind and outcome (hit, miss, bypass: Redis skipped while unavailable or an invalidation is pending, error: Redis failed and the database answered)',
        labelNames: ['tenant', 'kind', 'outcome'],
      });
      this.fills = counter({
        name: 'fairway_tenant_cache_fills_total',
        help: 'Values offered to the tenant cache after a miss, by kind and outcome (stored, refused: a write or purge came between, too-large, error)',
        labelNames: ['kind', 'outcome'],
      });
      this.evictions = counter({
        name: 'fairway_tenant_cache_evictions_total',
        help: "Entries evicted to keep a tenant within its cache budget (REDIS_CACHE_TENANT_MAX_KEYS, REDIS_CACHE_TENANT_MAX_BYTES); only the tenant's own",
        labelNames: ['tenant'],
      });
      this.invalidationFailures = counter({
        name: 'fairway_tenant_cache_invalidation_failures_total',
        help: 'Invalidations that could not reach Redis and were kept to retry (the writing process reads the tenant from the database meanwhile)',
      });
    }
  }

  /**
   * The value of (`kind`, `id`) for the current tenant: from the cache, or from `load`, which is
   * called with the tenant the key was built from (use it, not a tenant of your own, for the query).
   */
  async read<T>(kind: CacheKind<T>, id: string, load: (tenant: TenantContext) => Promise<T>): Promise<T> {
    const tenant = requireTenant('a tenant cache read');
    const keys = tenantKeys(this.options.prefix, tenant);
    const key = keys.entry(kind.name, id);
    if (this.pending.has(tenant.tenantId) || !this.available()) {
      this.count(tenant, kind, 'bypass');
      return load(tenant);
    }
    let looked: [number, string];
    try {
      looked = (await LOOKUP.run(this.redis, [keys.meta, keys.index, keys.sizes, key], [newGeneration(), this.metaTtlMs])) as [number, string];
    } catch (err) {
      this.failed(err, 'read');
      this.count(tenant, kind, 'error');
      return load(tenant);
    }
    const [hit, payload] = looked;
    if (hit === 1) {
      try {
        const cached = kind.decode(payload);
        this.count(tenant, kind, 'hit');
        return cached;
      } catch {
        // Written by another version of the kind's codec: the database answers, and the write that
        // changes the value, or the TTL, replaces it.
        this.count(tenant, kind, 'error');
        return load(tenant);
      }
    }
    this.count(tenant, kind, 'miss');
    let value: T;
    try {
      value = await load(tenant);
    } catch (err) {
      await this.abandon(keys, payload);
      throw err;
    }
    if (kind.cacheable(value)) await this.fill(tenant, keys, key, kind, payload, value);
    else await this.abandon(keys, payload);
    return value;
  }

  /**
   * Drops the current tenant's entries (`kind`, each of `ids`) and refuses every fill that began
   * before. Call it after the write committed (before, a reader could refill the old value). Never
   * throws: an invalidation Redis did not take is retried, and meanwhile this process reads the
   * tenant from the database.
   */
  async invalidate<T>(kind: CacheKind<T>, ids: readonly string[]): Promise<void> {
    const tenant = requireTenant('a tenant cache invalidation');
    const keys = tenantKeys(this.options.prefix, tenant);
    const entries = ids.map((id) => keys.entry(kind.name, id));
    try {
      await INVALIDATE.run(this.redis, [keys.meta, keys.index, keys.sizes, ...entries], [newGeneration()]);
    } catch (err) {
      this.failed(err, 'invalidate');
      this.invalidationFailures?.inc();
      this.keepPending(tenant, kind.name, ids);
    }
  }

  /**
   * Deletes every key of the current tenant: its entries through the index, then whatever a SCAN
   * of the tenant's pattern still finds (a key written under other bounds, say). Throws when Redis
   * cannot be reached: offboarding must not report a purge that did not happen. Returns the keys deleted.
   */
  async purgeTenant(): Promise<number> {
    const tenant = requireTenant('a tenant cache purge');
    const keys = tenantKeys(this.options.prefix, tenant);
    let deleted = Number(await PURGE.run(this.redis, [keys.meta, keys.index, keys.sizes], []));
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', keys.pattern, 'COUNT', 1000);
      if (found.length > 0) deleted += await this.redis.unlink(...found);
      cursor = next;
    } while (cursor !== '0');
    this.pending.delete(tenant.tenantId);
    return deleted;
  }

  /** The current tenant's entries and accounted bytes. */
  async usage(): Promise<TenantCacheUsage> {
    const keys = tenantKeys(this.options.prefix, requireTenant('a tenant cache usage'));
    const [count, bytes] = await Promise.all([this.redis.zcard(keys.index), this.redis.hget(keys.meta, 'bytes')]);
    return { keys: count, bytes: Number(bytes ?? 0) };
  }

  /** Tenants with invalidations still waiting for Redis. */
  get pendingTenants(): number {
    return this.pending.size;
  }

  /** Stops the background retry of pending invalidations (the Redis client is the caller's). */
  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async fill<T>(tenant: TenantContext, keys: TenantKeys, key: string, kind: CacheKind<T>, gen: string, value: T): Promise<void> {
    if (!this.available()) return;
    const args = [gen, kind.encode(value), kind.ttlMs ?? this.options.ttlMs, this.options.maxKeysPerTenant, this.options.maxBytesPerTenant, this.metaTtlMs];
    try {
      const evicted = Number(await FILL.run(this.redis, [keys.meta, keys.index, keys.sizes, key], args));
      this.fills?.inc({ kind: kind.name, outcome: evicted === -1 ? 'refused' : evicted === -2 ? 'too-large' : 'stored' });
      if (evicted > 0) this.evictions?.inc({ tenant: this.labeller.label(tenant.tenantId) }, evicted);
    } catch (err) {
      this.failed(err, 'fill');
      this.fills?.inc({ kind: kind.name, outcome: 'error' });
    }
  }

  private async abandon(keys: TenantKeys, gen: string): Promise<void> {
    await ABANDON.run(this.redis, [keys.meta, keys.index], [gen]).catch(() => undefined);
  }

  private available(): boolean {
    return this.redis.status === 'ready' && Date.now() >= this.unavailableUntil;
  }

  private failed(err: unknown, operation: 'read' | 'fill' | 'invalidate'): void {
    this.unavailableUntil = Date.now() + this.retryAfterMs;
    this.options.onError?.(err as Error, operation);
  }

  private count(tenant: TenantContext, kind: { readonly name: string }, outcome: CacheReadOutcome): void {
    this.reads?.inc({ tenant: this.labeller.label(tenant.tenantId), kind: kind.name, outcome });
  }

  private keepPending(tenant: TenantContext, kind: string, ids: readonly string[]): void {
    let entry = this.pending.get(tenant.tenantId);
    if (!entry) {
      entry = { tenant, entries: new Map(), size: 0, purge: false, version: 0 };
      this.pending.set(tenant.tenantId, entry);
    }
    entry.version++;
    if (!entry.purge) {
      let set = entry.entries.get(kind);
      if (!set) entry.entries.set(kind, (set = new Set()));
      for (const id of ids) {
        if (set.has(id)) continue;
        set.add(id);
        entry.size++;
      }
      // Past the bound, one purge of the tenant says the same in constant memory.
      if (entry.size > this.maxPendingPerTenant) Object.assign(entry, { purge: true, entries: new Map(), size: 0 });
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.pending.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retryPending().finally(() => this.scheduleRetry());
    }, this.retryAfterMs);
    this.retryTimer.unref();
  }

  /** Applies the pending invalidations Redis now takes; a tenant leaves the list only when all of its went through. */
  private async retryPending(): Promise<void> {
    for (const [tenantId, entry] of [...this.pending]) {
      const keys = tenantKeys(this.options.prefix, entry.tenant);
      const version = entry.version;
      try {
        if (entry.purge) {
          await PURGE.run(this.redis, [keys.meta, keys.index, keys.sizes], []);
        } else {
          const entries = [...entry.entries].flatMap(([kind, ids]) => [...ids].map((id) => keys.entry(kind, id)));
          await INVALIDATE.run(this.redis, [keys.meta, keys.index, keys.sizes, ...entries], [newGeneration()]);
        }
        // An invalidation added while this one was in flight keeps the tenant pending for the next round.
        if (entry.version === version) this.pending.delete(tenantId);
      } catch {
        return;
      }
    }
  }
}
