// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


/**
 * Counts over every active or suspended tenant.
 */
export interface FleetTotals {
  'tenants'?: (number);
  'queued'?: (number);
  'inFlight'?: (number);
  /**
   * Tenants with a job queued or running, or service finished in the last minute.
   */
  'busy'?: (number);
}

/**
 * Counts over every active or suspended tenant.
 */
export interface FleetTotals__Output {
  'tenants': (number);
  'queued': (number);
  'inFlight': (number);
  /**
   * Tenants with a job queued or running, or service finished in the last minute.
   */
  'busy': (number);
}
