import { SignJWT } from 'jose';
import { TokenVerifier } from './token-verifier';

const SECRET = new TextEncoder().encode('token-verifier-unit-secret-0123456789-abcdef');
const ISSUER = 'fairway-unit';
const AUDIENCE = 'fairway-api';

function token(tenantId: string): Promise<string> {
  return new SignJWT({ tenant_id: tenantId })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime('10m')
    .sign(SECRET);
}

describe('TokenVerifier cache', () => {
  it('makes room in a full cache by forgetting the token verified longest ago, never every token', async () => {
    const verifier = new TokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, cacheTtlMs: 60_000, cacheMaxEntries: 3 });
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map(token));
    for (const t of [a, b, c, d]) await verifier.verify(t as string);
    expect([a, b, c, d].map((t) => verifier.cached(t as string)?.tenantId)).toEqual([undefined, 'b', 'c', 'd']);
  });

  it('counts a re-verified token as new, so the next to go is the one verified longest ago', async () => {
    let now = 1_000_000;
    const verifier = new TokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, cacheTtlMs: 1_000, cacheMaxEntries: 2, now: () => now });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(token));
    await verifier.verify(a as string);
    await verifier.verify(b as string);
    now += 2_000; // both expired: a is verified again and becomes the newest
    await verifier.verify(a as string);
    await verifier.verify(c as string);
    expect([a, b, c].map((t) => verifier.cached(t as string)?.tenantId)).toEqual(['a', undefined, 'c']);
  });
});
