import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ForbiddenError, UnauthenticatedError } from '@fairway/errors';
import { authorizeServiceCall, identityOfCertificate, type ServiceTrustPolicy } from './service-identity';
import { transportSecurityFromEnv } from './tls';

const cert = (cn: string, san?: string): PeerCertificate => ({ subject: { CN: cn }, ...(san ? { subjectaltname: san } : {}) }) as unknown as PeerCertificate;
const md = (tenant?: string): grpc.Metadata => {
  const m = new grpc.Metadata();
  if (tenant !== undefined) m.set('x-fairway-tenant-id', tenant);
  return m;
};
const EXECUTE = '/fairway.worker.v1.Worker/Execute';
const policy: ServiceTrustPolicy = {
  service: 'worker',
  callers: { scheduler: { tenants: 'any' }, auditor: { tenants: 'none' }, billing: { tenants: ['acme'], methods: [EXECUTE] } },
  open: ['/grpc.health.v1.Health/Check'],
};

describe('identityOfCertificate', () => {
  it.each<[string, PeerCertificate | undefined, string | undefined]>([
    ['the SPIFFE id of the trust domain', cert('x', 'URI:spiffe://fairway.dev/scheduler, DNS:scheduler'), 'scheduler'],
    ['the CN when there is no SPIFFE id', cert('scheduler', 'DNS:scheduler'), 'scheduler'],
    ['nothing for a SPIFFE id of another trust domain, whatever the CN', cert('scheduler', 'URI:spiffe://evil.example/scheduler'), undefined],
    ['nothing for no certificate (Node gives an empty object)', {} as PeerCertificate, undefined],
    ['nothing for undefined', undefined, undefined],
    ['nothing for a CN that is not a service name', cert('Scheduler Inc.'), undefined],
  ])('reads %s', (_name, c, service) => {
    expect(identityOfCertificate(c)?.service).toBe(service);
  });
});

describe('authorizeServiceCall', () => {
  const scheduler = cert('scheduler', 'URI:spiffe://fairway.dev/scheduler');
  it.each<[string, PeerCertificate | undefined, grpc.Metadata, string, (new (...a: never[]) => Error) | undefined]>([
    ['a trusted caller for any tenant', scheduler, md('acme'), EXECUTE, undefined],
    ['a trusted caller without a tenant', scheduler, md(), EXECUTE, undefined],
    ['no certificate', undefined, md('acme'), EXECUTE, UnauthenticatedError],
    ['a service not in the policy', cert('edge', 'URI:spiffe://fairway.dev/edge'), md('acme'), EXECUTE, ForbiddenError],
    ['a platform-only caller naming a tenant', cert('auditor'), md('acme'), EXECUTE, ForbiddenError],
    ['a platform-only caller naming a malformed tenant', cert('auditor'), md('NOT A TENANT'), EXECUTE, ForbiddenError],
    ['a caller outside its tenant list', cert('billing'), md('globex'), EXECUTE, ForbiddenError],
    ['a caller inside its tenant list', cert('billing'), md('acme'), EXECUTE, undefined],
    ['a caller on a method it may not call', cert('billing'), md('acme'), '/fairway.worker.v1.Worker/Other', ForbiddenError],
    ['an untrusted service on an open method', cert('edge'), md(), '/grpc.health.v1.Health/Check', undefined],
  ])('%s', (_name, c, metadata, method, error) => {
    const run = (): unknown => authorizeServiceCall(c, metadata, method, policy);
    if (error) expect(run).toThrow(error);
    else expect(run).not.toThrow();
  });

  it('returns the tenant only from metadata', () => {
    const m = md('acme');
    m.set('baggage', 'tenant.id=globex');
    expect(authorizeServiceCall(scheduler, m, EXECUTE, policy)).toEqual({
      identity: { service: 'scheduler', spiffeId: 'spiffe://fairway.dev/scheduler' },
      tenant: 'acme',
    });
  });
});

describe('transportSecurityFromEnv', () => {
  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ['nothing set', {}, /needs mutual TLS: set FAIRWAY_TLS_CA, FAIRWAY_TLS_CERT, FAIRWAY_TLS_KEY/],
    ['a missing key file variable', { FAIRWAY_TLS_CA: '/a', FAIRWAY_TLS_CERT: '/b' }, /set FAIRWAY_TLS_KEY/],
    ['insecure together with TLS files', { FAIRWAY_GRPC_INSECURE: 'true', FAIRWAY_TLS_CA: '/a' }, /contradicts FAIRWAY_TLS_CA/],
    ['a loose truthy value', { FAIRWAY_GRPC_INSECURE: '1' }, /must be 'true' or 'false'/],
    ['insecure=false and no files', { FAIRWAY_GRPC_INSECURE: 'false' }, /needs mutual TLS/],
  ])('refuses %s', (_name, env, message) => {
    expect(() => transportSecurityFromEnv(env)).toThrow(message);
  });

  it('selects plaintext only for FAIRWAY_GRPC_INSECURE=true', () => {
    expect(transportSecurityFromEnv({ FAIRWAY_GRPC_INSECURE: 'true' })).toEqual({ mode: 'insecure' });
  });
});
