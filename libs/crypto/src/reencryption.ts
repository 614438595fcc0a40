import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { appendAudit, AuditAction } from '@fairway/audit';
import { ValidationError } from '@fairway/errors';
import { CIPHERTEXT_PREFIX } from './ciphertext';
import type { DataKeyCache } from './data-key';
import { ReencryptionInProgressError, TenantKeysDestroyedError } from './errors';
import type { KeyProvider } from './key-provider';
import { tenantCipher, type TenantCipher } from './tenant-cipher';
import { inTenantTransaction, readTenantKeys, rotateTenantKeyIn, type KeyAdminContext } from './tenant-keys';

/**
 * One kind of stored value of one tenant that a re-encryption moves to the current key: a column
 * of a table in the tenant's store, wherever its isolation model puts it. The runner knows nothing
 * of tables or models; a target pages through its rows with a keyset cursor.
 */
export interface ReencryptionTarget {
  /** A stable name, shown in progress: 'records.body'. */
  readonly name: string;
  /**
   * In ONE transaction, reads up to `limit` rows (fewer if the target pages smaller) after the
   * keyset cursor `after` (from the start when undefined), rewrites each value under an older key
   * than `cipher`'s current one, and says how many rows it read, how many values it rewrote, the
   * cursor of its last row and whether the table is through.
   */
  batch(cipher: TenantCipher, after: string | undefined, limit: number): Promise<ReencryptionBatch>;
  /** How many stored values are under a key version other than `keyVersion` (counted, nothing decrypted). */
  remaining(keyVersion: number): Promise<number>;
}

/** What one batch of a target did. */
export interface ReencryptionBatch {
  scanned: number;
  reencrypted: number;
  /** The cursor of the last row read; undefined when the batch read nothing. */
  last: string | undefined;
  /** No rows after `last`: the target's pass is through. */
  exhausted: boolean;
}

/** Progress of one target within a run. */
export interface ReencryptionTableProgress {
  scanned: number;
  reencrypted: number;
  done: boolean;
}

/** Where a tenant's latest re-encryption stands, as stored in tenant_reencryptions. */
export interface ReencryptionStatus {
  tenantId: string;
  runId: string;
  state: 'running' | 'done' | 'failed';
  toKeyVersion: number;
  /** Rows read, over every target and pass. */
  scanned: number;
  /** Values rewritten under `toKeyVersion`. */
  reencrypted: number;
  /** Full passes over the targets (a pass is repeated when values under an older key appeared meanwhile). */
  passes: number;
  tables: Record<string, ReencryptionTableProgress>;
  startedBy: string;
  startedAt: Date;
  /** The last progress write of the run. */
  heartbeatAt: Date;
  finishedAt?: Date;
  error?: string;
  /** Running, but silent for longer than the stale limit: its process stopped; it can be taken over. */
  stalled: boolean;
}

/** Options shared by the re-encryption functions. */
export interface ReencryptionOptions {
  /** A running re-encryption silent for this long is stalled and may be taken over (default 2 min). */
  staleAfterMs?: number;
  cache?: DataKeyCache;
}

/** Options of startReencryption. */
export interface StartReencryptionOptions extends ReencryptionOptions, KeyAdminContext {
  /** Add a new data key version first (a rotation); without it, the current version is the target. */
  rotate: boolean;
}

/** Options of runReencryption. */
export interface RunReencryptionOptions extends ReencryptionOptions {
  /** Rows per batch (default 200); a target may read fewer. */
  batchSize?: number;
  /** Full passes at most before giving up on values that keep appearing under an old key (default 3). */
  maxPasses?: number;
  /** Called after every batch with the progress just stored. */
  onProgress?: (status: ReencryptionStatus) => void;
}

const DEFAULT_STALE_AFTER_MS = 120_000;

interface StoredProgress {
  scanned: number;
  reencrypted: number;
  after: string | null;
  done: boolean;
}

interface Row {
  tenant_id: string;
  run_id: string;
  state: ReencryptionStatus['state'];
  to_key_version: number;
  scanned: string;
  reencrypted: string;
  passes: number;
  tables: Record<string, StoredProgress>;
  started_by: string;
  started_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
  error: string | null;
  stalled: boolean;
}

const COLUMNS = `tenant_id, run_id, state, to_key_version, scanned::text AS scanned, reencrypted::text AS reencrypted, passes, tables,
  started_by, started_at, heartbeat_at, finished_at, error,
  (state = 'running' AND heartbeat_at < now() - make_interval(secs => $2::double precision / 1000)) AS stalled`;

function toStatus(row: Row): ReencryptionStatus {
  return {
    tenantId: row.tenant_id,
    runId: row.run_id,
    state: row.state,
    toKeyVersion: row.to_key_version,
    scanned: Number(row.scanned),
    reencrypted: Number(row.reencrypted),
    passes: row.passes,
    tables: Object.fromEntries(Object.entries(row.tables).map(([name, p]) => [name, { scanned: p.scanned, reencrypted: p.reencrypted, done: p.done }])),
    startedBy: row.started_by,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    ...(row.finished_at ? { finishedAt: row.finished_at } : {}),
    ...(row.error === null ? {} : { error: row.error }),
    stalled: row.stalled,
  };
}

async function readRow(db: Pick<PoolClient, 'query'>, tenantId: string, staleAfterMs: number, lock = false): Promise<Row | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM tenant_reencryptions WHERE tenant_id = $1${lock ? ' FOR UPDATE' : ''}`, [
    tenantId,
    staleAfterMs,
  ]);
  return rows[0];
}

/** The tenant's latest re-encryption, from the catalog (any process sees the same), or undefined. */
export async function readReencryption(ownerPool: Pool, tenantId: string, options: ReencryptionOptions = {}): Promise<ReencryptionStatus | undefined> {
  const row = await readRow(ownerPool, tenantId, options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
  return row && toStatus(row);
}

/**
 * Claims the tenant's re-encryption for a new run, in one owner transaction: refuses with
 * ReencryptionInProgressError while another run is alive (on any process), optionally rotates the
 * data key first (audited `data-key.rotate` in the same transaction, so a refused request rotates
 * nothing), and stores the run as `running`. A run to the same key version that failed or stalled
 * is resumed from its cursors; anything else starts from zero. A start without rotation is
 * audited as `data-key.reencrypt`. Follow it with runReencryption(..., status.runId, ...).
 */
export async function startReencryption(
  ownerPool: Pool,
  provider: KeyProvider,
  tenantId: string,
  options: StartReencryptionOptions,
): Promise<ReencryptionStatus> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const admin: KeyAdminContext = { actor: options.actor, ...(options.reason === undefined ? {} : { reason: options.reason }) };
  return inTenantTransaction(ownerPool, tenantId, async (client) => {
    // One claim at a time per tenant, whichever process asks; the row lock alone would not cover
    // the first run, when there is no row to lock yet.
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('fairway.reencryption:' || $1, 0))`, [tenantId]);
    const previous = await readRow(client, tenantId, staleAfterMs, true);
    if (previous?.state === 'running' && !previous.stalled) {
      throw new ReencryptionInProgressError(tenantId, previous.to_key_version, previous.started_at);
    }
    let toKeyVersion: number;
    if (options.rotate) {
      toKeyVersion = (await rotateTenantKeyIn(client, provider, tenantId, admin)).version;
    } else {
      const keys = await readTenantKeys(client, tenantId);
      if (keys.some((k) => k.destroyedAt)) throw new TenantKeysDestroyedError(tenantId);
      const current = keys.at(-1);
      if (!current) {
        throw new ValidationError(`tenant '${tenantId}' has no data key yet, so nothing of it is encrypted: there is nothing to re-encrypt`, [
          { path: 'id', message: 'no data key' },
        ]);
      }
      toKeyVersion = current.version;
    }
    const resume = previous !== undefined && previous.state !== 'done' && previous.to_key_version === toKeyVersion;
    const runId = randomUUID();
    const { rows } = await client.query<Row>(
      `INSERT INTO tenant_reencryptions (tenant_id, run_id, state, to_key_version, scanned, reencrypted, passes, tables, started_by)
       VALUES ($1, $3, 'running', $4, $5, $6, $7, $8, $9)
       ON CONFLICT (tenant_id) DO UPDATE SET
         run_id = EXCLUDED.run_id, state = 'running', to_key_version = EXCLUDED.to_key_version, scanned = EXCLUDED.scanned,
         reencrypted = EXCLUDED.reencrypted, passes = EXCLUDED.passes, tables = EXCLUDED.tables, started_by = EXCLUDED.started_by,
         started_at = now(), heartbeat_at = now(), finished_at = NULL, error = NULL
       RETURNING ${COLUMNS}`,
      [
        tenantId,
        staleAfterMs,
        runId,
        toKeyVersion,
        resume ? previous.scanned : 0,
        resume ? previous.reencrypted : 0,
        resume ? previous.passes : 0,
        resume ? previous.tables : {},
        options.actor,
      ],
    );
    if (!options.rotate) {
      await appendAudit(client, {
        chain: tenantId,
        actor: options.actor,
        action: AuditAction.dataKeyReencrypt,
        target: tenantId,
        ...(previous ? { before: { state: previous.state, toKeyVersion: previous.to_key_version, stalled: previous.stalled } } : {}),
        after: { state: 'running', toKeyVersion, resumed: resume },
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
    }
    return toStatus(rows[0]!);
  });
}

/**
 * Runs the re-encryption claimed by startReencryption: every target, batch by batch from its
 * stored cursor, each batch its own transaction in the tenant's store, the progress stored in the
 * catalog after each. When a pass is through, the targets count what is still under an older key
 * version (values written meanwhile by operations that began before the rotation) and another pass
 * runs, at most `maxPasses` in all. Ends `done` (audited `data-key.reencrypt` with the counts) or
 * `failed` with an error saying what to do (audited too); resolves with the final status rather
 * than throwing. A run that another process took over (its run id no longer stored) stops at its
 * next batch and resolves with its successor's status. Rejects only when `runId` is not the
 * tenant's running run to begin with, or when even the failure cannot be stored.
 */
export async function runReencryption(
  ownerPool: Pool,
  provider: KeyProvider,
  tenantId: string,
  runId: string,
  targets: readonly ReencryptionTarget[],
  options: RunReencryptionOptions = {},
): Promise<ReencryptionStatus> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const batchSize = options.batchSize ?? 200;
  const maxPasses = options.maxPasses ?? 3;
  const row = await readRow(ownerPool, tenantId, staleAfterMs);
  if (!row || row.run_id !== runId || row.state !== 'running') {
    throw new Error(`re-encryption run ${runId} of tenant '${tenantId}' is not the tenant's running one; start it with startReencryption()`);
  }
  const progress = {
    scanned: Number(row.scanned),
    reencrypted: Number(row.reencrypted),
    passes: row.passes,
    tables: { ...row.tables } as Record<string, StoredProgress>,
  };
  const table = (name: string): StoredProgress => (progress.tables[name] ??= { scanned: 0, reencrypted: 0, after: null, done: false });
  const fenced = `tenant_id = $1 AND run_id = $2 AND state = 'running'`;

  /** Stores the progress; false when the run was taken over. */
  const save = async (): Promise<boolean> => {
    const updated = await ownerPool.query(
      `UPDATE tenant_reencryptions SET scanned = $3, reencrypted = $4, passes = $5, tables = $6, heartbeat_at = now() WHERE ${fenced}`,
      [tenantId, runId, progress.scanned, progress.reencrypted, progress.passes, progress.tables],
    );
    if (updated.rowCount !== 1) return false;
    if (options.onProgress) {
      const status = await readReencryption(ownerPool, tenantId, { staleAfterMs });
      if (status) options.onProgress(status);
    }
    return true;
  };

  const finish = async (state: 'done' | 'failed', error?: string): Promise<void> => {
    await inTenantTransaction(ownerPool, tenantId, async (client) => {
      const updated = await client.query(
        `UPDATE tenant_reencryptions SET state = $3, scanned = $4, reencrypted = $5, passes = $6, tables = $7, error = $8,
           heartbeat_at = now(), finished_at = now() WHERE ${fenced}`,
        [tenantId, runId, state, progress.scanned, progress.reencrypted, progress.passes, progress.tables, error ?? null],
      );
      if (updated.rowCount !== 1) return;
      await appendAudit(client, {
        chain: tenantId,
        actor: row.started_by,
        action: AuditAction.dataKeyReencrypt,
        target: tenantId,
        after: {
          state,
          toKeyVersion: row.to_key_version,
          scanned: progress.scanned,
          reencrypted: progress.reencrypted,
          passes: progress.passes,
          tables: Object.fromEntries(Object.entries(progress.tables).map(([name, p]) => [name, { scanned: p.scanned, reencrypted: p.reencrypted }])),
          ...(error === undefined ? {} : { error }),
        },
      });
    });
  };

  const current = async (): Promise<ReencryptionStatus> => {
    const status = await readReencryption(ownerPool, tenantId, { staleAfterMs });
    if (!status) throw new Error(`the re-encryption of tenant '${tenantId}' is gone (the tenant was deleted)`);
    return status;
  };

  try {
    const cipher = await tenantCipher(ownerPool, provider, tenantId, { createIfMissing: false, ...(options.cache ? { cache: options.cache } : {}) });
    if (cipher.keyVersion !== row.to_key_version) {
      throw new Error(
        `the tenant's current data key is version ${cipher.keyVersion}, not ${row.to_key_version}: it was rotated outside the admin API; ` +
          `start the re-encryption again (POST /admin/v1/tenants/${tenantId}/keys/reencryption)`,
      );
    }
    for (;;) {
      // A resumed run whose pass was through goes straight to the check below.
      if (!targets.every((t) => table(t.name).done)) {
        if (progress.passes === 0) progress.passes = 1;
        for (const target of targets) {
          const p = table(target.name);
          while (!p.done) {
            const batch = await target.batch(cipher, p.after ?? undefined, batchSize).catch((err: unknown) => {
              // Names the batch (its table and cursor), never a value: the message is stored and shown.
              throw new Error(
                `${target.name} after '${p.after ?? '(start)'}': ${(err as Error).message}; ` +
                  `once the cause is fixed, resume with POST /admin/v1/tenants/${tenantId}/keys/reencryption`,
                { cause: err },
              );
            });
            p.scanned += batch.scanned;
            p.reencrypted += batch.reencrypted;
            progress.scanned += batch.scanned;
            progress.reencrypted += batch.reencrypted;
            if (batch.last !== undefined) p.after = batch.last;
            if (batch.exhausted) p.done = true;
            if (!(await save())) return current();
          }
        }
      }
      let remaining = 0;
      for (const target of targets) remaining += await target.remaining(cipher.keyVersion);
      if (remaining === 0) break;
      if (progress.passes >= maxPasses) {
        throw new Error(
          `${remaining} value(s) were still under an older key version after ${progress.passes} passes: operations that began before the rotation ` +
            `are still writing under the old key; resume once they finished (POST /admin/v1/tenants/${tenantId}/keys/reencryption)`,
        );
      }
      progress.passes += 1;
      for (const target of targets) Object.assign(table(target.name), { after: null, done: false });
      if (!(await save())) return current();
    }
    await finish('done');
  } catch (err) {
    await finish('failed', (err as Error).message).catch(() => undefined);
  }
  return current();
}

// The value-level moves a ReencryptionTarget's batch makes (libs/records' targets use them).

/** The text every value sealed under `keyVersion` starts with (for SQL `LIKE` filters). */
export function keyVersionPrefix(keyVersion: number): string {
  return `${CIPHERTEXT_PREFIX}:${keyVersion}:`;
}

/**
 * One stored value moved to the cipher's current key: the new ciphertext, or undefined when it is
 * already under the current key, or is not a ciphertext at all (plaintext written before
 * encryption was turned on is left as it is). Throws DecryptionFailedError for a value that does
 * not open.
 */
export function reencryptValue(cipher: TenantCipher, value: string): string | undefined {
  return cipher.needsReencryption(value) ? cipher.encrypt(cipher.decrypt(value)) : undefined;
}

/**
 * A body made of sealed chunks, one ciphertext per line (a stored export or report result), moved
 * to the cipher's current key line by line: each chunk keeps its boundaries, so the reader opens it
 * exactly as before. `reencrypted` counts the lines rewritten; 0 means `body` is returned unchanged.
 */
export function reencryptSealedLines(cipher: TenantCipher, body: string): { body: string; reencrypted: number } {
  let reencrypted = 0;
  const lines = body.split('\n').map((line) => {
    const moved = line.length > 0 ? reencryptValue(cipher, line) : undefined;
    if (moved === undefined) return line;
    reencrypted += 1;
    return moved;
  });
  return reencrypted === 0 ? { body, reencrypted } : { body: lines.join('\n'), reencrypted };
}
