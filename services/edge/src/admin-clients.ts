import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { isErrorCode, RemoteError, UpstreamUnavailableError, type ErrorCode } from '@fairway/errors';
import { fairwayCodeOf, LOADER_OPTIONS, loadTenantCatalogProto } from '@fairway/grpc';

/** A tenant as the TenantCatalog returns it. */
export interface CatalogTenant {
  id: string;
  slug: string;
  displayName: string;
  status: string;
  isolationModel: string;
  plan: string;
  createdAt: string;
}

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

/** The gRPC status that an HTTP caller should see as its catalog code, when the server sent none. */
const STATUS_CODES: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'VALIDATION_FAILED',
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.PERMISSION_DENIED]: 'FORBIDDEN',
  [grpc.status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [grpc.status.FAILED_PRECONDITION]: 'TENANT_REQUIRED',
};

/** A gRPC failure as a catalog error: unreachable -> UPSTREAM_UNAVAILABLE, else the server's code. */
export function fromGrpcError(upstream: string, err: grpc.ServiceError): Error {
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.CANCELLED) {
    return new UpstreamUnavailableError(upstream, `${upstream} cannot be reached (${grpc.status[err.code]}): ${err.details}; retry later`, 5, { cause: err });
  }
  if (err.code === grpc.status.UNIMPLEMENTED) {
    return new UpstreamUnavailableError(upstream, `${upstream} does not implement this call yet (${err.details})`, 30, { cause: err });
  }
  const remote = fairwayCodeOf(err);
  const code = isErrorCode(remote.code) ? remote.code : (STATUS_CODES[err.code] ?? 'INTERNAL');
  return new RemoteError(code, err.details || err.message, remote.retriable ?? false, { cause: err });
}

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

/** The control plane's TenantCatalog, as the admin API calls it. */
export class TenantCatalogGateway {
  private readonly client: grpc.Client;

  constructor(
    address: string,
    private readonly deadlineMs = 5_000,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const TenantCatalog = loadTenantCatalogProto().fairway.tenancy.v1.TenantCatalog;
    this.client = new TenantCatalog(address, credentials);
  }

  list(): Promise<CatalogTenant[]> {
    return call<{ tenants: CatalogTenant[] }>('control-plane', this.client, 'listTenants', {}, this.deadlineMs).then((r) => r.tenants);
  }

  get(id: string): Promise<CatalogTenant> {
    return call('control-plane', this.client, 'getTenant', { id }, this.deadlineMs);
  }

  create(request: { id: string; displayName?: string; plan?: string; isolationModel?: string; dbServer?: string }): Promise<CatalogTenant> {
    // Creating provisions the tenant's data store (a schema or a database may be created and migrated).
    return call('control-plane', this.client, 'createTenant', request, Math.max(this.deadlineMs, 60_000));
  }

  setStatus(id: string, status: string): Promise<CatalogTenant> {
    return call('control-plane', this.client, 'setTenantStatus', { id, status }, this.deadlineMs);
  }

  /**
   * Offboards a tenant with DeleteTenant (which removes its data); a control plane that does not
   * implement it yet gets SetTenantStatus 'deleted' instead.
   */
  async delete(id: string, actor: string, reason?: string): Promise<CatalogTenant> {
    try {
      return await call<CatalogTenant>('control-plane', this.client, 'deleteTenant', { id, actor, reason: reason ?? '' }, this.deadlineMs);
    } catch (err) {
      const unimplemented = (err as { cause?: { code?: number } }).cause?.code === grpc.status.UNIMPLEMENTED;
      if (err instanceof UpstreamUnavailableError && (unimplemented || /has no deleteTenant/.test(err.message))) return this.setStatus(id, 'deleted');
      throw err;
    }
  }

  close(): void {
    this.client.close();
  }
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
