import { ConfigInvalidError } from '@fairway/errors';
import { NEW_SECRET_COMMAND, weakSecretReason } from './secret-policy';
import type { JwksSource, TokenVerifierOptions } from './token-verifier';

/** The token audiences Fairway verifies, each with its own variables and defaults. */
export interface JwtAudienceDefaults {
  /** The variables' prefix: 'JWT_' (tenants at the edge) or 'OPERATOR_JWT_' (operators at the admin API). */
  prefix: 'JWT_' | 'OPERATOR_JWT_';
  issuer: string;
  audience: string;
  /** The development HS256 secret, used outside production when none is set. */
  devSecret: string;
}

/** Tenants' tokens at the public edge. */
export const TENANT_TOKENS: JwtAudienceDefaults = {
  prefix: 'JWT_',
  issuer: 'fairway-dev',
  audience: 'fairway-api',
  devSecret: 'fairway-development-secret-change-me-0123456789',
};

/**
 * Operators' tokens at the admin API: another issuer, another audience and another secret, so a
 * token minted for a tenant can never be replayed against the admin plane.
 */
export const OPERATOR_TOKENS: JwtAudienceDefaults = {
  prefix: 'OPERATOR_JWT_',
  issuer: 'fairway-operators',
  audience: 'fairway-admin',
  devSecret: 'fairway-development-operator-secret-change-me-0123456789',
};

/** How tokens of one audience are verified, as read from the environment. */
export type JwtSettings = Pick<TokenVerifierOptions, 'secret' | 'jwks' | 'issuer' | 'audience'> & {
  /** True when HS256 tokens are accepted. */
  hs256: boolean;
};

/**
 * Reads `<prefix>ISSUER`, `<prefix>AUDIENCE`, `<prefix>JWKS_URL` or `<prefix>JWKS_FILE`,
 * `<prefix>HS256` and `<prefix>SECRET`. HS256 (a shared secret) is accepted only when
 * `<prefix>HS256=true`, or by default outside production when no JWKS is configured. In production
 * an HS256 secret must be 32+ random bytes that appear nowhere in this repository, and a JWKS URL
 * must be https. Throws ConfigInvalidError naming the variable.
 */
export function loadJwtSettings(env: NodeJS.ProcessEnv, defaults: JwtAudienceDefaults): JwtSettings {
  const name = (suffix: string) => `${defaults.prefix}${suffix}`;
  const production = env['NODE_ENV'] === 'production';
  const read = (suffix: string): string | undefined => {
    const value = env[name(suffix)];
    return value === undefined || value === '' ? undefined : value;
  };
  const url = read('JWKS_URL');
  const file = read('JWKS_FILE');
  if (url && file) throw new ConfigInvalidError(`set ${name('JWKS_URL')} or ${name('JWKS_FILE')}, not both`);
  let jwks: JwksSource | undefined;
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigInvalidError(`${name('JWKS_URL')} must be a URL (got '${url.slice(0, 100)}')`);
    }
    if (production && parsed.protocol !== 'https:')
      throw new ConfigInvalidError(`${name('JWKS_URL')} must be https in production: keys fetched in plaintext can be replaced`);
    jwks = { url };
  } else if (file) {
    jwks = { file };
  }

  const flag = read('HS256');
  if (flag !== undefined && flag !== 'true' && flag !== 'false')
    throw new ConfigInvalidError(`${name('HS256')} must be 'true' or 'false' (got '${flag.slice(0, 20)}')`);
  const hs256 = flag === undefined ? !production && !jwks : flag === 'true';
  const given = read('SECRET');
  if (!hs256) {
    if (given !== undefined && production) {
      throw new ConfigInvalidError(`${name('SECRET')} is set but HS256 tokens are off: set ${name('HS256')}=true to accept them, or remove ${name('SECRET')}`);
    }
    if (!jwks)
      throw new ConfigInvalidError(
        `no way to verify tokens: set ${name('JWKS_URL')} (or ${name('JWKS_FILE')}), or ${name('HS256')}=true with ${name('SECRET')}`,
      );
  }
  let secret: Uint8Array | undefined;
  if (hs256) {
    if (given === undefined && production)
      throw new ConfigInvalidError(`${name('HS256')}=true needs ${name('SECRET')}: generate one with \`${NEW_SECRET_COMMAND}\``);
    const value = given ?? defaults.devSecret;
    const weak = production ? weakSecretReason(value) : Buffer.byteLength(value) < 32 ? 'is shorter than 32 bytes' : undefined;
    if (weak) throw new ConfigInvalidError(`${name('SECRET')} ${weak}: generate one with \`${NEW_SECRET_COMMAND}\``);
    secret = new TextEncoder().encode(value);
  }
  return {
    hs256,
    issuer: read('ISSUER') ?? defaults.issuer,
    audience: read('AUDIENCE') ?? defaults.audience,
    ...(secret ? { secret } : {}),
    ...(jwks ? { jwks } : {}),
  };
}
