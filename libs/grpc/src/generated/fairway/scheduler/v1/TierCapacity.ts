// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface TierCapacity {
  'name'?: (string);
  'slots'?: (number);
  'inUse'?: (number);
  /**
   * Percent of the workers' capacity, for a tier given as a share; absent for fixed slots.
   */
  'share'?: (number);
  /**
   * Jobs the tier may claim ahead of a free slot now (SCHEDULER_CLAIM_AHEAD); in_use counts them.
   */
  'ahead'?: (number);
  '_share'?: "share";
}

export interface TierCapacity__Output {
  'name': (string);
  'slots': (number);
  'inUse': (number);
  /**
   * Percent of the workers' capacity, for a tier given as a share; absent for fixed slots.
   */
  'share'?: (number);
  /**
   * Jobs the tier may claim ahead of a free slot now (SCHEDULER_CLAIM_AHEAD); in_use counts them.
   */
  'ahead': (number);
  '_share'?: "share";
}
