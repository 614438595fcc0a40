// Development bearer tokens. Tenants' tokens are signed with the edge's development defaults
// (JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE from the environment when set); operators' tokens with the
// admin plane's own (OPERATOR_JWT_SECRET, OPERATOR_JWT_ISSUER, OPERATOR_JWT_AUDIENCE), so a
// tenant's token can never be replayed against the admin API. Must match @fairway/auth's defaults.
'use strict';

const DEV_SECRET = 'fairway-development-secret-change-me-0123456789';
const DEV_OPERATOR_SECRET = 'fairway-development-operator-secret-change-me-0123456789';

const TENANT = { prefix: 'JWT_', secret: DEV_SECRET, issuer: 'fairway-dev', audience: 'fairway-api' };
const OPERATOR = { prefix: 'OPERATOR_JWT_', secret: DEV_OPERATOR_SECRET, issuer: 'fairway-operators', audience: 'fairway-admin' };

function signer(claims, options, subject, kind) {
  const { SignJWT } = require('jose');
  const env = (name) => process.env[`${kind.prefix}${name}`] || undefined;
  const secret = new TextEncoder().encode(options.secret ?? env('SECRET') ?? kind.secret);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer ?? env('ISSUER') ?? kind.issuer)
    .setAudience(options.audience ?? env('AUDIENCE') ?? kind.audience)
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
  return signer({ tenant_id: tenant }, options, `dev-user@${tenant}`, TENANT);
}

/**
 * A signed HS256 operator JWT for the control plane's admin API: the operators' issuer, audience and
 * secret, claim role "operator" and NO tenant_id, so it can never act as a tenant (and the tenant
 * API refuses it).
 * @param {{ expiresIn?: string, subject?: string, secret?: string, issuer?: string, audience?: string }} options
 */
async function operatorToken(options = {}) {
  return signer({ role: 'operator' }, { expiresIn: '1h', ...options }, 'dev-operator', OPERATOR);
}

module.exports = { devToken, operatorToken, DEV_SECRET, DEV_OPERATOR_SECRET };
