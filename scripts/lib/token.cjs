// Development bearer tokens, signed with the edge's development defaults (JWT_SECRET, JWT_ISSUER,
// JWT_AUDIENCE from the environment when set).
'use strict';

const DEV_SECRET = 'fairway-development-secret-change-me-0123456789';

function signer(claims, options, subject) {
  const { SignJWT } = require('jose');
  const secret = new TextEncoder().encode(options.secret ?? process.env.JWT_SECRET ?? DEV_SECRET);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer ?? process.env.JWT_ISSUER ?? 'fairway-dev')
    .setAudience(options.audience ?? process.env.JWT_AUDIENCE ?? 'fairway-api')
    .setSubject(options.subject ?? subject)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h')
    .sign(secret);
}

/**
 * A signed HS256 JWT whose tenant_id claim names `tenant`.
 * @param {string} tenant
 * @param {{ expiresIn?: string, subject?: string, secret?: string, issuer?: string, audience?: string }} options
 */
async function devToken(tenant, options = {}) {
  return signer({ tenant_id: tenant }, options, `dev-user@${tenant}`);
}

/**
 * A signed HS256 operator JWT for the edge's admin API: claim role "operator" and NO tenant_id, so
 * it can never act as a tenant (and the tenant API refuses it).
 * @param {{ expiresIn?: string, subject?: string, secret?: string, issuer?: string, audience?: string }} options
 */
async function operatorToken(options = {}) {
  return signer({ role: 'operator' }, { expiresIn: '1h', ...options }, 'dev-operator');
}

module.exports = { devToken, operatorToken, DEV_SECRET };
