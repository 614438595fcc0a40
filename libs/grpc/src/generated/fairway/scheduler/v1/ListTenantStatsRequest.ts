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
  /**
   * Top-N instead of a keyset page: the page_size (1-1000) tenants first by this key, highest first
   * (ties by tenant id): "queued", "in-flight", "wait-p99", "share", or "tenant" (by id, the first
   * page). Empty keeps the keyset page. With a key, after_tenant_id must be empty. One round trip
   * for `tenantctl top` however many tenants there are (#18).
   */
  'sort'?: (string);
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
  /**
   * Top-N instead of a keyset page: the page_size (1-1000) tenants first by this key, highest first
   * (ties by tenant id): "queued", "in-flight", "wait-p99", "share", or "tenant" (by id, the first
   * page). Empty keeps the keyset page. With a key, after_tenant_id must be empty. One round trip
   * for `tenantctl top` however many tenants there are (#18).
   */
  'sort': (string);
}
