import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadJwtSettings, OPERATOR_TOKENS, TENANT_TOKENS } from './jwt-settings';
import { PUBLISHED_SECRETS, weakDatabaseUrlReason, weakSecretReason } from './secret-policy';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const strong = () => randomBytes(48).toString('base64');

/**
 * Every value the repository assigns to a signing secret, in any file git tracks: manifests,
 * compose files, docs, scripts, tests. All of them are public, whatever they look like.
 */
function secretsInRepository(): Map<string, string> {
  const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(ts|cjs|mjs|js|json|ya?ml|md|env|sh)$/.test(f) && !f.includes('generated/') && f !== 'package-lock.json');
  const found = new Map<string, string>();
  const assignment = /\b[A-Z_]*SECRET\b\s*[:=]\s*['"`]?([A-Za-z0-9+/=_.-]{8,})/g;
  const encoded = /(?:SECRET|secret)[A-Za-z_]*\s*=\s*new TextEncoder\(\)\.encode\(\s*'([^']{8,})'/g;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(path.join(ROOT, file), 'utf8');
    } catch {
      continue; // deleted in the working tree
    }
    for (const pattern of [assignment, encoded]) {
      for (const match of text.matchAll(pattern)) {
        const value = match[1]!;
        // References, not values: process.env.X, a variable name, a placeholder for a command's output.
        if (/^(process|env|options|config|undefined|new|read|c\.|given|value|secret)\b/.test(value) || /^[A-Z_]+$/.test(value)) continue;
        found.set(value, file);
      }
    }
  }
  return found;
}

describe('the production secret policy', () => {
  it('refuses every signing secret that appears anywhere in the repository', () => {
    const found = secretsInRepository();
    for (const published of PUBLISHED_SECRETS) found.set(published, 'PUBLISHED_SECRETS');
    // The scan must see the development defaults, or it is not looking where they are.
    expect([...found.keys()]).toEqual(expect.arrayContaining([TENANT_TOKENS.devSecret, OPERATOR_TOKENS.devSecret]));
    const accepted = [...found].filter(([value]) => weakSecretReason(value) === undefined).map(([value, file]) => `${file}: ${value}`);
    expect(accepted).toEqual([]);
  });

  it('refuses short, placeholder and repetitive secrets, and takes 32+ random bytes', () => {
    expect(weakSecretReason('a'.repeat(20))).toMatch(/20 bytes/);
    expect(weakSecretReason('please-change-me-before-going-live-0123456789')).toMatch(/placeholder/);
    expect(weakSecretReason('ab'.repeat(40))).toMatch(/repetitive/);
    expect(weakSecretReason(strong())).toBeUndefined();
    expect(weakSecretReason(randomBytes(32).toString('hex'))).toBeUndefined();
  });

  it('refuses database URLs without a password or with the role name as password', () => {
    expect(weakDatabaseUrlReason('DATABASE_URL', 'postgres://fairway_app@db/fairway')).toMatch(/DATABASE_URL has no password/);
    expect(weakDatabaseUrlReason('DATABASE_URL', 'postgres://fairway_app:fairway_app@db/fairway')).toMatch(
      /DATABASE_URL uses the development password of role 'fairway_app'/,
    );
    expect(weakDatabaseUrlReason('APP_DATABASE_URL', `postgres://fairway_app:${encodeURIComponent(strong())}@db/fairway`)).toBeUndefined();
  });
});

describe('loadJwtSettings', () => {
  const jwks = 'https://idp.example.test/.well-known/jwks.json';

  it('turns HS256 off when a JWKS is configured, unless asked for explicitly', () => {
    expect(loadJwtSettings({ JWT_JWKS_URL: jwks }, TENANT_TOKENS)).toMatchObject({ hs256: false, jwks: { url: jwks } });
    expect(loadJwtSettings({ JWT_JWKS_URL: jwks }, TENANT_TOKENS).secret).toBeUndefined();
    expect(loadJwtSettings({ JWT_JWKS_URL: jwks, JWT_HS256: 'true', JWT_SECRET: strong() }, TENANT_TOKENS).hs256).toBe(true);
  });

  it('keeps HS256 with the development secret outside production only', () => {
    expect(loadJwtSettings({}, TENANT_TOKENS)).toMatchObject({ hs256: true, issuer: 'fairway-dev', audience: 'fairway-api' });
    expect(() => loadJwtSettings({ NODE_ENV: 'production' }, TENANT_TOKENS)).toThrow(/no way to verify tokens: set JWT_JWKS_URL/);
    expect(() => loadJwtSettings({ NODE_ENV: 'production', JWT_HS256: 'true' }, TENANT_TOKENS)).toThrow(/JWT_HS256=true needs JWT_SECRET/);
    expect(() => loadJwtSettings({ NODE_ENV: 'production', JWT_HS256: 'true', JWT_SECRET: TENANT_TOKENS.devSecret }, TENANT_TOKENS)).toThrow(
      /JWT_SECRET is published in the Fairway repository/,
    );
    expect(loadJwtSettings({ NODE_ENV: 'production', JWT_HS256: 'true', JWT_SECRET: strong() }, TENANT_TOKENS).hs256).toBe(true);
  });

  it('refuses a secret that would be ignored, and a plaintext JWKS URL, in production', () => {
    expect(() => loadJwtSettings({ NODE_ENV: 'production', JWT_JWKS_URL: jwks, JWT_SECRET: strong() }, TENANT_TOKENS)).toThrow(
      /JWT_SECRET is set but HS256 tokens are off/,
    );
    expect(() => loadJwtSettings({ NODE_ENV: 'production', JWT_JWKS_URL: 'http://idp.example.test/jwks.json' }, TENANT_TOKENS)).toThrow(
      /JWT_JWKS_URL must be https in production/,
    );
  });

  it("gives operators' tokens their own variables, issuer, audience and development secret", () => {
    const operators = loadJwtSettings({ JWT_SECRET: strong() }, OPERATOR_TOKENS);
    expect(operators).toMatchObject({ issuer: 'fairway-operators', audience: 'fairway-admin' });
    expect(Buffer.from(operators.secret!).toString()).toBe(OPERATOR_TOKENS.devSecret);
    expect(OPERATOR_TOKENS.devSecret).not.toBe(TENANT_TOKENS.devSecret);
    expect(() => loadJwtSettings({ NODE_ENV: 'production', OPERATOR_JWT_HS256: 'true', OPERATOR_JWT_SECRET: 'short' }, OPERATOR_TOKENS)).toThrow(
      /OPERATOR_JWT_SECRET is 5 bytes/,
    );
  });
});
