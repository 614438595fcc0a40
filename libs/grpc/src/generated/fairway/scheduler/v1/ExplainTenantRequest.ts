// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface ExplainTenantRequest {
  'tenantId'?: (string);
}

export interface ExplainTenantRequest__Output {
  'tenantId': (string);
}
