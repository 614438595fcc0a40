import { context, propagation } from '@opentelemetry/api';
import {
  extractBaggage,
  extractGrpcMetadata,
  extractHttpHeaders,
  extractKafkaHeaders,
  injectGrpcMetadata,
  injectHttpHeaders,
  injectKafkaHeaders,
  parseTenantId,
  tenantContext,
  tenantFromContextBaggage,
  withTenantBaggage,
  type KafkaHeaders,
  type TenantId,
} from './index';

const acme = tenantContext('acme' as TenantId, 'jwt');

class FakeMetadata {
  private readonly map = new Map<string, Array<string | Buffer>>();
  get(key: string) {
    return this.map.get(key) ?? [];
  }
  set(key: string, value: string) {
    this.map.set(key, [value]);
  }
  add(key: string, value: string | Buffer) {
    this.map.set(key, [...this.get(key), value]);
  }
}

describe('parseTenantId', () => {
  it.each([
    ['acme', 'acme'],
    ['t-1', 't-1'],
    ['a'.repeat(63), 'a'.repeat(63)],
  ])('accepts %s', (input, expected) => {
    expect(parseTenantId(input)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['uppercase', 'Acme'],
    ['leading dash', '-acme'],
    ['too long', 'a'.repeat(64)],
    ['path traversal', '../acme'],
    ['sql quote', "acme'; drop table jobs;--"],
    ['whitespace', 'ac me'],
    ['header injection', 'acme\r\nx-admin: 1'],
    ['unicode look-alike', 'аcme'],
    ['number', 42],
    ['null', null],
  ])('refuses %s', (_name, input) => {
    expect(parseTenantId(input)).toBeUndefined();
  });
});

describe('carriers', () => {
  it('round-trips the tenant through HTTP headers', () => {
    const headers: Record<string, string> = {};
    injectHttpHeaders(acme, headers);
    expect(extractHttpHeaders(headers)).toBe('acme');
  });

  it('ignores a repeated or malformed X-Tenant-ID header', () => {
    expect(extractHttpHeaders({ 'x-tenant-id': ['acme', 'globex'] })).toBeUndefined();
    expect(extractHttpHeaders({ 'x-tenant-id': 'ACME!' })).toBeUndefined();
    expect(extractHttpHeaders({})).toBeUndefined();
  });

  it('round-trips the tenant through Kafka headers, as string or Buffer', () => {
    const headers: KafkaHeaders = {};
    injectKafkaHeaders(acme, headers);
    expect(extractKafkaHeaders(headers)).toBe('acme');
    expect(extractKafkaHeaders({ 'fairway-tenant-id': Buffer.from('globex') })).toBe('globex');
  });

  it('returns nothing for malformed Kafka headers and never throws', () => {
    expect(extractKafkaHeaders(undefined)).toBeUndefined();
    expect(extractKafkaHeaders({ 'fairway-tenant-id': [Buffer.from('a'), Buffer.from('b')] })).toBeUndefined();
    expect(extractKafkaHeaders({ 'fairway-tenant-id': Buffer.from([0xff, 0xfe]) })).toBeUndefined();
  });

  it('round-trips the tenant through gRPC metadata and refuses repeated values', () => {
    const metadata = new FakeMetadata();
    injectGrpcMetadata(acme, metadata);
    expect(extractGrpcMetadata(metadata)).toBe('acme');
    metadata.add('x-fairway-tenant-id', 'globex');
    expect(extractGrpcMetadata(metadata)).toBeUndefined();
  });

  it('puts the tenant in W3C baggage and reads it back', () => {
    const ctx = withTenantBaggage(acme, context.active());
    expect(tenantFromContextBaggage(ctx)).toBe('acme');
    const bad = propagation.createBaggage({ 'tenant.id': { value: 'not a tenant' } });
    expect(extractBaggage(bad)).toBeUndefined();
    expect(extractBaggage(undefined)).toBeUndefined();
  });
});
