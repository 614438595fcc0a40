// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface SetTenantQuotaRequest {
  'tenantId'?: (string);
  'weight'?: (number | string);
  'rate'?: (number | string);
  'burst'?: (number | string);
  'maxInFlight'?: (number);
  /**
   * Put these fields back to their defaults, named as in TenantQuota's JSON (e.g. "rate",
   * "maxInFlight", "maxInFlightByClass"); @fairway/quota lists them.
   */
  'clear'?: (string)[];
  /**
   * Who asks for the change (an operator's subject), recorded in the quota history.
   */
  'actor'?: (string);
  /**
   * "jobs" or "cost"; absent keeps the current basis.
   */
  'rateBasis'?: (string);
  /**
   * Replaces every per-class cap; empty keeps them (clear "maxInFlightByClass" removes them).
   */
  'maxInFlightByClass'?: ({[key: string]: number});
  '_weight'?: "weight";
  '_rate'?: "rate";
  '_burst'?: "burst";
  '_maxInFlight'?: "maxInFlight";
  '_rateBasis'?: "rateBasis";
}

export interface SetTenantQuotaRequest__Output {
  'tenantId': (string);
  'weight'?: (number);
  'rate'?: (number);
  'burst'?: (number);
  'maxInFlight'?: (number);
  /**
   * Put these fields back to their defaults, named as in TenantQuota's JSON (e.g. "rate",
   * "maxInFlight", "maxInFlightByClass"); @fairway/quota lists them.
   */
  'clear': (string)[];
  /**
   * Who asks for the change (an operator's subject), recorded in the quota history.
   */
  'actor': (string);
  /**
   * "jobs" or "cost"; absent keeps the current basis.
   */
  'rateBasis'?: (string);
  /**
   * Replaces every per-class cap; empty keeps them (clear "maxInFlightByClass" removes them).
   */
  'maxInFlightByClass': ({[key: string]: number});
  '_weight'?: "weight";
  '_rate'?: "rate";
  '_burst'?: "burst";
  '_maxInFlight'?: "maxInFlight";
  '_rateBasis'?: "rateBasis";
}
