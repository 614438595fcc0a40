// Original file: protos/fairway/scheduler/v1/scheduler_admin.proto


export interface Explanation {
  'tenantId'?: (string);
  /**
   * nothing-queued, no-tokens, at-max-in-flight, at-class-max-in-flight, tier-full, behind-others or next.
   */
  'state'?: (string);
  'reason'?: (string);
  /**
   * The full structured explanation as JSON.
   */
  'detailsJson'?: (string);
}

export interface Explanation__Output {
  'tenantId': (string);
  /**
   * nothing-queued, no-tokens, at-max-in-flight, at-class-max-in-flight, tier-full, behind-others or next.
   */
  'state': (string);
  'reason': (string);
  /**
   * The full structured explanation as JSON.
   */
  'detailsJson': (string);
}
