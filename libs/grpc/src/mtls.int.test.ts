import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { TENANT_GRPC_METADATA_KEY } from '@fairway/tenant-context';
import {
  FAIRWAY_TRUST_POLICIES,
  HEALTH_METHODS,
  addHealthService,
  bindServerWith,
  clientCredentials,
  fairwayCodeOf,
  loadWorkerProto,
  serverCredentials,
  serviceIdentityInterceptor,
  shutdownServer,
  tenantUnaryHandler,
  transportSecurity,
  transportSecurityFromEnv,
  type ServiceTrustPolicy,
  type TransportSecurity,
  type WorkerClient,
} from './index';

// scripts/lib/certs.cjs is the same code `npm run certs` runs: the tests use real certificates.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureCerts } = require('../../../scripts/lib/certs.cjs') as {
  ensureCerts: (o: { dir: string; services: string[] }) => { ca: string; files: Record<string, { cert: string; key: string }> };
};

interface Seen {
  tenant: string;
  baggageTenant: string | undefined;
}

describe('gRPC mutual TLS and service identity (real grpc-js servers and clients)', () => {
  const proto = loadWorkerProto();
  const dir = mkdtempSync(path.join(tmpdir(), 'fairway-mtls-'));
  const rogueDir = path.join(dir, 'rogue');
  const servers: grpc.Server[] = [];
  const clients: grpc.Client[] = [];
  let pki: ReturnType<typeof ensureCerts>;
  let seen: Seen[];

  const securityOf = (service: string, caFile = pki.ca, files = pki.files): TransportSecurity =>
    transportSecurity({ files: { ca: caFile, cert: files[service]!.cert, key: files[service]!.key } });

  async function startWorker(security: TransportSecurity, policy: ServiceTrustPolicy, credentials = serverCredentials(security)): Promise<number> {
    const server = new grpc.Server({ interceptors: [serviceIdentityInterceptor(security, policy)] });
    server.addService(proto.fairway.worker.v1.Worker.service, {
      Execute: tenantUnaryHandler(async (request: { jobId: string }, tenant) => {
        seen.push({ tenant: tenant.context.tenantId, baggageTenant: tenant.baggageTenant });
        return { resultJson: JSON.stringify({ jobId: request.jobId }), applied: true };
      }),
    });
    addHealthService(server);
    servers.push(server);
    return bindServerWith(server, '127.0.0.1:0', credentials);
  }

  function worker(port: number, credentials: grpc.ChannelCredentials): WorkerClient {
    const client = new proto.fairway.worker.v1.Worker(`127.0.0.1:${port}`, credentials) as unknown as WorkerClient;
    clients.push(client as unknown as grpc.Client);
    return client;
  }

  function execute(client: WorkerClient, metadata: Record<string, string>): Promise<{ ok: true } | { ok: false; error: grpc.ServiceError }> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new Promise((resolve) => {
      client.Execute({ jobId: 'job-1', type: 'synthetic', paramsJson: '{}', attempt: 1 }, md, { deadline: Date.now() + 10_000 }, (err) =>
        resolve(err ? { ok: false, error: err } : { ok: true }),
      );
    });
  }

  beforeAll(() => {
    pki = ensureCerts({ dir, services: ['worker', 'scheduler', 'edge'] });
    // A second CA that issues a certificate claiming to be the scheduler: a forged identity.
    const rogue = ensureCerts({ dir: rogueDir, services: ['scheduler'] });
    pki.files['rogue-scheduler'] = rogue.files['scheduler']!;
  });

  beforeEach(() => {
    seen = [];
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((s) => shutdownServer(s, 1_000)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the scheduler call a worker for a tenant', async () => {
    const port = await startWorker(securityOf('worker'), FAIRWAY_TRUST_POLICIES.worker);
    const result = await execute(worker(port, clientCredentials(securityOf('scheduler'), { expectServer: 'worker' })), { [TENANT_GRPC_METADATA_KEY]: 'acme' });
    expect(result).toEqual({ ok: true });
    expect(seen).toEqual([{ tenant: 'acme', baggageTenant: undefined }]);
  });

  it('refuses a caller without a client certificate at the handshake', async () => {
    const port = await startWorker(securityOf('worker'), FAIRWAY_TRUST_POLICIES.worker);
    const noCert = grpc.credentials.createSsl(readFileSync(pki.ca));
    const result = await execute(worker(port, noCert), { [TENANT_GRPC_METADATA_KEY]: 'acme' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe(grpc.status.UNAVAILABLE);
    expect(seen).toEqual([]);
  });

  it('refuses a certificate claiming to be the scheduler but signed by another CA', async () => {
    const port = await startWorker(securityOf('worker'), FAIRWAY_TRUST_POLICIES.worker);
    const forged = grpc.credentials.createSsl(
      readFileSync(pki.ca),
      readFileSync(pki.files['rogue-scheduler']!.key),
      readFileSync(pki.files['rogue-scheduler']!.cert),
    );
    const result = await execute(worker(port, forged), { [TENANT_GRPC_METADATA_KEY]: 'acme' });
    expect(!result.ok && result.error.code).toBe(grpc.status.UNAVAILABLE);
    expect(seen).toEqual([]);
  });

  it('refuses a valid Fairway service the worker does not trust (the edge) with PERMISSION_DENIED', async () => {
    const port = await startWorker(securityOf('worker'), FAIRWAY_TRUST_POLICIES.worker);
    const result = await execute(worker(port, clientCredentials(securityOf('edge'), { expectServer: 'worker' })), { [TENANT_GRPC_METADATA_KEY]: 'acme' });
    expect(!result.ok && result.error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(!result.ok && fairwayCodeOf(result.error)).toEqual({ code: 'FORBIDDEN', retriable: false });
    expect(!result.ok && result.error.details).toMatch(/service 'edge' may not call worker/);
    expect(seen).toEqual([]);
  });

  it('refuses a tenant the calling service may not act for, and ignores the tenant in baggage', async () => {
    const policy: ServiceTrustPolicy = { service: 'worker', callers: { scheduler: { tenants: ['acme'] } } };
    const port = await startWorker(securityOf('worker'), policy);
    const client = worker(port, clientCredentials(securityOf('scheduler'), { expectServer: 'worker' }));
    const refused = await execute(client, { [TENANT_GRPC_METADATA_KEY]: 'globex' });
    expect(!refused.ok && refused.error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(!refused.ok && refused.error.details).toMatch(/may not act for tenant 'globex'/);
    // Baggage naming another tenant changes nothing: the metadata decides, after the check.
    const allowed = await execute(client, { [TENANT_GRPC_METADATA_KEY]: 'acme', baggage: 'tenant.id=globex' });
    expect(allowed).toEqual({ ok: true });
    expect(seen.map((s) => s.tenant)).toEqual(['acme']);
    // Baggage alone names no tenant: refused before any handler for want of one.
    const baggageOnly = await execute(client, { baggage: 'tenant.id=acme' });
    expect(!baggageOnly.ok && baggageOnly.error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(seen).toHaveLength(1);
  });

  it('still refuses with UNAUTHENTICATED when a server was set up without requiring client certificates', async () => {
    const security = securityOf('worker');
    if (security.mode !== 'mtls') throw new Error('expected mTLS');
    const lax = grpc.ServerCredentials.createSsl(security.tls.ca, [{ cert_chain: security.tls.cert, private_key: security.tls.key }], false);
    const port = await startWorker(security, FAIRWAY_TRUST_POLICIES.worker, lax);
    const result = await execute(worker(port, grpc.credentials.createSsl(readFileSync(pki.ca))), { [TENANT_GRPC_METADATA_KEY]: 'acme' });
    expect(!result.ok && result.error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(seen).toEqual([]);
  });

  it('lets a client refuse a server that is not the service it meant to reach', async () => {
    // The edge's certificate is valid and signed by the CA, but it is not a worker.
    const port = await startWorker(securityOf('edge'), { ...FAIRWAY_TRUST_POLICIES.worker, service: 'impostor' });
    const result = await execute(worker(port, clientCredentials(securityOf('scheduler'), { expectServer: 'worker' })), { [TENANT_GRPC_METADATA_KEY]: 'acme' });
    expect(!result.ok && result.error.code).toBe(grpc.status.UNAVAILABLE);
    expect(seen).toEqual([]);
  });

  it('opens the health service to any authenticated peer when the policy says so', async () => {
    const policy: ServiceTrustPolicy = { ...FAIRWAY_TRUST_POLICIES.worker, open: HEALTH_METHODS };
    const port = await startWorker(securityOf('worker'), policy);
    const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');
    const health = new HealthClient(`127.0.0.1:${port}`, clientCredentials(securityOf('edge'), { expectServer: 'worker' }));
    clients.push(health);
    const check = (health as unknown as Record<string, (req: unknown, cb: (err: grpc.ServiceError | null, res?: { status: unknown }) => void) => void>)[
      'check'
    ]!.bind(health);
    const status = await new Promise<string>((resolve, reject) => check({ service: '' }, (err, res) => (err ? reject(err) : resolve(String(res?.status)))));
    expect(status).toBe('SERVING');
  });

  it('serves plaintext only when FAIRWAY_GRPC_INSECURE=true was set, and then checks no identity', async () => {
    const security = transportSecurityFromEnv({ FAIRWAY_GRPC_INSECURE: 'true' });
    expect(security).toEqual({ mode: 'insecure' });
    const port = await startWorker(security, FAIRWAY_TRUST_POLICIES.worker);
    expect(await execute(worker(port, clientCredentials(security)), { [TENANT_GRPC_METADATA_KEY]: 'acme' })).toEqual({ ok: true });
    expect(() => transportSecurityFromEnv({})).toThrow(/needs mutual TLS: set FAIRWAY_TLS_CA, FAIRWAY_TLS_CERT, FAIRWAY_TLS_KEY/);
    const fromEnv = transportSecurityFromEnv({
      FAIRWAY_TLS_CA: pki.ca,
      FAIRWAY_TLS_CERT: pki.files['worker']!.cert,
      FAIRWAY_TLS_KEY: pki.files['worker']!.key,
    });
    expect(fromEnv.mode).toBe('mtls');
  });
});
