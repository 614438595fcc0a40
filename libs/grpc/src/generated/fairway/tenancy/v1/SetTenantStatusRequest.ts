// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto


export interface SetTenantStatusRequest {
  'id'?: (string);
  'status'?: (string);
}

export interface SetTenantStatusRequest__Output {
  'id': (string);
  'status': (string);
}
