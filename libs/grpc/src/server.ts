import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatusMap } from 'grpc-health-check';

/** Binds `server` to `address` and resolves with the bound port. */
export function bindServer(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/** Adds the standard gRPC health service (grpc.health.v1) to `server`; '' is the whole server. */
export function addHealthService(server: grpc.Server, statuses: ServingStatusMap = { '': 'SERVING' }): HealthImplementation {
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  return health;
}

/** Shuts the server down gracefully, forcing after `timeoutMs`. */
export function shutdownServer(server: grpc.Server, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
