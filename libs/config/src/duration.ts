const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Compiles a duration written as `'250ms'`, `'5s'`, `'2m'` or `'1h'` (or a bare number of
 * milliseconds) to milliseconds. Throws with the bad value in the message.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`duration must be >= 0 ms (got ${value})`);
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!match) throw new RangeError(`'${value}' is not a duration; write e.g. '250ms', '5s', '2m'`);
  return Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1);
}
