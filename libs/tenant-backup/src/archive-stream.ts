import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { BackupKeyring } from './backup-keys';
import { BackupInvalidError } from './errors';

/**
 * The archive's framing (format 1):
 *
 *   "FWBAK01\n"                      8 bytes, the magic
 *   u32be n, header                   n bytes of JSON (ArchiveHeader), in the clear
 *   frames                            each: u32be length of the ciphertext, ciphertext, 16-byte GCM tag
 *
 * Every frame is at most `frameBytes` (64 KiB) of plaintext, sealed with AES-256-GCM under the
 * archive's own random key. The nonce is the header's 7-byte random prefix, the frame's number (u32be)
 * and a final flag (1 on the last frame only); the associated data is the SHA-256 of magic and header.
 * So a frame altered, dropped, reordered or taken from another archive does not authenticate, a
 * header edited in the clear fails every frame, and an archive cut at a frame boundary lacks its
 * final frame (the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, 2015). Writer and
 * reader hold one frame at a time: constant memory whatever the tenant's size.
 */
export const ARCHIVE_MAGIC = Buffer.from('FWBAK01\n', 'latin1');

/** The plaintext per frame. */
export const FRAME_BYTES = 64 * 1024;
/** The largest frame a reader accepts (a header may choose smaller frames, never larger). */
const MAX_FRAME_BYTES = 1024 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const TAG_BYTES = 16;
const NONCE_PREFIX_BYTES = 7;
const KEY_BYTES = 32;

/** The archive's clear header: what a reader needs to unwrap its key. Authenticated by every frame. */
export interface ArchiveHeader {
  format: 1;
  archiveId: string;
  /** The tenant backed up (also in the encrypted content; here so an operator can tell archives apart). */
  tenantId: string;
  createdAt: string;
  /** The backup key that wraps the archive key. */
  backupKeyId: string;
  /** The archive key wrapped by the backup key (base64url of iv | tag | ciphertext). */
  wrappedKey: string;
  /** base64url of the 7-byte nonce prefix. */
  noncePrefix: string;
  frameBytes: number;
}

function wrapContext(archiveId: string, tenantId: string): string {
  return `fairway.backup.v1|${archiveId}|${tenantId}`;
}

function nonce(prefix: Buffer, counter: number, final: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(counter, NONCE_PREFIX_BYTES);
  n[11] = final ? 1 : 0;
  return n;
}

function headerBytes(header: ArchiveHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([ARCHIVE_MAGIC, length, json]);
}

/**
 * The clear header at the start of `bytes` (the first bytes of an archive), or undefined while
 * they are too few or not an archive. Authenticates nothing: for naming an archive, not trusting it.
 */
export function readArchiveHeader(bytes: Buffer): ArchiveHeader | undefined {
  if (bytes.length < ARCHIVE_MAGIC.length + 4 || !bytes.subarray(0, ARCHIVE_MAGIC.length).equals(ARCHIVE_MAGIC)) return undefined;
  const end = ARCHIVE_MAGIC.length + 4 + bytes.readUInt32BE(ARCHIVE_MAGIC.length);
  if (bytes.length < end) return undefined;
  try {
    return JSON.parse(bytes.subarray(ARCHIVE_MAGIC.length + 4, end).toString('utf8')) as ArchiveHeader;
  } catch {
    return undefined;
  }
}

/**
 * A Transform from the archive's plaintext to the archive: a fresh archive key wrapped for the
 * current backup key, then frames. `header` is the archive's clear header (for the caller to record).
 */
export function sealArchive(keyring: BackupKeyring, tenantId: string): { stream: Transform; header: ArchiveHeader } {
  const archiveId = randomUUID();
  const key = randomBytes(KEY_BYTES);
  const prefix = randomBytes(NONCE_PREFIX_BYTES);
  const { keyId, wrapped } = keyring.wrap(key, wrapContext(archiveId, tenantId));
  const header: ArchiveHeader = {
    format: 1,
    archiveId,
    tenantId,
    createdAt: new Date().toISOString(),
    backupKeyId: keyId,
    wrappedKey: wrapped.toString('base64url'),
    noncePrefix: prefix.toString('base64url'),
    frameBytes: FRAME_BYTES,
  };
  const head = headerBytes(header);
  const aad = createHash('sha256').update(head).digest();
  let counter = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const frame = (plaintext: Buffer, final: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce(prefix, counter, final), { authTagLength: TAG_BYTES });
    counter += 1;
    cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(ct.length);
    return Buffer.concat([length, ct, cipher.getAuthTag()]);
  };
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= FRAME_BYTES) {
        let all = Buffer.concat(pending);
        while (all.length >= FRAME_BYTES) {
          this.push(frame(all.subarray(0, FRAME_BYTES), false));
          all = all.subarray(FRAME_BYTES);
        }
        pending = [all];
        pendingBytes = all.length;
      }
      done();
    },
    flush(done: TransformCallback) {
      this.push(frame(Buffer.concat(pending), true));
      key.fill(0);
      done();
    },
  });
  // The clear header leads, whether or not any plaintext follows.
  stream.push(head);
  return { stream, header };
}

/**
 * A Transform from an archive to its plaintext, authenticating every frame before it passes it on.
 * `onHeader` sees the clear header once it is read (and its key unwrapped). Every failure is a
 * BackupInvalidError saying what is wrong: not an archive, a backup key that is not configured, a
 * frame that does not authenticate, a cut archive, or bytes after the final frame.
 */
export function openArchive(keyring: BackupKeyring, onHeader?: (header: ArchiveHeader) => void): Transform {
  let buffer = Buffer.alloc(0);
  let key: Buffer | undefined;
  let prefix: Buffer | undefined;
  let aad: Buffer | undefined;
  let maxFrame = FRAME_BYTES;
  let counter = 0;
  let finished = false;

  const readHeader = (): boolean => {
    if (buffer.length < ARCHIVE_MAGIC.length + 4) return false;
    if (!buffer.subarray(0, ARCHIVE_MAGIC.length).equals(ARCHIVE_MAGIC))
      throw new BackupInvalidError('this is not a Fairway backup archive (no FWBAK01 magic)');
    const length = buffer.readUInt32BE(ARCHIVE_MAGIC.length);
    if (length > MAX_HEADER_BYTES) throw new BackupInvalidError(`its header claims ${length} bytes (at most ${MAX_HEADER_BYTES})`);
    const end = ARCHIVE_MAGIC.length + 4 + length;
    if (buffer.length < end) return false;
    let header: ArchiveHeader;
    try {
      header = JSON.parse(buffer.subarray(ARCHIVE_MAGIC.length + 4, end).toString('utf8')) as ArchiveHeader;
    } catch (err) {
      throw new BackupInvalidError('its header is not JSON', { cause: err });
    }
    if (header.format !== 1) throw new BackupInvalidError(`archive format ${String(header.format)} is not known to this version (it reads format 1)`);
    if (!Number.isInteger(header.frameBytes) || header.frameBytes < 1 || header.frameBytes > MAX_FRAME_BYTES)
      throw new BackupInvalidError(`its frame size ${String(header.frameBytes)} is out of range`);
    if (!keyring.has(header.backupKeyId)) {
      throw new BackupInvalidError(
        `it was sealed for backup key '${header.backupKeyId}', which this control plane does not hold (set FAIRWAY_BACKUP_KEY_${String(header.backupKeyId).toUpperCase()})`,
      );
    }
    try {
      key = keyring.unwrap(header.backupKeyId, Buffer.from(header.wrappedKey, 'base64url'), wrapContext(header.archiveId, header.tenantId));
    } catch (err) {
      throw new BackupInvalidError(
        `its key does not unwrap with backup key '${header.backupKeyId}' (the header was altered, or the key is not the one it was sealed for)`,
        {
          cause: err,
        },
      );
    }
    prefix = Buffer.from(header.noncePrefix, 'base64url');
    if (prefix.length !== NONCE_PREFIX_BYTES) throw new BackupInvalidError('its nonce prefix is malformed');
    maxFrame = header.frameBytes;
    aad = createHash('sha256').update(buffer.subarray(0, end)).digest();
    buffer = buffer.subarray(end);
    onHeader?.(header);
    return true;
  };

  const readFrame = (): Buffer | undefined => {
    if (buffer.length < 4) return undefined;
    const length = buffer.readUInt32BE(0);
    if (length > maxFrame) throw new BackupInvalidError(`frame ${counter} claims ${length} bytes (frames are at most ${maxFrame})`);
    if (buffer.length < 4 + length + TAG_BYTES) return undefined;
    const ct = buffer.subarray(4, 4 + length);
    const tag = buffer.subarray(4 + length, 4 + length + TAG_BYTES);
    // The final flag is not stored: a frame opens with exactly one of the two nonces, so the tag
    // also says whether it is the last one.
    for (const final of [false, true]) {
      const decipher = createDecipheriv('aes-256-gcm', key!, nonce(prefix!, counter, final), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad!);
      decipher.setAuthTag(tag);
      try {
        const plaintext = Buffer.concat([decipher.update(ct), decipher.final()]);
        counter += 1;
        buffer = buffer.subarray(4 + length + TAG_BYTES);
        finished = final;
        return plaintext;
      } catch {
        // the other flag, then give up
      }
    }
    throw new BackupInvalidError(`frame ${counter} does not authenticate: the archive was altered, damaged or spliced`);
  };

  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      try {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        if (!key && !readHeader()) return done();
        for (;;) {
          if (finished) {
            if (buffer.length > 0) throw new BackupInvalidError('it has bytes after its final frame');
            return done();
          }
          const plaintext = readFrame();
          if (!plaintext) return done();
          if (plaintext.length > 0) this.push(plaintext);
        }
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      key?.fill(0);
      if (!finished)
        return done(new BackupInvalidError(key ? `it is truncated after frame ${counter} (no final frame)` : 'it is empty or truncated in its header'));
      done();
    },
  });
}
