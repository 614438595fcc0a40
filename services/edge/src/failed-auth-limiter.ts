/** How many failed authentications one client may have, and for how long it is then refused. */
export interface FailedAuthLimiterOptions {
  /** Failures within `windowMs` that block the client. */
  maxFailures: number;
  windowMs: number;
  /** How long a blocked client is refused. */
  blockMs: number;
  /** Clients remembered at once; the oldest is forgotten first, so memory stays bounded. */
  maxClients: number;
  /** The clock, in ms (tests pass their own). */
  now: () => number;
}

const DEFAULTS: FailedAuthLimiterOptions = { maxFailures: 30, windowMs: 60_000, blockMs: 60_000, maxClients: 100_000, now: Date.now };

interface ClientRecord {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

/**
 * Counts failed authentications per client address (a fixed window each) and blocks a client that
 * failed `maxFailures` times within `windowMs` for `blockMs`. The edge asks it before looking a
 * credential up: without it every request with an unknown API key or tenant costs a database query,
 * and a client that is not authenticated has no tenant whose rate limit could stop it.
 *
 * Per replica and in memory, on purpose: the check runs on the unauthenticated path, where a Redis
 * round trip per request would be the cost it is there to avoid. With N replicas a client gets N
 * times the budget before every replica blocks it, which still bounds the queries.
 */
export class FailedAuthLimiter {
  private readonly options: FailedAuthLimiterOptions;
  private readonly clients = new Map<string, ClientRecord>();

  constructor(options: Partial<FailedAuthLimiterOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    if (!Number.isInteger(this.options.maxFailures) || this.options.maxFailures < 1) {
      throw new RangeError(`maxFailures must be an integer >= 1 (got ${this.options.maxFailures})`);
    }
  }

  /** Seconds until `client` may try again, or undefined when it is not blocked. */
  retryAfterSeconds(client: string): number | undefined {
    const record = this.clients.get(client);
    const now = this.options.now();
    if (!record || record.blockedUntil <= now) return undefined;
    return Math.max(1, Math.ceil((record.blockedUntil - now) / 1000));
  }

  /** Records one failed authentication of `client`. */
  recordFailure(client: string): void {
    const now = this.options.now();
    let record = this.clients.get(client);
    if (!record || now - record.windowStart >= this.options.windowMs) {
      if (record) this.clients.delete(client);
      else if (this.clients.size >= this.options.maxClients) this.forgetOldest();
      // Re-inserted, so the Map's order is the order of windows started: the first is the oldest.
      record = { windowStart: now, failures: 0, blockedUntil: record?.blockedUntil ?? 0 };
      this.clients.set(client, record);
    }
    record.failures += 1;
    if (record.failures >= this.options.maxFailures) record.blockedUntil = now + this.options.blockMs;
  }

  /** How many clients are remembered (for tests and metrics). */
  get size(): number {
    return this.clients.size;
  }

  private forgetOldest(): void {
    const oldest = this.clients.keys().next();
    if (!oldest.done) this.clients.delete(oldest.value);
  }
}
