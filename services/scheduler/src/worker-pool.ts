import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { clientCredentials, loadWorkerProto, tenantClientInterceptor, type ExecuteResponse__Output, type TransportSecurity, type WorkerClient } from '@fairway/grpc';

interface Endpoint {
  address: string;
  client: WorkerClient;
  health: grpc.Client & { check?: (req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => void };
  healthy: boolean;
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

/**
 * The workers the scheduler calls, in pools per capacity tier, each endpoint checked with the
 * standard gRPC health service: a worker that stops answering SERVING is taken out of rotation
 * until it answers again.
 */
export class WorkerPools {
  private readonly pools = new Map<string, Endpoint[]>();
  private readonly cursor = new Map<string, number>();
  private readonly endpoints = new Map<string, Endpoint>();

  /**
   * `pools` maps a tier name (or '*' for every other tier) to worker addresses. With mutual TLS the
   * scheduler presents its certificate and accepts only servers whose certificate says 'worker'.
   */
  constructor(pools: Readonly<Record<string, readonly string[]>>, security: TransportSecurity) {
    const Worker = loadWorkerProto().fairway.worker.v1.Worker;
    const credentials = clientCredentials(security, { expectServer: 'worker' });
    for (const [tier, addresses] of Object.entries(pools)) {
      this.pools.set(
        tier,
        addresses.map((address) => {
          let endpoint = this.endpoints.get(address);
          if (!endpoint) {
            endpoint = {
              address,
              // round_robin: an address that resolves to many workers (dns:///workers:7061 behind a
              // Kubernetes headless Service) spreads calls over all of them, not the first one.
              client: new Worker(address, credentials, {
                interceptors: [tenantClientInterceptor],
                'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
              }),
              health: new HealthClient(address, credentials),
              healthy: true,
            };
            this.endpoints.set(address, endpoint);
          }
          return endpoint;
        }),
      );
    }
  }

  /** Checks every endpoint once; returns the addresses now out of rotation. */
  async checkHealth(timeoutMs = 1_000): Promise<string[]> {
    await Promise.all(
      [...this.endpoints.values()].map(
        (endpoint) =>
          new Promise<void>((resolve) => {
            endpoint.health.check?.({ service: '' }, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
              endpoint.healthy = !err && res?.status === 'SERVING';
              resolve();
            });
          }),
      ),
    );
    return [...this.endpoints.values()].filter((e) => !e.healthy).map((e) => e.address);
  }

  private pick(tier: string): Endpoint {
    const pool = this.pools.get(tier) ?? this.pools.get('*');
    if (!pool || pool.length === 0) throw new Error(`no worker pool for tier '${tier}'; set WORKER_POOLS`);
    const start = this.cursor.get(tier) ?? 0;
    for (let i = 0; i < pool.length; i += 1) {
      const endpoint = pool[(start + i) % pool.length] as Endpoint;
      if (endpoint.healthy) {
        this.cursor.set(tier, start + i + 1);
        return endpoint;
      }
    }
    // Every endpoint looks down: try the next one anyway; the call fails UNAVAILABLE and the job is retried.
    this.cursor.set(tier, start + 1);
    return pool[start % pool.length] as Endpoint;
  }

  /**
   * Calls Worker.Execute on a healthy worker of `tier`'s pool with a deadline. The tenant context
   * active at the call travels in metadata and baggage through the client interceptor.
   */
  execute(
    tier: string,
    request: { jobId: string; type: string; paramsJson: string; attempt: number },
    timeoutMs: number,
  ): Promise<ExecuteResponse__Output> {
    const endpoint = this.pick(tier);
    return new Promise((resolve, reject) => {
      endpoint.client.execute(request, { deadline: new Date(Date.now() + timeoutMs) }, (err, response) => {
        if (err) {
          if (err.code === grpc.status.UNAVAILABLE) endpoint.healthy = false;
          reject(err);
        } else if (!response) reject(new Error('worker returned no response'));
        else resolve(response);
      });
    });
  }

  close(): void {
    for (const endpoint of this.endpoints.values()) {
      endpoint.client.close();
      endpoint.health.close();
    }
  }
}

/**
 * Parses WORKER_POOLS: `heavy=h1:7062;standard|interactive=h2:7061,h3:7061` (tiers separated by
 * `|`, pools by `;`), falling back to WORKER_ADDRESSES for every tier ('*').
 */
export function parseWorkerPools(spec: string | undefined, fallback: readonly string[]): Record<string, string[]> {
  const pools: Record<string, string[]> = { '*': [...fallback] };
  for (const part of (spec ?? '').split(';').map((p) => p.trim()).filter(Boolean)) {
    const [tiers, addresses] = part.split('=');
    if (!tiers || !addresses) throw new Error(`WORKER_POOLS: '${part}' is not <tier>[|<tier>]=<host:port>[,<host:port>]`);
    for (const tier of tiers.split('|')) pools[tier.trim()] = addresses.split(',').map((a) => a.trim()).filter(Boolean);
  }
  return pools;
}
