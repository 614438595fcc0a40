import * as grpc from '@grpc/grpc-js';
import { UpstreamUnavailableError } from '@fairway/errors';
import {
  fromGrpcError,
  loadSchedulerAdminProto,
  type Explanation__Output,
  type ListTenantStatsResponse__Output,
  type SchedulerAdminClient,
  type TenantStatsSortKey,
} from '@fairway/grpc';
import { patchToMessage, quotaFromMessage, type QuotaPatch, type TenantQuota } from '@fairway/quota';

const UPSTREAM = 'scheduler';

/**
 * The scheduler's SchedulerAdmin, through the client and messages generated from
 * protos/fairway/scheduler/v1; quotas cross it as @fairway/quota's {@link TenantQuota} and
 * {@link QuotaPatch}, converted in that lib and nowhere else.
 */
export class SchedulerAdminGateway {
  private readonly client: SchedulerAdminClient;

  constructor(
    address: string,
    private readonly deadlineMs = 5_000,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const SchedulerAdmin = loadSchedulerAdminProto().fairway.scheduler.v1.SchedulerAdmin;
    this.client = new SchedulerAdmin(address, credentials);
  }

  private call<Res>(start: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Res>) => void): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      start(new grpc.Metadata(), { deadline: Date.now() + this.deadlineMs }, (err, response) => {
        if (err) reject(fromGrpcError(UPSTREAM, err));
        else if (response === undefined) reject(new UpstreamUnavailableError(UPSTREAM, 'the scheduler sent no answer', 5));
        else resolve(response);
      });
    });
  }

  /** The tenant's quota (its defaults when nobody set one). */
  async getQuota(tenantId: string): Promise<TenantQuota> {
    return quotaFromMessage(await this.call((m, o, cb) => this.client.getTenantQuota({ tenantId }, m, o, cb)));
  }

  /** Applies a validated change as `actor`; the scheduler records it in the quota history. */
  async setQuota(tenantId: string, patch: QuotaPatch, actor: string): Promise<TenantQuota> {
    return quotaFromMessage(await this.call((m, o, cb) => this.client.setTenantQuota(patchToMessage(tenantId, patch, actor), m, o, cb)));
  }

  /**
   * The answering replica's per-tenant statistics and capacity: every tenant, a keyset page of
   * them, or with `sort` the `pageSize` first by that key (top-N); the fleet's totals on each.
   */
  stats(page?: { pageSize: number; afterTenantId?: string | undefined; sort?: TenantStatsSortKey | undefined }): Promise<ListTenantStatsResponse__Output> {
    const request = page ? { pageSize: page.pageSize, afterTenantId: page.afterTenantId ?? '', sort: page.sort ?? '' } : {};
    return this.call((m, o, cb) => this.client.listTenantStats(request, m, o, cb));
  }

  /** Why the tenant's next job waits. */
  explain(tenantId: string): Promise<Explanation__Output> {
    return this.call((m, o, cb) => this.client.explainTenant({ tenantId }, m, o, cb));
  }

  close(): void {
    this.client.close();
  }
}

/** The SchedulerAdmin service definition (for in-test servers). */
export function schedulerAdminService(): grpc.ServiceDefinition {
  return loadSchedulerAdminProto().fairway.scheduler.v1.SchedulerAdmin.service;
}
