import { v7 as uuidv7 } from 'uuid';
import { NotFoundError } from '@fairway/errors';
import type { TenantTx } from '@fairway/db';
import { currentTenant, runWithTenant, tenantContext, type TenantContext, type TenantId } from '@fairway/tenant-context';
import { cacheKind, type TenantCache } from '@fairway/tenant-cache';
import { decodeCursor, encodeCursor, isUuid, type BusinessRecord, type ListQuery, type RecordInput, type RecordPatch } from './record';
import { PLAINTEXT_FIELDS, type FieldCipher, type FieldSealer } from './field-cipher';

/** What the repository needs of the TenantDataRouter: one transaction on a tenant's data. */
export interface TenantData {
  /** `options.replica`: a read-only transaction that may run on the read replica (TenantDataOptions). */
  withTenant<T>(
    tenant: TenantId | TenantContext,
    fn: (tx: TenantTx) => Promise<T>,
    options?: { replica?: boolean; maxLagMs?: number; workload?: 'interactive' | 'heavy' },
  ): Promise<T>;
}

/** A tenant: its id or its context. */
export type TenantRef = TenantId | TenantContext;

/** One page of records. */
export interface RecordPage {
  items: BusinessRecord[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

interface RecordRow {
  id: string;
  title: string;
  body: string;
  amount: string;
  tags: string[];
  created_at: Date;
  updated_at: Date;
}

/**
 * A record row as the tenant cache keeps it: as stored, so the sensitive field stays sealed with the
 * tenant's key in Redis too (destroying the key makes a copy that escaped a purge unreadable, as it
 * does every other copy). Only rows that exist are stored; a miss for an id is not remembered, so a
 * create needs no invalidation.
 */
export const RECORD_ROW = cacheKind<RecordRow | undefined>('record', {
  cacheable: (row) => row !== undefined,
  revive: (parsed) => {
    const row = parsed as RecordRow & { created_at: string; updated_at: string };
    return { ...row, created_at: new Date(row.created_at), updated_at: new Date(row.updated_at) };
  },
});

/** The columns of a record, the same in the pooled table and in a tenant's schema or database. */
export const RECORD_COLUMNS = 'id, title, body, amount, tags, created_at, updated_at';

/** A row as the API shows it. */
export function toRecord(row: RecordRow, sealer?: FieldSealer): BusinessRecord {
  return {
    id: row.id,
    title: row.title,
    body: sealer ? sealer.open(row.body) : row.body,
    amount: row.amount,
    tags: row.tags,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Records of one tenant at a time. Every statement runs inside `data.withTenant()`, which puts it
 * on the tenant's pooled rows (row-level security), schema or database; none of the SQL here names
 * a tenant, so it is the same for all three models, and a record of another tenant is simply not
 * there (NotFoundError, never "forbidden", so its existence does not leak).
 */
export class RecordsRepository {
  /**
   * `cipher` seals the sensitive field (`body`) with the tenant's key before it reaches the
   * database and opens it on the way out; PLAINTEXT_FIELDS only where encryption is not the point.
   * `cache`, when given, answers `get` from Redis; `update` and `delete` invalidate after commit.
   */
  constructor(
    private readonly data: TenantData,
    private readonly cipher: FieldCipher = PLAINTEXT_FIELDS,
    private readonly cache?: TenantCache,
  ) {}

  /**
   * Runs `fn` in the scope of `tenant` (the cache takes its tenant from the scope, never as an
   * argument): the one already current when it is the same tenant, else a scope of its own.
   */
  private inScope<T>(tenant: TenantRef, fn: () => Promise<T>): Promise<T> {
    const ctx = typeof tenant === 'string' ? tenantContext(tenant, 'system') : tenant;
    return currentTenant()?.tenantId === ctx.tenantId ? fn() : runWithTenant(ctx, fn);
  }

  /** The stored row `id` of the tenant: through the cache when there is one (its loader queries the tenant the key was built for). */
  private async row(tenant: TenantRef, id: string): Promise<RecordRow | undefined> {
    const query = (t: TenantRef) =>
      this.data.withTenant(t, async (tx) => (await tx.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1`, [id])).rows[0]);
    const cache = this.cache;
    if (!cache) return query(tenant);
    return this.inScope(tenant, () => cache.read(RECORD_ROW, id, (scoped) => query(scoped)));
  }

  /** After a committed write of record `id`: no replica serves the value it replaced. */
  private async invalidate(tenant: TenantRef, id: string): Promise<void> {
    const cache = this.cache;
    if (cache) await this.inScope(tenant, () => cache.invalidate(RECORD_ROW, [id]));
  }

  private sealer(tenant: TenantRef): Promise<FieldSealer> {
    return this.cipher.forTenant(typeof tenant === 'string' ? tenant : tenant.tenantId);
  }

  /** Creates a record; its id is a UUIDv7, so ids sort in creation order (the cursor relies on it). */
  async create(tenant: TenantRef, input: RecordInput): Promise<BusinessRecord> {
    const sealer = await this.sealer(tenant);
    return this.data.withTenant(tenant, async (tx) => {
      const { rows } = await tx.query<RecordRow>(
        `INSERT INTO records (id, title, body, amount, tags) VALUES ($1, $2, $3, $4, $5) RETURNING ${RECORD_COLUMNS}`,
        [uuidv7(), input.title, sealer.seal(input.body), input.amount, input.tags],
      );
      return toRecord(rows[0] as RecordRow, sealer);
    });
  }

  /** The record `id`, or NotFoundError (also when it belongs to another tenant). */
  async get(tenant: TenantRef, id: string): Promise<BusinessRecord> {
    if (!isUuid(id)) throw new NotFoundError('record', id);
    const sealer = await this.sealer(tenant);
    const row = await this.row(tenant, id);
    if (!row) throw new NotFoundError('record', id);
    return toRecord(row, sealer);
  }

  /** A page of records in creation order, after `cursor`, optionally with one tag. */
  async list(tenant: TenantRef, query: Partial<ListQuery> = {}): Promise<RecordPage> {
    const limit = query.limit ?? 50;
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const sealer = await this.sealer(tenant);
    return this.data.withTenant(tenant, async (tx) => {
      const { rows } = await tx.query<RecordRow>(
        `SELECT ${RECORD_COLUMNS} FROM records
          WHERE ($1::uuid IS NULL OR id > $1::uuid) AND ($2::text IS NULL OR tags @> ARRAY[$2::text])
          ORDER BY id LIMIT $3`,
        [after, query.tag ?? null, limit + 1],
      );
      const items = rows.slice(0, limit).map((row) => toRecord(row, sealer));
      const last = items[items.length - 1];
      return rows.length > limit && last ? { items, nextCursor: encodeCursor(last.id) } : { items };
    });
  }

  /** Changes the given fields of record `id`; NotFoundError if the tenant has no such record. */
  async update(tenant: TenantRef, id: string, patch: RecordPatch): Promise<BusinessRecord> {
    if (!isUuid(id)) throw new NotFoundError('record', id);
    const sealer = await this.sealer(tenant);
    const updated = await this.data.withTenant(tenant, async (tx) => {
      const { rows } = await tx.query<RecordRow>(
        `UPDATE records SET
           title = COALESCE($2, title), body = COALESCE($3, body), amount = COALESCE($4::numeric, amount),
           tags = COALESCE($5::text[], tags), updated_at = now()
         WHERE id = $1 RETURNING ${RECORD_COLUMNS}`,
        [id, patch.title ?? null, patch.body === undefined ? null : sealer.seal(patch.body), patch.amount ?? null, patch.tags ?? null],
      );
      if (!rows[0]) throw new NotFoundError('record', id);
      return toRecord(rows[0], sealer);
    });
    await this.invalidate(tenant, id);
    return updated;
  }

  /** Deletes record `id`; NotFoundError if the tenant has no such record. */
  async delete(tenant: TenantRef, id: string): Promise<void> {
    if (!isUuid(id)) throw new NotFoundError('record', id);
    await this.data.withTenant(tenant, async (tx) => {
      const { rowCount } = await tx.query('DELETE FROM records WHERE id = $1', [id]);
      if (!rowCount) throw new NotFoundError('record', id);
    });
    await this.invalidate(tenant, id);
  }
}
