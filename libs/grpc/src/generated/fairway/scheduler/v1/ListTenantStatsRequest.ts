// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface ListTenantStatsRequest {
}

export interface ListTenantStatsRequest__Output {
}
