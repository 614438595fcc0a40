// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface TenantQuota {
  'tenantId'?: (string);
  'weight'?: (number | string);
  /**
   * Jobs per second; absent means unlimited.
   */
  'rate'?: (number | string);
  'burst'?: (number | string);
  'maxInFlight'?: (number);
  'updatedAt'?: (string);
  'updatedBy'?: (string);
  '_rate'?: "rate";
  '_burst'?: "burst";
  '_maxInFlight'?: "maxInFlight";
}

export interface TenantQuota__Output {
  'tenantId': (string);
  'weight': (number);
  /**
   * Jobs per second; absent means unlimited.
   */
  'rate'?: (number);
  'burst'?: (number);
  'maxInFlight'?: (number);
  'updatedAt': (string);
  'updatedBy': (string);
  '_rate'?: "rate";
  '_burst'?: "burst";
  '_maxInFlight'?: "maxInFlight";
}
