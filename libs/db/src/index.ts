/**
 * PostgreSQL for Fairway: pools, tenant-scoped transactions under row-level security, the tenant
 * catalog, database preparation (roles and migrations), and tenant data isolation: the
 * TenantDataRouter (pooled, schema or database per tenant), onboarding/offboarding and tenant migrations.
 */
export { DbRole, roleUrl, type DbRoleName } from './roles';
export { createPool, type PoolOptions } from './pool';
export { withTenant, withTenantId, inTransaction, tenantTx, type TenantTx, type TenantScopeOptions } from './with-tenant';
export {
  withQueryWorkload,
  currentQueryWorkload,
  onQueryTimeout,
  queryTimeoutKind,
  getQueryTimeouts,
  setQueryTimeouts,
  type QueryWorkload,
  type QueryTimeoutLimits,
  type QueryTimeoutScope,
  type QueryTimeoutsChange,
  type QueryTimeoutEvent,
  type StoredQueryTimeouts,
} from './query-timeouts';
export { GroupCommit, type GroupCommitOptions } from './group-commit';
export { unstorableText, unstorableJson, unstorableTimestamp } from './storable';
export { migrateCatalog, CATALOG_MIGRATIONS_DIR } from './migrate';
export { prepareDatabase, type PreparedDatabase } from './provision';
export {
  findTenant,
  listTenants,
  listTenantsPage,
  MAX_TENANT_PAGE,
  upsertTenant,
  setTenantStatus,
  type TenantRecord,
  type TenantStatus,
  type IsolationModel,
  type TenantPage,
} from './tenants';
export {
  TenantDataRouter,
  TENANT_CATALOG_CHANNEL,
  TENANT_MOVING_SQLSTATE,
  type TenantDataRouterOptions,
  type TenantDataOptions,
} from './tenant-data/tenant-data-router';
export { ReadReplica, type ReadReplicaOptions, type ReadTarget, type ReplicaFallbackReason } from './read-replica';
export { serverUnreachable } from './server-unreachable';
export { ConnectionBudget, type ConnectionBudgetOptions, type ConnectionBudgetStats } from './tenant-data/connection-budget';
export {
  LOCAL_SERVER,
  schemaNameFor,
  databaseNameFor,
  databaseUrl,
  databaseOf,
  locationOf,
  type TenantLocation,
  type TenantRoute,
  type TenantDbServers,
} from './tenant-data/tenant-location';
export {
  provisionTenant,
  deprovisionTenant,
  createTenantDatabase,
  type ProvisioningDeps,
  type ProvisioningOptions,
  type NewTenant,
  type OffboardingReport,
} from './tenant-data/tenant-provisioning';
export { shredTenantData, awaitWritesInProgress, type ShreddingReport } from './tenant-data/tenant-shredding';
export {
  migrateTenants,
  migrateTenantStore,
  tenantMigrationNames,
  targetIndex,
  TENANT_MIGRATIONS_DIR,
  NO_VERSION,
  type MigrateTenantsOptions,
  type MigrateTenantsResult,
  type TenantMigrationProgress,
  type TenantMigrationStep,
  type MigratableTenant,
} from './tenant-data/tenant-migrations';
