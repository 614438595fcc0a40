// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface ListTenantStatsRequest {
  /**
   * At most this many tenants, by id (a keyset page); 0 answers every tenant, which grows with the
   * fleet (4 s and 8.6 MB of JSON at 50,000 tenants, bench:scale).
   */
  'pageSize'?: (number);
  /**
   * The page starts after this tenant id: the previous answer's next_after_tenant_id.
   */
  'afterTenantId'?: (string);
}

export interface ListTenantStatsRequest__Output {
  /**
   * At most this many tenants, by id (a keyset page); 0 answers every tenant, which grows with the
   * fleet (4 s and 8.6 MB of JSON at 50,000 tenants, bench:scale).
   */
  'pageSize': (number);
  /**
   * The page starts after this tenant id: the previous answer's next_after_tenant_id.
   */
  'afterTenantId': (string);
}
