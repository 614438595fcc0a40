// Original file: protos/fairway/tenancy/v1/tenant_catalog.proto


export interface DeleteTenantRequest {
  'id'?: (string);
  /**
   * Who asked, for the audit record (an operator's name or a service).
   */
  'actor'?: (string);
  /**
   * Why, for the audit record.
   */
  'reason'?: (string);
}

export interface DeleteTenantRequest__Output {
  'id': (string);
  /**
   * Who asked, for the audit record (an operator's name or a service).
   */
  'actor': (string);
  /**
   * Why, for the audit record.
   */
  'reason': (string);
}
