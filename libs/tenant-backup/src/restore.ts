import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Client, type PoolClient } from 'pg';
import { appendAudit, AuditAction, checkLink, type StoredAuditRecord } from '@fairway/audit';
import { DATA_KEY_BYTES, DataKey, isCiphertext, makeCipher, type TenantCipher } from '@fairway/crypto';
import {
  databaseNameFor,
  databaseOf,
  databaseUrl,
  deprovisionTenant,
  findTenant,
  LOCAL_SERVER,
  locationOf,
  provisionTenant,
  schemaNameFor,
  setTenantStatus,
  type IsolationModel,
  type TenantRecord,
} from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import { AUDIT_SECTION, CONTROL_PREFIX, quoteIdent, SECTIONS, type ArchiveMeta, type SectionDigest, type SectionSpec } from './archive-content';
import { openArchive, type ArchiveHeader } from './archive-stream';
import type { BackupActor, TenantBackupDeps } from './backup';
import { BackupInvalidError, TenantExistsError } from './errors';

/** Where and as whom to restore. */
export interface RestoreOptions extends BackupActor {
  /** The restored tenant's id; the archive's own by default (which must then be absent from the catalog). */
  as?: TenantId;
  /** Its isolation model; the archive's by default. */
  model?: IsolationModel;
  /** For the database model: the server to place it on ('local' by default). */
  dbServer?: string;
  /** Told the rows written so far of a table after each batch (uncommitted until the restore ends). */
  onProgress?: (table: string, rows: number) => void;
}

/** What a restore did. */
export interface RestoreResult {
  tenant: TenantRecord;
  from: { tenantId: string; archiveId: string; createdAt: string; model: IsolationModel };
  /** Rows written per table. */
  rows: Record<string, number>;
  /** Rows verified but not written: API keys when restoring under another id. */
  skipped: Record<string, number>;
  /** Entries of the archived audit chain whose every link verified. */
  auditEntries: number;
}

/** Rows and bytes of one INSERT: a restore holds one batch of rows at a time. */
const BATCH_ROWS = 500;
const BATCH_BYTES = 4 * 1024 * 1024;

/** Jobs that had not finished are restored as cancelled: a backup is history, it does not run work again. */
const UNFINISHED = `r.state IN ('queued', 'running')`;
const JOB_COLUMNS: Record<string, string> = {
  state: `CASE WHEN ${UNFINISHED} THEN 'cancelled' ELSE r.state END`,
  finished_at: `CASE WHEN ${UNFINISHED} THEN now() ELSE r.finished_at END`,
  last_error: `CASE WHEN ${UNFINISHED} THEN 'restored from a backup: not run again' ELSE r.last_error END`,
  lease_expires_at: 'NULL',
};

/**
 * A uuid column's value under a new tenant id: the first 9 bytes kept (a UUIDv7's time, version and
 * variant, so creation order holds), the last 7 from SHA-256 of the new tenant and the old value.
 * Deterministic, so a job's id and its effect's, artifact's and chunks' job_id stay equal.
 */
function remapped(column: string): string {
  return `encode(overlay(uuid_send(r.${column}) placing substring(sha256(convert_to($2 || '/' || r.${column}::text, 'UTF8')) from 1 for 7) from 10 for 7), 'hex')::uuid`;
}

/**
 * Restores a backup archive (writeTenantBackup) as a new tenant, in any isolation model.
 *
 * Nothing is committed before everything was checked: every frame authenticated, the archived
 * audit chain verified link by link (it comes first, before any data), every section's row count
 * and SHA-256 equal to its end line and to the manifest, and the manifest present. The rows go into
 * ONE catalog transaction (plus one on the tenant's database for that model), committed only after
 * the manifest checked; the tenant's catalog row, schema or database is staged as `provisioning`
 * (which no router serves) and removed again if anything fails, so a failed or refused restore
 * leaves nothing behind. Other tenants' rows are never touched: every write names the restored
 * tenant, and a target id that exists in the catalog is refused (TenantExistsError).
 *
 * Under its own id, the tenant gets its data keys back (wrapped with the current KEK) and every
 * value as it was. Under another id it gets a fresh data key, and every sealed value is opened
 * with the archived keys and sealed again under it (the tenant id is bound into each ciphertext);
 * ids of the shared tables are remapped; API keys are not restored (a credential belongs to one
 * tenant). Jobs that were queued or running are restored as cancelled.
 *
 * The archived audit chain is verified, not written back: its entries are links of the source's
 * chain. The restored tenant's chain records `tenant.restore` with the archived head (seq and hash),
 * which ties it to that history.
 */
export async function restoreTenantBackup(deps: TenantBackupDeps, input: Readable, options: RestoreOptions): Promise<RestoreResult> {
  let header: ArchiveHeader | undefined;
  const plaintext = openArchive(deps.keyring, (h) => (header = h));
  const onInputError = (err: Error) => plaintext.destroy(err);
  input.on('error', onInputError);
  input.pipe(plaintext);
  try {
    return await restoreFrom(deps, plaintext, () => header, options);
  } finally {
    // Read no further, whatever happened: the caller may drain the rest (an HTTP upload, so its
    // client gets the answer rather than a reset).
    input.unpipe(plaintext);
    input.off('error', onInputError);
    plaintext.destroy();
  }
}

async function restoreFrom(
  deps: TenantBackupDeps,
  plaintext: Readable,
  headerOf: () => ArchiveHeader | undefined,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const lines = splitLines(plaintext)[Symbol.asyncIterator]();

  const first = await lines.next();
  if (first.done) throw new BackupInvalidError('it holds no content');
  const meta = parseControl(first.value) as unknown as ArchiveMeta;
  if (meta.k !== 'meta' || meta.format !== 1 || !meta.tenant || !Array.isArray(meta.keys))
    throw new BackupInvalidError('its first line is not the archive meta');
  const header = headerOf();
  if (!header) throw new BackupInvalidError('it has no header');
  if (meta.tenant.id !== header.tenantId) throw new BackupInvalidError(`its content is of tenant '${meta.tenant.id}', its header names '${header.tenantId}'`);

  const targetId = options.as ?? (meta.tenant.id as TenantId);
  const model = options.model ?? meta.tenant.isolationModel;
  const sameTenant = targetId === meta.tenant.id;
  const staged = await stageTenant(deps, targetId, model, options.dbServer, meta, sameTenant);

  const catalog = await deps.ownerPool.connect();
  let store: Client | undefined;
  let failed: unknown;
  try {
    await catalog.query('BEGIN');
    await catalog.query("SELECT set_config('app.tenant_id', $1, true)", [targetId]);
    const location = locationOf(staged);
    if (location.model === 'database') {
      store = new Client({ connectionString: databaseUrl(deps.ownerUrl, location.server, location.database, deps.servers) });
      await store.connect();
      await store.query('BEGIN');
    }
    const reseal = await restoreKeys(deps, catalog, meta, targetId, sameTenant);
    const outcome = await restoreSections(lines, {
      catalog,
      data: store ?? catalog,
      dataSchema: location.model === 'schema' ? location.schema : undefined,
      dataPooled: location.model === 'pooled',
      targetId,
      sameTenant,
      reseal,
      meta,
      onProgress: options.onProgress,
    });
    await store?.query('COMMIT');
    const status = meta.tenant.status === 'suspended' ? 'suspended' : 'active';
    const tenant = (await setTenantStatus(catalog, targetId, status)) ?? staged;
    await appendAudit(catalog, {
      chain: targetId,
      actor: options.actor,
      action: AuditAction.tenantRestore,
      target: targetId,
      after: {
        from: { tenant: meta.tenant.id, archiveId: header.archiveId, createdAt: header.createdAt, model: meta.tenant.isolationModel },
        model,
        rows: outcome.rows,
        skipped: outcome.skipped,
        sourceAuditHead: meta.auditHead,
      },
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    });
    await catalog.query('COMMIT');
    return {
      tenant,
      from: { tenantId: meta.tenant.id, archiveId: header.archiveId, createdAt: header.createdAt, model: meta.tenant.isolationModel },
      rows: outcome.rows,
      skipped: outcome.skipped,
      auditEntries: outcome.auditEntries,
    };
  } catch (err) {
    await catalog.query('ROLLBACK').catch(() => undefined);
    await store?.query('ROLLBACK').catch(() => undefined);
    failed = err;
    throw err;
  } finally {
    await store?.end().catch(() => undefined);
    catalog.release();
    if (failed !== undefined) {
      await discardStagedTenant(deps, targetId).catch((cleanup: unknown) => {
        throw new Error(`${(failed as Error).message}; and the staged tenant '${targetId}' could not be removed: ${(cleanup as Error).message}`, {
          cause: failed,
        });
      });
    }
  }
}

/**
 * The target's catalog row, inserted only if the id is free, then its schema or database created
 * and migrated; left `provisioning` until the restore commits.
 */
async function stageTenant(
  deps: TenantBackupDeps,
  id: TenantId,
  model: IsolationModel,
  dbServer: string | undefined,
  meta: ArchiveMeta,
  sameTenant: boolean,
): Promise<TenantRecord> {
  const server = dbServer ?? LOCAL_SERVER;
  const { rowCount } = await deps.ownerPool
    .query(
      `INSERT INTO tenants (id, slug, display_name, plan, status, isolation_model, schema_name, db_server, db_name)
       VALUES ($1, $2, $3, $4, 'provisioning', $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [
        id,
        // A copy gets its id as slug: the original's slug is taken by the original.
        sameTenant ? meta.tenant.slug : id,
        meta.tenant.displayName,
        meta.tenant.plan,
        model,
        model === 'schema' ? schemaNameFor(id) : null,
        model === 'database' ? server : null,
        model === 'database' ? databaseNameFor(databaseOf(deps.ownerUrl), id) : null,
      ],
    )
    .catch((err: { code?: string }) => {
      if (err.code === '23505') throw new TenantExistsError(id);
      throw err;
    });
  if (!rowCount) throw new TenantExistsError(id);
  try {
    return await provisionTenant(
      { ownerPool: deps.ownerPool, ownerUrl: deps.ownerUrl, ...(deps.servers ? { servers: deps.servers } : {}) },
      { id, isolationModel: model, ...(model === 'database' ? { dbServer: server } : {}) },
      { activate: false },
    );
  } catch (err) {
    await discardStagedTenant(deps, id).catch(() => undefined);
    throw err;
  }
}

/** Removes a staged (never activated) tenant: its schema or database, its rows, its catalog row. */
async function discardStagedTenant(deps: TenantBackupDeps, id: TenantId): Promise<void> {
  const staged = await findTenant(deps.ownerPool, id);
  if (!staged) return;
  await deprovisionTenant({ ownerPool: deps.ownerPool, ownerUrl: deps.ownerUrl, ...(deps.servers ? { servers: deps.servers } : {}) }, id);
  // It never existed for anyone (no router serves 'provisioning'): no row stays to say it did.
  await deps.ownerPool.query('DELETE FROM tenants WHERE id = $1', [id]);
}

/**
 * The tenant's data keys: under its own id the archived keys, wrapped with the current KEK; under
 * another id one fresh key, and a function that moves a sealed value from the archived keys to it.
 */
async function restoreKeys(
  deps: TenantBackupDeps,
  catalog: PoolClient,
  meta: ArchiveMeta,
  targetId: string,
  sameTenant: boolean,
): Promise<((value: string) => string) | undefined> {
  const insert = async (version: number, dek: Buffer) => {
    const kekVersion = deps.provider.currentKekVersion();
    const wrapped = await deps.provider.wrap(dek, kekVersion, { tenantId: targetId, keyVersion: version });
    await catalog.query('INSERT INTO tenant_keys (tenant_id, version, kek_version, wrapped_key) VALUES ($1, $2, $3, $4)', [
      targetId,
      version,
      kekVersion,
      wrapped,
    ]);
  };
  if (sameTenant) {
    for (const k of meta.keys) await insert(k.version, Buffer.from(k.key, 'base64'));
    return undefined;
  }
  if (meta.keys.length === 0) return undefined;
  const fresh = randomBytes(DATA_KEY_BYTES);
  await insert(1, fresh);
  const source: TenantCipher = makeCipher(
    meta.tenant.id,
    meta.keys.map((k) => new DataKey(meta.tenant.id, k.version, Buffer.from(k.key, 'base64'))),
  );
  const target = makeCipher(targetId, [new DataKey(targetId, 1, fresh)]);
  return (value) => (isCiphertext(value) ? target.encrypt(source.decrypt(value)) : value);
}

interface SectionTargets {
  catalog: PoolClient;
  /** The tenant's data store: the catalog client (pooled, schema) or its database's. */
  data: Pick<PoolClient, 'query'>;
  dataSchema: string | undefined;
  dataPooled: boolean;
  targetId: string;
  sameTenant: boolean;
  reseal: ((value: string) => string) | undefined;
  meta: ArchiveMeta;
  onProgress: ((table: string, rows: number) => void) | undefined;
}

/** One table being restored: where its rows go and the INSERT they go through. */
interface OpenSection {
  name: string;
  spec: SectionSpec | undefined;
  hash: ReturnType<typeof createHash>;
  rows: number;
  batch: string[];
  batchBytes: number;
  insert?: { client: Pick<PoolClient, 'query'>; sql: string };
  previousAudit?: StoredAuditRecord;
}

async function restoreSections(
  lines: AsyncIterator<Buffer>,
  t: SectionTargets,
): Promise<{ rows: Record<string, number>; skipped: Record<string, number>; auditEntries: number }> {
  const seen: SectionDigest[] = [];
  const rows: Record<string, number> = {};
  const skipped: Record<string, number> = {};
  let auditEntries = 0;
  let open: OpenSection | undefined;
  let manifest = false;

  const flush = async (section: OpenSection) => {
    if (section.batch.length === 0 || !section.spec) return;
    const spec = section.spec;
    const batch = section.batch;
    section.batch = [];
    section.batchBytes = 0;
    if (spec.sameTenantOnly && !t.sameTenant) {
      skipped[spec.name] = (skipped[spec.name] ?? 0) + batch.length;
      return;
    }
    section.insert ??= await prepareInsert(t, spec, batch[0]!);
    const values = spec.sealed && t.reseal ? batch.map((line) => resealRow(line, spec.sealed!, t.reseal!)) : batch;
    const { rowCount } = await section.insert.client.query(section.insert.sql, [`[${values.join(',')}]`, t.targetId]);
    const total = (rows[spec.name] ?? 0) + (rowCount ?? 0);
    rows[spec.name] = total;
    t.onProgress?.(spec.name, total);
  };

  for (;;) {
    const next = await lines.next();
    if (next.done) break;
    const line = next.value;
    if (manifest) throw new BackupInvalidError('it has content after its manifest');
    if (line[0] !== CONTROL_PREFIX.charCodeAt(0)) {
      if (!open) throw new BackupInvalidError('it has a row outside any section');
      open.hash.update(line).update('\n');
      open.rows += 1;
      const text = line.toString('utf8');
      if (open.name === AUDIT_SECTION) {
        open.previousAudit = verifyAuditLine(text, open.previousAudit, t.meta.tenant.id);
        auditEntries += 1;
        continue;
      }
      open.batch.push(text);
      open.batchBytes += line.length;
      if (open.batch.length >= BATCH_ROWS || open.batchBytes >= BATCH_BYTES) await flush(open);
      continue;
    }
    const control = parseControl(line) as { k: string; name?: string; rows?: number; sha256?: string; sections?: SectionDigest[] };
    if (control.k === 'section') {
      if (open) throw new BackupInvalidError(`section '${control.name}' starts before '${open.name}' ended`);
      const spec = SECTIONS.find((s) => s.name === control.name);
      if (!spec && control.name !== AUDIT_SECTION) throw new BackupInvalidError(`it has a section '${String(control.name)}' this version does not know`);
      if (seen.some((s) => s.name === control.name)) throw new BackupInvalidError(`section '${control.name}' appears twice`);
      if (spec && !seen.some((s) => s.name === AUDIT_SECTION)) throw new BackupInvalidError('its audit chain does not come first');
      open = { name: control.name!, spec, hash: createHash('sha256'), rows: 0, batch: [], batchBytes: 0 };
    } else if (control.k === 'end') {
      if (!open || control.name !== open.name) throw new BackupInvalidError(`an end of section '${String(control.name)}' that is not open`);
      await flush(open);
      const digest: SectionDigest = { name: open.name, rows: open.rows, sha256: open.hash.digest('hex') };
      if (digest.rows !== control.rows || digest.sha256 !== control.sha256) {
        throw new BackupInvalidError(
          `section '${open.name}' holds ${digest.rows} rows with SHA-256 ${digest.sha256}, its end line says ${control.rows} and ${control.sha256}`,
        );
      }
      if (open.name === AUDIT_SECTION) {
        const last = open.previousAudit;
        const head = t.meta.auditHead;
        if ((head === null) !== (last === undefined) || (head && last && (head.seq !== last.seq || head.hash !== last.hash))) {
          throw new BackupInvalidError(`its audit chain ends at seq ${last?.seq ?? 0}, but the chain's head at backup time was seq ${head?.seq ?? 0}`);
        }
      }
      seen.push(digest);
      open = undefined;
    } else if (control.k === 'manifest') {
      if (open) throw new BackupInvalidError(`its manifest comes before section '${open.name}' ended`);
      const expected = [AUDIT_SECTION, ...SECTIONS.map((s) => s.name)];
      const listed = control.sections ?? [];
      const missing = expected.filter((name) => !seen.some((s) => s.name === name));
      if (missing.length > 0) throw new BackupInvalidError(`it lacks the sections ${missing.join(', ')}`);
      if (listed.length !== seen.length || listed.some((m, i) => m.name !== seen[i]!.name || m.rows !== seen[i]!.rows || m.sha256 !== seen[i]!.sha256)) {
        throw new BackupInvalidError('its manifest does not match its sections (counts or checksums differ)');
      }
      manifest = true;
    } else {
      throw new BackupInvalidError(`it has an unknown control line '${String(control.k)}'`);
    }
  }
  if (!manifest) throw new BackupInvalidError('it ends without its manifest');
  return { rows, skipped, auditEntries };
}

/** The INSERT of one table: the archive's columns (checked against the target's), tenant, remapped ids. */
async function prepareInsert(t: SectionTargets, spec: SectionSpec, sample: string): Promise<{ client: Pick<PoolClient, 'query'>; sql: string }> {
  const inData = spec.store === 'data';
  const client = inData ? t.data : t.catalog;
  const schema = inData ? t.dataSchema : undefined;
  const table = schema ? `${quoteIdent(schema)}.${quoteIdent(spec.name)}` : quoteIdent(spec.name);
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2`,
    [schema ?? null, spec.name],
  );
  const targetColumns = new Set(rows.map((r) => r.column_name));
  const archived = Object.keys(JSON.parse(sample) as Record<string, unknown>);
  const unknown = archived.filter((c) => !targetColumns.has(c));
  if (unknown.length > 0) {
    throw new BackupInvalidError(
      `its table ${spec.name} has the columns ${unknown.join(', ')}, which this database lacks: migrate it to the archive's version first`,
    );
  }
  const columns = archived.filter((c) => !(spec.omit ?? []).includes(c) && c !== 'tenant_id');
  const exprs = columns.map((c) => {
    if (spec.name === 'jobs' && JOB_COLUMNS[c]) return JOB_COLUMNS[c];
    if (!t.sameTenant && spec.remap?.includes(c)) return remapped(quoteIdent(c));
    return `r.${quoteIdent(c)}`;
  });
  if (targetColumns.has('tenant_id') && (!inData || t.dataPooled)) {
    columns.unshift('tenant_id');
    exprs.unshift('$2');
  }
  // $2 is the tenant in every statement (the remapping hashes it), so every INSERT takes it.
  const sql = `INSERT INTO ${table} (${columns.map(quoteIdent).join(', ')})
    SELECT ${exprs.join(', ')} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb) AS r WHERE $2::text IS NOT NULL`;
  return { client, sql };
}

function resealRow(line: string, sealed: { column: string; lines: boolean }, reseal: (value: string) => string): string {
  const row = JSON.parse(line) as Record<string, unknown>;
  const value = row[sealed.column];
  if (typeof value === 'string') {
    row[sealed.column] = sealed.lines
      ? value
          .split('\n')
          .map((l) => (l.length > 0 ? reseal(l) : l))
          .join('\n')
      : reseal(value);
  }
  return JSON.stringify(row);
}

/** One archived audit entry, checked against the one before it (libs/audit's own link check). */
function verifyAuditLine(text: string, previous: StoredAuditRecord | undefined, chain: string): StoredAuditRecord {
  const row = JSON.parse(text) as Record<string, unknown>;
  const str = (name: string): string | undefined => (row[name] === null || row[name] === undefined ? undefined : String(row[name]));
  const entry: StoredAuditRecord = {
    id: str('id') ?? '',
    chain: str('chain') ?? '',
    seq: str('seq') ?? '',
    at: new Date(str('at') ?? ''),
    actor: str('actor') ?? '',
    action: str('action') ?? '',
    ...(row['target'] === null ? {} : { target: str('target')! }),
    ...(row['before'] === null ? {} : { before: row['before'] }),
    ...(row['after'] === null ? {} : { after: row['after'] }),
    ...(row['reason'] === null ? {} : { reason: str('reason')! }),
    prevHash: str('prevHash') ?? '',
    hash: str('hash') ?? '',
    form: row['form'] === 2 ? 2 : 1,
    beforeText: (row['beforeText'] as string | null) ?? null,
    afterText: (row['afterText'] as string | null) ?? null,
  };
  if (entry.chain !== chain) throw new BackupInvalidError(`its audit chain holds an entry of chain '${entry.chain}'`);
  const broken = (() => {
    try {
      return checkLink(entry, previous);
    } catch (err) {
      return { seq: entry.seq, reason: (err as Error).message };
    }
  })();
  if (broken) throw new BackupInvalidError(`its audit chain does not verify at seq ${broken.seq}: ${broken.reason}`);
  return entry;
}

function parseControl(line: Buffer): Record<string, unknown> {
  if (line[0] !== CONTROL_PREFIX.charCodeAt(0)) throw new BackupInvalidError('a control line was expected');
  try {
    return JSON.parse(line.subarray(1).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new BackupInvalidError('a control line is not JSON', { cause: err });
  }
}

/** The lines of a byte stream (without their newlines), split on bytes so no character is cut. */
async function* splitLines(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    let buffer = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let newline = buffer.indexOf(0x0a);
    while (newline >= 0) {
      yield buffer.subarray(0, newline);
      buffer = buffer.subarray(newline + 1);
      newline = buffer.indexOf(0x0a);
    }
    rest = buffer;
  }
  if (rest.length > 0) throw new BackupInvalidError('its content ends inside a line');
}
