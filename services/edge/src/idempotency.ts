import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { IdempotencyKeyReusedError, UpstreamUnavailableError } from '@fairway/errors';
import { withTenantId } from '@fairway/db';
import { storedRequestHash } from '@fairway/job-store';
import type { TenantId } from '@fairway/tenant-context';

/** Remembers Idempotency-Key -> request hash, so a key reused with a different body is refused. */
export interface IdempotencyStore {
  /** Records `requestHash` for the key, or throws IDEMPOTENCY_KEY_REUSED if another hash holds it. */
  claim(tenantId: TenantId, key: string, jobId: string, requestHash: string): Promise<void>;
}

/**
 * Redis first (SET NX with a TTL: one round trip, shared by every replica, set before the command
 * reaches Kafka so two concurrent requests with the same key and different bodies cannot both
 * pass); after the TTL, or when Redis cannot be reached, the job row the scheduler stored
 * (jobs.request_hash, read under the tenant's RLS) decides.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly pool: Pool,
    private readonly options: { ttlMs: number; keyPrefix?: string },
  ) {}

  async claim(tenantId: TenantId, key: string, jobId: string, requestHash: string): Promise<void> {
    const redisKey = `${this.options.keyPrefix ?? 'fairway:edge:'}idem:{${tenantId}}:${jobId}`;
    let previous: string | null;
    try {
      // SET ... NX GET returns the value already there (and sets nothing), or null after setting ours.
      previous = (await this.redis.call('SET', redisKey, requestHash, 'PX', String(this.options.ttlMs), 'NX', 'GET')) as string | null;
    } catch (err) {
      previous = await this.storedHash(tenantId, jobId, err);
    }
    if (previous === null) previous = await this.storedHash(tenantId, jobId);
    if (previous !== null && previous !== requestHash) throw new IdempotencyKeyReusedError(key.slice(0, 255));
  }

  private async storedHash(tenantId: TenantId, jobId: string, redisError?: unknown): Promise<string | null> {
    try {
      return await withTenantId(this.pool, tenantId, (tx) => storedRequestHash(tx, jobId));
    } catch (err) {
      throw new UpstreamUnavailableError(
        redisError ? 'redis' : 'postgresql',
        'the edge cannot check the Idempotency-Key right now; the command was not accepted, retry later',
        2,
        { cause: redisError ?? err },
      );
    }
  }
}
