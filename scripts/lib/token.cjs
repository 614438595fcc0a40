// Development bearer tokens, signed with the edge's development defaults (JWT_SECRET, JWT_ISSUER,
// JWT_AUDIENCE from the environment when set).
'use strict';

const DEV_SECRET = 'fairway-development-secret-change-me-0123456789';

/**
 * A signed HS256 JWT whose tenant_id claim names `tenant`.
 * @param {string} tenant
 * @param {{ expiresIn?: string, subject?: string, secret?: string, issuer?: string, audience?: string }} options
 */
async function devToken(tenant, options = {}) {
  const { SignJWT } = require('jose');
  const secret = new TextEncoder().encode(options.secret ?? process.env.JWT_SECRET ?? DEV_SECRET);
  return new SignJWT({ tenant_id: tenant })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer ?? process.env.JWT_ISSUER ?? 'fairway-dev')
    .setAudience(options.audience ?? process.env.JWT_AUDIENCE ?? 'fairway-api')
    .setSubject(options.subject ?? `dev-user@${tenant}`)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h')
    .sign(secret);
}

module.exports = { devToken, DEV_SECRET };
