// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateTenantRequest as _fairway_tenancy_v1_CreateTenantRequest, CreateTenantRequest__Output as _fairway_tenancy_v1_CreateTenantRequest__Output } from '../../../fairway/tenancy/v1/CreateTenantRequest';
import type { DeleteTenantRequest as _fairway_tenancy_v1_DeleteTenantRequest, DeleteTenantRequest__Output as _fairway_tenancy_v1_DeleteTenantRequest__Output } from '../../../fairway/tenancy/v1/DeleteTenantRequest';
import type { GetTenantRequest as _fairway_tenancy_v1_GetTenantRequest, GetTenantRequest__Output as _fairway_tenancy_v1_GetTenantRequest__Output } from '../../../fairway/tenancy/v1/GetTenantRequest';
import type { ListTenantsRequest as _fairway_tenancy_v1_ListTenantsRequest, ListTenantsRequest__Output as _fairway_tenancy_v1_ListTenantsRequest__Output } from '../../../fairway/tenancy/v1/ListTenantsRequest';
import type { ListTenantsResponse as _fairway_tenancy_v1_ListTenantsResponse, ListTenantsResponse__Output as _fairway_tenancy_v1_ListTenantsResponse__Output } from '../../../fairway/tenancy/v1/ListTenantsResponse';
import type { SetTenantStatusRequest as _fairway_tenancy_v1_SetTenantStatusRequest, SetTenantStatusRequest__Output as _fairway_tenancy_v1_SetTenantStatusRequest__Output } from '../../../fairway/tenancy/v1/SetTenantStatusRequest';
import type { Tenant as _fairway_tenancy_v1_Tenant, Tenant__Output as _fairway_tenancy_v1_Tenant__Output } from '../../../fairway/tenancy/v1/Tenant';

/**
 * The tenant catalog, owned by the control plane.
 */
export interface TenantCatalogClient extends grpc.Client {
  /**
   * Creates a tenant, or returns the existing one with the same id. Provisions its data store in
   * the requested isolation model (a schema or a database is created and migrated) before
   * returning it active.
   */
  CreateTenant(argument: _fairway_tenancy_v1_CreateTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  CreateTenant(argument: _fairway_tenancy_v1_CreateTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  CreateTenant(argument: _fairway_tenancy_v1_CreateTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  CreateTenant(argument: _fairway_tenancy_v1_CreateTenantRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  /**
   * Creates a tenant, or returns the existing one with the same id. Provisions its data store in
   * the requested isolation model (a schema or a database is created and migrated) before
   * returning it active.
   */
  createTenant(argument: _fairway_tenancy_v1_CreateTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  createTenant(argument: _fairway_tenancy_v1_CreateTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  createTenant(argument: _fairway_tenancy_v1_CreateTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  createTenant(argument: _fairway_tenancy_v1_CreateTenantRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  
  /**
   * Offboards a tenant: removes its data in every model (pooled rows, its schema or its database),
   * marks it deleted and leaves an audit record. Idempotent.
   */
  DeleteTenant(argument: _fairway_tenancy_v1_DeleteTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  DeleteTenant(argument: _fairway_tenancy_v1_DeleteTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  DeleteTenant(argument: _fairway_tenancy_v1_DeleteTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  DeleteTenant(argument: _fairway_tenancy_v1_DeleteTenantRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  /**
   * Offboards a tenant: removes its data in every model (pooled rows, its schema or its database),
   * marks it deleted and leaves an audit record. Idempotent.
   */
  deleteTenant(argument: _fairway_tenancy_v1_DeleteTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  deleteTenant(argument: _fairway_tenancy_v1_DeleteTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  deleteTenant(argument: _fairway_tenancy_v1_DeleteTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  deleteTenant(argument: _fairway_tenancy_v1_DeleteTenantRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  
  GetTenant(argument: _fairway_tenancy_v1_GetTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  GetTenant(argument: _fairway_tenancy_v1_GetTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  GetTenant(argument: _fairway_tenancy_v1_GetTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  GetTenant(argument: _fairway_tenancy_v1_GetTenantRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  getTenant(argument: _fairway_tenancy_v1_GetTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  getTenant(argument: _fairway_tenancy_v1_GetTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  getTenant(argument: _fairway_tenancy_v1_GetTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  getTenant(argument: _fairway_tenancy_v1_GetTenantRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  
  ListTenants(argument: _fairway_tenancy_v1_ListTenantsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_ListTenantsResponse__Output>): grpc.ClientUnaryCall;
  ListTenants(argument: _fairway_tenancy_v1_ListTenantsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_ListTenantsResponse__Output>): grpc.ClientUnaryCall;
  ListTenants(argument: _fairway_tenancy_v1_ListTenantsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_ListTenantsResponse__Output>): grpc.ClientUnaryCall;
  ListTenants(argument: _fairway_tenancy_v1_ListTenantsRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_ListTenantsResponse__Output>): grpc.ClientUnaryCall;
  listTenants(argument: _fairway_tenancy_v1_ListTenantsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_ListTenantsResponse__Output>): grpc.ClientUnaryCall;
  listTenants(argument: _fairway_tenancy_v1_ListTenantsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_ListTenantsResponse__Output>): grpc.ClientUnaryCall;
  listTenants(argument: _fairway_tenancy_v1_ListTenantsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_ListTenantsResponse__Output>): grpc.ClientUnaryCall;
  listTenants(argument: _fairway_tenancy_v1_ListTenantsRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_ListTenantsResponse__Output>): grpc.ClientUnaryCall;
  
  SetTenantStatus(argument: _fairway_tenancy_v1_SetTenantStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  SetTenantStatus(argument: _fairway_tenancy_v1_SetTenantStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  SetTenantStatus(argument: _fairway_tenancy_v1_SetTenantStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  SetTenantStatus(argument: _fairway_tenancy_v1_SetTenantStatusRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  setTenantStatus(argument: _fairway_tenancy_v1_SetTenantStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  setTenantStatus(argument: _fairway_tenancy_v1_SetTenantStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  setTenantStatus(argument: _fairway_tenancy_v1_SetTenantStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  setTenantStatus(argument: _fairway_tenancy_v1_SetTenantStatusRequest, callback: grpc.requestCallback<_fairway_tenancy_v1_Tenant__Output>): grpc.ClientUnaryCall;
  
}

/**
 * The tenant catalog, owned by the control plane.
 */
export interface TenantCatalogHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Creates a tenant, or returns the existing one with the same id. Provisions its data store in
   * the requested isolation model (a schema or a database is created and migrated) before
   * returning it active.
   */
  CreateTenant: grpc.handleUnaryCall<_fairway_tenancy_v1_CreateTenantRequest__Output, _fairway_tenancy_v1_Tenant>;
  
  /**
   * Offboards a tenant: removes its data in every model (pooled rows, its schema or its database),
   * marks it deleted and leaves an audit record. Idempotent.
   */
  DeleteTenant: grpc.handleUnaryCall<_fairway_tenancy_v1_DeleteTenantRequest__Output, _fairway_tenancy_v1_Tenant>;
  
  GetTenant: grpc.handleUnaryCall<_fairway_tenancy_v1_GetTenantRequest__Output, _fairway_tenancy_v1_Tenant>;
  
  ListTenants: grpc.handleUnaryCall<_fairway_tenancy_v1_ListTenantsRequest__Output, _fairway_tenancy_v1_ListTenantsResponse>;
  
  SetTenantStatus: grpc.handleUnaryCall<_fairway_tenancy_v1_SetTenantStatusRequest__Output, _fairway_tenancy_v1_Tenant>;
  
}

export interface TenantCatalogDefinition extends grpc.ServiceDefinition {
  CreateTenant: MethodDefinition<_fairway_tenancy_v1_CreateTenantRequest, _fairway_tenancy_v1_Tenant, _fairway_tenancy_v1_CreateTenantRequest__Output, _fairway_tenancy_v1_Tenant__Output>
  DeleteTenant: MethodDefinition<_fairway_tenancy_v1_DeleteTenantRequest, _fairway_tenancy_v1_Tenant, _fairway_tenancy_v1_DeleteTenantRequest__Output, _fairway_tenancy_v1_Tenant__Output>
  GetTenant: MethodDefinition<_fairway_tenancy_v1_GetTenantRequest, _fairway_tenancy_v1_Tenant, _fairway_tenancy_v1_GetTenantRequest__Output, _fairway_tenancy_v1_Tenant__Output>
  ListTenants: MethodDefinition<_fairway_tenancy_v1_ListTenantsRequest, _fairway_tenancy_v1_ListTenantsResponse, _fairway_tenancy_v1_ListTenantsRequest__Output, _fairway_tenancy_v1_ListTenantsResponse__Output>
  SetTenantStatus: MethodDefinition<_fairway_tenancy_v1_SetTenantStatusRequest, _fairway_tenancy_v1_Tenant, _fairway_tenancy_v1_SetTenantStatusRequest__Output, _fairway_tenancy_v1_Tenant__Output>
}
