import { createHmac } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import type { TenantRecord, TenantStatus } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import { generateApiKey } from '@fairway/auth';
import type { ApiKeyLookup, StoredApiKey } from './api-keys';
import type { TenantLookup } from './tenant-directory';
import { resolveTenant, resolveTenantFromCache, subdomainOf, TenantRefusal, type TenantClaims, type TenantResolverDeps } from './tenant-resolver';
import { TokenVerifier } from '@fairway/auth';

const SECRET = 'unit-test-secret-0123456789-0123456789-abcdef';
const ISSUER = 'fairway-test';
const AUDIENCE = 'fairway-api';

const statuses: Record<string, TenantStatus> = { acme: 'active', globex: 'active', sleepy: 'suspended', gone: 'deleted' };
const tenants: TenantLookup = {
  get: async (id) =>
    statuses[id] === undefined
      ? undefined
      : ({
          id: id as TenantId,
          slug: `${id}-co`,
          displayName: id,
          status: statuses[id],
          isolationModel: 'pooled',
          plan: 'standard',
          createdAt: new Date(0),
        } as TenantRecord),
  idBySlug: async (slug) => Object.keys(statuses).find((id) => `${id}-co` === slug),
};

const acmeKey = generateApiKey();
const revokedKey = generateApiKey();
const keys = new Map<string, StoredApiKey>([
  [acmeKey.prefix, { id: acmeKey.id, tenantId: 'acme', hash: acmeKey.hash, revoked: false }],
  [revokedKey.prefix, { id: revokedKey.id, tenantId: 'acme', hash: revokedKey.hash, revoked: true }],
]);
const touched: string[] = [];
const apiKeys: ApiKeyLookup = { byPrefix: async (prefix) => keys.get(prefix), touch: (id) => void touched.push(id) };

let rsa: { privateKey: KeyLike; publicKey: KeyLike };
let ec: { privateKey: KeyLike; publicKey: KeyLike };
let otherRsa: { privateKey: KeyLike; publicKey: KeyLike };
let verifier: TokenVerifier;

function hs(claims: Record<string, unknown>, options: { secret?: string; exp?: string | number; iss?: string; aud?: string; nbf?: string } = {}) {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '5m');
  if (options.nbf) jwt = jwt.setNotBefore(options.nbf);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

function asym(alg: 'RS256' | 'ES256', key: KeyLike, claims: Record<string, unknown>, kid = alg) {
  return new SignJWT(claims).setProtectedHeader({ alg, kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(key);
}

/** An HS256 token whose HMAC key is the RSA public key's PEM: the classic key-confusion attack. */
async function keyConfusion(claims: Record<string, unknown>) {
  const pem = await exportSPKI(rsa.publicKey);
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${b64({ alg: 'HS256', kid: 'RS256' })}.${b64({ ...claims, iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 })}`;
  return `${head}.${createHmac('sha256', pem).update(head).digest('base64url')}`;
}

function unsigned(claims: Record<string, unknown>) {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64({ ...claims, iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
}

beforeAll(async () => {
  rsa = await generateKeyPair('RS256');
  ec = await generateKeyPair('ES256');
  otherRsa = await generateKeyPair('RS256');
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'RS256', alg: 'RS256' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ES256', alg: 'ES256' },
    ] as JWK[],
  };
  jwksKeys = jwks.keys;
  verifier = new TokenVerifier({ secret: new TextEncoder().encode(SECRET), jwks: { keys: jwks }, issuer: ISSUER, audience: AUDIENCE });
});

let jwksKeys: JWK[];

const deps = () => ({ tokens: verifier, apiKeys, tenants, baseDomain: 'api.fairway.test' });
const claims = (authorization: string | undefined, extra: Partial<TenantClaims> = {}): TenantClaims => ({
  authorization,
  host: 'api.fairway.test',
  tenantHeader: undefined,
  ...extra,
});

type Case = [
  name: string,
  build: () => Promise<TenantClaims>,
  expected: { tenant: string; source: string } | { status: 401 | 403; code: string; reason: string },
];

const cases: Case[] = [
  ['an HS256 token', async () => claims(`Bearer ${await hs({ tenant_id: 'acme' })}`), { tenant: 'acme', source: 'jwt' }],
  [
    'an RS256 token verified through the JWKS',
    async () => claims(`Bearer ${await asym('RS256', rsa.privateKey, { tenant_id: 'acme' })}`),
    { tenant: 'acme', source: 'jwt' },
  ],
  [
    'an ES256 token verified through the JWKS',
    async () => claims(`Bearer ${await asym('ES256', ec.privateKey, { tenant_id: 'globex' })}`),
    { tenant: 'globex', source: 'jwt' },
  ],
  ['an API key', async () => claims(`ApiKey ${acmeKey.key}`), { tenant: 'acme', source: 'api-key' }],
  [
    'a matching X-Tenant-ID header',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' })}`, { tenantHeader: 'acme' }),
    { tenant: 'acme', source: 'jwt' },
  ],
  ['a matching subdomain', async () => claims(`ApiKey ${acmeKey.key}`, { host: 'acme-co.api.fairway.test:8080' }), { tenant: 'acme', source: 'api-key' }],
  [
    'a subdomain, header and token that all agree',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' })}`, { host: 'ACME-CO.api.fairway.test', tenantHeader: 'acme' }),
    { tenant: 'acme', source: 'jwt' },
  ],
  [
    'a host outside the base domain (no subdomain claim)',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' })}`, { host: 'globex-co.elsewhere.test' }),
    { tenant: 'acme', source: 'jwt' },
  ],

  ['no credential', async () => claims(undefined), { status: 401, code: 'UNAUTHENTICATED', reason: 'no-credential' }],
  [
    'no credential but a header naming a tenant',
    async () => claims(undefined, { tenantHeader: 'acme' }),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'no-credential' },
  ],
  ['an unknown scheme', async () => claims('Basic YWxhZGRpbjpvcGVuc2VzYW1l'), { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-scheme' }],
  [
    'a token signed with another secret (forged)',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' }, { secret: 'x'.repeat(48) })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' },
  ],
  [
    'an expired token',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' }, { exp: '-2m' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' },
  ],
  [
    'a token not valid yet (nbf)',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' }, { nbf: '10m' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' },
  ],
  [
    'a token for another audience',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' }, { aud: 'elsewhere' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' },
  ],
  [
    'a token from another issuer',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' }, { iss: 'evil' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' },
  ],
  [
    'an unsigned token (alg none)',
    async () => claims(`Bearer ${unsigned({ tenant_id: 'acme' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' },
  ],
  [
    'key confusion: HS256 signed with the RSA public key',
    async () => claims(`Bearer ${await keyConfusion({ tenant_id: 'acme' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' },
  ],
  [
    'an RS256 token from a key not in the JWKS',
    async () => claims(`Bearer ${await asym('RS256', otherRsa.privateKey, { tenant_id: 'acme' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' },
  ],
  ['garbage in the bearer slot', async () => claims('Bearer not.a.jwt'), { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-token' }],
  [
    'a token without tenant_id',
    async () => claims(`Bearer ${await hs({ sub: 'someone' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'no-tenant-claim' },
  ],
  [
    'an operator token on the tenant API',
    async () => claims(`Bearer ${await hs({ role: 'operator', sub: 'alice' })}`),
    { status: 403, code: 'FORBIDDEN', reason: 'operator-token' },
  ],
  [
    'a token of an unknown tenant',
    async () => claims(`Bearer ${await hs({ tenant_id: 'ghost' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'unknown-tenant' },
  ],
  [
    'a token of a deleted tenant',
    async () => claims(`Bearer ${await hs({ tenant_id: 'gone' })}`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'unknown-tenant' },
  ],
  [
    'a token of a suspended tenant',
    async () => claims(`Bearer ${await hs({ tenant_id: 'sleepy' })}`),
    { status: 403, code: 'TENANT_SUSPENDED', reason: 'suspended' },
  ],
  [
    'an unknown tenant named by header: still 401, never revealing',
    async () => claims(`Bearer ${await hs({ tenant_id: 'ghost' })}`, { tenantHeader: 'ghost' }),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'unknown-tenant' },
  ],
  [
    'a header naming another tenant',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' })}`, { tenantHeader: 'globex' }),
    { status: 403, code: 'TENANT_MISMATCH', reason: 'header-mismatch' },
  ],
  [
    'a malformed header',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' })}`, { tenantHeader: 'ACME; drop table' }),
    { status: 403, code: 'TENANT_MISMATCH', reason: 'header-mismatch' },
  ],
  [
    'a repeated header',
    async () => claims(`Bearer ${await hs({ tenant_id: 'acme' })}`, { tenantHeader: ['acme', 'globex'] }),
    { status: 403, code: 'TENANT_MISMATCH', reason: 'header-mismatch' },
  ],
  [
    'a subdomain naming another tenant',
    async () => claims(`ApiKey ${acmeKey.key}`, { host: 'globex-co.api.fairway.test' }),
    { status: 403, code: 'TENANT_MISMATCH', reason: 'subdomain-mismatch' },
  ],
  [
    'a subdomain naming no tenant',
    async () => claims(`ApiKey ${acmeKey.key}`, { host: 'nobody.api.fairway.test' }),
    { status: 403, code: 'TENANT_MISMATCH', reason: 'subdomain-mismatch' },
  ],
  [
    'a suspended tenant whose header disagrees: mismatch first',
    async () => claims(`Bearer ${await hs({ tenant_id: 'sleepy' })}`, { tenantHeader: 'acme' }),
    { status: 403, code: 'TENANT_MISMATCH', reason: 'header-mismatch' },
  ],
  ['a revoked API key', async () => claims(`ApiKey ${revokedKey.key}`), { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-api-key' }],
  [
    'an API key with a wrong secret',
    async () => claims(`ApiKey ${acmeKey.key.slice(0, -4)}AAAA`),
    { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-api-key' },
  ],
  ['an API key with an unknown prefix', async () => claims(`ApiKey ${generateApiKey().key}`), { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-api-key' }],
  ['a malformed API key', async () => claims('ApiKey fwk_zz'), { status: 401, code: 'UNAUTHENTICATED', reason: 'bad-api-key' }],
];

describe('resolveTenant', () => {
  it.each(cases)('%s', async (_name, build, expected) => {
    const outcome = await resolveTenant(await build(), deps()).then(
      (r) => ({ tenant: r.tenantId, source: r.source }),
      (err: unknown) => {
        if (!(err instanceof TenantRefusal)) throw err;
        return { code: err.error.code, reason: err.reason };
      },
    );
    if ('tenant' in expected) expect(outcome).toEqual(expected);
    else expect(outcome).toEqual({ code: expected.code, reason: expected.reason });
  });

  it.each(cases)('decides the same without waiting once the token and tenant are cached: %s', async (_name, build, expected) => {
    // A caching verifier and a tenant lookup that remembers what it loaded, as the edge runs them.
    const seen = new Map<string, TenantRecord | undefined>();
    const caching: TenantResolverDeps = {
      ...deps(),
      tokens: new TokenVerifier({
        secret: new TextEncoder().encode(SECRET),
        jwks: { keys: { keys: jwksKeys } },
        issuer: ISSUER,
        audience: AUDIENCE,
        cacheTtlMs: 60_000,
      }),
      tenants: {
        ...tenants,
        get: async (id) => {
          const tenant = await tenants.get(id);
          seen.set(id, tenant);
          return tenant;
        },
        peek: (id) => (seen.has(id) ? { tenant: seen.get(id) } : undefined),
      },
    };
    const outcome = (run: () => { tenantId: string; source: string } | undefined) => {
      try {
        const r = run();
        return r && { tenant: r.tenantId, source: r.source };
      } catch (err) {
        if (!(err instanceof TenantRefusal)) throw err;
        return { code: err.error.code, reason: err.reason };
      }
    };
    const request = await build();
    expect(outcome(() => resolveTenantFromCache(request, caching))).toBeUndefined(); // nothing cached yet
    const slow = await resolveTenant(request, caching).then(
      (r) => ({ tenant: r.tenantId, source: r.source }),
      (err: unknown) => {
        if (!(err instanceof TenantRefusal)) throw err;
        return { code: err.error.code, reason: err.reason };
      },
    );
    const fast = outcome(() => resolveTenantFromCache(request, caching));
    // Bearer tokens that verified, on a host that names no subdomain, take the fast path; API keys,
    // subdomains and tokens that never verified always take the slow one.
    const cacheable =
      request.authorization?.startsWith('Bearer ') === true &&
      subdomainOf(request.host, caching.baseDomain) === undefined &&
      !('reason' in expected && expected.reason === 'bad-token');
    if (cacheable) expect(fast).toEqual(slow);
    else expect(fast).toBeUndefined();
  });

  it('records that a verified API key was used', async () => {
    touched.length = 0;
    await resolveTenant(claims(`ApiKey ${acmeKey.key}`), deps());
    expect(touched).toEqual([acmeKey.id]);
  });

  it('refuses asymmetric tokens when no JWKS is configured', async () => {
    const hsOnly = new TokenVerifier({ secret: new TextEncoder().encode(SECRET), issuer: ISSUER, audience: AUDIENCE });
    await expect(hsOnly.verify(await asym('RS256', rsa.privateKey, { tenant_id: 'acme' }))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('remembers a verified token only until its own expiry', async () => {
    let now = Date.now();
    const cached = new TokenVerifier({
      secret: new TextEncoder().encode(SECRET),
      issuer: ISSUER,
      audience: AUDIENCE,
      cacheTtlMs: 60_000,
      clockToleranceSeconds: 0,
      now: () => now,
    });
    const token = await hs({ tenant_id: 'acme' }, { exp: Math.floor(now / 1000) + 2 });
    await expect(cached.verify(token)).resolves.toMatchObject({ tenantId: 'acme' });
    now += 10_000;
    await expect(cached.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('subdomainOf', () => {
  it.each([
    ['acme.api.example.com', 'api.example.com', 'acme'],
    ['acme.api.example.com:443', 'api.example.com', 'acme'],
    ['acme.api.example.com.', 'api.example.com', 'acme'],
    ['api.example.com', 'api.example.com', undefined],
    ['acme.evil-api.example.com', 'api.example.com', undefined],
    ['a.b.api.example.com', 'api.example.com', 'a.b'],
    [undefined, 'api.example.com', undefined],
    ['acme.api.example.com', undefined, undefined],
  ])('host %s under %s is %s', (host, base, expected) => {
    expect(subdomainOf(host, base)).toBe(expected);
  });
});
