// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto

import type { TenantStats as _fairway_scheduler_v1_TenantStats, TenantStats__Output as _fairway_scheduler_v1_TenantStats__Output } from '../../../fairway/scheduler/v1/TenantStats';

export interface ListTenantStatsResponse {
  'tenants'?: (_fairway_scheduler_v1_TenantStats)[];
  'replica'?: (string);
}

export interface ListTenantStatsResponse__Output {
  'tenants': (_fairway_scheduler_v1_TenantStats__Output)[];
  'replica': (string);
}
