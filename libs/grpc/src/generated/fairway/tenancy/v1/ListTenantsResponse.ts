// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto

import type { Tenant as _fairway_tenancy_v1_Tenant, Tenant__Output as _fairway_tenancy_v1_Tenant__Output } from '../../../fairway/tenancy/v1/Tenant';

export interface ListTenantsResponse {
  'tenants'?: (_fairway_tenancy_v1_Tenant)[];
}

export interface ListTenantsResponse__Output {
  'tenants': (_fairway_tenancy_v1_Tenant__Output)[];
}
