// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto


export interface CreateTenantRequest {
  'id'?: (string);
  'slug'?: (string);
  'displayName'?: (string);
  /**
   * The tenant's plan (default "standard").
   */
  'plan'?: (string);
  /**
   * pooled (default), schema or database.
   */
  'isolationModel'?: (string);
  /**
   * For the database model: the server to place the database on ("local", the default, or a name
   * the control plane's TENANT_DB_SERVERS knows).
   */
  'dbServer'?: (string);
}

export interface CreateTenantRequest__Output {
  'id': (string);
  'slug': (string);
  'displayName': (string);
  /**
   * The tenant's plan (default "standard").
   */
  'plan': (string);
  /**
   * pooled (default), schema or database.
   */
  'isolationModel': (string);
  /**
   * For the database model: the server to place the database on ("local", the default, or a name
   * the control plane's TENANT_DB_SERVERS knows).
   */
  'dbServer': (string);
}
