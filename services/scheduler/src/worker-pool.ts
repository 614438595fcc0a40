import * as grpc from '@grpc/grpc-js';
import { loadWorkerProto, tenantClientInterceptor, type ExecuteResponse__Output, type WorkerClient } from '@fairway/grpc';

/** The workers the scheduler calls, in turn. */
export class WorkerPool {
  private readonly clients: WorkerClient[];
  private next = 0;

  constructor(addresses: readonly string[]) {
    const Worker = loadWorkerProto().fairway.worker.v1.Worker;
    this.clients = addresses.map(
      (address) => new Worker(address, grpc.credentials.createInsecure(), { interceptors: [tenantClientInterceptor] }),
    );
  }

  /**
   * Calls Worker.Execute on the next worker with a deadline. The tenant context active at the call
   * travels in metadata and baggage through the client interceptor.
   */
  execute(request: { jobId: string; type: string; paramsJson: string; attempt: number }, timeoutMs: number): Promise<ExecuteResponse__Output> {
    const client = this.clients[this.next++ % this.clients.length] as WorkerClient;
    return new Promise((resolve, reject) => {
      client.execute(request, { deadline: new Date(Date.now() + timeoutMs) }, (err, response) => {
        if (err) reject(err);
        else if (!response) reject(new Error('worker returned no response'));
        else resolve(response);
      });
    });
  }

  close(): void {
    for (const client of this.clients) client.close();
  }
}
