import type { Pool } from 'pg';
import { UpstreamUnavailableError } from '@fairway/errors';

/** Options of a ConnectionBudget. */
export interface ConnectionBudgetOptions {
  /** The most connections all the budget's pools may hold together. */
  maxConnections: number;
  /** The most connections one database's pool may hold. */
  perPoolMax: number;
  /** A pool nobody used for this long is closed (ms). */
  idleMs: number;
  /** How long a caller waits for room before giving up with a retriable error (ms). */
  acquireTimeoutMs: number;
  /** Opens a pool of at most `max` connections on `url`. */
  createPool: (url: string, max: number) => Pool;
}

interface OpenPool {
  readonly key: string;
  readonly pool: Pool;
  inUse: number;
  lastUsedAt: number;
}

/** A snapshot of the budget, for metrics and tests. */
export interface ConnectionBudgetStats {
  openPools: number;
  reservedConnections: number;
  maxConnections: number;
  waiting: number;
  poolsOpened: number;
  poolsClosed: number;
}

/**
 * Pools on many databases (one per `database` tenant) under one global connection budget, so a
 * thousand tenant databases never exhaust PostgreSQL's max_connections.
 *
 * Each open pool reserves `perPoolMax` connections of the budget for as long as it is open, so the
 * sum of what the pools can ever hold stays within `maxConnections` (a reservation, not a count of
 * live sockets: pg opens connections lazily and we cannot close one idle socket of a busy pool).
 * When a new database needs a pool and the budget is full, the least recently used pool that
 * nobody is using is closed; if every pool is busy, the caller waits in FIFO order until one is
 * released, up to `acquireTimeoutMs`.
 */
export class ConnectionBudget {
  // A Map iterates in insertion order; re-inserting on use keeps it least- to most-recently used.
  private readonly pools = new Map<string, OpenPool>();
  private readonly waiters: Array<() => void> = [];
  private reserved = 0;
  private opened = 0;
  private closed = 0;
  private readonly sweeper: NodeJS.Timeout;
  private ended = false;

  constructor(private readonly options: ConnectionBudgetOptions) {
    if (options.perPoolMax > options.maxConnections) {
      throw new RangeError(`perPoolMax (${options.perPoolMax}) must not exceed maxConnections (${options.maxConnections})`);
    }
    this.sweeper = setInterval(() => void this.closeIdle(), Math.max(50, Math.min(options.idleMs, 5_000)));
    this.sweeper.unref();
  }

  /** Runs `fn` with the pool of the database at `url` (keyed by `key`), opening it within the budget. */
  async use<T>(key: string, url: string, fn: (pool: Pool) => Promise<T>): Promise<T> {
    const entry = await this.acquire(key, url);
    try {
      return await fn(entry.pool);
    } finally {
      entry.inUse -= 1;
      entry.lastUsedAt = Date.now();
      this.wakeOne();
    }
  }

  /** Closes the pool of `key` once nobody uses it (after a tenant moved or was offboarded). */
  async evict(key: string): Promise<void> {
    const entry = this.pools.get(key);
    if (entry && entry.inUse === 0) await this.close(entry);
  }

  /** Closes every pool. */
  async end(): Promise<void> {
    this.ended = true;
    clearInterval(this.sweeper);
    await Promise.all([...this.pools.values()].map((entry) => this.close(entry)));
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** What the budget holds now. */
  stats(): ConnectionBudgetStats {
    return {
      openPools: this.pools.size,
      reservedConnections: this.reserved,
      maxConnections: this.options.maxConnections,
      waiting: this.waiters.length,
      poolsOpened: this.opened,
      poolsClosed: this.closed,
    };
  }

  private async acquire(key: string, url: string): Promise<OpenPool> {
    const deadline = Date.now() + this.options.acquireTimeoutMs;
    for (;;) {
      if (this.ended) throw new UpstreamUnavailableError('tenant-database', 'the connection budget is closed');
      const open = this.pools.get(key);
      if (open) {
        this.pools.delete(key);
        this.pools.set(key, open);
        open.inUse += 1;
        return open;
      }
      if (this.reserved + this.options.perPoolMax <= this.options.maxConnections) {
        // Opened and claimed in one synchronous step: an opened pool is never seen idle (and
        // evicted by another caller) before its opener has used it.
        return this.openPool(key, url);
      }
      const idle = [...this.pools.values()].find((entry) => entry.inUse === 0);
      if (idle) {
        await this.close(idle);
        continue;
      }
      await this.waitForRelease(deadline);
    }
  }

  private openPool(key: string, url: string): OpenPool {
    this.reserved += this.options.perPoolMax;
    this.opened += 1;
    const entry: OpenPool = { key, pool: this.options.createPool(url, this.options.perPoolMax), inUse: 1, lastUsedAt: Date.now() };
    this.pools.set(key, entry);
    return entry;
  }

  private async close(entry: OpenPool): Promise<void> {
    if (this.pools.get(entry.key) !== entry) return;
    this.pools.delete(entry.key);
    this.closed += 1;
    try {
      await entry.pool.end();
    } finally {
      // The reservation is returned only once the sockets are closed, so the budget never counts
      // a connection as free while PostgreSQL still holds it.
      this.reserved -= this.options.perPoolMax;
      this.wakeOne();
    }
  }

  private waitForRelease(deadline: number): Promise<void> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      return Promise.reject(
        new UpstreamUnavailableError('tenant-database', `every tenant-database connection (${this.options.maxConnections}) is in use; retry shortly`, 1),
      );
    }
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(wake);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve();
      }, remaining);
      this.waiters.push(wake);
    });
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  private async closeIdle(): Promise<void> {
    const cutoff = Date.now() - this.options.idleMs;
    for (const entry of [...this.pools.values()]) {
      if (entry.inUse === 0 && entry.lastUsedAt <= cutoff) await this.close(entry).catch(() => undefined);
    }
  }
}
