import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LocalKeyProvider } from '@fairway/crypto';
import { findTenant } from '@fairway/db';
import { createTestTenant, dropTestTenants, testDatabaseUrls, testPools } from '@fairway/db/testing';
import {
  bindServiceServer,
  clientCredentials,
  createServiceServer,
  FAIRWAY_TRUST_POLICIES,
  loadKeyServiceProto,
  loadTenantCatalogProto,
  RemoteKeyProvider,
  shutdownServer,
  transportSecurity,
  transportSecurityFromEnv,
  type KeyServiceClient,
  type TenantCatalogClient,
  type TransportSecurity,
} from '@fairway/grpc';
import { createLogger } from '@fairway/telemetry';
import { TENANT_GRPC_METADATA_KEY } from '@fairway/tenant-context';
import { catalogServiceHandlers } from './catalog-service';
import { keyServiceHandlers } from './key-service';
import { TenantCatalog } from './tenant-catalog';

// scripts/lib/certs.cjs is the same code `npm run certs` runs: real certificates, one per service.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureCerts } = require('../../../scripts/lib/certs.cjs') as {
  ensureCerts: (o: { dir: string; services: string[] }) => { ca: string; files: Record<string, { cert: string; key: string }> };
};

type Outcome = { ok: true; value: Record<string, unknown> } | { ok: false; code: grpc.status; details: string };

/**
 * The control plane's gRPC services over mutual TLS, called by each service identity the way a
 * compromised pod would: only tenantctl manages tenants, the edge and the workers may only ask for
 * the data keys of the tenant they name, and no caller ever receives the key-encryption key.
 */
describe('control plane gRPC: per-method authorisation and the key service (mTLS, real PostgreSQL)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fairway-cp-'));
  const pools = testPools();
  const created: string[] = [];
  const clients: grpc.Client[] = [];
  const kekVersion = 'int1';
  const provider = new LocalKeyProvider({ [kekVersion]: randomBytes(32) }, kekVersion);
  let pki: ReturnType<typeof ensureCerts>;
  let server: grpc.Server;
  let address: string;

  const securityOf = (service: string): TransportSecurity =>
    transportSecurity({ files: { ca: pki.ca, cert: pki.files[service]!.cert, key: pki.files[service]!.key } });
  const credentialsOf = (service: string) => clientCredentials(securityOf(service), { expectServer: 'control-plane' });

  function catalogAs(service: string): TenantCatalogClient {
    const client = new (loadTenantCatalogProto().fairway.tenancy.v1.TenantCatalog)(address, credentialsOf(service));
    clients.push(client);
    return client;
  }
  function keysAs(service: string): KeyServiceClient {
    const client = new (loadKeyServiceProto().fairway.keys.v1.KeyService)(address, credentialsOf(service));
    clients.push(client);
    return client;
  }
  function unary(
    fn: (md: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, value?: unknown) => void) => void,
    tenant?: string,
  ): Promise<Outcome> {
    const md = new grpc.Metadata();
    if (tenant) md.set(TENANT_GRPC_METADATA_KEY, tenant);
    return new Promise((resolve) =>
      fn(md, { deadline: Date.now() + 10_000 }, (err, value) =>
        resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, value: value as Record<string, unknown> }),
      ),
    );
  }

  beforeAll(async () => {
    pki = ensureCerts({ dir, services: ['control-plane', 'edge', 'worker', 'scheduler', 'tenantctl'] });
    const catalog = new TenantCatalog({ ownerPool: pools.owner, ownerUrl: testDatabaseUrls().owner }, createLogger('cp-grpc-int', 'silent'));
    const security = securityOf('control-plane');
    server = createServiceServer(security, FAIRWAY_TRUST_POLICIES['control-plane']);
    server.addService(loadTenantCatalogProto().fairway.tenancy.v1.TenantCatalog.service, catalogServiceHandlers(catalog));
    server.addService(loadKeyServiceProto().fairway.keys.v1.KeyService.service, keyServiceHandlers(provider));
    address = `127.0.0.1:${await bindServiceServer(server, '127.0.0.1:0', security)}`;
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await shutdownServer(server, 1_000);
    await dropTestTenants(pools.owner, created);
    await pools.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets only tenantctl manage tenants: the edge, a worker and the scheduler are refused DeleteTenant and SetTenantStatus', async () => {
    const id = await createTestTenant(pools.owner, 'cpg');
    created.push(id);
    for (const service of ['edge', 'worker', 'scheduler']) {
      const client = catalogAs(service);
      const deleted = await unary((md, o, cb) => client.DeleteTenant({ id, actor: 'someone-else' }, md, o, cb), id);
      expect(deleted).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED });
      const suspended = await unary((md, o, cb) => client.SetTenantStatus({ id, status: 'suspended' }, md, o, cb));
      expect(suspended).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED });
    }
    expect((await findTenant(pools.owner, id))?.status).toBe('active');
    const tenantctl = catalogAs('tenantctl');
    const suspended = await unary((md, o, cb) => tenantctl.SetTenantStatus({ id, status: 'suspended' }, md, o, cb));
    expect(suspended).toMatchObject({ ok: true, value: { id, status: 'suspended' } });
    // tenantctl manages tenants; it has no business with data keys.
    const keys = keysAs('tenantctl');
    expect(await unary((md, o, cb) => keys.GetKeyInfo({}, md, o, cb))).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED });
  });

  it('wraps and unwraps a data key for the tenant the edge names, and for no other', async () => {
    const keys = await RemoteKeyProvider.connect({ address, credentials: credentialsOf('edge') });
    try {
      expect(keys.currentKekVersion()).toBe(kekVersion);
      const dek = randomBytes(32);
      const wrapped = await keys.wrap(dek, undefined, { tenantId: 'acme', keyVersion: 1 });
      expect(wrapped.equals(dek)).toBe(false);
      expect((await keys.unwrap(wrapped, kekVersion, { tenantId: 'acme', keyVersion: 1 })).equals(dek)).toBe(true);
      // Bound to the tenant: acme's wrapped key does not unwrap as globex's.
      await expect(keys.unwrap(wrapped, kekVersion, { tenantId: 'globex', keyVersion: 1 })).rejects.toThrow();

      // A caller whose metadata names one tenant may not unwrap another's key.
      const raw = keysAs('worker');
      const crossed = await unary((md, o, cb) => raw.UnwrapDataKey({ tenantId: 'acme', keyVersion: 1, wrappedKey: wrapped, kekVersion }, md, o, cb), 'globex');
      expect(crossed).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED });
      expect(!crossed.ok && crossed.details).toMatch(/may not use the keys of 'acme'/);
      const own = await unary((md, o, cb) => raw.UnwrapDataKey({ tenantId: 'acme', keyVersion: 1, wrappedKey: wrapped, kekVersion }, md, o, cb), 'acme');
      expect(own.ok && Buffer.from(own.value['dataKey'] as Buffer).equals(dek)).toBe(true);
      // Without a tenant in the metadata, nothing is unwrapped.
      const anonymous = await unary((md, o, cb) => raw.UnwrapDataKey({ tenantId: 'acme', keyVersion: 1, wrappedKey: wrapped, kekVersion }, md, o, cb));
      expect(anonymous).toMatchObject({ ok: false, code: grpc.status.FAILED_PRECONDITION });
    } finally {
      keys.close();
    }
  });

  it('refuses plaintext gRPC in production at start-up, naming the variable', () => {
    expect(() => transportSecurityFromEnv({ NODE_ENV: 'production', FAIRWAY_GRPC_INSECURE: 'true' })).toThrow(
      /FAIRWAY_GRPC_INSECURE=true is refused when NODE_ENV=production/,
    );
    expect(transportSecurityFromEnv({ NODE_ENV: 'development', FAIRWAY_GRPC_INSECURE: 'true' })).toEqual({ mode: 'insecure' });
  });
});
