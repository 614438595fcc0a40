/**
 * One kind of cached value: its name (part of the key, and the `kind` label of the metrics, so the
 * label set is the set of kinds declared in code), how it is written to and read from Redis, and
 * which loaded values may be stored at all.
 */
export interface CacheKind<T> {
  readonly name: string;
  /** Entry lifetime in ms; the cache's default when absent. */
  readonly ttlMs?: number;
  encode(value: T): string;
  decode(text: string): T;
  /** Values for which this is false are returned but never stored (a job still running, a tenant being deleted). */
  cacheable(value: T): boolean;
}

const KIND_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** How a kind is written: JSON by default, with `revive` to restore what JSON loses (dates). */
export interface CacheKindOptions<T> {
  ttlMs?: number;
  cacheable?: (value: T) => boolean;
  encode?: (value: T) => string;
  /** Turns the parsed JSON back into a T; the identity when absent. */
  revive?: (parsed: unknown) => T;
}

/**
 * Declares a kind. `name` is 1-32 lowercase letters, digits and dashes, starting with a letter: it
 * is part of every key and a metric label value, so it must be a constant of the code, never data.
 */
export function cacheKind<T>(name: string, options: CacheKindOptions<T> = {}): CacheKind<T> {
  if (!KIND_NAME.test(name)) throw new RangeError(`a cache kind name must match ${KIND_NAME} (got '${name}')`);
  if (options.ttlMs !== undefined && (!Number.isInteger(options.ttlMs) || options.ttlMs < 1))
    throw new RangeError(`cache kind '${name}': ttlMs must be an integer >= 1 (got ${options.ttlMs})`);
  const revive = options.revive ?? ((parsed: unknown) => parsed as T);
  return Object.freeze({
    name,
    ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
    encode: options.encode ?? ((value: T) => JSON.stringify(value)),
    decode: (text: string) => revive(JSON.parse(text)),
    cacheable: options.cacheable ?? (() => true),
  });
}

/** A Date from its JSON form (an ISO string), keeping null. */
export function reviveDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(value as string);
}
