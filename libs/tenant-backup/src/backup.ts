import { createHash } from 'node:crypto';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, type Pool, type PoolClient } from 'pg';
import QueryStream from 'pg-query-stream';
import { appendAudit, AuditAction } from '@fairway/audit';
import { TenantKeysDestroyedError, type KeyProvider } from '@fairway/crypto';
import { databaseUrl, findTenant, locationOf, type TenantDbServers, type TenantLocation } from '@fairway/db';
import { NotFoundError } from '@fairway/errors';
import { AUDIT_SECTION, controlLine, quoteIdent, SECTIONS, type ArchiveMeta, type SectionDigest } from './archive-content';
import { sealArchive, type ArchiveHeader } from './archive-stream';
import type { BackupKeyring } from './backup-keys';

/** What a backup or a restore runs with: the owner role and the KEK, so only the control plane. */
export interface TenantBackupDeps {
  /** The catalog database as the owner. */
  ownerPool: Pool;
  /** Its URL: the tenant databases on the 'local' server are reached through it. */
  ownerUrl: string;
  /** Other servers of tenant databases: name -> owner URL. */
  servers?: TenantDbServers;
  /** The KEK: unwraps the tenant's data keys for the archive, wraps them for a restored tenant. */
  provider: KeyProvider;
  /** The operator's backup keys. */
  keyring: BackupKeyring;
}

/** Who asks, and why: recorded in the tenant's audit chain. */
export interface BackupActor {
  actor: string;
  reason?: string;
}

/** What a backup wrote. */
export interface BackupResult {
  header: ArchiveHeader;
  sections: SectionDigest[];
  /** Bytes of the archive, and their SHA-256 (hex): what the operator's copy must match. */
  bytes: number;
  sha256: string;
}

/** Rows per fetch of a cursor, and the plaintext handed to the sealer at once. */
const CURSOR_ROWS = 500;
const WRITE_BATCH_BYTES = 64 * 1024;

/**
 * Streams everything of one tenant into `output` as one encrypted archive (archive-stream.ts,
 * archive-content.ts): its catalog row, data keys (unwrapped from the KEK, sealed for the backup
 * key with the rest), quotas and their history, API key hashes, records wherever its isolation
 * model keeps them, jobs, effects, stored results, and its audit chain, each table read through
 * a server-side cursor, so memory stays at a few frames whatever the tenant's size.
 *
 * Consistency: the catalog's tables (and the records of a pooled or schema tenant) are read in ONE
 * repeatable-read transaction, one snapshot; a database tenant's records in a second one on its
 * own database, opened at the same moment. For an archive that nothing written later can differ
 * from, fence the tenant's writes first (offboarding does: status 'offboarding', writes drained).
 *
 * Audited as `tenant.backup` once the archive is written whole, with its id, size and SHA-256.
 */
export async function writeTenantBackup(deps: TenantBackupDeps, tenantId: string, output: Writable, who: BackupActor): Promise<BackupResult> {
  const tenant = await findTenant(deps.ownerPool, tenantId);
  if (!tenant || tenant.status === 'deleted') throw new NotFoundError('tenant', tenantId);
  const location = locationOf(tenant);
  const catalog = await deps.ownerPool.connect();
  let store: Client | undefined;
  try {
    await catalog.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // The owner reaches a tenant's rows of the FORCE RLS tables only inside that tenant's transaction.
    await catalog.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
    if (location.model === 'database') {
      store = new Client({ connectionString: databaseUrl(deps.ownerUrl, location.server, location.database, deps.servers) });
      await store.connect();
      await store.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    }
    const meta = await readMeta(deps, catalog, tenantId);
    const { stream: sealer, header } = sealArchive(deps.keyring, tenantId);
    const sections: SectionDigest[] = [];
    const digest = createHash('sha256');
    let bytes = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _enc, done) {
        digest.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const dataClient = store ?? catalog;
    // `output` stays open until the audit entry is written: a reader that saw the archive end can
    // rely on its `tenant.backup` entry (offboarding checks it), and a failed entry aborts the output.
    await pipeline(batched(archiveLines(meta, catalog, dataClient, location, tenantId, sections)), sealer, measure, output, { end: false });
    const result: BackupResult = { header, sections, bytes, sha256: digest.digest('hex') };
    await catalog.query('COMMIT');
    await appendAudit(deps.ownerPool, {
      chain: tenantId,
      actor: who.actor,
      action: AuditAction.tenantBackup,
      target: tenantId,
      after: {
        archiveId: header.archiveId,
        backupKeyId: header.backupKeyId,
        bytes,
        sha256: result.sha256,
        model: tenant.isolationModel,
        rows: Object.fromEntries(sections.map((s) => [s.name, s.rows])),
      },
      ...(who.reason === undefined ? {} : { reason: who.reason }),
    });
    await new Promise<void>((resolve) => output.end(resolve));
    return result;
  } finally {
    await catalog.query('ROLLBACK').catch(() => undefined);
    catalog.release();
    await store?.end().catch(() => undefined);
  }
}

async function readMeta(deps: TenantBackupDeps, catalog: PoolClient, tenantId: string): Promise<ArchiveMeta> {
  const { rows: tenantRows } = await catalog.query<{
    id: string;
    slug: string;
    display_name: string;
    status: ArchiveMeta['tenant']['status'];
    isolation_model: ArchiveMeta['tenant']['isolationModel'];
    plan: string;
    created_at: Date;
  }>('SELECT id, slug, display_name, status, isolation_model, plan, created_at FROM tenants WHERE id = $1', [tenantId]);
  const row = tenantRows[0];
  if (!row) throw new NotFoundError('tenant', tenantId);
  const { rows: keyRows } = await catalog.query<{ version: number; kek_version: string; wrapped_key: Buffer | null }>(
    'SELECT version, kek_version, wrapped_key FROM tenant_keys WHERE tenant_id = $1 ORDER BY version',
    [tenantId],
  );
  if (keyRows.some((k) => k.wrapped_key === null)) throw new TenantKeysDestroyedError(tenantId);
  const keys = [];
  for (const k of keyRows) {
    const dek = await deps.provider.unwrap(k.wrapped_key!, k.kek_version, { tenantId, keyVersion: k.version });
    keys.push({ version: k.version, key: dek.toString('base64') });
  }
  const { rows: heads } = await catalog.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_chain_heads WHERE chain = $1', [
    tenantId,
  ]);
  return {
    k: 'meta',
    format: 1,
    tenant: {
      id: row.id,
      slug: row.slug,
      displayName: row.display_name,
      status: row.status,
      isolationModel: row.isolation_model,
      plan: row.plan,
      createdAt: row.created_at.toISOString(),
    },
    keys,
    auditHead: heads[0] ?? null,
  };
}

/** The archive's plaintext lines, section by section (archive-content.ts). */
async function* archiveLines(
  meta: ArchiveMeta,
  catalog: PoolClient,
  dataClient: Pick<PoolClient, 'query'>,
  location: TenantLocation,
  tenantId: string,
  sections: SectionDigest[],
): AsyncGenerator<Buffer> {
  yield controlLine(meta);
  // Every field the hash of an entry covers, as the verifier (libs/audit) reads it back: form 2
  // hashes PostgreSQL's text of the stored jsonb, so that text travels too.
  const audit = `SELECT jsonb_build_object('id', id::text, 'chain', chain, 'seq', seq::text,
      'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'actor', actor, 'action', action, 'target', target,
      'before', before, 'after', after, 'beforeText', before::text, 'afterText', after::text, 'reason', reason,
      'prevHash', prev_hash, 'hash', hash, 'form', form)::text AS line
    FROM audit_log WHERE chain = $1 ORDER BY seq`;
  yield* section(catalog, AUDIT_SECTION, audit, [tenantId], sections);
  for (const spec of SECTIONS) {
    const inTenantStore = spec.store === 'data' && location.model !== 'pooled';
    const client = spec.store === 'data' ? dataClient : catalog;
    const schema = location.model === 'schema' && spec.store === 'data' ? location.schema : undefined;
    const table = schema ? `${quoteIdent(schema)}.${quoteIdent(spec.name)}` : quoteIdent(spec.name);
    const json = await rowJson(client, schema, spec.name);
    const sql = `SELECT ${json} AS line FROM ${table} AS t ${inTenantStore ? '' : 'WHERE t.tenant_id = $1'} ORDER BY ${spec.key.map((c) => `t.${quoteIdent(c)}`).join(', ')}`;
    yield* section(client, spec.name, sql, inTenantStore ? [] : [tenantId], sections);
  }
  yield controlLine({ k: 'manifest', sections });
}

/**
 * The SQL of one row's line: to_jsonb without tenant_id, numeric and bigint columns as text (a
 * JSON number would pass through a JavaScript double on restore).
 */
async function rowJson(client: Pick<PoolClient, 'query'>, schema: string | undefined, table: string): Promise<string> {
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2 AND data_type IN ('numeric', 'bigint')`,
    [schema ?? null, table],
  );
  const asText = rows.map((r) => `${quoteLiteral(r.column_name)}, t.${quoteIdent(r.column_name)}::text`);
  return `((to_jsonb(t) - 'tenant_id')${asText.length ? ` || jsonb_build_object(${asText.join(', ')})` : ''})::text`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

async function* section(client: Pick<PoolClient, 'query'>, name: string, sql: string, params: unknown[], sections: SectionDigest[]): AsyncGenerator<Buffer> {
  yield controlLine({ k: 'section', name });
  const hash = createHash('sha256');
  let rows = 0;
  const cursor = client.query(new QueryStream(sql, params, { batchSize: CURSOR_ROWS })) as unknown as AsyncIterable<{ line: string }>;
  for await (const row of cursor) {
    const line = Buffer.from(`${row.line}\n`, 'utf8');
    hash.update(line);
    rows += 1;
    yield line;
  }
  const digest: SectionDigest = { name, rows, sha256: hash.digest('hex') };
  sections.push(digest);
  yield controlLine({ k: 'end', ...digest });
}

/** Lines gathered into writes of about 64 KiB: one sealer call per frame, not per row. */
async function* batched(lines: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const line of lines) {
    pending.push(line);
    size += line.length;
    if (size >= WRITE_BATCH_BYTES) {
      yield Buffer.concat(pending);
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(pending);
}
