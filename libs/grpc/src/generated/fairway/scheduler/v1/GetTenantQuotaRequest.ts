// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface GetTenantQuotaRequest {
  'tenantId'?: (string);
}

export interface GetTenantQuotaRequest__Output {
  'tenantId': (string);
}
