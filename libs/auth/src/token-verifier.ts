import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { UnauthenticatedError } from '@fairway/errors';

/** Where the edge finds the keys of asymmetric (RS256/ES256) tokens. */
export type JwksSource = { url: string } | { file: string } | { keys: JSONWebKeySet };

/** Options of the token verifier. */
export interface TokenVerifierOptions {
  /** HS256 secret; HS256 tokens are refused when absent. */
  secret?: Uint8Array;
  /** RS256/ES256 keys; asymmetric tokens are refused when absent. */
  jwks?: JwksSource;
  issuer: string;
  audience: string;
  /** How long a verified token is remembered (never past its exp). 0 disables the cache. */
  cacheTtlMs?: number;
  /** Verified tokens remembered at most (default {@link TOKEN_CACHE_LIMIT}); past it the oldest makes room. */
  cacheMaxEntries?: number;
  /** Clock skew tolerated on exp/nbf, in seconds. */
  clockToleranceSeconds?: number;
  now?: () => number;
}

/** The claims of a verified token the edge acts on. */
export interface VerifiedClaims {
  tenantId?: string;
  role?: string;
  subject?: string;
}

const ASYMMETRIC = ['RS256', 'ES256'] as const;
/**
 * Verified tokens a TokenVerifier remembers by default: about 20 MB of tokens and claims. A full
 * cache forgets its oldest entry to make room, never all of them: clearing it whole, as it did, put
 * every tenant's next request back on a signature check at once, each time one token too many came
 * (bench:scale, 50,000 tenants' tokens, #18).
 */
export const TOKEN_CACHE_LIMIT = 50_000;

function jwksGetter(source: JwksSource): JWTVerifyGetKey {
  if ('url' in source) return createRemoteJWKSet(new URL(source.url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
  if ('file' in source) return createLocalJWKSet(JSON.parse(readFileSync(source.file, 'utf8')) as JSONWebKeySet);
  return createLocalJWKSet(source.keys);
}

/**
 * Verifies bearer JWTs: HS256 with the configured secret, RS256/ES256 with a JWKS. iss, aud, exp
 * and nbf are checked. The key is chosen by the token's alg header, and each key only accepts its
 * own algorithms, so `alg: none` and key confusion (an RS256 public key replayed as an HS256
 * secret) both fail. Verified tokens are remembered for a short while: signature checks are the
 * largest CPU cost of a request (see docs/benchmarks.md, bench:edge).
 */
export class TokenVerifier {
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly cache = new Map<string, { claims: VerifiedClaims; until: number }>();
  private readonly now: () => number;

  constructor(private readonly options: TokenVerifierOptions) {
    this.jwks = options.jwks && jwksGetter(options.jwks);
    this.now = options.now ?? Date.now;
  }

  /**
   * The claims of `token` if it was verified within the cache TTL (and has not expired since), else
   * undefined: the synchronous fast path of a request whose token was seen moments ago.
   */
  cached(token: string): VerifiedClaims | undefined {
    const hit = this.cache.get(token);
    return hit && hit.until > this.now() ? hit.claims : undefined;
  }

  /** The claims of `token`, or UnauthenticatedError saying why it was refused. */
  async verify(token: string): Promise<VerifiedClaims> {
    const ttl = this.options.cacheTtlMs ?? 0;
    const now = this.now();
    if (ttl > 0) {
      const hit = this.cache.get(token);
      if (hit && hit.until > now) return hit.claims;
    }
    const payload = await this.verifySignature(token);
    const claims: VerifiedClaims = {
      ...(typeof payload['tenant_id'] === 'string' ? { tenantId: payload['tenant_id'] } : {}),
      ...(typeof payload['role'] === 'string' ? { role: payload['role'] } : {}),
      ...(typeof payload.sub === 'string' ? { subject: payload.sub } : {}),
    };
    if (ttl > 0) {
      // A Map iterates in insertion order: deleting first puts a re-verified token last, so the
      // first key is always the one verified longest ago.
      this.cache.delete(token);
      if (this.cache.size >= (this.options.cacheMaxEntries ?? TOKEN_CACHE_LIMIT)) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      // Never remember a token past its own expiry (exp is required, so it is a number here).
      this.cache.set(token, { claims, until: Math.min(now + ttl, (payload.exp ?? 0) * 1000) });
    }
    return claims;
  }

  private async verifySignature(token: string): Promise<JWTPayload> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new UnauthenticatedError('the token is not a JWT; get a new one');
    }
    const checks = {
      issuer: this.options.issuer,
      audience: this.options.audience,
      requiredClaims: ['exp'],
      clockTolerance: this.options.clockToleranceSeconds ?? 5,
      currentDate: new Date(this.now()),
    };
    try {
      if (alg === 'HS256' && this.options.secret) {
        return (await jwtVerify(token, this.options.secret, { ...checks, algorithms: ['HS256'] })).payload;
      }
      if (alg !== undefined && (ASYMMETRIC as readonly string[]).includes(alg) && this.jwks) {
        return (await jwtVerify(token, this.jwks, { ...checks, algorithms: [...ASYMMETRIC] })).payload;
      }
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('the token has expired; get a new one');
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        throw new UnauthenticatedError(`the token's ${err.claim} claim is not accepted here; get a token for this API`);
      }
      throw new UnauthenticatedError('the token is not valid; get a new one');
    }
    throw new UnauthenticatedError(`tokens signed with alg '${String(alg).slice(0, 16)}' are not accepted; use HS256, RS256 or ES256`);
  }
}
