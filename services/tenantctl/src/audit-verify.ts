import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import {
  formatVerifyResult,
  parseCheckpointPrivateKey,
  parseCheckpointPublicKey,
  readAuditCheckpoints,
  writeAuditCheckpoint,
  verifyAuditChains,
  type AuditVerifyResult,
  type CheckpointedHead,
} from '@fairway/audit';
import { createPool } from '@fairway/db';
import { CliError, ExitCode } from './exit-codes';

/** Options of `tenantctl audit verify` when it reads the chains itself (not through the admin API). */
export interface DirectVerifyOptions {
  tenant?: string;
  /** The operator's checkpoint file (JSON lines, AuditCheckpointer). */
  checkpoints?: string;
  /** The checkpoints' Ed25519 public key: a PEM file path (or the PEM / base64 PEM text itself). */
  key?: string;
  /** A read-only connection to the catalog database (fairway_app suffices). */
  databaseUrl: string;
}

/** What direct verification found, as printed with --json. */
export interface DirectVerifyReport extends AuditVerifyResult {
  checkpointFile?: { lines: number; latestAt?: string };
}

/** The text of a key given inline (PEM, or its base64) or as a file path. */
async function keyText(key: string): Promise<string> {
  const looksInline = key.includes('-----BEGIN') || /^[A-Za-z0-9+/=\s]{60,}$/.test(key);
  return looksInline
    ? key
    : readFile(key, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read the checkpoint key '${key}': ${err.code ?? err.message}`, ExitCode.usage);
      });
}

/**
 * Writes one signed checkpoint of every chain head to `file` (appended, JSON lines): what a
 * scheduled job (the shipped CronJob) runs when the control plane does not keep the file itself.
 */
export async function writeCheckpointDirect(options: {
  databaseUrl: string;
  key: string;
  file: string;
}): Promise<{ chains: number; at: string; file: string }> {
  let key: KeyObject;
  try {
    key = parseCheckpointPrivateKey(await keyText(options.key));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`the checkpoint signing key is not an Ed25519 private key in PEM: ${(err as Error).message}`, ExitCode.usage);
  }
  const pool = createPool({ connectionString: options.databaseUrl, applicationName: 'tenantctl-audit-checkpoint', max: 1 });
  try {
    const checkpoint = await writeAuditCheckpoint(pool, { key, file: options.file });
    return { chains: Object.keys(checkpoint.heads).length, at: checkpoint.at, file: options.file };
  } finally {
    await pool.end();
  }
}

async function loadKey(key: string): Promise<KeyObject> {
  const text = await keyText(key);
  try {
    return parseCheckpointPublicKey(text);
  } catch (err) {
    throw new CliError(`the checkpoint key is not an Ed25519 key in PEM: ${(err as Error).message}`, ExitCode.usage);
  }
}

/**
 * Verifies the audit chains straight from the database, and, with a checkpoint file, against the
 * signed chain heads in it. Straight from the database, not through the admin API: the point of
 * the checkpoints is to catch a compromised admin plane or database owner, so the verifier must
 * not ask the admin plane whether it is honest. The checkpoint file is checked first (every
 * signature), so a tampered file fails before any connection is made.
 */
export async function verifyDirect(options: DirectVerifyOptions): Promise<{ report: DirectVerifyReport; text: string }> {
  let checkpoints: Record<string, CheckpointedHead> | undefined;
  let checkpointFile: DirectVerifyReport['checkpointFile'];
  if (options.checkpoints !== undefined) {
    if (options.key === undefined) {
      throw new CliError('--checkpoints needs --key <public key PEM file> (or AUDIT_CHECKPOINT_PUBLIC_KEY)', ExitCode.usage);
    }
    const key = await loadKey(options.key);
    const text = await readFile(options.checkpoints, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read the checkpoint file '${options.checkpoints}': ${err.code ?? err.message}`, ExitCode.usage);
    });
    const read = readAuditCheckpoints(text, key);
    if (!read.ok) {
      throw new CliError(`AUDIT CHECKPOINTS REFUSED: ${options.checkpoints} ${read.reason}`, ExitCode.failure);
    }
    if (read.lines === 0) throw new CliError(`the checkpoint file '${options.checkpoints}' holds no checkpoint`, ExitCode.failure);
    checkpoints = read.heads;
    checkpointFile = { lines: read.lines, ...(read.latestAt === undefined ? {} : { latestAt: read.latestAt }) };
  }
  const pool = createPool({ connectionString: options.databaseUrl, applicationName: 'tenantctl-audit-verify', max: 1 });
  try {
    const result = await verifyAuditChains(pool, {
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(checkpoints === undefined ? {} : { checkpoints }),
    });
    const report: DirectVerifyReport = { ...result, ...(checkpointFile ? { checkpointFile } : {}) };
    const against = checkpointFile
      ? ` (against ${checkpointFile.lines} signed checkpoint${checkpointFile.lines === 1 ? '' : 's'}, latest ${checkpointFile.latestAt ?? '?'})`
      : '';
    return { report, text: `${formatVerifyResult(result)}${against}` };
  } finally {
    await pool.end();
  }
}
