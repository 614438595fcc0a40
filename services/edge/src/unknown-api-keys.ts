import type { ApiKeyLookup, StoredApiKey } from './api-keys';

/** How long an unknown prefix is remembered, and how many at most. */
export interface UnknownApiKeyCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** The clock, in ms (tests pass their own). */
  now: () => number;
}

const DEFAULTS: UnknownApiKeyCacheOptions = { ttlMs: 10 * 60_000, maxEntries: 100_000, now: Date.now };

/**
 * A negative cache in front of an {@link ApiKeyLookup}: a prefix the store does not know is answered
 * from memory for `ttlMs` instead of costing a query each time it is presented again, and lookups of
 * one prefix that overlap share one query.
 *
 * Safe to keep much longer than the positive cache (whose TTL bounds how long a revocation takes):
 * a key's prefix is 48 random bits chosen when it is issued, and the key is only handed out after
 * its row is committed, so a prefix seen unknown does not become a real key a client could hold.
 * Random prefixes, each new, still reach the store: the per-client FailedAuthLimiter bounds those.
 */
export class UnknownApiKeyCache implements ApiKeyLookup {
  private readonly options: UnknownApiKeyCacheOptions;
  private readonly unknown = new Map<string, number>();
  private readonly pending = new Map<string, Promise<StoredApiKey | undefined>>();

  constructor(
    private readonly store: ApiKeyLookup,
    options: Partial<UnknownApiKeyCacheOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  byPrefix(prefix: string): Promise<StoredApiKey | undefined> {
    const expires = this.unknown.get(prefix);
    if (expires !== undefined) {
      if (expires > this.options.now()) return Promise.resolve(undefined);
      this.unknown.delete(prefix);
    }
    const running = this.pending.get(prefix);
    if (running) return running;
    const lookup = this.store.byPrefix(prefix).then(
      (key) => {
        this.pending.delete(prefix);
        if (key === undefined) this.remember(prefix);
        return key;
      },
      (err: unknown) => {
        this.pending.delete(prefix);
        throw err;
      },
    );
    this.pending.set(prefix, lookup);
    return lookup;
  }

  touch(id: string): void {
    this.store.touch(id);
  }

  /** How many unknown prefixes are remembered (for tests and metrics). */
  get size(): number {
    return this.unknown.size;
  }

  private remember(prefix: string): void {
    if (this.unknown.size >= this.options.maxEntries) {
      const oldest = this.unknown.keys().next();
      if (!oldest.done) this.unknown.delete(oldest.value);
    }
    this.unknown.set(prefix, this.options.now() + this.options.ttlMs);
  }
}
