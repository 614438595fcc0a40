// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ExplainTenantRequest as _fairway_scheduler_v1_ExplainTenantRequest, ExplainTenantRequest__Output as _fairway_scheduler_v1_ExplainTenantRequest__Output } from '../../../fairway/scheduler/v1/ExplainTenantRequest';
import type { Explanation as _fairway_scheduler_v1_Explanation, Explanation__Output as _fairway_scheduler_v1_Explanation__Output } from '../../../fairway/scheduler/v1/Explanation';
import type { GetTenantQuotaRequest as _fairway_scheduler_v1_GetTenantQuotaRequest, GetTenantQuotaRequest__Output as _fairway_scheduler_v1_GetTenantQuotaRequest__Output } from '../../../fairway/scheduler/v1/GetTenantQuotaRequest';
import type { ListTenantStatsRequest as _fairway_scheduler_v1_ListTenantStatsRequest, ListTenantStatsRequest__Output as _fairway_scheduler_v1_ListTenantStatsRequest__Output } from '../../../fairway/scheduler/v1/ListTenantStatsRequest';
import type { ListTenantStatsResponse as _fairway_scheduler_v1_ListTenantStatsResponse, ListTenantStatsResponse__Output as _fairway_scheduler_v1_ListTenantStatsResponse__Output } from '../../../fairway/scheduler/v1/ListTenantStatsResponse';
import type { SetTenantQuotaRequest as _fairway_scheduler_v1_SetTenantQuotaRequest, SetTenantQuotaRequest__Output as _fairway_scheduler_v1_SetTenantQuotaRequest__Output } from '../../../fairway/scheduler/v1/SetTenantQuotaRequest';
import type { TenantQuota as _fairway_scheduler_v1_TenantQuota, TenantQuota__Output as _fairway_scheduler_v1_TenantQuota__Output } from '../../../fairway/scheduler/v1/TenantQuota';

/**
 * Operators' view of the scheduler: live quotas, per-tenant statistics and explanations.
 * Served by every scheduler replica; a quota change applies on every replica within a second.
 */
export interface SchedulerAdminClient extends grpc.Client {
  /**
   * Why the tenant's next job waits (the fair core's explain()).
   */
  ExplainTenant(argument: _fairway_scheduler_v1_ExplainTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_Explanation__Output>): grpc.ClientUnaryCall;
  ExplainTenant(argument: _fairway_scheduler_v1_ExplainTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_scheduler_v1_Explanation__Output>): grpc.ClientUnaryCall;
  ExplainTenant(argument: _fairway_scheduler_v1_ExplainTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_Explanation__Output>): grpc.ClientUnaryCall;
  ExplainTenant(argument: _fairway_scheduler_v1_ExplainTenantRequest, callback: grpc.requestCallback<_fairway_scheduler_v1_Explanation__Output>): grpc.ClientUnaryCall;
  /**
   * Why the tenant's next job waits (the fair core's explain()).
   */
  explainTenant(argument: _fairway_scheduler_v1_ExplainTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_Explanation__Output>): grpc.ClientUnaryCall;
  explainTenant(argument: _fairway_scheduler_v1_ExplainTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_scheduler_v1_Explanation__Output>): grpc.ClientUnaryCall;
  explainTenant(argument: _fairway_scheduler_v1_ExplainTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_Explanation__Output>): grpc.ClientUnaryCall;
  explainTenant(argument: _fairway_scheduler_v1_ExplainTenantRequest, callback: grpc.requestCallback<_fairway_scheduler_v1_Explanation__Output>): grpc.ClientUnaryCall;
  
  GetTenantQuota(argument: _fairway_scheduler_v1_GetTenantQuotaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  GetTenantQuota(argument: _fairway_scheduler_v1_GetTenantQuotaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  GetTenantQuota(argument: _fairway_scheduler_v1_GetTenantQuotaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  GetTenantQuota(argument: _fairway_scheduler_v1_GetTenantQuotaRequest, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  getTenantQuota(argument: _fairway_scheduler_v1_GetTenantQuotaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  getTenantQuota(argument: _fairway_scheduler_v1_GetTenantQuotaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  getTenantQuota(argument: _fairway_scheduler_v1_GetTenantQuotaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  getTenantQuota(argument: _fairway_scheduler_v1_GetTenantQuotaRequest, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  
  ListTenantStats(argument: _fairway_scheduler_v1_ListTenantStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_ListTenantStatsResponse__Output>): grpc.ClientUnaryCall;
  ListTenantStats(argument: _fairway_scheduler_v1_ListTenantStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_scheduler_v1_ListTenantStatsResponse__Output>): grpc.ClientUnaryCall;
  ListTenantStats(argument: _fairway_scheduler_v1_ListTenantStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_ListTenantStatsResponse__Output>): grpc.ClientUnaryCall;
  ListTenantStats(argument: _fairway_scheduler_v1_ListTenantStatsRequest, callback: grpc.requestCallback<_fairway_scheduler_v1_ListTenantStatsResponse__Output>): grpc.ClientUnaryCall;
  listTenantStats(argument: _fairway_scheduler_v1_ListTenantStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_ListTenantStatsResponse__Output>): grpc.ClientUnaryCall;
  listTenantStats(argument: _fairway_scheduler_v1_ListTenantStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_scheduler_v1_ListTenantStatsResponse__Output>): grpc.ClientUnaryCall;
  listTenantStats(argument: _fairway_scheduler_v1_ListTenantStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_ListTenantStatsResponse__Output>): grpc.ClientUnaryCall;
  listTenantStats(argument: _fairway_scheduler_v1_ListTenantStatsRequest, callback: grpc.requestCallback<_fairway_scheduler_v1_ListTenantStatsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Changes a tenant's quota live and records who changed it, when, before and after.
   */
  SetTenantQuota(argument: _fairway_scheduler_v1_SetTenantQuotaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  SetTenantQuota(argument: _fairway_scheduler_v1_SetTenantQuotaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  SetTenantQuota(argument: _fairway_scheduler_v1_SetTenantQuotaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  SetTenantQuota(argument: _fairway_scheduler_v1_SetTenantQuotaRequest, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  /**
   * Changes a tenant's quota live and records who changed it, when, before and after.
   */
  setTenantQuota(argument: _fairway_scheduler_v1_SetTenantQuotaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  setTenantQuota(argument: _fairway_scheduler_v1_SetTenantQuotaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  setTenantQuota(argument: _fairway_scheduler_v1_SetTenantQuotaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  setTenantQuota(argument: _fairway_scheduler_v1_SetTenantQuotaRequest, callback: grpc.requestCallback<_fairway_scheduler_v1_TenantQuota__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Operators' view of the scheduler: live quotas, per-tenant statistics and explanations.
 * Served by every scheduler replica; a quota change applies on every replica within a second.
 */
export interface SchedulerAdminHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Why the tenant's next job waits (the fair core's explain()).
   */
  ExplainTenant: grpc.handleUnaryCall<_fairway_scheduler_v1_ExplainTenantRequest__Output, _fairway_scheduler_v1_Explanation>;
  
  GetTenantQuota: grpc.handleUnaryCall<_fairway_scheduler_v1_GetTenantQuotaRequest__Output, _fairway_scheduler_v1_TenantQuota>;
  
  ListTenantStats: grpc.handleUnaryCall<_fairway_scheduler_v1_ListTenantStatsRequest__Output, _fairway_scheduler_v1_ListTenantStatsResponse>;
  
  /**
   * Changes a tenant's quota live and records who changed it, when, before and after.
   */
  SetTenantQuota: grpc.handleUnaryCall<_fairway_scheduler_v1_SetTenantQuotaRequest__Output, _fairway_scheduler_v1_TenantQuota>;
  
}

export interface SchedulerAdminDefinition extends grpc.ServiceDefinition {
  ExplainTenant: MethodDefinition<_fairway_scheduler_v1_ExplainTenantRequest, _fairway_scheduler_v1_Explanation, _fairway_scheduler_v1_ExplainTenantRequest__Output, _fairway_scheduler_v1_Explanation__Output>
  GetTenantQuota: MethodDefinition<_fairway_scheduler_v1_GetTenantQuotaRequest, _fairway_scheduler_v1_TenantQuota, _fairway_scheduler_v1_GetTenantQuotaRequest__Output, _fairway_scheduler_v1_TenantQuota__Output>
  ListTenantStats: MethodDefinition<_fairway_scheduler_v1_ListTenantStatsRequest, _fairway_scheduler_v1_ListTenantStatsResponse, _fairway_scheduler_v1_ListTenantStatsRequest__Output, _fairway_scheduler_v1_ListTenantStatsResponse__Output>
  SetTenantQuota: MethodDefinition<_fairway_scheduler_v1_SetTenantQuotaRequest, _fairway_scheduler_v1_TenantQuota, _fairway_scheduler_v1_SetTenantQuotaRequest__Output, _fairway_scheduler_v1_TenantQuota__Output>
}
