// Original file: protos/fairway/worker/v1/worker.proto

import type { JobError as _fairway_worker_v1_JobError, JobError__Output as _fairway_worker_v1_JobError__Output } from '../../../fairway/worker/v1/JobError';

/**
 * What one attempt did.
 */
export interface JobOutcome {
  'jobId'?: (string);
  'attempt'?: (number);
  /**
   * The job's result as JSON (when it succeeded).
   */
  'resultJson'?: (string);
  /**
   * False when this attempt found the effect already recorded by an earlier one.
   */
  'applied'?: (boolean);
  /**
   * Set when the attempt failed.
   */
  'error'?: (_fairway_worker_v1_JobError | null);
  /**
   * True when the worker recorded the job's success itself, in the transaction of its effect
   * (fenced by the attempt like any completion): the scheduler then has nothing left to record.
   */
  'completed'?: (boolean);
}

/**
 * What one attempt did.
 */
export interface JobOutcome__Output {
  'jobId': (string);
  'attempt': (number);
  /**
   * The job's result as JSON (when it succeeded).
   */
  'resultJson': (string);
  /**
   * False when this attempt found the effect already recorded by an earlier one.
   */
  'applied': (boolean);
  /**
   * Set when the attempt failed.
   */
  'error': (_fairway_worker_v1_JobError__Output | null);
  /**
   * True when the worker recorded the job's success itself, in the transaction of its effect
   * (fenced by the attempt like any completion): the scheduler then has nothing left to record.
   */
  'completed': (boolean);
}
