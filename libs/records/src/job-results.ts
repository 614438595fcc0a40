import type { Pool } from 'pg';
import { CIPHERTEXT_PREFIX } from '@fairway/crypto';
import { withTenantId, type TenantTx } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import type { FieldCipher, FieldSealer } from './field-cipher';

/** Options of {@link JobResultChunks}. */
export interface JobResultChunksOptions {
  /** Seals each chunk with the tenant's key; chunks are stored as they are without it. */
  sealer?: FieldSealer;
  /** Chunks committed per transaction (default 8: about 2 MiB of CSV held at once). */
  chunksPerCommit?: number;
  /** Runs first in each transaction of the writer (the worker sets the attempt's statement timeout). */
  prepare?: (tx: TenantTx) => Promise<void>;
}

/**
 * The chunks of a job's result as one attempt writes them (migration 610): each chunk is sealed on
 * its own and stored as a row keyed by (job id, attempt, seq), `chunksPerCommit` rows per
 * transaction, so neither the worker's memory nor a transaction grows with the result. The chunks
 * become the job's result only when {@link publish} inserts the job_artifacts row naming this
 * attempt, in the caller's transaction (the one that records the job's effect).
 */
export class JobResultChunks {
  private pending: string[] = [];
  private committed = 0;
  private readonly chunksPerCommit: number;

  constructor(
    private readonly pool: Pool,
    readonly tenantId: TenantId,
    readonly jobId: string,
    readonly attempt: number,
    private readonly options: JobResultChunksOptions = {},
  ) {
    this.chunksPerCommit = options.chunksPerCommit ?? 8;
  }

  /** Chunks appended so far. */
  get count(): number {
    return this.committed + this.pending.length;
  }

  /** Adds a chunk; every `chunksPerCommit` chunks are committed before this resolves (back-pressure). */
  async append(chunk: string): Promise<void> {
    this.pending.push(this.options.sealer ? this.options.sealer.seal(chunk) : chunk);
    if (this.pending.length >= this.chunksPerCommit) await this.flush();
  }

  /** Commits the chunks not yet committed. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bodies = this.pending;
    const first = this.committed;
    this.pending = [];
    await withTenantId(this.pool, this.tenantId, async (tx) => {
      await this.options.prepare?.(tx);
      await tx.query(
        `INSERT INTO job_result_chunks (job_id, attempt, seq, tenant_id, body)
         SELECT $1, $2, $3 + c.i - 1, $4, c.body FROM unnest($5::text[]) WITH ORDINALITY AS c(body, i)`,
        [this.jobId, this.attempt, first, this.tenantId, bodies],
      );
    });
    this.committed += bodies.length;
  }

  /**
   * Makes the committed chunks the job's result, in `tx` (the tenant's transaction that also
   * records the effect). False when the job already has a result (another attempt published first):
   * then this attempt's chunks are nobody's, and {@link discard} removes them.
   */
  async publish(tx: TenantTx, contentType: string): Promise<boolean> {
    if (this.pending.length > 0) throw new Error(`job ${this.jobId}: flush() the result's chunks before publishing them`);
    const inserted = await tx.query(
      `INSERT INTO job_artifacts (job_id, tenant_id, content_type, body, attempt, chunks) VALUES ($1, $2, $3, '', $4, $5)
       ON CONFLICT (job_id) DO NOTHING`,
      [this.jobId, this.tenantId, contentType, this.attempt, this.committed],
    );
    return inserted.rowCount === 1;
  }

  /**
   * Deletes this attempt's chunks (an attempt that failed, or lost to another), unless they are the
   * job's result after all: a publishing transaction whose COMMIT was sent but whose answer was lost
   * did commit, and its chunks must stay.
   */
  async discard(): Promise<void> {
    this.pending = [];
    await withTenantId(this.pool, this.tenantId, (tx) =>
      tx.query(
        `DELETE FROM job_result_chunks WHERE job_id = $1 AND attempt = $2
           AND NOT EXISTS (SELECT 1 FROM job_artifacts a WHERE a.job_id = $1 AND a.attempt = $2)`,
        [this.jobId, this.attempt],
      ),
    );
  }
}

/**
 * Deletes, in `tx`, the chunks earlier attempts of the job left behind (an attempt that died before
 * publishing or discarding them). Chunks of a published result are never touched: call this only
 * once the job is known to have no result yet.
 */
export async function discardAbandonedChunks(tx: TenantTx, jobId: string, attempt: number): Promise<void> {
  await tx.query('DELETE FROM job_result_chunks WHERE job_id = $1 AND attempt < $2', [jobId, attempt]);
}

/** A job's stored result, opened for reading. */
export interface StoredJobResult {
  contentType: string;
  /** The result's text, one opened chunk at a time, read page by page as the consumer pulls. */
  chunks: AsyncGenerator<string, void, undefined>;
}

/** Options of {@link openJobResult}. */
export interface OpenJobResultOptions {
  /** Opens sealed chunks; without it they are passed on as stored. */
  cipher?: FieldCipher;
  /** Chunk rows read per query (default 4: about 1.4 MiB of sealed text). */
  pageSize?: number;
}

interface ArtifactRow {
  content_type: string;
  attempt: number | null;
  chunks: number | null;
}

/**
 * Opens the stored result of `jobId` for its tenant (undefined when it has none). The chunks are
 * read with a keyset on `seq`, a page per short transaction, so a slow download holds no connection
 * between pages, and opened one at a time as the consumer asks for them: memory holds one page.
 *
 * A result stored before migration 610 (`attempt` NULL) is its `body`, sealed chunks one per line;
 * the quadratic appender that wrote those kept them small, and they are read whole as before.
 */
export async function openJobResult(pool: Pool, tenantId: TenantId, jobId: string, options: OpenJobResultOptions = {}): Promise<StoredJobResult | undefined> {
  const artifact = await withTenantId(pool, tenantId, async (tx) => {
    const { rows } = await tx.query<ArtifactRow>('SELECT content_type, attempt, chunks FROM job_artifacts WHERE job_id = $1', [jobId]);
    return rows[0];
  });
  if (!artifact) return undefined;
  let sealer: Promise<FieldSealer> | undefined;
  const open = async (value: string): Promise<string> => {
    if (!options.cipher) return value;
    sealer ??= options.cipher.forTenant(tenantId);
    return (await sealer).open(value);
  };
  const pageSize = options.pageSize ?? 4;
  async function* chunks(): AsyncGenerator<string, void, undefined> {
    if (artifact?.attempt === null || artifact?.attempt === undefined) {
      const body = await withTenantId(
        pool,
        tenantId,
        async (tx) => (await tx.query<{ body: string }>('SELECT body FROM job_artifacts WHERE job_id = $1', [jobId])).rows[0]?.body ?? '',
      );
      // Sealed, it is one ciphertext per line; plaintext (no cipher) is the result itself.
      for (const line of body.startsWith(CIPHERTEXT_PREFIX) ? body.split('\n') : [body]) {
        if (line.length > 0) yield await open(line);
      }
      return;
    }
    let after = -1;
    let read = 0;
    for (;;) {
      const page = await withTenantId(pool, tenantId, async (tx) => {
        const { rows } = await tx.query<{ seq: number; body: string }>(
          'SELECT seq, body FROM job_result_chunks WHERE job_id = $1 AND attempt = $2 AND seq > $3 ORDER BY seq LIMIT $4',
          [jobId, artifact.attempt, after, pageSize],
        );
        return rows;
      });
      for (let i = 0; i < page.length; i += 1) {
        const row = page[i]!;
        // Let the page's text go as it is consumed: only the chunk in hand stays referenced.
        page[i] = undefined as unknown as (typeof page)[number];
        after = row.seq;
        read += 1;
        yield await open(row.body);
      }
      if (page.length < pageSize) break;
    }
    if (artifact.chunks !== null && read !== artifact.chunks) {
      throw new Error(`the stored result of job ${jobId} has ${read} of its ${artifact.chunks} chunks`);
    }
  }
  return { contentType: artifact.content_type, chunks: chunks() };
}
