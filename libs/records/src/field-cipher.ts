import type { Pool } from 'pg';
import { isCiphertext, tenantCipher, type KeyProvider } from '@fairway/crypto';

/** Seals and opens the sensitive fields of one tenant's records. */
export interface FieldSealer {
  seal(plaintext: string): string;
  open(value: string): string;
}

/** Gives the sealer of a tenant: one key lookup per operation, not one per row. */
export interface FieldCipher {
  forTenant(tenantId: string): Promise<FieldSealer>;
}

/** No encryption: for tests of the repository alone. */
export const PLAINTEXT_FIELDS: FieldCipher = {
  forTenant: async () => ({ seal: (plaintext) => plaintext, open: (value) => value }),
};

/**
 * Envelope encryption of sensitive fields with the tenant's own data key (libs/crypto:
 * AES-256-GCM, the tenant id bound as associated data, so a value copied into another tenant's
 * row does not open). A value written before encryption was turned on (no `fw1:` prefix) reads as
 * it is, so existing data keeps working; re-encryption after a rotation leaves such values alone.
 */
export function tenantKeyCipher(catalogPool: Pool, provider: KeyProvider): FieldCipher {
  return {
    async forTenant(tenantId) {
      const cipher = await tenantCipher(catalogPool, provider, tenantId);
      return {
        seal: (plaintext) => cipher.encrypt(plaintext),
        open: (value) => (isCiphertext(value) ? cipher.decryptText(value) : value),
      };
    },
  };
}
