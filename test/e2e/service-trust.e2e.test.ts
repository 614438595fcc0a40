import * as grpc from '@grpc/grpc-js';
import { loadWorkerProto, type WorkerClient } from '@fairway/grpc';
import { serviceCredentials, stack } from './support/stack';

/**
 * The running stack's gRPC is mutual TLS with service identities: a client cannot reach a worker
 * directly and claim a tenant, whatever it puts in metadata or baggage.
 */
describe('service-to-service trust on the running stack', () => {
  const Worker = loadWorkerProto().fairway.worker.v1.Worker;
  const request = { jobId: '00000000-0000-4000-8000-000000000001', type: 'synthetic', paramsJson: '{"ms":1}', attempt: 1 };

  function execute(client: WorkerClient, tenant: string): Promise<grpc.ServiceError | undefined> {
    const metadata = new grpc.Metadata();
    metadata.set('x-fairway-tenant-id', tenant);
    metadata.set('baggage', `tenant.id=${tenant}`);
    return new Promise((resolve) => {
      client.execute(request, metadata, { deadline: new Date(Date.now() + 5_000) }, (err) => {
        client.close();
        resolve(err ?? undefined);
      });
    });
  }

  it('refuses a plaintext client at the handshake', async () => {
    const err = await execute(new Worker(stack().workers[0] as string, grpc.credentials.createInsecure()), 'acme');
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('refuses another Fairway service that is not the scheduler', async () => {
    const err = await execute(new Worker(stack().workers[0] as string, serviceCredentials('edge', 'worker')), 'acme');
    expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
  });
});
