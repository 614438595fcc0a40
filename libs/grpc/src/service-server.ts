import * as grpc from '@grpc/grpc-js';
import { HEALTH_METHODS, serviceIdentityInterceptor, type ServiceTrustPolicy } from './service-identity';
import { bindServerWith, serverCredentials, type TransportSecurity } from './tls';

/**
 * A gRPC server for one Fairway service: every call's peer certificate is checked against the
 * service's trust policy (who may call, for which tenants) before any handler runs; the standard
 * health service stays open to any authenticated peer.
 */
export function createServiceServer(security: TransportSecurity, policy: ServiceTrustPolicy): grpc.Server {
  return new grpc.Server({ interceptors: [serviceIdentityInterceptor(security, { ...policy, open: [...(policy.open ?? []), ...HEALTH_METHODS] })] });
}

/** Binds a service server with its transport security (mutual TLS, or plaintext when configured so). */
export function bindServiceServer(server: grpc.Server, address: string, security: TransportSecurity): Promise<number> {
  return bindServerWith(server, address, serverCredentials(security));
}
