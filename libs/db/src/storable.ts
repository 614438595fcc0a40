/**
 * What PostgreSQL refuses to store although a schema let it through: a NUL character in text (or
 * anywhere in jsonb), a lone UTF-16 surrogate in jsonb (JSON.stringify writes it as a `\ud800`
 * escape, which jsonb rejects), and a timestamp in year 0000 (ISO 8601 has it, PostgreSQL does not:
 * "date/time field value out of range"). Checked where input enters, so such input is refused with
 * a reason (a 400 at the edge, a dead letter at ingest) instead of failing a statement with a 500,
 * or a whole batch on every retry.
 */

/** A lone UTF-16 surrogate: half of a pair with no other half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What in `value` PostgreSQL's text and jsonb cannot hold, described; undefined when nothing. */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'a NUL character';
  return LONE_SURROGATE.test(value) ? 'a lone UTF-16 surrogate' : undefined;
}

/** The first string in `value` (object keys included, at any depth) PostgreSQL cannot store, described. */
export function unstorableJson(value: unknown): string | undefined {
  if (typeof value === 'string') return unstorableText(value);
  if (typeof value !== 'object' || value === null) return undefined;
  for (const key in value) {
    const found = unstorableText(key) ?? unstorableJson((value as Record<string, unknown>)[key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Why PostgreSQL's timestamptz would refuse the ISO 8601 `value` (a 4-digit year, as zod's
 * datetime() accepts it), or undefined. Only year 0000 is out of range: PostgreSQL goes back to
 * 4713 BC, but its ISO input has no year zero.
 */
export function unstorableTimestamp(value: string): string | undefined {
  return value.startsWith('0000') ? 'year 0000' : undefined;
}
