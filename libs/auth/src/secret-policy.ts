/**
 * What production accepts as a signing secret. A secret is only as good as its randomness and its
 * privacy: a value that appears anywhere in this repository (a development default, an example in
 * a manifest or a document) is public, whatever its length.
 */

/** Secrets published in this repository: development defaults and examples. Never accepted in production. */
export const PUBLISHED_SECRETS: readonly string[] = [
  'fairway-development-secret-change-me-0123456789',
  'fairway-development-operator-secret-change-me-0123456789',
];

/** Words that mark a value as a placeholder someone forgot to replace. */
const PLACEHOLDER_WORDS = ['change-me', 'changeme', 'change_me', 'replace-me', 'placeholder', 'example', 'development', 'password', 'secret'];

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', $: 's', '@': 'a' };

/** The fewest bytes production accepts (HS256 wants 256 bits). */
export const MIN_SECRET_BYTES = 32;

/** Estimated entropy of `value` in bits from its own character frequencies (an upper bound for a random string). */
export function estimatedEntropyBits(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * value.length;
}

/**
 * Why `value` may not sign tokens in production, or undefined when it may: shorter than 32 bytes,
 * published in this repository, a placeholder, or too repetitive to be 32 random bytes in any
 * encoding (base64, hex or raw).
 */
export function weakSecretReason(value: string): string | undefined {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < MIN_SECRET_BYTES) return `is ${bytes} bytes; use at least ${MIN_SECRET_BYTES} random bytes`;
  if (PUBLISHED_SECRETS.includes(value)) return 'is published in the Fairway repository (a development default)';
  // Leetspeak is still a word: 'S3cr3t' is 'secret'.
  const lower = value.toLowerCase().replace(/[0134578$@]/g, (c) => LEET[c] ?? c);
  const word = PLACEHOLDER_WORDS.find((w) => lower.includes(w));
  if (word) return `looks like a placeholder (it contains '${word}')`;
  // 32 random bytes as hex carry 128+ bits of character entropy; anything below is not random.
  if (estimatedEntropyBits(value) < 128) return 'is too repetitive to be random';
  return undefined;
}

/** The command the messages suggest for a new secret. */
export const NEW_SECRET_COMMAND = 'openssl rand -base64 48';

/**
 * Why a database URL may not be used in production, or undefined when it may: no password, or the
 * role's name as its password (the development roles' convention, published in this repository).
 * `variable` names the setting in the message.
 */
export function weakDatabaseUrlReason(variable: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${variable} is not a URL`;
  }
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (password === '') return `${variable} has no password for role '${user}': production connects with the role's password from a Secret`;
  if (password === user || PUBLISHED_SECRETS.includes(password)) {
    return `${variable} uses the development password of role '${user}': set the role's generated password (scripts/deploy-init.cjs, or ALTER ROLE ${user} PASSWORD ...)`;
  }
  return undefined;
}
