import { unaryHandler, type TenantCatalogHandlers } from '@fairway/grpc';
import type { TenantCatalog } from './tenant-catalog';

/**
 * fairway.tenancy.v1.TenantCatalog over the in-process catalog. Only tenantctl may call it (the
 * control plane's trust policy); the actor of a deletion is the caller's claim, recorded in the
 * audit trail next to the calling service's identity.
 */
export function catalogServiceHandlers(catalog: TenantCatalog): TenantCatalogHandlers {
  const who = (actor: string, caller: string, reason?: string) => ({ actor: actor ? `${actor} (via ${caller})` : caller, ...(reason ? { reason } : {}) });
  return {
    GetTenant: unaryHandler((req) => catalog.get(req.id)),
    ListTenants: unaryHandler(async () => ({ tenants: await catalog.list() })),
    CreateTenant: unaryHandler((req) =>
      catalog.create(
        {
          id: req.id,
          slug: req.slug,
          displayName: req.displayName,
          plan: req.plan,
          isolationModel: req.isolationModel,
          ...(req.dbServer ? { dbServer: req.dbServer } : {}),
        },
        who('', 'tenantctl'),
      ),
    ),
    SetTenantStatus: unaryHandler((req) => catalog.setStatus(req.id, req.status, who('', 'tenantctl'))),
    DeleteTenant: unaryHandler((req) => catalog.delete(req.id, who(req.actor, 'tenantctl', req.reason))),
  };
}
