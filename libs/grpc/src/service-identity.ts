import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ForbiddenError, UnauthenticatedError } from '@fairway/errors';
import { TENANT_GRPC_METADATA_KEY, extractGrpcMetadata, type TenantId } from '@fairway/tenant-context';
import { toGrpcError } from './status';
import { DEFAULT_TRUST_DOMAIN, spiffeIdsOf, type TransportSecurity } from './tls';

/** Who is calling: the service named by the peer's certificate. */
export interface ServiceIdentity {
  service: string;
  /** spiffe://<trustDomain>/<service>, when the certificate carries one. */
  spiffeId?: string;
}

/** What one calling service may do on this server. */
export interface CallerPermission {
  /**
   * Which tenants the caller may name in the call's metadata: 'any' (the scheduler dispatching to a
   * worker), a fixed list, or 'none' (the caller acts for the platform, never for a tenant).
   */
  tenants: 'any' | 'none' | readonly string[];
  /** Full method paths ('/fairway.worker.v1.Worker/Execute') the caller may call; all when absent. */
  methods?: readonly string[];
}

/** The services a server accepts calls from. A service not listed is refused. */
export interface ServiceTrustPolicy {
  /** This server's service name, for messages. */
  service: string;
  callers: Readonly<Record<string, CallerPermission>>;
  trustDomain?: string;
  /** Full method paths anyone with a valid certificate may call (the health service). */
  open?: readonly string[];
}

/** The methods of the control plane's KeyService: data keys wrapped and unwrapped for one tenant. */
export const KEY_SERVICE_METHODS = [
  '/fairway.keys.v1.KeyService/GetKeyInfo',
  '/fairway.keys.v1.KeyService/WrapDataKey',
  '/fairway.keys.v1.KeyService/UnwrapDataKey',
] as const;

/** The methods of the control plane's TenantCatalog (create, suspend, delete tenants). */
export const TENANT_CATALOG_METHODS = [
  '/fairway.tenancy.v1.TenantCatalog/GetTenant',
  '/fairway.tenancy.v1.TenantCatalog/ListTenants',
  '/fairway.tenancy.v1.TenantCatalog/CreateTenant',
  '/fairway.tenancy.v1.TenantCatalog/DeleteTenant',
  '/fairway.tenancy.v1.TenantCatalog/SetTenantStatus',
] as const;

/**
 * Who calls whom in Fairway, method by method. Workers accept only the scheduler, so a client
 * cannot reach a worker directly and claim any tenant. The control plane is the admin plane: the
 * edge and the workers may only ask it for one tenant's data keys (KeyService), never manage
 * tenants; only the operators' CLI (tenantctl) may call the TenantCatalog. The scheduler's admin
 * service (quotas, stats) accepts the admin plane and tenantctl; the public edge is not among them.
 */
export const FAIRWAY_TRUST_POLICIES = {
  worker: { service: 'worker', callers: { scheduler: { tenants: 'any' } } },
  scheduler: { service: 'scheduler', callers: { 'control-plane': { tenants: 'any' }, tenantctl: { tenants: 'any' } } },
  'control-plane': {
    service: 'control-plane',
    callers: {
      edge: { tenants: 'any', methods: KEY_SERVICE_METHODS },
      worker: { tenants: 'any', methods: KEY_SERVICE_METHODS },
      tenantctl: { tenants: 'any', methods: TENANT_CATALOG_METHODS },
    },
  },
} as const satisfies Record<string, ServiceTrustPolicy>;

/** Full method paths of the standard health service, open to any authenticated peer. */
export const HEALTH_METHODS = ['/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch'] as const;

/**
 * The identity in a peer certificate: the service of its spiffe://<trustDomain>/<service> URI SAN,
 * or, for a certificate with no SPIFFE id at all, its subject CN. Undefined without a certificate,
 * or when the SPIFFE ids are all of another trust domain.
 */
export function identityOfCertificate(cert: PeerCertificate | undefined, trustDomain = DEFAULT_TRUST_DOMAIN): ServiceIdentity | undefined {
  // Node hands an empty object, not undefined, when the peer sent no certificate.
  if (!cert || !cert.subject) return undefined;
  const ids = spiffeIdsOf(cert);
  if (ids.length > 0) {
    const prefix = `spiffe://${trustDomain}/`;
    const ours = ids.find((id) => id.startsWith(prefix) && /^[a-z][a-z0-9-]{0,62}$/.test(id.slice(prefix.length)));
    return ours ? { service: ours.slice(prefix.length), spiffeId: ours } : undefined;
  }
  const cn = cert.subject.CN;
  return typeof cn === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(cn) ? { service: cn } : undefined;
}

/** The identity of the peer of a server call (from its TLS client certificate). */
export function peerIdentity(
  call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null },
  trustDomain = DEFAULT_TRUST_DOMAIN,
): ServiceIdentity | undefined {
  return identityOfCertificate(call.getAuthContext()?.sslPeerCertificate, trustDomain);
}

/** What authorizeServiceCall decided for an allowed call. */
export interface ServiceCallGrant {
  identity: ServiceIdentity;
  /** The tenant the caller acts for, when it named one and may. */
  tenant?: TenantId;
}

/**
 * Decides whether a call may proceed: the peer must present a certificate naming a service the
 * policy lists (UnauthenticatedError, ForbiddenError), that service may call this method, and the
 * tenant in the metadata must be one it may act for (ForbiddenError). The tenant is read from the
 * tenant metadata key only: W3C baggage comes from wherever the trace started, so it never names
 * the tenant here.
 */
export function authorizeServiceCall(cert: PeerCertificate | undefined, metadata: grpc.Metadata, method: string, policy: ServiceTrustPolicy): ServiceCallGrant {
  const identity = identityOfCertificate(cert, policy.trustDomain);
  if (!identity) throw new UnauthenticatedError(`${policy.service} requires a client certificate naming a Fairway service`);
  if (policy.open?.includes(method)) return { identity };
  const permission = policy.callers[identity.service];
  if (!permission) throw new ForbiddenError(`service '${identity.service}' may not call ${policy.service}`);
  if (permission.methods && !permission.methods.includes(method)) throw new ForbiddenError(`service '${identity.service}' may not call ${method}`);
  const named = metadata.get(TENANT_GRPC_METADATA_KEY).length > 0;
  const tenant = extractGrpcMetadata(metadata);
  if (!named) return { identity };
  if (permission.tenants === 'none') throw new ForbiddenError(`service '${identity.service}' may not act for a tenant on ${policy.service}`);
  if (!tenant) return { identity }; // malformed: the handler that needs a tenant refuses it
  if (permission.tenants !== 'any' && !permission.tenants.includes(tenant)) {
    throw new ForbiddenError(`service '${identity.service}' may not act for tenant '${tenant}' on ${policy.service}`);
  }
  return { identity, tenant };
}

/**
 * A server interceptor that runs authorizeServiceCall on every call before any handler sees it,
 * answering UNAUTHENTICATED or PERMISSION_DENIED (through the one error mapping) otherwise.
 * Under explicit plaintext (`security.mode === 'insecure'`) there is no identity to check and
 * every call passes: that mode exists for local debugging only, and production refuses it
 * (transportSecurityFromEnv).
 *
 *   const server = new grpc.Server({ interceptors: [serviceIdentityInterceptor(security, FAIRWAY_TRUST_POLICIES.worker)] });
 */
export function serviceIdentityInterceptor(security: TransportSecurity, policy: ServiceTrustPolicy): grpc.ServerInterceptor {
  return (methodDescriptor, call) => {
    if (security.mode === 'insecure') return new grpc.ServerInterceptingCall(call);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        try {
          authorizeServiceCall(call.getAuthContext().sslPeerCertificate, metadata, methodDescriptor.path, policy);
        } catch (err) {
          const status = toGrpcError(err);
          call.sendStatus({ code: status.code ?? grpc.status.INTERNAL, details: status.details ?? '', metadata: status.metadata ?? null });
          return;
        }
        next(metadata);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
