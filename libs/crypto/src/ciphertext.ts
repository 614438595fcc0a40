import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKey } from './data-key';

/** The format tag every Fairway ciphertext starts with; a new format gets a new tag. */
export const CIPHERTEXT_PREFIX = 'fw1';

const IV_BYTES = 12; // the GCM standard nonce length (NIST SP 800-38D): random per value
const TAG_BYTES = 16;

/** A ciphertext split into its parts. */
export interface CiphertextParts {
  keyVersion: number;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/**
 * The associated data of a value: the tenant and the key version are authenticated but not
 * stored, so a ciphertext moved to another tenant (or relabelled with another version) fails
 * its tag check instead of decrypting.
 */
export function valueAad(tenantId: string, keyVersion: number): Buffer {
  return Buffer.from(`${CIPHERTEXT_PREFIX}|${tenantId}|${keyVersion}`, 'utf8');
}

/** Encrypts `plaintext` with AES-256-GCM under `key`: "fw1:<keyVersion>:<iv>:<tag>:<ct>", base64url parts. */
export function sealValue(key: DataKey, plaintext: string | Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes(), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(valueAad(key.tenantId, key.version));
  const ciphertext = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return formatCiphertext({ keyVersion: key.version, iv, tag: cipher.getAuthTag(), ciphertext });
}

/** Decrypts a value sealed by sealValue under `key`; throws when the tag does not verify. */
export function openValue(key: DataKey, parts: CiphertextParts): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key.bytes(), parts.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(valueAad(key.tenantId, key.version));
  decipher.setAuthTag(parts.tag);
  return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
}

/** The text form of a ciphertext. */
export function formatCiphertext(parts: CiphertextParts): string {
  return [
    CIPHERTEXT_PREFIX,
    String(parts.keyVersion),
    parts.iv.toString('base64url'),
    parts.tag.toString('base64url'),
    parts.ciphertext.toString('base64url'),
  ].join(':');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Parses a ciphertext's text form; undefined when it is not one (never throws). */
export function parseCiphertext(value: string): CiphertextParts | undefined {
  const parts = value.split(':');
  if (parts.length !== 5 || parts[0] !== CIPHERTEXT_PREFIX) return undefined;
  const [, version, iv, tag, ct] = parts as [string, string, string, string, string];
  if (!/^[1-9]\d{0,8}$/.test(version) || ![iv, tag, ct].every((p) => BASE64URL.test(p))) return undefined;
  const parsed = {
    keyVersion: Number(version),
    iv: Buffer.from(iv, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
    ciphertext: Buffer.from(ct, 'base64url'),
  };
  if (parsed.iv.length !== IV_BYTES || parsed.tag.length !== TAG_BYTES) return undefined;
  return parsed;
}

/** True when `value` looks like a Fairway ciphertext (the format, not that it decrypts). */
export function isCiphertext(value: string): boolean {
  return parseCiphertext(value) !== undefined;
}
