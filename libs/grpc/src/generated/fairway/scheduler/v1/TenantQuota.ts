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
  /**
   * What a rate token pays for: "jobs" (one job) or "cost" (one unit of the job's estimated cost).
   */
  'rateBasis'?: (string);
  /**
   * Jobs running at once per job class (the class names the tiers use); empty means no per-class caps.
   */
  'maxInFlightByClass'?: ({[key: string]: number});
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
  /**
   * What a rate token pays for: "jobs" (one job) or "cost" (one unit of the job's estimated cost).
   */
  'rateBasis': (string);
  /**
   * Jobs running at once per job class (the class names the tiers use); empty means no per-class caps.
   */
  'maxInFlightByClass': ({[key: string]: number});
  '_rate'?: "rate";
  '_burst'?: "burst";
  '_maxInFlight'?: "maxInFlight";
}
