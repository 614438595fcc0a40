import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { SchedulerAdminClient as _fairway_scheduler_v1_SchedulerAdminClient, SchedulerAdminDefinition as _fairway_scheduler_v1_SchedulerAdminDefinition } from './fairway/scheduler/v1/SchedulerAdmin';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  fairway: {
    scheduler: {
      v1: {
        Capacity: MessageTypeDefinition
        ExplainTenantRequest: MessageTypeDefinition
        Explanation: MessageTypeDefinition
        FleetTotals: MessageTypeDefinition
        GetTenantQuotaRequest: MessageTypeDefinition
        ListTenantStatsRequest: MessageTypeDefinition
        ListTenantStatsResponse: MessageTypeDefinition
        /**
         * Operators' view of the scheduler: live quotas, per-tenant statistics and explanations.
         * Served by every scheduler replica; a quota change applies on every replica within a second.
         */
        SchedulerAdmin: SubtypeConstructor<typeof grpc.Client, _fairway_scheduler_v1_SchedulerAdminClient> & { service: _fairway_scheduler_v1_SchedulerAdminDefinition }
        SetTenantQuotaRequest: MessageTypeDefinition
        TenantQuota: MessageTypeDefinition
        TenantStats: MessageTypeDefinition
        TierCapacity: MessageTypeDefinition
        WorkerCapacity: MessageTypeDefinition
      }
    }
  }
}

