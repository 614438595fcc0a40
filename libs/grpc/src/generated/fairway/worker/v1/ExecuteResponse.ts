// Original file: protos/fairway/worker/v1/worker.proto


export interface ExecuteResponse {
  /**
   * The job's result as JSON.
   */
  'resultJson'?: (string);
  /**
   * False when this attempt found the effect already recorded by an earlier one.
   */
  'applied'?: (boolean);
}

export interface ExecuteResponse__Output {
  /**
   * The job's result as JSON.
   */
  'resultJson': (string);
  /**
   * False when this attempt found the effect already recorded by an earlier one.
   */
  'applied': (boolean);
}
