import { inspect } from 'node:util';

/** Length of an AES-256 key in bytes. */
export const DATA_KEY_BYTES = 32;

const REDACTED = '[REDACTED data key]';

/**
 * An unwrapped data key. The bytes are reachable only through `bytes()`; JSON, util.inspect, string
 * conversion and pino serialisation all show a placeholder, so a key put in a log line by mistake
 * does not leak.
 */
export class DataKey {
  readonly #bytes: Buffer;

  constructor(
    readonly tenantId: string,
    readonly version: number,
    bytes: Buffer,
  ) {
    if (bytes.length !== DATA_KEY_BYTES) throw new RangeError(`a data key is ${DATA_KEY_BYTES} bytes (got ${bytes.length})`);
    this.#bytes = bytes;
  }

  /** The raw key, for node:crypto only. */
  bytes(): Buffer {
    return this.#bytes;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `DataKey { tenantId: '${this.tenantId}', version: ${this.version}, key: ${REDACTED} }`;
  }
}

/** Options of a DataKeyCache. */
export interface DataKeyCacheOptions {
  /** How long an unwrapped key is kept; 60 s by default. */
  ttlMs?: number;
  /** How many keys at most; the oldest are dropped first. 1000 by default. */
  maxEntries?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * A short-lived, bounded cache of unwrapped data keys, so a busy tenant does not call the KMS on
 * every request. Short TTL because a cached key outlives its destruction in other processes until
 * it expires; bounded so one process never holds every tenant's key. Evicted keys are not zeroed:
 * a TenantCipher made earlier may still hold the same DataKey, and encrypting with a zeroed key
 * would be far worse than leaving the bytes to the garbage collector.
 */
export class DataKeyCache {
  readonly #entries = new Map<string, { key: DataKey; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: DataKeyCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#max = options.maxEntries ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** The cached key for `id`, if present and not expired. */
  get(id: string): DataKey | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#drop(id);
      return undefined;
    }
    return entry.key;
  }

  /** Caches `key` under `id`, dropping the oldest entry when full. */
  set(id: string, key: DataKey): void {
    this.#drop(id);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#drop(oldest);
    }
    this.#entries.set(id, { key, expiresAt: this.#now() + this.#ttlMs });
  }

  /** Drops every cached key of `tenantId`. */
  forgetTenant(tenantId: string): void {
    for (const [id, entry] of this.#entries) if (entry.key.tenantId === tenantId) this.#drop(id);
  }

  /** Drops everything. */
  clear(): void {
    for (const id of [...this.#entries.keys()]) this.#drop(id);
  }

  /** Number of cached keys. */
  get size(): number {
    return this.#entries.size;
  }

  #drop(id: string): void {
    this.#entries.delete(id);
  }

  toJSON(): string {
    return `[DataKeyCache ${this.#entries.size} keys]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}
