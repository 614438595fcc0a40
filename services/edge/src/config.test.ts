import { randomBytes } from 'node:crypto';
import { loadEdgeConfig } from './config';

const strongUrl = () => `postgres://fairway_app:${encodeURIComponent(randomBytes(24).toString('base64'))}@db:5432/fairway`;
const jwks = 'https://idp.example.test/.well-known/jwks.json';

/** The edge refuses, at start-up and naming the variable, every unsafe setting the audit found. */
describe('the edge configuration', () => {
  it('starts for development with plaintext gRPC asked for explicitly, HS256 and no key-encryption key', () => {
    const config = loadEdgeConfig({ FAIRWAY_GRPC_INSECURE: 'true' });
    expect(config.security.mode).toBe('insecure');
    expect(config.tokens.hs256).toBe(true);
    expect(config.KEY_SERVICE_ADDRESS).toBe('127.0.0.1:7051');
  });

  it('reads the proxies it may trust for the client address: a hop count or a list', () => {
    expect(loadEdgeConfig({ FAIRWAY_GRPC_INSECURE: 'true', EDGE_TRUST_PROXY: '1' }).EDGE_TRUST_PROXY).toBe(1);
    expect(loadEdgeConfig({ FAIRWAY_GRPC_INSECURE: 'true', EDGE_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).EDGE_TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('refuses a key-encryption key or the owner URL: those belong to the control plane', () => {
    expect(() => loadEdgeConfig({ FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_KEK_V1: randomBytes(32).toString('base64') })).toThrow(
      /FAIRWAY_KEK_V1: the edge no longer holds/,
    );
    expect(() => loadEdgeConfig({ FAIRWAY_GRPC_INSECURE: 'true', EDGE_ADMIN_DATABASE_URL: 'postgres://fairway_owner:x@db/fairway' })).toThrow(
      /EDGE_ADMIN_DATABASE_URL/,
    );
  });

  it('refuses, in production, plaintext gRPC, the development database password and HS256 without a strong secret', () => {
    const base = { NODE_ENV: 'production', JWT_JWKS_URL: jwks };
    expect(() => loadEdgeConfig({ ...base, DATABASE_URL: strongUrl(), FAIRWAY_GRPC_INSECURE: 'true' })).toThrow(
      /FAIRWAY_GRPC_INSECURE=true is refused when NODE_ENV=production/,
    );
    expect(() => loadEdgeConfig({ ...base, FAIRWAY_GRPC_INSECURE: 'false' })).toThrow(/DATABASE_URL uses the development password of role 'fairway_app'/);
    expect(() =>
      loadEdgeConfig({ NODE_ENV: 'production', DATABASE_URL: strongUrl(), JWT_HS256: 'true', JWT_SECRET: 'fairway-development-secret-change-me-0123456789' }),
    ).toThrow(/JWT_SECRET is published in the Fairway repository/);
    expect(() => loadEdgeConfig({ NODE_ENV: 'production', DATABASE_URL: strongUrl() })).toThrow(/no way to verify tokens: set JWT_JWKS_URL/);
  });
});
