import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { ConfigInvalidError } from '@fairway/errors';
import { wrapContextAad, type KeyProvider, type WrapContext } from './key-provider';

const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** The JSON key file LocalKeyProvider reads (and, in development, writes). */
export interface LocalKeyFile {
  /** The KEK version new wraps use. */
  current: string;
  /** KEK versions to base64 of 32 random bytes. Keep old versions until every key is rewrapped. */
  keys: Record<string, string>;
}

/**
 * KEKs held by the process: from environment variables or a key file. Wrapping is AES-256-GCM with
 * the tenant and data key version as associated data; a wrapped key is iv | tag | ciphertext.
 * Suitable for development and for self-hosting with a secret manager that injects the variables;
 * in a cloud, prefer a KMS-backed KeyProvider so the KEK never enters the process.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly #keks: Map<string, Buffer>;
  readonly #current: string;

  constructor(keks: Record<string, Buffer>, current: string) {
    this.#keks = new Map(Object.entries(keks));
    for (const [version, key] of this.#keks) {
      if (!VERSION_PATTERN.test(version)) throw new ConfigInvalidError(`KEK version '${version}' must match ${VERSION_PATTERN}`);
      if (key.length !== KEK_BYTES) throw new ConfigInvalidError(`KEK '${version}' must be ${KEK_BYTES} bytes, base64-encoded (got ${key.length} bytes)`);
    }
    if (!this.#keks.has(current))
      throw new ConfigInvalidError(`the current KEK version '${current}' has no key (known: ${[...this.#keks.keys()].join(', ') || 'none'})`);
    this.#current = current;
  }

  /** The KEK versions this provider can unwrap with. */
  versions(): string[] {
    return [...this.#keks.keys()];
  }

  currentKekVersion(): string {
    return this.#current;
  }

  async wrap(dek: Buffer, kekVersion: string | undefined, context: WrapContext): Promise<Buffer> {
    const version = kekVersion ?? this.#current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#kek(version), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapContextAad(context));
    const ct = Buffer.concat([cipher.update(dek), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]);
  }

  async unwrap(wrapped: Buffer, kekVersion: string, context: WrapContext): Promise<Buffer> {
    if (wrapped.length <= IV_BYTES + TAG_BYTES) throw new Error('wrapped key is too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#kek(kekVersion), wrapped.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(wrapContextAad(context));
    decipher.setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  }

  #kek(version: string): Buffer {
    const kek = this.#keks.get(version);
    if (!kek) throw new ConfigInvalidError(`no KEK '${version}' is configured; set FAIRWAY_KEK_${version.toUpperCase()} or add it to the key file`);
    return kek;
  }

  toJSON(): string {
    return `[LocalKeyProvider current=${this.#current} versions=${this.versions().join(',')}]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

/** Where LocalKeyProvider looks for its keys. */
export interface LocalKeyProviderOptions {
  /** The environment to read (process.env when absent). */
  env?: NodeJS.ProcessEnv;
  /** The development key file, generated when no key is configured and NODE_ENV is not production. */
  devKeyFile?: string;
}

/** The default development key file. */
export const DEV_KEY_FILE = path.resolve(__dirname, '..', '..', '..', '.fairway', 'keys', 'kek.json');

function decodeKek(name: string, value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== KEK_BYTES)
    throw new ConfigInvalidError(
      `${name} must be ${KEK_BYTES} random bytes in base64 (got ${key.length} bytes): generate one with \`openssl rand -base64 32\``,
    );
  return key;
}

function readKeyFile(file: string): LocalKeyProvider {
  let parsed: LocalKeyFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as LocalKeyFile;
  } catch (err) {
    throw new ConfigInvalidError(`the KEK file ${file} cannot be read as JSON {current, keys}`, { cause: err });
  }
  const keks = Object.fromEntries(Object.entries(parsed.keys ?? {}).map(([version, b64]) => [version, decodeKek(`key '${version}' of ${file}`, b64)]));
  return new LocalKeyProvider(keks, parsed.current);
}

/**
 * The key-encryption-key variables set (non-empty) in `env`: the FAIRWAY_KEK_* that
 * loadLocalKeyProvider reads, and the operator's backup keys (FAIRWAY_BACKUP_KEY_*, libs/tenant-backup),
 * which open every tenant's archive. Services that must not hold a KEK refuse to start when any is set.
 */
export function keyEncryptionKeyVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((name) => /^FAIRWAY_(KEK|BACKUP_KEY)_/.test(name) && env[name] !== undefined && env[name] !== '');
}

/**
 * A LocalKeyProvider from, in order:
 *  1. `FAIRWAY_KEK_<VERSION>` variables (base64 of 32 bytes; `<VERSION>` lower-cased is the version
 *     name), with `FAIRWAY_KEK_CURRENT` naming the current one (required when there are several);
 *  2. `FAIRWAY_KEK_FILE`, a JSON file {"current": "v1", "keys": {"v1": "<base64>"}};
 *  3. outside production only: the development key file (.fairway/keys/kek.json), generated with
 *     mode 0600 on first use. In production a missing KEK stops the process.
 */
export function loadLocalKeyProvider(options: LocalKeyProviderOptions = {}): LocalKeyProvider {
  const env = options.env ?? process.env;
  const fromEnv: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(env)) {
    const match = /^FAIRWAY_KEK_(.+)$/.exec(name);
    if (!match || name === 'FAIRWAY_KEK_CURRENT' || name === 'FAIRWAY_KEK_FILE' || value === undefined || value === '') continue;
    fromEnv[match[1]!.toLowerCase()] = decodeKek(name, value);
  }
  const versions = Object.keys(fromEnv);
  if (versions.length > 0) {
    const current = env['FAIRWAY_KEK_CURRENT']?.toLowerCase() ?? (versions.length === 1 ? versions[0]! : undefined);
    if (!current) throw new ConfigInvalidError(`FAIRWAY_KEK_CURRENT must name the current KEK among ${versions.join(', ')}`);
    return new LocalKeyProvider(fromEnv, current);
  }
  const file = env['FAIRWAY_KEK_FILE'];
  if (file) return readKeyFile(file);
  if (env['NODE_ENV'] === 'production') {
    throw new ConfigInvalidError('no key-encryption key: set FAIRWAY_KEK_<VERSION> (base64 of 32 bytes) or FAIRWAY_KEK_FILE');
  }
  const devFile = options.devKeyFile ?? DEV_KEY_FILE;
  if (!existsSync(devFile)) {
    mkdirSync(path.dirname(devFile), { recursive: true, mode: 0o700 });
    const content: LocalKeyFile = { current: 'dev1', keys: { dev1: randomBytes(KEK_BYTES).toString('base64') } };
    // 'wx': two processes starting together must not overwrite each other's fresh key.
    try {
      writeFileSync(devFile, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readKeyFile(devFile);
}
