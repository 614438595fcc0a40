// Original file: protos/fairway/worker/v1/worker.proto


/**
 * Why an attempt failed: a Fairway error code, its message, and whether a retry may succeed.
 */
export interface JobError {
  'code'?: (string);
  'message'?: (string);
  'retriable'?: (boolean);
}

/**
 * Why an attempt failed: a Fairway error code, its message, and whether a retry may succeed.
 */
export interface JobError__Output {
  'code': (string);
  'message': (string);
  'retriable': (boolean);
}
