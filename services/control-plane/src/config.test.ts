import { randomBytes } from 'node:crypto';
import { loadControlPlaneConfig } from './config';
import { DEFAULT_MOVE_MAX_DUTY } from '@fairway/tenant-move';

const password = () => encodeURIComponent(randomBytes(24).toString('base64'));

describe('the control plane configuration', () => {
  it("holds the key-encryption key and verifies operators' tokens with their own issuer and audience", () => {
    const config = loadControlPlaneConfig({ FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_KEK_V1: randomBytes(32).toString('base64') });
    expect(config.keys.currentKekVersion()).toBe('v1');
    expect(config.operatorTokens).toMatchObject({ issuer: 'fairway-operators', audience: 'fairway-admin', hs256: true });
    expect(config.appDatabaseUrl).toBe('postgres://fairway_app:fairway_app@127.0.0.1:5432/fairway');
    expect(config.ADMIN_PORT).toBe(8081);
  });

  it('refuses, in production, development database passwords, a missing APP_DATABASE_URL and a missing KEK, naming the variable', () => {
    const strong = { NODE_ENV: 'production', FAIRWAY_GRPC_INSECURE: 'false', OPERATOR_JWT_JWKS_URL: 'https://idp.example.test/jwks.json' };
    expect(() => loadControlPlaneConfig(strong)).toThrow(/DATABASE_URL uses the development password of role 'fairway_owner'/);
    const owner = `postgres://fairway_owner:${password()}@db/fairway`;
    expect(() => loadControlPlaneConfig({ ...strong, DATABASE_URL: owner })).toThrow(/APP_DATABASE_URL is required in production/);
    const app = `postgres://fairway_app:${password()}@db/fairway`;
    expect(() => loadControlPlaneConfig({ ...strong, DATABASE_URL: owner, APP_DATABASE_URL: app, FAIRWAY_GRPC_INSECURE: 'true' })).toThrow(
      /FAIRWAY_GRPC_INSECURE=true is refused/,
    );
  });

  it('keeps finished jobs 7 days unless JOB_RETENTION says otherwise, and never under an hour in production', () => {
    const dev = { FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_KEK_V1: randomBytes(32).toString('base64') };
    expect(loadControlPlaneConfig(dev)).toMatchObject({ JOB_RETENTION: 168 * 3_600_000, JOB_RETENTION_INTERVAL: 60_000 });
    expect(loadControlPlaneConfig({ ...dev, JOB_RETENTION: '10m' }).JOB_RETENTION).toBe(600_000);
    expect(() => loadControlPlaneConfig({ ...dev, JOB_RETENTION: '30s' })).toThrow('JOB_RETENTION must be at least 1m (got 30000 ms)');
    expect(() => loadControlPlaneConfig({ ...dev, JOB_RETENTION_INTERVAL: '100ms' })).toThrow('JOB_RETENTION_INTERVAL must be at least 1s (got 100 ms)');
    const production = {
      NODE_ENV: 'production',
      OPERATOR_JWT_JWKS_URL: 'https://idp.example.test/jwks.json',
      DATABASE_URL: `postgres://fairway_owner:${password()}@db/fairway`,
      APP_DATABASE_URL: `postgres://fairway_app:${password()}@db/fairway`,
    };
    expect(() => loadControlPlaneConfig({ ...production, JOB_RETENTION: '30m' })).toThrow(/^JOB_RETENTION must be at least 1h in production/);
  });

  it("keeps a moved tenant's old copy 5 minutes unless TENANT_MOVE_GRACE says otherwise, and never under the routers' TTL in production", () => {
    const dev = { FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_KEK_V1: randomBytes(32).toString('base64') };
    expect(loadControlPlaneConfig(dev)).toMatchObject({ TENANT_MOVE_GRACE: 300_000, TENANT_MOVE_STALE_AFTER: 30_000 });
    expect(loadControlPlaneConfig({ ...dev, TENANT_MOVE_GRACE: '0s' }).TENANT_MOVE_GRACE).toBe(0);
    expect(() => loadControlPlaneConfig({ ...dev, TENANT_MOVE_STALE_AFTER: '1s' })).toThrow(
      /^TENANT_MOVE_STALE_AFTER must be at least 15s: .* \(got 1000 ms\)$/,
    );
    const production = {
      NODE_ENV: 'production',
      OPERATOR_JWT_JWKS_URL: 'https://idp.example.test/jwks.json',
      DATABASE_URL: `postgres://fairway_owner:${password()}@db/fairway`,
      APP_DATABASE_URL: `postgres://fairway_app:${password()}@db/fairway`,
    };
    expect(() => loadControlPlaneConfig({ ...production, TENANT_MOVE_GRACE: '30s' })).toThrow(/^TENANT_MOVE_GRACE must be at least 1m in production/);
  });

  it('paces a move at TENANT_MOVE_ROWS_PER_SECOND (20,000 rows a second unless set; 0 unpaced) and refuses a negative or fractional pace', () => {
    const dev = { FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_KEK_V1: randomBytes(32).toString('base64') };
    expect(loadControlPlaneConfig(dev).TENANT_MOVE_ROWS_PER_SECOND).toBe(20_000);
    expect(loadControlPlaneConfig({ ...dev, TENANT_MOVE_ROWS_PER_SECOND: '0' }).TENANT_MOVE_ROWS_PER_SECOND).toBe(0);
    expect(loadControlPlaneConfig({ ...dev, TENANT_MOVE_ROWS_PER_SECOND: '5000' }).TENANT_MOVE_ROWS_PER_SECOND).toBe(5_000);
    expect(() => loadControlPlaneConfig({ ...dev, TENANT_MOVE_ROWS_PER_SECOND: '-1' })).toThrow(/TENANT_MOVE_ROWS_PER_SECOND/);
    expect(() => loadControlPlaneConfig({ ...dev, TENANT_MOVE_ROWS_PER_SECOND: '1.5' })).toThrow(/TENANT_MOVE_ROWS_PER_SECOND/);
  });

  it('keeps a move to TENANT_MOVE_MAX_DUTY of the wall clock (the library default unless set) and refuses a share outside (0, 1]', () => {
    const dev = { FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_KEK_V1: randomBytes(32).toString('base64') };
    expect(loadControlPlaneConfig(dev).TENANT_MOVE_MAX_DUTY).toBe(DEFAULT_MOVE_MAX_DUTY);
    expect(loadControlPlaneConfig({ ...dev, TENANT_MOVE_MAX_DUTY: '0.25' }).TENANT_MOVE_MAX_DUTY).toBe(0.25);
    expect(loadControlPlaneConfig({ ...dev, TENANT_MOVE_MAX_DUTY: '1' }).TENANT_MOVE_MAX_DUTY).toBe(1);
    expect(() => loadControlPlaneConfig({ ...dev, TENANT_MOVE_MAX_DUTY: '0' })).toThrow(/TENANT_MOVE_MAX_DUTY/);
    expect(() => loadControlPlaneConfig({ ...dev, TENANT_MOVE_MAX_DUTY: '1.5' })).toThrow(/TENANT_MOVE_MAX_DUTY/);
  });

  it('wants the audit checkpoint key and file together', () => {
    expect(() =>
      loadControlPlaneConfig({ FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_KEK_V1: randomBytes(32).toString('base64'), AUDIT_CHECKPOINT_FILE: '/tmp/x' }),
    ).toThrow(/AUDIT_CHECKPOINT_KEY and AUDIT_CHECKPOINT_FILE together/);
  });
});
