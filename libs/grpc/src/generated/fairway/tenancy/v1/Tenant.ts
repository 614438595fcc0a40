// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto


export interface Tenant {
  'id'?: (string);
  'slug'?: (string);
  'displayName'?: (string);
  /**
   * provisioning, active, suspended, offboarding or deleted.
   */
  'status'?: (string);
  /**
   * pooled, schema or database.
   */
  'isolationModel'?: (string);
  'plan'?: (string);
  'createdAt'?: (string);
}

export interface Tenant__Output {
  'id': (string);
  'slug': (string);
  'displayName': (string);
  /**
   * provisioning, active, suspended, offboarding or deleted.
   */
  'status': (string);
  /**
   * pooled, schema or database.
   */
  'isolationModel': (string);
  'plan': (string);
  'createdAt': (string);
}
