import { v7 as uuidv7 } from 'uuid';
import { NotFoundError } from '@fairway/errors';
import type { TenantTx } from '@fairway/db';
import type { TenantContext, TenantId } from '@fairway/tenant-context';
import { decodeCursor, encodeCursor, isUuid, type BusinessRecord, type ListQuery, type RecordInput, type RecordPatch } from './record';
import { PLAINTEXT_FIELDS, type FieldCipher, type FieldSealer } from './field-cipher';

/** What the repository needs of the TenantDataRouter: one transaction on a tenant's data. */
export interface TenantData {
  withTenant<T>(tenant: TenantId | TenantContext, fn: (tx: TenantTx) => Promise<T>): Promise<T>;
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
   */
  constructor(
    private readonly data: TenantData,
    private readonly cipher: FieldCipher = PLAINTEXT_FIELDS,
  ) {}

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
    return this.data.withTenant(tenant, async (tx) => {
      const { rows } = await tx.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1`, [id]);
      if (!rows[0]) throw new NotFoundError('record', id);
      return toRecord(rows[0], sealer);
    });
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
    return this.data.withTenant(tenant, async (tx) => {
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
  }

  /** Deletes record `id`; NotFoundError if the tenant has no such record. */
  delete(tenant: TenantRef, id: string): Promise<void> {
    if (!isUuid(id)) return Promise.reject(new NotFoundError('record', id));
    return this.data.withTenant(tenant, async (tx) => {
      const { rowCount } = await tx.query('DELETE FROM records WHERE id = $1', [id]);
      if (!rowCount) throw new NotFoundError('record', id);
    });
  }
}
