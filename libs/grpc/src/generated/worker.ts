import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { WorkerClient as _fairway_worker_v1_WorkerClient, WorkerDefinition as _fairway_worker_v1_WorkerDefinition } from './fairway/worker/v1/Worker';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  fairway: {
    worker: {
      v1: {
        ExecuteRequest: MessageTypeDefinition
        ExecuteResponse: MessageTypeDefinition
        JobAssignment: MessageTypeDefinition
        JobError: MessageTypeDefinition
        JobOutcome: MessageTypeDefinition
        RunRequest: MessageTypeDefinition
        RunResponse: MessageTypeDefinition
        /**
         * A worker executes jobs for the scheduler. On the unary call the tenant travels in call
         * metadata (x-fairway-tenant-id) and in W3C baggage, never in the request body, so the one
         * carrier the interceptors check is the one the job runs under. On the stream, which carries the
         * jobs of many tenants, each assignment names its tenant, trace context and baggage itself: the
         * stream's caller is the scheduler, the one service authorised to act for any tenant.
         */
        Worker: SubtypeConstructor<typeof grpc.Client, _fairway_worker_v1_WorkerClient> & { service: _fairway_worker_v1_WorkerDefinition }
      }
    }
  }
}

