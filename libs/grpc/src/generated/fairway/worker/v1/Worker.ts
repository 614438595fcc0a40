// Original file: protos/fairway/worker/v1/worker.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ExecuteRequest as _fairway_worker_v1_ExecuteRequest, ExecuteRequest__Output as _fairway_worker_v1_ExecuteRequest__Output } from '../../../fairway/worker/v1/ExecuteRequest';
import type { ExecuteResponse as _fairway_worker_v1_ExecuteResponse, ExecuteResponse__Output as _fairway_worker_v1_ExecuteResponse__Output } from '../../../fairway/worker/v1/ExecuteResponse';
import type { RunRequest as _fairway_worker_v1_RunRequest, RunRequest__Output as _fairway_worker_v1_RunRequest__Output } from '../../../fairway/worker/v1/RunRequest';
import type { RunResponse as _fairway_worker_v1_RunResponse, RunResponse__Output as _fairway_worker_v1_RunResponse__Output } from '../../../fairway/worker/v1/RunResponse';

/**
 * A worker executes jobs for the scheduler. On the unary call the tenant travels in call
 * metadata (x-fairway-tenant-id) and in W3C baggage, never in the request body, so the one
 * carrier the interceptors check is the one the job runs under. On the stream, which carries the
 * jobs of many tenants, each assignment names its tenant, trace context and baggage itself: the
 * stream's caller is the scheduler, the one service authorised to act for any tenant.
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
  
  /**
   * The scheduler's long-lived channel to a worker, with credit-based flow control: the worker's
   * first message advertises its capacity and grants that many slots; every later message grants
   * the slots its finished jobs freed. The scheduler never has more jobs outstanding on a stream
   * than the slots granted on it. Jobs and outcomes travel in batches (one message per turn).
   */
  Run(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_fairway_worker_v1_RunRequest, _fairway_worker_v1_RunResponse__Output>;
  Run(options?: grpc.CallOptions): grpc.ClientDuplexStream<_fairway_worker_v1_RunRequest, _fairway_worker_v1_RunResponse__Output>;
  /**
   * The scheduler's long-lived channel to a worker, with credit-based flow control: the worker's
   * first message advertises its capacity and grants that many slots; every later message grants
   * the slots its finished jobs freed. The scheduler never has more jobs outstanding on a stream
   * than the slots granted on it. Jobs and outcomes travel in batches (one message per turn).
   */
  run(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_fairway_worker_v1_RunRequest, _fairway_worker_v1_RunResponse__Output>;
  run(options?: grpc.CallOptions): grpc.ClientDuplexStream<_fairway_worker_v1_RunRequest, _fairway_worker_v1_RunResponse__Output>;
  
}

/**
 * A worker executes jobs for the scheduler. On the unary call the tenant travels in call
 * metadata (x-fairway-tenant-id) and in W3C baggage, never in the request body, so the one
 * carrier the interceptors check is the one the job runs under. On the stream, which carries the
 * jobs of many tenants, each assignment names its tenant, trace context and baggage itself: the
 * stream's caller is the scheduler, the one service authorised to act for any tenant.
 */
export interface WorkerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Runs one attempt of a job. Idempotent per job id: a job's effect is recorded once,
   * whatever the number of attempts. A stale attempt is refused with ABORTED.
   */
  Execute: grpc.handleUnaryCall<_fairway_worker_v1_ExecuteRequest__Output, _fairway_worker_v1_ExecuteResponse>;
  
  /**
   * The scheduler's long-lived channel to a worker, with credit-based flow control: the worker's
   * first message advertises its capacity and grants that many slots; every later message grants
   * the slots its finished jobs freed. The scheduler never has more jobs outstanding on a stream
   * than the slots granted on it. Jobs and outcomes travel in batches (one message per turn).
   */
  Run: grpc.handleBidiStreamingCall<_fairway_worker_v1_RunRequest__Output, _fairway_worker_v1_RunResponse>;
  
}

export interface WorkerDefinition extends grpc.ServiceDefinition {
  Execute: MethodDefinition<_fairway_worker_v1_ExecuteRequest, _fairway_worker_v1_ExecuteResponse, _fairway_worker_v1_ExecuteRequest__Output, _fairway_worker_v1_ExecuteResponse__Output>
  Run: MethodDefinition<_fairway_worker_v1_RunRequest, _fairway_worker_v1_RunResponse, _fairway_worker_v1_RunRequest__Output, _fairway_worker_v1_RunResponse__Output>
}
