// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto


export interface GetTenantRequest {
  'id'?: (string);
}

export interface GetTenantRequest__Output {
  'id': (string);
}
