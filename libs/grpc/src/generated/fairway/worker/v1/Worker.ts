// Original file: protos/fairway/worker/v1/worker.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ExecuteRequest as _fairway_worker_v1_ExecuteRequest, ExecuteRequest__Output as _fairway_worker_v1_ExecuteRequest__Output } from '../../../fairway/worker/v1/ExecuteRequest';
import type { ExecuteResponse as _fairway_worker_v1_ExecuteResponse, ExecuteResponse__Output as _fairway_worker_v1_ExecuteResponse__Output } from '../../../fairway/worker/v1/ExecuteResponse';

/**
 * A worker executes jobs for the scheduler. The tenant travels in call metadata
 * (x-fairway-tenant-id) and in W3C baggage, never in the request body, so the one
 * carrier the interceptors check is the one the job runs under.
 */
export interface WorkerClient extends grpc.Client {
  /**
   * Runs one attempt of a job. Idempotent per job id: a job's effect is recorded once,
   * whatever the number of attempts. A stale attempt is refused with ABORTED.
   */
  Execute(argument: _fairway_worker_v1_ExecuteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_worker_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _fairway_worker_v1_ExecuteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_worker_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _fairway_worker_v1_ExecuteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_worker_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _fairway_worker_v1_ExecuteRequest, callback: grpc.requestCallback<_fairway_worker_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Runs one attempt of a job. Idempotent per job id: a job's effect is recorded once,
   * whatever the number of attempts. A stale attempt is refused with ABORTED.
   */
  execute(argument: _fairway_worker_v1_ExecuteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_worker_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _fairway_worker_v1_ExecuteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_fairway_worker_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _fairway_worker_v1_ExecuteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_fairway_worker_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _fairway_worker_v1_ExecuteRequest, callback: grpc.requestCallback<_fairway_worker_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * A worker executes jobs for the scheduler. The tenant travels in call metadata
 * (x-fairway-tenant-id) and in W3C baggage, never in the request body, so the one
 * carrier the interceptors check is the one the job runs under.
 */
export interface WorkerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Runs one attempt of a job. Idempotent per job id: a job's effect is recorded once,
   * whatever the number of attempts. A stale attempt is refused with ABORTED.
   */
  Execute: grpc.handleUnaryCall<_fairway_worker_v1_ExecuteRequest__Output, _fairway_worker_v1_ExecuteResponse>;
  
}

export interface WorkerDefinition extends grpc.ServiceDefinition {
  Execute: MethodDefinition<_fairway_worker_v1_ExecuteRequest, _fairway_worker_v1_ExecuteResponse, _fairway_worker_v1_ExecuteRequest__Output, _fairway_worker_v1_ExecuteResponse__Output>
}
