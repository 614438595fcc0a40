import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { UpstreamUnavailableError } from '@fairway/errors';
import { fromGrpcError, LOADER_OPTIONS } from '@fairway/grpc';

/** A quota as SchedulerAdmin returns it (optional fields absent when unset). */
export interface SchedulerQuota {
  tenantId: string;
  weight: number;
  rate?: number;
  burst?: number;
  maxInFlight?: number;
  updatedAt: string;
  updatedBy: string;
}

type Unary = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: unknown) => void) => void;

function call<T>(upstream: string, client: grpc.Client, method: string, request: object, deadlineMs: number): Promise<T> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (typeof fn !== 'function') return Promise.reject(new UpstreamUnavailableError(upstream, `${upstream} has no ${method} call`, 30));
  return new Promise<T>((resolve, reject) => {
    fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, response) => {
      if (err) reject(fromGrpcError(upstream, err));
      else resolve(response as T);
    });
  });
}

let schedulerAdminConstructor: typeof grpc.Client | undefined;

/** The scheduler's SchedulerAdmin, loaded from protos/ with the same loader options as @fairway/grpc. */
export class SchedulerAdminGateway {
  private readonly client: grpc.Client;

  constructor(
    address: string,
    private readonly deadlineMs = 5_000,
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    if (!schedulerAdminConstructor) {
      const definition = protoLoader.loadSync('fairway/scheduler/v1/scheduler_admin.proto', LOADER_OPTIONS);
      const loaded = grpc.loadPackageDefinition(definition) as unknown as { fairway: { scheduler: { v1: { SchedulerAdmin: typeof grpc.Client } } } };
      schedulerAdminConstructor = loaded.fairway.scheduler.v1.SchedulerAdmin;
    }
    this.client = new schedulerAdminConstructor(address, this.credentials);
  }

  getQuota(tenantId: string): Promise<SchedulerQuota> {
    return call('scheduler', this.client, 'getTenantQuota', { tenantId }, this.deadlineMs);
  }

  setQuota(request: { tenantId: string; weight?: number; rate?: number; burst?: number; maxInFlight?: number; clear: string[]; actor: string }): Promise<SchedulerQuota> {
    return call('scheduler', this.client, 'setTenantQuota', request, this.deadlineMs);
  }

  stats(): Promise<unknown> {
    return call('scheduler', this.client, 'listTenantStats', {}, this.deadlineMs);
  }

  explain(tenantId: string): Promise<{ tenantId: string; state: string; reason: string; detailsJson: string }> {
    return call('scheduler', this.client, 'explainTenant', { tenantId }, this.deadlineMs);
  }

  close(): void {
    this.client.close();
  }
}

/** The SchedulerAdmin service definition (for in-test servers). */
export function schedulerAdminService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync('fairway/scheduler/v1/scheduler_admin.proto', LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { fairway: { scheduler: { v1: { SchedulerAdmin: { service: grpc.ServiceDefinition } } } } };
  return loaded.fairway.scheduler.v1.SchedulerAdmin.service;
}
