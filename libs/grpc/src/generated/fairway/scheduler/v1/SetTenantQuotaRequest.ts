// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface SetTenantQuotaRequest {
  'tenantId'?: (string);
  'weight'?: (number | string);
  'rate'?: (number | string);
  'burst'?: (number | string);
  'maxInFlight'?: (number);
  /**
   * Remove these limits (e.g. "rate", "burst", "max_in_flight").
   */
  'clear'?: (string)[];
  /**
   * Who asks for the change (an operator's subject), recorded in the quota history.
   */
  'actor'?: (string);
  '_weight'?: "weight";
  '_rate'?: "rate";
  '_burst'?: "burst";
  '_maxInFlight'?: "maxInFlight";
}

export interface SetTenantQuotaRequest__Output {
  'tenantId': (string);
  'weight'?: (number);
  'rate'?: (number);
  'burst'?: (number);
  'maxInFlight'?: (number);
  /**
   * Remove these limits (e.g. "rate", "burst", "max_in_flight").
   */
  'clear': (string)[];
  /**
   * Who asks for the change (an operator's subject), recorded in the quota history.
   */
  'actor': (string);
  '_weight'?: "weight";
  '_rate'?: "rate";
  '_burst'?: "burst";
  '_maxInFlight'?: "maxInFlight";
}
