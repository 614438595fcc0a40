import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import canonicalize from 'canonicalize';
import type { AuditDb } from './audit-log';

/**
 * Signed checkpoints of every chain head, kept OUTSIDE the database.
 *
 * The hash chain shows an entry altered in place, but the database owner can delete a whole chain,
 * or cut its tail and rewrite audit_chain_heads to match, and every remaining link still holds. A
 * checkpoint records {chain -> (seq, hash)} for every chain at one moment, signed with an Ed25519
 * key; written to an append-only file the operator keeps (JSON lines), it lets `tenantctl audit
 * verify --checkpoints` prove later that each chain still reaches, and still holds, what it held.
 *
 * Ed25519 rather than HMAC: the writer (the control plane) holds the private key, the verifier only
 * the public key, so verifying a trail never hands anyone the means to forge a checkpoint.
 * A file rather than a compacted Kafka topic: the file leaves the platform (an operator's volume,
 * object storage with retention lock), needs no broker to verify, and a topic lives on a cluster
 * that the platform's own admin credentials can reconfigure or delete. Each line is a FULL snapshot,
 * so the latest line alone suffices to verify; older lines may be archived or dropped by the operator.
 */

/** The latest seq and hash of one chain. Seq is a decimal string (bigint). */
export interface ChainHead {
  seq: string;
  hash: string;
}

/** One line of the checkpoint file. `sig` is Ed25519 over the RFC 8785 form of the other fields. */
export interface AuditCheckpoint {
  v: 1;
  /** When the heads were read (ISO 8601). */
  at: string;
  /** Which key signed: the first 16 hex digits of the SHA-256 of its public key (SPKI DER). */
  keyId: string;
  heads: Record<string, ChainHead>;
  /** base64 signature. */
  sig: string;
}

/** A chain head as a checkpoint recorded it, with the time of that checkpoint. */
export interface CheckpointedHead extends ChainHead {
  at: string;
}

/** What readAuditCheckpoints found in a checkpoint file. */
export type CheckpointFileResult =
  { ok: true; lines: number; latestAt?: string; heads: Record<string, CheckpointedHead> } | { ok: false; line: number; reason: string };

function asKeyText(text: string): string {
  return text.includes('-----BEGIN') ? text : Buffer.from(text.trim(), 'base64').toString('utf8');
}

/**
 * The checkpoint signing key, from its PKCS#8 PEM text (or that PEM base64-encoded, so it fits in
 * one environment variable). Refuses any key that is not Ed25519.
 */
export function parseCheckpointPrivateKey(text: string): KeyObject {
  const key = createPrivateKey(asKeyText(text));
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`the audit checkpoint key must be an Ed25519 key (got ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

/** The checkpoint verification key from SPKI PEM (or a private key PEM, whose public half is used). */
export function parseCheckpointPublicKey(text: string): KeyObject {
  const pem = asKeyText(text);
  const key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`the audit checkpoint key must be an Ed25519 key (got ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

/** The key id a checkpoint names: SHA-256 of the public key's SPKI DER, first 16 hex digits. */
export function checkpointKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

function signedBytes(checkpoint: Omit<AuditCheckpoint, 'sig'>): Buffer {
  const text = canonicalize({ v: checkpoint.v, at: checkpoint.at, keyId: checkpoint.keyId, heads: checkpoint.heads });
  if (text === undefined) throw new TypeError('checkpoint has no canonical JSON form');
  return Buffer.from(text, 'utf8');
}

/** Signs `heads` as read at `at` with the Ed25519 private key. */
export function signCheckpoint(heads: Record<string, ChainHead>, privateKey: KeyObject, at: Date): AuditCheckpoint {
  const unsigned = { v: 1 as const, at: at.toISOString(), keyId: checkpointKeyId(privateKey), heads };
  return { ...unsigned, sig: sign(null, signedBytes(unsigned), privateKey).toString('base64') };
}

/**
 * The head of every chain, read from audit_chain_heads and confirmed against audit_log (a head
 * whose entry is not in the log is left out, so it is reported by verification, not signed).
 * Runs as the application role (SELECT only).
 */
export async function readChainHeads(db: AuditDb): Promise<Record<string, ChainHead>> {
  const { rows } = await db.query<{ chain: string; seq: string; hash: string }>(
    `SELECT h.chain, h.seq::text AS seq, h.hash
       FROM audit_chain_heads h
       JOIN audit_log l ON l.chain = h.chain AND l.seq = h.seq AND l.hash = h.hash
      ORDER BY h.chain`,
  );
  return Object.fromEntries(rows.map((r) => [r.chain, { seq: r.seq, hash: r.hash }]));
}

/** Where and how a checkpoint is written. */
export interface CheckpointTarget {
  /** The Ed25519 private key (parseCheckpointPrivateKey). */
  key: KeyObject;
  /** The JSON-lines file checkpoints are appended to (created if missing). */
  file: string;
  /** The clock (tests). */
  now?: () => Date;
}

/** Appends one line to the file and flushes it to disk before returning. */
async function appendLine(file: string, line: string): Promise<void> {
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.write(`${line}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Reads every chain head, signs them, and appends the checkpoint to `target.file`. */
export async function writeAuditCheckpoint(db: AuditDb, target: CheckpointTarget): Promise<AuditCheckpoint> {
  const at = (target.now ?? (() => new Date()))();
  const checkpoint = signCheckpoint(await readChainHeads(db), target.key, at);
  await appendLine(target.file, JSON.stringify(checkpoint));
  return checkpoint;
}

/** Options of AuditCheckpointer. */
export interface AuditCheckpointerOptions extends CheckpointTarget {
  /** Time between checkpoints, in milliseconds. */
  intervalMs: number;
  /** A checkpoint that could not be written (it is tried again at the next interval). */
  onError?: (err: unknown) => void;
  /** A checkpoint that was written. */
  onCheckpoint?: (checkpoint: AuditCheckpoint) => void;
}

/**
 * Writes a checkpoint every `intervalMs`, and only when some chain head moved since the last one it
 * wrote (the first tick always writes). Run ONE per deployment (the control plane's leader, or a
 * single replica): lines from several writers interleave harmlessly, but waste space.
 */
export class AuditCheckpointer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastWritten: string | undefined;

  constructor(
    private readonly db: AuditDb,
    private readonly options: AuditCheckpointerOptions,
  ) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs < 1000) {
      throw new RangeError(`audit checkpoint interval must be at least 1000 ms (got ${options.intervalMs})`);
    }
  }

  /** Writes a checkpoint at once, then every interval. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stops the timer and waits for a checkpoint in progress; then writes a last one. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.tick();
  }

  /**
   * Writes a checkpoint now if any head moved since the last one written; returns it, or undefined
   * when nothing changed. Errors are thrown (the timer reports them through onError).
   */
  async checkpointNow(): Promise<AuditCheckpoint | undefined> {
    const heads = await readChainHeads(this.db);
    const digest = canonicalize(heads);
    if (digest === this.lastWritten) return undefined;
    const checkpoint = signCheckpoint(heads, this.options.key, (this.options.now ?? (() => new Date()))());
    await appendLine(this.options.file, JSON.stringify(checkpoint));
    this.lastWritten = digest;
    this.options.onCheckpoint?.(checkpoint);
    return checkpoint;
  }

  private async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.checkpointNow()
      .then(() => undefined)
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const SEQ = /^[1-9][0-9]{0,18}$/;

function parseLine(text: string): AuditCheckpoint | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const c = value as Partial<AuditCheckpoint> | null;
  if (!c || typeof c !== 'object' || c.v !== 1 || typeof c.at !== 'string' || typeof c.keyId !== 'string' || typeof c.sig !== 'string') {
    return 'not a version-1 audit checkpoint';
  }
  if (!c.heads || typeof c.heads !== 'object' || Array.isArray(c.heads)) return 'has no heads';
  for (const [chain, head] of Object.entries(c.heads)) {
    if (!head || typeof head.seq !== 'string' || !SEQ.test(head.seq) || typeof head.hash !== 'string' || !HEX64.test(head.hash)) {
      return `has a malformed head for chain '${chain}'`;
    }
  }
  return c as AuditCheckpoint;
}

/**
 * Reads a checkpoint file (JSON lines) and checks every line's signature with `publicKey`. Returns
 * the highest checkpointed head of each chain, or the first line that is not trustworthy: a bad
 * signature, another key, or a chain that went backwards (or changed hash at the same seq) from one
 * signed checkpoint to a later one, which only a truncated or rewritten chain explains.
 * Empty lines are ignored.
 */
export function readAuditCheckpoints(text: string, publicKey: KeyObject): CheckpointFileResult {
  const keyId = checkpointKeyId(publicKey);
  const heads: Record<string, CheckpointedHead> = {};
  let lines = 0;
  let latestAt: string | undefined;
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i += 1) {
    const raw = rows[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    const parsed = parseLine(raw);
    if (typeof parsed === 'string') return { ok: false, line, reason: `line ${line} ${parsed}` };
    if (parsed.keyId !== keyId) return { ok: false, line, reason: `line ${line} was signed by key ${parsed.keyId}, not by the given key ${keyId}` };
    const { sig, ...unsigned } = parsed;
    if (!verify(null, signedBytes(unsigned), publicKey, Buffer.from(sig, 'base64'))) {
      return { ok: false, line, reason: `line ${line}: the signature does not verify (the checkpoint was altered or forged)` };
    }
    for (const [chain, head] of Object.entries(parsed.heads)) {
      const earlier = heads[chain];
      if (earlier) {
        const order = BigInt(head.seq) - BigInt(earlier.seq);
        if (order < 0n) {
          return {
            ok: false,
            line,
            reason: `line ${line}: chain '${chain}' went back from seq ${earlier.seq} (checkpoint of ${earlier.at}) to seq ${head.seq}: it was truncated in between`,
          };
        }
        if (order === 0n && head.hash !== earlier.hash) {
          return {
            ok: false,
            line,
            reason: `line ${line}: chain '${chain}' has a different hash at seq ${head.seq} than the checkpoint of ${earlier.at}: it was rewritten in between`,
          };
        }
        if (order === 0n) continue;
      }
      heads[chain] = { ...head, at: parsed.at };
    }
    lines += 1;
    latestAt = parsed.at;
  }
  return { ok: true, lines, ...(latestAt === undefined ? {} : { latestAt }), heads };
}
