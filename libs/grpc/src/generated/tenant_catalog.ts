import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { TenantCatalogClient as _fairway_tenancy_v1_TenantCatalogClient, TenantCatalogDefinition as _fairway_tenancy_v1_TenantCatalogDefinition } from './fairway/tenancy/v1/TenantCatalog';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  fairway: {
    tenancy: {
      v1: {
        CreateTenantRequest: MessageTypeDefinition
        DeleteTenantRequest: MessageTypeDefinition
        GetTenantRequest: MessageTypeDefinition
        ListTenantsRequest: MessageTypeDefinition
        ListTenantsResponse: MessageTypeDefinition
        SetTenantStatusRequest: MessageTypeDefinition
        Tenant: MessageTypeDefinition
        /**
         * The tenant catalog, owned by the control plane.
         */
        TenantCatalog: SubtypeConstructor<typeof grpc.Client, _fairway_tenancy_v1_TenantCatalogClient> & { service: _fairway_tenancy_v1_TenantCatalogDefinition }
      }
    }
  }
}

