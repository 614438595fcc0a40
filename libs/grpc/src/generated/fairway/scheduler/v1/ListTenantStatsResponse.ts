// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto

import type { TenantStats as _fairway_scheduler_v1_TenantStats, TenantStats__Output as _fairway_scheduler_v1_TenantStats__Output } from '../../../fairway/scheduler/v1/TenantStats';
import type { Capacity as _fairway_scheduler_v1_Capacity, Capacity__Output as _fairway_scheduler_v1_Capacity__Output } from '../../../fairway/scheduler/v1/Capacity';
import type { FleetTotals as _fairway_scheduler_v1_FleetTotals, FleetTotals__Output as _fairway_scheduler_v1_FleetTotals__Output } from '../../../fairway/scheduler/v1/FleetTotals';

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
  /**
   * Counts over every tenant of the fleet (not only the tenants of this answer).
   */
  'totals'?: (_fairway_scheduler_v1_FleetTotals | null);
  /**
   * When the fleet-wide figures were read (RFC 3339): the scheduler reads them at most once a
   * second and answers every page and top-N from that reading.
   */
  'statsAt'?: (string);
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
  /**
   * Counts over every tenant of the fleet (not only the tenants of this answer).
   */
  'totals': (_fairway_scheduler_v1_FleetTotals__Output | null);
  /**
   * When the fleet-wide figures were read (RFC 3339): the scheduler reads them at most once a
   * second and answers every page and top-N from that reading.
   */
  'statsAt': (string);
}
