import { randomBytes } from 'node:crypto';
import { loadWorkerConfig } from './config';

describe('the worker configuration', () => {
  it('asks the key service for data keys and refuses a key-encryption key of its own', () => {
    expect(loadWorkerConfig({ FAIRWAY_GRPC_INSECURE: 'true', KEY_SERVICE_ADDRESS: 'control-plane:7051' }).KEY_SERVICE_ADDRESS).toBe('control-plane:7051');
    expect(() => loadWorkerConfig({ FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_KEK_V1: randomBytes(32).toString('base64') })).toThrow(
      /FAIRWAY_KEK_V1: workers hold no key-encryption key/,
    );
  });

  it('refuses plaintext gRPC and the development database password in production', () => {
    expect(() => loadWorkerConfig({ NODE_ENV: 'production', FAIRWAY_GRPC_INSECURE: 'true' })).toThrow(/DATABASE_URL uses the development password/);
    const url = `postgres://fairway_app:${encodeURIComponent(randomBytes(24).toString('base64'))}@db/fairway`;
    expect(() => loadWorkerConfig({ NODE_ENV: 'production', DATABASE_URL: url, FAIRWAY_GRPC_INSECURE: 'true' })).toThrow(
      /FAIRWAY_GRPC_INSECURE=true is refused when NODE_ENV=production/,
    );
  });
});
