// Original file: protos/fairway/worker/v1/worker.proto

import type { JobAssignment as _fairway_worker_v1_JobAssignment, JobAssignment__Output as _fairway_worker_v1_JobAssignment__Output } from '../../../fairway/worker/v1/JobAssignment';

export interface RunRequest {
  'jobs'?: (_fairway_worker_v1_JobAssignment)[];
}

export interface RunRequest__Output {
  'jobs': (_fairway_worker_v1_JobAssignment__Output)[];
}
