/**
 * PostgreSQL for Fairway: pools, tenant-scoped transactions under row-level security, the tenant
 * catalog, and database preparation (roles and migrations).
 */
export { DbRole, roleUrl, type DbRoleName } from './roles';
export { createPool, type PoolOptions } from './pool';
export { withTenant, withTenantId, type TenantTx } from './with-tenant';
export { migrateCatalog, CATALOG_MIGRATIONS_DIR } from './migrate';
export { prepareDatabase, type PreparedDatabase } from './provision';
export {
  findTenant,
  listTenants,
  upsertTenant,
  setTenantStatus,
  type TenantRecord,
  type TenantStatus,
  type IsolationModel,
} from './tenants';
