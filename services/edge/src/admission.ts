import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { RequestLimits } from './tenant-limits';

/**
 * One round trip decides a request: is the tenant under its concurrency allowance, and does its
 * token bucket hold a token? Both live in Redis, so every edge replica shares them, and the clock
 * is Redis's (TIME), so replicas with skewed clocks still agree. Concurrency is checked first so a
 * request refused for concurrency does not spend a token. In-flight entries are scored by their
 * lease expiry: a replica that dies mid-request does not hold its tenant's slots forever
 * (Stripe's concurrent-requests limiter does the same).
 *
 * Returns {verdict, tokens (string: Lua would truncate a number), retryMs, inFlight}.
 * verdict 0 = admitted, 1 = no token, 2 = at max in flight.
 */
const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local maxc = tonumber(ARGV[3])
local lease = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[2])
if inflight >= maxc then
  return {2, '0', 1000, inflight}
end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local ttl = math.ceil(burst * 1000 / rate) + 1000
if tokens < 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, tostring(tokens), math.ceil((1 - tokens) * 1000 / rate), inflight}
end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + lease, ARGV[4])
redis.call('PEXPIRE', KEYS[2], lease + 1000)
return {0, tostring(tokens), 0, inflight + 1}
`;

/** The outcome of admission for one request. */
export interface Admission {
  admitted: boolean;
  /** Why a refused request was refused. */
  refusedFor?: 'rate' | 'concurrency';
  /** Whole tokens left in the bucket. */
  remaining: number;
  /** Seconds until the request may be retried (refused) or until the bucket is full (admitted). */
  resetSeconds: number;
  retryAfterSeconds: number;
  limits: RequestLimits;
  /** Where the decision was made: 'redis' (shared) or 'local' (Redis unreachable). */
  store: 'redis' | 'local';
  /** Frees the concurrency slot; call exactly once when the response ends. */
  release: () => void;
}

type AdmitCommand = (bucketKey: string, inflightKey: string, rate: number, burst: number, maxInFlight: number, requestId: string, leaseMs: number) => Promise<[number, string, number, number]>;

/** Options of the admission controller. */
export interface AdmissionOptions {
  redis: Redis;
  keyPrefix?: string;
  /** How long an in-flight entry lives if its replica never releases it (the request timeout). */
  leaseMs: number;
  /** Called when Redis cannot be reached and the decision falls back to this replica. */
  onFallback?: (err: unknown) => void;
}

/**
 * Per-tenant rate and concurrency limits shared by every edge replica through Redis. If Redis cannot
 * be reached the edge keeps serving with per-replica limits (rate-limiter-flexible's in-memory
 * limiter and a local counter): better to limit a little loosely for a moment than to turn a Redis
 * outage into a full API outage.
 */
export class AdmissionController {
  private readonly prefix: string;
  private readonly localRate = new Map<string, RateLimiterMemory>();
  private readonly localInFlight = new Map<string, number>();

  constructor(private readonly options: AdmissionOptions) {
    this.prefix = options.keyPrefix ?? 'fairway:edge:';
    if (!(options.redis as unknown as { fairwayAdmit?: unknown }).fairwayAdmit) {
      options.redis.defineCommand('fairwayAdmit', { numberOfKeys: 2, lua: ADMIT_SCRIPT });
    }
  }

  /** Decides whether one request of `tenantId` may proceed. */
  async admit(tenantId: string, limits: RequestLimits): Promise<Admission> {
    const requestId = randomUUID();
    const inflightKey = `${this.prefix}inflight:{${tenantId}}`;
    let reply: [number, string, number, number];
    try {
      const admit = (this.options.redis as unknown as { fairwayAdmit: AdmitCommand }).fairwayAdmit.bind(this.options.redis);
      // The {tenant} hash tag keeps both keys in one Redis Cluster slot, as a script requires.
      reply = await admit(`${this.prefix}bucket:{${tenantId}}`, inflightKey, limits.rate, limits.burst, limits.maxInFlight, requestId, this.options.leaseMs);
    } catch (err) {
      this.options.onFallback?.(err);
      return this.admitLocally(tenantId, limits);
    }
    const [verdict, tokensText, retryMs] = reply;
    const tokens = Number(tokensText);
    const admitted = verdict === 0;
    let released = false;
    return {
      admitted,
      ...(admitted ? {} : { refusedFor: verdict === 2 ? 'concurrency' : 'rate' }),
      remaining: Math.max(0, Math.floor(tokens)),
      resetSeconds: admitted ? Math.ceil((limits.burst - tokens) / limits.rate) : Math.max(1, Math.ceil(retryMs / 1000)),
      retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)),
      limits,
      store: 'redis',
      release: () => {
        if (!admitted || released) return;
        released = true;
        // Not awaited: the response is already on its way; a lost release expires with its lease.
        this.options.redis.zrem(inflightKey, requestId).catch(() => undefined);
      },
    };
  }

  private async admitLocally(tenantId: string, limits: RequestLimits): Promise<Admission> {
    const inFlight = this.localInFlight.get(tenantId) ?? 0;
    const base = { limits, store: 'local' as const };
    if (inFlight >= limits.maxInFlight) {
      return { ...base, admitted: false, refusedFor: 'concurrency', remaining: 0, resetSeconds: 1, retryAfterSeconds: 1, release: () => undefined };
    }
    const key = `${limits.rate}/${limits.burst}`;
    let limiter = this.localRate.get(key);
    if (!limiter) {
      // A fixed window of `burst` points refilled over burst/rate seconds approximates the bucket.
      limiter = new RateLimiterMemory({ points: limits.burst, duration: Math.max(1, Math.ceil(limits.burst / limits.rate)) });
      this.localRate.set(key, limiter);
    }
    try {
      const res = await limiter.consume(tenantId);
      this.localInFlight.set(tenantId, inFlight + 1);
      let released = false;
      return {
        ...base,
        admitted: true,
        remaining: res.remainingPoints,
        resetSeconds: Math.ceil(res.msBeforeNext / 1000),
        retryAfterSeconds: 1,
        release: () => {
          if (released) return;
          released = true;
          const now = (this.localInFlight.get(tenantId) ?? 1) - 1;
          if (now <= 0) this.localInFlight.delete(tenantId);
          else this.localInFlight.set(tenantId, now);
        },
      };
    } catch (res) {
      const ms = (res as { msBeforeNext?: number }).msBeforeNext ?? 1000;
      return { ...base, admitted: false, refusedFor: 'rate', remaining: 0, resetSeconds: Math.max(1, Math.ceil(ms / 1000)), retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)), release: () => undefined };
    }
  }
}

/**
 * The IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers, structured-field form): the
 * policy as quota `q` per window `w` seconds (the bucket's capacity and the time it takes to refill
 * from empty), and the current remaining `r` and seconds `t` until it is full again (or, refused,
 * until a retry can succeed).
 */
export function rateLimitHeaders(admission: Admission): Record<string, string> {
  const { burst, rate } = admission.limits;
  const window = Math.max(1, Math.ceil(burst / rate));
  return {
    'RateLimit-Policy': `"tenant";q=${Math.floor(burst)};w=${window}`,
    RateLimit: `"tenant";r=${admission.remaining};t=${admission.resetSeconds}`,
  };
}
