import type { Pool } from 'pg';
import type { TokenVerifier } from '@fairway/auth';
import type { KeyProvider, RunReencryptionOptions } from '@fairway/crypto';
import type { TenantData } from '@fairway/records';
import type { TenantBackupDeps } from '@fairway/tenant-backup';
import type { Logger } from '@fairway/telemetry';
import type { SchedulerAdminGateway } from '../scheduler-admin-client';
import type { AdminMoves } from './moves-routes';
import type { TenantCatalog } from '../tenant-catalog';

/** What the admin app is wired to. */
export interface AdminDeps {
  /** Verifies operator tokens: their own issuer and audience (OPERATOR_JWT_*), never the tenants'. */
  tokens: TokenVerifier;
  catalog: Pick<TenantCatalog, 'listPage' | 'get' | 'create' | 'setStatus' | 'delete'>;
  scheduler: Pick<SchedulerAdminGateway, 'getQuota' | 'setQuota' | 'stats' | 'explain'>;
  /** The owner role: issues and revokes API keys, writes and reads the audit trail. */
  ownerPool: Pool;
  /**
   * Tenant data keys: rotation and the background re-encryption of the tenant's values under the
   * new key. `data` reaches the tenant's records in its isolation model; `appPool` is the catalog as
   * the application role (stored job results, under RLS). Key rows and the run's state are the
   * owner's (`ownerPool`).
   */
  keys?: {
    provider: KeyProvider;
    appPool: Pool;
    data: TenantData;
    /** Batch size, stale limit and the like of the background runs (libs/crypto defaults otherwise). */
    reencryption?: RunReencryptionOptions;
  };
  /** Backup and restore of tenants (owner role, KEK, the operator's backup keys); absent when no backup key is configured. */
  backup?: TenantBackupDeps;
  /** Live moves of tenants between isolation models (owner role); absent: the moves routes answer 404. */
  moves?: AdminMoves;
  log: Logger;
  onRefusal?: (reason: string) => void;
}
