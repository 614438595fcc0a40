// Original file: protos/fairway/worker/v1/worker.proto


export interface ExecuteRequest {
  'jobId'?: (string);
  'type'?: (string);
  /**
   * The job's parameters as JSON, validated by the edge and again by the worker.
   */
  'paramsJson'?: (string);
  /**
   * The attempt number: the fencing token of the job's lease.
   */
  'attempt'?: (number);
}

export interface ExecuteRequest__Output {
  'jobId': (string);
  'type': (string);
  /**
   * The job's parameters as JSON, validated by the edge and again by the worker.
   */
  'paramsJson': (string);
  /**
   * The attempt number: the fencing token of the job's lease.
   */
  'attempt': (number);
}
