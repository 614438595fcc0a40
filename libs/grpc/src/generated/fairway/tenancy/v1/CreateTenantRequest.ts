// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto


export interface CreateTenantRequest {
  'id'?: (string);
  'slug'?: (string);
  'displayName'?: (string);
  'plan'?: (string);
}

export interface CreateTenantRequest__Output {
  'id': (string);
  'slug': (string);
  'displayName': (string);
  'plan': (string);
}
