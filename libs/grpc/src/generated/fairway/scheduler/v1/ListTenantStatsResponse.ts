// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto

import type { TenantStats as _fairway_scheduler_v1_TenantStats, TenantStats__Output as _fairway_scheduler_v1_TenantStats__Output } from '../../../fairway/scheduler/v1/TenantStats';
import type { Capacity as _fairway_scheduler_v1_Capacity, Capacity__Output as _fairway_scheduler_v1_Capacity__Output } from '../../../fairway/scheduler/v1/Capacity';

export interface ListTenantStatsResponse {
  'tenants'?: (_fairway_scheduler_v1_TenantStats)[];
  'replica'?: (string);
  /**
   * The job slots of the answering replica: its tiers and the workers connected to it.
   */
  'capacity'?: (_fairway_scheduler_v1_Capacity | null);
  /**
   * The after_tenant_id of the next page; empty on the last page and for an answer of every tenant.
   * Share and entitlement are of the whole fleet on every page.
   */
  'nextAfterTenantId'?: (string);
}

export interface ListTenantStatsResponse__Output {
  'tenants': (_fairway_scheduler_v1_TenantStats__Output)[];
  'replica': (string);
  /**
   * The job slots of the answering replica: its tiers and the workers connected to it.
   */
  'capacity': (_fairway_scheduler_v1_Capacity__Output | null);
  /**
   * The after_tenant_id of the next page; empty on the last page and for an answer of every tenant.
   * Share and entitlement are of the whole fleet on every page.
   */
  'nextAfterTenantId': (string);
}
