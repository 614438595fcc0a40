import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run with EVALSHA, loaded with EVAL the first time a server does not know it
 * (NOSCRIPT: a restarted or failed-over Redis). Every script takes the tenant's `meta`, `index`
 * and `sizes` keys first: all of one tenant's hash tag, so a script is atomic in Redis Cluster too.
 */
export class CacheScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err as Error).message?.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

// Removes one entry and its accounting. The meta hash is touched only while it exists: a script
// must never create a tenant's meta key without a TTL (it would outlive the tenant).
const DROP = `
local function drop(key)
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[2], key)
  local size = redis.call('HGET', KEYS[3], key)
  if size then
    redis.call('HDEL', KEYS[3], key)
    if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'bytes', -tonumber(size)) end
  end
end
`;

/**
 * KEYS meta, index, sizes, entry; ARGV token, metaTtlMs. A hit returns {1, value}. A miss returns
 * {0, gen}: the tenant's fill generation, created (as ARGV token) when the tenant has none, which
 * the fill must present unchanged.
 */
export const LOOKUP = new CacheScript(`
local value = redis.call('GET', KEYS[4])
if value then return {1, value} end
local gen = redis.call('HGET', KEYS[1], 'gen')
if not gen then
  gen = ARGV[1]
  redis.call('HSET', KEYS[1], 'gen', gen, 'bytes', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {0, gen}
`);

/**
 * KEYS meta, index, sizes, entry; ARGV gen, value, ttlMs, maxKeys, maxBytes, metaTtlMs.
 * Stores the value only if the generation is still the one the reader saw before it queried the
 * database: a write (invalidate) or a purge in between changed or removed it, and the value the
 * reader holds may be older than that write. Then makes room within the tenant's bounds by
 * dropping expired entries and then those closest to expiry (with one TTL, the oldest first).
 * Returns the number evicted, -1 when refused (generation changed), -2 when the value alone
 * exceeds maxBytes.
 */
export const FILL = new CacheScript(`${DROP}
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return -1 end
local size = string.len(ARGV[2]) + string.len(KEYS[4])
local maxKeys = tonumber(ARGV[4])
local maxBytes = tonumber(ARGV[5])
if size > maxBytes then return -2 end
local time = redis.call('TIME')
-- Milliseconds with the microseconds as a fraction: entries filled within one millisecond keep
-- their order (ties in a sorted set fall back to the key's name, which would evict a newer entry).
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 64)) do drop(key) end
drop(KEYS[4])
local evicted = 0
while redis.call('ZCARD', KEYS[2]) >= maxKeys or tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0') + size > maxBytes do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then break end
  drop(oldest[1])
  evicted = evicted + 1
end
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), KEYS[4])
redis.call('HSET', KEYS[3], KEYS[4], size)
redis.call('HINCRBY', KEYS[1], 'bytes', size)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
return evicted
`);

/**
 * KEYS meta, index, sizes, entries...; ARGV newGen. Called after a write committed: a new
 * generation refuses every fill that began before (it may hold the old value), and the entries go.
 */
export const INVALIDATE = new CacheScript(`${DROP}
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'gen', ARGV[1]) end
for i = 4, #KEYS do drop(KEYS[i]) end
return 0
`);

/**
 * KEYS meta, index; ARGV gen. A reader whose load failed or was not cacheable removes the meta key
 * it may have created, if the tenant has no entries and nobody changed it: so a read of a deleted
 * tenant (its load fails) leaves no key behind. A concurrent reader's fill is then refused, which
 * only costs it a miss.
 */
export const ABANDON = new CacheScript(`
if redis.call('HGET', KEYS[1], 'gen') == ARGV[1] and redis.call('EXISTS', KEYS[2]) == 0 then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** KEYS meta, index, sizes. Deletes every entry of the tenant and its accounting; returns the entries deleted. */
export const PURGE = new CacheScript(`
local deleted = 0
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do deleted = deleted + redis.call('DEL', key) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return deleted
`);
