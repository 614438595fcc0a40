import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { ConfigInvalidError } from '@fairway/errors';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * The operator's backup keys: each archive's fresh data key is wrapped (AES-256-GCM, bound to the
 * archive's id and tenant) with the current one, and the archive names its id, so old archives
 * stay restorable while an older key is still configured. Separate from the KEK on purpose: an
 * archive must not be readable by whoever holds only the KEK, and retiring a backup key makes every
 * archive sealed with it unreadable (the way to expire backups of a crypto-shredded tenant).
 */
export class BackupKeyring {
  readonly #keys: Map<string, Buffer>;
  readonly #current: string;

  constructor(keys: Record<string, Buffer>, current: string) {
    this.#keys = new Map(Object.entries(keys));
    for (const [id, key] of this.#keys) {
      if (!ID_PATTERN.test(id)) throw new ConfigInvalidError(`backup key id '${id}' must match ${ID_PATTERN}`);
      if (key.length !== KEY_BYTES) throw new ConfigInvalidError(`backup key '${id}' must be ${KEY_BYTES} bytes, base64-encoded (got ${key.length} bytes)`);
    }
    if (!this.#keys.has(current))
      throw new ConfigInvalidError(`the current backup key '${current}' is not configured (FAIRWAY_BACKUP_KEY_${current.toUpperCase()})`);
    this.#current = current;
  }

  /** The key id new archives are sealed for. */
  get currentId(): string {
    return this.#current;
  }

  /** True when `id` can unwrap. */
  has(id: string): boolean {
    return this.#keys.has(id);
  }

  /** `archiveKey` wrapped with the current backup key, bound to `context`: iv | tag | ciphertext. */
  wrap(archiveKey: Buffer, context: string): { keyId: string; wrapped: Buffer } {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.#current)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(archiveKey), cipher.final()]);
    return { keyId: this.#current, wrapped: Buffer.concat([iv, cipher.getAuthTag(), ct]) };
  }

  /** The archive key; throws when the key id is unknown, or the bytes or the context differ. */
  unwrap(keyId: string, wrapped: Buffer, context: string): Buffer {
    const key = this.#keys.get(keyId);
    if (!key) throw new ConfigInvalidError(`backup key '${keyId}' is not configured (FAIRWAY_BACKUP_KEY_${keyId.toUpperCase()})`);
    if (wrapped.length <= IV_BYTES + TAG_BYTES) throw new Error('wrapped archive key is too short');
    const decipher = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  }

  toJSON(): string {
    return `[BackupKeyring current=${this.#current} ids=${[...this.#keys.keys()].join(',')}]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

/** The default development backup key file (never used in production). */
export const DEV_BACKUP_KEY_FILE = path.resolve(__dirname, '..', '..', '..', '.fairway', 'keys', 'backup.json');

function decode(name: string, value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== KEY_BYTES)
    throw new ConfigInvalidError(
      `${name} must be ${KEY_BYTES} random bytes in base64 (got ${key.length} bytes): generate one with \`openssl rand -base64 32\``,
    );
  return key;
}

/**
 * The backup keys from `FAIRWAY_BACKUP_KEY_<ID>` (base64 of 32 bytes; `<ID>` lower-cased is the id),
 * `FAIRWAY_BACKUP_KEY_CURRENT` naming the current one when there are several. Outside production,
 * with none set, a development key is generated once in .fairway/keys/backup.json (mode 0600).
 * In production with none set: undefined (backups are then refused with a message naming the
 * variable; nothing else needs the key). A backup key equal to a KEK is refused: an archive would
 * then be readable by whoever holds the KEK alone.
 */
export function loadBackupKeyring(env: NodeJS.ProcessEnv = process.env, devKeyFile = DEV_BACKUP_KEY_FILE): BackupKeyring | undefined {
  const keys: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(env)) {
    const match = /^FAIRWAY_BACKUP_KEY_(.+)$/.exec(name);
    if (!match || name === 'FAIRWAY_BACKUP_KEY_CURRENT' || value === undefined || value === '') continue;
    keys[match[1]!.toLowerCase()] = decode(name, value);
  }
  const kekValues = Object.entries(env)
    .filter(([name, value]) => /^FAIRWAY_KEK_/.test(name) && name !== 'FAIRWAY_KEK_CURRENT' && name !== 'FAIRWAY_KEK_FILE' && value)
    .map(([, value]) => Buffer.from(value!.trim(), 'base64'));
  for (const [id, key] of Object.entries(keys)) {
    if (kekValues.some((kek) => kek.equals(key)))
      throw new ConfigInvalidError(`FAIRWAY_BACKUP_KEY_${id.toUpperCase()} must not be a key-encryption key (FAIRWAY_KEK_*)`);
  }
  const ids = Object.keys(keys);
  if (ids.length > 0) {
    const current = env['FAIRWAY_BACKUP_KEY_CURRENT']?.toLowerCase() ?? (ids.length === 1 ? ids[0]! : undefined);
    if (!current) throw new ConfigInvalidError(`FAIRWAY_BACKUP_KEY_CURRENT must name the current backup key among ${ids.join(', ')}`);
    return new BackupKeyring(keys, current);
  }
  if (env['NODE_ENV'] === 'production') return undefined;
  if (!existsSync(devKeyFile)) {
    mkdirSync(path.dirname(devKeyFile), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(devKeyFile, JSON.stringify({ current: 'dev1', keys: { dev1: randomBytes(KEY_BYTES).toString('base64') } }, null, 2) + '\n', {
        mode: 0o600,
        flag: 'wx',
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const parsed = JSON.parse(readFileSync(devKeyFile, 'utf8')) as { current: string; keys: Record<string, string> };
  return new BackupKeyring(
    Object.fromEntries(Object.entries(parsed.keys).map(([id, b64]) => [id, decode(`key '${id}' of ${devKeyFile}`, b64)])),
    parsed.current,
  );
}
