// Original file: protos/fairway/worker/v1/worker.proto

import type { JobOutcome as _fairway_worker_v1_JobOutcome, JobOutcome__Output as _fairway_worker_v1_JobOutcome__Output } from '../../../fairway/worker/v1/JobOutcome';

export interface RunResponse {
  /**
   * Slots granted in addition to every grant before on this stream.
   */
  'grant'?: (number);
  /**
   * The worker's capacity (jobs at once); set on the first message.
   */
  'capacity'?: (number);
  /**
   * The worker's id; set on the first message.
   */
  'workerId'?: (string);
  'outcomes'?: (_fairway_worker_v1_JobOutcome)[];
}

export interface RunResponse__Output {
  /**
   * Slots granted in addition to every grant before on this stream.
   */
  'grant': (number);
  /**
   * The worker's capacity (jobs at once); set on the first message.
   */
  'capacity': (number);
  /**
   * The worker's id; set on the first message.
   */
  'workerId': (string);
  'outcomes': (_fairway_worker_v1_JobOutcome__Output)[];
}
