import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { RequestLimits } from './tenant-limits';

/**
 * One round trip decides every request of one tenant that arrived in the same turn of the event
 * loop: how many of them fit under the tenant's concurrency allowance and its token bucket. Both
 * live in Redis, so every edge replica shares them, and the clock is Redis's (TIME), so replicas
 * with skewed clocks still agree. The requests are admitted in arrival order, exactly as if each
 * had made its own call: the first k get a token and a slot, the rest are refused, for concurrency
 * if the slots ran out first (no token spent), else for rate. In-flight entries are scored by their
 * lease expiry: a replica that dies mid-request does not hold its tenant's slots forever (Stripe's
 * concurrent-requests limiter does the same).
 *
 * ARGV: rate, burst, maxInFlight, leaseMs, then one id per request.
 * Returns {admitted k, tokens before (string: Lua would truncate a number), retryMs, inFlight before,
 * refusedFor of the rest (1 = no token, 2 = at max in flight)}.
 */
const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local maxc = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local n = #ARGV - 4
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local slots = math.max(0, maxc - inflight)
local k = math.min(n, slots, math.floor(tokens))
local refused = 1
if k < n and slots <= math.floor(tokens) then refused = 2 end
local after = tokens - k
local ttl = math.ceil(burst * 1000 / rate) + 1000
redis.call('HSET', KEYS[1], 'tokens', tostring(after), 'ts', now)
redis.call('PEXPIRE', KEYS[1], ttl)
if k > 0 then
  local members = {}
  for i = 1, k do
    members[2 * i - 1] = now + lease
    members[2 * i] = ARGV[4 + i]
  end
  redis.call('ZADD', KEYS[2], unpack(members))
  redis.call('PEXPIRE', KEYS[2], lease + 1000)
end
local retry = 1000
if refused == 1 then retry = math.ceil((1 - after) * 1000 / rate) end
return {k, tostring(tokens), retry, inflight, refused}
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

type AdmitCommand = (
  bucketKey: string,
  inflightKey: string,
  rate: number,
  burst: number,
  maxInFlight: number,
  leaseMs: number,
  ...requestIds: string[]
) => Promise<[number, string, number, number, number]>;

/** Options of the admission controller. */
export interface AdmissionOptions {
  redis: Redis;
  keyPrefix?: string;
  /** How long an in-flight entry lives if its replica never releases it (the request timeout). */
  leaseMs: number;
  /** Called when Redis cannot be reached and the decision falls back to this replica. */
  onFallback?: (err: unknown) => void;
}

/** Requests of one tenant (and one set of limits) waiting for the same round trip. */
interface Batch {
  tenantId: string;
  limits: RequestLimits;
  waiting: Array<(admission: Admission) => void>;
}

/** Largest number of requests one script call decides (Lua's unpack has a limit). */
const MAX_BATCH = 500;

/**
 * Per-tenant rate and concurrency limits shared by every edge replica through Redis. Requests that
 * arrive in the same turn of the event loop are decided together, one script call per tenant, and
 * their releases go out together too: under load that is a round trip per tenant per turn rather
 * than two per request, for the same decisions (see ADMIT_SCRIPT). If Redis cannot be reached the
 * edge keeps serving with per-replica limits (rate-limiter-flexible's in-memory limiter and a local
 * counter): better to limit a little loosely for a moment than to turn a Redis outage into a full
 * API outage.
 */
export class AdmissionController {
  private readonly prefix: string;
  private readonly localRate = new Map<string, RateLimiterMemory>();
  private readonly localInFlight = new Map<string, number>();
  private readonly admit_: AdmitCommand;
  private batches = new Map<string, Batch>();
  private releases = new Map<string, string[]>();
  private flushScheduled = false;

  constructor(private readonly options: AdmissionOptions) {
    this.prefix = options.keyPrefix ?? 'fairway:edge:';
    const redis = options.redis as unknown as { fairwayAdmitBatch?: AdmitCommand };
    if (!redis.fairwayAdmitBatch) options.redis.defineCommand('fairwayAdmitBatch', { numberOfKeys: 2, lua: ADMIT_SCRIPT });
    this.admit_ = (redis.fairwayAdmitBatch as AdmitCommand).bind(options.redis);
  }

  /** Decides whether one request of `tenantId` may proceed. */
  admit(tenantId: string, limits: RequestLimits): Promise<Admission> {
    const key = `${tenantId}\n${limits.rate}\n${limits.burst}\n${limits.maxInFlight}`;
    let batch = this.batches.get(key);
    if (!batch) {
      batch = { tenantId, limits, waiting: [] };
      this.batches.set(key, batch);
    }
    const pending = batch;
    return new Promise<Admission>((resolve) => {
      pending.waiting.push(resolve);
      if (pending.waiting.length >= MAX_BATCH) {
        // A full batch goes at once; the others leave at the end of this turn of the event loop.
        this.batches.delete(key);
        void this.decide(pending);
      } else {
        this.schedule();
      }
    });
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batches = this.batches;
    this.batches = new Map();
    for (const batch of batches.values()) void this.decide(batch);
    const releases = this.releases;
    this.releases = new Map();
    for (const [inflightKey, ids] of releases) {
      // Not awaited: the responses are already on their way; a lost release expires with its lease.
      this.options.redis.zrem(inflightKey, ...ids).catch(() => undefined);
    }
  }

  private async decide(batch: Batch): Promise<void> {
    const { tenantId, limits, waiting } = batch;
    const ids = waiting.map(() => randomUUID());
    // The {tenant} hash tag keeps both keys in one Redis Cluster slot, as a script requires.
    const inflightKey = `${this.prefix}inflight:{${tenantId}}`;
    let reply: [number, string, number, number, number];
    try {
      reply = await this.admit_(`${this.prefix}bucket:{${tenantId}}`, inflightKey, limits.rate, limits.burst, limits.maxInFlight, this.options.leaseMs, ...ids);
    } catch (err) {
      this.options.onFallback?.(err);
      for (const resolve of waiting) resolve(await this.admitLocally(tenantId, limits));
      return;
    }
    const [count, tokensText, retryMs, , refusedCode] = reply;
    const tokensBefore = Number(tokensText);
    const retryAfterSeconds = Math.max(1, Math.ceil(retryMs / 1000));
    waiting.forEach((resolve, i) => {
      if (i < count) {
        const tokens = tokensBefore - i - 1;
        const id = ids[i] as string;
        let released = false;
        resolve({
          admitted: true,
          remaining: Math.max(0, Math.floor(tokens)),
          resetSeconds: Math.ceil((limits.burst - tokens) / limits.rate),
          retryAfterSeconds,
          limits,
          store: 'redis',
          release: () => {
            if (released) return;
            released = true;
            const list = this.releases.get(inflightKey);
            if (list) list.push(id);
            else this.releases.set(inflightKey, [id]);
            this.schedule();
          },
        });
        return;
      }
      resolve({
        admitted: false,
        refusedFor: refusedCode === 2 ? 'concurrency' : 'rate',
        remaining: Math.max(0, Math.floor(tokensBefore - count)),
        resetSeconds: retryAfterSeconds,
        retryAfterSeconds,
        limits,
        store: 'redis',
        release: () => undefined,
      });
    });
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
      return {
        ...base,
        admitted: false,
        refusedFor: 'rate',
        remaining: 0,
        resetSeconds: Math.max(1, Math.ceil(ms / 1000)),
        retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)),
        release: () => undefined,
      };
    }
  }
}

/**
 * Sets the IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers, structured-field form) on
 * `res`: the policy as quota `q` per window `w` seconds (the bucket's capacity and the time it takes
 * to refill from empty), and the current remaining `r` and seconds `t` until it is full again (or,
 * refused, until a retry can succeed). Straight onto the response: this runs for every request.
 */
export function setRateLimitHeaders(res: Pick<ServerResponse, 'setHeader'>, admission: Admission): void {
  const { burst, rate } = admission.limits;
  const window = Math.max(1, Math.ceil(burst / rate));
  res.setHeader('RateLimit-Policy', `"tenant";q=${Math.floor(burst)};w=${window}`);
  res.setHeader('RateLimit', `"tenant";r=${admission.remaining};t=${admission.resetSeconds}`);
}
